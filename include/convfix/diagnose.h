// convfix/diagnose.h — where and why a conversion changed a model's
// behaviour: compare, then alignment, parameter, hyperparameter,
// preprocessing and layer-activation analyses, ranked suspects
// (docs/DIAGNOSIS.md, section "diagnose", defines every number and the JSON).
//
// Contract:
// - options.compare holds the models in chain order (source, via...,
//   target) and the images, exactly as for compare_models(); the source and
//   the target are the first and the last model.
// - Both models are loaded first; a file that cannot be read or parsed is
//   an error (bad input). A model that loads but cannot run (an op without
//   a kernel, a shape error on the images) is a finding, not an error: the
//   verdict says so ("target_cannot_run" / "source_cannot_run") and the
//   static analyses (alignment, parameters, hyperparameters) still run.
// - Parameter and hyperparameter analyses always run, whatever the labels.
//   The preprocessing hypotheses run when some image's top-1 differs; the
//   activation analysis runs on up to `activation_images` discrepant images
//   (lowest tau first) and as many agreeing ones, one image at a time, so
//   memory does not grow with the number of images.
// - The result is the JSON document of docs/DIAGNOSIS.md (schema
//   kDiagnoseSchemaVersion). Nothing here prints; progress goes to the
//   optional callback.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "convfix/compare.h"
#include "convfix/status.h"

namespace convfix {

constexpr int kDiagnoseSchemaVersion = 1;

struct DiagnoseOptions {
  CompareOptions compare;              // models (source, via..., target), images, batch, threads, cache
  std::vector<std::string> labels;     // class names for the report (optional)
  int activation_images = 5;           // k discrepant + k agreeing images for the activation analysis
  int preprocessing_sample = 24;       // images re-run per preprocessing hypothesis (discrepant first)
  bool preprocessing = true;           // test the preprocessing hypotheses
};

using DiagnoseProgress = std::function<void(const std::string& stage)>;

Expected<nlohmann::json> diagnose_models(const DiagnoseOptions& options, const DiagnoseProgress& progress = {});

}  // namespace convfix
