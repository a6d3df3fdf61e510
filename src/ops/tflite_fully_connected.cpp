// TFLite FULLY_CONNECTED and BATCH_MATMUL.
//
// FULLY_CONNECTED: input [..., K] read as rows of K (batch = numel / K),
// weights [O, K] (weights_format DEFAULT), optional bias [O]; output
// [batch, O], or input dims[:-1] + [O] with keep_num_dims.
// - float: f32 (f16 weights widened), f64 accumulation, bias and fused
//   activation last;
// - integer: i8/u8/i16 activations, i8/u8 weights (per-tensor with a zero
//   point, or per-channel), int32/int64 bias, fixed-point requantisation
//   (f32 with TfliteRounding::kRuntime, as the runtime's XNNPACK delegate);
// - hybrid (f32 input, i8 weights): each row quantised symmetric [-127, 127]
//   (asymmetric with a zero point when asymmetric_quantize_inputs), int32
//   dot products scaled back by row scale * weight scale.
// BATCH_MATMUL (float): [..., M, K] x [..., K, N] with adj_x / adj_y and
// broadcast batch dimensions.
#include <cmath>
#include <cstring>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

Status fc_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(require_rank(ctx, 1, 2));
  if (ctx.attr_string("weights_format", "DEFAULT") != "DEFAULT")
    return ctx.unsupported("weights_format " + ctx.attr_string("weights_format", ""));
  const Tensor& x = *ctx.input(0);
  const Tensor& w = *ctx.input(1);
  const int64_t o_n = w.dim(0), k = w.dim(1);
  if (k <= 0 || x.numel() % k != 0)
    return ctx.error("input " + dims_to_string(x.dims()) + " cannot be read as rows of " + std::to_string(k));
  const int64_t rows = x.numel() / k;
  std::vector<int64_t> odims{rows, o_n};
  if (ctx.attr_int("keep_num_dims", 0)) {
    if (x.rank() < 1 || x.dim(x.rank() - 1) != k) return ctx.error("keep_num_dims needs the last input dimension to be K");
    odims = x.dims();
    odims.back() = o_n;
  }
  if (ctx.has_input(2) && ctx.input(2)->numel() != o_n)
    return ctx.error("bias has " + std::to_string(ctx.input(2)->numel()) + " elements, expected " + std::to_string(o_n));
  Act act = Act::kNone;
  CONVFIX_RETURN_IF_ERROR(parse_act(ctx, &act));

  if (x.dtype() == DType::kF32) {
    std::vector<float> bias(static_cast<size_t>(o_n), 0.0f);
    if (ctx.has_input(2)) {
      CONVFIX_ASSIGN_OR_RETURN(Tensor bf, float_view(ctx, 2));
      std::memcpy(bias.data(), bf.data<float>(), sizeof(float) * static_cast<size_t>(o_n));
    }
    float lo, hi;
    float_act_range(act, &lo, &hi);
    Tensor out = Tensor::uninitialized(DType::kF32, odims);
    float* y = out.data<float>();
    const float* xs = x.data<float>();
    const QuantParams* wq = input_quant(ctx, 1);
    if (w.dtype() == DType::kF32 || w.dtype() == DType::kF16) {
      CONVFIX_ASSIGN_OR_RETURN(Tensor wf, float_view(ctx, 1));
      const float* ws = wf.data<float>();
      parallel_for(ctx.pool(), rows, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t o = 0; o < o_n; ++o) {
            double acc = 0;
            const float* a = xs + r * k;
            const float* b = ws + o * k;
            for (int64_t i = 0; i < k; ++i) acc += static_cast<double>(a[i]) * b[i];
            y[r * o_n + o] = apply_float_act(act, static_cast<float>(acc + bias[size_t(o)]), lo, hi);
          }
      });
      ctx.set_output(0, std::move(out));
      return Status::OK();
    }
    if (w.dtype() != DType::kI8 || !wq) return ctx.unsupported(std::string("f32 input with weights of type ") + dtype_name(w.dtype()));
    if (wq->per_channel() && static_cast<int64_t>(wq->scale.size()) != o_n)
      return ctx.error("weights have " + std::to_string(wq->scale.size()) + " scales, expected " + std::to_string(o_n));
    const bool asym = ctx.attr_int("asymmetric_quantize_inputs", 0) != 0;
    const int8_t* ws = w.data<int8_t>();
    std::vector<int8_t> q(static_cast<size_t>(k));
    for (int64_t r = 0; r < rows; ++r) {
      const float* p = xs + r * k;
      float mn = 0, mx = 0;
      if (k > 0) { mn = mx = p[0]; }
      for (int64_t i = 1; i < k; ++i) { mn = std::min(mn, p[i]); mx = std::max(mx, p[i]); }
      float s = 1;
      int32_t z = 0;
      if (!asym) {
        const float range = std::max(std::fabs(mn), std::fabs(mx));
        if (range == 0) std::fill(q.begin(), q.end(), int8_t(0));
        else {
          const float inv = 127.0f / range;
          for (int64_t i = 0; i < k; ++i) q[size_t(i)] = static_cast<int8_t>(round_sat(std::round(p[i] * inv), -127, 127));
          s = range / 127.0f;
        }
      } else {
        const double rmin = std::min<double>(mn, 0), rmax = std::max<double>(mx, 0);
        if (rmin == rmax) std::fill(q.begin(), q.end(), int8_t(0));
        else {
          const double sd = (rmax - rmin) / 255.0;
          const double zmin = -128 - rmin / sd, zmax = 127 - rmax / sd;
          const double emin = 128 + std::fabs(rmin / sd), emax = 127 + std::fabs(rmax / sd);
          z = static_cast<int32_t>(std::clamp<double>(std::round(emin < emax ? zmin : zmax), -128, 127));
          const float inv = static_cast<float>(1.0 / sd);
          for (int64_t i = 0; i < k; ++i)
            q[size_t(i)] = static_cast<int8_t>(round_sat(static_cast<double>(z) + std::round(p[i] * inv), -128, 127));
          s = static_cast<float>(sd);
        }
      }
      for (int64_t o = 0; o < o_n; ++o) {
        int32_t acc = 0;
        const int8_t* b = ws + o * k;
        for (int64_t i = 0; i < k; ++i) acc += (int32_t(q[size_t(i)]) - z) * int32_t(b[i]);
        const float wsc = scale_of(*wq, wq->per_channel() ? o : 0);
        y[r * o_n + o] = apply_float_act(act, static_cast<float>(acc) * (s * wsc) + bias[size_t(o)], lo, hi);
      }
    }
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }

  QuantUnary qu;
  CONVFIX_RETURN_IF_ERROR(quant_unary(ctx, x.dtype(), &qu));
  const QuantParams* xq = qu.qx;
  const QuantParams* wq = input_quant(ctx, 1);
  const QuantParams* yq = qu.qy;
  const DType ydt = qu.ydt;
  if (!wq) return ctx.error("quantized FULLY_CONNECTED needs quantization parameters on its weights");
  if (w.dtype() != DType::kI8 && w.dtype() != DType::kU8)
    return ctx.unsupported(std::string("weights of type ") + dtype_name(w.dtype()));
  if (wq->per_channel() && static_cast<int64_t>(wq->scale.size()) != o_n)
    return ctx.error("weights have " + std::to_string(wq->scale.size()) + " scales, expected " + std::to_string(o_n));
  const int32_t zx = zp_of(*xq), zw = zp_of(*wq), zy = zp_of(*yq);
  std::vector<int32_t> wv(static_cast<size_t>(w.numel()));
  for (int64_t i = 0; i < w.numel(); ++i) wv[size_t(i)] = qget(w, i) - zw;
  std::vector<int32_t> xv(static_cast<size_t>(x.numel()));
  for (int64_t i = 0; i < x.numel(); ++i) xv[size_t(i)] = qget(x, i) - zx;
  std::vector<int64_t> bias(static_cast<size_t>(o_n), 0);
  if (ctx.has_input(2)) for (int64_t o = 0; o < o_n; ++o) bias[size_t(o)] = ctx.input(2)->get_i64(o);
  std::vector<QMul> mul(static_cast<size_t>(o_n));
  for (int64_t o = 0; o < o_n; ++o)
    mul[size_t(o)] = quantize_multiplier(static_cast<double>(scale_of(*xq)) * scale_of(*wq, wq->per_channel() ? o : 0) /
                                         scale_of(*yq));
  std::vector<float> fmul(static_cast<size_t>(o_n));
  for (int64_t o = 0; o < o_n; ++o)
    fmul[size_t(o)] = float_multiplier(scale_of(*xq), scale_of(*wq, wq->per_channel() ? o : 0), scale_of(*yq));
  const bool fast = runtime_rounding() && x.dtype() != DType::kI16;  // XNNPACK has no 16-bit path
  int32_t lo, hi;
  CONVFIX_RETURN_IF_ERROR(quant_act_range(ctx, act, ydt, *yq, &lo, &hi));
  Tensor out = make_output(ydt, odims, yq);
  const bool wide = x.dtype() == DType::kI16;
  parallel_for(ctx.pool(), rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t o = 0; o < o_n; ++o) {
        const int32_t* a = xv.data() + r * k;
        const int32_t* b = wv.data() + o * k;
        int32_t v;
        if (!wide) {
          int32_t acc = 0;
          for (int64_t i = 0; i < k; ++i) acc += a[i] * b[i];
          const int32_t a = acc + static_cast<int32_t>(bias[size_t(o)]);
          v = fast ? requant_float(a, fmul[size_t(o)]) : multiply_by_qmul(a, mul[size_t(o)]);
        } else {
          int64_t acc = 0;
          for (int64_t i = 0; i < k; ++i) acc += int64_t(a[i]) * b[i];
          v = fast ? requant_float(acc + bias[size_t(o)], fmul[size_t(o)]) : multiply_by_qmul64(acc + bias[size_t(o)], mul[size_t(o)]);
        }
        qset(out, r * o_n + o, std::clamp(v + zy, lo, hi));
      }
  });
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status batch_matmul_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  if (ctx.input(0)->dtype() != DType::kF32 || ctx.input(1)->dtype() != DType::kF32)
    return ctx.unsupported("only f32 BATCH_MATMUL is implemented");
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  if (a.rank() < 2 || b.rank() < 2) return ctx.error("inputs must have rank >= 2");
  const bool ax = ctx.attr_int("adj_x", 0) != 0, ay = ctx.attr_int("adj_y", 0) != 0;
  const int64_t m = ax ? a.dim(a.rank() - 1) : a.dim(a.rank() - 2);
  const int64_t ka = ax ? a.dim(a.rank() - 2) : a.dim(a.rank() - 1);
  const int64_t kb = ay ? b.dim(b.rank() - 1) : b.dim(b.rank() - 2);
  const int64_t n = ay ? b.dim(b.rank() - 2) : b.dim(b.rank() - 1);
  if (ka != kb) return ctx.error("inner dimensions differ: " + std::to_string(ka) + " vs " + std::to_string(kb));
  std::vector<int64_t> ba(a.dims().begin(), a.dims().end() - 2), bb(b.dims().begin(), b.dims().end() - 2), bo;
  if (!ops::broadcast_dims(ba, bb, &bo)) return ctx.error("batch dimensions do not broadcast");
  std::vector<int64_t> od = bo;
  od.push_back(m);
  od.push_back(n);
  Tensor out = Tensor::uninitialized(DType::kF32, od);
  const int64_t batches = num_elements(bo);
  ops::BroadcastIndexer idx(bo, {ba, bb});
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* py = out.data<float>();
  for (int64_t bi = 0; bi < batches; ++bi) {
    const float* A = pa + idx.offset(0, bi) * m * ka;
    const float* B = pb + idx.offset(1, bi) * ka * n;
    float* Y = py + bi * m * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        float acc = 0;
        for (int64_t p = 0; p < ka; ++p)
          acc += (ax ? A[p * m + i] : A[i * ka + p]) * (ay ? B[j * ka + p] : B[p * n + j]);
        Y[i * n + j] = acc;
      }
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_fully_connected(OpRegistry& r) {
  r.add(OpDef{"tflite", "FULLY_CONNECTED", fc_kernel});
  r.add(OpDef{"tflite", "BATCH_MATMUL", batch_matmul_kernel});
}

}  // namespace convfix
