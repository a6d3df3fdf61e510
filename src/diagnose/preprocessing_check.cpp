// Preprocessing hypotheses: would the target agree with the source if it
// were fed differently? Each hypothesis re-runs the target on a sample of
// images (the discrepant ones first) with another preprocessing and counts
// the remaining discrepancies (docs/DIAGNOSIS.md, "Preprocessing").
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "convfix/preprocess.h"
#include "diagnose/diagnose_internal.h"

namespace convfix {

nlohmann::json test_preprocessing(const DiagnoseOptions& o, const CompareResult& cmp,
                                  const std::vector<std::string>& files, const DiagnoseProgress& progress) {
  nlohmann::json j = {{"tested", false}, {"note", ""}, {"sample_images", 0}, {"baseline_discrepancy", nullptr},
                      {"hypotheses", nlohmann::json::array()}, {"best", nullptr}};
  if (cmp.pairs.empty() || !cmp.pairs[0].topk_applies) {
    j["note"] = "top-1 does not apply to these outputs";
    return j;
  }
  const ComparePair& p = cmp.pairs[0];
  if (p.discrepant == 0) {
    j["note"] = "no image disagrees: nothing for a preprocessing change to explain";
    return j;
  }
  // Sample: every discrepant image up to the sample size, then agreeing ones.
  std::vector<size_t> sample;
  for (size_t i = 0; i < p.top1_agree.size() && static_cast<int>(sample.size()) < o.preprocessing_sample; ++i)
    if (!p.top1_agree[i]) sample.push_back(i);
  const size_t n_disc = sample.size();
  for (size_t i = 0; i < p.top1_agree.size() && static_cast<int>(sample.size()) < o.preprocessing_sample + 8; ++i)
    if (p.top1_agree[i]) sample.push_back(i);
  std::sort(sample.begin(), sample.end());
  std::vector<std::string> sample_files;
  for (size_t i : sample) sample_files.push_back(files[i]);
  const double baseline = static_cast<double>(n_disc) / static_cast<double>(sample.size());
  j["sample_images"] = sample.size();
  j["baseline_discrepancy"] = baseline;

  const CompareModelSpec& S = o.compare.models.front();
  const CompareModelSpec& T = o.compare.models.back();
  struct Hyp { std::string name, description, preset; };
  std::vector<Hyp> hyps;
  if (T.preset != S.preset)
    hyps.push_back({"target_uses_source_preprocessing",
                    "the target fed exactly as the source (" + S.preset + " instead of " + T.preset + ")", S.preset});
  for (const auto& name : preset_names())
    if (name != T.preset && name != S.preset)
      hyps.push_back({"target_expects_" + name, "the target fed with the " + name + " preset", name});
  hyps.push_back({"target_expects_swapped_channels",
                  "the target fed " + T.preset + " with red and blue swapped (RGB vs BGR)", T.preset + "+swap-rb"});
  if (T.preset != S.preset)
    hyps.push_back({"target_expects_source_preprocessing_swapped",
                    "the target fed " + S.preset + " with red and blue swapped", S.preset + "+swap-rb"});

  // The source's outputs on the sample are the same for every hypothesis:
  // with the cache off, a temporary one serves them after the first run.
  std::string temp_cache;
  if (o.compare.cache_dir.empty()) {
    std::error_code ec;
    const auto base = std::filesystem::temp_directory_path(ec);
    if (!ec) {
      for (int k = 0; k < 100 && temp_cache.empty(); ++k) {
        auto d = base / ("convfix-diagnose-" + std::to_string(::getpid()) + "-" + std::to_string(k));
        if (std::filesystem::create_directory(d, ec) && !ec) temp_cache = d.string();
      }
    }
  }
  double best_rate = 2;
  std::string best;
  for (const auto& h : hyps) {
    if (progress) progress("preprocessing: " + h.name);
    CompareOptions co = o.compare;
    if (!temp_cache.empty()) co.cache_dir = temp_cache;
    co.images = sample_files;
    CompareModelSpec t = T;
    t.preset = h.preset;
    t.crop_fraction = 0;
    co.models = {S, t};
    auto r = compare_models(co);
    nlohmann::json row = {{"name", h.name}, {"description", h.description}, {"preset", h.preset}};
    if (!r.ok() || r->pairs.empty() || !r->pairs[0].topk_applies) {
      row["discrepancy_rate"] = nullptr;
      row["explains"] = false;
      row["error"] = r.ok() ? "top-1 does not apply" : r.status().message();
    } else {
      const double rate = r->pairs[0].discrepancy_rate;
      row["discrepancy_rate"] = rate;
      const bool explains = baseline > 0 && rate <= 0.2 * baseline;
      row["explains"] = explains;
      if (rate < best_rate) {
        best_rate = rate;
        if (explains) best = h.name;
      }
    }
    j["hypotheses"].push_back(row);
  }
  if (!temp_cache.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_cache, ec);
  }
  j["tested"] = true;
  if (!best.empty()) {
    j["best"] = best;
    j["note"] = "a different preprocessing removes most of the discrepancies";
  } else {
    j["note"] = "no preprocessing hypothesis removes most of the discrepancies";
  }
  return j;
}

}  // namespace convfix
