# Keras / TF.js layers-model config patching (tests/keras/check_config_patch.py):
# IR edits (padding, strides, epsilon, activation, bias, pooling, explicit
# pads) written as HDF5, .keras, arch JSON + weights and TF.js; the re-read
# graph has the edited nodes and outputs, the written TF.js model gives the
# edited graph's outputs in the TF.js runtime (<= 1e-4 x max|ref|), the
# written configs hold the Keras fields; unexpressible edits are refused
# naming node and attribute; every tools/gen_keras_models.py fixture written
# unedited; shared P8/P1 edits when ../shared is there. Skip 77 without
# node/tfjs/h5py.
include(${CMAKE_SOURCE_DIR}/src/formats/keras/keras.cmake)
add_executable(keras_patch_tool ${CMAKE_SOURCE_DIR}/tests/keras/keras_patch_tool.cpp)
target_link_libraries(keras_patch_tool PRIVATE convfix_core)
add_test(NAME keras_config_patch
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/keras/check_config_patch.py
          $<TARGET_FILE:keras_patch_tool> ${CMAKE_SOURCE_DIR})
set_tests_properties(keras_config_patch PROPERTIES LABELS "keras;tfjs;oracles" SKIP_RETURN_CODE 77 TIMEOUT 600)
