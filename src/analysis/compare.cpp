// Differential testing of a model chain over images (contract in convfix/compare.h).
#include "convfix/compare.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>

#include "convfix/executor.h"
#include "convfix/fileio.h"
#include "convfix/image.h"
#include "convfix/model_io.h"
#include "convfix/output_cache.h"
#include "convfix/scores.h"
#include "convfix/sha256.h"
#include "analysis/model_session.h"

namespace convfix {

namespace {

struct PairAccum {
  struct Out {
    double max_abs = 0, sum_abs = 0, max_ref = 0;
    int64_t elements = 0, nan_mismatch = 0;
  };
  std::vector<Out> outs;
};

std::vector<int64_t> input_dims_of(const ImageInputSpec& s) {
  return s.layout == Layout::kNCHW ? std::vector<int64_t>{s.batch, s.channels, s.height, s.width}
                                   : std::vector<int64_t>{s.batch, s.height, s.width, s.channels};
}

std::string size_text(const ImageInputSpec& s) {
  return std::to_string(s.channels) + "-channel " + std::to_string(s.height) + "x" + std::to_string(s.width);
}

// Runs `images` through one model; returns per image the outputs with batch 1.
Expected<std::vector<CachedOutputs>> run_images(ModelState& m, const std::vector<const Image*>& images,
                                                int64_t max_batch) {
  std::vector<CachedOutputs> result;
  const int64_t n = static_cast<int64_t>(images.size());
  const int64_t step = m.input.batch > 0 ? m.input.batch : std::max<int64_t>(1, max_batch);
  for (int64_t start = 0; start < n; start += step) {
    const int64_t count = std::min(step, n - start);
    std::vector<Image> chunk;
    for (int64_t i = start; i < start + count; ++i) chunk.push_back(*images[static_cast<size_t>(i)]);
    const int64_t rows = m.input.batch > 0 ? m.input.batch : count;
    CONVFIX_ASSIGN_OR_RETURN(Tensor x, make_model_input(m, chunk, rows));
    chunk.clear();
    TensorMap feeds{{m.input.input_name, std::move(x)}};
    auto out = m.exec->run(feeds);
    if (!out.ok()) return run_failure(m, out.status());
    std::vector<Tensor> per_output;
    for (const auto& vi : m.graph->outputs) {
      auto it = out->find(vi.name);
      if (it == out->end()) return internal_error(m.spec.path + ": output '" + vi.name + "' was not produced");
      const Tensor& y = it->second;
      if (y.rank() < 1 || y.dim(0) != rows)
        return shape_error(m.spec.path + ": output '" + vi.name + "' has shape " + dims_to_string(y.dims()) +
                           "; expected the batch (" + std::to_string(rows) + ") first");
      // Integer outputs are compared in their real-valued view, (q - zero_point) * scale:
      // to_f32() dequantizes a tensor that carries its parameters; others get the graph's.
      Tensor yq = y;
      const auto& oq = m.output_quant[per_output.size()];
      if (!yq.quant() && oq) yq.set_quant(oq);
      auto yf = yq.to_f32();
      if (!yf.ok()) return yf.status().with_context(m.spec.path + ": output '" + vi.name + "'");
      per_output.push_back(std::move(yf).value());
    }
    for (int64_t i = 0; i < count; ++i) {
      CachedOutputs co;
      for (size_t o = 0; o < per_output.size(); ++o) {
        const Tensor& y = per_output[o];
        std::vector<int64_t> dims = y.dims();
        dims[0] = 1;
        Tensor one(DType::kF32, dims);
        const size_t bytes = one.nbytes();
        if (bytes)
          std::memcpy(one.raw(), static_cast<const uint8_t*>(y.raw()) + static_cast<size_t>(i) * bytes, bytes);
        co.names.push_back(m.graph->outputs[o].name);
        co.tensors.push_back(std::move(one));
      }
      result.push_back(std::move(co));
    }
  }
  return result;
}

// Checks that a model's outputs keep one shape per image (the first image fixes it).
Status check_output_dims(ModelState& m, const CachedOutputs& co, const std::string& image) {
  std::vector<std::vector<int64_t>> dims;
  for (const auto& t : co.tensors) dims.push_back(t.dims());
  if (!m.have_output_dims) {
    if (dims.empty()) return invalid_model(m.spec.path + ": the model has no outputs");
    m.output_dims = dims;
    m.have_output_dims = true;
    return Status::OK();
  }
  if (dims != m.output_dims)
    return shape_error(m.spec.path + ": outputs change shape between images (" + image + ")");
  return Status::OK();
}

bool classification_like(const std::vector<int64_t>& per_image_dims) {
  return per_image_dims.size() == 2 && per_image_dims[0] == 1 && per_image_dims[1] >= 2;
}

}  // namespace

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  q = std::clamp(q, 0.0, 1.0);
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  const double f = pos - static_cast<double>(lo);
  return v[lo] + (v[hi] - v[lo]) * f;
}

TauStats tau_stats(const std::vector<double>& taus) {
  TauStats s;
  s.count = static_cast<int64_t>(taus.size());
  if (taus.empty()) return s;
  double sum = 0;
  s.min = taus.front();
  s.max = taus.front();
  for (double t : taus) {
    sum += t;
    s.min = std::min(s.min, t);
    s.max = std::max(s.max, t);
    s.below_one += t < 1.0;
  }
  s.mean = sum / static_cast<double>(taus.size());
  s.median = quantile(taus, 0.5);
  s.p05 = quantile(taus, 0.05);
  s.p25 = quantile(taus, 0.25);
  return s;
}

Expected<std::vector<std::string>> read_label_file(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return text.status();
  std::vector<std::string> labels;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
  }
  while (!labels.empty() && labels.back().empty()) labels.pop_back();
  if (labels.empty()) return invalid_argument(path + ": label file is empty");
  return labels;
}

std::optional<std::string> label_for(const std::vector<std::string>& labels, int64_t classes, int64_t index) {
  if (labels.empty() || index < 0) return std::nullopt;
  const bool background = static_cast<int64_t>(labels.size()) + 1 == classes;
  if (background && index == 0) return std::string("background");
  const int64_t li = index - (background ? 1 : 0);
  if (li >= 0 && li < static_cast<int64_t>(labels.size())) return labels[static_cast<size_t>(li)];
  return std::nullopt;
}

Expected<CompareResult> compare_models(const CompareOptions& o, const CompareProgress& progress) {
  if (o.models.size() < 2) return invalid_argument("compare: give a source and a target model");
  if (o.top_k < 1) return invalid_argument("compare: top-k must be at least 1");
  CONVFIX_ASSIGN_OR_RETURN(std::vector<std::string> files, collect_image_files(o.images));
  for (const auto& f : files) {
    auto info = read_image_info(f);
    if (!info.ok()) return info.status();
  }

  CompareResult r;
  r.top_k = o.top_k;
  std::vector<ModelState> models;
  for (const auto& spec : o.models) {
    CONVFIX_ASSIGN_OR_RETURN(ModelState st, open_model(spec, o));
    CompareModelInfo info;
    info.path = spec.path;
    info.role = spec.role;
    info.format = st.graph->info.format;
    CONVFIX_ASSIGN_OR_RETURN(info.sha256, sha256_path(spec.path));
    info.input_name = st.input.input_name;
    info.input_dims = input_dims_of(st.input);
    info.layout = layout_name(st.input.layout);
    info.preset = st.preset.name;
    info.crop_fraction = st.preset.crop_fraction;
    for (const auto& vi : st.graph->outputs) info.output_names.push_back(vi.name);
    if (st.input_quant) {
      info.input_quant_scale = st.input_quant->scale[0];
      info.input_quant_zero_point = st.input_quant->zero_point.empty() ? 0 : st.input_quant->zero_point[0];
    }
    info.input_dtype = dtype_name(st.input.dtype);
    for (const auto& q : st.output_quant) info.outputs_dequantized |= q.has_value();
    if (!models.empty()) {
      const ImageInputSpec& a = models.front().input;
      const ImageInputSpec& b = st.input;
      if (a.channels != b.channels || a.height != b.height || a.width != b.width)
        return invalid_argument(spec.path + ": input '" + b.input_name + "' takes " + size_text(b) + " images (" +
                                shape_to_string(st.graph->inputs[0].shape) + ") but " + o.models.front().path +
                                " takes " + size_text(a) + " images (" +
                                shape_to_string(models.front().graph->inputs[0].shape) +
                                "); compare feeds every model the same pictures");
    }
    r.models.push_back(std::move(info));
    models.push_back(std::move(st));
  }
  const size_t nm = models.size();

  // Pairs: source-target, then each step of the chain, then source-to-via beyond the first step.
  auto add_pair = [&](size_t a, size_t b, const char* kind) {
    ComparePair p;
    p.a = a;
    p.b = b;
    p.kind = kind;
    r.pairs.push_back(std::move(p));
  };
  add_pair(0, nm - 1, "source-target");
  if (nm > 2) {
    for (size_t i = 0; i + 1 < nm; ++i) add_pair(i, i + 1, "step");
    for (size_t i = 2; i + 1 < nm; ++i) add_pair(0, i, "source-via");
  }
  std::vector<PairAccum> acc(r.pairs.size());

  OutputCache cache(o.cache_dir);
  const int64_t n_images = static_cast<int64_t>(files.size());
  const int64_t chunk = std::max(1, o.batch);
  std::vector<std::vector<int64_t>> top1(nm);  // per model, per image (-1 when not classification)
  bool first_chunk = true;

  for (int64_t start = 0; start < n_images; start += chunk) {
    const int64_t count = std::min(chunk, n_images - start);
    std::vector<std::string> bytes(static_cast<size_t>(count)), hashes(static_cast<size_t>(count));
    std::vector<std::optional<Image>> decoded(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      const std::string& f = files[static_cast<size_t>(start + i)];
      CONVFIX_ASSIGN_OR_RETURN(bytes[static_cast<size_t>(i)], read_file(f));
      hashes[static_cast<size_t>(i)] = sha256_hex(bytes[static_cast<size_t>(i)]);
    }
    // outs[m][i]
    std::vector<std::vector<CachedOutputs>> outs(nm, std::vector<CachedOutputs>(static_cast<size_t>(count)));
    for (size_t m = 0; m < nm; ++m) {
      std::vector<size_t> missing;
      std::vector<std::string> keys(static_cast<size_t>(count));
      for (int64_t i = 0; i < count; ++i) {
        const size_t ii = static_cast<size_t>(i);
        keys[ii] = output_cache_key(r.models[m].sha256, models[m].prep_key, hashes[ii]);
        auto hit = cache.load(keys[ii]);
        if (hit && hit->tensors.size() == models[m].graph->outputs.size()) {
          outs[m][ii] = std::move(*hit);
          ++r.models[m].cache_hits;
        } else {
          missing.push_back(ii);
        }
      }
      if (missing.empty()) continue;
      std::vector<const Image*> imgs;
      for (size_t ii : missing) {
        if (!decoded[ii]) {
          auto img = decode_image(bytes[ii], files[static_cast<size_t>(start) + ii]);
          if (!img.ok()) return img.status();
          decoded[ii] = std::move(img).value();
        }
        imgs.push_back(&*decoded[ii]);
      }
      auto computed = run_images(models[m], imgs, chunk);
      if (!computed.ok()) return computed.status();
      for (size_t j = 0; j < missing.size(); ++j) {
        outs[m][missing[j]] = std::move((*computed)[j]);
        CONVFIX_RETURN_IF_ERROR(cache.store(keys[missing[j]], outs[m][missing[j]]));
        ++r.models[m].computed;
      }
    }
    for (auto& b : bytes) std::string().swap(b);

    for (int64_t i = 0; i < count; ++i) {
      const size_t ii = static_cast<size_t>(i);
      const std::string& file = files[static_cast<size_t>(start + i)];
      for (size_t m = 0; m < nm; ++m) CONVFIX_RETURN_IF_ERROR(check_output_dims(models[m], outs[m][ii], file));
      if (first_chunk && i == 0) {
        for (size_t m = 0; m < nm; ++m) {
          r.models[m].output_dims = models[m].output_dims[0];
          r.models[m].classification = classification_like(models[m].output_dims[0]);
          r.models[m].classes = r.models[m].classification ? models[m].output_dims[0][1] : 0;
        }
        for (auto& p : r.pairs) {
          const auto& A = r.models[p.a];
          const auto& B = r.models[p.b];
          if (!A.classification || !B.classification)
            p.topk_note = "top-k does not apply: the first output of " +
                          (!A.classification ? A.path + " is " + dims_to_string(A.output_dims)
                                             : B.path + " is " + dims_to_string(B.output_dims)) +
                          " per image, not [1, classes]";
          else if (A.classes != B.classes)
            p.topk_note = "top-k does not apply: " + A.path + " has " + std::to_string(A.classes) + " classes, " +
                          B.path + " has " + std::to_string(B.classes);
          p.topk_applies = p.topk_note.empty();
          const size_t no = std::min(models[p.a].output_dims.size(), models[p.b].output_dims.size());
          for (size_t k = 0; k < no; ++k) {
            OutputErrorStats es;
            es.output_a = models[p.a].graph->outputs[k].name;
            es.output_b = models[p.b].graph->outputs[k].name;
            es.dims_a = models[p.a].output_dims[k];
            es.dims_b = models[p.b].output_dims[k];
            es.shape_mismatch = es.dims_a != es.dims_b;
            p.outputs.push_back(es);
          }
          acc[static_cast<size_t>(&p - r.pairs.data())].outs.resize(no);
        }
      }
      CompareImageRow row;
      row.file = file;
      row.sha256 = hashes[ii];
      row.top.resize(nm);
      for (size_t m = 0; m < nm; ++m) {
        int64_t t1 = -1;
        if (r.models[m].classification) {
          const Tensor& y = outs[m][ii].tensors[0];
          const float* d = y.data<float>();
          const size_t n = static_cast<size_t>(y.numel());
          std::vector<float> scores(d, d + n);
          if (!looks_like_probabilities(scores.data(), n)) {
            softmax_inplace(scores);
            r.models[m].scores_softmax = true;
          }
          // Rank on the raw output (softmax can tie distinct logits in float).
          for (size_t idx : top_k(d, n, static_cast<size_t>(o.top_k)))
            row.top[m].push_back(TopEntry{static_cast<int64_t>(idx), scores[idx]});
          if (!row.top[m].empty()) t1 = row.top[m][0].index;
        }
        top1[m].push_back(t1);
      }
      for (size_t pi = 0; pi < r.pairs.size(); ++pi) {
        ComparePair& p = r.pairs[pi];
        ++p.images;
        if (p.topk_applies) {
          std::vector<int64_t> la, lb;
          for (const auto& e : row.top[p.a]) la.push_back(e.index);
          for (const auto& e : row.top[p.b]) lb.push_back(e.index);
          const bool agree = !la.empty() && !lb.empty() && la[0] == lb[0];
          p.top1_agree.push_back(agree ? 1 : 0);
          p.discrepant += agree ? 0 : 1;
          p.tau.push_back(kendall_tau_topk(la, lb));
        }
        for (size_t k = 0; k < p.outputs.size(); ++k) {
          if (p.outputs[k].shape_mismatch) continue;
          const Tensor& ta = outs[p.a][ii].tensors[k];
          const Tensor& tb = outs[p.b][ii].tensors[k];
          const float* da = ta.data<float>();
          const float* db = tb.data<float>();
          auto& s = acc[pi].outs[k];
          const int64_t n = ta.numel();
          for (int64_t e = 0; e < n; ++e) {
            const float x = da[e], y = db[e];
            if (std::isnan(x) || std::isnan(y)) {
              s.nan_mismatch += std::isnan(x) != std::isnan(y);
              continue;
            }
            const double diff = std::abs(static_cast<double>(x) - static_cast<double>(y));
            s.max_abs = std::max(s.max_abs, diff);
            s.sum_abs += diff;
            s.max_ref = std::max(s.max_ref, std::abs(static_cast<double>(x)));
            ++s.elements;
          }
        }
      }
      r.images.push_back(std::move(row));
    }
    first_chunk = false;
    if (progress) progress(start + count, n_images);
  }

  for (size_t pi = 0; pi < r.pairs.size(); ++pi) {
    ComparePair& p = r.pairs[pi];
    if (p.topk_applies && p.images > 0) p.discrepancy_rate = static_cast<double>(p.discrepant) / static_cast<double>(p.images);
    p.tau_stats = tau_stats(p.tau);
    for (size_t k = 0; k < p.outputs.size(); ++k) {
      const auto& s = acc[pi].outs[k];
      auto& es = p.outputs[k];
      es.elements = s.elements;
      es.nan_mismatch = s.nan_mismatch;
      es.max_abs = s.max_abs;
      es.mean_abs = s.elements ? s.sum_abs / static_cast<double>(s.elements) : 0;
      es.max_ref = s.max_ref;
      es.rel_max = s.max_ref > 0 ? s.max_abs / s.max_ref : (s.max_abs > 0 ? INFINITY : 0);
    }
  }

  if (nm > 2) {
    bool all_class = true;
    for (const auto& m : r.models) all_class &= m.classification && m.classes == r.models.front().classes;
    r.chain_applies = all_class;
    if (!all_class) r.chain_note = "the chain table needs every model to give the same classes";
    r.first_changed_counts.assign(nm, 0);
    if (all_class) {
      for (size_t i = 0; i < r.images.size(); ++i) {
        if (top1[0][i] == top1[nm - 1][i]) continue;
        ChainRow row;
        row.image = i;
        for (size_t m = 0; m < nm; ++m) row.top1.push_back(top1[m][i]);
        for (size_t m = 1; m < nm; ++m)
          if (row.top1[m] != row.top1[0]) {
            row.first_changed = m;
            break;
          }
        ++r.first_changed_counts[row.first_changed];
        r.chain.push_back(std::move(row));
      }
    }
  }
  return r;
}

}  // namespace convfix
