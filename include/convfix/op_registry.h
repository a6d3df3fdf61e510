// convfix/op_registry.h — how ops are described and how kernels are called.
//
// Contract:
// - Each op (or small family) lives in one file under src/ops/ and defines
//   `void register_ops_<file stem>(OpRegistry&)`. CMake generates the list
//   of these calls from the files present (one list, no static
//   self-registration), see src/ops/CMakeLists fragment in CMakeLists.txt.
// - A kernel receives a KernelContext: the node, the opset of its domain,
//   its input tensors (nullptr for omitted optional inputs) and writes every
//   output it produces with set_output(). Kernels never modify inputs.
// - A kernel reports bad shapes or unsupported attribute values as a Status
//   from ctx.error()/ctx.unsupported(), which prefixes the node and op.
// - OpDef::float_compute tells the executor to convert f16/bf16 (kHalf) or
//   f16/bf16/f64 (kAll) inputs to f32 before the call and to cast f32
//   outputs back to the dtype of input 0, so a kernel only implements f32
//   (plus whatever other types it handles itself).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "convfix/graph.h"
#include "convfix/status.h"
#include "convfix/tensor.h"

namespace convfix {

class ThreadPool;

// An activation the executor asks a kernel to apply to its output 0 (see
// executor.h, "Fusion"). kRelu: max(x, 0); kLeakyRelu: x < 0 ? alpha*x : x;
// kClip: min(max(x, alpha), beta) with alpha <= beta.
struct FusedActivation {
  enum class Kind { kNone, kRelu, kLeakyRelu, kClip };
  Kind kind = Kind::kNone;
  float alpha = 0.0f, beta = 0.0f;
  bool operator==(const FusedActivation&) const = default;
};

class KernelContext {
 public:
  KernelContext(const Node& node, int64_t opset, std::vector<const Tensor*> inputs, ThreadPool* pool,
                std::shared_ptr<void>* state)
      : node_(node), opset_(opset), inputs_(std::move(inputs)), pool_(pool), state_(state) {
    outputs_.resize(node.outputs.size());
  }

  const Node& node() const { return node_; }
  int64_t opset() const { return opset_; }
  size_t num_inputs() const { return inputs_.size(); }
  // nullptr when the input is absent or omitted ("").
  const Tensor* input(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  bool has_input(size_t i) const { return input(i) != nullptr; }
  size_t num_outputs() const { return outputs_.size(); }
  // True when output i exists and is consumed (name not empty).
  bool wants_output(size_t i) const { return i < node_.outputs.size() && !node_.outputs[i].empty(); }
  void set_output(size_t i, Tensor t) {
    if (i < outputs_.size()) outputs_[i] = std::move(t);
  }
  std::vector<Tensor>& outputs() { return outputs_; }
  ThreadPool* pool() const { return pool_; }
  // The graph being executed (for value_info such as output quantization);
  // may be null in unit tests that call kernels directly.
  const Graph* graph() const { return graph_; }
  void set_graph(const Graph* g) { graph_ = g; }
  // Declared info of output i (value_info, or the graph output), or nullptr.
  const ValueInfo* output_info(size_t i) const;
  // Per-node state that lives as long as the executor (e.g. packed weights).
  std::shared_ptr<void>& state() { return *state_; }
  // Fusion: when fused_activation().kind != kNone the kernel MAY apply it to
  // output 0; if it does, it calls set_fused_activation_applied() and the
  // executor skips the activation node. Kernels that ignore it stay correct.
  const FusedActivation& fused_activation() const { return fused_; }
  void set_fused_activation(FusedActivation f) { fused_ = f; }
  bool fused_activation_applied() const { return fused_applied_; }
  void set_fused_activation_applied() { fused_applied_ = true; }
  // For kNative kernels: the executor would like output 0 in nChw16c (a
  // consumer takes it); the kernel may still write a plain output.
  bool blocked_output_wanted() const { return blocked_wanted_; }
  void set_blocked_output_wanted(bool b) { blocked_wanted_ = b; }

  // Attribute helpers (see Node).
  int64_t attr_int(const std::string& k, int64_t d) const { return node_.attr_int(k, d); }
  float attr_float(const std::string& k, float d) const { return node_.attr_float(k, d); }
  std::string attr_string(const std::string& k, const std::string& d) const { return node_.attr_string(k, d); }
  std::vector<int64_t> attr_ints(const std::string& k, std::vector<int64_t> d = {}) const { return node_.attr_ints(k, std::move(d)); }
  std::vector<float> attr_floats(const std::string& k, std::vector<float> d = {}) const { return node_.attr_floats(k, std::move(d)); }
  bool has_attr(const std::string& k) const { return node_.attr(k) != nullptr; }

  // "node 'name' (Op): msg" as a shape error / not-implemented error.
  Status error(const std::string& msg) const;
  Status unsupported(const std::string& msg) const;
  // Checks that input i is present; error names the input index.
  Status require_input(size_t i) const;

 private:
  const Node& node_;
  int64_t opset_;
  std::vector<const Tensor*> inputs_;
  std::vector<Tensor> outputs_;
  ThreadPool* pool_;
  std::shared_ptr<void>* state_;
  const Graph* graph_ = nullptr;
  FusedActivation fused_;
  bool fused_applied_ = false;
  bool blocked_wanted_ = false;
};

using KernelFn = std::function<Status(KernelContext&)>;

enum class FloatCompute { kNone, kHalf, kAll };

// How an op treats nChw16c inputs (MemoryLayout in tensor.h; executor.h,
// "Blocked layout"):
// - kNo: the executor hands it plain tensors only.
// - kElementwise: a per-element op; when every input with more than one
//   element is nChw16c with the same dims, the kernel runs on the buffers
//   unchanged and the executor marks output 0 nChw16c.
// - kChannelConcat: Concat; when every input is nChw16c and the axis is 1,
//   the plain kernel's copies are already right for nChw16c buffers.
// - kNative: the kernel handles nChw16c inputs itself (and may produce an
//   nChw16c output, see KernelContext::blocked_output_wanted).
enum class BlockedLayout { kNo, kElementwise, kChannelConcat, kNative };

struct OpDef {
  std::string domain;     // "" for ONNX default domain
  std::string op_type;
  KernelFn kernel;
  FloatCompute float_compute = FloatCompute::kNone;  // see header comment
  int64_t min_opset = 1;        // oldest opset whose semantics the kernel implements
  bool fuses_activation = false;  // the kernel may apply ctx.fused_activation()
  BlockedLayout blocked = BlockedLayout::kNo;
};

// `d` with blocked = kElementwise (for registrations).
inline OpDef elementwise_layout(OpDef d) {
  d.blocked = BlockedLayout::kElementwise;
  return d;
}

class OpRegistry {
 public:
  void add(OpDef def);
  // nullptr when unknown.
  const OpDef* find(const std::string& domain, const std::string& op_type) const;
  std::vector<std::string> op_names() const;  // "Conv", "com.x:Foo"
  // The registry with every built-in op (built once, thread-safe).
  static const OpRegistry& builtin();

 private:
  std::map<std::pair<std::string, std::string>, OpDef> ops_;
};

}  // namespace convfix
