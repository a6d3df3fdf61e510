# Bad-input tests (tests/badinput/run_badinput.py): broken models, broken
# tensor files, impossible shapes; each must fail with one line on stderr and
# exit code 2. Runs in the ASan configuration too (scripts/test).
add_test(NAME badinput
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/badinput/run_badinput.py --convfix $<TARGET_FILE:convfix>)
set_tests_properties(badinput PROPERTIES LABELS "badinput" TIMEOUT 900)
