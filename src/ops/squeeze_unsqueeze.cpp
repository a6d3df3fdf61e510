// Squeeze and Unsqueeze: axes as an attribute before opset 13, as an input
// from opset 13 on. Both return views sharing the input's buffer.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status read_axes(KernelContext& ctx, bool* given, std::vector<int64_t>* axes) {
  if (ctx.opset() >= 13 || ctx.has_input(1)) {
    *given = ctx.has_input(1);
    if (*given) CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 1, "axes", axes));
  } else {
    *given = ctx.has_attr("axes");
    *axes = ctx.attr_ints("axes");
  }
  return Status::OK();
}

Status squeeze(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  bool given = false;
  std::vector<int64_t> axes;
  CONVFIX_RETURN_IF_ERROR(read_axes(ctx, &given, &axes));
  std::vector<bool> drop(x.dims().size(), false);
  if (!given) {
    for (size_t i = 0; i < drop.size(); ++i) drop[i] = x.dims()[i] == 1;
  } else {
    CONVFIX_RETURN_IF_ERROR(ops::normalize_axes(ctx, axes, x.rank()));
    for (int64_t a : axes) {
      if (x.dim(a) != 1)
        return ctx.error("cannot squeeze axis " + std::to_string(a) + " of shape " + dims_to_string(x.dims()) +
                         ": its size is " + std::to_string(x.dim(a)));
      drop[static_cast<size_t>(a)] = true;
    }
  }
  std::vector<int64_t> out;
  for (size_t i = 0; i < drop.size(); ++i)
    if (!drop[i]) out.push_back(x.dims()[i]);
  ctx.set_output(0, x.reshaped(out));
  return Status::OK();
}

Status unsqueeze(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  bool given = false;
  std::vector<int64_t> axes;
  CONVFIX_RETURN_IF_ERROR(read_axes(ctx, &given, &axes));
  if (!given) return ctx.error(ctx.opset() >= 13 ? "input 1 (axes) is required" : "attribute 'axes' is required");
  const int64_t r = x.rank() + static_cast<int64_t>(axes.size());
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axes(ctx, axes, r));
  std::vector<bool> ins(static_cast<size_t>(r), false);
  for (int64_t a : axes) ins[static_cast<size_t>(a)] = true;
  std::vector<int64_t> out;
  size_t k = 0;
  for (size_t i = 0; i < ins.size(); ++i) out.push_back(ins[i] ? 1 : x.dims()[k++]);
  ctx.set_output(0, x.reshaped(out));
  return Status::OK();
}

}  // namespace

void register_ops_squeeze_unsqueeze(OpRegistry& r) {
  r.add({"", "Squeeze", squeeze});
  r.add({"", "Unsqueeze", unsqueeze});
}

}  // namespace convfix
