// TFLite CONV_2D and DEPTHWISE_CONV_2D (NHWC data; OHWI / 1HWO weights).
//
// - float: f32 input and weights (f16 weights are widened), f64 accumulation
//   (convfix's own rounding error stays well below the runtime's f32 one),
//   bias and the fused activation applied last.
// - integer: i8/u8/i16 input and output with i8/u8 weights, per-tensor or
//   per-channel weight scales; acc = bias + sum (x - zx) * (w - zw) in int32
//   (int64 for i16 activations), requantised with the fixed-point multiplier
//   in_scale * w_scale[c] / out_scale, plus the output zero point, clamped to
//   the quantised activation range. With TfliteRounding::kRuntime (the
//   default) the multiplier is applied in f32 with round-half-to-even, as the
//   runtime's XNNPACK delegate does (tflite_format.h).
// - hybrid (f32 input, i8 weights: dynamic-range quantisation): the input is
//   quantised per batch as TFLite does (symmetric [-127, 127] for per-tensor
//   weights, asymmetric with a zero point for per-channel weights and for
//   depthwise), the products summed in int32 and scaled back to float.
// Depthwise output channel o reads input channel o / depth_multiplier.
#include <cmath>
#include <cstring>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

struct Geom {
  int64_t n, h, w, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, ph, pw, mult;
  bool depthwise;
};

// acc[oc] over the window of output pixel (b, oy, ox). X values enter as
// A(x) - xoff. wt: [KH][KW][IC][OC] (conv) or [KH][KW][OC] (depthwise).
template <typename X, typename W, typename A>
inline void window_acc(const Geom& g, const X* __restrict x, const W* __restrict wt, A xoff, int64_t b, int64_t oy,
                       int64_t ox, A* __restrict acc) {
  for (int64_t o = 0; o < g.oc; ++o) acc[o] = A(0);
  for (int64_t ky = 0; ky < g.kh; ++ky) {
    const int64_t iy = oy * g.sh - g.ph + ky * g.dh;
    if (iy < 0 || iy >= g.h) continue;
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const int64_t ix = ox * g.sw - g.pw + kx * g.dw;
      if (ix < 0 || ix >= g.w) continue;
      const X* xp = x + ((b * g.h + iy) * g.w + ix) * g.ic;
      if (!g.depthwise) {
        const W* wp = wt + (ky * g.kw + kx) * g.ic * g.oc;
        for (int64_t c = 0; c < g.ic; ++c) {
          const A xv = static_cast<A>(xp[c]) - xoff;
          const W* wr = wp + c * g.oc;
          for (int64_t o = 0; o < g.oc; ++o) acc[o] += xv * static_cast<A>(wr[o]);
        }
      } else {
        const W* wp = wt + (ky * g.kw + kx) * g.oc;
        if (g.mult == 1) {
          for (int64_t o = 0; o < g.oc; ++o) acc[o] += (static_cast<A>(xp[o]) - xoff) * static_cast<A>(wp[o]);
        } else {
          for (int64_t c = 0; c < g.ic; ++c) {
            const A xv = static_cast<A>(xp[c]) - xoff;
            for (int64_t m = 0; m < g.mult; ++m) acc[c * g.mult + m] += xv * static_cast<A>(wp[c * g.mult + m]);
          }
        }
      }
    }
  }
}

// Runs epi(b, pixel, acc) for every output pixel, rows split over the pool.
template <typename X, typename W, typename A, typename Epi>
void run_conv(ThreadPool* pool, const Geom& g, const X* x, const W* wt, const std::vector<A>& xoff, Epi epi) {
  parallel_for(pool, g.n * g.oh, [&](int64_t r0, int64_t r1) {
    std::vector<A> acc(static_cast<size_t>(g.oc));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / g.oh, oy = r % g.oh;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        window_acc<X, W, A>(g, x, wt, xoff[static_cast<size_t>(b)], b, oy, ox, acc.data());
        epi(b, (b * g.oh + oy) * g.ow + ox, acc.data());
      }
    }
  });
}

// Weights repacked to [KH][KW][IC][OC] (conv, from OHWI) or kept [KH][KW][OC]
// (depthwise, from 1HWO), converted to T with `zero` subtracted.
template <typename T>
std::vector<T> pack_weights(const Geom& g, const Tensor& w, int32_t zero) {
  const int64_t n = w.numel();
  std::vector<T> out(static_cast<size_t>(n));
  auto val = [&](int64_t i) -> T {
    if (w.dtype() == DType::kF32) return static_cast<T>(w.data<float>()[i]);
    if (w.dtype() == DType::kF16) return static_cast<T>(f16_to_f32(w.data<uint16_t>()[i]));
    return static_cast<T>(qget(w, i) - zero);
  };
  if (g.depthwise) {
    for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = val(i);
    return out;
  }
  for (int64_t o = 0; o < g.oc; ++o)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx)
        for (int64_t c = 0; c < g.ic; ++c)
          out[static_cast<size_t>(((ky * g.kw + kx) * g.ic + c) * g.oc + o)] =
              val(((o * g.kh + ky) * g.kw + kx) * g.ic + c);
  return out;
}

Status geometry(KernelContext& ctx, bool depthwise, Geom* g) {
  CONVFIX_RETURN_IF_ERROR(require_rank(ctx, 0, 4));
  CONVFIX_RETURN_IF_ERROR(require_rank(ctx, 1, 4));
  const Tensor& x = *ctx.input(0);
  const Tensor& w = *ctx.input(1);
  g->depthwise = depthwise;
  g->n = x.dim(0);
  g->h = x.dim(1);
  g->w = x.dim(2);
  g->ic = x.dim(3);
  g->kh = w.dim(1);
  g->kw = w.dim(2);
  g->sh = ctx.attr_int("stride_h", 1);
  g->sw = ctx.attr_int("stride_w", 1);
  g->dh = ctx.attr_int("dilation_h_factor", 1);
  g->dw = ctx.attr_int("dilation_w_factor", 1);
  if (depthwise) {
    if (w.dim(0) != 1) return ctx.error("depthwise weights must be [1, KH, KW, O], got " + dims_to_string(w.dims()));
    g->oc = w.dim(3);
    if (g->ic <= 0 || g->oc % g->ic != 0)
      return ctx.error("depthwise output channels " + std::to_string(g->oc) + " are not a multiple of input channels " +
                       std::to_string(g->ic));
    g->mult = g->oc / g->ic;
  } else {
    g->oc = w.dim(0);
    g->mult = 1;
    if (w.dim(3) != g->ic)
      return ctx.unsupported("weights have " + std::to_string(w.dim(3)) + " input channels, input has " +
                             std::to_string(g->ic) + " (grouped convolution)");
  }
  const std::string pad = ctx.attr_string("padding", "SAME");
  CONVFIX_RETURN_IF_ERROR(window_geometry(ctx, pad, g->h, g->kh, g->sh, g->dh, &g->oh, &g->ph));
  CONVFIX_RETURN_IF_ERROR(window_geometry(ctx, pad, g->w, g->kw, g->sw, g->dw, &g->ow, &g->pw));
  if (ctx.has_input(2) && ctx.input(2)->numel() != g->oc)
    return ctx.error("bias has " + std::to_string(ctx.input(2)->numel()) + " elements, expected " +
                     std::to_string(g->oc));
  return Status::OK();
}

Status conv_float(KernelContext& ctx, const Geom& g, Act act) {
  const Tensor& x = *ctx.input(0);
  std::vector<float> wt = pack_weights<float>(g, *ctx.input(1), 0);
  std::vector<float> bias(static_cast<size_t>(g.oc), 0.0f);
  if (ctx.has_input(2)) {
    CONVFIX_ASSIGN_OR_RETURN(Tensor bf, float_view(ctx, 2));
    for (int64_t o = 0; o < g.oc; ++o) bias[static_cast<size_t>(o)] = bf.data<float>()[o];
  }
  float lo, hi;
  float_act_range(act, &lo, &hi);
  Tensor out = Tensor::uninitialized(DType::kF32, {g.n, g.oh, g.ow, g.oc});
  float* y = out.data<float>();
  const int64_t oc = g.oc;
  run_conv<float, float, double>(ctx.pool(), g, x.data<float>(), wt.data(), std::vector<double>(size_t(g.n), 0.0),
                                [&](int64_t, int64_t pix, const double* acc) {
                                  float* yp = y + pix * oc;
                                  for (int64_t o = 0; o < oc; ++o)
                                    yp[o] = apply_float_act(act, static_cast<float>(acc[o] + bias[size_t(o)]), lo, hi);
                                });
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

// Dynamic-range (hybrid) path: f32 input, quantized weights.
Status conv_hybrid(KernelContext& ctx, const Geom& g, Act act, const QuantParams& wq) {
  const Tensor& x = *ctx.input(0);
  const int64_t per_batch = g.h * g.w * g.ic;
  if (wq.per_channel() && static_cast<int64_t>(wq.scale.size()) != g.oc)
    return ctx.error("weights have " + std::to_string(wq.scale.size()) + " scales, expected " + std::to_string(g.oc));
  const bool asym = g.depthwise || wq.per_channel();
  std::vector<int8_t> xq(static_cast<size_t>(x.numel()));
  std::vector<int32_t> off(static_cast<size_t>(g.n), 0);
  std::vector<float> bscale(static_cast<size_t>(g.n), 1.0f);
  const float* xs = x.data<float>();
  for (int64_t b = 0; b < g.n; ++b) {
    const float* p = xs + b * per_batch;
    int8_t* q = xq.data() + b * per_batch;
    float mn = 0, mx = 0;
    if (per_batch > 0) {
      mn = mx = p[0];
      for (int64_t i = 1; i < per_batch; ++i) { mn = std::min(mn, p[i]); mx = std::max(mx, p[i]); }
    }
    if (!asym) {
      const float range = std::max(std::fabs(mn), std::fabs(mx));
      if (range == 0) { std::memset(q, 0, static_cast<size_t>(per_batch)); bscale[size_t(b)] = 1; continue; }
      const float inv = 127.0f / range;
      for (int64_t i = 0; i < per_batch; ++i)
        q[i] = static_cast<int8_t>(round_sat(std::round(p[i] * inv), -127, 127));
      bscale[size_t(b)] = range / 127.0f;
    } else {
      const double rmin = std::min<double>(mn, 0), rmax = std::max<double>(mx, 0);
      if (rmin == rmax) { std::memset(q, 0, static_cast<size_t>(per_batch)); bscale[size_t(b)] = 1; continue; }
      const double qlo = -128, qhi = 127;
      const double s = (rmax - rmin) / (qhi - qlo);
      const double zmin = qlo - rmin / s, zmax = qhi - rmax / s;
      const double emin = std::fabs(qlo) + std::fabs(rmin / s), emax = std::fabs(qhi) + std::fabs(rmax / s);
      const double zd = emin < emax ? zmin : zmax;
      const int32_t z = static_cast<int32_t>(std::clamp<double>(std::round(zd), qlo, qhi));
      const float inv = static_cast<float>(1.0 / s);
      for (int64_t i = 0; i < per_batch; ++i)
        q[i] = static_cast<int8_t>(round_sat(static_cast<double>(z) + std::round(p[i] * inv), -128, 127));
      bscale[size_t(b)] = static_cast<float>(s);
      off[size_t(b)] = z;
    }
  }
  std::vector<int32_t> wt = pack_weights<int32_t>(g, *ctx.input(1), 0);
  std::vector<float> bias(static_cast<size_t>(g.oc), 0.0f);
  if (ctx.has_input(2)) {
    CONVFIX_ASSIGN_OR_RETURN(Tensor bf, float_view(ctx, 2));
    for (int64_t o = 0; o < g.oc; ++o) bias[size_t(o)] = bf.data<float>()[o];
  }
  std::vector<float> ws(static_cast<size_t>(g.oc));
  for (int64_t o = 0; o < g.oc; ++o) ws[size_t(o)] = scale_of(wq, wq.per_channel() ? o : 0);
  float lo, hi;
  float_act_range(act, &lo, &hi);
  Tensor out = Tensor::uninitialized(DType::kF32, {g.n, g.oh, g.ow, g.oc});
  float* y = out.data<float>();
  run_conv<int8_t, int32_t, int32_t>(ctx.pool(), g, xq.data(), wt.data(), off, [&](int64_t b, int64_t pix, const int32_t* acc) {
    float* yp = y + pix * g.oc;
    for (int64_t o = 0; o < g.oc; ++o)
      yp[o] = apply_float_act(act, static_cast<float>(acc[o]) * (bscale[size_t(b)] * ws[size_t(o)]) + bias[size_t(o)],
                              lo, hi);
  });
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

template <typename X, typename A>
Status conv_quant(KernelContext& ctx, const Geom& g, Act act, const QuantParams& xq, const QuantParams& wq,
                  const QuantParams& yq, DType ydt) {
  const Tensor& x = *ctx.input(0);
  const Tensor& w = *ctx.input(1);
  if (wq.per_channel() && static_cast<int64_t>(wq.scale.size()) != g.oc)
    return ctx.error("weights have " + std::to_string(wq.scale.size()) + " scales, expected " + std::to_string(g.oc));
  // Weight zero point: per-tensor (uint8) only; int8 per-channel weights are symmetric.
  std::vector<int32_t> wt = pack_weights<int32_t>(g, w, zp_of(wq));
  std::vector<A> bias(static_cast<size_t>(g.oc), A(0));
  if (ctx.has_input(2)) {
    const Tensor& b = *ctx.input(2);
    if (b.dtype() != DType::kI32 && b.dtype() != DType::kI64)
      return ctx.unsupported(std::string("quantized bias of type ") + dtype_name(b.dtype()));
    for (int64_t o = 0; o < g.oc; ++o) bias[size_t(o)] = static_cast<A>(b.get_i64(o));
  }
  const double sx = scale_of(xq), sy = scale_of(yq);
  std::vector<QMul> mul(static_cast<size_t>(g.oc));
  for (int64_t o = 0; o < g.oc; ++o)
    mul[size_t(o)] = quantize_multiplier(sx * static_cast<double>(scale_of(wq, wq.per_channel() ? o : 0)) / sy);
  std::vector<float> fmul(static_cast<size_t>(g.oc));
  for (int64_t o = 0; o < g.oc; ++o)
    fmul[size_t(o)] = float_multiplier(static_cast<float>(sx), scale_of(wq, wq.per_channel() ? o : 0), static_cast<float>(sy));
  const bool fast = runtime_rounding() && sizeof(A) == 4;  // XNNPACK has no 16-bit path
  int32_t lo, hi;
  CONVFIX_RETURN_IF_ERROR(quant_act_range(ctx, act, ydt, yq, &lo, &hi));
  const int32_t zy = zp_of(yq);
  Tensor out = make_output(ydt, {g.n, g.oh, g.ow, g.oc}, &yq);
  const std::vector<A> off(static_cast<size_t>(g.n), static_cast<A>(zp_of(xq)));
  auto store = [&](auto* y) {
    run_conv<X, int32_t, A>(ctx.pool(), g, x.data<X>(), wt.data(), off, [&](int64_t, int64_t pix, const A* acc) {
      auto* yp = y + pix * g.oc;
      for (int64_t o = 0; o < g.oc; ++o) {
        const A a = acc[o] + bias[size_t(o)];
        int32_t v;
        if (fast) v = requant_float(a, fmul[size_t(o)]);
        else if constexpr (sizeof(A) == 4) v = multiply_by_qmul(a, mul[size_t(o)]);
        else v = multiply_by_qmul64(a, mul[size_t(o)]);
        v = std::clamp(v + zy, lo, hi);
        yp[o] = static_cast<std::remove_reference_t<decltype(*yp)>>(v);
      }
    });
  };
  if (ydt == DType::kI8) store(out.data<int8_t>());
  else if (ydt == DType::kU8) store(out.data<uint8_t>());
  else store(out.data<int16_t>());
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status conv_kernel(KernelContext& ctx, bool depthwise) {
  Geom g;
  CONVFIX_RETURN_IF_ERROR(geometry(ctx, depthwise, &g));
  Act act = Act::kNone;
  CONVFIX_RETURN_IF_ERROR(parse_act(ctx, &act));
  const Tensor& x = *ctx.input(0);
  const Tensor& w = *ctx.input(1);
  if (x.dtype() == DType::kF32) {
    if (w.dtype() == DType::kF32 || w.dtype() == DType::kF16) return conv_float(ctx, g, act);
    const QuantParams* wq = input_quant(ctx, 1);
    if ((w.dtype() == DType::kI8 || w.dtype() == DType::kU8) && wq) {
      if (w.dtype() == DType::kU8) return ctx.unsupported("hybrid convolution with uint8 weights");
      return conv_hybrid(ctx, g, act, *wq);
    }
    return ctx.unsupported(std::string("f32 input with weights of type ") + dtype_name(w.dtype()));
  }
  QuantUnary qu;
  CONVFIX_RETURN_IF_ERROR(quant_unary(ctx, x.dtype(), &qu));
  const QuantParams* xq = qu.qx;
  const QuantParams* wq = input_quant(ctx, 1);
  const QuantParams* yq = qu.qy;
  const DType ydt = qu.ydt;
  if (!wq) return ctx.error("quantized convolution needs quantization parameters on its weights");
  if (w.dtype() != DType::kI8 && w.dtype() != DType::kU8)
    return ctx.unsupported(std::string("quantized input with weights of type ") + dtype_name(w.dtype()));
  switch (x.dtype()) {
    case DType::kI8: return conv_quant<int8_t, int32_t>(ctx, g, act, *xq, *wq, *yq, ydt);
    case DType::kU8: return conv_quant<uint8_t, int32_t>(ctx, g, act, *xq, *wq, *yq, ydt);
    default: return conv_quant<int16_t, int64_t>(ctx, g, act, *xq, *wq, *yq, ydt);
  }
}

}  // namespace

void register_ops_tflite_conv(OpRegistry& r) {
  r.add(OpDef{"tflite", "CONV_2D", [](KernelContext& c) { return conv_kernel(c, false); }});
  r.add(OpDef{"tflite", "DEPTHWISE_CONV_2D", [](KernelContext& c) { return conv_kernel(c, true); }});
}

}  // namespace convfix
