# Keras / TF.js layers-model tests (tests/keras/check_keras.py):
#   keras_oracles    tools/gen_keras_models.py fixtures (TF.js layers-model,
#                    Keras HDF5, arch JSON + weights, .keras, quantized TF.js)
#                    vs the TF.js runtime (<= 1e-4 x max|ref|); ../shared P8
#                    vs its TF.js layers-model, P1/P2 .h5 vs their float
#                    .tflite (<= 1e-5 x max|ref|); skip 77 without node/tfjs/h5py
#   keras_roundtrip  read -> patch a weight -> write (h5, .keras, TF.js) ->
#                    re-read; written TF.js runs in the TF.js runtime
#   keras_badinput   broken HDF5 / .keras / manifests: exit 2, one line
# The Keras readers need HDF5 and zlib linked into convfix_core:
include(${CMAKE_SOURCE_DIR}/src/formats/keras/keras.cmake)
add_executable(keras_tool ${CMAKE_SOURCE_DIR}/tests/keras/keras_tool.cpp)
target_link_libraries(keras_tool PRIVATE convfix_core)
foreach(_cf_mode oracles roundtrip badinput)
  add_test(NAME keras_${_cf_mode}
    COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/keras/check_keras.py
            $<TARGET_FILE:convfix> $<TARGET_FILE:keras_tool> ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/../shared/models ${_cf_mode})
endforeach()
set_tests_properties(keras_oracles PROPERTIES LABELS "keras;tfjs;oracles" SKIP_RETURN_CODE 77 TIMEOUT 600)
set_tests_properties(keras_roundtrip PROPERTIES LABELS "keras;tfjs;oracles" SKIP_RETURN_CODE 77 TIMEOUT 600)
set_tests_properties(keras_badinput PROPERTIES LABELS "keras;badinput" SKIP_RETURN_CODE 77 TIMEOUT 600)
# Unit tests of the TF.js manifest reader and the .keras zip reader (GoogleTest).
add_executable(keras_unit_tests ${CMAKE_SOURCE_DIR}/tests/tfjs/tfjs_weights_test.cpp)
target_include_directories(keras_unit_tests PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(keras_unit_tests PRIVATE convfix_core GTest::gtest GTest::gtest_main)
add_test(NAME keras_unit COMMAND keras_unit_tests)
set_tests_properties(keras_unit PROPERTIES LABELS "keras;tfjs;unit" TIMEOUT 120)
