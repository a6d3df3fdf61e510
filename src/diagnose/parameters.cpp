// Parameter analysis: the weights of aligned layers compared in one
// canonical layout, folding-aware, with the typical converter patterns
// recognised (docs/DIAGNOSIS.md, "Parameters").
#include <algorithm>
#include <cmath>

#include "diagnose/diagnose_internal.h"
#include "diagnose/layer_params.h"
#include "diagnose/op_classes.h"

namespace convfix {

namespace {

struct Metrics {
  double mean_abs = 0, max_abs = 0, rel_l2 = 0, cosine = 1, norm_a = 0, norm_b = 0;
  int64_t n = 0;
};

Metrics metrics(const float* a, const float* b, int64_t n) {
  Metrics m;
  m.n = n;
  double sad = 0, sdd = 0, aa = 0, bb = 0, ab = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    sad += std::fabs(d);
    sdd += d * d;
    m.max_abs = std::max(m.max_abs, std::fabs(d));
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
    ab += static_cast<double>(a[i]) * b[i];
  }
  m.mean_abs = n ? sad / static_cast<double>(n) : 0;
  m.norm_a = std::sqrt(aa);
  m.norm_b = std::sqrt(bb);
  m.rel_l2 = m.norm_a > 0 ? std::sqrt(sdd) / m.norm_a : (sdd > 0 ? 1 : 0);
  m.cosine = (aa > 0 && bb > 0) ? ab / std::sqrt(aa * bb) : (aa == bb ? 1 : 0);
  return m;
}

// True when every b[i] is a[i] rounded to float16 (round to nearest even)
// and at least one element changed.
bool is_f16_rounding(const float* a, const float* b, int64_t n) {
  bool changed = false;
  for (int64_t i = 0; i < n; ++i) {
    const float r = f16_to_f32(f32_to_f16(a[i]));
    if (r != b[i] && !(std::isnan(r) && std::isnan(b[i]))) return false;
    if (r != a[i]) changed = true;
  }
  return changed;
}

nlohmann::json tensor_row(const std::string& role, const std::string& s, const std::string& t, const Metrics& m,
                          const std::string& pattern) {
  return {{"role", role}, {"source", s}, {"target", t}, {"mean_abs_diff", m.mean_abs},
          {"max_abs_diff", m.max_abs}, {"rel_l2", m.rel_l2}, {"cosine", m.cosine},
          {"pattern", pattern.empty() ? nlohmann::json(nullptr) : nlohmann::json(pattern)}};
}

// [O, C*H*W] columns in NCHW flatten order -> NHWC flatten order (or back).
Tensor permute_flatten_columns(const Tensor& w, int64_t C, int64_t H, int64_t W, bool to_nhwc) {
  const int64_t O = w.dim(0), I = w.dim(1);
  Tensor r(DType::kF32, {O, I});
  const float* s = w.data<float>();
  float* d = r.data<float>();
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t x = 0; x < W; ++x) {
          const int64_t nchw = (c * H + h) * W + x, nhwc = (h * W + x) * C + c;
          if (to_nhwc) d[o * I + nhwc] = s[o * I + nchw];
          else d[o * I + nchw] = s[o * I + nhwc];
        }
  return r;
}

constexpr double kRawTolerance = 1e-6;     // same stored tensors: anything beyond float noise
constexpr double kQuantizedSqnrFloorDb = 12.0;  // below: quantization does not explain the difference
constexpr double kFoldedTolerance = 2e-5;  // one side folded BatchNorm/affine in float32

}  // namespace

void compare_parameters(const Graph& sg, const Layer& sl, const ValueDims& ss, const Graph& tg, const Layer& tl,
                        const ValueDims& ts, RowFindings& f) {
  LinearParams sr = anchor_params(sg, sl), tr = anchor_params(tg, tl);
  if (!sr.valid || !tr.valid) {
    // Side parameters only (a stand-alone BatchNorm, PRelu slopes).
    auto a = side_params(sg, sl), b = side_params(tg, tl);
    for (const auto& x : a)
      for (const auto& y : b) {
        if (x.role != y.role || x.value.numel() != y.value.numel()) continue;
        Metrics m = metrics(x.value.data<float>(), y.value.data<float>(), x.value.numel());
        f.has_params = true;
        f.p_tensors.push_back(tensor_row(x.role, x.name, y.name, m, ""));
        f.p_mean_abs = std::max(f.p_mean_abs, m.mean_abs);
        f.p_max_abs = std::max(f.p_max_abs, m.max_abs);
        f.p_rel_l2 = std::max(f.p_rel_l2, m.rel_l2);
        f.p_elements += m.n;
        if (m.rel_l2 > kRawTolerance) f.params_differ = true;
      }
    if (f.params_differ) f.p_pattern = "other";
    return;
  }
  f.has_params = true;
  f.target_quantized = tr.quantized && !sr.quantized;
  const bool raw_same_structure = !tr.quantized && sr.weight.dims() == tr.weight.dims();
  LinearParams se = effective_params(sg, sl), te = effective_params(tg, tl);
  const bool folded = se.folded != te.folded || se.folded_nodes.size() != te.folded_nodes.size();
  // Compare raw tensors when both sides keep the same nodes, else the folded forms.
  const LinearParams& a = folded ? se : sr;
  LinearParams b = folded ? te : tr;
  std::string pattern;
  std::string note = folded ? "compared folded: " + std::to_string(se.folded_nodes.size()) + " node(s) folded on the source side, " +
                                  std::to_string(te.folded_nodes.size()) + " on the target side"
                            : "";
  if (a.weight.dims() != b.weight.dims()) {
    // Transposed dense weights (Gemm transB flipped) or a different flatten order.
    if (a.weight.rank() == 2 && b.weight.rank() == 2 && a.weight.dim(0) == b.weight.dim(1) &&
        a.weight.dim(1) == b.weight.dim(0)) {
      pattern = "transposed";
    } else {
      f.p_pattern = "other";
      f.params_differ = true;
      f.p_note = "weight shapes differ: " + dims_to_string(a.weight.dims()) + " vs " + dims_to_string(b.weight.dims());
      f.p_elements = a.weight.numel();
      f.p_rel_l2 = 1;
      f.p_cosine = 0;
      return;
    }
  }
  const int64_t nw = a.weight.numel();
  Metrics mw = pattern.empty() ? metrics(a.weight.data<float>(), b.weight.data<float>(), nw) : Metrics{};
  if (!pattern.empty() || (a.weight.rank() == 2 && mw.rel_l2 > kFoldedTolerance)) {
    // Dense: try the transposed and the NCHW<->NHWC flatten-permuted forms.
    if (a.weight.rank() == 2) {
      if (pattern == "transposed") {
        Tensor bt(DType::kF32, {b.weight.dim(1), b.weight.dim(0)});
        for (int64_t i = 0; i < b.weight.dim(0); ++i)
          for (int64_t j = 0; j < b.weight.dim(1); ++j) bt.data<float>()[j * b.weight.dim(0) + i] = b.weight.data<float>()[i * b.weight.dim(1) + j];
        Metrics mt = metrics(a.weight.data<float>(), bt.data<float>(), nw);
        mw = metrics(a.weight.data<float>(), b.weight.reshaped(a.weight.dims()).data<float>(), nw);
        if (mt.rel_l2 > kFoldedTolerance) pattern = "other";
      } else if (sl.anchor >= 0) {
        // The dense layer's input came from a C x H x W map: try the other flatten order.
        // Walk back from the anchor's data input through layout nodes to a rank-4 map.
        std::vector<int64_t> pre;
        std::string v = sg.nodes[static_cast<size_t>(sl.anchor)].inputs.empty()
                            ? std::string() : sg.nodes[static_cast<size_t>(sl.anchor)].inputs[0];
        for (int hops = 0; hops < 6 && !v.empty(); ++hops) {
          auto it = ss.find(v);
          if (it != ss.end() && it->second.size() == 4) { pre = it->second; break; }
          const int64_t p = sg.producer(v);
          if (p < 0) break;
          const Node& pn = sg.nodes[static_cast<size_t>(p)];
          if (pn.op_type != "Reshape" && pn.op_type != "Flatten" && pn.op_type != "Transpose" &&
              pn.op_type != "Identity" && pn.op_type != "Squeeze" && pn.op_type != "RESHAPE")
            break;
          v = pn.inputs.empty() ? std::string() : pn.inputs[0];
        }
        if (pre.size() == 4 && pre[1] * pre[2] * pre[3] == a.weight.dim(1)) {
          for (bool to_nhwc : {true, false}) {
            Tensor p = permute_flatten_columns(a.weight, pre[1], pre[2], pre[3], to_nhwc);
            Metrics mp = metrics(p.data<float>(), b.weight.data<float>(), nw);
            if (mp.rel_l2 <= kFoldedTolerance) {
              pattern = "permuted";
              note = "target weight columns are the source's in the other flatten order (NCHW vs NHWC); right only "
                     "if the target flattens an NHWC map";
              break;
            }
          }
        }
      }
    }
  }
  // Biases.
  Metrics mb = metrics(a.bias.data<float>(), b.bias.data<float>(), std::min(a.bias.numel(), b.bias.numel()));
  // Whole layer (weights then bias).
  const double sad = mw.mean_abs * static_cast<double>(nw) + mb.mean_abs * static_cast<double>(mb.n);
  f.p_elements = nw + mb.n;
  f.p_mean_abs = f.p_elements ? sad / static_cast<double>(f.p_elements) : 0;
  f.p_max_abs = std::max(mw.max_abs, mb.max_abs);
  const double na = std::sqrt(mw.norm_a * mw.norm_a + mb.norm_a * mb.norm_a);
  const double dd = std::sqrt(std::pow(mw.rel_l2 * mw.norm_a, 2) + std::pow(mb.rel_l2 * mb.norm_a, 2));
  f.p_rel_l2 = na > 0 ? dd / na : mw.rel_l2;
  f.p_cosine = mw.cosine;
  const double tol = folded ? kFoldedTolerance : kRawTolerance;
  std::string wp;
  if (pattern.empty()) {
    if (f.target_quantized) {
      f.p_sqnr_db = f.p_rel_l2 > 0 ? -20.0 * std::log10(f.p_rel_l2) : 999;
      pattern = "quantized";
      // Rounding to 8 (or even 4) bits keeps an SQNR of 20 dB and more;
      // far below that the stored values are other values, not rounded ones.
      if (f.p_sqnr_db < kQuantizedSqnrFloorDb) {
        pattern = "other";
        note = "the target stores these weights quantized, but at " + format_number(std::round(f.p_sqnr_db * 10) / 10) +
               " dB SQNR they are other values, not rounded ones";
      }
    } else if (raw_same_structure && is_f16_rounding(sr.weight.data<float>(), tr.weight.data<float>(), sr.weight.numel())) {
      pattern = "float16_rounding";
    } else if (folded && is_f16_rounding(se.weight.data<float>(), te.weight.data<float>(), se.weight.numel())) {
      pattern = "float16_rounding";
    } else if (mw.rel_l2 <= tol && mb.rel_l2 > tol && mb.norm_a > 0 &&
               (!b.has_bias || mb.norm_b == 0)) {
      pattern = "missing_bias";
    } else if (mw.rel_l2 > tol && mw.cosine > 1 - 1e-6 && mw.norm_a > 0 &&
               std::fabs(mw.norm_b / mw.norm_a - 1) > 1e-4) {
      pattern = "scaled";
      note = "target weights = " + std::to_string(mw.norm_b / mw.norm_a) + " x source weights";
    } else if (f.p_rel_l2 > tol) {
      pattern = "other";
    }
  }
  f.p_pattern = pattern;
  f.params_differ = !pattern.empty() && pattern != "quantized" && !(pattern == "permuted" && false);
  f.p_note = note;
  f.p_tensors.push_back(tensor_row(folded ? "weight (folded)" : "weight", a.weight_name, b.weight_name, mw,
                                   pattern == "missing_bias" ? "" : pattern));
  f.p_tensors.push_back(tensor_row(folded ? "bias (folded)" : "bias", a.has_bias ? a.bias_name : "(none)",
                                   b.has_bias ? b.bias_name : "(none)", mb, pattern == "missing_bias" ? pattern : ""));
  // BatchNorm statistics kept on both sides: compared one by one, so that a
  // swapped mean/variance is named.
  auto sa = side_params(sg, sl), tb = side_params(tg, tl);
  for (const auto& x : sa)
    for (const auto& y : tb) {
      if (x.role != y.role || x.value.numel() != y.value.numel()) continue;
      Metrics m = metrics(x.value.data<float>(), y.value.data<float>(), x.value.numel());
      std::string p;
      if (m.rel_l2 > kRawTolerance) {
        p = "other";
        for (const auto& z : sa)
          if (z.role != x.role && z.value.numel() == y.value.numel() &&
              metrics(z.value.data<float>(), y.value.data<float>(), y.value.numel()).rel_l2 <= kRawTolerance)
            p = "swapped with " + z.role;
        f.params_differ = true;
        if (f.p_pattern.empty() || f.p_pattern == "other") f.p_pattern = "other";
      }
      f.p_tensors.push_back(tensor_row(x.role, x.name, y.name, m, p));
    }
  (void)ts;
}

}  // namespace convfix
