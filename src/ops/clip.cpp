// Clip: opset < 11 takes min/max as float attributes (default: no bound);
// opset >= 11 takes them as optional scalar inputs 1 and 2 of X's type (any
// numeric type from opset 12). When min > max every element becomes max
// (numpy.clip order: min first, then max). NaN passes through.
#include <limits>

#include "ops/elementwise_util.h"

namespace convfix {
namespace {

Status clip(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  Tensor out = Tensor::uninitialized(x.dtype(), x.dims());
  Status bad = Status::OK();
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_numeric(x.dtype(), [&]<typename T>() {
    T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
    if constexpr (std::is_floating_point_v<T>) {
      lo = -std::numeric_limits<T>::infinity();
      hi = std::numeric_limits<T>::infinity();
    }
    if (ctx.opset() < 11) {
      if (ctx.has_attr("min")) lo = static_cast<T>(ctx.attr_float("min", 0.0f));
      if (ctx.has_attr("max")) hi = static_cast<T>(ctx.attr_float("max", 0.0f));
    } else {
      for (size_t i = 1; i <= 2; ++i) {
        const Tensor* b = ctx.input(i);
        if (!b) continue;
        if (b->dtype() != x.dtype()) {
          bad = ctx.error("input " + std::to_string(i) + " has element type " + dtype_name(b->dtype()) +
                          ", expected " + dtype_name(x.dtype()) + " like input 0");
          return;
        }
        if (b->numel() != 1) {
          bad = ctx.error("input " + std::to_string(i) + " must be a scalar, got shape " + dims_to_string(b->dims()));
          return;
        }
        (i == 1 ? lo : hi) = b->data<T>()[0];
      }
    }
    ops::map_unary(x.data<T>(), out.data<T>(), x.numel(), ctx.pool(), [lo, hi](T v) {
      v = v < lo ? lo : v;
      return v > hi ? hi : v;
    });
  }, ctx));
  CONVFIX_RETURN_IF_ERROR(bad);
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_clip(OpRegistry& r) { r.add(elementwise_layout({"", "Clip", clip, FloatCompute::kHalf})); }

}  // namespace convfix
