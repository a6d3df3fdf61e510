// Internal helpers shared by the op kernels (src/ops/*.cpp).
//
// - broadcast_dims: numpy/ONNX multidirectional broadcasting of two shapes.
// - BroadcastIndexer: maps a flat output index to flat input indices.
// - normalize_axis: negative axes, with a range check naming the node.
// - dispatch_numeric: calls f.template operator()<T>() for the element type.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "convfix/op_registry.h"
#include "convfix/tensor.h"
#include "convfix/thread_pool.h"

namespace convfix::ops {

// Output dims of broadcasting a and b; false when incompatible.
inline bool broadcast_dims(const std::vector<int64_t>& a, const std::vector<int64_t>& b, std::vector<int64_t>* out) {
  const size_t r = std::max(a.size(), b.size());
  out->assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da == db || db == 1) (*out)[i] = da;
    else if (da == 1) (*out)[i] = db;
    else return false;
  }
  return true;
}

// Strides (in elements) of `in` broadcast into `out` (0 where broadcast).
inline std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  const size_t r = out.size();
  std::vector<int64_t> st(r, 0);
  int64_t s = 1;
  for (size_t k = 0; k < in.size(); ++k) {
    const size_t i = in.size() - 1 - k;
    const size_t o = r - 1 - k;
    st[o] = in[i] == 1 ? 0 : s;
    s *= in[i];
  }
  return st;
}

// Iterates the output in row-major order and yields input offsets.
class BroadcastIndexer {
 public:
  BroadcastIndexer(const std::vector<int64_t>& out_dims, const std::vector<std::vector<int64_t>>& in_dims)
      : dims_(out_dims) {
    for (const auto& d : in_dims) strides_.push_back(broadcast_strides(d, out_dims));
  }
  // Offset of input k for flat output index i.
  int64_t offset(size_t k, int64_t i) const {
    int64_t off = 0;
    const auto& st = strides_[k];
    for (size_t d = dims_.size(); d-- > 0;) {
      const int64_t c = i % dims_[d];
      i /= dims_[d];
      off += c * st[d];
    }
    return off;
  }

 private:
  std::vector<int64_t> dims_;
  std::vector<std::vector<int64_t>> strides_;
};

inline Status normalize_axis(const KernelContext& ctx, int64_t axis, int64_t rank, int64_t* out,
                             const char* what = "axis") {
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    return ctx.error(std::string(what) + " " + std::to_string(axis) + " is out of range for rank " +
                     std::to_string(rank));
  *out = a;
  return Status::OK();
}

inline std::vector<int64_t> strides_of(const std::vector<int64_t>& dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

template <typename F>
Status dispatch_numeric(DType t, F&& f, const KernelContext& ctx) {
  switch (t) {
    case DType::kF32: f.template operator()<float>(); return Status::OK();
    case DType::kF64: f.template operator()<double>(); return Status::OK();
    case DType::kI8: f.template operator()<int8_t>(); return Status::OK();
    case DType::kU8: f.template operator()<uint8_t>(); return Status::OK();
    case DType::kI16: f.template operator()<int16_t>(); return Status::OK();
    case DType::kU16: f.template operator()<uint16_t>(); return Status::OK();
    case DType::kI32: f.template operator()<int32_t>(); return Status::OK();
    case DType::kU32: f.template operator()<uint32_t>(); return Status::OK();
    case DType::kI64: f.template operator()<int64_t>(); return Status::OK();
    case DType::kU64: f.template operator()<uint64_t>(); return Status::OK();
    default: return ctx.unsupported(std::string("element type ") + dtype_name(t) + " is not supported");
  }
}

// Requires f32 input i (after the executor's float_compute conversion).
inline Status require_f32(const KernelContext& ctx, size_t i) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
  if (ctx.input(i)->dtype() != DType::kF32)
    return ctx.unsupported("input " + std::to_string(i) + " has element type " + dtype_name(ctx.input(i)->dtype()) +
                           ", expected f32");
  return Status::OK();
}

}  // namespace convfix::ops
