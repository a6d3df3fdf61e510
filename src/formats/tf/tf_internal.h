// Internal to the TensorFlow readers (binary GraphDef / SavedModel and the
// TF.js graph-model JSON): one NodeDef-like form both are converted into,
// and the lowering of it onto the canonical (ONNX-domain) ops.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "convfix/graph.h"
#include "convfix/status.h"
#include "convfix/tensor.h"

namespace convfix::tf {

// AttrValue mapped onto convfix Attributes: s -> kString, i -> kInt,
// f -> kFloat, b -> kInt (0/1), type -> kInt (TF DataType code), shape ->
// kInts (-1 for an unknown size; attribute "<name>/unknown_rank" = 1 when the
// rank is unknown), tensor -> kTensor, func -> kString (the function name),
// list(i/b/type) -> kInts, list(f) -> kFloats, list(s) -> kStrings.
struct NodeDef {
  std::string name;
  std::string op;
  std::vector<std::string> inputs;  // as in the file: "n", "n:1", "^n", in functions "n:out_arg:k"
  Attributes attrs;
};

struct FunctionDef {
  std::string name;
  std::vector<std::string> input_args;   // signature input arg names, in order
  std::vector<std::string> output_args;  // signature output arg names, in order
  std::map<std::string, std::string> ret;  // output arg -> "node:arg:k" or input arg name
  std::vector<NodeDef> nodes;
};

struct GraphDef {
  std::vector<NodeDef> nodes;
  std::map<std::string, FunctionDef> functions;
  int64_t producer = 0;
};

// Where the result's inputs and outputs come from.
struct LowerRequest {
  std::string format;  // provenance format: "tf" or "tfjs"
  std::string path;    // for messages
  // Outputs "node:k" or "node"; empty: every node without consumers that
  // is not a Const / NoOp / control-only node.
  std::vector<std::string> outputs;
  std::vector<std::string> output_aliases;  // optional names (signature keys), same order
  // Inputs: "node:k" or "node" (a Placeholder); empty: every Placeholder
  // the outputs depend on.
  std::vector<std::string> inputs;
  std::vector<std::string> input_aliases;
  // Restored variables by checkpoint key (SavedModel) and the key of each
  // variable node when known (filled by the lowering from the restore ops
  // when empty).
  std::map<std::string, Tensor> checkpoint;
  // Constant weights by Const node name (TF.js: tensors of the manifest).
  std::map<std::string, Tensor> weights;
};

// TF DataType code -> DType (error for codes convfix cannot hold).
Expected<DType> dtype_from_tf(int64_t code);
// Inverse (0 when there is none).
int64_t dtype_to_tf(DType t);
// Flattens the graph (inlines function calls), keeps what the outputs depend
// on and lowers it onto ONNX-domain ops.
Expected<Graph> lower_graph(const GraphDef& gd, const LowerRequest& req);

}  // namespace convfix::tf
