// NonZero: int64 coordinates [rank, count] of the non-zero elements in
// row-major order (a scalar is treated as a 1-element vector, like numpy).
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

Status nonzero(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  if (x.dtype() == DType::kString) return ctx.unsupported("string input is not supported");
  const std::vector<int64_t> dims = x.rank() == 0 ? std::vector<int64_t>{1} : x.dims();
  const int64_t r = static_cast<int64_t>(dims.size());
  std::vector<int64_t> hits;
  for (int64_t i = 0; i < x.numel(); ++i)
    if (x.get_f64(i) != 0.0) hits.push_back(i);
  const int64_t n = static_cast<int64_t>(hits.size());
  Tensor out(DType::kI64, {r, n});
  int64_t* po = out.data<int64_t>();
  for (int64_t j = 0; j < n; ++j) {
    int64_t rem = hits[static_cast<size_t>(j)];
    for (int64_t d = r; d-- > 0;) {
      po[d * n + j] = rem % dims[static_cast<size_t>(d)];
      rem /= dims[static_cast<size_t>(d)];
    }
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_nonzero(OpRegistry& r) { r.add({"", "NonZero", nonzero}); }

}  // namespace convfix
