// Resize (opset 10, 11, 13, 18, 19) and Upsample (opset 7 attribute scales,
// opset 9 input scales).
//
// Every axis is mapped on its own: x_resized -> x_original by the
// coordinate_transformation_mode (half_pixel, half_pixel_symmetric,
// pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn,
// tf_crop_and_resize), then
// - nearest: one source index per output coordinate (nearest_mode
//   round_prefer_floor/round_prefer_ceil/floor/ceil); elements are moved, so
//   every dtype works;
// - linear / cubic: a small list of (index, weight) taps per output
//   coordinate (cubic_coeff_a, exclude_outside, antialias widen and
//   renormalize the taps); axes are resized one after another in f32, which
//   equals the N-linear / N-cubic formula up to rounding.
// Resize before opset 11 and Upsample use asymmetric coordinates and the
// legacy nearest rule of those opsets (truncate when upsampling, ceil when
// downsampling).
#include <cmath>
#include <limits>

#include "ops/data_movement_util.h"

namespace convfix {
namespace {

enum class Coord { kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric, kTfHalfPixelForNN,
                   kTfCropAndResize };
enum class Nearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kLegacy };
enum class Interp { kNearest, kLinear, kCubic };

struct Options {
  Interp mode = Interp::kNearest;
  Coord coord = Coord::kHalfPixel;
  Nearest nearest = Nearest::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  bool antialias = false;
  float extrapolation = 0.f;
};

// Coordinates are computed in f32 like ONNX Runtime and PyTorch do (the
// ONNX reference uses f64; the two differ on exact ties such as
// 1.5 / 0.6f, where f32 gives 2.5 and f64 2.4999999).
struct Axis {
  int64_t in = 1, out = 1;
  float scale = 1;        // length_resized / length_original as the spec uses it
  float len_resized = 1;  // in * scale when scales are given (may be fractional), else out
  float roi_start = 0, roi_end = 1;
  bool identity() const { return in == out && scale == 1.0f; }
};

double original_coord(const Axis& a, Coord c, int64_t xi) {
  const float x = static_cast<float>(xi), in = static_cast<float>(a.in), s = a.scale;
  switch (c) {
    case Coord::kHalfPixel: return (x + 0.5f) / s - 0.5f;
    case Coord::kHalfPixelSymmetric: {
      const float adj = static_cast<float>(a.out) / (s * in);
      const float center = in / 2;
      return center * (1 - adj) + (x + 0.5f) / s - 0.5f;
    }
    case Coord::kPytorchHalfPixel: return a.out > 1 ? (x + 0.5f) / s - 0.5f : 0.0f;
    case Coord::kAlignCorners: return a.len_resized == 1.0f ? 0.0f : x * (in - 1) / (a.len_resized - 1);
    case Coord::kAsymmetric: return x / s;
    case Coord::kTfHalfPixelForNN: return (x + 0.5f) / s;
    case Coord::kTfCropAndResize:
      return a.len_resized > 1 ? a.roi_start * (in - 1) + x * (a.roi_end - a.roi_start) * (in - 1) / (a.len_resized - 1)
                               : 0.5f * (a.roi_start + a.roi_end) * (in - 1);
  }
  return x;
}

bool outside(const Axis& a, Coord c, double xo) {
  return c == Coord::kTfCropAndResize && (xo < 0 || xo > static_cast<double>(a.in - 1));
}

// Source index per output coordinate; -1 = extrapolation value.
std::vector<int64_t> nearest_map(const Axis& a, const Options& o) {
  std::vector<int64_t> m(static_cast<size_t>(a.out));
  for (int64_t x = 0; x < a.out; ++x) {
    if (a.identity() && o.coord != Coord::kTfCropAndResize) { m[static_cast<size_t>(x)] = x; continue; }
    const double xo = original_coord(a, o.coord, x);
    if (outside(a, o.coord, xo)) { m[static_cast<size_t>(x)] = -1; continue; }
    const double f = std::floor(xo), r = xo - f;
    double v = f;
    switch (o.nearest) {
      case Nearest::kRoundPreferFloor: v = r <= 0.5 ? f : f + 1; break;
      case Nearest::kRoundPreferCeil: v = r < 0.5 ? f : f + 1; break;
      case Nearest::kFloor: v = f; break;
      case Nearest::kCeil: v = std::ceil(xo); break;
      case Nearest::kLegacy: v = a.scale < 1 ? std::ceil(xo) : std::trunc(xo); break;
    }
    m[static_cast<size_t>(x)] = static_cast<int64_t>(std::clamp<double>(v, 0, static_cast<double>(a.in - 1)));
  }
  return m;
}

struct Taps {
  int64_t n = 0;                 // taps per output coordinate
  std::vector<int64_t> idx;      // out * n source indices
  std::vector<float> w;          // out * n weights
  std::vector<uint8_t> extrap;   // per output coordinate
};

double kernel(Interp mode, double a, double d) {
  d = std::fabs(d);
  if (mode == Interp::kLinear) return std::max(0.0, 1 - d);
  if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return 0;
}

Taps make_taps(const Axis& a, const Options& o) {
  const double radius = o.mode == Interp::kLinear ? 1 : 2;
  const double s = o.antialias ? std::min<double>(a.scale, 1.0) : 1.0;
  const int64_t i0 = static_cast<int64_t>(std::floor(-radius / s)) + 1, i1 = 2 - i0;
  Taps t;
  t.n = i1 - i0;
  t.idx.assign(static_cast<size_t>(a.out * t.n), 0);
  t.w.assign(static_cast<size_t>(a.out * t.n), 0.f);
  t.extrap.assign(static_cast<size_t>(a.out), 0);
  std::vector<double> w(static_cast<size_t>(t.n));
  for (int64_t x = 0; x < a.out; ++x) {
    const double xo = original_coord(a, o.coord, x);
    if (outside(a, o.coord, xo)) { t.extrap[static_cast<size_t>(x)] = 1; continue; }
    // Base b and ratio r in (0, 1]: taps are b + i for i in [i0, i1).
    const double b = std::ceil(xo) - 1, r = xo - b;
    double sum = 0;
    for (int64_t i = i0; i < i1; ++i) {
      const double wi = kernel(o.mode, o.cubic_a, (static_cast<double>(i) - r) * s);
      w[static_cast<size_t>(i - i0)] = wi;
      sum += wi;
    }
    if (o.antialias && sum != 0)
      for (double& wi : w) wi /= sum;
    if (o.exclude_outside) {
      sum = 0;
      for (int64_t i = i0; i < i1; ++i) {
        const double idx = b + static_cast<double>(i);
        if (idx < 0 || idx >= static_cast<double>(a.in)) w[static_cast<size_t>(i - i0)] = 0;
        sum += w[static_cast<size_t>(i - i0)];
      }
      if (sum != 0)
        for (double& wi : w) wi /= sum;
    }
    for (int64_t i = i0; i < i1; ++i) {
      const size_t k = static_cast<size_t>(x * t.n + (i - i0));
      const double idx = std::clamp<double>(b + static_cast<double>(i), 0, static_cast<double>(a.in - 1));
      t.idx[k] = static_cast<int64_t>(idx);
      t.w[k] = static_cast<float>(w[static_cast<size_t>(i - i0)]);
    }
  }
  return t;
}

// One axis of a linear/cubic resize: src [outer, in, inner] -> dst [outer, out, inner].
void resize_axis(const float* src, float* dst, int64_t outer, int64_t in, int64_t out, int64_t inner, const Taps& t,
                 float extrap, ThreadPool* pool) {
  if (inner == 1) {  // last axis: one dot product of n taps per output element
    const int64_t n = t.n;
    parallel_for(pool, outer, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const float* s = src + o * in;
        float* d = dst + o * out;
        for (int64_t j = 0; j < out; ++j) {
          if (t.extrap[static_cast<size_t>(j)]) { d[j] = extrap; continue; }
          const int64_t* ix = t.idx.data() + j * n;
          const float* w = t.w.data() + j * n;
          float acc = 0.f;
          for (int64_t q = 0; q < n; ++q) acc += w[q] * s[ix[q]];
          d[j] = acc;
        }
      }
    }, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, out)));
    return;
  }
  parallel_for(pool, outer * out, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t o = k / out, j = k % out;
      float* d = dst + k * inner;
      if (t.extrap[static_cast<size_t>(j)]) {
        for (int64_t i = 0; i < inner; ++i) d[i] = extrap;
        continue;
      }
      for (int64_t i = 0; i < inner; ++i) d[i] = 0.f;
      for (int64_t q = 0; q < t.n; ++q) {
        const float w = t.w[static_cast<size_t>(j * t.n + q)];
        if (w == 0.f) continue;
        const float* s = src + (o * in + t.idx[static_cast<size_t>(j * t.n + q)]) * inner;
        for (int64_t i = 0; i < inner; ++i) d[i] += w * s[i];
      }
    }
  }, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, inner)));
}

Status resize_nearest(const KernelContext& ctx, const Tensor& x, const std::vector<Axis>& axes, const Options& o,
                      Tensor* result) {
  const size_t r = axes.size();
  std::vector<int64_t> od(r);
  std::vector<std::vector<int64_t>> maps(r);
  for (size_t d = 0; d < r; ++d) {
    od[d] = axes[d].out;
    maps[d] = nearest_map(axes[d], o);
  }
  Tensor out(x.dtype(), od);
  Tensor fill(x.dtype(), {});
  if (x.dtype() != DType::kString) {
    CONVFIX_ASSIGN_OR_RETURN(fill, Tensor::scalar_f32(o.extrapolation).cast(x.dtype()));
  }
  if (r == 0 || out.numel() == 0) {
    if (r == 0) ops::copy_elements(x, 0, out, 0, 1);
    *result = std::move(out);
    return Status::OK();
  }
  const auto xs = ops::strides_of(x.dims());
  const int64_t inner = od.back(), rows = out.numel() / inner;
  const auto& imap = maps.back();
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_elements(x.dtype(), [&]<typename T>() {
    const T* src = ops::elems<T>(x);
    T* dst = ops::elems<T>(out);
    const T fv = ops::elems<T>(fill)[0];
    parallel_for(ctx.pool(), rows, [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        T* po = dst + row * inner;
        int64_t off = 0, rem = row;
        bool ext = false;
        for (size_t d = r - 1; d-- > 0;) {
          const int64_t c = rem % od[d];
          rem /= od[d];
          const int64_t s = maps[d][static_cast<size_t>(c)];
          if (s < 0) { ext = true; break; }
          off += s * xs[d];
        }
        if (ext) {
          for (int64_t i = 0; i < inner; ++i) po[i] = fv;
          continue;
        }
        const T* ps = src + off;
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t s = imap[static_cast<size_t>(i)];
          po[i] = s < 0 ? fv : ps[s];
        }
      }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner)));
  }, ctx));
  *result = std::move(out);
  return Status::OK();
}

Status resize_interp(const KernelContext& ctx, const Tensor& x, const std::vector<Axis>& axes, const Options& o,
                     Tensor* result) {
  if (!dtype_is_float(x.dtype()) && !dtype_is_integer(x.dtype()))
    return ctx.unsupported(std::string("linear/cubic resize of ") + dtype_name(x.dtype()) + " is not supported");
  Tensor cur;
  if (x.dtype() == DType::kF32) {
    cur = x;
  } else {
    CONVFIX_ASSIGN_OR_RETURN(cur, x.cast(DType::kF32));
  }
  std::vector<int64_t> dims = x.dims();
  // Shrinking axes first keeps the intermediate tensors small.
  std::vector<size_t> order;
  for (size_t d = 0; d < axes.size(); ++d)
    if (!axes[d].identity() || o.coord == Coord::kTfCropAndResize) order.push_back(d);
  std::stable_sort(order.begin(), order.end(), [&](size_t p, size_t q) {
    return axes[p].out * axes[q].in < axes[q].out * axes[p].in;
  });
  for (size_t d : order) {
    const Axis& a = axes[d];
    const Taps t = make_taps(a, o);
    int64_t outer = 1, inner = 1;
    for (size_t k = 0; k < d; ++k) outer *= dims[k];
    for (size_t k = d + 1; k < dims.size(); ++k) inner *= dims[k];
    dims[d] = a.out;
    Tensor next(DType::kF32, dims);
    if (next.numel() > 0)
      resize_axis(cur.data<float>(), next.data<float>(), outer, a.in, a.out, inner, t, o.extrapolation, ctx.pool());
    cur = std::move(next);
  }
  if (order.empty()) cur = cur.clone();
  if (x.dtype() == DType::kF32) {
    *result = std::move(cur);
  } else if (dtype_is_float(x.dtype())) {
    CONVFIX_ASSIGN_OR_RETURN(*result, cur.cast(x.dtype()));
  } else {
    // Integer data: round to nearest and saturate (cubic can overshoot).
    double lo = 0, hi = 0;
    CONVFIX_RETURN_IF_ERROR(ops::dispatch_numeric(x.dtype(), [&]<typename T>() {
      lo = static_cast<double>(std::numeric_limits<T>::lowest());
      hi = static_cast<double>(std::numeric_limits<T>::max());
    }, ctx));
    Tensor rounded(DType::kF64, cur.dims());
    double* pr = rounded.data<double>();
    const float* pc = cur.data<float>();
    for (int64_t i = 0; i < cur.numel(); ++i) pr[i] = std::clamp(std::nearbyint(static_cast<double>(pc[i])), lo, hi);
    CONVFIX_ASSIGN_OR_RETURN(*result, rounded.cast(x.dtype()));
  }
  return Status::OK();
}

Status run_resize(const KernelContext& ctx, const Tensor& x, const std::vector<Axis>& axes, const Options& o,
                  Tensor* out) {
  for (const Axis& a : axes)
    if (a.out < 0) return ctx.error("output size " + std::to_string(a.out) + " is negative");
  for (size_t d = 0; d < axes.size(); ++d)
    if (axes[d].in == 0 && axes[d].out > 0)
      return ctx.error("cannot resize axis " + std::to_string(d) + " of size 0 of " + dims_to_string(x.dims()));
  if (o.mode == Interp::kNearest) return resize_nearest(ctx, x, axes, o, out);
  return resize_interp(ctx, x, axes, o, out);
}

Status parse_mode(const KernelContext& ctx, const std::string& m, Interp* out) {
  if (m == "nearest") *out = Interp::kNearest;
  else if (m == "linear" || m == "bilinear") *out = Interp::kLinear;
  else if (m == "cubic") *out = Interp::kCubic;
  else return ctx.unsupported("mode '" + m + "' is not supported");
  return Status::OK();
}

Status read_floats(const KernelContext& ctx, size_t i, const char* what, std::vector<float>* out) {
  const Tensor& t = *ctx.input(i);
  if (!dtype_is_float(t.dtype()))
    return ctx.error(ops::input_label(i, what) + " must be a float tensor, got " + dtype_name(t.dtype()));
  out->resize(static_cast<size_t>(t.numel()));
  for (int64_t k = 0; k < t.numel(); ++k) (*out)[static_cast<size_t>(k)] = static_cast<float>(t.get_f64(k));
  return Status::OK();
}

// Output sizes and axis plans from scales (out = floor(in * scale)).
Status axes_from_scales(const KernelContext& ctx, const Tensor& x, const std::vector<float>& scales,
                        std::vector<Axis>* axes) {
  if (static_cast<int64_t>(scales.size()) != x.rank())
    return ctx.error("scales has " + std::to_string(scales.size()) + " values for input shape " + dims_to_string(x.dims()));
  axes->resize(scales.size());
  for (size_t d = 0; d < scales.size(); ++d) {
    if (!(scales[d] > 0))
      return ctx.error("scales[" + std::to_string(d) + "] = " + std::to_string(scales[d]) + " must be positive");
    Axis& a = (*axes)[d];
    a.in = x.dims()[d];
    a.scale = scales[d];
    a.len_resized = static_cast<float>(a.in) * a.scale;
    a.out = static_cast<int64_t>(std::floor(a.len_resized));
  }
  return Status::OK();
}

Status resize(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const int64_t r = x.rank();
  Options o;
  CONVFIX_RETURN_IF_ERROR(parse_mode(ctx, ctx.attr_string("mode", "nearest"), &o.mode));
  if (ctx.opset() < 11) {
    o.coord = Coord::kAsymmetric;
    o.nearest = Nearest::kLegacy;
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
    std::vector<float> scales;
    CONVFIX_RETURN_IF_ERROR(read_floats(ctx, 1, "scales", &scales));
    std::vector<Axis> axes;
    CONVFIX_RETURN_IF_ERROR(axes_from_scales(ctx, x, scales, &axes));
    Tensor out;
    CONVFIX_RETURN_IF_ERROR(run_resize(ctx, x, axes, o, &out));
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  const std::string cm = ctx.attr_string("coordinate_transformation_mode", "half_pixel");
  if (cm == "half_pixel") o.coord = Coord::kHalfPixel;
  else if (cm == "half_pixel_symmetric") o.coord = Coord::kHalfPixelSymmetric;
  else if (cm == "pytorch_half_pixel") o.coord = Coord::kPytorchHalfPixel;
  else if (cm == "align_corners") o.coord = Coord::kAlignCorners;
  else if (cm == "asymmetric") o.coord = Coord::kAsymmetric;
  else if (cm == "tf_half_pixel_for_nn") o.coord = Coord::kTfHalfPixelForNN;
  else if (cm == "tf_crop_and_resize") o.coord = Coord::kTfCropAndResize;
  else return ctx.unsupported("coordinate_transformation_mode '" + cm + "' is not supported");
  const std::string nm = ctx.attr_string("nearest_mode", "round_prefer_floor");
  if (nm == "round_prefer_floor") o.nearest = Nearest::kRoundPreferFloor;
  else if (nm == "round_prefer_ceil") o.nearest = Nearest::kRoundPreferCeil;
  else if (nm == "floor") o.nearest = Nearest::kFloor;
  else if (nm == "ceil") o.nearest = Nearest::kCeil;
  else return ctx.unsupported("nearest_mode '" + nm + "' is not supported");
  o.cubic_a = ctx.attr_float("cubic_coeff_a", -0.75f);
  o.exclude_outside = ctx.attr_int("exclude_outside", 0) != 0;
  o.extrapolation = ctx.attr_float("extrapolation_value", 0.f);
  o.antialias = ctx.attr_int("antialias", 0) != 0 && o.mode != Interp::kNearest;

  // Axes the scales/sizes/roi refer to (opset 18), all by default.
  std::vector<int64_t> sel = ctx.attr_ints("axes");
  if (sel.empty())
    for (int64_t d = 0; d < r; ++d) sel.push_back(d);
  else
    CONVFIX_RETURN_IF_ERROR(ops::normalize_axes(ctx, sel, r));
  const size_t ns = sel.size();

  const bool have_scales = ctx.has_input(2) && ctx.input(2)->numel() > 0;
  const bool have_sizes = ctx.has_input(3) && ctx.input(3)->numel() > 0;
  if (have_scales == have_sizes)
    return ctx.error(have_scales ? "input 2 (scales) and input 3 (sizes) are both given; exactly one is allowed"
                                 : "needs input 2 (scales) or input 3 (sizes)");
  std::vector<Axis> axes(static_cast<size_t>(r));
  for (int64_t d = 0; d < r; ++d) {
    Axis& a = axes[static_cast<size_t>(d)];
    a.in = a.out = x.dim(d);
    a.len_resized = static_cast<float>(a.in);
  }
  if (o.coord == Coord::kTfCropAndResize && ctx.has_input(1) && ctx.input(1)->numel() > 0) {
    std::vector<float> roi;
    CONVFIX_RETURN_IF_ERROR(read_floats(ctx, 1, "roi", &roi));
    if (roi.size() != 2 * ns)
      return ctx.error("input 1 (roi) has " + std::to_string(roi.size()) + " values, expected " + std::to_string(2 * ns));
    for (size_t i = 0; i < ns; ++i) {
      axes[static_cast<size_t>(sel[i])].roi_start = roi[i];
      axes[static_cast<size_t>(sel[i])].roi_end = roi[i + ns];
    }
  }
  if (have_scales) {
    std::vector<float> scales;
    CONVFIX_RETURN_IF_ERROR(read_floats(ctx, 2, "scales", &scales));
    if (scales.size() != ns)
      return ctx.error("input 2 (scales) has " + std::to_string(scales.size()) + " values, expected " + std::to_string(ns) +
                       " for input shape " + dims_to_string(x.dims()));
    for (size_t i = 0; i < ns; ++i) {
      Axis& a = axes[static_cast<size_t>(sel[i])];
      if (!(scales[i] > 0))
        return ctx.error("input 2 (scales) value " + std::to_string(scales[i]) + " must be positive");
      a.scale = scales[i];
      a.len_resized = static_cast<float>(a.in) * a.scale;
      const float crop = o.coord == Coord::kTfCropAndResize ? a.roi_end - a.roi_start : 1.0f;
      a.out = static_cast<int64_t>(std::floor(static_cast<float>(a.in) * crop * a.scale));
    }
  } else {
    std::vector<int64_t> sizes;
    CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 3, "sizes", &sizes));
    if (sizes.size() != ns)
      return ctx.error("input 3 (sizes) has " + std::to_string(sizes.size()) + " values, expected " + std::to_string(ns) +
                       " for input shape " + dims_to_string(x.dims()));
    const std::string policy = ctx.attr_string("keep_aspect_ratio_policy", "stretch");
    if (policy == "stretch") {
      for (size_t i = 0; i < ns; ++i) {
        Axis& a = axes[static_cast<size_t>(sel[i])];
        a.out = sizes[i];
        a.scale = a.in ? static_cast<float>(a.out) / static_cast<float>(a.in) : 1.0f;
        a.len_resized = static_cast<float>(a.out);
      }
    } else if (policy == "not_larger" || policy == "not_smaller") {
      float s = policy == "not_larger" ? std::numeric_limits<float>::infinity() : 0.0f;
      for (size_t i = 0; i < ns; ++i) {
        const float q = static_cast<float>(sizes[i]) / static_cast<float>(axes[static_cast<size_t>(sel[i])].in);
        s = policy == "not_larger" ? std::min(s, q) : std::max(s, q);
      }
      for (size_t i = 0; i < ns; ++i) {
        Axis& a = axes[static_cast<size_t>(sel[i])];
        a.scale = s;
        a.out = static_cast<int64_t>(std::floor(s * static_cast<float>(a.in) + 0.5f));
        a.len_resized = static_cast<float>(a.out);
      }
    } else {
      return ctx.unsupported("keep_aspect_ratio_policy '" + policy + "' is not supported");
    }
  }
  Tensor out;
  CONVFIX_RETURN_IF_ERROR(run_resize(ctx, x, axes, o, &out));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status upsample(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  Options o;
  o.coord = Coord::kAsymmetric;
  o.nearest = Nearest::kLegacy;
  CONVFIX_RETURN_IF_ERROR(parse_mode(ctx, ctx.attr_string("mode", "nearest"), &o.mode));
  if (o.mode == Interp::kCubic) return ctx.unsupported("mode 'cubic' is not an Upsample mode");
  std::vector<float> scales;
  if (ctx.has_input(1)) {
    CONVFIX_RETURN_IF_ERROR(read_floats(ctx, 1, "scales", &scales));
  } else {
    scales = ctx.attr_floats("scales");
  }
  std::vector<Axis> axes;
  CONVFIX_RETURN_IF_ERROR(axes_from_scales(ctx, x, scales, &axes));
  Tensor out;
  CONVFIX_RETURN_IF_ERROR(run_resize(ctx, x, axes, o, &out));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_resize(OpRegistry& r) {
  r.add({"", "Resize", resize, FloatCompute::kNone, 10});
  r.add({"", "Upsample", upsample, FloatCompute::kNone, 7});
}

}  // namespace convfix
