# Keras readers/writers need libhdf5 (C API, Debian libhdf5-dev) and zlib
# (.keras zip archives). Included once (from the top-level CMakeLists.txt
# or, until it includes this file, from tests/cmake/keras.cmake); without
# HDF5 the Keras readers return "not supported in this build".
include_guard(GLOBAL)
# (FindHDF5 needs the C language enabled; the library and header are
# looked up directly: Debian installs them under hdf5/serial.)
find_path(CONVFIX_HDF5_INCLUDE hdf5.h PATH_SUFFIXES hdf5/serial)
find_library(CONVFIX_HDF5_LIB NAMES hdf5_serial hdf5 PATH_SUFFIXES hdf5/serial)
find_package(ZLIB)
if(CONVFIX_HDF5_INCLUDE AND CONVFIX_HDF5_LIB AND ZLIB_FOUND AND TARGET convfix_core)
  target_include_directories(convfix_core SYSTEM PRIVATE ${CONVFIX_HDF5_INCLUDE})
  target_link_libraries(convfix_core PUBLIC ${CONVFIX_HDF5_LIB} ZLIB::ZLIB)
  target_compile_definitions(convfix_core PRIVATE CONVFIX_HAVE_HDF5=1)
  message(STATUS "convfix: Keras HDF5 / .keras support enabled (${CONVFIX_HDF5_LIB})")
endif()
