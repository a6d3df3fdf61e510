#include "convfix/executor.h"

#include <unordered_set>

namespace convfix {

Expected<std::unique_ptr<Executor>> Executor::create(std::shared_ptr<const Graph> graph, ExecOptions opts) {
  if (!graph) return invalid_argument("executor: no graph");
  CONVFIX_RETURN_IF_ERROR(graph->verify());
  std::unique_ptr<Executor> ex(new Executor());
  ex->graph_ = std::move(graph);
  ex->opts_ = opts;
  ex->pool_ = std::make_unique<ThreadPool>(opts.threads);
  const OpRegistry& reg = OpRegistry::builtin();
  const Graph& g = *ex->graph_;
  for (const Node& n : g.nodes) {
    const OpDef* d = reg.find(n.domain, n.op_type);
    if (!d && opts.require_all_ops)
      return not_implemented(n.label() + ": op '" + n.op_type + "' is not supported by convfix");
    ex->defs_.push_back(d);
    ex->states_.emplace_back();
    int64_t os = g.opset(n.domain);
    if (os == 0 && n.domain.empty()) os = 17;
    ex->opsets_.push_back(os);
    for (const auto& in : n.inputs)
      if (!in.empty()) ex->use_count_[in]++;
  }
  for (const auto& o : g.outputs) ex->use_count_[o.name]++;
  return ex;
}

std::vector<std::string> Executor::unsupported_ops() const {
  std::vector<std::string> r;
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < defs_.size(); ++i) {
    if (defs_[i]) continue;
    const Node& n = graph_->nodes[i];
    std::string k = n.domain.empty() ? n.op_type : n.domain + ":" + n.op_type;
    if (seen.insert(k).second) r.push_back(k);
  }
  return r;
}

namespace {
bool needs_float_conversion(FloatCompute mode, DType t) {
  if (mode == FloatCompute::kNone) return false;
  if (t == DType::kF16 || t == DType::kBF16) return true;
  return mode == FloatCompute::kAll && t == DType::kF64;
}
}  // namespace

Expected<TensorMap> Executor::run(const TensorMap& inputs, const RunOptions& ro) {
  const Graph& g = *graph_;
  std::unordered_map<std::string, Tensor> values;
  values.reserve(g.nodes.size() * 2 + g.initializers.size());
  for (const auto& [k, t] : g.initializers) values[k] = t;
  // Names that are not graph inputs first: a typo there is the likely cause
  // of a "missing value" below.
  for (const auto& [k, t] : inputs) {
    bool known = g.is_initializer(k);  // IR < 4 files list initializers as inputs
    for (const auto& vi : g.inputs) known |= vi.name == k;
    if (!known) {
      std::string names;
      for (const auto& vi : g.inputs) names += (names.empty() ? "'" : ", '") + vi.name + "'";
      return invalid_argument("'" + k + "' is not an input of the graph (inputs: " +
                              (names.empty() ? std::string("none") : names) + ")");
    }
  }
  for (const auto& vi : g.inputs) {
    auto it = inputs.find(vi.name);
    if (it == inputs.end()) {
      if (ro.reuse) {
        auto c = ro.reuse->find(vi.name);
        if (c != ro.reuse->end()) { values[vi.name] = c->second; continue; }
      }
      return invalid_argument("missing value for graph input '" + vi.name + "'");
    }
    const Tensor& t = it->second;
    if (vi.dtype != DType::kUndefined && t.dtype() != vi.dtype)
      return invalid_argument("graph input '" + vi.name + "' expects " + dtype_name(vi.dtype) + ", got " +
                              dtype_name(t.dtype()));
    if (vi.has_shape && static_cast<size_t>(t.rank()) != vi.shape.size())
      return invalid_argument("graph input '" + vi.name + "' expects shape " + shape_to_string(vi.shape) +
                              ", got " + dims_to_string(t.dims()));
    values[vi.name] = t;
  }

  // Re-execution: which nodes must run.
  std::vector<bool> recompute(g.nodes.size(), true);
  if (ro.reuse) {
    std::unordered_set<std::string> tainted;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      bool dirty = ro.dirty_nodes.count(n.name) > 0;
      for (const auto& in : n.inputs) dirty |= (!in.empty() && tainted.count(in) > 0);
      bool cached = true;
      for (const auto& o : n.outputs) cached &= (o.empty() || ro.reuse->count(o) > 0);
      recompute[i] = dirty || !cached;
      if (dirty)
        for (const auto& o : n.outputs) tainted.insert(o);
    }
  }
  const bool free_early = !ro.keep_all && !ro.reuse;
  std::unordered_map<std::string, int> uses;
  if (free_early) uses = use_count_;

  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!recompute[i]) {
      for (const auto& o : n.outputs)
        if (!o.empty()) values[o] = ro.reuse->at(o);
    } else {
      const OpDef* def = defs_[i];
      if (!def)
        return not_implemented(n.label() + ": op '" + (n.domain.empty() ? "" : n.domain + ":") + n.op_type +
                               "' (opset " + std::to_string(opsets_[i]) + ") is not supported by convfix");
      std::vector<const Tensor*> in_ptrs(n.inputs.size(), nullptr);
      std::vector<Tensor> converted;
      converted.reserve(n.inputs.size());
      DType orig_dtype = DType::kUndefined;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        if (n.inputs[k].empty()) continue;
        auto it = values.find(n.inputs[k]);
        if (it == values.end())
          return internal_error(n.label() + ": input " + std::to_string(k) + " '" + n.inputs[k] + "' has no value");
        const Tensor* t = &it->second;
        if (k == 0) orig_dtype = t->dtype();
        if (needs_float_conversion(def->float_compute, t->dtype())) {
          CONVFIX_ASSIGN_OR_RETURN(Tensor c, t->cast(DType::kF32));
          converted.push_back(std::move(c));
          t = &converted.back();
        }
        in_ptrs[k] = t;
      }
      KernelContext ctx(n, opsets_[i], std::move(in_ptrs), pool_.get(), &states_[i]);
      ctx.set_graph(&g);
      Status st = def->kernel(ctx);
      if (!st.ok()) return st;
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        if (n.outputs[k].empty()) continue;
        Tensor& out = ctx.outputs()[k];
        if (out.empty()) return internal_error(n.label() + ": kernel did not produce output " + std::to_string(k));
        if (needs_float_conversion(def->float_compute, orig_dtype) && out.dtype() == DType::kF32) {
          CONVFIX_ASSIGN_OR_RETURN(out, out.cast(orig_dtype));
        }
        values[n.outputs[k]] = std::move(out);
      }
    }
    if (ro.observer && ro.observer->wants(n)) {
      for (size_t k = 0; k < n.outputs.size(); ++k)
        if (!n.outputs[k].empty()) ro.observer->on_output(n, k, n.outputs[k], values[n.outputs[k]]);
    }
    if (free_early) {
      for (const auto& in : n.inputs) {
        if (in.empty()) continue;
        auto u = uses.find(in);
        if (u != uses.end() && --u->second == 0 && !g.is_initializer(in)) values.erase(in);
      }
      for (const auto& o : n.outputs)
        if (!o.empty() && uses.find(o) == uses.end()) values.erase(o);  // unused output
    }
  }
  TensorMap out;
  for (const auto& o : g.outputs) {
    auto it = values.find(o.name);
    if (it == values.end()) return internal_error("graph output '" + o.name + "' was not computed");
    out[o.name] = it->second;
  }
  if (ro.keep_all) {
    for (auto& [k, v] : values) (*ro.keep_all)[k] = v;
  }
  return out;
}

}  // namespace convfix
