// Pad: modes constant, reflect, edge (and wrap, opset 19). Pads come from the
// "paddings" (opset 1) or "pads" (opset 2-10) attribute, or from input 1
// from opset 11 on, with constant_value input 2 and axes input 3 (opset 18).
// Negative pads crop. Any dtype.
#include "convfix/layout.h"
#include "ops/data_movement_util.h"

namespace convfix {
namespace {

enum class Mode { kConstant, kReflect, kEdge, kWrap };

Status pad(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  Tensor x = *ctx.input(0);
  int64_t r = x.rank();
  const std::string mode_s = ctx.attr_string("mode", "constant");
  Mode mode;
  if (mode_s == "constant") mode = Mode::kConstant;
  else if (mode_s == "reflect") mode = Mode::kReflect;
  else if (mode_s == "edge") mode = Mode::kEdge;
  else if (mode_s == "wrap") mode = Mode::kWrap;
  else return ctx.unsupported("mode '" + mode_s + "' is not supported");

  std::vector<int64_t> pads, axes;
  Tensor cval;
  if (ctx.opset() < 11) {
    pads = ctx.attr_ints(ctx.has_attr("pads") ? "pads" : "paddings");
    if (x.dtype() == DType::kString) {
      cval = Tensor(x.dtype(), {});
    } else {
      CONVFIX_ASSIGN_OR_RETURN(cval, Tensor::scalar_f32(ctx.attr_float("value", 0.f)).cast(x.dtype()));
    }
  } else {
    CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 1, "pads", &pads));
    if (ctx.has_input(2) && ctx.input(2)->numel() > 0) {
      const Tensor& c = *ctx.input(2);
      if (c.dtype() != x.dtype())
        return ctx.error(std::string("input 2 (constant_value) has element type ") + dtype_name(c.dtype()) +
                         ", data has " + dtype_name(x.dtype()));
      cval = Tensor(x.dtype(), {});
      ops::copy_elements(c, 0, cval, 0, 1);
    } else {
      cval = Tensor(x.dtype(), {});
    }
    if (ctx.has_input(3)) {
      CONVFIX_RETURN_IF_ERROR(ops::read_int_list(ctx, 3, "axes", &axes));
      CONVFIX_RETURN_IF_ERROR(ops::normalize_axes(ctx, axes, r));
    }
  }
  if (axes.empty())
    for (int64_t d = 0; d < r; ++d) axes.push_back(d);
  const size_t na = axes.size();
  if (pads.size() != 2 * na)
    return ctx.error("pads " + dims_to_string(pads) + " must have " + std::to_string(2 * na) + " values for input shape " +
                     dims_to_string(x.dims()));
  std::vector<int64_t> begin(static_cast<size_t>(r), 0), end(static_cast<size_t>(r), 0);
  for (size_t i = 0; i < na; ++i) {
    begin[static_cast<size_t>(axes[i])] = pads[i];
    end[static_cast<size_t>(axes[i])] = pads[i + na];
  }
  // nChw16c input (OpDef::blocked = kNative): a constant pad of H and W only
  // is the same pad of the [N, C/16, H, W, 16] array the buffer holds, and
  // gives an nChw16c output; anything else is computed on the plain tensor.
  bool blocked_out = false;
  std::vector<int64_t> logical_dims;
  if (x.layout() == MemoryLayout::kNChw16c) {
    const bool spatial = begin[0] == 0 && end[0] == 0 && begin[1] == 0 && end[1] == 0 && begin[2] >= 0 &&
                         end[2] >= 0 && begin[3] >= 0 && end[3] >= 0;
    if (mode == Mode::kConstant && spatial) {
      logical_dims = {x.dim(0), x.dim(1), x.dim(2) + begin[2] + end[2], x.dim(3) + begin[3] + end[3]};
      x = x.with_layout(MemoryLayout::kPlain).reshaped({x.dim(0), x.dim(1) / 16, x.dim(2), x.dim(3), 16});
      begin.push_back(0);
      end.push_back(0);
      r = 5;
      blocked_out = true;
    } else {
      x = to_plain(x, ctx.pool());
    }
  }
  std::vector<int64_t> od(static_cast<size_t>(r));
  // maps[d][o]: source coordinate for output coordinate o along d, -1 = constant.
  std::vector<std::vector<int64_t>> maps(static_cast<size_t>(r));
  for (size_t d = 0; d < static_cast<size_t>(r); ++d) {
    const int64_t n = x.dims()[d];
    od[d] = n + begin[d] + end[d];
    if (od[d] < 0)
      return ctx.error("pads " + dims_to_string(pads) + " crop more than axis " + std::to_string(d) + " of shape " +
                       dims_to_string(x.dims()) + " holds");
    if (n == 0 && od[d] > 0 && mode != Mode::kConstant)
      return ctx.error("cannot " + mode_s + "-pad axis " + std::to_string(d) + " of size 0");
    auto& m = maps[d];
    m.resize(static_cast<size_t>(od[d]));
    for (int64_t o = 0; o < od[d]; ++o) {
      int64_t i = o - begin[d];
      if (i < 0 || i >= n) {
        switch (mode) {
          case Mode::kConstant: i = -1; break;
          case Mode::kEdge: i = std::clamp<int64_t>(i, 0, n - 1); break;
          case Mode::kWrap: i = ((i % n) + n) % n; break;
          case Mode::kReflect:
            if (n == 1) {
              i = 0;
            } else {
              const int64_t period = 2 * (n - 1);
              i = ((i % period) + period) % period;
              if (i >= n) i = period - i;
            }
            break;
        }
      }
      m[static_cast<size_t>(o)] = i;
    }
  }
  Tensor out = Tensor::uninitialized(x.dtype(), od);  // every element is written below
  if (r == 0) {
    ops::copy_elements(x, 0, out, 0, 1);
    ctx.set_output(0, std::move(out));
    return Status::OK();
  }
  const auto xs = ops::strides_of(x.dims());
  const int64_t inner = od.back();
  const int64_t rows = inner ? out.numel() / inner : 0;
  const auto& inner_map = maps.back();
  CONVFIX_RETURN_IF_ERROR(ops::dispatch_elements(x.dtype(), [&]<typename T>() {
    const T* src = ops::elems<T>(x);
    T* dst = ops::elems<T>(out);
    const T cv = ops::elems<T>(cval)[0];
    parallel_for(ctx.pool(), rows, [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        T* o = dst + row * inner;
        int64_t off = 0, rem = row;
        bool constant = false;
        for (size_t d = static_cast<size_t>(r) - 1; d-- > 0;) {
          const int64_t c = rem % od[d];
          rem /= od[d];
          const int64_t s = maps[d][static_cast<size_t>(c)];
          if (s < 0) { constant = true; break; }
          off += s * xs[d];
        }
        if (constant) {
          for (int64_t i = 0; i < inner; ++i) o[i] = cv;
          continue;
        }
        const T* srow = src + off;
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t s = inner_map[static_cast<size_t>(i)];
          o[i] = s < 0 ? cv : srow[s];
        }
      }
    }, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, inner)));
  }, ctx));
  if (blocked_out) out = out.reshaped(logical_dims).with_layout(MemoryLayout::kNChw16c);
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_pad(OpRegistry& r) {
  OpDef d{"", "Pad", pad};
  d.blocked = BlockedLayout::kNative;  // constant H/W pads stay nChw16c
  r.add(std::move(d));
}

}  // namespace convfix
