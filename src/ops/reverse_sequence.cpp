// ReverseSequence: reverses the first sequence_lens[b] steps along
// time_axis for every batch entry b along batch_axis (axes 0 and 1).
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status reverse_sequence(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  std::vector<int64_t> lens;
  CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 1, "sequence_lens", &lens));
  if (x.rank() < 2) return ctx.error("input 0 must have rank >= 2, got " + dims_to_string(x.dims()));
  const int64_t ta = ctx.attr_int("time_axis", 0), ba = ctx.attr_int("batch_axis", 1);
  if (!((ta == 0 && ba == 1) || (ta == 1 && ba == 0)))
    return ctx.error("time_axis and batch_axis must be 0 and 1 (either order), got " + std::to_string(ta) + " and " +
                     std::to_string(ba));
  const int64_t batch = x.dim(ba), steps = x.dim(ta);
  if (static_cast<int64_t>(lens.size()) != batch)
    return ctx.error("input 1 (sequence_lens) has " + std::to_string(lens.size()) + " values for batch size " +
                     std::to_string(batch));
  const auto xs = ops::strides_of(x.dims());
  const int64_t inner = xs[1];
  const int64_t sb = xs[static_cast<size_t>(ba)], st = xs[static_cast<size_t>(ta)];
  Tensor out(x.dtype(), x.dims());
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t len = lens[static_cast<size_t>(b)];
    if (len < 0 || len > steps)
      return ctx.error("sequence_lens[" + std::to_string(b) + "] = " + std::to_string(len) + " is out of range [0, " +
                       std::to_string(steps) + "]");
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t src_t = t < len ? len - 1 - t : t;
      ops::copy_elements(x, b * sb + src_t * st, out, b * sb + t * st, inner);
    }
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_reverse_sequence(OpRegistry& r) { r.add({"", "ReverseSequence", reverse_sequence}); }

}  // namespace convfix
