// Where(condition, X, Y): X where condition is true, else Y, with all three
// inputs broadcast together. Works on any element type (moved by size, so
// f16/bf16 need no conversion) and on strings.
#include <string>

#include "ops/elementwise_util.h"

namespace convfix {
namespace {

template <typename T>
void select(const ops::BroadcastPlan& p, const uint8_t* c, const T* x, const T* y, T* o, ThreadPool* pool) {
  ops::map_ternary(p, c, x, y, o, pool, [](uint8_t cv, const T& xv, const T& yv) { return cv ? xv : yv; });
}

Status where(KernelContext& ctx) {
  for (size_t i = 0; i < 3; ++i) CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
  const Tensor& c = *ctx.input(0);
  const Tensor& x = *ctx.input(1);
  const Tensor& y = *ctx.input(2);
  if (c.dtype() != DType::kBool)
    return ctx.error(std::string("input 0 (condition) has element type ") + dtype_name(c.dtype()) + ", expected bool");
  if (x.dtype() != y.dtype())
    return ctx.error(std::string("input types differ: input 1 is ") + dtype_name(x.dtype()) + ", input 2 is " +
                     dtype_name(y.dtype()));
  ops::BroadcastPlan p;
  if (!ops::make_broadcast_plan({&c.dims(), &x.dims(), &y.dims()}, &p))
    return ctx.error("cannot broadcast shapes " + dims_to_string(c.dims()) + ", " + dims_to_string(x.dims()) + ", " +
                     dims_to_string(y.dims()));
  Tensor out(x.dtype(), p.out_dims);
  const uint8_t* pc = c.data<uint8_t>();
  ThreadPool* pool = ctx.pool();
  if (x.dtype() == DType::kString) {
    select(p, pc, x.strings()->data(), y.strings()->data(), out.strings()->data(), nullptr);
  } else {
    switch (dtype_size(x.dtype())) {
      case 1: select(p, pc, x.data<uint8_t>(), y.data<uint8_t>(), out.data<uint8_t>(), pool); break;
      case 2: select(p, pc, x.data<uint16_t>(), y.data<uint16_t>(), out.data<uint16_t>(), pool); break;
      case 4: select(p, pc, x.data<uint32_t>(), y.data<uint32_t>(), out.data<uint32_t>(), pool); break;
      case 8: select(p, pc, x.data<uint64_t>(), y.data<uint64_t>(), out.data<uint64_t>(), pool); break;
      default: return ctx.unsupported(std::string("element type ") + dtype_name(x.dtype()));
    }
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_where(OpRegistry& r) { r.add({"", "Where", where}); }

}  // namespace convfix
