// TFLite elementwise unary ops: RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1,
// LEAKY_RELU (alpha), LOGISTIC, TANH, HARD_SWISH, ELU, GELU (approximate),
// EXP, LOG, SQRT, RSQRT, SQUARE, ABS, NEG, SIN, COS, FLOOR, CEIL, ROUND,
// and PRELU (alpha input, broadcast).
//
// - float (f32): the function in f32 (GELU and LOGISTIC through double);
// - quantized i8/u8/i16: the function on the dequantised value, the result
//   quantised with the output's scale and zero point (round half away from
//   zero, clamped to the type). For 8-bit types this is a 256-entry table,
//   the way TFLite's kernels for LOGISTIC/TANH/HARD_SWISH/ELU/LEAKY_RELU build
//   theirs; for RELU-family ops TFLite requantises with a fixed-point
//   multiplier, which can differ from this by one step at exact ties.
// - int16 TANH (zero points 0, output scale 2^-15): TFLite's integer table
//   kernel (tanh16 below).
// - ABS/NEG/SQUARE/FLOOR/CEIL/ROUND also accept int32.
#include <cmath>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

enum class U {
  kRelu, kRelu6, kReluN1To1, kRelu0To1, kLeakyRelu, kLogistic, kTanh, kHardSwish, kElu, kGelu, kExp, kLog,
  kSqrt, kRsqrt, kSquare, kAbs, kNeg, kSin, kCos, kFloor, kCeil, kRound
};

struct Params {
  float alpha = 0.2f;
  bool approximate = false;
};

float ufun(U u, float x, const Params& p) {
  switch (u) {
    case U::kRelu: return std::max(x, 0.0f);
    case U::kRelu6: return std::min(std::max(x, 0.0f), 6.0f);
    case U::kReluN1To1: return std::min(std::max(x, -1.0f), 1.0f);
    case U::kRelu0To1: return std::min(std::max(x, 0.0f), 1.0f);
    case U::kLeakyRelu: return x > 0 ? x : x * p.alpha;
    case U::kLogistic: return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
    case U::kTanh: return std::tanh(x);
    case U::kHardSwish: return x * std::min(std::max(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    case U::kElu: return x < 0 ? std::expm1(x) : x;
    case U::kGelu: {
      const double d = x;
      if (p.approximate)
        return static_cast<float>(0.5 * d * (1 + std::tanh(std::sqrt(2 / M_PI) * (d + 0.044715 * d * d * d))));
      return static_cast<float>(0.5 * d * (1 + std::erf(d / std::sqrt(2.0))));
    }
    case U::kExp: return std::exp(x);
    case U::kLog: return std::log(x);
    case U::kSqrt: return std::sqrt(x);
    case U::kRsqrt: return 1.0f / std::sqrt(x);
    case U::kSquare: return x * x;
    case U::kAbs: return std::fabs(x);
    case U::kNeg: return -x;
    case U::kSin: return std::sin(x);
    case U::kCos: return std::cos(x);
    case U::kFloor: return std::floor(x);
    case U::kCeil: return std::ceil(x);
    case U::kRound: return std::nearbyint(x);  // half to even, as TFLite's ROUND
  }
  return x;
}

// int16 TANH as TFLite's integer kernel: the input rescaled to units of
// 1 / (3 * 4096) (a power-of-two scale 2^-12 or 2^-11: times 3 << shift;
// otherwise an integer multiplier, doubled until above 16383.5, and a right
// shift), then tanh(x) = 2 sigmoid(2x) - 1 from a 256-entry table of
// sigmoid(i / 24) in 0.16 fixed point, interpolated linearly in 1/256 steps.
// The table is computed here from that definition (round to nearest); the
// runtime's table differs by one unit in a few entries, so results can be
// one quantum apart. Output scale must be 2^-15 (TFLite's requirement);
// returns false (the caller's float path) otherwise.
bool tanh16(KernelContext& ctx, const Tensor& x, const QuantUnary& qu) {
  const double out_log2 = std::log2(qu.sy);
  if (std::fabs(out_log2 + 15) > 1e-3) return false;
  static const std::vector<uint32_t> table = [] {
    std::vector<uint32_t> t(256);
    for (int i = 0; i < 256; ++i)
      t[size_t(i)] = static_cast<uint32_t>(std::min(65535.0, std::round(65536.0 / (1.0 + std::exp(-i / 24.0)))));
    return t;
  }();
  const double in_log2 = std::log2(qu.sx);
  const double rounded = std::round(in_log2);
  int32_t left_shift = static_cast<int32_t>(12 + rounded);
  int32_t mult = 0;
  const bool pot = std::fabs(in_log2 - rounded) < 1e-3 && (left_shift == 0 || left_shift == 1);
  if (pot) {
    mult = 3 << left_shift;
    left_shift = 0;
  } else {
    double m = qu.sx * 4096.0 * 3.0;
    left_shift = 0;
    while (m <= 32767.0 / 2.0 && left_shift <= 30) {
      ++left_shift;
      m *= 2.0;
    }
    if (!(m < 2147483647.0)) return false;
    mult = static_cast<int32_t>(m);
  }
  const int64_t round = left_shift > 0 ? int64_t{1} << (left_shift - 1) : 0;
  Tensor out = make_output(DType::kI16, x.dims(), qu.qy);
  const int16_t* xs = x.data<int16_t>();
  int16_t* ys = out.data<int16_t>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t v = (int64_t{xs[i]} * mult + round) >> left_shift;
    const uint64_t a = static_cast<uint64_t>(v < 0 ? -v : v);
    const uint64_t uh = a >> 8;
    int64_t r;
    if (uh >= 255) {
      r = int64_t{0xFFFF} << 8;
    } else {
      const int64_t ua = table[size_t(uh)], ub = table[size_t(uh + 1)];
      r = (ua << 8) + static_cast<int64_t>(a & 0xFF) * (ub - ua);
    }
    r = v >= 0 ? r - (int64_t{1} << 23) + (1 << 7) : -r + (int64_t{1} << 23) + (1 << 7) - 1;
    ys[i] = static_cast<int16_t>(std::clamp<int64_t>(r >> 8, -32768, 32767));
  }
  ctx.set_output(0, std::move(out));
  return true;
}

Status unary_kernel(KernelContext& ctx, U u) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  Params p;
  p.alpha = ctx.attr_float("alpha", 0.2f);
  p.approximate = ctx.attr_int("approximate", 0) != 0;
  const int64_t n = x.numel();
  if (x.dtype() == DType::kF32) {
    Tensor out = Tensor::uninitialized(DType::kF32, x.dims());
    const float* xs = x.data<float>();
    float* y = out.data<float>();
    parallel_for(ctx.pool(), n, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) y[i] = ufun(u, xs[i], p);
    }, 4096);
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  if (x.dtype() == DType::kI32 && (u == U::kAbs || u == U::kNeg || u == U::kSquare || u == U::kRelu)) {
    Tensor out = Tensor::uninitialized(DType::kI32, x.dims());
    const int32_t* xs = x.data<int32_t>();
    int32_t* y = out.data<int32_t>();
    for (int64_t i = 0; i < n; ++i)
      y[i] = u == U::kAbs ? std::abs(xs[i]) : u == U::kNeg ? -xs[i] : u == U::kSquare ? xs[i] * xs[i] : std::max(xs[i], 0);
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  QuantUnary qu;
  CONVFIX_RETURN_IF_ERROR(quant_unary(ctx, x.dtype(), &qu));
  if (u == U::kTanh && x.dtype() == DType::kI16 && qu.ydt == DType::kI16 && qu.zx == 0 && qu.zy == 0 &&
      tanh16(ctx, x, qu)) {
    return Status::OK();
  }
  auto q = [&](int32_t v) { return qu.quantize(ufun(u, qu.real(v), p)); };
  Tensor out = make_output(qu.ydt, x.dims(), qu.qy);
  if (x.dtype() != DType::kI16) {
    const int32_t base = qmin(x.dtype());
    int32_t lut[256];
    for (int32_t v = 0; v < 256; ++v) lut[v] = q(base + v);
    for (int64_t i = 0; i < n; ++i) qset(out, i, lut[qget(x, i) - base]);
  } else {
    for (int64_t i = 0; i < n; ++i) qset(out, i, q(qget(x, i)));
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status prelu_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  const Tensor& al = *ctx.input(1);
  std::vector<int64_t> od;
  if (!ops::broadcast_dims(x.dims(), al.dims(), &od))
    return ctx.error("alpha " + dims_to_string(al.dims()) + " does not broadcast to " + dims_to_string(x.dims()));
  ops::BroadcastIndexer idx(od, {x.dims(), al.dims()});
  const int64_t n = num_elements(od);
  CONVFIX_ASSIGN_OR_RETURN(Tensor xf, float_view(ctx, 0));
  CONVFIX_ASSIGN_OR_RETURN(Tensor af, float_view(ctx, 1));
  const float* xs = xf.data<float>();
  const float* as = af.data<float>();
  if (x.dtype() == DType::kF32) {
    Tensor out = Tensor::uninitialized(DType::kF32, od);
    float* y = out.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      const float v = xs[idx.offset(0, i)];
      y[i] = v >= 0 ? v : v * as[idx.offset(1, i)];
    }
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  const QuantParams* qy = output_quant(ctx, 0);
  if (!is_qint(x.dtype()) || !qy) return ctx.unsupported(std::string("input of type ") + dtype_name(x.dtype()));
  Tensor out = make_output(x.dtype(), od, qy);
  for (int64_t i = 0; i < n; ++i) {
    const float v = xs[idx.offset(0, i)];
    const float r = v >= 0 ? v : v * as[idx.offset(1, i)];
    const double qv = std::round(static_cast<double>(r) / scale_of(*qy)) + zp_of(*qy);
    qset(out, i, round_sat(qv, qmin(x.dtype()), qmax(x.dtype())));
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_activation(OpRegistry& r) {
  const std::pair<const char*, U> ops[] = {
      {"RELU", U::kRelu}, {"RELU6", U::kRelu6}, {"RELU_N1_TO_1", U::kReluN1To1}, {"RELU_0_TO_1", U::kRelu0To1},
      {"LEAKY_RELU", U::kLeakyRelu}, {"LOGISTIC", U::kLogistic}, {"TANH", U::kTanh}, {"HARD_SWISH", U::kHardSwish},
      {"ELU", U::kElu}, {"GELU", U::kGelu}, {"EXP", U::kExp}, {"LOG", U::kLog}, {"SQRT", U::kSqrt},
      {"RSQRT", U::kRsqrt}, {"SQUARE", U::kSquare}, {"ABS", U::kAbs}, {"NEG", U::kNeg}, {"SIN", U::kSin},
      {"COS", U::kCos}, {"FLOOR", U::kFloor}, {"CEIL", U::kCeil}, {"ROUND", U::kRound}};
  for (const auto& [name, u] : ops) {
    const U k = u;
    r.add(OpDef{"tflite", name, [k](KernelContext& c) { return unary_kernel(c, k); }});
  }
  r.add(OpDef{"tflite", "PRELU", prelu_kernel});
}

}  // namespace convfix
