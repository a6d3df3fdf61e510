// Trilu: keeps the upper (upper=1, j - i >= k) or lower (j - i <= k)
// triangle of the last two dims and zeroes the rest. Any dtype.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status trilu(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  if (x.rank() < 2) return ctx.error("input 0 must have rank >= 2, got " + dims_to_string(x.dims()));
  int64_t k = 0;
  if (ctx.has_input(1)) CONVFIX_RETURN_IF_ERROR(ops::read_int_scalar(ctx, 1, "k", &k));
  const bool upper = ctx.attr_int("upper", 1) != 0;
  const int64_t rows = x.dim(x.rank() - 2), cols = x.dim(x.rank() - 1);
  k = std::clamp<int64_t>(k, -rows - 1, cols + 1);  // same result, no overflow in i + k
  const int64_t mats = rows * cols != 0 ? x.numel() / (rows * cols) : 0;
  Tensor out(x.dtype(), x.dims());
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < rows; ++i) {
      // Columns kept in row i: [j0, j1).
      int64_t j0 = 0, j1 = cols;
      if (upper) j0 = std::clamp<int64_t>(i + k, 0, cols);
      else j1 = std::clamp<int64_t>(i + k + 1, 0, cols);
      const int64_t off = (m * rows + i) * cols;
      if (j1 > j0) ops::copy_elements(x, off + j0, out, off + j0, j1 - j0);
    }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_trilu(OpRegistry& r) { r.add({"", "Trilu", trilu}); }

}  // namespace convfix
