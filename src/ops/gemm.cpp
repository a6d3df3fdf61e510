// Gemm: Y = alpha * op(A) * op(B) + beta * C, op = optional transpose,
// C optional (opset 11+) and unidirectionally broadcast to (M, N).
// Reference kernel for f32/f64; oneDNN sgemm fast path for f32.
#include <string>

#include "ops/kernel_util.h"
#include "ops/nn_backend.h"

namespace convfix {
namespace {

// Computes rows [r0, r1) of Y = alpha * A' * B' (A' is M x K, B' is K x N,
// both given row-major with explicit strides so transposes need no copy).
template <typename T>
void gemm_rows(int64_t r0, int64_t r1, int64_t n, int64_t k, T alpha, const T* a, int64_t a_rs, int64_t a_cs,
               const T* bt, T* y) {
  // bt is B' transposed (N x K, contiguous), so each output is a dot product
  // of two contiguous rows when A is not transposed.
  std::vector<T> arow(static_cast<size_t>(k));
  for (int64_t i = r0; i < r1; ++i) {
    for (int64_t p = 0; p < k; ++p) arow[static_cast<size_t>(p)] = a[i * a_rs + p * a_cs];
    for (int64_t j = 0; j < n; ++j) {
      const T* b = bt + j * k;
      T acc = 0;
      for (int64_t p = 0; p < k; ++p) acc += arow[static_cast<size_t>(p)] * b[p];
      y[i * n + j] = alpha * acc;
    }
  }
}

template <typename T>
void gemm_reference(ThreadPool* pool, bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                    const T* b, T* y) {
  // B' as N x K contiguous.
  std::vector<T> bt(static_cast<size_t>(n * k));
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j) bt[static_cast<size_t>(j * k + p)] = tb ? b[j * k + p] : b[p * n + j];
  const int64_t a_rs = ta ? 1 : k, a_cs = ta ? m : 1;
  parallel_for(pool, m, [&](int64_t s, int64_t e) { gemm_rows<T>(s, e, n, k, alpha, a, a_rs, a_cs, bt.data(), y); },
               std::max<int64_t>(1, 32768 / std::max<int64_t>(1, n * k)));
}

// Y += beta * C with C broadcast from shape cd to (M, N).
template <typename T>
void add_bias(const Tensor& c, T beta, int64_t m, int64_t n, T* y) {
  const std::vector<int64_t>& cd = c.dims();
  const int64_t cm = cd.size() == 2 ? cd[0] : 1;
  const int64_t cn = cd.empty() ? 1 : cd.back();
  const T* pc = c.data<T>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) y[i * n + j] += beta * pc[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
}

Status gemm_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& A = *ctx.input(0);
  const Tensor& B = *ctx.input(1);
  const Tensor* C = ctx.input(2);
  if (A.rank() != 2) return ctx.error("input 0 (A) must have rank 2, got " + dims_to_string(A.dims()));
  if (B.rank() != 2) return ctx.error("input 1 (B) must have rank 2, got " + dims_to_string(B.dims()));
  if (A.dtype() != DType::kF32 && A.dtype() != DType::kF64)
    return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(A.dtype()) +
                           "; Gemm supports f32, f64, f16, bf16");
  for (size_t i = 1; i < 3; ++i)
    if (ctx.input(i) && ctx.input(i)->dtype() != A.dtype())
      return ctx.error("input " + std::to_string(i) + " has element type " + dtype_name(ctx.input(i)->dtype()) +
                       ", input 0 has " + dtype_name(A.dtype()));
  const bool ta = ctx.attr_int("transA", 0) != 0;
  const bool tb = ctx.attr_int("transB", 0) != 0;
  const float alpha = ctx.attr_float("alpha", 1.0f);
  const float beta = ctx.attr_float("beta", 1.0f);
  const int64_t m = ta ? A.dim(1) : A.dim(0);
  const int64_t k = ta ? A.dim(0) : A.dim(1);
  const int64_t kb = tb ? B.dim(1) : B.dim(0);
  const int64_t n = tb ? B.dim(0) : B.dim(1);
  if (k != kb)
    return ctx.error("inner dimensions differ: input 0 (A" + std::string(ta ? "^T" : "") + ") is " +
                     std::to_string(m) + "x" + std::to_string(k) + ", input 1 (B" + (tb ? "^T" : "") + ") is " +
                     std::to_string(kb) + "x" + std::to_string(n));
  if (C) {
    const auto& cd = C->dims();
    bool ok = cd.size() <= 2;
    if (ok && !cd.empty()) ok = cd.back() == 1 || cd.back() == n;
    if (ok && cd.size() == 2) ok = cd[0] == 1 || cd[0] == m;
    if (!ok)
      return ctx.error("input 2 (C) of shape " + dims_to_string(cd) + " cannot be broadcast to " +
                       dims_to_string({m, n}));
  }
  Tensor Y(A.dtype(), {m, n});
  if (A.dtype() == DType::kF64) {
    gemm_reference<double>(ctx.pool(), ta, tb, m, n, k, alpha, A.data<double>(), B.data<double>(), Y.data<double>());
    if (C && beta != 0) add_bias<double>(*C, beta, m, n, Y.data<double>());
    ctx.set_output(0, std::move(Y));
    return Status::OK();
  }
  float* py = Y.data<float>();
  bool done = false;
#ifdef CONVFIX_HAVE_DNNL
  if (ops::fast_kernels_enabled() && m > 0 && n > 0 && k > 0) {
    done = ops::dnnl_gemm(ta, tb, m, n, k, alpha, A.data<float>(), ta ? m : k, B.data<float>(), tb ? k : n, 0.0f,
                          py, n, ops::ctx_threads(ctx));
  }
#endif
  if (!done) gemm_reference<float>(ctx.pool(), ta, tb, m, n, k, alpha, A.data<float>(), B.data<float>(), py);
  if (C && beta != 0) add_bias<float>(*C, beta, m, n, py);
  ctx.set_output(0, std::move(Y));
  return Status::OK();
}

}  // namespace

void register_ops_gemm(OpRegistry& r) { r.add({"", "Gemm", gemm_kernel, FloatCompute::kHalf}); }

}  // namespace convfix
