# Script-driven tests: each file in tests/cmake/*.cmake registers its own
# (conformance, oracles, bad input, ...), so parallel work never edits one list.
file(GLOB CONVFIX_TEST_FRAGMENTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/cmake/*.cmake)
foreach(f ${CONVFIX_TEST_FRAGMENTS})
  include(${f})
endforeach()
