// Add, Sub, Mul, Div, Pow, Max, Min, Mod (numpy broadcasting; Max/Min/Sum/Mean variadic).
#include <cmath>
#include <type_traits>

#include "ops/kernel_util.h"

namespace convfix {
namespace {

using ops::BroadcastIndexer;

template <typename T, typename Op>
void binary_loop(const Tensor& a, const Tensor& b, Tensor& out, ThreadPool* pool, Op op) {
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* po = out.data<T>();
  const int64_t n = out.numel();
  if (a.dims() == b.dims()) {
    parallel_for(pool, n, [&](int64_t s, int64_t e) { for (int64_t i = s; i < e; ++i) po[i] = op(pa[i], pb[i]); }, 16384);
    return;
  }
  if (b.numel() == 1) {
    const T bv = pb[0];
    parallel_for(pool, n, [&](int64_t s, int64_t e) { for (int64_t i = s; i < e; ++i) po[i] = op(pa[i], bv); }, 16384);
    return;
  }
  // General case: iterate over the innermost dimension contiguously.
  const auto& od = out.dims();
  BroadcastIndexer idx(od, {a.dims(), b.dims()});
  const int64_t inner = od.empty() ? 1 : od.back();
  const auto sa = ops::broadcast_strides(a.dims(), od);
  const auto sb = ops::broadcast_strides(b.dims(), od);
  const int64_t ia = sa.empty() ? 0 : sa.back(), ib = sb.empty() ? 0 : sb.back();
  const int64_t rows = inner ? n / inner : 0;
  parallel_for(pool, rows, [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const int64_t o = r * inner;
      const T* ra = pa + idx.offset(0, o);
      const T* rb = pb + idx.offset(1, o);
      for (int64_t i = 0; i < inner; ++i) po[o + i] = op(ra[i * ia], rb[i * ib]);
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner)));
}

enum class BinOp { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kMod };

template <typename T>
T apply(BinOp op, T x, T y, bool fmod_flag) {
  switch (op) {
    case BinOp::kAdd: return static_cast<T>(x + y);
    case BinOp::kSub: return static_cast<T>(x - y);
    case BinOp::kMul: return static_cast<T>(x * y);
    case BinOp::kDiv:
      if constexpr (std::is_integral_v<T>) return y == 0 ? T(0) : static_cast<T>(x / y);
      else return x / y;
    case BinOp::kPow: return static_cast<T>(std::pow(static_cast<double>(x), static_cast<double>(y)));
    case BinOp::kMax:
      if constexpr (std::is_floating_point_v<T>) { if (std::isnan(x) || std::isnan(y)) return x + y; }
      return x > y ? x : y;
    case BinOp::kMin:
      if constexpr (std::is_floating_point_v<T>) { if (std::isnan(x) || std::isnan(y)) return x + y; }
      return x < y ? x : y;
    case BinOp::kMod:
      if constexpr (std::is_floating_point_v<T>) {
        return static_cast<T>(std::fmod(x, y));
      } else {
        if (y == 0) return T(0);
        if (fmod_flag) return static_cast<T>(x % y);
        T r = static_cast<T>(x % y);
        if constexpr (std::is_signed_v<T>) { if (r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y); }
        return r;
      }
  }
  return x;
}

Status binary(KernelContext& ctx, BinOp op, const Tensor& a, const Tensor& b, Tensor* result) {
  std::vector<int64_t> od;
  if (!ops::broadcast_dims(a.dims(), b.dims(), &od))
    return ctx.error("cannot broadcast " + dims_to_string(a.dims()) + " with " + dims_to_string(b.dims()));
  if (op == BinOp::kPow && a.dtype() != b.dtype()) {
    // Pow allows a different exponent type: compute in the base's type.
    CONVFIX_ASSIGN_OR_RETURN(Tensor bc, b.cast(a.dtype()));
    return binary(ctx, op, a, bc, result);
  }
  if (a.dtype() != b.dtype())
    return ctx.error(std::string("input types differ: ") + dtype_name(a.dtype()) + " vs " + dtype_name(b.dtype()));
  Tensor out(a.dtype(), od);
  const bool fmod_flag = ctx.attr_int("fmod", 0) != 0;
  Status st = ops::dispatch_numeric(a.dtype(), [&]<typename T>() {
    binary_loop<T>(a, b, out, ctx.pool(), [op, fmod_flag](T x, T y) { return apply<T>(op, x, y, fmod_flag); });
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

// Max, Min, Sum, Mean with any number of inputs.
KernelFn make_variadic(BinOp op, bool mean) {
  return [op, mean](KernelContext& ctx) -> Status {
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
    Tensor acc = *ctx.input(0);
    for (size_t i = 1; i < ctx.num_inputs(); ++i) {
      if (!ctx.has_input(i)) continue;
      Tensor next;
      CONVFIX_RETURN_IF_ERROR(binary(ctx, op, acc, *ctx.input(i), &next));
      acc = std::move(next);
    }
    if (ctx.num_inputs() == 1) acc = acc.clone();
    if (mean) {
      Tensor cnt(acc.dtype(), {});
      Tensor c64 = Tensor::scalar_f32(static_cast<float>(ctx.num_inputs()));
      CONVFIX_ASSIGN_OR_RETURN(cnt, c64.cast(acc.dtype()));
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
  r.add({"", "Add", make_binary(BinOp::kAdd), FloatCompute::kHalf});
  r.add({"", "Sub", make_binary(BinOp::kSub), FloatCompute::kHalf});
  r.add({"", "Mul", make_binary(BinOp::kMul), FloatCompute::kHalf});
  r.add({"", "Div", make_binary(BinOp::kDiv), FloatCompute::kHalf});
  r.add({"", "Pow", make_binary(BinOp::kPow), FloatCompute::kHalf});
  r.add({"", "Mod", make_binary(BinOp::kMod), FloatCompute::kHalf});
  r.add({"", "Max", make_variadic(BinOp::kMax, false), FloatCompute::kHalf});
  r.add({"", "Min", make_variadic(BinOp::kMin, false), FloatCompute::kHalf});
  r.add({"", "Sum", make_variadic(BinOp::kAdd, false), FloatCompute::kHalf});
  r.add({"", "Mean", make_variadic(BinOp::kAdd, true), FloatCompute::kHalf});
}

}  // namespace convfix
