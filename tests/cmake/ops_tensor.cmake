# Shape/data-movement/resize/pad/quantization ops against ONNX Runtime on
# single-node models covering the settings the ONNX test data leaves out.
# Skips (exit 77) when Node or onnxruntime-node is missing.
add_test(NAME oracle_ops_tensor
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/oracles/ops_tensor_ort.py --convfix $<TARGET_FILE:convfix>)
set_tests_properties(oracle_ops_tensor PROPERTIES LABELS "oracles;ops" SKIP_RETURN_CODE 77 TIMEOUT 900)
