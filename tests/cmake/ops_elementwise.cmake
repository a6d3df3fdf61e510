# Elementwise, activation, comparison, reduction, softmax, arg, cumsum, cast
# and einsum ops against ONNX Runtime on single-node models covering what the
# ONNX test data leaves out (f16/f64/integer types, broadcasting patterns,
# both Softmax semantics, Reduce axes forms, the Cast matrix, opset 18/20
# ops). Skips (exit 77) when Node or onnxruntime-node is missing.
add_test(NAME oracle_ops_elementwise
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/oracles/ops_elementwise_ort.py --convfix $<TARGET_FILE:convfix>)
set_tests_properties(oracle_ops_elementwise PROPERTIES LABELS "oracles;ops" SKIP_RETURN_CODE 77 TIMEOUT 1800)

# elementwise_bench: these kernels against ONNX Runtime on CNN-sized tensors
# (not a test; run by hand, see tests/tools/elementwise_bench.cpp).
add_executable(elementwise_bench ${CMAKE_SOURCE_DIR}/tests/tools/elementwise_bench.cpp)
target_link_libraries(elementwise_bench PRIVATE convfix_core)
target_compile_definitions(elementwise_bench PRIVATE CONVFIX_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
