// The passes of repair_models() (one file each in src/repair) and what they
// share: the analysed pair, candidate changes and the verifier. Internal to
// src/repair.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/model_session.h"
#include "convfix/align.h"
#include "convfix/graph.h"
#include "convfix/repair.h"
#include "diagnose/diagnose_internal.h"

namespace convfix {

// What the target's writer can express (src/repair/write_output.cpp).
struct WriteCaps {
  std::string format;          // the target's format
  std::string output_format;   // what OUT is written as
  bool values = true;          // changed initializer values
  bool new_initializers = true;
  bool attributes = true;      // changed node attributes
  bool structure = true;       // nodes inserted / removed
  bool tflite_domain = false;  // new nodes must be TFLite builtins
  bool needs_check = false;    // ask the writer about each candidate (Keras, TF.js layers-model)
};
WriteCaps write_caps(const Graph& target);
// OK when the target's writer can express graph `g` (always, unless
// caps.needs_check); else the writer's reason.
Status check_expressible(const Graph& g, const WriteCaps& caps, const std::string& target_path);

// The pair as the static analyses see it: layers, alignment and the
// per-row findings, recomputed after every kept change.
struct PairView {
  const Graph* sg = nullptr;
  const Graph* tg = nullptr;
  ValueDims ss, ts;
  LayerGraph src, tgt;
  Alignment align;
  std::vector<RowFindings> rows;
  // Row index by target / source anchor name (-1 when none).
  int row_of_target(const std::string& node) const;
  int row_of_source(const std::string& node) const;
};
// `ts` may be partial (a target that cannot run).
PairView analyse_pair(const Graph& sg, const ValueDims& ss, const Graph& tg, const ValueDims& ts);

// One change to try. apply() edits a copy of the target graph and returns
// the names of the nodes whose results change (for re-execution; empty =
// recompute everything), or an error when it does not apply after all.
struct Candidate {
  std::string strategy, category;
  std::string source_node, target_node;
  std::string change;                 // human-readable
  nlohmann::json details = nlohmann::json::object();
  std::function<Expected<std::set<std::string>>(Graph&)> apply;
  bool structural = false;            // inserts/removes nodes or renames values
  std::optional<std::string> target_preset;   // a preprocessing candidate: feed the target this preset
  std::optional<float> target_crop;
  std::string key;                    // identity, so one change is tried once
  int suspect_rank = -1;              // the suspect it came from (-1: the sweep)
};

// ---- strategies (one file each); each appends its candidates for a row.
void parameter_candidates(const PairView& v, int row, const WriteCaps& caps, std::vector<Candidate>& out);
void hyperparameter_candidates(const PairView& v, int row, const WriteCaps& caps, std::vector<Candidate>& out);
void graph_candidates(const PairView& v, int row, const WriteCaps& caps, std::vector<Candidate>& out);
// Run a quantized TFLite layer in float (--allow-dequantize).
void dequantize_candidates(const PairView& v, int row, const WriteCaps& caps, std::vector<Candidate>& out);
// Rows-independent graph fixes (hard-coded batch in Reshape, input layout).
void global_graph_candidates(const PairView& v, const WriteCaps& caps, std::vector<Candidate>& out);
// From the diagnosis' preprocessing hypotheses.
void preprocessing_candidates(const nlohmann::json& diagnosis, const CompareModelSpec& target, bool embed,
                              const ModelState& target_state, const WriteCaps& caps, std::vector<Candidate>& out);

// ---- param_write.cpp: write canonical parameters back in the target's layout.
// Writes `canonical` ([O, I/g, kH, kW] or [O, I], see diagnose/layer_params.h)
// into the anchor's weight initializer, through the layout chain between
// the initializer and the anchor. Returns the changed initializer's name.
Expected<std::string> write_anchor_weight(Graph& g, const Layer& l, const Tensor& canonical);
// Writes a bias [O] (adds a bias input when the anchor has none). Returns
// the initializer's name.
Expected<std::string> write_anchor_bias(Graph& g, const Layer& l, const Tensor& bias);
// Replaces the value of the initializer at the root of `value`'s constant
// chain with one that makes `value` equal `t` (same element count).
Expected<std::string> write_constant(Graph& g, const std::string& value, const Tensor& t);
// Nodes that read `initializer` directly (for re-execution).
std::set<std::string> consumers_of(const Graph& g, const std::string& initializer);

// ---- verify.cpp
struct Score {
  bool ran = false;
  std::string error;
  int discrepant = 0;              // top-1 differs from the source's
  int regressions = 0;             // held-out images that agreed and now do not
  double error_rel = 0;            // mean over images of max|t - s| / max|s|
  std::vector<int> top1;           // per verification image
};

class Verifier {
 public:
  // `images`: verification image files; `agreed`: per image, whether its
  // top-1 agreed before repair (regression check).
  static Expected<std::unique_ptr<Verifier>> create(const RepairOptions& o, ModelState& source,
                                                    const CompareModelSpec& target_spec,
                                                    std::vector<std::string> images, std::vector<char> agreed);
  // Runs `g` (the target after a change) with the target preset `preset`
  // (the current one when empty); with `dirty` non-empty and a cache of the
  // current graph, recomputes only the dirty nodes and what follows.
  Score evaluate(std::shared_ptr<const Graph> g, const std::set<std::string>& dirty, bool structural,
                 const std::string& preset = "", float crop = 0);
  // The graph just evaluated becomes the current one (its values are cached
  // for later re-execution when memory allows).
  void accept(std::shared_ptr<const Graph> g, const std::string& preset, float crop);
  size_t size() const { return images_.size(); }
  int reruns_partial() const { return partial_; }
  int reruns_full() const { return full_; }
  // Outputs of the last evaluate (first graph output, per image).
  const std::vector<Tensor>& last_outputs() const { return last_out_; }
  const std::string& preset() const { return preset_; }

 private:
  Verifier() = default;
  const RepairOptions* o_ = nullptr;
  CompareModelSpec spec_;
  std::vector<std::string> images_;
  std::vector<char> agreed_;
  std::vector<Tensor> src_out_;       // per image, f32 flattened first output
  std::vector<int> src_top1_;
  std::string preset_;
  float crop_ = 0;
  std::vector<Tensor> inputs_;        // per batch chunk for the current preset
  std::vector<ValueCache> cache_;     // per chunk, values of the current graph
  bool caching_ = true;
  std::vector<Tensor> last_out_;
  int partial_ = 0, full_ = 0;
};

// ---- write_output.cpp
// Writes the repaired graph in the output format, atomically; refuses a
// path equal to an input. Returns the path written (the model.json for TF.js).
Expected<std::string> write_repaired(const Graph& g, const WriteCaps& caps, const std::string& target_path,
                                     const std::vector<std::string>& input_paths, const std::string& out);

}  // namespace convfix
