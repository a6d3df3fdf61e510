# TensorFlow protobuf messages -> C++ (included from the top-level
# CMakeLists.txt once convfix_core exists). tf_graph.proto is convfix's own
# declaration of the public field numbers of TF's GraphDef, SavedModel and
# TensorBundle messages; protoc generates the code, libprotobuf (already
# linked for ONNX) parses the files.
find_program(CONVFIX_PROTOC NAMES protoc REQUIRED)
set(_cf_tf_proto ${CMAKE_SOURCE_DIR}/src/formats/tf/tf_graph.proto)
set(_cf_tf_gen ${CMAKE_BINARY_DIR}/generated/tf)
add_custom_command(
  OUTPUT ${_cf_tf_gen}/tf_graph.pb.h ${_cf_tf_gen}/tf_graph.pb.cc
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_cf_tf_gen}
  COMMAND ${CONVFIX_PROTOC} -I${CMAKE_SOURCE_DIR}/src/formats/tf --cpp_out=${_cf_tf_gen} ${_cf_tf_proto}
  DEPENDS ${_cf_tf_proto}
  COMMENT "protoc: generating the TensorFlow message code"
  VERBATIM)
target_sources(convfix_core PRIVATE ${_cf_tf_gen}/tf_graph.pb.h ${_cf_tf_gen}/tf_graph.pb.cc)
set_source_files_properties(${_cf_tf_gen}/tf_graph.pb.cc PROPERTIES COMPILE_OPTIONS "-w")
target_include_directories(convfix_core SYSTEM PRIVATE ${_cf_tf_gen})
