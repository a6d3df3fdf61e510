// BatchNormalization, opsets 1..15.
// Inference: y = (x - mean) / sqrt(var + epsilon) * scale + B per channel,
// computed as x * a + b with a = scale / sqrt(var + eps), b = B - mean * a.
// Opsets < 9 with spatial = 0 take per-activation parameters of shape
// [C, D1, ...]. Training mode (opset 14+, training_mode = 1) normalizes with
// the batch statistics and writes the running mean and variance outputs.
// The training outputs of opsets < 14 (saved mean / variance) are not
// implemented.
#include <cmath>
#include <string>

#include "ops/kernel_util.h"

namespace convfix {
namespace {

template <typename T>
void apply_affine(ThreadPool* pool, const T* x, T* y, int64_t n, int64_t c, int64_t inner, const std::vector<double>& a,
                  const std::vector<double>& b, bool per_activation) {
  parallel_for(pool, n * c, [&](int64_t s, int64_t e) {
    for (int64_t nc = s; nc < e; ++nc) {
      const int64_t ch = nc % c;
      const T* xp = x + nc * inner;
      T* yp = y + nc * inner;
      if (per_activation) {
        const double* ap = a.data() + ch * inner;
        const double* bp = b.data() + ch * inner;
        for (int64_t i = 0; i < inner; ++i) yp[i] = static_cast<T>(xp[i] * ap[i] + bp[i]);
      } else {
        const T av = static_cast<T>(a[static_cast<size_t>(ch)]), bv = static_cast<T>(b[static_cast<size_t>(ch)]);
        for (int64_t i = 0; i < inner; ++i) yp[i] = xp[i] * av + bv;
      }
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner)));
}

template <typename T>
Status batch_norm_typed(KernelContext& ctx) {
  const Tensor& X = *ctx.input(0);
  const int64_t n = X.rank() >= 1 ? X.dim(0) : 1;
  const int64_t c = X.rank() >= 2 ? X.dim(1) : 1;
  const int64_t inner = c == 0 || n == 0 ? 0 : X.numel() / (n * c);
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  const bool training = ctx.opset() >= 14 && ctx.attr_int("training_mode", 0) != 0;
  if (ctx.opset() < 14)
    for (size_t k = 1; k < ctx.num_outputs(); ++k)
      if (ctx.wants_output(k))
        return ctx.unsupported("output " + std::to_string(k) +
                               " (training statistics of opset < 14) is not implemented; only inference is supported");
  const bool spatial = ctx.opset() >= 9 || ctx.attr_int("spatial", 1) != 0;
  const int64_t pcount = spatial || training ? c : c * inner;
  const char* names[] = {"X", "scale", "B", "mean", "var"};
  for (size_t k = 1; k < 5; ++k) {
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(k));
    const Tensor& t = *ctx.input(k);
    if (t.dtype() != X.dtype())
      return ctx.error("input " + std::to_string(k) + " (" + names[k] + ") has element type " + dtype_name(t.dtype()) +
                       ", input 0 has " + dtype_name(X.dtype()));
    if (t.numel() != pcount)
      return ctx.error("input " + std::to_string(k) + " (" + names[k] + ") has shape " + dims_to_string(t.dims()) +
                       ", expected " + std::to_string(pcount) + " values for input 0 of shape " + dims_to_string(X.dims()));
  }
  const T* scale = ctx.input(1)->data<T>();
  const T* bias = ctx.input(2)->data<T>();
  const T* mean_in = ctx.input(3)->data<T>();
  const T* var_in = ctx.input(4)->data<T>();
  std::vector<double> mean(static_cast<size_t>(pcount)), var(static_cast<size_t>(pcount));
  for (int64_t i = 0; i < pcount; ++i) {
    mean[static_cast<size_t>(i)] = mean_in[i];
    var[static_cast<size_t>(i)] = var_in[i];
  }
  const T* x = X.data<T>();
  if (training) {
    // Batch statistics per channel (population variance).
    const double count = static_cast<double>(n * inner);
    for (int64_t ch = 0; ch < c; ++ch) {
      double s = 0, ss = 0;
      for (int64_t b = 0; b < n; ++b)
        for (int64_t i = 0; i < inner; ++i) s += x[(b * c + ch) * inner + i];
      const double m = count > 0 ? s / count : 0;
      for (int64_t b = 0; b < n; ++b)
        for (int64_t i = 0; i < inner; ++i) {
          const double d = x[(b * c + ch) * inner + i] - m;
          ss += d * d;
        }
      mean[static_cast<size_t>(ch)] = m;
      var[static_cast<size_t>(ch)] = count > 0 ? ss / count : 0;
    }
    const double momentum = ctx.attr_float("momentum", 0.9f);
    for (size_t k = 1; k < 3; ++k) {
      if (!ctx.wants_output(k)) continue;
      Tensor r(X.dtype(), {c});
      const T* old = k == 1 ? mean_in : var_in;
      const std::vector<double>& cur = k == 1 ? mean : var;
      for (int64_t ch = 0; ch < c; ++ch)
        r.data<T>()[ch] = static_cast<T>(old[ch] * momentum + cur[static_cast<size_t>(ch)] * (1 - momentum));
      ctx.set_output(k, std::move(r));
    }
  }
  std::vector<double> a(static_cast<size_t>(pcount)), b(static_cast<size_t>(pcount));
  for (int64_t i = 0; i < pcount; ++i) {
    const size_t u = static_cast<size_t>(i);
    a[u] = static_cast<double>(scale[i]) / std::sqrt(var[u] + eps);
    b[u] = static_cast<double>(bias[i]) - mean[u] * a[u];
  }
  Tensor Y = Tensor::uninitialized(X.dtype(), X.dims());
  apply_affine<T>(ctx.pool(), x, Y.data<T>(), n, c, inner, a, b, pcount != c);
  ctx.set_output(0, std::move(Y));
  return Status::OK();
}

Status batch_norm_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const DType t = ctx.input(0)->dtype();
  if (ctx.input(0)->rank() < 2)
    return ctx.error("input 0 has shape " + dims_to_string(ctx.input(0)->dims()) + ", expected rank >= 2 (N, C, ...)");
  if (t == DType::kF32) return batch_norm_typed<float>(ctx);
  if (t == DType::kF64) return batch_norm_typed<double>(ctx);
  return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(t) + "; BatchNormalization supports f32, f64, f16, bf16");
}

}  // namespace

void register_ops_batch_norm(OpRegistry& r) {
  r.add({"", "BatchNormalization", batch_norm_kernel, FloatCompute::kHalf});
}

}  // namespace convfix
