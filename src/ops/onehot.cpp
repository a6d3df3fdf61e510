// OneHot: indices (any numeric type, negative ones count from depth), depth
// (scalar), values [off, on] of any dtype; out-of-range or non-integral
// indices give an all "off" row. The new axis defaults to -1 (last).
#include <cmath>

#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status onehot(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(2));
  const Tensor& ind = *ctx.input(0);
  const Tensor& vals = *ctx.input(2);
  if (ind.dtype() == DType::kString) return ctx.error("input 0 (indices) must be numeric");
  int64_t depth = 0;
  CONVFIX_RETURN_IF_ERROR(ops::read_int_scalar(ctx, 1, "depth", &depth));
  if (depth < 1) return ctx.error("input 1 (depth) must be positive, got " + std::to_string(depth));
  if (vals.numel() != 2) return ctx.error("input 2 (values) must hold [off, on], got shape " + dims_to_string(vals.dims()));
  const int64_t r = ind.rank() + 1;
  int64_t axis = 0;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", -1), r, &axis));
  std::vector<int64_t> od = ind.dims();
  od.insert(od.begin() + axis, depth);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= ind.dim(d);
  for (int64_t d = axis; d < ind.rank(); ++d) inner *= ind.dim(d);
  Tensor out(vals.dtype(), od);
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_elements(vals.dtype(), [&]<typename T>() {
    const T off = ops::elems<T>(vals)[0], on = ops::elems<T>(vals)[1];
    T* o = ops::elems<T>(out);
    for (int64_t i = 0; i < out.numel(); ++i) o[i] = off;
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t b = 0; b < inner; ++b) {
        // A non-integral index matches no position (it equals no depth index).
        const double f = ind.get_f64(a * inner + b);
        if (f != std::floor(f) || !(std::fabs(f) < 9e18)) continue;
        int64_t v = static_cast<int64_t>(f);
        if (v < 0) v += depth;
        if (v >= 0 && v < depth) o[(a * depth + v) * inner + b] = on;
      }
  }, ctx));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_onehot(OpRegistry& r) { r.add({"", "OneHot", onehot}); }

}  // namespace convfix
