// Compress: keeps the slices along `axis` (or the elements of the flattened
// input when there is no axis) where the bool condition is true; a shorter
// condition drops the rest. Any dtype.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status compress(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  const Tensor& c = *ctx.input(1);
  if (c.rank() != 1) return ctx.error("input 1 (condition) must be 1-D, got " + dims_to_string(c.dims()));
  const bool has_axis = ctx.has_attr("axis");
  std::vector<int64_t> dims = has_axis ? x.dims() : std::vector<int64_t>{x.numel()};
  int64_t axis = 0;
  if (has_axis) CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", 0), x.rank(), &axis));
  const int64_t dim = dims[static_cast<size_t>(axis)];
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < c.numel(); ++i) {
    if (c.get_f64(i) == 0.0) continue;
    if (i >= dim)
      return ctx.error("input 1 (condition) selects index " + std::to_string(i) + " beyond axis size " + std::to_string(dim));
    keep.push_back(i);
  }
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= dims[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < dims.size(); ++d) inner *= dims[d];
  std::vector<int64_t> od = dims;
  od[static_cast<size_t>(axis)] = static_cast<int64_t>(keep.size());
  Tensor out(x.dtype(), od);
  const int64_t m = static_cast<int64_t>(keep.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < m; ++j)
      ops::copy_elements(x, (o * dim + keep[static_cast<size_t>(j)]) * inner, out, (o * m + j) * inner, inner);
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_compress(OpRegistry& r) { r.add({"", "Compress", compress}); }

}  // namespace convfix
