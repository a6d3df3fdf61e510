// Writing parameters back in the target's own layout (repair_internal.h).
//
// The target may store a tensor in another layout than the one diagnosis
// compares (OHWI filters, a transposed Gemm weight, a Keras kernel behind a
// Transpose node). Rather than inverting each layout by hand, the chain from
// the stored initializer to the canonical form is run on an "index tensor"
// (element k holds k): the result says, for every canonical element, which
// stored element it came from, and the new values are scattered back. Any
// chain of pure data movement (Transpose, Reshape, Squeeze, Cast, the
// canonical re-ordering of diagnose/layer_params.cpp) inverts this way; a
// chain that computes (BatchNorm arithmetic on constants) does not, and
// is refused.
#include <cmath>

#include "diagnose/layer_params.h"
#include "diagnose/op_classes.h"
#include "repair/repair_internal.h"

namespace convfix {

namespace {

constexpr int64_t kMaxIota = int64_t{1} << 24;   // exact in float32

// Index tensor with the dims of `like`.
Tensor iota_like(const Tensor& like) {
  Tensor t(DType::kF32, like.dims());
  float* d = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) d[i] = static_cast<float>(i);
  return t;
}

// Scatters `values` (canonical order) through `map` (canonical -> stored
// index) into a new tensor with `dims`. Every stored element must be hit once.
Expected<Tensor> scatter(const Tensor& map, const Tensor& values, const std::vector<int64_t>& dims,
                         const std::string& what) {
  Tensor out(DType::kF32, dims);
  const int64_t n = out.numel();
  if (map.numel() != n || values.numel() != n)
    return invalid_argument(what + ": element counts differ (" + std::to_string(map.numel()) + " vs " +
                            std::to_string(values.numel()) + " vs " + std::to_string(n) + ")");
  std::vector<char> hit(static_cast<size_t>(n), 0);
  const float* m = map.data<float>();
  const float* v = values.data<float>();
  float* o = out.data<float>();
  for (int64_t c = 0; c < n; ++c) {
    const float f = m[c];
    const int64_t k = static_cast<int64_t>(f);
    if (f != static_cast<float>(k) || k < 0 || k >= n || hit[static_cast<size_t>(k)])
      return not_implemented(what + ": the layout chain is not a pure re-ordering");
    hit[static_cast<size_t>(k)] = 1;
    o[k] = v[c];
  }
  return out;
}

Expected<Tensor> as_f32(const Tensor& t) {
  auto f = t.to_f32();
  if (!f.ok()) return f.status();
  return std::move(f).value().clone();
}

// The stored initializer behind `value`: must be a float initializer, or
// (`hybrid_ok`) quantized weights of an op that computes in float (a TFLite
// hybrid op: float activations, integer weights), which become float.
Expected<std::string> float_root(const Graph& g, const std::string& value, const std::string& what,
                                 bool hybrid_ok = false) {
  const std::string root = constant_root(g, value);
  auto it = g.initializers.find(root);
  if (it == g.initializers.end()) return not_implemented(what + ": '" + value + "' is not a stored constant");
  const bool hybrid = hybrid_ok && it->second.quant() && !dtype_is_float(it->second.dtype());
  if (it->second.dtype() != DType::kF32 && it->second.dtype() != DType::kF16 && !hybrid)
    return not_implemented(what + ": '" + root + "' is stored as " + dtype_name(it->second.dtype()) +
                           " (quantized weights are repaired only by --allow-dequantize)");
  if (it->second.quant() && !hybrid) return not_implemented(what + ": '" + root + "' is quantized");
  if (it->second.numel() >= kMaxIota) return not_implemented(what + ": '" + root + "' is too large to re-order");
  return root;
}

// Stores `t` (f32) as initializer `root`, keeping an f16 file type as f32:
// the restored values are the point of the repair.
void store(Graph& g, const std::string& root, Tensor t) {
  g.initializers[root] = std::move(t);
}

std::string weight_input(const Node& n) {
  if (n.op_type == "CONV_2D" || n.op_type == "DEPTHWISE_CONV_2D" || n.op_type == "FULLY_CONNECTED" ||
      n.op_type == "TRANSPOSE_CONV" || n.op_type == "Conv" || n.op_type == "ConvTranspose" || n.op_type == "Gemm" ||
      n.op_type == "MatMul")
    return n.inputs.size() > 1 ? n.inputs[1] : "";
  return "";
}

int bias_slot(const Node& n) {
  if (n.op_type == "TRANSPOSE_CONV") return 3;
  if (n.op_type == "CONV_2D" || n.op_type == "DEPTHWISE_CONV_2D" || n.op_type == "FULLY_CONNECTED" ||
      n.op_type == "Conv" || n.op_type == "ConvTranspose" || n.op_type == "Gemm")
    return 2;
  return -1;
}

}  // namespace

std::set<std::string> consumers_of(const Graph& g, const std::string& initializer) {
  std::set<std::string> s;
  for (size_t i : g.consumers(initializer)) s.insert(g.nodes[i].name);
  return s;
}

Expected<std::string> write_anchor_weight(Graph& g, const Layer& l, const Tensor& canonical) {
  if (l.anchor < 0) return invalid_argument("write weight: the layer has no anchor");
  const Node& n = g.nodes[static_cast<size_t>(l.anchor)];
  const std::string what = "weights of " + n.label();
  const std::string wname = weight_input(n);
  if (wname.empty()) return not_implemented(what + ": no weight input");
  // A hybrid op (float activations, integer weights) may get float weights.
  bool float_input = false;
  if (!n.inputs.empty()) {
    auto vi = g.value_info.find(n.inputs[0]);
    if (vi != g.value_info.end()) float_input = dtype_is_float(vi->second.dtype);
    for (const auto& in : g.inputs)
      if (in.name == n.inputs[0]) float_input = dtype_is_float(in.dtype);
  }
  CONVFIX_ASSIGN_OR_RETURN(std::string root, float_root(g, wname, what, float_input && n.domain == "tflite"));
  const Tensor& stored = g.initializers.at(root);
  // The canonical form of the index tensor, computed on a copy with the
  // Gemm scale factored out.
  Graph probe = g;
  probe.initializers[root] = iota_like(stored);
  Node& pn = probe.nodes[static_cast<size_t>(l.anchor)];
  const float alpha = pn.op_type == "Gemm" ? pn.attr_float("alpha", 1.0f) : 1.0f;
  if (pn.op_type == "Gemm") pn.attrs["alpha"] = Attribute::of_float(1.0f);
  LinearParams p = anchor_params(probe, l);
  if (!p.valid) return not_implemented(what + ": the stored layout cannot be followed");
  if (p.weight.dims() != canonical.dims())
    return invalid_argument(what + ": shape " + dims_to_string(p.weight.dims()) + " differs from the source's " +
                            dims_to_string(canonical.dims()));
  CONVFIX_ASSIGN_OR_RETURN(Tensor values, as_f32(canonical));
  if (alpha != 1.0f)
    for (int64_t i = 0; i < values.numel(); ++i) values.data<float>()[i] /= alpha;
  CONVFIX_ASSIGN_OR_RETURN(Tensor out, scatter(p.weight, values, stored.dims(), what));
  store(g, root, std::move(out));
  return root;
}

Expected<std::string> write_constant(Graph& g, const std::string& value, const Tensor& t) {
  const std::string what = "constant '" + value + "'";
  CONVFIX_ASSIGN_OR_RETURN(std::string root, float_root(g, value, what));
  const Tensor& stored = g.initializers.at(root);
  Graph probe = g;
  probe.initializers[root] = iota_like(stored);
  auto map = constant_value(probe, value);
  if (!map) return not_implemented(what + ": its chain cannot be followed");
  CONVFIX_ASSIGN_OR_RETURN(Tensor mapf, as_f32(*map));
  CONVFIX_ASSIGN_OR_RETURN(Tensor values, as_f32(t));
  CONVFIX_ASSIGN_OR_RETURN(Tensor out, scatter(mapf, values, stored.dims(), what));
  store(g, root, std::move(out));
  return root;
}

Expected<std::string> write_anchor_bias(Graph& g, const Layer& l, const Tensor& bias) {
  if (l.anchor < 0) return invalid_argument("write bias: the layer has no anchor");
  Node& n = g.nodes[static_cast<size_t>(l.anchor)];
  const std::string what = "bias of " + n.label();
  const int slot = bias_slot(n);
  if (slot < 0) return not_implemented(what + ": " + n.op_type + " has no bias input");
  CONVFIX_ASSIGN_OR_RETURN(Tensor b, as_f32(bias));
  const float beta = n.op_type == "Gemm" ? n.attr_float("beta", 1.0f) : 1.0f;
  const std::string cur = static_cast<int>(n.inputs.size()) > slot ? n.inputs[static_cast<size_t>(slot)] : "";
  if (!cur.empty()) {
    if (beta != 1.0f && beta != 0.0f)
      for (int64_t i = 0; i < b.numel(); ++i) b.data<float>()[i] /= beta;
    if (beta == 0.0f) n.attrs["beta"] = Attribute::of_float(1.0f);
    return write_constant(g, cur, b.reshaped({b.numel()}));
  }
  // No bias input: add one.
  const std::string name = g.unique_value_name(n.name.empty() ? "bias_restored" : n.name + ".bias_restored");
  if (n.op_type == "Gemm") n.attrs["beta"] = Attribute::of_float(1.0f);
  Tensor stored = b.reshaped({b.numel()}).clone();
  g.initializers[name] = std::move(stored);
  while (static_cast<int>(n.inputs.size()) <= slot) n.inputs.push_back("");
  n.inputs[static_cast<size_t>(slot)] = name;
  return name;
}

}  // namespace convfix
