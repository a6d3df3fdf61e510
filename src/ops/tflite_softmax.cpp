// TFLite SOFTMAX (beta), LOG_SOFTMAX, L2_NORMALIZATION and
// LOCAL_RESPONSE_NORMALIZATION, all over the last axis.
//
// - float: softmax = exp(beta (x - max)) / sum, sums in double;
//   L2_NORMALIZATION x / sqrt(max(sum x^2, 1e-6)) with the fused activation;
//   LRN x / (bias + alpha * sum_{|k|<=radius} x_k^2)^beta.
// - quantized i8/u8/i16: computed on the dequantised row (exp(beta * scale *
//   (q - max q)) as TFLite's table-based int8 kernel does), the result
//   quantised with the output's parameters (TFLite fixes softmax outputs to
//   scale 1/256, zero point -128 for int8; the declared ones are used),
//   round half away from zero, clamped.
#include <cmath>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

enum class Kind { kSoftmax, kLogSoftmax, kL2Norm, kLrn };

void row_fn(Kind kind, const KernelContext& ctx, const float* x, float* y, int64_t n) {
  if (kind == Kind::kSoftmax || kind == Kind::kLogSoftmax) {
    const double beta = ctx.attr_float("beta", 1.0f);
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(beta * (static_cast<double>(x[i]) - mx));
    for (int64_t i = 0; i < n; ++i) {
      const double z = beta * (static_cast<double>(x[i]) - mx);
      y[i] = static_cast<float>(kind == Kind::kSoftmax ? std::exp(z) / sum : z - std::log(sum));
    }
  } else if (kind == Kind::kL2Norm) {
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
    const double inv = 1.0 / std::sqrt(std::max(ss, 1e-6));
    for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i] * inv);
  } else {
    const int64_t radius = ctx.attr_int("radius", 5);
    const double bias = ctx.attr_float("bias", 1.0f), alpha = ctx.attr_float("alpha", 1.0f),
                 beta = ctx.attr_float("beta", 0.5f);
    for (int64_t i = 0; i < n; ++i) {
      double acc = 0;
      for (int64_t k = std::max<int64_t>(0, i - radius); k <= std::min<int64_t>(n - 1, i + radius); ++k)
        acc += static_cast<double>(x[k]) * x[k];
      y[i] = static_cast<float>(x[i] / std::pow(bias + alpha * acc, beta));
    }
  }
}

Status norm_kernel(KernelContext& ctx, Kind kind) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  if (x.rank() < 1) return ctx.error("input must have rank >= 1");
  const int64_t n = x.dim(x.rank() - 1);
  const int64_t rows = n > 0 ? x.numel() / n : 0;
  Act act = Act::kNone;
  if (kind == Kind::kL2Norm) CONVFIX_RETURN_IF_ERROR(parse_act(ctx, &act));
  float lo, hi;
  float_act_range(act, &lo, &hi);
  if (x.dtype() == DType::kF32) {
    Tensor out = Tensor::uninitialized(DType::kF32, x.dims());
    const float* xs = x.data<float>();
    float* y = out.data<float>();
    parallel_for(ctx.pool(), rows, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        row_fn(kind, ctx, xs + r * n, y + r * n, n);
        if (act != Act::kNone) for (int64_t i = 0; i < n; ++i) y[r * n + i] = apply_float_act(act, y[r * n + i], lo, hi);
      }
    });
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  QuantUnary qu;
  CONVFIX_RETURN_IF_ERROR(quant_unary(ctx, x.dtype(), &qu));
  Tensor out = make_output(qu.ydt, x.dims(), qu.qy);
  std::vector<float> xf(static_cast<size_t>(n)), yf(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i) xf[size_t(i)] = qu.real(qget(x, r * n + i));
    row_fn(kind, ctx, xf.data(), yf.data(), n);
    for (int64_t i = 0; i < n; ++i) qset(out, r * n + i, qu.quantize(apply_float_act(act, yf[size_t(i)], lo, hi)));
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_softmax(OpRegistry& r) {
  r.add(OpDef{"tflite", "SOFTMAX", [](KernelContext& c) { return norm_kernel(c, Kind::kSoftmax); }});
  r.add(OpDef{"tflite", "LOG_SOFTMAX", [](KernelContext& c) { return norm_kernel(c, Kind::kLogSoftmax); }});
  r.add(OpDef{"tflite", "L2_NORMALIZATION", [](KernelContext& c) { return norm_kernel(c, Kind::kL2Norm); }});
  r.add(OpDef{"tflite", "LOCAL_RESPONSE_NORMALIZATION", [](KernelContext& c) { return norm_kernel(c, Kind::kLrn); }});
}

}  // namespace convfix
