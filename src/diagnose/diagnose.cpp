// diagnose_models(): the stages in order, and the JSON document
// (contract in convfix/diagnose.h; definitions in docs/DIAGNOSIS.md).
#include "convfix/diagnose.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "convfix/image.h"
#include "convfix/model_io.h"
#include "diagnose/diagnose_internal.h"

namespace convfix {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A model that loads but cannot run is a finding; anything else is an error.
bool is_run_failure(const Status& s) {
  return s.code() == StatusCode::kNotImplemented || s.code() == StatusCode::kShapeError ||
         s.code() == StatusCode::kInternal;
}

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v * 100);
  return buf;
}

nlohmann::json alignment_json(const LayerGraph& src, const LayerGraph& tgt, const Alignment& a) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : a.rows) {
    nlohmann::json j = {{"index", r.index}, {"status", r.status}, {"confidence", r.confidence},
                        {"method", r.method}, {"layout", r.layout}};
    // The same fields for each side: "<side>_node", "_op", "_kind", "_nodes".
    auto side = [&](const char* name, const LayerGraph& lg, int id) {
      const std::string p = name;
      if (id < 0) {
        j[p + "_node"] = nullptr;
        j[p + "_op"] = nullptr;
        j[p + "_nodes"] = nlohmann::json::array();
        return;
      }
      const Layer& l = lg.layers[static_cast<size_t>(id)];
      j[p + "_node"] = l.name;
      j[p + "_op"] = l.kind == "input" ? "input" : l.op;
      j[p + "_kind"] = l.kind;
      j[p + "_nodes"] = lg.node_names(l);
    };
    side("source", src, r.source_layer);
    side("target", tgt, r.target_layer);
    rows.push_back(std::move(j));
  }
  return {{"rows", rows}, {"matched", a.matched}, {"removed", a.removed}, {"inserted", a.inserted},
          {"source_layers", src.layers.size()}, {"target_layers", tgt.layers.size()}};
}

nlohmann::json layer_json(const AlignmentRow& r, const LayerGraph& src, const LayerGraph& tgt, const RowFindings& x) {
  nlohmann::json j = {{"row", r.index}};
  j["source_node"] = r.source_layer >= 0 ? nlohmann::json(src.layers[static_cast<size_t>(r.source_layer)].name) : nlohmann::json(nullptr);
  j["target_node"] = r.target_layer >= 0 ? nlohmann::json(tgt.layers[static_cast<size_t>(r.target_layer)].name) : nlohmann::json(nullptr);
  j["op"] = r.source_layer >= 0 ? src.layers[static_cast<size_t>(r.source_layer)].kind
                                : tgt.layers[static_cast<size_t>(r.target_layer)].kind;
  if (x.has_params) {
    j["parameters"] = {{"mean_abs_diff", x.p_mean_abs}, {"max_abs_diff", x.p_max_abs}, {"rel_l2", x.p_rel_l2},
                       {"cosine", x.p_cosine}, {"elements", x.p_elements},
                       {"pattern", x.p_pattern.empty() ? nlohmann::json(nullptr) : nlohmann::json(x.p_pattern)},
                       {"differ", x.params_differ}, {"note", x.p_note}, {"tensors", x.p_tensors}};
    if (x.p_pattern == "quantized") j["parameters"]["sqnr_db"] = x.p_sqnr_db;
  } else {
    j["parameters"] = nullptr;
  }
  nlohmann::json diffs = nlohmann::json::array();
  for (const auto& d : x.hp_diffs) diffs.push_back({{"name", d.name}, {"source", d.source}, {"target", d.target}});
  j["hyperparameters"] = {{"compared", x.hp_compared}, {"differences", diffs}};
  if (x.has_act) {
    j["activations"] = {{"discrepant_mean_abs_diff", x.act_disc_mad}, {"discrepant_rel_error", x.act_disc_rel},
                        {"agreeing_mean_abs_diff", x.act_agree_mad}, {"agreeing_rel_error", x.act_agree_rel},
                        {"noise_floor", x.noise}, {"above_noise", x.above_noise}, {"per_image", x.act_per_image}};
  } else {
    j["activations"] = nullptr;
  }
  j["structure"] = x.structure;
  return j;
}

}  // namespace

Expected<nlohmann::json> diagnose_models(const DiagnoseOptions& o, const DiagnoseProgress& progress) {
  const auto t0 = Clock::now();
  auto say = [&](const std::string& s) { if (progress) progress(s); };
  if (o.compare.models.size() < 2) return invalid_argument("diagnose: give a source and a target model");
  const CompareModelSpec& S = o.compare.models.front();
  const CompareModelSpec& T = o.compare.models.back();
  CONVFIX_ASSIGN_OR_RETURN(std::vector<std::string> files, collect_image_files(o.compare.images));
  for (const auto& f : files) {
    auto info = read_image_info(f);
    if (!info.ok()) return info.status();
  }

  nlohmann::json errors = nlohmann::json::array();
  std::string source_error, target_error;
  say("loading models");
  auto sg = load_model(S.path);
  if (!sg.ok()) return sg.status();
  auto tg = load_model(T.path);
  if (!tg.ok()) return tg.status();
  auto src_graph = std::make_shared<Graph>(std::move(sg).value());
  auto tgt_graph = std::make_shared<Graph>(std::move(tg).value());

  auto open = [&](const CompareModelSpec& m, std::shared_ptr<Graph> g, std::string* err) -> Expected<std::optional<ModelState>> {
    auto st = open_model(m, o.compare, g, true);
    if (st.ok()) return std::optional<ModelState>(std::move(st).value());
    if (!is_run_failure(st.status())) return st.status();
    *err = st.status().message();
    return std::optional<ModelState>();
  };
  CONVFIX_ASSIGN_OR_RETURN(std::optional<ModelState> source, open(S, src_graph, &source_error));
  CONVFIX_ASSIGN_OR_RETURN(std::optional<ModelState> target, open(T, tgt_graph, &target_error));

  // 1. compare (and the chain table with --via).
  std::optional<CompareResult> cmp;
  const auto t_cmp = Clock::now();
  if (source && target) {
    say("compare");
    auto r = compare_models(o.compare);
    if (r.ok()) {
      cmp = std::move(r).value();
    } else if (is_run_failure(r.status())) {
      const std::string m = r.status().message();
      (m.rfind(S.path, 0) == 0 ? source_error : target_error) = m;
    } else {
      return r.status();
    }
  }
  const double time_compare = since(t_cmp);

  // 2. shapes of every value on one image.
  const auto t_static = Clock::now();
  ValueDims ss, ts;
  if (source && source_error.empty() && !files.empty()) {
    auto d = probe_shapes(*source, files.front());
    if (d.ok()) ss = std::move(d).value();
    else source_error = d.status().message();
  }
  if (target && !files.empty()) {
    // Also after compare failed: the values before the failing node still
    // make SAME pads and sizes concrete for the static analyses.
    auto d = probe_shapes(*target, files.front(), &ts);
    if (d.ok()) ts = std::move(d).value();
    else if (target_error.empty()) target_error = d.status().message();
  }
  if (!source_error.empty()) errors.push_back({{"stage", "source"}, {"message", source_error}});
  if (!target_error.empty()) errors.push_back({{"stage", "target"}, {"message", target_error}});

  // 3. layers and alignment; 4-5. parameters and hyperparameters (always).
  say("alignment");
  LayerGraph src = build_layers(*src_graph, ss.empty() ? nullptr : &ss);
  LayerGraph tgt = build_layers(*tgt_graph, ts.empty() ? nullptr : &ts);
  Alignment align = align_layers(src, tgt, ss.empty() ? nullptr : &ss, ts.empty() ? nullptr : &ts);
  std::vector<RowFindings> f(align.rows.size());
  say("parameters and hyperparameters");
  bool target_quantized = cmp && (cmp->models.back().outputs_dequantized || cmp->models.back().input_quant_scale);
  for (const auto& r : align.rows) {
    if (r.status != "matched") continue;
    const Layer& sl = src.layers[static_cast<size_t>(r.source_layer)];
    const Layer& tl = tgt.layers[static_cast<size_t>(r.target_layer)];
    RowFindings& x = f[static_cast<size_t>(r.index)];
    compare_parameters(*src_graph, sl, ss, *tgt_graph, tl, ts, x);
    compare_hyperparameters(*src_graph, sl, ss, *tgt_graph, tl, ts, r.layout, x);
    x.structure = structure_notes(src, sl, tgt, tl);
    if (x.target_quantized) target_quantized = true;
  }
  const double time_static = since(t_static);

  // 1b. preprocessing hypotheses.
  const auto t_pre = Clock::now();
  nlohmann::json pre = {{"tested", false}, {"note", "the models could not both run"}, {"sample_images", 0},
                        {"baseline_discrepancy", nullptr}, {"hypotheses", nlohmann::json::array()}, {"best", nullptr}};
  if (cmp && o.preprocessing) pre = test_preprocessing(o, *cmp, files, say);
  else if (cmp) pre["note"] = "not requested";
  const double time_pre = since(t_pre);

  // 6. activations on the most discrepant and on agreeing images.
  const auto t_act = Clock::now();
  ActivationResult act;
  act.note = "the models could not both run";
  if (cmp && source && target && source_error.empty() && target_error.empty()) {
    say("activations");
    std::vector<size_t> disc, agree;
    const ComparePair& p = cmp->pairs[0];
    const size_t n = files.size();
    if (p.topk_applies) {
      for (size_t i = 0; i < n; ++i) (p.top1_agree[i] ? agree : disc).push_back(i);
      std::stable_sort(disc.begin(), disc.end(), [&](size_t a, size_t b) { return p.tau[a] < p.tau[b]; });
    } else {
      for (size_t i = 0; i < n; ++i) agree.push_back(i);
    }
    const size_t k = static_cast<size_t>(std::max(1, o.activation_images));
    if (disc.size() > k) disc.resize(k);
    if (agree.size() > k) agree.resize(k);
    auto r = analyze_activations(o, *source, *target, src, tgt, align, files, disc, agree, f);
    if (r.ok()) act = std::move(r).value();
    else errors.push_back({{"stage", "activations"}, {"message", r.status().message()}});
  }
  const double time_act = since(t_act);

  // 7. suspects.
  LocalizeInput li;
  li.src = &src;
  li.tgt = &tgt;
  li.align = &align;
  li.rows = &f;
  li.act = &act;
  li.preprocessing = &pre;
  li.target_error = target_error;
  li.source_error = source_error;
  li.target_quantized = target_quantized;
  nlohmann::json suspects = rank_suspects(li);

  // Verdict.
  const double rate = cmp && cmp->pairs[0].topk_applies ? cmp->pairs[0].discrepancy_rate : -1;
  std::string code, summary;
  const nlohmann::json* top = nullptr;
  for (const auto& s : suspects)
    if (s["category"] != "quantization") { top = &s; break; }
  auto where = [&](const nlohmann::json& s) {
    std::string n = s["target_node"].is_string() ? s["target_node"].get<std::string>()
                  : s["source_node"].is_string() ? s["source_node"].get<std::string>() : "";
    return s["category"].get<std::string>() + (n.empty() ? "" : " at '" + n + "'") + ": " +
           s["evidence"].value("summary", "");
  };
  if (!source_error.empty()) {
    code = "source_cannot_run";
    summary = "The source model cannot run: " + source_error;
  } else if (!target_error.empty()) {
    code = "target_cannot_run";
    summary = "The target model cannot run: " + target_error;
  } else if (rate > 0) {
    code = "discrepant";
    summary = "Top-1 differs on " + std::to_string(cmp->pairs[0].discrepant) + " of " +
              std::to_string(cmp->pairs[0].images) + " images (" + pct(rate) + ").";
    if (top) summary += " Most likely: " + where(*top);
  } else if (top) {
    code = "differs";
    summary = "Labels agree on every image, but the models differ. Most likely: " + where(*top);
  } else {
    code = "faithful";
    summary = rate == 0 ? "Labels agree on every image and no parameter, hyperparameter or structural difference was found."
                        : "No parameter, hyperparameter or structural difference was found.";
    if (target_quantized) summary += " The target is quantized; the quantization suspects show where its error grows.";
  }

  nlohmann::json layers = nlohmann::json::array();
  for (const auto& r : align.rows) layers.push_back(layer_json(r, src, tgt, f[static_cast<size_t>(r.index)]));
  nlohmann::json j;
  j["schema_version"] = kDiagnoseSchemaVersion;
  j["command"] = "diagnose";
  j["convfix_version"] = CONVFIX_VERSION;
  j["verdict"] = {{"code", code}, {"summary", summary}};
  j["discrepancy_rate"] = rate >= 0 ? nlohmann::json(rate) : nlohmann::json(nullptr);
  j["image_count"] = files.size();
  j["source"] = {{"file", S.path}, {"format", src_graph->info.format}, {"preset", S.preset}};
  j["target"] = {{"file", T.path}, {"format", tgt_graph->info.format}, {"preset", T.preset},
                 {"quantized", target_quantized}};
  j["compare"] = cmp ? compare_result_to_json(*cmp, o.labels) : nlohmann::json(nullptr);
  j["preprocessing"] = pre;
  j["alignment"] = alignment_json(src, tgt, align);
  j["layers"] = layers;
  j["activation_analysis"] = {{"ran", act.ran}, {"note", act.note}, {"images_discrepant", act.images_discrepant},
                              {"images_agreeing", act.images_agreeing}, {"noise_floor", act.noise_floor},
                              {"first_divergent_row", act.first_divergent_row >= 0 ? nlohmann::json(act.first_divergent_row) : nlohmann::json(nullptr)},
                              {"spikes", act.spikes}};
  j["suspects"] = suspects;
  j["timings_s"] = {{"compare", time_compare}, {"static", time_static}, {"preprocessing", time_pre},
                    {"activations", time_act}, {"total", since(t0)}};
  j["errors"] = errors;
  return j;
}

}  // namespace convfix
