// Canonical weights of a layer, with and without folding (layer_params.h).
#include "diagnose/layer_params.h"

#include <cmath>

#include "diagnose/op_classes.h"

namespace convfix {

namespace {

bool f32_of(const Graph& g, const std::string& name, Tensor* out) {
  auto t = constant_value(g, name);
  if (!t) return false;
  auto f = t->to_f32();
  if (!f.ok()) return false;
  *out = std::move(f).value();
  return true;
}

bool is_int(const Graph& g, const std::string& name) {
  auto t = constant_value(g, name);
  return t && !dtype_is_float(t->dtype());
}

// out[o, i, h, w] = in[o, h, w, i]
Tensor ohwi_to_oihw(const Tensor& t) {
  const int64_t O = t.dim(0), H = t.dim(1), W = t.dim(2), I = t.dim(3);
  Tensor r(DType::kF32, {O, I, H, W});
  const float* s = t.data<float>();
  float* d = r.data<float>();
  for (int64_t o = 0; o < O; ++o)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        for (int64_t i = 0; i < I; ++i) d[((o * I + i) * H + h) * W + w] = s[((o * H + h) * W + w) * I + i];
  return r;
}

// [1, H, W, C] -> [C, 1, H, W]
Tensor dw_to_oihw(const Tensor& t) {
  const int64_t H = t.dim(1), W = t.dim(2), C = t.dim(3);
  Tensor r(DType::kF32, {C, 1, H, W});
  const float* s = t.data<float>();
  float* d = r.data<float>();
  for (int64_t h = 0; h < H; ++h)
    for (int64_t w = 0; w < W; ++w)
      for (int64_t c = 0; c < C; ++c) d[(c * H + h) * W + w] = s[(h * W + w) * C + c];
  return r;
}

// 2-D transpose, or swap of the first two axes of a rank-4 tensor.
Tensor swap01(const Tensor& t) {
  const int64_t A = t.dim(0), B = t.dim(1);
  int64_t inner = 1;
  for (int64_t k = 2; k < t.rank(); ++k) inner *= t.dim(k);
  std::vector<int64_t> dims = t.dims();
  std::swap(dims[0], dims[1]);
  Tensor r(DType::kF32, dims);
  const float* s = t.data<float>();
  float* d = r.data<float>();
  for (int64_t a = 0; a < A; ++a)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < inner; ++k) d[(b * A + a) * inner + k] = s[(a * B + b) * inner + k];
  return r;
}

void set_bias(LinearParams& p, const Graph& g, const std::string& name) {
  const int64_t O = p.weight.dim(0);
  Tensor b;
  if (f32_of(g, name, &b) && b.numel() == O) {
    p.bias = b.reshaped({O}).clone();
    p.has_bias = true;
    p.bias_name = constant_root(g, name);
    if (is_int(g, name)) p.quantized = true;
  } else {
    p.bias = Tensor(DType::kF32, {O});
  }
}

}  // namespace

LinearParams anchor_params(const Graph& g, const Layer& l) {
  LinearParams p;
  if (l.anchor < 0) return p;
  const Node& n = g.nodes[static_cast<size_t>(l.anchor)];
  auto in = [&](size_t i) { return i < n.inputs.size() ? n.inputs[i] : std::string(); };
  Tensor w;
  std::string wname, bname;
  if (is_tflite(n)) {
    if (n.op_type == "CONV_2D" || n.op_type == "DEPTHWISE_CONV_2D" || n.op_type == "FULLY_CONNECTED") {
      wname = in(1);
      bname = in(2);
    } else if (n.op_type == "TRANSPOSE_CONV") {
      wname = in(1);
      bname = in(3);
    } else {
      return p;
    }
    if (!f32_of(g, wname, &w)) return p;
    if (n.op_type == "CONV_2D" || n.op_type == "TRANSPOSE_CONV") {
      if (w.rank() != 4) return p;
      w = ohwi_to_oihw(w);
    } else if (n.op_type == "DEPTHWISE_CONV_2D") {
      if (w.rank() != 4 || w.dim(0) != 1) return p;
      w = dw_to_oihw(w);
    } else if (w.rank() != 2) {
      return p;
    }
  } else if (n.op_type == "Conv") {
    wname = in(1);
    bname = in(2);
    if (!f32_of(g, wname, &w) || w.rank() < 3) return p;
  } else if (n.op_type == "ConvTranspose") {
    wname = in(1);
    bname = in(2);
    if (!f32_of(g, wname, &w) || w.rank() < 3) return p;
    if (n.attr_int("group", 1) == 1) w = swap01(w);
  } else if (n.op_type == "Gemm") {
    wname = in(1);
    bname = in(2);
    if (!f32_of(g, wname, &w) || w.rank() != 2) return p;
    if (n.attr_int("transB", 0) == 0) w = swap01(w);
    const float alpha = n.attr_float("alpha", 1.0f);
    if (alpha != 1.0f) {
      w = w.clone();
      for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] *= alpha;
    }
  } else if (n.op_type == "MatMul") {
    wname = in(1);
    if (!f32_of(g, wname, &w) || w.rank() != 2) return p;
    w = swap01(w);
  } else {
    return p;
  }
  p.valid = true;
  p.weight = w;
  p.weight_name = constant_root(g, wname);
  p.quantized = is_int(g, wname);
  set_bias(p, g, bname);
  if (n.op_type == "Gemm" && p.has_bias) {
    const float beta = n.attr_float("beta", 1.0f);
    for (int64_t i = 0; i < p.bias.numel(); ++i) p.bias.data<float>()[i] *= beta;
  }
  return p;
}

namespace {

// A constant that applies per output channel (numel O) or to everything (1).
bool per_channel_const(const Graph& g, const std::string& name, int64_t O, std::vector<float>* out) {
  Tensor t;
  if (!f32_of(g, name, &t)) return false;
  if (t.numel() != 1 && t.numel() != O) return false;
  out->assign(static_cast<size_t>(O), 0.0f);
  for (int64_t o = 0; o < O; ++o) (*out)[static_cast<size_t>(o)] = t.data<float>()[t.numel() == 1 ? 0 : o];
  return true;
}

void scale_out(LinearParams& p, const std::vector<float>& s) {
  const int64_t O = p.weight.dim(0), per = p.weight.numel() / O;
  float* w = p.weight.data<float>();
  for (int64_t o = 0; o < O; ++o) {
    for (int64_t k = 0; k < per; ++k) w[o * per + k] *= s[static_cast<size_t>(o)];
    p.bias.data<float>()[o] *= s[static_cast<size_t>(o)];
  }
}

}  // namespace

LinearParams effective_params(const Graph& g, const Layer& l) {
  LinearParams p = anchor_params(g, l);
  if (!p.valid) return p;
  const Node& a = g.nodes[static_cast<size_t>(l.anchor)];
  if (is_tflite(a) && !fused_activation_name(a).empty()) return p;
  p.weight = p.weight.clone();
  p.bias = p.bias.clone();
  const int64_t O = p.weight.dim(0);
  std::string cur = a.outputs.empty() ? std::string() : a.outputs[0];
  for (size_t idx : l.post) {
    const Node& n = g.nodes[idx];
    const OpClass c = op_class(n);
    if (n.inputs.empty() || n.outputs.empty()) break;
    // Only the main chain folds: a value that also feeds a side branch
    // (the x of x*relu6(x+3)/6) ends the linear part.
    if (g.consumers(cur).size() != 1) break;
    if (c == OpClass::kLayout) {
      if (n.inputs[0] != cur) break;
      cur = n.outputs[0];
      continue;
    }
    std::vector<float> v;
    if (n.op_type == "BatchNormalization" && n.inputs.size() >= 5 && n.inputs[0] == cur) {
      std::vector<float> sc, bi, mean, var;
      if (!per_channel_const(g, n.inputs[1], O, &sc) || !per_channel_const(g, n.inputs[2], O, &bi) ||
          !per_channel_const(g, n.inputs[3], O, &mean) || !per_channel_const(g, n.inputs[4], O, &var))
        break;
      const double eps = n.attr_float("epsilon", 1e-5f);
      std::vector<float> s(static_cast<size_t>(O));
      for (size_t o = 0; o < s.size(); ++o) s[o] = static_cast<float>(sc[o] / std::sqrt(static_cast<double>(var[o]) + eps));
      for (int64_t o = 0; o < O; ++o) p.bias.data<float>()[o] -= mean[static_cast<size_t>(o)];
      scale_out(p, s);
      for (int64_t o = 0; o < O; ++o) p.bias.data<float>()[o] += bi[static_cast<size_t>(o)];
    } else if (c == OpClass::kBinary && n.inputs.size() == 2) {
      const bool first = n.inputs[0] == cur, second = n.inputs[1] == cur;
      if (first == second) break;
      const std::string& k = first ? n.inputs[1] : n.inputs[0];
      if (!per_channel_const(g, k, O, &v)) break;
      const std::string& op = n.op_type;
      if (op == "Mul" || op == "MUL") {
        scale_out(p, v);
      } else if ((op == "Div" || op == "DIV") && first) {
        for (auto& x : v) x = 1.0f / x;
        scale_out(p, v);
      } else if (op == "Add" || op == "ADD") {
        for (int64_t o = 0; o < O; ++o) p.bias.data<float>()[o] += v[static_cast<size_t>(o)];
      } else if ((op == "Sub" || op == "SUB") && first) {
        for (int64_t o = 0; o < O; ++o) p.bias.data<float>()[o] -= v[static_cast<size_t>(o)];
      } else {
        break;
      }
      if (is_tflite(n) && !fused_activation_name(n).empty()) {
        p.folded_nodes.push_back(n.name);
        p.folded = true;
        break;
      }
    } else {
      break;
    }
    p.folded_nodes.push_back(n.name);
    p.folded = true;
    p.has_bias = true;
    cur = n.outputs[0];
  }
  return p;
}

std::vector<RoleTensor> side_params(const Graph& g, const Layer& l) {
  std::vector<RoleTensor> out;
  auto add = [&](const std::string& role, const std::string& name) {
    Tensor t;
    if (f32_of(g, name, &t)) out.push_back({role, name, t});
  };
  for (size_t idx : l.post) {
    const Node& n = g.nodes[idx];
    if (n.op_type == "BatchNormalization" && n.inputs.size() >= 5) {
      add("bn.scale", n.inputs[1]);
      add("bn.bias", n.inputs[2]);
      add("bn.mean", n.inputs[3]);
      add("bn.var", n.inputs[4]);
    } else if (n.op_type == "PRelu" || n.op_type == "PRELU") {
      if (n.inputs.size() > 1) add("prelu.slope", n.inputs[1]);
    }
  }
  if (l.anchor >= 0) {
    const Node& n = g.nodes[static_cast<size_t>(l.anchor)];
    if (n.op_type == "BatchNormalization" && n.inputs.size() >= 5) {
      add("bn.scale", n.inputs[1]);
      add("bn.bias", n.inputs[2]);
      add("bn.mean", n.inputs[3]);
      add("bn.var", n.inputs[4]);
    }
  }
  return out;
}

}  // namespace convfix
