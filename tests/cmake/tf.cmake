# TensorFlow (frozen GraphDef, SavedModel) and TF.js graph-model reader tests
# (see tests/tf/):
#   tf_tfjs_graph_oracle  TF.js graph-models (../shared tiny_mnist_cnn and
#                         automl_flowers, plus the op-coverage models of
#                         tools/gen_tf_graph_models.py) in convfix vs the TF.js
#                         runtime: max err <= 1e-4 x max|output|; skips (77)
#                         without node / @tensorflow/tfjs
#   tf_vs_tflite_oracle   SavedModel / frozen .pb in ../shared vs their real
#                         .tflite conversions (P3, P6, P7); skips (77) without
#                         ../shared/models
#   tf_badinput           broken .pb / SavedModel / graph-model files: exit 2,
#                         one line naming the file (node, op)
set(_cf_shared_models ${CMAKE_SOURCE_DIR}/../shared/models)
add_test(NAME tf_tfjs_graph_oracle
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tf/check_tfjs_graph.py
          $<TARGET_FILE:convfix> ${CMAKE_SOURCE_DIR} ${_cf_shared_models})
set_tests_properties(tf_tfjs_graph_oracle PROPERTIES LABELS "tf;oracles" SKIP_RETURN_CODE 77 TIMEOUT 600)
add_test(NAME tf_vs_tflite_oracle
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tf/check_tf_vs_tflite.py
          $<TARGET_FILE:convfix> ${_cf_shared_models})
set_tests_properties(tf_vs_tflite_oracle PROPERTIES LABELS "tf;oracles" SKIP_RETURN_CODE 77 TIMEOUT 600)
add_test(NAME tf_badinput
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tf/check_badinput.py
          $<TARGET_FILE:convfix> ${CMAKE_SOURCE_DIR} ${_cf_shared_models})
set_tests_properties(tf_badinput PROPERTIES LABELS "tf;badinput" TIMEOUT 600)
# tests/unit/tf_format_test.cpp reads ../shared/models next to the source tree when present.
set_source_files_properties(${CMAKE_SOURCE_DIR}/tests/unit/tf_format_test.cpp PROPERTIES
  COMPILE_DEFINITIONS "CONVFIX_TF_TEST_SOURCE_DIR=\"${CMAKE_SOURCE_DIR}\"")
