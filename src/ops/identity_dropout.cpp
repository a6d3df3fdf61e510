// Identity and Dropout. Dropout is the identity at inference; its optional
// mask output is all true (bool from opset 10, the input's type before).
// Training-mode dropout (opset 12 training_mode input) with a non-zero ratio
// is random and therefore not supported.
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status identity(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  ctx.set_output(0, *ctx.input(0));
  return Status::OK();
}

Status dropout(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  if (ctx.opset() >= 12 && ctx.has_input(2)) {
    int64_t training = 0;
    CONVFIX_RETURN_IF_ERROR(ops::read_int_scalar(ctx, 2, "training_mode", &training));
    double ratio = 0.5;
    if (ctx.has_input(1)) {
      const Tensor& rt = *ctx.input(1);
      if (rt.numel() != 1) return ctx.error("input 1 (ratio) must hold one value, got shape " + dims_to_string(rt.dims()));
      ratio = rt.get_f64(0);
    }
    if (training && ratio != 0.0)
      return ctx.unsupported("training-mode dropout with ratio " + std::to_string(ratio) +
                             " is random; only inference (or ratio 0) is supported");
  }
  ctx.set_output(0, x);
  if (ctx.wants_output(1)) {
    if (ctx.opset() >= 10) {
      Tensor m(DType::kBool, x.dims());
      std::memset(m.raw(), 1, m.nbytes());
      ctx.set_output(1, std::move(m));
    } else {
      Tensor ones = Tensor::from_vector<float>(DType::kF32, x.dims(), std::vector<float>(static_cast<size_t>(x.numel()), 1.f));
      CONVFIX_ASSIGN_OR_RETURN(Tensor m, ones.cast(x.dtype()));
      ctx.set_output(1, std::move(m));
    }
  }
  return Status::OK();
}

}  // namespace

void register_ops_identity_dropout(OpRegistry& r) {
  r.add({"", "Identity", identity});
  r.add({"", "Dropout", dropout});
}

}  // namespace convfix
