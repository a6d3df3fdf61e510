// TFLite data-movement ops on any fixed-size element type (quantised values
// are moved as they are; outputs carry their declared parameters):
// TRANSPOSE, CONCATENATION, PACK, UNPACK, SPLIT, SPLIT_V, SLICE,
// STRIDED_SLICE, TILE, GATHER, PAD, PADV2, MIRROR_PAD, SPACE_TO_DEPTH,
// DEPTH_TO_SPACE, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND.
//
// - CONCATENATION of quantised inputs whose parameters differ from the
//   output's requantises each such input: round(q * s_in / s_out + bias) as
//   TFLite's reference does (float, round half away from zero); a fused
//   activation clamps (float) too.
// - PAD fills with 0, or the output zero point for quantised tensors; PADV2
//   with its constant input; MIRROR_PAD mode REFLECT or SYMMETRIC.
// - STRIDED_SLICE: begin/end/ellipsis/new_axis/shrink_axis masks and the
//   offset option, TensorFlow's clamping rules.
// - DEPTH_TO_SPACE is TensorFlow's DCR order on NHWC.
// Everything is a strided copy (src strides per output dim, may be 0 or
// negative), so it is exact for every dtype.
#include <cmath>
#include <cstring>
#include <vector>

#include "ops/kernel_util.h"
#include "ops/tflite_util.h"

namespace convfix {
namespace {

using namespace ops::tfl;

// Copies the box `dims` from src (offset soff, strides sst, in elements) to
// dst (offset doff, strides dst_st).
void strided_copy(const uint8_t* src, int64_t soff, const std::vector<int64_t>& sst, uint8_t* dst, int64_t doff,
                  const std::vector<int64_t>& dstst, const std::vector<int64_t>& dims, size_t es) {
  const int64_t n = num_elements(dims);
  if (n == 0) return;
  const size_t r = dims.size();
  if (r == 0) {
    std::memcpy(dst + doff * int64_t(es), src + soff * int64_t(es), es);
    return;
  }
  const int64_t inner = dims[r - 1];
  const bool contig = sst[r - 1] == 1 && dstst[r - 1] == 1;
  std::vector<int64_t> idx(r, 0);
  const int64_t outer = n / inner;
  for (int64_t o = 0; o < outer; ++o) {
    int64_t s = soff, d = doff;
    for (size_t k = 0; k + 1 < r; ++k) {
      s += idx[k] * sst[k];
      d += idx[k] * dstst[k];
    }
    if (contig) {
      std::memcpy(dst + d * int64_t(es), src + s * int64_t(es), size_t(inner) * es);
    } else {
      for (int64_t i = 0; i < inner; ++i)
        std::memcpy(dst + (d + i * dstst[r - 1]) * int64_t(es), src + (s + i * sst[r - 1]) * int64_t(es), es);
    }
    for (size_t k = r - 1; k-- > 0;) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
}

Status check_movable(const KernelContext& ctx, const Tensor& t) {
  if (t.dtype() == DType::kString || t.dtype() == DType::kUndefined)
    return ctx.unsupported(std::string("element type ") + dtype_name(t.dtype()));
  return Status::OK();
}

Tensor new_output(const KernelContext& ctx, size_t i, DType dt, std::vector<int64_t> dims, const Tensor& like) {
  Tensor t = Tensor::uninitialized(dt, std::move(dims));
  const QuantParams* q = output_quant(ctx, i);
  if (q) t.set_quant(*q);
  else if (like.quant()) t.set_quant(like.quant());
  return t;
}

const uint8_t* bytes(const Tensor& t) { return static_cast<const uint8_t*>(t.raw()); }
uint8_t* bytes(Tensor& t) { return static_cast<uint8_t*>(t.raw()); }

Status transpose_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x));
  std::vector<int64_t> perm = ctx.input(1)->to_i64_vector();
  if (static_cast<int64_t>(perm.size()) != x.rank()) return ctx.error("perm has the wrong length");
  std::vector<bool> seen(perm.size(), false);
  const std::vector<int64_t> st = ops::strides_of(x.dims());
  std::vector<int64_t> od, sst;
  for (int64_t& p : perm) {
    int64_t a;
    CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, p, x.rank(), &a, "perm entry"));
    if (seen[size_t(a)]) return ctx.error("perm repeats axis " + std::to_string(a));
    seen[size_t(a)] = true;
    od.push_back(x.dim(a));
    sst.push_back(st[size_t(a)]);
  }
  Tensor out = new_output(ctx, 0, x.dtype(), od, x);
  strided_copy(bytes(x), 0, sst, bytes(out), 0, ops::strides_of(od), od, dtype_size(x.dtype()));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

// Concatenates `parts` along axis into a fresh output (requantising when needed).
Status concat_into(KernelContext& ctx, const std::vector<const Tensor*>& parts, const std::vector<size_t>& input_idx,
                   int64_t axis, std::vector<int64_t> od, size_t out_index) {
  const Tensor& x0 = *parts[0];
  Tensor out = new_output(ctx, out_index, x0.dtype(), od, x0);
  const QuantParams* qy = output_quant(ctx, out_index);
  const std::vector<int64_t> ost = ops::strides_of(od);
  int64_t off = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    const Tensor& p = *parts[k];
    const QuantParams* qp = input_idx.empty() ? nullptr : input_quant(ctx, input_idx[k]);
    const bool requant = qy && qp && is_qint(p.dtype()) &&
                         (scale_of(*qp) != scale_of(*qy) || zp_of(*qp) != zp_of(*qy));
    if (!requant) {
      strided_copy(bytes(p), 0, ops::strides_of(p.dims()), bytes(out), off * ost[size_t(axis)], ost, p.dims(),
                   dtype_size(p.dtype()));
    } else {
      const float scale = scale_of(*qp) / scale_of(*qy);
      const float bias = -static_cast<float>(zp_of(*qp)) * scale;
      Tensor tmp = Tensor::uninitialized(p.dtype(), p.dims());
      for (int64_t i = 0; i < p.numel(); ++i) {
        const float r = std::round(static_cast<float>(qget(p, i)) * scale + bias);
        qset(tmp, i, round_sat(static_cast<double>(r) + zp_of(*qy), qmin(p.dtype()), qmax(p.dtype())));
      }
      strided_copy(bytes(tmp), 0, ops::strides_of(p.dims()), bytes(out), off * ost[size_t(axis)], ost, p.dims(),
                   dtype_size(p.dtype()));
    }
    off += p.dim(axis);
  }
  Act act = Act::kNone;
  CONVFIX_RETURN_IF_ERROR(parse_act(ctx, &act));
  if (act != Act::kNone) {
    if (out.dtype() == DType::kF32) {
      float lo, hi;
      float_act_range(act, &lo, &hi);
      float* y = out.data<float>();
      for (int64_t i = 0; i < out.numel(); ++i) y[i] = apply_float_act(act, y[i], lo, hi);
    } else if (qy && is_qint(out.dtype())) {
      int32_t lo, hi;
      CONVFIX_RETURN_IF_ERROR(quant_act_range(ctx, act, out.dtype(), *qy, &lo, &hi));
      for (int64_t i = 0; i < out.numel(); ++i) qset(out, i, std::clamp(qget(out, i), lo, hi));
    }
  }
  ctx.set_output(out_index, std::move(out));
  return Status::OK();
}

Status concat_kernel(KernelContext& ctx) {
  std::vector<const Tensor*> parts;
  std::vector<size_t> idx;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
    parts.push_back(ctx.input(i));
    idx.push_back(i);
  }
  if (parts.empty()) return ctx.error("no inputs");
  const Tensor& x0 = *parts[0];
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x0));
  int64_t axis;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", 0), x0.rank(), &axis));
  std::vector<int64_t> od = x0.dims();
  od[size_t(axis)] = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    const Tensor& p = *parts[k];
    if (p.dtype() != x0.dtype() || p.rank() != x0.rank())
      return ctx.error("input " + std::to_string(k) + " differs in type or rank from input 0");
    for (int64_t d = 0; d < p.rank(); ++d)
      if (d != axis && p.dim(d) != x0.dim(d))
        return ctx.error("input " + std::to_string(k) + " has shape " + dims_to_string(p.dims()) + ", input 0 " +
                         dims_to_string(x0.dims()));
    od[size_t(axis)] += p.dim(axis);
  }
  return concat_into(ctx, parts, idx, axis, od, 0);
}

Status pack_kernel(KernelContext& ctx) {
  std::vector<Tensor> views;
  std::vector<const Tensor*> parts;
  std::vector<size_t> idx;
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x0 = *ctx.input(0);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x0));
  int64_t axis;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", 0), x0.rank() + 1, &axis));
  views.reserve(ctx.num_inputs());
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
    if (ctx.input(i)->dims() != x0.dims() || ctx.input(i)->dtype() != x0.dtype())
      return ctx.error("input " + std::to_string(i) + " differs from input 0 in type or shape");
    std::vector<int64_t> d = x0.dims();
    d.insert(d.begin() + axis, 1);
    views.push_back(ctx.input(i)->reshaped(d));
    idx.push_back(i);
  }
  for (auto& v : views) parts.push_back(&v);
  std::vector<int64_t> od = x0.dims();
  od.insert(od.begin() + axis, static_cast<int64_t>(views.size()));
  return concat_into(ctx, parts, idx, axis, od, 0);
}

// Splits x along axis into pieces of the given sizes, one per output.
Status split_into(KernelContext& ctx, const Tensor& x, int64_t axis, const std::vector<int64_t>& sizes, bool drop_axis) {
  const std::vector<int64_t> st = ops::strides_of(x.dims());
  int64_t off = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    std::vector<int64_t> d = x.dims();
    d[size_t(axis)] = sizes[k];
    Tensor out = new_output(ctx, k, x.dtype(), d, x);
    strided_copy(bytes(x), off * st[size_t(axis)], st, bytes(out), 0, ops::strides_of(d), d, dtype_size(x.dtype()));
    off += sizes[k];
    if (drop_axis) {
      d.erase(d.begin() + axis);
      out = out.reshaped(d);
    }
    if (k < ctx.num_outputs()) ctx.set_output(k, std::move(out));
  }
  return Status::OK();
}

Status split_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(1);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x));
  int64_t axis;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.input(0)->get_i64(0), x.rank(), &axis));
  const int64_t n = ctx.attr_int("num_splits", static_cast<int64_t>(ctx.num_outputs()));
  if (n <= 0 || x.dim(axis) % n != 0)
    return ctx.error("dimension " + std::to_string(x.dim(axis)) + " does not split into " + std::to_string(n));
  return split_into(ctx, x, axis, std::vector<int64_t>(size_t(n), x.dim(axis) / n), false);
}

Status split_v_kernel(KernelContext& ctx) {
  for (size_t i = 0; i < 3; ++i) CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
  const Tensor& x = *ctx.input(0);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x));
  int64_t axis;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.input(2)->get_i64(0), x.rank(), &axis));
  std::vector<int64_t> sizes = ctx.input(1)->to_i64_vector();
  int64_t sum = 0, infer = -1;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1) infer = static_cast<int64_t>(i);
    else if (sizes[i] < 0) return ctx.error("negative split size");
    else sum += sizes[i];
  }
  if (infer >= 0) sizes[size_t(infer)] = x.dim(axis) - sum;
  sum = 0;
  for (int64_t s : sizes) sum += s;
  if (sum != x.dim(axis) || (infer >= 0 && sizes[size_t(infer)] < 0)) return ctx.error("split sizes do not add up");
  return split_into(ctx, x, axis, sizes, false);
}

Status unpack_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  const Tensor& x = *ctx.input(0);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x));
  int64_t axis;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", 0), x.rank(), &axis));
  return split_into(ctx, x, axis, std::vector<int64_t>(size_t(x.dim(axis)), 1), true);
}

// Output dims, start offset and per-dim source strides of a slice.
Status slice_common(KernelContext& ctx, const Tensor& x, const std::vector<int64_t>& begin,
                    const std::vector<int64_t>& step, const std::vector<int64_t>& count,
                    const std::vector<int64_t>& out_dims) {
  const std::vector<int64_t> st = ops::strides_of(x.dims());
  int64_t off = 0;
  std::vector<int64_t> sst(begin.size());
  for (size_t i = 0; i < begin.size(); ++i) {
    off += begin[i] * st[i];
    sst[i] = step[i] * st[i];
  }
  Tensor out = new_output(ctx, 0, x.dtype(), count, x);
  strided_copy(bytes(x), off, sst, bytes(out), 0, ops::strides_of(count), count, dtype_size(x.dtype()));
  ctx.set_output(0, out.reshaped(out_dims));
  return Status::OK();
}

Status slice_kernel(KernelContext& ctx) {
  for (size_t i = 0; i < 3; ++i) CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
  const Tensor& x = *ctx.input(0);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x));
  std::vector<int64_t> b = ctx.input(1)->to_i64_vector(), s = ctx.input(2)->to_i64_vector();
  if (static_cast<int64_t>(b.size()) != x.rank() || static_cast<int64_t>(s.size()) != x.rank())
    return ctx.error("begin and size must have one entry per dimension");
  for (size_t i = 0; i < b.size(); ++i) {
    if (s[i] == -1) s[i] = x.dims()[i] - b[i];
    if (b[i] < 0 || s[i] < 0 || b[i] + s[i] > x.dims()[i])
      return ctx.error("slice [" + std::to_string(b[i]) + ", +" + std::to_string(s[i]) + ") is outside dimension " +
                       std::to_string(i) + " of size " + std::to_string(x.dims()[i]));
  }
  return slice_common(ctx, x, b, std::vector<int64_t>(b.size(), 1), s, s);
}

Status strided_slice_kernel(KernelContext& ctx) {
  for (size_t i = 0; i < 3; ++i) CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
  const Tensor& x = *ctx.input(0);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x));
  std::vector<int64_t> bv = ctx.input(1)->to_i64_vector(), ev = ctx.input(2)->to_i64_vector(), sv;
  sv = ctx.has_input(3) ? ctx.input(3)->to_i64_vector() : std::vector<int64_t>(bv.size(), 1);
  if (bv.size() != ev.size() || bv.size() != sv.size()) return ctx.error("begin, end and strides differ in length");
  const int64_t bm = ctx.attr_int("begin_mask", 0), em = ctx.attr_int("end_mask", 0);
  const int64_t elm = ctx.attr_int("ellipsis_mask", 0), nam = ctx.attr_int("new_axis_mask", 0);
  const int64_t sam = ctx.attr_int("shrink_axis_mask", 0);
  const bool offset = ctx.attr_int("offset", 0) != 0;
  // Walk the spec: an ellipsis covers the input dims no later entry names,
  // new axes add a 1 to the output, shrunk dims leave it.
  int64_t in_dim = 0;
  std::vector<int64_t> count;
  std::vector<int64_t> begin, step;
  std::vector<int64_t> out_dims;
  auto add_full = [&](int64_t d) {
    begin.push_back(0);
    step.push_back(1);
    count.push_back(x.dim(d));
    out_dims.push_back(x.dim(d));
  };
  for (size_t i = 0; i < bv.size(); ++i) {
    if ((elm >> i) & 1) {
      int64_t later = 0;
      for (size_t j = i + 1; j < bv.size(); ++j)
        if (!((nam >> j) & 1)) ++later;
      const int64_t cover = x.rank() - in_dim - later;
      for (int64_t k = 0; k < cover; ++k) add_full(in_dim++);
      continue;
    }
    if ((nam >> i) & 1) {
      out_dims.push_back(1);
      continue;
    }
    if (in_dim >= x.rank()) return ctx.error("more slice entries than input dimensions");
    const int64_t dim = x.dim(in_dim);
    const int64_t s = sv[i];
    if (s == 0) return ctx.error("stride 0");
    const bool shrink = (sam >> i) & 1;
    int64_t b = bv[i], e = ev[i];
    if (offset) e = b + e;
    auto norm = [&](int64_t v, bool masked, bool is_begin) {
      if (masked) return is_begin ? (s > 0 ? int64_t(0) : dim - 1) : (s > 0 ? dim : int64_t(-1));
      if (v < 0) v += dim;
      return s > 0 ? std::clamp<int64_t>(v, 0, dim) : std::clamp<int64_t>(v, -1, dim - 1);
    };
    if (shrink) {
      int64_t bb = b < 0 ? b + dim : b;
      if (bb < 0 || bb >= dim) return ctx.error("shrink index " + std::to_string(b) + " out of range");
      begin.push_back(bb);
      step.push_back(1);
      count.push_back(1);
    } else {
      const int64_t bb = norm(b, (bm >> i) & 1, true), ee = norm(e, (em >> i) & 1, false);
      int64_t c = s > 0 ? (ee - bb + s - 1) / s : (bb - ee + (-s) - 1) / (-s);
      c = std::max<int64_t>(c, 0);
      begin.push_back(c > 0 ? bb : 0);
      step.push_back(s);
      count.push_back(c);
      out_dims.push_back(c);
    }
    ++in_dim;
  }
  while (in_dim < x.rank()) add_full(in_dim++);
  return slice_common(ctx, x, begin, step, count, out_dims);
}

Status tile_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x));
  const std::vector<int64_t> m = ctx.input(1)->to_i64_vector();
  if (static_cast<int64_t>(m.size()) != x.rank()) return ctx.error("multiples must have one entry per dimension");
  // View the output as [m0, d0, m1, d1, ...] with stride 0 on the m axes.
  std::vector<int64_t> vd, sst;
  const std::vector<int64_t> st = ops::strides_of(x.dims());
  std::vector<int64_t> od;
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] < 0) return ctx.error("negative multiple");
    vd.push_back(m[i]);
    sst.push_back(0);
    vd.push_back(x.dims()[i]);
    sst.push_back(st[i]);
    od.push_back(m[i] * x.dims()[i]);
  }
  Tensor out = new_output(ctx, 0, x.dtype(), od, x);
  strided_copy(bytes(x), 0, sst, bytes(out), 0, ops::strides_of(vd), vd, dtype_size(x.dtype()));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

Status gather_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  const Tensor& ind = *ctx.input(1);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x));
  if (ctx.attr_int("batch_dims", 0) != 0) return ctx.unsupported("batch_dims != 0");
  int64_t axis;
  CONVFIX_RETURN_IF_ERROR(ops::normalize_axis(ctx, ctx.attr_int("axis", 0), x.rank(), &axis));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d) inner *= x.dim(d);
  std::vector<int64_t> od(x.dims().begin(), x.dims().begin() + axis);
  od.insert(od.end(), ind.dims().begin(), ind.dims().end());
  od.insert(od.end(), x.dims().begin() + axis + 1, x.dims().end());
  Tensor out = new_output(ctx, 0, x.dtype(), od, x);
  const size_t es = dtype_size(x.dtype());
  const int64_t ni = ind.numel(), dim = x.dim(axis);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < ni; ++k) {
      const int64_t j = ind.get_i64(k);
      if (j < 0 || j >= dim) return ctx.error("index " + std::to_string(j) + " out of range [0, " + std::to_string(dim) + ")");
      std::memcpy(bytes(out) + ((o * ni + k) * inner) * int64_t(es), bytes(x) + ((o * dim + j) * inner) * int64_t(es),
                  size_t(inner) * es);
    }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

enum class PadMode { kConstant, kReflect, kSymmetric };

Status pad_kernel(KernelContext& ctx, bool v2, bool mirror) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  const Tensor& x = *ctx.input(0);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x));
  const std::vector<int64_t> p = ctx.input(1)->to_i64_vector();
  if (static_cast<int64_t>(p.size()) != 2 * x.rank()) return ctx.error("paddings must be [rank, 2]");
  std::vector<int64_t> od = x.dims();
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (p[size_t(2 * d)] < 0 || p[size_t(2 * d + 1)] < 0) return ctx.error("negative padding");
    od[size_t(d)] += p[size_t(2 * d)] + p[size_t(2 * d + 1)];
  }
  Tensor out = new_output(ctx, 0, x.dtype(), od, x);
  const size_t es = dtype_size(x.dtype());
  const int64_t n = out.numel();
  if (!mirror) {
    // Fill value: PADV2's constant, else 0 / the output zero point.
    std::vector<uint8_t> fill(es, 0);
    if (v2 && ctx.has_input(2)) {
      if (ctx.input(2)->dtype() != x.dtype()) return ctx.error("constant value has another type than the input");
      std::memcpy(fill.data(), ctx.input(2)->raw(), es);
    } else if (is_qint(x.dtype())) {
      const QuantParams* q = output_quant(ctx, 0);
      if (!q) q = input_quant(ctx, 0);
      Tensor one = Tensor::uninitialized(x.dtype(), {1});
      qset(one, 0, q ? zp_of(*q) : 0);
      std::memcpy(fill.data(), one.raw(), es);
    }
    for (int64_t i = 0; i < n; ++i) std::memcpy(bytes(out) + i * int64_t(es), fill.data(), es);
    const std::vector<int64_t> ost = ops::strides_of(od);
    int64_t off = 0;
    for (int64_t d = 0; d < x.rank(); ++d) off += p[size_t(2 * d)] * ost[size_t(d)];
    strided_copy(bytes(x), 0, ops::strides_of(x.dims()), bytes(out), off, ost, x.dims(), es);
  } else {
    const std::string mode = ctx.attr_string("mode", "REFLECT");
    const int64_t shift = mode == "SYMMETRIC" ? 0 : 1;
    for (int64_t d = 0; d < x.rank(); ++d)
      if (p[size_t(2 * d)] > x.dim(d) - shift || p[size_t(2 * d + 1)] > x.dim(d) - shift)
        return ctx.error("mirror padding larger than the dimension");
    const std::vector<int64_t> ist = ops::strides_of(x.dims());
    const std::vector<int64_t> ost = ops::strides_of(od);
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, src = 0;
      for (int64_t d = 0; d < x.rank(); ++d) {
        int64_t c = rem / ost[size_t(d)] - p[size_t(2 * d)];
        rem %= ost[size_t(d)];
        const int64_t dim = x.dim(d);
        if (c < 0) c = -c - 1 + shift;
        else if (c >= dim) c = 2 * dim - c - 1 - shift;
        src += c * ist[size_t(d)];
      }
      std::memcpy(bytes(out) + i * int64_t(es), bytes(x) + src * int64_t(es), es);
    }
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

// SPACE_TO_DEPTH / DEPTH_TO_SPACE on NHWC as a transpose of a 6-D view.
Status depth_space_kernel(KernelContext& ctx, bool to_depth) {
  CONVFIX_RETURN_IF_ERROR(require_rank(ctx, 0, 4));
  const Tensor& x = *ctx.input(0);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x));
  const int64_t b = ctx.attr_int("block_size", 0);
  if (b < 1) return ctx.error("block_size must be positive");
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  std::vector<int64_t> vd, sst, od;
  if (to_depth) {
    if (h % b || w % b) return ctx.error("height and width must be multiples of block_size");
    // x viewed [n, h/b, b, w/b, b, c] -> out [n, h/b, w/b, b, b, c]
    const int64_t s5 = 1, s4 = c, s3 = b * c, s2 = w * c, s1 = b * w * c, s0 = h * w * c;
    vd = {n, h / b, w / b, b, b, c};
    sst = {s0, s1, s3, s2, s4, s5};
    od = {n, h / b, w / b, b * b * c};
  } else {
    if (c % (b * b)) return ctx.error("channels must be a multiple of block_size^2");
    const int64_t cc = c / (b * b);
    // x viewed [n, h, w, b, b, cc] -> out [n, h, b, w, b, cc]
    const int64_t s5 = 1, s4 = cc, s3 = b * cc, s2 = c, s1 = w * c, s0 = h * w * c;
    vd = {n, h, b, w, b, cc};
    sst = {s0, s1, s3, s2, s4, s5};
    od = {n, h * b, w * b, cc};
  }
  Tensor out = new_output(ctx, 0, x.dtype(), od, x);
  strided_copy(bytes(x), 0, sst, bytes(out), 0, ops::strides_of(vd), vd, dtype_size(x.dtype()));
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

// SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND with M spatial dims after the batch.
Status space_batch_kernel(KernelContext& ctx, bool to_batch) {
  for (size_t i = 0; i < 3; ++i) CONVFIX_RETURN_IF_ERROR(ctx.require_input(i));
  const Tensor& x = *ctx.input(0);
  CONVFIX_RETURN_IF_ERROR(check_movable(ctx, x));
  const std::vector<int64_t> blk = ctx.input(1)->to_i64_vector(), pc = ctx.input(2)->to_i64_vector();
  const int64_t m = static_cast<int64_t>(blk.size());
  if (m < 1 || x.rank() < m + 1 || static_cast<int64_t>(pc.size()) != 2 * m) return ctx.error("bad block_shape or paddings");
  int64_t prod = 1;
  for (int64_t v : blk) {
    if (v < 1) return ctx.error("block_shape entries must be positive");
    prod *= v;
  }
  const size_t es = dtype_size(x.dtype());
  const std::vector<int64_t> ist = ops::strides_of(x.dims());
  std::vector<int64_t> od = x.dims();
  if (to_batch) {
    od[0] = x.dim(0) * prod;
    for (int64_t i = 0; i < m; ++i) {
      const int64_t padded = x.dim(i + 1) + pc[size_t(2 * i)] + pc[size_t(2 * i + 1)];
      if (padded % blk[size_t(i)]) return ctx.error("padded size is not a multiple of the block");
      od[size_t(i + 1)] = padded / blk[size_t(i)];
    }
  } else {
    if (x.dim(0) % prod) return ctx.error("batch is not a multiple of the block size");
    od[0] = x.dim(0) / prod;
    for (int64_t i = 0; i < m; ++i) {
      od[size_t(i + 1)] = x.dim(i + 1) * blk[size_t(i)] - pc[size_t(2 * i)] - pc[size_t(2 * i + 1)];
      if (od[size_t(i + 1)] < 0) return ctx.error("crops larger than the output");
    }
  }
  Tensor out = new_output(ctx, 0, x.dtype(), od, x);
  const std::vector<int64_t> ost = ops::strides_of(od);
  const int64_t total = out.numel();
  uint8_t fill[16] = {};
  if (to_batch && is_qint(x.dtype())) {
    const QuantParams* q = output_quant(ctx, 0);
    Tensor one = Tensor::uninitialized(x.dtype(), {1});
    qset(one, 0, q ? zp_of(*q) : 0);
    std::memcpy(fill, one.raw(), es);
  }
  // Iterate over the batch-side tensor (output for to_batch, input otherwise).
  const std::vector<int64_t>& bd = to_batch ? od : x.dims();
  const std::vector<int64_t> bst = ops::strides_of(bd);
  const int64_t sb = to_batch ? x.dim(0) : od[0];  // batch of the space-side tensor
  const int64_t count = to_batch ? total : x.numel();
  for (int64_t i = 0; i < count; ++i) {
    int64_t rem = i;
    const int64_t bb = rem / bst[0];
    rem %= bst[0];
    const int64_t b0 = bb % sb;
    int64_t bo = bb / sb;  // block offset index, row-major over blk
    std::vector<int64_t> off(static_cast<size_t>(m));
    for (int64_t k = m; k-- > 0;) {
      off[size_t(k)] = bo % blk[size_t(k)];
      bo /= blk[size_t(k)];
    }
    int64_t sidx = b0 * (to_batch ? ist[0] : ost[0]);
    bool pad = false;
    for (int64_t d = 1; d < static_cast<int64_t>(bd.size()); ++d) {
      const int64_t c = rem / bst[size_t(d)];
      rem %= bst[size_t(d)];
      int64_t sc = c;
      if (d <= m) {
        sc = c * blk[size_t(d - 1)] + off[size_t(d - 1)] - pc[size_t(2 * (d - 1))];
        const int64_t lim = to_batch ? x.dim(d) : od[size_t(d)];
        if (sc < 0 || sc >= lim) pad = true;
      }
      sidx += sc * (to_batch ? ist[size_t(d)] : ost[size_t(d)]);
    }
    if (to_batch) {
      std::memcpy(bytes(out) + i * int64_t(es), pad ? fill : bytes(x) + sidx * int64_t(es), es);
    } else if (!pad) {
      std::memcpy(bytes(out) + sidx * int64_t(es), bytes(x) + i * int64_t(es), es);
    }
  }
  ctx.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

void register_ops_tflite_data_movement(OpRegistry& r) {
  r.add(OpDef{"tflite", "TRANSPOSE", transpose_kernel});
  r.add(OpDef{"tflite", "CONCATENATION", concat_kernel});
  r.add(OpDef{"tflite", "PACK", pack_kernel});
  r.add(OpDef{"tflite", "UNPACK", unpack_kernel});
  r.add(OpDef{"tflite", "SPLIT", split_kernel});
  r.add(OpDef{"tflite", "SPLIT_V", split_v_kernel});
  r.add(OpDef{"tflite", "SLICE", slice_kernel});
  r.add(OpDef{"tflite", "STRIDED_SLICE", strided_slice_kernel});
  r.add(OpDef{"tflite", "TILE", tile_kernel});
  r.add(OpDef{"tflite", "GATHER", gather_kernel});
  r.add(OpDef{"tflite", "PAD", [](KernelContext& c) { return pad_kernel(c, false, false); }});
  r.add(OpDef{"tflite", "PADV2", [](KernelContext& c) { return pad_kernel(c, true, false); }});
  r.add(OpDef{"tflite", "MIRROR_PAD", [](KernelContext& c) { return pad_kernel(c, false, true); }});
  r.add(OpDef{"tflite", "SPACE_TO_DEPTH", [](KernelContext& c) { return depth_space_kernel(c, true); }});
  r.add(OpDef{"tflite", "DEPTH_TO_SPACE", [](KernelContext& c) { return depth_space_kernel(c, false); }});
  r.add(OpDef{"tflite", "SPACE_TO_BATCH_ND", [](KernelContext& c) { return space_batch_kernel(c, true); }});
  r.add(OpDef{"tflite", "BATCH_TO_SPACE_ND", [](KernelContext& c) { return space_batch_kernel(c, false); }});
}

}  // namespace convfix
