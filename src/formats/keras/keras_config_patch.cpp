// Graph differences -> Keras layer-config changes (see keras_config_patch.h).
#include "formats/keras/keras_config_patch.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "convfix/executor.h"

namespace convfix::keras {

using nlohmann::json;

namespace {

using Dims = std::vector<int64_t>;
using ShapeMap = std::map<std::string, Dims>;

// A graph with hashed producer / consumer / name lookups (Graph's own are
// linear scans; the walks here would be quadratic on deep models).
class GraphIndex {
 public:
  explicit GraphIndex(const Graph& g) : graph(g), nodes(g.nodes), initializers(g.initializers), inputs(g.inputs), outputs(g.outputs) {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      for (const auto& o : g.nodes[i].outputs) producer_.emplace(o, static_cast<int64_t>(i));
      for (const auto& in : g.nodes[i].inputs) {
        auto& c = consumers_[in];
        if (c.empty() || c.back() != i) c.push_back(i);
      }
      name_.emplace(g.nodes[i].name, static_cast<int64_t>(i));
    }
  }
  int64_t producer(const std::string& v) const {
    auto it = producer_.find(v);
    return it == producer_.end() ? -1 : it->second;
  }
  std::vector<size_t> consumers(const std::string& v) const {
    auto it = consumers_.find(v);
    return it == consumers_.end() ? std::vector<size_t>{} : it->second;
  }
  int64_t find_node(const std::string& n) const {
    auto it = name_.find(n);
    return it == name_.end() ? -1 : it->second;
  }
  const Graph& graph;
  const std::vector<Node>& nodes;
  const std::map<std::string, Tensor>& initializers;
  const std::vector<ValueInfo>& inputs;
  const std::vector<ValueInfo>& outputs;

 private:
  std::unordered_map<std::string, int64_t> producer_, name_;
  std::unordered_map<std::string, std::vector<size_t>> consumers_;
};

// Marks a field g sets to something no Keras config value gives.
const json kUnexpressible = "<unexpressible>";

// Calls f on every plain layer JSON of a model config (nested models walked).
template <typename F>
void for_each_layer(json& model, F&& f) {
  if (!model.is_object() || !model.contains("config")) return;
  json& c = model["config"];
  json* list = nullptr;
  if (c.is_array()) list = &c;
  else if (c.is_object() && c.contains("layers") && c["layers"].is_array()) list = &c["layers"];
  if (!list) return;
  for (auto& l : *list) {
    if (!l.is_object()) continue;
    if (is_model_class(l.value("class_name", ""))) for_each_layer(l, f);
    else f(l);
  }
}

// The constant behind value v (initializer or Constant node), else nullptr.
const Tensor* const_of(const GraphIndex& g, const std::string& v) {
  if (v.empty()) return nullptr;
  auto it = g.initializers.find(v);
  if (it != g.initializers.end()) return &it->second;
  const int64_t p = g.producer(v);
  if (p < 0) return nullptr;
  const Node& n = g.nodes[static_cast<size_t>(p)];
  if (n.op_type == "Constant" && n.domain.empty())
    if (const Attribute* a = n.attr("value"); a && a->kind == Attribute::Kind::kTensor) return &a->t;
  return nullptr;
}

std::optional<double> scalar_of(const GraphIndex& g, const std::string& v) {
  const Tensor* t = const_of(g, v);
  if (!t || t->numel() != 1) return std::nullopt;
  return t->get_f64(0);
}

const Node* node_named(const GraphIndex& g, const std::string& name) {
  const int64_t i = g.find_node(name);
  return i < 0 ? nullptr : &g.nodes[static_cast<size_t>(i)];
}

// Same pads as TF/Keras "same" (extra at the end) for NC... input dims.
std::optional<Dims> same_pads(const Dims& in, const Dims& k, const Dims& s, const Dims& d, bool lower = false) {
  const size_t sp = k.size();
  if (in.size() != sp + 2 || s.size() != sp || d.size() != sp) return std::nullopt;
  Dims p(2 * sp, 0);
  for (size_t i = 0; i < sp; ++i) {
    const int64_t n = in[i + 2];
    if (n <= 0 || s[i] <= 0) return std::nullopt;
    const int64_t out = (n + s[i] - 1) / s[i];
    const int64_t total = std::max<int64_t>((out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n, 0);
    p[i] = lower ? total - total / 2 : total / 2;
    p[i + sp] = total - p[i];
  }
  return p;
}

Dims ones(size_t n) { return Dims(n, 1); }

// A float config value as the shortest decimal that reads back as the same
// float (0.01f -> 0.01, not 0.009999999776482582).
json float_json(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<float>(v));
  return json(std::stod(std::string(buf, r.ptr)));
}

// The pads a Conv / pool node applies (explicit, or auto_pad resolved with
// the input dims when known); nullopt when unknown.
std::optional<Dims> effective_pads(const Node& n, const Dims* in) {
  const Dims k = n.attr_ints("kernel_shape");
  const size_t sp = k.size();
  const std::string ap = n.attr_string("auto_pad", "NOTSET");
  if (ap == "VALID") return Dims(2 * sp, 0);
  if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    if (!in) return std::nullopt;
    return same_pads(*in, k, n.attr_ints("strides", ones(sp)), n.attr_ints("dilations", ones(sp)), ap == "SAME_LOWER");
  }
  Dims p = n.attr_ints("pads", Dims(2 * sp, 0));
  if (p.size() != 2 * sp) return std::nullopt;
  return p;
}

bool is_spatial_padded(const Node& n) {
  return n.domain.empty() && (n.op_type == "Conv" || n.op_type == "MaxPool" || n.op_type == "AveragePool" ||
                              n.op_type == "LpPool");
}

std::string ints_str(const Dims& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

bool attr_equal(const Attribute& a, const Attribute& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Attribute::Kind::kInt: return a.i == b.i;
    case Attribute::Kind::kFloat: return a.f == b.f;
    case Attribute::Kind::kString: return a.s == b.s;
    case Attribute::Kind::kInts: return a.ints == b.ints;
    case Attribute::Kind::kFloats: return a.floats == b.floats;
    case Attribute::Kind::kStrings: return a.strings == b.strings;
    case Attribute::Kind::kTensor: return a.t.bitwise_equal(b.t);
    default: return a.to_string() == b.to_string();
  }
}

// Attribute defaults that an absent attribute means (ONNX).
std::optional<Attribute> default_attr(const Node& n, const std::string& key) {
  const size_t sp = n.attr_ints("kernel_shape").size();
  if (key == "strides" || key == "dilations") return Attribute::of_ints(ones(sp));
  if (key == "group") return Attribute::of_int(1);
  if (key == "output_padding") return Attribute::of_ints(Dims(sp, 0));
  if (key == "count_include_pad" || key == "ceil_mode") return Attribute::of_int(0);
  return std::nullopt;
}

bool tensors_equal(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.numel() != b.numel()) return false;
  if (a.dims() != b.dims() && a.numel() != 1) return false;
  return a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Dims of every value of g on zero inputs (symbolic batch = 1); empty when
// g cannot run or has other unknown input dims.
ShapeMap probe_shapes(const Graph& g) {
  ShapeMap out;
  TensorMap ins;
  for (const auto& vi : g.inputs) {
    if (!vi.has_shape) return {};
    Dims d;
    for (size_t i = 0; i < vi.shape.size(); ++i) {
      if (vi.shape[i].known()) d.push_back(vi.shape[i].value);
      else if (i == 0) d.push_back(1);
      else return {};
    }
    ins[vi.name] = Tensor(vi.dtype, d);
    out[vi.name] = d;
  }
  for (const auto& [n, t] : g.initializers) out[n] = t.dims();
  class Dimmer : public Observer {
   public:
    explicit Dimmer(ShapeMap* m) : m_(m) {}
    bool wants(const Node&) override { return true; }
    void on_output(const Node&, size_t, const std::string& name, const Tensor& v) override { (*m_)[name] = v.dims(); }
   private:
    ShapeMap* m_;
  } obs(&out);
  ExecOptions eo;
  eo.fuse = false;
  auto ex = Executor::create(std::make_shared<const Graph>(g), eo);
  if (!ex.ok()) return {};
  RunOptions ro;
  ro.observer = &obs;
  if (!(*ex)->run(ins, ro).ok()) return {};
  return out;
}

// ---- structural comparison -------------------------------------------------

class Matcher {
 public:
  Matcher(const GraphIndex& a, const GraphIndex& b, const std::set<std::string>& file_weights, const ShapeMap* shapes)
      : a_(a), b_(b), weights_(file_weights), shapes_(shapes) {}

  // g's values equal the lowering's: true, else why() says where.
  bool run() {
    if (a_.outputs.size() != b_.outputs.size()) {
      why_ = "the graph has " + std::to_string(a_.outputs.size()) + " outputs, the Keras config gives " +
             std::to_string(b_.outputs.size());
      return false;
    }
    for (size_t i = 0; i < a_.outputs.size(); ++i)
      if (!eq(a_.outputs[i].name, b_.outputs[i].name)) return false;
    return true;
  }
  const std::string& why() const { return why_; }
  const std::map<std::string, std::string>& weight_map() const { return wmap_; }  // file weight -> g value

 private:
  const GraphIndex& a_;
  const GraphIndex& b_;
  const std::set<std::string>& weights_;
  const ShapeMap* shapes_;
  std::set<std::pair<std::string, std::string>> memo_;  // pairs found equal
  std::map<std::string, std::string> wmap_;
  std::string why_;

  std::string through_identity(const GraphIndex& g, std::string v) const {
    for (int guard = 0; guard < 1000; ++guard) {
      const int64_t p = g.producer(v);
      if (p < 0) return v;
      const Node& n = g.nodes[static_cast<size_t>(p)];
      if (n.op_type != "Identity" || !n.domain.empty() || n.inputs.empty()) return v;
      v = n.inputs[0];
    }
    return v;
  }
  bool is_input(const GraphIndex& g, const std::string& v, size_t* idx) const {
    for (size_t i = 0; i < g.inputs.size(); ++i)
      if (g.inputs[i].name == v) { *idx = i; return true; }
    return false;
  }
  bool fail(const Node& n, const std::string& what) {
    if (why_.empty()) why_ = "node '" + n.name + "' (" + n.op_type + "): " + what;
    return false;
  }
  bool fail_value(const std::string& v, const std::string& what) {
    if (why_.empty()) {
      const int64_t p = a_.producer(v);
      if (p >= 0) return fail(a_.nodes[static_cast<size_t>(p)], what);
      why_ = "value '" + v + "': " + what;
    }
    return false;
  }

  // Depth-first over value pairs with an explicit stack (deep graphs would
  // overflow a recursive walk); any difference ends the whole comparison.
  bool eq(const std::string& va0, const std::string& vb0) {
    std::vector<std::pair<std::string, std::string>> stack{{va0, vb0}};
    std::set<std::pair<std::string, std::string>> expanded;
    while (!stack.empty()) {
      const std::string va = through_identity(a_, stack.back().first), vb = through_identity(b_, stack.back().second);
      if (va.empty() || vb.empty()) {
        if (va.empty() != vb.empty()) return fail_value(va.empty() ? stack.back().first : va, "an optional input differs");
        stack.pop_back();
        continue;
      }
      const auto key = std::make_pair(va, vb);
      if (memo_.count(key)) {
        stack.pop_back();
        continue;
      }
      if (expanded.count(key)) {  // every input pair matched
        memo_.insert(key);
        stack.pop_back();
        continue;
      }
      std::vector<std::pair<std::string, std::string>> inputs;
      if (!local(va, vb, &inputs)) return false;
      expanded.insert(key);
      for (auto it = inputs.rbegin(); it != inputs.rend(); ++it) stack.push_back(*it);
    }
    return true;
  }

  // Compares va and vb themselves (producer op, attributes, input count,
  // constants); the input pairs still to compare go to `inputs`.
  bool local(const std::string& va, const std::string& vb, std::vector<std::pair<std::string, std::string>>* inputs) {
    size_t ia = 0, ib = 0;
    const bool in_a = is_input(a_, va, &ia), in_b = is_input(b_, vb, &ib);
    if (in_a || in_b) {
      if (in_a && in_b && ia == ib) return true;
      return fail_value(va, "is '" + va + "' where the Keras config reads " + (in_b ? "graph input '" + vb + "'" : "'" + vb + "'"));
    }
    if (weights_.count(vb)) {
      const Tensor* ta = const_of(a_, va);
      const Tensor* tb = const_of(b_, vb);
      if (!ta || !tb || ta->dims() != tb->dims())
        return fail_value(va, "'" + va + "' stands where the Keras file's weight '" + vb + "' (shape " + dims_to_string(tb ? tb->dims() : Dims{}) +
                                  ") goes; a weight can change its values, not its place or shape");
      auto w = wmap_.find(vb);
      if (w != wmap_.end() && w->second != va) {
        const Tensor* tw = const_of(a_, w->second);
        if (!tw || !tensors_equal(*tw, *ta))
          return fail_value(va, "the Keras file's weight '" + vb + "' is used twice with different values ('" + w->second + "', '" + va + "')");
      }
      wmap_[vb] = va;
      return true;
    }
    const Tensor* ca = const_of(a_, va);
    const Tensor* cb = const_of(b_, vb);
    if (ca || cb) {
      if (ca && cb && tensors_equal(*ca, *cb)) return true;
      if (ca && cb && ca->numel() == 1 && cb->numel() == 1)
        return fail_value(va, "constant '" + va + "' is " + std::to_string(ca->get_f64(0)) + ", the Keras config gives " +
                                  std::to_string(cb->get_f64(0)));
      return fail_value(va, "constant '" + va + "' differs from what the Keras config gives");
    }
    const int64_t pa = a_.producer(va), pb = b_.producer(vb);
    if (pa < 0 || pb < 0) return fail_value(va, "'" + va + "' has no producer");
    const Node& na = a_.nodes[static_cast<size_t>(pa)];
    const Node& nb = b_.nodes[static_cast<size_t>(pb)];
    if (na.op_type != nb.op_type || na.domain != nb.domain)
      return fail(na, "op " + na.op_type + " where the Keras config gives " + nb.op_type + " ('" + nb.name + "'): no config field expresses it");
    const auto oa = std::find(na.outputs.begin(), na.outputs.end(), va) - na.outputs.begin();
    const auto ob = std::find(nb.outputs.begin(), nb.outputs.end(), vb) - nb.outputs.begin();
    if (oa != ob) return fail(na, "output " + std::to_string(oa) + " used where the Keras config uses output " + std::to_string(ob));
    if (!attrs_equal(na, nb)) return false;
    auto trimmed = [](std::vector<std::string> v) {
      while (!v.empty() && v.back().empty()) v.pop_back();
      return v;
    };
    const auto ia2 = trimmed(na.inputs), ib2 = trimmed(nb.inputs);
    if (ia2.size() != ib2.size())
      return fail(na, std::to_string(ia2.size()) + " inputs, the Keras config gives " + std::to_string(ib2.size()) +
                          (na.op_type == "Conv" || na.op_type == "ConvTranspose" ? " (a bias can be added, not removed)" : ""));
    for (size_t i = 0; i < ia2.size(); ++i) inputs->emplace_back(ia2[i], ib2[i]);
    return true;
  }

  bool attrs_equal(const Node& na, const Node& nb) {
    std::set<std::string> keys;
    for (const auto& [k, v] : na.attrs) keys.insert(k);
    for (const auto& [k, v] : nb.attrs) keys.insert(k);
    keys.erase("keras_layer_config");
    const bool padded = is_spatial_padded(na);
    if (padded) {
      keys.erase("auto_pad");
      keys.erase("pads");
      const Dims* in = nullptr;
      if (shapes_ && !na.inputs.empty()) {
        auto it = shapes_->find(na.inputs[0]);
        if (it != shapes_->end()) in = &it->second;
      }
      const auto pa = effective_pads(na, in), pb = effective_pads(nb, in);
      const std::string apa = na.attr_string("auto_pad", "NOTSET"), apb = nb.attr_string("auto_pad", "NOTSET");
      const bool same_form = apa == apb && (apa != "NOTSET" || na.attr_ints("pads") == nb.attr_ints("pads"));
      if (!same_form && (!pa || !pb || *pa != *pb))
        return fail(na, "attribute 'pads' " + (pa ? ints_str(*pa) : "auto_pad " + apa + " (input shape unknown)") + ": the Keras config gives " +
                            (pb ? ints_str(*pb) : "auto_pad " + apb) + " and no 'padding' value gives this");
    }
    for (const auto& k : keys) {
      const Attribute* a = na.attr(k);
      const Attribute* b = nb.attr(k);
      std::optional<Attribute> da, db;
      if (!a && (da = default_attr(na, k))) a = &*da;
      if (!b && (db = default_attr(nb, k))) b = &*db;
      if (a && b && attr_equal(*a, *b)) continue;
      if (k == "axis" && a && b && a->kind == Attribute::Kind::kInt && b->kind == Attribute::Kind::kInt && shapes_ && !na.inputs.empty()) {
        auto it = shapes_->find(na.inputs[0]);
        const int64_t r = it == shapes_->end() ? 0 : static_cast<int64_t>(it->second.size());
        if (r > 0 && (a->i < 0 ? a->i + r : a->i) == (b->i < 0 ? b->i + r : b->i)) continue;
      }
      return fail(na, "attribute '" + k + "' " + (a ? a->to_string() : "(absent)") + ", the Keras config gives " +
                          (b ? b->to_string() : "(absent)") + "; no config field of this layer expresses it");
    }
    return true;
  }
};

// ---- feature extraction ----------------------------------------------------

class Features {
 public:
  Features(const GraphIndex& g, const ShapeMap* shapes, bool tfjs) : g_(g), shapes_(shapes), tfjs_(tfjs) {}

  // The config fields g's nodes of `layer` express (layer JSON of the original).
  json of(const json& layer) {
    json f = json::object();
    const std::string cls = layer.value("class_name", "");
    name_ = layer_name(layer);
    const json cfg = layer.contains("config") && layer["config"].is_object() ? layer["config"] : json::object();
    const Node* m = node_named(g_, name_);
    if (!m) return f;
    if (cls == "Conv1D" || cls == "Conv2D" || cls == "Conv3D" || cls == "Convolution1D" || cls == "Convolution2D" ||
        cls == "DepthwiseConv2D" || cls == "SeparableConv2D" || cls == "SeparableConvolution2D") {
      const bool sep = cls.rfind("Separable", 0) == 0;
      const Node* sn = sep ? node_named(g_, name_ + "/depthwise") : m;
      if (!sn || sn->op_type != "Conv" || m->op_type != "Conv") return f;
      const Dims k = sn->attr_ints("kernel_shape");
      f["strides"] = sn->attr_ints("strides", ones(k.size()));
      f["dilation_rate"] = sn->attr_ints("dilations", ones(k.size()));
      f["padding"] = padding(*sn, cls == "Conv1D" || cls == "Convolution1D");
      bias(f, m->inputs.size() >= 3 ? m->inputs[2] : "");
      f["activation"] = activation_after(out_of(*m));
    } else if (cls == "Conv2DTranspose" || cls == "Conv1DTranspose" || cls == "Deconvolution2D") {
      if (m->op_type != "ConvTranspose") return f;
      const Dims k = m->attr_ints("kernel_shape");
      const size_t sp = k.size();
      const Dims s = m->attr_ints("strides", ones(sp)), d = m->attr_ints("dilations", ones(sp));
      f["strides"] = s;
      f["dilation_rate"] = d;
      Dims op(sp, -1);
      if (cfg.contains("output_padding") && !cfg["output_padding"].is_null()) op = ints_of(cfg["output_padding"], sp, 0);
      f["padding"] = kUnexpressible;
      for (const char* p : {"same", "valid"}) {
        Dims pads, outpad;
        conv_transpose_pads(k, s, d, op, std::string(p) == "same", &pads, &outpad);
        if (m->attr_ints("pads", Dims(2 * sp, 0)) == pads && m->attr_ints("output_padding", Dims(sp, 0)) == outpad) {
          f["padding"] = p;
          break;
        }
      }
      bias(f, m->inputs.size() >= 3 ? m->inputs[2] : "");
      f["activation"] = activation_after(out_of(*m));
    } else if (cls == "Dense") {
      std::string b, pre = m->outputs[0];
      if (m->op_type == "Add" && m->inputs.size() == 2) {
        b = m->inputs[1];
      } else if (m->op_type == "MatMul") {
        const auto cs = g_.consumers(pre);
        if (cs.size() == 1) {
          const Node& c = g_.nodes[cs[0]];
          if (c.op_type == "Add" && c.inputs.size() == 2 && owned(c) && !is_output(pre)) {
            const std::string other = c.inputs[0] == pre ? c.inputs[1] : c.inputs[0];
            if (const_of(g_, other)) {
              b = other;
              pre = c.outputs[0];
            }
          }
        }
      } else {
        return f;
      }
      bias(f, b);
      f["activation"] = activation_after(pre);
    } else if (cls.find("Pooling") != std::string::npos && cls.rfind("Global", 0) != 0) {
      if (m->op_type != "MaxPool" && m->op_type != "AveragePool") return f;
      const Dims k = m->attr_ints("kernel_shape");
      f["pool_size"] = k;
      f["strides"] = m->attr_ints("strides", ones(k.size()));
      f["padding"] = padding(*m, false);
    } else if (cls == "BatchNormalization" || cls == "LayerNormalization") {
      const Node* ve = node_named(g_, name_ + "/var_eps");
      if (ve && ve->op_type == "Add" && ve->inputs.size() == 2) {
        auto e = scalar_of(g_, ve->inputs[1]);
        f["epsilon"] = e ? float_json(*e) : kUnexpressible;
      }
    } else if (cls == "Activation") {
      f["activation"] = m->inputs.empty() ? kUnexpressible : classify(*m, m->inputs[0]);
    } else if (cls == "ReLU") {
      json mx = nullptr, slope = 0.0, th = 0.0;
      if (m->op_type == "Relu") {
      } else if (m->op_type == "Clip" && bounds(*m) && bounds(*m)->first == 0) {
        mx = float_json(bounds(*m)->second);
      } else if (m->op_type == "LeakyRelu") {
        slope = float_json(m->attr_float("alpha", 0.01f));
      } else {
        mx = slope = th = kUnexpressible;
      }
      f["max_value"] = mx;
      f["negative_slope"] = slope;
      f["threshold"] = th;
    } else if (cls == "LeakyReLU" || cls == "ELU") {
      if (m->op_type == "LeakyRelu" || m->op_type == "Elu") f["alpha"] = float_json(m->attr_float("alpha", 0.f));
      if (tfjs_ && cls == "ELU" && f.contains("alpha") && f["alpha"] != json(1.0)) f["alpha"] = kUnexpressible;
    } else if (cls == "ThresholdedReLU") {
      if (m->op_type == "ThresholdedRelu") f["theta"] = float_json(m->attr_float("alpha", 1.f));
    } else if (cls == "Softmax" || cls == "Concatenate") {
      if (const Attribute* a = m->attr("axis"); a && a->kind == Attribute::Kind::kInt) {
        int64_t ax = a->i;
        const Dims* in = in_dims(*m);
        if (ax < 0 && in) ax += static_cast<int64_t>(in->size());
        f["axis"] = ax;
      }
    }
    return f;
  }

  // Bias value name of the layer read by the last of() (when one was found).
  const std::string& bias_value() const { return bias_; }

 private:
  const GraphIndex& g_;
  const ShapeMap* shapes_;
  bool tfjs_;  // TF.js semantics: tfjs-layers 4.9's ELU refuses alpha != 1
  std::string name_;
  std::string bias_;

  bool owned(const Node& n) const { return n.provenance.layer == name_ || n.provenance.layer.empty(); }
  bool is_output(const std::string& v) const {
    for (const auto& o : g_.outputs)
      if (o.name == v) return true;
    return false;
  }

  void bias(json& f, const std::string& b) {
    bias_ = b;
    f["use_bias"] = !b.empty();
  }

  // The layer's pre-activation value: the main node's output, after the
  // layer's own to-channels-last Transpose when there is one.
  std::string out_of(const Node& m) const {
    std::string v = m.outputs[0];
    const auto cs = g_.consumers(v);
    if (cs.size() == 1) {
      const Node& t = g_.nodes[cs[0]];
      if (t.op_type == "Transpose" && t.name == name_ + "/to_nhwc") v = t.outputs[0];
    }
    return v;
  }

  std::optional<std::pair<double, double>> bounds(const Node& n) const {
    if (n.op_type != "Clip") return std::nullopt;
    std::optional<double> lo, hi;
    if (n.inputs.size() >= 2) lo = scalar_of(g_, n.inputs[1]);
    if (n.inputs.size() >= 3) hi = scalar_of(g_, n.inputs[2]);
    if (!lo && n.attr("min")) lo = n.attr_float("min", 0.f);
    if (!hi && n.attr("max")) hi = n.attr_float("max", 0.f);
    if (!lo || !hi) return std::nullopt;
    return std::make_pair(*lo, *hi);
  }

  // Keras activation name of node n applied to x.
  json classify(const Node& n, const std::string& x) const {
    const std::string& op = n.op_type;
    if (!n.domain.empty()) return kUnexpressible;
    if (op == "Identity") return "linear";
    if (op == "Relu") return "relu";
    if (op == "Clip") {
      auto b = bounds(n);
      return b && b->first == 0 && b->second == 6 ? json("relu6") : kUnexpressible;
    }
    if (op == "Sigmoid") return "sigmoid";
    if (op == "Tanh") return "tanh";
    if (op == "Softmax") return n.attr_int("axis", -1) == -1 ? json("softmax") : kUnexpressible;
    if (op == "Elu") return n.attr_float("alpha", 1.f) == 1.f ? json("elu") : kUnexpressible;
    if (op == "Selu") return "selu";
    if (op == "Softplus") return "softplus";
    if (op == "Softsign") return "softsign";
    if (op == "Exp") return "exponential";
    if (op == "HardSigmoid") return "hard_sigmoid";
    if (op == "HardSwish") return "hard_swish";
    if (op == "Mish") return "mish";
    if (op == "Gelu") return n.attr_string("approximate", "none") == "none" ? json("gelu") : kUnexpressible;
    if (op == "Mul" && n.inputs.size() == 2) {
      for (int i = 0; i < 2; ++i) {
        const int64_t p = g_.producer(n.inputs[static_cast<size_t>(1 - i)]);
        if (n.inputs[static_cast<size_t>(i)] == x && p >= 0 && g_.nodes[static_cast<size_t>(p)].op_type == "Sigmoid" &&
            !g_.nodes[static_cast<size_t>(p)].inputs.empty() && g_.nodes[static_cast<size_t>(p)].inputs[0] == x)
          return "swish";
      }
    }
    return kUnexpressible;
  }

  // The activation applied to the layer's pre-activation value v.
  json activation_after(const std::string& v) const {
    const auto cs = g_.consumers(v);
    std::vector<const Node*> own;
    for (size_t c : cs)
      if (owned(g_.nodes[c])) own.push_back(&g_.nodes[c]);
    if (own.empty()) return "linear";
    if (own.size() != cs.size() || is_output(v)) return kUnexpressible;  // the value is used after the layer too
    if (own.size() == 1) {
      const Node& n = *own[0];
      if (n.op_type == "Sigmoid") {
        const auto sc = g_.consumers(n.outputs[0]);
        if (sc.size() == 1 && g_.nodes[sc[0]].op_type == "Mul") return kUnexpressible;  // partial swish
      }
      return classify(n, v);
    }
    if (own.size() == 2) {
      for (const Node* n : own)
        if (n->op_type == "Mul" && classify(*n, v) == "swish") return "swish";
    }
    return kUnexpressible;
  }

  const Dims* in_dims(const Node& n) const {
    if (!shapes_ || n.inputs.empty()) return nullptr;
    auto it = shapes_->find(n.inputs[0]);
    return it == shapes_->end() ? nullptr : &it->second;
  }

  json padding(const Node& n, bool conv1d) const {
    const std::string ap = n.attr_string("auto_pad", "NOTSET");
    if (ap == "SAME_UPPER") return "same";
    if (ap == "VALID") return "valid";
    if (ap != "NOTSET") return kUnexpressible;
    const Dims k = n.attr_ints("kernel_shape");
    const size_t sp = k.size();
    const Dims p = n.attr_ints("pads", Dims(2 * sp, 0));
    const Dims s = n.attr_ints("strides", ones(sp)), d = n.attr_ints("dilations", ones(sp));
    if (conv1d && sp == 1 && p.size() == 2 && p[0] == (k[0] - 1) * d[0] && p[1] == 0 && p[0] > 0) return "causal";
    const Dims* in = in_dims(n);
    std::optional<Dims> same = in ? same_pads(*in, k, s, d) : std::nullopt;
    if (std::all_of(p.begin(), p.end(), [](int64_t x) { return x == 0; })) return same && *same == p ? json("same|valid") : json("valid");
    if (same && *same == p) return "same";
    return kUnexpressible;
  }
};

}  // namespace

std::string weight_owner(const std::string& weight, const std::set<std::string>& layers) {
  std::vector<std::string> parts;
  std::stringstream ss(strip_tf_suffix(weight));
  for (std::string p; std::getline(ss, p, '/');) parts.push_back(p);
  if (parts.size() >= 2 && layers.count(parts[parts.size() - 2])) return parts[parts.size() - 2];
  for (size_t i = parts.size(); i-- > 0;)
    if (i + 1 < parts.size() && layers.count(parts[i])) return parts[i];
  return "";
}

WeightNamer sibling_namer(bool numbered) {
  return [numbered](const std::string&, const std::string& role, const WeightList& wl) -> std::string {
    const std::string f = wl.empty() ? std::string() : wl.front().first;
    const auto sl = f.rfind('/');
    const std::string dir = sl == std::string::npos ? std::string() : f.substr(0, sl + 1);
    if (numbered) return dir + std::to_string(wl.size());
    const std::string stem = strip_tf_suffix(f);
    return dir + role + f.substr(stem.size());
  };
}

Expected<ConfigPatch> patch_config(const Graph& graph, const LowerRequest& original, const WeightNamer& namer) {
  const GraphIndex g(graph);
  const std::string& file = original.path;
  auto base = lower_model(original);
  if (!base.ok()) return base.status().with_context("re-reading the original");
  const GraphIndex l0(*base);
  std::set<std::string> file_weights;
  for (const auto& [layer, wl] : original.weights)
    for (const auto& [n, t] : wl) file_weights.insert(n);
  // Shapes (one run of g on zeros) only when g differs from the original.
  ShapeMap shapes;
  if (!Matcher(g, l0, file_weights, nullptr).run()) shapes = probe_shapes(graph);

  ConfigPatch out;
  out.model = original.model;
  LowerRequest req = original;
  Status err;
  for_each_layer(out.model, [&](json& layer) {
    if (!err.ok()) return;
    const std::string name = layer_name(layer);
    const std::string cls = layer.value("class_name", "");
    const Node* mg = node_named(g, name);
    const Node* m0 = node_named(l0, name);
    if (!mg || !m0) return;
    // An edited keras_layer_config (same class) is the starting point.
    const Attribute* kg = mg->attr("keras_layer_config");
    const Attribute* k0 = m0->attr("keras_layer_config");
    if (kg && k0 && kg->kind == Attribute::Kind::kString && kg->s != k0->s) {
      json c = json::parse(kg->s, nullptr, false);
      if (c.is_object() && c.value("class_name", "") == cls && c.contains("config") && c["config"].is_object()) {
        layer["config"] = c["config"];
        out.changes.push_back("layer '" + name + "': config taken from the node's keras_layer_config");
      }
    }
    if (!layer.contains("config") || !layer["config"].is_object()) return;
    const bool tfjs = original.format == "tfjs";
    Features fg_x(g, shapes.empty() ? nullptr : &shapes, tfjs), f0_x(l0, nullptr, tfjs);
    const json fg = fg_x.of(layer), f0 = f0_x.of(layer);
    json& c = layer["config"];
    for (const auto& [key, v] : fg.items()) {
      if (v == kUnexpressible || !f0.contains(key) || f0[key] == v) continue;
      if (tfjs && cls == "Softmax" && key == "axis") continue;  // tfjs-layers 4.9: the last axis only
      if (key == "padding" && v == "same|valid") {
        if (f0[key] == "same" || f0[key] == "valid") continue;
      }
      json nv = v == "same|valid" ? json("valid") : v;
      std::string k = key;
      if (cls == "LeakyReLU" && key == "alpha" && c.contains("negative_slope")) k = "negative_slope";
      if (key == "use_bias") {
        if (!nv.get<bool>()) continue;  // a removed bias: the proof below names the node
        const Tensor* bt = const_of(g, fg_x.bias_value());
        auto wl = req.weights.find(name);
        if (!bt || bt->rank() != 1 || bt->dtype() != DType::kF32 || wl == req.weights.end() || wl->second.empty()) {
          err = not_implemented(file + ": layer '" + name + "' (" + cls + "): a bias was added but cannot be written (" +
                                (!bt ? "the bias is not a constant" : bt->rank() != 1 || bt->dtype() != DType::kF32
                                                                        ? "the bias is not a 1-D f32 constant"
                                                                        : "the layer has no weights to name it after") + ")");
          return;
        }
        NewWeight w;
        w.layer = name;
        w.name = namer(name, "bias", wl->second);
        w.after = wl->second.back().first;
        w.value = *bt;
        wl->second.emplace_back(w.name, *bt);
        out.added.push_back(std::move(w));
      }
      out.changes.push_back("layer '" + name + "': " + k + " " + (c.contains(k) ? c[k].dump() : "(default)") + " -> " + nv.dump());
      c[k] = nv;
    }
  });
  CONVFIX_RETURN_IF_ERROR(err);
  out.changed = out.model != original.model;
  req.model = out.model;
  Graph l1;
  if (out.changed) {
    auto lowered = lower_model(req);
    if (!lowered.ok())
      return not_implemented(file + ": the patched Keras config does not lower (" + lowered.status().message() + ")");
    l1 = std::move(lowered).value();
  }
  const GraphIndex l1_index(l1);
  const GraphIndex& ref = out.changed ? l1_index : l0;
  for (const auto& a : out.added) file_weights.insert(a.name);
  Matcher mt(g, ref, file_weights, shapes.empty() ? nullptr : &shapes);
  if (!mt.run()) return not_implemented(file + ": the graph cannot be written as a Keras config: " + mt.why());
  for (const auto& [w, v] : mt.weight_map()) {
    bool added = false;
    for (const auto& a : out.added) added |= a.name == w;
    if (added) continue;
    if (const Tensor* t = const_of(g, v)) out.weights[w] = *t;
  }
  return out;
}

}  // namespace convfix::keras
