// Kernel-mode switch and oneDNN runtime helpers (see nn_backend.h). This
// file registers no op; the empty register function exists because every
// src/ops/*.cpp file is listed in the generated op registry.
#include <cstdlib>
#include <mutex>

#include "convfix/op_registry.h"
#include "ops/nn_backend.h"

#ifdef CONVFIX_HAVE_DNNL
#include <dlfcn.h>
#endif

namespace convfix {
namespace ops {

namespace {
std::atomic<int> g_mode{static_cast<int>(KernelMode::kFromEnvironment)};

bool env_wants_reference() {
  static const bool v = [] {
    const char* e = std::getenv("CONVFIX_REFERENCE_KERNELS");
    return e && *e && std::string(e) != "0";
  }();
  return v;
}
}  // namespace

void set_kernel_mode(KernelMode m) { g_mode.store(static_cast<int>(m)); }

bool fast_kernels_enabled() {
#ifdef CONVFIX_HAVE_DNNL
  switch (static_cast<KernelMode>(g_mode.load())) {
    case KernelMode::kReference: return false;
    case KernelMode::kFast: return true;
    case KernelMode::kFromEnvironment: break;
  }
  return !env_wants_reference();
#else
  return false;
#endif
}

#ifdef CONVFIX_HAVE_DNNL
dnnl::engine& dnnl_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

void* dnnl_scratch(int slot, size_t bytes) {
  struct Buffer {
    void* p = nullptr;
    size_t size = 0;
    ~Buffer() { std::free(p); }
  };
  thread_local Buffer buffers[4];
  Buffer& b = buffers[slot & 3];
  if (b.size < bytes) {
    std::free(b.p);
    b.size = (bytes + 63) / 64 * 64;
    b.p = std::aligned_alloc(64, b.size);
    if (!b.p) b.size = 0;
  }
  return b.p;
}

void dnnl_set_threads(int n) {
  // libdnnl links libgomp, so the OpenMP runtime is loaded with it; look the
  // setter up at run time rather than requiring -fopenmp for convfix itself.
  using SetFn = void (*)(int);
  static const SetFn set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  thread_local int current = -1;
  if (set && n != current) {
    set(n < 1 ? 1 : n);
    current = n;
  }
}

bool dnnl_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc, int threads) {
  dnnl_set_threads(threads);
  return dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) ==
         dnnl_success;
}
#endif

}  // namespace ops

void register_ops_dnnl_runtime(OpRegistry&) {}

}  // namespace convfix
