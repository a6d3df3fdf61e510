// Add, Sub, Mul, Div, Pow, Mod, and the variadic Max, Min, Sum, Mean.
// Numpy broadcasting (opset >= 7) and the legacy broadcast=1/axis rule
// (opset < 7). f16/bf16 are computed in f32 by the executor; f64 and the
// integer types natively. Integer arithmetic wraps (two's complement);
// integer division or modulo by zero gives 0 instead of trapping.
#include <cmath>
#include <type_traits>

#include "ops/elementwise_util.h"

namespace convfix {
namespace {

// Two's complement wrap-around for integer + - * (signed overflow is UB in C++).
template <typename T>
using Wide = std::conditional_t<std::is_integral_v<T>, std::make_unsigned_t<T>, T>;

template <typename T>
struct AddOp {
  T operator()(T x, T y) const {
    if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<Wide<T>>(x) + static_cast<Wide<T>>(y));
    else return x + y;
  }
};
template <typename T>
struct SubOp {
  T operator()(T x, T y) const {
    if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<Wide<T>>(x) - static_cast<Wide<T>>(y));
    else return x - y;
  }
};
template <typename T>
struct MulOp {
  T operator()(T x, T y) const {
    if constexpr (std::is_integral_v<T>) {
      // Promote small types to unsigned int so the product cannot overflow int.
      using U = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, Wide<T>>;
      return static_cast<T>(static_cast<U>(static_cast<Wide<T>>(x)) * static_cast<U>(static_cast<Wide<T>>(y)));
    } else {
      return x * y;
    }
  }
};
template <typename T>
struct DivOp {
  T operator()(T x, T y) const {
    if constexpr (std::is_integral_v<T>) {
      if (y == 0) return T(0);
      if constexpr (std::is_signed_v<T>) {
        if (y == T(-1)) return SubOp<T>()(T(0), x);  // avoids INT_MIN / -1
      }
      return static_cast<T>(x / y);
    } else {
      return x / y;
    }
  }
};
// Max/Min propagate NaN (like numpy.maximum and ONNX Runtime).
template <typename T>
struct MaxOp {
  T operator()(T x, T y) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (x != x || y != y) return x + y;
    }
    return x > y ? x : y;
  }
};
template <typename T>
struct MinOp {
  T operator()(T x, T y) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (x != x || y != y) return x + y;
    }
    return x < y ? x : y;
  }
};
// fmod=1: sign of the dividend (C fmod / truncation). fmod=0: sign of the
// divisor (Python / numpy.mod).
template <typename T>
struct ModOp {
  bool c_style;
  T operator()(T x, T y) const {
    if constexpr (std::is_floating_point_v<T>) {
      T r = std::fmod(x, y);
      if (!c_style && r != 0 && ((r < 0) != (y < 0))) r += y;
      return r;
    } else {
      if (y == 0) return T(0);
      if constexpr (std::is_signed_v<T>) {
        if (y == T(-1)) return T(0);
      }
      T r = static_cast<T>(x % y);
      if constexpr (std::is_signed_v<T>) {
        if (!c_style && r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
      }
      return r;
    }
  }
};

enum class BinOp { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kMod };

template <typename T, typename Op>
void run_typed(const ops::BroadcastPlan& p, const Tensor& a, const Tensor& b, Tensor& out, ThreadPool* pool, Op op) {
  ops::map_binary(p, a.data<T>(), b.data<T>(), out.data<T>(), pool, op);
}

// Integer power by squaring (wrapping); negative exponents give 1/base^|e|
// truncated toward zero.
template <typename T>
T int_pow(T base, int64_t e) {
  if (e < 0) {
    if (base == 1) return T(1);
    if constexpr (std::is_signed_v<T>) {
      if (base == T(-1)) return (e & 1) ? T(-1) : T(1);
    }
    return T(0);
  }
  T r = 1;
  while (e) {
    if (e & 1) r = MulOp<T>()(r, base);
    base = MulOp<T>()(base, base);
    e >>= 1;
  }
  return r;
}

// Pow: the exponent may have another type than the base (opset >= 12); the
// result has the base's type.
Status run_pow(KernelContext& ctx, const ops::BroadcastPlan& p, const Tensor& a, const Tensor& b, Tensor& out) {
  ThreadPool* pool = ctx.pool();
  const DType ta = a.dtype();
  if (dtype_is_float(ta)) {
    Tensor e = b;
    if (b.dtype() != ta) {
      CONVFIX_ASSIGN_OR_RETURN(e, b.cast(ta));
    }
    if (ta == DType::kF32) {
      const float* pe = e.data<float>();
      if (e.numel() == 1 && (pe[0] == 2.0f || pe[0] == 1.0f)) {
        const bool sq = pe[0] == 2.0f;
        ops::map_unary(a.data<float>(), out.data<float>(), a.numel(), pool,
                       [sq](float x) { return sq ? x * x : x; });
        return Status::OK();
      }
      run_typed<float>(p, a, e, out, pool, [](float x, float y) { return std::pow(x, y); });
      return Status::OK();
    }
    if (ta == DType::kF64) {
      run_typed<double>(p, a, e, out, pool, [](double x, double y) { return std::pow(x, y); });
      return Status::OK();
    }
    return ctx.unsupported(std::string("Pow base type ") + dtype_name(ta));
  }
  if (!dtype_is_integer(ta)) return ctx.unsupported(std::string("Pow base type ") + dtype_name(ta));
  if (dtype_is_integer(b.dtype())) {
    CONVFIX_ASSIGN_OR_RETURN(Tensor e, b.cast(DType::kI64));
    return ops::dispatch_numeric(ta, [&]<typename T>() {
      ops::map_binary(p, a.data<T>(), e.data<int64_t>(), out.data<T>(), pool,
                      [](T x, int64_t y) { return int_pow<T>(x, y); });
    }, ctx);
  }
  // Integer base, float exponent: compute in double, truncate toward zero.
  CONVFIX_ASSIGN_OR_RETURN(Tensor e, b.cast(DType::kF64));
  return ops::dispatch_numeric(ta, [&]<typename T>() {
    ops::map_binary(p, a.data<T>(), e.data<double>(), out.data<T>(), pool, [](T x, double y) {
      const double v = std::pow(static_cast<double>(x), y);
      if (!(v == v)) return T(0);
      if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
      if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
      return static_cast<T>(v);
    });
  }, ctx);
}

Status binary(KernelContext& ctx, BinOp op, const Tensor& a, const Tensor& b, Tensor* result) {
  std::vector<int64_t> bd;
  CONVFIX_RETURN_IF_ERROR(ops::binary_input1_dims(ctx, a, b, &bd));
  ops::BroadcastPlan p;
  if (!ops::make_broadcast_plan({&a.dims(), &bd}, &p))
    return ctx.error("cannot broadcast input 0 of shape " + dims_to_string(a.dims()) + " with input 1 of shape " +
                     dims_to_string(b.dims()));
  Tensor out = Tensor::uninitialized(a.dtype(), p.out_dims);
  if (op == BinOp::kPow) {
    CONVFIX_RETURN_IF_ERROR(run_pow(ctx, p, a, b, out));
    *result = std::move(out);
    return Status::OK();
  }
  if (a.dtype() != b.dtype())
    return ctx.error(std::string("input types differ: input 0 is ") + dtype_name(a.dtype()) + ", input 1 is " +
                     dtype_name(b.dtype()));
  ThreadPool* pool = ctx.pool();
  const bool c_mod = ctx.attr_int("fmod", 0) != 0;
  Status st = ops::dispatch_numeric(a.dtype(), [&]<typename T>() {
    switch (op) {
      case BinOp::kAdd: run_typed<T>(p, a, b, out, pool, AddOp<T>()); break;
      case BinOp::kSub: run_typed<T>(p, a, b, out, pool, SubOp<T>()); break;
      case BinOp::kMul: run_typed<T>(p, a, b, out, pool, MulOp<T>()); break;
      case BinOp::kDiv: run_typed<T>(p, a, b, out, pool, DivOp<T>()); break;
      case BinOp::kMax: run_typed<T>(p, a, b, out, pool, MaxOp<T>()); break;
      case BinOp::kMin: run_typed<T>(p, a, b, out, pool, MinOp<T>()); break;
      case BinOp::kMod: run_typed<T>(p, a, b, out, pool, ModOp<T>{c_mod}); break;
      case BinOp::kPow: break;
    }
  }, ctx);
  CONVFIX_RETURN_IF_ERROR(st);
  *result = std::move(out);
  return Status::OK();
}

KernelFn make_binary(BinOp op) {
  return [op](KernelContext& ctx) -> Status {
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
    Tensor out;
    CONVFIX_RETURN_IF_ERROR(binary(ctx, op, *ctx.input(0), *ctx.input(1), &out));
    ctx.set_output(0, std::move(out));
    return Status::OK();
  };
}

// Max, Min, Sum, Mean with any number of inputs (all broadcast together).
KernelFn make_variadic(BinOp op, bool mean) {
  return [op, mean](KernelContext& ctx) -> Status {
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
    Tensor acc = *ctx.input(0);
    size_t count = 1;
    for (size_t i = 1; i < ctx.num_inputs(); ++i) {
      if (!ctx.has_input(i)) continue;
      ++count;
      Tensor next;
      CONVFIX_RETURN_IF_ERROR(binary(ctx, op, acc, *ctx.input(i), &next));
      acc = std::move(next);
    }
    if (count == 1) acc = acc.clone();
    if (mean && count > 1) {
      Tensor c = Tensor::scalar_f32(static_cast<float>(count));
      CONVFIX_ASSIGN_OR_RETURN(Tensor cnt, c.cast(acc.dtype()));
      Tensor next;
      CONVFIX_RETURN_IF_ERROR(binary(ctx, BinOp::kDiv, acc, cnt, &next));
      acc = std::move(next);
    }
    ctx.set_output(0, std::move(acc));
    return Status::OK();
  };
}

}  // namespace

void register_ops_elementwise_binary(OpRegistry& r) {
  // Same-shape nChw16c operands are combined buffer by buffer (op_registry.h).
  r.add(elementwise_layout({"", "Add", make_binary(BinOp::kAdd), FloatCompute::kHalf}));
  r.add(elementwise_layout({"", "Sub", make_binary(BinOp::kSub), FloatCompute::kHalf}));
  r.add(elementwise_layout({"", "Mul", make_binary(BinOp::kMul), FloatCompute::kHalf}));
  r.add(elementwise_layout({"", "Div", make_binary(BinOp::kDiv), FloatCompute::kHalf}));
  r.add({"", "Pow", make_binary(BinOp::kPow), FloatCompute::kHalf});
  r.add({"", "Mod", make_binary(BinOp::kMod), FloatCompute::kHalf});
  r.add(elementwise_layout({"", "Max", make_variadic(BinOp::kMax, false), FloatCompute::kHalf}));
  r.add(elementwise_layout({"", "Min", make_variadic(BinOp::kMin, false), FloatCompute::kHalf}));
  r.add(elementwise_layout({"", "Sum", make_variadic(BinOp::kAdd, false), FloatCompute::kHalf}));
  r.add({"", "Mean", make_variadic(BinOp::kAdd, true), FloatCompute::kHalf});
}

}  // namespace convfix
