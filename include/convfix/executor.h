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
};

}  // namespace convfix
