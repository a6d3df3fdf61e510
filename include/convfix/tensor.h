// convfix/tensor.h — element types, shapes and tensors.
//
// Contract:
// - A Tensor is a dense, row-major (C order) array with a dtype and a fully
//   known shape. Copying a Tensor shares its buffer (like a numpy view of the
//   whole array); use clone() for a deep copy. Kernels always write fresh
//   tensors, so a shared buffer is never modified behind a reader's back.
// - Buffers are 64-byte aligned, so fast kernels may use aligned loads.
// - Quantization parameters travel with a tensor when the file format has
//   them (TFLite, ONNX QDQ initializers); they never change the data itself.
// - Shape (for graph values, possibly unknown) is kept apart from the
//   concrete std::vector<int64_t> dims of a Tensor.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "convfix/status.h"

namespace convfix {

enum class DType : uint8_t {
  kUndefined = 0,
  kF32,
  kF16,
  kBF16,
  kF64,
  kI8,
  kU8,
  kI16,
  kU16,
  kI32,
  kU32,
  kI64,
  kU64,
  kBool,
  kString,  // kept only so files holding string tensors can be read/written
};

size_t dtype_size(DType t);          // bytes per element (string: sizeof(std::string))
const char* dtype_name(DType t);     // "f32", "i64", ...
bool dtype_is_float(DType t);        // f16, bf16, f32, f64
bool dtype_is_integer(DType t);      // signed or unsigned integer types
std::optional<DType> dtype_from_name(const std::string& name);

// IEEE half and bfloat16 conversions (round to nearest even).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);

// One dimension of a graph value's shape: a known size, or unknown with an
// optional symbol ("batch", "N").
struct Dim {
  int64_t value = -1;   // -1 when unknown
  std::string symbol;   // name of a symbolic dimension, may be empty
  bool known() const { return value >= 0; }
  static Dim of(int64_t v) { return Dim{v, {}}; }
  static Dim sym(std::string s) { return Dim{-1, std::move(s)}; }
  bool operator==(const Dim&) const = default;
};
using Shape = std::vector<Dim>;
std::string shape_to_string(const Shape& s);
std::string dims_to_string(const std::vector<int64_t>& d);
int64_t num_elements(const std::vector<int64_t>& dims);

// Quantization: real = scale * (q - zero_point). Per-tensor when scale has
// one element, else per-channel along `axis`.
struct QuantParams {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int64_t axis = 0;
  bool per_channel() const { return scale.size() > 1; }
  bool operator==(const QuantParams&) const = default;
};

// Physical order of a tensor's elements. kPlain: row-major over dims().
// kNChw16c (rank-4 f32 activations with C % 16 == 0 only): channel blocks of
// 16, element (n, c, h, w) at ((n*C/16 + c/16)*H*W + h*W + w)*16 + c%16 --
// the same elements and bytes as the plain tensor, in another order. Only
// the executor and kernels that declare support (OpDef::blocked) ever see a
// kNChw16c tensor; everything handed to callers is kPlain (executor.h).
enum class MemoryLayout : uint8_t { kPlain, kNChw16c };

class Tensor {
 public:
  Tensor() = default;
  // Allocates a zero-filled tensor.
  Tensor(DType dtype, std::vector<int64_t> dims);
  // Allocates without filling: the contents are unspecified until written.
  // For kernels that write every element of their output.
  static Tensor uninitialized(DType dtype, std::vector<int64_t> dims);

  // Builds a tensor from host values (copies them). sizeof(T) must equal
  // dtype_size(dtype) (float for f32, int64_t for i64, uint16_t for f16...);
  // otherwise the tensor stays zero-filled.
  template <typename T>
  static Tensor from_vector(DType dtype, std::vector<int64_t> dims, const std::vector<T>& values);
  static Tensor scalar_f32(float v);
  static Tensor scalar_i64(int64_t v);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& dims() const { return dims_; }
  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  int64_t dim(int64_t i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t numel() const { return num_elements(dims_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool empty() const { return dtype_ == DType::kUndefined; }

  template <typename T> T* data() { return reinterpret_cast<T*>(ptr()); }
  template <typename T> const T* data() const { return reinterpret_cast<const T*>(ptr()); }
  void* raw() { return ptr(); }
  const void* raw() const { return ptr(); }

  // Deep copy (new buffer).
  Tensor clone() const;
  // Same buffer, new dims; numel must match.
  Tensor reshaped(std::vector<int64_t> dims) const;
  // Converts to another dtype (numeric conversion, float->int truncates
  // toward zero like ONNX Cast; bool is 0/1). Returns a copy even when the
  // dtype is the same.
  Expected<Tensor> cast(DType to) const;
  // Float view: dequantizes when quant params are present, converts any
  // numeric dtype to f32.
  Expected<Tensor> to_f32() const;
  // Reads element i (flat index) of any numeric dtype as double / int64.
  double get_f64(int64_t i) const;
  int64_t get_i64(int64_t i) const;
  // Values as a vector (int64 or float); handy for small shape tensors.
  std::vector<int64_t> to_i64_vector() const;
  std::vector<float> to_f32_vector() const;

  MemoryLayout layout() const { return layout_; }
  // The same buffer and dims, marked as stored in layout l (no data moves;
  // see convfix/layout.h for the conversions).
  Tensor with_layout(MemoryLayout l) const {
    Tensor t = *this;
    t.layout_ = l;
    return t;
  }

  const std::optional<QuantParams>& quant() const { return quant_; }
  void set_quant(std::optional<QuantParams> q) { quant_ = std::move(q); }

  // String tensors (dtype kString).
  std::vector<std::string>* strings() { return strings_.get(); }
  const std::vector<std::string>* strings() const { return strings_.get(); }

  // True when dtype, dims and bytes are identical.
  bool bitwise_equal(const Tensor& o) const;

 private:
  void* ptr() const;

  DType dtype_ = DType::kUndefined;
  std::vector<int64_t> dims_;
  std::shared_ptr<uint8_t> buf_;   // 64-byte aligned, nbytes() (at least 1) bytes
  std::shared_ptr<std::vector<std::string>> strings_;
  std::optional<QuantParams> quant_;
  MemoryLayout layout_ = MemoryLayout::kPlain;
};

// Buffers of 64 KiB and more are kept for reuse when freed (up to 512 MiB
// in all, process-wide); this returns them to the system.
void trim_buffer_cache();

template <typename T>
Tensor Tensor::from_vector(DType dtype, std::vector<int64_t> dims, const std::vector<T>& values) {
  Tensor t(dtype, std::move(dims));
  if (dtype == DType::kString) return t;
  const size_t n = std::min(values.size(), static_cast<size_t>(t.numel()));
  if (sizeof(T) == dtype_size(dtype)) {
    if (n) std::memcpy(t.raw(), values.data(), n * sizeof(T));
  }
  return t;
}

}  // namespace convfix
