// Internal helpers shared by the TFLite-domain kernels (src/ops/tflite_*.cpp).
//
// Contract:
// - Nodes in domain "tflite" come from the TFLite reader: options are
//   attributes named as the schema's fields (fused_activation_function =
//   "RELU6", padding = "SAME"), data is NHWC, quantization parameters sit
//   on constant tensors (Tensor::quant) or on the graph's ValueInfo::quant.
// - value_quant / input_quant / output_quant find a value's QuantParams:
//   the tensor's own first, then the graph's declared info (inputs,
//   value_info, outputs). nullptr when the value is not quantized.
// - Fixed-point helpers implement TFLite's integer arithmetic as specified
//   by its public reference kernels: a real multiplier M is represented as
//   a Q0.31 int32 m in [2^30, 2^31) and a power-of-two exponent (M = m *
//   2^(shift-31)); products are rounded with "saturating rounding doubling
//   high multiply" and "rounding divide by power of two" (round half away
//   from zero). Written from the documented semantics, not copied.
// - Activation ranges: float clamps for the fused activations, and the
//   quantized clamp TFLite derives from the output's scale and zero point
//   (intersection of the dtype range with the quantized activation range).
// - SAME padding: output ceil(in / stride), total padding
//   max((out-1)*stride + (k-1)*dil + 1 - in, 0), the odd pixel at the end.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "convfix/graph.h"
#include "convfix/op_registry.h"
#include "convfix/tensor.h"
#include "convfix/thread_pool.h"
#include "convfix/tflite_format.h"

namespace convfix::ops::tfl {

// ------------------------------------------------------------ quantization info
inline const ValueInfo* declared_info(const KernelContext& ctx, const std::string& name) {
  const Graph* g = ctx.graph();
  if (!g || name.empty()) return nullptr;
  auto it = g->value_info.find(name);
  if (it != g->value_info.end()) return &it->second;
  for (const auto& v : g->inputs)
    if (v.name == name) return &v;
  for (const auto& v : g->outputs)
    if (v.name == name) return &v;
  return nullptr;
}

inline const QuantParams* value_quant(const KernelContext& ctx, const std::string& name, const Tensor* t) {
  if (t && t->quant() && !t->quant()->scale.empty()) return &*t->quant();
  const ValueInfo* vi = declared_info(ctx, name);
  if (vi && vi->quant && !vi->quant->scale.empty()) return &*vi->quant;
  return nullptr;
}

inline const QuantParams* input_quant(const KernelContext& ctx, size_t i) {
  if (i >= ctx.node().inputs.size()) return nullptr;
  return value_quant(ctx, ctx.node().inputs[i], ctx.input(i));
}

inline const QuantParams* output_quant(const KernelContext& ctx, size_t i) {
  if (i >= ctx.node().outputs.size()) return nullptr;
  return value_quant(ctx, ctx.node().outputs[i], nullptr);
}

// Declared dtype of output i (kUndefined when not declared).
inline DType output_dtype(const KernelContext& ctx, size_t i) {
  if (i >= ctx.node().outputs.size()) return DType::kUndefined;
  const ValueInfo* vi = declared_info(ctx, ctx.node().outputs[i]);
  return vi ? vi->dtype : DType::kUndefined;
}

inline bool is_qint(DType t) { return t == DType::kI8 || t == DType::kU8 || t == DType::kI16; }

inline int32_t qmin(DType t) {
  switch (t) {
    case DType::kI8: return -128;
    case DType::kU8: return 0;
    case DType::kI16: return -32768;
    default: return std::numeric_limits<int32_t>::min();
  }
}
inline int32_t qmax(DType t) {
  switch (t) {
    case DType::kI8: return 127;
    case DType::kU8: return 255;
    case DType::kI16: return 32767;
    default: return std::numeric_limits<int32_t>::max();
  }
}

inline float scale_of(const QuantParams& q, int64_t c = 0) {
  return q.scale.size() > 1 ? q.scale[static_cast<size_t>(c)] : q.scale[0];
}
inline int32_t zp_of(const QuantParams& q, int64_t c = 0) {
  if (q.zero_point.empty()) return 0;
  return static_cast<int32_t>(q.zero_point.size() > 1 ? q.zero_point[static_cast<size_t>(c)] : q.zero_point[0]);
}

// Output tensor carrying the declared quantization (per-tensor).
inline Tensor make_output(DType t, std::vector<int64_t> dims, const QuantParams* q) {
  Tensor out = Tensor::uninitialized(t, std::move(dims));
  if (q) out.set_quant(*q);
  return out;
}

// Integer view of element i of an i8/u8/i16/i32 tensor.
inline int32_t qget(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kI8: return t.data<int8_t>()[i];
    case DType::kU8: return t.data<uint8_t>()[i];
    case DType::kI16: return t.data<int16_t>()[i];
    case DType::kI32: return t.data<int32_t>()[i];
    default: return static_cast<int32_t>(t.get_i64(i));
  }
}
inline void qset(Tensor& t, int64_t i, int32_t v) {
  switch (t.dtype()) {
    case DType::kI8: t.data<int8_t>()[i] = static_cast<int8_t>(v); break;
    case DType::kU8: t.data<uint8_t>()[i] = static_cast<uint8_t>(v); break;
    case DType::kI16: t.data<int16_t>()[i] = static_cast<int16_t>(v); break;
    case DType::kI32: t.data<int32_t>()[i] = v; break;
    default: break;
  }
}

// Rounds half away from zero and saturates to [lo, hi]; NaN gives lo (no
// undefined float -> int conversion for any input).
inline int32_t round_sat(double v, int32_t lo, int32_t hi) {
  if (std::isnan(v)) return lo;
  v = std::round(v);
  if (v <= lo) return lo;
  if (v >= hi) return hi;
  return static_cast<int32_t>(v);
}

// Quantisation set-up of an op with one quantised input (0) and output (0):
// both parameter sets, the output's declared type (the input's when not
// declared), scales and zero points (per-tensor).
struct QuantUnary {
  const QuantParams* qx = nullptr;
  const QuantParams* qy = nullptr;
  DType ydt = DType::kUndefined;
  double sx = 0, sy = 0;
  int32_t zx = 0, zy = 0;

  // Real value of an input integer.
  float real(int32_t q) const { return static_cast<float>((q - zx) * sx); }
  // A real result quantised to the output: round half away from zero,
  // clamped to the output type; NaN gives the zero point.
  int32_t quantize(float f) const {
    const double r = std::round(static_cast<double>(f) / sy) + zy;
    return round_sat(std::isnan(r) ? zy : r, qmin(ydt), qmax(ydt));
  }
};

// Fills `u` for input 0 of type `xdt`: errors name the node when the input
// is not i8/u8/i16, a parameter set is missing, or the output type is not an
// integer quantised type. `same_type`: the output has the input's type.
inline Status quant_unary(const KernelContext& ctx, DType xdt, QuantUnary* u, bool same_type = false) {
  if (!is_qint(xdt)) return ctx.unsupported(std::string("input of type ") + dtype_name(xdt));
  u->qx = input_quant(ctx, 0);
  u->qy = output_quant(ctx, 0);
  if (!u->qx || !u->qy) return ctx.error("quantized input needs quantization parameters on input and output");
  u->ydt = same_type ? xdt : output_dtype(ctx, 0);
  if (u->ydt == DType::kUndefined) u->ydt = xdt;
  if (!is_qint(u->ydt)) return ctx.unsupported(std::string("output of type ") + dtype_name(u->ydt));
  u->sx = scale_of(*u->qx);
  u->sy = scale_of(*u->qy);
  u->zx = zp_of(*u->qx);
  u->zy = zp_of(*u->qy);
  return Status::OK();
}

// ------------------------------------------------------------ fixed point
struct QMul {
  int32_t m = 0;  // Q0.31 in [2^30, 2^31), or 0
  int shift = 0;  // power-of-two exponent: real = m * 2^(shift - 31)
};

inline QMul quantize_multiplier(double real) {
  QMul r;
  if (real == 0.0 || !std::isfinite(real)) return r;
  int e = 0;
  const double frac = std::frexp(real, &e);  // real = frac * 2^e, frac in [0.5, 1)
  int64_t q = static_cast<int64_t>(std::llround(frac * 2147483648.0));
  if (q == (int64_t{1} << 31)) {
    q /= 2;
    ++e;
  }
  if (e < -31) return QMul{};
  if (e > 30) {
    e = 30;
    q = (int64_t{1} << 31) - 1;
  }
  r.m = static_cast<int32_t>(q);
  r.shift = e;
  return r;
}

inline int32_t sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * b;
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

inline int32_t rounding_divide_by_pot(int32_t x, int e) {
  if (e <= 0) return x;
  const int32_t mask = static_cast<int32_t>((int64_t{1} << e) - 1);
  const int32_t rem = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (rem > threshold ? 1 : 0);
}

// x * real multiplier, rounded as TFLite's MultiplyByQuantizedMultiplier.
inline int32_t multiply_by_qmul(int32_t x, QMul q) {
  const int left = q.shift > 0 ? q.shift : 0;
  const int right = q.shift > 0 ? 0 : -q.shift;
  const int64_t shifted = static_cast<int64_t>(x) * (int64_t{1} << left);
  const int32_t xs = static_cast<int32_t>(std::clamp<int64_t>(shifted, std::numeric_limits<int32_t>::min(),
                                                                 std::numeric_limits<int32_t>::max()));
  return rounding_divide_by_pot(sat_rounding_doubling_high_mul(xs, q.m), right);
}

// 64-bit accumulators (16x8 kernels): TFLite's 64-bit variant reduces the
// multiplier to 16 bits (round to nearest, saturating at 0x7FFF) and shifts
// right by 15 - shift rounding half up (toward +infinity).
inline int32_t multiply_by_qmul64(int64_t x, QMul q) {
  if (q.m <= 0) return 0;
  const int64_t reduced = q.m < 0x7FFF0000 ? (static_cast<int64_t>(q.m) + (1 << 15)) >> 16 : 0x7FFF;
  const int total = 15 - q.shift;
  x = std::clamp<int64_t>(x, -(int64_t{1} << 47), (int64_t{1} << 47) - 1);
  if (total <= 0) return static_cast<int32_t>(std::clamp<int64_t>(x * reduced, INT32_MIN, INT32_MAX));
  const int64_t r = (x * reduced + (int64_t{1} << (total - 1))) >> total;
  return static_cast<int32_t>(std::clamp<int64_t>(r, INT32_MIN, INT32_MAX));
}

// Requantisation of an accumulator by real multiplier s_in * s_w / s_out as
// the runtime's XNNPACK delegate does it (TfliteRounding::kRuntime): f32
// product, round half to even. `fmul` is that multiplier computed in f32.
inline float float_multiplier(float s_in, float s_w, float s_out) { return s_in * s_w / s_out; }
inline int32_t requant_float(int64_t acc, float fmul) {
  const float v = static_cast<float>(acc) * fmul;
  if (std::isnan(v)) return 0;
  const float c = std::clamp(v, -2147483520.0f, 2147483520.0f);
  return static_cast<int32_t>(std::nearbyint(c));
}
inline bool runtime_rounding() { return tflite_rounding() == TfliteRounding::kRuntime; }

// ------------------------------------------------------------ fused activations
enum class Act { kNone, kRelu, kReluN1To1, kRelu6, kTanh, kSignBit };

inline Status parse_act(const KernelContext& ctx, Act* out) {
  const std::string a = ctx.attr_string("fused_activation_function", "NONE");
  if (a == "NONE") *out = Act::kNone;
  else if (a == "RELU") *out = Act::kRelu;
  else if (a == "RELU_N1_TO_1") *out = Act::kReluN1To1;
  else if (a == "RELU6") *out = Act::kRelu6;
  else if (a == "TANH") *out = Act::kTanh;
  else if (a == "SIGN_BIT") *out = Act::kSignBit;
  else return ctx.unsupported("fused_activation_function " + a + " is not supported");
  return Status::OK();
}

// Float clamp range of a clamping activation (NONE/RELU/RELU_N1_TO_1/RELU6).
inline void float_act_range(Act a, float* lo, float* hi) {
  *lo = -std::numeric_limits<float>::infinity();
  *hi = std::numeric_limits<float>::infinity();
  if (a == Act::kRelu) *lo = 0;
  else if (a == Act::kRelu6) { *lo = 0; *hi = 6; }
  else if (a == Act::kReluN1To1) { *lo = -1; *hi = 1; }
}

inline float apply_float_act(Act a, float x, float lo, float hi) {
  if (a == Act::kTanh) return std::tanh(x);
  if (a == Act::kSignBit) return std::signbit(x) ? 1.0f : 0.0f;
  return std::min(std::max(x, lo), hi);
}

// Only clamping activations exist for quantized kernels.
inline Status quant_act_range(const KernelContext& ctx, Act a, DType t, const QuantParams& out, int32_t* lo,
                              int32_t* hi) {
  const float s = scale_of(out);
  const int32_t z = zp_of(out);
  auto q = [&](float f) { return round_sat(static_cast<double>(z) + std::round(static_cast<double>(f) / s), INT32_MIN / 2, INT32_MAX / 2); };
  *lo = qmin(t);
  *hi = qmax(t);
  switch (a) {
    case Act::kNone: break;
    case Act::kRelu: *lo = std::max(*lo, q(0)); break;
    case Act::kRelu6: *lo = std::max(*lo, q(0)); *hi = std::min(*hi, q(6)); break;
    case Act::kReluN1To1: *lo = std::max(*lo, q(-1)); *hi = std::min(*hi, q(1)); break;
    default: return ctx.unsupported("fused activation is not supported on quantized tensors");
  }
  return Status::OK();
}

// ------------------------------------------------------------ geometry
// Output size and leading padding of one spatial axis.
inline Status window_geometry(const KernelContext& ctx, const std::string& padding, int64_t in, int64_t k, int64_t stride,
                              int64_t dil, int64_t* out, int64_t* pad_before) {
  if (stride < 1 || dil < 1 || k < 1)
    return ctx.error("stride, dilation and window size must be positive (stride " + std::to_string(stride) +
                     ", dilation " + std::to_string(dil) + ", window " + std::to_string(k) + ")");
  const int64_t ek = (k - 1) * dil + 1;
  if (padding == "SAME") {
    *out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((*out - 1) * stride + ek - in, 0);
    *pad_before = total / 2;
  } else if (padding == "VALID") {
    *out = in >= ek ? (in - ek) / stride + 1 : 0;
    *pad_before = 0;
  } else {
    return ctx.unsupported("padding " + padding + " is not supported");
  }
  return Status::OK();
}

// Requires a present input of rank r (r < 0: any rank).
inline Status require_rank(const KernelContext& ctx, size_t i, int64_t r) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
  if (r >= 0 && ctx.input(i)->rank() != r)
    return ctx.error("input " + std::to_string(i) + " has rank " + std::to_string(ctx.input(i)->rank()) +
                     ", expected " + std::to_string(r));
  return Status::OK();
}

// Float view of input i: f32 as is, f16/f64/integers converted, quantized
// tensors dequantized (per-tensor or per-channel).
inline Expected<Tensor> float_view(const KernelContext& ctx, size_t i) {
  const Tensor* t = ctx.input(i);
  if (!t) return ctx.error("required input " + std::to_string(i) + " is missing");
  if (t->dtype() == DType::kF32) return *t;
  const QuantParams* q = input_quant(ctx, i);
  if (q && (dtype_is_integer(t->dtype()))) {
    Tensor c = *t;
    c.set_quant(*q);
    return c.to_f32();
  }
  Tensor c = *t;
  c.set_quant(std::nullopt);
  return c.to_f32();
}

}  // namespace convfix::ops::tfl
