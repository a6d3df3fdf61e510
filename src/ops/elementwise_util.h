// Internal helpers for the elementwise, activation, comparison and reduction
// kernels (src/ops/*.cpp). Not a public header.
//
// - BroadcastPlan: numpy/ONNX multidirectional broadcasting of up to three
//   inputs, with adjacent dimensions merged wherever every input is either
//   broadcast along both or along neither. After merging, the innermost
//   dimension of every input has stride 0 or 1, so inner loops are plain
//   contiguous (vectorisable) loops; same-shape and scalar cases become a
//   single dimension.
// - map_unary / map_binary / map_ternary: run a functor (inlined, never a
//   std::function per element) over all output elements, in parallel for
//   large tensors.
// - legacy_broadcast_dims: the opset < 7 "broadcast=1, axis" rule.
// - fast_exp / fast_expm1 / fast_tanh / fast_erf: vectorisable f32 versions (1-3 ulp,
//   checked against libm in tests/unit/ops_elementwise_test.cpp); the f64
//   overloads call libm.
// - float_unary / numeric_unary: a whole unary kernel from a functor.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ops/kernel_util.h"

namespace convfix::ops {

// Elements per parallel task for cheap elementwise work.
inline constexpr int64_t kElementwiseGrain = 32768;

struct BroadcastPlan {
  std::vector<int64_t> out_dims;              // broadcast output shape (unmerged)
  std::vector<int64_t> dims;                  // merged shape (at least one dim)
  std::vector<std::vector<int64_t>> strides;  // per input, over `dims` (0 = broadcast)
  int64_t numel = 0;
};

// Builds the plan; false when the shapes cannot be broadcast together.
inline bool make_broadcast_plan(const std::vector<const std::vector<int64_t>*>& ins, BroadcastPlan* p) {
  size_t r = 0;
  for (const auto* d : ins) r = std::max(r, d->size());
  p->out_dims.assign(r, 1);
  const size_t k = ins.size();
  std::vector<std::vector<int64_t>> padded(k, std::vector<int64_t>(r, 1));
  for (size_t j = 0; j < k; ++j) {
    const auto& d = *ins[j];
    for (size_t i = 0; i < d.size(); ++i) padded[j][r - d.size() + i] = d[i];
  }
  for (size_t i = 0; i < r; ++i) {
    int64_t o = 1;
    for (size_t j = 0; j < k; ++j) {
      const int64_t v = padded[j][i];
      if (v == 1) continue;
      if (o == 1) o = v;
      else if (o != v) return false;
    }
    // A zero-size dimension wins over 1 (numpy: 1 broadcasts to 0).
    for (size_t j = 0; j < k; ++j)
      if (padded[j][i] == 0) o = 0;
    p->out_dims[i] = o;
  }
  p->numel = num_elements(p->out_dims);
  // Merge: drop size-1 output dims, join neighbours with the same broadcast pattern.
  p->dims.clear();
  std::vector<std::vector<bool>> bc;  // per merged dim, per input: broadcast?
  for (size_t i = 0; i < r; ++i) {
    const int64_t o = p->out_dims[i];
    if (o == 1) continue;
    std::vector<bool> pat(k);
    for (size_t j = 0; j < k; ++j) pat[j] = padded[j][i] == 1;
    if (!p->dims.empty() && bc.back() == pat) {
      p->dims.back() *= o;
    } else {
      p->dims.push_back(o);
      bc.push_back(std::move(pat));
    }
  }
  if (p->dims.empty()) {
    p->dims.push_back(1);
    bc.push_back(std::vector<bool>(k, false));
  }
  const size_t m = p->dims.size();
  p->strides.assign(k, std::vector<int64_t>(m, 0));
  for (size_t j = 0; j < k; ++j) {
    int64_t s = 1;
    for (size_t i = m; i-- > 0;) {
      if (bc[i][j]) {
        p->strides[j][i] = 0;
      } else {
        p->strides[j][i] = s;
        s *= p->dims[i];
      }
    }
  }
  return true;
}

// Calls row(offsets[k], out_offset, count) for runs of output elements along the
// innermost merged dimension covering [0, numel), in parallel.
template <size_t K, typename RowFn>
void for_each_broadcast_row(const BroadcastPlan& p, ThreadPool* pool, RowFn row) {
  const int64_t n = p.numel;
  if (n <= 0) return;
  const size_t m = p.dims.size();
  const int64_t inner = p.dims.back();
  parallel_for(pool, n, [&](int64_t s, int64_t e) {
    // Coordinates of flat index s in the merged shape.
    std::vector<int64_t> coord(m, 0);
    int64_t rem = s;
    for (size_t i = m; i-- > 0;) {
      coord[i] = rem % p.dims[i];
      rem /= p.dims[i];
    }
    int64_t off[K];
    for (size_t j = 0; j < K; ++j) {
      off[j] = 0;
      for (size_t i = 0; i < m; ++i) off[j] += coord[i] * p.strides[j][i];
    }
    int64_t pos = s;
    while (pos < e) {
      const int64_t cnt = std::min(inner - coord[m - 1], e - pos);
      row(off, pos, cnt);
      pos += cnt;
      if (pos >= e) break;
      // Advance to the start of the next row.
      for (size_t j = 0; j < K; ++j) off[j] += cnt * p.strides[j][m - 1];
      coord[m - 1] += cnt;
      for (size_t i = m; i-- > 0;) {
        if (coord[i] < p.dims[i]) break;
        for (size_t j = 0; j < K; ++j) off[j] -= coord[i] * p.strides[j][i];
        coord[i] = 0;
        if (i == 0) break;
        ++coord[i - 1];
        for (size_t j = 0; j < K; ++j) off[j] += p.strides[j][i - 1];
      }
    }
  }, kElementwiseGrain);
}

// Innermost loops. The functor is taken by value and the pointers are
// __restrict, so state the functor carries (an alpha, a bound) is known not
// to change through the stores and the loops vectorise.
template <typename TI, typename TO, typename F>
inline void unary_span(const TI* __restrict in, TO* __restrict out, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]);
}
template <typename TA, typename TB, typename TO, typename F>
inline void binary_span(const TA* __restrict a, const TB* __restrict b, TO* __restrict out, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}
template <typename TA, typename TB, typename TO, typename F>
inline void binary_span_b_scalar(const TA* __restrict a, TB b, TO* __restrict out, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b);
}
template <typename TA, typename TB, typename TO, typename F>
inline void binary_span_a_scalar(TA a, const TB* __restrict b, TO* __restrict out, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(a, b[i]);
}

template <typename TI, typename TO, typename F>
void map_unary(const TI* in, TO* out, int64_t n, ThreadPool* pool, F f) {
  parallel_for(pool, n, [&](int64_t s, int64_t e) { unary_span(in + s, out + s, e - s, f); }, kElementwiseGrain);
}

// out = f(a, b) with broadcasting described by p (inputs 0 and 1).
template <typename TA, typename TB, typename TO, typename F>
void map_binary(const BroadcastPlan& p, const TA* a, const TB* b, TO* out, ThreadPool* pool, F f) {
  const int64_t sa = p.strides[0].back(), sb = p.strides[1].back();
  for_each_broadcast_row<2>(p, pool, [&](const int64_t* off, int64_t o, int64_t cnt) {
    const TA* ra = a + off[0];
    const TB* rb = b + off[1];
    TO* ro = out + o;
    if (sa == 1 && sb == 1) {
      binary_span(ra, rb, ro, cnt, f);
    } else if (sa == 1) {
      binary_span_b_scalar(ra, rb[0], ro, cnt, f);
    } else if (sb == 1) {
      binary_span_a_scalar(ra[0], rb, ro, cnt, f);
    } else {
      const TO v = f(ra[0], rb[0]);
      for (int64_t i = 0; i < cnt; ++i) ro[i] = v;
    }
  });
}

template <typename TA, typename TB, typename TC, typename TO, typename F>
inline void ternary_span(const TA* __restrict a, const TB* __restrict b, const TC* __restrict c, TO* __restrict out,
                         int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i], c[i]);
}

// out = f(a, b, c) with broadcasting described by p (inputs 0, 1, 2).
template <typename TA, typename TB, typename TC, typename TO, typename F>
void map_ternary(const BroadcastPlan& p, const TA* a, const TB* b, const TC* c, TO* out, ThreadPool* pool, F f) {
  const int64_t sa = p.strides[0].back(), sb = p.strides[1].back(), sc = p.strides[2].back();
  for_each_broadcast_row<3>(p, pool, [&](const int64_t* off, int64_t o, int64_t cnt) {
    const TA* ra = a + off[0];
    const TB* rb = b + off[1];
    const TC* rc = c + off[2];
    TO* ro = out + o;
    if (sa == 1 && sb == 1 && sc == 1) {
      ternary_span(ra, rb, rc, ro, cnt, f);
    } else {
      for (int64_t i = 0; i < cnt; ++i) ro[i] = f(ra[i * sa], rb[i * sb], rc[i * sc]);
    }
  });
}

// Opset < 7 binary ops with broadcast=1: B's shape must match a contiguous
// run of A's dims starting at `axis` (default: aligned to the end). Returns
// B's dims padded with 1s to A's rank, or an error naming the node.
inline Status legacy_broadcast_dims(const KernelContext& ctx, const std::vector<int64_t>& a,
                                    const std::vector<int64_t>& b, std::vector<int64_t>* out) {
  const int64_t ra = static_cast<int64_t>(a.size()), rb = static_cast<int64_t>(b.size());
  if (rb > ra) return ctx.error("legacy broadcast: input 1 has higher rank than input 0");
  int64_t axis = ctx.attr_int("axis", ra - rb);
  if (axis < 0) axis += ra;
  if (axis < 0 || axis + rb > ra)
    return ctx.error("legacy broadcast: axis " + std::to_string(axis) + " does not fit input 1 of shape " +
                     dims_to_string(b) + " into input 0 of shape " + dims_to_string(a));
  out->assign(static_cast<size_t>(ra), 1);
  for (int64_t i = 0; i < rb; ++i) {
    const int64_t d = b[static_cast<size_t>(i)];
    const int64_t da = a[static_cast<size_t>(axis + i)];
    if (d != da && d != 1)
      return ctx.error("legacy broadcast: input 1 dim " + std::to_string(i) + " (" + std::to_string(d) +
                       ") does not match input 0 dim " + std::to_string(axis + i) + " (" + std::to_string(da) + ")");
    (*out)[static_cast<size_t>(axis + i)] = d;
  }
  return Status::OK();
}

// Dims of input 1 as the binary op should see them: legacy broadcast for
// opset < 7 with broadcast=1, else unchanged.
inline Status binary_input1_dims(const KernelContext& ctx, const Tensor& a, const Tensor& b,
                                 std::vector<int64_t>* out) {
  if (ctx.opset() < 7 && ctx.attr_int("broadcast", 0) != 0 && a.dims() != b.dims() && b.numel() != 1)
    return legacy_broadcast_dims(ctx, a.dims(), b.dims(), out);
  *out = b.dims();
  return Status::OK();
}

// exp(x) for f32 without libm calls, so loops using it vectorise. Range
// reduction x = n*ln2 + r with |r| <= ln2/2 (ln2 split in two parts), then
// a degree-7 Taylor polynomial for e^r (truncation error below 2^-27
// relative) and scaling by 2^n through the exponent bits. Overflow gives
// +inf, underflow gives 0, NaN stays NaN. Accurate to about 1-2 ulp.
inline float fast_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693145751953125f;      // ln2 rounded to 16 significant bits
  constexpr float kLn2Lo = 1.42860682030941723e-6f;  // ln2 - kLn2Hi
  const float xc = std::min(std::max(x, -104.0f), 88.7228394f);
  const float nf = std::nearbyint(xc * kLog2e);
  const float r = (xc - nf * kLn2Hi) - nf * kLn2Lo;
  // Horner form of 1 + r + r^2/2! + ... + r^7/7!.
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^n as two factors so that n down to -150 (subnormal results) works.
  const int32_t n = static_cast<int32_t>(nf);
  const int32_t n1 = n / 2, n2 = n - n1;
  const float s1 = std::bit_cast<float>(static_cast<int32_t>((n1 + 127) << 23));
  const float s2 = std::bit_cast<float>(static_cast<int32_t>((n2 + 127) << 23));
  float y = p * s1 * s2;
  y = x > 88.7228394f ? std::numeric_limits<float>::infinity() : y;
  y = x < -104.0f ? 0.0f : y;
  return x != x ? x : y;
}

inline double fast_exp(double x) { return std::exp(x); }

// expm1(x) for f32, vectorisable: a degree-9 Taylor polynomial for
// |x| < 0.625 (truncation below 2^-26 relative), fast_exp(x) - 1 beyond
// (where the subtraction loses at most about 2 bits). About 2 ulp.
inline float fast_expm1(float x) {
  const float r = std::min(std::max(x, -0.625f), 0.625f);
  float p = 1.0f / 362880.0f;
  p = p * r + 1.0f / 40320.0f;
  p = p * r + 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  const float small = p * r;
  const float big = fast_exp(x) - 1.0f;
  return std::fabs(x) < 0.625f ? small : big;
}
inline double fast_expm1(double x) { return std::expm1(x); }

// tanh(x) = sign(x) * e / (e + 2) with e = expm1(2|x|); |x| >= 9.1 gives
// +-1 (the exact value rounds to 1 in f32). About 3 ulp; NaN stays NaN.
inline float fast_tanh(float x) {
  const float a = std::min(std::fabs(x), 9.1f);
  const float e = fast_expm1(2.0f * a);
  const float t = e / (e + 2.0f);
  return x != x ? x : std::copysign(t, x);
}
inline double fast_tanh(double x) { return std::tanh(x); }

// erf(x) for f32, vectorisable (about 3 ulp):
// - |x| < 1: the Maclaurin series 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)),
//   12 terms (the first omitted term is below 2^-28 at |x| = 1);
// - 1 <= |x| < 4.05: 1 - exp(-x^2) * g(1/|x|), where g is a degree-10
//   polynomial fitted by least squares (numpy, Chebyshev basis) to
//   erfc(x) * exp(x^2) on [1, 4.05]; the fit's error in erfc is below 1.2e-9;
// - |x| >= 4.05: +-1 (erfc(4.05) is below half an f32 ulp of 1).
inline float fast_erf(float x) {
  const float a = std::fabs(x);
  const float z = a * a;
  // Series in z = x^2.
  float s = -1.229055530e-09f;
  s = s * z + 1.480719282e-08f;
  s = s * z - 1.636584469e-07f;
  s = s * z + 1.646211437e-06f;
  s = s * z - 1.492565036e-05f;
  s = s * z + 1.205533298e-04f;
  s = s * z - 8.548327023e-04f;
  s = s * z + 5.223977625e-03f;
  s = s * z - 2.686617065e-02f;
  s = s * z + 1.128379167e-01f;
  s = s * z - 3.761263890e-01f;
  s = s * z + 1.128379167e+00f;
  const float small = a * s;
  // Tail through erfc.
  const float ac = std::min(std::max(a, 1.0f), 4.05f);
  const float t = 1.0f / ac;
  float g = -3.740707914e-02f;
  g = g * t + 2.592119246e-01f;
  g = g * t - 7.945559314e-01f;
  g = g * t + 1.396775297e+00f;
  g = g * t - 1.494587038e+00f;
  g = g * t + 8.782501663e-01f;
  g = g * t - 5.895476760e-02f;
  g = g * t - 2.885174359e-01f;
  g = g * t + 3.699833577e-03f;
  g = g * t + 5.636384887e-01f;
  g = g * t + 3.011491593e-05f;
  float big = 1.0f - fast_exp(-(ac * ac)) * g;
  big = a >= 4.05f ? 1.0f : big;
  const float r = a < 1.0f ? small : big;
  return x != x ? x : std::copysign(r, x);
}
inline double fast_erf(double x) { return std::erf(x); }

// Applies f to every element of input 0 (f32 or f64; f16/bf16 arrive as f32
// through FloatCompute::kHalf) and sets output 0 of the same type.
template <typename F>
Status float_unary(KernelContext& ctx, F f) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  Tensor out = Tensor::uninitialized(x.dtype(), x.dims());
  if (x.dtype() == DType::kF32) {
    map_unary(x.data<float>(), out.data<float>(), x.numel(), ctx.pool(), [f](float v) { return f(v); });
  } else if (x.dtype() == DType::kF64) {
    map_unary(x.data<double>(), out.data<double>(), x.numel(), ctx.pool(), [f](double v) { return f(v); });
  } else {
    return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(x.dtype()) +
                           ", expected a float type");
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

// Same for every numeric type (floats and integers); f's result is cast to T.
template <typename F>
Status numeric_unary(KernelContext& ctx, F f) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  Tensor out = Tensor::uninitialized(x.dtype(), x.dims());
  CONVFIX_RETURN_IF_ERROR(dispatch_numeric(x.dtype(), [&]<typename T>() {
    map_unary(x.data<T>(), out.data<T>(), x.numel(), ctx.pool(), [f](T v) { return static_cast<T>(f(v)); });
  }, ctx));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace convfix::ops
