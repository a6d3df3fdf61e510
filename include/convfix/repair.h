// convfix/repair.h — repair a converted model: change the target until it
// behaves like the source, verify every change on the images, and write the
// repaired model in the target's own format (docs/DIAGNOSIS.md, section
// "repair", defines the strategies, the verification loop and the JSON).
//
// Contract:
// - options.diagnose holds the pair exactly as for diagnose_models(); the
//   source and the target are the first and the last model. repair_models()
//   diagnoses the pair first (the "diagnosis" member of the result is that
//   document), then tries candidate changes suspect by suspect, in rank
//   order (options.diagnosis, when given, is taken as that document), each
//   produced by a named strategy (a small pass, one file each in
//   src/repair): "preprocessing", "input_layout", "parameters",
//   "hyperparameters", "graph", "dequantize".
// - Verification: a candidate is applied to a copy of the target graph and
//   run on the verification images (every discrepant image, up to
//   `max_discrepant`, plus a held-out `holdout` fraction of the agreeing
//   images, at least 4 when there are that many); only the changed nodes and
//   what follows them are recomputed (Executor re-execution) when the
//   graph's values keep their names. It is kept when the number of top-1
//   disagreements with the source falls, or stays equal while the output
//   error falls (by 5% or to the noise floor), and no held-out image that
//   agreed before disagrees after; it is undone otherwise. The loop ends
//   when no discrepancy and no error above the noise floor is left, no
//   suspect improves, or the budget (seconds) is spent.
// - Output: the repaired graph is written to options.output in the
//   target's format (ONNX, TFLite, TF.js, Keras; a TorchScript or
//   TensorFlow target is written as ONNX — the JSON says which), atomically,
//   never over an input file; then re-loaded and checked to give the same
//   outputs as the in-memory repaired graph on the verification images.
//   Changes the target's writer cannot express (e.g. a new node in a Keras
//   file) are not tried; the log lists them as "not_expressible".
// - Finally the full image set is compared once with the repaired model
//   (and diagnosed again): the result has the before/after discrepancy rate,
//   mean Kendall tau and per-layer errors.
// - The result is the JSON document of docs/DIAGNOSIS.md ("repair"), with
//   `output_model`, `discrepancy_before`, `discrepancy_after` and `repairs`
//   (each: `strategy`, `category`, `target_node`, `source_node`, `change`,
//   `discrepancy_before`, `discrepancy_after`, `kept`). Input files are never
//   modified. Nothing here prints; progress goes to the optional callback.
// - Errors (Status): unreadable models or images, an output path equal to
//   an input, an unwritable output. A target that cannot run is not an
//   error: repair tries to make it run.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convfix/diagnose.h"
#include "convfix/status.h"

namespace convfix {

constexpr int kRepairSchemaVersion = 1;

struct RepairOptions {
  DiagnoseOptions diagnose;            // the pair, the images, compare options
  std::string output;                  // OUT: file (or folder for TF.js) to write
  double budget_s = 600;               // wall-clock budget for the search
  double holdout = 0.25;               // fraction of agreeing images held out for regressions
  int max_discrepant = 64;             // discrepant images in the verification set
  int max_suspects = 40;               // suspects tried, in rank order
  bool embed_preprocessing = false;    // fold a preprocessing fix into the model
  // Layers of a quantized target that may run in float ("auto": chosen by
  // the quantization suspects). Empty: report only.
  std::vector<std::string> allow_dequantize;
  bool allow_dequantize_auto = false;
  bool verify_full = true;             // compare + diagnose the full image set after repair
  // The diagnose document of exactly this pair and these options, when the
  // caller already has it (convfix demo): repair then does not diagnose again.
  const nlohmann::json* diagnosis = nullptr;
};

using RepairProgress = std::function<void(const std::string& stage)>;

Expected<nlohmann::json> repair_models(const RepairOptions& options, const RepairProgress& progress = {});

}  // namespace convfix
