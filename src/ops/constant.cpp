// Constant (value, value_float(s), value_int(s), value_string(s)),
// ConstantOfShape, EyeLike and Range.
#include <cmath>

#include "formats/onnx/onnx_tensor.h"
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status constant(KernelContext& ctx) {
  const Node& n = ctx.node();
  if (const Attribute* a = n.attr("value"); a && a->kind == Attribute::Kind::kTensor) {
    ctx.set_output(0, a->t);
    return Status::OK();
  }
  if (const Attribute* a = n.attr("value_float")) {
    ctx.set_output(0, Tensor::scalar_f32(a->f));
  } else if (const Attribute* a = n.attr("value_floats")) {
    ctx.set_output(0, Tensor::from_vector(DType::kF32, {static_cast<int64_t>(a->floats.size())}, a->floats));
  } else if (const Attribute* a = n.attr("value_int")) {
    ctx.set_output(0, Tensor::scalar_i64(a->i));
  } else if (const Attribute* a = n.attr("value_ints")) {
    ctx.set_output(0, Tensor::from_vector(DType::kI64, {static_cast<int64_t>(a->ints.size())}, a->ints));
  } else if (const Attribute* a = n.attr("value_string")) {
    Tensor t(DType::kString, {});
    (*t.strings())[0] = a->s;
    ctx.set_output(0, std::move(t));
  } else if (const Attribute* a = n.attr("value_strings")) {
    Tensor t(DType::kString, {static_cast<int64_t>(a->strings.size())});
    *t.strings() = a->strings;
    ctx.set_output(0, std::move(t));
  } else if (n.attr("sparse_value")) {
    return ctx.unsupported("attribute 'sparse_value' (sparse tensor) is not supported");
  } else {
    return ctx.error("has none of the attributes value, value_float(s), value_int(s), value_string(s)");
  }
  return Status::OK();
}

Status constant_of_shape(KernelContext& ctx) {
  std::vector<int64_t> shape;
  CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 0, "shape", &shape));
  for (int64_t d : shape)
    if (d < 0) return ctx.error("input 0 (shape) " + dims_to_string(shape) + " has a negative dim");
  Tensor value = Tensor::scalar_f32(0.f);
  if (const Attribute* a = ctx.node().attr("value")) {
    if (a->kind != Attribute::Kind::kTensor || a->t.numel() != 1)
      return ctx.error("attribute 'value' must be a one-element tensor");
    value = a->t;
  }
  Tensor out(value.dtype(), shape);
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_elements(value.dtype(), [&]<typename T>() {
    const T v = ops::elems<T>(value)[0];
    T* o = ops::elems<T>(out);
    for (int64_t i = 0; i < out.numel(); ++i) o[i] = v;
  }, ctx));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status eye_like(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  if (x.rank() != 2) return ctx.error("input 0 must be 2-D, got " + dims_to_string(x.dims()));
  DType dt = x.dtype();
  if (ctx.has_attr("dtype")) {
    auto d = onnxfmt::dtype_from_onnx(static_cast<int32_t>(ctx.attr_int("dtype", 1)));
    if (!d.ok()) return ctx.unsupported("attribute 'dtype': " + d.status().message());
    dt = *d;
  }
  if (dt == DType::kString) return ctx.unsupported("EyeLike of strings is not supported");
  CONVFIX_ASSIGN_OR_RETURN(Tensor one, Tensor::scalar_f32(1.f).cast(dt));
  Tensor out(dt, x.dims());
  const int64_t rows = x.dim(0), cols = x.dim(1);
  const int64_t k = std::clamp<int64_t>(ctx.attr_int("k", 0), -rows - 1, cols + 1);
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t j = i + k;
    if (j >= 0 && j < cols) ops::copy_elements(one, 0, out, i * cols + j, 1);
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

// Larger outputs are certainly a malformed model (and would not fit in memory).
constexpr double kMaxRange = 1e10;

Status range(KernelContext& ctx) {
  for (size_t i = 0; i < 3; ++i) {
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
    if (ctx.input(i)->numel() != 1)
      return ctx.error("input " + std::to_string(i) + " must be a scalar, got shape " + dims_to_string(ctx.input(i)->dims()));
    if (ctx.input(i)->dtype() != ctx.input(0)->dtype())
      return ctx.error("input " + std::to_string(i) + " has element type " + dtype_name(ctx.input(i)->dtype()) +
                       ", input 0 has " + dtype_name(ctx.input(0)->dtype()));
  }
  const DType dt = ctx.input(0)->dtype();
  if (dtype_is_float(dt)) {
    const double s = ctx.input(0)->get_f64(0), l = ctx.input(1)->get_f64(0), d = ctx.input(2)->get_f64(0);
    if (d == 0) return ctx.error("input 2 (delta) is 0");
    const double cnt = std::ceil((l - s) / d);
    if (!(cnt <= kMaxRange)) return ctx.error("would produce " + std::to_string(cnt) + " elements");
    const int64_t n = cnt > 0 ? static_cast<int64_t>(cnt) : 0;
    std::vector<double> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = s + static_cast<double>(i) * d;
    CONVFIX_ASSIGN_OR_RETURN(Tensor out, Tensor::from_vector(DType::kF64, {n}, v).cast(dt));
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  if (!dtype_is_integer(dt)) return ctx.unsupported(std::string("element type ") + dtype_name(dt) + " is not supported");
  const int64_t s = ctx.input(0)->get_i64(0), l = ctx.input(1)->get_i64(0), d = ctx.input(2)->get_i64(0);
  if (d == 0) return ctx.error("input 2 (delta) is 0");
  // Count in long double: limit - start may overflow int64.
  const long double span = static_cast<long double>(l) - static_cast<long double>(s);
  const long double cnt = std::ceil(span / static_cast<long double>(d));
  if (cnt > kMaxRange) return ctx.error("would produce " + std::to_string(static_cast<double>(cnt)) + " elements");
  const int64_t n = cnt > 0 ? static_cast<int64_t>(cnt) : 0;
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = s + i * d;
  CONVFIX_ASSIGN_OR_RETURN(Tensor out, Tensor::from_vector(DType::kI64, {n}, v).cast(dt));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_constant(OpRegistry& r) {
  r.add({"", "Constant", constant});
  r.add({"", "ConstantOfShape", constant_of_shape});
  r.add({"", "EyeLike", eye_like});
  r.add({"", "Range", range});
}

}  // namespace convfix
