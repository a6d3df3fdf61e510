// convfix/report.h — the diagnose report: one self-contained HTML page
// rendered from the diagnose JSON (docs/DIAGNOSIS.md, sections "diagnose"
// for the JSON and "Report" for the page).
//
// Contract:
// - Input: the document diagnose_models() returns (schema version 1), or the
//   same document read back from diagnose.json. Every field may be missing,
//   null or of an unexpected type (a target that cannot run has no
//   activations and may have no compare): such a field is shown as "—" or
//   its section says there is nothing to show. Unknown fields are ignored.
//   A schema_version other than 1 is rendered as well as it can be, with a
//   note at the top.
// - Output: one HTML5 page, UTF-8, that needs nothing else: CSS inline, plots
//   drawn here as inline SVG, no script, no reference to any external
//   resource (no http:// or https:// URL anywhere in the page). It opens
//   offline in any browser.
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

// The page for one diagnose document.
Expected<std::string> render_html_report(const nlohmann::json& diagnose);

// render_html_report, then write_file_atomic(path, page).
Status write_html_report(const nlohmann::json& diagnose, const std::string& path);

}  // namespace convfix
