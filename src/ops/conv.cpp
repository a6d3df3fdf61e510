// Conv (opset 1..17): 1-D, 2-D and 3-D, groups (depthwise included),
// strides, dilations, explicit or automatic padding, optional bias.
//
// Reference kernel: a direct loop, parallel over (image, output channel),
// on plain NCHW (an nChw16c input is made plain first).
// Fast path (f32, oneDNN): a convolution primitive on nChw16c or NCHW (see
// build_dnnl_conv); input and output may be plain or nChw16c as the
// executor's tensors are (OpDef::blocked = kNative, executor.h "Blocked
// layout"), with oneDNN reorders where the primitive's layout differs.
// Primitive, reordered weights and bias live in the node's ctx.state() and
// are rebuilt when the input shape or layout, the weights, the thread count
// or the fused activation change. The fast path applies an activation the
// executor fuses (ctx.fused_activation()) as a oneDNN post-op; the reference
// kernel never does, so the executor then runs the activation node itself.
#include <memory>
#include <string>

#include "convfix/layout.h"
#include "ops/kernel_util.h"
#include "ops/nn_backend.h"
#include "ops/nn_geometry.h"

namespace convfix {
namespace {

using ops::WindowGeometry;

// Everything a kernel needs, with 1-D and 2-D padded to 3-D (depth and
// height of size 1 in front).
struct ConvProblem {
  int64_t n = 0, c = 0, m = 0, group = 1;
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1}, pad[3] = {0, 0, 0};
  WindowGeometry geo;  // the real (unpadded) geometry
  int64_t cg() const { return c / group; }
  int64_t mg() const { return m / group; }
};

Status conv_problem(const KernelContext& ctx, const Tensor& X, const Tensor& W, const Tensor* B, ConvProblem* p) {
  if (X.rank() < 3 || X.rank() > 5)
    return ctx.unsupported("input 0 has shape " + dims_to_string(X.dims()) + "; Conv supports 1-D, 2-D and 3-D (rank 3 to 5)");
  if (W.rank() != X.rank())
    return ctx.error("input 1 (W) has shape " + dims_to_string(W.dims()) + ", expected rank " + std::to_string(X.rank()));
  const size_t r = static_cast<size_t>(X.rank() - 2);
  p->n = X.dim(0);
  p->c = X.dim(1);
  p->m = W.dim(0);
  p->group = ctx.attr_int("group", 1);
  if (p->group < 1) return ctx.error("group " + std::to_string(p->group) + " must be positive");
  if (p->c != W.dim(1) * p->group)
    return ctx.error("input 0 has " + std::to_string(p->c) + " channels but input 1 (W) of shape " +
                     dims_to_string(W.dims()) + " with group " + std::to_string(p->group) + " expects " +
                     std::to_string(W.dim(1) * p->group));
  if (p->m % p->group != 0)
    return ctx.error("input 1 (W) has " + std::to_string(p->m) + " output channels, not divisible by group " +
                     std::to_string(p->group));
  if (B && (B->rank() != 1 || B->dim(0) != p->m))
    return ctx.error("input 2 (B) has shape " + dims_to_string(B->dims()) + ", expected [" + std::to_string(p->m) + "]");
  std::vector<int64_t> in(X.dims().begin() + 2, X.dims().end());
  std::vector<int64_t> kernel(W.dims().begin() + 2, W.dims().end());
  if (ctx.has_attr("kernel_shape") && ctx.attr_ints("kernel_shape") != kernel)
    return ctx.error("kernel_shape " + dims_to_string(ctx.attr_ints("kernel_shape")) + " differs from input 1 (W) shape " +
                     dims_to_string(W.dims()));
  CONVFIX_RETURN_IF_ERROR(ops::window_geometry(ctx, in, kernel, false, &p->geo));
  const size_t off = 3 - r;
  for (size_t i = 0; i < r; ++i) {
    p->in[off + i] = in[i];
    p->k[off + i] = kernel[i];
    p->out[off + i] = p->geo.out[i];
    p->stride[off + i] = p->geo.stride[i];
    p->dil[off + i] = p->geo.dilation[i];
    p->pad[off + i] = p->geo.pad_begin[i];
  }
  return Status::OK();
}

// Output positions o in [0, out) whose input index o*s - pad + k*d lies in
// [0, in): returns [lo, hi).
inline void valid_range(int64_t out, int64_t in, int64_t s, int64_t pad, int64_t kd, int64_t* lo, int64_t* hi) {
  const int64_t shift = kd - pad;  // input index = o*s + shift
  *lo = shift >= 0 ? 0 : (-shift + s - 1) / s;
  *hi = in - shift <= 0 ? 0 : std::min(out, (in - shift - 1) / s + 1);
  if (*hi < *lo) *hi = *lo;
}

template <typename T>
void conv_reference(ThreadPool* pool, const ConvProblem& p, const T* x, const T* w, const T* b, T* y) {
  const int64_t in_plane = p.in[0] * p.in[1] * p.in[2];
  const int64_t out_plane = p.out[0] * p.out[1] * p.out[2];
  const int64_t ksize = p.k[0] * p.k[1] * p.k[2];
  parallel_for(pool, p.n * p.m, [&](int64_t s, int64_t e) {
    for (int64_t job = s; job < e; ++job) {
      const int64_t img = job / p.m, oc = job % p.m, g = oc / p.mg();
      T* out = y + job * out_plane;
      const T bias = b ? b[oc] : T(0);
      for (int64_t i = 0; i < out_plane; ++i) out[i] = bias;
      for (int64_t ic = 0; ic < p.cg(); ++ic) {
        const T* in = x + (img * p.c + g * p.cg() + ic) * in_plane;
        const T* wk = w + (oc * p.cg() + ic) * ksize;
        for (int64_t kd = 0; kd < p.k[0]; ++kd)
          for (int64_t kh = 0; kh < p.k[1]; ++kh)
            for (int64_t kw = 0; kw < p.k[2]; ++kw) {
              const T wv = wk[(kd * p.k[1] + kh) * p.k[2] + kw];
              int64_t d0, d1, h0, h1, w0, w1;
              valid_range(p.out[0], p.in[0], p.stride[0], p.pad[0], kd * p.dil[0], &d0, &d1);
              valid_range(p.out[1], p.in[1], p.stride[1], p.pad[1], kh * p.dil[1], &h0, &h1);
              valid_range(p.out[2], p.in[2], p.stride[2], p.pad[2], kw * p.dil[2], &w0, &w1);
              for (int64_t od = d0; od < d1; ++od) {
                const int64_t id = od * p.stride[0] - p.pad[0] + kd * p.dil[0];
                for (int64_t oh = h0; oh < h1; ++oh) {
                  const int64_t ih = oh * p.stride[1] - p.pad[1] + kh * p.dil[1];
                  const T* irow = in + (id * p.in[1] + ih) * p.in[2] - p.pad[2] + kw * p.dil[2];
                  T* orow = out + (od * p.out[1] + oh) * p.out[2];
                  for (int64_t ow = w0; ow < w1; ++ow) orow[ow] += wv * irow[ow * p.stride[2]];
                }
              }
            }
      }
    }
  });
}

#ifdef CONVFIX_HAVE_DNNL
using dnnl::memory;
using tag = dnnl::memory::format_tag;

struct DnnlConv {
  std::vector<int64_t> x_dims;
  ops::TensorKey w_key, b_key;
  int threads = 0;
  FusedActivation post;      // requested by the executor
  bool post_applied = false;  // false when the chosen implementation would run it slowly
  bool x_blocked = false, y_blocked = false;  // layouts of the executor's tensors
  Tensor w_hold, b_hold;  // keep the buffers alive so the keys stay valid
  dnnl::convolution_forward prim;
  memory::desc src_md, dst_md, user_src_md, user_dst_md;
  memory weights, bias;
  bool reorder_src = false, reorder_dst = false;
  dnnl::reorder to_blocked, from_blocked;
};

dnnl::post_ops eltwise_post_op(const FusedActivation& post) {
  dnnl::post_ops po;
  switch (post.kind) {
    case FusedActivation::Kind::kNone: break;
    case FusedActivation::Kind::kRelu: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f); break;
    case FusedActivation::Kind::kLeakyRelu: po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, post.alpha, 0.0f); break;
    case FusedActivation::Kind::kClip:
      po.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, post.alpha, post.beta);
      break;
  }
  return po;
}

// Layouts: the executor's tensors are plain NCHW or nChw16c (x_blocked,
// y_blocked); the primitive computes on
//  - nChw16c in and out when both channel counts are multiples of 16
//    (oneDNN's jit kernels, 1x1 and depthwise included), or
//  - plain NCHW for other pointwise convolutions (gemm-based), or
//  - whatever oneDNN prefers ("any"),
// never on a reference implementation, with reorders to and from the
// executor's layouts where they differ. A fused activation is a oneDNN
// post-op, except on gemm-based implementations, whose post-op path is
// slower than the separate activation.
Status build_dnnl_conv(const KernelContext& ctx, const ConvProblem& p, const Tensor& X, const Tensor& W,
                       const Tensor* B, int threads, const FusedActivation& post, bool y_blocked, DnnlConv* st) {
  const size_t r = p.geo.rank();
  const size_t off = 3 - r;
  memory::dims src{p.n, p.c}, dst{p.n, p.m}, wei, strides, dil, pl, pr;
  if (p.group > 1) wei = {p.group, p.mg(), p.cg()};
  else wei = {p.m, p.cg()};
  for (size_t i = 0; i < r; ++i) {
    src.push_back(p.in[off + i]);
    dst.push_back(p.out[off + i]);
    wei.push_back(p.k[off + i]);
    strides.push_back(p.stride[off + i]);
    dil.push_back(p.dil[off + i] - 1);
    pl.push_back(p.geo.pad_begin[i]);
    pr.push_back(p.geo.pad_end[i]);
  }
  const tag plain_act = r == 1 ? tag::ncw : r == 2 ? tag::nchw : tag::ncdhw;
  const tag plain_w = p.group > 1 ? (r == 1 ? tag::goiw : r == 2 ? tag::goihw : tag::goidhw)
                                  : (r == 1 ? tag::oiw : r == 2 ? tag::oihw : tag::oidhw);
  const tag blocked = r == 1 ? tag::nCw16c : r == 2 ? tag::nChw16c : tag::nCdhw16c;
  const auto f32 = memory::data_type::f32;
  const bool x_blocked = X.layout() == MemoryLayout::kNChw16c;
  st->user_src_md = memory::desc(src, f32, x_blocked ? tag::nChw16c : plain_act);
  st->user_dst_md = memory::desc(dst, f32, y_blocked ? tag::nChw16c : plain_act);
  memory::desc user_w_md(wei, f32, plain_w);
  memory::desc bias_md({p.m}, f32, tag::a);
  dnnl::engine& eng = ops::dnnl_engine();
  ops::dnnl_set_threads(threads);
  try {
    bool pointwise = p.group == 1;
    for (size_t i = 0; i < r; ++i)
      pointwise &= p.k[off + i] == 1 && p.stride[off + i] == 1 && pl[i] == 0 && pr[i] == 0;
    std::vector<tag> layouts;
    if (p.c % 16 == 0 && p.m % 16 == 0) layouts.push_back(blocked);
    if (pointwise) layouts.push_back(plain_act);
    layouts.push_back(tag::any);
    auto make_pd = [&](tag t, bool with_post) {
      dnnl::primitive_attr attr;
      if (with_post) attr.set_post_ops(eltwise_post_op(post));
      dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                        memory::desc(src, f32, t), memory::desc(wei, f32, tag::any),
                                        B ? bias_md : memory::desc(), memory::desc(dst, f32, t), strides, dil, pl, pr);
      return dnnl::convolution_forward::primitive_desc(d, attr, eng);
    };
    const bool want_post = post.kind != FusedActivation::Kind::kNone;
    dnnl::convolution_forward::primitive_desc pd;
    for (tag t : layouts) {
      pd = make_pd(t, want_post);
      std::string impl = pd.impl_info_str();
      if (want_post && impl.find("gemm") != std::string::npos) {
        pd = make_pd(t, false);
        impl = pd.impl_info_str();
        st->post_applied = false;
      } else {
        st->post_applied = want_post;
      }
      if (impl.rfind("ref", 0) != 0) break;
    }
    st->prim = dnnl::convolution_forward(pd);
    st->src_md = pd.src_desc();
    st->dst_md = pd.dst_desc();
    dnnl::stream s(eng);
    memory user_w(user_w_md, eng, const_cast<float*>(W.data<float>()));
    if (pd.weights_desc() != user_w_md) {
      st->weights = memory(pd.weights_desc(), eng);
      dnnl::reorder(user_w, st->weights).execute(s, user_w, st->weights);
    } else {
      st->weights = user_w;
    }
    if (B) st->bias = memory(bias_md, eng, const_cast<float*>(B->data<float>()));
    st->reorder_src = st->src_md != st->user_src_md;
    st->reorder_dst = st->dst_md != st->user_dst_md;
    if (st->reorder_src) st->to_blocked = dnnl::reorder(dnnl::reorder::primitive_desc(eng, st->user_src_md, eng, st->src_md));
    if (st->reorder_dst)
      st->from_blocked = dnnl::reorder(dnnl::reorder::primitive_desc(eng, st->dst_md, eng, st->user_dst_md));
    s.wait();
  } catch (const dnnl::error& e) {
    return ctx.unsupported(std::string("oneDNN convolution setup failed: ") + e.what());
  }
  st->x_dims = X.dims();
  st->w_key = {W.raw(), W.dims()};
  st->b_key = B ? ops::TensorKey{B->raw(), B->dims()} : ops::TensorKey{};
  st->threads = threads;
  st->post = post;
  st->x_blocked = x_blocked;
  st->y_blocked = y_blocked;
  st->w_hold = W;
  st->b_hold = B ? *B : Tensor();
  return Status::OK();
}

// Runs the convolution and sets output 0 (nChw16c when the executor wants
// it and the output channels allow it).
Status conv_dnnl(KernelContext& ctx, const ConvProblem& p, const Tensor& X, const Tensor& W, const Tensor* B,
                 const std::vector<int64_t>& yd) {
  const int threads = ops::ctx_threads(ctx);
  auto st = std::static_pointer_cast<DnnlConv>(ctx.state());
  const ops::TensorKey wk{W.raw(), W.dims()};
  const ops::TensorKey bk = B ? ops::TensorKey{B->raw(), B->dims()} : ops::TensorKey{};
  const FusedActivation& post = ctx.fused_activation();
  const bool x_blocked = X.layout() == MemoryLayout::kNChw16c;
  const bool y_blocked = ctx.blocked_output_wanted() && p.geo.rank() == 2 && p.m % 16 == 0;
  if (!st || st->x_dims != X.dims() || !(st->w_key == wk) || !(st->b_key == bk) || st->threads != threads ||
      !(st->post == post) || st->x_blocked != x_blocked || st->y_blocked != y_blocked) {
    auto fresh = std::make_shared<DnnlConv>();
    CONVFIX_RETURN_IF_ERROR(build_dnnl_conv(ctx, p, X, W, B, threads, post, y_blocked, fresh.get()));
    ctx.state() = fresh;
    st = fresh;
  }
  Tensor Y = Tensor::uninitialized(DType::kF32, yd);
  if (y_blocked) Y = Y.with_layout(MemoryLayout::kNChw16c);
  dnnl::engine& eng = ops::dnnl_engine();
  ops::dnnl_set_threads(threads);
  try {
    dnnl::stream s(eng);
    memory user_src(st->user_src_md, eng, const_cast<float*>(X.data<float>()));
    memory user_dst(st->user_dst_md, eng, Y.data<float>());
    memory src = user_src, dst = user_dst;
    if (st->reorder_src) {
      void* buf = ops::dnnl_scratch(0, st->src_md.get_size());
      if (!buf) return ctx.error("out of memory for the reordered input");
      src = memory(st->src_md, eng, buf);
      st->to_blocked.execute(s, user_src, src);
    }
    if (st->reorder_dst) {
      void* buf = ops::dnnl_scratch(1, st->dst_md.get_size());
      if (!buf) return ctx.error("out of memory for the reordered output");
      dst = memory(st->dst_md, eng, buf);
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, st->weights}, {DNNL_ARG_DST, dst}};
    if (B) args[DNNL_ARG_BIAS] = st->bias;
    st->prim.execute(s, args);
    if (st->reorder_dst) st->from_blocked.execute(s, dst, user_dst);
    s.wait();
  } catch (const dnnl::error& e) {
    return ctx.unsupported(std::string("oneDNN convolution failed: ") + e.what());
  }
  if (st->post_applied) ctx.set_fused_activation_applied();
  ctx.set_output(0, std::move(Y));
  return Status::OK();
}
#endif

Status conv_kernel(KernelContext& ctx) {
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(0));
  CONVFIX_RETURN_IF_ERROR(ctx.require_input(1));
  Tensor X = *ctx.input(0);
  const Tensor& W = *ctx.input(1);
  const Tensor* B = ctx.input(2);
  if (X.dtype() != DType::kF32 && X.dtype() != DType::kF64)
    return ctx.unsupported(std::string("input 0 has element type ") + dtype_name(X.dtype()) +
                           "; Conv supports f32, f64, f16, bf16");
  if (W.dtype() != X.dtype())
    return ctx.error(std::string("input 1 (W) has element type ") + dtype_name(W.dtype()) + ", input 0 has " +
                     dtype_name(X.dtype()));
  if (B && B->dtype() != X.dtype())
    return ctx.error(std::string("input 2 (B) has element type ") + dtype_name(B->dtype()) + ", input 0 has " +
                     dtype_name(X.dtype()));
  ConvProblem p;
  CONVFIX_RETURN_IF_ERROR(conv_problem(ctx, X, W, B, &p));
  std::vector<int64_t> yd{p.n, p.m};
  for (int64_t o : p.geo.out) yd.push_back(o);
  const int64_t y_numel = num_elements(yd);
#ifdef CONVFIX_HAVE_DNNL
  if (X.dtype() == DType::kF32 && ops::fast_kernels_enabled() && p.c > 0 && y_numel > 0)
    return conv_dnnl(ctx, p, X, W, B, yd);
#endif
  // Reference kernels: plain NCHW only.
  X = to_plain(X, ctx.pool());
  Tensor Y = Tensor::uninitialized(X.dtype(), yd);
  if (y_numel == 0) {
    ctx.set_output(0, std::move(Y));
    return Status::OK();
  }
  if (X.dtype() == DType::kF64) {
    conv_reference<double>(ctx.pool(), p, X.data<double>(), W.data<double>(), B ? B->data<double>() : nullptr,
                           Y.data<double>());
  } else {
    conv_reference<float>(ctx.pool(), p, X.data<float>(), W.data<float>(), B ? B->data<float>() : nullptr,
                          Y.data<float>());
  }
  ctx.set_output(0, std::move(Y));
  return Status::OK();
}

}  // namespace

void register_ops_conv(OpRegistry& r) {
  OpDef d{"", "Conv", conv_kernel, FloatCompute::kHalf};
  d.fuses_activation = true;  // Relu / LeakyRelu / Clip as oneDNN post-ops (fast path only)
  d.blocked = BlockedLayout::kNative;  // nChw16c in and out on the fast path
  r.add(std::move(d));
}

}  // namespace convfix
