# TFLite schema -> C++ (included from the top-level CMakeLists.txt once
# convfix_core exists; independent of the tests).
#
# flatc (Debian flatbuffers-compiler) turns src/formats/tflite/tflite_schema.fbs
# into accessors + verifier (tflite_schema_generated.h) and an embedded binary
# schema (tflite_schema_bfbs_generated.h) that the reader and writer use to
# map every builtin options table to node attributes by field name. Only the
# FlatBuffers headers are needed (Debian libflatbuffers-dev), no library.
find_program(CONVFIX_FLATC NAMES flatc REQUIRED)
find_path(CONVFIX_FLATBUFFERS_INCLUDE_DIR flatbuffers/flatbuffers.h REQUIRED)

set(_cf_tflite_fbs ${CMAKE_SOURCE_DIR}/src/formats/tflite/tflite_schema.fbs)
set(_cf_tflite_gen ${CMAKE_BINARY_DIR}/generated/tflite)
set(_cf_tflite_headers
  ${_cf_tflite_gen}/tflite_schema_generated.h
  ${_cf_tflite_gen}/tflite_schema_bfbs_generated.h)
add_custom_command(
  OUTPUT ${_cf_tflite_headers}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_cf_tflite_gen}
  COMMAND ${CONVFIX_FLATC} --cpp --scoped-enums --gen-mutable --bfbs-gen-embed
          -o ${_cf_tflite_gen} ${_cf_tflite_fbs}
  DEPENDS ${_cf_tflite_fbs}
  COMMENT "flatc: generating the TFLite schema code"
  VERBATIM)
target_sources(convfix_core PRIVATE ${_cf_tflite_headers})
# SYSTEM: the generated code is not ours to keep warning-free.
target_include_directories(convfix_core SYSTEM PRIVATE ${_cf_tflite_gen} ${CONVFIX_FLATBUFFERS_INCLUDE_DIR})
