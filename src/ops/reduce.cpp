// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
// ReduceLogSum, ReduceLogSumExp, ReduceSumSquare.
//
// Axes come from the `axes` attribute, or from input 1 (ReduceSum from
// opset 13, the others from opset 18; input 1 is honoured whenever given).
// Empty axes reduce everything unless noop_with_empty_axes=1, in which case
// every element is its own group (so ReduceSumSquare squares, ReduceL1 takes
// |x|, ...). keepdims (default 1) keeps reduced dims as size 1.
//
// Float inputs accumulate in double; integer sums in 64 bits (wrapping to
// the input type at the end). Max/Min propagate NaN. After dropping size-1
// dims and merging neighbours, the input is viewed as [outer, r, inner]; any
// other pattern is first transposed to [kept..., reduced...].
#include <cmath>
#include <limits>
#include <type_traits>

#include "ops/elementwise_util.h"

namespace convfix {
namespace {

enum class Red { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

template <typename T>
using SumAcc = std::conditional_t<std::is_floating_point_v<T>, double,
                                  std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

template <Red R, typename T>
struct Reducer {
  using Acc = std::conditional_t<R == Red::kMax || R == Red::kMin, T, SumAcc<T>>;
  // Max/Min of floats: step() ignores NaN (plain max/min, branch-free and
  // vectorisable); the loops track NaN on the side and the result is NaN
  // when any input was.
  static constexpr bool kTrackNan = (R == Red::kMax || R == Red::kMin) && std::is_floating_point_v<T>;
  static Acc init() {
    if constexpr (R == Red::kProd) return Acc(1);
    else if constexpr (R == Red::kMax) {
      if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
      else return std::numeric_limits<T>::lowest();
    } else if constexpr (R == Red::kMin) {
      if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::infinity();
      else return std::numeric_limits<T>::max();
    } else {
      return Acc(0);
    }
  }
  static Acc step(Acc a, T x) {
    if constexpr (R == Red::kMax) return a < x ? x : a;
    else if constexpr (R == Red::kMin) return x < a ? x : a;
    else if constexpr (R == Red::kProd) {
      if constexpr (std::is_integral_v<Acc>)  // wrap instead of signed overflow
        return static_cast<Acc>(static_cast<uint64_t>(a) * static_cast<uint64_t>(static_cast<Acc>(x)));
      else return a * static_cast<Acc>(x);
    } else if constexpr (R == Red::kSumSquare || R == Red::kL2) return a + static_cast<Acc>(x) * static_cast<Acc>(x);
    else if constexpr (R == Red::kL1) {
      if constexpr (std::is_signed_v<T> || std::is_floating_point_v<T>) {
        const Acc v = static_cast<Acc>(x);
        return a + (v < Acc(0) ? Acc(0) - v : v);
      } else {
        return a + static_cast<Acc>(x);
      }
    } else {
      return a + static_cast<Acc>(x);
    }
  }
  static Acc merge(Acc a, Acc b) {
    if constexpr (R == Red::kMax) return a < b ? b : a;
    else if constexpr (R == Red::kMin) return b < a ? b : a;
    else if constexpr (R == Red::kProd) {
      if constexpr (std::is_integral_v<Acc>)
        return static_cast<Acc>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
      else return a * b;
    } else return a + b;
  }
  static T finish(Acc a, int64_t count) {
    if constexpr (R == Red::kMean) {
      if constexpr (std::is_floating_point_v<T>) return static_cast<T>(a / static_cast<double>(count));
      else return count ? static_cast<T>(a / static_cast<Acc>(count)) : T(0);
    } else if constexpr (R == Red::kL2) {
      return static_cast<T>(std::sqrt(static_cast<double>(a)));
    } else if constexpr (R == Red::kLogSum) {
      return static_cast<T>(std::log(static_cast<double>(a)));
    } else {
      return static_cast<T>(a);
    }
  }
};

// [outer, r] with contiguous rows.
template <Red R, typename T>
void reduce_rows(const T* x, T* o, int64_t outer, int64_t r, ThreadPool* pool) {
  using Rd = Reducer<R, T>;
  using Acc = typename Rd::Acc;
  parallel_for(pool, outer, [&](int64_t s, int64_t e) {
    for (int64_t b = s; b < e; ++b) {
      const T* row = x + b * r;
      // 32 independent partial results: enough lanes that GCC vectorises
      // the loop (with 8 it unrolls fully and leaves scalar selects).
      constexpr int kLanes = 32;
      Acc part[kLanes];
      int32_t nan[kLanes];
      for (int l = 0; l < kLanes; ++l) {
        part[l] = Rd::init();
        nan[l] = 0;
      }
      int64_t i = 0;
      for (; i + kLanes <= r; i += kLanes)
        for (int l = 0; l < kLanes; ++l) {
          const T v = row[i + l];
          part[l] = Rd::step(part[l], v);
          if constexpr (Rd::kTrackNan) nan[l] |= static_cast<int32_t>(v != v);
        }
      Acc a = Rd::init();
      int32_t any_nan = 0;
      for (; i < r; ++i) {
        a = Rd::step(a, row[i]);
        if constexpr (Rd::kTrackNan) any_nan |= static_cast<int32_t>(row[i] != row[i]);
      }
      for (int l = 0; l < kLanes; ++l) {
        a = Rd::merge(a, part[l]);
        any_nan |= nan[l];
      }
      if constexpr (Rd::kTrackNan) {
        o[b] = any_nan ? std::numeric_limits<T>::quiet_NaN() : Rd::finish(a, r);
      } else {
        o[b] = Rd::finish(a, r);
      }
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, r)));
}

// [outer, r, inner]: reduce the middle dimension, inner is contiguous.
template <Red R, typename T>
void reduce_middle(const T* x, T* o, int64_t outer, int64_t r, int64_t inner, ThreadPool* pool) {
  using Rd = Reducer<R, T>;
  using Acc = typename Rd::Acc;
  constexpr int64_t kChunk = 1024;
  const int64_t chunks = (inner + kChunk - 1) / kChunk;
  parallel_for(pool, outer * chunks, [&](int64_t s, int64_t e) {
    std::vector<Acc> acc(static_cast<size_t>(std::min(inner, kChunk)));
    std::vector<int32_t> nans(Rd::kTrackNan ? acc.size() : 0);
    for (int64_t t = s; t < e; ++t) {
      const int64_t b = t / chunks, j0 = (t % chunks) * kChunk, j1 = std::min(inner, j0 + kChunk);
      const int64_t w = j1 - j0;
      Acc* a = acc.data();
      for (int64_t j = 0; j < w; ++j) a[j] = Rd::init();
      if constexpr (Rd::kTrackNan) std::fill(nans.begin(), nans.end(), 0);
      const T* base = x + b * r * inner + j0;
      for (int64_t k = 0; k < r; ++k) {
        const T* row = base + k * inner;
        for (int64_t j = 0; j < w; ++j) a[j] = Rd::step(a[j], row[j]);
        if constexpr (Rd::kTrackNan) {
          int32_t* nf = nans.data();
          for (int64_t j = 0; j < w; ++j) nf[j] |= static_cast<int32_t>(row[j] != row[j]);
        }
      }
      T* ob = o + b * inner + j0;
      for (int64_t j = 0; j < w; ++j) ob[j] = Rd::finish(a[j], r);
      if constexpr (Rd::kTrackNan) {
        for (int64_t j = 0; j < w; ++j)
          if (nans[static_cast<size_t>(j)]) ob[j] = std::numeric_limits<T>::quiet_NaN();
      }
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, r * std::min(inner, kChunk))));
}

// LogSumExp: max first, then log(sum(exp(x - max))) + max.
template <typename T>
void logsumexp_rows(const T* x, T* o, int64_t outer, int64_t r, int64_t inner, ThreadPool* pool) {
  parallel_for(pool, outer, [&](int64_t s, int64_t e) {
    std::vector<double> mx(static_cast<size_t>(inner)), sum(static_cast<size_t>(inner));
    for (int64_t b = s; b < e; ++b) {
      const T* base = x + b * r * inner;
      std::fill(mx.begin(), mx.end(), -std::numeric_limits<double>::infinity());
      std::fill(sum.begin(), sum.end(), 0.0);
      for (int64_t k = 0; k < r; ++k)
        for (int64_t j = 0; j < inner; ++j) {
          const double v = static_cast<double>(base[k * inner + j]);
          if (v > mx[static_cast<size_t>(j)] || v != v) mx[static_cast<size_t>(j)] = v;
        }
      for (auto& m : mx)
        if (std::isinf(m)) m = 0.0;  // all -inf (or +inf): no shift, exp handles it
      for (int64_t k = 0; k < r; ++k)
        for (int64_t j = 0; j < inner; ++j)
          sum[static_cast<size_t>(j)] += std::exp(static_cast<double>(base[k * inner + j]) - mx[static_cast<size_t>(j)]);
      for (int64_t j = 0; j < inner; ++j)
        o[b * inner + j] = static_cast<T>(std::log(sum[static_cast<size_t>(j)]) + mx[static_cast<size_t>(j)]);
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, r * inner)));
}

template <Red R, typename T>
void reduce_view(const T* x, T* o, int64_t outer, int64_t r, int64_t inner, ThreadPool* pool) {
  if constexpr (R == Red::kLogSumExp) {
    if constexpr (std::is_floating_point_v<T>) {
      logsumexp_rows<T>(x, o, outer, r, inner, pool);
    } else {
      // Integers: compute on doubles, truncate the result.
      std::vector<double> xd(static_cast<size_t>(outer * r * inner)), od(static_cast<size_t>(outer * inner));
      for (size_t i = 0; i < xd.size(); ++i) xd[i] = static_cast<double>(x[i]);
      logsumexp_rows<double>(xd.data(), od.data(), outer, r, inner, pool);
      for (size_t i = 0; i < od.size(); ++i) o[i] = static_cast<T>(od[i]);
    }
  } else if (inner == 1) {
    reduce_rows<R, T>(x, o, outer, r, pool);
  } else {
    reduce_middle<R, T>(x, o, outer, r, inner, pool);
  }
}

// Copies x (dims) into the order given by perm.
template <typename T>
std::vector<T> transpose(const T* x, const std::vector<int64_t>& dims, const std::vector<size_t>& perm) {
  const size_t m = dims.size();
  const auto st = ops::strides_of(dims);
  std::vector<int64_t> pd(m), ps(m);
  for (size_t i = 0; i < m; ++i) {
    pd[i] = dims[perm[i]];
    ps[i] = st[perm[i]];
  }
  const int64_t n = num_elements(dims);
  std::vector<T> out(static_cast<size_t>(n));
  std::vector<int64_t> c(m, 0);
  int64_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    out[static_cast<size_t>(i)] = x[off];
    for (size_t d = m; d-- > 0;) {
      off += ps[d];
      if (++c[d] < pd[d]) break;
      off -= ps[d] * pd[d];
      c[d] = 0;
    }
  }
  return out;
}

template <Red R, typename T>
void reduce_typed(const Tensor& x, Tensor& out, const std::vector<bool>& reduced, ThreadPool* pool) {
  // Merge dims: drop size-1 dims, join neighbours of the same kind.
  std::vector<int64_t> md;
  std::vector<bool> mr;
  for (size_t i = 0; i < reduced.size(); ++i) {
    const int64_t d = x.dim(static_cast<int64_t>(i));
    if (d == 1) continue;
    if (!md.empty() && mr.back() == reduced[i]) md.back() *= d;
    else {
      md.push_back(d);
      mr.push_back(reduced[i]);
    }
  }
  const T* px = x.data<T>();
  T* po = out.data<T>();
  int64_t r_total = 1, kept = 1;
  int groups = 0;
  for (size_t i = 0; i < md.size(); ++i) {
    if (mr[i]) { r_total *= md[i]; ++groups; }
    else kept *= md[i];
  }
  if (groups <= 1) {
    int64_t outer = 1, inner = 1;
    bool after = false;
    for (size_t i = 0; i < md.size(); ++i) {
      if (mr[i]) after = true;
      else (after ? inner : outer) *= md[i];
    }
    reduce_view<R, T>(px, po, outer, r_total, inner, pool);
    return;
  }
  std::vector<size_t> perm;
  for (size_t i = 0; i < md.size(); ++i)
    if (!mr[i]) perm.push_back(i);
  for (size_t i = 0; i < md.size(); ++i)
    if (mr[i]) perm.push_back(i);
  std::vector<T> t = transpose(px, md, perm);
  reduce_view<R, T>(t.data(), po, kept, r_total, 1, pool);
}

Status reduce(KernelContext& ctx, Red op) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const int64_t rank = x.rank();
  std::vector<int64_t> axes;
  if (ctx.has_input(1)) axes = ctx.input(1)->to_i64_vector();
  else axes = ctx.attr_ints("axes");
  const bool noop = ctx.attr_int("noop_with_empty_axes", 0) != 0;
  const bool keep = ctx.attr_int("keepdims", 1) != 0;
  std::vector<bool> reduced(static_cast<size_t>(rank), false);
  if (axes.empty()) {
    if (!noop) reduced.assign(static_cast<size_t>(rank), true);
  } else {
    for (int64_t a : axes) {
      int64_t n = 0;
      CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, a, rank, &n, "axes value"));
      reduced[static_cast<size_t>(n)] = true;
    }
  }
  std::vector<int64_t> od;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[static_cast<size_t>(i)]) od.push_back(x.dim(i));
    else if (keep) od.push_back(1);
  }
  Tensor out(x.dtype(), od);
  Status st = ops::dispatch_numeric(x.dtype(), [&]<typename T>() {
    switch (op) {
      case Red::kSum: reduce_typed<Red::kSum, T>(x, out, reduced, ctx.pool()); break;
      case Red::kMean: reduce_typed<Red::kMean, T>(x, out, reduced, ctx.pool()); break;
      case Red::kMax: reduce_typed<Red::kMax, T>(x, out, reduced, ctx.pool()); break;
      case Red::kMin: reduce_typed<Red::kMin, T>(x, out, reduced, ctx.pool()); break;
      case Red::kProd: reduce_typed<Red::kProd, T>(x, out, reduced, ctx.pool()); break;
      case Red::kL1: reduce_typed<Red::kL1, T>(x, out, reduced, ctx.pool()); break;
      case Red::kL2: reduce_typed<Red::kL2, T>(x, out, reduced, ctx.pool()); break;
      case Red::kLogSum: reduce_typed<Red::kLogSum, T>(x, out, reduced, ctx.pool()); break;
      case Red::kLogSumExp: reduce_typed<Red::kLogSumExp, T>(x, out, reduced, ctx.pool()); break;
      case Red::kSumSquare: reduce_typed<Red::kSumSquare, T>(x, out, reduced, ctx.pool()); break;
    }
  }, ctx);
  CONVFIX_RETURN_IF_ERROR(st);
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

KernelFn make(Red op) {
  return [op](KernelContext& ctx) { return reduce(ctx, op); };
}

}  // namespace

void register_ops_reduce(OpRegistry& r) {
  const auto kH = FloatCompute::kHalf;
  r.add({"", "ReduceSum", make(Red::kSum), kH});
  r.add({"", "ReduceMean", make(Red::kMean), kH});
  r.add({"", "ReduceMax", make(Red::kMax), kH});
  r.add({"", "ReduceMin", make(Red::kMin), kH});
  r.add({"", "ReduceProd", make(Red::kProd), kH});
  r.add({"", "ReduceL1", make(Red::kL1), kH});
  r.add({"", "ReduceL2", make(Red::kL2), kH});
  r.add({"", "ReduceLogSum", make(Red::kLogSum), kH});
  r.add({"", "ReduceLogSumExp", make(Red::kLogSumExp), kH});
  r.add({"", "ReduceSumSquare", make(Red::kSumSquare), kH});
}

}  // namespace convfix
