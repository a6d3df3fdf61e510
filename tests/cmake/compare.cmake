# compare: `convfix compare` end to end on a real model pair (MobileNetV2 from
# torch.onnx and faulty variants made with the onnx package) against ONNX
# Runtime; see tests/compare/check_compare.py. Unit tests of the library are
# tests/unit/compare_*.cpp (label unit). Run with `ctest -L compare`.
set(CONVFIX_COMPARE_MODELS ${CMAKE_BINARY_DIR}/oracle-models)
add_test(NAME compare_models_generate
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tools/gen_torchvision.py --out ${CONVFIX_COMPARE_MODELS}
          --models mobilenet_v2)
set_tests_properties(compare_models_generate PROPERTIES
  LABELS compare FIXTURES_SETUP compare_models TIMEOUT 1800 RUN_SERIAL TRUE)
add_test(NAME compare_mobilenet_v2
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/compare/check_compare.py --convfix $<TARGET_FILE:convfix>
          --models-dir ${CONVFIX_COMPARE_MODELS})
set_tests_properties(compare_mobilenet_v2 PROPERTIES
  LABELS compare FIXTURES_REQUIRED compare_models SKIP_RETURN_CODE 77 TIMEOUT 1800)
# Real conversion pairs from ../shared/models (Keras -> TFLite float and int8),
# against the TFLite runtime (tools/tflite_run.js); skipped without them.
add_test(NAME compare_tflite_shared_pairs
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/compare/check_compare_tflite.py --convfix $<TARGET_FILE:convfix>)
set_tests_properties(compare_tflite_shared_pairs PROPERTIES LABELS compare SKIP_RETURN_CODE 77 TIMEOUT 1800)
