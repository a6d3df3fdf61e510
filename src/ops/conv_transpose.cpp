// ConvTranspose (opset 1..17): 1-D, 2-D and 3-D, groups, strides,
// dilations, pads, output_padding, output_shape and auto_pad.
// Output size per spatial axis (ONNX):
//   out = stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pad_begin - pad_end
// With output_shape (or SAME_* auto_pad, which asks for out = in * stride)
// the total padding follows from the wanted size and is split as the
// specification says: SAME_UPPER puts the smaller half at the beginning,
// otherwise the larger half goes first. As in ONNX Runtime, SAME never pads
// negatively (a kernel smaller than the stride gives a smaller output), and
// an output_shape beyond what the kernel covers adds bias-only positions at
// the end.
// Reference kernel: each (image, output channel) plane accumulates the
// scattered contributions of its input channels.
#include <string>

#include "ops/kernel_util.h"

namespace convfix {
namespace {

struct DeconvProblem {
  int64_t n = 0, c = 0, m = 0, group = 1;
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1}, pad[3] = {0, 0, 0};
  std::vector<int64_t> out_dims;
  int64_t cg() const { return c / group; }
  int64_t mg() const { return m / group; }
};

Status deconv_problem(const KernelContext& ctx, const Tensor& X, const Tensor& W, const Tensor* B, DeconvProblem* p) {
  if (X.rank() < 3 || X.rank() > 5)
    return ctx.unsupported("input 0 has shape " + dims_to_string(X.dims()) +
                           "; ConvTranspose supports 1-D, 2-D and 3-D (rank 3 to 5)");
  if (W.rank() != X.rank())
    return ctx.error("input 1 (W) has shape " + dims_to_string(W.dims()) + ", expected rank " + std::to_string(X.rank()));
  const size_t r = static_cast<size_t>(X.rank() - 2);
  p->n = X.dim(0);
  p->c = X.dim(1);
  p->group = ctx.attr_int("group", 1);
  if (p->group < 1) return ctx.error("group " + std::to_string(p->group) + " must be positive");
  if (W.dim(0) != p->c)
    return ctx.error("input 1 (W) of shape " + dims_to_string(W.dims()) + " expects " + std::to_string(W.dim(0)) +
                     " input channels, input 0 has " + std::to_string(p->c));
  if (p->c % p->group != 0)
    return ctx.error("input 0 has " + std::to_string(p->c) + " channels, not divisible by group " + std::to_string(p->group));
  p->m = W.dim(1) * p->group;
  if (B && (B->rank() != 1 || B->dim(0) != p->m))
    return ctx.error("input 2 (B) has shape " + dims_to_string(B->dims()) + ", expected [" + std::to_string(p->m) + "]");
  const std::vector<int64_t> kernel(W.dims().begin() + 2, W.dims().end());
  if (ctx.has_attr("kernel_shape") && ctx.attr_ints("kernel_shape") != kernel)
    return ctx.error("kernel_shape " + dims_to_string(ctx.attr_ints("kernel_shape")) + " differs from input 1 (W) shape " +
                     dims_to_string(W.dims()));
  const auto stride = ctx.attr_ints("strides", std::vector<int64_t>(r, 1));
  const auto dil = ctx.attr_ints("dilations", std::vector<int64_t>(r, 1));
  const auto out_pad = ctx.attr_ints("output_padding", std::vector<int64_t>(r, 0));
  auto pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * r, 0));
  std::vector<int64_t> out_shape = ctx.attr_ints("output_shape");
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (stride.size() != r || dil.size() != r || out_pad.size() != r || pads.size() != 2 * r)
    return ctx.error("strides, dilations, output_padding and pads must have " + std::to_string(r) + ", " +
                     std::to_string(r) + ", " + std::to_string(r) + " and " + std::to_string(2 * r) + " values");
  if (!out_shape.empty()) {
    if (out_shape.size() == r + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
    if (out_shape.size() != r)
      return ctx.error("output_shape " + dims_to_string(ctx.attr_ints("output_shape")) + " must have " +
                       std::to_string(r) + " spatial values");
  }
  if (auto_pad != "NOTSET" && auto_pad != "" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" &&
      auto_pad != "SAME_LOWER")
    return ctx.unsupported("auto_pad '" + auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  const size_t off = 3 - r;
  p->out_dims = {p->n, p->m};
  for (size_t i = 0; i < r; ++i) {
    if (stride[i] < 1 || dil[i] < 1 || kernel[i] < 1)
      return ctx.error("strides, dilations and kernel sizes must be positive");
    const int64_t in = X.dim(static_cast<int64_t>(i) + 2);
    const int64_t full = stride[i] * (in - 1) + out_pad[i] + (kernel[i] - 1) * dil[i] + 1;
    int64_t pb = pads[i], pe = pads[i + r];
    if (auto_pad == "VALID") pb = pe = 0;
    int64_t want = -1;
    if (!out_shape.empty()) want = out_shape[i];
    else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") want = in * stride[i];
    if (want >= 0) {
      const int64_t total = full - want;
      if (total < 0 && !out_shape.empty()) {
        // A larger output_shape than the kernel covers (like output_padding):
        // the extra end positions only receive the bias.
        pb = 0;
        pe = total;
      } else {
        const int64_t t = std::max<int64_t>(0, total);  // SAME with a kernel smaller than the stride
        pb = auto_pad == "SAME_UPPER" ? t / 2 : t - t / 2;
        pe = t - pb;
      }
    }
    const int64_t out = full - pb - pe;
    if (out < 0 || pb < 0)
      return ctx.error("pads " + dims_to_string(pads) + " leave no output on spatial axis " + std::to_string(i));
    p->in[off + i] = in;
    p->k[off + i] = kernel[i];
    p->out[off + i] = out;
    p->stride[off + i] = stride[i];
    p->dil[off + i] = dil[i];
    p->pad[off + i] = pb;
    p->out_dims.push_back(out);
  }
  return Status::OK();
}

// Input positions i in [0, in) whose output index i*s + shift lies in [0, out).
inline void scatter_range(int64_t in, int64_t out, int64_t s, int64_t shift, int64_t* lo, int64_t* hi) {
  *lo = shift >= 0 ? 0 : (-shift + s - 1) / s;
  *hi = out - 1 - shift < 0 ? 0 : std::min(in, (out - 1 - shift) / s + 1);
  if (*hi < *lo) *hi = *lo;
}

template <typename T>
void deconv_reference(ThreadPool* pool, const DeconvProblem& p, const T* x, const T* w, const T* b, T* y) {
  const int64_t in_plane = p.in[0] * p.in[1] * p.in[2];
  const int64_t out_plane = p.out[0] * p.out[1] * p.out[2];
  const int64_t ksize = p.k[0] * p.k[1] * p.k[2];
  parallel_for(pool, p.n * p.m, [&](int64_t s, int64_t e) {
    for (int64_t job = s; job < e; ++job) {
      const int64_t img = job / p.m, oc = job % p.m, g = oc / p.mg(), ocg = oc % p.mg();
      T* out = y + job * out_plane;
      const T bias = b ? b[oc] : T(0);
      for (int64_t i = 0; i < out_plane; ++i) out[i] = bias;
      for (int64_t icg = 0; icg < p.cg(); ++icg) {
        const int64_t ic = g * p.cg() + icg;
        const T* in = x + (img * p.c + ic) * in_plane;
        const T* wk = w + (ic * p.mg() + ocg) * ksize;
        for (int64_t kd = 0; kd < p.k[0]; ++kd)
          for (int64_t kh = 0; kh < p.k[1]; ++kh)
            for (int64_t kw = 0; kw < p.k[2]; ++kw) {
              const T wv = wk[(kd * p.k[1] + kh) * p.k[2] + kw];
              const int64_t sd = kd * p.dil[0] - p.pad[0], sh = kh * p.dil[1] - p.pad[1], sw = kw * p.dil[2] - p.pad[2];
              int64_t d0, d1, h0, h1, w0, w1;
              scatter_range(p.in[0], p.out[0], p.stride[0], sd, &d0, &d1);
              scatter_range(p.in[1], p.out[1], p.stride[1], sh, &h0, &h1);
              scatter_range(p.in[2], p.out[2], p.stride[2], sw, &w0, &w1);
              for (int64_t id = d0; id < d1; ++id) {
                const int64_t od = id * p.stride[0] + sd;
                for (int64_t ih = h0; ih < h1; ++ih) {
                  const int64_t oh = ih * p.stride[1] + sh;
                  const T* irow = in + (id * p.in[1] + ih) * p.in[2];
                  T* orow = out + (od * p.out[1] + oh) * p.out[2] + sw;
                  for (int64_t iw = w0; iw < w1; ++iw) orow[iw * p.stride[2]] += wv * irow[iw];
                }
              }
            }
      }
    }
  });
}

Status conv_transpose_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& X = *ctx.input(0);
  const Tensor& W = *ctx.input(1);
  const Tensor* B = ctx.input(2);
  if (X.dtype() != DType::kF32 && X.dtype() != DType::kF64)
    return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(X.dtype()) +
                           "; ConvTranspose supports f32, f64, f16, bf16");
  for (size_t i = 1; i < 3; ++i)
    if (ctx.input(i) && ctx.input(i)->dtype() != X.dtype())
      return ctx.error("input " + std::to_string(i) + " has element type " + dtype_name(ctx.input(i)->dtype()) +
                       ", input 0 has " + dtype_name(X.dtype()));
  DeconvProblem p;
  CONVFIX_RETURN_IF_ERROR(deconv_problem(ctx, X, W, B, &p));
  Tensor Y(X.dtype(), p.out_dims);
  if (X.dtype() == DType::kF32)
    deconv_reference<float>(ctx.pool(), p, X.data<float>(), W.data<float>(), B ? B->data<float>() : nullptr, Y.data<float>());
  else
    deconv_reference<double>(ctx.pool(), p, X.data<double>(), W.data<double>(), B ? B->data<double>() : nullptr,
                             Y.data<double>());
  ctx.set_output(0, std::move(Y));
  return Status::OK();
}

}  // namespace

void register_ops_conv_transpose(OpRegistry& r) {
  r.add({"", "ConvTranspose", conv_transpose_kernel, FloatCompute::kHalf});
}

}  // namespace convfix
