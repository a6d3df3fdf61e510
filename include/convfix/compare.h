// convfix/compare.h — differential testing of a source model, its conversion
// and the intermediate models of the conversion chain over a set of images
// (the first stage of diagnosis; `convfix compare` prints it).
//
// Contract (docs/DIAGNOSIS.md, section "compare", has the definitions with
// examples; the JSON schema is there too):
// - Models are given in chain order: models[0] is the source, the last the
//   target, any in between the intermediate ("via") models. Each has its own
//   preprocessing preset. Every model must take one image input; all must
//   take the same image size and channel count (layouts may differ: NCHW vs
//   NHWC is fine). Each model is loaded and checked (every op must have a
//   kernel) before any image is run, so an unsupported op is an error naming
//   the file, node and op, not a failure halfway.
// - Images: files or folders as in collect_image_files(); every file's
//   header is checked before work starts (a non-image is an error naming it).
// - Streaming: images are processed options.batch at a time; a model's
//   outputs for a chunk are freed once the chunk is summarised. Memory grows
//   with the number of images only by the per-image summary (top-k of each
//   model, tau, agreement: a few hundred bytes per image), never by tensors.
// - Outputs come from the OutputCache when present (same model bytes, same
//   preprocessing, same image bytes) and are stored there after computation.
// - Per image and model: the top-k (k = options.top_k) of the first graph
//   output, when that output is classification-like (per image [1, classes]
//   with classes >= 2, i.e. the model's output is [N, classes]); scores are
//   the output itself when the row already is a probability distribution
//   (looks_like_probabilities), else its softmax. For other outputs top-k
//   does not apply and only error statistics are computed.
// - Per pair of models (source-target first; with via models every step of
//   the chain and source-to-each-via too): top-1 agreement and discrepancy
//   rate (share of images whose top-1 class differs), Kendall's tau between
//   the two top-k lists (kendall_tau_topk) per image and its distribution,
//   and, per output position, error statistics over all images: max and mean
//   of |a - b|, max |a| (a: the pair's first model) and max|a-b| / max|a|.
//   Outputs whose per-image shapes differ are flagged, not compared.
// - Chain (with at least one via model): for every image where source and
//   target disagree on top-1, the top-1 of every model and the first model in
//   the chain whose top-1 differs from the source's (the paper's Table I).
// - Errors (Status) name the file, and the node and op where relevant;
//   nothing here prints or exits; progress goes to the optional callback.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "convfix/preprocess.h"
#include "convfix/status.h"

namespace convfix {

struct CompareModelSpec {
  std::string path;
  std::string role;           // "source", "via" or "target" (set by the caller)
  std::string preset = "torch";
  float crop_fraction = 0;    // 0: the preset's
};

struct CompareOptions {
  std::vector<CompareModelSpec> models;   // source, via..., target (at least 2)
  std::vector<std::string> images;        // files or folders
  int batch = 8;                          // images per chunk (and per run for dynamic-batch models)
  int threads = 1;
  int top_k = 5;
  std::string cache_dir;                  // "" disables the output cache
  GeometryOptions geometry;               // layout/size overrides, applied to every model
};

struct CompareModelInfo {
  std::string path, role, format, sha256;
  std::string input_name;
  std::vector<int64_t> input_dims;        // with -1 for a dynamic batch
  std::string layout;                     // "nchw" / "nhwc"
  std::string input_dtype;                // "f32", "i8", ...
  // A quantized integer input (per-tensor): the preset's float values are
  // quantized, q = clamp(round_half_even(x / scale) + zero_point).
  std::optional<double> input_quant_scale;
  int64_t input_quant_zero_point = 0;
  bool outputs_dequantized = false;       // integer outputs compared as (q - zero_point) * scale
  std::string preset;
  float crop_fraction = 1;
  std::vector<std::string> output_names;
  std::vector<int64_t> output_dims;       // first output, per image (batch 1)
  bool classification = false;            // top-k applies to the first output
  int64_t classes = 0;
  bool scores_softmax = false;            // softmax applied to at least one image's row
  int64_t cache_hits = 0, computed = 0;   // images read from the cache / run
};

struct TopEntry {
  int64_t index = 0;
  float score = 0;
};

struct CompareImageRow {
  std::string file;
  std::string sha256;
  std::vector<std::vector<TopEntry>> top;  // per model; empty when top-k does not apply
};

struct OutputErrorStats {
  std::string output_a, output_b;
  bool shape_mismatch = false;
  std::vector<int64_t> dims_a, dims_b;     // per image
  int64_t elements = 0;                    // compared, over all images
  int64_t nan_mismatch = 0;                // elements NaN on one side only
  double max_abs = 0, mean_abs = 0, max_ref = 0, rel_max = 0;
};

struct TauStats {
  int64_t count = 0;
  double mean = 0, median = 0, min = 0, max = 0, p05 = 0, p25 = 0;
  int64_t below_one = 0;                   // images with tau < 1
};

struct ComparePair {
  size_t a = 0, b = 0;                     // model indices
  std::string kind;                        // "source-target", "step", "source-via"
  bool topk_applies = false;
  std::string topk_note;                   // why not, when it does not
  int64_t images = 0;
  int64_t discrepant = 0;                  // top-1 differs
  double discrepancy_rate = 0;
  std::vector<uint8_t> top1_agree;         // per image (when topk_applies)
  std::vector<double> tau;                 // per image (when topk_applies)
  TauStats tau_stats;
  std::vector<OutputErrorStats> outputs;   // per output position
};

struct ChainRow {
  size_t image = 0;
  std::vector<int64_t> top1;               // per model
  size_t first_changed = 0;                // model index (>= 1)
};

struct CompareResult {
  int top_k = 5;
  std::vector<CompareModelInfo> models;
  std::vector<CompareImageRow> images;
  std::vector<ComparePair> pairs;          // pairs[0] is source-target
  bool chain_applies = false;
  std::string chain_note;
  std::vector<ChainRow> chain;             // discrepant images (source vs target)
  std::vector<int64_t> first_changed_counts;  // per model index; [0] unused
};

using CompareProgress = std::function<void(int64_t done, int64_t total)>;

Expected<CompareResult> compare_models(const CompareOptions& options, const CompareProgress& progress = {});

// Quantiles as used for TauStats: linear interpolation between order
// statistics (numpy's default), q in [0, 1]; an empty input gives 0.
double quantile(std::vector<double> values, double q);
TauStats tau_stats(const std::vector<double>& taus);

// Class names, one per line; trailing empty lines dropped.
Expected<std::vector<std::string>> read_label_file(const std::string& path);
// The name of class `index` for a list of labels and `classes` outputs: a
// list one shorter than the classes omits a background class 0.
std::optional<std::string> label_for(const std::vector<std::string>& labels, int64_t classes, int64_t index);

// The JSON document of docs/DIAGNOSIS.md ("compare" schema, version
// kCompareSchemaVersion). Labels, when given, name the classes.
constexpr int kCompareSchemaVersion = 1;
nlohmann::json compare_result_to_json(const CompareResult& result, const std::vector<std::string>& labels = {});

}  // namespace convfix
