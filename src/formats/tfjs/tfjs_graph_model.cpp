// TF.js graph-model reader: model.json whose modelTopology is a GraphDef in
// protobuf's JSON mapping (camelCase or original field names; int64 as
// strings; bytes base64; enums by name) and whose weightsManifest holds the
// Const nodes' values (read with read_tfjs_weights, tfjs_format.h). Converted into the NodeDef form of tf_internal.h and
// lowered with the same op mapping as the binary GraphDef.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "convfix/fileio.h"
#include "convfix/tf_format.h"
#include "convfix/tfjs_format.h"
#include "formats/tf/tf_internal.h"

namespace convfix {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const json* field(const json& j, const char* camel, const char* snake) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(camel);
  if (it != j.end()) return &*it;
  it = j.find(snake);
  return it != j.end() ? &*it : nullptr;
}

Expected<int64_t> as_int(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    try {
      size_t used = 0;
      const long long r = std::stoll(s, &used);
      if (used == s.size()) return static_cast<int64_t>(r);
    } catch (...) {
    }
  }
  return invalid_model("expected an integer, got " + v.dump());
}

float as_float(const json& v) {
  if (v.is_number()) return v.get<float>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "NaN") return std::numeric_limits<float>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<float>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<float>::infinity();
    try {
      return std::stof(s);
    } catch (...) {
    }
  }
  return 0.f;
}

std::string base64_decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
    const auto p = chars.find(c);
    if (p == std::string::npos) continue;
    val = (val << 6) + static_cast<int>(p);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

Expected<int64_t> dtype_code(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (!v.is_string()) return invalid_model("bad data type " + v.dump());
  static const std::map<std::string, int64_t> names = {
      {"DT_FLOAT", 1}, {"DT_DOUBLE", 2}, {"DT_INT32", 3}, {"DT_UINT8", 4}, {"DT_INT16", 5}, {"DT_INT8", 6},
      {"DT_STRING", 7}, {"DT_INT64", 9}, {"DT_BOOL", 10}, {"DT_BFLOAT16", 14}, {"DT_UINT16", 17},
      {"DT_HALF", 19}, {"DT_RESOURCE", 20}, {"DT_VARIANT", 21}, {"DT_UINT32", 22}, {"DT_UINT64", 23}};
  auto it = names.find(v.get<std::string>());
  if (it == names.end()) return not_implemented("data type " + v.get<std::string>() + " is not supported");
  return it->second;
}

Status shape_of(const json& s, std::vector<int64_t>* dims, bool* unknown_rank) {
  *unknown_rank = false;
  if (const json* u = field(s, "unknownRank", "unknown_rank"); u && u->is_boolean()) *unknown_rank = u->get<bool>();
  if (const json* d = field(s, "dim", "dim"); d && d->is_array()) {
    for (const auto& x : *d) {
      const json* sz = field(x, "size", "size");
      if (!sz) {
        dims->push_back(0);
        continue;
      }
      CONVFIX_ASSIGN_OR_RETURN(int64_t v, as_int(*sz));
      dims->push_back(v);
    }
  }
  return Status::OK();
}

// A tensor written inline (small constants without manifest entry).
Expected<Tensor> tensor_of(const json& t) {
  const json* dt = field(t, "dtype", "dtype");
  if (!dt) return invalid_model("tensor without dtype");
  CONVFIX_ASSIGN_OR_RETURN(int64_t code, dtype_code(*dt));
  CONVFIX_ASSIGN_OR_RETURN(DType d, tf::dtype_from_tf(code));
  std::vector<int64_t> dims;
  bool ur = false;
  if (const json* s = field(t, "tensorShape", "tensor_shape")) CONVFIX_RETURN_IF_ERROR(shape_of(*s, &dims, &ur));
  int64_t n = 1;
  for (int64_t x : dims) {
    if (x < 0) return invalid_model("tensor with unknown dimension");
    if (x && n > (int64_t{1} << 28) / x) return invalid_model("tensor too large");
    n *= x;
  }
  if (const json* c = field(t, "tensorContent", "tensor_content")) {
    const std::string b = base64_decode(c->get<std::string>());
    if (b.size() != static_cast<size_t>(n) * dtype_size(d)) return invalid_model("tensorContent size does not match shape");
    Tensor r = Tensor::uninitialized(d, dims);
    if (n) std::memcpy(r.raw(), b.data(), b.size());
    return r;
  }
  Tensor r(d, dims);
  const json* vals = nullptr;
  for (auto [c, s] : {std::pair{"floatVal", "float_val"}, {"intVal", "int_val"}, {"int64Val", "int64_val"},
                      {"boolVal", "bool_val"}, {"doubleVal", "double_val"}, {"halfVal", "half_val"},
                      {"stringVal", "string_val"}})
    if (!vals) vals = field(t, c, s);
  if (!vals || !vals->is_array() || vals->empty()) return r;
  const int64_t m = static_cast<int64_t>(vals->size());
  if (m > n) return invalid_model("tensor lists more values than its shape holds");
  for (int64_t i = 0; i < n; ++i) {
    const json& v = (*vals)[static_cast<size_t>(std::min(i, m - 1))];
    switch (d) {
      case DType::kF32: r.data<float>()[i] = as_float(v); break;
      case DType::kF64: r.data<double>()[i] = as_float(v); break;
      case DType::kBool: r.data<uint8_t>()[i] = v.is_boolean() ? v.get<bool>() : 0; break;
      case DType::kString: (*r.strings())[static_cast<size_t>(i)] = base64_decode(v.get<std::string>()); break;
      default: {
        CONVFIX_ASSIGN_OR_RETURN(int64_t x, as_int(v));
        switch (d) {
          case DType::kI32: r.data<int32_t>()[i] = static_cast<int32_t>(x); break;
          case DType::kI64: r.data<int64_t>()[i] = x; break;
          case DType::kI16: r.data<int16_t>()[i] = static_cast<int16_t>(x); break;
          case DType::kI8: r.data<int8_t>()[i] = static_cast<int8_t>(x); break;
          case DType::kU8: r.data<uint8_t>()[i] = static_cast<uint8_t>(x); break;
          case DType::kU16: case DType::kF16: case DType::kBF16: r.data<uint16_t>()[i] = static_cast<uint16_t>(x); break;
          default: break;
        }
      }
    }
  }
  return r;
}

Status attr_of(const std::string& key, const json& a, Attributes* out) {
  if (!a.is_object() || a.empty()) return Status::OK();
  if (const json* v = field(a, "s", "s")) (*out)[key] = Attribute::of_string(base64_decode(v->get<std::string>()));
  else if (const json* v = field(a, "i", "i")) {
    CONVFIX_ASSIGN_OR_RETURN(int64_t x, as_int(*v));
    (*out)[key] = Attribute::of_int(x);
  } else if (const json* v = field(a, "f", "f")) (*out)[key] = Attribute::of_float(as_float(*v));
  else if (const json* v = field(a, "b", "b")) (*out)[key] = Attribute::of_int(v->is_boolean() && v->get<bool>() ? 1 : 0);
  else if (const json* v = field(a, "type", "type")) {
    CONVFIX_ASSIGN_OR_RETURN(int64_t x, dtype_code(*v));
    (*out)[key] = Attribute::of_int(x);
  } else if (const json* v = field(a, "shape", "shape")) {
    std::vector<int64_t> d;
    bool ur = false;
    CONVFIX_RETURN_IF_ERROR(shape_of(*v, &d, &ur));
    (*out)[key] = Attribute::of_ints(d);
    if (ur) (*out)[key + "/unknown_rank"] = Attribute::of_int(1);
  } else if (const json* v = field(a, "tensor", "tensor")) {
    CONVFIX_ASSIGN_OR_RETURN(Tensor t, tensor_of(*v));
    (*out)[key] = Attribute::of_tensor(std::move(t));
  } else if (const json* v = field(a, "func", "func")) {
    const json* n = field(*v, "name", "name");
    (*out)[key] = Attribute::of_string(n && n->is_string() ? n->get<std::string>() : "");
  } else if (const json* v = field(a, "list", "list")) {
    if (const json* s = field(*v, "s", "s")) {
      std::vector<std::string> r;
      for (const auto& x : *s) r.push_back(base64_decode(x.get<std::string>()));
      (*out)[key] = Attribute::of_strings(r);
    } else if (const json* f = field(*v, "f", "f")) {
      std::vector<float> r;
      for (const auto& x : *f) r.push_back(as_float(x));
      (*out)[key] = Attribute::of_floats(r);
    } else {
      std::vector<int64_t> r;
      for (const char* k : {"i", "b", "type"}) {
        if (const json* l = field(*v, k, k)) {
          for (const auto& x : *l) {
            CONVFIX_ASSIGN_OR_RETURN(int64_t y, std::string(k) == "type" ? dtype_code(x) : as_int(x));
            r.push_back(y);
          }
        }
      }
      (*out)[key] = Attribute::of_ints(r);
    }
  }
  return Status::OK();
}

Expected<tf::NodeDef> node_of(const json& n) {
  tf::NodeDef d;
  if (!n.is_object()) return invalid_model("a node is not a JSON object");
  const json* name = field(n, "name", "name");
  const json* op = field(n, "op", "op");
  if (!name || !name->is_string() || !op || !op->is_string()) return invalid_model("a node lacks 'name' or 'op'");
  d.name = name->get<std::string>();
  d.op = op->get<std::string>();
  if (const json* in = field(n, "input", "input"); in && in->is_array())
    for (const auto& s : *in)
      if (s.is_string()) d.inputs.push_back(s.get<std::string>());
  if (const json* at = field(n, "attr", "attr"); at && at->is_object())
    for (const auto& [k, v] : at->items()) {
      auto st = attr_of(k, v, &d.attrs);
      if (!st.ok()) return st.with_context("node '" + d.name + "' (" + d.op + "): attribute '" + k + "'");
    }
  return d;
}

}  // namespace

namespace {
Expected<Graph> read_graph_model(const std::string& path);
}  // namespace

Expected<Graph> read_tfjs_graph_model(const std::string& model_json_path) {
  try {
    return read_graph_model(model_json_path);
  } catch (const std::exception& e) {
    return invalid_model(model_json_path + ": malformed graph-model JSON (" + e.what() + ")");
  }
}

namespace {
std::string str_or(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Expected<Graph> read_graph_model(const std::string& path) {
  CONVFIX_ASSIGN_OR_RETURN(std::string text, read_file(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return invalid_model(path + ": not a JSON object (truncated or corrupt)");
  const json* topo = field(j, "modelTopology", "modelTopology");
  if (!topo || !topo->is_object()) return invalid_model(path + ": no modelTopology");
  const json* nodes = field(*topo, "node", "node");
  if (!nodes || !nodes->is_array() || nodes->empty()) return invalid_model(path + ": modelTopology has no nodes");
  tf::GraphDef gd;
  for (const auto& n : *nodes) {
    auto d = node_of(n);
    if (!d.ok()) return d.status().with_context(path);
    gd.nodes.push_back(std::move(d).value());
  }
  if (const json* lib = field(*topo, "library", "library"); lib && lib->is_object()) {
    if (const json* fns = field(*lib, "function", "function"); fns && fns->is_array()) {
      for (const auto& f : *fns) {
        tf::FunctionDef fd;
        const json* sig = field(f, "signature", "signature");
        if (!sig) return invalid_model(path + ": a library function has no signature");
        fd.name = sig->value("name", "");
        if (const json* ia = field(*sig, "inputArg", "input_arg"))
          for (const auto& a : *ia) fd.input_args.push_back(a.value("name", ""));
        if (const json* oa = field(*sig, "outputArg", "output_arg"))
          for (const auto& a : *oa) fd.output_args.push_back(a.value("name", ""));
        if (const json* r = field(f, "ret", "ret"); r && r->is_object())
          for (const auto& [k, v] : r->items())
            if (v.is_string()) fd.ret[k] = v.get<std::string>();
        if (const json* nd = field(f, "nodeDef", "node_def"); nd && nd->is_array())
          for (const auto& n : *nd) {
            auto d = node_of(n);
            if (!d.ok()) return d.status().with_context(path + ": function '" + fd.name + "'");
            fd.nodes.push_back(std::move(d).value());
          }
        gd.functions[fd.name] = std::move(fd);
      }
    }
  }
  tf::LowerRequest req;
  req.format = "tfjs";
  req.path = path;
  // Weights: the manifest reader shared with the layers-model reader
  // (tfjs_format.h); float16-stored weights are widened to f32 here so the
  // lowered graph computes in f32 like the TF.js runtime.
  CONVFIX_ASSIGN_OR_RETURN(TfjsWeights w, read_tfjs_weights(path, j));
  for (auto& [name, t] : w.tensors) {
    if (t.dtype() == DType::kF16) {
      auto f = t.cast(DType::kF32);
      if (!f.ok()) return f.status().with_context(path + ": weight '" + name + "'");
      t = std::move(f).value();
    }
    req.weights[name] = std::move(t);
  }
  // Signature (converters >= 2.x) names inputs and outputs.
  if (const json* sig = field(j, "signature", "signature"); sig && sig->is_object()) {
    for (auto [key, list, aliases] : {std::tuple{"inputs", &req.inputs, &req.input_aliases},
                                      std::tuple{"outputs", &req.outputs, &req.output_aliases}}) {
      if (const json* m = field(*sig, key, key); m && m->is_object())
        for (const auto& [k, v] : m->items())
          if (v.is_object() && v.contains("name") && v["name"].is_string()) {
            list->push_back(v["name"].get<std::string>());
            aliases->push_back(k);
          }
    }
  }
  auto g = tf::lower_graph(gd, req);
  if (g.ok()) {
    g->info.producer_name = str_or(j, "convertedBy");
    g->info.producer_version = str_or(j, "generatedBy");
  }
  return g;
}
}  // namespace

}  // namespace convfix
