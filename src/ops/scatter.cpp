// ScatterElements (and its older name Scatter) and ScatterND, with the
// reduction attribute (none/add/mul from opset 16, max/min from 18). Updates
// are applied in index order, so duplicate indices without a reduction keep
// the last update.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

enum class Red { kNone, kAdd, kMul, kMax, kMin };

Status read_reduction(const KernelContext& ctx, Red* r) {
  const std::string s = ctx.attr_string("reduction", "none");
  if (s == "none") *r = Red::kNone;
  else if (s == "add") *r = Red::kAdd;
  else if (s == "mul") *r = Red::kMul;
  else if (s == "max") *r = Red::kMax;
  else if (s == "min") *r = Red::kMin;
  else return ctx.unsupported("reduction '" + s + "' is not supported");
  return Status::OK();
}

template <typename T>
void combine(T& dst, const T& v, Red r) {
  switch (r) {
    case Red::kNone: dst = v; break;
    case Red::kAdd: dst = static_cast<T>(dst + v); break;
    case Red::kMul: dst = static_cast<T>(dst * v); break;
    case Red::kMax: dst = v > dst ? v : dst; break;
    case Red::kMin: dst = v < dst ? v : dst; break;
  }
}

// Without a reduction elements are only moved (any dtype); with one they are
// combined arithmetically (numeric dtypes).
template <typename F>
Status run_typed(const KernelContext& ctx, DType t, Red red, F&& f) {
  if (red == Red::kNone) return ops::dispatch_elements(t, f, ctx);
  return ops::dispatch_numeric(t, f, ctx);
}

Status check_data_updates(const KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(2));
  const Tensor& idx = *ctx.input(1);
  if (idx.dtype() != DType::kI64 && idx.dtype() != DType::kI32)
    return ctx.error("input 1 (indices) must be int32 or int64, got " + std::string(dtype_name(idx.dtype())));
  if (ctx.input(2)->dtype() != ctx.input(0)->dtype())
    return ctx.error(std::string("input 2 (updates) has element type ") + dtype_name(ctx.input(2)->dtype()) +
                     ", data has " + dtype_name(ctx.input(0)->dtype()));
  return Status::OK();
}

Status scatter_elements(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(check_data_updates(ctx));
  const Tensor& x = *ctx.input(0);
  const Tensor& it = *ctx.input(1);
  const Tensor& up = *ctx.input(2);
  Red red = Red::kNone;
  CONVFIX_RETURN_IF_ERROR(read_reduction(ctx, &red));
  const int64_t r = x.rank();
  if (it.dims() != up.dims() || it.rank() != r || r == 0)
    return ctx.error("indices " + dims_to_string(it.dims()) + " and updates " + dims_to_string(up.dims()) +
                     " must have the same shape and the rank of data " + dims_to_string(x.dims()));
  for (int64_t d = 0; d < r; ++d)
    if (it.dim(d) > x.dim(d))
      return ctx.error("indices shape " + dims_to_string(it.dims()) + " exceeds data shape " + dims_to_string(x.dims()));
  int64_t axis = 0;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", 0), r, &axis));
  const auto idx = it.to_i64_vector();
  const auto xs = ops::strides_of(x.dims());
  std::vector<int64_t> dst_off(idx.size());
  std::vector<int64_t> c(static_cast<size_t>(r), 0);
  const int64_t dim = x.dim(axis);
  for (size_t k = 0; k < idx.size(); ++k) {
    int64_t off = 0;
    for (int64_t d = 0; d < r; ++d) {
      int64_t v = c[static_cast<size_t>(d)];
      if (d == axis) {
        v = idx[k];
        if (v < -dim || v >= dim)
          return ctx.error("index " + std::to_string(v) + " is out of range for axis " + std::to_string(axis) +
                           " of size " + std::to_string(dim));
        if (v < 0) v += dim;
      }
      off += v * xs[static_cast<size_t>(d)];
    }
    dst_off[k] = off;
    for (int64_t d = r; d-- > 0;) {
      if (++c[static_cast<size_t>(d)] < it.dim(d)) break;
      c[static_cast<size_t>(d)] = 0;
    }
  }
  Tensor out = x.clone();
  CONVFIX_RETURN_IF_ERROR(run_typed(ctx, x.dtype(), red, [&]<typename T>() {
    T* o = ops::elems<T>(out);
    const T* u = ops::elems<T>(up);
    for (size_t k = 0; k < dst_off.size(); ++k) {
      if constexpr (std::is_arithmetic_v<T>) combine(o[dst_off[k]], u[k], red);
      else o[dst_off[k]] = u[k];
    }
  }));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status scatter_nd(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(check_data_updates(ctx));
  const Tensor& x = *ctx.input(0);
  const Tensor& it = *ctx.input(1);
  const Tensor& up = *ctx.input(2);
  Red red = Red::kNone;
  CONVFIX_RETURN_IF_ERROR(read_reduction(ctx, &red));
  const int64_t r = x.rank(), q = it.rank();
  if (q < 1) return ctx.error("input 1 (indices) must have rank >= 1");
  const int64_t k = it.dims().back();
  if (k < 1 || k > r) return ctx.error("last dim of indices " + dims_to_string(it.dims()) + " must be in [1, " + std::to_string(r) + "]");
  std::vector<int64_t> ud(it.dims().begin(), it.dims().end() - 1);
  ud.insert(ud.end(), x.dims().begin() + k, x.dims().end());
  if (ud != up.dims())
    return ctx.error("updates shape " + dims_to_string(up.dims()) + " should be " + dims_to_string(ud));
  int64_t slice = 1;
  for (int64_t d = k; d < r; ++d) slice *= x.dim(d);
  const auto xs = ops::strides_of(x.dims());
  const auto idx = it.to_i64_vector();
  const int64_t tuples = static_cast<int64_t>(idx.size()) / k;
  std::vector<int64_t> dst_off(static_cast<size_t>(tuples));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = 0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t v = idx[static_cast<size_t>(t * k + j)];
      const int64_t dim = x.dim(j);
      if (v < -dim || v >= dim)
        return ctx.error("index " + std::to_string(v) + " is out of range for axis " + std::to_string(j) + " of size " +
                         std::to_string(dim));
      if (v < 0) v += dim;
      off += v * xs[static_cast<size_t>(j)];
    }
    dst_off[static_cast<size_t>(t)] = off;
  }
  Tensor out = x.clone();
  CONVFIX_RETURN_IF_ERROR(run_typed(ctx, x.dtype(), red, [&]<typename T>() {
    T* o = ops::elems<T>(out);
    const T* u = ops::elems<T>(up);
    for (int64_t t = 0; t < tuples; ++t) {
      T* d = o + dst_off[static_cast<size_t>(t)];
      const T* s = u + t * slice;
      for (int64_t i = 0; i < slice; ++i) {
        if constexpr (std::is_arithmetic_v<T>) combine(d[i], s[i], red);
        else d[i] = s[i];
      }
    }
  }));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_scatter(OpRegistry& r) {
  r.add({"", "ScatterElements", scatter_elements, FloatCompute::kHalf});
  r.add({"", "Scatter", scatter_elements, FloatCompute::kHalf});
  r.add({"", "ScatterND", scatter_nd, FloatCompute::kHalf});
}

}  // namespace convfix
