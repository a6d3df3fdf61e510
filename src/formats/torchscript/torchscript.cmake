# TorchScript importer (issue 7; owner: src/formats/torchscript). Included
# from the top-level CMakeLists.txt after the convfix executable exists.
#
# - torchscript_loader.cpp goes into convfix_core (no libtorch, no torch
#   flags): archive checks and dlopen of the plugin.
# - libconvfix_torchscript.so (MODULE, next to the convfix binary) links
#   libtorch and carries its own PIC copy of src/ir. Linking libtorch into
#   convfix directly made every start about 0.7 s slower (libtorch's static
#   initialisers), and the conformance suite starts convfix ~900 times.
# - CONVFIX_TORCHSCRIPT defaults to ON when find_package(Torch) succeeds,
#   OFF in the sanitizer build (libtorch is not built with ASan).
set(_cf_ts_dir ${CMAKE_SOURCE_DIR}/src/formats/torchscript)
target_sources(convfix_core PRIVATE ${_cf_ts_dir}/torchscript_loader.cpp)
target_link_libraries(convfix_core PUBLIC ${CMAKE_DL_LIBS})

set(_cf_ts_default OFF)
if(NOT CONVFIX_SANITIZE)
  find_package(Torch QUIET)
  if(Torch_FOUND)
    set(_cf_ts_default ON)
  endif()
endif()
option(CONVFIX_TORCHSCRIPT "Build the TorchScript importer plugin (needs libtorch-dev)" ${_cf_ts_default})

if(CONVFIX_TORCHSCRIPT)
  if(NOT Torch_FOUND)
    find_package(Torch REQUIRED)
  endif()
  add_library(convfix_torchscript MODULE
    ${_cf_ts_dir}/torchscript_importer.cpp
    ${_cf_ts_dir}/torchscript_ops.cpp
    ${_cf_ts_dir}/torchscript_input_shape.cpp
    ${CMAKE_SOURCE_DIR}/src/ir/graph.cpp
    ${CMAKE_SOURCE_DIR}/src/ir/tensor.cpp
    ${CMAKE_SOURCE_DIR}/src/ir/status.cpp)
  target_include_directories(convfix_torchscript PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/src)
  # SYSTEM: libtorch's headers are not ours to keep warning-free.
  target_include_directories(convfix_torchscript SYSTEM PRIVATE ${TORCH_INCLUDE_DIRS})
  target_link_libraries(convfix_torchscript PRIVATE ${TORCH_LIBRARIES})
  set_target_properties(convfix_torchscript PROPERTIES
    OUTPUT_NAME convfix_torchscript
    PREFIX "lib"
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(convfix_torchscript PRIVATE -Wl,-Bsymbolic -Wl,--no-undefined)
  set_source_files_properties(${_cf_ts_dir}/torchscript_loader.cpp PROPERTIES
    COMPILE_DEFINITIONS "CONVFIX_TORCHSCRIPT_PLUGIN_PATH=\"$<TARGET_FILE:convfix_torchscript>\"")
  add_dependencies(convfix convfix_torchscript)
  message(STATUS "convfix: TorchScript importer plugin enabled (libtorch ${Torch_VERSION})")
else()
  message(STATUS "convfix: TorchScript importer disabled (CONVFIX_TORCHSCRIPT=OFF or libtorch not found)")
endif()
