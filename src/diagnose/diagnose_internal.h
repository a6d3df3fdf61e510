// The stages of diagnose_models() (one file each in src/diagnose) and the
// per-row findings they share. Internal to src/diagnose.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/model_session.h"
#include "convfix/align.h"
#include "convfix/compare.h"
#include "convfix/diagnose.h"
#include "convfix/graph.h"

namespace convfix {

// What the analyses found for one alignment row.
struct RowFindings {
  // Parameters (matched rows with conv/dense weights on both sides).
  bool has_params = false;
  double p_mean_abs = 0, p_max_abs = 0, p_rel_l2 = 0, p_cosine = 1;
  int64_t p_elements = 0;
  std::string p_pattern;          // "", "float16_rounding", "missing_bias", "scaled", "permuted", "transposed", "quantized", "other"
  bool params_differ = false;     // beyond the tolerance of the comparison made
  bool target_quantized = false;
  double p_sqnr_db = 0;           // for quantized weights
  nlohmann::json p_tensors = nlohmann::json::array();
  std::string p_note;
  // Hyperparameters.
  std::vector<std::string> hp_compared;
  struct Diff { std::string name, source, target; };
  std::vector<Diff> hp_diffs;
  // Activations.
  bool has_act = false;
  double act_disc_mad = 0, act_disc_rel = 0, act_agree_mad = 0, act_agree_rel = 0;
  double noise = 0;               // this row's noise floor (relative error)
  bool above_noise = false;
  nlohmann::json act_per_image = nlohmann::json::array();
  // Structure (graph) notes for this row.
  std::vector<std::string> structure;
};

// ---- hyperparameters.cpp
// Normalised hyperparameters of a layer: name -> printable value, in one
// convention for every format (effective pads given the input shape,
// activation names, axes in NCHW terms where the layout is known).
std::map<std::string, std::string> layer_hyperparameters(const Graph& g, const Layer& l, const ValueDims& shapes);
void compare_hyperparameters(const Graph& sg, const Layer& sl, const ValueDims& ss, const Graph& tg, const Layer& tl,
                             const ValueDims& ts, const std::string& layout, RowFindings& f);

// ---- parameters.cpp
void compare_parameters(const Graph& sg, const Layer& sl, const ValueDims& ss, const Graph& tg, const Layer& tl,
                        const ValueDims& ts, RowFindings& f);

// ---- structure.cpp: differences in the nodes around the anchors of a row.
std::vector<std::string> structure_notes(const LayerGraph& src, const Layer& sl, const LayerGraph& tgt, const Layer& tl);

// ---- activations.cpp
struct ActivationResult {
  bool ran = false;
  std::string note;
  std::vector<size_t> images_discrepant, images_agreeing;   // image indices (compare order)
  double noise_floor = 0;                                    // median over rows of the per-row floors
  int first_divergent_row = -1;
  std::vector<int> spikes;
};
// Runs the chosen images through both models one at a time, comparing every
// matched row's output values (layout-aware). `files` are the image files in
// compare order. Fills f[row] for matched rows.
Expected<ActivationResult> analyze_activations(const DiagnoseOptions& o, ModelState& source, ModelState& target,
                                               const LayerGraph& src, const LayerGraph& tgt, const Alignment& a,
                                               const std::vector<std::string>& files,
                                               const std::vector<size_t>& discrepant,
                                               const std::vector<size_t>& agreeing,
                                               std::vector<RowFindings>& f);

// Dims of every value of a model on one image (a probe run). When the run
// fails, `partial` (if given) gets the dims of the values computed before.
Expected<ValueDims> probe_shapes(ModelState& m, const std::string& image_file, ValueDims* partial = nullptr);

// ---- preprocessing_check.cpp
nlohmann::json test_preprocessing(const DiagnoseOptions& o, const CompareResult& cmp,
                                  const std::vector<std::string>& files, const DiagnoseProgress& progress);

// ---- localize.cpp
struct LocalizeInput {
  const LayerGraph* src = nullptr;
  const LayerGraph* tgt = nullptr;
  const Alignment* align = nullptr;
  const std::vector<RowFindings>* rows = nullptr;
  const ActivationResult* act = nullptr;
  const nlohmann::json* preprocessing = nullptr;
  std::string target_error;        // non-empty when the target cannot run
  std::string source_error;
  bool target_quantized = false;
};
nlohmann::json rank_suspects(const LocalizeInput& in);

}  // namespace convfix
