add_test(NAME onnx_conformance
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/conformance/run_onnx_node_tests.py --convfix $<TARGET_FILE:convfix>)
set_tests_properties(onnx_conformance PROPERTIES LABELS "conformance" TIMEOUT 1800)
