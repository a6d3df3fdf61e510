// The repair report page: the repair document of docs/DIAGNOSIS.md
// ("repair") as one self-contained page — a summary, the log of every change
// tried, a before/after per-layer error plot, a short summary of the
// diagnosis after repair, then the full diagnosis of the pair before repair,
// drawn by the diagnose page's own code (report.cpp). Contract in
// convfix/report.h; the page is documented in docs/DIAGNOSIS.md, "Repair
// report".
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "report/html.h"
#include "report/page.h"
#include "report/svg_plot.h"

namespace convfix::report {
namespace {

// Suspects listed in the after-repair summary.
constexpr size_t kAfterSuspects = 10;

const char* kRepairCss = R"CSS(
.verdict-repaired { background: #2e7d32; } .verdict-improved { background: #00796b; }
.verdict-not_repaired { background: #b3261e; } .verdict-cannot_run { background: #6a1b9a; }
.verdict-box.verdict-code-repaired { border-left-color: #2e7d32; } .verdict-box.verdict-code-improved { border-left-color: #00796b; }
.verdict-box.verdict-code-not_repaired { border-left-color: #b3261e; } .verdict-box.verdict-code-cannot_run { border-left-color: #6a1b9a; }
tr.kept td { background: #e7f6e7; } tr.kept td:first-child { box-shadow: inset 4px 0 0 #2e7d32; }
td.better { color: #1b5e20; font-weight: 600; } td.worse { color: #b3261e; font-weight: 600; }
.kept-badge { display: inline-block; padding: 0 6px; border-radius: 3px; background: #2e7d32; color: #fff; font-weight: 700;
              font-size: 12px; }
.details-extra { color: var(--muted); font-size: 12px; }
.details-sub { margin-left: 10px; padding-left: 6px; border-left: 2px solid var(--line); }
table.repairs td { max-width: 22em; } table.repairs td.change { min-width: 14em; }
table.repairs td.details { min-width: 20em; max-width: 32em; } .kept-badge { white-space: nowrap; }
div.embedded { margin-top: 36px; border-top: 4px double var(--line); }
div.embedded > h2.embedded-title { border-top: none; font-size: 20px; }
)CSS";

std::string code_of(const Json* doc) { return str_or(member(member(doc, "verdict"), "code"), "unknown"); }

// "a → b" for two values shown with `fmt`; the cell is marked better/worse
// when both are numbers and b is lower (or, with higher_is_better, higher).
template <typename Fmt>
std::string before_after_cell(const Json* before, const Json* after, Fmt fmt, bool higher_is_better = false,
                              const std::string& extra_html = "") {
  auto b = number(before), a = number(after);
  if (!b && !a) return "<td class=\"num\">—</td>";
  std::string cls = "num";
  if (b && a && *a != *b) cls += (*a < *b) != higher_is_better ? " better" : " worse";
  return "<td class=\"" + cls + "\">" + (b ? fmt(*b) : std::string("—")) + " → " + (a ? fmt(*a) : std::string("—")) +
         extra_html + "</td>";
}

// Alignment rows: the anchors of the diagnosis's per-layer table
// (layer-row-N) and the row of each node name, from the diagnosis's layers
// first, then the repair document's own layers.
struct LayerRows {
  std::set<int64_t> anchors;
  std::map<std::string, int64_t> by_target, by_source;

  explicit LayerRows(const Json& doc) {
    const Json* diagnosis = member(&doc, "diagnosis");
    const Json* own = member(&doc, "layers");
    for (const Json* layers : {is_object(diagnosis) ? member(diagnosis, "layers") : nullptr, own}) {
      const bool in_diagnosis = layers != own;
      for (size_t i = 0; i < array_size(layers); ++i) {
        const Json* L = element(layers, i);
        // The diagnose page anchors a layer without a row at its index.
        auto r = in_diagnosis ? std::optional<int64_t>(integer(member(L, "row")).value_or(static_cast<int64_t>(i)))
                              : integer(member(L, "row"));
        if (!r) continue;
        if (in_diagnosis) anchors.insert(*r);
        if (auto t = string_of(member(L, "target_node"))) by_target.emplace(*t, *r);
        if (auto s = string_of(member(L, "source_node"))) by_source.emplace(*s, *r);
      }
    }
  }
  // A log entry's row: its "row", else the row of its target node, else of its source node.
  std::optional<int64_t> of(const Json* entry) const {
    if (auto r = integer(member(entry, "row"))) return r;
    if (auto t = string_of(member(entry, "target_node")); t && by_target.count(*t)) return by_target.at(*t);
    if (auto s = string_of(member(entry, "source_node")); s && by_source.count(*s)) return by_source.at(*s);
    return std::nullopt;
  }
  // The row number, a link to the diagnosis's per-layer row when it has one.
  std::string link(std::optional<int64_t> r) const {
    if (!r) return "—";
    if (anchors.count(*r)) return "<a href=\"#layer-row-" + std::to_string(*r) + "\">" + std::to_string(*r) + "</a>";
    return std::to_string(*r);
  }
};

// ---- header and summary ----------------------------------------------------------

std::string model_details(const Json* m, bool with_quantized) {
  std::string d = str_or(member(m, "format"), "");
  if (auto p = string_of(member(m, "preset"))) d += (d.empty() ? "" : ", ") + std::string("preprocess ") + *p;
  if (with_quantized)
    if (auto q = boolean(member(m, "quantized")); q && *q) d += (d.empty() ? "" : ", ") + std::string("quantized");
  return escape(d);
}

void summary_section(std::string& o, const Json& doc) {
  const Json* r = &doc;
  const Json* verdict = member(r, "verdict");
  const std::string code = code_of(r);
  static const std::map<std::string, std::string> kMeaning = {
      {"repaired", "After the kept changes the repaired model's top-1 agrees with the source's on every image."},
      {"improved", "The kept changes reduce the discrepancy or the output error, but some is left."},
      {"faithful", "The pair was faithful before repair: there was nothing to repair."},
      {"not_repaired", "No change that was tried made the target behave more like the source."},
      {"cannot_run", "The repair could not run (see Errors)."}};
  o += "<section id=\"repair-summary\"><h2>Summary</h2><div class=\"verdict-box verdict-code-" + escape(code) + "\">";
  o += "<p><span class=\"verdict verdict-" + escape(code) + "\">" + escape(code) + "</span> ";
  if (auto it = kMeaning.find(code); it != kMeaning.end()) o += "<span class=\"muted\">" + escape(it->second) + "</span>";
  o += "</p><p>" + cell(member(verdict, "summary"), "(no summary)") + "</p></div>";

  o += "<table class=\"kv repair-summary\">";
  for (const char* side : {"source", "target"}) {
    const Json* m = member(r, side);
    o += std::string("<tr><th>") + (side[0] == 's' ? "Source" : "Target") + "</th><td class=\"name\">" +
         cell(member(m, "file")) + "</td><td>" + model_details(m, side[0] == 't') + "</td></tr>";
  }
  o += "<tr><th>Repaired model</th>";
  if (auto out = string_of(member(r, "output_model")))
    o += "<td class=\"name\">" + escape(*out) + "</td><td>" + cell(member(r, "output_format"), "") + "</td>";
  else
    o += "<td colspan=\"2\">none written</td>";
  o += "</tr>";
  const std::string pct_note = "<span class=\"muted\"> of the images, top-1 differs</span>";
  o += "<tr><th>Top-1 discrepancy</th>" +
       before_after_cell(member(r, "discrepancy_before"), member(r, "discrepancy_after"), fmt_pct, false, pct_note) +
       "<td class=\"muted\">before → after, on the full image set</td></tr>";
  o += "<tr><th>Kendall τ (mean)</th>" +
       before_after_cell(member(r, "tau_before"), member(r, "tau_after"), fmt_num, true) +
       "<td class=\"muted\">of the top-k lists; 1 = same ordered top-k</td></tr>";
  o += "<tr><th>Output error</th>" +
       before_after_cell(member(r, "output_error_before"), member(r, "output_error_after"), fmt_num) +
       "<td class=\"muted\">max |source − target| / max |source| over the outputs</td></tr>";
  o += "<tr><th>Input preprocessing</th>";
  const Json* pre = member(r, "preprocessing_required");
  if (is_object(pre)) {
    std::string what = "preset <b>" + cell(member(pre, "preset"), "?") + "</b>";
    if (auto cf = number(member(pre, "crop_fraction"))) what += ", centre crop " + fmt_num(*cf);
    if (auto e = boolean(member(pre, "embedded")))
      what += *e ? " (embedded in the repaired model)" : " (not embedded: the input pipeline must apply it)";
    o += "<td colspan=\"2\">" + what + (string_of(member(pre, "summary")) ? ". " + cell(member(pre, "summary")) : "") +
         "</td>";
  } else if (pre && pre->is_null()) {
    o += "<td colspan=\"2\">no change needed</td>";
  } else {
    o += "<td colspan=\"2\">" + cell(pre) + "</td>";
  }
  o += "</tr>";
  const Json* v = member(r, "verification");
  o += "<tr><th>Verification</th><td colspan=\"2\">";
  if (is_object(v)) {
    o += cell(member(v, "images"), "?") + " images (" + cell(member(v, "discrepant"), "?") +
         " whose top-1 differed, " + cell(member(v, "holdout"), "?") + " agreeing ones held out)";
    if (member(v, "reload_ok") || member(v, "reload_max_abs_diff")) {
      auto ok = boolean(member(v, "reload_ok"));
      o += std::string("; the written model, reloaded, ") +
           (ok ? (*ok ? "gives the same outputs" : "<span class=\"bad\">does not give the same outputs</span>")
               : "was not checked") +
           " (max |Δ| " + cell(member(v, "reload_max_abs_diff")) + ")";
    }
    if (auto fd = integer(member(v, "final_discrepant")))
      o += "; after the kept changes " + std::to_string(*fd) + " of them differ";
    if (boolean(member(v, "budget_spent")).value_or(false)) o += "; <b>the time budget ran out</b> before the search ended";
  } else {
    o += cell(v);
  }
  o += "</td></tr>";
  const Json* reps = member(r, "repairs");
  size_t kept = 0;
  for (size_t i = 0; i < array_size(reps); ++i) kept += boolean(member(element(reps, i), "kept")).value_or(false) ? 1 : 0;
  o += "<tr><th>Changes</th><td colspan=\"2\">" + std::to_string(kept) + " kept of " + std::to_string(array_size(reps)) +
       " tried</td></tr>";
  o += "</table></section>";
}

// ---- repair log ----------------------------------------------------------------------

// ---- a change's details (free-form; the strategies write old/new pairs) ------------

// Sub-entries of a grouped change shown before "… and N more".
constexpr size_t kDetailItems = 20;

const char* old_key_of(const Json* v) { return member(v, "old") ? "old" : member(v, "before") ? "before" : nullptr; }
const char* new_key_of(const Json* v) { return member(v, "new") ? "new" : member(v, "after") ? "after" : nullptr; }
// An object that says what a value was and what it became.
bool is_old_new(const Json* v) { return is_object(v) && (old_key_of(v) || new_key_of(v)); }

// "<b>label</b> name: old → new (other = value; ...)"; `label` (HTML) may be empty.
std::string old_new_line(const Json* v, const std::string& label) {
  const char* ok = old_key_of(v);
  const char* nk = new_key_of(v);
  std::string head = label;
  const Json* name = member(v, "name");
  if (head.empty()) head = name ? "<b>" + cell(name) + "</b>" : std::string();
  else if (name) head += " <span class=\"name\">" + cell(name) + "</span>";
  std::string s = (head.empty() ? std::string() : head + ": ") + value_html(ok ? member(v, ok) : nullptr) + " → " +
                  value_html(nk ? member(v, nk) : nullptr);
  std::string other;
  for (auto it = v->begin(); it != v->end(); ++it) {
    const std::string& k = it.key();
    if (k == "name" || (ok && k == ok) || (nk && k == nk)) continue;
    other += (other.empty() ? "" : "; ") + escape(k) + " = " + value_html(&it.value());
  }
  if (!other.empty()) s += " <span class=\"details-extra\">(" + other + ")</span>";
  return "<div>" + s + "</div>";
}

// A change's details: an old/new object as "name: old → new"; members that
// are old/new objects (or arrays of them) one line each; an array of
// sub-changes ({target_node, change, details}, a grouped change) as a nested
// list of at most kDetailItems; every other member as "key = value".
std::string details_html(const Json* d, int depth = 0) {
  if (!is_object(d)) return cell(d, "");
  std::string o;                        // old/new lines, sub-changes
  std::vector<std::string> plain_lines;  // "key = value", HTML
  const bool self = is_old_new(d);
  if (self) o += old_new_line(d, "");
  for (auto it = d->begin(); it != d->end(); ++it) {
    const std::string& k = it.key();
    const Json* v = &it.value();
    const char* ok = old_key_of(d);
    const char* nk = new_key_of(d);
    if (self && (k == "name" || (ok && k == ok) || (nk && k == nk))) continue;
    if (is_old_new(v)) {
      o += old_new_line(v, "<b>" + escape(k) + "</b>");
      continue;
    }
    const size_t n = array_size(v);
    bool all_old_new = n > 0, all_sub = n > 0;
    for (size_t i = 0; i < n; ++i) {
      const Json* e = element(v, i);
      all_old_new = all_old_new && is_old_new(e);
      all_sub = all_sub && is_object(e) && (member(e, "change") || member(e, "details"));
    }
    if (all_old_new) {
      for (size_t i = 0; i < n; ++i) {
        const Json* e = element(v, i);
        o += old_new_line(e, member(e, "name") ? std::string() : "<b>" + escape(k) + "</b>");
      }
    } else if (all_sub && depth == 0) {
      o += "<div class=\"details-extra\">" + escape(k) + " (" + std::to_string(n) + "):</div><div class=\"details-sub\">";
      for (size_t i = 0; i < n && i < kDetailItems; ++i) {
        const Json* e = element(v, i);
        const Json* node = member(e, "target_node") ? member(e, "target_node") : member(e, "source_node");
        o += "<div><span class=\"name\">" + cell(node, "?") + "</span>: " + cell(member(e, "change"), "") +
             details_html(member(e, "details"), depth + 1) + "</div>";
      }
      if (n > kDetailItems) o += "<div class=\"details-extra\">… and " + std::to_string(n - kDetailItems) + " more</div>";
      o += "</div>";
    } else {
      plain_lines.push_back(escape(k) + " = " + value_html(v));
    }
  }
  // Muted next to old/new lines; as they are when they are all there is.
  const char* open = o.empty() ? "<div>" : "<div class=\"details-extra\">";
  for (const auto& line : plain_lines) o += open + line + "</div>";
  return o;
}

std::string discrepant_cell(const Json* e) {
  auto nb = integer(member(e, "discrepant_before")), na = integer(member(e, "discrepant_after"));
  auto rb = number(member(e, "discrepancy_before")), ra = number(member(e, "discrepancy_after"));
  if (!nb && !na && !rb && !ra) return "<td class=\"num\">—</td>";
  std::string cls = "num";
  const bool counts = nb || na;
  if (nb && na && *na != *nb) cls += *na < *nb ? " better" : " worse";
  else if (!counts && rb && ra && *ra != *rb) cls += *ra < *rb ? " better" : " worse";
  std::string s = "<td class=\"" + cls + "\">";
  if (counts) {
    s += (nb ? std::to_string(*nb) : std::string("—")) + " → " + (na ? std::to_string(*na) : std::string("—"));
    if (rb || ra)
      s += " <span class=\"muted\">(" + (rb ? fmt_pct(*rb) : std::string("—")) + " → " +
           (ra ? fmt_pct(*ra) : std::string("—")) + ")</span>";
  } else {
    s += (rb ? fmt_pct(*rb) : std::string("—")) + " → " + (ra ? fmt_pct(*ra) : std::string("—"));
  }
  return s + "</td>";
}

void repair_rows(std::string& o, const Json* reps, const std::vector<size_t>& which, const LayerRows& layer_rows) {
  o += "<table class=\"repairs\"><thead><tr>" + th("#", true) + th("Kept") + th("Strategy") + th("Category") +
       th("Suspect", true) + th("Row", true) + th("Target node") + th("Source node") + th("Change") + th("Details") +
       th("Top-1 differs (verification)", true) + th("Error", true) + th("Reason") + "</tr></thead><tbody>";
  for (size_t i : which) {
    const Json* e = element(reps, i);
    auto kept = boolean(member(e, "kept"));
    const std::string cat = str_or(member(e, "category"), "");
    o += std::string("<tr class=\"repair") + (kept.value_or(false) ? " kept" : "") + "\" data-index=\"" +
         cell(member(e, "index"), "") + "\" data-kept=\"" + (kept ? (*kept ? "yes" : "no") : "unknown") + "\">";
    o += num_cell(member(e, "index"));
    o += std::string("<td>") + (kept ? (*kept ? "<span class=\"kept-badge\">kept</span>" : "undone") : "—") + "</td>";
    o += text_cell(member(e, "strategy"));
    o += "<td>" + (cat.empty() ? cell(member(e, "category")) :
                   "<span class=\"cat cat-" + escape(cat) + "\">" + escape(cat) + "</span>") + "</td>";
    o += num_cell(member(e, "suspect_rank"));
    o += "<td class=\"num\">" + layer_rows.link(layer_rows.of(e)) + "</td>";
    o += text_cell(member(e, "target_node"), "name") + text_cell(member(e, "source_node"), "name");
    o += text_cell(member(e, "change"), "change") + "<td class=\"details\">" + details_html(member(e, "details")) + "</td>";
    o += discrepant_cell(e) + before_after_cell(member(e, "error_before"), member(e, "error_after"), fmt_num);
    o += text_cell(member(e, "reason")) + "</tr>";
  }
  o += "</tbody></table>";
}

void log_section(std::string& o, const Json& doc, const LayerRows& layer_rows) {
  o += "<section id=\"repair-log\"><h2>Repair log</h2>";
  const Json* reps = member(&doc, "repairs");
  const size_t n = array_size(reps);
  if (n == 0) {
    o += "<p class=\"note\">No change was tried.</p></section>";
    return;
  }
  o += "<p class=\"note\">Every change tried, in the order tried (by <code>index</code>). A change is applied to a "
       "copy of the model and run on the verification images; it is kept (highlighted) when fewer of them "
       "disagree with the source on top-1, or as many while the output error falls, and no held-out image that "
       "agreed starts to disagree; otherwise it is undone. <i>Error</i> is the relative max output error on those "
       "images.</p>";
  std::vector<size_t> order(n), kept;
  for (size_t i = 0; i < n; ++i) order[i] = i;
  auto index_of = [&](size_t i) { return integer(member(element(reps, i), "index")).value_or(INT64_MAX); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return index_of(a) < index_of(b); });
  for (size_t i : order)
    if (boolean(member(element(reps, i), "kept")).value_or(false)) kept.push_back(i);
  if (n > kOpenRows) {
    if (!kept.empty()) {
      open_details(o, "Kept changes (" + std::to_string(kept.size()) + ")", true);
      repair_rows(o, reps, kept, layer_rows);
      close_details(o);
    }
    open_details(o, "All changes tried (" + std::to_string(n) + ")", false);
  } else {
    open_details(o, "Changes tried (" + std::to_string(n) + "), " + std::to_string(kept.size()) + " kept", true);
  }
  repair_rows(o, reps, order, layer_rows);
  close_details(o);
  o += "</section>";
}

// ---- per-layer error before and after ------------------------------------------------

void layers_section(std::string& o, const Json& doc, const LayerRows& layer_rows) {
  o += "<section id=\"repair-layers\"><h2>Per-layer error before and after repair</h2>";
  const Json* layers = member(&doc, "layers");
  const size_t n = array_size(layers);
  PlotSeries before, after;
  before.name = "before repair";
  before.kind = "before";
  before.color = "#c62828";
  before.width = 2.0;
  after.name = "after repair";
  after.kind = "after";
  after.color = "#1e6fbf";
  after.width = 2.0;
  int64_t rows = std::min<int64_t>(
      static_cast<int64_t>(array_size(member(member(member(&doc, "diagnosis"), "alignment"), "rows"))), kMaxPlotRows);
  for (size_t i = 0; i < n; ++i) {
    const Json* L = element(layers, i);
    auto row = integer(member(L, "row"));
    if (!row || !plottable(*row)) continue;
    const double x = static_cast<double>(*row);
    if (auto v = number(member(L, "rel_error_before"))) {
      before.points.emplace_back(x, *v);
      before.tooltips.push_back(row_text(L, *row) + "\nbefore repair: relative error " + fmt_num(*v));
    }
    if (auto v = number(member(L, "rel_error_after"))) {
      after.points.emplace_back(x, *v);
      after.tooltips.push_back(row_text(L, *row) + "\nafter repair: relative error " + fmt_num(*v));
    }
    rows = std::max(rows, *row + 1);
  }
  // Rows changed by a kept repair: triangles at the top.
  std::vector<PlotMarker> markers;
  const Json* reps = member(&doc, "repairs");
  for (size_t i = 0; i < array_size(reps); ++i) {
    const Json* e = element(reps, i);
    auto row = layer_rows.of(e);
    if (!boolean(member(e, "kept")).value_or(false) || !row || !plottable(*row)) continue;
    markers.push_back({static_cast<double>(*row),
                       "kept change at row " + std::to_string(*row) + ": " + str_or(member(e, "change"), "?"), "#2e7d32",
                       false});
    rows = std::max(rows, *row + 1);
  }
  if (before.points.empty() && after.points.empty()) {
    o += "<p class=\"note\">Nothing to plot: the document has no per-layer errors (the models did not both run, or "
         "the full image set was not compared after repair).</p>";
  } else {
    LogPlot plot;
    plot.id = "repair-layers";
    plot.title = "Relative error of each aligned layer's output, before and after repair";
    plot.x_label = "aligned layer (row of the alignment table)";
    plot.y_label = "‖source − target‖ / ‖source‖ (log)";
    plot.rows = rows;
    if (!before.points.empty()) plot.series.push_back(before);
    if (!after.points.empty()) plot.series.push_back(after);
    plot.markers = markers;
    LogPlotInfo info;
    const std::string svg = render_log_plot(plot, &info);
    o += "<figure><div class=\"scroll\">" + svg + "</div><figcaption>For each aligned layer (x, the row of the "
         "alignment table) the relative error of its output against the source's (y, log scale): before repair in "
         "red (" + std::to_string(before.points.size()) + " layers), after repair in blue (" +
         std::to_string(after.points.size()) + " layers). A row with no value has no point.";
    if (info.zero_points > 0)
      o += " " + std::to_string(info.zero_points) + " value" + (info.zero_points == 1 ? " is" : "s are") +
           " exactly 0 and drawn, hollow, on the line marked 0 under the axis (a log scale has no 0).";
    if (!markers.empty()) o += " Green triangles: rows changed by a kept repair.";
    o += " Hover a point for the layer names.</figcaption></figure>";
  }
  if (n > 0) {
    open_details(o, "Layers (" + std::to_string(n) + ")", n <= kOpenRows);
    o += "<table class=\"repair-layers\"><thead><tr>" + th("Row", true) + th("Source node") + th("Target node") +
         th("Relative error before → after", true) + "</tr></thead><tbody>";
    for (size_t i = 0; i < n; ++i) {
      const Json* L = element(layers, i);
      o += "<tr><td class=\"num\">" + layer_rows.link(integer(member(L, "row"))) + "</td>" +
           text_cell(member(L, "source_node"), "name") + text_cell(member(L, "target_node"), "name") +
           before_after_cell(member(L, "rel_error_before"), member(L, "rel_error_after"), fmt_num) + "</tr>";
    }
    o += "</tbody></table>";
    close_details(o);
  }
  o += "</section>";
}

// ---- the diagnosis after repair, in short ------------------------------------------

void after_section(std::string& o, const Json& doc) {
  o += "<section id=\"repair-after\"><h2>Diagnosis after repair</h2>";
  const Json* d = member(&doc, "diagnosis_after");
  if (!is_object(d)) {
    o += "<p class=\"note\">Not part of this document (no repaired model, or the full image set was not compared "
         "again).</p></section>";
    return;
  }
  const std::string code = code_of(d);
  o += "<p class=\"note\">Source against the repaired model, diagnosed again on the full image set.</p>";
  o += "<table class=\"kv after\"><tr><th>Verdict</th><td><span class=\"verdict verdict-" + escape(code) + "\">" +
       escape(code) + "</span> " + cell(member(member(d, "verdict"), "summary"), "") + "</td></tr>";
  o += "<tr><th>Discrepancy rate</th><td>";
  if (auto v = number(member(d, "discrepancy_rate"))) o += fmt_pct(*v);
  else o += "n/a";
  o += "</td></tr><tr><th>Images</th>" + text_cell(member(d, "image_count")) + "</tr>";
  const Json* sus = member(d, "suspects");
  std::map<std::string, int> by_cat;
  for (size_t i = 0; i < array_size(sus); ++i) by_cat[str_or(member(element(sus, i), "category"), "other")]++;
  o += "<tr><th>Suspects left</th><td>" + std::to_string(array_size(sus));
  if (!by_cat.empty()) {
    o += " (";
    bool first = true;
    for (const auto& [cat, k] : by_cat) {
      o += std::string(first ? "" : ", ") + std::to_string(k) + " " + escape(cat);
      first = false;
    }
    o += ")";
  }
  o += "</td></tr></table>";
  const size_t ns = array_size(sus);
  if (ns > 0) {
    std::vector<size_t> order(ns);
    for (size_t i = 0; i < ns; ++i) order[i] = i;
    auto rank_of = [&](size_t i) { return integer(member(element(sus, i), "rank")).value_or(INT64_MAX); };
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rank_of(a) < rank_of(b); });
    const size_t shown = std::min(ns, kAfterSuspects);
    o += "<table class=\"after-suspects\"><thead><tr>" + th("Rank", true) + th("Category") +
         th("Source ↔ target layer") + th("Explanation") + "</tr></thead><tbody>";
    for (size_t k = 0; k < shown; ++k) {
      const Json* s = element(sus, order[k]);
      o += "<tr>" + num_cell(member(s, "rank")) + text_cell(member(s, "category")) + "<td class=\"name\">" +
           node_pair_html(member(s, "source_node"), member(s, "target_node")) + "</td>" +
           text_cell(member(s, "explanation")) + "</tr>";
    }
    o += "</tbody></table>";
    if (ns > shown) o += "<p class=\"note\">and " + std::to_string(ns - shown) + " more.</p>";
  }
  o += "</section>";
}

}  // namespace

std::string render_repair_page(const Json& doc) {
  const Json* diagnosis = member(&doc, "diagnosis");
  const LayerRows layer_rows(doc);
  std::string o;
  o.reserve(1 << 16);
  const std::string title = "convfix repair: " + base_name(str_or(member(member(&doc, "source"), "file"), "source")) +
                            " → " + base_name(str_or(member(member(&doc, "target"), "file"), "target")) + " (" +
                            str_or(member(member(&doc, "verdict"), "code"), "no verdict") + ")";
  o += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>" + escape(title) + "</title><style>" + kCss + kRepairCss + "</style></head><body>\n";
  o += "<header><h1>convfix repair report</h1>";
  auto sv = integer(member(&doc, "schema_version"));
  if (!sv || *sv != 1)
    o += "<p class=\"note\"><strong>Note:</strong> this page was written for repair schema version 1; the document "
         "says " + (sv ? std::to_string(*sv) : std::string("nothing")) + ". Fields it does not know are not shown.</p>";
  o += "<nav><a href=\"#repair-summary\">Summary</a><a href=\"#repair-log\">Repair log</a>"
       "<a href=\"#repair-layers\">Layer errors</a><a href=\"#repair-after\">After repair</a>"
       "<a href=\"#repair-errors\">Errors</a><a href=\"#repair-timings\">Timings</a>"
       "<a href=\"#diagnosis\">Diagnosis before repair</a></nav></header>\n<main>";
  summary_section(o, doc);
  o += "\n";
  log_section(o, doc, layer_rows);
  o += "\n";
  layers_section(o, doc, layer_rows);
  o += "\n";
  after_section(o, doc);
  o += "\n";
  errors_section(o, member(&doc, "errors"), "repair-errors", "Errors");
  o += "\n";
  timings_section(o, member(&doc, "timings_s"), "repair-timings", "Timings", {"diagnose", "search", "write", "verify_full"});
  o += "\n<div class=\"embedded\" id=\"diagnosis\"><h2 class=\"embedded-title\">Diagnosis of the pair before repair</h2>";
  if (is_object(diagnosis)) {
    o += "<p class=\"note\">The <code>diagnose</code> document of the source and the original target, as "
         "<code>convfix diagnose</code> shows it.</p>" +
         diagnose_schema_note(*diagnosis) + diagnose_nav() + diagnose_header_table(*diagnosis) + "\n";
    diagnose_sections(o, *diagnosis);
  } else {
    o += "<p class=\"note\">Not part of this document.</p>";
  }
  o += "</div></main>\n<footer>Written by convfix " + cell(member(&doc, "convfix_version"), "?") +
       " from a repair document of schema version " + cell(member(&doc, "schema_version"), "?") +
       ". This page is self-contained: no script and no external resource.</footer>\n</body></html>\n";
  return o;
}

}  // namespace convfix::report
