// TFLite QUANTIZE and DEQUANTIZE.
//
// QUANTIZE: f32 -> i8/u8/i16: q = round(x / scale) + zero_point (round half
// away from zero), clamped to the type; per-channel output parameters along
// quantized_dimension. Integer -> integer (requantisation, e.g. u8 -> i8):
// q_out = zp_out + (q_in - zp_in) * s_in / s_out with the fixed-point
// multiplier, clamped.
// DEQUANTIZE: i8/u8/i16/i32 -> f32 (scale * (q - zero_point), per-tensor or
// per-channel), f16 -> f32 (exact widening).
#include <cmath>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

// Channel index of flat element i along `axis` (per-channel parameters).
int64_t channel_of(const std::vector<int64_t>& dims, int64_t axis, int64_t i) {
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < dims.size(); ++d) inner *= dims[d];
  return (i / inner) % dims[static_cast<size_t>(axis)];
}

Status quantize_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const QuantParams* qy = output_quant(ctx, 0);
  DType ydt = output_dtype(ctx, 0);
  if (!qy || !is_qint(ydt)) return ctx.error("QUANTIZE needs an i8/u8/i16 output with quantization parameters");
  const int64_t n = x.numel();
  Tensor out = make_output(ydt, x.dims(), qy);
  const int32_t lo = qmin(ydt), hi = qmax(ydt);
  if (x.dtype() == DType::kF32 || x.dtype() == DType::kF16) {
    CONVFIX_ASSIGN_OR_RETURN(Tensor xf, float_view(ctx, 0));
    const float* xs = xf.data<float>();
    if (qy->per_channel() && (qy->axis < 0 || qy->axis >= x.rank() ||
                              static_cast<int64_t>(qy->scale.size()) != x.dim(qy->axis)))
      return ctx.error("per-channel output parameters do not match the input shape");
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = qy->per_channel() ? channel_of(x.dims(), qy->axis, i) : 0;
      const double q = std::round(static_cast<double>(xs[i]) / static_cast<double>(scale_of(*qy, c))) + zp_of(*qy, c);
      qset(out, i, round_sat(q, lo, hi));
    }
  } else if (is_qint(x.dtype())) {
    const QuantParams* qx = input_quant(ctx, 0);
    if (!qx) return ctx.error("requantization needs quantization parameters on the input");
    const QMul m = quantize_multiplier(static_cast<double>(scale_of(*qx)) / scale_of(*qy));
    const int32_t zx = zp_of(*qx), zy = zp_of(*qy);
    for (int64_t i = 0; i < n; ++i) qset(out, i, std::clamp(multiply_by_qmul(qget(x, i) - zx, m) + zy, lo, hi));
  } else {
    return ctx.unsupported(std::string("input of type ") + dtype_name(x.dtype()));
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status dequantize_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  if (x.dtype() == DType::kF16 || x.dtype() == DType::kF32) {
    CONVFIX_ASSIGN_OR_RETURN(Tensor xf, float_view(ctx, 0));
    ctx.set_output(0, xf.dtype() == DType::kF32 && xf.raw() == x.raw() ? x.clone() : xf);
    return Status::OK();
  }
  const QuantParams* qx = input_quant(ctx, 0);
  if (!qx || !dtype_is_integer(x.dtype())) return ctx.error("DEQUANTIZE needs a quantized input");
  if (qx->per_channel() && (qx->axis < 0 || qx->axis >= x.rank() ||
                            static_cast<int64_t>(qx->scale.size()) != x.dim(qx->axis)))
    return ctx.error("per-channel parameters do not match the input shape");
  Tensor out = Tensor::uninitialized(DType::kF32, x.dims());
  float* y = out.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t c = qx->per_channel() ? channel_of(x.dims(), qx->axis, i) : 0;
    y[i] = scale_of(*qx, c) * static_cast<float>(qget(x, i) - zp_of(*qx, c));
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_quantize(OpRegistry& r) {
  r.add(OpDef{"tflite", "QUANTIZE", quantize_kernel});
  r.add(OpDef{"tflite", "DEQUANTIZE", dequantize_kernel});
}

}  // namespace convfix
