// Internal: choosing between the reference kernels and the oneDNN fast path
// of the neural-network ops (Conv, Gemm, MatMul), and small oneDNN helpers.
//
// Contract:
// - fast_kernels_enabled() is false when convfix was built without oneDNN,
//   when the environment variable CONVFIX_REFERENCE_KERNELS is set to a
//   value other than "" or "0" (read once), or while a test has forced the
//   reference kernels with set_kernel_mode(KernelMode::kReference).
// - The fast path and the reference kernel of an op agree within float
//   rounding (tests/unit/ops_nn_test.cpp checks max|fast-ref| <= 1e-4 max|ref|).
// - dnnl_set_threads(n) makes the next oneDNN calls on this thread use n
//   OpenMP threads (oneDNN in Debian is the OpenMP build); kernels call it
//   with the executor's thread count before every oneDNN call.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "convfix/op_registry.h"
#include "convfix/thread_pool.h"

#ifdef CONVFIX_HAVE_DNNL
#include <dnnl.hpp>
#endif

namespace convfix::ops {

enum class KernelMode { kFromEnvironment, kReference, kFast };

// Process-wide override (tests); kFromEnvironment restores the default.
void set_kernel_mode(KernelMode m);
bool fast_kernels_enabled();

// The executor's thread count (1 without a pool).
inline int ctx_threads(const KernelContext& ctx) { return ctx.pool() ? ctx.pool()->threads() : 1; }

// A cheap key for caches in ctx.state(): the element pointer of a tensor
// whose buffer the cache keeps alive (so an equal pointer means equal data,
// tensors being immutable) plus its dims.
struct TensorKey {
  const void* data = nullptr;
  std::vector<int64_t> dims;
  bool operator==(const TensorKey&) const = default;
};

#ifdef CONVFIX_HAVE_DNNL
dnnl::engine& dnnl_engine();
// A 64-byte aligned buffer of at least `bytes`, one per slot and thread,
// reused by every call (for reordered activations); valid until the next
// call with the same slot on this thread.
void* dnnl_scratch(int slot, size_t bytes);
void dnnl_set_threads(int n);
// Row-major C = alpha * op(A) * op(B) + beta * C with oneDNN's sgemm.
// Returns false when oneDNN reports an error (the caller falls back).
bool dnnl_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc, int threads);
#endif

}  // namespace convfix::ops
