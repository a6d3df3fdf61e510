// report/page.h — what the diagnose page (report.cpp) and the repair page
// (repair_page.cpp) share: the style sheet, table-cell helpers, the
// diagnose page's parts that a repair page embeds, and the two entry points.
// Everything returns HTML; every string taken from the JSON is escaped here
// (html.h), and nothing throws on a missing or wrongly typed field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "report/html.h"

namespace convfix::report {

// Tables longer than this start collapsed.
constexpr size_t kOpenRows = 60;
// Rows outside [0, kMaxPlotRows) are not plotted (a corrupt row number must
// not make a plot millions of pixels wide).
constexpr int64_t kMaxPlotRows = 100000;
inline bool plottable(int64_t row) { return row >= 0 && row < kMaxPlotRows; }

// The diagnose page's style sheet (the repair page adds its own rules after it).
extern const char* const kCss;

// <td> cells: a number (fmt_num), a rate (fmt_pct), text (escaped, optional
// class), yes/no; "—" when the value is absent or of another type.
std::string num_cell(const Json* j);
std::string pct_cell(const Json* j);
std::string text_cell(const Json* j, const char* cls = nullptr);
std::string yes_no_cell(const Json* j);
// A <th> with trusted (already HTML) text.
std::string th(const char* s, bool num = false);
// The string value, or `fallback` (plain text, not escaped).
std::string str_or(const Json* j, const std::string& fallback);
// Opens a collapsible block (summary_html is HTML); close with close_details.
void open_details(std::string& o, const std::string& summary_html, bool open);
void close_details(std::string& o);
// "source ↔ target" node names, escaped.
std::string node_pair_html(const Json* src, const Json* tgt);
// "row R: source ↔ target (op)" for a layers[] entry (plain text).
std::string row_text(const Json* layer, int64_t row);

// ---- the diagnose page's parts, for a diagnose document shown inside another page

// A note when the document's schema_version is not 1 ("" otherwise).
std::string diagnose_schema_note(const Json& diagnose);
// The <nav> of the diagnose sections.
std::string diagnose_nav();
// The header's key-value table: models, verdict, discrepancy rate, images.
std::string diagnose_header_table(const Json& diagnose);
// Every diagnose section, from Verdict to Timings, as on the diagnose page
// (section ids verdict, suspects, ..., timings; layer rows anchored
// layer-row-N).
void diagnose_sections(std::string& o, const Json& diagnose);

// An errors table ([{stage, message}] or strings) in <section id=id><h2>title.
void errors_section(std::string& o, const Json* errors, const char* id, const char* title);
// A seconds-per-stage table: `stages` first in that order, then any other key, then "total".
void timings_section(std::string& o, const Json* timings, const char* id, const char* title,
                     const std::vector<const char*>& stages);

// ---- whole pages

std::string render_diagnose_page(const Json& doc);
std::string render_repair_page(const Json& doc);

}  // namespace convfix::report
