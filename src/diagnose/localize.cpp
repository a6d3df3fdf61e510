// Localization: the findings of every stage turned into ranked suspects,
// each with its evidence, a one-sentence explanation and the repair that
// would address it (docs/DIAGNOSIS.md, "Suspects" gives the scores).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "diagnose/diagnose_internal.h"

namespace convfix {

namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

struct Names {
  std::string source, target;
};

Names names_of(const LocalizeInput& in, const AlignmentRow& r) {
  Names n;
  if (r.source_layer >= 0) n.source = in.src->layers[static_cast<size_t>(r.source_layer)].name;
  if (r.target_layer >= 0) n.target = in.tgt->layers[static_cast<size_t>(r.target_layer)].name;
  return n;
}

// "node 'x' (Op)" in an error message -> x.
std::string node_in_message(const std::string& m) {
  const auto p = m.find("node '");
  if (p == std::string::npos) return "";
  const auto q = m.find('\'', p + 6);
  return q == std::string::npos ? "" : m.substr(p + 6, q - p - 6);
}

std::string repair_for_pattern(const std::string& pattern) {
  if (pattern == "float16_rounding") return "copy the source's float32 weights into the target layer";
  if (pattern == "missing_bias") return "restore the source's bias in the target layer";
  if (pattern == "transposed") return "transpose the target's weights back (or flip Gemm transB)";
  if (pattern == "permuted") return "permute the dense weights' columns to the flatten order the target uses, or insert the missing Transpose before the flatten";
  return "copy the source's parameters into the target layer (converted to its layout and folding)";
}

}  // namespace

nlohmann::json rank_suspects(const LocalizeInput& in) {
  struct S {
    nlohmann::json j;
    double score;
    int row;
  };
  std::vector<S> out;
  auto add = [&](const std::string& cat, const Names& n, int row, nlohmann::json evidence, const std::string& expl,
                 const std::string& repair, double score) {
    nlohmann::json j = {{"category", cat},
                        {"source_node", n.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.source)},
                        {"target_node", n.target.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.target)},
                        {"row", row < 0 ? nlohmann::json(nullptr) : nlohmann::json(row)},
                        {"evidence", std::move(evidence)},
                        {"explanation", expl},
                        {"repair", repair},
                        {"score", std::round(std::min(1.0, score) * 1000) / 1000}};
    out.push_back({std::move(j), score, row < 0 ? 1 << 30 : row});
  };
  const auto& rows = in.align->rows;
  const auto& f = *in.rows;
  const int first = in.act ? in.act->first_divergent_row : -1;
  auto near_first = [&](int row) { return first >= 0 && row <= first && first - row <= 2; };

  // Static findings (attributes, weights) count before any run-time symptom.
  bool static_findings = false;
  for (const auto& r : rows)
    if (r.status == "matched") {
      const RowFindings& x = f[static_cast<size_t>(r.index)];
      if (!x.hp_diffs.empty() || (x.params_differ && x.p_pattern != "quantized")) static_findings = true;
    }
  bool input_differs = false;
  for (const auto& r : rows)
    if (r.status == "matched" && r.source_layer >= 0 &&
        in.src->layers[static_cast<size_t>(r.source_layer)].kind == "input")
      input_differs = input_differs || f[static_cast<size_t>(r.index)].above_noise;
  if (!in.target_error.empty()) {
    Names n;
    n.target = node_in_message(in.target_error);
    // A shape error is often the consequence of a changed attribute upstream
    // (lost padding shrinks a branch until an Add fails): those rank first.
    add("graph", n, -1, {{"summary", in.target_error}}, "The target model cannot run: " + in.target_error,
        "replace the failing node with an equivalent the runtime supports, or fix the shapes feeding it",
        static_findings ? 0.88 : 1.0);
  }
  if (in.preprocessing && in.preprocessing->value("best", nlohmann::json()).is_string()) {
    const std::string best = (*in.preprocessing)["best"];
    double rate = 0, base = in.preprocessing->value("baseline_discrepancy", 0.0);
    std::string desc;
    for (const auto& h : (*in.preprocessing)["hypotheses"])
      if (h.value("name", "") == best) {
        rate = h.value("discrepancy_rate", 0.0);
        desc = h.value("description", "");
      }
    Names n;
    for (const auto& r : rows)
      if (r.status == "matched" && in.src->layers[static_cast<size_t>(r.source_layer)].kind == "input") {
        n = names_of(in, r);
        break;
      }
    // Decisive when the inputs differ (the presets differ) or nothing else
    // was found; otherwise it competes with the findings by how much it removes.
    const double removed = base > 0 ? 1 - rate / base : 0;
    const double score = (input_differs || !static_findings) ? 0.97 : 0.5 + 0.35 * removed;
    add("preprocessing", n, -1,
        {{"summary", "discrepancy on the sample falls from " + fmt(base * 100) + "% to " + fmt(rate * 100) + "% with " + desc},
         {"baseline_discrepancy", base}, {"discrepancy_rate", rate}, {"hypothesis", best}},
        "The models agree when " + desc + ": the input pipeline, not the conversion, makes them differ.",
        "feed the target as the hypothesis says, or embed that preprocessing into the target", score);
  }
  bool finding_before_first = false;
  for (const auto& r : rows) {
    if (r.status != "matched") continue;
    const RowFindings& x = f[static_cast<size_t>(r.index)];
    const Names n = names_of(in, r);
    if (!x.hp_diffs.empty()) {
      std::string list;
      nlohmann::json diffs = nlohmann::json::array();
      for (const auto& d : x.hp_diffs) {
        list += (list.empty() ? "" : "; ") + d.name + " " + d.source + " -> " + d.target;
        diffs.push_back({{"name", d.name}, {"source", d.source}, {"target", d.target}});
      }
      add("hyperparameters", n, r.index, {{"summary", list}, {"differences", diffs}},
          "The target layer's " + x.hp_diffs[0].name + " differs from the source's (" + x.hp_diffs[0].source + " vs " +
              x.hp_diffs[0].target + ").",
          "set the target's " + x.hp_diffs[0].name + " from the source's, converted to the target's convention",
          0.9 + (near_first(r.index) ? 0.05 : 0));
      if (first < 0 || r.index <= first) finding_before_first = true;
    }
    if (x.params_differ && x.p_pattern != "quantized") {
      if (x.p_pattern == "permuted" && x.has_act && !x.above_noise) continue;  // faithful NHWC flatten
      const double strength = std::clamp(std::log10(std::max(x.p_rel_l2, 1e-12) / 1e-6) / 5.0, 0.0, 1.0);
      std::string what = x.p_pattern == "float16_rounding" ? "weights rounded to float16"
                         : x.p_pattern == "missing_bias"   ? "the bias is missing"
                         : x.p_pattern == "transposed"     ? "the weights are transposed"
                         : x.p_pattern == "permuted"       ? "the weight columns are in another flatten order"
                         : x.p_pattern == "scaled"         ? "the weights are scaled"
                                                           : "the parameters differ";
      add("parameters", n, r.index,
          {{"summary", what + ": mean |diff| " + fmt(x.p_mean_abs) + ", max |diff| " + fmt(x.p_max_abs) +
                           ", relative L2 " + fmt(x.p_rel_l2)},
           {"pattern", x.p_pattern}, {"mean_abs_diff", x.p_mean_abs}, {"max_abs_diff", x.p_max_abs},
           {"rel_l2", x.p_rel_l2}, {"cosine", x.p_cosine}},
          "In the target, " + what + " (relative L2 difference " + fmt(x.p_rel_l2) + ").",
          repair_for_pattern(x.p_pattern), 0.55 + 0.25 * strength + (near_first(r.index) ? 0.1 : 0));
      if (first < 0 || r.index <= first) finding_before_first = true;
    }
  }
  // Where the activations first leave the noise floor with nothing above to explain it.
  if (first >= 0 && !in.target_quantized) {
    const AlignmentRow& r = rows[static_cast<size_t>(first)];
    const RowFindings& x = f[static_cast<size_t>(first)];
    const Names n = names_of(in, r);
    const bool is_input = r.source_layer >= 0 && in.src->layers[static_cast<size_t>(r.source_layer)].kind == "input";
    std::string notes;
    for (const auto& s : x.structure) notes += (notes.empty() ? "" : "; ") + s;
    const double err = std::max(x.act_disc_rel, x.act_agree_rel);
    nlohmann::json ev = {{"summary", "activations first leave the noise floor here: relative error " + fmt(err) +
                                         " vs floor " + fmt(x.noise) + (notes.empty() ? "" : "; " + notes)},
                         {"rel_error", err}, {"noise_floor", x.noise}, {"structure", x.structure}};
    if (!finding_before_first) {
      const std::string cat = is_input ? "input" : "graph";
      add(cat, n, first, ev,
          is_input ? "The target's input differs from the source's before any layer runs (layout or preprocessing)."
                   : "The outputs of this layer differ beyond numerical noise although its parameters and hyperparameters match" +
                         std::string(notes.empty() ? "." : ": " + notes + "."),
          is_input ? "feed the target its input in the layout and preprocessing the source gets"
                   : "replace the target's nodes around this layer with the source's equivalent",
          notes.empty() ? 0.7 : 0.8);
    } else if (!notes.empty()) {
      add("graph", n, first, ev, "The target's structure around the first divergent layer differs: " + notes + ".",
          "check the inserted or replaced nodes around this layer", 0.4);
    }
  }
  // Inserted / removed layers near where the activations diverge.
  for (size_t k = 0; k < rows.size(); ++k) {
    const AlignmentRow& r = rows[k];
    if (r.status == "matched") continue;
    int next = -1;
    for (size_t m = k + 1; m < rows.size(); ++m)
      if (rows[m].status == "matched") { next = static_cast<int>(m); break; }
    const bool diverges = next >= 0 && f[static_cast<size_t>(next)].above_noise && !in.target_quantized;
    const bool no_act = !in.act || !in.act->ran;
    if (!diverges && !no_act) continue;
    const Names n = names_of(in, r);
    const std::string what = r.status == "inserted" ? "inserted in the target" : "removed from the source";
    add("graph", n, r.index, {{"summary", "layer " + what}, {"status", r.status}},
        "A layer was " + what + (diverges ? " and the activations after it differ." : "."),
        r.status == "inserted" ? "remove the inserted node if it is redundant" : "restore the source's layer in the target",
        diverges ? (next == first ? 0.75 : 0.5) : 0.3);
  }
  // Quantized targets: an input quantization that cannot hold the source's
  // preprocessed values (e.g. scale 1 for inputs in [0, 1]) is an input
  // fault; elsewhere, where the quantization error grows most.
  if (in.target_quantized && in.act && in.act->ran) {
    std::vector<std::pair<double, int>> growth;
    double prev = 0;
    for (const auto& r : rows) {
      const RowFindings& x = f[static_cast<size_t>(r.index)];
      if (r.status != "matched" || !x.has_act) continue;
      if (in.src->layers[static_cast<size_t>(r.source_layer)].kind == "input") {
        const double e = std::max(x.act_disc_rel, x.act_agree_rel);
        if (e > 0.05) {
          add("input", names_of(in, r), r.index,
              {{"summary", "the quantized input differs from the source's input by a relative error of " + fmt(e) +
                               " (SQNR " + fmt(-20 * std::log10(e)) + " dB)"},
               {"rel_error", e}},
              "The target's input quantization cannot represent the values the source's preprocessing produces: "
              "the target expects another input range.",
              "feed the target the input range its quantization parameters expect (e.g. the raw preset for scale 1)",
              0.85);
        }
        prev = e;
        continue;
      }
      const double e = std::max(x.act_disc_rel, x.act_agree_rel);
      growth.push_back({e - prev, r.index});
      prev = e;
    }
    std::sort(growth.begin(), growth.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (size_t i = 0; i < std::min<size_t>(3, growth.size()); ++i) {
      const AlignmentRow& r = rows[static_cast<size_t>(growth[i].second)];
      const RowFindings& x = f[static_cast<size_t>(r.index)];
      const double e = std::max(x.act_disc_rel, x.act_agree_rel);
      const double sqnr = e > 0 ? -20 * std::log10(e) : 999;
      add("quantization", names_of(in, r), r.index,
          {{"summary", "relative error grows by " + fmt(growth[i].first) + " here (SQNR " + fmt(sqnr) + " dB)"},
           {"error_growth", growth[i].first}, {"sqnr_db", sqnr}},
          "Quantization error grows most at this layer (an expected effect of quantization, not a converter fault).",
          "keep this layer in float (--allow-dequantize) if the accuracy loss matters", 0.3 - 0.01 * static_cast<double>(i));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const S& a, const S& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.row < b.row;
  });
  nlohmann::json arr = nlohmann::json::array();
  int rank = 1;
  for (auto& s : out) {
    s.j["rank"] = rank++;
    arr.push_back(std::move(s.j));
  }
  return arr;
}

}  // namespace convfix
