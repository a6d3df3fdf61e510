# Diagnose and repair reports (helper "report"): the HTML pages of include/convfix/report.h.
# Unit tests: tests/unit/report_test.cpp (label unit), fed the hand-written
# diagnose documents and the repair document in tests/report/*.json.
set_source_files_properties(${CMAKE_SOURCE_DIR}/tests/unit/report_test.cpp PROPERTIES
  COMPILE_DEFINITIONS "CONVFIX_REPORT_FIXTURE_DIR=\"${CMAKE_SOURCE_DIR}/tests/report\"")

# A small tool that renders a diagnose.json or repair.json to a page (write_html_report).
add_executable(convfix_report_tool ${CMAKE_SOURCE_DIR}/tests/report/report_tool.cpp)
target_link_libraries(convfix_report_tool PRIVATE convfix_core)

# report_chromium: each fixture's page (three diagnose, one repair) loaded in real headless Chromium
# (Debian's /usr/bin/chromium); checks the plots and tables in the DOM the
# browser built and that a screenshot is not blank. Skipped (77) without it.
add_test(NAME report_chromium
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/report/check_report_chromium.py
          --tool $<TARGET_FILE:convfix_report_tool> --fixtures ${CMAKE_SOURCE_DIR}/tests/report)
set_tests_properties(report_chromium PROPERTIES LABELS report SKIP_RETURN_CODE 77 TIMEOUT 600)
