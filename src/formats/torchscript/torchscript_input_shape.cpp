// Input shape inference for imported TorchScript graphs (a TorchScript file
// declares no input shape). Works on the imported IR, needs no libtorch.
// Rules (docs/FORMATS.md, TorchScript, "Input shape"):
//  1. The first op that constrains a graph input, looking through
//     shape-preserving ops (activations, BatchNorm, elementwise arithmetic
//     with constants), fixes what it can:
//       Conv / ConvTranspose          -> [batch, C, ?...] (rank and C from the weight)
//       Gemm / MatMul (constant B)    -> [batch, K]
//       Flatten(1) or Reshape [-1, K] -> Gemm/MatMul with K: [batch, 3, s, s] when K = 3*s*s,
//                                        [batch, 1, s, s] when K = s*s (s >= 8), else [batch, K]
//       Reshape to constant sizes     -> those sizes
//  2. For [batch, C, ?...] the spatial size stays symbolic unless a later
//     shape check (the K of a Gemm/MatMul, the element count of a constant
//     Reshape) depends on it: then shapes are propagated for square (cubic)
//     inputs of side s and the roundest s that meets the check is taken
//     (a multiple of 32 where one fits).
//     Propagation stops at ops whose output shape depends on data (Shape,
//     Slice, Resize, ...), so a network with adaptive pooling keeps "?".
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "formats/torchscript/torchscript_importer.h"

namespace convfix::tsfmt {

namespace {

using Dims = std::vector<int64_t>;

bool is_shape_preserving(const std::string& op) {
  static const std::set<std::string> k = {
      "Relu",  "Clip",  "Sigmoid", "Tanh",  "Elu",  "LeakyRelu", "HardSwish", "HardSigmoid", "Gelu",
      "Identity", "BatchNormalization", "Softmax", "LogSoftmax", "Neg", "Abs", "Exp", "Log", "Sqrt",
      "Floor", "Ceil", "Erf", "Reciprocal", "LayerNormalization", "InstanceNormalization"};
  return k.count(op) > 0;
}
// Ops that keep rank and channels but may change the spatial size: what a
// later Conv says about channels still holds for their input.
bool keeps_channels(const std::string& op) {
  static const std::set<std::string> k = {"Pad", "MaxPool", "AveragePool", "Resize", "LRN", "Dropout"};
  return k.count(op) > 0;
}
bool is_broadcast_binary(const std::string& op) {
  static const std::set<std::string> k = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "PRelu"};
  return k.count(op) > 0;
}

const Tensor* init_of(const Graph& g, const std::string& name) {
  auto it = g.initializers.find(name);
  return it == g.initializers.end() ? nullptr : &it->second;
}

std::optional<Dims> const_ints(const Graph& g, const std::string& name) {
  const Tensor* t = init_of(g, name);
  if (!t || t->dtype() != DType::kI64 || t->rank() > 1) return std::nullopt;
  return Dims(t->data<int64_t>(), t->data<int64_t>() + t->numel());
}

// The producer of each value.
std::unordered_map<std::string, const Node*> producers(const Graph& g) {
  std::unordered_map<std::string, const Node*> p;
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs) p[o] = &n;
  return p;
}

// K of a Gemm / MatMul whose A is `a`: the rows of its constant B (looking
// through a Transpose of a constant, as aten::linear is mapped).
std::optional<int64_t> matmul_k(const Graph& g, const std::unordered_map<std::string, const Node*>& prod,
                                const Node& n, const std::string& a) {
  if ((n.op_type != "Gemm" && n.op_type != "MatMul") || n.inputs.size() < 2 || n.inputs[0] != a) return std::nullopt;
  if (n.op_type == "Gemm" && n.attr_int("transA", 0) != 0) return std::nullopt;
  const bool trans_b = n.op_type == "Gemm" && n.attr_int("transB", 0) != 0;
  if (const Tensor* b = init_of(g, n.inputs[1])) {
    if (b->rank() != 2) return std::nullopt;
    return b->dim(trans_b ? 1 : 0);
  }
  auto it = prod.find(n.inputs[1]);
  if (it == prod.end() || it->second->op_type != "Transpose") return std::nullopt;
  const Tensor* w = init_of(g, it->second->inputs[0]);
  if (!w || w->rank() != 2 || it->second->attr_ints("perm", {1, 0}) != Dims{1, 0}) return std::nullopt;
  return w->dim(trans_b ? 0 : 1);
}

Shape batch_then(std::vector<int64_t> rest) {
  Shape s{Dim::sym("batch")};
  for (int64_t d : rest) s.push_back(d >= 0 ? Dim::of(d) : Dim::sym(""));
  return s;
}

// [batch, K] for the features of a flattened input, or an image shape when K
// is 3*s*s or s*s.
Shape flattened_input(int64_t k) {
  for (int64_t c : {3, 1}) {
    if (k % c != 0) continue;
    const auto s = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(k / c))));
    if (s >= 8 && s * s * c == k) return batch_then({c, s, s});
  }
  return batch_then({k});
}

// Rule 1: the shape the first constraining consumer of `input` implies.
std::optional<Shape> first_constraint(const Graph& g, const std::string& input) {
  const auto prod = producers(g);
  // Values reached from the input: true when they have its exact shape,
  // false when only rank and channels are known to be the input's.
  std::unordered_map<std::string, bool> reach{{input, true}};
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.inputs.empty() || !reach.count(n.inputs[0])) continue;
    const std::string& x = n.inputs[0];
    const bool exact = reach[x];
    const bool others_const = std::all_of(n.inputs.begin() + 1, n.inputs.end(),
                                          [&](const std::string& v) { return v.empty() || init_of(g, v); });
    if (is_shape_preserving(n.op_type) || (is_broadcast_binary(n.op_type) && others_const)) {
      if (!n.outputs.empty()) reach[n.outputs[0]] = exact;
      continue;
    }
    if (keeps_channels(n.op_type)) {
      if (!n.outputs.empty()) reach[n.outputs[0]] = false;
      continue;
    }
    if ((n.op_type == "Conv" || n.op_type == "ConvTranspose") && n.inputs.size() > 1) {
      const Tensor* w = init_of(g, n.inputs[1]);
      if (!w || w->rank() < 3) return std::nullopt;
      const int64_t c = n.op_type == "Conv" ? w->dim(1) * n.attr_int("group", 1) : w->dim(0);
      Shape shape = batch_then({c});
      for (int64_t k = 2; k < w->rank(); ++k) shape.push_back(Dim::sym(""));
      return shape;
    }
    if (!exact) continue;
    if (auto k = matmul_k(g, prod, n, x)) return batch_then({*k});
    // Flatten(1), or Reshape to [-1, K], feeding a Gemm/MatMul; Reshape to
    // constant sizes.
    if (n.op_type == "Reshape" && n.inputs.size() > 1) {
      auto shape = const_ints(g, n.inputs[1]);
      if (!shape) continue;
      if (std::all_of(shape->begin(), shape->end(), [](int64_t d) { return d > 0; })) {
        Shape fixed;
        for (int64_t d : *shape) fixed.push_back(Dim::of(d));
        return fixed;
      }
      if (shape->size() == 2 && (*shape)[0] == -1 && (*shape)[1] > 0) return flattened_input((*shape)[1]);
    }
    if (n.op_type == "Flatten" && n.attr_int("axis", 1) == 1 && !n.outputs.empty()) {
      for (size_t j = i + 1; j < g.nodes.size(); ++j)
        if (auto k = matmul_k(g, prod, g.nodes[j], n.outputs[0])) return flattened_input(*k);
    }
  }
  return std::nullopt;
}

// ---- rule 2: shape propagation for a probe input -------------------------------

// What a probe noticed besides shapes.
struct ProbeState {
  bool too_small = false;  // a window no longer fits: the input is too small
};

int64_t window_out(int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe, int64_t d, bool ceil_mode) {
  const int64_t span = in + pb + pe - d * (k - 1) - 1;
  if (span < 0 || s <= 0) return -1;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + pb) --out;  // the last window must start inside
  return out;
}

std::optional<Dims> broadcast(const Dims& a, const Dims& b) {
  Dims r(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < r.size(); ++i) {
    const int64_t x = i < r.size() - a.size() ? 1 : a[i - (r.size() - a.size())];
    const int64_t y = i < r.size() - b.size() ? 1 : b[i - (r.size() - b.size())];
    if (x != y && x != 1 && y != 1) return std::nullopt;
    r[i] = x == 1 ? y : x;
  }
  return r;
}

int64_t product(const Dims& d, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < d.size(); ++i) p *= d[i];
  return p;
}

// Output 0's dims, or nullopt when the rule does not know the op or the
// shapes do not fit (then st->too_small is set when a window no longer fits).
std::optional<Dims> infer_node(const Graph& g, const Node& n, const std::vector<const Dims*>& in, ProbeState* st) {
  auto known = [&](size_t i) { return i < in.size() && in[i] != nullptr; };
  if (!known(0)) return std::nullopt;
  const Dims& x = *in[0];
  const std::string& op = n.op_type;
  if (is_shape_preserving(op)) return x;
  if (is_broadcast_binary(op)) {
    if (!known(1)) return std::nullopt;
    return broadcast(x, *in[1]);
  }
  if ((op == "Conv" || op == "ConvTranspose" || op == "MaxPool" || op == "AveragePool") && x.size() >= 3) {
    const size_t sp = x.size() - 2;
    Dims k = n.attr_ints("kernel_shape");
    if (op == "Conv" || op == "ConvTranspose") {
      if (!known(1) || in[1]->size() != x.size()) return std::nullopt;
      k.assign(in[1]->begin() + 2, in[1]->end());
    }
    if (k.size() != sp) return std::nullopt;
    const Dims strides = n.attr_ints("strides", Dims(sp, 1)), dl = n.attr_ints("dilations", Dims(sp, 1));
    const Dims pd = n.attr_ints("pads", Dims(2 * sp, 0));
    const std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
    if (strides.size() != sp || dl.size() != sp || pd.size() != 2 * sp || (auto_pad != "NOTSET" && !auto_pad.empty()))
      return std::nullopt;
    Dims out{x[0], x[1]};
    if (op == "Conv") out[1] = (*in[1])[0];
    if (op == "ConvTranspose") out[1] = (*in[1])[1] * n.attr_int("group", 1);
    const Dims op_pad = n.attr_ints("output_padding", Dims(sp, 0));
    for (size_t i = 0; i < sp; ++i) {
      int64_t o;
      if (op == "ConvTranspose") {
        o = strides[i] * (x[i + 2] - 1) + (i < op_pad.size() ? op_pad[i] : 0) + dl[i] * (k[i] - 1) + 1 - pd[i] - pd[i + sp];
      } else {
        o = window_out(x[i + 2], k[i], strides[i], pd[i], pd[i + sp], dl[i], n.attr_int("ceil_mode", 0) != 0);
      }
      if (o <= 0) {
        st->too_small = true;
        return std::nullopt;
      }
      out.push_back(o);
    }
    return out;
  }
  if ((op == "GlobalAveragePool" || op == "GlobalMaxPool") && x.size() >= 3) {
    Dims out(x.begin(), x.begin() + 2);
    out.resize(x.size(), 1);
    return out;
  }
  if (op == "Flatten") {
    int64_t axis = n.attr_int("axis", 1);
    if (axis < 0) axis += static_cast<int64_t>(x.size());
    if (axis < 0 || axis > static_cast<int64_t>(x.size())) return std::nullopt;
    return Dims{product(x, 0, static_cast<size_t>(axis)), product(x, static_cast<size_t>(axis), x.size())};
  }
  if (op == "Reshape" && n.inputs.size() > 1) {
    auto shape = const_ints(g, n.inputs[1]);
    if (!shape) return std::nullopt;
    const bool allowzero = n.attr_int("allowzero", 0) != 0;
    Dims out = *shape;
    int free = -1;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == 0 && !allowzero) {
        if (i >= x.size()) return std::nullopt;
        out[i] = x[i];
      } else if (out[i] == -1) {
        if (free >= 0) return std::nullopt;
        free = static_cast<int>(i);
      }
    }
    const int64_t total = product(x, 0, x.size());
    int64_t rest = 1;
    for (size_t i = 0; i < out.size(); ++i)
      if (static_cast<int>(i) != free) rest *= out[i];
    if (free >= 0) {
      if (rest <= 0 || total % rest != 0) return std::nullopt;
      out[static_cast<size_t>(free)] = total / rest;
    } else if (rest != total) {
      return std::nullopt;
    }
    return out;
  }
  if (op == "Concat") {
    int64_t axis = n.attr_int("axis", 0);
    if (axis < 0) axis += static_cast<int64_t>(x.size());
    if (axis < 0 || axis >= static_cast<int64_t>(x.size())) return std::nullopt;
    Dims out = x;
    for (size_t i = 1; i < in.size(); ++i) {
      if (!known(i) || in[i]->size() != x.size()) return std::nullopt;
      out[static_cast<size_t>(axis)] += (*in[i])[static_cast<size_t>(axis)];
    }
    return out;
  }
  if (op == "Gemm" && known(1) && x.size() == 2 && in[1]->size() == 2) {
    const bool ta = n.attr_int("transA", 0) != 0, tb = n.attr_int("transB", 0) != 0;
    return Dims{x[ta ? 1 : 0], (*in[1])[tb ? 0 : 1]};
  }
  if (op == "MatMul" && known(1) && x.size() >= 2 && in[1]->size() == 2) {
    Dims out = x;
    out.back() = (*in[1])[1];
    return out;
  }
  if (op == "Transpose") {
    Dims perm = n.attr_ints("perm");
    if (perm.empty())
      for (size_t i = x.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
    if (perm.size() != x.size()) return std::nullopt;
    Dims out;
    for (int64_t p : perm) {
      if (p < 0 || p >= static_cast<int64_t>(x.size())) return std::nullopt;
      out.push_back(x[static_cast<size_t>(p)]);
    }
    return out;
  }
  if (op == "Pad" && n.inputs.size() > 1 && n.inputs.size() < 4) {
    auto pads = const_ints(g, n.inputs[1]);
    if (!pads || pads->size() != 2 * x.size()) return std::nullopt;
    Dims out = x;
    for (size_t i = 0; i < x.size(); ++i) out[i] += (*pads)[i] + (*pads)[i + x.size()];
    return out;
  }
  return std::nullopt;
}

// A shape check of the probe: the size a node found and the size it needs.
struct Check {
  size_t node = 0;
  int64_t found = -1, needed = -1;
};

// Propagates input dims `x` through g; returns the checks (Gemm/MatMul K,
// constant-size Reshape element count) met on values that depend on the
// input. Stops where a window no longer fits (st->too_small).
std::vector<Check> probe(const Graph& g, const std::string& input, const Dims& x, ProbeState* st) {
  std::unordered_map<std::string, Dims> dims{{input, x}};
  std::vector<Check> checks;
  *st = ProbeState{};
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    std::vector<const Dims*> in;
    bool depends = false;
    std::vector<Dims> init_dims(n.inputs.size());
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      auto it = dims.find(n.inputs[k]);
      if (it != dims.end()) {
        depends = true;
        in.push_back(&it->second);
      } else if (const Tensor* t = init_of(g, n.inputs[k])) {
        init_dims[k] = t->dims();
        in.push_back(&init_dims[k]);
      } else {
        in.push_back(nullptr);
      }
    }
    if (!depends) continue;
    if ((n.op_type == "Gemm" || n.op_type == "MatMul") && in.size() > 1 && in[0] && in[1] && in[1]->size() == 2 &&
        !in[0]->empty()) {
      const bool tb = n.op_type == "Gemm" && n.attr_int("transB", 0) != 0;
      checks.push_back({i, in[0]->back(), (*in[1])[tb ? 1 : 0]});
    }
    if (n.op_type == "Reshape" && in[0] && n.inputs.size() > 1) {
      auto shape = const_ints(g, n.inputs[1]);
      if (shape && std::all_of(shape->begin(), shape->end(), [](int64_t d) { return d > 0; }))
        checks.push_back({i, product(*in[0], 0, in[0]->size()), product(*shape, 0, shape->size())});
    }
    auto out = infer_node(g, n, in, st);
    if (st->too_small) return checks;
    if (out && !n.outputs.empty()) dims[n.outputs[0]] = std::move(*out);
  }
  return checks;
}

// Rule 2: the side s of a square (cubic) input that the first size-dependent
// check needs, or nullopt when nothing depends on it. Pooling and strides
// round, so a range of sides usually fits (32..35 for LeNet): the smallest
// multiple of 32 in it is taken, else the smallest multiple of the largest
// power of 2 in it, the size a network is most likely designed for.
std::optional<int64_t> spatial_side(const Graph& g, const std::string& input, int64_t channels, size_t spatial) {
  auto make = [&](int64_t s) {
    Dims d{1, channels};
    d.resize(2 + spatial, s);
    return d;
  };
  // The first check whose size changes with s (not reached = -1: a window
  // stopped fitting before it), over probes of side 64, 256 and 1024.
  ProbeState st;
  std::vector<std::vector<Check>> runs;
  for (int64_t s : {64, 256, 1024}) runs.push_back(probe(g, input, make(s), &st));
  auto found_in = [](const std::vector<Check>& run, size_t node) -> int64_t {
    for (const auto& c : run)
      if (c.node == node) return c.found;
    return -1;
  };
  std::optional<size_t> node;
  for (const auto& c : runs.back()) {
    if (found_in(runs[0], c.node) != c.found || found_in(runs[1], c.node) != c.found) {
      node = c.node;
      break;
    }
  }
  if (!node) return std::nullopt;
  int64_t needed = -1;
  // found(s) at the check (-1 when a window stopped fitting before it).
  auto found_at = [&](int64_t s) -> int64_t {
    ProbeState ps;
    for (const auto& c : probe(g, input, make(s), &ps)) {
      if (c.node != *node) continue;
      needed = c.needed;
      return c.found;
    }
    return -1;
  };
  // found(s) grows with s: binary searches for the smallest s with
  // found >= needed and the smallest with found > needed.
  constexpr int64_t kMaxSide = 8192;
  if (found_at(kMaxSide) < needed || needed < 0) return std::nullopt;
  auto first_side = [&](auto pred) {
    int64_t lo = 1, hi = kMaxSide + 1;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (pred(found_at(mid))) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const int64_t first = first_side([&](int64_t f) { return f >= needed; });
  const int64_t last = first_side([&](int64_t f) { return f > needed; }) - 1;
  if (first > last || found_at(first) != needed) return std::nullopt;
  // Prefer a multiple of 32 (224 of 193..416 for ResNet with a fixed 7x7
  // average pool), else of the largest power of 2 in the range.
  for (int64_t step = 32; step > 1; step /= 2) {
    const int64_t s = (first + step - 1) / step * step;
    if (s <= last) return s;
  }
  return first;
}

}  // namespace

void infer_input_shapes(Graph& g, const TorchScriptOptions& opts) {
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    ValueInfo& vi = g.inputs[i];
    if (i < opts.input_shapes.size()) {
      vi.shape.clear();
      for (int64_t d : opts.input_shapes[i]) vi.shape.push_back(d >= 0 ? Dim::of(d) : Dim::sym(""));
      vi.has_shape = true;
      continue;
    }
    auto shape = first_constraint(g, vi.name);
    if (!shape || shape->empty()) continue;
    vi.shape = *shape;
    vi.has_shape = true;
    // [batch, C, ?...]: a later check may fix the spatial size.
    if (vi.shape.size() >= 3 && vi.shape[1].known() &&
        std::all_of(vi.shape.begin() + 2, vi.shape.end(), [](const Dim& d) { return !d.known(); })) {
      if (auto s = spatial_side(g, vi.name, vi.shape[1].value, vi.shape.size() - 2))
        for (size_t k = 2; k < vi.shape.size(); ++k) vi.shape[k] = Dim::of(*s);
    }
  }
}

}  // namespace convfix::tsfmt
