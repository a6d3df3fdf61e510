// TFLite writer: Graph (from a .tflite file, possibly edited) -> .tflite.
// See convfix/tflite_format.h for the contract and docs/FORMATS.md.
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "convfix/fileio.h"
#include "convfix/tflite_format.h"
#include "tflite_schema_util.h"

namespace convfix {

namespace {

using namespace tflitefmt;
namespace fb = flatbuffers;

constexpr uint64_t kFlatBufferLimit = (uint64_t{1} << 31) - (uint64_t{64} << 20);  // 2 GB less headroom

struct BufferData {
  std::string owned;           // bytes we produced (packed INT4, strings, sparse values)
  const void* ptr = nullptr;   // or a view of a Tensor's storage
  size_t size = 0;
  bool external_ok = true;     // metadata stays inside the FlatBuffer
  const char* data() const { return ptr ? static_cast<const char*>(ptr) : owned.data(); }
};

struct TensorSpec {
  std::string name;
  tflite::TensorType type = tflite::TensorType::FLOAT32;
  std::vector<int32_t> shape, signature;
  bool has_rank = true;
  std::optional<QuantParams> quant;
  uint32_t buffer = 0;
  bool variable = false;
  bool sparse = false;              // re-encode as CSR (the constant feeds a DENSIFY op)
  const Tensor* sparse_value = nullptr;
};

std::string bytes_of_strings(const Tensor& t) {
  const auto& s = *t.strings();
  std::string out;
  const int64_t n = static_cast<int64_t>(s.size());
  auto put = [&out](int64_t v) {
    const int32_t x = static_cast<int32_t>(v);
    out.append(reinterpret_cast<const char*>(&x), 4);
  };
  put(n);
  int64_t off = (n + 2) * 4;
  for (const auto& e : s) {
    put(off);
    off += static_cast<int64_t>(e.size());
  }
  put(off);
  for (const auto& e : s) out += e;
  return out;
}

// "[2, 3, 4]" -> {2, 3, 4}; nullopt when malformed.
std::optional<std::vector<int32_t>> parse_dims(const std::string& s) {
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') return std::nullopt;
  std::vector<int32_t> out;
  std::stringstream ss(s.substr(1, s.size() - 2));
  for (std::string item; std::getline(ss, item, ',');) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    while (end && *end == ' ') ++end;
    if (!end || end == item.c_str() || *end != '\0' || v < -1 || v > INT32_MAX) return std::nullopt;
    out.push_back(static_cast<int32_t>(v));
  }
  return out;
}

class Writer {
 public:
  explicit Writer(const TfliteWriteOptions& o) : opt_(o) {}
  Expected<std::string> run(const Graph& g);

 private:
  struct SubgraphOut {
    fb::Offset<tflite::SubGraph> off;
    std::unordered_map<std::string, int32_t> index;
  };
  Expected<SubgraphOut> subgraph(const Graph& g, size_t k);
  Expected<uint32_t> opcode(const Node& n, const std::string& where);
  uint32_t add_buffer(BufferData d) {
    buffers_.push_back(std::move(d));
    return static_cast<uint32_t>(buffers_.size() - 1);
  }
  fb::Offset<tflite::SparsityParameters> sparsity(const Tensor& t, std::string& values);

  TfliteWriteOptions opt_;
  fb::FlatBufferBuilder b_{1 << 20};
  std::vector<BufferData> buffers_{BufferData{}};  // buffer 0: the empty sentinel
  std::map<std::tuple<int32_t, std::string, int32_t>, uint32_t> opcode_index_;
  std::vector<std::tuple<int32_t, std::string, int32_t>> opcodes_;
  size_t nsubgraphs_ = 1;
};

Expected<uint32_t> Writer::opcode(const Node& n, const std::string& where) {
  int32_t code;
  std::string custom;
  if (n.domain == "tflite.custom") {
    code = kCustomCode;
    custom = n.op_type;
  } else if (n.domain == "tflite") {
    auto c = builtin_op_code(n.op_type);
    if (!c) return invalid_argument(where + ": '" + n.op_type + "' is not a TFLite builtin operator");
    if (*c == kCustomCode) return invalid_argument(where + ": CUSTOM ops belong to domain 'tflite.custom' with the custom code as op type");
    code = *c;
  } else {
    return not_implemented(where + ": only ops of domain 'tflite' and 'tflite.custom' can be written to .tflite (this one is in domain '" +
                           (n.domain.empty() ? std::string("ai.onnx") : n.domain) + "')");
  }
  const int64_t v = n.attr_int("version", 1);
  if (v < 1 || v > INT32_MAX) return invalid_argument(where + ": attribute version = " + std::to_string(v) + " out of range");
  auto key = std::make_tuple(code, custom, static_cast<int32_t>(v));
  auto it = opcode_index_.find(key);
  if (it != opcode_index_.end()) return it->second;
  const uint32_t idx = static_cast<uint32_t>(opcodes_.size());
  opcodes_.push_back(key);
  opcode_index_[key] = idx;
  return idx;
}

// Canonical CSR encoding: every dimension dense except the last one.
fb::Offset<tflite::SparsityParameters> Writer::sparsity(const Tensor& t, std::string& values) {
  const int64_t n = t.rank();
  const size_t es = dtype_size(t.dtype());
  const int64_t last = n ? t.dim(n - 1) : 1;
  const int64_t rows = last ? t.numel() / last : 0;
  const auto* p = static_cast<const char*>(t.raw());
  static const char kZero[16] = {};
  std::vector<int32_t> seg{0}, idx;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < last; ++c) {
      const char* e = p + (r * last + c) * static_cast<int64_t>(es);
      if (std::memcmp(e, kZero, es) != 0) {
        idx.push_back(static_cast<int32_t>(c));
        values.append(e, es);
      }
    }
    seg.push_back(static_cast<int32_t>(idx.size()));
  }
  std::vector<fb::Offset<tflite::DimensionMetadata>> dm;
  for (int64_t d = 0; d + 1 < n; ++d)
    dm.push_back(tflite::CreateDimensionMetadata(b_, tflite::DimensionType::DENSE, static_cast<int32_t>(t.dim(d))));
  auto segv = tflite::CreateInt32Vector(b_, b_.CreateVector(seg));
  auto idxv = tflite::CreateInt32Vector(b_, b_.CreateVector(idx));
  dm.push_back(tflite::CreateDimensionMetadata(b_, tflite::DimensionType::SPARSE_CSR, 0, tflite::SparseIndexVector::Int32Vector,
                                               segv.Union(), tflite::SparseIndexVector::Int32Vector, idxv.Union()));
  std::vector<int32_t> order;
  for (int64_t d = 0; d < n; ++d) order.push_back(static_cast<int32_t>(d));
  return tflite::CreateSparsityParameters(b_, b_.CreateVector(order), 0, b_.CreateVector(dm));
}

Expected<Writer::SubgraphOut> Writer::subgraph(const Graph& g, size_t k) {
  const std::string where = "subgraph " + std::to_string(k);
  Status vs = g.verify();
  if (!vs.ok()) return vs.with_context(where);
  SubgraphOut out;
  std::vector<std::string> order;
  auto add = [&](const std::string& name) {
    if (name.empty() || out.index.count(name)) return;
    out.index[name] = static_cast<int32_t>(order.size());
    order.push_back(name);
  };
  for (const auto& v : g.inputs) add(v.name);
  std::set<std::string> densify_inputs;
  for (const auto& n : g.nodes) {
    for (const auto& i : n.inputs) add(i);
    for (const auto& o : n.outputs) add(o);
    if (const Attribute* a = n.attr("intermediates"))
      for (const auto& s : a->strings) add(s);
    if (n.domain == "tflite" && n.op_type == "DENSIFY" && !n.inputs.empty()) densify_inputs.insert(n.inputs[0]);
  }
  for (const auto& v : g.outputs) add(v.name);

  std::unordered_map<std::string, const ValueInfo*> infos;
  for (const auto& [name, vi] : g.value_info) infos[name] = &vi;
  for (const auto& v : g.outputs) infos[v.name] = &v;
  for (const auto& v : g.inputs) infos[v.name] = &v;

  std::vector<fb::Offset<tflite::Tensor>> tensors;
  std::map<std::pair<const void*, size_t>, uint32_t> shared;  // constants sharing storage share a buffer
  for (const auto& name : order) {
    const std::string tw = where + ": value '" + name + "'";
    TensorSpec s;
    s.name = name;
    auto vit = infos.find(name);
    const ValueInfo* vi = vit == infos.end() ? nullptr : vit->second;
    const std::string doc = vi ? vi->doc : "";
    auto type_of = [&](DType d) -> Expected<tflite::TensorType> {
      const std::string noted = note_value(doc, kNoteTypePrefix);
      if (!noted.empty()) {
        if (auto t = tensor_type_from_name(noted)) return *t;
        return invalid_argument(tw + ": unknown TFLite type '" + noted + "' in its notes");
      }
      if (has_note(doc, kNoteInt4)) return tflite::TensorType::INT4;
      auto t = dtype_to_tflite(d);
      if (!t) return not_implemented(tw + ": dtype " + std::string(dtype_name(d)) + " has no TFLite type");
      return *t;
    };
    auto it = g.initializers.find(name);
    if (it != g.initializers.end()) {
      const Tensor& t = it->second;
      CONVFIX_ASSIGN_OR_RETURN(s.type, type_of(t.dtype()));
      for (int64_t d : t.dims()) {
        if (d > INT32_MAX) return invalid_argument(tw + ": dimension " + std::to_string(d) + " too large for TFLite");
        s.shape.push_back(static_cast<int32_t>(d));
      }
      s.quant = t.quant();
      s.variable = has_note(doc, kNoteVariable);
      BufferData bd;
      if (s.variable && has_note(doc, kNoteVariableNoData)) {
        s.buffer = 0;
      } else if (t.dtype() == DType::kString) {
        bd.owned = bytes_of_strings(t);
        bd.size = bd.owned.size();
        s.buffer = add_buffer(std::move(bd));
      } else if (s.type == tflite::TensorType::INT4) {
        if (t.dtype() != DType::kI8) return invalid_argument(tw + ": INT4 constants must be held as i8");
        const int64_t ne = t.numel();
        bd.owned.assign(static_cast<size_t>((ne + 1) / 2), '\0');
        const int8_t* p = t.data<int8_t>();
        for (int64_t e = 0; e < ne; ++e) {
          if (p[e] < -8 || p[e] > 7) return invalid_argument(tw + ": value " + std::to_string(p[e]) + " does not fit INT4");
          const uint8_t nib = static_cast<uint8_t>(p[e]) & 0xF;
          bd.owned[static_cast<size_t>(e / 2)] = static_cast<char>(static_cast<uint8_t>(bd.owned[static_cast<size_t>(e / 2)]) | (e % 2 ? nib << 4 : nib));
        }
        bd.size = bd.owned.size();
        s.buffer = add_buffer(std::move(bd));
      } else if (has_note(doc, kNoteSparse) && densify_inputs.count(name) && t.rank() > 0) {
        s.sparse = true;
        s.sparse_value = &t;
      } else if (t.nbytes() > 0) {
        auto key = std::make_pair(t.raw(), t.nbytes());
        auto sh = shared.find(key);
        if (sh != shared.end()) {
          s.buffer = sh->second;
        } else {
          bd.ptr = t.raw();
          bd.size = t.nbytes();
          s.buffer = add_buffer(std::move(bd));
          shared[key] = s.buffer;
        }
      }
    } else {
      if (!vi) return invalid_argument(tw + ": no dtype or shape known (add a value_info entry for it)");
      if (vi->dtype == DType::kUndefined && note_value(doc, kNoteTypePrefix).empty())
        return invalid_argument(tw + ": dtype is undefined");
      CONVFIX_ASSIGN_OR_RETURN(s.type, type_of(vi->dtype));
      s.has_rank = vi->has_shape;
      bool dynamic = false;
      for (const Dim& d : vi->shape) {
        if (d.known() && d.value > INT32_MAX) return invalid_argument(tw + ": dimension " + std::to_string(d.value) + " too large for TFLite");
        s.shape.push_back(d.known() ? static_cast<int32_t>(d.value) : 1);
        s.signature.push_back(d.known() ? static_cast<int32_t>(d.value) : -1);
        dynamic = dynamic || !d.known();
      }
      if (!dynamic) s.signature.clear();
      // The file's current sizes of unknown dims, when they were not 1.
      if (auto noted = parse_dims(note_value(doc, kNoteShapePrefix)); noted && noted->size() == s.shape.size())
        for (size_t d = 0; d < s.shape.size(); ++d)
          if (s.signature.size() == s.shape.size() && s.signature[d] < 0) s.shape[d] = (*noted)[d];
      s.quant = vi->quant;
    }
    fb::Offset<tflite::SparsityParameters> sp = 0;
    if (s.sparse) {
      BufferData bd;
      sp = sparsity(*s.sparse_value, bd.owned);
      bd.size = bd.owned.size();
      s.buffer = bd.size ? add_buffer(std::move(bd)) : 0;
    }
    fb::Offset<tflite::QuantizationParameters> q = 0;
    if (s.quant && !s.quant->scale.empty()) {
      if (s.quant->zero_point.size() != s.quant->scale.size())
        return invalid_argument(tw + ": quantization has " + std::to_string(s.quant->scale.size()) + " scales but " +
                                std::to_string(s.quant->zero_point.size()) + " zero points");
      q = tflite::CreateQuantizationParameters(b_, 0, 0, b_.CreateVector(s.quant->scale), b_.CreateVector(s.quant->zero_point),
                                               tflite::QuantizationDetails::NONE, 0, static_cast<int32_t>(s.quant->axis));
    }
    auto shape = b_.CreateVector(s.shape);
    auto sig = s.signature.empty() ? fb::Offset<fb::Vector<int32_t>>(0) : b_.CreateVector(s.signature);
    auto nm = b_.CreateString(s.name);
    tensors.push_back(tflite::CreateTensor(b_, shape, s.type, s.buffer, nm, q, s.variable, sp, sig, s.has_rank));
  }

  std::vector<fb::Offset<tflite::Operator>> ops;
  for (size_t j = 0; j < g.nodes.size(); ++j) {
    const Node& n = g.nodes[j];
    const std::string nw = where + ": node '" + n.name + "' (" + n.op_type + ")";
    CONVFIX_ASSIGN_OR_RETURN(uint32_t oc, opcode(n, nw));
    std::vector<int32_t> ins, outs;
    for (const auto& i : n.inputs) ins.push_back(i.empty() ? -1 : out.index.at(i));
    for (const auto& o : n.outputs) {
      if (o.empty()) return invalid_argument(nw + ": empty output name");
      outs.push_back(out.index.at(o));
    }
    std::set<std::string> used;
    tflite::BuiltinOptions t1 = tflite::BuiltinOptions::NONE;
    tflite::BuiltinOptions2 t2 = tflite::BuiltinOptions2::NONE;
    fb::Offset<void> opts1 = 0, opts2 = 0;
    fb::Offset<fb::Vector<uint8_t>> custom = 0;
    tflite::CustomOptionsFormat cformat = tflite::CustomOptionsFormat::FLEXBUFFERS;
    if (n.domain == "tflite") {
      OptionsKind kind = standard_options_for_op(n.op_type);
      if (const Attribute* a = n.attr("builtin_options_type")) {
        auto k = options_kind_by_name(a->s);
        if (a->kind != Attribute::Kind::kString || !k) return invalid_argument(nw + ": builtin_options_type '" + a->s + "' is not an options table");
        kind = *k;
      }
      for (const auto& [key, a] : n.attrs)
        if (is_subgraph_field(key)) {
          const std::vector<int64_t> idx = a.kind == Attribute::Kind::kInts ? a.ints : std::vector<int64_t>{a.i};
          for (int64_t s : idx)
            if (s < 0 || s >= static_cast<int64_t>(nsubgraphs_))
              return invalid_argument(nw + ": " + key + " = " + std::to_string(s) + " is not a subgraph index (the model has " + std::to_string(nsubgraphs_) + ")");
        }
      if (kind.which != 0) {
        auto o = write_options(b_, kind, n.attrs, used);
        if (!o.ok()) return o.status().with_context(nw);
        if (kind.which == 1) { t1 = static_cast<tflite::BuiltinOptions>(kind.type); opts1 = fb::Offset<void>(o.value()); }
        else { t2 = static_cast<tflite::BuiltinOptions2>(kind.type); opts2 = fb::Offset<void>(o.value()); }
      }
    } else {
      if (const Attribute* a = n.attr("custom_options")) {
        if (a->kind != Attribute::Kind::kOpaque && a->kind != Attribute::Kind::kString)
          return invalid_argument(nw + ": custom_options must hold raw bytes");
        custom = b_.CreateVector(reinterpret_cast<const uint8_t*>(a->s.data()), a->s.size());
      }
      const int64_t f = n.attr_int("custom_options_format", 0);
      if (f < -128 || f > 127) return invalid_argument(nw + ": custom_options_format out of range");
      cformat = static_cast<tflite::CustomOptionsFormat>(f);
    }
    for (const auto& [key, a] : n.attrs)
      if (!used.count(key) && !meta_attributes().count(key))
        return invalid_argument(nw + ": attribute '" + key + "' is not a field of its options" +
                                (n.domain == "tflite" ? " (" + standard_options_for_op(n.op_type).name + ")" : std::string()));
    fb::Offset<fb::Vector<uint8_t>> mut = 0;
    if (const Attribute* a = n.attr("mutating_variable_inputs")) {
      std::vector<uint8_t> v;
      for (int64_t x : a->ints) v.push_back(x ? 1 : 0);
      mut = b_.CreateVector(v);
    }
    fb::Offset<fb::Vector<int32_t>> inter = 0;
    if (const Attribute* a = n.attr("intermediates")) {
      std::vector<int32_t> v;
      for (const auto& s : a->strings) v.push_back(out.index.at(s));
      inter = b_.CreateVector(v);
    }
    auto insv = b_.CreateVector(ins);
    auto outsv = b_.CreateVector(outs);
    ops.push_back(tflite::CreateOperator(b_, oc, insv, outsv, t1, opts1, custom, cformat, mut, inter, 0, 0, t2, opts2));
  }
  std::vector<int32_t> gin, gout;
  for (const auto& v : g.inputs) gin.push_back(out.index.at(v.name));
  for (const auto& v : g.outputs) gout.push_back(out.index.at(v.name));
  auto tv = b_.CreateVector(tensors);
  auto iv = b_.CreateVector(gin);
  auto ov = b_.CreateVector(gout);
  auto opv = b_.CreateVector(ops);
  auto nm = g.name.empty() ? fb::Offset<fb::String>(0) : b_.CreateString(g.name);
  out.off = tflite::CreateSubGraph(b_, tv, iv, ov, opv, nm);
  return out;
}

Expected<std::string> Writer::run(const Graph& g) {
  std::vector<const Graph*> graphs{&g};
  for (const auto& s : g.info.subgraphs) {
    if (!s) return invalid_argument("subgraph " + std::to_string(graphs.size()) + " is missing");
    graphs.push_back(s.get());
  }
  nsubgraphs_ = graphs.size();
  std::vector<SubgraphOut> subs;
  for (size_t k = 0; k < graphs.size(); ++k) {
    CONVFIX_ASSIGN_OR_RETURN(SubgraphOut s, subgraph(*graphs[k], k));
    subs.push_back(std::move(s));
  }

  std::vector<fb::Offset<tflite::SignatureDef>> sigs;
  for (size_t i = 0; i < g.info.signatures.size(); ++i) {
    const auto& s = g.info.signatures[i];
    const std::string sw = "signature " + std::to_string(i) + " '" + s.key + "'";
    if (s.graph < 0 || s.graph >= static_cast<int64_t>(subs.size())) return invalid_argument(sw + ": graph index " + std::to_string(s.graph) + " out of range");
    const auto& index = subs[static_cast<size_t>(s.graph)].index;
    auto maps = [&](const std::vector<std::pair<std::string, std::string>>& v, const char* what)
        -> Expected<fb::Offset<fb::Vector<fb::Offset<tflite::TensorMap>>>> {
      std::vector<fb::Offset<tflite::TensorMap>> r;
      for (const auto& [alias, value] : v) {
        auto it = index.find(value);
        if (it == index.end()) return invalid_argument(sw + ": " + what + " '" + alias + "' names value '" + value + "', which the graph does not use");
        r.push_back(tflite::CreateTensorMap(b_, b_.CreateString(alias), static_cast<uint32_t>(it->second)));
      }
      return b_.CreateVector(r);
    };
    CONVFIX_ASSIGN_OR_RETURN(auto in, maps(s.inputs, "input"));
    CONVFIX_ASSIGN_OR_RETURN(auto outv, maps(s.outputs, "output"));
    auto key = b_.CreateString(s.key);
    tflite::SignatureDefBuilder sb(b_);
    sb.add_inputs(in);
    sb.add_outputs(outv);
    sb.add_signature_key(key);
    sb.add_subgraph_index(static_cast<uint32_t>(s.graph));
    sigs.push_back(sb.Finish());
  }

  std::vector<fb::Offset<tflite::Metadata>> meta;
  for (const auto& [name, bytes] : g.info.metadata) {
    BufferData bd;
    bd.ptr = bytes.data();
    bd.size = bytes.size();
    bd.external_ok = false;
    const uint32_t idx = add_buffer(std::move(bd));
    meta.push_back(tflite::CreateMetadata(b_, b_.CreateString(name), idx));
  }

  uint64_t total = 0;
  for (const auto& bd : buffers_) total += bd.size;
  bool external = opt_.buffers == TfliteWriteOptions::BufferPlacement::kExternal ||
                  (opt_.buffers == TfliteWriteOptions::BufferPlacement::kAuto && total > kFlatBufferLimit);
  std::vector<fb::Offset<tflite::Buffer>> bufs;
  std::vector<size_t> external_buffers;
  for (size_t i = 0; i < buffers_.size(); ++i) {
    const BufferData& bd = buffers_[i];
    if (bd.size == 0) {
      bufs.push_back(tflite::CreateBuffer(b_));
    } else if (external && bd.external_ok) {
      // Offset 1 is a placeholder (stored, as it is not the default), patched below.
      bufs.push_back(tflite::CreateBuffer(b_, 0, 1, bd.size));
      external_buffers.push_back(i);
    } else {
      b_.ForceVectorAlignment(bd.size, sizeof(uint8_t), 16);
      auto data = b_.CreateVector(reinterpret_cast<const uint8_t*>(bd.data()), bd.size);
      bufs.push_back(tflite::CreateBuffer(b_, data));
    }
  }
  std::vector<fb::Offset<tflite::OperatorCode>> codes;
  for (const auto& [code, custom, version] : opcodes_) {
    auto cc = custom.empty() ? fb::Offset<fb::String>(0) : b_.CreateString(custom);
    const int8_t dep = static_cast<int8_t>(code < kPlaceholderForGreaterCodes ? code : kPlaceholderForGreaterCodes);
    codes.push_back(tflite::CreateOperatorCode(b_, dep, cc, version, static_cast<tflite::BuiltinOperator>(code)));
  }
  std::vector<fb::Offset<tflite::SubGraph>> sgs;
  for (const auto& s : subs) sgs.push_back(s.off);
  auto codesv = b_.CreateVector(codes);
  auto sgv = b_.CreateVector(sgs);
  auto desc = g.info.doc.empty() ? fb::Offset<fb::String>(0) : b_.CreateString(g.info.doc);
  auto bufv = b_.CreateVector(bufs);
  auto metav = meta.empty() ? fb::Offset<fb::Vector<fb::Offset<tflite::Metadata>>>(0) : b_.CreateVector(meta);
  auto sigv = sigs.empty() ? fb::Offset<fb::Vector<fb::Offset<tflite::SignatureDef>>>(0) : b_.CreateVector(sigs);
  auto model = tflite::CreateModel(b_, 3, codesv, sgv, desc, bufv, 0, metav, sigv);
  tflite::FinishModelBuffer(b_, model);
  if (b_.GetSize() >= FLATBUFFERS_MAX_BUFFER_SIZE) return invalid_argument("model too large for a FlatBuffer");

  std::string bytes(reinterpret_cast<const char*>(b_.GetBufferPointer()), b_.GetSize());
  if (!external_buffers.empty()) {
    std::vector<uint64_t> offsets;
    for (size_t i : external_buffers) {
      bytes.resize((bytes.size() + 15) / 16 * 16, '\0');
      offsets.push_back(bytes.size());
      bytes.append(buffers_[i].data(), buffers_[i].size);
    }
    // `bytes` may have moved while growing: patch through a fresh pointer.
    tflite::Model* mm = tflite::GetMutableModel(bytes.data());
    for (size_t e = 0; e < external_buffers.size(); ++e) {
      auto* buf = mm->mutable_buffers()->GetMutableObject(static_cast<fb::uoffset_t>(external_buffers[e]));
      if (!buf->mutate_offset(offsets[e])) return internal_error("could not place buffer " + std::to_string(external_buffers[e]));
    }
  }
  return bytes;
}

}  // namespace

Expected<std::string> tflite_to_bytes(const Graph& g, const TfliteWriteOptions& options) {
  Writer w(options);
  return w.run(g);
}

Status write_tflite(const Graph& g, const std::string& path, const TfliteWriteOptions& options) {
  auto bytes = tflite_to_bytes(g, options);
  if (!bytes.ok()) return bytes.status().with_context(path);
  return write_file_atomic(path, bytes.value());
}

}  // namespace convfix
