// convfix/model_io.h — format detection and loading of any supported model.
//
// Contract: load_model(path) detects the format from the file's content
// (magic bytes) and name, and returns the imported Graph with
// Graph::info.format set. Unknown or not-yet-supported formats give a
// kInvalidModel / kNotImplemented error naming the file and the format seen.
#pragma once

#include <string>

#include "convfix/graph.h"
#include "convfix/status.h"

namespace convfix {

// "onnx", "tflite", "keras-h5", "keras-v3", "tfjs", "tf-savedmodel",
// "tf-frozen", "torchscript", or "" when unknown.
std::string detect_format(const std::string& path);
Expected<Graph> load_model(const std::string& path);

}  // namespace convfix
