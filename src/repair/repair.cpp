// repair_models(): diagnose, then the verification loop over the suspects'
// candidate changes, write, re-load, final check (contract in
// convfix/repair.h; docs/DIAGNOSIS.md, "repair").
#include "convfix/repair.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "convfix/image.h"
#include "convfix/model_io.h"
#include "repair/repair_internal.h"

namespace convfix {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Output error (max |t - s| / max |s|, mean over images) at or below which
// the repaired target counts as the source's equal.
constexpr double kTolerance = 1e-4;

nlohmann::json num_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v * 100);
  return buf;
}

// Candidates for one row, the suspect's category first.
void row_candidates(const PairView& v, int row, const std::string& category, const WriteCaps& caps,
                    std::vector<Candidate>& out) {
  if (row < 0) return;
  if (category == "hyperparameters") {
    hyperparameter_candidates(v, row, caps, out);
    parameter_candidates(v, row, caps, out);
    graph_candidates(v, row, caps, out);
  } else if (category == "graph" || category == "input") {
    graph_candidates(v, row, caps, out);
    hyperparameter_candidates(v, row, caps, out);
    parameter_candidates(v, row, caps, out);
  } else {
    parameter_candidates(v, row, caps, out);
    hyperparameter_candidates(v, row, caps, out);
    graph_candidates(v, row, caps, out);
  }
}

// Parameter copies that share a pattern across at least three rows become
// one candidate (all float16-rounded layers at once, say): one layer of many
// may change the output too little to be judged alone.
void parameter_groups(const PairView& v, const WriteCaps& caps, std::vector<Candidate>& out) {
  std::map<std::string, std::vector<Candidate>> by_pattern;
  for (const auto& r : v.align.rows) {
    std::vector<Candidate> c;
    parameter_candidates(v, r.index, caps, c);
    if (c.empty()) continue;
    by_pattern[c.front().details.value("pattern", "other")].push_back(std::move(c.front()));
  }
  for (auto& [pattern, cs] : by_pattern) {
    if (cs.size() < 3) continue;
    Candidate g;
    g.strategy = "parameters";
    g.category = "parameters";
    g.change = "copy the source's parameters into " + std::to_string(cs.size()) + " target layers (" + pattern + ")";
    g.key = "parameters:group:" + pattern + ":" + std::to_string(cs.size());
    nlohmann::json layers = nlohmann::json::array();
    std::vector<std::function<Expected<std::set<std::string>>(Graph&)>> applies;
    for (auto& c : cs) {
      layers.push_back({{"source_node", c.source_node}, {"target_node", c.target_node}, {"change", c.change}, {"details", c.details}});
      applies.push_back(c.apply);
      g.structural = g.structural || c.structural;
    }
    g.target_node = cs.front().target_node;
    g.source_node = cs.front().source_node;
    g.details = {{"pattern", pattern}, {"layers", layers}};
    g.apply = [applies](Graph& gr) -> Expected<std::set<std::string>> {
      std::set<std::string> dirty;
      for (const auto& a : applies) {
        CONVFIX_ASSIGN_OR_RETURN(std::set<std::string> d, a(gr));
        dirty.merge(d);
      }
      return dirty;
    };
    out.push_back(std::move(g));
  }
}

// The per-layer relative error of a diagnose document's rows, by source node.
std::map<std::string, double> layer_errors(const nlohmann::json& d) {
  std::map<std::string, double> m;
  if (!d.is_object() || !d["layers"].is_array()) return m;
  for (const auto& l : d["layers"]) {
    if (!l["source_node"].is_string() || !l["activations"].is_object()) continue;
    const auto& a = l["activations"];
    double e = 0;
    if (a["discrepant_rel_error"].is_number()) e = std::max(e, a["discrepant_rel_error"].get<double>());
    if (a["agreeing_rel_error"].is_number()) e = std::max(e, a["agreeing_rel_error"].get<double>());
    m[l["source_node"].get<std::string>()] = e;
  }
  return m;
}

nlohmann::json tau_mean(const nlohmann::json& d) {
  if (!d.is_object() || !d["compare"].is_object()) return nullptr;
  const auto& p = d["compare"]["pairs"];
  if (!p.is_array() || p.empty() || !p[0]["tau"].is_object()) return nullptr;
  return p[0]["tau"].value("mean", nlohmann::json(nullptr));
}

nlohmann::json output_error(const nlohmann::json& d) {
  if (!d.is_object() || !d["compare"].is_object()) return nullptr;
  const auto& p = d["compare"]["pairs"];
  if (!p.is_array() || p.empty() || !p[0]["outputs"].is_array() || p[0]["outputs"].empty()) return nullptr;
  return p[0]["outputs"][0].value("rel_max_abs_diff", nlohmann::json(nullptr));
}

}  // namespace

Expected<nlohmann::json> repair_models(const RepairOptions& o, const RepairProgress& progress) {
  const auto t0 = Clock::now();
  auto say = [&](const std::string& s) { if (progress) progress(s); };
  const auto& models = o.diagnose.compare.models;
  if (models.size() < 2) return invalid_argument("repair: give a source and a target model");
  if (o.output.empty()) return invalid_argument("repair: give the output path (-o)");
  const CompareModelSpec& S = models.front();
  const CompareModelSpec& T = models.back();
  std::vector<std::string> input_paths;
  for (const auto& m : models) input_paths.push_back(m.path);
  for (const auto& i : o.diagnose.compare.images) input_paths.push_back(i);

  // 1. Diagnose.
  nlohmann::json diag;
  if (o.diagnosis && o.diagnosis->is_object()) {
    diag = *o.diagnosis;
  } else {
    auto d = diagnose_models(o.diagnose, [&](const std::string& s) { say("diagnose: " + s); });
    if (!d.ok()) return d.status();
    diag = std::move(d).value();
  }
  const double t_diag = since(t0);
  CONVFIX_ASSIGN_OR_RETURN(std::vector<std::string> files, collect_image_files(o.diagnose.compare.images));

  auto sgl = load_model(S.path);
  if (!sgl.ok()) return sgl.status();
  auto tgl = load_model(T.path);
  if (!tgl.ok()) return tgl.status();
  auto sg = std::make_shared<Graph>(std::move(sgl).value());
  auto current = std::make_shared<Graph>(std::move(tgl).value());
  const WriteCaps caps = write_caps(*current);

  nlohmann::json doc;
  doc["schema_version"] = kRepairSchemaVersion;
  doc["command"] = "repair";
  doc["convfix_version"] = diag.value("convfix_version", "");
  doc["source"] = diag["source"];
  doc["target"] = diag["target"];
  doc["output_format"] = caps.output_format;
  doc["diagnosis"] = diag;
  doc["errors"] = nlohmann::json::array();
  doc["repairs"] = nlohmann::json::array();
  doc["discrepancy_before"] = diag["discrepancy_rate"];
  doc["tau_before"] = tau_mean(diag);
  doc["output_error_before"] = output_error(diag);
  doc["preprocessing_required"] = nullptr;

  auto source = open_model(S, o.diagnose.compare, sg, true);
  if (!source.ok()) {
    doc["verdict"] = {{"code", "cannot_run"}, {"summary", "The source model cannot run: " + source.status().message()}};
    doc["output_model"] = nullptr;
    doc["discrepancy_after"] = nullptr;
    return doc;
  }

  // 2. Verification images: the discrepant ones and a held-out sample of the agreeing.
  std::vector<std::string> vimages;
  std::vector<char> agreed;
  const auto& cmp = diag["compare"];
  if (cmp.is_object() && cmp["images"].is_array() && !cmp["images"].empty()) {
    std::vector<std::string> disc, agree;
    for (const auto& im : cmp["images"]) {
      const auto& top = im["top"];
      bool same = false;
      if (top.is_array() && top.size() >= 2 && !top.front().empty() && !top.back().empty())
        same = top.front()[0].value("index", -1) == top.back()[0].value("index", -2);
      (same ? agree : disc).push_back(im.value("file", ""));
    }
    if (disc.size() > static_cast<size_t>(o.max_discrepant)) disc.resize(static_cast<size_t>(o.max_discrepant));
    size_t want = static_cast<size_t>(std::ceil(o.holdout * static_cast<double>(agree.size())));
    want = std::min(agree.size(), std::max<size_t>(want, 4));
    const double stride = want ? static_cast<double>(agree.size()) / static_cast<double>(want) : 1;
    for (const auto& f : disc) { vimages.push_back(f); agreed.push_back(0); }
    for (size_t k = 0; k < want; ++k) {
      vimages.push_back(agree[std::min(agree.size() - 1, static_cast<size_t>(static_cast<double>(k) * stride))]);
      agreed.push_back(1);
    }
  } else {
    const size_t n = std::min(files.size(), static_cast<size_t>(std::max(8, o.max_discrepant / 2)));
    for (size_t k = 0; k < n; ++k) { vimages.push_back(files[k]); agreed.push_back(0); }
  }
  say("verification set");
  CONVFIX_ASSIGN_OR_RETURN(std::unique_ptr<Verifier> verifier, Verifier::create(o, *source, T, vimages, agreed));
  std::string preset = T.preset;
  float crop = T.crop_fraction;
  verifier->accept(current, preset, crop);
  Score base = verifier->evaluate(current, {}, true, preset, crop);
  const Score initial = base;
  const int n_holdout = static_cast<int>(std::count(agreed.begin(), agreed.end(), 1));

  // 3. Shapes and the static view.
  ValueDims ss, ts;
  if (!files.empty()) {
    auto p = probe_shapes(*source, files.front());
    if (p.ok()) ss = std::move(p).value();
  }
  auto probe_target = [&]() {
    ValueDims out;
    CompareModelSpec spec = T;
    spec.preset = preset;
    auto st = open_model(spec, o.diagnose.compare, current, true);
    if (st.ok() && !files.empty()) {
      auto p = probe_shapes(*st, files.front(), &out);
      if (p.ok()) out = std::move(p).value();
    }
    return out;
  };
  ts = probe_target();
  PairView view = analyse_pair(*sg, ss, *current, ts);

  // 4. The loop.
  const auto t_search = Clock::now();
  std::set<std::string> tried;
  auto clean = [&]() { return base.ran && base.discrepant == 0 && base.error_rel <= kTolerance; };
  auto over_budget = [&]() { return since(t_search) > o.budget_s; };
  CompareModelSpec tstate_spec = T;
  auto tstate = open_model(tstate_spec, o.diagnose.compare, current, false);
  std::string top_category;
  for (const auto& s : diag["suspects"])
    if (s.value("category", "") != "quantization") { top_category = s.value("category", ""); break; }
  nlohmann::json& log = doc["repairs"];
  int kept = 0;
  bool budget_hit = false;
  nlohmann::json preprocessing_required = nullptr;
  std::set<std::string> noted;
  while (!clean()) {
    if (over_budget()) { budget_hit = true; break; }
    std::vector<Candidate> cands;
    // The input pipeline goes first only when the diagnosis ranks it first:
    // a preprocessing hypothesis that explains part of a discrepancy caused
    // elsewhere must not be taken for the cause.
    std::vector<Candidate> pre;
    if (tstate.ok()) preprocessing_candidates(diag, T, o.embed_preprocessing, *tstate, caps, pre);
    if (top_category == "preprocessing") cands = std::move(pre);
    parameter_groups(view, caps, cands);
    int ns = 0;
    for (const auto& s : diag["suspects"]) {
      if (++ns > o.max_suspects) break;
      const std::string cat = s.value("category", "");
      if (cat == "preprocessing" || cat == "quantization") continue;
      int row = -1;
      if (s["target_node"].is_string()) row = view.row_of_target(s["target_node"].get<std::string>());
      if (row < 0 && s["source_node"].is_string()) row = view.row_of_source(s["source_node"].get<std::string>());
      const size_t first = cands.size();
      if (cat == "input") global_graph_candidates(view, caps, cands);
      const size_t before = cands.size();
      row_candidates(view, row, cat, caps, cands);
      for (size_t k = first; k < cands.size(); ++k)
        if (cands[k].suspect_rank < 0) cands[k].suspect_rank = s.value("rank", -1);
      if (cands.size() == before && (cat == "hyperparameters" || cat == "graph") && (!caps.attributes || !caps.structure)) {
        const std::string key = "not_expressible:" + s.value("target_node", std::string());
        if (!noted.count(key)) {
          noted.insert(key);
          log.push_back({{"index", log.size()}, {"strategy", cat}, {"category", cat}, {"suspect_rank", s["rank"]},
                         {"target_node", s["target_node"]}, {"source_node", s["source_node"]},
                         {"change", s.value("repair", "")}, {"details", nlohmann::json::object()},
                         {"kept", false}, {"reason", "not_expressible: the " + caps.format +
                                                     " writer can change only weights, not " + cat}});
        }
      }
    }
    global_graph_candidates(view, caps, cands);
    for (const auto& r : view.align.rows) row_candidates(view, r.index, "hyperparameters", caps, cands);
    // Quantized layers in float, only where the user allows it.
    if (o.allow_dequantize_auto) {
      for (const auto& s : diag["suspects"])
        if (s.value("category", "") == "quantization" && s["target_node"].is_string())
          dequantize_candidates(view, view.row_of_target(s["target_node"].get<std::string>()), caps, cands);
    }
    for (const auto& name : o.allow_dequantize) {
      int row = view.row_of_target(name);
      for (const auto& r : view.align.rows) {
        if (row >= 0 || r.target_layer < 0) continue;
        for (const auto& nn : view.tgt.node_names(view.tgt.layers[static_cast<size_t>(r.target_layer)]))
          if (nn == name) row = r.index;
      }
      if (row < 0 && !noted.count("dequantize:" + name)) {
        noted.insert("dequantize:" + name);
        doc["errors"].push_back({{"stage", "dequantize"}, {"message", "--allow-dequantize: no target layer named '" + name + "'"}});
      }
      dequantize_candidates(view, row, caps, cands);
    }
    for (auto& c : pre) cands.push_back(std::move(c));

    bool kept_one = false;
    for (auto& c : cands) {
      if (tried.count(c.key)) continue;
      tried.insert(c.key);
      if (over_budget()) { budget_hit = true; break; }
      say("trying: " + c.change);
      auto g2 = std::make_shared<Graph>(*current);
      auto dirty = c.apply(*g2);
      const int crow = c.target_node.empty() ? -1 : view.row_of_target(c.target_node);
      nlohmann::json entry = {{"index", log.size()}, {"strategy", c.strategy}, {"category", c.category},
                              {"suspect_rank", c.suspect_rank >= 0 ? nlohmann::json(c.suspect_rank) : nlohmann::json(nullptr)},
                              {"row", crow >= 0 ? nlohmann::json(crow) : nlohmann::json(nullptr)},
                              {"target_node", c.target_node.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.target_node)},
                              {"source_node", c.source_node.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.source_node)},
                              {"change", c.change}, {"details", c.details},
                              {"discrepant_before", base.ran ? nlohmann::json(base.discrepant) : nlohmann::json(nullptr)},
                              {"discrepancy_before", base.ran ? nlohmann::json(static_cast<double>(base.discrepant) / static_cast<double>(std::max<size_t>(1, verifier->size()))) : nlohmann::json(nullptr)},
                              {"error_before", num_or_null(base.ran ? base.error_rel : INFINITY)}};
      if (!dirty.ok()) {
        entry["kept"] = false;
        entry["reason"] = "does not apply: " + dirty.status().message();
        entry["discrepant_after"] = nullptr;
        entry["discrepancy_after"] = nullptr;
        entry["error_after"] = nullptr;
        log.push_back(entry);
        continue;
      }
      Status ex = check_expressible(*g2, caps, T.path);
      if (!ex.ok()) {
        entry["kept"] = false;
        entry["reason"] = "not_expressible: " + ex.message();
        entry["discrepant_after"] = nullptr;
        entry["discrepancy_after"] = nullptr;
        entry["error_after"] = nullptr;
        log.push_back(entry);
        continue;
      }
      Status gv = g2->verify();
      Score s;
      if (!gv.ok()) {
        s.error = gv.message();
      } else {
        const std::string p2 = c.target_preset.value_or(preset);
        const float cr2 = c.target_crop.value_or(crop);
        s = verifier->evaluate(g2, *dirty, c.structural || p2 != preset || cr2 != crop, p2, cr2);
      }
      const bool better_labels = s.ran && (!base.ran || s.discrepant < base.discrepant);
      const bool better_error = s.ran && base.ran && s.discrepant == base.discrepant &&
                                (s.error_rel < 0.95 * base.error_rel || (s.error_rel <= kTolerance && base.error_rel > kTolerance));
      const bool keep = s.ran && s.regressions == 0 && (better_labels || better_error);
      entry["discrepant_after"] = s.ran ? nlohmann::json(s.discrepant) : nlohmann::json(nullptr);
      entry["discrepancy_after"] = s.ran ? nlohmann::json(static_cast<double>(s.discrepant) / static_cast<double>(std::max<size_t>(1, verifier->size()))) : nlohmann::json(nullptr);
      entry["error_after"] = s.ran ? num_or_null(s.error_rel) : nlohmann::json(nullptr);
      entry["regressions"] = s.regressions;
      entry["kept"] = keep;
      if (!s.ran) entry["reason"] = "the changed model does not run: " + s.error;
      else if (s.regressions) entry["reason"] = std::to_string(s.regressions) + " held-out image(s) now disagree";
      else if (keep) entry["reason"] = better_labels ? "fewer discrepant images" : "lower output error, same labels";
      else entry["reason"] = "no improvement";
      log.push_back(entry);
      if (!keep) continue;
      ++kept;
      kept_one = true;
      if (c.target_preset || c.target_crop) {
        const std::string p2 = c.target_preset.value_or(preset);
        const float cr2 = c.target_crop.value_or(crop);
        preprocessing_required = {{"preset", p2}, {"crop_fraction", cr2},
                                  {"embedded", c.details.value("embedded", false)},
                                  {"summary", c.change}};
        preset = p2;
        crop = cr2;
      }
      // Candidates rejected before this change may help now (a fix whose
      // effect a larger fault hid): they are tried again.
      tried.clear();
      current = g2;
      verifier->accept(current, preset, crop);
      base = s;
      ts = probe_target();
      view = analyse_pair(*sg, ss, *current, ts);
      break;
    }
    if (!kept_one || budget_hit) break;
  }
  const double t_search_s = since(t_search);
  doc["preprocessing_required"] = preprocessing_required;
  doc["verification"] = {{"images", verifier->size()}, {"discrepant", initial.discrepant}, {"holdout", n_holdout},
                         {"initial_ran", initial.ran}, {"initial_error", num_or_null(initial.ran ? initial.error_rel : INFINITY)},
                         {"final_discrepant", base.ran ? nlohmann::json(base.discrepant) : nlohmann::json(nullptr)},
                         {"final_error", num_or_null(base.ran ? base.error_rel : INFINITY)},
                         {"reruns_partial", verifier->reruns_partial()}, {"reruns_full", verifier->reruns_full()},
                         {"budget_spent", budget_hit}, {"tolerance", kTolerance}};

  // 5. Write, re-load, compare with the in-memory model.
  say("writing " + o.output);
  const auto t_write = Clock::now();
  auto in_mem = verifier->evaluate(current, {}, true, preset, crop);
  const std::vector<Tensor> mem_out = verifier->last_outputs();
  CONVFIX_ASSIGN_OR_RETURN(std::string written, write_repaired(*current, caps, T.path, input_paths, o.output));
  doc["output_model"] = written;
  double reload_diff = INFINITY;
  auto re = load_model(written);
  if (!re.ok()) {
    doc["errors"].push_back({{"stage", "reload"}, {"message", re.status().message()}});
  } else {
    auto rg = std::make_shared<Graph>(std::move(re).value());
    Score rs = verifier->evaluate(rg, {}, true, preset, crop);
    if (rs.ran && in_mem.ran && verifier->last_outputs().size() == mem_out.size()) {
      reload_diff = 0;
      for (size_t i = 0; i < mem_out.size(); ++i) {
        const Tensor& a = mem_out[i];
        const Tensor& b = verifier->last_outputs()[i];
        if (a.numel() != b.numel()) { reload_diff = INFINITY; break; }
        for (int64_t k = 0; k < a.numel(); ++k)
          reload_diff = std::max(reload_diff, static_cast<double>(std::fabs(a.data<float>()[k] - b.data<float>()[k])));
      }
    } else if (!rs.ran) {
      doc["errors"].push_back({{"stage", "reload"}, {"message", "the written model does not run: " + rs.error}});
    }
  }
  const bool reload_ok = std::isfinite(reload_diff) && reload_diff <= 1e-5;
  doc["verification"]["reload_max_abs_diff"] = num_or_null(reload_diff);
  doc["verification"]["reload_ok"] = reload_ok;
  const double t_write_s = since(t_write);

  // 6. The full image set, once more, with the repaired model.
  const auto t_full = Clock::now();
  nlohmann::json after = nullptr;
  if (o.verify_full) {
    say("final check on the full image set");
    DiagnoseOptions d2 = o.diagnose;
    d2.compare.models.back().path = written;
    d2.compare.models.back().preset = preset;
    d2.compare.models.back().crop_fraction = crop;
    d2.preprocessing = false;
    auto a = diagnose_models(d2, [&](const std::string& s) { say("final check: " + s); });
    if (a.ok()) after = std::move(a).value();
    else doc["errors"].push_back({{"stage", "verify_full"}, {"message", a.status().message()}});
  }
  doc["diagnosis_after"] = after;
  if (after.is_object()) {
    doc["discrepancy_after"] = after["discrepancy_rate"];
    doc["tau_after"] = tau_mean(after);
    doc["output_error_after"] = output_error(after);
  } else {
    doc["discrepancy_after"] = base.ran ? nlohmann::json(static_cast<double>(base.discrepant) / static_cast<double>(std::max<size_t>(1, verifier->size())))
                                        : nlohmann::json(nullptr);
    doc["tau_after"] = nullptr;
    doc["output_error_after"] = num_or_null(base.ran ? base.error_rel : INFINITY);
  }
  nlohmann::json layers = nlohmann::json::array();
  {
    const auto eb = layer_errors(diag), ea = layer_errors(after);
    if (diag["layers"].is_array())
      for (const auto& l : diag["layers"]) {
        if (!l["source_node"].is_string()) continue;
        const std::string sn = l["source_node"];
        auto ib = eb.find(sn), ia = ea.find(sn);
        if (ib == eb.end() && ia == ea.end()) continue;
        layers.push_back({{"row", l["row"]}, {"source_node", sn}, {"target_node", l["target_node"]},
                          {"rel_error_before", ib == eb.end() ? nlohmann::json(nullptr) : nlohmann::json(ib->second)},
                          {"rel_error_after", ia == ea.end() ? nlohmann::json(nullptr) : nlohmann::json(ia->second)}});
      }
  }
  doc["layers"] = layers;

  // Verdict.
  const nlohmann::json& da = doc["discrepancy_after"];
  const nlohmann::json& db = doc["discrepancy_before"];
  const std::string code_before = diag["verdict"].value("code", "");
  std::string code, summary;
  const bool runs_after = after.is_object() ? after["verdict"].value("code", "") != "target_cannot_run" : base.ran;
  const bool labels_equal = da.is_number() && da.get<double>() == 0;
  const double err_after = doc["output_error_after"].is_number() ? doc["output_error_after"].get<double>() : INFINITY;
  if (code_before == "faithful" && kept == 0) {
    code = "faithful";
    summary = "The diagnosis found nothing to repair; the target is written unchanged.";
  } else if (runs_after && labels_equal && reload_ok &&
             (err_after <= kTolerance || (kept > 0 && !(db.is_number() && db.get<double>() == 0)))) {
    code = "repaired";
    summary = std::to_string(kept) + " change(s) kept; top-1 now agrees on every image";
    if (db.is_number()) summary += " (was " + pct(db.get<double>()) + " discrepant)";
    else summary += " (the target could not run before)";
    if (err_after > kTolerance && std::isfinite(err_after)) summary += "; the outputs still differ (relative error " + std::to_string(err_after).substr(0, 8) + ")";
    summary += ".";
  } else if (kept > 0 && runs_after) {
    code = "improved";
    summary = std::to_string(kept) + " change(s) kept; discrepancy " + (db.is_number() ? pct(db.get<double>()) : std::string("(could not run)")) +
              " -> " + (da.is_number() ? pct(da.get<double>()) : std::string("?")) + ".";
  } else {
    code = "not_repaired";
    summary = "No change improved the target" + std::string(budget_hit ? " within the budget." : ".");
  }
  if (preprocessing_required.is_object())
    summary += " The input pipeline must change: " + preprocessing_required.value("summary", "") + ".";
  if (!reload_ok) summary += " The written model did not reproduce the repaired outputs (see errors).";
  doc["verdict"] = {{"code", code}, {"summary", summary}};
  doc["timings_s"] = {{"diagnose", t_diag}, {"search", t_search_s}, {"write", t_write_s},
                      {"verify_full", since(t_full)}, {"total", since(t0)}};
  return doc;
}

}  // namespace convfix
