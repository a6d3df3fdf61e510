// Plain <-> nChw16c conversions (convfix/layout.h): per (image, channel
// block, row), 16 plain rows of W floats are interleaved into (or out of)
// one blocked row of W*16 floats.
#include "convfix/layout.h"

namespace convfix {

namespace {
constexpr int64_t kBlock = 16;

// to_blocked when `blocked_out` is true, else to_plain; src and dst have
// N*C*H*W floats.
void convert(const float* src, float* dst, int64_t n, int64_t c, int64_t h, int64_t w, bool blocked_out,
             ThreadPool* pool) {
  const int64_t cb = c / kBlock;
  parallel_for(pool, n * cb * h, [&](int64_t s, int64_t e) {
    for (int64_t job = s; job < e; ++job) {
      const int64_t y = job % h, b = (job / h) % cb, img = job / (h * cb);
      float* blocked_row = nullptr;
      const float* cblocked_row = nullptr;
      const int64_t boff = ((img * cb + b) * h + y) * w * kBlock;
      const int64_t poff = ((img * c + b * kBlock) * h + y) * w;  // channel b*16, row y
      if (blocked_out) {
        blocked_row = dst + boff;
        for (int64_t l = 0; l < kBlock; ++l) {
          const float* prow = src + poff + l * h * w;
          for (int64_t x = 0; x < w; ++x) blocked_row[x * kBlock + l] = prow[x];
        }
      } else {
        cblocked_row = src + boff;
        for (int64_t l = 0; l < kBlock; ++l) {
          float* prow = dst + poff + l * h * w;
          for (int64_t x = 0; x < w; ++x) prow[x] = cblocked_row[x * kBlock + l];
        }
      }
    }
  }, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, w * kBlock)));
}
}  // namespace

bool can_block(const Tensor& t) {
  if (t.dtype() != DType::kF32 || t.rank() != 4 || t.layout() != MemoryLayout::kPlain) return false;
  if (t.dim(1) % kBlock != 0) return false;
  for (int64_t d : t.dims())
    if (d <= 0) return false;
  return true;
}

Tensor to_blocked(const Tensor& t, ThreadPool* pool) {
  Tensor out = Tensor::uninitialized(DType::kF32, t.dims()).with_layout(MemoryLayout::kNChw16c);
  convert(t.data<float>(), out.data<float>(), t.dim(0), t.dim(1), t.dim(2), t.dim(3), true, pool);
  out.set_quant(t.quant());
  return out;
}

Tensor to_plain(const Tensor& t, ThreadPool* pool) {
  if (t.layout() == MemoryLayout::kPlain) return t;
  Tensor out = Tensor::uninitialized(DType::kF32, t.dims());
  convert(t.data<float>(), out.data<float>(), t.dim(0), t.dim(1), t.dim(2), t.dim(3), false, pool);
  out.set_quant(t.quant());
  return out;
}

}  // namespace convfix
