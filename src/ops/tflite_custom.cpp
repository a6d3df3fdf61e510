// MediaPipe's TFLite custom ops (domain "tflite.custom", op_type = the
// custom code), float32 only as in MediaPipe:
//
// - Convolution2DTransposeBias (input NHWC, weights OHWI, bias [O]): a
//   transposed convolution plus bias. custom_options = the raw bytes of a
//   TfLiteTransposeConvParams struct, little-endian int32 fields
//   {padding, stride_width, stride_height, ...} (padding 1 = SAME,
//   2 = VALID; further fields ignored). Output H = stride * (H_in - 1) + K -
//   P, P = max(0, K - (H_in - 1) % stride - 1) for SAME, 0 for VALID; the
//   first P / 2 rows of the full result are cropped (same for W).
// - MaxPoolingWithArgmax2D (one input, outputs [values, indices]):
//   custom_options = a TfLitePoolParams struct {padding, stride_width,
//   stride_height, filter_width, filter_height, activation, ...} (int32
//   each; activation 0 NONE, 1 RELU, 2 RELU_N1_TO_1, 3 RELU6, others do not
//   clamp). SAME / VALID windows as MAX_POOL_2D (out = ceil(in / stride) or
//   (in - filter + stride) / stride, leading pad = total / 2), padded pixels
//   left out. values = the window's max (first one on ties) clamped by the
//   activation; indices (float32) = ky * filter_width + kx + 0.1, the
//   position of that max inside the unclipped window.
// - MaxUnpooling2D (inputs values, indices; same options struct): output
//   [N, H * filter_height, W * filter_width, C] zero-filled; each value goes
//   to row y * stride_h - pad_h + trunc(idx) / filter_width, column
//   x * stride_w - pad_w + trunc(idx) % filter_width (pad = max(0, ((H - 1)
//   * stride + filter - H_out) / 2)); positions outside the output are
//   skipped; a later input wins where two land on one position.
// The layouts are those of MediaPipe's published kernels (facts read from
// their documentation and sources; this code is written independently).
// Options shorter than the fields used, or a padding other than SAME /
// VALID, are errors naming the node.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

// Little-endian int32 fields of a raw custom_options struct.
Status struct_fields(const KernelContext& ctx, size_t count, std::vector<int32_t>* out) {
  const Attribute* a = ctx.node().attr("custom_options");
  if (!a) return ctx.error("custom_options are missing");
  const std::string& s = a->s;
  if (s.size() < count * 4)
    return ctx.error("custom_options hold " + std::to_string(s.size()) + " bytes, expected at least " +
                     std::to_string(count * 4) + " (" + std::to_string(count) + " int32 fields)");
  out->resize(count);
  for (size_t i = 0; i < count; ++i) {
    uint32_t v = 0;
    for (int b = 3; b >= 0; --b) v = (v << 8) | static_cast<uint8_t>(s[i * 4 + size_t(b)]);
    (*out)[i] = static_cast<int32_t>(v);
  }
  return Status::OK();
}

Status padding_name(const KernelContext& ctx, int32_t code, std::string* out) {
  if (code == 1) *out = "SAME";
  else if (code == 2) *out = "VALID";
  else return ctx.error("custom_options padding " + std::to_string(code) + " is neither SAME (1) nor VALID (2)");
  return Status::OK();
}

Status require_f32(const KernelContext& ctx, size_t i, int64_t rank) {
  CONVFIX_RETURN_IF_ERROR(require_rank(ctx, i, rank));
  if (ctx.input(i)->dtype() != DType::kF32)
    return ctx.unsupported("input " + std::to_string(i) + " of type " + dtype_name(ctx.input(i)->dtype()) +
                           " (MediaPipe's kernel is float32 only)");
  return Status::OK();
}

// Refuses outputs whose size does not fit (options come from the file).
Status check_output_size(const KernelContext& ctx, const std::vector<int64_t>& dims) {
  constexpr int64_t kMax = int64_t{1} << 30;  // elements (4 GiB of f32)
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || d > kMax || (d > 0 && n > kMax / d))
      return ctx.error("output " + dims_to_string(dims) + " is too large (custom_options strides or filter sizes)");
    n *= d;
  }
  return Status::OK();
}

struct PoolOpts {
  std::string padding;
  int64_t sw = 1, sh = 1, fw = 1, fh = 1;
  int32_t act = 0;
};

Status pool_opts(const KernelContext& ctx, PoolOpts* o) {
  std::vector<int32_t> f;
  CONVFIX_RETURN_IF_ERROR(struct_fields(ctx, 6, &f));
  CONVFIX_RETURN_IF_ERROR(padding_name(ctx, f[0], &o->padding));
  o->sw = f[1];
  o->sh = f[2];
  o->fw = f[3];
  o->fh = f[4];
  o->act = f[5];
  if (o->sw < 1 || o->sh < 1 || o->fw < 1 || o->fh < 1)
    return ctx.error("custom_options strides and filter sizes must be positive (stride " + std::to_string(o->sh) + "x" +
                     std::to_string(o->sw) + ", filter " + std::to_string(o->fh) + "x" + std::to_string(o->fw) + ")");
  return Status::OK();
}

Status transpose_conv_bias_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(require_f32(ctx, 0, 4));
  CONVFIX_RETURN_IF_ERROR(require_f32(ctx, 1, 4));
  CONVFIX_RETURN_IF_ERROR(require_f32(ctx, 2, 1));
  const Tensor& x = *ctx.input(0);
  const Tensor& w = *ctx.input(1);
  const Tensor& b = *ctx.input(2);
  std::vector<int32_t> f;
  CONVFIX_RETURN_IF_ERROR(struct_fields(ctx, 3, &f));
  std::string padding;
  CONVFIX_RETURN_IF_ERROR(padding_name(ctx, f[0], &padding));
  const int64_t sw = f[1], sh = f[2];
  if (sw < 1 || sh < 1) return ctx.error("custom_options strides must be positive");
  const int64_t n = x.dim(0), ih = x.dim(1), iw = x.dim(2), ic = x.dim(3);
  const int64_t oc = w.dim(0), kh = w.dim(1), kw = w.dim(2);
  if (w.dim(3) != ic) return ctx.error("weights " + dims_to_string(w.dims()) + " do not take " + std::to_string(ic) + " input channels");
  if (b.dim(0) != oc) return ctx.error("bias " + dims_to_string(b.dims()) + " does not match " + std::to_string(oc) + " output channels");
  if (ih < 1 || iw < 1) return ctx.error("empty input " + dims_to_string(x.dims()));
  int64_t ph = 0, pw = 0;
  if (padding == "SAME") {
    ph = std::max<int64_t>(0, kh - (ih - 1) % sh - 1);
    pw = std::max<int64_t>(0, kw - (iw - 1) % sw - 1);
  }
  const int64_t oh = sh * (ih - 1) + kh - ph, ow = sw * (iw - 1) + kw - pw;
  const int64_t top = ph / 2, left = pw / 2;
  CONVFIX_RETURN_IF_ERROR(check_output_size(ctx, {n, oh, ow, oc}));
  Tensor out = Tensor::uninitialized(DType::kF32, {n, oh, ow, oc});
  const float* xs = x.data<float>();
  const float* ws = w.data<float>();
  const float* bs = b.data<float>();
  float* ys = out.data<float>();
  // Gather form: every output pixel sums the inputs whose window covers it
  // (double accumulation, then the bias).
  parallel_for(ctx.pool(), n * oh, [&](int64_t r0, int64_t r1) {
    std::vector<double> acc(static_cast<size_t>(oc));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t bn = r / oh, oy = r % oh;
      for (int64_t ox = 0; ox < ow; ++ox) {
        std::fill(acc.begin(), acc.end(), 0.0);
        const int64_t fy = oy + top, fx = ox + left;  // position in the uncropped result
        for (int64_t ky = 0; ky < kh; ++ky) {
          const int64_t ty = fy - ky;
          if (ty < 0 || ty % sh) continue;
          const int64_t iy = ty / sh;
          if (iy >= ih) continue;
          for (int64_t kx = 0; kx < kw; ++kx) {
            const int64_t tx = fx - kx;
            if (tx < 0 || tx % sw) continue;
            const int64_t ix = tx / sw;
            if (ix >= iw) continue;
            const float* xp = xs + ((bn * ih + iy) * iw + ix) * ic;
            for (int64_t o = 0; o < oc; ++o) {
              const float* wp = ws + ((o * kh + ky) * kw + kx) * ic;
              double s = 0;
              for (int64_t c = 0; c < ic; ++c) s += static_cast<double>(xp[c]) * wp[c];
              acc[size_t(o)] += s;
            }
          }
        }
        float* yp = ys + ((bn * oh + oy) * ow + ox) * oc;
        for (int64_t o = 0; o < oc; ++o) yp[o] = static_cast<float>(acc[size_t(o)] + bs[o]);
      }
    }
  });
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status max_pool_argmax_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(require_f32(ctx, 0, 4));
  const Tensor& x = *ctx.input(0);
  PoolOpts o;
  CONVFIX_RETURN_IF_ERROR(pool_opts(ctx, &o));
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  int64_t oh, ow, ph, pw;
  CONVFIX_RETURN_IF_ERROR(window_geometry(ctx, o.padding, h, o.fh, o.sh, 1, &oh, &ph));
  CONVFIX_RETURN_IF_ERROR(window_geometry(ctx, o.padding, w, o.fw, o.sw, 1, &ow, &pw));
  float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
  if (o.act == 1) lo = 0;
  else if (o.act == 2) { lo = -1; hi = 1; }
  else if (o.act == 3) { lo = 0; hi = 6; }
  Tensor vals = Tensor::uninitialized(DType::kF32, {n, oh, ow, c});
  Tensor idx = Tensor::uninitialized(DType::kF32, {n, oh, ow, c});
  const float* xs = x.data<float>();
  float* vs = vals.data<float>();
  float* is = idx.data<float>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t y0 = oy * o.sh - ph, x0 = ox * o.sw - pw;
        for (int64_t k = 0; k < c; ++k) {
          float best = std::numeric_limits<float>::lowest();
          int64_t by = 0, bx = 0;
          for (int64_t ky = std::max<int64_t>(0, -y0); ky < std::min<int64_t>(o.fh, h - y0); ++ky)
            for (int64_t kx = std::max<int64_t>(0, -x0); kx < std::min<int64_t>(o.fw, w - x0); ++kx) {
              const float v = xs[((b * h + y0 + ky) * w + x0 + kx) * c + k];
              if (v > best) {
                best = v;
                by = ky;
                bx = kx;
              }
            }
          const int64_t oi = ((b * oh + oy) * ow + ox) * c + k;
          vs[oi] = std::min(std::max(best, lo), hi);
          is[oi] = static_cast<float>(by * o.fw + bx) + 0.1f;
        }
      }
  ctx.set_output(0, std::move(vals));
  ctx.set_output(1, std::move(idx));
  return Status::OK();
}

Status max_unpool_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(require_f32(ctx, 0, 4));
  CONVFIX_RETURN_IF_ERROR(require_f32(ctx, 1, 4));
  const Tensor& x = *ctx.input(0);
  const Tensor& ind = *ctx.input(1);
  if (ind.dims() != x.dims())
    return ctx.error("indices " + dims_to_string(ind.dims()) + " differ in shape from the values " + dims_to_string(x.dims()));
  PoolOpts o;
  CONVFIX_RETURN_IF_ERROR(pool_opts(ctx, &o));
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  const int64_t oh = h * o.fh, ow = w * o.fw;
  CONVFIX_RETURN_IF_ERROR(check_output_size(ctx, {n, oh, ow, c}));
  const int64_t ph = std::max<int64_t>(0, ((h - 1) * o.sh + o.fh - oh) / 2);
  const int64_t pw = std::max<int64_t>(0, ((w - 1) * o.sw + o.fw - ow) / 2);
  Tensor out(DType::kF32, {n, oh, ow, c});
  const float* xs = x.data<float>();
  const float* is = ind.data<float>();
  float* ys = out.data<float>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t iy = 0; iy < h; ++iy)
      for (int64_t ix = 0; ix < w; ++ix)
        for (int64_t k = 0; k < c; ++k) {
          const int64_t i = ((b * h + iy) * w + ix) * c + k;
          const float fi = is[i];
          if (!(fi > -2147483648.0f && fi < 2147483648.0f)) continue;  // NaN / out of int range: no position
          const int64_t id = static_cast<int64_t>(fi);                  // truncation, as the runtime's int cast
          const int64_t yy = iy * o.sh - ph + id / o.fw, xx = ix * o.sw - pw + id % o.fw;
          if (yy < 0 || yy >= oh || xx < 0 || xx >= ow) continue;
          ys[((b * oh + yy) * ow + xx) * c + k] = xs[i];
        }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_custom(OpRegistry& r) {
  r.add(OpDef{"tflite.custom", "Convolution2DTransposeBias", transpose_conv_bias_kernel});
  r.add(OpDef{"tflite.custom", "MaxPoolingWithArgmax2D", max_pool_argmax_kernel});
  r.add(OpDef{"tflite.custom", "MaxUnpooling2D", max_unpool_kernel});
}

}  // namespace convfix