// TFLite RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR (NHWC, new [H, W] from
// input 1, options align_corners and half_pixel_centers).
//
// Source coordinate of output pixel o: scale = (in - 1) / (out - 1) with
// align_corners (out > 1), else in / out (computed in f32 as TFLite does);
// bilinear: s = (o + 0.5) * scale - 0.5 with half_pixel_centers, else
// o * scale; the lower neighbour is max(floor(s), 0), the upper min(ceil(s),
// in - 1), weights from s - lower. Nearest: floor((o + 0.5*hpc) * scale)
// (rounded half away from zero with align_corners), clamped to [0, in - 1].
// Quantised inputs: nearest copies values; bilinear interpolates the
// integers (same parameters in and out): int16, and every integer type with
// TfliteRounding::kReference, with TFLite's integer kernel (positions in
// 1/1024 pixel, scale round((in << 10) / out), products in 1/2^20, round half
// away from zero); int8 / uint8 in runtime mode in f32 like XNNPACK's
// (rounded half away from zero; one step off on some elements).
#include <cmath>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

Status resize_kernel(KernelContext& ctx, bool bilinear) {
  CONVFIX_RETURN_IF_ERROR(require_rank(ctx, 0, 4));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  const std::vector<int64_t> size = ctx.input(1)->to_i64_vector();
  if (size.size() != 2 || size[0] <= 0 || size[1] <= 0) return ctx.error("size must be two positive values");
  const bool align = ctx.attr_int("align_corners", 0) != 0, hpc = ctx.attr_int("half_pixel_centers", 0) != 0;
  const int64_t n = x.dim(0), ih = x.dim(1), iw = x.dim(2), c = x.dim(3), oh = size[0], ow = size[1];
  auto scale = [&](int64_t in, int64_t out) {
    return align && out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                            : static_cast<float>(in) / static_cast<float>(out);
  };
  const float sy = scale(ih, oh), sx = scale(iw, ow);
  const bool f32 = x.dtype() == DType::kF32;
  if (!f32 && !is_qint(x.dtype())) return ctx.unsupported(std::string("input of type ") + dtype_name(x.dtype()));
  Tensor out = Tensor::uninitialized(x.dtype(), {n, oh, ow, c});
  if (!f32) {
    const QuantParams* q = output_quant(ctx, 0);
    if (!q) q = input_quant(ctx, 0);
    if (q) out.set_quant(*q);
  }
  auto get = [&](int64_t i) -> float { return f32 ? x.data<float>()[i] : static_cast<float>(qget(x, i)); };
  auto put = [&](int64_t i, float v) {
    if (f32) out.data<float>()[i] = v;
    else qset(out, i, round_sat(v, qmin(x.dtype()), qmax(x.dtype())));
  };
  // TFLite's integer bilinear kernel (the runtime's for int16, which XNNPACK
  // does not take; in reference mode for every integer type): positions in
  // 1/1024 pixel units, weights products in 1/2^20, rounded half away from
  // zero.
  if (bilinear && !f32 && (x.dtype() == DType::kI16 || !runtime_rounding())) {
    auto scale10 = [&](int64_t in, int64_t out) {
      if (align && out > 1) return ((int64_t{1} << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
      return ((int64_t{1} << 10) * in + out / 2) / out;
    };
    struct ITap { int64_t lo, hi, pos; };
    auto itaps = [&](int64_t in, int64_t out) {
      const int64_t s10 = scale10(in, out);
      std::vector<ITap> t(static_cast<size_t>(out));
      for (int64_t o = 0; o < out; ++o) {
        const int64_t v = hpc ? o * s10 + s10 / 2 - (1 << 9) : o * s10;
        t[size_t(o)] = ITap{std::max<int64_t>(v / 1024, 0), std::min<int64_t>((v + 1023) / 1024, in - 1), v};
      }
      return t;
    };
    const auto ty = itaps(ih, oh), tx = itaps(iw, ow);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xo = 0; xo < ow; ++xo) {
          const ITap& a = ty[size_t(y)];
          const ITap& d = tx[size_t(xo)];
          const int64_t wy = a.pos - 1024 * a.lo, wx = d.pos - 1024 * d.lo;
          const int64_t p00 = ((b * ih + a.lo) * iw + d.lo) * c, p01 = ((b * ih + a.lo) * iw + d.hi) * c;
          const int64_t p10 = ((b * ih + a.hi) * iw + d.lo) * c, p11 = ((b * ih + a.hi) * iw + d.hi) * c;
          const int64_t o = ((b * oh + y) * ow + xo) * c;
          for (int64_t k = 0; k < c; ++k) {
            const int64_t v = int64_t{qget(x, p00 + k)} * (1024 - wy) * (1024 - wx) + int64_t{qget(x, p10 + k)} * wy * (1024 - wx) +
                              int64_t{qget(x, p01 + k)} * (1024 - wy) * wx + int64_t{qget(x, p11 + k)} * wy * wx;
            const int64_t r = (v + (v > 0 ? (1 << 19) : -(1 << 19))) / (int64_t{1} << 20);
            qset(out, o + k, static_cast<int32_t>(std::clamp<int64_t>(r, qmin(x.dtype()), qmax(x.dtype()))));
          }
        }
  } else if (bilinear) {
    struct Tap { int64_t lo, hi; float frac; };
    auto taps = [&](int64_t in, int64_t out, float s) {
      std::vector<Tap> t(static_cast<size_t>(out));
      for (int64_t o = 0; o < out; ++o) {
        const float v = hpc ? (static_cast<float>(o) + 0.5f) * s - 0.5f : static_cast<float>(o) * s;
        const int64_t lo = std::max<int64_t>(static_cast<int64_t>(std::floor(v)), 0);
        const int64_t hi = std::min<int64_t>(static_cast<int64_t>(std::ceil(v)), in - 1);
        t[size_t(o)] = Tap{lo, hi, v - static_cast<float>(lo)};
      }
      return t;
    };
    const auto ty = taps(ih, oh, sy), tx = taps(iw, ow, sx);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xo = 0; xo < ow; ++xo) {
          const Tap& a = ty[size_t(y)];
          const Tap& d = tx[size_t(xo)];
          const int64_t p00 = ((b * ih + a.lo) * iw + d.lo) * c, p01 = ((b * ih + a.lo) * iw + d.hi) * c;
          const int64_t p10 = ((b * ih + a.hi) * iw + d.lo) * c, p11 = ((b * ih + a.hi) * iw + d.hi) * c;
          const int64_t o = ((b * oh + y) * ow + xo) * c;
          for (int64_t k = 0; k < c; ++k) {
            const float v = get(p00 + k) * (1 - a.frac) * (1 - d.frac) + get(p10 + k) * a.frac * (1 - d.frac) +
                            get(p01 + k) * (1 - a.frac) * d.frac + get(p11 + k) * a.frac * d.frac;
            put(o + k, v);
          }
        }
  } else {
    auto src = [&](int64_t o, int64_t in, float s) {
      const float v = (static_cast<float>(o) + (hpc ? 0.5f : 0.0f)) * s;
      int64_t i = static_cast<int64_t>(align ? std::round(v) : std::floor(v));
      return std::clamp<int64_t>(i, 0, in - 1);
    };
    const size_t es = dtype_size(x.dtype());
    for (int64_t b = 0; b < n; ++b)
      for (int64_t y = 0; y < oh; ++y) {
        const int64_t iy = src(y, ih, sy);
        for (int64_t xo = 0; xo < ow; ++xo) {
          const int64_t ix = src(xo, iw, sx);
          std::memcpy(static_cast<uint8_t*>(out.raw()) + ((b * oh + y) * ow + xo) * c * int64_t(es),
                      static_cast<const uint8_t*>(x.raw()) + ((b * ih + iy) * iw + ix) * c * int64_t(es),
                      size_t(c) * es);
        }
      }
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_resize(OpRegistry& r) {
  r.add(OpDef{"tflite", "RESIZE_BILINEAR", [](KernelContext& c) { return resize_kernel(c, true); }});
  r.add(OpDef{"tflite", "RESIZE_NEAREST_NEIGHBOR", [](KernelContext& c) { return resize_kernel(c, false); }});
}

}  // namespace convfix
