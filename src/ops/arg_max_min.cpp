// ArgMax / ArgMin along one axis (default 0), keepdims (default 1),
// select_last_index (default 0: first occurrence of the extreme). Output is
// int64. NaN counts as the extreme value, like numpy.argmax/argmin. Any
// numeric type; f16/bf16 compare exactly after the executor's f32 conversion.
#include "ops/elementwise_util.h"

namespace convfix {
namespace {

// True when v should replace the current best b.
template <typename T, bool kMax, bool kLast>
bool better(T v, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (b != b) return kLast && v != v;  // NaN stays unless another NaN with select_last_index
    if (v != v) return true;
  }
  if constexpr (kMax) return kLast ? v >= b : v > b;
  else return kLast ? v <= b : v < b;
}

template <typename T, bool kMax, bool kLast>
void arg_kernel(const T* x, int64_t* o, int64_t outer, int64_t n, int64_t inner, ThreadPool* pool) {
  parallel_for(pool, outer, [&](int64_t s, int64_t e) {
    std::vector<T> best(static_cast<size_t>(inner));
    for (int64_t b = s; b < e; ++b) {
      const T* base = x + b * n * inner;
      int64_t* ob = o + b * inner;
      for (int64_t j = 0; j < inner; ++j) {
        best[static_cast<size_t>(j)] = base[j];
        ob[j] = 0;
      }
      for (int64_t k = 1; k < n; ++k) {
        const T* row = base + k * inner;
        for (int64_t j = 0; j < inner; ++j) {
          if (better<T, kMax, kLast>(row[j], best[static_cast<size_t>(j)])) {
            best[static_cast<size_t>(j)] = row[j];
            ob[j] = k;
          }
        }
      }
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n * inner)));
}

Status arg_extreme(KernelContext& ctx, bool is_max) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const int64_t rank = x.rank();
  int64_t axis = 0;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", 0), std::max<int64_t>(rank, 1), &axis));
  const bool keep = ctx.attr_int("keepdims", 1) != 0;
  const bool last = ctx.attr_int("select_last_index", 0) != 0;
  int64_t outer = 1, n = 1, inner = 1;
  std::vector<int64_t> od;
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t d = x.dim(i);
    if (i < axis) outer *= d;
    else if (i == axis) n = d;
    else inner *= d;
    if (i != axis) od.push_back(d);
    else if (keep) od.push_back(1);
  }
  if (n == 0 && outer * inner > 0) return ctx.error("cannot take the arg of an empty axis " + std::to_string(axis));
  Tensor out(DType::kI64, od);
  int64_t* o = out.data<int64_t>();
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_numeric(x.dtype(), [&]<typename T>() {
    const T* px = x.data<T>();
    ThreadPool* pool = ctx.pool();
    if (is_max) {
      if (last) arg_kernel<T, true, true>(px, o, outer, n, inner, pool);
      else arg_kernel<T, true, false>(px, o, outer, n, inner, pool);
    } else {
      if (last) arg_kernel<T, false, true>(px, o, outer, n, inner, pool);
      else arg_kernel<T, false, false>(px, o, outer, n, inner, pool);
    }
  }, ctx));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_arg_max_min(OpRegistry& r) {
  r.add({"", "ArgMax", [](KernelContext& c) { return arg_extreme(c, true); }, FloatCompute::kHalf});
  r.add({"", "ArgMin", [](KernelContext& c) { return arg_extreme(c, false); }, FloatCompute::kHalf});
}

}  // namespace convfix
