// TFLite IF and WHILE: run a further subgraph of the file (ModelInfo::
// subgraphs[k - 1] for subgraph index k) on its own Executor.
//
// IF(cond, x...): then_subgraph_index when cond's first element is non-zero,
// else else_subgraph_index, fed x... by position; its outputs by position.
// WHILE(x...): cond_subgraph_index on the loop values decides (first element
// of its output 0), body_subgraph_index maps the values to the next ones;
// at most 10^7 iterations. Executors are built once per node (state slot).
// The subgraph list is the executing graph's ModelInfo::subgraphs (the
// reader fills it on the main graph).
#include <memory>
#include <vector>

#include "convfix/executor.h"
#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

struct Branches {
  std::map<int64_t, std::unique_ptr<Executor>> ex;
};

Expected<Executor*> executor_for(KernelContext& ctx, const char* attr) {
  const int64_t k = ctx.attr_int(attr, -1);
  const Graph* g = ctx.graph();
  if (!g) return ctx.error("no graph to find subgraphs in");
  if (k < 1 || k > static_cast<int64_t>(g->info.subgraphs.size()) || !g->info.subgraphs[size_t(k - 1)])
    return ctx.error(std::string(attr) + " " + std::to_string(k) + " does not name a subgraph");
  auto& st = ctx.state();
  if (!st) st = std::make_shared<Branches>();
  auto* b = static_cast<Branches*>(st.get());
  auto it = b->ex.find(k);
  if (it == b->ex.end()) {
    std::shared_ptr<Graph> sub = g->info.subgraphs[size_t(k - 1)];
    // Nested control flow inside the subgraph refers to the same list.
    if (sub->info.subgraphs.empty()) {
      auto copy = std::make_shared<Graph>(*sub);
      copy->info.subgraphs = g->info.subgraphs;
      sub = copy;
    }
    auto e = Executor::create(std::shared_ptr<const Graph>(sub));
    if (!e.ok()) return ctx.error("subgraph " + std::to_string(k) + ": " + e.status().message());
    it = b->ex.emplace(k, std::move(e).value()).first;
  }
  return it->second.get();
}

Expected<std::vector<Tensor>> call(KernelContext& ctx, Executor* ex, const std::vector<Tensor>& args) {
  const Graph& g = ex->graph();
  if (args.size() != g.inputs.size())
    return ctx.error("subgraph '" + g.name + "' takes " + std::to_string(g.inputs.size()) + " inputs, got " +
                     std::to_string(args.size()));
  TensorMap feeds;
  for (size_t i = 0; i < args.size(); ++i) feeds[g.inputs[i].name] = args[i];
  auto r = ex->run(feeds);
  if (!r.ok()) return ctx.error("subgraph '" + g.name + "': " + r.status().message());
  std::vector<Tensor> out;
  for (const auto& o : g.outputs) {
    auto it = r.value().find(o.name);
    if (it == r.value().end()) return ctx.error("subgraph '" + g.name + "' did not produce " + o.name);
    out.push_back(it->second);
  }
  return out;
}

Status if_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  if (ctx.input(0)->numel() < 1) return ctx.error("empty condition");
  const bool c = ctx.input(0)->get_f64(0) != 0;
  CONVFIX_ASSIGN_OR_RETURN(Executor * ex, executor_for(ctx, c ? "then_subgraph_index" : "else_subgraph_index"));
  std::vector<Tensor> args;
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
    args.push_back(*ctx.input(i));
  }
  CONVFIX_ASSIGN_OR_RETURN(std::vector<Tensor> outs, call(ctx, ex, args));
  for (size_t i = 0; i < outs.size() && i < ctx.num_outputs(); ++i) ctx.set_output(i, outs[i]);
  return Status::OK();
}

Status while_kernel(KernelContext& ctx) {
  CONVFIX_ASSIGN_OR_RETURN(Executor * cond, executor_for(ctx, "cond_subgraph_index"));
  CONVFIX_ASSIGN_OR_RETURN(Executor * body, executor_for(ctx, "body_subgraph_index"));
  std::vector<Tensor> vals;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
    vals.push_back(*ctx.input(i));
  }
  for (int64_t it = 0;; ++it) {
    if (it >= 10000000) return ctx.error("more than 10^7 iterations");
    CONVFIX_ASSIGN_OR_RETURN(std::vector<Tensor> c, call(ctx, cond, vals));
    if (c.empty() || c[0].numel() < 1) return ctx.error("the condition subgraph returned no value");
    if (c[0].get_f64(0) == 0) break;
    CONVFIX_ASSIGN_OR_RETURN(vals, call(ctx, body, vals));
  }
  for (size_t i = 0; i < vals.size() && i < ctx.num_outputs(); ++i) ctx.set_output(i, vals[i]);
  return Status::OK();
}

}  // namespace

void register_ops_tflite_control_flow(OpRegistry& r) {
  r.add(OpDef{"tflite", "IF", if_kernel});
  r.add(OpDef{"tflite", "WHILE", while_kernel});
}

}  // namespace convfix
