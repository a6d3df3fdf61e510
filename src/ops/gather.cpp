// Gather, GatherElements and GatherND (negative indices count from the end;
// out-of-range indices are an error naming the index). Any data dtype.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status read_indices(const KernelContext& ctx, size_t i, std::vector<int64_t>* out) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
  const Tensor& t = *ctx.input(i);
  if (t.dtype() != DType::kI64 && t.dtype() != DType::kI32)
    return ctx.error("input " + std::to_string(i) + " (indices) must be int32 or int64, got " + dtype_name(t.dtype()));
  *out = t.to_i64_vector();
  return Status::OK();
}

Status fix_index(const KernelContext& ctx, int64_t* idx, int64_t dim, int64_t axis) {
  const int64_t v = *idx;
  if (v < -dim || v >= dim)
    return ctx.error("index " + std::to_string(v) + " is out of range for axis " + std::to_string(axis) + " of size " +
                     std::to_string(dim));
  if (v < 0) *idx = v + dim;
  return Status::OK();
}

Status gather(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  std::vector<int64_t> idx;
  CONVFIX_RETURN_IF_ERROR(read_indices(ctx, 1, &idx));
  const Tensor& it = *ctx.input(1);
  if (x.rank() == 0) return ctx.error("input 0 is a scalar; Gather needs rank >= 1");
  int64_t axis = 0;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", 0), x.rank(), &axis));
  const int64_t dim = x.dim(axis);
  for (auto& v : idx) CONVFIX_RETURN_IF_ERROR(fix_index(ctx, &v, dim, axis));
  std::vector<int64_t> od(x.dims().begin(), x.dims().begin() + axis);
  od.insert(od.end(), it.dims().begin(), it.dims().end());
  od.insert(od.end(), x.dims().begin() + axis + 1, x.dims().end());
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  const int64_t m = static_cast<int64_t>(idx.size());
  Tensor out(x.dtype(), od);
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_elements(x.dtype(), [&]<typename T>() {
    const T* src = ops::elems<T>(x);
    T* dst = ops::elems<T>(out);
    parallel_for(ctx.pool(), outer * m, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        const int64_t o = k / m, j = k % m;
        const T* s = src + (o * dim + idx[static_cast<size_t>(j)]) * inner;
        T* d = dst + k * inner;
        for (int64_t i = 0; i < inner; ++i) d[i] = s[i];
      }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner)));
  }, ctx));
  ops::keep_quant(x, out);
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status gather_elements(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  std::vector<int64_t> idx;
  CONVFIX_RETURN_IF_ERROR(read_indices(ctx, 1, &idx));
  const Tensor& it = *ctx.input(1);
  if (it.rank() != x.rank() || x.rank() == 0)
    return ctx.error("indices shape " + dims_to_string(it.dims()) + " must have the rank of data shape " +
                     dims_to_string(x.dims()));
  int64_t axis = 0;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", 0), x.rank(), &axis));
  const auto xs = ops::strides_of(x.dims());
  const auto& id = it.dims();
  const int64_t r = x.rank();
  for (int64_t d = 0; d < r; ++d)
    if (d != axis && id[static_cast<size_t>(d)] > x.dim(d))
      return ctx.error("indices shape " + dims_to_string(id) + " exceeds data shape " + dims_to_string(x.dims()) +
                       " on axis " + std::to_string(d));
  Tensor out(x.dtype(), id);
  Status bad;
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_elements(x.dtype(), [&]<typename T>() {
    const T* src = ops::elems<T>(x);
    T* dst = ops::elems<T>(out);
    std::vector<int64_t> c(static_cast<size_t>(r), 0);
    for (int64_t k = 0; k < it.numel(); ++k) {
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d) {
        int64_t v = c[static_cast<size_t>(d)];
        if (d == axis) {
          v = idx[static_cast<size_t>(k)];
          Status st = fix_index(ctx, &v, x.dim(d), axis);
          if (!st.ok()) { bad = st; return; }
        }
        off += v * xs[static_cast<size_t>(d)];
      }
      dst[k] = src[off];
      for (int64_t d = r; d-- > 0;) {
        if (++c[static_cast<size_t>(d)] < id[static_cast<size_t>(d)]) break;
        c[static_cast<size_t>(d)] = 0;
      }
    }
  }, ctx));
  CONVFIX_RETURN_IF_ERROR(bad);
  ops::keep_quant(x, out);
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status gather_nd(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  std::vector<int64_t> idx;
  CONVFIX_RETURN_IF_ERROR(read_indices(ctx, 1, &idx));
  const Tensor& it = *ctx.input(1);
  const int64_t b = ctx.attr_int("batch_dims", 0);
  const int64_t r = x.rank(), q = it.rank();
  if (q < 1 || b < 0 || b >= std::min(r, q))
    return ctx.error("batch_dims " + std::to_string(b) + " does not fit data " + dims_to_string(x.dims()) +
                     " and indices " + dims_to_string(it.dims()));
  const int64_t k = it.dims().back();
  if (k < 1 || k > r - b)
    return ctx.error("last dim of indices " + dims_to_string(it.dims()) + " must be in [1, " + std::to_string(r - b) +
                     "] for data " + dims_to_string(x.dims()));
  for (int64_t d = 0; d < b; ++d)
    if (x.dim(d) != it.dim(d))
      return ctx.error("batch dims of data " + dims_to_string(x.dims()) + " and indices " + dims_to_string(it.dims()) +
                       " differ");
  std::vector<int64_t> od(it.dims().begin(), it.dims().end() - 1);
  od.insert(od.end(), x.dims().begin() + b + k, x.dims().end());
  int64_t batch = 1, slice = 1;
  for (int64_t d = 0; d < b; ++d) batch *= x.dim(d);
  for (int64_t d = b + k; d < r; ++d) slice *= x.dim(d);
  const auto xs = ops::strides_of(x.dims());
  const int64_t batch_stride = b > 0 ? xs[static_cast<size_t>(b - 1)] : x.numel();
  const int64_t tuples = k ? static_cast<int64_t>(idx.size()) / k : 0;
  const int64_t per_batch = batch ? tuples / batch : 0;
  std::vector<int64_t> src_off(static_cast<size_t>(tuples));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = (t / std::max<int64_t>(per_batch, 1)) * batch_stride;
    for (int64_t j = 0; j < k; ++j) {
      int64_t v = idx[static_cast<size_t>(t * k + j)];
      CONVFIX_RETURN_IF_ERROR(fix_index(ctx, &v, x.dim(b + j), b + j));
      off += v * xs[static_cast<size_t>(b + j)];
    }
    src_off[static_cast<size_t>(t)] = off;
  }
  Tensor out(x.dtype(), od);
  for (int64_t t = 0; t < tuples; ++t) ops::copy_elements(x, src_off[static_cast<size_t>(t)], out, t * slice, slice);
  ops::keep_quant(x, out);
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_gather(OpRegistry& r) {
  r.add({"", "Gather", gather});
  r.add({"", "GatherElements", gather_elements});
  r.add({"", "GatherND", gather_nd});
}

}  // namespace convfix
