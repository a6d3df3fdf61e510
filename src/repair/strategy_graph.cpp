// Strategies "graph" and "input_layout": rewrite the target's structure
// where it differs from the source's: remove layout / pass-through nodes the
// target has around an aligned layer and the source has not (a Transpose
// before Flatten, an inserted Dropout in training mode, an Identity), make a
// Reshape with a hard-coded batch size batch-independent, and replace a
// Reshape that "converts" an NHWC input to NCHW by the Transpose it should
// have been. Every rewrite is checked by running it (a rewrite that breaks
// shape inference fails to run and is undone).
#include <algorithm>
#include <map>

#include "diagnose/op_classes.h"
#include "repair/repair_internal.h"

namespace convfix {

namespace {

bool removable(const Node& n) {
  static const char* kOps[] = {"Transpose", "Identity", "Dropout", "Cast", "TRANSPOSE", "Reshape", "RESHAPE"};
  for (const char* op : kOps)
    if (n.op_type == op) return true;
  return false;
}

std::map<std::string, int> op_counts(const Graph& g, const Layer& l) {
  std::map<std::string, int> m;
  for (size_t idx : l.pre) ++m[g.nodes[idx].op_type];
  for (size_t idx : l.post) ++m[g.nodes[idx].op_type];
  return m;
}

Candidate remove_candidate(const Graph& tg, size_t idx, const std::string& snode, const std::string& why) {
  const Node& n = tg.nodes[idx];
  Candidate c;
  c.strategy = "graph";
  c.category = "graph";
  c.source_node = snode;
  c.target_node = n.name;
  c.change = "remove " + n.label() + " (" + why + ")";
  c.details = {{"removed", n.name}, {"op", n.op_type}};
  c.key = "graph:remove:" + n.name;
  c.structural = true;
  const std::string name = n.name;
  c.apply = [name](Graph& g) -> Expected<std::set<std::string>> {
    const int64_t i = g.find_node(name);
    if (i < 0) return not_implemented("node '" + name + "' is gone");
    const std::string in = g.nodes[static_cast<size_t>(i)].inputs.at(0);
    // A graph output produced by the node keeps its name: rename the input's
    // producer instead would rename values; simply refuse.
    for (const auto& o : g.outputs)
      if (o.name == g.nodes[static_cast<size_t>(i)].outputs.at(0)) return not_implemented("'" + name + "' produces a graph output");
    CONVFIX_RETURN_IF_ERROR(g.remove_node(static_cast<size_t>(i), 0));
    std::set<std::string> dirty;
    for (size_t k : g.consumers(in)) dirty.insert(g.nodes[k].name);
    return dirty;
  };
  return c;
}

}  // namespace

void graph_candidates(const PairView& v, int row, const WriteCaps& caps, std::vector<Candidate>& out) {
  if (!caps.structure) return;
  const AlignmentRow& r = v.align.rows[static_cast<size_t>(row)];
  if (r.status != "matched") return;
  const Layer& sl = v.src.layers[static_cast<size_t>(r.source_layer)];
  const Layer& tl = v.tgt.layers[static_cast<size_t>(r.target_layer)];
  auto sc = op_counts(*v.sg, sl);
  // TFLite and ONNX name the same op differently; count by the ONNX name too.
  const std::string snode = sl.anchor >= 0 ? v.sg->nodes[static_cast<size_t>(sl.anchor)].name : sl.name;
  std::vector<size_t> nodes = tl.pre;
  nodes.insert(nodes.end(), tl.post.begin(), tl.post.end());
  std::map<std::string, int> seen;
  for (size_t idx : nodes) {
    const Node& n = v.tg->nodes[idx];
    if (!removable(n)) continue;
    if (++seen[n.op_type] <= sc[n.op_type]) continue;   // the source has as many
    out.push_back(remove_candidate(*v.tg, idx, snode, "the source layer has no such node"));
  }
  // A Dropout that runs in training mode anywhere in the row.
  for (size_t idx : nodes) {
    const Node& n = v.tg->nodes[idx];
    if (n.op_type == "Dropout" && n.inputs.size() > 2 && !n.inputs[2].empty())
      out.push_back(remove_candidate(*v.tg, idx, snode, "a Dropout with a training-mode input"));
  }
}

void global_graph_candidates(const PairView& v, const WriteCaps& caps, std::vector<Candidate>& out) {
  if (!caps.structure) return;
  const Graph& g = *v.tg;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op_type != "Reshape" || n.domain != "" || n.inputs.size() < 2) continue;
    auto shape = constant_value(g, n.inputs[1]);
    if (!shape) continue;
    std::vector<int64_t> s = shape->to_i64_vector();
    // 1. A hard-coded batch: [1, d1, ...] with every other entry positive,
    //    on a model whose input has a dynamic batch.
    const bool dynamic_batch = !g.inputs.empty() && g.inputs[0].has_shape && !g.inputs[0].shape.empty() &&
                               !g.inputs[0].shape[0].known();
    if (dynamic_batch && s.size() >= 2 && s[0] == 1 &&
        std::all_of(s.begin() + 1, s.end(), [](int64_t d) { return d > 0; })) {
      Candidate c;
      c.strategy = "graph";
      c.category = "graph";
      c.target_node = n.name;
      c.change = "make " + n.label() + " batch-independent: shape " + dims_to_string(s) + " -> [-1" +
                 dims_to_string(std::vector<int64_t>(s.begin() + 1, s.end())).replace(0, 1, ", ");
      c.details = {{"old_shape", s}};
      c.key = "graph:batch:" + n.name;
      c.structural = false;
      const std::string name = n.name;
      c.apply = [name, s](Graph& gg) -> Expected<std::set<std::string>> {
        const int64_t k = gg.find_node(name);
        if (k < 0) return not_implemented("node '" + name + "' is gone");
        Node& nn = gg.nodes[static_cast<size_t>(k)];
        std::vector<int64_t> ns = s;
        ns[0] = -1;
        Tensor t(DType::kI64, {static_cast<int64_t>(ns.size())});
        for (size_t j = 0; j < ns.size(); ++j) t.data<int64_t>()[j] = ns[j];
        const std::string cname = gg.unique_value_name(nn.inputs[1] + "_batch_independent");
        gg.initializers[cname] = t;
        nn.inputs[1] = cname;
        return std::set<std::string>{name};
      };
      out.push_back(std::move(c));
    }
    // 2. A Reshape between NHWC and NCHW of a graph input: should be a Transpose.
    const bool from_input = std::any_of(g.inputs.begin(), g.inputs.end(), [&](const ValueInfo& vi) { return vi.name == n.inputs[0]; });
    auto di = v.ts.find(n.inputs[0]);
    auto dout = v.ts.find(n.outputs.empty() ? "" : n.outputs[0]);
    if (from_input && di != v.ts.end() && dout != v.ts.end() && di->second.size() == 4 && dout->second.size() == 4) {
      const auto& a = di->second;
      const auto& b = dout->second;
      std::vector<int64_t> perm;
      if (a[0] == b[0] && a[3] == b[1] && a[1] == b[2] && a[2] == b[3] && a != b) perm = {0, 3, 1, 2};
      else if (a[0] == b[0] && a[1] == b[3] && a[2] == b[1] && a[3] == b[2] && a != b) perm = {0, 2, 3, 1};
      if (!perm.empty()) {
        Candidate c;
        c.strategy = "input_layout";
        c.category = "input";
        c.target_node = n.name;
        c.change = "replace " + n.label() + " of the graph input " + dims_to_string(a) + " -> " + dims_to_string(b) +
                   " by Transpose " + dims_to_string(perm) + " (a Reshape scrambles the pixels)";
        c.details = {{"perm", perm}};
        c.key = "input_layout:" + n.name;
        c.structural = false;
        const std::string name = n.name;
        c.apply = [name, perm](Graph& gg) -> Expected<std::set<std::string>> {
          const int64_t k = gg.find_node(name);
          if (k < 0) return not_implemented("node '" + name + "' is gone");
          Node t = gg.nodes[static_cast<size_t>(k)];
          t.op_type = "Transpose";
          t.inputs.resize(1);
          t.attrs.clear();
          t.attrs["perm"] = Attribute::of_ints(perm);
          gg.replace_node(static_cast<size_t>(k), t);
          return std::set<std::string>{name};
        };
        out.push_back(std::move(c));
      }
    }
  }
}

}  // namespace convfix
