#include "convfix/tensor.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <limits>
#include <sstream>

namespace convfix {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: case DType::kI32: case DType::kU32: return 4;
    case DType::kF16: case DType::kBF16: case DType::kI16: case DType::kU16: return 2;
    case DType::kF64: case DType::kI64: case DType::kU64: return 8;
    case DType::kI8: case DType::kU8: case DType::kBool: return 1;
    case DType::kString: return sizeof(std::string);
    case DType::kUndefined: return 0;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kF64: return "f64";
    case DType::kI8: return "i8";
    case DType::kU8: return "u8";
    case DType::kI16: return "i16";
    case DType::kU16: return "u16";
    case DType::kI32: return "i32";
    case DType::kU32: return "u32";
    case DType::kI64: return "i64";
    case DType::kU64: return "u64";
    case DType::kBool: return "bool";
    case DType::kString: return "string";
    case DType::kUndefined: return "undefined";
  }
  return "undefined";
}

std::optional<DType> dtype_from_name(const std::string& n) {
  for (int i = 1; i <= static_cast<int>(DType::kString); ++i) {
    if (n == dtype_name(static_cast<DType>(i))) return static_cast<DType>(i);
  }
  return std::nullopt;
}

bool dtype_is_float(DType t) {
  return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16 || t == DType::kF64;
}
bool dtype_is_integer(DType t) {
  switch (t) {
    case DType::kI8: case DType::kU8: case DType::kI16: case DType::kU16: case DType::kI32:
    case DType::kU32: case DType::kI64: case DType::kU64: return true;
    default: return false;
  }
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do { ++e; mant <<= 1; } while ((mant & 0x400u) == 0);
      mant &= 0x3ffu;
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
  }
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf (rounded)
  if (absx < 0x38800000u) {  // subnormal or zero in half
    // value = absx as float; half subnormal unit = 2^-24
    float af;
    std::memcpy(&af, &absx, 4);
    const float scaled = af * 16777216.0f;  // 2^24
    // round to nearest even
    float r = std::nearbyint(scaled);
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(r));
  }
  uint32_t mant = absx & 0x7fffffu;
  uint32_t exp = (absx >> 23) - 127 + 15;
  uint32_t half = (exp << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
  return static_cast<uint16_t>(sign | half);
}

float bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  const uint32_t lsb = (x >> 16) & 1u;
  x += 0x7fffu + lsb;
  return static_cast<uint16_t>(x >> 16);
}

std::string shape_to_string(const Shape& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) o << ", ";
    if (s[i].known()) o << s[i].value;
    else if (!s[i].symbol.empty()) o << s[i].symbol;
    else o << "?";
  }
  o << "]";
  return o.str();
}

std::string dims_to_string(const std::vector<int64_t>& d) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < d.size(); ++i) o << (i ? ", " : "") << d[i];
  o << "]";
  return o.str();
}

int64_t num_elements(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

namespace {
// Buffers of at least kCacheMin bytes are not returned to the system when
// their last tensor goes away but kept for the next allocation of about the
// same size: an executor allocates the same activation sizes on every run,
// and fresh pages from the kernel (page faults, zeroing) cost more than the
// kernels that fill them. At most kCacheLimit bytes are kept.
constexpr size_t kCacheMin = size_t{64} << 10;
constexpr size_t kCacheLimit = size_t{512} << 20;

struct BufferCache {
  std::mutex mu;
  std::multimap<size_t, uint8_t*> free;  // capacity -> buffer
  size_t bytes = 0;

  uint8_t* take(size_t capacity) {
    std::lock_guard<std::mutex> lk(mu);
    auto it = free.lower_bound(capacity);
    if (it == free.end() || it->first != capacity) return nullptr;
    uint8_t* p = it->second;
    bytes -= it->first;
    free.erase(it);
    return p;
  }
  void give(uint8_t* p, size_t capacity) {
    {
      std::lock_guard<std::mutex> lk(mu);
      if (bytes + capacity <= kCacheLimit) {
        free.emplace(capacity, p);
        bytes += capacity;
        return;
      }
    }
    std::free(p);
  }
  void trim() {
    std::lock_guard<std::mutex> lk(mu);
    for (auto& [c, p] : free) std::free(p);
    free.clear();
    bytes = 0;
  }
};

// Never destroyed: tensors in static objects may be freed after main().
BufferCache& buffer_cache() {
  static BufferCache* c = new BufferCache();
  return *c;
}

std::shared_ptr<uint8_t> alloc_buffer(size_t bytes, bool zero) {
  size_t rounded = ((bytes == 0 ? 1 : bytes) + 63) / 64 * 64;
  if (rounded < kCacheMin) {
    auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
    if (!p) throw std::bad_alloc();
    if (zero) std::memset(p, 0, rounded);
    return std::shared_ptr<uint8_t>(p, [](uint8_t* q) { std::free(q); });
  }
  // Large: whole 4 KiB pages, so buffers of nearly equal sizes share a class.
  rounded = (rounded + 4095) / 4096 * 4096;
  uint8_t* p = buffer_cache().take(rounded);
  if (!p) {
    p = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
    if (!p) throw std::bad_alloc();
  }
  if (zero) std::memset(p, 0, rounded);
  return std::shared_ptr<uint8_t>(p, [rounded](uint8_t* q) { buffer_cache().give(q, rounded); });
}
}  // namespace

void trim_buffer_cache() { buffer_cache().trim(); }

Tensor::Tensor(DType dtype, std::vector<int64_t> dims) : dtype_(dtype), dims_(std::move(dims)) {
  if (dtype_ == DType::kString) {
    strings_ = std::make_shared<std::vector<std::string>>(static_cast<size_t>(numel()));
    buf_ = alloc_buffer(0, true);
  } else {
    buf_ = alloc_buffer(nbytes(), true);
  }
}

Tensor Tensor::uninitialized(DType dtype, std::vector<int64_t> dims) {
  if (dtype == DType::kString) return Tensor(dtype, std::move(dims));
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = std::move(dims);
  t.buf_ = alloc_buffer(t.nbytes(), false);
  return t;
}

Tensor Tensor::scalar_f32(float v) {
  Tensor t(DType::kF32, {});
  *t.data<float>() = v;
  return t;
}
Tensor Tensor::scalar_i64(int64_t v) {
  Tensor t(DType::kI64, {});
  *t.data<int64_t>() = v;
  return t;
}

void* Tensor::ptr() const { return buf_ ? buf_.get() : nullptr; }

Tensor Tensor::clone() const {
  Tensor t(dtype_, dims_);
  if (dtype_ == DType::kString) {
    if (strings_) *t.strings_ = *strings_;
  } else if (nbytes()) {
    std::memcpy(t.raw(), raw(), nbytes());
  }
  t.quant_ = quant_;
  t.layout_ = layout_;
  return t;
}

Tensor Tensor::reshaped(std::vector<int64_t> dims) const {
  Tensor t = *this;
  t.dims_ = std::move(dims);
  return t;
}

double Tensor::get_f64(int64_t i) const {
  const void* p = raw();
  switch (dtype_) {
    case DType::kF32: return static_cast<const float*>(p)[i];
    case DType::kF16: return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::kBF16: return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::kF64: return static_cast<const double*>(p)[i];
    case DType::kI8: return static_cast<const int8_t*>(p)[i];
    case DType::kU8: return static_cast<const uint8_t*>(p)[i];
    case DType::kI16: return static_cast<const int16_t*>(p)[i];
    case DType::kU16: return static_cast<const uint16_t*>(p)[i];
    case DType::kI32: return static_cast<const int32_t*>(p)[i];
    case DType::kU32: return static_cast<const uint32_t*>(p)[i];
    case DType::kI64: return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case DType::kU64: return static_cast<double>(static_cast<const uint64_t*>(p)[i]);
    case DType::kBool: return static_cast<const uint8_t*>(p)[i] ? 1.0 : 0.0;
    default: return 0.0;
  }
}

int64_t Tensor::get_i64(int64_t i) const {
  const void* p = raw();
  switch (dtype_) {
    case DType::kI64: return static_cast<const int64_t*>(p)[i];
    case DType::kU64: return static_cast<int64_t>(static_cast<const uint64_t*>(p)[i]);
    case DType::kI32: return static_cast<const int32_t*>(p)[i];
    case DType::kU32: return static_cast<const uint32_t*>(p)[i];
    case DType::kI16: return static_cast<const int16_t*>(p)[i];
    case DType::kU16: return static_cast<const uint16_t*>(p)[i];
    case DType::kI8: return static_cast<const int8_t*>(p)[i];
    case DType::kU8: case DType::kBool: return static_cast<const uint8_t*>(p)[i];
    default: {
      const double d = get_f64(i);
      if (!(d == d)) return 0;
      if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
      if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
      return static_cast<int64_t>(d);
    }
  }
}

std::vector<int64_t> Tensor::to_i64_vector() const {
  std::vector<int64_t> v(static_cast<size_t>(numel()));
  for (int64_t i = 0; i < numel(); ++i) v[static_cast<size_t>(i)] = get_i64(i);
  return v;
}

std::vector<float> Tensor::to_f32_vector() const {
  std::vector<float> v(static_cast<size_t>(numel()));
  for (int64_t i = 0; i < numel(); ++i) v[static_cast<size_t>(i)] = static_cast<float>(get_f64(i));
  return v;
}

namespace {
template <typename T>
void store_from_double(T* out, int64_t i, double v) {
  if constexpr (std::is_floating_point_v<T>) {
    out[i] = static_cast<T>(v);
  } else if constexpr (std::is_same_v<T, bool>) {
    out[i] = v != 0.0;
  } else {
    // float -> int: truncate toward zero; out of range values wrap like a
    // C cast through int64 (what ONNX Runtime does on x86 for in-range).
    if (!(v == v)) { out[i] = 0; return; }
    const double lo = static_cast<double>(std::numeric_limits<int64_t>::min());
    const double hi = static_cast<double>(std::numeric_limits<int64_t>::max());
    int64_t w = v <= lo ? std::numeric_limits<int64_t>::min()
                        : (v >= hi ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(v));
    out[i] = static_cast<T>(w);
  }
}
}  // namespace

Expected<Tensor> Tensor::cast(DType to) const {
  if (dtype_ == DType::kString || to == DType::kString) {
    if (dtype_ == to) return clone();
    return not_implemented(std::string("cast between string and ") + dtype_name(dtype_ == DType::kString ? to : dtype_));
  }
  Tensor out(to, dims_);
  const int64_t n = numel();
  const bool src_int = dtype_is_integer(dtype_) || dtype_ == DType::kBool;
  const bool dst_int = dtype_is_integer(to) || to == DType::kBool;
  if (src_int && dst_int) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t v = get_i64(i);
      void* p = out.raw();
      switch (to) {
        case DType::kI8: static_cast<int8_t*>(p)[i] = static_cast<int8_t>(v); break;
        case DType::kU8: static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v); break;
        case DType::kI16: static_cast<int16_t*>(p)[i] = static_cast<int16_t>(v); break;
        case DType::kU16: static_cast<uint16_t*>(p)[i] = static_cast<uint16_t>(v); break;
        case DType::kI32: static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v); break;
        case DType::kU32: static_cast<uint32_t*>(p)[i] = static_cast<uint32_t>(v); break;
        case DType::kI64: static_cast<int64_t*>(p)[i] = v; break;
        case DType::kU64: static_cast<uint64_t*>(p)[i] = static_cast<uint64_t>(v); break;
        case DType::kBool: static_cast<uint8_t*>(p)[i] = v != 0; break;
        default: break;
      }
    }
    return out;
  }
  for (int64_t i = 0; i < n; ++i) {
    const double v = get_f64(i);
    void* p = out.raw();
    switch (to) {
      case DType::kF32: static_cast<float*>(p)[i] = static_cast<float>(v); break;
      case DType::kF64: static_cast<double*>(p)[i] = v; break;
      case DType::kF16: static_cast<uint16_t*>(p)[i] = f32_to_f16(static_cast<float>(v)); break;
      case DType::kBF16: static_cast<uint16_t*>(p)[i] = f32_to_bf16(static_cast<float>(v)); break;
      case DType::kI8: store_from_double(static_cast<int8_t*>(p), i, v); break;
      case DType::kU8: store_from_double(static_cast<uint8_t*>(p), i, v); break;
      case DType::kI16: store_from_double(static_cast<int16_t*>(p), i, v); break;
      case DType::kU16: store_from_double(static_cast<uint16_t*>(p), i, v); break;
      case DType::kI32: store_from_double(static_cast<int32_t*>(p), i, v); break;
      case DType::kU32: store_from_double(static_cast<uint32_t*>(p), i, v); break;
      case DType::kI64: store_from_double(static_cast<int64_t*>(p), i, v); break;
      case DType::kU64: store_from_double(static_cast<uint64_t*>(p), i, v); break;
      case DType::kBool: static_cast<uint8_t*>(p)[i] = v != 0.0; break;
      default: return not_implemented(std::string("cast to ") + dtype_name(to));
    }
  }
  return out;
}

Expected<Tensor> Tensor::to_f32() const {
  if (!quant_ || quant_->scale.empty()) {
    if (dtype_ == DType::kF32) return *this;
    return cast(DType::kF32);
  }
  const QuantParams& q = *quant_;
  Tensor out(DType::kF32, dims_);
  float* o = out.data<float>();
  const int64_t n = numel();
  if (!q.per_channel()) {
    const float s = q.scale[0];
    const int64_t zp = q.zero_point.empty() ? 0 : q.zero_point[0];
    for (int64_t i = 0; i < n; ++i) o[i] = s * static_cast<float>(get_i64(i) - zp);
    return out;
  }
  int64_t axis = q.axis < 0 ? q.axis + rank() : q.axis;
  if (axis < 0 || axis >= rank() || dim(axis) != static_cast<int64_t>(q.scale.size())) {
    return invalid_model("per-channel quantization: " + std::to_string(q.scale.size()) +
                         " scales do not match axis " + std::to_string(q.axis) + " of shape " +
                         dims_to_string(dims_));
  }
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < rank(); ++d) inner *= dim(d);
  const int64_t ch = dim(axis);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = (i / inner) % ch;
    const int64_t zp = q.zero_point.size() > static_cast<size_t>(c) ? q.zero_point[static_cast<size_t>(c)] : 0;
    o[i] = q.scale[static_cast<size_t>(c)] * static_cast<float>(get_i64(i) - zp);
  }
  return out;
}

bool Tensor::bitwise_equal(const Tensor& o) const {
  if (dtype_ != o.dtype_ || dims_ != o.dims_) return false;
  if (dtype_ == DType::kString) return *strings_ == *o.strings_;
  return nbytes() == 0 || std::memcmp(raw(), o.raw(), nbytes()) == 0;
}

}  // namespace convfix
