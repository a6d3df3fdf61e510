// Cast (attribute `to`) and CastLike (the type of input 1) between every
// numeric type, bool, f16, bf16 and string.
//
// Conversion rules:
// - float -> integer truncates toward zero; NaN gives 0; values beyond the
//   int64 range saturate there and then wrap to the target width (the same
//   rule as Tensor::cast; ONNX leaves out-of-range values undefined).
// - integer -> narrower integer wraps (two's complement); anything -> bool
//   is (x != 0); bool -> number is 0 or 1.
// - to f16/bf16: round to nearest even, directly from the source value (a
//   double is rounded once, not through f32). ONNX >= 1.14 and ONNX Runtime
//   round f32 -> bf16 the same way.
// - number -> string: integers in decimal, floats in the shortest form that
//   reads back to the same value ("NaN", "INF", "-INF" for the specials);
//   string -> number parses with strtod/strtoll ("inf", "nan" accepted).
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <type_traits>

#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "ops/elementwise_util.h"

namespace convfix {
namespace {

// f32 <-> f16 for whole buffers: the F16C instructions (8 at a time, round
// to nearest even, the same results as f32_to_f16/f16_to_f32) when the
// build targets them, else the scalar conversions.
void f32_to_f16_span(const float* in, uint16_t* out, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
#endif
  for (; i < n; ++i) out[i] = f32_to_f16(in[i]);
}

void f16_to_f32_span(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
#endif
  for (; i < n; ++i) out[i] = f16_to_f32(in[i]);
}

// Inline (vectorisable) twins of f32_to_bf16 / bf16_to_f32 from tensor.h:
// round to nearest even, NaN stays a quiet NaN.
inline uint16_t bf16_from_f32(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}
inline float bf16_to_f32_inline(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

template <typename S>
struct Native { using storage = S; };
struct HalfTag { using storage = uint16_t; };
struct BHalfTag { using storage = uint16_t; };
struct BoolTag { using storage = uint8_t; };

// Rounds a double (once, to nearest even) to a binary format with `mbits`
// stored mantissa bits and `ebits` exponent bits; returns the bit pattern.
uint16_t round_double_to_narrow(double v, int mbits, int ebits) {
  const uint32_t sign = std::signbit(v) ? (1u << (mbits + ebits)) : 0u;
  const uint32_t exp_ones = (1u << ebits) - 1u;
  if (v != v) return static_cast<uint16_t>(sign | (exp_ones << mbits) | (1u << (mbits - 1)));
  const double a = std::fabs(v);
  if (a == 0.0) return static_cast<uint16_t>(sign);
  const int bias = (1 << (ebits - 1)) - 1;
  const int emin = 1 - bias;
  if (std::isinf(a)) return static_cast<uint16_t>(sign | (exp_ones << mbits));
  int e2 = 0;
  std::frexp(a, &e2);
  int e = e2 - 1;  // a in [2^e, 2^(e+1))
  if (e < emin) {
    // Subnormal (or rounds up to the smallest normal, whose pattern is q = 2^mbits).
    const double q = std::nearbyint(std::ldexp(a, mbits - emin));
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(q));
  }
  double q = std::nearbyint(std::ldexp(a, mbits - e));  // in [2^mbits, 2^(mbits+1)]
  if (q >= std::ldexp(1.0, mbits + 1)) {
    q = std::ldexp(1.0, mbits);
    ++e;
  }
  if (e > bias) return static_cast<uint16_t>(sign | (exp_ones << mbits));
  const uint32_t mant = static_cast<uint32_t>(q) - (1u << mbits);
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(e + bias) << mbits) | mant);
}

template <typename Tag>
auto load(typename Tag::storage v) {
  if constexpr (std::is_same_v<Tag, HalfTag>) return f16_to_f32(v);
  else if constexpr (std::is_same_v<Tag, BHalfTag>) return bf16_to_f32_inline(v);
  else if constexpr (std::is_same_v<Tag, BoolTag>) return static_cast<uint8_t>(v != 0);
  else return v;
}

template <typename D, typename V>
D float_to_int(V v) {
  if (!(v == v)) return D(0);
  constexpr double lo = static_cast<double>(std::numeric_limits<int64_t>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<int64_t>::max());
  const double d = static_cast<double>(v);
  if constexpr (std::is_same_v<D, uint64_t>) {
    // Values in [2^63, 2^64) fit uint64 exactly; negative ones wrap like int64.
    if (d >= hi) return d >= 18446744073709551616.0 ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(d);
  }
  const int64_t w = d <= lo ? std::numeric_limits<int64_t>::min()
                            : (d >= hi ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(d));
  return static_cast<D>(w);
}

template <typename DstTag, typename V>
typename DstTag::storage store(V v) {
  using D = typename DstTag::storage;
  if constexpr (std::is_same_v<DstTag, HalfTag>) {
    if constexpr (std::is_same_v<V, float>) return f32_to_f16(v);
    else return round_double_to_narrow(static_cast<double>(v), 10, 5);
  } else if constexpr (std::is_same_v<DstTag, BHalfTag>) {
    if constexpr (std::is_same_v<V, float>) return bf16_from_f32(v);
    else return round_double_to_narrow(static_cast<double>(v), 7, 8);
  } else if constexpr (std::is_same_v<DstTag, BoolTag>) {
    return static_cast<uint8_t>(v != V(0));
  } else if constexpr (std::is_floating_point_v<D>) {
    return static_cast<D>(v);
  } else if constexpr (std::is_floating_point_v<V>) {
    return float_to_int<D>(v);
  } else {
    return static_cast<D>(v);
  }
}

template <typename F>
bool dispatch_tag(DType t, F&& f) {
  switch (t) {
    case DType::kF32: f.template operator()<Native<float>>(); return true;
    case DType::kF64: f.template operator()<Native<double>>(); return true;
    case DType::kF16: f.template operator()<HalfTag>(); return true;
    case DType::kBF16: f.template operator()<BHalfTag>(); return true;
    case DType::kI8: f.template operator()<Native<int8_t>>(); return true;
    case DType::kU8: f.template operator()<Native<uint8_t>>(); return true;
    case DType::kI16: f.template operator()<Native<int16_t>>(); return true;
    case DType::kU16: f.template operator()<Native<uint16_t>>(); return true;
    case DType::kI32: f.template operator()<Native<int32_t>>(); return true;
    case DType::kU32: f.template operator()<Native<uint32_t>>(); return true;
    case DType::kI64: f.template operator()<Native<int64_t>>(); return true;
    case DType::kU64: f.template operator()<Native<uint64_t>>(); return true;
    case DType::kBool: f.template operator()<BoolTag>(); return true;
    default: return false;
  }
}

template <typename V>
std::string number_to_string(V v) {
  if constexpr (std::is_floating_point_v<V>) {
    if (v != v) return "NaN";
    if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, res.ptr);
  } else {
    return std::to_string(static_cast<std::conditional_t<std::is_signed_v<V>, int64_t, uint64_t>>(v));
  }
}

Status cast_to(KernelContext& ctx, const Tensor& x, DType to) {
  if (x.dtype() == to) {
    ctx.set_output(0, x.clone());  // kernels hand out fresh buffers
    return Status::OK();
  }
  Tensor out(to, x.dims());
  const int64_t n = x.numel();
  if (x.dtype() == DType::kString) {
    const std::vector<std::string>& src = *x.strings();
    bool bad = false;
    const bool ok = dispatch_tag(to, [&]<typename DstTag>() {
      auto* o = out.data<typename DstTag::storage>();
      for (int64_t i = 0; i < n; ++i) {
        const std::string& s = src[static_cast<size_t>(i)];
        const char* b = s.c_str();
        char* end = nullptr;
        using D = typename DstTag::storage;
        if constexpr (std::is_integral_v<D> && !std::is_same_v<DstTag, HalfTag> && !std::is_same_v<DstTag, BHalfTag> &&
                      !std::is_same_v<DstTag, BoolTag>) {
          if constexpr (std::is_signed_v<D>) o[i] = static_cast<D>(std::strtoll(b, &end, 10));
          else o[i] = static_cast<D>(std::strtoull(b, &end, 10));
        } else {
          o[i] = store<DstTag>(std::strtod(b, &end));
        }
        if (end == b) bad = true;
      }
    });
    if (!ok) return ctx.unsupported(std::string("cast from string to ") + dtype_name(to));
    if (bad) return ctx.error("input 0 holds a string that is not a number");
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  if (to == DType::kString) {
    std::vector<std::string>& dst = *out.strings();
    const bool ok = dispatch_tag(x.dtype(), [&]<typename SrcTag>() {
      const auto* p = x.data<typename SrcTag::storage>();
      for (int64_t i = 0; i < n; ++i) dst[static_cast<size_t>(i)] = number_to_string(load<SrcTag>(p[i]));
    });
    if (!ok) return ctx.unsupported(std::string("cast from ") + dtype_name(x.dtype()) + " to string");
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  if (x.dtype() == DType::kF32 && to == DType::kF16) {
    const float* in = x.data<float>();
    uint16_t* o = out.data<uint16_t>();
    parallel_for(ctx.pool(), n, [&](int64_t s, int64_t e) { f32_to_f16_span(in + s, o + s, e - s); },
                 ops::kElementwiseGrain);
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  if (x.dtype() == DType::kF16 && to == DType::kF32) {
    const uint16_t* in = x.data<uint16_t>();
    float* o = out.data<float>();
    parallel_for(ctx.pool(), n, [&](int64_t s, int64_t e) { f16_to_f32_span(in + s, o + s, e - s); },
                 ops::kElementwiseGrain);
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  bool done = false;
  const bool ok = dispatch_tag(x.dtype(), [&]<typename SrcTag>() {
    done = dispatch_tag(to, [&]<typename DstTag>() {
      ops::map_unary(x.data<typename SrcTag::storage>(), out.data<typename DstTag::storage>(), n, ctx.pool(),
                     [](typename SrcTag::storage v) { return store<DstTag>(load<SrcTag>(v)); });
    });
  });
  if (!ok || !done)
    return ctx.unsupported(std::string("cast from ") + dtype_name(x.dtype()) + " to " + dtype_name(to));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

// ONNX TensorProto.DataType numbers.
bool dtype_from_onnx(int64_t code, DType* out) {
  switch (code) {
    case 1: *out = DType::kF32; return true;
    case 2: *out = DType::kU8; return true;
    case 3: *out = DType::kI8; return true;
    case 4: *out = DType::kU16; return true;
    case 5: *out = DType::kI16; return true;
    case 6: *out = DType::kI32; return true;
    case 7: *out = DType::kI64; return true;
    case 8: *out = DType::kString; return true;
    case 9: *out = DType::kBool; return true;
    case 10: *out = DType::kF16; return true;
    case 11: *out = DType::kF64; return true;
    case 12: *out = DType::kU32; return true;
    case 13: *out = DType::kU64; return true;
    case 16: *out = DType::kBF16; return true;
    default: return false;
  }
}

Status cast(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  if (!ctx.has_attr("to")) return ctx.error("attribute 'to' is missing");
  const int64_t code = ctx.attr_int("to", 0);
  DType to;
  if (!dtype_from_onnx(code, &to)) return ctx.unsupported("cast to ONNX data type " + std::to_string(code));
  return cast_to(ctx, *ctx.input(0), to);
}

Status cast_like(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  return cast_to(ctx, *ctx.input(0), ctx.input(1)->dtype());
}

}  // namespace

void register_ops_cast(OpRegistry& r) {
  r.add({"", "Cast", cast});
  r.add({"", "CastLike", cast_like});
}

}  // namespace convfix
