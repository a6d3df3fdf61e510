# diagnose: `convfix diagnose` end to end on MobileNetV2 pairs with one fault
# injected each by the onnx package (ground truth from the edit, effect
# confirmed with ONNX Runtime), faithful controls, a preprocessing mismatch, a
# target that cannot run, and the real TFLite pairs of ../shared when present
# (tests/diagnose/check_diagnose.py). Unit tests: tests/unit/diagnose_test.cpp.
add_test(NAME diagnose_mobilenet_v2
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/diagnose/check_diagnose.py --convfix $<TARGET_FILE:convfix>
          --models-dir ${CMAKE_BINARY_DIR}/oracle-models)
set_tests_properties(diagnose_mobilenet_v2 PROPERTIES
  LABELS "diagnose" FIXTURES_REQUIRED compare_models SKIP_RETURN_CODE 77 TIMEOUT 1800)
