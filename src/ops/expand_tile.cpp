// Expand (bidirectional broadcast to a shape input) and Tile (repeats input;
// opset 6 on). Both are one strided copy with zero strides. Any dtype.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status expand(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  std::vector<int64_t> shape;
  CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 1, "shape", &shape));
  for (int64_t d : shape)
    if (d < 0) return ctx.error("input 1 (shape) " + dims_to_string(shape) + " has a negative dim");
  std::vector<int64_t> od;
  if (!ops::broadcast_dims(x.dims(), shape, &od))
    return ctx.error("cannot expand " + dims_to_string(x.dims()) + " to " + dims_to_string(shape));
  Tensor out;
  CONVFIX_RETURN_IF_ERROR(ops::strided_copy(ctx, x, 0, od, ops::broadcast_strides(x.dims(), od), &out));
  ops::keep_quant(x, out);
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status tile(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  std::vector<int64_t> reps;
  CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 1, "repeats", &reps));
  if (static_cast<int64_t>(reps.size()) != x.rank())
    return ctx.error("input 1 (repeats) " + dims_to_string(reps) + " must have one value per dim of " +
                     dims_to_string(x.dims()));
  const auto xs = ops::strides_of(x.dims());
  std::vector<int64_t> dims, st, od;
  for (size_t d = 0; d < reps.size(); ++d) {
    if (reps[d] < 0) return ctx.error("input 1 (repeats) " + dims_to_string(reps) + " has a negative value");
    dims.push_back(reps[d]);
    st.push_back(0);
    dims.push_back(x.dims()[d]);
    st.push_back(xs[d]);
    od.push_back(reps[d] * x.dims()[d]);
  }
  Tensor out;
  CONVFIX_RETURN_IF_ERROR(ops::strided_copy(ctx, x, 0, dims, st, &out));
  ops::keep_quant(x, out);
  ctx.set_output(0, out.reshaped(od));
  return Status::OK();
}

}  // namespace

void register_ops_expand_tile(OpRegistry& r) {
  r.add({"", "Expand", expand});
  r.add({"", "Tile", tile, FloatCompute::kNone, 6});
}

}  // namespace convfix
