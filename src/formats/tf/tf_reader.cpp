// TensorFlow frozen GraphDef / SavedModel reader and the TensorBundle
// (variables.index + data shards) checkpoint reader. The protobuf messages
// come from tf_graph.proto (convfix's own declarations of TF's public field
// numbers); the LevelDB-format table of variables.index is read here.
#include <filesystem>
#include <fstream>

#include "convfix/fileio.h"
#include "convfix/tf_format.h"
#include "formats/tf/tf_internal.h"
#include "tf_graph.pb.h"

namespace convfix {

namespace fs = std::filesystem;
namespace tp = convfix::tfproto;

namespace tf {

Expected<Tensor> tensor_from_tf_proto(const tp::TensorProto& p) {
  CONVFIX_ASSIGN_OR_RETURN(DType dt, dtype_from_tf(p.dtype()));
  std::vector<int64_t> dims;
  int64_t n = 1;
  for (const auto& d : p.tensor_shape().dim()) {
    if (d.size() < 0) return invalid_model("constant with unknown dimension");
    dims.push_back(d.size());
    if (d.size() && n > (int64_t{1} << 34) / d.size()) return invalid_model("constant too large");
    n *= d.size();
  }
  if (dt == DType::kString) {
    Tensor t(dt, dims);
    if (t.strings()) {
      auto& s = *t.strings();
      const int64_t m = p.string_val_size();
      if (m > n) return invalid_model("string constant has more values than its shape");
      for (int64_t i = 0; i < n && m; ++i) s[static_cast<size_t>(i)] = p.string_val(static_cast<int>(std::min(i, m - 1)));
    }
    return t;
  }
  const size_t es = dtype_size(dt);
  if (!p.tensor_content().empty()) {
    if (p.tensor_content().size() != static_cast<size_t>(n) * es)
      return invalid_model("constant of shape " + dims_to_string(dims) + " (" + dtype_name(dt) + ") has " +
                           std::to_string(p.tensor_content().size()) + " bytes");
    Tensor t = Tensor::uninitialized(dt, dims);
    if (n) std::memcpy(t.raw(), p.tensor_content().data(), p.tensor_content().size());
    return t;
  }
  if (n > (int64_t{1} << 28)) return invalid_model("constant too large");
  Tensor t(dt, dims);
  auto fill = [&](auto get, int64_t m, auto store) -> Status {
    if (m > n) return invalid_model("constant of shape " + dims_to_string(dims) + " lists " + std::to_string(m) + " values");
    for (int64_t i = 0; i < n && m; ++i) store(i, get(std::min(i, m - 1)));
    return Status::OK();
  };
  switch (dt) {
    case DType::kF32: {
      auto s = fill([&](int64_t i) { return p.float_val(static_cast<int>(i)); }, p.float_val_size(),
                    [&](int64_t i, float v) { t.data<float>()[i] = v; });
      if (!s.ok()) return s;
      return t;
    }
    case DType::kF64: {
      auto s = fill([&](int64_t i) { return p.double_val(static_cast<int>(i)); }, p.double_val_size(),
                    [&](int64_t i, double v) { t.data<double>()[i] = v; });
      if (!s.ok()) return s;
      return t;
    }
    case DType::kI64: {
      auto s = fill([&](int64_t i) { return p.int64_val(static_cast<int>(i)); }, p.int64_val_size(),
                    [&](int64_t i, int64_t v) { t.data<int64_t>()[i] = v; });
      if (!s.ok()) return s;
      return t;
    }
    case DType::kBool: {
      auto s = fill([&](int64_t i) { return p.bool_val(static_cast<int>(i)); }, p.bool_val_size(),
                    [&](int64_t i, bool v) { t.data<uint8_t>()[i] = v ? 1 : 0; });
      if (!s.ok()) return s;
      return t;
    }
    case DType::kF16:
    case DType::kBF16: {
      auto s = fill([&](int64_t i) { return p.half_val(static_cast<int>(i)); }, p.half_val_size(),
                    [&](int64_t i, int32_t v) { t.data<uint16_t>()[i] = static_cast<uint16_t>(v); });
      if (!s.ok()) return s;
      return t;
    }
    case DType::kU32:
    case DType::kU64: {
      const bool u32 = dt == DType::kU32;
      auto s = fill([&](int64_t i) { return u32 ? uint64_t{p.uint32_val(static_cast<int>(i))} : p.uint64_val(static_cast<int>(i)); },
                    u32 ? p.uint32_val_size() : p.uint64_val_size(), [&](int64_t i, uint64_t v) {
                      if (u32) t.data<uint32_t>()[i] = static_cast<uint32_t>(v);
                      else t.data<uint64_t>()[i] = v;
                    });
      if (!s.ok()) return s;
      return t;
    }
    default: {  // i32, i16, i8, u8, u16: int_val
      auto s = fill([&](int64_t i) { return p.int_val(static_cast<int>(i)); }, p.int_val_size(), [&](int64_t i, int32_t v) {
        switch (dt) {
          case DType::kI32: t.data<int32_t>()[i] = v; break;
          case DType::kI16: t.data<int16_t>()[i] = static_cast<int16_t>(v); break;
          case DType::kI8: t.data<int8_t>()[i] = static_cast<int8_t>(v); break;
          case DType::kU8: t.data<uint8_t>()[i] = static_cast<uint8_t>(v); break;
          case DType::kU16: t.data<uint16_t>()[i] = static_cast<uint16_t>(v); break;
          default: break;
        }
      });
      if (!s.ok()) return s;
      return t;
    }
  }
}

namespace {

void shape_attr(const tp::TensorShapeProto& s, const std::string& key, Attributes* out) {
  std::vector<int64_t> d;
  for (const auto& x : s.dim()) d.push_back(x.size());
  (*out)[key] = Attribute::of_ints(d);
  if (s.unknown_rank()) (*out)[key + "/unknown_rank"] = Attribute::of_int(1);
}

Status convert_attr(const std::string& key, const tp::AttrValue& a, Attributes* out) {
  switch (a.value_case()) {
    case tp::AttrValue::kS: (*out)[key] = Attribute::of_string(a.s()); break;
    case tp::AttrValue::kI: (*out)[key] = Attribute::of_int(a.i()); break;
    case tp::AttrValue::kF: (*out)[key] = Attribute::of_float(a.f()); break;
    case tp::AttrValue::kB: (*out)[key] = Attribute::of_int(a.b() ? 1 : 0); break;
    case tp::AttrValue::kType: (*out)[key] = Attribute::of_int(a.type()); break;
    case tp::AttrValue::kShape: shape_attr(a.shape(), key, out); break;
    case tp::AttrValue::kTensor: {
      auto t = tensor_from_tf_proto(a.tensor());
      if (!t.ok()) return t.status().with_context("attribute '" + key + "'");
      (*out)[key] = Attribute::of_tensor(std::move(t).value());
      break;
    }
    case tp::AttrValue::kFunc: (*out)[key] = Attribute::of_string(a.func().name()); break;
    case tp::AttrValue::kPlaceholder: (*out)[key] = Attribute::of_string(a.placeholder()); break;
    case tp::AttrValue::kList: {
      const auto& l = a.list();
      if (l.s_size()) (*out)[key] = Attribute::of_strings({l.s().begin(), l.s().end()});
      else if (l.f_size()) (*out)[key] = Attribute::of_floats({l.f().begin(), l.f().end()});
      else if (l.i_size()) (*out)[key] = Attribute::of_ints({l.i().begin(), l.i().end()});
      else if (l.type_size()) (*out)[key] = Attribute::of_ints({l.type().begin(), l.type().end()});
      else if (l.b_size()) {
        std::vector<int64_t> v;
        for (bool b : l.b()) v.push_back(b ? 1 : 0);
        (*out)[key] = Attribute::of_ints(v);
      } else {
        (*out)[key] = Attribute::of_ints({});
      }
      break;
    }
    default: break;
  }
  return Status::OK();
}

Expected<NodeDef> convert_node(const tp::NodeDef& n) {
  NodeDef d;
  d.name = n.name();
  d.op = n.op();
  d.inputs.assign(n.input().begin(), n.input().end());
  for (const auto& [k, v] : n.attr()) {
    auto st = convert_attr(k, v, &d.attrs);
    if (!st.ok()) return st.with_context("node '" + n.name() + "' (" + n.op() + ")");
  }
  return d;
}

Expected<GraphDef> convert_graph(const tp::GraphDef& g) {
  GraphDef out;
  out.producer = g.versions().producer();
  for (const auto& n : g.node()) {
    CONVFIX_ASSIGN_OR_RETURN(NodeDef d, convert_node(n));
    out.nodes.push_back(std::move(d));
  }
  for (const auto& f : g.library().function()) {
    FunctionDef fd;
    fd.name = f.signature().name();
    for (const auto& a : f.signature().input_arg()) fd.input_args.push_back(a.name());
    for (const auto& a : f.signature().output_arg()) fd.output_args.push_back(a.name());
    for (const auto& [k, v] : f.ret()) fd.ret[k] = v;
    for (const auto& n : f.node_def()) {
      auto d = convert_node(n);
      if (!d.ok()) return d.status().with_context("function '" + fd.name + "'");
      fd.nodes.push_back(std::move(d).value());
    }
    out.functions[fd.name] = std::move(fd);
  }
  return out;
}

// ---- LevelDB-format table (variables.index) ----

bool get_varint(const std::string& b, size_t* pos, size_t end, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift <= 63 && *pos < end; shift += 7) {
    const uint8_t c = static_cast<uint8_t>(b[(*pos)++]);
    *v |= static_cast<uint64_t>(c & 0x7f) << shift;
    if (!(c & 0x80)) return true;
  }
  return false;
}

uint32_t get_u32(const std::string& b, size_t pos) {
  uint32_t v = 0;
  std::memcpy(&v, b.data() + pos, 4);
  return v;
}

uint32_t crc32c(const char* data, size_t n) {
  static uint32_t table[256];
  static bool init = false;
  if (!init) {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      table[i] = c;
    }
    init = true;
  }
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ static_cast<uint8_t>(data[i])) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}
uint32_t crc_mask(uint32_t c) { return ((c >> 15) | (c << 17)) + 0xa282ead8u; }

struct Handle {
  uint64_t offset = 0, size = 0;
};

Status read_handle(const std::string& b, size_t* pos, size_t end, Handle* h, const std::string& what) {
  if (!get_varint(b, pos, end, &h->offset) || !get_varint(b, pos, end, &h->size))
    return invalid_model(what + ": malformed block handle");
  return Status::OK();
}

// Entries of the block at h (checked against the file size and its trailer).
Status read_block(const std::string& file, const Handle& h, const std::string& what,
                  std::vector<std::pair<std::string, std::string>>* entries) {
  if (h.offset > file.size() || h.size > file.size() - h.offset || file.size() - h.offset - h.size < 5)
    return invalid_model(what + ": block at offset " + std::to_string(h.offset) + " size " + std::to_string(h.size) +
                         " lies outside the file");
  const uint8_t type = static_cast<uint8_t>(file[h.offset + h.size]);
  if (type != 0)
    return not_implemented(what + ": block compression " + std::to_string(type) +
                           (type == 1 ? " (snappy)" : "") + " is not supported");
  const uint32_t stored = get_u32(file, h.offset + h.size + 1);
  const uint32_t actual = crc32c(file.data() + h.offset, h.size + 1);
  if (stored != crc_mask(actual)) return invalid_model(what + ": block checksum mismatch");
  const std::string b = file.substr(h.offset, h.size);
  if (b.size() < 4) return invalid_model(what + ": block too short");
  const uint32_t nrest = get_u32(b, b.size() - 4);
  if (static_cast<uint64_t>(nrest) * 4 + 4 > b.size()) return invalid_model(what + ": bad restart count");
  const size_t end = b.size() - 4 - static_cast<size_t>(nrest) * 4;
  size_t pos = 0;
  std::string key;
  while (pos < end) {
    uint64_t shared = 0, unshared = 0, vlen = 0;
    if (!get_varint(b, &pos, end, &shared) || !get_varint(b, &pos, end, &unshared) || !get_varint(b, &pos, end, &vlen))
      return invalid_model(what + ": malformed entry");
    if (shared > key.size() || unshared > end - pos || vlen > end - pos - unshared)
      return invalid_model(what + ": entry runs past its block");
    key = key.substr(0, shared) + b.substr(pos, unshared);
    pos += unshared;
    entries->push_back({key, b.substr(pos, vlen)});
    pos += vlen;
  }
  return Status::OK();
}

}  // namespace
}  // namespace tf

Expected<std::map<std::string, Tensor>> read_tf_checkpoint(const std::string& prefix) {
  const std::string index_path = prefix + ".index";
  CONVFIX_ASSIGN_OR_RETURN(std::string file, read_file(index_path));
  const std::string& what = index_path;
  if (file.size() < 48) return invalid_model(what + ": too short for a table (no footer)");
  const size_t f = file.size() - 48;
  uint64_t magic = 0;
  std::memcpy(&magic, file.data() + f + 40, 8);
  if (magic != 0xdb4775248b80fb57ull) return invalid_model(what + ": not a TensorBundle index (bad table magic)");
  size_t pos = f;
  tf::Handle meta, index;
  CONVFIX_RETURN_IF_ERROR(tf::read_handle(file, &pos, f + 40, &meta, what));
  CONVFIX_RETURN_IF_ERROR(tf::read_handle(file, &pos, f + 40, &index, what));
  std::vector<std::pair<std::string, std::string>> idx;
  CONVFIX_RETURN_IF_ERROR(tf::read_block(file, index, what, &idx));
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& [k, v] : idx) {
    size_t p = 0;
    tf::Handle h;
    CONVFIX_RETURN_IF_ERROR(tf::read_handle(v, &p, v.size(), &h, what));
    CONVFIX_RETURN_IF_ERROR(tf::read_block(file, h, what, &entries));
  }
  int num_shards = 1;
  std::map<std::string, Tensor> out;
  std::map<int, std::string> shards;
  for (const auto& [k, v] : entries) {
    if (k.empty()) {
      tp::BundleHeaderProto h;
      if (!h.ParseFromString(v)) return invalid_model(what + ": malformed bundle header");
      num_shards = h.num_shards();
      if (h.endianness() != 0) return not_implemented(what + ": big-endian bundles are not supported");
      continue;
    }
    tp::BundleEntryProto e;
    if (!e.ParseFromString(v)) return invalid_model(what + ": malformed entry for '" + k + "'");
    if (e.slices_size()) return not_implemented(what + ": '" + k + "' is stored in slices, which is not supported");
    auto dt = tf::dtype_from_tf(e.dtype());
    if (!dt.ok()) continue;  // e.g. variant / resource entries
    if (dt.value() == DType::kString) continue;
    if (e.shard_id() < 0 || e.shard_id() >= num_shards)
      return invalid_model(what + ": '" + k + "' is in shard " + std::to_string(e.shard_id()) + " of " +
                           std::to_string(num_shards));
    std::vector<int64_t> dims;
    int64_t n = 1;
    for (const auto& d : e.shape().dim()) {
      if (d.size() < 0) return invalid_model(what + ": '" + k + "' has a negative dimension");
      if (d.size() && n > (int64_t{1} << 40) / d.size()) return invalid_model(what + ": '" + k + "' is too large");
      n *= d.size();
      dims.push_back(d.size());
    }
    if (n < 0 || static_cast<uint64_t>(n) * dtype_size(dt.value()) != static_cast<uint64_t>(e.size()))
      return invalid_model(what + ": '" + k + "' of shape " + dims_to_string(dims) + " claims " +
                           std::to_string(e.size()) + " bytes");
    auto& shard = shards[e.shard_id()];
    if (shard.empty()) {
      char name[64];
      std::snprintf(name, sizeof name, ".data-%05d-of-%05d", e.shard_id(), num_shards);
      auto s = read_file(prefix + name);
      if (!s.ok()) return s.status();
      shard = std::move(s).value();
      if (shard.empty()) shard.push_back('\0');  // mark as loaded (an empty shard holds no bytes anyway)
    }
    if (e.offset() < 0 || static_cast<uint64_t>(e.offset()) + static_cast<uint64_t>(e.size()) > shard.size())
      return invalid_model(what + ": '" + k + "' lies at bytes " + std::to_string(e.offset()) + "+" +
                           std::to_string(e.size()) + ", past the end of data shard " + std::to_string(e.shard_id()));
    const char* data = shard.data() + e.offset();
    const uint32_t c = tf::crc32c(data, static_cast<size_t>(e.size()));
    if (e.crc32c() != c && e.crc32c() != tf::crc_mask(c))
      return invalid_model(what + ": checksum mismatch for '" + k + "'");
    Tensor t = Tensor::uninitialized(dt.value(), dims);
    if (e.size()) std::memcpy(t.raw(), data, static_cast<size_t>(e.size()));
    out[k] = std::move(t);
  }
  return out;
}

Expected<Graph> read_tf_frozen(const std::string& path) {
  CONVFIX_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  tp::GraphDef g;
  if (!g.ParseFromString(bytes)) return invalid_model(path + ": not a TensorFlow GraphDef (truncated or corrupt protobuf)");
  if (g.node_size() == 0) return invalid_model(path + ": the GraphDef has no nodes");
  auto gd = tf::convert_graph(g);
  if (!gd.ok()) return gd.status().with_context(path);
  tf::LowerRequest req;
  req.format = "tf";
  req.path = path;
  auto r = tf::lower_graph(gd.value(), req);
  if (r.ok()) {
    r->info.producer_name = "tensorflow";
    r->info.producer_version = "GraphDef producer " + std::to_string(gd->producer);
  }
  return r;
}

Expected<Graph> read_tf_savedmodel(const std::string& dir) {
  const std::string pb = (fs::path(dir) / "saved_model.pb").string();
  CONVFIX_ASSIGN_OR_RETURN(std::string bytes, read_file(pb));
  tp::SavedModel sm;
  if (!sm.ParseFromString(bytes)) return invalid_model(pb + ": not a SavedModel (truncated or corrupt protobuf)");
  const tp::MetaGraphDef* mg = nullptr;
  for (const auto& m : sm.meta_graphs())
    for (const auto& t : m.meta_info_def().tags())
      if (!mg && t == "serve") mg = &m;
  if (!mg && sm.meta_graphs_size()) mg = &sm.meta_graphs(0);
  if (!mg) return invalid_model(pb + ": the SavedModel has no MetaGraphDef");
  const tp::SignatureDef* sig = nullptr;
  auto it = mg->signature_def().find("serving_default");
  if (it != mg->signature_def().end()) sig = &it->second;
  else
    for (const auto& [k, s] : mg->signature_def())
      if (!sig && k.rfind("__", 0) != 0 && s.outputs_size()) sig = &s;
  if (!sig) return invalid_model(pb + ": no signature 'serving_default' (nor any other with outputs)");
  tf::LowerRequest req;
  req.format = "tf";
  req.path = dir;
  for (const auto& [k, v] : std::map<std::string, tp::TensorInfo>(sig->inputs().begin(), sig->inputs().end())) {
    req.inputs.push_back(v.name());
    req.input_aliases.push_back(k);
  }
  for (const auto& [k, v] : std::map<std::string, tp::TensorInfo>(sig->outputs().begin(), sig->outputs().end())) {
    req.outputs.push_back(v.name());
    req.output_aliases.push_back(k);
  }
  auto gd = tf::convert_graph(mg->graph_def());
  if (!gd.ok()) return gd.status().with_context(pb);
  const fs::path prefix = fs::path(dir) / "variables" / "variables";
  std::error_code ec;
  if (fs::exists(prefix.string() + ".index", ec)) {
    CONVFIX_ASSIGN_OR_RETURN(req.checkpoint, read_tf_checkpoint(prefix.string()));
  }
  auto r = tf::lower_graph(gd.value(), req);
  if (r.ok()) {
    r->info.producer_name = "tensorflow";
    r->info.producer_version = mg->meta_info_def().tensorflow_version();
  }
  return r;
}

}  // namespace convfix
