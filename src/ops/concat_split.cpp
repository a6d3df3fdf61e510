// Concat and Split (split sizes as attribute before opset 13, as input from
// 13 on; num_outputs from opset 18). Any dtype.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status concat(KernelContext& ctx) {
  std::vector<const Tensor*> ins;
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) ins.push_back(ctx.input(i));
  if (ins.empty()) return ctx.error("needs at least one input");
  const Tensor& first = *ins[0];
  const int64_t r = first.rank();
  if (r == 0) return ctx.error("input 0 is a scalar; Concat needs rank >= 1");
  int64_t axis = 0;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", ctx.opset() < 4 ? 1 : 0), r, &axis));
  std::vector<int64_t> od = first.dims();
  od[static_cast<size_t>(axis)] = 0;
  for (size_t k = 0; k < ins.size(); ++k) {
    const Tensor& t = *ins[k];
    bool fits = t.rank() == r && t.dtype() == first.dtype();
    for (int64_t d = 0; fits && d < r; ++d) fits = d == axis || t.dim(d) == first.dim(d);
    if (!fits)
      return ctx.error("input " + std::to_string(k) + " (" + dtype_name(t.dtype()) + " " + dims_to_string(t.dims()) +
                       ") does not fit input 0 (" + dtype_name(first.dtype()) + " " + dims_to_string(first.dims()) +
                       ") on axis " + std::to_string(axis));
    od[static_cast<size_t>(axis)] += t.dim(axis);
  }
  Tensor out = Tensor::uninitialized(first.dtype(), od);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= od[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < r; ++d) inner *= od[static_cast<size_t>(d)];
  const int64_t out_row = od[static_cast<size_t>(axis)] * inner;
  int64_t col = 0;
  for (const Tensor* t : ins) {
    const int64_t chunk = t->dim(axis) * inner;
    for (int64_t o = 0; o < outer; ++o) ops::copy_elements(*t, o * chunk, out, o * out_row + col, chunk);
    col += chunk;
  }
  bool same_quant = true;
  for (const Tensor* t : ins) same_quant &= t->quant() == first.quant();
  if (same_quant) ops::keep_quant(first, out);
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status split(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  int64_t axis = 0;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", 0), x.rank(), &axis));
  const int64_t dim = x.dim(axis);
  const int64_t n_out = static_cast<int64_t>(ctx.num_outputs());
  std::vector<int64_t> sizes;
  if (ctx.has_input(1)) {
    CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 1, "split", &sizes));
  } else if (ctx.opset() < 13 && ctx.has_attr("split")) {
    sizes = ctx.attr_ints("split");
  } else {
    int64_t parts = n_out;
    if (ctx.opset() >= 18 && ctx.has_attr("num_outputs")) parts = ctx.attr_int("num_outputs", n_out);
    if (parts <= 0) return ctx.error("num_outputs must be positive");
    if (dim % parts != 0 && ctx.opset() < 18)
      return ctx.error("axis " + std::to_string(axis) + " of size " + std::to_string(dim) +
                       " does not split into " + std::to_string(parts) + " equal parts");
    const int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t i = 0; i < parts; ++i) sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
  }
  if (static_cast<int64_t>(sizes.size()) != n_out)
    return ctx.error("split has " + std::to_string(sizes.size()) + " sizes " + dims_to_string(sizes) + " but the node has " +
                     std::to_string(n_out) + " outputs");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) return ctx.error("split sizes " + dims_to_string(sizes) + " contain a negative size");
    total += s;
  }
  if (total != dim)
    return ctx.error("split sizes " + dims_to_string(sizes) + " do not add up to " + std::to_string(dim) + " (axis " +
                     std::to_string(axis) + " of " + dims_to_string(x.dims()) + ")");
  const auto st = ops::strides_of(x.dims());
  int64_t start = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    std::vector<int64_t> od = x.dims();
    od[static_cast<size_t>(axis)] = sizes[k];
    if (ctx.wants_output(k)) {
      Tensor out;
      CONVFIX_RETURN_IF_ERROR(ops::strided_copy(ctx, x, start * st[static_cast<size_t>(axis)], od, st, &out));
      ops::keep_quant(x, out);
      ctx.set_output(k, std::move(out));
    }
    start += sizes[k];
  }
  return Status::OK();
}

}  // namespace

void register_ops_concat_split(OpRegistry& r) {
  // Along axis 1, nChw16c inputs (C % 16 == 0 each) concatenate with the
  // same copies as plain ones: per image, each input is one contiguous run.
  OpDef c{"", "Concat", concat};
  c.blocked = BlockedLayout::kChannelConcat;
  r.add(std::move(c));
  r.add({"", "Split", split});
}

}  // namespace convfix
