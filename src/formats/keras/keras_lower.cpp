// Keras model config -> convfix Graph (see keras_lower.h).
#include "formats/keras/keras_lower.h"

#include <cmath>
#include <limits>

namespace convfix::keras {

using nlohmann::json;

std::string strip_tf_suffix(const std::string& name) {
  const auto c = name.rfind(':');
  if (c == std::string::npos || c + 1 == name.size()) return name;
  for (size_t i = c + 1; i < name.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) return name;
  return name.substr(0, c);
}

void conv_transpose_pads(const std::vector<int64_t>& k, const std::vector<int64_t>& s, const std::vector<int64_t>& d,
                         const std::vector<int64_t>& output_padding, bool same, std::vector<int64_t>* pads,
                         std::vector<int64_t>* outpad) {
  // Keras output length: same: in*s; valid: in*s + max(k_eff - s, 0);
  // with output_padding: (in-1)*s + k_eff - 2*pad + output_padding, pad = k_eff/2 (same) or 0.
  const size_t sp = k.size();
  pads->assign(2 * sp, 0);
  outpad->assign(sp, 0);
  for (size_t i = 0; i < sp; ++i) {
    const int64_t ke = (k[i] - 1) * d[i] + 1;
    if (output_padding[i] >= 0) {
      const int64_t p = same ? ke / 2 : 0;
      (*pads)[i] = (*pads)[i + sp] = p;
      (*outpad)[i] = output_padding[i];
    } else if (same) {
      const int64_t total = ke - s[i];
      if (total >= 0) {
        (*pads)[i] = total / 2;
        (*pads)[i + sp] = total - total / 2;
      } else {
        (*outpad)[i] = -total;
      }
    } else if (ke < s[i]) {
      (*outpad)[i] = s[i] - ke;
    }
  }
}

std::vector<int64_t> ints_of(const json& v, size_t n, int64_t def) {
  std::vector<int64_t> r;
  if (v.is_number_integer()) r.assign(n, v.get<int64_t>());
  else if (v.is_array())
    for (const auto& x : v) r.push_back(x.is_number() ? x.get<int64_t>() : def);
  if (r.empty()) r.assign(n, def);
  while (r.size() < n) r.push_back(r.back());
  return r;
}

bool is_model_class(const std::string& c) {
  return c == "Functional" || c == "Model" || c == "Sequential";
}

namespace {

const json& cfg_of(const json& layer) {
  static const json empty = json::object();
  auto it = layer.find("config");
  return it != layer.end() && it->is_object() ? *it : empty;
}

// Sequential configs: a list of layers (Keras < 2.2.3) or {"layers": [...]}.
const json& seq_layers(const json& model) {
  static const json empty = json::array();
  const json& c = model.contains("config") ? model["config"] : empty;
  if (c.is_array()) return c;
  if (c.is_object() && c.contains("layers") && c["layers"].is_array()) return c["layers"];
  return empty;
}

}  // namespace

std::string layer_name(const json& layer) {
  if (layer.contains("name") && layer["name"].is_string()) return layer["name"].get<std::string>();
  const json& c = cfg_of(layer);
  if (c.contains("name") && c["name"].is_string()) return c["name"].get<std::string>();
  return "";
}

void collect_layers(const json& model, std::set<std::string>* layers, std::set<std::string>* models) {
  const std::string cls = model.value("class_name", "");
  const json& list = cls == "Sequential" ? seq_layers(model) : (cfg_of(model).contains("layers") ? cfg_of(model)["layers"] : json::array());
  if (!list.is_array()) return;
  for (const auto& l : list) {
    const std::string c = l.value("class_name", "");
    if (is_model_class(c)) {
      models->insert(layer_name(l));
      collect_layers(l, layers, models);
    } else {
      layers->insert(layer_name(l));
    }
  }
}

namespace {

struct Layer {
  std::string name;    // user-facing layer name
  std::string prefix;  // node name of the main node (name, or name/call<k>)
  std::string cls;
  const json* config;
  const json* raw;     // the whole layer JSON
};

class Lowerer {
 public:
  explicit Lowerer(const LowerRequest& req) : req_(req) {}

  Expected<Graph> run() {
    g_.info.format = req_.format;
    g_.info.opsets[""] = 18;
    g_.info.source_path = req_.path;
    const json& m = req_.model;
    if (!m.is_object() || !m.contains("class_name")) return bad("the model config has no class_name");
    g_.name = cfg_of(m).value("name", "model");
    std::vector<std::string> outs;
    CONVFIX_ASSIGN_OR_RETURN(outs, lower_model_json(m, {}, true));
    for (const auto& o : outs) {
      ValueInfo vi;
      vi.name = o;
      vi.dtype = DType::kF32;
      g_.outputs.push_back(vi);
    }
    CONVFIX_RETURN_IF_ERROR(g_.verify());
    return std::move(g_);
  }

 private:
  const LowerRequest& req_;
  Graph g_;
  std::map<std::string, int64_t> rank_;  // value -> rank (-1 unknown)
  std::map<std::string, int> calls_;     // layer -> calls lowered so far
  std::map<std::string, size_t> used_;   // layer -> weights consumed (by position)

  Status bad(const std::string& m) const { return invalid_model(req_.path + ": " + m); }
  Status bad(const Layer& L, const std::string& m) const {
    return invalid_model(req_.path + ": layer '" + L.name + "' (" + L.cls + "): " + m);
  }
  Status unsupported(const Layer& L, const std::string& m) const {
    return not_implemented(req_.path + ": layer '" + L.name + "' (" + L.cls + "): " + m);
  }

  int64_t rank(const std::string& v) const {
    auto it = rank_.find(v);
    return it == rank_.end() ? -1 : it->second;
  }

  // Adds a node; its single output is named after the node.
  std::string node(const Layer& L, const std::string& op, std::vector<std::string> ins, Attributes a,
                   const std::string& what, int64_t out_rank, const std::string& domain = "") {
    Node n;
    n.name = what.empty() ? L.prefix : L.prefix + "/" + what;
    n.name = g_.unique_node_name(n.name);
    n.op_type = op;
    n.domain = domain;
    n.inputs = std::move(ins);
    n.outputs = {g_.unique_value_name(n.name)};
    n.attrs = std::move(a);
    n.provenance = {req_.format, L.cls, L.name};
    if (what.empty() && L.raw) n.attrs["keras_layer_config"] = Attribute::of_string(L.raw->dump());
    const std::string out = n.outputs[0];
    g_.nodes.push_back(std::move(n));
    rank_[out] = out_rank;
    return out;
  }

  std::string const_i64(const Layer& L, const std::string& what, const std::vector<int64_t>& v) {
    const std::string name = g_.unique_value_name(L.prefix + "/" + what);
    g_.initializers[name] = Tensor::from_vector<int64_t>(DType::kI64, {static_cast<int64_t>(v.size())}, v);
    return name;
  }
  std::string const_f32(const Layer& L, const std::string& what, float v) {
    const std::string name = g_.unique_value_name(L.prefix + "/" + what);
    g_.initializers[name] = Tensor::scalar_f32(v);
    return name;
  }

  // The layer's weight with role `role` (by name, else by position `pos`).
  Expected<std::string> weight(const Layer& L, const std::string& role, size_t pos, bool required = true) {
    auto it = req_.weights.find(L.name);
    if (it == req_.weights.end() || it->second.empty()) {
      if (!required) return std::string();
      return bad(L, "weight '" + role + "' is missing from the file");
    }
    const WeightList& wl = it->second;
    bool any_named = false;
    for (const auto& [n, t] : wl) {
      std::string s = strip_tf_suffix(n);
      const auto sl = s.rfind('/');
      if (sl != std::string::npos) s = s.substr(sl + 1);
      if (s == role || s == role + "_1") {
        add_init(n, t);
        return n;
      }
      if (s == "kernel" || s == "bias" || s == "gamma" || s == "beta" || s == "moving_mean" || s == "moving_variance" ||
          s == "depthwise_kernel" || s == "pointwise_kernel" || s == "alpha" || s == "mean" || s == "variance" ||
          s == "embeddings")
        any_named = true;
    }
    if (any_named || pos >= wl.size()) {
      if (!required) return std::string();
      return bad(L, "weight '" + role + "' is missing from the file");
    }
    add_init(wl[pos].first, wl[pos].second);
    return wl[pos].first;
  }
  void add_init(const std::string& n, const Tensor& t) {
    if (!g_.initializers.count(n)) {
      if (t.dtype() == DType::kF16 || t.dtype() == DType::kF64) {
        Tensor f = Tensor::uninitialized(DType::kF32, t.dims());
        for (int64_t i = 0; i < t.numel(); ++i)
          f.data<float>()[i] = t.dtype() == DType::kF16 ? f16_to_f32(t.data<uint16_t>()[i])
                                                        : static_cast<float>(t.data<double>()[i]);
        g_.initializers[n] = std::move(f);
      } else {
        g_.initializers[n] = t;
      }
    }
  }
  const Tensor* weight_tensor(const std::string& n) const {
    auto it = g_.initializers.find(n);
    return it == g_.initializers.end() ? nullptr : &it->second;
  }

  // ---- model structure -------------------------------------------------

  // Lowers a model; `bound` are the values its inputs are bound to (nested
  // call), empty at top level (graph inputs are created).
  Expected<std::vector<std::string>> lower_model_json(const json& m, const std::vector<std::string>& bound, bool top) {
    const std::string cls = m.value("class_name", "");
    if (cls == "Sequential") return lower_sequential(m, bound, top);
    if (cls == "Functional" || cls == "Model") return lower_functional(m, bound, top);
    return bad("model class '" + cls + "' is not Sequential or Functional");
  }

  Expected<std::string> make_input(const std::string& name, const json& cfg) {
    json shp;
    for (const char* k : {"batch_input_shape", "batch_shape"})
      if (cfg.contains(k) && cfg[k].is_array()) shp = cfg[k];
    if (shp.is_null() && cfg.contains("input_shape") && cfg["input_shape"].is_array()) {
      shp = json::array({nullptr});
      for (const auto& d : cfg["input_shape"]) shp.push_back(d);
    }
    if (shp.is_null()) return bad("input '" + name + "' has no shape (batch_input_shape)");
    ValueInfo vi;
    vi.name = name;
    vi.dtype = DType::kF32;
    const std::string dt = cfg.contains("dtype") && cfg["dtype"].is_string() ? cfg["dtype"].get<std::string>() : "float32";
    if (dt == "int32") vi.dtype = DType::kI32;
    vi.has_shape = true;
    for (size_t i = 0; i < shp.size(); ++i) {
      if (shp[i].is_number_integer()) vi.shape.push_back(Dim::of(shp[i].get<int64_t>()));
      else vi.shape.push_back(i == 0 ? Dim::sym("batch") : Dim::sym(""));
    }
    g_.inputs.push_back(vi);
    rank_[name] = static_cast<int64_t>(shp.size());
    return name;
  }

  Expected<std::vector<std::string>> lower_sequential(const json& m, const std::vector<std::string>& bound, bool top) {
    const json& layers = seq_layers(m);
    if (layers.empty()) return bad("Sequential model '" + cfg_of(m).value("name", "") + "' has no layers");
    std::string x;
    size_t start = 0;
    if (!bound.empty()) {
      x = bound[0];
      if (layers[0].value("class_name", "") == "InputLayer") start = 1;
    } else {
      const json& first = layers[0];
      const std::string c0 = first.value("class_name", "");
      const std::string n0 = c0 == "InputLayer" ? layer_name(first) : cfg_of(m).value("name", "sequential") + "_input";
      CONVFIX_ASSIGN_OR_RETURN(x, make_input(n0, cfg_of(first).contains("batch_input_shape") || cfg_of(first).contains("batch_shape")
                                                      ? cfg_of(first) : cfg_of(m)));
      if (c0 == "InputLayer") start = 1;
    }
    for (size_t i = start; i < layers.size(); ++i) {
      std::vector<std::string> outs;
      CONVFIX_ASSIGN_OR_RETURN(outs, call_layer(layers[i], {x}));
      if (outs.size() != 1) return bad("Sequential layer '" + layer_name(layers[i]) + "' does not give one output");
      x = outs[0];
    }
    (void)top;
    return std::vector<std::string>{x};
  }

  // [name, node, tensor] references of an inbound node (Keras 2 list form or
  // Keras 3 {"args", "kwargs"} form).
  static void refs_of(const json& v, std::vector<std::array<json, 3>>* out) {
    if (v.is_object()) {
      if (v.value("class_name", "") == "__keras_tensor__") {
        const json& h = v["config"]["keras_history"];
        out->push_back({h[0], h[1], h[2]});
        return;
      }
      for (const auto& [k, x] : v.items())
        if (k == "args") refs_of(x, out);
      return;
    }
    if (v.is_array()) {
      if (v.size() >= 3 && v[0].is_string() && v[1].is_number_integer() && v[2].is_number_integer()) {
        out->push_back({v[0], v[1], v[2]});
        return;
      }
      for (const auto& x : v) refs_of(x, out);
    }
  }
  static std::vector<std::array<json, 3>> io_refs(const json& v) {
    std::vector<std::array<json, 3>> r;
    if (v.is_array() && !v.empty() && v[0].is_string()) r.push_back({v[0], v.size() > 1 ? v[1] : json(0), v.size() > 2 ? v[2] : json(0)});
    else if (v.is_array())
      for (const auto& x : v)
        if (x.is_array() && !x.empty() && x[0].is_string()) r.push_back({x[0], x.size() > 1 ? x[1] : json(0), x.size() > 2 ? x[2] : json(0)});
    return r;
  }
  static std::string key(const json& n, const json& k, const json& t) {
    return n.get<std::string>() + "|" + std::to_string(k.get<int64_t>()) + "|" + std::to_string(t.get<int64_t>());
  }

  Expected<std::vector<std::string>> lower_functional(const json& m, const std::vector<std::string>& bound, bool top) {
    const json& c = cfg_of(m);
    if (!c.contains("layers") || !c["layers"].is_array()) return bad("model '" + c.value("name", "") + "' has no layers");
    const json& layers = c["layers"];
    std::map<std::string, std::string> vals;  // "layer|node|tensor" -> value
    const auto ins = io_refs(c.contains("input_layers") ? c["input_layers"] : json::array());
    const auto outs = io_refs(c.contains("output_layers") ? c["output_layers"] : json::array());
    if (outs.empty()) return bad("model '" + c.value("name", "") + "' has no output_layers");
    std::map<std::string, const json*> by_name;
    for (const auto& l : layers) by_name[layer_name(l)] = &l;
    for (size_t i = 0; i < ins.size(); ++i) {
      const std::string n = ins[i][0].get<std::string>();
      if (!bound.empty()) {
        if (i >= bound.size()) return bad("model '" + c.value("name", "") + "' is called with too few inputs");
        vals[key(ins[i][0], ins[i][1], ins[i][2])] = bound[i];
      } else {
        auto it = by_name.find(n);
        if (it == by_name.end()) return bad("input layer '" + n + "' is not among the layers");
        CONVFIX_ASSIGN_OR_RETURN(std::string v, make_input(n, cfg_of(*it->second)));
        vals[key(ins[i][0], ins[i][1], ins[i][2])] = v;
      }
    }
    // Pending calls: (layer index, inbound node index).
    struct Call { size_t layer; size_t node; std::vector<std::array<json, 3>> refs; };
    std::vector<Call> pending;
    for (size_t li = 0; li < layers.size(); ++li) {
      const json& l = layers[li];
      if (l.value("class_name", "") == "InputLayer") continue;
      if (!l.contains("inbound_nodes") || !l["inbound_nodes"].is_array()) continue;
      size_t k = 0;
      for (const auto& nd : l["inbound_nodes"]) {
        Call cl{li, k++, {}};
        refs_of(nd, &cl.refs);
        pending.push_back(std::move(cl));
      }
    }
    // Output node indices: Keras numbers a layer's calls in creation order
    // across models; in a config the inbound_nodes list follows that order.
    bool progress = true;
    while (!pending.empty() && progress) {
      progress = false;
      for (size_t p = 0; p < pending.size();) {
        const Call& cl = pending[p];
        std::vector<std::string> in_vals;
        bool ready = true;
        for (const auto& r : cl.refs) {
          if (!r[0].is_string() || !r[1].is_number_integer() || !r[2].is_number_integer())
            return bad("layer '" + layer_name(layers[cl.layer]) + "' has a malformed inbound node");
          auto it = vals.find(key(r[0], r[1], r[2]));
          if (it == vals.end()) { ready = false; break; }
          in_vals.push_back(it->second);
        }
        if (!ready) { ++p; continue; }
        const json& l = layers[cl.layer];
        std::vector<std::string> o;
        CONVFIX_ASSIGN_OR_RETURN(o, call_layer(l, in_vals));
        // Keras numbers a nested model's calls from 1: its node 0 is the one
        // its own construction made (Network._should_skip_first_node).
        const size_t node_index = cl.node + (nested_offset(l) ? 1 : 0);
        for (size_t t = 0; t < o.size(); ++t)
          vals[layer_name(l) + "|" + std::to_string(node_index) + "|" + std::to_string(t)] = o[t];
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(p));
        progress = true;
      }
    }
    if (!pending.empty()) {
      const Call& cl = pending[0];
      std::string miss;
      for (const auto& r : cl.refs)
        if (!vals.count(key(r[0], r[1], r[2]))) miss = r[0].get<std::string>();
      return bad("layer '" + layer_name(layers[cl.layer]) + "' takes the output of '" + miss +
                 "', which no layer produces (dangling input or cycle)");
    }
    std::vector<std::string> res;
    for (const auto& o : outs) {
      auto it = vals.find(key(o[0], o[1], o[2]));
      if (it == vals.end()) return bad("output layer '" + o[0].get<std::string>() + "' is never computed");
      std::string v = it->second;
      if (top) {
        // A graph output must be produced by a node (not an input) and unique.
        bool dup = false;
        for (const auto& r : res) dup |= r == v;
        if (g_.producer(v) < 0 || dup) {
          Layer L{o[0].get<std::string>(), o[0].get<std::string>() + "/output", "Identity", nullptr, nullptr};
          v = node(L, "Identity", {v}, {}, "", rank(v));
        }
      }
      res.push_back(v);
    }
    return res;
  }

  static bool nested_offset(const json& l) {
    const std::string c = l.value("class_name", "");
    if (c == "Functional" || c == "Model") return true;
    if (c != "Sequential") return false;
    const json& ls = seq_layers(l);
    if (ls.empty()) return false;
    return ls[0].value("class_name", "") == "InputLayer" || cfg_of(ls[0]).contains("batch_input_shape") ||
           cfg_of(ls[0]).contains("batch_shape");
  }

  // ---- layers ----------------------------------------------------------

  Expected<std::vector<std::string>> call_layer(const json& l, const std::vector<std::string>& ins) {
    const std::string cls = l.value("class_name", "");
    const std::string name = layer_name(l);
    if (name.empty()) return bad("a layer of class '" + cls + "' has no name");
    const int k = calls_[name]++;
    if (is_model_class(cls)) return lower_model_json(l, ins, false);
    Layer L{name, k == 0 ? name : name + "/call" + std::to_string(k), cls, &cfg_of(l), &l};
    if (ins.empty()) return bad(L, "the layer has no inputs");
    auto r = lower_layer(L, ins);
    if (!r.ok()) return r.status();
    return std::vector<std::string>{r.value()};
  }

  // Activation by Keras name applied to x (nothing for "linear").
  Expected<std::string> activation(const Layer& L, const std::string& x, const json& act, bool main) {
    std::string a = "linear";
    json acfg = json::object();
    if (act.is_string()) a = act.get<std::string>();
    else if (act.is_object()) {  // Keras 3 serialises some activations as objects
      a = act.value("config", json::object()).value("name", act.value("class_name", "linear"));
      if (act.contains("config") && act["config"].is_object()) acfg = act["config"];
    }
    const std::string what = main ? "" : a;
    const int64_t r = rank(x);
    Attributes at;
    if (a == "linear" || a.empty()) return x;
    if (a == "relu") return node(L, "Relu", {x}, {}, what, r);
    if (a == "relu6") return node(L, "Clip", {x, const_f32(L, "zero", 0.f), const_f32(L, "six", 6.f)}, {}, what, r);
    if (a == "sigmoid") return node(L, "Sigmoid", {x}, {}, what, r);
    if (a == "hard_sigmoid") {
      // Keras 2 / TF.js: clip(0.2x + 0.5); Keras 3: relu6(x + 3) / 6.
      at["alpha"] = Attribute::of_float(req_.keras3 ? 1.f / 6.f : 0.2f);
      at["beta"] = Attribute::of_float(0.5f);
      return node(L, "HardSigmoid", {x}, at, what, r);
    }
    if (a == "tanh") return node(L, "Tanh", {x}, {}, what, r);
    if (a == "softmax") {
      at["axis"] = Attribute::of_int(-1);
      return node(L, "Softmax", {x}, at, what, r);
    }
    if (a == "swish" || a == "silu") {
      const std::string s = node(L, "Sigmoid", {x}, {}, a + "/sigmoid", r);
      return node(L, "Mul", {x, s}, {}, what, r);
    }
    if (a == "gelu") {
      at["approximate"] = Attribute::of_string(acfg.value("approximate", false) ? "tanh" : "none");
      return node(L, "Gelu", {x}, at, what, r);
    }
    if (a == "elu") { at["alpha"] = Attribute::of_float(1.f); return node(L, "Elu", {x}, at, what, r); }
    if (a == "selu") {
      at["alpha"] = Attribute::of_float(1.6732632423543772f);
      at["gamma"] = Attribute::of_float(1.0507009873554805f);
      return node(L, "Selu", {x}, at, what, r);
    }
    if (a == "softplus") return node(L, "Softplus", {x}, {}, what, r);
    if (a == "softsign") return node(L, "Softsign", {x}, {}, what, r);
    if (a == "exponential") return node(L, "Exp", {x}, {}, what, r);
    if (a == "hard_swish" || a == "hard_silu") return node(L, "HardSwish", {x}, {}, what, r);
    if (a == "mish") return node(L, "Mish", {x}, {}, what, r);
    return unsupported(L, "activation '" + a + "' is not supported");
  }

  Expected<std::string> with_activation(const Layer& L, const std::string& y) {
    if (!L.config->contains("activation")) return y;
    return activation(L, y, (*L.config)["activation"], false);
  }

  std::string data_format(const Layer& L) const {
    return L.config->value("data_format", "channels_last") == "channels_first" ? "channels_first" : "channels_last";
  }
  static std::string layout_name(bool cl, int64_t r) {
    static const char* lastn[] = {"NC", "NWC", "NHWC", "NDHWC"};
    static const char* firstn[] = {"NC", "NCW", "NCHW", "NCDHW"};
    const int64_t s = std::clamp<int64_t>(r - 2, 0, 3);
    return cl ? lastn[s] : firstn[s];
  }

  // Transposes channels_last x (rank r) to channels_first, or back.
  std::string to_cf(const Layer& L, const std::string& x, int64_t r) {
    std::vector<int64_t> p{0, r - 1};
    for (int64_t i = 1; i < r - 1; ++i) p.push_back(i);
    Attributes a;
    a["perm"] = Attribute::of_ints(p);
    return node(L, "Transpose", {x}, a, "to_nchw", r);
  }
  std::string to_cl(const Layer& L, const std::string& x, int64_t r) {
    std::vector<int64_t> p{0};
    for (int64_t i = 2; i < r; ++i) p.push_back(i);
    p.push_back(1);
    Attributes a;
    a["perm"] = Attribute::of_ints(p);
    return node(L, "Transpose", {x}, a, "to_nhwc", r);
  }

  // Runs `inner` (an op on channels_first data) on x in the layer's format.
  template <typename F>
  Expected<std::string> spatial(const Layer& L, const std::string& x, F inner) {
    const int64_t r = rank(x);
    if (r < 3) return bad(L, "expects an input of rank >= 3, got rank " + std::to_string(r));
    const bool cl = data_format(L) == "channels_last";
    std::string y = cl ? to_cf(L, x, r) : x;
    CONVFIX_ASSIGN_OR_RETURN(y, inner(y, r));
    g_.nodes.back().attrs["data_layout"] = Attribute::of_string(layout_name(cl, r));
    if (cl) y = to_cl(L, y, r);
    return y;
  }

  void padding_attrs(const Layer& L, Attributes* a, const std::vector<int64_t>& k, const std::vector<int64_t>& d) {
    const std::string p = L.config->value("padding", "valid");
    if (p == "same") (*a)["auto_pad"] = Attribute::of_string("SAME_UPPER");
    else if (p == "causal") {
      std::vector<int64_t> pads(2 * k.size(), 0);
      for (size_t i = 0; i < k.size(); ++i) pads[i] = (k[i] - 1) * d[i];
      (*a)["pads"] = Attribute::of_ints(pads);
    } else {
      (*a)["auto_pad"] = Attribute::of_string("VALID");
    }
  }

  // Kernel (k..., I, O) -> (O, I, k...) as a Transpose node.
  std::string kernel_to_oi(const Layer& L, const std::string& w, int64_t kr, const std::string& what) {
    std::vector<int64_t> p{kr - 1, kr - 2};
    for (int64_t i = 0; i < kr - 2; ++i) p.push_back(i);
    Attributes a;
    a["perm"] = Attribute::of_ints(p);
    return node(L, "Transpose", {w}, a, what, kr);
  }

  Expected<std::string> conv(const Layer& L, const std::string& x) {
    const int64_t r = rank(x);
    const size_t sp = static_cast<size_t>(std::max<int64_t>(r - 2, 1));
    CONVFIX_ASSIGN_OR_RETURN(std::string w, weight(L, "kernel", 0));
    std::string b;
    if (L.config->value("use_bias", true)) { CONVFIX_ASSIGN_OR_RETURN(b, weight(L, "bias", 1)); }
    const Tensor* kt = weight_tensor(w);
    if (!kt || kt->rank() != static_cast<int64_t>(sp) + 2)
      return bad(L, "kernel '" + w + "' has rank " + std::to_string(kt ? kt->rank() : 0) + ", expected " + std::to_string(sp + 2));
    const auto k = ints_of((*L.config)["kernel_size"], sp, 1);
    for (size_t i = 0; i < sp; ++i)
      if (kt->dim(static_cast<int64_t>(i)) != k[i]) return bad(L, "kernel '" + w + "' shape does not match kernel_size");
    const auto s = ints_of(L.config->value("strides", json(1)), sp, 1);
    const auto d = ints_of(L.config->value("dilation_rate", json(1)), sp, 1);
    const int64_t groups = L.config->value("groups", 1);
    if (L.config->contains("filters") && (*L.config)["filters"].is_number_integer() &&
        kt->dim(kt->rank() - 1) != (*L.config)["filters"].get<int64_t>())
      return bad(L, "kernel '" + w + "' has " + std::to_string(kt->dim(kt->rank() - 1)) + " filters, the config says " +
                        (*L.config)["filters"].dump());
    const std::string wo = kernel_to_oi(L, w, kt->rank(), "kernel_oihw");
    CONVFIX_ASSIGN_OR_RETURN(std::string y, spatial(L, x, [&](const std::string& xc, int64_t rr) -> Expected<std::string> {
      Attributes a;
      a["kernel_shape"] = Attribute::of_ints(k);
      a["strides"] = Attribute::of_ints(s);
      a["dilations"] = Attribute::of_ints(d);
      a["group"] = Attribute::of_int(groups);
      a["weight_layout"] = Attribute::of_string(sp == 1 ? "WIO" : sp == 2 ? "HWIO" : "DHWIO");
      padding_attrs(L, &a, k, d);
      std::vector<std::string> in{xc, wo};
      if (!b.empty()) in.push_back(b);
      return node(L, "Conv", in, a, "", rr);
    }));
    return with_activation(L, y);
  }

  Expected<std::string> depthwise(const Layer& L, const std::string& x) {
    CONVFIX_ASSIGN_OR_RETURN(std::string w, weight(L, "depthwise_kernel", 0));
    std::string b;
    if (L.config->value("use_bias", true)) { CONVFIX_ASSIGN_OR_RETURN(b, weight(L, "bias", 1)); }
    const Tensor* kt = weight_tensor(w);
    if (!kt || kt->rank() != 4) return bad(L, "depthwise kernel '" + w + "' is not 4-D (H, W, C, M)");
    CONVFIX_ASSIGN_OR_RETURN(std::string y, depthwise_core(L, x, w, *kt, b, ""));
    return with_activation(L, y);
  }

  // Depthwise conv with kernel (H, W, C, M); main node named `what`.
  Expected<std::string> depthwise_core(const Layer& L, const std::string& x, const std::string& w, const Tensor& kt,
                                       const std::string& b, const std::string& what) {
    const int64_t C = kt.dim(2), M = kt.dim(3);
    const auto k = ints_of((*L.config)["kernel_size"], 2, 1);
    const auto s = ints_of(L.config->value("strides", json(1)), 2, 1);
    const auto d = ints_of(L.config->value("dilation_rate", json(1)), 2, 1);
    const std::string wr = node(L, "Reshape", {w, const_i64(L, what + (what.empty() ? "" : "/") + "kernel_shape", {kt.dim(0), kt.dim(1), 1, C * M})},
                                {}, what + (what.empty() ? "" : "/") + "kernel_reshape", 4);
    Attributes ta;
    ta["perm"] = Attribute::of_ints({3, 2, 0, 1});
    const std::string wo = node(L, "Transpose", {wr}, ta, what + (what.empty() ? "" : "/") + "kernel_oihw", 4);
    return spatial(L, x, [&](const std::string& xc, int64_t rr) -> Expected<std::string> {
      Attributes a;
      a["kernel_shape"] = Attribute::of_ints(k);
      a["strides"] = Attribute::of_ints(s);
      a["dilations"] = Attribute::of_ints(d);
      a["group"] = Attribute::of_int(C);
      a["weight_layout"] = Attribute::of_string("HWCM");
      padding_attrs(L, &a, k, d);
      std::vector<std::string> in{xc, wo};
      if (!b.empty()) in.push_back(b);
      return node(L, "Conv", in, a, what, rr);
    });
  }

  Expected<std::string> separable(const Layer& L, const std::string& x) {
    CONVFIX_ASSIGN_OR_RETURN(std::string dw, weight(L, "depthwise_kernel", 0));
    CONVFIX_ASSIGN_OR_RETURN(std::string pw, weight(L, "pointwise_kernel", 1));
    std::string b;
    if (L.config->value("use_bias", true)) { CONVFIX_ASSIGN_OR_RETURN(b, weight(L, "bias", 2)); }
    const Tensor* dt = weight_tensor(dw);
    const Tensor* pt = weight_tensor(pw);
    if (!dt || dt->rank() != 4 || !pt || pt->rank() != 4) return bad(L, "separable kernels are not 4-D");
    CONVFIX_ASSIGN_OR_RETURN(std::string y, depthwise_core(L, x, dw, *dt, "", "depthwise"));
    const std::string wo = kernel_to_oi(L, pw, 4, "pointwise_oihw");
    CONVFIX_ASSIGN_OR_RETURN(y, spatial(L, y, [&](const std::string& xc, int64_t rr) -> Expected<std::string> {
      Attributes a;
      a["kernel_shape"] = Attribute::of_ints({1, 1});
      a["weight_layout"] = Attribute::of_string("HWIO");
      std::vector<std::string> in{xc, wo};
      if (!b.empty()) in.push_back(b);
      return node(L, "Conv", in, a, "", rr);
    }));
    return with_activation(L, y);
  }

  Expected<std::string> conv_transpose(const Layer& L, const std::string& x) {
    const int64_t r = rank(x);
    const size_t sp = static_cast<size_t>(std::max<int64_t>(r - 2, 1));
    CONVFIX_ASSIGN_OR_RETURN(std::string w, weight(L, "kernel", 0));
    std::string b;
    if (L.config->value("use_bias", true)) { CONVFIX_ASSIGN_OR_RETURN(b, weight(L, "bias", 1)); }
    const Tensor* kt = weight_tensor(w);
    if (!kt || kt->rank() != static_cast<int64_t>(sp) + 2) return bad(L, "kernel '" + w + "' has the wrong rank");
    const auto k = ints_of((*L.config)["kernel_size"], sp, 1);
    const auto s = ints_of(L.config->value("strides", json(1)), sp, 1);
    const auto d = ints_of(L.config->value("dilation_rate", json(1)), sp, 1);
    std::vector<int64_t> op(sp, -1);
    if (L.config->contains("output_padding") && !(*L.config)["output_padding"].is_null()) op = ints_of((*L.config)["output_padding"], sp, 0);
    const bool same = L.config->value("padding", "valid") == "same";
    std::vector<int64_t> pads, outpad;
    conv_transpose_pads(k, s, d, op, same, &pads, &outpad);
    // Kernel (k..., O, I) -> (I, O, k...): same permutation as for Conv.
    const std::string wo = kernel_to_oi(L, w, kt->rank(), "kernel_iohw");
    CONVFIX_ASSIGN_OR_RETURN(std::string y, spatial(L, x, [&](const std::string& xc, int64_t rr) -> Expected<std::string> {
      Attributes a;
      a["kernel_shape"] = Attribute::of_ints(k);
      a["strides"] = Attribute::of_ints(s);
      a["dilations"] = Attribute::of_ints(d);
      a["pads"] = Attribute::of_ints(pads);
      a["output_padding"] = Attribute::of_ints(outpad);
      a["weight_layout"] = Attribute::of_string(sp == 1 ? "WOI" : sp == 2 ? "HWOI" : "DHWOI");
      std::vector<std::string> in{xc, wo};
      if (!b.empty()) in.push_back(b);
      return node(L, "ConvTranspose", in, a, "", rr);
    }));
    return with_activation(L, y);
  }

  Expected<std::string> dense(const Layer& L, const std::string& x) {
    CONVFIX_ASSIGN_OR_RETURN(std::string w, weight(L, "kernel", 0));
    const Tensor* kt = weight_tensor(w);
    if (!kt || kt->rank() != 2) return bad(L, "kernel '" + w + "' is not 2-D");
    if (L.config->contains("units") && (*L.config)["units"].is_number_integer() && kt->dim(1) != (*L.config)["units"].get<int64_t>())
      return bad(L, "kernel '" + w + "' has " + std::to_string(kt->dim(1)) + " units, the config says " + (*L.config)["units"].dump());
    const bool bias = L.config->value("use_bias", true);
    std::string b;
    if (bias) { CONVFIX_ASSIGN_OR_RETURN(b, weight(L, "bias", 1)); }
    Attributes a;
    a["weight_layout"] = Attribute::of_string("IO");
    std::string y;
    if (bias) {
      const std::string m = node(L, "MatMul", {x, w}, a, "matmul", rank(x));
      y = node(L, "Add", {m, b}, {}, "", rank(x));
    } else {
      y = node(L, "MatMul", {x, w}, a, "", rank(x));
    }
    return with_activation(L, y);
  }

  int64_t norm_axis(const Layer& L, const json& ax, int64_t r, int64_t def) const {
    int64_t a = def;
    if (ax.is_number_integer()) a = ax.get<int64_t>();
    else if (ax.is_array() && !ax.empty() && ax[0].is_number_integer()) a = ax[0].get<int64_t>();
    if (a < 0 && r > 0) a += r;
    return a;
  }

  // Reshapes a 1-D parameter to broadcast along `axis` of a rank-r value.
  std::string bcast(const Layer& L, const std::string& p, int64_t axis, int64_t r, const std::string& what) {
    if (r < 0 || axis == r - 1) return p;
    std::vector<int64_t> shp{-1};
    for (int64_t i = axis + 1; i < r; ++i) shp.push_back(1);
    return node(L, "Reshape", {p, const_i64(L, what + "_shape", shp)}, {}, what + "_bcast", static_cast<int64_t>(shp.size()));
  }

  Expected<std::string> batch_norm(const Layer& L, const std::string& x) {
    const int64_t r = rank(x);
    const int64_t axis = norm_axis(L, L.config->value("axis", json(-1)), r, -1);
    const bool scale = L.config->value("scale", true), center = L.config->value("center", true);
    const float eps = L.config->value("epsilon", 1e-3f);
    size_t pos = 0;
    std::string gamma, beta;
    if (scale) { CONVFIX_ASSIGN_OR_RETURN(gamma, weight(L, "gamma", pos++)); }
    if (center) { CONVFIX_ASSIGN_OR_RETURN(beta, weight(L, "beta", pos++)); }
    CONVFIX_ASSIGN_OR_RETURN(std::string mean, weight(L, "moving_mean", pos++));
    CONVFIX_ASSIGN_OR_RETURN(std::string var, weight(L, "moving_variance", pos++));
    // y = (x - mean) * (gamma / sqrt(var + eps)) + beta
    const std::string ve = node(L, "Add", {var, const_f32(L, "epsilon", eps)}, {}, "var_eps", 1);
    std::string inv = node(L, "Sqrt", {ve}, {}, "std", 1);
    inv = node(L, "Reciprocal", {inv}, {}, "inv_std", 1);
    if (scale) inv = node(L, "Mul", {inv, gamma}, {}, "scale", 1);
    const std::string xm = node(L, "Sub", {x, bcast(L, mean, axis, r, "mean")}, {}, "centered", r);
    if (!center) return node(L, "Mul", {xm, bcast(L, inv, axis, r, "scale")}, {}, "", r);
    const std::string xs = node(L, "Mul", {xm, bcast(L, inv, axis, r, "scale")}, {}, "scaled", r);
    return node(L, "Add", {xs, bcast(L, beta, axis, r, "beta")}, {}, "", r);
  }

  Expected<std::string> layer_norm(const Layer& L, const std::string& x) {
    const int64_t r = rank(x);
    const json ax = L.config->value("axis", json(-1));
    std::vector<int64_t> axes;
    if (ax.is_array()) for (const auto& v : ax) axes.push_back(v.get<int64_t>() < 0 ? v.get<int64_t>() + r : v.get<int64_t>());
    else axes.push_back(ax.get<int64_t>() < 0 ? ax.get<int64_t>() + r : ax.get<int64_t>());
    std::sort(axes.begin(), axes.end());
    for (size_t i = 0; i < axes.size(); ++i)
      if (axes[i] != r - static_cast<int64_t>(axes.size()) + static_cast<int64_t>(i))
        return unsupported(L, "normalising over axes that are not the last ones is not supported");
    const bool scale = L.config->value("scale", true), center = L.config->value("center", true);
    const float eps = L.config->value("epsilon", 1e-3f);
    // Decomposed: y = (x - mean) / sqrt(var + eps) * gamma + beta.
    Attributes ra;
    ra["keepdims"] = Attribute::of_int(1);
    const std::string axn = const_i64(L, "axes", axes);
    const std::string mean = node(L, "ReduceMean", {x, axn}, ra, "mean", r);
    const std::string xm = node(L, "Sub", {x, mean}, {}, "centered", r);
    const std::string sq = node(L, "Mul", {xm, xm}, {}, "square", r);
    const std::string var = node(L, "ReduceMean", {sq, axn}, ra, "variance", r);
    const std::string ve = node(L, "Add", {var, const_f32(L, "epsilon", eps)}, {}, "var_eps", r);
    const std::string sd = node(L, "Sqrt", {ve}, {}, "std", r);
    std::string y = node(L, "Div", {xm, sd}, {}, (scale || center) ? "normalized" : "", r);
    size_t pos = 0;
    if (scale) {
      CONVFIX_ASSIGN_OR_RETURN(std::string gm, weight(L, "gamma", pos++));
      y = node(L, "Mul", {y, gm}, {}, center ? "scaled" : "", r);
    }
    if (center) {
      CONVFIX_ASSIGN_OR_RETURN(std::string bt, weight(L, "beta", pos++));
      y = node(L, "Add", {y, bt}, {}, "", r);
    }
    return y;
  }

  Expected<std::string> relu_layer(const Layer& L, const std::string& x) {
    const int64_t r = rank(x);
    const json& c = *L.config;
    const bool has_max = c.contains("max_value") && c["max_value"].is_number();
    const float mx = has_max ? c["max_value"].get<float>() : 0.f;
    // The TF.js runtime's ReLU layer reads max_value only (negative_slope and
    // threshold are ignored by tfjs-layers 4.9); a TF.js file means what its
    // runtime computes.
    const bool tfjs = req_.format == "tfjs";
    const float slope = !tfjs && c.contains("negative_slope") && c["negative_slope"].is_number() ? c["negative_slope"].get<float>() : 0.f;
    const float th = !tfjs && c.contains("threshold") && c["threshold"].is_number() ? c["threshold"].get<float>() : 0.f;
    if (slope == 0.f && th == 0.f) {
      if (!has_max) return node(L, "Relu", {x}, {}, "", r);
      return node(L, "Clip", {x, const_f32(L, "min", 0.f), const_f32(L, "max", mx)}, {}, "", r);
    }
    if (th == 0.f && !has_max) {
      Attributes a;
      a["alpha"] = Attribute::of_float(slope);
      return node(L, "LeakyRelu", {x}, a, "", r);
    }
    // x > t ? min(x, max) : slope * (x - t)
    const std::string t = const_f32(L, "threshold", th);
    const std::string gt = node(L, "Greater", {x, t}, {}, "above", r);
    std::string hi = x;
    if (has_max) hi = node(L, "Min", {x, const_f32(L, "max_value", mx)}, {}, "clipped", r);
    const std::string lo = node(L, "Mul", {node(L, "Sub", {x, t}, {}, "shifted", r), const_f32(L, "slope", slope)}, {}, "negative", r);
    return node(L, "Where", {gt, hi, lo}, {}, "", r);
  }

  Expected<std::string> pool(const Layer& L, const std::string& x, const std::string& op) {
    const int64_t r = rank(x);
    const size_t sp = static_cast<size_t>(std::max<int64_t>(r - 2, 1));
    const json& c = *L.config;
    const auto k = ints_of(c.contains("pool_size") ? c["pool_size"] : json(2), sp, 2);
    const auto s = c.contains("strides") && !c["strides"].is_null() ? ints_of(c["strides"], sp, 1) : k;
    return spatial(L, x, [&](const std::string& xc, int64_t rr) -> Expected<std::string> {
      Attributes a;
      a["kernel_shape"] = Attribute::of_ints(k);
      a["strides"] = Attribute::of_ints(s);
      a["auto_pad"] = Attribute::of_string(c.value("padding", "valid") == "same" ? "SAME_UPPER" : "VALID");
      return node(L, op, {xc}, a, "", rr);
    });
  }

  Expected<std::string> global_pool(const Layer& L, const std::string& x, const std::string& op) {
    const int64_t r = rank(x);
    const bool cl = data_format(L) == "channels_last";
    std::vector<int64_t> axes;
    for (int64_t i = cl ? 1 : 2; i < (cl ? r - 1 : r); ++i) axes.push_back(i);
    const bool keep = L.config->value("keepdims", false);
    Attributes a;
    a["keepdims"] = Attribute::of_int(keep ? 1 : 0);
    a["data_layout"] = Attribute::of_string(layout_name(cl, r));
    return node(L, op, {x, const_i64(L, "axes", axes)}, a, "", keep ? r : 2);
  }

  Expected<std::string> merge(const Layer& L, const std::vector<std::string>& ins, const std::string& op) {
    if (ins.size() < 2) return bad(L, "needs at least two inputs, got " + std::to_string(ins.size()));
    int64_t r = 0;
    for (const auto& i : ins) r = std::max(r, rank(i));
    if (op == "Sub" && ins.size() != 2) return bad(L, "needs exactly two inputs");
    std::string acc = ins[0];
    const bool avg = op == "Average";
    const std::string bop = avg ? "Add" : op;
    for (size_t i = 1; i < ins.size(); ++i) {
      const bool last = i + 1 == ins.size() && !avg;
      acc = node(L, bop, {acc, ins[i]}, {}, last ? "" : "acc" + std::to_string(i), r);
    }
    if (avg) acc = node(L, "Mul", {acc, const_f32(L, "inv_count", 1.f / static_cast<float>(ins.size()))}, {}, "", r);
    return acc;
  }

  Expected<std::string> lower_layer(const Layer& L, const std::vector<std::string>& ins) {
    const std::string& c = L.cls;
    const std::string& x = ins[0];
    const int64_t r = rank(x);
    const json& cfg = *L.config;
    if (c == "Conv1D" || c == "Conv2D" || c == "Conv3D" || c == "Convolution1D" || c == "Convolution2D") return conv(L, x);
    if (c == "DepthwiseConv2D") return depthwise(L, x);
    if (c == "SeparableConv2D" || c == "SeparableConvolution2D") return separable(L, x);
    if (c == "Conv2DTranspose" || c == "Conv1DTranspose" || c == "Deconvolution2D") return conv_transpose(L, x);
    if (c == "Dense") return dense(L, x);
    if (c == "BatchNormalization") return batch_norm(L, x);
    if (c == "LayerNormalization") return layer_norm(L, x);
    if (c == "Activation") {
      CONVFIX_ASSIGN_OR_RETURN(std::string y, activation(L, x, cfg.value("activation", json("linear")), true));
      if (y == x) return node(L, "Identity", {x}, {}, "", r);
      return y;
    }
    if (c == "ReLU") return relu_layer(L, x);
    if (c == "LeakyReLU") {
      Attributes a;
      float al = 0.3f;
      if (cfg.contains("alpha") && cfg["alpha"].is_number()) al = cfg["alpha"].get<float>();
      if (cfg.contains("negative_slope") && cfg["negative_slope"].is_number()) al = cfg["negative_slope"].get<float>();
      a["alpha"] = Attribute::of_float(al);
      return node(L, "LeakyRelu", {x}, a, "", r);
    }
    if (c == "PReLU") {
      CONVFIX_ASSIGN_OR_RETURN(std::string al, weight(L, "alpha", 0));
      return node(L, "PRelu", {x, al}, {}, "", r);
    }
    if (c == "ELU") {
      Attributes a;
      a["alpha"] = Attribute::of_float(cfg.value("alpha", 1.0f));
      return node(L, "Elu", {x}, a, "", r);
    }
    if (c == "ThresholdedReLU") {
      Attributes a;
      a["alpha"] = Attribute::of_float(cfg.value("theta", 1.0f));
      return node(L, "ThresholdedRelu", {x}, a, "", r);
    }
    if (c == "Softmax") {
      Attributes a;
      a["axis"] = Attribute::of_int(norm_axis(L, cfg.value("axis", json(-1)), r, -1));
      return node(L, "Softmax", {x}, a, "", r);
    }
    if (c == "ZeroPadding1D" || c == "ZeroPadding2D" || c == "ZeroPadding3D") {
      const size_t sp = static_cast<size_t>(std::max<int64_t>(r - 2, 1));
      std::vector<int64_t> before(sp, 1), after(sp, 1);
      const json p = cfg.value("padding", json(1));
      if (p.is_number_integer()) { before.assign(sp, p.get<int64_t>()); after = before; }
      else if (p.is_array()) {
        for (size_t i = 0; i < sp && i < p.size(); ++i) {
          if (p[i].is_array()) { before[i] = p[i][0].get<int64_t>(); after[i] = p[i][1].get<int64_t>(); }
          else if (sp == 1 && p.size() == 2) { before[0] = p[0].get<int64_t>(); after[0] = p[1].get<int64_t>(); break; }
          else { before[i] = after[i] = p[i].get<int64_t>(); }
        }
      }
      const bool cl = data_format(L) == "channels_last";
      std::vector<int64_t> pads(static_cast<size_t>(2 * r), 0);
      for (size_t i = 0; i < sp; ++i) {
        const size_t ax = cl ? i + 1 : i + 2;
        pads[ax] = before[i];
        pads[ax + static_cast<size_t>(r)] = after[i];
      }
      Attributes a;
      a["data_layout"] = Attribute::of_string(layout_name(cl, r));
      return node(L, "Pad", {x, const_i64(L, "pads", pads)}, a, "", r);
    }
    if (c == "Cropping1D" || c == "Cropping2D" || c == "Cropping3D") {
      const size_t sp = static_cast<size_t>(std::max<int64_t>(r - 2, 1));
      std::vector<int64_t> before(sp, 0), after(sp, 0);
      const json p = cfg.value("cropping", json(0));
      if (p.is_number_integer()) { before.assign(sp, p.get<int64_t>()); after = before; }
      else if (p.is_array()) {
        for (size_t i = 0; i < sp && i < p.size(); ++i) {
          if (p[i].is_array()) { before[i] = p[i][0].get<int64_t>(); after[i] = p[i][1].get<int64_t>(); }
          else if (sp == 1 && p.size() == 2) { before[0] = p[0].get<int64_t>(); after[0] = p[1].get<int64_t>(); break; }
          else { before[i] = after[i] = p[i].get<int64_t>(); }
        }
      }
      const bool cl = data_format(L) == "channels_last";
      std::vector<int64_t> st, en, ax;
      for (size_t i = 0; i < sp; ++i) {
        ax.push_back(static_cast<int64_t>(cl ? i + 1 : i + 2));
        st.push_back(before[i]);
        en.push_back(after[i] == 0 ? std::numeric_limits<int64_t>::max() : -after[i]);
      }
      Attributes a;
      a["data_layout"] = Attribute::of_string(layout_name(cl, r));
      return node(L, "Slice", {x, const_i64(L, "starts", st), const_i64(L, "ends", en), const_i64(L, "axes", ax)}, a, "", r);
    }
    if (c == "MaxPooling1D" || c == "MaxPooling2D" || c == "MaxPooling3D" || c == "MaxPool2D" || c == "MaxPool1D")
      return pool(L, x, "MaxPool");
    if (c == "AveragePooling1D" || c == "AveragePooling2D" || c == "AveragePooling3D" || c == "AvgPool2D" || c == "AveragePool2D")
      return pool(L, x, "AveragePool");
    if (c == "GlobalAveragePooling1D" || c == "GlobalAveragePooling2D" || c == "GlobalAveragePooling3D" || c == "GlobalAvgPool2D")
      return global_pool(L, x, "ReduceMean");
    if (c == "GlobalMaxPooling1D" || c == "GlobalMaxPooling2D" || c == "GlobalMaxPooling3D" || c == "GlobalMaxPool2D")
      return global_pool(L, x, "ReduceMax");
    if (c == "Flatten") {
      std::string y = x;
      if (data_format(L) == "channels_first" && r > 2) {
        std::vector<int64_t> p{0};
        for (int64_t i = 2; i < r; ++i) p.push_back(i);
        p.push_back(1);
        Attributes ta;
        ta["perm"] = Attribute::of_ints(p);
        y = node(L, "Transpose", {x}, ta, "to_channels_last", r);
      }
      Attributes a;
      a["axis"] = Attribute::of_int(1);
      return node(L, "Flatten", {y}, a, "", 2);
    }
    if (c == "Reshape") {
      std::vector<int64_t> shp{0};
      if (!cfg.contains("target_shape") || !cfg["target_shape"].is_array()) return bad(L, "no target_shape");
      for (const auto& d : cfg["target_shape"]) shp.push_back(d.is_number_integer() ? d.get<int64_t>() : -1);
      return node(L, "Reshape", {x, const_i64(L, "shape", shp)}, {}, "", static_cast<int64_t>(shp.size()));
    }
    if (c == "Permute") {
      std::vector<int64_t> p{0};
      for (const auto& d : cfg.value("dims", json::array())) p.push_back(d.get<int64_t>());
      if (static_cast<int64_t>(p.size()) != r) return bad(L, "dims do not match the input rank " + std::to_string(r));
      Attributes a;
      a["perm"] = Attribute::of_ints(p);
      return node(L, "Transpose", {x}, a, "", r);
    }
    if (c == "Dropout" || c == "SpatialDropout1D" || c == "SpatialDropout2D" || c == "SpatialDropout3D" ||
        c == "GaussianNoise" || c == "GaussianDropout" || c == "AlphaDropout" || c == "ActivityRegularization")
      return node(L, "Identity", {x}, {}, "", r);
    if (c == "Add") return merge(L, ins, "Add");
    if (c == "Subtract") return merge(L, ins, "Sub");
    if (c == "Multiply") return merge(L, ins, "Mul");
    if (c == "Maximum") return merge(L, ins, "Max");
    if (c == "Minimum") return merge(L, ins, "Min");
    if (c == "Average") return merge(L, ins, "Average");
    if (c == "Concatenate") {
      int64_t rr = 0;
      for (const auto& i : ins) rr = std::max(rr, rank(i));
      Attributes a;
      a["axis"] = Attribute::of_int(norm_axis(L, cfg.value("axis", json(-1)), rr, -1));
      return node(L, "Concat", ins, a, "", rr);
    }
    if (c == "Rescaling") {
      auto scalar_or = [&](const char* k, float def) -> std::string {
        const json v = cfg.value(k, json(def));
        const std::string name = g_.unique_value_name(L.prefix + "/" + k);
        if (v.is_array()) {
          std::vector<float> f;
          for (const auto& e : v) f.push_back(e.get<float>());
          g_.initializers[name] = Tensor::from_vector<float>(DType::kF32, {static_cast<int64_t>(f.size())}, f);
        } else {
          g_.initializers[name] = Tensor::scalar_f32(v.is_number() ? v.get<float>() : def);
        }
        return name;
      };
      const json off = cfg.value("offset", json(0.0));
      const bool has_off = !(off.is_number() && off.get<double>() == 0.0);
      const std::string y = node(L, "Mul", {x, scalar_or("scale", 1.f)}, {}, has_off ? "scale" : "", r);
      if (!has_off) return y;
      return node(L, "Add", {y, scalar_or("offset", 0.f)}, {}, "", r);
    }
    if (c == "Normalization") {
      std::string mean, var;
      if (cfg.contains("mean") && cfg["mean"].is_array() && cfg.contains("variance") && cfg["variance"].is_array()) {
        auto vec = [&](const char* k) {
          std::vector<float> f;
          for (const auto& e : cfg[k]) f.push_back(e.get<float>());
          const std::string name = g_.unique_value_name(L.prefix + "/" + k);
          g_.initializers[name] = Tensor::from_vector<float>(DType::kF32, {static_cast<int64_t>(f.size())}, f);
          return name;
        };
        mean = vec("mean");
        var = vec("variance");
      } else {
        CONVFIX_ASSIGN_OR_RETURN(mean, weight(L, "mean", 0));
        CONVFIX_ASSIGN_OR_RETURN(var, weight(L, "variance", 1));
      }
      const int64_t axis = norm_axis(L, cfg.value("axis", json(-1)), r, -1);
      const Tensor* mt = weight_tensor(mean);
      const bool full = mt && mt->rank() == r;
      const std::string m = full ? mean : bcast(L, mean, axis, r, "mean");
      const std::string v = full ? var : bcast(L, var, axis, r, "variance");
      const std::string sd = node(L, "Max", {node(L, "Sqrt", {v}, {}, "std", r), const_f32(L, "epsilon", 1e-7f)}, {}, "std_floor", r);
      return node(L, "Div", {node(L, "Sub", {x, m}, {}, "centered", r), sd}, {}, "", r);
    }
    if (c == "UpSampling1D" || c == "UpSampling2D" || c == "UpSampling3D") {
      const size_t sp = static_cast<size_t>(std::max<int64_t>(r - 2, 1));
      const auto sz = ints_of(cfg.value("size", json(2)), sp, 2);
      const std::string interp = cfg.value("interpolation", "nearest");
      const bool cl = c == "UpSampling1D" || data_format(L) == "channels_last";
      std::vector<float> scales(static_cast<size_t>(r), 1.f);
      for (size_t i = 0; i < sp; ++i) scales[cl ? i + 1 : i + 2] = static_cast<float>(sz[i]);
      Attributes a;
      if (interp == "nearest") {
        a["mode"] = Attribute::of_string("nearest");
        a["coordinate_transformation_mode"] = Attribute::of_string("asymmetric");
        a["nearest_mode"] = Attribute::of_string("floor");
      } else if (interp == "bilinear") {
        a["mode"] = Attribute::of_string("linear");
        // TF.js resizeBilinear (halfPixelCenters false) vs Keras / tf.image.resize (half-pixel).
        a["coordinate_transformation_mode"] = Attribute::of_string(req_.format == "tfjs" ? "asymmetric" : "half_pixel");
      } else {
        return unsupported(L, "interpolation '" + interp + "' is not supported");
      }
      a["data_layout"] = Attribute::of_string(layout_name(cl, r));
      const std::string sn = g_.unique_value_name(L.prefix + "/scales");
      g_.initializers[sn] = Tensor::from_vector<float>(DType::kF32, {r}, scales);
      return node(L, "Resize", {x, "", sn}, a, "", r);
    }
    if (c == "Resizing") {
      if (cfg.value("crop_to_aspect_ratio", false)) return unsupported(L, "crop_to_aspect_ratio is not supported");
      const std::string interp = cfg.value("interpolation", "bilinear");
      const bool cl = data_format(L) == "channels_last";
      Attributes a;
      // Keras: tf.image.resize (half-pixel centres). The TF.js runtime's
      // Resizing layer calls resizeBilinear / resizeNearestNeighbor with
      // alignCorners = !crop_to_aspect_ratio, i.e. align_corners.
      const bool tfjs = req_.format == "tfjs";
      if (interp == "nearest") {
        a["mode"] = Attribute::of_string("nearest");
        a["coordinate_transformation_mode"] = Attribute::of_string(tfjs ? "align_corners" : "half_pixel");
        a["nearest_mode"] = Attribute::of_string("round_prefer_ceil");
      } else if (interp == "bilinear") {
        a["mode"] = Attribute::of_string("linear");
        a["coordinate_transformation_mode"] = Attribute::of_string(tfjs ? "align_corners" : "half_pixel");
      } else {
        return unsupported(L, "interpolation '" + interp + "' is not supported");
      }
      a["axes"] = Attribute::of_ints(cl ? std::vector<int64_t>{r - 3, r - 2} : std::vector<int64_t>{r - 2, r - 1});
      a["data_layout"] = Attribute::of_string(layout_name(cl, r));
      const std::string sizes = const_i64(L, "sizes", {cfg.value("height", int64_t{1}), cfg.value("width", int64_t{1})});
      return node(L, "Resize", {x, "", "", sizes}, a, "", r);
    }
    if (c == "InputLayer") return node(L, "Identity", {x}, {}, "", r);
    // Lambda and unknown (custom) layers: kept, not executable.
    Attributes a;
    a["keras_class"] = Attribute::of_string(c);
    return node(L, c, ins, a, "", -1, "keras");
  }
};

}  // namespace

Expected<Graph> lower_model(const LowerRequest& req) {
  try {
    Lowerer l(req);
    return l.run();
  } catch (const std::exception& e) {
    return invalid_model(req.path + ": malformed Keras model config (" + e.what() + ")");
  }
}

}  // namespace convfix::keras
