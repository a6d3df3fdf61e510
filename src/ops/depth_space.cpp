// DepthToSpace (modes DCR and CRD) and SpaceToDepth on NCHW tensors, each a
// single strided copy. Any dtype.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status check_nchw(const KernelContext& ctx, const Tensor& x, int64_t b) {
  if (x.rank() != 4) return ctx.error("input 0 must be 4-D (NCHW), got " + dims_to_string(x.dims()));
  if (b < 1) return ctx.error("blocksize " + std::to_string(b) + " must be positive");
  return Status::OK();
}

Status depth_to_space(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const int64_t b = ctx.attr_int("blocksize", 0);
  CONVFIX_RETURN_IF_ERROR(check_nchw(ctx, x, b));
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  if (c % (b * b) != 0)
    return ctx.error("channels " + std::to_string(c) + " are not a multiple of blocksize^2 = " + std::to_string(b * b));
  const std::string mode = ctx.attr_string("mode", "DCR");
  const int64_t co = c / (b * b);
  const int64_t sc = h * w, sh = w, sn = c * h * w;
  // Output viewed as [N, C', H, b1, W, b2].
  std::vector<int64_t> dims = {n, co, h, b, w, b};
  std::vector<int64_t> st;
  if (mode == "DCR") st = {sn, sc, sh, b * co * sc, 1, co * sc};
  else if (mode == "CRD") st = {sn, b * b * sc, sh, b * sc, 1, sc};
  else return ctx.unsupported("mode '" + mode + "' is not supported");
  Tensor out;
  CONVFIX_RETURN_IF_ERROR(ops::strided_copy(ctx, x, 0, dims, st, &out));
  ops::keep_quant(x, out);
  ctx.set_output(0, out.reshaped({n, co, h * b, w * b}));
  return Status::OK();
}

Status space_to_depth(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const int64_t b = ctx.attr_int("blocksize", 0);
  CONVFIX_RETURN_IF_ERROR(check_nchw(ctx, x, b));
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  if (h % b != 0 || w % b != 0)
    return ctx.error("spatial size " + std::to_string(h) + "x" + std::to_string(w) + " is not a multiple of blocksize " +
                     std::to_string(b));
  const int64_t sc = h * w, sh = w, sn = c * h * w;
  // Output viewed as [N, b1, b2, C, H/b, W/b].
  std::vector<int64_t> dims = {n, b, b, c, h / b, w / b};
  std::vector<int64_t> st = {sn, sh, 1, sc, b * sh, b};
  Tensor out;
  CONVFIX_RETURN_IF_ERROR(ops::strided_copy(ctx, x, 0, dims, st, &out));
  ops::keep_quant(x, out);
  ctx.set_output(0, out.reshaped({n, c * b * b, h / b, w / b}));
  return Status::OK();
}

}  // namespace

void register_ops_depth_space(OpRegistry& r) {
  r.add({"", "DepthToSpace", depth_to_space});
  r.add({"", "SpaceToDepth", space_to_depth});
}

}  // namespace convfix
