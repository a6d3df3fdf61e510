// TFLite TRANSPOSE_CONV (inputs: output_shape [4] int32, weights OHWI,
// input NHWC, optional bias [O]; options padding, stride_h / stride_w,
// fused_activation_function) and DENSIFY.
//
// out[n, iy*sh + ky - pad_t, ix*sw + kx - pad_l, o] += x[n, iy, ix, i] *
// w[o, ky, kx, i]; SAME padding: pad_t = max((in - 1) * stride + k - out,
// 0) / 2 (the odd pixel at the end), VALID: 0.
// - float: f32, f64 accumulation, bias, fused activation;
// - integer: i8/u8 input and output, i8/u8 weights (per-tensor or
//   per-channel), int32 bias, requantised as CONV_2D (f32 with
//   TfliteRounding::kRuntime, fixed point otherwise), clamped.
// DENSIFY: the reader already densifies sparse constants, so DENSIFY copies
// its input.
#include <cmath>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

Status transpose_conv_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(require_rank(ctx, 1, 4));
  CONVFIX_RETURN_IF_ERROR(require_rank(ctx, 2, 4));
  const std::vector<int64_t> os = ctx.input(0)->to_i64_vector();
  const Tensor& w = *ctx.input(1);
  const Tensor& x = *ctx.input(2);
  if (os.size() != 4) return ctx.error("output_shape must have 4 values");
  const int64_t n = x.dim(0), ih = x.dim(1), iw = x.dim(2), ic = x.dim(3);
  const int64_t oc = w.dim(0), kh = w.dim(1), kw = w.dim(2);
  if (w.dim(3) != ic) return ctx.error("weights have " + std::to_string(w.dim(3)) + " input channels, input has " + std::to_string(ic));
  if (os[0] != n || os[3] != oc || os[1] <= 0 || os[2] <= 0)
    return ctx.error("output_shape " + dims_to_string(os) + " does not match input and weights");
  const int64_t oh = os[1], ow = os[2];
  const int64_t sh = ctx.attr_int("stride_h", 1), sw = ctx.attr_int("stride_w", 1);
  if (sh < 1 || sw < 1) return ctx.error("strides must be positive");
  const std::string pad = ctx.attr_string("padding", "SAME");
  int64_t pt = 0, pl = 0;
  if (pad == "SAME") {
    pt = std::max<int64_t>((ih - 1) * sh + kh - oh, 0) / 2;
    pl = std::max<int64_t>((iw - 1) * sw + kw - ow, 0) / 2;
  } else if (pad != "VALID") {
    return ctx.unsupported("padding " + pad);
  }
  if (ctx.has_input(3) && ctx.input(3)->numel() != oc) return ctx.error("bias size does not match the output channels");
  Act act = Act::kNone;
  CONVFIX_RETURN_IF_ERROR(parse_act(ctx, &act));
  const bool quant = is_qint(x.dtype());
  if (!quant && x.dtype() != DType::kF32) return ctx.unsupported(std::string("input of type ") + dtype_name(x.dtype()));
  const QuantParams* xq = input_quant(ctx, 2);
  const QuantParams* wq = input_quant(ctx, 1);
  const QuantParams* yq = output_quant(ctx, 0);
  if (quant && (!xq || !wq || !yq)) return ctx.error("quantized TRANSPOSE_CONV needs quantization parameters");
  if (quant && wq->per_channel() && static_cast<int64_t>(wq->scale.size()) != oc)
    return ctx.error("weights have " + std::to_string(wq->scale.size()) + " scales, expected " + std::to_string(oc));
  if (quant && w.dtype() != DType::kI8 && w.dtype() != DType::kU8)
    return ctx.unsupported(std::string("quantized input with weights of type ") + dtype_name(w.dtype()));
  // Scatter into f64 (float) or int64 (integer) accumulators.
  std::vector<double> accf;
  std::vector<int64_t> acci;
  const int64_t total = n * oh * ow * oc;
  if (quant) acci.assign(size_t(total), 0);
  else accf.assign(size_t(total), 0.0);
  Tensor wf;
  if (!quant) {
    CONVFIX_ASSIGN_OR_RETURN(wf, float_view(ctx, 1));
  }
  const int32_t zx = quant ? zp_of(*xq) : 0, zw = quant && !wq->per_channel() ? zp_of(*wq) : 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t iy = 0; iy < ih; ++iy)
      for (int64_t ix = 0; ix < iw; ++ix)
        for (int64_t ky = 0; ky < kh; ++ky) {
          const int64_t oy = iy * sh + ky - pt;
          if (oy < 0 || oy >= oh) continue;
          for (int64_t kx = 0; kx < kw; ++kx) {
            const int64_t ox = ix * sw + kx - pl;
            if (ox < 0 || ox >= ow) continue;
            const int64_t xb = ((b * ih + iy) * iw + ix) * ic;
            const int64_t yb = ((b * oh + oy) * ow + ox) * oc;
            for (int64_t o = 0; o < oc; ++o) {
              const int64_t wb = ((o * kh + ky) * kw + kx) * ic;
              if (quant) {
                int64_t s = 0;
                for (int64_t i = 0; i < ic; ++i) s += int64_t(qget(x, xb + i) - zx) * (qget(w, wb + i) - zw);
                acci[size_t(yb + o)] += s;
              } else {
                double s = 0;
                const float* xp = x.data<float>() + xb;
                const float* wp = wf.data<float>() + wb;
                for (int64_t i = 0; i < ic; ++i) s += static_cast<double>(xp[i]) * wp[i];
                accf[size_t(yb + o)] += s;
              }
            }
          }
        }
  if (!quant) {
    std::vector<float> bias(static_cast<size_t>(oc), 0.0f);
    if (ctx.has_input(3)) {
      CONVFIX_ASSIGN_OR_RETURN(Tensor bf, float_view(ctx, 3));
      for (int64_t o = 0; o < oc; ++o) bias[size_t(o)] = bf.data<float>()[o];
    }
    float lo, hi;
    float_act_range(act, &lo, &hi);
    Tensor out = Tensor::uninitialized(DType::kF32, {n, oh, ow, oc});
    for (int64_t i = 0; i < total; ++i)
      out.data<float>()[i] = apply_float_act(act, static_cast<float>(accf[size_t(i)] + bias[size_t(i % oc)]), lo, hi);
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  DType ydt = output_dtype(ctx, 0);
  if (ydt == DType::kUndefined) ydt = x.dtype();
  int32_t lo, hi;
  CONVFIX_RETURN_IF_ERROR(quant_act_range(ctx, act, ydt, *yq, &lo, &hi));
  const bool fast = runtime_rounding() && x.dtype() != DType::kI16;
  std::vector<QMul> mul(static_cast<size_t>(oc));
  std::vector<float> fmul(static_cast<size_t>(oc));
  for (int64_t o = 0; o < oc; ++o) {
    const float s = scale_of(*wq, wq->per_channel() ? o : 0);
    mul[size_t(o)] = quantize_multiplier(static_cast<double>(scale_of(*xq)) * s / scale_of(*yq));
    fmul[size_t(o)] = float_multiplier(scale_of(*xq), s, scale_of(*yq));
  }
  Tensor out = make_output(ydt, {n, oh, ow, oc}, yq);
  for (int64_t i = 0; i < total; ++i) {
    const int64_t o = i % oc;
    const int64_t a = acci[size_t(i)] + (ctx.has_input(3) ? ctx.input(3)->get_i64(o) : 0);
    int32_t v;
    if (fast) v = requant_float(a, fmul[size_t(o)]);
    else if (x.dtype() != DType::kI16) v = multiply_by_qmul(static_cast<int32_t>(std::clamp<int64_t>(a, INT32_MIN, INT32_MAX)), mul[size_t(o)]);
    else v = multiply_by_qmul64(a, mul[size_t(o)]);
    qset(out, i, std::clamp(v + zp_of(*yq), lo, hi));
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status densify_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  ctx.set_output(0, ctx.input(0)->clone());
  return Status::OK();
}

}  // namespace

void register_ops_tflite_transpose_conv(OpRegistry& r) {
  r.add(OpDef{"tflite", "TRANSPOSE_CONV", transpose_conv_kernel});
  r.add(OpDef{"tflite", "DENSIFY", densify_kernel});
}

}  // namespace convfix
