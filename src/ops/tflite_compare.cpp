// TFLite comparisons LESS, LESS_EQUAL, GREATER, GREATER_EQUAL, EQUAL,
// NOT_EQUAL (bool output, numpy broadcasting), LOGICAL_AND / LOGICAL_OR /
// LOGICAL_NOT on bool, and SELECT / SELECT_V2 (condition, x, y; SELECT_V2
// broadcasts all three, SELECT also takes a rank-1 condition over dim 0).
//
// Quantized inputs (both sides with parameters) are compared as TFLite's
// kernel does: (q - zp) * 2^8 rescaled by each side's scale with a Q0.31
// fixed-point multiplier and rounding (so nearly equal real values can
// compare equal); other types on their values.
#include <cstring>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

enum class C { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };

Status compare_kernel(KernelContext& ctx, C c) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  if (a.dtype() == DType::kString || b.dtype() == DType::kString) return ctx.unsupported("string comparison");
  std::vector<int64_t> od;
  if (!ops::broadcast_dims(a.dims(), b.dims(), &od)) return ctx.error("shapes do not broadcast");
  ops::BroadcastIndexer idx(od, {a.dims(), b.dims()});
  const QuantParams* qa = is_qint(a.dtype()) ? input_quant(ctx, 0) : nullptr;
  const QuantParams* qb = is_qint(b.dtype()) ? input_quant(ctx, 1) : nullptr;
  // Quantised inputs are compared as TFLite does: (q - zp) << 8 times each
  // side's own scale as a fixed-point multiplier (rounded), so values closer
  // than the rounding compare equal.
  const bool scaled = qa && qb;
  const QMul ma = scaled ? quantize_multiplier(scale_of(*qa)) : QMul{};
  const QMul mb = scaled ? quantize_multiplier(scale_of(*qb)) : QMul{};
  Tensor out = Tensor::uninitialized(DType::kBool, od);
  auto* y = out.data<bool>();
  for (int64_t i = 0; i < out.numel(); ++i) {
    double va, vb;
    if (scaled) {
      va = multiply_by_qmul((qget(a, idx.offset(0, i)) - zp_of(*qa)) * 256, ma);
      vb = multiply_by_qmul((qget(b, idx.offset(1, i)) - zp_of(*qb)) * 256, mb);
    } else {
      va = a.get_f64(idx.offset(0, i));
      vb = b.get_f64(idx.offset(1, i));
    }
    bool r = false;
    switch (c) {
      case C::kLess: r = va < vb; break;
      case C::kLessEqual: r = va <= vb; break;
      case C::kGreater: r = va > vb; break;
      case C::kGreaterEqual: r = va >= vb; break;
      case C::kEqual: r = va == vb; break;
      case C::kNotEqual: r = va != vb; break;
    }
    y[i] = r;
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status logical_kernel(KernelContext& ctx, int op) {  // 0 and, 1 or, 2 not
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& a = *ctx.input(0);
  if (a.dtype() != DType::kBool) return ctx.unsupported("logical ops need bool inputs");
  if (op == 2) {
    Tensor out = Tensor::uninitialized(DType::kBool, a.dims());
    for (int64_t i = 0; i < a.numel(); ++i) out.data<bool>()[i] = !a.data<bool>()[i];
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& b = *ctx.input(1);
  if (b.dtype() != DType::kBool) return ctx.unsupported("logical ops need bool inputs");
  std::vector<int64_t> od;
  if (!ops::broadcast_dims(a.dims(), b.dims(), &od)) return ctx.error("shapes do not broadcast");
  ops::BroadcastIndexer idx(od, {a.dims(), b.dims()});
  Tensor out = Tensor::uninitialized(DType::kBool, od);
  for (int64_t i = 0; i < out.numel(); ++i) {
    const bool va = a.data<bool>()[idx.offset(0, i)], vb = b.data<bool>()[idx.offset(1, i)];
    out.data<bool>()[i] = op == 0 ? (va && vb) : (va || vb);
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status select_kernel(KernelContext& ctx, bool v2) {
  for (size_t i = 0; i < 3; ++i) CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
  const Tensor& c = *ctx.input(0);
  const Tensor& x = *ctx.input(1);
  const Tensor& y = *ctx.input(2);
  if (c.dtype() != DType::kBool) return ctx.unsupported("condition must be bool");
  if (x.dtype() != y.dtype() || x.dtype() == DType::kString) return ctx.error("x and y differ in type");
  std::vector<int64_t> cd = c.dims();
  if (!v2 && c.rank() == 1 && x.rank() > 1 && c.dim(0) == x.dim(0)) cd.resize(size_t(x.rank()), 1);
  std::vector<int64_t> t, od;
  if (!ops::broadcast_dims(cd, x.dims(), &t) || !ops::broadcast_dims(t, y.dims(), &od))
    return ctx.error("shapes do not broadcast");
  ops::BroadcastIndexer idx(od, {cd, x.dims(), y.dims()});
  Tensor out = Tensor::uninitialized(x.dtype(), od);
  const QuantParams* q = output_quant(ctx, 0);
  if (q) out.set_quant(*q);
  const size_t es = dtype_size(x.dtype());
  for (int64_t i = 0; i < out.numel(); ++i) {
    const bool pick = c.data<bool>()[idx.offset(0, i)];
    const Tensor& src = pick ? x : y;
    std::memcpy(static_cast<uint8_t*>(out.raw()) + i * int64_t(es),
                static_cast<const uint8_t*>(src.raw()) + idx.offset(pick ? 1 : 2, i) * int64_t(es), es);
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_compare(OpRegistry& r) {
  const std::pair<const char*, C> ops[] = {{"LESS", C::kLess}, {"LESS_EQUAL", C::kLessEqual},
                                           {"GREATER", C::kGreater}, {"GREATER_EQUAL", C::kGreaterEqual},
                                           {"EQUAL", C::kEqual}, {"NOT_EQUAL", C::kNotEqual}};
  for (const auto& [name, c] : ops) {
    const C k = c;
    r.add(OpDef{"tflite", name, [k](KernelContext& x) { return compare_kernel(x, k); }});
  }
  r.add(OpDef{"tflite", "LOGICAL_AND", [](KernelContext& c) { return logical_kernel(c, 0); }});
  r.add(OpDef{"tflite", "LOGICAL_OR", [](KernelContext& c) { return logical_kernel(c, 1); }});
  r.add(OpDef{"tflite", "LOGICAL_NOT", [](KernelContext& c) { return logical_kernel(c, 2); }});
  r.add(OpDef{"tflite", "SELECT", [](KernelContext& c) { return select_kernel(c, false); }});
  r.add(OpDef{"tflite", "SELECT_V2", [](KernelContext& c) { return select_kernel(c, true); }});
}

}  // namespace convfix
