// TFLite AVERAGE_POOL_2D, MAX_POOL_2D, L2_POOL_2D (NHWC).
//
// Windows are filter_height x filter_width with stride_h / stride_w and
// TFLite's SAME / VALID rule; padded positions are left out (the average
// divides by the number of input pixels inside the window).
// - float: f32, fused activation applied to the result;
// - integer (average, max): i8/u8/i16 with the output's scale and zero point
//   equal to the input's (as TFLite requires); the average of the integer
//   values is rounded half away from zero, then clamped to the quantised
//   activation range. When the output's parameters differ, the float average
//   is requantised (round half away from zero).
#include <cmath>
#include <limits>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

enum class Kind { kAvg, kMax, kL2 };

Status pool_kernel(KernelContext& ctx, Kind kind) {
  CONVFIX_RETURN_IF_ERROR(require_rank(ctx, 0, 4));
  const Tensor& x = *ctx.input(0);
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  const int64_t fh = ctx.attr_int("filter_height", 1), fw = ctx.attr_int("filter_width", 1);
  const int64_t sh = ctx.attr_int("stride_h", 1), sw = ctx.attr_int("stride_w", 1);
  const std::string pad = ctx.attr_string("padding", "SAME");
  int64_t oh, ow, ph, pw;
  CONVFIX_RETURN_IF_ERROR(window_geometry(ctx, pad, h, fh, sh, 1, &oh, &ph));
  CONVFIX_RETURN_IF_ERROR(window_geometry(ctx, pad, w, fw, sw, 1, &ow, &pw));
  Act act = Act::kNone;
  CONVFIX_RETURN_IF_ERROR(parse_act(ctx, &act));
  const std::vector<int64_t> od{n, oh, ow, c};

  // For each output pixel: the window bounds.
  auto window = [&](int64_t oy, int64_t ox, int64_t* y0, int64_t* y1, int64_t* x0, int64_t* x1) {
    *y0 = std::max<int64_t>(oy * sh - ph, 0);
    *y1 = std::min<int64_t>(oy * sh - ph + fh, h);
    *x0 = std::max<int64_t>(ox * sw - pw, 0);
    *x1 = std::min<int64_t>(ox * sw - pw + fw, w);
  };

  if (x.dtype() == DType::kF32) {
    float lo, hi;
    float_act_range(act, &lo, &hi);
    Tensor out = Tensor::uninitialized(DType::kF32, od);
    const float* xs = x.data<float>();
    float* y = out.data<float>();
    parallel_for(ctx.pool(), n * oh, [&](int64_t r0, int64_t r1) {
      std::vector<float> acc(static_cast<size_t>(c));
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t b = r / oh, oy = r % oh;
        for (int64_t ox = 0; ox < ow; ++ox) {
          int64_t y0, y1, x0, x1;
          window(oy, ox, &y0, &y1, &x0, &x1);
          std::fill(acc.begin(), acc.end(), kind == Kind::kMax ? -std::numeric_limits<float>::infinity() : 0.0f);
          for (int64_t iy = y0; iy < y1; ++iy)
            for (int64_t ix = x0; ix < x1; ++ix) {
              const float* p = xs + ((b * h + iy) * w + ix) * c;
              if (kind == Kind::kMax) for (int64_t k = 0; k < c; ++k) acc[size_t(k)] = std::max(acc[size_t(k)], p[k]);
              else if (kind == Kind::kAvg) for (int64_t k = 0; k < c; ++k) acc[size_t(k)] += p[k];
              else for (int64_t k = 0; k < c; ++k) acc[size_t(k)] += p[k] * p[k];
            }
          const float cnt = static_cast<float>((y1 - y0) * (x1 - x0));
          float* yp = y + ((b * oh + oy) * ow + ox) * c;
          for (int64_t k = 0; k < c; ++k) {
            float v = acc[size_t(k)];
            if (kind == Kind::kAvg) v = cnt > 0 ? v / cnt : 0.0f;
            else if (kind == Kind::kL2) v = cnt > 0 ? std::sqrt(v / cnt) : 0.0f;
            yp[k] = apply_float_act(act, v, lo, hi);
          }
        }
      }
    });
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  if (kind == Kind::kL2) return ctx.unsupported(std::string("input of type ") + dtype_name(x.dtype()));
  QuantUnary qu;
  CONVFIX_RETURN_IF_ERROR(quant_unary(ctx, x.dtype(), &qu, /*same_type=*/true));
  const DType ydt = qu.ydt;
  int32_t lo, hi;
  CONVFIX_RETURN_IF_ERROR(quant_act_range(ctx, act, ydt, *qu.qy, &lo, &hi));
  const double sx = qu.sx, sy = qu.sy;
  const int32_t zx = qu.zx, zy = qu.zy;
  const bool same_params = sx == sy && zx == zy;
  Tensor out = make_output(ydt, od, qu.qy);
  parallel_for(ctx.pool(), n * oh, [&](int64_t r0, int64_t r1) {
    std::vector<int32_t> acc(static_cast<size_t>(c));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / oh, oy = r % oh;
      for (int64_t ox = 0; ox < ow; ++ox) {
        int64_t y0, y1, x0, x1;
        window(oy, ox, &y0, &y1, &x0, &x1);
        std::fill(acc.begin(), acc.end(), kind == Kind::kMax ? std::numeric_limits<int32_t>::min() : 0);
        for (int64_t iy = y0; iy < y1; ++iy)
          for (int64_t ix = x0; ix < x1; ++ix) {
            const int64_t base = ((b * h + iy) * w + ix) * c;
            for (int64_t k = 0; k < c; ++k) {
              const int32_t v = qget(x, base + k);
              if (kind == Kind::kMax) acc[size_t(k)] = std::max(acc[size_t(k)], v);
              else acc[size_t(k)] += v;
            }
          }
        const int32_t cnt = static_cast<int32_t>((y1 - y0) * (x1 - x0));
        const int64_t obase = ((b * oh + oy) * ow + ox) * c;
        for (int64_t k = 0; k < c; ++k) {
          int32_t v = acc[size_t(k)];
          if (kind == Kind::kAvg) {
            if (cnt == 0) v = zx;
            else if (same_params) v = v > 0 ? (v + cnt / 2) / cnt : (v - cnt / 2) / cnt;
          }
          if (!same_params) {
            const double real = kind == Kind::kAvg && cnt > 0 ? (static_cast<double>(v) / cnt - zx) * sx
                                                              : (static_cast<double>(v) - zx) * sx;
            v = round_sat(zy + std::round(real / sy), INT32_MIN / 2, INT32_MAX / 2);
          }
          qset(out, obase + k, std::clamp(v, lo, hi));
        }
      }
    }
  });
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_pool(OpRegistry& r) {
  r.add(OpDef{"tflite", "AVERAGE_POOL_2D", [](KernelContext& c) { return pool_kernel(c, Kind::kAvg); }});
  r.add(OpDef{"tflite", "MAX_POOL_2D", [](KernelContext& c) { return pool_kernel(c, Kind::kMax); }});
  r.add(OpDef{"tflite", "L2_POOL_2D", [](KernelContext& c) { return pool_kernel(c, Kind::kL2); }});
}

}  // namespace convfix
