# TFLite reader/writer and kernel tests (see tests/tflite/):
#   tflite_badinput   broken .tflite files: `convfix inspect` exits 2 with one
#                     line naming the file (label badinput: runs under ASan too)
#   tflite_roundtrip  read -> write -> the real TFLite runtime (tools/tflite_run.js)
#                     gives bit-identical outputs, convfix re-reads an identical
#                     graph; IR edits written back checked against numpy
#                     (label oracles; skips with 77 when Node packages are missing)
add_executable(tflite_tool ${CMAKE_SOURCE_DIR}/tests/tflite/tflite_tool.cpp)
target_link_libraries(tflite_tool PRIVATE convfix_core)

add_test(NAME tflite_badinput
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tflite/test_badinput.py
          --convfix $<TARGET_FILE:convfix> --tool $<TARGET_FILE:tflite_tool>)
set_tests_properties(tflite_badinput PROPERTIES LABELS "badinput" TIMEOUT 900)

add_test(NAME tflite_roundtrip
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tflite/test_roundtrip.py
          --convfix $<TARGET_FILE:convfix> --tool $<TARGET_FILE:tflite_tool>
          --work ${CMAKE_BINARY_DIR}/tflite-roundtrip)
set_tests_properties(tflite_roundtrip PROPERTIES LABELS "oracles" SKIP_RETURN_CODE 77 TIMEOUT 1800)

# tests/unit/tflite_format_test.cpp checks the reader/writer against the
# flatc-generated typed API, and reads ../shared/models/tflite when present.
target_include_directories(convfix_unit_tests SYSTEM PRIVATE
  ${CMAKE_BINARY_DIR}/generated/tflite ${CONVFIX_FLATBUFFERS_INCLUDE_DIR})
set_source_files_properties(${CMAKE_SOURCE_DIR}/tests/unit/tflite_format_test.cpp PROPERTIES
  COMPILE_DEFINITIONS "CONVFIX_TFLITE_TEST_SOURCE_DIR=\"${CMAKE_SOURCE_DIR}\"")

# tflite_oracle: convfix's tflite-domain kernels against the real TFLite
# runtime (tools/tflite_run.js) on every ../shared/models/tflite model and
# the op-coverage fixtures of tools/gen_tflite_models.py, random inputs and
# photographs: float within 1e-4 x max|output|, integer outputs within one
# quantum for >= 99.9% of elements, same top-1; resnet8 int8 top-1 on every
# photograph (tests/tflite/test_oracle.py; skips with 77 without Node).
add_test(NAME tflite_oracle
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tflite/test_oracle.py
          --convfix $<TARGET_FILE:convfix> --tool $<TARGET_FILE:tflite_tool>
          --work ${CMAKE_BINARY_DIR}/tflite-oracle)
set_tests_properties(tflite_oracle PROPERTIES LABELS "tflite;oracles" SKIP_RETURN_CODE 77 TIMEOUT 1800)

# tflite_kernels_test: fixed-point helpers and a few kernels of the tflite
# domain against exact arithmetic written in the test (label unit, so the
# ASan configuration of scripts/test runs it too).
add_executable(tflite_kernels_test ${CMAKE_SOURCE_DIR}/tests/tflite/tflite_kernels_test.cpp)
target_include_directories(tflite_kernels_test PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(tflite_kernels_test PRIVATE convfix_core GTest::gtest GTest::gtest_main)
gtest_discover_tests(tflite_kernels_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
