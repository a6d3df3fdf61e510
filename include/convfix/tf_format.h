// convfix/tf_format.h — TensorFlow readers: frozen GraphDef (.pb), SavedModel
// directories (with their TensorBundle checkpoint) and TF.js graph-models.
//
// Contract (the op-by-op mapping is in docs/FORMATS.md, "TensorFlow"):
// - The file's GraphDef (for a SavedModel: the MetaGraphDef tagged "serve",
//   signature "serving_default"; for TF.js: modelTopology, the GraphDef in
//   protobuf's JSON mapping) is flattened — StatefulPartitionedCall /
//   PartitionedCall and direct function calls are inlined from the function
//   library, their nodes named "<call node>/<body node>" — and only what the
//   outputs depend on is kept. Identity-like nodes (Identity, ReadVariableOp,
//   StopGradient, ...) are passed through, except a graph output's own.
// - Nodes are lowered onto canonical ONNX-domain ops (opset 18). The node
//   doing a TF op's main work carries exactly the TF node name; helper nodes
//   are named "<name>/<what>". Provenance: format "tf" or "tfjs",
//   original_op the TF op, layer the TF node name; spatial ops carry
//   "data_layout" (the TF data_format). Activations stay in the file's layout
//   (NHWC as a rule); only Conv / ConvTranspose / pools / depth-space are
//   wrapped in Transpose pairs. SAME padding is auto_pad SAME_UPPER (TF's
//   rule: the extra pad at the end).
// - Initializers are named after their Const node (TF.js: the manifest
//   weight name, which is the Const node name) or variable node, with the TF
//   layout (HWIO conv filters, HWCM depthwise filters); layout conversions
//   are nodes.
// - Errors (kInvalidModel / kNotImplemented / kIoError) name the file, and
//   where relevant the node and op: truncated or corrupt protobuf, missing
//   signature, a bad variables.index (not an SSTable, bad block handle,
//   unknown compression), shard or byte range out of range, checksum
//   mismatch, dangling inputs, cycles, unsupported ops.
#pragma once

#include <map>
#include <string>

#include "convfix/graph.h"
#include "convfix/status.h"
#include "convfix/tensor.h"

namespace convfix {

Expected<Graph> read_tf_frozen(const std::string& path);
Expected<Graph> read_tf_savedmodel(const std::string& dir);
// A TensorBundle checkpoint by prefix (".../variables/variables"): every
// numeric tensor by key (string tensors such as the object graph are left out).
Expected<std::map<std::string, Tensor>> read_tf_checkpoint(const std::string& prefix);
// model.json of a TF.js graph-model (weights from its manifest shards).
Expected<Graph> read_tfjs_graph_model(const std::string& model_json_path);

}  // namespace convfix
