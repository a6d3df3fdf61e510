// QuantizeLinear and DequantizeLinear, per tensor or per axis (opset 13+),
// for int8/uint8 (and int16/uint16) quantized values:
//   q = saturate(round_half_to_even(x / scale) + zero_point)
//   x = (q - zero_point) * scale
// The QuantizeLinear output also carries its quantization parameters
// (Tensor::quant) so later stages can read it as real values.
#include <cmath>
#include <limits>

#include "ops/data_movement_util.h"

namespace convfix {
namespace {

struct QParams {
  std::vector<float> scale;
  std::vector<int64_t> zp;
  int64_t axis = 0;       // normalized; meaningful when per_axis
  bool per_axis = false;
  int64_t inner = 1;      // elements per channel step
  int64_t channels = 1;
};

Status read_qparams(const KernelContext& ctx, const Tensor& x, QParams* p) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& s = *ctx.input(1);
  if (!dtype_is_float(s.dtype()))
    return ctx.error(std::string("input 1 (scale) must be a float tensor, got ") + dtype_name(s.dtype()));
  p->scale = s.to_f32_vector();
  if (ctx.has_input(2)) {
    const Tensor& z = *ctx.input(2);
    if (z.numel() != s.numel())
      return ctx.error("input 2 (zero_point) shape " + dims_to_string(z.dims()) + " does not match input 1 (scale) shape " +
                       dims_to_string(s.dims()));
    p->zp = z.to_i64_vector();
  } else {
    p->zp.assign(p->scale.size(), 0);
  }
  if (s.numel() == 0) return ctx.error("input 1 (scale) is empty");
  if (s.numel() > 1) {
    if (s.rank() != 1) return ctx.error("input 1 (scale) must be a scalar or 1-D, got " + dims_to_string(s.dims()));
    CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", 1), x.rank(), &p->axis));
    if (x.dim(p->axis) != s.numel())
      return ctx.error("input 1 (scale) has " + std::to_string(s.numel()) + " values but axis " + std::to_string(p->axis) +
                       " of input 0 " + dims_to_string(x.dims()) + " has size " + std::to_string(x.dim(p->axis)));
    p->per_axis = true;
    p->channels = s.numel();
    for (int64_t d = p->axis + 1; d < x.rank(); ++d) p->inner *= x.dim(d);
  }
  return Status::OK();
}

template <typename Q>
void quantize_loop(const float* x, Q* y, int64_t n, const QParams& p, ThreadPool* pool) {
  constexpr float lo = static_cast<float>(std::numeric_limits<Q>::min());
  constexpr float hi = static_cast<float>(std::numeric_limits<Q>::max());
  parallel_for(pool, n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const size_t c = p.per_axis ? static_cast<size_t>((i / p.inner) % p.channels) : 0;
      float v = std::nearbyint(x[i] / p.scale[c]) + static_cast<float>(p.zp[c]);
      v = std::isnan(v) ? 0.f : std::clamp(v, lo, hi);
      y[i] = static_cast<Q>(v);
    }
  }, 16384);
}

Status quantize(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  QParams p;
  CONVFIX_RETURN_IF_ERROR(read_qparams(ctx, x, &p));
  const DType qt = ctx.has_input(2) ? ctx.input(2)->dtype() : DType::kU8;
  Tensor xf;
  if (x.dtype() == DType::kF32) {
    xf = x;
  } else {
    if (x.dtype() == DType::kString) return ctx.error("input 0 must be numeric");
    CONVFIX_ASSIGN_OR_RETURN(xf, x.cast(DType::kF32));
  }
  Tensor y(qt, x.dims());
  const float* px = xf.data<float>();
  switch (qt) {
    case DType::kU8: quantize_loop(px, y.data<uint8_t>(), x.numel(), p, ctx.pool()); break;
    case DType::kI8: quantize_loop(px, y.data<int8_t>(), x.numel(), p, ctx.pool()); break;
    case DType::kU16: quantize_loop(px, y.data<uint16_t>(), x.numel(), p, ctx.pool()); break;
    case DType::kI16: quantize_loop(px, y.data<int16_t>(), x.numel(), p, ctx.pool()); break;
    default:
      return ctx.unsupported(std::string("quantized element type ") + dtype_name(qt) + " is not supported");
  }
  y.set_quant(QuantParams{p.scale, p.zp, p.per_axis ? p.axis : 0});
  ctx.set_output(0, std::move(y));
  return Status::OK();
}

Status dequantize(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  if (!dtype_is_integer(x.dtype()))
    return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(x.dtype()) + ", expected an integer type");
  QParams p;
  CONVFIX_RETURN_IF_ERROR(read_qparams(ctx, x, &p));
  if (ctx.has_input(2) && ctx.input(2)->dtype() != x.dtype())
    return ctx.error(std::string("input 2 (zero_point) has element type ") + dtype_name(ctx.input(2)->dtype()) +
                     ", input 0 has " + dtype_name(x.dtype()));
  Tensor y(DType::kF32, x.dims());
  float* py = y.data<float>();
  const int64_t n = x.numel();
  parallel_for(ctx.pool(), n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const size_t c = p.per_axis ? static_cast<size_t>((i / p.inner) % p.channels) : 0;
      py[i] = static_cast<float>(x.get_i64(i) - p.zp[c]) * p.scale[c];
    }
  }, 16384);
  const DType st = ctx.input(1)->dtype();
  if (st != DType::kF32) {
    CONVFIX_ASSIGN_OR_RETURN(y, y.cast(st));
  }
  ctx.set_output(0, std::move(y));
  return Status::OK();
}

}  // namespace

void register_ops_quantize(OpRegistry& r) {
  r.add({"", "QuantizeLinear", quantize, FloatCompute::kNone, 10});
  r.add({"", "DequantizeLinear", dequantize, FloatCompute::kNone, 10});
}

}  // namespace convfix
