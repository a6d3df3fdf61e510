// CumSum(x, axis): running sum along `axis` (a scalar int32/int64 tensor),
// with exclusive (sum of the elements before) and reverse (from the end).
// Floats accumulate in double, integers wrap in their own type.
#include <type_traits>

#include "ops/elementwise_util.h"

namespace convfix {
namespace {

// Accumulator: double for floats, the unsigned twin for integers (wraps).
template <typename T, bool = std::is_floating_point_v<T>>
struct AccOf { using type = double; };
template <typename T>
struct AccOf<T, false> { using type = std::make_unsigned_t<T>; };

template <typename T>
void cumsum_kernel(const T* x, T* o, int64_t outer, int64_t n, int64_t inner, bool exclusive, bool reverse,
                   ThreadPool* pool) {
  using Acc = typename AccOf<T>::type;
  parallel_for(pool, outer, [&](int64_t s, int64_t e) {
    std::vector<Acc> acc(static_cast<size_t>(inner));
    for (int64_t b = s; b < e; ++b) {
      std::fill(acc.begin(), acc.end(), Acc(0));
      const T* base = x + b * n * inner;
      T* ob = o + b * n * inner;
      for (int64_t step = 0; step < n; ++step) {
        const int64_t k = reverse ? n - 1 - step : step;
        const T* row = base + k * inner;
        T* orow = ob + k * inner;
        for (int64_t j = 0; j < inner; ++j) {
          Acc& a = acc[static_cast<size_t>(j)];
          if (exclusive) {
            orow[j] = static_cast<T>(a);
            a = static_cast<Acc>(a + static_cast<Acc>(row[j]));
          } else {
            a = static_cast<Acc>(a + static_cast<Acc>(row[j]));
            orow[j] = static_cast<T>(a);
          }
        }
      }
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n * inner)));
}

Status cumsum(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  const Tensor& ax = *ctx.input(1);
  if (ax.numel() != 1 || !dtype_is_integer(ax.dtype()))
    return ctx.error("input 1 (axis) must be an integer scalar, got " + std::string(dtype_name(ax.dtype())) + " " +
                     dims_to_string(ax.dims()));
  const int64_t rank = x.rank();
  int64_t axis = 0;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ax.get_i64(0), std::max<int64_t>(rank, 1), &axis));
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t d = x.dim(i);
    if (i < axis) outer *= d;
    else if (i == axis) n = d;
    else inner *= d;
  }
  const bool exclusive = ctx.attr_int("exclusive", 0) != 0;
  const bool reverse = ctx.attr_int("reverse", 0) != 0;
  Tensor out(x.dtype(), x.dims());
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_numeric(x.dtype(), [&]<typename T>() {
    cumsum_kernel<T>(x.data<T>(), out.data<T>(), outer, n, inner, exclusive, reverse, ctx.pool());
  }, ctx));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_cumsum(OpRegistry& r) { r.add({"", "CumSum", cumsum, FloatCompute::kHalf}); }

}  // namespace convfix
