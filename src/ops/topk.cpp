// TopK: k as attribute (opset 1) or input 1 (opset 10+); largest and sorted
// (opset 11). Equal values are ordered by lower index first, so results are
// deterministic; with sorted=0 the output is still sorted (allowed by the
// spec). Outputs values (input dtype) and int64 indices.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status topk(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  int64_t k = 0;
  if (ctx.opset() < 10) k = ctx.attr_int("k", 0);
  else CONVFIX_RETURN_IF_ERROR(ops::read_int_scalar(ctx, 1, "K", &k));
  if (x.rank() == 0) return ctx.error("input 0 is a scalar; TopK needs rank >= 1");
  int64_t axis = 0;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", -1), x.rank(), &axis));
  const int64_t dim = x.dim(axis);
  if (k < 0 || k > dim)
    return ctx.error("k = " + std::to_string(k) + " is out of range for axis " + std::to_string(axis) + " of size " +
                     std::to_string(dim));
  const bool largest = ctx.attr_int("largest", 1) != 0;
  std::vector<int64_t> od = x.dims();
  od[static_cast<size_t>(axis)] = k;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  Tensor vals(x.dtype(), od), idxs(DType::kI64, od);
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_numeric(x.dtype(), [&]<typename T>() {
    const T* px = x.data<T>();
    T* pv = vals.data<T>();
    int64_t* pi = idxs.data<int64_t>();
    parallel_for(ctx.pool(), outer * inner, [&](int64_t b, int64_t e) {
      std::vector<int64_t> order(static_cast<size_t>(dim));
      for (int64_t row = b; row < e; ++row) {
        const int64_t o = row / inner, in = row % inner;
        const T* base = px + o * dim * inner + in;
        std::iota(order.begin(), order.end(), 0);
        // NaN counts as larger than every number (it sorts first when largest).
        auto before = [&](int64_t i, int64_t j) {
          const T a = base[i * inner], c = base[j * inner];
          if constexpr (std::is_floating_point_v<T>) {
            const bool na = std::isnan(a), nc = std::isnan(c);
            if (na || nc) return na == nc ? i < j : (largest ? na : nc);
          }
          if (a != c) return largest ? a > c : a < c;
          return i < j;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
        for (int64_t j = 0; j < k; ++j) {
          const int64_t src = order[static_cast<size_t>(j)];
          const int64_t dst = (o * k + j) * inner + in;
          pv[dst] = base[src * inner];
          pi[dst] = src;
        }
      }
    }, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, dim)));
  }, ctx));
  ctx.set_output(0, std::move(vals));
  ctx.set_output(1, std::move(idxs));
  return Status::OK();
}

}  // namespace

void register_ops_topk(OpRegistry& r) { r.add({"", "TopK", topk, FloatCompute::kHalf}); }

}  // namespace convfix
