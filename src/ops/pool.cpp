// Pooling: MaxPool (with the optional Indices output), AveragePool, LpPool
// and their Global* forms, 1-D to 3-D, with strides, dilations, pads,
// auto_pad and ceil_mode. One reference kernel, parallel over (image,
// channel) planes; windows are clipped to the input so padding never enters
// a max, and enters an average only through the divisor
// (count_include_pad).
#include <cmath>
#include <limits>
#include <string>

#include "convfix/layout.h"
#include "ops/kernel_util.h"
#include "ops/nn_geometry.h"

namespace convfix {
namespace {

enum class PoolKind { kMax, kAverage, kLp };

// Geometry padded to 3 spatial axes (leading axes of size 1).
struct PoolProblem {
  int64_t planes = 0;  // N * C
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1}, pad[3] = {0, 0, 0}, pad_end[3] = {0, 0, 0};
  size_t rank = 0;
  std::vector<int64_t> out_dims;
};

// Kernel taps [lo, hi) of axis a whose input index o*s - pad + k*d is inside.
inline void taps(const PoolProblem& p, int a, int64_t o, int64_t* lo, int64_t* hi) {
  const int64_t start = o * p.stride[a] - p.pad[a];
  const int64_t d = p.dil[a];
  *lo = start >= 0 ? 0 : (-start + d - 1) / d;
  *hi = start >= p.in[a] ? 0 : std::min(p.k[a], (p.in[a] - 1 - start) / d + 1);
  if (*hi < *lo) *hi = *lo;
}

// Window length of axis a used as the count_include_pad divisor: the
// window clipped to the padded input (a ceil_mode window may stick out).
inline int64_t padded_extent(const PoolProblem& p, int a, int64_t o) {
  const int64_t start = o * p.stride[a] - p.pad[a];
  const int64_t end = std::min(start + (p.k[a] - 1) * p.dil[a] + 1, p.in[a] + p.pad_end[a]);
  return (end - start + p.dil[a] - 1) / p.dil[a];
}

Status pool_problem(const KernelContext& ctx, const Tensor& X, bool global, PoolProblem* p) {
  if (X.rank() < 3 || X.rank() > 5)
    return ctx.unsupported("input 0 has shape " + dims_to_string(X.dims()) + "; pooling supports 1-D, 2-D and 3-D (rank 3 to 5)");
  const size_t r = static_cast<size_t>(X.rank() - 2);
  p->rank = r;
  p->planes = X.dim(0) * X.dim(1);
  std::vector<int64_t> in(X.dims().begin() + 2, X.dims().end());
  ops::WindowGeometry g;
  if (global) {
    g.in = in;
    g.kernel = in;
    g.out.assign(r, 1);
    g.stride.assign(r, 1);
    g.dilation.assign(r, 1);
    g.pad_begin.assign(r, 0);
    g.pad_end.assign(r, 0);
  } else {
    if (!ctx.has_attr("kernel_shape")) return ctx.error("attribute kernel_shape is required");
    const bool ceil_mode = ctx.attr_int("ceil_mode", 0) != 0;
    CONVFIX_RETURN_IF_ERROR(ops::window_geometry(ctx, in, ctx.attr_ints("kernel_shape"), ceil_mode, &g));
  }
  const size_t off = 3 - r;
  p->out_dims = {X.dim(0), X.dim(1)};
  for (size_t i = 0; i < r; ++i) {
    p->in[off + i] = in[i];
    p->k[off + i] = g.kernel[i];
    p->out[off + i] = g.out[i];
    p->stride[off + i] = g.stride[i];
    p->dil[off + i] = g.dilation[i];
    p->pad[off + i] = g.pad_begin[i];
    p->pad_end[off + i] = g.pad_end[i];
    p->out_dims.push_back(g.out[i]);
  }
  return Status::OK();
}

// Max pooling of every plane; idx (optional) receives the flat input index
// of each maximum, row-major (storage_order 0) or column-major within the
// plane (storage_order 1), offset by plane * plane_size.
template <typename T>
void max_pool(ThreadPool* pool, const PoolProblem& p, const T* x, T* y, int64_t* idx, bool col_major) {
  const int64_t in_plane = p.in[0] * p.in[1] * p.in[2];
  const int64_t out_plane = p.out[0] * p.out[1] * p.out[2];
  parallel_for(pool, p.planes, [&](int64_t s, int64_t e) {
    for (int64_t pl = s; pl < e; ++pl) {
      const T* in = x + pl * in_plane;
      int64_t o = pl * out_plane;
      for (int64_t od = 0; od < p.out[0]; ++od)
        for (int64_t oh = 0; oh < p.out[1]; ++oh)
          for (int64_t ow = 0; ow < p.out[2]; ++ow, ++o) {
            int64_t d0, d1, h0, h1, w0, w1;
            taps(p, 0, od, &d0, &d1);
            taps(p, 1, oh, &h0, &h1);
            taps(p, 2, ow, &w0, &w1);
            T best = std::numeric_limits<T>::lowest();
            if constexpr (std::numeric_limits<T>::has_infinity) best = -std::numeric_limits<T>::infinity();
            int64_t best_at = -1;
            for (int64_t kd = d0; kd < d1; ++kd) {
              const int64_t id = od * p.stride[0] - p.pad[0] + kd * p.dil[0];
              for (int64_t kh = h0; kh < h1; ++kh) {
                const int64_t ih = oh * p.stride[1] - p.pad[1] + kh * p.dil[1];
                const T* row = in + (id * p.in[1] + ih) * p.in[2] + ow * p.stride[2] - p.pad[2];
                for (int64_t kw = w0; kw < w1; ++kw) {
                  const T v = row[kw * p.dil[2]];
                  if (v > best || best_at < 0) {
                    best = v;
                    best_at = (id * p.in[1] + ih) * p.in[2] + ow * p.stride[2] - p.pad[2] + kw * p.dil[2];
                  }
                }
              }
            }
            y[o] = best;
            if (idx) {
              int64_t at = best_at < 0 ? 0 : best_at;
              if (col_major) {
                const int64_t iw = at % p.in[2], ih = (at / p.in[2]) % p.in[1], id = at / (p.in[2] * p.in[1]);
                at = (iw * p.in[1] + ih) * p.in[0] + id;
              }
              idx[o] = pl * in_plane + at;
            }
          }
    }
  });
}

// Average (power 1) or Lp pooling: y = sum / count, or (sum |x|^p)^(1/p).
template <typename T>
void sum_pool(ThreadPool* pool, const PoolProblem& p, const T* x, T* y, PoolKind kind, bool count_include_pad,
              float lp) {
  const int64_t in_plane = p.in[0] * p.in[1] * p.in[2];
  const int64_t out_plane = p.out[0] * p.out[1] * p.out[2];
  parallel_for(pool, p.planes, [&](int64_t s, int64_t e) {
    for (int64_t pl = s; pl < e; ++pl) {
      const T* in = x + pl * in_plane;
      int64_t o = pl * out_plane;
      for (int64_t od = 0; od < p.out[0]; ++od)
        for (int64_t oh = 0; oh < p.out[1]; ++oh)
          for (int64_t ow = 0; ow < p.out[2]; ++ow, ++o) {
            int64_t d0, d1, h0, h1, w0, w1;
            taps(p, 0, od, &d0, &d1);
            taps(p, 1, oh, &h0, &h1);
            taps(p, 2, ow, &w0, &w1);
            double acc = 0;
            for (int64_t kd = d0; kd < d1; ++kd) {
              const int64_t id = od * p.stride[0] - p.pad[0] + kd * p.dil[0];
              for (int64_t kh = h0; kh < h1; ++kh) {
                const int64_t ih = oh * p.stride[1] - p.pad[1] + kh * p.dil[1];
                const T* row = in + (id * p.in[1] + ih) * p.in[2] + ow * p.stride[2] - p.pad[2];
                for (int64_t kw = w0; kw < w1; ++kw) {
                  const double v = static_cast<double>(row[kw * p.dil[2]]);
                  if (kind == PoolKind::kAverage) acc += v;
                  else if (lp == 2.0f) acc += v * v;
                  else if (lp == 1.0f) acc += std::fabs(v);
                  else acc += std::pow(std::fabs(v), static_cast<double>(lp));
                }
              }
            }
            if (kind == PoolKind::kAverage) {
              int64_t count = (d1 - d0) * (h1 - h0) * (w1 - w0);
              if (count_include_pad) count = padded_extent(p, 0, od) * padded_extent(p, 1, oh) * padded_extent(p, 2, ow);
              y[o] = static_cast<T>(count > 0 ? acc / static_cast<double>(count) : 0.0);
            } else {
              y[o] = static_cast<T>(lp == 2.0f ? std::sqrt(acc) : lp == 1.0f ? acc : std::pow(acc, 1.0 / lp));
            }
          }
    }
  });
}

// Fast 2-D path (f32, dilation 1, no Indices output), same results as the
// kernels above up to the summation order of averages: per output row, the
// taps' input rows are first combined element by element into a padded row
// (contiguous, vectorised), then each output takes max/sum over its kw
// neighbours in that row. Padding cells hold -inf (max) or 0 (sum), so they
// never win a max and add nothing to a sum; the average divisor is the
// product of the per-axis counts, as in sum_pool.
bool fast_pool_applies(const PoolProblem& p, PoolKind kind) {
  return kind != PoolKind::kLp && p.in[0] == 1 && p.k[0] == 1 && p.out[0] == 1 && p.dil[1] == 1 && p.dil[2] == 1;
}

// L = 1: plain planes (one per image and channel). L = 16: nChw16c, one
// plane per image and block of 16 channels, each cell 16 lanes wide; the
// same loops run over the lanes.
template <int L>
void pool2d_fast(ThreadPool* pool, const PoolProblem& p, const float* x, float* y, bool is_max, bool count_include_pad) {
  const int64_t H = p.in[1], W = p.in[2], OH = p.out[1], OW = p.out[2], KW = p.k[2];
  const int64_t SW = p.stride[2], PW = p.pad[2];
  const int64_t planes = p.planes / L;
  // Row cells cover input columns -PW .. (OW-1)*SW - PW + KW - 1.
  const int64_t row_len = std::max<int64_t>((OW - 1) * SW + KW, PW + W);
  const float fill = is_max ? -std::numeric_limits<float>::infinity() : 0.0f;
  std::vector<float> cnt_w(static_cast<size_t>(OW)), cnt_h(static_cast<size_t>(OH));
  if (!is_max) {
    for (int64_t ow = 0; ow < OW; ++ow) {
      int64_t lo, hi;
      taps(p, 2, ow, &lo, &hi);
      const int64_t c = count_include_pad ? padded_extent(p, 2, ow) : hi - lo;
      cnt_w[static_cast<size_t>(ow)] = static_cast<float>(c);
    }
    for (int64_t oh = 0; oh < OH; ++oh) {
      int64_t lo, hi;
      taps(p, 1, oh, &lo, &hi);
      const int64_t c = count_include_pad ? padded_extent(p, 1, oh) : hi - lo;
      cnt_h[static_cast<size_t>(oh)] = static_cast<float>(c);
    }
  }
  parallel_for(pool, planes, [&](int64_t s, int64_t e) {
    std::vector<float> row_buf(static_cast<size_t>(row_len * L) + 16);
    float* row = row_buf.data();
    for (int64_t pl = s; pl < e; ++pl) {
      const float* in = x + pl * H * W * L;
      float* out = y + pl * OH * OW * L;
      for (int64_t oh = 0; oh < OH; ++oh) {
        int64_t h0, h1;
        taps(p, 1, oh, &h0, &h1);
        for (int64_t i = 0; i < row_len * L; ++i) row[i] = fill;
        float* mid = row + PW * L;  // mid[iw*L + l] for input column iw
        const int64_t ih0 = oh * p.stride[1] - p.pad[1];
        if (h1 > h0) {
          const float* r0 = in + (ih0 + h0) * W * L;
          for (int64_t i = 0; i < W * L; ++i) mid[i] = r0[i];
          for (int64_t kh = h0 + 1; kh < h1; ++kh) {
            const float* r = in + (ih0 + kh) * W * L;
            if (is_max)
              for (int64_t i = 0; i < W * L; ++i) mid[i] = std::max(mid[i], r[i]);
            else
              for (int64_t i = 0; i < W * L; ++i) mid[i] += r[i];
          }
        }
        float* o = out + oh * OW * L;
        if (L == 1 && SW == 1) {  // contiguous windows: vectorise over ow
          for (int64_t ow = 0; ow < OW; ++ow) o[ow] = row[ow];
          for (int64_t kw = 1; kw < KW; ++kw) {
            if (is_max)
              for (int64_t ow = 0; ow < OW; ++ow) o[ow] = std::max(o[ow], row[ow + kw]);
            else
              for (int64_t ow = 0; ow < OW; ++ow) o[ow] += row[ow + kw];
          }
        } else {
          for (int64_t ow = 0; ow < OW; ++ow) {
            const float* c = row + ow * SW * L;
            float* ol = o + ow * L;
            for (int l = 0; l < L; ++l) ol[l] = c[l];
            for (int64_t kw = 1; kw < KW; ++kw) {
              const float* ck = c + kw * L;
              if (is_max)
                for (int l = 0; l < L; ++l) ol[l] = std::max(ol[l], ck[l]);
              else
                for (int l = 0; l < L; ++l) ol[l] += ck[l];
            }
          }
        }
        if (!is_max) {
          const float ch = cnt_h[static_cast<size_t>(oh)];
          for (int64_t ow = 0; ow < OW; ++ow) {
            const float cnt = ch * cnt_w[static_cast<size_t>(ow)];
            for (int l = 0; l < L; ++l) o[ow * L + l] = cnt > 0 ? o[ow * L + l] / cnt : 0.0f;
          }
        }
        if (is_max && h1 <= h0)  // no input row under the window: as max_pool
          for (int64_t i = 0; i < OW * L; ++i) o[i] = -std::numeric_limits<float>::infinity();
      }
    }
  }, 1);
}

KernelFn make_pool(PoolKind kind, bool global) {
  return [kind, global](KernelContext& ctx) -> Status {
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
    Tensor X = *ctx.input(0);
    const DType t = X.dtype();
    const bool int_ok = kind == PoolKind::kMax && (t == DType::kI8 || t == DType::kU8);
    if (t != DType::kF32 && t != DType::kF64 && !int_ok)
      return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(t) + ", not supported by " +
                             ctx.node().op_type);
    PoolProblem p;
    CONVFIX_RETURN_IF_ERROR(pool_problem(ctx, X, global, &p));
    // nChw16c input (OpDef::blocked = kNative): pooled in place of layout by
    // the fast path, giving an nChw16c output; otherwise made plain first.
    if (X.layout() == MemoryLayout::kNChw16c) {
      if (kind != PoolKind::kLp && !ctx.wants_output(1) && fast_pool_applies(p, kind)) {
        Tensor Y = Tensor::uninitialized(t, p.out_dims).with_layout(MemoryLayout::kNChw16c);
        pool2d_fast<16>(ctx.pool(), p, X.data<float>(), Y.data<float>(), kind == PoolKind::kMax,
                        ctx.attr_int("count_include_pad", 0) != 0);
        ctx.set_output(0, std::move(Y));
        return Status::OK();
      }
      X = to_plain(X, ctx.pool());
    }
    Tensor Y = Tensor::uninitialized(t, p.out_dims);
    if (kind == PoolKind::kMax) {
      const bool want_idx = ctx.wants_output(1);
      const int64_t order = ctx.attr_int("storage_order", 0);
      if (order != 0 && order != 1) return ctx.error("storage_order must be 0 or 1, got " + std::to_string(order));
      Tensor I = want_idx ? Tensor(DType::kI64, p.out_dims) : Tensor();
      int64_t* pi = want_idx ? I.data<int64_t>() : nullptr;
      switch (t) {
        case DType::kF32:
          if (!want_idx && fast_pool_applies(p, kind))
            pool2d_fast<1>(ctx.pool(), p, X.data<float>(), Y.data<float>(), true, false);
          else
            max_pool<float>(ctx.pool(), p, X.data<float>(), Y.data<float>(), pi, order == 1);
          break;
        case DType::kF64: max_pool<double>(ctx.pool(), p, X.data<double>(), Y.data<double>(), pi, order == 1); break;
        case DType::kI8: max_pool<int8_t>(ctx.pool(), p, X.data<int8_t>(), Y.data<int8_t>(), pi, order == 1); break;
        default: max_pool<uint8_t>(ctx.pool(), p, X.data<uint8_t>(), Y.data<uint8_t>(), pi, order == 1); break;
      }
      if (want_idx) ctx.set_output(1, std::move(I));
    } else {
      const bool cip = ctx.attr_int("count_include_pad", 0) != 0;
      float lp = 2.0f;
      if (kind == PoolKind::kLp) {
        lp = static_cast<float>(ctx.attr_int("p", 2));
        if (ctx.node().attr("p") && ctx.node().attr("p")->kind == Attribute::Kind::kFloat) lp = ctx.attr_float("p", 2.0f);
        if (!(lp > 0)) return ctx.error("attribute p must be positive, got " + std::to_string(lp));
      }
      if (t == DType::kF32 && fast_pool_applies(p, kind))
        pool2d_fast<1>(ctx.pool(), p, X.data<float>(), Y.data<float>(), false, cip);
      else if (t == DType::kF32) sum_pool<float>(ctx.pool(), p, X.data<float>(), Y.data<float>(), kind, cip, lp);
      else sum_pool<double>(ctx.pool(), p, X.data<double>(), Y.data<double>(), kind, cip, lp);
    }
    ctx.set_output(0, std::move(Y));
    return Status::OK();
  };
}

}  // namespace

void register_ops_pool(OpRegistry& r) {
  OpDef mp{"", "MaxPool", make_pool(PoolKind::kMax, false), FloatCompute::kHalf};
  OpDef ap{"", "AveragePool", make_pool(PoolKind::kAverage, false), FloatCompute::kHalf};
  mp.blocked = ap.blocked = BlockedLayout::kNative;
  r.add(std::move(mp));
  r.add(std::move(ap));
  r.add({"", "LpPool", make_pool(PoolKind::kLp, false), FloatCompute::kHalf});
  r.add({"", "GlobalMaxPool", make_pool(PoolKind::kMax, true), FloatCompute::kHalf});
  r.add({"", "GlobalAveragePool", make_pool(PoolKind::kAverage, true), FloatCompute::kHalf});
  r.add({"", "GlobalLpPool", make_pool(PoolKind::kLp, true), FloatCompute::kHalf});
}

}  // namespace convfix
