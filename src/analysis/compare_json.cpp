// The versioned JSON document of a comparison (schema in docs/DIAGNOSIS.md, "compare").
#include <cmath>

#include "convfix/compare.h"

namespace convfix {

namespace {

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json top_json(const std::vector<TopEntry>& top, const std::vector<std::string>& labels, int64_t classes) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : top) {
    nlohmann::json j{{"index", e.index}, {"score", number_or_null(e.score)}};
    if (auto l = label_for(labels, classes, e.index)) j["label"] = *l;
    a.push_back(j);
  }
  return a;
}

}  // namespace

nlohmann::json compare_result_to_json(const CompareResult& r, const std::vector<std::string>& labels) {
  nlohmann::json j;
  j["schema_version"] = kCompareSchemaVersion;
  j["command"] = "compare";
  j["top_k"] = r.top_k;
  j["image_count"] = r.images.size();
  j["models"] = nlohmann::json::array();
  for (size_t m = 0; m < r.models.size(); ++m) {
    const auto& mi = r.models[m];
    j["models"].push_back({{"index", m},
                           {"role", mi.role},
                           {"file", mi.path},
                           {"format", mi.format},
                           {"sha256", mi.sha256},
                           {"input",
                            {{"name", mi.input_name},
                             {"dtype", mi.input_dtype},
                             {"shape", mi.input_dims},
                             {"layout", mi.layout},
                             {"quant", mi.input_quant_scale ? nlohmann::json{{"scale", *mi.input_quant_scale},
                                                                             {"zero_point", mi.input_quant_zero_point}}
                                                            : nlohmann::json(nullptr)}}},
                           {"outputs_dequantized", mi.outputs_dequantized},
                           {"preprocess", {{"preset", mi.preset}, {"crop_fraction", mi.crop_fraction}}},
                           {"outputs", mi.output_names},
                           {"output_shape", mi.output_dims},
                           {"classification", mi.classification},
                           {"classes", mi.classes},
                           {"scores", mi.classification ? (mi.scores_softmax ? "softmax" : "model") : "none"},
                           {"cache_hits", mi.cache_hits},
                           {"computed", mi.computed}});
  }
  j["pairs"] = nlohmann::json::array();
  for (const auto& p : r.pairs) {
    nlohmann::json pj{{"a", p.a}, {"b", p.b}, {"kind", p.kind}, {"images", p.images}, {"topk_applies", p.topk_applies}};
    if (p.topk_applies) {
      pj["discrepant_images"] = p.discrepant;
      pj["discrepancy_rate"] = p.discrepancy_rate;
      pj["top1_agreement"] = p.images ? 1.0 - p.discrepancy_rate : 1.0;
      pj["tau"] = {{"mean", p.tau_stats.mean},     {"median", p.tau_stats.median}, {"min", p.tau_stats.min},
                   {"max", p.tau_stats.max},       {"p05", p.tau_stats.p05},       {"p25", p.tau_stats.p25},
                   {"below_one", p.tau_stats.below_one}};
    } else {
      pj["discrepancy_rate"] = nullptr;
      pj["note"] = p.topk_note;
    }
    pj["outputs"] = nlohmann::json::array();
    for (const auto& o : p.outputs) {
      nlohmann::json oj{{"output_a", o.output_a}, {"output_b", o.output_b}, {"shape_a", o.dims_a},
                        {"shape_b", o.dims_b},    {"shape_mismatch", o.shape_mismatch}};
      if (!o.shape_mismatch) {
        oj["elements"] = o.elements;
        oj["max_abs_diff"] = o.max_abs;
        oj["mean_abs_diff"] = o.mean_abs;
        oj["max_abs_a"] = o.max_ref;
        oj["rel_max_abs_diff"] = number_or_null(o.rel_max);
        oj["nan_mismatch"] = o.nan_mismatch;
      }
      pj["outputs"].push_back(oj);
    }
    j["pairs"].push_back(pj);
  }
  const ComparePair* st = r.pairs.empty() ? nullptr : &r.pairs.front();
  j["discrepancy_rate"] = st && st->topk_applies ? nlohmann::json(st->discrepancy_rate) : nlohmann::json(nullptr);
  std::vector<int64_t> first_changed(r.images.size(), -1);
  for (const auto& c : r.chain) first_changed[c.image] = static_cast<int64_t>(c.first_changed);
  j["images"] = nlohmann::json::array();
  for (size_t i = 0; i < r.images.size(); ++i) {
    const auto& row = r.images[i];
    nlohmann::json ij{{"file", row.file}, {"sha256", row.sha256}};
    nlohmann::json tops = nlohmann::json::array();
    for (size_t m = 0; m < row.top.size(); ++m)
      tops.push_back(r.models[m].classification ? top_json(row.top[m], labels, r.models[m].classes)
                                                : nlohmann::json(nullptr));
    ij["top"] = tops;
    if (st && st->topk_applies && i < st->tau.size()) {
      ij["top1_agree"] = st->top1_agree[i] != 0;
      ij["tau"] = st->tau[i];
    } else {
      ij["top1_agree"] = nullptr;
      ij["tau"] = nullptr;
    }
    if (r.models.size() > 2 && r.chain_applies)
      ij["first_changed"] = first_changed[i] >= 0 ? nlohmann::json(first_changed[i]) : nlohmann::json(nullptr);
    j["images"].push_back(ij);
  }
  if (r.models.size() > 2) {
    nlohmann::json cj{{"applies", r.chain_applies}};
    if (!r.chain_applies) cj["note"] = r.chain_note;
    cj["first_changed_counts"] = r.first_changed_counts;
    cj["rows"] = nlohmann::json::array();
    for (const auto& c : r.chain) {
      nlohmann::json labels_row = nlohmann::json::array();
      for (size_t m = 0; m < c.top1.size(); ++m) {
        nlohmann::json e{{"index", c.top1[m]}};
        if (auto l = label_for(labels, r.models[m].classes, c.top1[m])) e["label"] = *l;
        labels_row.push_back(e);
      }
      cj["rows"].push_back({{"image", c.image}, {"file", r.images[c.image].file}, {"top1", labels_row},
                            {"first_changed", c.first_changed}});
    }
    j["chain"] = cj;
  } else {
    j["chain"] = nullptr;
  }
  return j;
}

}  // namespace convfix
