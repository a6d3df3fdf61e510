# repair: `convfix repair` end to end (tests/repair/check_repair.py): ONNX
# MobileNetV2 faults of every strategy checked with ONNX Runtime, faithful
# controls, preprocessing (required and embedded), safety (inputs unchanged,
# -o over an input refused), and with ../shared TFLite / Keras / TF.js targets
# checked with their own runtimes or h5py. Unit tests: tests/unit/repair_test.cpp.
add_test(NAME repair_end_to_end
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/repair/check_repair.py --convfix $<TARGET_FILE:convfix>
          --models-dir ${CMAKE_BINARY_DIR}/oracle-models)
set_tests_properties(repair_end_to_end PROPERTIES
  LABELS "repair" FIXTURES_REQUIRED compare_models SKIP_RETURN_CODE 77 TIMEOUT 2400)
