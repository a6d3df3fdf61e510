// InstanceNormalization: for every (image, channel) plane,
// y = scale[c] * (x - mean) / sqrt(var + epsilon) + B[c], with the mean and
// the population variance of the plane (accumulated in double).
#include <cmath>
#include <string>

#include "ops/kernel_util.h"

namespace convfix {
namespace {

template <typename T>
void instance_norm(ThreadPool* pool, const T* x, const T* scale, const T* bias, T* y, int64_t n, int64_t c,
                   int64_t inner, double eps) {
  parallel_for(pool, n * c, [&](int64_t s, int64_t e) {
    for (int64_t nc = s; nc < e; ++nc) {
      const int64_t ch = nc % c;
      const T* xp = x + nc * inner;
      T* yp = y + nc * inner;
      double sum = 0;
      for (int64_t i = 0; i < inner; ++i) sum += xp[i];
      const double mean = inner ? sum / static_cast<double>(inner) : 0;
      double ss = 0;
      for (int64_t i = 0; i < inner; ++i) ss += (xp[i] - mean) * (xp[i] - mean);
      const double var = inner ? ss / static_cast<double>(inner) : 0;
      const double a = static_cast<double>(scale[ch]) / std::sqrt(var + eps);
      const double b = static_cast<double>(bias[ch]) - mean * a;
      for (int64_t i = 0; i < inner; ++i) yp[i] = static_cast<T>(xp[i] * a + b);
    }
  });
}

Status instance_norm_kernel(KernelContext& ctx) {
  for (size_t k = 0; k < 3; ++k) CONVFIX_RETURN_IF_ERROR(ctx.require_input(k));
  const Tensor& X = *ctx.input(0);
  if (X.rank() < 3) return ctx.error("input 0 has shape " + dims_to_string(X.dims()) + ", expected rank >= 3 (N, C, D1, ...)");
  const int64_t n = X.dim(0), c = X.dim(1);
  const int64_t inner = n != 0 && c != 0 ? X.numel() / (n * c) : 0;
  const char* names[] = {"input", "scale", "B"};
  for (size_t k = 1; k < 3; ++k) {
    const Tensor& t = *ctx.input(k);
    if (t.dtype() != X.dtype())
      return ctx.error("input " + std::to_string(k) + " (" + names[k] + ") has element type " + dtype_name(t.dtype()) +
                       ", input 0 has " + dtype_name(X.dtype()));
    if (t.rank() != 1 || t.dim(0) != c)
      return ctx.error("input " + std::to_string(k) + " (" + names[k] + ") has shape " + dims_to_string(t.dims()) +
                       ", expected [" + std::to_string(c) + "]");
  }
  const double eps = ctx.attr_float("epsilon", 1e-5f);
  Tensor Y(X.dtype(), X.dims());
  if (X.dtype() == DType::kF32)
    instance_norm<float>(ctx.pool(), X.data<float>(), ctx.input(1)->data<float>(), ctx.input(2)->data<float>(),
                         Y.data<float>(), n, c, inner, eps);
  else if (X.dtype() == DType::kF64)
    instance_norm<double>(ctx.pool(), X.data<double>(), ctx.input(1)->data<double>(), ctx.input(2)->data<double>(),
                          Y.data<double>(), n, c, inner, eps);
  else
    return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(X.dtype()) +
                           "; InstanceNormalization supports f32, f64, f16, bf16");
  ctx.set_output(0, std::move(Y));
  return Status::OK();
}

}  // namespace

void register_ops_instance_norm(OpRegistry& r) {
  r.add({"", "InstanceNormalization", instance_norm_kernel, FloatCompute::kHalf});
}

}  // namespace convfix
