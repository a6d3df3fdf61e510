// Internal helpers for the shape and data-movement kernels (reshape, slice,
// gather, pad, resize, ...).
//
// - dispatch_elements: calls f.template operator()<T>() with an element type
//   of the same size as the tensor's dtype (uint8_t .. uint64_t), or with
//   std::string for string tensors. Data-movement kernels are written once
//   as templates over T and so work for every dtype, bool and f16 included.
// - elems<T>(t): the element array of t as T (strings() for std::string).
// - strided_copy: builds a fresh tensor of `out_dims` whose element at
//   multi-index i is src[base + sum(i[d] * strides[d])]. Strides may be zero
//   (broadcast) or negative (reversed). Transpose, Slice, Expand, Tile,
//   DepthToSpace and Split are all one strided_copy.
// - read_int_list / read_int_scalar: shape-like inputs (int32 or int64),
//   validated, with errors naming the input index.
// - keep_quant: carries per-tensor quantization parameters through ops that
//   only move elements.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "convfix/op_registry.h"
#include "convfix/tensor.h"
#include "convfix/thread_pool.h"
#include "ops/kernel_util.h"

namespace convfix::ops {

template <typename T>
T* elems(Tensor& t) {
  if constexpr (std::is_same_v<T, std::string>) return t.strings()->data();
  else return t.data<T>();
}
template <typename T>
const T* elems(const Tensor& t) {
  if constexpr (std::is_same_v<T, std::string>) return t.strings()->data();
  else return t.data<T>();
}

template <typename F>
Status dispatch_elements(DType t, F&& f, const KernelContext& ctx) {
  if (t == DType::kString) { f.template operator()<std::string>(); return Status::OK(); }
  switch (dtype_size(t)) {
    case 1: f.template operator()<uint8_t>(); return Status::OK();
    case 2: f.template operator()<uint16_t>(); return Status::OK();
    case 4: f.template operator()<uint32_t>(); return Status::OK();
    case 8: f.template operator()<uint64_t>(); return Status::OK();
    default: return ctx.unsupported(std::string("element type ") + dtype_name(t) + " is not supported");
  }
}

// Per-tensor quantization survives pure element moves; per-channel does not
// (the channel axis may have moved).
inline void keep_quant(const Tensor& from, Tensor& to) {
  if (from.quant() && !from.quant()->per_channel()) to.set_quant(from.quant());
}

// Drops size-1 dims and merges dims that are contiguous in the source, so
// the copy loop runs over as few, as long rows as possible.
inline void simplify_strided(std::vector<int64_t>& dims, std::vector<int64_t>& strides) {
  std::vector<int64_t> d2, s2;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 1) continue;
    if (!d2.empty() && s2.back() == strides[i] * dims[i]) {
      d2.back() *= dims[i];
      s2.back() = strides[i];
    } else {
      d2.push_back(dims[i]);
      s2.push_back(strides[i]);
    }
  }
  dims = std::move(d2);
  strides = std::move(s2);
}

// out (row-major `dims`) <- src with element strides `st`, where dim k has
// source stride 1 and the last dim does not: tiles of [dims[k], dims.back()].
template <typename T>
void tiled_transpose_copy(const T* s, T* o, const std::vector<int64_t>& dims, const std::vector<int64_t>& st, size_t k,
                          ThreadPool* pool) {
  constexpr int64_t kTile = 32;
  const size_t r = dims.size();
  std::vector<int64_t> ost(r, 1);
  for (size_t i = r - 1; i-- > 0;) ost[i] = ost[i + 1] * dims[i + 1];
  std::vector<int64_t> od, os, ds;  // the other dims: sizes, source and destination strides
  for (size_t i = 0; i + 1 < r; ++i)
    if (i != k) { od.push_back(dims[i]); os.push_back(st[i]); ds.push_back(ost[i]); }
  int64_t n_outer = 1;
  for (int64_t d : od) n_outer *= d;
  const int64_t A = dims[k], B = dims.back(), sB = st.back(), dA = ost[k];
  const int64_t tiles_a = (A + kTile - 1) / kTile;
  parallel_for(pool, n_outer * tiles_a, [&](int64_t b, int64_t e) {
    for (int64_t job = b; job < e; ++job) {
      int64_t rem = job / tiles_a, soff = 0, doff = 0;
      for (size_t i = od.size(); i-- > 0;) {
        const int64_t c = rem % od[i];
        rem /= od[i];
        soff += c * os[i];
        doff += c * ds[i];
      }
      const int64_t a0 = (job % tiles_a) * kTile, a1 = std::min(A, a0 + kTile);
      for (int64_t b0 = 0; b0 < B; b0 += kTile) {
        const int64_t b1 = std::min(B, b0 + kTile);
        for (int64_t a = a0; a < a1; ++a) {
          T* dst = o + doff + a * dA;
          const T* sp = s + soff + a;
          for (int64_t bb = b0; bb < b1; ++bb) dst[bb] = sp[bb * sB];
        }
      }
    }
  }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, kTile * B)));
}

template <typename T>
void strided_copy_typed(const Tensor& src, int64_t base, const std::vector<int64_t>& out_dims,
                        const std::vector<int64_t>& strides, Tensor& out, ThreadPool* pool) {
  const int64_t n = out.numel();
  if (n == 0) return;
  std::vector<int64_t> dims = out_dims, st = strides;
  simplify_strided(dims, st);
  const T* s = elems<T>(src) + base;
  T* o = elems<T>(out);
  if (dims.empty()) { o[0] = s[0]; return; }
  if (st.back() != 1 && dims.back() >= 8) {
    // A transpose-like copy: some other output dim is contiguous in the
    // source. Copy in square tiles so that both sides stay in cache.
    for (size_t k = dims.size() - 1; k-- > 0;)
      if (st[k] == 1 && dims[k] >= 8) {
        tiled_transpose_copy(s, o, dims, st, k, pool);
        return;
      }
  }
  const int64_t inner = dims.back(), istride = st.back();
  const int64_t rows = n / inner;
  const size_t r = dims.size();
  parallel_for(pool, rows, [&](int64_t b, int64_t e) {
    // Multi-index of row b over the outer dims.
    std::vector<int64_t> idx(r, 0);
    int64_t off = 0, rem = b;
    for (size_t d = r - 1; d-- > 0;) {
      idx[d] = rem % dims[d];
      rem /= dims[d];
      off += idx[d] * st[d];
    }
    for (int64_t row = b; row < e; ++row) {
      T* dst = o + row * inner;
      const T* p = s + off;
      if (istride == 1) {
        if constexpr (std::is_trivially_copyable_v<T>) std::memcpy(dst, p, static_cast<size_t>(inner) * sizeof(T));
        else for (int64_t i = 0; i < inner; ++i) dst[i] = p[i];
      } else {
        for (int64_t i = 0; i < inner; ++i) dst[i] = p[i * istride];
      }
      for (size_t d = r - 1; d-- > 0;) {  // advance the outer multi-index
        off += st[d];
        if (++idx[d] < dims[d]) break;
        off -= st[d] * dims[d];
        idx[d] = 0;
      }
    }
  }, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, inner)));
}

inline Status strided_copy(const KernelContext& ctx, const Tensor& src, int64_t base,
                           const std::vector<int64_t>& out_dims, const std::vector<int64_t>& strides, Tensor* out) {
  Tensor t = Tensor::uninitialized(src.dtype(), out_dims);
  CONVFIX_RETURN_IF_ERROR(dispatch_elements(src.dtype(), [&]<typename T>() {
    strided_copy_typed<T>(src, base, out_dims, strides, t, ctx.pool());
  }, ctx));
  *out = std::move(t);
  return Status::OK();
}

// Copies `count` consecutive elements (any dtype, strings too).
inline void copy_elements(const Tensor& src, int64_t src_off, Tensor& dst, int64_t dst_off, int64_t count) {
  if (count <= 0) return;
  if (src.dtype() == DType::kString) {
    const std::string* s = src.strings()->data() + src_off;
    std::string* d = dst.strings()->data() + dst_off;
    for (int64_t i = 0; i < count; ++i) d[i] = s[i];
    return;
  }
  const size_t es = dtype_size(src.dtype());
  std::memcpy(static_cast<uint8_t*>(dst.raw()) + static_cast<size_t>(dst_off) * es,
              static_cast<const uint8_t*>(src.raw()) + static_cast<size_t>(src_off) * es,
              static_cast<size_t>(count) * es);
}

inline std::string input_label(size_t i, const char* what) {
  return "input " + std::to_string(i) + " (" + what + ")";
}

// Reads a 1-D (or scalar) int32/int64 input as int64 values.
inline Status read_int_list(const KernelContext& ctx, size_t i, const char* what, std::vector<int64_t>* out) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
  const Tensor& t = *ctx.input(i);
  if (t.dtype() != DType::kI64 && t.dtype() != DType::kI32)
    return ctx.error(input_label(i, what) + " must be int32 or int64, got " + dtype_name(t.dtype()));
  if (t.rank() > 1)
    return ctx.error(input_label(i, what) + " must be 1-D, got shape " + dims_to_string(t.dims()));
  *out = t.to_i64_vector();
  return Status::OK();
}

// Reads a single-element numeric input as int64.
inline Status read_int_scalar(const KernelContext& ctx, size_t i, const char* what, int64_t* out) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
  const Tensor& t = *ctx.input(i);
  if (t.numel() != 1)
    return ctx.error(input_label(i, what) + " must hold one value, got shape " + dims_to_string(t.dims()));
  if (t.dtype() == DType::kString) return ctx.error(input_label(i, what) + " must be numeric");
  *out = t.get_i64(0);
  return Status::OK();
}

// Normalizes a list of axes against `rank`; rejects duplicates.
inline Status normalize_axes(const KernelContext& ctx, std::vector<int64_t>& axes, int64_t rank,
                             const char* what = "axes") {
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (auto& a : axes) {
    CONVFIX_RETURN_IF_ERROR(normalize_axis(ctx, a, rank, &a, what));
    if (seen[static_cast<size_t>(a)]) return ctx.error(std::string(what) + " has axis " + std::to_string(a) + " twice");
    seen[static_cast<size_t>(a)] = true;
  }
  return Status::OK();
}

}  // namespace convfix::ops
