// LayerNormalization (opset 17): normalizes over the axes [axis, rank):
//   mean = E[x], inv_std = 1 / sqrt(E[(x - mean)^2] + epsilon),
//   y = (x - mean) * inv_std * Scale + B,
// Scale and the optional B broadcast (numpy rules) to X.shape[axis:].
// The optional outputs Mean and InvStdDev have shape X.shape[:axis] followed
// by ones, in float (stash_type 1; statistics accumulated in double).
#include <cmath>
#include <string>

#include "ops/kernel_util.h"

namespace convfix {
namespace {

// Expands a parameter to `inner` values following X.shape[axis:].
Status expand_param(const KernelContext& ctx, size_t k, const std::vector<int64_t>& norm_dims, std::vector<double>* out) {
  const Tensor& t = *ctx.input(k);
  std::vector<int64_t> bd;
  if (!ops::broadcast_dims(norm_dims, t.dims(), &bd) || bd != norm_dims)
    return ctx.error("input " + std::to_string(k) + " has shape " + dims_to_string(t.dims()) +
                     ", which does not broadcast to the normalized shape " + dims_to_string(norm_dims));
  const int64_t inner = num_elements(norm_dims);
  out->resize(static_cast<size_t>(inner));
  ops::BroadcastIndexer idx(norm_dims, {t.dims()});
  for (int64_t i = 0; i < inner; ++i) (*out)[static_cast<size_t>(i)] = t.get_f64(idx.offset(0, i));
  return Status::OK();
}

template <typename T>
void layer_norm(ThreadPool* pool, const T* x, T* y, int64_t outer, int64_t inner, const std::vector<double>& scale,
                const std::vector<double>* bias, double eps, float* mean_out, float* inv_out) {
  parallel_for(pool, outer, [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      const T* xp = x + r * inner;
      T* yp = y + r * inner;
      double sum = 0;
      for (int64_t i = 0; i < inner; ++i) sum += xp[i];
      const double mean = inner ? sum / static_cast<double>(inner) : 0;
      double ss = 0;
      for (int64_t i = 0; i < inner; ++i) ss += (xp[i] - mean) * (xp[i] - mean);
      const double inv = 1.0 / std::sqrt((inner ? ss / static_cast<double>(inner) : 0) + eps);
      for (int64_t i = 0; i < inner; ++i) {
        const size_t u = static_cast<size_t>(i);
        yp[i] = static_cast<T>((xp[i] - mean) * inv * scale[u] + (bias ? (*bias)[u] : 0.0));
      }
      if (mean_out) mean_out[r] = static_cast<float>(mean);
      if (inv_out) inv_out[r] = static_cast<float>(inv);
    }
  }, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, inner)));
}

Status layer_norm_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& X = *ctx.input(0);
  if (X.dtype() != DType::kF32 && X.dtype() != DType::kF64)
    return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(X.dtype()) +
                           "; LayerNormalization supports f32, f64, f16, bf16");
  if (X.rank() < 1) return ctx.error("input 0 is a scalar; LayerNormalization needs rank >= 1");
  const int64_t stash = ctx.attr_int("stash_type", 1);
  if (stash != 1) return ctx.unsupported("stash_type " + std::to_string(stash) + " is not supported (only 1, float)");
  int64_t axis = 0;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", -1), X.rank(), &axis));
  const std::vector<int64_t> norm_dims(X.dims().begin() + axis, X.dims().end());
  const int64_t inner = num_elements(norm_dims);
  const int64_t outer = inner ? X.numel() / inner : 0;
  std::vector<double> scale, bias;
  CONVFIX_RETURN_IF_ERROR(expand_param(ctx, 1, norm_dims, &scale));
  if (ctx.has_input(2)) CONVFIX_RETURN_IF_ERROR(expand_param(ctx, 2, norm_dims, &bias));
  std::vector<int64_t> stat_dims(X.dims().begin(), X.dims().begin() + axis);
  stat_dims.resize(static_cast<size_t>(X.rank()), 1);
  Tensor Y(X.dtype(), X.dims());
  Tensor M = ctx.wants_output(1) ? Tensor(DType::kF32, stat_dims) : Tensor();
  Tensor I = ctx.wants_output(2) ? Tensor(DType::kF32, stat_dims) : Tensor();
  float* pm = M.empty() ? nullptr : M.data<float>();
  float* pi = I.empty() ? nullptr : I.data<float>();
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const std::vector<double>* pb = ctx.has_input(2) ? &bias : nullptr;
  if (X.dtype() == DType::kF32) layer_norm<float>(ctx.pool(), X.data<float>(), Y.data<float>(), outer, inner, scale, pb, eps, pm, pi);
  else layer_norm<double>(ctx.pool(), X.data<double>(), Y.data<double>(), outer, inner, scale, pb, eps, pm, pi);
  ctx.set_output(0, std::move(Y));
  if (pm) ctx.set_output(1, std::move(M));
  if (pi) ctx.set_output(2, std::move(I));
  return Status::OK();
}

}  // namespace

void register_ops_layer_norm(OpRegistry& r) {
  r.add({"", "LayerNormalization", layer_norm_kernel, FloatCompute::kHalf});
}

}  // namespace convfix
