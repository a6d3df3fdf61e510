// Transpose (perm defaults to reversing the dims). Any dtype.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status transpose(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const int64_t r = x.rank();
  std::vector<int64_t> perm = ctx.attr_ints("perm");
  if (!ctx.has_attr("perm")) {
    for (int64_t i = r; i-- > 0;) perm.push_back(i);
  }
  if (static_cast<int64_t>(perm.size()) != r)
    return ctx.error("perm " + dims_to_string(perm) + " does not fit input shape " + dims_to_string(x.dims()));
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axes(ctx, perm, r, "perm"));
  const auto in_strides = ops::strides_of(x.dims());
  std::vector<int64_t> od(static_cast<size_t>(r)), st(static_cast<size_t>(r));
  for (size_t i = 0; i < perm.size(); ++i) {
    od[i] = x.dims()[static_cast<size_t>(perm[i])];
    st[i] = in_strides[static_cast<size_t>(perm[i])];
  }
  Tensor out;
  CONVFIX_RETURN_IF_ERROR(ops::strided_copy(ctx, x, 0, od, st, &out));
  ops::keep_quant(x, out);
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_transpose(OpRegistry& r) { r.add({"", "Transpose", transpose}); }

}  // namespace convfix
