// convfix/graph.h — the graph IR every format is imported into.
//
// Contract:
// - Values are named by strings (the file's own tensor names). A Graph holds
//   its inputs and outputs (ValueInfo), initializers (parameter tensors such
//   as weights and biases, by name), value_info for intermediate values and
//   the nodes.
// - A Node keeps its original name, op type (canonical ops are the ONNX ops
//   of the default domain; format-specific ops live in other domains),
//   attributes (hyperparameters) and its inputs/outputs by value name. The
//   parameters of a node are those inputs that are initializers: they are
//   kept apart from attributes, so the parameter diff and the
//   hyperparameter diff never mix.
// - Provenance says which format and which original op a node came from, so
//   reports speak the user's language. Layout-carrying formats (NHWC) keep
//   their layout in attributes ("data_layout"), never silently transposed.
// - Edits (insert/remove/replace/rewire) keep node order valid where
//   possible; call topo_sort() after arbitrary edits and verify() before use.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "convfix/status.h"
#include "convfix/tensor.h"

namespace convfix {

class Graph;

struct Attribute {
  // kOpaque: a kind convfix does not interpret (e.g. ONNX TypeProto); `s`
  // holds the format's own serialized bytes so a writer can round-trip it.
  enum class Kind { kInt, kFloat, kString, kInts, kFloats, kStrings, kTensor, kGraph, kTensors, kGraphs, kOpaque };
  Kind kind = Kind::kInt;
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;

  static Attribute of_int(int64_t v) { Attribute a; a.kind = Kind::kInt; a.i = v; return a; }
  static Attribute of_float(float v) { Attribute a; a.kind = Kind::kFloat; a.f = v; return a; }
  static Attribute of_string(std::string v) { Attribute a; a.kind = Kind::kString; a.s = std::move(v); return a; }
  static Attribute of_ints(std::vector<int64_t> v) { Attribute a; a.kind = Kind::kInts; a.ints = std::move(v); return a; }
  static Attribute of_floats(std::vector<float> v) { Attribute a; a.kind = Kind::kFloats; a.floats = std::move(v); return a; }
  static Attribute of_strings(std::vector<std::string> v) { Attribute a; a.kind = Kind::kStrings; a.strings = std::move(v); return a; }
  static Attribute of_tensor(Tensor v) { Attribute a; a.kind = Kind::kTensor; a.t = std::move(v); return a; }
  // Short printable form, e.g. "[1, 1, 1, 1]" or "SAME_UPPER".
  std::string to_string() const;
};
using Attributes = std::map<std::string, Attribute>;

struct Provenance {
  std::string format;       // "onnx", "tflite", "keras", ...
  std::string original_op;  // the op/layer type as the file names it
  std::string layer;        // user-facing layer name when the format has one
};

struct Node {
  std::string name;                 // original node name (may be empty in files; importers fill one)
  std::string op_type;              // canonical op type (ONNX name in domain "")
  std::string domain;               // "" = ONNX default domain
  std::vector<std::string> inputs;  // value names; "" marks an omitted optional input
  std::vector<std::string> outputs;
  Attributes attrs;
  Provenance provenance;
  std::string doc;

  const Attribute* attr(const std::string& key) const;
  int64_t attr_int(const std::string& key, int64_t def) const;
  float attr_float(const std::string& key, float def) const;
  std::string attr_string(const std::string& key, const std::string& def) const;
  std::vector<int64_t> attr_ints(const std::string& key, std::vector<int64_t> def = {}) const;
  std::vector<float> attr_floats(const std::string& key, std::vector<float> def = {}) const;
  // "name (Op)" for messages.
  std::string label() const;
};

struct ValueInfo {
  std::string name;
  DType dtype = DType::kUndefined;
  Shape shape;
  bool has_shape = false;  // false: rank unknown
  std::string doc;
  // Quantization of this value when the format says (TFLite activations);
  // initializers carry theirs on the Tensor itself.
  std::optional<QuantParams> quant;
};

// Model-level facts kept for round trips and reports.
struct ModelInfo {
  std::string format;                      // "onnx", ...
  int64_t ir_version = 0;
  std::map<std::string, int64_t> opsets;   // domain -> version ("" = ai.onnx)
  std::string producer_name, producer_version, domain, doc;
  int64_t model_version = 0;
  std::map<std::string, std::string> metadata;
  std::string source_path;                 // file it was read from
  // Further graphs of a file with several (TFLite subgraphs 1..N:
  // subgraphs[k] is subgraph k+1; ops that call one keep its number in an
  // attribute). Shared, not deep-copied, when a ModelInfo is copied.
  std::vector<std::shared_ptr<Graph>> subgraphs;
  // Named entry points (TFLite SignatureDef): graph 0 = the main graph,
  // k = subgraphs[k-1]; inputs/outputs map an alias to a value name.
  struct Signature {
    std::string key;
    int64_t graph = 0;
    std::vector<std::pair<std::string, std::string>> inputs, outputs;
  };
  std::vector<Signature> signatures;
};

class Graph {
 public:
  std::string name;
  ModelInfo info;
  std::vector<ValueInfo> inputs;   // runtime inputs (never initializers)
  std::vector<ValueInfo> outputs;
  std::map<std::string, Tensor> initializers;
  std::map<std::string, ValueInfo> value_info;  // intermediate value types, when known
  std::vector<Node> nodes;                       // kept in topological order

  int64_t opset(const std::string& domain = "") const;

  // --- queries ---
  bool is_initializer(const std::string& value) const { return initializers.count(value) != 0; }
  // Index of the node producing `value`, or -1 (graph input, initializer, unknown).
  int64_t producer(const std::string& value) const;
  // Indices of nodes consuming `value`.
  std::vector<size_t> consumers(const std::string& value) const;
  // Index of the node with this name, or -1.
  int64_t find_node(const std::string& name) const;
  // Names of the node's inputs that are initializers (its parameters).
  std::vector<std::string> parameters(const Node& n) const;
  // Total number of parameter elements and bytes.
  int64_t parameter_count() const;
  int64_t parameter_bytes() const;
  // A value name not yet used in the graph, starting from `base`.
  std::string unique_value_name(const std::string& base) const;
  std::string unique_node_name(const std::string& base) const;

  // --- edits ---
  // Inserts `n` at `pos` (node index); returns the index.
  size_t insert_node(size_t pos, Node n);
  // Removes node `idx`. When `bypass_input` is >= 0, consumers of the node's
  // first output are rewired to that input (removing a pass-through node).
  Status remove_node(size_t idx, int bypass_input = -1);
  // Replaces node idx by `replacement` (which may have other ops/attrs).
  void replace_node(size_t idx, Node replacement);
  // Every use of value `from` (node inputs and graph outputs) becomes `to`.
  void rewire(const std::string& from, const std::string& to);
  // Reorders nodes topologically (stable). Error on a cycle or a value with
  // no producer.
  Status topo_sort();
  // Drops nodes and initializers that no graph output depends on.
  void prune_unused();

  // Checks: unique value producers, every input defined before use, graph
  // outputs produced, no cycles. Errors name the node.
  Status verify() const;
  // Human-readable listing: inputs, outputs, one line per node.
  std::string dump() const;
};

}  // namespace convfix
