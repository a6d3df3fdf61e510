// TFLite elementwise binary ops with numpy broadcasting: ADD, SUB, MUL, DIV,
// SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, POW, FLOOR_DIV, FLOOR_MOD.
//
// - float (f32): the op, then the fused activation (ADD/SUB/MUL/DIV);
// - int32 / int64: exact integer arithmetic (shape computations), fused
//   activation clamps;
// - quantized i8/u8/i16 ADD/SUB: both inputs rescaled to a common scale of
//   2 x max(input scales) with a left shift (20 bits for 8-bit, 15 for 16-bit
//   types) and fixed-point multipliers, summed, requantised to the output,
//   plus zero point, clamped — TFLite's reference arithmetic;
// - quantized MUL: (x1 - z1) * (x2 - z2) requantised by s1 * s2 / s_out;
// - quantized MAXIMUM / MINIMUM: on the integer values (same parameters);
// - other quantized ops: dequantise, compute in float, requantise (round half
//   away from zero).
#include <cmath>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

enum class Op { kAdd, kSub, kMul, kDiv, kSqDiff, kMax, kMin, kPow, kFloorDiv, kFloorMod };

float fop(Op op, float a, float b) {
  switch (op) {
    case Op::kAdd: return a + b;
    case Op::kSub: return a - b;
    case Op::kMul: return a * b;
    case Op::kDiv: return a / b;
    case Op::kSqDiff: { const float d = a - b; return d * d; }
    case Op::kMax: return std::max(a, b);
    case Op::kMin: return std::min(a, b);
    case Op::kPow: return std::pow(a, b);
    case Op::kFloorDiv: return std::floor(a / b);
    case Op::kFloorMod: { float m = std::fmod(a, b); if (m != 0 && ((m < 0) != (b < 0))) m += b; return m; }
  }
  return 0;
}

template <typename T>
T iop(Op op, T a, T b) {
  switch (op) {
    case Op::kAdd: return a + b;
    case Op::kSub: return a - b;
    case Op::kMul: return a * b;
    case Op::kDiv: return b == 0 ? T(0) : a / b;
    case Op::kSqDiff: return (a - b) * (a - b);
    case Op::kMax: return std::max(a, b);
    case Op::kMin: return std::min(a, b);
    case Op::kPow: { T r = 1; for (T i = 0; i < b; ++i) r *= a; return r; }
    case Op::kFloorDiv: { if (b == 0) return 0; T q = a / b; if ((a % b != 0) && ((a < 0) != (b < 0))) --q; return q; }
    case Op::kFloorMod: { if (b == 0) return 0; T m = a % b; if (m != 0 && ((m < 0) != (b < 0))) m += b; return m; }
  }
  return 0;
}

bool has_fused(Op op) { return op == Op::kAdd || op == Op::kSub || op == Op::kMul || op == Op::kDiv; }

Status binary_kernel(KernelContext& ctx, Op op) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  std::vector<int64_t> od;
  if (!ops::broadcast_dims(a.dims(), b.dims(), &od))
    return ctx.error("shapes " + dims_to_string(a.dims()) + " and " + dims_to_string(b.dims()) + " do not broadcast");
  Act act = Act::kNone;
  if (has_fused(op)) CONVFIX_RETURN_IF_ERROR(parse_act(ctx, &act));
  const int64_t total = num_elements(od);
  ops::BroadcastIndexer idx(od, {a.dims(), b.dims()});
  const bool same = a.dims() == od && b.dims() == od;
  auto ia = [&](int64_t i) { return same ? i : idx.offset(0, i); };
  auto ib = [&](int64_t i) { return same ? i : idx.offset(1, i); };

  if (a.dtype() == DType::kF32 && b.dtype() == DType::kF32) {
    float lo, hi;
    float_act_range(act, &lo, &hi);
    Tensor out = Tensor::uninitialized(DType::kF32, od);
    const float* pa = a.data<float>();
    const float* pb = b.data<float>();
    float* y = out.data<float>();
    parallel_for(ctx.pool(), total, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) y[i] = apply_float_act(act, fop(op, pa[ia(i)], pb[ib(i)]), lo, hi);
    }, 4096);
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  if ((a.dtype() == DType::kI32 || a.dtype() == DType::kI64) && b.dtype() == a.dtype()) {
    Tensor out = Tensor::uninitialized(a.dtype(), od);
    auto run = [&](auto* y, const auto* pa, const auto* pb) {
      using T = std::remove_const_t<std::remove_reference_t<decltype(*pa)>>;
      T lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
      if (act == Act::kRelu) lo = 0;
      else if (act == Act::kRelu6) { lo = 0; hi = 6; }
      else if (act == Act::kReluN1To1) { lo = -1; hi = 1; }
      for (int64_t i = 0; i < total; ++i) y[i] = std::clamp(iop<T>(op, pa[ia(i)], pb[ib(i)]), lo, hi);
    };
    if (a.dtype() == DType::kI32) run(out.data<int32_t>(), a.data<int32_t>(), b.data<int32_t>());
    else run(out.data<int64_t>(), a.data<int64_t>(), b.data<int64_t>());
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  if (!is_qint(a.dtype()) || b.dtype() != a.dtype())
    return ctx.unsupported(std::string("inputs of type ") + dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
  const QuantParams* qa = input_quant(ctx, 0);
  const QuantParams* qb = input_quant(ctx, 1);
  const QuantParams* qy = output_quant(ctx, 0);
  if (!qa || !qb || !qy) return ctx.error("quantized inputs need quantization parameters on inputs and output");
  const DType dt = a.dtype();
  int32_t lo = qmin(dt), hi = qmax(dt);
  if (has_fused(op)) CONVFIX_RETURN_IF_ERROR(quant_act_range(ctx, act, dt, *qy, &lo, &hi));
  const int32_t za = zp_of(*qa), zb = zp_of(*qb), zy = zp_of(*qy);
  const double sa = scale_of(*qa), sb = scale_of(*qb), sy = scale_of(*qy);
  Tensor out = make_output(dt, od, qy);
  if (op == Op::kAdd || op == Op::kSub) {
    const int left = dt == DType::kI16 ? 15 : 20;
    const double twice_max = 2 * std::max(sa, sb);
    const QMul ma = quantize_multiplier(sa / twice_max), mb = quantize_multiplier(sb / twice_max);
    const QMul my = quantize_multiplier(twice_max / (static_cast<double>(int64_t{1} << left) * sy));
    parallel_for(ctx.pool(), total, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int32_t va = multiply_by_qmul((qget(a, ia(i)) - za) * (1 << left), ma);
        const int32_t vb = multiply_by_qmul((qget(b, ib(i)) - zb) * (1 << left), mb);
        const int32_t s = op == Op::kAdd ? va + vb : va - vb;
        qset(out, i, std::clamp(multiply_by_qmul(s, my) + zy, lo, hi));
      }
    }, 4096);
  } else if (op == Op::kMul) {
    const QMul m = quantize_multiplier(sa * sb / sy);
    parallel_for(ctx.pool(), total, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int32_t p = (qget(a, ia(i)) - za) * (qget(b, ib(i)) - zb);
        qset(out, i, std::clamp(multiply_by_qmul(p, m) + zy, lo, hi));
      }
    }, 4096);
  } else if ((op == Op::kMax || op == Op::kMin) && sa == sy && sb == sy && za == zy && zb == zy) {
    for (int64_t i = 0; i < total; ++i) {
      const int32_t va = qget(a, ia(i)), vb = qget(b, ib(i));
      qset(out, i, op == Op::kMax ? std::max(va, vb) : std::min(va, vb));
    }
  } else {
    float flo, fhi;
    float_act_range(act, &flo, &fhi);
    for (int64_t i = 0; i < total; ++i) {
      const float va = static_cast<float>((qget(a, ia(i)) - za) * sa);
      const float vb = static_cast<float>((qget(b, ib(i)) - zb) * sb);
      const float r = apply_float_act(act, fop(op, va, vb), flo, fhi);
      const double q = std::round(static_cast<double>(r) / sy) + zy;
      qset(out, i, round_sat(q, lo, hi));
    }
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_binary(OpRegistry& r) {
  const std::pair<const char*, Op> ops[] = {
      {"ADD", Op::kAdd}, {"SUB", Op::kSub}, {"MUL", Op::kMul}, {"DIV", Op::kDiv},
      {"SQUARED_DIFFERENCE", Op::kSqDiff}, {"MAXIMUM", Op::kMax}, {"MINIMUM", Op::kMin},
      {"POW", Op::kPow}, {"FLOOR_DIV", Op::kFloorDiv}, {"FLOOR_MOD", Op::kFloorMod}};
  for (const auto& [name, op] : ops) {
    const Op o = op;
    r.add(OpDef{"tflite", name, [o](KernelContext& c) { return binary_kernel(c, o); }});
  }
}

}  // namespace convfix
