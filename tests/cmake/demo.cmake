# demo (issue 6): `convfix demo` on the default pair, end to end.
# tests/demo/check_demo.py makes the pair with tools/make_demo_pair.py in
# ${CMAKE_BINARY_DIR}/demo-test (its own folder: the images tests use
# ${CMAKE_BINARY_DIR}/demo), runs `convfix demo`, and checks with ONNX Runtime
# (independent of convfix) that the repaired model agrees with the source's
# top-1 on every bundled photo while the faulty target did not, and that the
# input files are unchanged. Skips (77) without python3 onnx/torch or
# node_modules. Run with `ctest -L demo`.
add_test(NAME demo_end_to_end
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/demo/check_demo.py --convfix $<TARGET_FILE:convfix>
          --dir ${CMAKE_BINARY_DIR}/demo-test)
set_tests_properties(demo_end_to_end PROPERTIES LABELS demo SKIP_RETURN_CODE 77 TIMEOUT 1200 RUN_SERIAL TRUE)
