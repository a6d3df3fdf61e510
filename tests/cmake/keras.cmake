# Keras / TF.js layers-model tests (see tests/keras, tests/tfjs).
include(${CMAKE_SOURCE_DIR}/src/formats/keras/keras.cmake)
