// Strategy "hyperparameters": set the target layer's attributes from the
// source's, converted to the target's convention: effective pads as ONNX
// pads or TFLite SAME/VALID (explicit Pad nodes folded in), strides,
// dilations, pooling output rounding and count_include_pad, BatchNorm
// epsilon, Softmax / Concat axis (NCHW <-> NHWC), the activation (a node
// replaced, inserted or removed; a TFLite fused activation).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "diagnose/op_classes.h"
#include "repair/repair_internal.h"

namespace convfix {

namespace {

std::vector<int64_t> parse_ints(const std::string& s) {
  std::vector<int64_t> v;
  std::string t;
  for (char c : s) t += (c == '[' || c == ']' || c == ',') ? ' ' : c;
  std::istringstream in(t);
  int64_t x;
  while (in >> x) v.push_back(x);
  return v;
}

bool parse_double(const std::string& s, double* v) {
  if (s == "inf") { *v = INFINITY; return true; }
  if (s == "-inf") { *v = -INFINITY; return true; }
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return end && end != s.c_str();
}

// TF / ONNX SAME pads (upper) for one axis.
std::pair<int64_t, int64_t> same_pads(int64_t in, int64_t k, int64_t s, int64_t d) {
  const int64_t out = (in + s - 1) / s;
  const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - in);
  return {total / 2, total - total / 2};
}

using Edit = std::function<Status(Graph&, const Layer&, std::set<std::string>&, bool& structural)>;

// The node index of the layer's anchor in `g` (nodes keep their indices in
// the copy a candidate edits).
Node& anchor_of(Graph& g, const Layer& l) { return g.nodes[static_cast<size_t>(l.anchor)]; }

Status remove_pre_pads(Graph& g, const Layer& l, std::set<std::string>& dirty) {
  // Highest index first, so the remaining indices stay valid.
  std::vector<size_t> pre = l.pre;
  std::sort(pre.rbegin(), pre.rend());
  for (size_t idx : pre) {
    CONVFIX_RETURN_IF_ERROR(g.remove_node(idx, 0));
  }
  (void)dirty;
  return Status::OK();
}

Edit set_pads(const std::vector<int64_t>& p, const std::string& kind) {
  return [p, kind](Graph& g, const Layer& l, std::set<std::string>& dirty, bool& structural) -> Status {
    Node& n = anchor_of(g, l);
    const std::string name = n.name;
    if (is_tflite(n)) {
      // SAME / VALID only: the effective pads must be one of the two.
      int64_t kh = 1, kw = 1;
      if (n.op_type == "CONV_2D" || n.op_type == "DEPTHWISE_CONV_2D") {
        auto w = constant_value(g, n.inputs.size() > 1 ? n.inputs[1] : "");
        if (!w || w->rank() != 4) return not_implemented(n.label() + ": kernel size unknown");
        kh = w->dim(1);
        kw = w->dim(2);
      } else {
        kh = n.attr_int("filter_height", 1);
        kw = n.attr_int("filter_width", 1);
      }
      auto vi = g.value_info.find(n.inputs.empty() ? "" : n.inputs[0]);
      std::vector<int64_t> dims;
      if (vi != g.value_info.end() && vi->second.has_shape) {
        for (const auto& d : vi->second.shape) dims.push_back(d.value);
      }
      std::string padding;
      if (p == std::vector<int64_t>{0, 0, 0, 0}) {
        padding = "VALID";
      } else if (dims.size() == 4 && dims[1] > 0 && dims[2] > 0) {
        auto [t, b] = same_pads(dims[1], kh, n.attr_int("stride_h", 1), n.attr_int("dilation_h_factor", 1));
        auto [le, r] = same_pads(dims[2], kw, n.attr_int("stride_w", 1), n.attr_int("dilation_w_factor", 1));
        if (p == std::vector<int64_t>{t, le, b, r}) padding = "SAME";
      }
      if (padding.empty()) return not_implemented(n.label() + ": pads " + dims_to_string(p) + " are neither SAME nor VALID");
      n.attrs["padding"] = Attribute::of_string(padding);
    } else {
      if (kind != "conv" && kind != "maxpool" && kind != "avgpool" && kind != "l2pool")
        return not_implemented(n.label() + ": pads of a " + kind + " layer");
      n.attrs["pads"] = Attribute::of_ints(p);
      n.attrs.erase("auto_pad");
    }
    dirty.insert(name);
    if (!l.pre.empty()) {
      CONVFIX_RETURN_IF_ERROR(remove_pre_pads(g, l, dirty));
      structural = true;
    }
    return Status::OK();
  };
}

Edit set_int_pair(const std::string& onnx_attr, const std::string& tfl_h, const std::string& tfl_w,
                  const std::vector<int64_t>& v) {
  return [=](Graph& g, const Layer& l, std::set<std::string>& dirty, bool&) -> Status {
    Node& n = anchor_of(g, l);
    if (v.size() != 2) return invalid_argument("expected two values");
    if (is_tflite(n)) {
      n.attrs[tfl_h] = Attribute::of_int(v[0]);
      n.attrs[tfl_w] = Attribute::of_int(v[1]);
    } else {
      n.attrs[onnx_attr] = Attribute::of_ints(v);
    }
    dirty.insert(n.name);
    return Status::OK();
  };
}

Edit set_onnx_int(const std::string& attr, int64_t value) {
  return [=](Graph& g, const Layer& l, std::set<std::string>& dirty, bool&) -> Status {
    Node& n = anchor_of(g, l);
    if (is_tflite(n)) return not_implemented(n.label() + ": TFLite has no " + attr);
    n.attrs[attr] = Attribute::of_int(value);
    dirty.insert(n.name);
    return Status::OK();
  };
}

Edit set_bn_epsilon(float eps, bool anchor) {
  return [=](Graph& g, const Layer& l, std::set<std::string>& dirty, bool&) -> Status {
    bool any = false;
    if (anchor) {
      Node& n = anchor_of(g, l);
      n.attrs["epsilon"] = Attribute::of_float(eps);
      dirty.insert(n.name);
      any = true;
    }
    for (size_t idx : l.post) {
      Node& n = g.nodes[idx];
      if (n.op_type != "BatchNormalization") continue;
      n.attrs["epsilon"] = Attribute::of_float(eps);
      dirty.insert(n.name);
      any = true;
    }
    if (!any) return not_implemented("no BatchNormalization node to set epsilon on");
    return Status::OK();
  };
}

Edit set_axis(int64_t nchw_axis, bool nhwc_target) {
  return [=](Graph& g, const Layer& l, std::set<std::string>& dirty, bool&) -> Status {
    Node& n = anchor_of(g, l);
    int64_t axis = nchw_axis;
    if (nhwc_target) {
      static const int64_t kMap[] = {0, 3, 1, 2};   // NCHW axis -> NHWC axis
      if (axis < 0 || axis > 3) return not_implemented(n.label() + ": axis " + std::to_string(axis));
      axis = kMap[axis];
    }
    if (is_tflite(n) && n.op_type == "SOFTMAX") return not_implemented(n.label() + ": TFLite SOFTMAX has no axis");
    n.attrs["axis"] = Attribute::of_int(axis);
    dirty.insert(n.name);
    return Status::OK();
  };
}

// ---- activations

bool parse_clip(const std::string& a, double* lo, double* hi) {
  if (a == "relu") { *lo = 0; *hi = INFINITY; return true; }
  if (a == "relu6") { *lo = 0; *hi = 6; return true; }
  if (a.rfind("clip(", 0) != 0 || a.back() != ')') return false;
  const std::string body = a.substr(5, a.size() - 6);
  const auto comma = body.find(',');
  if (comma == std::string::npos) return false;
  return parse_double(body.substr(0, comma), lo) && parse_double(body.substr(comma + 1), hi);
}

// An ONNX node computing activation `a` from `in` to `out`; false when `a`
// has no single-node form here.
bool onnx_activation(Graph& g, const std::string& a, const std::string& in, const std::string& out, Node* node) {
  node->domain = "";
  node->inputs = {in};
  node->outputs = {out};
  double lo, hi;
  if (a == "relu") {
    node->op_type = "Relu";
  } else if (parse_clip(a, &lo, &hi)) {
    node->op_type = "Clip";
    if (g.opset() < 11) {
      if (!std::isinf(lo)) node->attrs["min"] = Attribute::of_float(static_cast<float>(lo));
      if (!std::isinf(hi)) node->attrs["max"] = Attribute::of_float(static_cast<float>(hi));
    } else {
      auto scalar = [&](double v, const std::string& what) {
        const std::string name = g.unique_value_name(out + "_" + what);
        Tensor t(DType::kF32, {});
        t.data<float>()[0] = static_cast<float>(v);
        g.initializers[name] = t;
        return name;
      };
      node->inputs.push_back(std::isinf(lo) ? "" : scalar(lo, "min"));
      if (!std::isinf(hi)) node->inputs.push_back(scalar(hi, "max"));
    }
  } else if (a == "sigmoid") {
    node->op_type = "Sigmoid";
  } else if (a == "tanh") {
    node->op_type = "Tanh";
  } else if (a.rfind("leaky_relu(", 0) == 0) {
    double alpha;
    if (!parse_double(a.substr(11), &alpha)) return false;
    node->op_type = "LeakyRelu";
    node->attrs["alpha"] = Attribute::of_float(static_cast<float>(alpha));
  } else {
    return false;
  }
  return true;
}

std::string tflite_fused(const std::string& a) {
  if (a == "none") return "NONE";
  if (a == "relu") return "RELU";
  if (a == "relu6") return "RELU6";
  if (a == "clip(-1,1)") return "RELU_N1_TO_1";
  if (a == "tanh") return "TANH";
  return "";
}

// `at_end`: a new activation node goes after the layer's last node (the
// layout nodes included; elementwise activations commute with them), where
// the Keras lowering puts a layer's activation, named <layer>/<activation>.
Edit set_activation(const std::string& want, bool at_end) {
  return [want, at_end](Graph& g, const Layer& l, std::set<std::string>& dirty, bool& structural) -> Status {
    Node& anchor = anchor_of(g, l);
    std::vector<size_t> acts;
    for (size_t idx : l.post)
      if (op_class(g.nodes[idx]) == OpClass::kActivation) acts.push_back(idx);
    if (is_tflite(anchor)) {
      const std::string f = tflite_fused(want);
      if (f.empty() || !acts.empty()) return not_implemented(anchor.label() + ": activation " + want + " as a fused activation");
      if (!anchor.attr("fused_activation_function"))
        return not_implemented(anchor.label() + ": has no fused activation");
      anchor.attrs["fused_activation_function"] = Attribute::of_string(f);
      dirty.insert(anchor.name);
      return Status::OK();
    }
    if (acts.size() > 1) return not_implemented(anchor.label() + ": more than one activation node");
    structural = true;
    if (acts.size() == 1) {
      const size_t idx = acts[0];
      Node old = g.nodes[idx];
      if (want == "none") {
        CONVFIX_RETURN_IF_ERROR(g.remove_node(idx, 0));
        for (size_t c : g.consumers(old.inputs[0])) dirty.insert(g.nodes[c].name);
        return Status::OK();
      }
      Node n;
      n.name = old.name;
      n.provenance = old.provenance;
      if (!onnx_activation(g, want, old.inputs[0], old.outputs[0], &n))
        return not_implemented(old.label() + ": activation " + want + " has no single-node form");
      g.replace_node(idx, n);
      dirty.insert(n.name);
      return Status::OK();
    }
    if (want == "none") return Status::OK();
    // Insert after the anchor's linear part (the anchor and affine nodes).
    size_t after = static_cast<size_t>(l.anchor);
    for (size_t idx : l.post) {
      const OpClass c = op_class(g.nodes[idx]);
      if (c == OpClass::kAffine || c == OpClass::kNorm || c == OpClass::kBinary) after = idx;
      else break;
    }
    const std::string x = g.nodes[after].outputs.at(0);
    const std::string y = g.unique_value_name(x + "_activation");
    g.rewire(x, y);
    Node n;
    std::string base = anchor.name + "/activation_restored";
    if (at_end && !anchor.provenance.layer.empty()) {
      std::string op = want == "relu6" || want.rfind("clip(", 0) == 0 ? "relu" : want;
      base = anchor.provenance.layer + "/" + op;
    }
    n.name = g.unique_node_name(base);
    n.provenance = anchor.provenance;
    if (!onnx_activation(g, want, x, y, &n)) return not_implemented("activation " + want + " has no single-node form");
    auto it = g.value_info.find(x);
    if (it != g.value_info.end()) {
      ValueInfo vi = it->second;
      vi.name = y;
      g.value_info[y] = vi;
    }
    g.insert_node(after + 1, n);
    dirty.insert(n.name);
    return Status::OK();
  };
}

}  // namespace

void hyperparameter_candidates(const PairView& v, int row, const WriteCaps& caps, std::vector<Candidate>& out) {
  const AlignmentRow& r = v.align.rows[static_cast<size_t>(row)];
  if (r.status != "matched" || !caps.attributes) return;
  const RowFindings& f = v.rows[static_cast<size_t>(row)];
  if (f.hp_diffs.empty()) return;
  const Layer& sl = v.src.layers[static_cast<size_t>(r.source_layer)];
  const Layer& tl = v.tgt.layers[static_cast<size_t>(r.target_layer)];
  if (tl.anchor < 0) return;
  const auto sh = layer_hyperparameters(*v.sg, sl, v.ss);
  const Node& ta = v.tg->nodes[static_cast<size_t>(tl.anchor)];
  const bool nhwc_target = is_tflite(ta) || r.layout == "nchw-nhwc";
  auto src = [&](const std::string& k) { auto it = sh.find(k); return it == sh.end() ? std::string() : it->second; };

  struct Item { std::string name, from, to; Edit edit; bool structural; };
  std::vector<Item> items;
  bool pads_done = false;
  for (const auto& d : f.hp_diffs) {
    const std::string& name = d.name;
    if ((name == "pads" || name == "pad_value") && !pads_done) {
      const auto p = parse_ints(src("pads"));
      if (p.size() != 4) continue;
      // Only where the source's padding is implicit (or zero for a conv).
      const std::string pv = src("pad_value");
      if (!pv.empty() && pv.rfind("-inf", 0) != 0) continue;
      pads_done = true;
      items.push_back({"pads", d.source, d.target, set_pads(p, tl.kind), !tl.pre.empty()});
    } else if (name == "strides" || name == "dilations") {
      const auto p = parse_ints(d.source);
      if (p.size() != 2) continue;
      items.push_back({name, d.source, d.target,
                       name == "strides" ? set_int_pair("strides", "stride_h", "stride_w", p)
                                         : set_int_pair("dilations", "dilation_h_factor", "dilation_w_factor", p),
                       false});
    } else if (name == "output_rounding") {
      if (d.source != "floor" && d.source != "ceil") continue;
      items.push_back({name, d.source, d.target, set_onnx_int("ceil_mode", d.source == "ceil" ? 1 : 0), false});
    } else if (name == "count_include_pad") {
      if (d.source != "0" && d.source != "1") continue;
      items.push_back({name, d.source, d.target, set_onnx_int("count_include_pad", d.source == "1" ? 1 : 0), false});
    } else if (name == "bn_epsilon" || name == "epsilon") {
      double e;
      if (!parse_double(d.source, &e)) continue;
      items.push_back({name, d.source, d.target, set_bn_epsilon(static_cast<float>(e), name == "epsilon"), false});
    } else if (name == "axis") {
      const auto a = parse_ints(d.source);
      if (a.size() != 1) continue;
      items.push_back({name, d.source, d.target, set_axis(a[0], nhwc_target), false});
    } else if (name == "activation") {
      if (!caps.structure && !is_tflite(ta)) continue;
      items.push_back({name, d.source, d.target, set_activation(d.source, caps.needs_check), true});
    }
  }
  if (items.empty()) return;
  // Edits that shift node indices go last: the activation (after the
  // anchor), then the pads (removes Pad nodes before the anchor).
  std::stable_partition(items.begin(), items.end(), [](const Item& i) { return i.name != "pads" && i.name != "activation"; });
  std::stable_partition(items.begin(), items.end(), [](const Item& i) { return i.name != "pads"; });
  const std::string snode = sl.anchor >= 0 ? v.sg->nodes[static_cast<size_t>(sl.anchor)].name : sl.name;
  const std::string tnode = ta.name;
  auto make = [&](const std::vector<Item>& set) {
    Candidate c;
    c.strategy = "hyperparameters";
    c.category = "hyperparameters";
    c.source_node = snode;
    c.target_node = tnode;
    nlohmann::json changes = nlohmann::json::array();
    std::string text, key = "hyperparameters:" + tnode;
    bool structural = false;
    for (const auto& it : set) {
      changes.push_back({{"name", it.name}, {"old", it.to}, {"new", it.from}});
      text += (text.empty() ? "set " : "; ") + it.name + " " + it.to + " -> " + it.from;
      key += ":" + it.name;
      structural = structural || it.structural;
    }
    if (structural && !caps.structure) return;
    c.change = text;
    c.details = {{"changes", changes}};
    c.key = key;
    c.structural = structural;
    std::vector<Edit> edits;
    for (const auto& it : set) edits.push_back(it.edit);
    const Layer layer = tl;
    c.apply = [edits, layer](Graph& g) -> Expected<std::set<std::string>> {
      std::set<std::string> dirty;
      bool structural = false;
      // Edits that remove nodes go last (they shift node indices).
      for (const auto& e : edits) {
        CONVFIX_RETURN_IF_ERROR(e(g, layer, dirty, structural));
      }
      return dirty;
    };
    out.push_back(std::move(c));
  };
  if (items.size() > 1) make(items);
  for (const auto& it : items) make({it});
}

}  // namespace convfix
