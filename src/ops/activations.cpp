// Activations: Relu, LeakyRelu, PRelu, Sigmoid, HardSigmoid, HardSwish, Tanh,
// Elu, Selu, Celu, Softplus, Softsign, ThresholdedRelu, Gelu, Mish, Shrink.
// Float kernels run on f32 and f64 (f16/bf16 in f32 through the executor);
// Relu (opset >= 14), PRelu (opset >= 16) and Shrink also take integers.
#include <cmath>
#include <type_traits>

#include "ops/elementwise_util.h"

namespace convfix {
namespace {

using ops::fast_exp;

template <typename T>
T sigmoid(T x) {
  return T(1) / (T(1) + fast_exp(-x));
}

// log(1 + e^x) without overflow for large x or loss for very negative x.
template <typename T>
T softplus(T x) {
  return std::max(x, T(0)) + std::log1p(std::exp(-std::fabs(x)));
}

Status relu(KernelContext& ctx) {
  // NaN passes through (v < 0 is false).
  return ops::numeric_unary(ctx, [](auto v) { return v < decltype(v)(0) ? decltype(v)(0) : v; });
}

Status leaky_relu(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 0.01f);
  return ops::float_unary(ctx, [alpha](auto v) {
    using T = decltype(v);
    return v < T(0) ? static_cast<T>(alpha) * v : v;
  });
}

Status sigmoid_kernel(KernelContext& ctx) {
  return ops::float_unary(ctx, [](auto v) { return sigmoid(v); });
}

Status hard_sigmoid(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 0.2f), beta = ctx.attr_float("beta", 0.5f);
  return ops::float_unary(ctx, [alpha, beta](auto v) {
    using T = decltype(v);
    return std::min(T(1), std::max(T(0), static_cast<T>(alpha) * v + static_cast<T>(beta)));
  });
}

// x * HardSigmoid(x) with alpha = 1/6, beta = 0.5.
Status hard_swish(KernelContext& ctx) {
  return ops::float_unary(ctx, [](auto v) {
    using T = decltype(v);
    return v * std::min(T(1), std::max(T(0), v / T(6) + T(0.5)));
  });
}

Status elu(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 1.0f);
  return ops::float_unary(ctx, [alpha](auto v) {
    using T = decltype(v);
    return v < T(0) ? static_cast<T>(alpha) * ops::fast_expm1(v) : v;
  });
}

Status selu(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 1.67326319217681884765625f);
  const float gamma = ctx.attr_float("gamma", 1.05070102214813232421875f);
  return ops::float_unary(ctx, [alpha, gamma](auto v) {
    using T = decltype(v);
    return static_cast<T>(gamma) * (v > T(0) ? v : static_cast<T>(alpha) * ops::fast_expm1(v));
  });
}

Status celu(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 1.0f);
  if (alpha == 0.0f) return ctx.error("attribute alpha must not be 0");
  return ops::float_unary(ctx, [alpha](auto v) {
    using T = decltype(v);
    const T a = static_cast<T>(alpha);
    return std::max(T(0), v) + std::min(T(0), a * ops::fast_expm1(v / a));
  });
}

Status thresholded_relu(KernelContext& ctx) {
  const float alpha = ctx.attr_float("alpha", 1.0f);
  return ops::float_unary(ctx, [alpha](auto v) {
    using T = decltype(v);
    return v > static_cast<T>(alpha) ? v : T(0);
  });
}

Status gelu(KernelContext& ctx) {
  const std::string approx = ctx.attr_string("approximate", "none");
  if (approx == "none") {
    return ops::float_unary(ctx, [](auto v) {
      using T = decltype(v);
      return T(0.5) * v * (T(1) + ops::fast_erf(v * static_cast<T>(0.70710678118654752440)));
    });
  }
  if (approx == "tanh") {
    return ops::float_unary(ctx, [](auto v) {
      using T = decltype(v);
      const T k = static_cast<T>(0.79788456080286535588);  // sqrt(2/pi)
      return T(0.5) * v * (T(1) + ops::fast_tanh(k * (v + static_cast<T>(0.044715) * v * v * v)));
    });
  }
  return ctx.unsupported("attribute approximate='" + approx + "' (expected 'none' or 'tanh')");
}

// Shrink on any numeric type: float parameters, result cast to T.
Status shrink(KernelContext& ctx) {
  const double lambd = ctx.attr_float("lambd", 0.5f), bias = ctx.attr_float("bias", 0.0f);
  return ops::numeric_unary(ctx, [lambd, bias](auto v) {
    using T = decltype(v);
    if constexpr (std::is_floating_point_v<T>) {
      const T l = static_cast<T>(lambd), b = static_cast<T>(bias);
      return v < -l ? v + b : (v > l ? v - b : T(0));
    } else {
      const double d = static_cast<double>(v);
      return static_cast<T>(d < -lambd ? d + bias : (d > lambd ? d - bias : 0.0));
    }
  });
}

// PRelu: the slope broadcasts to X (numpy rules). Opset < 7 models (old
// PyTorch exports) give a 1-D per-channel slope for an N-D input; it then
// lines up with axis 1.
Status prelu(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  const Tensor& s = *ctx.input(1);
  if (x.dtype() != s.dtype())
    return ctx.error(std::string("input types differ: input 0 is ") + dtype_name(x.dtype()) + ", input 1 is " +
                     dtype_name(s.dtype()));
  std::vector<int64_t> sd = s.dims();
  ops::BroadcastPlan p;
  bool ok = ops::make_broadcast_plan({&x.dims(), &sd}, &p) && p.out_dims == x.dims();
  if (!ok && ctx.opset() < 7 && s.rank() == 1 && x.rank() >= 2 && s.dim(0) == x.dim(1)) {
    sd.assign(static_cast<size_t>(x.rank() - 1), 1);
    sd[0] = s.dim(0);
    ok = ops::make_broadcast_plan({&x.dims(), &sd}, &p) && p.out_dims == x.dims();
  }
  if (!ok)
    return ctx.error("slope (input 1) of shape " + dims_to_string(s.dims()) + " does not broadcast to X of shape " +
                     dims_to_string(x.dims()));
  Tensor out(x.dtype(), x.dims());
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_numeric(x.dtype(), [&]<typename T>() {
    ops::map_binary(p, x.data<T>(), s.data<T>(), out.data<T>(), ctx.pool(),
                    [](T v, T a) { return v < T(0) ? static_cast<T>(v * a) : v; });
  }, ctx));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_activations(OpRegistry& r) {
  const auto kH = FloatCompute::kHalf;
  // Per-element activations take nChw16c tensors as they are (op_registry.h).
  r.add(elementwise_layout({"", "Relu", relu, kH}));
  r.add(elementwise_layout({"", "LeakyRelu", leaky_relu, kH}));
  r.add({"", "PRelu", prelu, kH});
  r.add(elementwise_layout({"", "Sigmoid", sigmoid_kernel, kH}));
  r.add(elementwise_layout({"", "HardSigmoid", hard_sigmoid, kH}));
  r.add(elementwise_layout({"", "HardSwish", hard_swish, kH}));
  r.add(elementwise_layout(
      {"", "Tanh", [](KernelContext& c) { return ops::float_unary(c, [](auto v) { return ops::fast_tanh(v); }); }, kH}));
  r.add(elementwise_layout({"", "Elu", elu, kH}));
  r.add(elementwise_layout({"", "Selu", selu, kH}));
  r.add({"", "Celu", celu, kH});
  r.add({"", "Softplus", [](KernelContext& c) { return ops::float_unary(c, [](auto v) { return softplus(v); }); }, kH});
  r.add({"", "Softsign", [](KernelContext& c) {
           return ops::float_unary(c, [](auto v) { return v / (decltype(v)(1) + std::fabs(v)); });
         }, kH});
  r.add({"", "ThresholdedRelu", thresholded_relu, kH});
  r.add({"", "Gelu", gelu, kH});
  r.add({"", "Mish", [](KernelContext& c) {
           return ops::float_unary(c, [](auto v) { return v * ops::fast_tanh(softplus(v)); });
         }, kH});
  r.add({"", "Shrink", shrink, kH});
}

}  // namespace convfix
