// The verifier of repair candidates (repair_internal.h): runs a changed
// target on the verification images and scores it against the source.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "convfix/image.h"
#include "repair/repair_internal.h"

namespace convfix {

namespace {

// Above this, the per-chunk value caches for re-execution are dropped and
// every candidate runs in full.
constexpr size_t kCacheBytes = size_t{1536} << 20;

int argmax(const float* d, int64_t n) {
  int best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (d[i] > d[best] || (std::isnan(d[best]) && !std::isnan(d[i]))) best = static_cast<int>(i);
  return best;
}

// The model input for images [start, start + count) of `files`, with the
// model's preset: `rows` rows (a fixed-batch model gets zero padding).
Expected<Tensor> chunk_input(const ModelState& m, const std::vector<std::string>& files, int64_t start, int64_t count,
                             int64_t rows) {
  std::vector<Image> chunk;
  for (int64_t i = start; i < start + count; ++i) {
    CONVFIX_ASSIGN_OR_RETURN(Image img, read_image(files[static_cast<size_t>(i)]));
    chunk.push_back(std::move(img));
  }
  return make_model_input(m, chunk, rows);
}

size_t cache_bytes(const ValueCache& c) {
  size_t s = 0;
  for (const auto& [k, v] : c) s += v.nbytes();
  return s;
}

}  // namespace

Expected<std::unique_ptr<Verifier>> Verifier::create(const RepairOptions& o, ModelState& source,
                                                     const CompareModelSpec& target_spec,
                                                     std::vector<std::string> images, std::vector<char> agreed) {
  std::unique_ptr<Verifier> v(new Verifier());
  v->o_ = &o;
  v->spec_ = target_spec;
  v->images_ = std::move(images);
  v->agreed_ = std::move(agreed);
  v->preset_ = target_spec.preset;
  v->crop_ = target_spec.crop_fraction;
  // Source outputs, one chunk at a time.
  const int64_t n = static_cast<int64_t>(v->images_.size());
  const int64_t step = source.input.batch > 0 ? source.input.batch : std::max(1, o.diagnose.compare.batch);
  for (int64_t start = 0; start < n; start += step) {
    const int64_t count = std::min(step, n - start);
    const int64_t rows = source.input.batch > 0 ? source.input.batch : count;
    CONVFIX_ASSIGN_OR_RETURN(Tensor x, chunk_input(source, v->images_, start, count, rows));
    auto out = source.exec->run({{source.input.input_name, std::move(x)}});
    if (!out.ok()) return out.status().with_context(source.spec.path);
    const std::string& oname = source.graph->outputs[0].name;
    Tensor y = out->at(oname);
    if (!y.quant() && source.output_quant[0]) y.set_quant(*source.output_quant[0]);
    CONVFIX_ASSIGN_OR_RETURN(Tensor yf, y.to_f32());
    if (yf.rank() < 1 || yf.dim(0) != rows) return shape_error(source.spec.path + ": the first output has no batch axis");
    const int64_t per = yf.numel() / rows;
    for (int64_t i = 0; i < count; ++i) {
      Tensor one(DType::kF32, {per});
      std::memcpy(one.raw(), yf.data<float>() + i * per, static_cast<size_t>(per) * sizeof(float));
      v->src_top1_.push_back(argmax(one.data<float>(), per));
      v->src_out_.push_back(std::move(one));
    }
  }
  return v;
}

Score Verifier::evaluate(std::shared_ptr<const Graph> g, const std::set<std::string>& dirty, bool structural,
                         const std::string& preset, float crop) {
  Score s;
  last_out_.clear();
  const std::string want = preset.empty() ? preset_ : preset;
  const float want_crop = preset.empty() ? crop_ : crop;
  // Input tensors: the current ones unless the preset changes.
  CompareModelSpec spec = spec_;
  spec.preset = want;
  spec.crop_fraction = want_crop;
  auto st = open_model(spec, o_->diagnose.compare, std::const_pointer_cast<Graph>(g), true);
  if (!st.ok()) {
    s.error = st.status().message();
    return s;
  }
  ModelState& m = *st;
  const bool same_inputs = want == preset_ && want_crop == crop_ && !inputs_.empty();
  const bool reuse = same_inputs && caching_ && !structural && !dirty.empty() && cache_.size() == inputs_.size();
  const int64_t n = static_cast<int64_t>(images_.size());
  const int64_t step = m.input.batch > 0 ? m.input.batch : std::max(1, o_->diagnose.compare.batch);
  size_t chunk_index = 0;
  double err_sum = 0;
  for (int64_t start = 0; start < n; start += step, ++chunk_index) {
    const int64_t count = std::min(step, n - start);
    const int64_t rows = m.input.batch > 0 ? m.input.batch : count;
    Tensor x;
    if (same_inputs && chunk_index < inputs_.size()) {
      x = inputs_[chunk_index];
    } else {
      auto xi = chunk_input(m, images_, start, count, rows);
      if (!xi.ok()) {
        s.error = xi.status().message();
        return s;
      }
      x = std::move(xi).value();
    }
    RunOptions ro;
    if (reuse) {
      ro.reuse = &cache_[chunk_index];
      ro.dirty_nodes = dirty;
    }
    auto out = m.exec->run({{m.input.input_name, x}}, ro);
    if (!out.ok()) {
      s.error = out.status().message();
      return s;
    }
    auto it = out->find(g->outputs[0].name);
    if (it == out->end()) {
      s.error = "the first output was not produced";
      return s;
    }
    Tensor y = it->second;
    if (!y.quant() && m.output_quant[0]) y.set_quant(*m.output_quant[0]);
    auto yf = y.to_f32();
    if (!yf.ok() || yf->rank() < 1 || yf->dim(0) != rows) {
      s.error = "the first output has no batch axis";
      return s;
    }
    const int64_t per = yf->numel() / rows;
    for (int64_t i = 0; i < count; ++i) {
      const size_t k = static_cast<size_t>(start + i);
      Tensor one(DType::kF32, {per});
      std::memcpy(one.raw(), yf->data<float>() + i * per, static_cast<size_t>(per) * sizeof(float));
      const Tensor& ref = src_out_[k];
      int t1 = argmax(one.data<float>(), per);
      double err = std::numeric_limits<double>::infinity();
      if (per == ref.numel()) {
        double mx = 0, mref = 0;
        bool nan = false;
        for (int64_t j = 0; j < per; ++j) {
          const double a = one.data<float>()[j], b = ref.data<float>()[j];
          if (std::isnan(a) != std::isnan(b)) nan = true;
          if (!std::isnan(a) && !std::isnan(b)) mx = std::max(mx, std::fabs(a - b));
          if (!std::isnan(b)) mref = std::max(mref, std::fabs(b));
        }
        err = nan ? std::numeric_limits<double>::infinity() : mx / std::max(mref, 1e-30);
      } else {
        t1 = -1;
      }
      s.top1.push_back(t1);
      const bool disc = t1 != src_top1_[k];
      if (disc) {
        ++s.discrepant;
        if (k < agreed_.size() && agreed_[k]) ++s.regressions;
      }
      err_sum += err;
      last_out_.push_back(std::move(one));
    }
  }
  (reuse ? partial_ : full_) += 1;
  s.ran = true;
  s.error_rel = n ? err_sum / static_cast<double>(n) : 0;
  return s;
}

void Verifier::accept(std::shared_ptr<const Graph> g, const std::string& preset, float crop) {
  const bool inputs_change = preset != preset_ || crop != crop_ || inputs_.empty();
  preset_ = preset;
  crop_ = crop;
  cache_.clear();
  if (inputs_change) inputs_.clear();
  CompareModelSpec spec = spec_;
  spec.preset = preset_;
  spec.crop_fraction = crop_;
  auto st = open_model(spec, o_->diagnose.compare, std::const_pointer_cast<Graph>(g), true);
  if (!st.ok()) return;
  ModelState& m = *st;
  // Input tensors for the current preset, one per chunk.
  const int64_t n = static_cast<int64_t>(images_.size());
  const int64_t step = m.input.batch > 0 ? m.input.batch : std::max(1, o_->diagnose.compare.batch);
  if (inputs_.empty()) {
    for (int64_t start = 0; start < n; start += step) {
      const int64_t count = std::min(step, n - start);
      auto x = chunk_input(m, images_, start, count, m.input.batch > 0 ? m.input.batch : count);
      if (!x.ok()) { inputs_.clear(); return; }
      inputs_.push_back(std::move(x).value());
    }
  }
  if (!caching_) return;
  // Every value of the accepted graph, per chunk, for re-execution.
  size_t total = 0;
  for (size_t k = 0; k < inputs_.size(); ++k) {
    ValueCache c;
    RunOptions ro;
    ro.keep_all = &c;
    auto out = m.exec->run({{m.input.input_name, inputs_[k]}}, ro);
    if (!out.ok()) { cache_.clear(); return; }
    total += cache_bytes(c);
    if (total * inputs_.size() / (k + 1) > kCacheBytes) {
      caching_ = false;
      cache_.clear();
      return;
    }
    cache_.push_back(std::move(c));
  }
}

}  // namespace convfix
