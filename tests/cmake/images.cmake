# Image input tests (helper "images"): preprocessing against PIL/torchvision,
# CLI errors, and the demo model end to end against PyTorch.
# The unit tests (tests/unit/image_test.cpp) are part of convfix_unit_tests.
#
# images_preprocess: tests/images/check_preprocess.py, needs only the Mul op.
add_test(NAME images_preprocess
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/images/check_preprocess.py --convfix $<TARGET_FILE:convfix>)
set_tests_properties(images_preprocess PROPERTIES LABELS "images" TIMEOUT 600)

# The demo model (tools/make_demo_model.py) is cached in ${CMAKE_BINARY_DIR}/demo;
# `ninja demo_model` builds it by hand, the fixture below before the demo test.
set(CONVFIX_DEMO_DIR ${CMAKE_BINARY_DIR}/demo)
add_custom_target(demo_model
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tools/make_demo_model.py ${CONVFIX_DEMO_DIR}
  COMMENT "Generating the demo model in ${CONVFIX_DEMO_DIR}"
  USES_TERMINAL)
add_test(NAME images_demo_model_generate
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tools/make_demo_model.py ${CONVFIX_DEMO_DIR})
set_tests_properties(images_demo_model_generate PROPERTIES
  LABELS "images" FIXTURES_SETUP demo_model TIMEOUT 600 RUN_SERIAL TRUE)
# Exit 77 (skipped) while an op of the model has no kernel yet.
add_test(NAME images_demo
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/images/check_demo.py --convfix $<TARGET_FILE:convfix>
          --demo-dir ${CONVFIX_DEMO_DIR})
set_tests_properties(images_demo PROPERTIES
  LABELS "images" FIXTURES_REQUIRED demo_model SKIP_RETURN_CODE 77 TIMEOUT 900)
