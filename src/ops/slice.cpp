// Slice: starts/ends/axes attributes before opset 10; starts, ends, axes,
// steps inputs from 10 on. Negative indices count from the end, out of range
// indices are clamped (per the spec, differently for negative steps).
#include <limits>

#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status slice(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const int64_t r = x.rank();
  std::vector<int64_t> starts, ends, axes, steps;
  bool have_axes = false, have_steps = false;
  if (ctx.opset() < 10) {
    starts = ctx.attr_ints("starts");
    ends = ctx.attr_ints("ends");
    have_axes = ctx.has_attr("axes");
    axes = ctx.attr_ints("axes");
  } else {
    CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 1, "starts", &starts));
    CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 2, "ends", &ends));
    if ((have_axes = ctx.has_input(3))) CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 3, "axes", &axes));
    if ((have_steps = ctx.has_input(4))) CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 4, "steps", &steps));
  }
  const size_t n = starts.size();
  if (ends.size() != n)
    return ctx.error("starts " + dims_to_string(starts) + " and ends " + dims_to_string(ends) + " differ in length");
  if (!have_axes) {
    for (size_t i = 0; i < n; ++i) axes.push_back(static_cast<int64_t>(i));
  } else if (axes.size() != n) {
    return ctx.error("axes " + dims_to_string(axes) + " and starts " + dims_to_string(starts) + " differ in length");
  }
  if (!have_steps) steps.assign(n, 1);
  else if (steps.size() != n)
    return ctx.error("steps " + dims_to_string(steps) + " and starts " + dims_to_string(starts) + " differ in length");
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axes(ctx, axes, r));

  const auto in_st = ops::strides_of(x.dims());
  std::vector<int64_t> od = x.dims(), st = in_st;
  int64_t base = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t a = static_cast<size_t>(axes[i]);
    const int64_t dim = x.dims()[a];
    if (steps[i] == 0) return ctx.error("steps[" + std::to_string(i) + "] is 0");
    // |step| >= dim selects at most one element; clamping avoids overflow.
    const int64_t big = std::max<int64_t>(dim, 1);
    const int64_t step = std::clamp<int64_t>(steps[i], -big, big);
    int64_t s = starts[i], e = ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    int64_t len;
    if (dim == 0) {
      len = 0;
    } else if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      len = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      len = s > e ? (s - e - step - 1) / (-step) : 0;
    }
    od[a] = len;
    if (len > 0) base += s * in_st[a];
    st[a] = in_st[a] * step;
  }
  Tensor out;
  CONVFIX_RETURN_IF_ERROR(ops::strided_copy(ctx, x, base, od, st, &out));
  ops::keep_quant(x, out);
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_slice(OpRegistry& r) { r.add({"", "Slice", slice}); }

}  // namespace convfix
