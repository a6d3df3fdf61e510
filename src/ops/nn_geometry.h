// Internal: sliding-window geometry shared by Conv and the pooling ops.
//
// Contract: window_geometry() reads the ONNX attributes strides, dilations,
// pads and auto_pad of ctx's node for `in.size()` spatial axes and fills
// the padding at both ends and the output size of every axis:
//   NOTSET      out = floor_or_ceil((in + pad_begin + pad_end - dk) / s) + 1,
//               dk = (k - 1) * d + 1; with ceil a last window that would
//               start inside the end padding is dropped (PyTorch and
//               ONNX Runtime do the same);
//   VALID       no padding, out = floor_or_ceil((in - dk) / s) + 1;
//   SAME_UPPER  out = ceil(in / s), total padding max(0, (out-1)*s + dk - in)
//   SAME_LOWER  split evenly, the odd element at the end (UPPER) or at the
//               beginning (LOWER). (ONNX Runtime rejects the negative
//               padding that a stride larger than the kernel gives; convfix
//               pads nothing then. ONNX Runtime's pooling also leaves the
//               dilation out of the SAME padding; convfix follows the
//               specification and uses the dilated extent dk.)
// Errors name the attribute and the node; kernels that have no dilations
// attribute (AveragePool before opset 19) pass allow_dilations = false.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convfix/op_registry.h"

namespace convfix::ops {

struct WindowGeometry {
  std::vector<int64_t> in, kernel, stride, dilation, pad_begin, pad_end, out;
  size_t rank() const { return in.size(); }
  int64_t extent(size_t i) const { return (kernel[i] - 1) * dilation[i] + 1; }
};

inline std::string ints_to_string(const std::vector<int64_t>& v) { return dims_to_string(v); }

inline Status window_geometry(const KernelContext& ctx, const std::vector<int64_t>& in,
                              const std::vector<int64_t>& kernel, bool ceil_mode, WindowGeometry* g,
                              bool allow_dilations = true) {
  const size_t r = in.size();
  g->in = in;
  g->kernel = kernel;
  if (kernel.size() != r)
    return ctx.error("kernel_shape " + ints_to_string(kernel) + " does not match " + std::to_string(r) +
                     " spatial axes");
  g->stride = ctx.attr_ints("strides", std::vector<int64_t>(r, 1));
  g->dilation = allow_dilations ? ctx.attr_ints("dilations", std::vector<int64_t>(r, 1)) : std::vector<int64_t>(r, 1);
  std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * r, 0));
  if (g->stride.size() != r) return ctx.error("strides " + ints_to_string(g->stride) + " must have " + std::to_string(r) + " values");
  if (g->dilation.size() != r)
    return ctx.error("dilations " + ints_to_string(g->dilation) + " must have " + std::to_string(r) + " values");
  if (pads.size() != 2 * r) return ctx.error("pads " + ints_to_string(pads) + " must have " + std::to_string(2 * r) + " values");
  for (size_t i = 0; i < r; ++i) {
    if (kernel[i] < 1) return ctx.error("kernel_shape " + ints_to_string(kernel) + " must be positive");
    if (g->stride[i] < 1) return ctx.error("strides " + ints_to_string(g->stride) + " must be positive");
    if (g->dilation[i] < 1) return ctx.error("dilations " + ints_to_string(g->dilation) + " must be positive");
    if (pads[i] < 0 || pads[i + r] < 0) return ctx.unsupported("negative pads " + ints_to_string(pads) + " are not supported");
  }
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  g->pad_begin.assign(r, 0);
  g->pad_end.assign(r, 0);
  g->out.assign(r, 0);
  for (size_t i = 0; i < r; ++i) {
    const int64_t dk = g->extent(i), s = g->stride[i];
    if (auto_pad == "NOTSET" || auto_pad.empty()) {
      g->pad_begin[i] = pads[i];
      g->pad_end[i] = pads[i + r];
      const int64_t span = in[i] + pads[i] + pads[i + r] - dk;
      if (span < 0)
        return ctx.error("input spatial size " + ints_to_string(in) + " with pads " + ints_to_string(pads) +
                         " is smaller than the kernel extent " + std::to_string(dk) + " on axis " + std::to_string(i));
      int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
      if (ceil_mode && (o - 1) * s >= in[i] + pads[i]) --o;
      g->out[i] = o;
    } else if (auto_pad == "VALID") {
      if (in[i] < dk)
        return ctx.error("input spatial size " + ints_to_string(in) + " is smaller than the kernel extent " +
                         std::to_string(dk) + " on axis " + std::to_string(i) + " (auto_pad VALID)");
      // ceil_mode applies here too (as in ONNX Runtime): a partial last
      // window is kept when it starts inside the input.
      int64_t o = (ceil_mode ? (in[i] - dk + s - 1) / s : (in[i] - dk) / s) + 1;
      if (ceil_mode && (o - 1) * s >= in[i]) --o;
      g->out[i] = o;
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      g->out[i] = (in[i] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (g->out[i] - 1) * s + dk - in[i]);
      const int64_t small = total / 2, big = total - small;
      g->pad_begin[i] = auto_pad == "SAME_UPPER" ? small : big;
      g->pad_end[i] = auto_pad == "SAME_UPPER" ? big : small;
    } else {
      return ctx.unsupported("auto_pad '" + auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
    }
  }
  return Status::OK();
}

}  // namespace convfix::ops
