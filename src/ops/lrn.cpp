// LRN (local response normalization across channels):
//   y[c] = x[c] / (bias + alpha / size * sum_{c' in window(c)} x[c']^2) ^ beta,
// window(c) = [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to [0, C).
#include <cmath>
#include <string>

#include "ops/kernel_util.h"

namespace convfix {
namespace {

template <typename T>
void lrn(ThreadPool* pool, const T* x, T* y, int64_t n, int64_t c, int64_t inner, int64_t size, double alpha,
         double beta, double bias) {
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  parallel_for(pool, n * c, [&](int64_t s, int64_t e) {
    for (int64_t nc = s; nc < e; ++nc) {
      const int64_t img = nc / c, ch = nc % c;
      const int64_t c0 = std::max<int64_t>(0, ch - before), c1 = std::min<int64_t>(c - 1, ch + after);
      const T* xp = x + nc * inner;
      T* yp = y + nc * inner;
      for (int64_t i = 0; i < inner; ++i) {
        double sq = 0;
        for (int64_t k = c0; k <= c1; ++k) {
          const double v = x[(img * c + k) * inner + i];
          sq += v * v;
        }
        yp[i] = static_cast<T>(xp[i] / std::pow(bias + alpha / static_cast<double>(size) * sq, beta));
      }
    }
  });
}

Status lrn_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& X = *ctx.input(0);
  if (X.rank() < 2) return ctx.error("input 0 has shape " + dims_to_string(X.dims()) + ", expected rank >= 2 (N, C, ...)");
  if (!ctx.has_attr("size")) return ctx.error("attribute size is required");
  const int64_t size = ctx.attr_int("size", 1);
  if (size < 1) return ctx.error("attribute size must be positive, got " + std::to_string(size));
  const double alpha = ctx.attr_float("alpha", 1e-4f), beta = ctx.attr_float("beta", 0.75f),
               bias = ctx.attr_float("bias", 1.0f);
  const int64_t n = X.dim(0), c = X.dim(1);
  const int64_t inner = n != 0 && c != 0 ? X.numel() / (n * c) : 0;
  Tensor Y(X.dtype(), X.dims());
  if (X.dtype() == DType::kF32) lrn<float>(ctx.pool(), X.data<float>(), Y.data<float>(), n, c, inner, size, alpha, beta, bias);
  else if (X.dtype() == DType::kF64) lrn<double>(ctx.pool(), X.data<double>(), Y.data<double>(), n, c, inner, size, alpha, beta, bias);
  else return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(X.dtype()) + "; LRN supports f32, f64, f16, bf16");
  ctx.set_output(0, std::move(Y));
  return Status::OK();
}

}  // namespace

void register_ops_lrn(OpRegistry& r) { r.add({"", "LRN", lrn_kernel, FloatCompute::kHalf}); }

}  // namespace convfix
