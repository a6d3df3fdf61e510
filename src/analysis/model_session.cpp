// A model opened for image runs (src/analysis/model_session.h).
#include "analysis/model_session.h"

#include <algorithm>
#include <cmath>

#include "convfix/model_io.h"
#include "convfix/output_cache.h"

namespace convfix {

Expected<ModelState> open_model(const CompareModelSpec& m, const CompareOptions& o, std::shared_ptr<Graph> graph,
                                bool create_executor) {
  ModelState st;
  st.spec = m;
  CONVFIX_ASSIGN_OR_RETURN(st.preset, preset_by_name(m.preset));
  if (m.crop_fraction != 0) st.preset.crop_fraction = m.crop_fraction;
  if (graph) {
    st.graph = std::move(graph);
  } else {
    auto g = load_model(m.path);
    if (!g.ok()) return g.status();
    st.graph = std::make_shared<Graph>(std::move(g).value());
  }
  if (st.graph->inputs.size() != 1) {
    std::string names;
    for (const auto& in : st.graph->inputs) names += (names.empty() ? "" : ", ") + in.name;
    return invalid_argument(m.path + ": compare needs models with one image input; this one has " +
                            std::to_string(st.graph->inputs.size()) + (names.empty() ? "" : " (" + names + ")"));
  }
  if (st.graph->outputs.empty()) return invalid_model(m.path + ": the model has no outputs");
  auto spec = image_input_spec(st.graph->inputs[0], o.geometry);
  if (!spec.ok()) return spec.status().with_context(m.path);
  st.input = spec.value();
  st.prep_key = preprocessing_key(st.preset, st.input);
  const auto& iq = st.graph->inputs[0].quant;
  if (iq && !dtype_is_float(st.input.dtype)) {
    if (iq->scale.size() != 1 || iq->zero_point.size() > 1 || !(iq->scale[0] > 0))
      return not_implemented(m.path + ": input '" + st.input.input_name +
                             "' is quantized per channel; compare handles per-tensor input quantization only");
    if (st.input.dtype != DType::kI8 && st.input.dtype != DType::kU8 && st.input.dtype != DType::kI16)
      return not_implemented(m.path + ": input '" + st.input.input_name + "' is quantized " +
                             dtype_name(st.input.dtype) + "; compare handles i8, u8 and i16 inputs");
    st.input_quant = *iq;
    st.prep_key = preprocessing_key(st.preset, st.input, st.input_quant);
  }
  for (const auto& vi : st.graph->outputs) {
    std::optional<QuantParams> q;
    if (vi.quant && !dtype_is_float(vi.dtype) && vi.quant->scale.size() == 1 && vi.quant->zero_point.size() <= 1)
      q = vi.quant;
    st.output_quant.push_back(q);
  }
  if (!create_executor) return st;
  auto ex = Executor::create(st.graph, ExecOptions{o.threads, /*require_all_ops=*/true});
  if (!ex.ok()) return ex.status().with_context(m.path);
  st.exec = std::move(ex).value();
  return st;
}

Status run_failure(const ModelState& m, const Status& s) {
  Status r = s.with_context(m.spec.path);
  if (m.input.size_from_model) return r;
  return Status(r.code(), r.message() + " (the model does not fix the size of input '" + m.input.input_name + "'; " +
                              std::to_string(m.input.height) + "x" + std::to_string(m.input.width) +
                              " was used: give --size HxW if it expects another)");
}

// q = clamp(round_half_even(x / scale) + zero_point) for an integer input type.
Tensor quantize_input(const Tensor& xf, DType dtype, const QuantParams& q) {
  Tensor x(dtype, xf.dims());
  const float* src = xf.data<float>();
  const double scale = q.scale[0];
  const double zp = q.zero_point.empty() ? 0.0 : static_cast<double>(q.zero_point[0]);
  const double lo = dtype == DType::kI8 ? -128 : dtype == DType::kU8 ? 0 : -32768;
  const double hi = dtype == DType::kI8 ? 127 : dtype == DType::kU8 ? 255 : 32767;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = std::clamp(std::nearbyint(static_cast<double>(src[i]) / scale) + zp, lo, hi);
    if (dtype == DType::kI8) x.data<int8_t>()[i] = static_cast<int8_t>(v);
    else if (dtype == DType::kU8) x.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    else x.data<int16_t>()[i] = static_cast<int16_t>(v);
  }
  x.set_quant(q);
  return x;
}

Expected<Tensor> make_model_input(const ModelState& m, const std::vector<Image>& images, int64_t rows) {
  if (m.input_quant) {
    ImageInputSpec float_spec = m.input;
    float_spec.dtype = DType::kF32;
    CONVFIX_ASSIGN_OR_RETURN(Tensor xf, make_image_batch(images, m.preset, float_spec, rows));
    return quantize_input(xf, m.input.dtype, *m.input_quant);
  }
  return make_image_batch(images, m.preset, m.input, rows);
}

}  // namespace convfix
