// Hyperparameter analysis: every layer's attributes in one convention,
// compared across an aligned row (docs/DIAGNOSIS.md, "Hyperparameters").
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "diagnose/diagnose_internal.h"
#include "diagnose/op_classes.h"

namespace convfix {

namespace {

std::string ints(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

const std::vector<int64_t>* dims_of(const ValueDims& shapes, const std::string& v) {
  auto it = shapes.find(v);
  return it == shapes.end() ? nullptr : &it->second;
}

std::vector<int64_t> const_ints(const Graph& g, const std::string& name) {
  auto t = constant_value(g, name);
  return t ? t->to_i64_vector() : std::vector<int64_t>{};
}

// Spatial pads [top, left, bottom, right] of an explicit Pad node on a rank-4
// tensor (the two non-batch, non-channel axes that carry padding), with the
// constant value and mode. False when it pads other axes too.
struct ExplicitPad {
  std::vector<int64_t> tlbr{0, 0, 0, 0};
  std::string mode = "constant";
  double value = 0;
  bool ok = false;
};

ExplicitPad explicit_pad(const Graph& g, const Node& n) {
  ExplicitPad p;
  std::vector<int64_t> begin, end;
  if (is_tflite(n)) {
    auto v = n.inputs.size() > 1 ? const_ints(g, n.inputs[1]) : std::vector<int64_t>{};
    if (v.size() != 8) return p;
    for (int k = 0; k < 4; ++k) {
      begin.push_back(v[static_cast<size_t>(2 * k)]);
      end.push_back(v[static_cast<size_t>(2 * k + 1)]);
    }
    if (n.op_type == "MIRROR_PAD") p.mode = n.attr_string("mode", "REFLECT") == "SYMMETRIC" ? "symmetric" : "reflect";
    if (n.op_type == "PADV2" && n.inputs.size() > 2 && constant_value(g, n.inputs[2])) {
      auto f = constant_value(g, n.inputs[2])->to_f32_vector();
      if (!f.empty()) p.value = f[0];
    }
  } else {
    std::vector<int64_t> v = n.attr_ints("pads");
    if (v.empty() && n.inputs.size() > 1) v = const_ints(g, n.inputs[1]);
    if (v.size() != 8) return p;
    begin.assign(v.begin(), v.begin() + 4);
    end.assign(v.begin() + 4, v.end());
    p.mode = n.attr_string("mode", "constant");
    p.value = n.attr_float("value", 0.0f);
    if (n.inputs.size() > 2 && constant_value(g, n.inputs[2])) {
      auto f = constant_value(g, n.inputs[2])->to_f32_vector();
      if (!f.empty()) p.value = f[0];
    }
  }
  if (begin[0] || end[0]) return p;
  // Spatial axes: (2, 3) for NCHW, (1, 2) for NHWC — the pair that is padded.
  int h = 2, w = 3;
  if ((begin[3] == 0 && end[3] == 0) && (begin[1] || end[1])) { h = 1; w = 2; }
  else if (begin[1] || end[1]) return p;   // pads the channel axis of NCHW
  p.tlbr = {begin[static_cast<size_t>(h)], begin[static_cast<size_t>(w)], end[static_cast<size_t>(h)],
            end[static_cast<size_t>(w)]};
  p.ok = true;
  return p;
}

// TF / ONNX SAME padding for one axis: total = max((ceil(in/s)-1)*s + (k-1)*d + 1 - in, 0).
std::pair<int64_t, int64_t> same_pads(int64_t in, int64_t k, int64_t s, int64_t d, bool upper) {
  const int64_t out = (in + s - 1) / s;
  const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
  const int64_t small = total / 2, big = total - small;
  return upper ? std::pair{small, big} : std::pair{big, small};
}

// The activation a layer applies: fused (TFLite) plus the activation nodes
// after its anchor, with decomposed forms recognised.
std::string layer_activation(const Graph& g, const Layer& l) {
  std::vector<std::string> acts;
  if (l.anchor >= 0) {
    const std::string f = fused_activation_name(g.nodes[static_cast<size_t>(l.anchor)]);
    if (!f.empty()) acts.push_back(f);
  }
  bool has_sigmoid = false, has_relu6 = false, self_mul = false;
  for (size_t idx : l.post) {
    const Node& n = g.nodes[idx];
    const OpClass c = op_class(n);
    if (c == OpClass::kActivation) {
      const std::string a = activation_name(n, g);
      if (a == "sigmoid") has_sigmoid = true;
      if (a == "relu6") has_relu6 = true;
      acts.push_back(a);
    } else if (c == OpClass::kBinary) {
      int data = 0;
      for (const auto& in : n.inputs)
        if (!in.empty() && !is_constant(g, in)) ++data;
      if (data == 2) self_mul = true;
      const std::string f = is_tflite(n) ? fused_activation_name(n) : "";
      if (!f.empty()) acts.push_back(f);
    }
  }
  if (self_mul && has_relu6) return "hard_swish";
  if (self_mul && has_sigmoid) return "swish";
  if (acts.empty()) return "none";
  std::string s;
  for (const auto& a : acts) s += (s.empty() ? "" : "+") + a;
  return s;
}

}  // namespace

std::map<std::string, std::string> layer_hyperparameters(const Graph& g, const Layer& l, const ValueDims& shapes) {
  std::map<std::string, std::string> h;
  if (l.anchor < 0) return h;
  const Node& n = g.nodes[static_cast<size_t>(l.anchor)];
  const bool tfl = is_tflite(n);
  const std::string in0 = n.inputs.empty() ? "" : n.inputs[tfl && n.op_type == "TRANSPOSE_CONV" ? 2 : 0];
  const auto* in_dims = dims_of(shapes, in0);
  h["activation"] = layer_activation(g, l);

  // Explicit Pad nodes absorbed before the anchor.
  std::vector<int64_t> extra{0, 0, 0, 0};
  std::string pad_note;
  for (size_t idx : l.pre) {
    ExplicitPad p = explicit_pad(g, g.nodes[idx]);
    if (!p.ok) continue;
    for (int k = 0; k < 4; ++k) extra[static_cast<size_t>(k)] += p.tlbr[static_cast<size_t>(k)];
    pad_note = p.mode == "constant" ? "explicit Pad, value " + format_number(p.value) : "explicit Pad, " + p.mode;
  }
  const bool has_extra = std::any_of(extra.begin(), extra.end(), [](int64_t v) { return v != 0; });

  const std::string& k = l.kind;
  if (k == "conv" || k == "maxpool" || k == "avgpool" || k == "l2pool" || k == "conv_transpose") {
    int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
    std::vector<int64_t> pads{0, 0, 0, 0};
    std::string auto_pad = "NOTSET";
    int64_t H = -1, W = -1;
    if (tfl) {
      sh = n.attr_int("stride_h", 1);
      sw = n.attr_int("stride_w", 1);
      dh = n.attr_int("dilation_h_factor", 1);
      dw = n.attr_int("dilation_w_factor", 1);
      auto_pad = n.attr_string("padding", "SAME") == "VALID" ? "VALID" : "SAME_UPPER";
      if (k == "conv" || k == "conv_transpose") {
        const std::string wn = n.inputs.size() > 1 ? n.inputs[1] : "";
        if (auto wt = constant_value(g, wn); wt && wt->rank() == 4) {
          kh = wt->dim(1);
          kw = wt->dim(2);
        }
      } else {
        kh = n.attr_int("filter_height", 1);
        kw = n.attr_int("filter_width", 1);
      }
      if (in_dims && in_dims->size() == 4) { H = (*in_dims)[1]; W = (*in_dims)[2]; }
    } else {
      auto ks = n.attr_ints("kernel_shape");
      if (ks.empty() && n.inputs.size() > 1) {
        if (auto w = constant_value(g, n.inputs[1]))
          for (int64_t d = 2; d < w->rank(); ++d) ks.push_back(w->dim(d));
      }
      if (ks.size() == 2) { kh = ks[0]; kw = ks[1]; }
      auto st = n.attr_ints("strides");
      if (st.size() == 2) { sh = st[0]; sw = st[1]; }
      auto dl = n.attr_ints("dilations");
      if (dl.size() == 2) { dh = dl[0]; dw = dl[1]; }
      auto p = n.attr_ints("pads");
      if (p.size() == 4) pads = {p[0], p[1], p[2], p[3]};
      auto_pad = n.attr_string("auto_pad", "NOTSET");
      if (in_dims && in_dims->size() == 4) { H = (*in_dims)[2]; W = (*in_dims)[3]; }
    }
    if (k != "conv_transpose") {
      if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        if (H > 0 && W > 0) {
          auto [t, b] = same_pads(H, kh, sh, dh, auto_pad == "SAME_UPPER");
          auto [le, r] = same_pads(W, kw, sw, dw, auto_pad == "SAME_UPPER");
          pads = {t, le, b, r};
        } else {
          h["pads"] = "SAME (input size unknown)";
        }
      } else if (auto_pad == "VALID") {
        pads = {0, 0, 0, 0};
      }
    }
    for (int i = 0; i < 4; ++i) pads[static_cast<size_t>(i)] += extra[static_cast<size_t>(i)];
    h["kernel"] = std::to_string(kh) + "x" + std::to_string(kw);
    h["strides"] = ints({sh, sw});
    if (k == "conv" || k == "conv_transpose") h["dilations"] = ints({dh, dw});
    if (!h.count("pads")) h["pads"] = ints(pads);
    if (k == "conv") {
      int64_t groups = n.attr_int("group", 1);
      if (tfl && n.op_type == "DEPTHWISE_CONV_2D" && in_dims && in_dims->size() == 4) groups = (*in_dims)[3];
      if (tfl && n.op_type == "DEPTHWISE_CONV_2D" && !(in_dims && in_dims->size() == 4)) groups = -1;
      h["groups"] = groups < 0 ? "depthwise" : std::to_string(groups);
    }
    if (k == "maxpool" && (has_extra || pads != std::vector<int64_t>{0, 0, 0, 0}))
      h["pad_value"] = has_extra ? pad_note : "-inf (implicit)";
    if (k == "avgpool") {
      // What the border windows divide by.
      bool include = tfl ? false : n.attr_int("count_include_pad", 0) != 0;
      if (has_extra && pad_note.rfind("explicit Pad, value", 0) == 0) include = true;
      if (pads != std::vector<int64_t>{0, 0, 0, 0}) h["count_include_pad"] = include ? "1" : "0";
    }
    if (k != "conv_transpose") {
      // Output rounding: only where floor and ceil give different sizes.
      const auto* out_dims = dims_of(shapes, n.outputs.empty() ? "" : n.outputs[0]);
      if (H > 0 && W > 0 && (k != "conv")) {
        const int64_t eh = (kh - 1) * dh + 1, ew = (kw - 1) * dw + 1;
        const int64_t nh = H + pads[0] + pads[2] - eh, nw = W + pads[1] + pads[3] - ew;
        if (nh >= 0 && nw >= 0) {
          const bool differ = (nh % sh) != 0 || (nw % sw) != 0;
          if (differ) {
            std::string mode = n.attr_int("ceil_mode", 0) ? "ceil" : "floor";
            if (out_dims && out_dims->size() == 4) {
              const int64_t oh = tfl ? (*out_dims)[1] : (*out_dims)[2];
              mode = oh == nh / sh + 1 ? "floor" : oh == (nh + sh - 1) / sh + 1 ? "ceil" : "other";
            }
            h["output_rounding"] = mode;
          }
        }
      }
    }
  } else if (k == "concat" || k == "softmax") {
    const auto* out_dims = dims_of(shapes, n.outputs.empty() ? "" : n.outputs[0]);
    const int64_t rank = out_dims ? static_cast<int64_t>(out_dims->size()) : -1;
    int64_t axis = tfl ? n.attr_int("axis", k == "softmax" ? -1 : 0) : n.attr_int("axis", k == "softmax" && g.opset() >= 13 ? -1 : 1);
    if (tfl && k == "softmax") axis = -1;
    if (axis < 0 && rank > 0) axis += rank;
    h["axis"] = std::to_string(axis);
    if (k == "softmax" && !tfl && g.opset() < 13 && rank > 2) h["axis"] += " (opset < 13: flattened from this axis)";
    if (tfl && k == "softmax") h["beta"] = format_number(n.attr_float("beta", 1.0f));
  } else if (k == "lrn") {
    if (tfl) {
      const int64_t r = n.attr_int("radius", 5);
      h["size"] = std::to_string(2 * r + 1);
      h["alpha_per_element"] = format_number(n.attr_float("alpha", 1.0f));
      h["beta"] = format_number(n.attr_float("beta", 0.5f));
      h["bias"] = format_number(n.attr_float("bias", 1.0f));
    } else {
      const int64_t size = n.attr_int("size", 1);
      h["size"] = std::to_string(size);
      h["alpha_per_element"] = format_number(n.attr_float("alpha", 1e-4f) / static_cast<double>(size));
      h["beta"] = format_number(n.attr_float("beta", 0.75f));
      h["bias"] = format_number(n.attr_float("bias", 1.0f));
    }
  } else if (k == "resize") {
    if (tfl) {
      const bool nearest = n.op_type == "RESIZE_NEAREST_NEIGHBOR";
      h["mode"] = nearest ? "nearest" : "linear";
      const bool ac = n.attr_int("align_corners", 0) != 0, hp = n.attr_int("half_pixel_centers", 0) != 0;
      h["coordinates"] = ac ? "align_corners" : hp ? (nearest ? "tf_half_pixel_for_nn" : "half_pixel") : "asymmetric";
    } else {
      std::string mode = n.attr_string("mode", "nearest");
      h["mode"] = mode;
      h["coordinates"] = n.op_type == "Upsample" ? "asymmetric" : n.attr_string("coordinate_transformation_mode", "half_pixel");
      if (mode == "nearest" && n.op_type == "Resize") h["nearest_mode"] = n.attr_string("nearest_mode", "round_prefer_floor");
    }
    const auto* out_dims = dims_of(shapes, n.outputs.empty() ? "" : n.outputs[0]);
    if (out_dims) {
      std::vector<int64_t> sorted(out_dims->begin() + (out_dims->empty() ? 0 : 1), out_dims->end());
      std::sort(sorted.begin(), sorted.end());
      h["output_dims_sorted"] = ints(sorted);
    }
  } else if (k == "norm") {
    h["epsilon"] = format_number(n.attr_float("epsilon", 1e-5f));
  } else if (k == "globalpool" || k == "reduce") {
    h["op"] = n.op_type == "GlobalMaxPool" || n.op_type == "REDUCE_MAX" || n.op_type == "ReduceMax" ? "max" : "mean";
  } else if (k == "dense") {
    // the activation only; weights' orientation is a layout question (parameters)
  }
  // BatchNorm epsilon where a normalisation is folded into this layer.
  for (size_t idx : l.post)
    if (g.nodes[idx].op_type == "BatchNormalization") h["bn_epsilon"] = format_number(g.nodes[idx].attr_float("epsilon", 1e-5f));
  return h;
}

void compare_hyperparameters(const Graph& sg, const Layer& sl, const ValueDims& ss, const Graph& tg, const Layer& tl,
                             const ValueDims& ts, const std::string& layout, RowFindings& f) {
  auto a = layer_hyperparameters(sg, sl, ss);
  auto b = layer_hyperparameters(tg, tl, ts);
  // Axes in the source's terms: a target in NHWC where the source is NCHW,
  // judged on the anchors' own outputs (a layer's output may already be
  // transposed for the next layer).
  std::string rel = layout;
  if (sl.anchor >= 0 && tl.anchor >= 0) {
    const auto& so = sg.nodes[static_cast<size_t>(sl.anchor)].outputs;
    const auto& to = tg.nodes[static_cast<size_t>(tl.anchor)].outputs;
    const auto* da = so.empty() ? nullptr : dims_of(ss, so[0]);
    const auto* db = to.empty() ? nullptr : dims_of(ts, to[0]);
    if (da && db) rel = layout_relation(*da, *db);
  }
  if (rel == "nchw-nhwc" && b.count("axis")) {
    static const char* kMap[] = {"0", "2", "3", "1"};  // NHWC axis -> NCHW axis
    const std::string& ax = b["axis"];
    if (ax.size() == 1 && ax[0] >= '0' && ax[0] <= '3') b["axis"] = kMap[ax[0] - '0'];
  }
  for (const auto& [name, va] : a) {
    auto it = b.find(name);
    if (it == b.end()) {
      // Present on one side only: a difference only where it changes the result.
      if (name == "bn_epsilon" || name == "output_dims_sorted" || name == "nearest_mode") continue;
      if (name == "pad_value" || name == "count_include_pad" || name == "output_rounding") {
        f.hp_compared.push_back(name);
        f.hp_diffs.push_back({name, va, "(not applicable)"});
      }
      continue;
    }
    f.hp_compared.push_back(name);
    if (va != it->second) f.hp_diffs.push_back({name, va, it->second});
  }
  for (const auto& [name, vb] : b) {
    if (a.count(name)) continue;
    if (name == "pad_value" || name == "count_include_pad" || name == "output_rounding") {
      f.hp_compared.push_back(name);
      f.hp_diffs.push_back({name, "(not applicable)", vb});
    }
  }
}

}  // namespace convfix
