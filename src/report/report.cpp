// The diagnose report page (contract in convfix/report.h; the sections are
// documented in docs/DIAGNOSIS.md, section "Report"), the parts of it that the
// repair page embeds (report/page.h) and the entry points for both pages.
#include "convfix/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <vector>

#include "convfix/fileio.h"
#include "report/html.h"
#include "report/page.h"
#include "report/svg_plot.h"

namespace convfix {

namespace report {

const char* const kCss = R"CSS(
:root { --fg:#1d232b; --muted:#5b6570; --line:#d5dae0; --bg:#ffffff; --soft:#f4f6f8; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; padding: 0 24px 48px; }
h1 { font-size: 22px; margin: 20px 0 8px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-top: 8px; border-top: 2px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
nav { font-size: 13px; margin: 4px 0 12px; }
nav a { margin-right: 12px; color: #2457a6; text-decoration: none; }
a { color: #2457a6; }
p.note, .muted { color: var(--muted); }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { word-break: break-all; min-width: 12em; max-width: 28em; font-family: ui-monospace, "DejaVu Sans Mono", monospace;
          font-size: 12px; }
table.kv th { position: static; width: 11em; }
tr.status-inserted td { background: #eef5ff; }
tr.status-removed td { background: #fff3e6; }
tr.finding td { background: #fff8e1; }
tr.best td, td.explains { background: #e7f6e7; }
td.changed { background: #ffe3e3; font-weight: 600; }
td.bad { color: #b3261e; font-weight: 600; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; font-weight: 700; color: #fff;
           background: #5b6570; }
.verdict-faithful { background: #2e7d32; } .verdict-differs { background: #b26a00; }
.verdict-discrepant { background: #b3261e; } .verdict-target_cannot_run, .verdict-source_cannot_run { background: #6a1b9a; }
.verdict-box { border: 1px solid var(--line); border-left: 6px solid #5b6570; padding: 10px 14px; margin: 8px 0;
               background: var(--soft); }
.verdict-box.verdict-code-faithful { border-left-color: #2e7d32; } .verdict-box.verdict-code-differs { border-left-color: #b26a00; }
.verdict-box.verdict-code-discrepant { border-left-color: #b3261e; }
.verdict-box.verdict-code-target_cannot_run, .verdict-box.verdict-code-source_cannot_run { border-left-color: #6a1b9a; }
.cat { display: inline-block; padding: 0 6px; border-radius: 3px; background: #e3e8ef; font-size: 12px; }
.cat-parameters { background: #ffe0b2; } .cat-hyperparameters { background: #f8d7f0; } .cat-graph { background: #d7e8ff; }
.cat-preprocessing, .cat-input { background: #d9f2d9; } .cat-quantization { background: #e8e8e8; }
.evidence-extra { color: var(--muted); font-size: 12px; }
details { margin: 6px 0 10px; }
summary { cursor: pointer; font-weight: 600; padding: 3px 0; }
.scroll { overflow-x: auto; max-width: 100%; }
figure { margin: 8px 0 16px; }
figcaption { color: var(--muted); font-size: 13px; max-width: 70em; }
svg.plot { background: #fff; display: block; }
svg.plot .plot-bg { fill: #fbfcfd; stroke: var(--line); }
svg.plot .grid { stroke: #e6e9ed; stroke-width: 1; }
svg.plot .axis { stroke: #333; stroke-width: 1.2; }
svg.plot .tick { stroke: #333; }
svg.plot .zero-lane { stroke: #999; stroke-dasharray: 2 4; }
svg.plot .hline { stroke-width: 1.5; stroke-dasharray: 2 3; }
svg.plot text { font-family: system-ui, "DejaVu Sans", sans-serif; fill: #222; }
svg.plot .tick-label { font-size: 11px; } svg.plot .axis-label { font-size: 12px; }
svg.plot .plot-title { font-size: 13px; font-weight: 600; } svg.plot .legend-text { font-size: 11px; }
svg.plot .marker-label { font-size: 11px; font-weight: 600; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
)CSS";


std::string num_cell(const Json* j) {
  auto v = number(j);
  return "<td class=\"num\">" + (v ? fmt_num(*v) : std::string("—")) + "</td>";
}
std::string pct_cell(const Json* j) {
  auto v = number(j);
  return "<td class=\"num\">" + (v ? fmt_pct(*v) : std::string("—")) + "</td>";
}
std::string text_cell(const Json* j, const char* cls) {
  return std::string("<td") + (cls ? std::string(" class=\"") + cls + "\"" : "") + ">" + cell(j) + "</td>";
}
std::string yes_no_cell(const Json* j) {
  auto b = boolean(j);
  return std::string("<td>") + (b ? (*b ? "yes" : "no") : "—") + "</td>";
}
std::string th(const char* s, bool num) {
  return std::string("<th") + (num ? " class=\"num\"" : "") + ">" + s + "</th>";
}
std::string str_or(const Json* j, const std::string& fallback) {
  auto s = string_of(j);
  return s ? *s : fallback;
}

// Opens a collapsible block; close with "</details>".
void open_details(std::string& o, const std::string& summary_html, bool open) {
  o += std::string("<details") + (open ? " open" : "") + "><summary>" + summary_html + "</summary><div class=\"scroll\">";
}
void close_details(std::string& o) { o += "</div></details>"; }

std::string node_pair_html(const Json* src, const Json* tgt) {
  if (string_of(src) && string_of(src) == string_of(tgt))
    return "<span class=\"name\">" + cell(src) + "</span> <span class=\"muted\">(same name in both)</span>";
  return "<span class=\"name\">" + cell(src, "(none)") + "</span> ↔ <span class=\"name\">" + cell(tgt, "(none)") +
         "</span>";
}

std::string row_text(const Json* layer, int64_t row) {
  std::string s = "row " + std::to_string(row) + ": " + str_or(member(layer, "source_node"), "(none)") + " ↔ " +
                  str_or(member(layer, "target_node"), "(none)");
  if (auto op = string_of(member(layer, "op"))) s += " (" + *op + ")";
  return s;
}

namespace {

// Suspects shown open; the others start collapsed.
constexpr size_t kOpenSuspects = 10;

struct Ctx {
  const Json* root = nullptr;
  const Json* compare = nullptr;           // the compare object, or nullptr
  const Json* models = nullptr;            // compare.models
  std::map<int64_t, std::string> image_file;
  std::vector<int64_t> disc_images, agree_images;  // activation analysis
  std::set<int64_t> suspect_rows;
  std::vector<int64_t> top_suspect_rows;   // rows of the first kOpenSuspects suspects, by rank
  int64_t rows = 0;                        // alignment rows (x extent of the plots)
};

std::string model_label(const Ctx& c, int64_t index) {
  const Json* m = element(c.models, static_cast<size_t>(std::max<int64_t>(index, 0)));
  if (index < 0 || !m) return "model " + std::to_string(index);
  return str_or(member(m, "role"), "model " + std::to_string(index)) + ": " +
         base_name(str_or(member(m, "file"), "?"));
}

std::string image_label(const Ctx& c, int64_t index) {
  auto it = c.image_file.find(index);
  return "image " + std::to_string(index) + (it != c.image_file.end() ? " (" + base_name(it->second) + ")" : "");
}

// ---- header and verdict ------------------------------------------------------

void header_table(std::string& o, const Ctx& c) {
  const Json* r = c.root;
  o += "<table class=\"kv\">";
  // Models: from compare (roles, chain order) when present, else the top-level source/target.
  if (array_size(c.models) > 0) {
    for (size_t i = 0; i < array_size(c.models); ++i) {
      const Json* m = element(c.models, i);
      std::string role = str_or(member(m, "role"), "model");
      if (!role.empty()) role[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(role[0])));
      std::string details = str_or(member(m, "format"), "");
      const Json* pre = member(m, "preprocess");
      if (auto p = string_of(member(pre, "preset"))) details += (details.empty() ? "" : ", ") + std::string("preprocess ") + *p;
      if (auto in = member(m, "input"); in) {
        if (auto l = string_of(member(in, "layout"))) details += ", " + *l;
        if (is_array(member(in, "shape"))) details += " [" + plain(member(in, "shape")) + "]";
        if (auto dt = string_of(member(in, "dtype"))) details += " " + *dt;
      }
      o += "<tr><th>" + escape(role) + "</th><td class=\"name\">" + escape(str_or(member(m, "file"), "?")) +
           "</td><td>" + escape(details) + "</td></tr>";
    }
  } else {
    for (const char* side : {"source", "target"}) {
      const Json* m = member(r, side);
      std::string details = str_or(member(m, "format"), "");
      if (auto p = string_of(member(m, "preset"))) details += (details.empty() ? "" : ", ") + std::string("preprocess ") + *p;
      o += std::string("<tr><th>") + (side[0] == 's' ? "Source" : "Target") + "</th><td class=\"name\">" +
           cell(member(m, "file")) + "</td><td>" + escape(details) + "</td></tr>";
    }
  }
  if (auto q = boolean(member(member(r, "target"), "quantized")); q && *q)
    o += "<tr><th>Target quantized</th><td colspan=\"2\">yes (quantization suspects rank layers by their error; "
         "quantization itself is not called a fault)</td></tr>";
  const Json* verdict = member(r, "verdict");
  const std::string code = str_or(member(verdict, "code"), "unknown");
  o += "<tr><th>Verdict</th><td colspan=\"2\"><span class=\"verdict verdict-" + escape(code) + "\">" + escape(code) +
       "</span> " + cell(member(verdict, "summary"), "") + "</td></tr>";
  std::string rate = "n/a (top-1 does not apply, or the models did not both run)";
  if (auto v = number(member(r, "discrepancy_rate"))) {
    rate = fmt_pct(*v);
    const Json* p0 = element(member(c.compare, "pairs"), 0);
    auto d = integer(member(p0, "discrepant_images"));
    auto n = integer(member(p0, "images"));
    if (d && n) rate += " (top-1 differs on " + std::to_string(*d) + " of " + std::to_string(*n) + " images)";
  }
  o += "<tr><th>Discrepancy rate</th><td colspan=\"2\">" + rate + "</td></tr>";
  o += "<tr><th>Images</th><td colspan=\"2\">" + cell(member(r, "image_count")) + "</td></tr>";
  o += "</table>";
}

void header(std::string& o, const Ctx& c) {
  o += "<header><h1>convfix diagnose report</h1>";
  o += diagnose_schema_note(*c.root);
  o += diagnose_nav();
  header_table(o, c);
  o += "</header>";
}

void verdict_section(std::string& o, const Ctx& c) {
  const Json* verdict = member(c.root, "verdict");
  const std::string code = str_or(member(verdict, "code"), "unknown");
  static const std::map<std::string, std::string> kMeaning = {
      {"faithful", "No label differs and no parameter, hyperparameter or graph difference was found."},
      {"differs", "Labels agree on every image, but weights, attributes, graph or outputs differ beyond noise."},
      {"discrepant", "At least one image's top-1 label differs between source and target."},
      {"target_cannot_run", "The target model loads but cannot run; the static analyses still ran."},
      {"source_cannot_run", "The source model loads but cannot run; the static analyses still ran."}};
  o += "<section id=\"verdict\"><h2>Verdict</h2><div class=\"verdict-box verdict-code-" + escape(code) + "\">";
  o += "<p><span class=\"verdict verdict-" + escape(code) + "\">" + escape(code) + "</span> ";
  auto it = kMeaning.find(code);
  if (it != kMeaning.end()) o += "<span class=\"muted\">" + escape(it->second) + "</span>";
  o += "</p><p>" + cell(member(verdict, "summary"), "(no summary)") + "</p>";
  const Json* sus = member(c.root, "suspects");
  std::map<std::string, int> by_cat;
  for (size_t i = 0; i < array_size(sus); ++i) by_cat[str_or(member(element(sus, i), "category"), "other")]++;
  if (!by_cat.empty()) {
    o += "<p>" + std::to_string(array_size(sus)) + " suspect" + (array_size(sus) == 1 ? "" : "s") + ": ";
    bool first = true;
    for (const auto& [cat, n] : by_cat) {
      o += std::string(first ? "" : ", ") + std::to_string(n) + " " + escape(cat);
      first = false;
    }
    o += ".</p>";
  }
  o += "</div></section>";
}

// ---- suspects ------------------------------------------------------------------

void suspects_section(std::string& o, const Ctx& c) {
  o += "<section id=\"suspects\"><h2>Suspects</h2>";
  const Json* sus = member(c.root, "suspects");
  if (array_size(sus) == 0) {
    o += "<p class=\"note\">No suspects.</p></section>";
    return;
  }
  // Rank order (missing ranks after the ranked ones, in document order).
  std::vector<size_t> order(array_size(sus));
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto rank_of = [&](size_t i) {
    auto r = integer(member(element(sus, i), "rank"));
    return r ? *r : INT64_MAX;
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rank_of(a) < rank_of(b); });
  // The first kOpenSuspects open; the rest in a collapsed block below.
  auto table = [&](size_t from, size_t to) {
    o += "<table class=\"suspects\"><thead><tr>" + th("Rank", true) + th("Category") + th("Source ↔ target layer") +
         th("Row", true) + th("Evidence") + th("Explanation") + th("Repair") + th("Score", true) + "</tr></thead><tbody>";
    for (size_t k = from; k < to; ++k) {
      const size_t i = order[k];
      const Json* s = element(sus, i);
      const std::string cat = str_or(member(s, "category"), "");
      o += "<tr class=\"suspect\" data-rank=\"" + cell(member(s, "rank"), "") + "\">";
      o += num_cell(member(s, "rank"));
      o += "<td><span class=\"cat cat-" + escape(cat) + "\">" + cell(member(s, "category")) + "</span></td>";
      o += "<td class=\"name\">" + node_pair_html(member(s, "source_node"), member(s, "target_node")) + "</td>";
      if (auto row = integer(member(s, "row")))
        o += "<td class=\"num\"><a href=\"#layer-row-" + std::to_string(*row) + "\">" + std::to_string(*row) + "</a></td>";
      else
        o += "<td class=\"num\">—</td>";
      const Json* ev = member(s, "evidence");
      o += "<td>";
      if (is_object(ev)) {
        o += cell(member(ev, "summary"), "");
        std::string extra;
        for (auto it = ev->begin(); it != ev->end(); ++it) {
          if (it.key() == "summary") continue;
          extra += (extra.empty() ? "" : "; ") + escape(it.key()) + " = " + cell(&it.value());
        }
        if (!extra.empty()) o += "<div class=\"evidence-extra\">" + extra + "</div>";
      } else {
        o += cell(ev);
      }
      o += "</td>" + text_cell(member(s, "explanation")) + text_cell(member(s, "repair")) + num_cell(member(s, "score"));
      o += "</tr>";
    }
    o += "</tbody></table>";
  };
  const size_t n = order.size();
  const size_t first = std::min(n, kOpenSuspects);
  open_details(o, n > first ? "Ranked suspects: the first " + std::to_string(first) + " of " + std::to_string(n)
                            : "Ranked suspects (" + std::to_string(n) + ")", true);
  table(0, first);
  close_details(o);
  if (n > first) {
    open_details(o, "Suspects " + std::to_string(first + 1) + "–" + std::to_string(n), false);
    table(first, n);
    close_details(o);
  }
  o += "</section>";
}

// ---- discrepancy and chain -----------------------------------------------------

void discrepancy_section(std::string& o, const Ctx& c) {
  o += "<section id=\"discrepancy\"><h2>Discrepancy</h2>";
  const Json* pairs = member(c.compare, "pairs");
  if (array_size(pairs) == 0) {
    o += "<p class=\"note\">No comparison: the models did not both run over the images.</p></section>";
    return;
  }
  auto top_k = integer(member(c.compare, "top_k"));
  o += "<p class=\"note\">Per model pair over " + cell(member(c.compare, "image_count")) +
       " images: top-1 discrepancy and Kendall's τ between the top-" + (top_k ? std::to_string(*top_k) : "k") +
       " rankings (τ = 1: same ordered top-k).</p>";
  open_details(o, "Pairs (" + std::to_string(array_size(pairs)) + ")", true);
  o += "<table class=\"pairs\"><thead><tr>" + th("Pair") + th("Kind") + th("Images", true) + th("Top-1 differs", true) +
       th("Discrepancy", true) + th("τ mean", true) + th("τ median", true) + th("τ min", true) + th("τ p05", true) +
       th("τ p25", true) + th("τ max", true) + th("τ &lt; 1", true) + th("Note") + "</tr></thead><tbody>";
  for (size_t i = 0; i < array_size(pairs); ++i) {
    const Json* p = element(pairs, i);
    const Json* tau = member(p, "tau");
    auto a = integer(member(p, "a"));
    auto b = integer(member(p, "b"));
    o += "<tr class=\"pair\"><td class=\"name\">" + escape(model_label(c, a ? *a : -1)) + " → " +
         escape(model_label(c, b ? *b : -1)) + "</td>" + text_cell(member(p, "kind")) + num_cell(member(p, "images")) +
         num_cell(member(p, "discrepant_images")) + pct_cell(member(p, "discrepancy_rate")) +
         num_cell(member(tau, "mean")) + num_cell(member(tau, "median")) + num_cell(member(tau, "min")) +
         num_cell(member(tau, "p05")) + num_cell(member(tau, "p25")) + num_cell(member(tau, "max")) +
         num_cell(member(tau, "below_one")) + text_cell(member(p, "note")) + "</tr>";
  }
  o += "</tbody></table>";
  close_details(o);

  o += "<h3>Output error statistics</h3>";
  open_details(o, "Per output, raw outputs (logits where the model outputs logits)", true);
  o += "<table class=\"outputs\"><thead><tr>" + th("Pair") + th("Output (a / b)") + th("Shape (a / b)") +
       th("Elements", true) + th("max |a − b|", true) + th("mean |a − b|", true) + th("max |a|", true) +
       th("max |a − b| / max |a|", true) + th("NaN mismatch", true) + "</tr></thead><tbody>";
  for (size_t i = 0; i < array_size(pairs); ++i) {
    const Json* p = element(pairs, i);
    auto a = integer(member(p, "a"));
    auto b = integer(member(p, "b"));
    const Json* outs = member(p, "outputs");
    for (size_t k = 0; k < array_size(outs); ++k) {
      const Json* q = element(outs, k);
      const bool mismatch = boolean(member(q, "shape_mismatch")).value_or(false);
      o += "<tr><td class=\"name\">" + escape(model_label(c, a ? *a : -1)) + " → " +
           escape(model_label(c, b ? *b : -1)) + "</td><td class=\"name\">" + cell(member(q, "output_a")) + " / " +
           cell(member(q, "output_b")) + "</td><td" + (mismatch ? " class=\"bad\"" : "") + ">" +
           value_html(member(q, "shape_a")) + " / " + value_html(member(q, "shape_b")) + (mismatch ? " (shapes differ)" : "") +
           "</td>" + num_cell(member(q, "elements")) + num_cell(member(q, "max_abs_diff")) +
           num_cell(member(q, "mean_abs_diff")) + num_cell(member(q, "max_abs_a")) +
           num_cell(member(q, "rel_max_abs_diff")) + num_cell(member(q, "nan_mismatch")) + "</tr>";
    }
  }
  o += "</tbody></table>";
  close_details(o);

  // Chain table (the paper's Table I).
  const Json* chain = member(c.compare, "chain");
  if (is_object(chain)) {
    o += "<h3>Conversion chain</h3>";
    if (!boolean(member(chain, "applies")).value_or(true)) {
      o += "<p class=\"note\">The chain table does not apply: " + cell(member(chain, "note"), "no reason given") + "</p>";
    } else {
      const size_t nm = array_size(c.models);
      const Json* rows = member(chain, "rows");
      o += "<p class=\"note\">For every image where source and target disagree on top-1: each model's top-1 and the "
           "first model in the chain whose top-1 differs from the source's (highlighted).</p>";
      open_details(o, "Chain table (" + std::to_string(array_size(rows)) + " discrepant images)",
                   array_size(rows) <= kOpenRows);
      o += "<table class=\"chain\"><thead><tr>" + th("Image", true) + th("File");
      for (size_t m = 0; m < nm; ++m) o += "<th>" + escape(model_label(c, static_cast<int64_t>(m))) + "</th>";
      o += th("First changed") + "</tr></thead><tbody>";
      for (size_t i = 0; i < array_size(rows); ++i) {
        const Json* r = element(rows, i);
        auto fc = integer(member(r, "first_changed"));
        o += "<tr class=\"chain-row\">" + num_cell(member(r, "image")) + "<td class=\"name\">" +
             escape(base_name(str_or(member(r, "file"), ""))) + "</td>";
        const Json* top1 = member(r, "top1");
        const size_t cols = std::max(nm, array_size(top1));
        for (size_t m = 0; m < cols; ++m) {
          const Json* t = element(top1, m);
          std::string v = cell(member(t, "index"));
          if (auto l = string_of(member(t, "label"))) v += " " + escape(*l);
          const bool changed = fc && *fc == static_cast<int64_t>(m);
          o += std::string("<td") + (changed ? " class=\"changed\"" : "") + ">" + v + "</td>";
        }
        o += "<td>" + (fc ? escape(model_label(c, *fc)) : std::string("—")) + "</td></tr>";
      }
      const Json* counts = member(chain, "first_changed_counts");
      if (array_size(counts) > 0) {
        o += "<tr><th colspan=\"2\">First changed (count)</th>";
        for (size_t m = 0; m < std::max(nm, array_size(counts)); ++m) o += num_cell(element(counts, m));
        o += "<td></td></tr>";
      }
      o += "</tbody></table>";
      close_details(o);
    }
  }
  o += "</section>";
}

// ---- plots ---------------------------------------------------------------------

struct ImageSeries {
  int64_t image = 0;
  int group = 2;  // 0 discrepant, 1 agreeing, 2 unknown
  std::vector<std::pair<double, double>> mad, rel;
  std::vector<std::string> mad_tips, rel_tips;
};

std::string hsl(double h, double s, double l) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "hsl(%.0f,%.0f%%,%.0f%%)", h, s, l);
  return buf;
}


void plots_section(std::string& o, const Ctx& c) {
  o += "<section id=\"plots\"><h2>Differences along the model</h2>";
  const Json* layers = member(c.root, "layers");
  const Json* aa = member(c.root, "activation_analysis");
  PlotSeries params;
  params.name = "parameters";
  params.kind = "parameters";
  params.color = "#222";
  params.width = 2.0;
  std::map<int64_t, ImageSeries> images;
  std::set<int64_t> disc(c.disc_images.begin(), c.disc_images.end()), agree(c.agree_images.begin(), c.agree_images.end());
  PlotSeries noise;
  noise.name = "noise floor per row";
  noise.kind = "noise";
  noise.color = "#888";
  noise.dashed = true;
  noise.markers = false;
  for (size_t i = 0; i < array_size(layers); ++i) {
    const Json* L = element(layers, i);
    const int64_t row = integer(member(L, "row")).value_or(static_cast<int64_t>(i));
    if (!plottable(row)) continue;
    const double x = static_cast<double>(row);
    const Json* P = member(L, "parameters");
    if (auto v = number(member(P, "mean_abs_diff"))) {
      params.points.emplace_back(x, *v);
      std::string tip = row_text(L, row) + "\nparameters mean |Δ| = " + fmt_num(*v);
      if (auto pat = string_of(member(P, "pattern"))) tip += " (" + *pat + ")";
      params.tooltips.push_back(tip);
    }
    const Json* A = member(L, "activations");
    if (auto nf = number(member(A, "noise_floor"))) noise.points.emplace_back(x, *nf);
    const Json* per = member(A, "per_image");
    for (size_t k = 0; k < array_size(per); ++k) {
      const Json* e = element(per, k);
      auto img = integer(member(e, "image"));
      if (!img) continue;
      ImageSeries& s = images[*img];
      s.image = *img;
      if (disc.count(*img)) s.group = 0;
      else if (agree.count(*img)) s.group = 1;
      else if (auto d = boolean(member(e, "discrepant"))) s.group = *d ? 0 : 1;
      if (auto v = number(member(e, "mean_abs_diff"))) {
        s.mad.emplace_back(x, *v);
        s.mad_tips.push_back(row_text(L, row) + "\n" + image_label(c, *img) + ": activation mean |Δ| = " + fmt_num(*v));
      }
      if (auto v = number(member(e, "rel_error"))) {
        s.rel.emplace_back(x, *v);
        s.rel_tips.push_back(row_text(L, row) + "\n" + image_label(c, *img) + ": relative error = " + fmt_num(*v));
      }
    }
  }
  // Series order: discrepant images (analysis order), agreeing, then any other.
  std::vector<const ImageSeries*> ordered;
  for (int g = 0; g < 3; ++g) {
    std::vector<const ImageSeries*> grp;
    for (const auto& [k, s] : images)
      if (s.group == g) grp.push_back(&s);
    const std::vector<int64_t>& pref = g == 0 ? c.disc_images : c.agree_images;
    auto pos = [&](int64_t img) {
      auto it = std::find(pref.begin(), pref.end(), img);
      return it == pref.end() ? pref.size() + static_cast<size_t>(img) : static_cast<size_t>(it - pref.begin());
    };
    std::stable_sort(grp.begin(), grp.end(), [&](const ImageSeries* a, const ImageSeries* b) { return pos(a->image) < pos(b->image); });
    ordered.insert(ordered.end(), grp.begin(), grp.end());
  }
  int n_group[3] = {0, 0, 0};
  for (const auto* s : ordered) n_group[s->group]++;
  int seen[3] = {0, 0, 0};
  std::vector<PlotSeries> mad_series, rel_series;
  for (const auto* s : ordered) {
    const int i = seen[s->group]++;
    const double t = n_group[s->group] > 1 ? static_cast<double>(i) / (n_group[s->group] - 1) : 0.0;
    std::string color, kind, tag;
    if (s->group == 0) { color = hsl(0 + 38 * t, 85, 42 + 10 * t); kind = "discrepant"; tag = "top-1 differs"; }
    else if (s->group == 1) { color = hsl(200 + 45 * t, 70, 38 + 14 * t); kind = "agreeing"; tag = "top-1 agrees"; }
    else { color = hsl(120, 30, 35 + 20 * t); kind = "image"; tag = "analysed"; }
    PlotSeries m;
    m.name = image_label(c, s->image) + ", " + tag;
    m.kind = kind;
    m.color = color;
    m.width = 1.3;
    PlotSeries r = m;
    m.points = s->mad;
    m.tooltips = s->mad_tips;
    r.points = s->rel;
    r.tooltips = s->rel_tips;
    if (!m.points.empty()) mad_series.push_back(std::move(m));
    if (!r.points.empty()) rel_series.push_back(std::move(r));
  }

  // Markers: the first divergent row and the spikes.
  std::vector<PlotMarker> markers;
  auto layer_at = [&](int64_t row) -> const Json* {
    for (size_t i = 0; i < array_size(layers); ++i)
      if (integer(member(element(layers, i), "row")).value_or(static_cast<int64_t>(i)) == row) return element(layers, i);
    return nullptr;
  };
  auto fdr = integer(member(aa, "first_divergent_row"));
  if (fdr && plottable(*fdr)) markers.push_back({static_cast<double>(*fdr), "first divergent " + row_text(layer_at(*fdr), *fdr), "#c62828", true});
  const Json* spikes = member(aa, "spikes");
  for (size_t i = 0; i < array_size(spikes); ++i)
    if (auto r = integer(element(spikes, i)); r && plottable(*r))
      markers.push_back({static_cast<double>(*r), "spike at " + row_text(layer_at(*r), *r), "#ef6c00", false});

  int64_t rows = std::min(c.rows, kMaxPlotRows);
  for (const auto& s : mad_series) for (const auto& [x, v] : s.points) rows = std::max(rows, static_cast<int64_t>(x) + 1);
  for (const auto& [x, v] : params.points) rows = std::max(rows, static_cast<int64_t>(x) + 1);
  for (const auto& m : markers) rows = std::max(rows, static_cast<int64_t>(m.row) + 1);

  // Figure 3: mean absolute difference of parameters and activations.
  LogPlot fig;
  fig.id = "figure3";
  fig.title = "Mean absolute difference per aligned layer (parameters and activations)";
  fig.x_label = "aligned layer (row of the alignment table)";
  fig.y_label = "mean |source − target| (log)";
  fig.rows = rows;
  if (!params.points.empty()) fig.series.push_back(params);
  for (auto& s : mad_series) fig.series.push_back(s);
  fig.markers = markers;
  const bool ran = boolean(member(aa, "ran")).value_or(false);
  std::string act_note;
  if (!ran || mad_series.empty())
    act_note = " No activations were compared" +
               (str_or(member(aa, "note"), "").empty() ? std::string() : ": " + escape(str_or(member(aa, "note"), ""))) + ".";
  if (fig.series.empty()) {
    o += "<p class=\"note\">Nothing to plot: no layer has parameters to compare and no activations were compared." +
         act_note + "</p>";
  } else {
    LogPlotInfo info;
    const std::string svg = render_log_plot(fig, &info);
    o += "<figure><div class=\"scroll\">" + svg + "</div><figcaption>";
    o += "The paper's Figure 3: for each aligned layer (x, the row of the alignment table) the mean absolute "
         "difference between source and target (y, log scale) of its parameters (black, " +
         std::to_string(params.points.size()) + " layers with parameters) and of its activations on each analysed "
         "image (" + std::to_string(n_group[0]) + " images whose top-1 differs in reds, " + std::to_string(n_group[1]) +
         " agreeing images in blues). Rows with no value (unmatched, no parameters, activation not comparable) have "
         "no point.";
    if (info.zero_points > 0)
      o += " " + std::to_string(info.zero_points) + " value" + (info.zero_points == 1 ? " is" : "s are") +
           " exactly 0 and drawn, hollow, on the line marked 0 under the axis (a log scale has no 0).";
    if (fdr) o += " Dashed red line: the first row whose activation error rises above the noise floor (row " +
                  std::to_string(*fdr) + ").";
    if (array_size(spikes) > 0) o += " Orange triangles: spikes (error jumps tenfold over the previous row).";
    o += act_note + " Hover a point for the layer names.</figcaption></figure>";
  }

  // Relative error with the noise floor (the floor is a relative error).
  if (!rel_series.empty()) {
    LogPlot rp;
    rp.id = "relative-error";
    rp.title = "Relative error of activations per aligned layer, with the noise floor";
    rp.x_label = "aligned layer (row of the alignment table)";
    rp.y_label = "‖source − target‖ / ‖source‖ (log)";
    rp.rows = rows;
    rp.series = rel_series;
    if (!noise.points.empty()) rp.series.push_back(noise);
    rp.markers = markers;
    if (auto nf = number(member(aa, "noise_floor")); nf && *nf > 0)
      rp.hlines.push_back({*nf, "median noise floor = " + fmt_num(*nf), "#555"});
    LogPlotInfo info;
    const std::string svg = render_log_plot(rp, &info);
    o += "<figure><div class=\"scroll\">" + svg + "</div><figcaption>Relative L2 error of each analysed image's "
         "activations (same colours). The noise floor is what a float32-rounding-level change of the input causes "
         "at each row (dashed grey, per row; dotted, the median over rows); a row above it differs for a reason. "
         "The floor is a relative error, so it is drawn here rather than in the absolute plot above.";
    if (info.zero_points > 0)
      o += " " + std::to_string(info.zero_points) + " value" + (info.zero_points == 1 ? " is" : "s are") +
           " exactly 0 and drawn on the line marked 0.";
    o += "</figcaption></figure>";
  }
  if (is_object(aa)) {
    const std::string note = str_or(member(aa, "note"), "");
    o += "<table class=\"kv\"><tr><th>Activation analysis</th><td>" +
         std::string(ran ? "ran" : "did not run") + (note.empty() ? std::string() : " — " + escape(note)) +
         "</td></tr><tr><th>Images, top-1 differs</th><td>";
    for (size_t i = 0; i < c.disc_images.size(); ++i) o += (i ? ", " : "") + escape(image_label(c, c.disc_images[i]));
    o += "</td></tr><tr><th>Images, top-1 agrees</th><td>";
    for (size_t i = 0; i < c.agree_images.size(); ++i) o += (i ? ", " : "") + escape(image_label(c, c.agree_images[i]));
    o += "</td></tr><tr><th>Noise floor</th><td>" + cell(member(aa, "noise_floor")) + "</td></tr>" +
         "<tr><th>First divergent row</th><td>" +
         (fdr ? "<a href=\"#layer-row-" + std::to_string(*fdr) + "\">" + escape(row_text(layer_at(*fdr), *fdr)) + "</a>"
              : std::string("—")) +
         "</td></tr><tr><th>Spikes</th><td>" + cell(spikes) + "</td></tr></table>";
  }
  o += "</section>";
}

// ---- τ histogram and images --------------------------------------------------

void tau_section(std::string& o, const Ctx& c) {
  o += "<section id=\"tau\"><h2>Kendall's τ per image</h2>";
  const Json* imgs = member(c.compare, "images");
  // 20 bins of width 0.1 over [-1, 1) and one for τ = 1 exactly.
  Histogram h;
  h.id = "tau-histogram";
  h.title = "Kendall's τ between source and target top-k, per image";
  h.x_label = "τ (bins of 0.1; the last bar is τ = 1: the same ordered top-k)";
  h.y_label = "images";
  h.categories = {{"top-1 differs", "discrepant", "#c62828"}, {"top-1 agrees", "agreeing", "#1e6fbf"},
                  {"agreement unknown", "unknown", "#999"}};
  for (int b = 0; b < 20; ++b) {
    const double lo = -1.0 + 0.1 * b;
    char label[16], tip[64];
    std::snprintf(label, sizeof label, "%.1f", lo);
    std::snprintf(tip, sizeof tip, "τ in [%.1f, %.1f)", lo, lo + 0.1);
    h.bins.push_back({label, {0, 0, 0}, tip});
  }
  h.bins.push_back({"1", {0, 0, 0}, "τ = 1"});
  int n = 0;
  for (size_t i = 0; i < array_size(imgs); ++i) {
    const Json* im = element(imgs, i);
    auto t = number(member(im, "tau"));
    if (!t) continue;
    size_t bin = 20;
    if (*t < 1.0 - 1e-12) bin = static_cast<size_t>(std::clamp(std::floor((*t + 1.0) / 0.1 + 1e-9), 0.0, 19.0));
    auto agree = boolean(member(im, "top1_agree"));
    h.bins[bin].counts[agree ? (*agree ? 1 : 0) : 2]++;
    ++n;
  }
  if (n == 0) {
    o += "<p class=\"note\">No τ to show: " +
         std::string(c.compare ? "top-k does not apply to these outputs." : "the models did not both run.") + "</p>";
  } else {
    o += "<figure><div class=\"scroll\">" + render_histogram(h) + "</div><figcaption>" + std::to_string(n) +
         " images, stacked by whether source and target agree on top-1.</figcaption></figure>";
  }
  // Per-image table.
  const size_t ni = array_size(imgs);
  if (ni > 0) {
    const size_t nm = array_size(c.models);
    std::set<int64_t> disc(c.disc_images.begin(), c.disc_images.end()), agree(c.agree_images.begin(), c.agree_images.end());
    open_details(o, "Images (" + std::to_string(ni) + ")", ni <= 20);
    o += "<table class=\"images\"><thead><tr>" + th("#", true) + th("File");
    for (size_t m = 0; m < nm; ++m) o += "<th>top-1, " + escape(model_label(c, static_cast<int64_t>(m))) + "</th>";
    o += th("Top-1 agrees") + th("τ", true) + th("Activations analysed") + "</tr></thead><tbody>";
    for (size_t i = 0; i < ni; ++i) {
      const Json* im = element(imgs, i);
      const Json* top = member(im, "top");
      const bool differs = boolean(member(im, "top1_agree")) == std::optional<bool>(false);
      o += std::string("<tr") + (differs ? " class=\"finding\"" : "") + "><td class=\"num\">" + std::to_string(i) +
           "</td><td class=\"name\">" + escape(base_name(str_or(member(im, "file"), ""))) + "</td>";
      for (size_t m = 0; m < nm; ++m) {
        const Json* first = element(element(top, m), 0);
        std::string v = cell(member(first, "index"));
        if (auto l = string_of(member(first, "label"))) v += " " + escape(*l);
        if (auto s = number(member(first, "score"))) v += " <span class=\"muted\">(" + fmt_num(*s) + ")</span>";
        o += "<td>" + v + "</td>";
      }
      const int64_t ii = static_cast<int64_t>(i);
      o += yes_no_cell(member(im, "top1_agree")) + num_cell(member(im, "tau")) + "<td>" +
           (disc.count(ii) ? "yes (top-1 differs)" : agree.count(ii) ? "yes (agrees)" : "") + "</td></tr>";
    }
    o += "</tbody></table>";
    close_details(o);
  }
  o += "</section>";
}

// ---- alignment -----------------------------------------------------------------

void alignment_rows(std::string& o, const Json* rows, bool only_unmatched) {
  o += "<table class=\"alignment\"><thead><tr>" + th("#", true) + th("Status") + th("Source node") + th("Source op") +
       th("Target node") + th("Target op") + th("Target nodes folded in") + th("Confidence", true) + th("Method") +
       th("Layout") + "</tr></thead><tbody>";
  for (size_t i = 0; i < array_size(rows); ++i) {
    const Json* r = element(rows, i);
    const std::string status = str_or(member(r, "status"), "");
    if (only_unmatched && status == "matched") continue;
    o += "<tr class=\"status-" + escape(status) + "\">" + num_cell(member(r, "index")) + text_cell(member(r, "status")) +
         text_cell(member(r, "source_node"), "name") + text_cell(member(r, "source_op")) +
         text_cell(member(r, "target_node"), "name") + text_cell(member(r, "target_op"));
    const Json* folded = member(r, "target_nodes");
    // The folded list only adds information when it holds more than the row's own node.
    o += array_size(folded) > 1 ? text_cell(folded, "name") : std::string("<td></td>");
    auto conf = number(member(r, "confidence"));
    o += std::string("<td class=\"num") + (conf && *conf < 0.5 ? " bad" : "") + "\">" + (conf ? fmt_num(*conf) : "—") +
         "</td>" + text_cell(member(r, "method")) + text_cell(member(r, "layout")) + "</tr>";
  }
  o += "</tbody></table>";
}

void alignment_section(std::string& o, const Ctx& c) {
  o += "<section id=\"alignment\"><h2>Alignment</h2>";
  const Json* al = member(c.root, "alignment");
  const Json* rows = member(al, "rows");
  if (array_size(rows) == 0) {
    o += "<p class=\"note\">No alignment.</p></section>";
    return;
  }
  o += "<p>" + cell(member(al, "matched"), "?") + " matched, " + cell(member(al, "removed"), "?") +
       " removed (in the source only), " + cell(member(al, "inserted"), "?") + " inserted (in the target only)";
  if (member(al, "source_layers") || member(al, "target_layers"))
    o += "; " + cell(member(al, "source_layers"), "?") + " source layers, " + cell(member(al, "target_layers"), "?") +
         " target layers";
  o += ".</p>";
  const size_t n = array_size(rows);
  size_t unmatched = 0;
  for (size_t i = 0; i < n; ++i)
    if (str_or(member(element(rows, i), "status"), "") != "matched") ++unmatched;
  if (n > kOpenRows && unmatched > 0) {
    open_details(o, "Inserted and removed rows (" + std::to_string(unmatched) + ")", true);
    alignment_rows(o, rows, true);
    close_details(o);
  }
  open_details(o, "All rows (" + std::to_string(n) + ")", n <= kOpenRows);
  alignment_rows(o, rows, false);
  close_details(o);
  o += "</section>";
}

// ---- per-layer -------------------------------------------------------------------

bool layer_has_finding(const Ctx& c, const Json* L, int64_t row) {
  const Json* P = member(L, "parameters");
  if (boolean(member(P, "differ")).value_or(false)) return true;
  if (string_of(member(P, "pattern"))) return true;
  if (!member(P, "differ")) {
    if (auto v = number(member(P, "max_abs_diff")); v && *v > 0) return true;
  }
  if (array_size(member(member(L, "hyperparameters"), "differences")) > 0) return true;
  if (boolean(member(member(L, "activations"), "above_noise")).value_or(false)) return true;
  if (array_size(member(L, "structure")) > 0) return true;
  return c.suspect_rows.count(row) > 0;
}

void layer_table(std::string& o, const Ctx& c, const std::vector<size_t>& which, bool anchors) {
  const Json* layers = member(c.root, "layers");
  o += "<table class=\"layers\"><thead><tr>" + th("Row", true) + th("Source node") + th("Target node") + th("Op") +
       th("Params mean |Δ|", true) + th("max |Δ|", true) + th("rel L2", true) + th("cosine", true) + th("Pattern") +
       th("Hyperparameter differences") + th("Act. mean |Δ| (top-1 differs)", true) + th("rel. error", true) +
       th("Act. mean |Δ| (agrees)", true) + th("rel. error", true) + th("Noise floor", true) + th("Above noise") +
       th("Structure") + "</tr></thead><tbody>";
  for (size_t i : which) {
    const Json* L = element(layers, i);
    const int64_t row = integer(member(L, "row")).value_or(static_cast<int64_t>(i));
    const Json* P = member(L, "parameters");
    const Json* A = member(L, "activations");
    o += std::string("<tr") + (anchors ? " id=\"layer-row-" + std::to_string(row) + "\"" : "") +
         (layer_has_finding(c, L, row) ? " class=\"finding\"" : "") + "><td class=\"num\">" + std::to_string(row) +
         "</td>" + text_cell(member(L, "source_node"), "name") + text_cell(member(L, "target_node"), "name") +
         text_cell(member(L, "op"));
    o += num_cell(member(P, "mean_abs_diff")) + num_cell(member(P, "max_abs_diff")) + num_cell(member(P, "rel_l2")) +
         num_cell(member(P, "cosine"));
    std::string pat = cell(member(P, "pattern"), "");
    if (auto q = number(member(P, "sqnr_db"))) pat += (pat.empty() ? "" : ", ") + std::string("SQNR ") + fmt_num(*q) + " dB";
    o += "<td>" + pat + "</td><td>";
    const Json* diffs = member(member(L, "hyperparameters"), "differences");
    for (size_t k = 0; k < array_size(diffs); ++k) {
      const Json* d = element(diffs, k);
      o += (k ? "<br>" : "") + std::string("<b>") + cell(member(d, "name"), "?") + "</b>: " + value_html(member(d, "source")) +
           " → " + value_html(member(d, "target"));
    }
    o += "</td>" + num_cell(member(A, "discrepant_mean_abs_diff")) + num_cell(member(A, "discrepant_rel_error")) +
         num_cell(member(A, "agreeing_mean_abs_diff")) + num_cell(member(A, "agreeing_rel_error")) +
         num_cell(member(A, "noise_floor")) + yes_no_cell(member(A, "above_noise")) + "<td>";
    const Json* st = member(L, "structure");
    if (is_array(st)) {
      for (size_t k = 0; k < array_size(st); ++k) o += (k ? "<br>" : "") + cell(element(st, k));
    } else {
      o += cell(st, "");
    }
    o += "</td></tr>";
  }
  o += "</tbody></table>";
}

void layers_section(std::string& o, const Ctx& c) {
  o += "<section id=\"layers\"><h2>Per-layer analysis</h2>";
  const Json* layers = member(c.root, "layers");
  const size_t n = array_size(layers);
  if (n == 0) {
    o += "<p class=\"note\">No layers.</p></section>";
    return;
  }
  o += "<p class=\"note\">Parameters: mean and max absolute difference, relative L2 error and cosine of the aligned "
       "layer's weights (in the float view, layout- and folding-aware) and the recognised pattern; hyperparameters "
       "normalised to one convention; activations averaged over the analysed images.</p>";
  std::vector<size_t> all, found;
  for (size_t i = 0; i < n; ++i) {
    all.push_back(i);
    const Json* L = element(layers, i);
    if (layer_has_finding(c, L, integer(member(L, "row")).value_or(static_cast<int64_t>(i)))) found.push_back(i);
  }
  if (found.size() > kOpenRows && !c.top_suspect_rows.empty()) {
    // Too many to show open: the layers of the first suspects, in rank order.
    std::vector<size_t> top;
    for (int64_t r : c.top_suspect_rows)
      for (size_t i = 0; i < n; ++i)
        if (integer(member(element(layers, i), "row")).value_or(static_cast<int64_t>(i)) == r) { top.push_back(i); break; }
    if (!top.empty()) {
      open_details(o, "Layers of the first " + std::to_string(std::min(kOpenSuspects, array_size(member(c.root, "suspects")))) +
                      " suspects, in rank order (" + std::to_string(top.size()) + ")", true);
      layer_table(o, c, top, false);
      close_details(o);
    }
  }
  if (!found.empty() && found.size() < n) {
    open_details(o, "Layers with a finding (" + std::to_string(found.size()) + ")", found.size() <= kOpenRows);
    layer_table(o, c, found, false);
    close_details(o);
  }
  open_details(o, "All layers (" + std::to_string(n) + ")", n <= kOpenRows);
  layer_table(o, c, all, true);
  close_details(o);
  o += "</section>";
}

// ---- preprocessing, errors, timings ----------------------------------------------

void preprocessing_section(std::string& o, const Ctx& c) {
  o += "<section id=\"preprocessing\"><h2>Preprocessing hypotheses</h2>";
  const Json* p = member(c.root, "preprocessing");
  if (!is_object(p)) {
    o += "<p class=\"note\">Not part of this document.</p></section>";
    return;
  }
  const auto best = string_of(member(p, "best"));
  o += "<table class=\"kv\"><tr><th>Tested</th>" + yes_no_cell(member(p, "tested")) + "</tr><tr><th>Note</th>" +
       text_cell(member(p, "note")) + "</tr><tr><th>Sample images</th>" + num_cell(member(p, "sample_images")) +
       "</tr><tr><th>Baseline discrepancy</th>" + pct_cell(member(p, "baseline_discrepancy")) +
       "</tr><tr><th>Best hypothesis</th><td>" + (best ? escape(*best) : std::string("none explains the discrepancy")) +
       "</td></tr></table>";
  const Json* hs = member(p, "hypotheses");
  if (array_size(hs) > 0) {
    o += "<table class=\"hypotheses\"><thead><tr>" + th("Hypothesis") + th("Description") +
         th("Discrepancy with it", true) + th("Explains") + "</tr></thead><tbody>";
    for (size_t i = 0; i < array_size(hs); ++i) {
      const Json* h = element(hs, i);
      const bool is_best = best && string_of(member(h, "name")) == best;
      const bool explains = boolean(member(h, "explains")).value_or(false);
      o += std::string("<tr") + (is_best ? " class=\"best\"" : "") + ">" + text_cell(member(h, "name")) +
           text_cell(member(h, "description")) + pct_cell(member(h, "discrepancy_rate")) + "<td" +
           (explains ? " class=\"explains\"" : "") + ">" + cell(member(h, "explains")) + "</td></tr>";
    }
    o += "</tbody></table>";
  }
  o += "</section>";
}

Ctx make_ctx(const Json& doc) {
  Ctx c;
  c.root = &doc;
  c.compare = is_object(member(&doc, "compare")) ? member(&doc, "compare") : nullptr;
  c.models = member(c.compare, "models");
  const Json* imgs = member(c.compare, "images");
  for (size_t i = 0; i < array_size(imgs); ++i)
    if (auto f = string_of(member(element(imgs, i), "file"))) c.image_file[static_cast<int64_t>(i)] = *f;
  const Json* aa = member(&doc, "activation_analysis");
  for (size_t i = 0; i < array_size(member(aa, "images_discrepant")); ++i)
    if (auto v = integer(element(member(aa, "images_discrepant"), i))) c.disc_images.push_back(*v);
  for (size_t i = 0; i < array_size(member(aa, "images_agreeing")); ++i)
    if (auto v = integer(element(member(aa, "images_agreeing"), i))) c.agree_images.push_back(*v);
  const Json* sus = member(&doc, "suspects");
  std::vector<std::pair<int64_t, int64_t>> ranked;  // (rank, row)
  for (size_t i = 0; i < array_size(sus); ++i) {
    auto r = integer(member(element(sus, i), "row"));
    if (!r) continue;
    c.suspect_rows.insert(*r);
    ranked.emplace_back(integer(member(element(sus, i), "rank")).value_or(INT64_MAX), *r);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (size_t i = 0; i < ranked.size() && i < kOpenSuspects; ++i)
    if (std::find(c.top_suspect_rows.begin(), c.top_suspect_rows.end(), ranked[i].second) == c.top_suspect_rows.end())
      c.top_suspect_rows.push_back(ranked[i].second);
  c.rows = static_cast<int64_t>(array_size(member(member(&doc, "alignment"), "rows")));
  return c;
}

void sections(std::string& o, const Ctx& c) {
  verdict_section(o, c);
  o += "\n";
  suspects_section(o, c);
  o += "\n";
  discrepancy_section(o, c);
  o += "\n";
  plots_section(o, c);
  o += "\n";
  tau_section(o, c);
  o += "\n";
  alignment_section(o, c);
  o += "\n";
  layers_section(o, c);
  o += "\n";
  preprocessing_section(o, c);
  o += "\n";
  errors_section(o, member(c.root, "errors"), "errors", "Errors");
  o += "\n";
  timings_section(o, member(c.root, "timings_s"), "timings", "Timings",
                  {"compare", "static", "preprocessing", "activations"});
}

}  // namespace

// ---- errors and timings (both pages) ------------------------------------------------

void errors_section(std::string& o, const Json* e, const char* id, const char* title) {
  o += std::string("<section id=\"") + id + "\"><h2>" + title + "</h2>";
  if (array_size(e) == 0) {
    o += "<p class=\"note\">None.</p></section>";
    return;
  }
  o += "<table class=\"errors\"><thead><tr>" + th("Stage") + th("Message") + "</tr></thead><tbody>";
  for (size_t i = 0; i < array_size(e); ++i) {
    const Json* x = element(e, i);
    if (is_object(x)) o += "<tr>" + text_cell(member(x, "stage")) + text_cell(member(x, "message"), "name") + "</tr>";
    else o += "<tr><td></td>" + text_cell(x, "name") + "</tr>";
  }
  o += "</tbody></table></section>";
}

void timings_section(std::string& o, const Json* t, const char* id, const char* title,
                     const std::vector<const char*>& stages) {
  o += std::string("<section id=\"") + id + "\"><h2>" + title + "</h2>";
  if (!is_object(t) || t->empty()) {
    o += "<p class=\"note\">Not recorded.</p></section>";
    return;
  }
  o += "<table class=\"timings\"><thead><tr>" + th("Stage") + th("Seconds", true) + "</tr></thead><tbody>";
  // The documented stages in pipeline order, then any other key.
  for (const char* k : stages)
    if (const Json* v = member(t, k)) o += "<tr><td>" + std::string(k) + "</td>" + num_cell(v) + "</tr>";
  for (auto it = t->begin(); it != t->end(); ++it) {
    const std::string& k = it.key();
    if (k == "total" ||
        std::find_if(stages.begin(), stages.end(), [&](const char* s) { return k == s; }) != stages.end())
      continue;
    o += "<tr><td>" + escape(k) + "</td>" + num_cell(&it.value()) + "</tr>";
  }
  if (const Json* v = member(t, "total")) o += "<tr><th>total</th>" + num_cell(v) + "</tr>";
  o += "</tbody></table></section>";
}

// ---- the diagnose page's parts ---------------------------------------------------

std::string diagnose_schema_note(const Json& diagnose) {
  auto sv = integer(member(&diagnose, "schema_version"));
  if (sv && *sv == 1) return "";
  return "<p class=\"note\"><strong>Note:</strong> this page was written for diagnose schema version 1; the "
         "document says " + (sv ? std::to_string(*sv) : std::string("nothing")) +
         ". Fields it does not know are not shown.</p>";
}

std::string diagnose_nav() {
  return "<nav><a href=\"#verdict\">Verdict</a><a href=\"#suspects\">Suspects</a><a href=\"#discrepancy\">Discrepancy</a>"
         "<a href=\"#plots\">Layer plot</a><a href=\"#tau\">τ histogram</a><a href=\"#alignment\">Alignment</a>"
         "<a href=\"#layers\">Layers</a><a href=\"#preprocessing\">Preprocessing</a><a href=\"#errors\">Errors</a>"
         "<a href=\"#timings\">Timings</a></nav>";
}

std::string diagnose_header_table(const Json& diagnose) {
  std::string o;
  header_table(o, make_ctx(diagnose));
  return o;
}

void diagnose_sections(std::string& o, const Json& diagnose) { sections(o, make_ctx(diagnose)); }

std::string render_diagnose_page(const Json& doc) {
  const Ctx c = make_ctx(doc);
  std::string o;
  o.reserve(1 << 16);
  const Json* verdict = member(&doc, "verdict");
  const std::string title = "convfix diagnose: " + base_name(str_or(member(member(&doc, "source"), "file"), "source")) +
                            " → " + base_name(str_or(member(member(&doc, "target"), "file"), "target")) + " (" +
                            str_or(member(verdict, "code"), "no verdict") + ")";
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>" + escape(title) + "</title><style>" + kCss + "</style></head><body>\n";
  header(o, c);
  o += "\n<main>";
  sections(o, c);
  o += "</main>\n<footer>Written by convfix " + cell(member(&doc, "convfix_version"), "?") +
       " from a diagnose document of schema version " + cell(member(&doc, "schema_version"), "?") +
       ". This page is self-contained: no script and no external resource.</footer>\n</body></html>\n";
  return o;
}

}  // namespace report

// A document whose "command" is "repair" gets the repair page; anything else
// (a diagnose document, or one that says nothing) the diagnose page.
Expected<std::string> render_html_report(const nlohmann::json& doc) {
  const bool repair = report::string_of(report::member(&doc, "command")) == std::optional<std::string>("repair");
  const char* what = repair ? "repair report" : "diagnose report";
  try {
    return repair ? report::render_repair_page(doc) : report::render_diagnose_page(doc);
  } catch (const std::bad_alloc&) {
    return internal_error(std::string(what) + ": out of memory while rendering the page");
  } catch (const std::exception& e) {
    return internal_error(std::string(what) + ": " + e.what());
  } catch (...) {
    return internal_error(std::string(what) + ": unexpected failure while rendering the page");
  }
}

Status write_html_report(const nlohmann::json& doc, const std::string& path) {
  auto page = render_html_report(doc);
  if (!page.ok()) return page.status();
  return write_file_atomic(path, page.value());
}

}  // namespace convfix
