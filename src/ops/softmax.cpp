// Softmax, LogSoftmax, Hardmax with both ONNX semantics:
// - opset < 13: the input is coerced to 2-D at `axis` (default 1) and the
//   function runs over each row of prod(dims[axis:]) elements;
// - opset >= 13: the function runs along the single dimension `axis`
//   (default -1).
// Both become an [outer, n, inner] view. f32 and f64 natively (f16/bf16 in
// f32 through the executor); the max is subtracted before exponentiating and
// sums are accumulated in double.
#include <cmath>
#include <limits>

#include "ops/elementwise_util.h"

namespace convfix {
namespace {

enum class Kind { kSoftmax, kLogSoftmax, kHardmax };

// Lane-wise partial results (32 lanes: enough that GCC vectorises the loops
// instead of unrolling them into scalar code), merged at the end.
constexpr int kLanes = 32;

template <typename T>
T row_max(const T* x, int64_t n) {
  T part[kLanes];
  for (int l = 0; l < kLanes; ++l) part[l] = -std::numeric_limits<T>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) part[l] = part[l] < x[i + l] ? x[i + l] : part[l];
  T m = -std::numeric_limits<T>::infinity();
  for (; i < n; ++i) m = m < x[i] ? x[i] : m;
  for (int l = 0; l < kLanes; ++l) m = m < part[l] ? part[l] : m;
  return m;
}

// out = exp(x - mx); returns the sum of out, accumulated in double.
template <typename T>
double exp_shifted_sum(const T* __restrict x, T* __restrict out, int64_t n, T mx) {
  for (int64_t i = 0; i < n; ++i) out[i] = ops::fast_exp(static_cast<T>(x[i] - mx));
  double part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) part[l] += static_cast<double>(out[i + l]);
  double s = 0;
  for (; i < n; ++i) s += static_cast<double>(out[i]);
  for (int l = 0; l < kLanes; ++l) s += part[l];
  return s;
}

// One contiguous row of n elements. NaN never wins the max; it still reaches
// the sum and makes the whole row NaN, as in the other runtimes.
template <typename T>
void row_kernel(Kind kind, const T* __restrict x, T* __restrict o, int64_t n) {
  if (kind == Kind::kHardmax) {
    // First maximum; NaN never wins.
    T mx = -std::numeric_limits<T>::infinity();
    int64_t arg = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (x[i] > mx) {
        mx = x[i];
        arg = i;
      }
    }
    for (int64_t i = 0; i < n; ++i) o[i] = T(0);
    if (n) o[arg] = T(1);
    return;
  }
  T mx = row_max(x, n);
  if (mx == -std::numeric_limits<T>::infinity()) mx = T(0);  // all -inf: avoid inf - inf
  const double s = exp_shifted_sum(x, o, n, mx);
  if (kind == Kind::kSoftmax) {
    const T inv = static_cast<T>(1.0 / s);
    for (int64_t i = 0; i < n; ++i) o[i] *= inv;
  } else {
    // (x - max) - log(sum): subtracting max first keeps the result exact
    // for large inputs (x - (max + log(sum)) would round max + log(sum)).
    const T logs = static_cast<T>(std::log(s));
    for (int64_t i = 0; i < n; ++i) o[i] = (x[i] - mx) - logs;
  }
}

// n rows of `inner` contiguous elements; the function runs down each column.
template <typename T>
void strided_kernel(Kind kind, const T* x, T* o, int64_t n, int64_t inner, std::vector<double>& acc,
                    std::vector<T>& mx) {
  mx.assign(static_cast<size_t>(inner), -std::numeric_limits<T>::infinity());
  for (int64_t k = 0; k < n; ++k) {
    const T* r = x + k * inner;
    for (int64_t j = 0; j < inner; ++j) mx[static_cast<size_t>(j)] = r[j] > mx[static_cast<size_t>(j)] ? r[j] : mx[static_cast<size_t>(j)];
  }
  if (kind == Kind::kHardmax) {
    for (int64_t i = 0; i < n * inner; ++i) o[i] = T(0);
    for (int64_t j = 0; j < inner; ++j) {
      // First maximum; NaN never wins.
      int64_t best = -1;
      T bv = -std::numeric_limits<T>::infinity();
      for (int64_t k = 0; k < n; ++k) {
        const T v = x[k * inner + j];
        if (best < 0 || v > bv) { bv = v; best = k; }
      }
      if (best >= 0) o[best * inner + j] = T(1);
    }
    return;
  }
  for (int64_t j = 0; j < inner; ++j)
    if (mx[j] == -std::numeric_limits<T>::infinity()) mx[j] = T(0);
  acc.assign(static_cast<size_t>(inner), 0.0);
  for (int64_t k = 0; k < n; ++k) {
    const T* r = x + k * inner;
    T* ro = o + k * inner;
    for (int64_t j = 0; j < inner; ++j) {
      const T e = ops::fast_exp(static_cast<T>(r[j] - mx[j]));
      ro[j] = e;
      acc[static_cast<size_t>(j)] += static_cast<double>(e);
    }
  }
  if (kind == Kind::kSoftmax) {
    std::vector<T> inv(static_cast<size_t>(inner));
    for (int64_t j = 0; j < inner; ++j) inv[static_cast<size_t>(j)] = static_cast<T>(1.0 / acc[static_cast<size_t>(j)]);
    for (int64_t k = 0; k < n; ++k) {
      T* ro = o + k * inner;
      for (int64_t j = 0; j < inner; ++j) ro[j] *= inv[static_cast<size_t>(j)];
    }
  } else {
    std::vector<T> logs(static_cast<size_t>(inner));
    for (int64_t j = 0; j < inner; ++j)
      logs[static_cast<size_t>(j)] = static_cast<T>(std::log(acc[static_cast<size_t>(j)]));
    for (int64_t k = 0; k < n; ++k) {
      const T* r = x + k * inner;
      T* ro = o + k * inner;
      for (int64_t j = 0; j < inner; ++j) ro[j] = (r[j] - mx[static_cast<size_t>(j)]) - logs[static_cast<size_t>(j)];
    }
  }
}

template <typename T>
void run(Kind kind, const Tensor& x, Tensor& out, int64_t outer, int64_t n, int64_t inner, ThreadPool* pool) {
  const T* px = x.data<T>();
  T* po = out.data<T>();
  const int64_t block = n * inner;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, block));
  if (inner == 1) {
    parallel_for(pool, outer, [&](int64_t s, int64_t e) {
      for (int64_t b = s; b < e; ++b) row_kernel<T>(kind, px + b * n, po + b * n, n);
    }, grain);
  } else {
    parallel_for(pool, outer, [&](int64_t s, int64_t e) {
      std::vector<double> acc;
      std::vector<T> mx;
      for (int64_t b = s; b < e; ++b) strided_kernel<T>(kind, px + b * block, po + b * block, n, inner, acc, mx);
    }, grain);
  }
}

Status softmax_family(KernelContext& ctx, Kind kind) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const int64_t rank = x.rank();
  const bool legacy = ctx.opset() < 13;
  int64_t axis = 0;
  const int64_t r = std::max<int64_t>(rank, 1);
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", legacy ? 1 : -1), r, &axis));
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t d = x.dim(i);
    if (i < axis) outer *= d;
    else if (i == axis || legacy) n *= d;
    else inner *= d;
  }
  Tensor out(x.dtype(), x.dims());
  if (x.numel() > 0) {
    if (x.dtype() == DType::kF32) run<float>(kind, x, out, outer, n, inner, ctx.pool());
    else if (x.dtype() == DType::kF64) run<double>(kind, x, out, outer, n, inner, ctx.pool());
    else return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(x.dtype()) + ", expected a float type");
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_softmax(OpRegistry& r) {
  const auto kH = FloatCompute::kHalf;
  r.add({"", "Softmax", [](KernelContext& c) { return softmax_family(c, Kind::kSoftmax); }, kH});
  r.add({"", "LogSoftmax", [](KernelContext& c) { return softmax_family(c, Kind::kLogSoftmax); }, kH});
  r.add({"", "Hardmax", [](KernelContext& c) { return softmax_family(c, Kind::kHardmax); }, kH});
}

}  // namespace convfix
