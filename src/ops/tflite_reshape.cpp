// TFLite RESHAPE, SQUEEZE, EXPAND_DIMS, SHAPE, CAST: shape-only ops on any
// element type; the data is shared (no copy) and quantised outputs carry
// their declared parameters.
//
// RESHAPE takes the new shape from input 1 when present and non-empty, else
// from the new_shape option; one -1 is inferred. SQUEEZE drops the listed
// squeeze_dims (all size-1 dims when none). EXPAND_DIMS inserts a 1 at the
// axis given by input 1. SHAPE outputs the dims as int32 (out_type INT64:
// int64). CAST converts numerically (float -> int truncates, like TFLite's
// static_cast).
#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

Tensor with_output_quant(const KernelContext& ctx, Tensor t) {
  const QuantParams* q = output_quant(ctx, 0);
  if (q) t.set_quant(*q);
  return t;
}

Status reshape_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  std::vector<int64_t> shape;
  if (ctx.has_input(1) && ctx.input(1)->numel() > 0) shape = ctx.input(1)->to_i64_vector();
  else if (ctx.has_attr("new_shape")) shape = ctx.attr_ints("new_shape");
  else if (ctx.has_input(1)) shape = {};  // reshape to a scalar
  else return ctx.error("RESHAPE has neither a shape input nor new_shape");
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) return ctx.error("more than one -1 in the new shape " + dims_to_string(shape));
      infer = static_cast<int64_t>(i);
    } else if (shape[i] < 0) {
      return ctx.error("negative dimension in the new shape " + dims_to_string(shape));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0)
      return ctx.error("cannot infer -1 of " + dims_to_string(shape) + " for " + std::to_string(x.numel()) + " elements");
    shape[static_cast<size_t>(infer)] = x.numel() / known;
  }
  if (num_elements(shape) != x.numel())
    return ctx.error("new shape " + dims_to_string(shape) + " does not hold the input's " + std::to_string(x.numel()) +
                     " elements");
  ctx.set_output(0, with_output_quant(ctx, x.reshaped(shape)));
  return Status::OK();
}

Status squeeze_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  std::vector<int64_t> axes = ctx.attr_ints("squeeze_dims");
  std::vector<bool> drop(static_cast<size_t>(x.rank()), false);
  if (axes.empty()) {
    for (int64_t i = 0; i < x.rank(); ++i) drop[size_t(i)] = x.dim(i) == 1;
  } else {
    for (int64_t a : axes) {
      int64_t n;
      CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, a, x.rank(), &n, "squeeze dim"));
      if (x.dim(n) != 1) return ctx.error("squeeze dim " + std::to_string(a) + " has size " + std::to_string(x.dim(n)));
      drop[size_t(n)] = true;
    }
  }
  std::vector<int64_t> d;
  for (int64_t i = 0; i < x.rank(); ++i)
    if (!drop[size_t(i)]) d.push_back(x.dim(i));
  ctx.set_output(0, with_output_quant(ctx, x.reshaped(d)));
  return Status::OK();
}

Status expand_dims_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  if (ctx.input(1)->numel() != 1) return ctx.error("axis must hold one value");
  int64_t a = ctx.input(1)->get_i64(0), n;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, a, x.rank() + 1, &n));
  std::vector<int64_t> d = x.dims();
  d.insert(d.begin() + n, 1);
  ctx.set_output(0, with_output_quant(ctx, x.reshaped(d)));
  return Status::OK();
}

Status shape_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  const int64_t r = x.rank();
  if (ctx.attr_string("out_type", "INT32") == "INT64") {
    ctx.set_output(0, Tensor::from_vector(DType::kI64, {r}, x.dims()));
  } else {
    std::vector<int32_t> v(x.dims().begin(), x.dims().end());
    ctx.set_output(0, Tensor::from_vector(DType::kI32, {r}, v));
  }
  return Status::OK();
}

Status cast_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  DType to = output_dtype(ctx, 0);
  if (to == DType::kUndefined) {
    const std::string o = ctx.attr_string("out_data_type", "");
    if (o == "FLOAT32") to = DType::kF32;
    else if (o == "INT32") to = DType::kI32;
    else if (o == "INT64") to = DType::kI64;
    else if (o == "UINT8") to = DType::kU8;
    else if (o == "INT8") to = DType::kI8;
    else if (o == "BOOL") to = DType::kBool;
    else return ctx.error("CAST: the output type is not declared");
  }
  Tensor x = *ctx.input(0);
  x.set_quant(std::nullopt);
  CONVFIX_ASSIGN_OR_RETURN(Tensor y, x.cast(to));
  ctx.set_output(0, std::move(y));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_reshape(OpRegistry& r) {
  r.add(OpDef{"tflite", "RESHAPE", reshape_kernel});
  r.add(OpDef{"tflite", "SQUEEZE", squeeze_kernel});
  r.add(OpDef{"tflite", "EXPAND_DIMS", expand_dims_kernel});
  r.add(OpDef{"tflite", "SHAPE", shape_kernel});
  r.add(OpDef{"tflite", "CAST", cast_kernel});
}

}  // namespace convfix
