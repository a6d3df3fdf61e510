// MatMul (numpy matmul semantics: 1-D operands, N-D batches with
// broadcasting) and MatMulInteger (u8/i8 operands, optional zero points,
// i32 result). Reference kernels for every numeric type; oneDNN sgemm fast
// path for f32.
#include <string>

#include "ops/kernel_util.h"
#include "ops/nn_backend.h"

namespace convfix {
namespace {

// Shapes of a matmul after numpy's promotion rules.
struct MatMulShape {
  int64_t m = 0, n = 0, k = 0;
  std::vector<int64_t> batch;        // broadcast batch dims
  std::vector<int64_t> a_batch_st;   // per batch dim, stride in whole matrices (0 where broadcast)
  std::vector<int64_t> b_batch_st;
  std::vector<int64_t> out_dims;
};

Status matmul_shape(const KernelContext& ctx, const std::vector<int64_t>& ad, const std::vector<int64_t>& bd,
                    MatMulShape* s) {
  if (ad.empty()) return ctx.error("input 0 is a scalar; MatMul needs rank >= 1");
  if (bd.empty()) return ctx.error("input 1 is a scalar; MatMul needs rank >= 1");
  std::vector<int64_t> a = ad, b = bd;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  s->m = a[a.size() - 2];
  s->k = a.back();
  s->n = b.back();
  if (b[b.size() - 2] != s->k)
    return ctx.error("inner dimensions differ: input 0 has shape " + dims_to_string(ad) + ", input 1 has shape " +
                     dims_to_string(bd));
  const std::vector<int64_t> abatch(a.begin(), a.end() - 2), bbatch(b.begin(), b.end() - 2);
  if (!ops::broadcast_dims(abatch, bbatch, &s->batch))
    return ctx.error("batch dimensions of input 0 " + dims_to_string(ad) + " and input 1 " + dims_to_string(bd) +
                     " cannot be broadcast");
  s->a_batch_st = ops::broadcast_strides(abatch, s->batch);
  s->b_batch_st = ops::broadcast_strides(bbatch, s->batch);
  s->out_dims = s->batch;
  if (ad.size() > 1) s->out_dims.push_back(s->m);
  if (bd.size() > 1) s->out_dims.push_back(s->n);
  return Status::OK();
}

int64_t batch_count(const MatMulShape& s) { return num_elements(s.batch); }

// Matrix offsets (in matrices) of batch index i for A and B.
void batch_offsets(const MatMulShape& s, int64_t i, int64_t* oa, int64_t* ob) {
  *oa = 0;
  *ob = 0;
  for (size_t d = s.batch.size(); d-- > 0;) {
    const int64_t c = i % s.batch[d];
    i /= s.batch[d];
    *oa += c * s.a_batch_st[d];
    *ob += c * s.b_batch_st[d];
  }
}

// One row of C (N values) = A row (K values, contiguous) times B (K x N).
// Acc is the accumulation type, the inputs are converted on the fly (with
// their zero points subtracted for MatMulInteger).
template <typename TA, typename TB, typename Acc>
void matmul_row(const TA* arow, TA a_zero, const TB* b, const TB* b_zero, int64_t k, int64_t n, Acc* crow) {
  for (int64_t j = 0; j < n; ++j) crow[j] = 0;
  for (int64_t p = 0; p < k; ++p) {
    const Acc av = static_cast<Acc>(arow[p]) - static_cast<Acc>(a_zero);
    const TB* brow = b + p * n;
    if (b_zero) {
      for (int64_t j = 0; j < n; ++j) crow[j] += av * (static_cast<Acc>(brow[j]) - static_cast<Acc>(b_zero[j]));
    } else {
      for (int64_t j = 0; j < n; ++j) crow[j] += av * static_cast<Acc>(brow[j]);
    }
  }
}

// Reference: parallel over (batch, row). b_zero: per-column zero points of B
// (nullptr for none); a_zero: per-row zero points of A (nullptr for none).
template <typename TA, typename TB, typename Acc>
void matmul_reference(ThreadPool* pool, const MatMulShape& s, const TA* a, const TB* b, Acc* c, const TA* a_zero,
                      const TB* b_zero) {
  const int64_t rows = batch_count(s) * s.m;
  parallel_for(pool, rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t bi = r / s.m, i = r % s.m;
      int64_t oa, ob;
      batch_offsets(s, bi, &oa, &ob);
      const TA* arow = a + oa * s.m * s.k + i * s.k;
      const TB* bm = b + ob * s.k * s.n;
      matmul_row<TA, TB, Acc>(arow, a_zero ? a_zero[i] : TA(0), bm, b_zero, s.k, s.n, c + r * s.n);
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, s.n * s.k)));
}

#ifdef CONVFIX_HAVE_DNNL
// f32 fast path. When B is the same matrix for every batch entry and A's
// batches are contiguous, all batches form one (batch*M) x K matrix.
bool matmul_fast(const KernelContext& ctx, const MatMulShape& s, const float* a, const float* b, float* c) {
  const int threads = ops::ctx_threads(ctx);
  const int64_t nb = batch_count(s);
  bool b_shared = true, a_dense = true;
  for (size_t d = 0; d < s.batch.size(); ++d) {
    b_shared &= s.b_batch_st[d] == 0 || s.batch[d] == 1;
    a_dense &= s.a_batch_st[d] != 0 || s.batch[d] == 1;
  }
  if (b_shared && a_dense)
    return ops::dnnl_gemm(false, false, nb * s.m, s.n, s.k, 1.0f, a, s.k, b, s.n, 0.0f, c, s.n, threads);
  for (int64_t i = 0; i < nb; ++i) {
    int64_t oa, ob;
    batch_offsets(s, i, &oa, &ob);
    if (!ops::dnnl_gemm(false, false, s.m, s.n, s.k, 1.0f, a + oa * s.m * s.k, s.k, b + ob * s.k * s.n, s.n, 0.0f,
                        c + i * s.m * s.n, s.n, threads))
      return false;
  }
  return true;
}
#endif

Status matmul_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& A = *ctx.input(0);
  const Tensor& B = *ctx.input(1);
  if (A.dtype() != B.dtype())
    return ctx.error(std::string("input 0 has element type ") + dtype_name(A.dtype()) + ", input 1 has " +
                     dtype_name(B.dtype()));
  MatMulShape s;
  CONVFIX_RETURN_IF_ERROR(matmul_shape(ctx, A.dims(), B.dims(), &s));
  Tensor C(A.dtype(), s.out_dims);
  if (C.numel() == 0) {
    ctx.set_output(0, std::move(C));
    return Status::OK();
  }
  if (A.dtype() == DType::kF32) {
    bool done = false;
#ifdef CONVFIX_HAVE_DNNL
    if (ops::fast_kernels_enabled() && s.k > 0)
      done = matmul_fast(ctx, s, A.data<float>(), B.data<float>(), C.data<float>());
#endif
    if (!done)
      matmul_reference<float, float, float>(ctx.pool(), s, A.data<float>(), B.data<float>(), C.data<float>(),
                                            nullptr, nullptr);
    ctx.set_output(0, std::move(C));
    return Status::OK();
  }
  Status st = ops::dispatch_numeric(A.dtype(), [&]<typename T>() {
    matmul_reference<T, T, T>(ctx.pool(), s, A.data<T>(), B.data<T>(), C.data<T>(), nullptr, nullptr);
  }, ctx);
  CONVFIX_RETURN_IF_ERROR(st);
  ctx.set_output(0, std::move(C));
  return Status::OK();
}

// MatMulInteger: (A - a_zero) * (B - b_zero) in int32. a_zero is a scalar
// or per row of A (M values); b_zero a scalar or per column of B (N values).
template <typename TA, typename TB>
Status matmul_integer_typed(KernelContext& ctx, const MatMulShape& s, Tensor* C) {
  const Tensor& A = *ctx.input(0);
  const Tensor& B = *ctx.input(1);
  std::vector<TA> az(static_cast<size_t>(s.m), TA(0));
  std::vector<TB> bz(static_cast<size_t>(s.n), TB(0));
  if (const Tensor* z = ctx.input(2)) {
    if (z->numel() != 1 && z->numel() != s.m)
      return ctx.error("input 2 (a_zero_point) has " + std::to_string(z->numel()) + " values, expected 1 or " +
                       std::to_string(s.m));
    for (int64_t i = 0; i < s.m; ++i) az[static_cast<size_t>(i)] = z->data<TA>()[z->numel() == 1 ? 0 : i];
  }
  if (const Tensor* z = ctx.input(3)) {
    if (z->numel() != 1 && z->numel() != s.n)
      return ctx.error("input 3 (b_zero_point) has " + std::to_string(z->numel()) + " values, expected 1 or " +
                       std::to_string(s.n));
    for (int64_t j = 0; j < s.n; ++j) bz[static_cast<size_t>(j)] = z->data<TB>()[z->numel() == 1 ? 0 : j];
  }
  matmul_reference<TA, TB, int32_t>(ctx.pool(), s, A.data<TA>(), B.data<TB>(), C->data<int32_t>(), az.data(),
                                    bz.data());
  return Status::OK();
}

Status matmul_integer_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& A = *ctx.input(0);
  const Tensor& B = *ctx.input(1);
  for (size_t i = 0; i < 4; ++i) {
    const Tensor* t = ctx.input(i);
    if (t && t->dtype() != DType::kU8 && t->dtype() != DType::kI8)
      return ctx.unsupported("input " + std::to_string(i) + " has element type " + dtype_name(t->dtype()) +
                             ", expected u8 or i8");
  }
  if (ctx.input(2) && ctx.input(2)->dtype() != A.dtype())
    return ctx.error("input 2 (a_zero_point) must have the element type of input 0");
  if (ctx.input(3) && ctx.input(3)->dtype() != B.dtype())
    return ctx.error("input 3 (b_zero_point) must have the element type of input 1");
  MatMulShape s;
  CONVFIX_RETURN_IF_ERROR(matmul_shape(ctx, A.dims(), B.dims(), &s));
  Tensor C(DType::kI32, s.out_dims);
  const bool au = A.dtype() == DType::kU8, bu = B.dtype() == DType::kU8;
  Status st = au ? (bu ? matmul_integer_typed<uint8_t, uint8_t>(ctx, s, &C) : matmul_integer_typed<uint8_t, int8_t>(ctx, s, &C))
                 : (bu ? matmul_integer_typed<int8_t, uint8_t>(ctx, s, &C) : matmul_integer_typed<int8_t, int8_t>(ctx, s, &C));
  CONVFIX_RETURN_IF_ERROR(st);
  ctx.set_output(0, std::move(C));
  return Status::OK();
}

}  // namespace

void register_ops_matmul(OpRegistry& r) {
  r.add({"", "MatMul", matmul_kernel, FloatCompute::kHalf});
  r.add({"", "MatMulInteger", matmul_integer_kernel, FloatCompute::kNone});
}

}  // namespace convfix
