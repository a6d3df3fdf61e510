#include "convfix/executor.h"

#include "convfix/layout.h"

#include <cstdlib>
#include <limits>
#include <string>
#include <unordered_set>

namespace convfix {

namespace {
bool needs_float_conversion(FloatCompute mode, DType t) {
  if (mode == FloatCompute::kNone) return false;
  if (t == DType::kF16 || t == DType::kBF16) return true;
  return mode == FloatCompute::kAll && t == DType::kF64;
}

bool env_flag(const char* name) {
  const char* e = std::getenv(name);
  return e && *e && std::string(e) != "0";
}

bool fusion_disabled_by_environment() {
  static const bool off = env_flag("CONVFIX_NO_FUSION");
  return off;
}

bool blocking_disabled_by_environment() {
  static const bool off = env_flag("CONVFIX_NO_BLOCKED_LAYOUT");
  return off;
}

// The value of `name` when it is a constant of the graph: an initializer or
// the output of a Constant node with a tensor `value`; nullptr otherwise.
const Tensor* graph_constant(const Graph& g, const std::string& name) {
  auto it = g.initializers.find(name);
  if (it != g.initializers.end()) return &it->second;
  for (const Node& n : g.nodes) {
    if (n.op_type != "Constant" || !n.domain.empty() || n.outputs.size() != 1 || n.outputs[0] != name) continue;
    const Attribute* v = n.attr("value");
    return v && v->kind == Attribute::Kind::kTensor ? &v->t : nullptr;
  }
  return nullptr;
}

// The activation node `a` as a FusedActivation, when its parameters are
// constants of the graph; false otherwise (then it is never fused).
bool fused_activation_of(const Graph& g, const Node& a, int64_t opset, FusedActivation* f) {
  if (a.op_type == "Relu") {
    f->kind = FusedActivation::Kind::kRelu;
    return true;
  }
  if (a.op_type == "LeakyRelu") {
    f->kind = FusedActivation::Kind::kLeakyRelu;
    f->alpha = a.attr_float("alpha", 0.01f);
    return true;
  }
  if (a.op_type != "Clip") return false;
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  if (opset < 11) {
    if (a.attr("min")) lo = a.attr_float("min", lo);
    if (a.attr("max")) hi = a.attr_float("max", hi);
  } else {
    for (size_t k = 1; k <= 2; ++k) {
      if (k >= a.inputs.size() || a.inputs[k].empty()) continue;
      const Tensor* t = graph_constant(g, a.inputs[k]);
      if (!t || t->dtype() != DType::kF32 || t->numel() != 1) return false;
      (k == 1 ? lo : hi) = t->data<float>()[0];
    }
  }
  if (!(lo <= hi)) return false;
  f->kind = FusedActivation::Kind::kClip;
  f->alpha = lo;
  f->beta = hi;
  return true;
}

}  // namespace

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
  // Consuming nodes of every value (one entry per use), for the plans below.
  std::unordered_map<std::string, std::vector<int>> consumers;
  for (size_t j = 0; j < g.nodes.size(); ++j)
    for (const auto& in : g.nodes[j].inputs)
      if (!in.empty()) consumers[in].push_back(static_cast<int>(j));
  // Fusion candidates (see executor.h): node i's only output feeds exactly
  // one later node, an activation taking it as input 0.
  ex->fuse_next_.assign(g.nodes.size(), -1);
  ex->fuse_act_.assign(g.nodes.size(), FusedActivation{});
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!ex->defs_[i] || !ex->defs_[i]->fuses_activation || n.outputs.size() != 1 || n.outputs[0].empty()) continue;
    const std::string& v = n.outputs[0];
    auto u = ex->use_count_.find(v);
    if (u == ex->use_count_.end() || u->second != 1) continue;
    auto c = consumers.find(v);
    if (c == consumers.end() || c->second.size() != 1 || c->second[0] <= static_cast<int>(i)) continue;
    const int j = c->second[0];
    const Node& a = g.nodes[static_cast<size_t>(j)];
    const bool act = a.domain.empty() && (a.op_type == "Relu" || a.op_type == "LeakyRelu" || a.op_type == "Clip");
    FusedActivation fa;
    if (act && !a.inputs.empty() && a.inputs[0] == v && a.outputs.size() == 1 && !a.outputs[0].empty() &&
        fused_activation_of(g, a, ex->opsets_[static_cast<size_t>(j)], &fa)) {
      ex->fuse_next_[i] = j;
      ex->fuse_act_[i] = fa;
    }
  }
  // Blocked layout (see executor.h): a kNative producer is asked for an
  // nChw16c output when some consumer of output 0 takes nChw16c inputs and
  // the value is not a graph output.
  std::unordered_set<std::string> graph_outputs;
  for (const auto& o : g.outputs) graph_outputs.insert(o.name);
  ex->blocked_wanted_.assign(g.nodes.size(), 0);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!ex->defs_[i] || ex->defs_[i]->blocked != BlockedLayout::kNative || n.outputs.empty() || n.outputs[0].empty())
      continue;
    if (graph_outputs.count(n.outputs[0])) continue;
    for (int j : consumers[n.outputs[0]]) {
      const OpDef* d = ex->defs_[static_cast<size_t>(j)];
      if (d && d->blocked != BlockedLayout::kNo) ex->blocked_wanted_[i] = 1;
    }
  }
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
  const bool may_fuse = free_early && opts_.fuse && !fusion_disabled_by_environment();
  std::vector<char> fused_away(g.nodes.size(), 0);  // activation computed by its producer
  last_run_fused_ = 0;
  last_run_blocked_ = 0;
  const bool may_block = free_early && opts_.blocked_layout && !blocking_disabled_by_environment();
  // Plain copies of nChw16c values, made once for the consumers that need them.
  std::unordered_map<std::string, Tensor> plain_of;
  auto plain = [&](const std::string& name, const Tensor& t) -> const Tensor& {
    if (t.layout() == MemoryLayout::kPlain) return t;
    auto it = plain_of.find(name);
    if (it == plain_of.end()) it = plain_of.emplace(name, to_plain(t, pool_.get())).first;
    return it->second;
  };

  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const bool observe = ro.observer && ro.observer->wants(n);
    if (fused_away[i]) {
      // Output already stored by the producer.
    } else if (!recompute[i]) {
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
      // nChw16c inputs: passed on only where the op takes them (OpDef::blocked).
      bool any_blocked = false;
      for (const Tensor* t : in_ptrs) any_blocked |= t && t->layout() != MemoryLayout::kPlain;
      bool out_blocked = false;
      if (any_blocked) {
        bool pass = def->blocked == BlockedLayout::kNative;
        if (def->blocked == BlockedLayout::kElementwise || def->blocked == BlockedLayout::kChannelConcat) {
          const std::vector<int64_t>* dims = nullptr;
          pass = true;
          for (const Tensor* t : in_ptrs) {
            if (!t || (def->blocked == BlockedLayout::kElementwise && t->numel() == 1)) continue;
            if (t->layout() != MemoryLayout::kNChw16c) pass = false;
            if (def->blocked == BlockedLayout::kElementwise) {
              if (dims && *dims != t->dims()) pass = false;
              dims = &t->dims();
            }
          }
          if (def->blocked == BlockedLayout::kChannelConcat) {
            const int64_t axis = n.attr_int("axis", opsets_[i] < 4 ? 1 : 0);
            pass &= axis == 1 || axis == -3;
          }
          out_blocked = pass;
        }
        if (!pass)
          for (size_t k = 0; k < in_ptrs.size(); ++k)
            if (in_ptrs[k] && in_ptrs[k]->layout() != MemoryLayout::kPlain) in_ptrs[k] = &plain(n.inputs[k], *in_ptrs[k]);
      }
      KernelContext ctx(n, opsets_[i], std::move(in_ptrs), pool_.get(), &states_[i]);
      ctx.set_graph(&g);
      ctx.set_blocked_output_wanted(may_block && blocked_wanted_[i]);
      const int act = may_fuse && !observe ? fuse_next_[i] : -1;
      if (act >= 0 && orig_dtype == DType::kF32) ctx.set_fused_activation(fuse_act_[i]);
      Status st = def->kernel(ctx);
      if (!st.ok()) return st;
      const bool fused = ctx.fused_activation_applied() && ctx.fused_activation().kind != FusedActivation::Kind::kNone;
      for (size_t k = 0; k < n.outputs.size(); ++k) {
        if (n.outputs[k].empty()) continue;
        Tensor& out = ctx.outputs()[k];
        if (out.empty()) return internal_error(n.label() + ": kernel did not produce output " + std::to_string(k));
        if (needs_float_conversion(def->float_compute, orig_dtype) && out.dtype() == DType::kF32) {
          if (out.layout() != MemoryLayout::kPlain) out = to_plain(out, pool_.get());
          CONVFIX_ASSIGN_OR_RETURN(out, out.cast(orig_dtype));
        }
        if (out_blocked && k == 0 && out.dtype() == DType::kF32 && out.layout() == MemoryLayout::kPlain)
          out = out.with_layout(MemoryLayout::kNChw16c);
        if (out.layout() != MemoryLayout::kPlain) ++last_run_blocked_;
        if (fused && k == 0) {
          values[g.nodes[static_cast<size_t>(act)].outputs[0]] = std::move(out);
          fused_away[static_cast<size_t>(act)] = 1;
          ++last_run_fused_;
        } else {
          values[n.outputs[k]] = std::move(out);
        }
      }
    }
    if (observe) {
      for (size_t k = 0; k < n.outputs.size(); ++k)
        if (!n.outputs[k].empty())
          ro.observer->on_output(n, k, n.outputs[k], plain(n.outputs[k], values[n.outputs[k]]));
    }
    if (ro.observer) ro.observer->on_node_done(n);
    if (free_early) {
      for (const auto& in : n.inputs) {
        if (in.empty()) continue;
        auto u = uses.find(in);
        if (u != uses.end() && --u->second == 0 && !g.is_initializer(in)) {
          values.erase(in);
          plain_of.erase(in);
        }
      }
      for (const auto& o : n.outputs)
        if (!o.empty() && uses.find(o) == uses.end()) values.erase(o);  // unused output
    }
  }
  TensorMap out;
  for (const auto& o : g.outputs) {
    auto it = values.find(o.name);
    if (it == values.end()) return internal_error("graph output '" + o.name + "' was not computed");
    out[o.name] = to_plain(it->second, pool_.get());
  }
  if (ro.keep_all) {
    for (auto& [k, v] : values) (*ro.keep_all)[k] = v;
  }
  return out;
}

}  // namespace convfix
