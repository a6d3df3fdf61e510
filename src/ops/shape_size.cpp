// Shape (start/end from opset 15, clamped like Python slicing) and Size.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status shape(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const int64_t r = x.rank();
  int64_t s = ctx.attr_int("start", 0), e = ctx.attr_int("end", r);
  if (s < 0) s += r;
  if (e < 0) e += r;
  s = std::clamp<int64_t>(s, 0, r);
  e = std::clamp<int64_t>(e, 0, r);
  std::vector<int64_t> v;
  for (int64_t i = s; i < e; ++i) v.push_back(x.dim(i));
  ctx.set_output(0, Tensor::from_vector(DType::kI64, {static_cast<int64_t>(v.size())}, v));
  return Status::OK();
}

Status size(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  ctx.set_output(0, Tensor::scalar_i64(ctx.input(0)->numel()));
  return Status::OK();
}

}  // namespace

void register_ops_shape_size(OpRegistry& r) {
  r.add({"", "Shape", shape});
  r.add({"", "Size", size});
}

}  // namespace convfix
