# Keras / TF.js layers-model tests (see tests/keras, tests/tfjs).
include(${CMAKE_SOURCE_DIR}/src/formats/keras/keras.cmake)
add_executable(keras_tool ${CMAKE_SOURCE_DIR}/tests/keras/keras_tool.cpp)
target_link_libraries(keras_tool PRIVATE convfix_core)
