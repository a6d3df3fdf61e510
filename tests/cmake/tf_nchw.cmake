# tf_nchw  TensorFlow data_format NCHW paths (Conv2D strided / dilated, SAME
#          and VALID; BiasAdd; FusedBatchNorm, V2, V3; Relu; MaxPool and
#          AvgPool SAME; Mean over H,W), with NHWC as a control, in convfix vs
#          a numpy oracle written from TensorFlow's documented semantics
#          (tests/tf/check_nchw.py; graphs written with the GraphDef-JSON
#          writer of tools/gen_tf_graph_models.py). Pass: max err <= 1e-5 x
#          max|expected| per model. TF.js ignores data_format, so it cannot
#          serve as the oracle here.
add_test(NAME tf_nchw
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/tf/check_nchw.py
          $<TARGET_FILE:convfix> ${CMAKE_SOURCE_DIR})
set_tests_properties(tf_nchw PROPERTIES LABELS "tf" TIMEOUT 300)
