# Oracle tests: convfix against real runtimes (ONNX Runtime via Node,
# PyTorch) on whole models, and the ONNX reader/writer round trip.
# Run with `ctest -L oracles`. See docs/TESTING.md.
#
# The torchvision models are generated (and cached) under
# ${CMAKE_BINARY_DIR}/oracle-models by tools/gen_torchvision.py; the test
# `oracle_models_generate` is the fixture that does it (a no-op when the
# cache is up to date). `ninja oracle_models` does the same by hand.
set(CONVFIX_ORACLE_MODELS ${CMAKE_BINARY_DIR}/oracle-models)
set(CONVFIX_ORACLE_RUNNER ${CMAKE_SOURCE_DIR}/tests/oracles/run_oracles.py)
set(CONVFIX_TORCHVISION_MODELS
  mobilenet_v2 resnet50 resnet101 inception_v3 squeezenet1_1 densenet121 efficientnet_b0)

add_executable(onnx_roundtrip ${CMAKE_SOURCE_DIR}/tests/tools/onnx_roundtrip.cpp)
target_link_libraries(onnx_roundtrip PRIVATE convfix_core)

add_custom_target(oracle_models
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tools/gen_torchvision.py --out ${CONVFIX_ORACLE_MODELS}
  COMMENT "Generating torchvision oracle models in ${CONVFIX_ORACLE_MODELS}"
  USES_TERMINAL)

add_test(NAME oracle_models_generate
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tools/gen_torchvision.py --out ${CONVFIX_ORACLE_MODELS})
set_tests_properties(oracle_models_generate PROPERTIES
  LABELS oracles FIXTURES_SETUP oracle_models TIMEOUT 3600 RUN_SERIAL TRUE)

foreach(m ${CONVFIX_TORCHVISION_MODELS})
  add_test(NAME oracle_tv_${m}
    COMMAND /usr/bin/python3 ${CONVFIX_ORACLE_RUNNER} torchvision --convfix $<TARGET_FILE:convfix>
            --models-dir ${CONVFIX_ORACLE_MODELS} --models ${m})
  set_tests_properties(oracle_tv_${m} PROPERTIES
    LABELS oracles FIXTURES_REQUIRED oracle_models SKIP_RETURN_CODE 77 TIMEOUT 1800)
endforeach()

add_test(NAME oracle_shared_onnx
  COMMAND /usr/bin/python3 ${CONVFIX_ORACLE_RUNNER} shared --convfix $<TARGET_FILE:convfix>)
set_tests_properties(oracle_shared_onnx PROPERTIES LABELS oracles SKIP_RETURN_CODE 77 TIMEOUT 600)

add_test(NAME oracle_onnx_roundtrip
  COMMAND /usr/bin/python3 ${CONVFIX_ORACLE_RUNNER} roundtrip --roundtrip $<TARGET_FILE:onnx_roundtrip>
          --models-dir ${CONVFIX_ORACLE_MODELS} --shared)
set_tests_properties(oracle_onnx_roundtrip PROPERTIES
  LABELS oracles FIXTURES_REQUIRED oracle_models SKIP_RETURN_CODE 77 TIMEOUT 1800)
