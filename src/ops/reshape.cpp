// Reshape (shape attribute before opset 5, shape input after; allowzero from
// opset 14) and Flatten. Both return a view sharing the input's buffer.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status reshape(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  std::vector<int64_t> shape;
  if (ctx.opset() < 5 && !ctx.has_input(1)) {
    shape = ctx.attr_ints("shape");
  } else {
    CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 1, "shape", &shape));
  }
  const bool allowzero = ctx.attr_int("allowzero", 0) != 0;
  const auto fail = [&](const std::string& why) {
    return ctx.error("cannot reshape " + dims_to_string(x.dims()) + " into " + dims_to_string(shape) +
                     (why.empty() ? "" : " (" + why + ")"));
  };
  std::vector<int64_t> out(shape.size());
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t d = shape[i];
    if (d == 0 && !allowzero) {
      if (i >= x.dims().size()) return fail("dim " + std::to_string(i) + " is 0 but the input has no such dim");
      d = x.dims()[i];
    } else if (d == -1) {
      if (infer >= 0) return fail("more than one -1");
      infer = static_cast<int64_t>(i);
      out[i] = -1;
      continue;
    } else if (d < -1) {
      return fail("negative dim " + std::to_string(d));
    }
    out[i] = d;
    known *= d;
  }
  if (infer >= 0) {
    if (allowzero && known == 0) return fail("-1 together with a 0 dim");
    if (known == 0 || x.numel() % known != 0) return fail("");
    out[static_cast<size_t>(infer)] = x.numel() / known;
  } else if (known != x.numel()) {
    return fail("");
  }
  ctx.set_output(0, x.reshaped(out));
  return Status::OK();
}

Status flatten(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const int64_t r = x.rank();
  int64_t axis = ctx.attr_int("axis", 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r)
    return ctx.error("axis " + std::to_string(ctx.attr_int("axis", 1)) + " is out of range for rank " +
                     std::to_string(r));
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.dim(i);
  int64_t inner = 1;
  for (int64_t i = axis; i < r; ++i) inner *= x.dim(i);
  ctx.set_output(0, x.reshaped({outer, inner}));
  return Status::OK();
}

}  // namespace

void register_ops_reshape(OpRegistry& r) {
  r.add({"", "Reshape", reshape});
  r.add({"", "Flatten", flatten});
}

}  // namespace convfix
