// convfix_report_tool DOCUMENT.json OUT.html — renders a diagnose or repair document
// with write_html_report (for tests/report/check_report_chromium.py and for
// looking at a report by hand). Exit 0 on success, 2 with one line on stderr
// when the JSON cannot be read or the page cannot be written.
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "convfix/fileio.h"
#include "convfix/report.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: convfix_report_tool DIAGNOSE_OR_REPAIR.json OUT.html\n");
    return 2;
  }
  auto bytes = convfix::read_file(argv[1]);
  if (!bytes.ok()) {
    std::fprintf(stderr, "convfix_report_tool: error: %s\n", bytes.status().message().c_str());
    return 2;
  }
  nlohmann::json doc = nlohmann::json::parse(bytes.value(), nullptr, false);
  if (doc.is_discarded()) {
    std::fprintf(stderr, "convfix_report_tool: error: %s: not valid JSON\n", argv[1]);
    return 2;
  }
  const convfix::Status st = convfix::write_html_report(doc, argv[2]);
  if (!st.ok()) {
    std::fprintf(stderr, "convfix_report_tool: error: %s\n", st.message().c_str());
    return 2;
  }
  return 0;
}
