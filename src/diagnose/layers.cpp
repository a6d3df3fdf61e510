// Grouping a graph's nodes into layers (include/convfix/align.h has the
// contract; docs/DIAGNOSIS.md "Alignment" the rules with examples).
#include <algorithm>
#include <set>
#include <unordered_set>

#include "convfix/align.h"
#include "diagnose/op_classes.h"

namespace convfix {

std::vector<std::string> LayerGraph::node_names(const Layer& l) const {
  std::vector<std::string> out;
  if (!graph) return out;
  for (size_t i : l.pre) out.push_back(graph->nodes[i].name);
  if (l.anchor >= 0) out.push_back(graph->nodes[static_cast<size_t>(l.anchor)].name);
  for (size_t i : l.post) out.push_back(graph->nodes[i].name);
  return out;
}

namespace {

struct Builder {
  const Graph& g;
  const ValueDims* shapes;
  LayerGraph lg;
  std::unordered_set<std::string> consts;
  std::unordered_map<std::string, int> consumer_count;
  std::unordered_set<std::string> graph_outputs;
  // Pass-through nodes (not absorbed into a post chain) between a value's
  // owning layer output and the value.
  std::unordered_map<std::string, std::vector<size_t>> chain;
  // Nodes owned by a layer but not (yet) in its post chain: a side branch
  // such as the x+3 -> Clip of x*relu6(x+3)/6.
  std::unordered_map<int, std::vector<size_t>> side;

  Builder(const Graph& graph, const ValueDims* s) : g(graph), shapes(s) { lg.graph = &graph; }

  bool is_const(const std::string& v) const { return v.empty() || consts.count(v) != 0; }

  std::vector<std::string> data_inputs(const Node& n) const {
    std::vector<std::string> d;
    for (const auto& in : n.inputs)
      if (!in.empty() && !is_const(in)) d.push_back(in);
    return d;
  }

  int owner_of(const std::string& v) const {
    auto it = lg.owner.find(v);
    return it == lg.owner.end() ? -1 : it->second;
  }

  void set_outputs(const Node& n, int owner) {
    for (const auto& o : n.outputs)
      if (!o.empty()) lg.owner[o] = owner;
  }

  // Pads seen on the way from a layer output to `v`.
  std::vector<size_t> pads_before(const std::string& v) const {
    std::vector<size_t> pads;
    auto it = chain.find(v);
    if (it == chain.end()) return pads;
    for (size_t i : it->second)
      if (op_class(g.nodes[i]) == OpClass::kPad) pads.push_back(i);
    return pads;
  }

  bool can_extend(const Layer& l, const std::string& v) const {
    if (v != l.output) return false;
    if (graph_outputs.count(v)) return false;
    auto it = consumer_count.find(v);
    return it != consumer_count.end() && it->second == 1;
  }

  void absorb_post(Layer& l, size_t idx) {
    const Node& n = g.nodes[idx];
    l.post.push_back(idx);
    if (!n.outputs.empty()) l.output = n.outputs[0];
    set_outputs(n, l.id);
  }

  int new_layer(const std::string& kind, int64_t anchor, const std::string& out) {
    Layer l;
    l.id = static_cast<int>(lg.layers.size());
    l.kind = kind;
    l.anchor = anchor;
    l.output = out;
    lg.layers.push_back(std::move(l));
    return lg.layers.back().id;
  }

  void build() {
    for (const auto& [name, t] : g.initializers) consts.insert(name);
    for (const auto& o : g.outputs) graph_outputs.insert(o.name);
    for (const auto& n : g.nodes)
      for (const auto& in : n.inputs)
        if (!in.empty()) consumer_count[in]++;
    for (const auto& in : g.inputs) {
      if (consts.count(in.name)) continue;
      int id = new_layer("input", -1, in.name);
      lg.layers[static_cast<size_t>(id)].input_value = in.name;
      lg.layers[static_cast<size_t>(id)].name = in.name;
      lg.owner[in.name] = id;
    }
    for (size_t i = 0; i < g.nodes.size(); ++i) visit(i);
  }

  void visit(size_t idx) {
    const Node& n = g.nodes[idx];
    const auto d = data_inputs(n);
    if (d.empty() || op_class(n) == OpClass::kShape) {
      // Computes constants or shapes only.
      for (const auto& o : n.outputs)
        if (!o.empty()) consts.insert(o);
      return;
    }
    OpClass c = op_class(n);
    // Binary ops: with a constant operand they are affine pass-throughs; with
    // two data inputs from one layer they are part of an activation (x*sigmoid(x),
    // x*relu6(x+3)); from two layers they join branches.
    if (c == OpClass::kBinary) {
      if (d.size() == 1) {
        c = OpClass::kAffine;
      } else {
        std::set<int> owners;
        for (const auto& v : d) owners.insert(owner_of(v));
        if (owners.size() == 1 && *owners.begin() >= 0) {
          Layer& l = lg.layers[static_cast<size_t>(*owners.begin())];
          const bool touches_output = std::find(d.begin(), d.end(), l.output) != d.end();
          if (touches_output) {
            // Absorb the side branch and this node; the layer's output moves on.
            auto& s = side[l.id];
            std::sort(s.begin(), s.end());
            for (size_t k : s) l.post.push_back(k);
            s.clear();
            absorb_post(l, idx);
            return;
          }
          side[l.id].push_back(idx);
          set_outputs(n, l.id);
          return;
        }
        c = OpClass::kAnchor;
      }
    }
    if (c == OpClass::kConcat && d.size() < 2) c = OpClass::kLayout;
    if (c == OpClass::kNorm) {
      // A normalisation right after a layer is part of it (BatchNorm after a
      // Conv); elsewhere it is a layer of its own.
      const int o = owner_of(d[0]);
      if (o >= 0 && lg.layers[static_cast<size_t>(o)].kind != "input" && can_extend(lg.layers[static_cast<size_t>(o)], d[0]))
        c = OpClass::kAffine;
      else
        c = OpClass::kAnchor;
    }
    if (c == OpClass::kActivation || c == OpClass::kAffine || c == OpClass::kLayout || c == OpClass::kPad) {
      const std::string& in = d[0];
      const int o = owner_of(in);
      if (o >= 0) {
        Layer& l = lg.layers[static_cast<size_t>(o)];
        if (c != OpClass::kPad && d.size() == 1 && can_extend(l, in)) {
          absorb_post(l, idx);
          return;
        }
        // Not on the layer's main chain: remember it for the next anchor.
        std::vector<size_t> ch = chain.count(in) ? chain[in] : std::vector<size_t>{};
        ch.push_back(idx);
        for (const auto& out : n.outputs)
          if (!out.empty()) chain[out] = ch;
        if (c == OpClass::kActivation || c == OpClass::kAffine) side[l.id].push_back(idx);
        set_outputs(n, o);
        return;
      }
    }
    // An anchor: a new layer.
    const std::string out = n.outputs.empty() ? std::string() : n.outputs[0];
    const int id = new_layer(layer_kind(n, g, shapes), static_cast<int64_t>(idx), out);
    Layer& l = lg.layers[static_cast<size_t>(id)];
    l.name = n.name;
    l.op = n.provenance.original_op.empty() ? n.op_type : n.provenance.original_op;
    for (const auto& v : d) {
      const int o = owner_of(v);
      if (o >= 0 && std::find(l.inputs.begin(), l.inputs.end(), o) == l.inputs.end()) l.inputs.push_back(o);
      for (size_t p : pads_before(v)) l.pre.push_back(p);
    }
    set_outputs(n, id);
  }
};

}  // namespace

LayerGraph build_layers(const Graph& g, const ValueDims* shapes) {
  Builder b(g, shapes);
  b.build();
  for (Layer& l : b.lg.layers) {
    l.compare_output = l.output;
    for (auto it = l.post.rbegin(); it != l.post.rend(); ++it) {
      const Node& n = g.nodes[*it];
      if (n.op_type != "Transpose" && n.op_type != "TRANSPOSE") break;
      if (n.inputs.empty() || n.inputs[0].empty()) break;
      l.compare_output = n.inputs[0];
    }
  }
  return std::move(b.lg);
}

}  // namespace convfix
