// Strategy "dequantize" (only with --allow-dequantize): run one layer of a
// quantized TFLite target in float. The layer's integer data inputs get a
// DEQUANTIZE, the op runs on float tensors with float weights — the
// source's (in the TFLite layout, BatchNorm folded as the converter folds
// it) when the aligned source layer has them, else the target's own weights
// dequantized — and a QUANTIZE writes the original output tensor with its
// original parameters, so the rest of the model is untouched.
#include "diagnose/layer_params.h"
#include "diagnose/op_classes.h"
#include "repair/repair_internal.h"

namespace convfix {

namespace {

// canonical [O, I, kH, kW] -> OHWI; [O, 1, kH, kW] -> 1HWO; dense as is.
Tensor tflite_layout(const Node& n, const Tensor& c) {
  if (n.op_type == "FULLY_CONNECTED" || c.rank() != 4) return c;
  const int64_t O = c.dim(0), I = c.dim(1), H = c.dim(2), W = c.dim(3);
  const bool dw = n.op_type == "DEPTHWISE_CONV_2D";
  Tensor r(DType::kF32, dw ? std::vector<int64_t>{1, H, W, O} : std::vector<int64_t>{O, H, W, I});
  const float* s = c.data<float>();
  float* d = r.data<float>();
  for (int64_t o = 0; o < O; ++o)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          const float v = s[((o * I + i) * H + h) * W + w];
          if (dw) d[(h * W + w) * O + o] = v;
          else d[((o * H + h) * W + w) * I + i] = v;
        }
  return r;
}

bool quantized_value(const Graph& g, const std::string& v, ValueInfo* out) {
  auto it = g.value_info.find(v);
  const ValueInfo* vi = nullptr;
  if (it != g.value_info.end()) vi = &it->second;
  for (const auto& x : g.inputs)
    if (x.name == v) vi = &x;
  for (const auto& x : g.outputs)
    if (x.name == v && !vi) vi = &x;
  if (!vi || !vi->quant || dtype_is_float(vi->dtype)) return false;
  *out = *vi;
  return true;
}

}  // namespace

void dequantize_candidates(const PairView& v, int row, const WriteCaps& caps, std::vector<Candidate>& out) {
  if (!caps.structure || !caps.tflite_domain || row < 0) return;
  const AlignmentRow& r = v.align.rows[static_cast<size_t>(row)];
  if (r.target_layer < 0) return;
  const Layer& tl = v.tgt.layers[static_cast<size_t>(r.target_layer)];
  if (tl.anchor < 0) return;
  const Node& n = v.tg->nodes[static_cast<size_t>(tl.anchor)];
  ValueInfo yq;
  if (!is_tflite(n) || n.outputs.empty() || !quantized_value(*v.tg, n.outputs[0], &yq)) return;
  // Float parameters from the source, when the aligned layer has them.
  Tensor w, b;
  bool from_source = false;
  const bool linear = n.op_type == "CONV_2D" || n.op_type == "DEPTHWISE_CONV_2D" || n.op_type == "FULLY_CONNECTED";
  if (linear && r.status == "matched" && r.source_layer >= 0) {
    const LinearParams sp = effective_params(*v.sg, v.src.layers[static_cast<size_t>(r.source_layer)]);
    auto tw = constant_value(*v.tg, n.inputs.size() > 1 ? n.inputs[1] : "");
    if (sp.valid && tw) {
      Tensor lw = tflite_layout(n, sp.weight);
      if (lw.dims() == tw->dims()) {
        w = lw;
        b = sp.bias;
        from_source = true;
      }
    }
  }
  Candidate c;
  c.strategy = "dequantize";
  c.category = "quantization";
  c.target_node = n.name;
  c.source_node = r.source_layer >= 0 ? v.src.layers[static_cast<size_t>(r.source_layer)].name : "";
  c.change = "run " + n.label() + " in float (DEQUANTIZE -> float " + n.op_type + " -> QUANTIZE), with " +
             (from_source ? "the source's float weights" : linear ? "its own weights dequantized" : "no weights");
  c.details = {{"op", n.op_type}, {"weights", from_source ? "source" : linear ? "dequantized" : "none"}};
  c.key = "dequantize:" + n.name;
  c.structural = true;
  const std::string name = n.name;
  c.apply = [name, w, b, from_source, linear](Graph& g) -> Expected<std::set<std::string>> {
    const int64_t k = g.find_node(name);
    if (k < 0) return not_implemented("node '" + name + "' is gone");
    Node f = g.nodes[static_cast<size_t>(k)];
    std::vector<Node> before;
    std::set<std::string> dirty;
    for (size_t i = 0; i < f.inputs.size(); ++i) {
      const std::string in = f.inputs[i];
      if (in.empty()) continue;
      auto init = g.initializers.find(in);
      if (init != g.initializers.end()) {
        if (!linear || (i != 1 && i != 2)) continue;
        Tensor t;
        if (from_source) {
          t = i == 1 ? w : b;
        } else {
          auto tf = init->second.to_f32();
          if (!tf.ok()) return tf.status();
          t = std::move(tf).value();
        }
        const std::string fn = g.unique_value_name(in + "/float");
        g.initializers[fn] = t.clone();
        f.inputs[i] = fn;
        continue;
      }
      ValueInfo q;
      if (!quantized_value(g, in, &q)) continue;
      ValueInfo fv = q;
      fv.name = g.unique_value_name(in + "/dequantized");
      fv.dtype = DType::kF32;
      fv.quant.reset();
      g.value_info[fv.name] = fv;
      Node dq;
      dq.name = g.unique_node_name(name + "/dequantize" + std::to_string(i));
      dq.op_type = "DEQUANTIZE";
      dq.domain = "tflite";
      dq.inputs = {in};
      dq.outputs = {fv.name};
      dq.provenance = f.provenance;
      f.inputs[i] = fv.name;
      dirty.insert(dq.name);
      before.push_back(std::move(dq));
    }
    if (linear && from_source && (f.inputs.size() < 3 || f.inputs[2].empty())) {
      const std::string bn = g.unique_value_name(name + "/float_bias");
      g.initializers[bn] = b.clone();
      f.inputs.resize(std::max<size_t>(f.inputs.size(), 3));
      f.inputs[2] = bn;
    }
    const std::string y = f.outputs[0];
    ValueInfo yq;
    if (!quantized_value(g, y, &yq)) return not_implemented(f.label() + ": the output is not quantized");
    ValueInfo yf = yq;
    yf.name = g.unique_value_name(y + "/float");
    yf.dtype = DType::kF32;
    yf.quant.reset();
    g.value_info[yf.name] = yf;
    f.outputs[0] = yf.name;
    f.name = g.unique_node_name(name + "/float");
    Node qn;
    qn.name = name;   // the original output keeps its producer's name
    qn.op_type = "QUANTIZE";
    qn.domain = "tflite";
    qn.inputs = {yf.name};
    qn.outputs = {y};
    qn.provenance = f.provenance;
    dirty.insert(f.name);
    dirty.insert(qn.name);
    g.replace_node(static_cast<size_t>(k), f);
    size_t pos = static_cast<size_t>(k);
    for (auto& d : before) g.insert_node(pos++, std::move(d));
    g.insert_node(pos + 1, qn);
    return dirty;
  };
  out.push_back(std::move(c));
}

}  // namespace convfix
