# TorchScript importer tests (issue 7; owner: src/formats/torchscript).
# Labels "torchscript;oracles". Fixtures come from tools/gen_torchscript.py,
# cached in ${CMAKE_BINARY_DIR}/torchscript-models (never committed).
# Every test skips (77) when python3-torch is missing; without the plugin
# (CONVFIX_TORCHSCRIPT=OFF) only the "built without" check runs.
set(CONVFIX_TS_MODELS ${CMAKE_BINARY_DIR}/torchscript-models)
set(CONVFIX_TS_ALL_MODELS
  small_cnn mobilenet_v3_small mobilenet_v2 squeezenet1_1 efficientnet_b0 resnet50 densenet121 inception_v3 resnet101)

add_executable(torchscript_dump ${CMAKE_SOURCE_DIR}/tests/torchscript/torchscript_dump.cpp)
target_link_libraries(torchscript_dump PRIVATE convfix_core)
if(TARGET convfix_torchscript)
  add_dependencies(torchscript_dump convfix_torchscript)
endif()

if(CONVFIX_TORCHSCRIPT)
  add_test(NAME torchscript_models_generate
    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tools/gen_torchscript.py --out ${CONVFIX_TS_MODELS})
  set_tests_properties(torchscript_models_generate PROPERTIES
    LABELS "torchscript;oracles" FIXTURES_SETUP torchscript_models SKIP_RETURN_CODE 77 TIMEOUT 3600 RUN_SERIAL TRUE)
  foreach(m ${CONVFIX_TS_ALL_MODELS})
    add_test(NAME torchscript_oracle_${m}
      COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/torchscript/run_torchscript_oracle.py
              --convfix $<TARGET_FILE:convfix> --dump $<TARGET_FILE:torchscript_dump>
              --models-dir ${CONVFIX_TS_MODELS} --models ${m})
    set_tests_properties(torchscript_oracle_${m} PROPERTIES
      LABELS "torchscript;oracles" FIXTURES_REQUIRED torchscript_models SKIP_RETURN_CODE 77 TIMEOUT 1200)
  endforeach()
endif()
add_test(NAME torchscript_badinput
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/torchscript/run_torchscript_badinput.py
          --convfix $<TARGET_FILE:convfix> --plugin-built $<BOOL:${CONVFIX_TORCHSCRIPT}>)
set_tests_properties(torchscript_badinput PROPERTIES
  LABELS "torchscript;oracles" SKIP_RETURN_CODE 77 TIMEOUT 600)
if(CONVFIX_TORCHSCRIPT)
  add_test(NAME torchscript_ops
    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/torchscript/run_torchscript_ops.py --convfix $<TARGET_FILE:convfix>)
  set_tests_properties(torchscript_ops PROPERTIES LABELS "torchscript;oracles" SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
if(CONVFIX_TORCHSCRIPT)
  add_test(NAME torchscript_zoo
    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/torchscript/run_torchscript_zoo.py --convfix $<TARGET_FILE:convfix>)
  set_tests_properties(torchscript_zoo PROPERTIES LABELS "torchscript;oracles" SKIP_RETURN_CODE 77 TIMEOUT 1200)
endif()
if(CONVFIX_TORCHSCRIPT)
  add_test(NAME torchscript_input_shape
    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/torchscript/run_torchscript_input_shape.py
            --convfix $<TARGET_FILE:convfix> --image ${CMAKE_SOURCE_DIR}/assets/images/chelsea.png)
  set_tests_properties(torchscript_input_shape PROPERTIES LABELS "torchscript;oracles" SKIP_RETURN_CODE 77 TIMEOUT 600)
endif()
