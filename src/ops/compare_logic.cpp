// Comparisons (Equal, Less, LessOrEqual, Greater, GreaterOrEqual) on every
// numeric type and bool, and the logical And, Or, Xor on bool. Output is
// bool; broadcasting as numpy (opset >= 7) or the legacy broadcast=1/axis
// rule (opset < 7). f16/bf16 compare exactly after the executor's f32
// conversion.
#include "ops/elementwise_util.h"

namespace convfix {
namespace {

enum class Cmp { kEq, kLt, kLe, kGt, kGe, kAnd, kOr, kXor };

template <typename F>
Status dispatch_with_bool(DType t, F&& f, const KernelContext& ctx) {
  if (t == DType::kBool) {
    f.template operator()<uint8_t>();
    return Status::OK();
  }
  return ops::dispatch_numeric(t, std::forward<F>(f), ctx);
}

Status compare(KernelContext& ctx, Cmp op) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  if (a.dtype() != b.dtype())
    return ctx.error(std::string("input types differ: input 0 is ") + dtype_name(a.dtype()) + ", input 1 is " +
                     dtype_name(b.dtype()));
  const bool logical = op == Cmp::kAnd || op == Cmp::kOr || op == Cmp::kXor;
  if (logical && a.dtype() != DType::kBool)
    return ctx.error(std::string("input 0 has element type ") + dtype_name(a.dtype()) + ", expected bool");
  std::vector<int64_t> bd;
  CONVFIX_RETURN_IF_ERROR(ops::binary_input1_dims(ctx, a, b, &bd));
  ops::BroadcastPlan p;
  if (!ops::make_broadcast_plan({&a.dims(), &bd}, &p))
    return ctx.error("cannot broadcast input 0 of shape " + dims_to_string(a.dims()) + " with input 1 of shape " +
                     dims_to_string(b.dims()));
  Tensor out(DType::kBool, p.out_dims);
  uint8_t* o = out.data<uint8_t>();
  ThreadPool* pool = ctx.pool();
  if (logical) {
    const uint8_t* pa = a.data<uint8_t>();
    const uint8_t* pb = b.data<uint8_t>();
    switch (op) {
      case Cmp::kAnd: ops::map_binary(p, pa, pb, o, pool, [](uint8_t x, uint8_t y) { return uint8_t((x != 0) & (y != 0)); }); break;
      case Cmp::kOr: ops::map_binary(p, pa, pb, o, pool, [](uint8_t x, uint8_t y) { return uint8_t((x != 0) | (y != 0)); }); break;
      default: ops::map_binary(p, pa, pb, o, pool, [](uint8_t x, uint8_t y) { return uint8_t((x != 0) != (y != 0)); }); break;
    }
  } else {
    CONVFIX_RETURN_IF_ERROR(dispatch_with_bool(a.dtype(), [&]<typename T>() {
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      switch (op) {
        case Cmp::kEq: ops::map_binary(p, pa, pb, o, pool, [](T x, T y) { return uint8_t(x == y); }); break;
        case Cmp::kLt: ops::map_binary(p, pa, pb, o, pool, [](T x, T y) { return uint8_t(x < y); }); break;
        case Cmp::kLe: ops::map_binary(p, pa, pb, o, pool, [](T x, T y) { return uint8_t(x <= y); }); break;
        case Cmp::kGt: ops::map_binary(p, pa, pb, o, pool, [](T x, T y) { return uint8_t(x > y); }); break;
        case Cmp::kGe: ops::map_binary(p, pa, pb, o, pool, [](T x, T y) { return uint8_t(x >= y); }); break;
        default: break;
      }
    }, ctx));
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

KernelFn make(Cmp op) {
  return [op](KernelContext& ctx) { return compare(ctx, op); };
}

}  // namespace

void register_ops_compare_logic(OpRegistry& r) {
  const auto kH = FloatCompute::kHalf;
  r.add({"", "Equal", make(Cmp::kEq), kH});
  r.add({"", "Less", make(Cmp::kLt), kH});
  r.add({"", "LessOrEqual", make(Cmp::kLe), kH});
  r.add({"", "Greater", make(Cmp::kGt), kH});
  r.add({"", "GreaterOrEqual", make(Cmp::kGe), kH});
  r.add({"", "And", make(Cmp::kAnd)});
  r.add({"", "Or", make(Cmp::kOr)});
  r.add({"", "Xor", make(Cmp::kXor)});
}

}  // namespace convfix
