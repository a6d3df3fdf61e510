// Internal to src/analysis and src/diagnose: a model opened for image runs
// (its image input, preprocessing preset, input/output quantization and an
// executor), shared by compare and diagnose so both feed a model exactly
// the same tensors.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "convfix/compare.h"
#include "convfix/executor.h"
#include "convfix/graph.h"
#include "convfix/image.h"
#include "convfix/preprocess.h"

namespace convfix {

struct ModelState {
  CompareModelSpec spec;
  std::shared_ptr<Graph> graph;
  std::unique_ptr<Executor> exec;
  ImageInputSpec input;
  Preset preset;
  std::string prep_key;
  std::optional<QuantParams> input_quant;          // per-tensor, integer input: quantize the float preset values
  std::vector<std::optional<QuantParams>> output_quant;  // per output: dequantize (per-tensor only)
  bool have_output_dims = false;
  std::vector<std::vector<int64_t>> output_dims;  // per output, per image
};


// Loads the model (or takes `graph`), works out its image input (one input;
// layout, size, dtype), the preset and the quantization of the input and
// outputs, and creates an executor that has a kernel for every op (unless
// create_executor is false). Errors name the file.
Expected<ModelState> open_model(const CompareModelSpec& m, const CompareOptions& o,
                                std::shared_ptr<Graph> graph = nullptr, bool create_executor = true);

// A failed run of the model as an error naming the file; when the model
// does not fix its input size (an assumed or --size height/width was used),
// the message says so and points at --size.
Status run_failure(const ModelState& m, const Status& s);

// q = clamp(round_half_even(x / scale) + zero_point) for an integer input type.
Tensor quantize_input(const Tensor& xf, DType dtype, const QuantParams& q);

// The input tensor for `images` (at most `rows`; the rest zero padding),
// preprocessed with the model's preset and quantized when the input is.
Expected<Tensor> make_model_input(const ModelState& m, const std::vector<Image>& images, int64_t rows);

}  // namespace convfix
