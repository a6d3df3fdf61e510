// Unary math: Abs, Neg, Sign, Reciprocal, Sqrt, Exp, Log, Floor, Ceil, Round,
// trigonometric and hyperbolic functions, Erf, IsNaN, IsInf, Not; bit ops:
// BitShift, BitwiseAnd/Or/Xor/Not. Float functions run on f32 and f64
// (f16/bf16 are computed in f32 by the executor); Abs/Neg/Sign also on the
// integer types.
#include <cmath>
#include <type_traits>

#include "ops/elementwise_util.h"

namespace convfix {
namespace {

template <typename F>
KernelFn float_fn(F f) {
  return [f](KernelContext& ctx) { return ops::float_unary(ctx, f); };
}

Status is_nan(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  Tensor out(DType::kBool, x.dims());
  uint8_t* o = out.data<uint8_t>();
  if (x.dtype() == DType::kF32) ops::map_unary(x.data<float>(), o, x.numel(), ctx.pool(), [](float v) { return uint8_t(v != v); });
  else if (x.dtype() == DType::kF64) ops::map_unary(x.data<double>(), o, x.numel(), ctx.pool(), [](double v) { return uint8_t(v != v); });
  else return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(x.dtype()));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status is_inf(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const bool pos = ctx.attr_int("detect_positive", 1) != 0;
  const bool neg = ctx.attr_int("detect_negative", 1) != 0;
  Tensor out(DType::kBool, x.dims());
  uint8_t* o = out.data<uint8_t>();
  auto f = [pos, neg](auto v) {
    using T = decltype(v);
    return uint8_t((pos && v == std::numeric_limits<T>::infinity()) || (neg && v == -std::numeric_limits<T>::infinity()));
  };
  if (x.dtype() == DType::kF32) ops::map_unary(x.data<float>(), o, x.numel(), ctx.pool(), f);
  else if (x.dtype() == DType::kF64) ops::map_unary(x.data<double>(), o, x.numel(), ctx.pool(), f);
  else return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(x.dtype()));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status logical_not(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  if (x.dtype() != DType::kBool)
    return ctx.error(std::string("input 0 has element type ") + dtype_name(x.dtype()) + ", expected bool");
  Tensor out(DType::kBool, x.dims());
  ops::map_unary(x.data<uint8_t>(), out.data<uint8_t>(), x.numel(), ctx.pool(), [](uint8_t v) { return uint8_t(v == 0); });
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

// Integer-only dispatch (bit ops).
template <typename F>
Status dispatch_integer(DType t, F&& f, const KernelContext& ctx) {
  if (!dtype_is_integer(t)) return ctx.unsupported(std::string("element type ") + dtype_name(t) + ", expected an integer type");
  return ops::dispatch_numeric(t, std::forward<F>(f), ctx);
}

enum class BitOp { kAnd, kOr, kXor, kShiftLeft, kShiftRight };

Status bit_binary(KernelContext& ctx, BitOp op) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  if (a.dtype() != b.dtype())
    return ctx.error(std::string("input types differ: input 0 is ") + dtype_name(a.dtype()) + ", input 1 is " +
                     dtype_name(b.dtype()));
  ops::BroadcastPlan p;
  if (!ops::make_broadcast_plan({&a.dims(), &b.dims()}, &p))
    return ctx.error("cannot broadcast input 0 of shape " + dims_to_string(a.dims()) + " with input 1 of shape " +
                     dims_to_string(b.dims()));
  Tensor out(a.dtype(), p.out_dims);
  CONVFIX_RETURN_IF_ERROR(dispatch_integer(a.dtype(), [&]<typename T>() {
    if constexpr (std::is_integral_v<T>) {
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* po = out.data<T>();
      using U = std::make_unsigned_t<T>;
      constexpr U kBits = sizeof(T) * 8;
      switch (op) {
        case BitOp::kAnd: ops::map_binary(p, pa, pb, po, ctx.pool(), [](T x, T y) { return T(x & y); }); break;
        case BitOp::kOr: ops::map_binary(p, pa, pb, po, ctx.pool(), [](T x, T y) { return T(x | y); }); break;
        case BitOp::kXor: ops::map_binary(p, pa, pb, po, ctx.pool(), [](T x, T y) { return T(x ^ y); }); break;
        // Shifts by the type's width or more give 0 (ONNX Runtime behaviour).
        case BitOp::kShiftLeft:
          ops::map_binary(p, pa, pb, po, ctx.pool(), [](T x, T y) {
            const U s = static_cast<U>(y);
            return s >= kBits ? T(0) : static_cast<T>(static_cast<U>(static_cast<U>(x) << s));
          });
          break;
        case BitOp::kShiftRight:
          ops::map_binary(p, pa, pb, po, ctx.pool(), [](T x, T y) {
            const U s = static_cast<U>(y);
            return s >= kBits ? T(0) : static_cast<T>(static_cast<U>(x) >> s);
          });
          break;
      }
    }
  }, ctx));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status bit_shift(KernelContext& ctx) {
  const std::string dir = ctx.attr_string("direction", "");
  if (dir == "LEFT") return bit_binary(ctx, BitOp::kShiftLeft);
  if (dir == "RIGHT") return bit_binary(ctx, BitOp::kShiftRight);
  return ctx.error("attribute direction must be LEFT or RIGHT, got '" + dir + "'");
}

Status bitwise_not(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  Tensor out(x.dtype(), x.dims());
  CONVFIX_RETURN_IF_ERROR(dispatch_integer(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_integral_v<T>)
      ops::map_unary(x.data<T>(), out.data<T>(), x.numel(), ctx.pool(), [](T v) { return static_cast<T>(~v); });
  }, ctx));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

template <typename T>
T abs_value(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::fabs(v);
  else if constexpr (std::is_signed_v<T>) return v < 0 ? static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(v)) : v;
  else return v;
}

}  // namespace

void register_ops_unary_math(OpRegistry& r) {
  const auto kH = FloatCompute::kHalf;
  r.add({"", "Abs", [](KernelContext& c) { return ops::numeric_unary(c, [](auto v) { return abs_value(v); }); }, kH});
  r.add({"", "Neg", [](KernelContext& c) {
           return ops::numeric_unary(c, [](auto v) {
             using T = decltype(v);
             if constexpr (std::is_integral_v<T>) return static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(v));
             else return -v;
           });
         }, kH});
  r.add({"", "Sign", [](KernelContext& c) {
           return ops::numeric_unary(c, [](auto v) {
             using T = decltype(v);
             if constexpr (std::is_floating_point_v<T>) {
               if (v != v) return v;
             }
             return static_cast<T>(v > T(0) ? 1 : (v < T(0) ? -1 : 0));
           });
         }, kH});
  r.add({"", "Reciprocal", float_fn([](auto v) { return decltype(v)(1) / v; }), kH});
  r.add({"", "Sqrt", float_fn([](auto v) { return std::sqrt(v); }), kH});
  r.add({"", "Exp", float_fn([](auto v) { return ops::fast_exp(v); }), kH});
  r.add({"", "Log", float_fn([](auto v) { return std::log(v); }), kH});
  r.add({"", "Floor", float_fn([](auto v) { return std::floor(v); }), kH});
  r.add({"", "Ceil", float_fn([](auto v) { return std::ceil(v); }), kH});
  // Round half to even (the default floating-point rounding mode).
  r.add({"", "Round", float_fn([](auto v) { return std::nearbyint(v); }), kH});
  r.add({"", "Sin", float_fn([](auto v) { return std::sin(v); }), kH});
  r.add({"", "Cos", float_fn([](auto v) { return std::cos(v); }), kH});
  r.add({"", "Tan", float_fn([](auto v) { return std::tan(v); }), kH});
  r.add({"", "Asin", float_fn([](auto v) { return std::asin(v); }), kH});
  r.add({"", "Acos", float_fn([](auto v) { return std::acos(v); }), kH});
  r.add({"", "Atan", float_fn([](auto v) { return std::atan(v); }), kH});
  r.add({"", "Sinh", float_fn([](auto v) { return std::sinh(v); }), kH});
  r.add({"", "Cosh", float_fn([](auto v) { return std::cosh(v); }), kH});
  r.add({"", "Asinh", float_fn([](auto v) { return std::asinh(v); }), kH});
  r.add({"", "Acosh", float_fn([](auto v) { return std::acosh(v); }), kH});
  r.add({"", "Atanh", float_fn([](auto v) { return std::atanh(v); }), kH});
  r.add({"", "Erf", float_fn([](auto v) { return ops::fast_erf(v); }), kH});
  r.add({"", "IsNaN", is_nan, kH});
  r.add({"", "IsInf", is_inf, kH});
  r.add({"", "Not", logical_not});
  r.add({"", "BitShift", bit_shift});
  r.add({"", "BitwiseAnd", [](KernelContext& c) { return bit_binary(c, BitOp::kAnd); }});
  r.add({"", "BitwiseOr", [](KernelContext& c) { return bit_binary(c, BitOp::kOr); }});
  r.add({"", "BitwiseXor", [](KernelContext& c) { return bit_binary(c, BitOp::kXor); }});
  r.add({"", "BitwiseNot", bitwise_not});
}

}  // namespace convfix
