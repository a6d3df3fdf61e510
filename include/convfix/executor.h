// convfix/executor.h — runs a Graph on the reference kernels.
//
// Contract:
// - Executor::create checks that every node's op is known; it does NOT fail
//   on unknown ops until run() reaches one (so inspect works), unless
//   ExecOptions::require_all_ops is set.
// - run() binds inputs by name, executes nodes in order and returns the
//   graph outputs. Errors name the node and op.
// - Observer: before each node runs, wants(node) is asked; when true, every
//   output of the node is handed to on_output() after it is computed.
//   Observing never changes results (tensors handed out are immutable
//   shares).
// - Re-execution: run() can take a ValueCache (every value of an earlier
//   run, see RunOptions::keep_all) and a set of dirty node names; then only
//   the dirty nodes and everything downstream are recomputed, all other
//   values come from the cache. The graph may have been edited since the
//   cache was filled, as long as clean values kept their names.
// - Fusion: a node whose kernel can apply an activation (Conv) and whose
//   only consumer is a Relu, LeakyRelu or Clip (constant bounds, min <= max)
//   computes the activation's output directly and the activation node does
//   not run; its output, observers and everything else are as if it had.
//   The intermediate (pre-activation) value then never exists, so fusion is
//   off for a node the observer wants, in runs with keep_all or reuse, and
//   everywhere when ExecOptions::fuse is false or the environment sets
//   CONVFIX_NO_FUSION=1. Fused results equal the unfused ones except that a
//   NaN entering a fused Clip may come out as the lower bound (as in ONNX
//   Runtime's fused kernels).
// - Blocked layout: inside a run, Conv (and the ops that follow it) may
//   keep 4-D f32 activations with C % 16 == 0 in the nChw16c layout
//   (convfix/tensor.h), which oneDNN's fast convolutions use, instead of
//   reordering to NCHW after every convolution. Every tensor handed out --
//   graph outputs, observers' values -- is plain NCHW; ops that do not
//   declare nChw16c support (OpDef::blocked) get plain inputs. Off in runs
//   with keep_all or reuse, when ExecOptions::blocked_layout is false, or
//   when the environment sets CONVFIX_NO_BLOCKED_LAYOUT=1. Pure data
//   movement: results are the same either way, up to the summation order
//   oneDNN picks per layout.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "convfix/graph.h"
#include "convfix/op_registry.h"
#include "convfix/status.h"
#include "convfix/tensor.h"
#include "convfix/thread_pool.h"

namespace convfix {

using TensorMap = std::map<std::string, Tensor>;
using ValueCache = std::unordered_map<std::string, Tensor>;

class Observer {
 public:
  virtual ~Observer() = default;
  virtual bool wants(const Node& node) = 0;
  virtual void on_output(const Node& node, size_t output_index, const std::string& value_name,
                         const Tensor& value) = 0;
  // Called after every node of a run (computed, fused or reused), whether
  // or not wants() was true; for timing.
  virtual void on_node_done(const Node& node) {}
};

// Observer that keeps every output of every node (or of those whose names
// are listed) in a map by value name.
class CaptureAll : public Observer {
 public:
  bool wants(const Node&) override { return true; }
  void on_output(const Node&, size_t, const std::string& name, const Tensor& v) override { values[name] = v; }
  TensorMap values;
};

struct ExecOptions {
  int threads = 1;
  bool require_all_ops = false;
  bool fuse = true;            // see "Fusion" above
  bool blocked_layout = true;  // see "Blocked layout" above
};

struct RunOptions {
  Observer* observer = nullptr;
  // When set, receives every value computed or reused in this run.
  ValueCache* keep_all = nullptr;
  // Re-execution: values from an earlier run and the nodes to recompute.
  const ValueCache* reuse = nullptr;
  std::set<std::string> dirty_nodes;
};

class Executor {
 public:
  static Expected<std::unique_ptr<Executor>> create(std::shared_ptr<const Graph> graph, ExecOptions opts = {});

  // Runs the graph. `inputs` by graph input name.
  Expected<TensorMap> run(const TensorMap& inputs, const RunOptions& opts = {});
  const Graph& graph() const { return *graph_; }
  // Ops in the graph that have no kernel ("Op" or "domain:Op").
  std::vector<std::string> unsupported_ops() const;
  // Activation nodes the last run() computed inside their producer (Fusion).
  int last_run_fused() const { return last_run_fused_; }
  // Node outputs the last run() kept in the nChw16c layout (Blocked layout).
  int last_run_blocked() const { return last_run_blocked_; }

 private:
  Executor() = default;
  std::shared_ptr<const Graph> graph_;
  ExecOptions opts_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<const OpDef*> defs_;
  std::vector<std::shared_ptr<void>> states_;
  std::vector<int64_t> opsets_;
  // For freeing: number of consumers per value (graph outputs count as one more).
  std::unordered_map<std::string, int> use_count_;
  // Fusion candidates: index of the activation node that node i may absorb, or -1.
  std::vector<int> fuse_next_;
  std::vector<FusedActivation> fuse_act_;
  // Per node: whether a kNative kernel is asked for an nChw16c output 0.
  std::vector<char> blocked_wanted_;
  int last_run_fused_ = 0;
  int last_run_blocked_ = 0;
};

}  // namespace convfix
