// convfix/onnx_format.h — ONNX reader and writer.
//
// Contract:
// - read_onnx parses a .onnx file (opsets 7..latest known), including
//   external data files (resolved relative to the model's folder, refusing
//   paths that escape it), Constant nodes (kept as nodes), graph inputs that
//   are also initializers (they become initializers, not runtime inputs),
//   and value_info. Unknown ops are imported unchanged.
// - Errors are kInvalidModel/kIoError with the file name in the message.
// - write_onnx writes the graph as an ONNX model, atomically (temp file +
//   rename). It refuses to overwrite `protect` paths (the inputs).
// - read_tensor_pb / write_tensor_pb handle single TensorProto files, as in
//   the ONNX test data (input_0.pb).
#pragma once

#include <string>

#include "convfix/graph.h"
#include "convfix/status.h"

namespace convfix {

Expected<Graph> read_onnx(const std::string& path);
Expected<Graph> read_onnx_bytes(const std::string& bytes, const std::string& name_for_errors,
                                const std::string& base_dir = "");
Status write_onnx(const Graph& g, const std::string& path);
Expected<std::string> onnx_to_bytes(const Graph& g);

Expected<Tensor> read_tensor_pb(const std::string& path, std::string* name = nullptr);
Status write_tensor_pb(const Tensor& t, const std::string& name, const std::string& path);

}  // namespace convfix
