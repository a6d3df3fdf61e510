// Layer-activation analysis: both models on a few images, one image at a
// time, every matched row's output values compared (layout-aware), with a
// per-row numerical noise floor measured by perturbing the source's input
// at float rounding level (docs/DIAGNOSIS.md, "Activations").
#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_set>

#include "convfix/layout.h"
#include "diagnose/diagnose_internal.h"

namespace convfix {

namespace {

class DimsObserver : public Observer {
 public:
  bool wants(const Node&) override { return true; }
  void on_output(const Node&, size_t, const std::string& name, const Tensor& v) override { dims[name] = v.dims(); }
  ValueDims dims;
};

class CaptureSet : public Observer {
 public:
  explicit CaptureSet(std::unordered_set<std::string> w) : want(std::move(w)) {}
  bool wants(const Node& n) override {
    for (const auto& o : n.outputs)
      if (want.count(o)) return true;
    return false;
  }
  void on_output(const Node&, size_t, const std::string& name, const Tensor& v) override {
    if (want.count(name)) got[name] = v;
  }
  std::unordered_set<std::string> want;
  std::unordered_map<std::string, Tensor> got;
};

Expected<Tensor> input_for(const ModelState& m, const std::string& file) {
  CONVFIX_ASSIGN_OR_RETURN(Image img, read_image(file));
  const int64_t rows = m.input.batch > 0 ? m.input.batch : 1;
  return make_model_input(m, {img}, rows);
}

// Real-valued view of a captured value (dequantized with the tensor's own
// parameters or the graph's for that value).
Tensor real_view(const Graph& g, const std::string& name, const Tensor& t) {
  Tensor x = t;
  if (!x.quant() && !dtype_is_float(x.dtype())) {
    auto it = g.value_info.find(name);
    if (it != g.value_info.end() && it->second.quant) x.set_quant(it->second.quant);
    for (const auto& in : g.inputs)
      if (in.name == name && in.quant) x.set_quant(in.quant);
  }
  auto f = x.to_f32();
  return f.ok() ? std::move(f).value() : Tensor();
}

// b (target) rearranged to a's (source) layout when the dims say how.
bool comparable(const Tensor& a, const Tensor& b, Tensor* out, std::string* how) {
  if (a.empty() || b.empty() || a.numel() != b.numel()) return false;
  const std::string rel = layout_relation(a.dims(), b.dims());
  *how = rel;
  if (rel == "same" || rel == "reshape") {
    *out = b;
    return true;
  }
  const int64_t N = a.dim(0);
  Tensor r(DType::kF32, a.dims());
  const float* s = b.data<float>();
  float* d = r.data<float>();
  if (rel == "nchw-nhwc") {  // a [N,C,H,W], b [N,H,W,C]
    const int64_t C = a.dim(1), H = a.dim(2), W = a.dim(3);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w) d[((n * C + c) * H + h) * W + w] = s[((n * H + h) * W + w) * C + c];
  } else {  // a [N,H,W,C], b [N,C,H,W]
    const int64_t H = a.dim(1), W = a.dim(2), C = a.dim(3);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          for (int64_t c = 0; c < C; ++c) d[((n * H + h) * W + w) * C + c] = s[((n * C + c) * H + h) * W + w];
  }
  *out = r;
  return true;
}

// A rank-4 tensor with its axes permuted (out axis i = in axis perm[i]).
Tensor permuted(const Tensor& t, const std::vector<int64_t>& perm) {
  std::vector<int64_t> d(4);
  for (int i = 0; i < 4; ++i) d[static_cast<size_t>(i)] = t.dim(perm[static_cast<size_t>(i)]);
  Tensor r(DType::kF32, d);
  int64_t st[4] = {t.dim(1) * t.dim(2) * t.dim(3), t.dim(2) * t.dim(3), t.dim(3), 1};
  const float* s = t.data<float>();
  float* o = r.data<float>();
  int64_t k = 0;
  for (int64_t a = 0; a < d[0]; ++a)
    for (int64_t b = 0; b < d[1]; ++b)
      for (int64_t c = 0; c < d[2]; ++c)
        for (int64_t e = 0; e < d[3]; ++e)
          o[k++] = s[a * st[perm[0]] + b * st[perm[1]] + c * st[perm[2]] + e * st[perm[3]]];
  return r;
}

struct Err {
  double mad = 0, rel = 0;
};

Err error_of(const Tensor& a, const Tensor& b) {
  const float* x = a.data<float>();
  const float* y = b.data<float>();
  double sad = 0, sdd = 0, aa = 0, bb = 0;
  const int64_t n = a.numel();
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - y[i];
    sad += std::fabs(d);
    sdd += d * d;
    aa += static_cast<double>(x[i]) * x[i];
    bb += static_cast<double>(y[i]) * y[i];
  }
  Err e;
  e.mad = n ? sad / static_cast<double>(n) : 0;
  const double ref = aa > 0 ? aa : bb;
  e.rel = ref > 0 ? std::sqrt(sdd / ref) : (sdd > 0 ? 1 : 0);
  if (!std::isfinite(e.rel)) e.rel = 1e30;
  return e;
}

// x * (1 + u * 2^-22) with u = +-1 from a fixed sequence: an input change at
// the level of float32 rounding.
Tensor perturb(const Tensor& x) {
  if (x.dtype() != DType::kF32) return x;
  Tensor y = x.clone();
  uint32_t state = 2463534242u;
  float* p = y.data<float>();
  for (int64_t i = 0; i < y.numel(); ++i) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    p[i] *= (state & 1u) ? 1.0f + 0x1p-22f : 1.0f - 0x1p-22f;
  }
  return y;
}

// Runs `m` on `x`, capturing `want`; graph inputs among them are the feed.
Expected<std::unordered_map<std::string, Tensor>> capture(ModelState& m, const Tensor& x,
                                                         const std::unordered_set<std::string>& want) {
  CaptureSet obs(want);
  TensorMap feeds{{m.input.input_name, x}};
  RunOptions ro;
  ro.observer = &obs;
  auto out = m.exec->run(feeds, ro);
  if (!out.ok()) return run_failure(m, out.status());
  if (want.count(m.input.input_name)) obs.got[m.input.input_name] = x;
  for (const auto& [name, t] : *out)
    if (want.count(name)) obs.got[name] = t;
  return std::move(obs.got);
}

}  // namespace

Expected<ValueDims> probe_shapes(ModelState& m, const std::string& image_file, ValueDims* partial) {
  CONVFIX_ASSIGN_OR_RETURN(Tensor x, input_for(m, image_file));
  DimsObserver obs;
  obs.dims[m.input.input_name] = x.dims();
  TensorMap feeds{{m.input.input_name, x}};
  RunOptions ro;
  ro.observer = &obs;
  auto out = m.exec->run(feeds, ro);
  if (!out.ok()) {
    // Keep what the nodes before the failing one produced.
    if (partial) *partial = std::move(obs.dims);
    return run_failure(m, out.status());
  }
  for (const auto& [name, t] : *out) obs.dims[name] = t.dims();
  return std::move(obs.dims);
}

Expected<ActivationResult> analyze_activations(const DiagnoseOptions& o, ModelState& source, ModelState& target,
                                               const LayerGraph& src, const LayerGraph& tgt, const Alignment& a,
                                               const std::vector<std::string>& files,
                                               const std::vector<size_t>& discrepant,
                                               const std::vector<size_t>& agreeing, std::vector<RowFindings>& f) {
  ActivationResult r;
  r.images_discrepant = discrepant;
  r.images_agreeing = agreeing;
  std::unordered_set<std::string> sw, tw;
  std::vector<const AlignmentRow*> rows;
  for (const auto& row : a.rows) {
    if (row.status != "matched") continue;
    rows.push_back(&row);
    sw.insert(src.layers[static_cast<size_t>(row.source_layer)].compare_output);
    tw.insert(tgt.layers[static_cast<size_t>(row.target_layer)].compare_output);
  }
  if (rows.empty()) {
    r.note = "no matched layers to compare";
    return r;
  }
  const size_t nr = a.rows.size();
  std::vector<double> noise(nr, 0), sum_rel_d(nr, 0), sum_mad_d(nr, 0), sum_rel_a(nr, 0), sum_mad_a(nr, 0);
  std::vector<int> cnt_d(nr, 0), cnt_a(nr, 0);
  std::vector<std::string> how(nr);
  int noise_runs = 0;
  auto run_image = [&](size_t image, bool is_discrepant) -> Status {
    CONVFIX_ASSIGN_OR_RETURN(Tensor xs, input_for(source, files[image]));
    CONVFIX_ASSIGN_OR_RETURN(Tensor xt, input_for(target, files[image]));
    CONVFIX_ASSIGN_OR_RETURN(auto sv, capture(source, xs, sw));
    // Noise: the source against itself with a rounding-level input change (two images).
    if (noise_runs < 2 && xs.dtype() == DType::kF32) {
      CONVFIX_ASSIGN_OR_RETURN(auto pv, capture(source, perturb(xs), sw));
      for (const AlignmentRow* row : rows) {
        const std::string& v = src.layers[static_cast<size_t>(row->source_layer)].compare_output;
        auto i = sv.find(v);
        auto j = pv.find(v);
        if (i == sv.end() || j == pv.end()) continue;
        Tensor x = real_view(*src.graph, v, i->second), y = real_view(*src.graph, v, j->second);
        if (x.empty() || y.empty() || x.numel() != y.numel()) continue;
        noise[static_cast<size_t>(row->index)] = std::max(noise[static_cast<size_t>(row->index)], error_of(x, y).rel);
      }
      ++noise_runs;
    }
    CONVFIX_ASSIGN_OR_RETURN(auto tv, capture(target, xt, tw));
    for (const AlignmentRow* row : rows) {
      const size_t k = static_cast<size_t>(row->index);
      const std::string& vs = src.layers[static_cast<size_t>(row->source_layer)].compare_output;
      const std::string& vt = tgt.layers[static_cast<size_t>(row->target_layer)].compare_output;
      auto i = sv.find(vs);
      auto j = tv.find(vt);
      if (i == sv.end() || j == tv.end()) continue;
      Tensor x = real_view(*src.graph, vs, i->second), y = real_view(*tgt.graph, vt, j->second), yy;
      std::string h;
      if (!comparable(x, y, &yy, &h)) continue;
      how[k] = h;
      Err e = error_of(x, yy);
      if (h == "reshape" && (x.rank() == 4 || y.rank() == 4)) {
        // A map on one side, its flattening on the other: the flatten order
        // is the next layer's business (its weights say which order it
        // expects), so compare in the order that fits.
        const Tensor& m4 = x.rank() == 4 ? x : y;
        const Tensor& other = x.rank() == 4 ? y : x;
        for (const auto& perm : {std::vector<int64_t>{0, 2, 3, 1}, std::vector<int64_t>{0, 3, 1, 2}}) {
          Tensor p = permuted(m4, perm);
          const Err e2 = x.rank() == 4 ? error_of(p, other.reshaped(p.dims())) : error_of(other, p.reshaped(other.dims()));
          if (e2.rel < e.rel) e = e2;
        }
      }
      f[k].has_act = true;
      f[k].act_per_image.push_back({{"image", image}, {"discrepant", is_discrepant}, {"mean_abs_diff", e.mad},
                                    {"rel_error", e.rel}});
      if (is_discrepant) {
        sum_rel_d[k] += e.rel;
        sum_mad_d[k] += e.mad;
        cnt_d[k]++;
      } else {
        sum_rel_a[k] += e.rel;
        sum_mad_a[k] += e.mad;
        cnt_a[k]++;
      }
    }
    return Status::OK();
  };
  for (size_t i : discrepant) CONVFIX_RETURN_IF_ERROR(run_image(i, true));
  for (size_t i : agreeing) CONVFIX_RETURN_IF_ERROR(run_image(i, false));
  r.ran = true;

  // Per-row floor: ten times the error a rounding-level input change causes
  // there, and never below what float32 itself resolves (a few ulps).
  std::vector<double> floors;
  for (const AlignmentRow* row : rows) {
    const size_t k = static_cast<size_t>(row->index);
    f[k].noise = std::max(10.0 * noise[k], 4.0 * 1.1920929e-7);
    floors.push_back(f[k].noise);
    if (cnt_d[k]) {
      f[k].act_disc_rel = sum_rel_d[k] / cnt_d[k];
      f[k].act_disc_mad = sum_mad_d[k] / cnt_d[k];
    }
    if (cnt_a[k]) {
      f[k].act_agree_rel = sum_rel_a[k] / cnt_a[k];
      f[k].act_agree_mad = sum_mad_a[k] / cnt_a[k];
    }
    const double worst = std::max(f[k].act_disc_rel, f[k].act_agree_rel);
    f[k].above_noise = f[k].has_act && worst > f[k].noise;
  }
  std::sort(floors.begin(), floors.end());
  r.noise_floor = floors.empty() ? 0 : floors[floors.size() / 2];
  double prev = 0;
  for (const AlignmentRow* row : rows) {
    const size_t k = static_cast<size_t>(row->index);
    if (!f[k].has_act) continue;
    const double e = cnt_d[k] ? f[k].act_disc_rel : f[k].act_agree_rel;
    if (f[k].above_noise && r.first_divergent_row < 0) r.first_divergent_row = row->index;
    if (f[k].above_noise && e > 10.0 * std::max(prev, f[k].noise)) r.spikes.push_back(row->index);
    prev = e;
  }
  if (!r.spikes.empty() && r.spikes.front() == r.first_divergent_row) r.spikes.erase(r.spikes.begin());
  (void)o;
  return r;
}

}  // namespace convfix
