// convfix/report.h — the diagnose and repair reports: one self-contained
// HTML page rendered from the diagnose or the repair JSON (docs/DIAGNOSIS.md,
// sections "diagnose" and "repair" for the JSON, "Report" and "Repair
// report" for the pages).
//
// Contract:
// - Input: the document diagnose_models() returns (schema version 1), or the
//   document repair_models() returns (schema version 1), or either read back
//   from its JSON file. The page is chosen by the document's "command":
//   "repair" gives the repair page, anything else (including a missing or
//   non-string "command") the diagnose page, which is the same, byte for
//   byte, as before repair pages existed.
// - Every field may be missing, null or of an unexpected type (a target
//   that cannot run has no activations and may have no compare; a repair
//   may have no output model, no per-layer errors, no diagnosis): such a
//   field is shown as "—" or its section says there is nothing to show.
//   Unknown fields are ignored. A schema_version other than 1 is rendered as
//   well as it can be, with a note at the top.
// - The repair page shows the repair summary (verdict, before → after
//   discrepancy, Kendall τ and output error, the repaired model and its
//   format, the preprocessing the input pipeline needs), the log of every
//   change tried (rows <tr class="repair[ kept]" data-kept=yes|no|unknown>,
//   kept changes highlighted), a log-scale plot of the per-layer relative
//   error before and after (<svg data-plot="repair-layers">), a short
//   summary of "diagnosis_after", the repair's errors and timings, and then
//   the full diagnose page's sections for "diagnosis", drawn by the same
//   code as the diagnose page (its section ids verdict ... timings appear
//   once on the page).
// - Output: one HTML5 page, UTF-8, that needs nothing else: CSS inline, plots
//   drawn here as inline SVG, no script, no reference to any external
//   resource (no http:// or https:// URL anywhere in the page; links only to
//   anchors in the page). It opens offline in any browser.
// - Every string taken from the JSON (node names and file names come from
//   untrusted model files) is HTML-escaped; invalid UTF-8 bytes become U+FFFD.
// - Never throws and never prints: a failure (e.g. out of memory) is a
//   kInternal Status. write_html_report writes atomically (a temporary file
//   renamed over `path`); an unwritable path is a kIoError naming it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "convfix/status.h"

namespace convfix {

// The page for one diagnose or repair document.
Expected<std::string> render_html_report(const nlohmann::json& document);

// render_html_report, then write_file_atomic(path, page).
Status write_html_report(const nlohmann::json& document, const std::string& path);

}  // namespace convfix
