// TFLite reductions MEAN, SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD (axes
// from input 1, keep_dims option) and ARG_MAX / ARG_MIN (axis input,
// output_type INT32 / INT64).
//
// - float: f32 with double accumulation for MEAN / SUM / PROD;
// - int32 / int64: exact (MEAN truncates like TFLite's integer mean);
// - quantized i8/u8/i16: MAX/MIN on the integers (requantised when the output
//   parameters differ); MEAN over H and W of a 4-D tensor with TFLite's
//   integer arithmetic (fixed-point multiplier s_in / s_out applied to
//   sum(q - zp_in), rounding division by the count, + zp_out; with
//   TfliteRounding::kRuntime as XNNPACK's global average pooling: f32
//   s_in / (s_out * count), round half to even); other MEAN /
//   SUM as TFLite's generic kernel: round(sum * s_in/s_out - zp_in * s_in/s_out
//   [* n for SUM]) + zp_out in f32; SUM is not saturated but wraps to the
//   type, and with equal input / output parameters sums the raw integers
//   (both as TFLite's kernels, checked against the runtime).
// - ARG_MAX / ARG_MIN: first index of the extreme value, any numeric type.
#include <cmath>
#include <limits>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

enum class R { kMean, kSum, kMax, kMin, kProd };

// v reduced modulo 2^bits of t into t's range (two's complement wrap-around).
int32_t wrap_to(DType t, int64_t v) {
  const uint64_t u = static_cast<uint64_t>(v);
  if (t == DType::kI8) return static_cast<int8_t>(static_cast<uint8_t>(u));
  if (t == DType::kU8) return static_cast<uint8_t>(u);
  if (t == DType::kI16) return static_cast<int16_t>(static_cast<uint16_t>(u));
  return static_cast<int32_t>(static_cast<uint32_t>(u));
}

Status reduce_kernel(KernelContext& ctx, R kind) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  std::vector<bool> red(static_cast<size_t>(x.rank()), false);
  for (int64_t a : ctx.input(1)->to_i64_vector()) {
    int64_t n;
    CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, a, x.rank(), &n));
    red[size_t(n)] = true;
  }
  const bool keep = ctx.attr_int("keep_dims", 0) != 0;
  std::vector<int64_t> od, kd;  // od: output dims; kd: dims with reduced = 1
  for (int64_t d = 0; d < x.rank(); ++d) {
    kd.push_back(red[size_t(d)] ? 1 : x.dim(d));
    if (!red[size_t(d)]) od.push_back(x.dim(d));
    else if (keep) od.push_back(1);
  }
  const int64_t on = num_elements(kd);
  const int64_t cnt = on > 0 ? x.numel() / on : 0;
  // Output index of each input element (via kd strides).
  const std::vector<int64_t> xst = ops::strides_of(x.dims()), kst = ops::strides_of(kd);
  auto out_index = [&](int64_t i) {
    int64_t o = 0;
    for (int64_t d = 0; d < x.rank(); ++d) {
      const int64_t c = (i / xst[size_t(d)]) % x.dim(d);
      if (!red[size_t(d)]) o += c * kst[size_t(d)];
    }
    return o;
  };
  std::vector<int64_t> map(static_cast<size_t>(x.numel()));
  for (int64_t i = 0; i < x.numel(); ++i) map[size_t(i)] = out_index(i);

  if (x.dtype() == DType::kF32 || x.dtype() == DType::kI32 || x.dtype() == DType::kI64) {
    std::vector<double> acc(static_cast<size_t>(on), kind == R::kMax ? -INFINITY : kind == R::kMin ? INFINITY
                                                     : kind == R::kProd ? 1.0 : 0.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double v = x.get_f64(i);
      double& a = acc[size_t(map[size_t(i)])];
      if (kind == R::kMax) a = std::max(a, v);
      else if (kind == R::kMin) a = std::min(a, v);
      else if (kind == R::kProd) a *= v;
      else a += v;
    }
    Tensor out = Tensor::uninitialized(x.dtype(), od);
    for (int64_t o = 0; o < on; ++o) {
      double v = acc[size_t(o)];
      if (kind == R::kMean) v = cnt > 0 ? v / static_cast<double>(cnt) : NAN;
      if (x.dtype() == DType::kF32) out.data<float>()[o] = static_cast<float>(v);
      else if (x.dtype() == DType::kI32) out.data<int32_t>()[o] = static_cast<int32_t>(std::trunc(v));
      else out.data<int64_t>()[o] = static_cast<int64_t>(std::trunc(v));
    }
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  if (kind == R::kProd) return ctx.unsupported(std::string("input of type ") + dtype_name(x.dtype()));
  QuantUnary qu;
  CONVFIX_RETURN_IF_ERROR(quant_unary(ctx, x.dtype(), &qu, /*same_type=*/true));
  const double sx = qu.sx, sy = qu.sy;
  const int32_t zx = qu.zx, zy = qu.zy;
  const DType ydt = qu.ydt;
  Tensor out = make_output(ydt, od, qu.qy);
  if (kind == R::kMax || kind == R::kMin) {
    std::vector<int32_t> acc(static_cast<size_t>(on), kind == R::kMax ? INT32_MIN : INT32_MAX);
    for (int64_t i = 0; i < x.numel(); ++i) {
      int32_t& a = acc[size_t(map[size_t(i)])];
      a = kind == R::kMax ? std::max(a, qget(x, i)) : std::min(a, qget(x, i));
    }
    for (int64_t o = 0; o < on; ++o) {
      int32_t v = acc[size_t(o)];
      if (sx != sy || zx != zy) v = round_sat(zy + std::round((v - zx) * sx / sy), INT32_MIN / 2, INT32_MAX / 2);
      qset(out, o, std::clamp(v, qmin(ydt), qmax(ydt)));
    }
  } else if (kind == R::kMean && x.rank() == 4 && red[1] && red[2] && !red[0] && !red[3]) {
    // Spatial mean of NHWC: sum(q - zp_in), times s_in / s_out with the
    // fixed-point multiplier, divided by the count rounding half away from
    // zero, plus zp_out.
    const QMul m = quantize_multiplier(sx / sy);
    std::vector<int32_t> acc(static_cast<size_t>(on), 0);
    for (int64_t i = 0; i < x.numel(); ++i) acc[size_t(map[size_t(i)])] += qget(x, i) - zx;
    const int32_t c = static_cast<int32_t>(std::max<int64_t>(cnt, 1));
    // The runtime's XNNPACK delegate runs this as a global average pooling:
    // f32 scale s_in / (s_out * count), round half to even.
    const float fscale = static_cast<float>(sx) / (static_cast<float>(sy) * static_cast<float>(c));
    const bool fast = runtime_rounding();
    for (int64_t o = 0; o < on; ++o) {
      int32_t v;
      if (fast) {
        v = requant_float(acc[size_t(o)], fscale);
      } else {
        v = multiply_by_qmul(acc[size_t(o)], m);
        v = v > 0 ? (v + c / 2) / c : (v - c / 2) / c;
      }
      qset(out, o, std::clamp(v + zy, qmin(ydt), qmax(ydt)));
    }
  } else if (kind == R::kSum && sx == sy && zx == zy) {
    // SUM with the output's parameters equal to the input's: TFLite sums the
    // raw integers in the element type (wrapping, zero point not removed).
    std::vector<int64_t> acc(static_cast<size_t>(on), 0);
    for (int64_t i = 0; i < x.numel(); ++i) acc[size_t(map[size_t(i)])] += qget(x, i);
    for (int64_t o = 0; o < on; ++o) qset(out, o, wrap_to(ydt, acc[size_t(o)]));
  } else {
    // Other axes: sum of the raw integers, then in f32 as TFLite's generic
    // quantized mean / sum: round(sum * s + bias) + zp_out; MEAN clamps to
    // the type, SUM converts without saturating (wraps, as TFLite's kernel).
    std::vector<int64_t> acc(static_cast<size_t>(on), 0);
    for (int64_t i = 0; i < x.numel(); ++i) acc[size_t(map[size_t(i)])] += qget(x, i);
    const float scale = static_cast<float>(sx) / static_cast<float>(sy);
    for (int64_t o = 0; o < on; ++o) {
      float r;
      if (kind == R::kMean) {
        const float mean = static_cast<float>(acc[size_t(o)]) / static_cast<float>(std::max<int64_t>(cnt, 1));
        r = std::round(mean * scale - static_cast<float>(zx) * scale);
      } else {
        r = std::round(static_cast<float>(acc[size_t(o)]) * scale - static_cast<float>(zx) * scale * static_cast<float>(cnt));
      }
      if (kind == R::kSum)
        qset(out, o, wrap_to(ydt, static_cast<int64_t>(round_sat(r, INT32_MIN / 2, INT32_MAX / 2)) + zy));
      else
        qset(out, o, round_sat(static_cast<double>(r) + zy, qmin(ydt), qmax(ydt)));
    }
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status arg_kernel(KernelContext& ctx, bool is_max) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  if (!dtype_is_float(x.dtype()) && !dtype_is_integer(x.dtype()))
    return ctx.unsupported(std::string("input of type ") + dtype_name(x.dtype()));
  int64_t axis;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.input(1)->get_i64(0), x.rank(), &axis));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  const int64_t n = x.dim(axis);
  std::vector<int64_t> od = x.dims();
  od.erase(od.begin() + axis);
  const bool i64 = ctx.attr_string("output_type", "INT64") == "INT64" && output_dtype(ctx, 0) != DType::kI32;
  Tensor out = Tensor::uninitialized(i64 ? DType::kI64 : DType::kI32, od);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      int64_t best = 0;
      double bv = x.get_f64(o * n * inner + in);
      for (int64_t k = 1; k < n; ++k) {
        const double v = x.get_f64((o * n + k) * inner + in);
        if (is_max ? v > bv : v < bv) { bv = v; best = k; }
      }
      if (i64) out.data<int64_t>()[o * inner + in] = best;
      else out.data<int32_t>()[o * inner + in] = static_cast<int32_t>(best);
    }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_reduce(OpRegistry& r) {
  r.add(OpDef{"tflite", "MEAN", [](KernelContext& c) { return reduce_kernel(c, R::kMean); }});
  r.add(OpDef{"tflite", "SUM", [](KernelContext& c) { return reduce_kernel(c, R::kSum); }});
  r.add(OpDef{"tflite", "REDUCE_MAX", [](KernelContext& c) { return reduce_kernel(c, R::kMax); }});
  r.add(OpDef{"tflite", "REDUCE_MIN", [](KernelContext& c) { return reduce_kernel(c, R::kMin); }});
  r.add(OpDef{"tflite", "REDUCE_PROD", [](KernelContext& c) { return reduce_kernel(c, R::kProd); }});
  r.add(OpDef{"tflite", "ARG_MAX", [](KernelContext& c) { return arg_kernel(c, true); }});
  r.add(OpDef{"tflite", "ARG_MIN", [](KernelContext& c) { return arg_kernel(c, false); }});
}

}  // namespace convfix
