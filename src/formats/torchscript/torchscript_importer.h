// TorchScript -> IR importer (plugin side; links libtorch). Internal header
// shared by torchscript_importer.cpp (loading, values, naming, the walk) and
// torchscript_ops.cpp (one handler per ATen/prim op). Contract in
// include/convfix/torchscript_format.h; op table in docs/FORMATS.md.
#pragma once

#include <torch/csrc/jit/ir/ir.h>
#include <torch/script.h>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "convfix/graph.h"
#include "convfix/torchscript_format.h"

namespace convfix::tsfmt {

namespace tj = torch::jit;

// What a TorchScript value became during the import.
struct Val {
  enum class Kind {
    kUnset,
    kTensor,  // an IR value (activation, initializer, or a 0-d shape scalar)
    kConst,   // a compile-time constant (int, float, bool, None, string, int list, ...)
    kList,    // a list/tuple whose elements are known one by one
    kModule,  // a submodule (object) reached through prim::GetAttr
  };
  Kind kind = Kind::kUnset;
  std::string name;            // kTensor: IR value name
  DType dtype = DType::kF32;   // kTensor: element type as far as known
  bool scalar = false;         // kTensor: a torch int/float held as a 0-d tensor (shape arithmetic)
  int rank = -1;               // kTensor: rank when known, else -1
  c10::IValue iv;              // kConst value; kModule object
  std::vector<Val> elems;      // kList
  std::string path;            // kModule: attribute path ("features.3")
};

class Importer {
 public:
  Importer(std::string file, TorchScriptOptions opts) : file_(std::move(file)), opts_(std::move(opts)) {}
  Expected<Graph> run();

  // ---- used by the op handlers ----
  const Val& val(const tj::Value* v) const;
  void set(const tj::Value* v, Val x) { vals_[v] = std::move(x); }
  Val& mutable_val(const tj::Value* v) { return vals_[v]; }

  // Error naming file, node and op.
  Status err(const tj::Node* n, const std::string& msg) const;
  Status unsupported(const tj::Node* n, const std::string& msg) const;

  bool is_none(const tj::Node* n, size_t i) const;
  bool is_const(const tj::Node* n, size_t i) const;
  Expected<int64_t> cint(const tj::Node* n, size_t i) const;
  Expected<double> cdouble(const tj::Node* n, size_t i) const;
  Expected<bool> cbool(const tj::Node* n, size_t i) const;
  // A list of constant ints, or one int repeated `repeat` times (repeat > 0).
  Expected<std::vector<int64_t>> cints(const tj::Node* n, size_t i, size_t repeat = 0) const;
  Expected<std::vector<double>> cdoubles(const tj::Node* n, size_t i) const;

  // The IR value for input i as a tensor; constants become initializers of
  // `like_dtype` (numbers) or their own dtype (tensors).
  Expected<std::string> tensor(const tj::Node* n, size_t i, DType like_dtype = DType::kF32);
  DType dtype_of(const tj::Node* n, size_t i) const;
  // An int list input (constant, or with shape-derived elements) as a 1-D
  // i64 IR value.
  Expected<std::string> int_list_tensor(const tj::Node* n, size_t i);

  std::string const_f32(float v, const std::string& hint);
  std::string const_i64(std::vector<int64_t> v, bool scalar, const std::string& hint);
  std::string const_tensor(const Tensor& t, const std::string& hint);
  // A one-element initializer of another dtype than `dt` becomes a copy of
  // type dt (torch's scalar type promotion); anything else is returned as is.
  std::string coerce_scalar(const std::string& name, DType dt);

  // Adds a node for torch node n. outputs: IR names (use out_name / tmp).
  void emit(const tj::Node* n, const std::string& op_type, std::vector<std::string> inputs,
            std::vector<std::string> outputs, Attributes attrs = {});
  // The IR name for torch output k of n (its debug name, made unique).
  std::string out_name(const tj::Node* n, size_t k = 0);
  std::string tmp(const std::string& base);
  // Binds torch output k of n to IR value `name`.
  void bind(const tj::Node* n, size_t k, const std::string& name, DType dt, int rank, bool scalar = false);
  int rank_of(const tj::Node* n, size_t i) const;
  // Emits op with one output bound to torch output 0, dtype from input 0.
  Status simple(const tj::Node* n, const std::string& op_type, std::vector<std::string> inputs,
                Attributes attrs = {}, std::optional<DType> dt = std::nullopt, std::optional<int> rank = std::nullopt);
  // Initializer dims of an IR value, or nullptr when it is not an initializer.
  const Tensor* initializer(const std::string& name) const;

  const std::string& file() const { return file_; }
  Graph& graph() { return g_; }
  // Import the nodes of a block (used by prim::If with a constant condition).
  Status walk(const tj::Block* b);

 private:
  Status import_node(const tj::Node* n);
  Status get_attr(const tj::Node* n);
  Status constant(const tj::Node* n);
  std::string node_name(const tj::Node* n, const std::vector<std::string>& inputs);
  std::string scope_of(const tj::Node* n) const;
  Expected<Tensor> to_tensor(const at::Tensor& t, const std::string& what) const;

  std::string file_;
  TorchScriptOptions opts_;
  Graph g_;
  torch::jit::Module module_;
  std::unordered_map<const tj::Value*, Val> vals_;
  std::unordered_set<std::string> used_values_, used_nodes_;
  std::map<std::string, std::string> attr_inits_;  // attribute path -> initializer name
  int tmp_counter_ = 0;
};

using OpHandler = Status (*)(Importer&, const tj::Node*);
// aten::/prim:: kind -> handler (torchscript_ops.cpp).
const std::unordered_map<std::string, OpHandler>& op_handlers();

DType dtype_from_torch(c10::ScalarType t, bool* ok);

// Fills in the shapes of g's inputs: opts.input_shapes where given, else
// inferred from the ops that consume them (torchscript_input_shape.cpp;
// rules in docs/FORMATS.md, TorchScript, "Input shape").
void infer_input_shapes(Graph& g, const TorchScriptOptions& opts);

}  // namespace convfix::tsfmt
