// TFLite reader: .tflite FlatBuffer -> Graph. See convfix/tflite_format.h
// for the contract and docs/FORMATS.md for the mapping.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string_view>
#include <unordered_set>

#include "convfix/fileio.h"
#include "convfix/tflite_format.h"
#include "tflite_schema_util.h"

namespace convfix {

namespace {

using namespace tflitefmt;

constexpr int64_t kMaxSynthesizedBytes = int64_t{1} << 30;  // zero-filled variables, densified tensors

// Names from the file in messages, with control bytes escaped (\n, \xNN)
// so an error stays on one line.
std::string printable(const std::string& s) {
  std::string r;
  static const char* hex = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c == '\n') {
      r += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      r += "\\x";
      r += hex[c >> 4];
      r += hex[c & 15];
    } else {
      r += static_cast<char>(c);
    }
  }
  return r;
}
std::string quote(const std::string& s) { return "'" + printable(s) + "'"; }

// Product of dims with overflow and sign checks; -1 when impossible.
int64_t checked_numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return -1;
    if (d != 0 && n > (int64_t{1} << 62) / d) return -1;
    n *= d;
  }
  return n;
}

template <typename V>
std::vector<int64_t> to_i64(const V* v) {
  std::vector<int64_t> r;
  if (!v) return r;
  r.reserve(v->size());
  for (auto x : *v) r.push_back(static_cast<int64_t>(x));
  return r;
}

// Index arrays of a sparse dimension (one of three integer widths).
std::vector<int64_t> sparse_index_vector(tflite::SparseIndexVector type, const void* p) {
  switch (type) {
    case tflite::SparseIndexVector::Int32Vector:
      return to_i64(static_cast<const tflite::Int32Vector*>(p)->values());
    case tflite::SparseIndexVector::Uint16Vector:
      return to_i64(static_cast<const tflite::Uint16Vector*>(p)->values());
    case tflite::SparseIndexVector::Uint8Vector:
      return to_i64(static_cast<const tflite::Uint8Vector*>(p)->values());
    default: return {};
  }
}

// Expands TFLite's sparse encoding (traversal order, optional blocks, each
// level dense or CSR) into a dense row-major tensor.
Expected<Tensor> densify(const tflite::SparsityParameters& sp, DType dt, const std::vector<int64_t>& dims,
                         std::string_view values) {
  const size_t es = dtype_size(dt);
  if (dt == DType::kString) return not_implemented("sparse string tensors are not supported");
  if (values.size() % es != 0) return invalid_model("sparse values are " + std::to_string(values.size()) + " bytes, not a multiple of the element size");
  const int64_t nvalues = static_cast<int64_t>(values.size() / es);
  const int64_t n = static_cast<int64_t>(dims.size());
  const auto order = to_i64(sp.traversal_order());
  const auto bmap = to_i64(sp.block_map());
  const int64_t k = static_cast<int64_t>(bmap.size());
  const auto* dm = sp.dim_metadata();
  if (n > 16) return invalid_model("sparse tensor of rank " + std::to_string(n) + " (at most 16 supported)");
  if (static_cast<int64_t>(order.size()) != n + k || !dm || static_cast<int64_t>(dm->size()) != n + k)
    return invalid_model("sparsity: traversal_order and dim_metadata must have rank + blocks = " + std::to_string(n + k) + " entries");
  std::vector<bool> seen(static_cast<size_t>(n + k), false);
  for (int64_t l = 0; l < n + k; ++l) {
    const int64_t d = order[static_cast<size_t>(l)];
    if (d < 0 || d >= n + k || seen[static_cast<size_t>(d)] || (l < n) != (d < n))
      return invalid_model("sparsity: traversal_order is not a permutation of the dimensions followed by the block dimensions");
    seen[static_cast<size_t>(d)] = true;
  }
  std::vector<int64_t> bsize(static_cast<size_t>(k), 1), block_of(static_cast<size_t>(n), -1);
  for (int64_t b = 0; b < k; ++b) {
    const int64_t d = bmap[static_cast<size_t>(b)];
    if (d < 0 || d >= n || block_of[static_cast<size_t>(d)] >= 0) return invalid_model("sparsity: bad block_map");
    block_of[static_cast<size_t>(d)] = b;
  }
  // Size of each level (in traversal order) of the blocked shape.
  std::vector<int64_t> expanded(static_cast<size_t>(n + k));
  for (int64_t l = 0; l < n + k; ++l) {
    const int64_t d = order[static_cast<size_t>(l)];
    if (d >= n) {
      const auto* m = dm->Get(static_cast<uint32_t>(l));
      if (m->format() != tflite::DimensionType::DENSE || m->dense_size() <= 0)
        return invalid_model("sparsity: block dimensions must be dense with a positive size");
      bsize[static_cast<size_t>(d - n)] = m->dense_size();
    }
  }
  for (int64_t d = 0; d < n; ++d) {
    const int64_t b = block_of[static_cast<size_t>(d)];
    const int64_t bs = b >= 0 ? bsize[static_cast<size_t>(b)] : 1;
    if (dims[static_cast<size_t>(d)] % bs != 0) return invalid_model("sparsity: block size does not divide dimension " + std::to_string(d));
    expanded[static_cast<size_t>(d)] = dims[static_cast<size_t>(d)] / bs;
  }
  for (int64_t b = 0; b < k; ++b) expanded[static_cast<size_t>(n + b)] = bsize[static_cast<size_t>(b)];

  struct Level { bool dense; int64_t size; std::vector<int64_t> seg, idx; };
  std::vector<Level> levels(static_cast<size_t>(n + k));
  for (int64_t l = 0; l < n + k; ++l) {
    const auto* m = dm->Get(static_cast<uint32_t>(l));
    Level& lv = levels[static_cast<size_t>(l)];
    lv.size = expanded[static_cast<size_t>(order[static_cast<size_t>(l)])];
    if (m->format() == tflite::DimensionType::DENSE) {
      lv.dense = true;
      if (m->dense_size() != lv.size) return invalid_model("sparsity: dense_size of level " + std::to_string(l) + " does not match the shape");
    } else {
      lv.dense = false;
      lv.seg = sparse_index_vector(m->array_segments_type(), m->array_segments());
      lv.idx = sparse_index_vector(m->array_indices_type(), m->array_indices());
      for (size_t i = 0; i < lv.seg.size(); ++i)
        if (lv.seg[i] < 0 || lv.seg[i] > static_cast<int64_t>(lv.idx.size()) || (i && lv.seg[i] < lv.seg[i - 1]))
          return invalid_model("sparsity: array_segments of level " + std::to_string(l) + " are not increasing within the indices");
      for (int64_t x : lv.idx)
        if (x < 0 || x >= lv.size) return invalid_model("sparsity: array_indices of level " + std::to_string(l) + " out of range");
    }
  }
  const int64_t numel = checked_numel(dims);
  if (numel < 0 || numel > kMaxSynthesizedBytes / static_cast<int64_t>(es))
    return invalid_model("sparse tensor's dense shape " + dims_to_string(dims) + " is too large");
  std::vector<int64_t> strides(static_cast<size_t>(n), 1);
  for (int64_t d = n - 2; d >= 0; --d) strides[static_cast<size_t>(d)] = strides[static_cast<size_t>(d + 1)] * dims[static_cast<size_t>(d + 1)];

  Tensor out(dt, dims);
  auto* dst = static_cast<uint8_t*>(out.raw());
  std::vector<int64_t> at(static_cast<size_t>(n + k), 0);
  int64_t next_value = 0;
  Status st;
  std::function<void(int64_t, int64_t)> visit = [&](int64_t l, int64_t pos) {
    if (!st.ok()) return;
    if (l == n + k) {
      if (next_value >= nvalues) { st = invalid_model("sparsity: fewer values than the index arrays describe"); return; }
      int64_t flat = 0;
      for (int64_t d = 0; d < n; ++d) {
        int64_t c = at[static_cast<size_t>(d)];
        const int64_t b = block_of[static_cast<size_t>(d)];
        if (b >= 0) c = c * bsize[static_cast<size_t>(b)] + at[static_cast<size_t>(n + b)];
        flat += c * strides[static_cast<size_t>(d)];
      }
      std::memcpy(dst + flat * static_cast<int64_t>(es), values.data() + next_value * static_cast<int64_t>(es), es);
      ++next_value;
      return;
    }
    const Level& lv = levels[static_cast<size_t>(l)];
    const size_t dim = static_cast<size_t>(order[static_cast<size_t>(l)]);
    if (lv.dense) {
      for (int64_t i = 0; i < lv.size && st.ok(); ++i) {
        at[dim] = i;
        visit(l + 1, pos * lv.size + i);
      }
    } else {
      if (pos < 0 || pos + 1 >= static_cast<int64_t>(lv.seg.size())) { st = invalid_model("sparsity: array_segments too short at level " + std::to_string(l)); return; }
      for (int64_t j = lv.seg[static_cast<size_t>(pos)]; j < lv.seg[static_cast<size_t>(pos + 1)] && st.ok(); ++j) {
        at[dim] = lv.idx[static_cast<size_t>(j)];
        visit(l + 1, j);
      }
    }
  };
  visit(0, 0);
  if (!st.ok()) return st;
  return out;
}

// TFLite string tensor buffer: int32 count, int32 offsets[count + 1], bytes.
Expected<Tensor> parse_strings(std::string_view data, const std::vector<int64_t>& dims) {
  const int64_t numel = checked_numel(dims);
  auto rd = [&](size_t at) {
    int32_t v;
    std::memcpy(&v, data.data() + at, 4);
    return static_cast<int64_t>(v);
  };
  if (data.size() < 4) return invalid_model("string buffer shorter than its header");
  const int64_t count = rd(0);
  if (count != numel) return invalid_model("string buffer holds " + std::to_string(count) + " strings, shape " + dims_to_string(dims) + " needs " + std::to_string(numel));
  if (static_cast<uint64_t>(count + 2) * 4 > data.size()) return invalid_model("string buffer shorter than its offset table");
  Tensor t(DType::kString, dims);
  auto& s = *t.strings();
  int64_t prev = (count + 2) * 4;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t a = rd(static_cast<size_t>(4 + 4 * i)), b = rd(static_cast<size_t>(8 + 4 * i));
    if (a < prev || b < a || b > static_cast<int64_t>(data.size())) return invalid_model("string buffer offsets out of order or out of range");
    s[static_cast<size_t>(i)].assign(data.data() + a, static_cast<size_t>(b - a));
    prev = b;
  }
  return t;
}

class Reader {
 public:
  Reader(const std::string& bytes, const std::string& file) : bytes_(bytes), file_(file) {}

  Expected<Graph> run();

 private:
  struct SubgraphResult {
    Graph g;
    std::vector<std::string> names;  // tensor index -> value name
  };
  Expected<std::string_view> buffer(uint32_t idx) const;
  Expected<SubgraphResult> subgraph(uint32_t k);
  Status err_model(const std::string& where, const std::string& what) const { return invalid_model(where + ": " + what); }

  const std::string& bytes_;
  std::string file_;
  const tflite::Model* m_ = nullptr;
  uint32_t nbuffers_ = 0;
  uint32_t nsubgraphs_ = 0;
  std::vector<int32_t> codes_;
  std::vector<std::string> custom_;
  std::vector<int32_t> versions_;
};

Expected<std::string_view> Reader::buffer(uint32_t idx) const {
  if (idx >= nbuffers_) return invalid_model("buffer " + std::to_string(idx) + " out of range (the model has " + std::to_string(nbuffers_) + " buffers)");
  const tflite::Buffer* b = m_->buffers()->Get(idx);
  if (b->offset() > 1) {
    const uint64_t off = b->offset(), size = b->size();
    if (off > bytes_.size() || size > bytes_.size() - off)
      return invalid_model("buffer " + std::to_string(idx) + " points outside the file (offset " + std::to_string(off) + ", size " + std::to_string(size) + ", file size " + std::to_string(bytes_.size()) + ")");
    return std::string_view(bytes_.data() + off, size);
  }
  if (b->data()) return std::string_view(reinterpret_cast<const char*>(b->data()->data()), b->data()->size());
  return std::string_view();
}

Expected<Reader::SubgraphResult> Reader::subgraph(uint32_t k) {
  const tflite::SubGraph* sg = m_->subgraphs()->Get(k);
  const std::string where = "subgraph " + std::to_string(k);
  const uint32_t nt = sg->tensors() ? sg->tensors()->size() : 0;
  SubgraphResult res;
  Graph& g = res.g;
  g.name = sg->name() ? sg->name()->str() : "";
  g.info.format = "tflite";

  // Value names: the file's tensor names, made unique.
  std::vector<std::string>& names = res.names;
  std::vector<std::string> docs(nt);
  names.resize(nt);
  std::unordered_set<std::string> used;
  for (uint32_t i = 0; i < nt; ++i) {
    const tflite::Tensor* t = sg->tensors()->Get(i);
    const std::string orig = t->name() ? t->name()->str() : "";
    std::string base = orig.empty() ? "tensor_" + std::to_string(i) : orig;
    std::string n = base;
    for (int s = 1; used.count(n); ++s) n = base + "_" + std::to_string(s);
    if (n != orig && !orig.empty()) add_note(docs[i], std::string(kNoteNamePrefix) + quote(orig));
    used.insert(n);
    names[i] = n;
  }
  auto tdesc = [&](int64_t i) { return "tensor " + std::to_string(i) + " " + quote(names[static_cast<size_t>(i)]); };

  // Graph inputs / outputs.
  std::vector<char> is_input(nt, 0);
  auto check_list = [&](const flatbuffers::Vector<int32_t>* v, const char* what) -> Status {
    if (!v) return Status::OK();
    for (uint32_t i = 0; i < v->size(); ++i) {
      const int32_t t = v->Get(i);
      if (t < 0 || static_cast<uint32_t>(t) >= nt)
        return err_model(where, std::string(what) + " " + std::to_string(i) + ": tensor index " + std::to_string(t) + " out of range (the subgraph has " + std::to_string(nt) + " tensors)");
    }
    return Status::OK();
  };
  CONVFIX_RETURN_IF_ERROR(check_list(sg->inputs(), "input"));
  CONVFIX_RETURN_IF_ERROR(check_list(sg->outputs(), "output"));
  if (sg->inputs())
    for (int32_t t : *sg->inputs()) is_input[static_cast<size_t>(t)] = 1;

  // Operators: index checks and producers.
  const uint32_t nops = sg->operators() ? sg->operators()->size() : 0;
  std::vector<int64_t> producer(nt, -1);
  std::vector<std::string> op_label(nops);
  for (uint32_t j = 0; j < nops; ++j) {
    const tflite::Operator* op = sg->operators()->Get(j);
    const std::string ow = where + ": operator " + std::to_string(j);
    if (op->opcode_index() >= codes_.size())
      return err_model(ow, "operator code index " + std::to_string(op->opcode_index()) + " out of range (the model has " + std::to_string(codes_.size()) + " operator codes)");
    const uint32_t oc = op->opcode_index();
    const bool custom = codes_[oc] == kCustomCode;
    op_label[j] = ow + " (" + (custom ? (custom_[oc].empty() ? "CUSTOM" : printable(custom_[oc])) : builtin_op_name(codes_[oc])) + ")";
    if (op->inputs())
      for (uint32_t i = 0; i < op->inputs()->size(); ++i) {
        const int32_t t = op->inputs()->Get(i);
        if (t < -1 || t >= static_cast<int64_t>(nt))
          return err_model(op_label[j], "input " + std::to_string(i) + ": tensor index " + std::to_string(t) + " out of range (the subgraph has " + std::to_string(nt) + " tensors)");
      }
    if (op->outputs())
      for (uint32_t i = 0; i < op->outputs()->size(); ++i) {
        const int32_t t = op->outputs()->Get(i);
        if (t < 0 || t >= static_cast<int64_t>(nt))
          return err_model(op_label[j], "output " + std::to_string(i) + ": tensor index " + std::to_string(t) + " out of range (the subgraph has " + std::to_string(nt) + " tensors)");
        if (producer[static_cast<size_t>(t)] >= 0)
          return err_model(op_label[j], "output " + std::to_string(i) + ": " + tdesc(t) + " is also written by operator " + std::to_string(producer[static_cast<size_t>(t)]));
        if (is_input[static_cast<size_t>(t)])
          return err_model(op_label[j], "output " + std::to_string(i) + ": " + tdesc(t) + " is a graph input");
        producer[static_cast<size_t>(t)] = j;
      }
    if (op->intermediates())
      for (uint32_t i = 0; i < op->intermediates()->size(); ++i) {
        const int32_t t = op->intermediates()->Get(i);
        if (t < 0 || t >= static_cast<int64_t>(nt))
          return err_model(op_label[j], "intermediate " + std::to_string(i) + ": tensor index " + std::to_string(t) + " out of range");
      }
  }

  // Tensors: types, shapes, quantization, constants.
  std::vector<ValueInfo> infos(nt);
  std::vector<char> is_const(nt, 0), available(nt, 0);
  std::map<uint32_t, Tensor> consts;
  for (uint32_t i = 0; i < nt; ++i) {
    const tflite::Tensor* t = sg->tensors()->Get(i);
    const std::string tw = where + ": " + tdesc(i);
    ValueInfo& vi = infos[i];
    vi.name = names[i];
    vi.doc = docs[i];
    const auto tt = t->type();
    auto dt = dtype_from_tflite(tt);
    if (dt) vi.dtype = *dt;
    else add_note(vi.doc, std::string(kNoteTypePrefix) + tensor_type_name(tt));
    if (tt == tflite::TensorType::INT4) add_note(vi.doc, kNoteInt4);
    std::vector<int64_t> dims = to_i64(t->shape());
    const auto sig = to_i64(t->shape_signature());
    vi.has_shape = true;
    bool unusual = false;  // an unknown dim whose current size is not the usual 1
    for (size_t d = 0; d < dims.size(); ++d) {
      if (dims[d] < -1) return err_model(tw, "negative dimension " + std::to_string(dims[d]) + " in its shape");
      const bool unknown = dims[d] < 0 || (sig.size() == dims.size() && sig[d] < 0);
      vi.shape.push_back(unknown ? Dim{} : Dim::of(dims[d]));
      unusual = unusual || (unknown && dims[d] != 1);
    }
    if (unusual) add_note(vi.doc, std::string(kNoteShapePrefix) + dims_to_string(dims));
    if (const auto* q = t->quantization(); q && q->scale() && q->scale()->size() > 0) {
      QuantParams qp;
      qp.scale.assign(q->scale()->begin(), q->scale()->end());
      qp.zero_point = to_i64(q->zero_point());
      if (qp.zero_point.empty()) qp.zero_point.assign(qp.scale.size(), 0);
      if (qp.zero_point.size() != qp.scale.size())
        return err_model(tw, "quantization has " + std::to_string(qp.scale.size()) + " scales but " + std::to_string(qp.zero_point.size()) + " zero points");
      qp.axis = q->quantized_dimension();
      const int64_t nscale = static_cast<int64_t>(qp.scale.size());
      const int64_t rank = static_cast<int64_t>(dims.size());
      if (nscale > 1 && (qp.axis < 0 || qp.axis >= rank)) {
        // Some converters (TOCO) wrote the filter's channel axis on rank-1
        // biases. TFLite refuses such files; when exactly one dimension fits
        // the scales, read that one and note the fault.
        int64_t fit = -1, nfit = 0;
        for (int64_t d = 0; d < rank; ++d)
          if (dims[static_cast<size_t>(d)] == nscale) { fit = d; ++nfit; }
        if (nfit != 1)
          return err_model(tw, "quantization has " + std::to_string(nscale) + " scales along dimension " + std::to_string(qp.axis) + ", shape is " + dims_to_string(dims));
        add_note(vi.doc, std::string(kNoteAxisPrefix) + std::to_string(qp.axis) + " out of range for rank " + std::to_string(rank) + ", read as " + std::to_string(fit));
        qp.axis = fit;
      }
      if (nscale > 1 && dims[static_cast<size_t>(qp.axis)] != nscale)
        return err_model(tw, "quantization has " + std::to_string(nscale) + " scales along dimension " + std::to_string(qp.axis) + ", shape is " + dims_to_string(dims));
      vi.quant = std::move(qp);
    }
    auto buf = buffer(t->buffer());
    if (!buf.ok()) return buf.status().with_context(tw);
    const std::string_view data = buf.value();
    const bool variable = t->is_variable();
    // Constants of zero elements have no data; they are still constants.
    const bool empty_const = data.empty() && !dims.empty() && checked_numel(dims) == 0;
    if (is_input[i] || producer[i] >= 0 || (data.empty() && !variable && !t->sparsity() && !empty_const)) continue;
    // A constant (or a variable with its initial value).
    if (!dt) return not_implemented(tw + ": constant of type " + tensor_type_name(tt) + " is not supported");
    const int64_t numel = checked_numel(dims);
    if (numel < 0) return err_model(tw, "constant with impossible shape " + dims_to_string(dims));
    Tensor value;
    if (t->sparsity()) {
      auto d = densify(*t->sparsity(), *dt, dims, data);
      if (!d.ok()) return d.status().with_context(tw);
      value = std::move(d).value();
      add_note(vi.doc, kNoteSparse);
    } else if (*dt == DType::kString) {
      auto s = parse_strings(data, dims);
      if (!s.ok()) return s.status().with_context(tw);
      value = std::move(s).value();
    } else if (tt == tflite::TensorType::INT4) {
      const int64_t need = (numel + 1) / 2;
      if (static_cast<int64_t>(data.size()) != need)
        return err_model(tw, "buffer " + std::to_string(t->buffer()) + " holds " + std::to_string(data.size()) + " bytes, shape " + dims_to_string(dims) + " of INT4 needs " + std::to_string(need));
      value = Tensor(DType::kI8, dims);
      auto* p = value.data<int8_t>();
      for (int64_t e = 0; e < numel; ++e) {
        const uint8_t byte = static_cast<uint8_t>(data[static_cast<size_t>(e / 2)]);
        const int nib = (e % 2 == 0) ? (byte & 0xF) : (byte >> 4);
        p[e] = static_cast<int8_t>(nib >= 8 ? nib - 16 : nib);
      }
    } else if (data.empty() && empty_const && !variable) {
      value = Tensor(*dt, dims);  // zero elements
    } else if (data.empty()) {  // variable without initial data: zeros
      if (numel > kMaxSynthesizedBytes / static_cast<int64_t>(dtype_size(*dt)))
        return err_model(tw, "variable of shape " + dims_to_string(dims) + " is too large");
      value = Tensor(*dt, dims);
      add_note(vi.doc, kNoteVariableNoData);
    } else {
      const int64_t need = numel * static_cast<int64_t>(dtype_size(*dt));
      if (static_cast<int64_t>(data.size()) != need)
        return err_model(tw, "buffer " + std::to_string(t->buffer()) + " holds " + std::to_string(data.size()) + " bytes, shape " + dims_to_string(dims) + " of " + tensor_type_name(tt) + " needs " + std::to_string(need));
      value = Tensor(*dt, dims);
      if (need) std::memcpy(value.raw(), data.data(), static_cast<size_t>(need));
    }
    if (variable) add_note(vi.doc, kNoteVariable);
    value.set_quant(vi.quant);
    consts[i] = std::move(value);
    is_const[i] = 1;
  }

  // Nodes, in file order; each input must exist before the operator runs.
  for (uint32_t i = 0; i < nt; ++i) available[i] = is_const[i] || is_input[i];
  std::vector<char> referenced(nt, 0);
  std::unordered_set<std::string> node_names;
  for (uint32_t j = 0; j < nops; ++j) {
    const tflite::Operator* op = sg->operators()->Get(j);
    const uint32_t oc = op->opcode_index();
    const int32_t code = codes_[oc];
    Node n;
    n.provenance.format = "tflite";
    if (code == kCustomCode) {
      if (custom_[oc].empty()) return err_model(op_label[j], "custom operator without a custom_code");
      n.domain = "tflite.custom";
      n.op_type = custom_[oc];
      std::string_view opts;
      if (op->large_custom_options_offset() > 1) {
        const uint64_t off = op->large_custom_options_offset(), size = op->large_custom_options_size();
        if (off > bytes_.size() || size > bytes_.size() - off) return err_model(op_label[j], "custom options point outside the file");
        opts = std::string_view(bytes_.data() + off, size);
      } else if (op->custom_options()) {
        opts = std::string_view(reinterpret_cast<const char*>(op->custom_options()->data()), op->custom_options()->size());
      }
      if (!opts.empty() || op->custom_options()) {
        Attribute a;
        a.kind = Attribute::Kind::kOpaque;
        a.s.assign(opts.data(), opts.size());
        n.attrs["custom_options"] = std::move(a);
      }
      if (op->custom_options_format() != tflite::CustomOptionsFormat::FLEXBUFFERS)
        n.attrs["custom_options_format"] = Attribute::of_int(static_cast<int64_t>(op->custom_options_format()));
    } else {
      n.domain = "tflite";
      n.op_type = builtin_op_name(code);
      int which = 0;
      uint8_t type = 0;
      const void* table = nullptr;
      if (op->builtin_options_2_type() != tflite::BuiltinOptions2::NONE) {
        which = 2;
        type = static_cast<uint8_t>(op->builtin_options_2_type());
        table = op->builtin_options_2();
      } else if (op->builtin_options_type() != tflite::BuiltinOptions::NONE) {
        which = 1;
        type = static_cast<uint8_t>(op->builtin_options_type());
        table = op->builtin_options();
      }
      auto kind = options_kind_by_code(which, type);
      if (!kind) return err_model(op_label[j], "builtin options type " + std::to_string(type) + " is not known to this schema");
      read_options(*kind, static_cast<const flatbuffers::Table*>(table), n.attrs);
      const OptionsKind standard = standard_options_for_op(n.op_type);
      // Record an unusual table, unless the difference cannot matter: no
      // table where the usual one has only vectors/strings (absent either
      // way), or a field-less table where none is usual.
      const bool same_meaning = (kind->which == 0 && !standard.has_scalar_fields()) ||
                                (standard.which == 0 && !kind->has_fields());
      if (kind->name != standard.name && !same_meaning)
        n.attrs["builtin_options_type"] = Attribute::of_string(kind->name);
      for (const auto& [key, a] : n.attrs) {
        if (!is_subgraph_field(key)) continue;
        std::vector<int64_t> idx = a.kind == Attribute::Kind::kInts ? a.ints : std::vector<int64_t>{a.i};
        for (int64_t s : idx)
          if (s < 0 || s >= static_cast<int64_t>(nsubgraphs_))
            return err_model(op_label[j], "option " + key + " = " + std::to_string(s) + ": subgraph index out of range (the model has " + std::to_string(nsubgraphs_) + " subgraphs)");
      }
      add_layout_attributes(n.op_type, n.attrs);
    }
    n.provenance.original_op = n.op_type;
    n.attrs["version"] = Attribute::of_int(versions_[oc]);
    if (op->mutating_variable_inputs() && op->mutating_variable_inputs()->size())
      n.attrs["mutating_variable_inputs"] = Attribute::of_ints(to_i64(op->mutating_variable_inputs()));
    if (op->intermediates() && op->intermediates()->size()) {
      std::vector<std::string> im;
      for (int32_t t : *op->intermediates()) {
        im.push_back(names[static_cast<size_t>(t)]);
        referenced[static_cast<size_t>(t)] = 1;
      }
      n.attrs["intermediates"] = Attribute::of_strings(std::move(im));
    }
    if (op->inputs())
      for (uint32_t i = 0; i < op->inputs()->size(); ++i) {
        const int32_t t = op->inputs()->Get(i);
        if (t < 0) { n.inputs.emplace_back(); continue; }
        const size_t ts = static_cast<size_t>(t);
        if (!available[ts]) {
          const int64_t p = producer[ts];
          if (p == static_cast<int64_t>(j))
            return err_model(op_label[j], "input " + std::to_string(i) + ": " + tdesc(t) + " is the operator's own output (cycle)");
          if (p >= 0)
            return err_model(op_label[j], "input " + std::to_string(i) + ": " + tdesc(t) + " is written by operator " + std::to_string(p) + ", which runs later (cycle or operators out of order)");
          return err_model(op_label[j], "input " + std::to_string(i) + ": " + tdesc(t) + " has no data, no producer and is not a graph input");
        }
        n.inputs.push_back(names[ts]);
        referenced[ts] = 1;
      }
    if (op->outputs())
      for (int32_t t : *op->outputs()) {
        n.outputs.push_back(names[static_cast<size_t>(t)]);
        available[static_cast<size_t>(t)] = 1;
        referenced[static_cast<size_t>(t)] = 1;
      }
    std::string base = n.outputs.empty() ? n.op_type + "_" + std::to_string(j) : n.outputs[0];
    std::string name = base;
    for (int s = 1; node_names.count(name); ++s) name = base + "_" + std::to_string(s);
    node_names.insert(name);
    n.name = name;
    g.nodes.push_back(std::move(n));
  }

  if (sg->inputs())
    for (int32_t t : *sg->inputs()) g.inputs.push_back(infos[static_cast<size_t>(t)]);
  if (sg->outputs())
    for (uint32_t i = 0; i < sg->outputs()->size(); ++i) {
      const int32_t t = sg->outputs()->Get(i);
      if (!available[static_cast<size_t>(t)])
        return err_model(where, "output " + std::to_string(i) + ": " + tdesc(t) + " is never written, has no data and is not a graph input");
      g.outputs.push_back(infos[static_cast<size_t>(t)]);
      referenced[static_cast<size_t>(t)] = 1;
    }
  for (uint32_t i = 0; i < nt; ++i) {
    if (!referenced[i] || is_input[i]) continue;
    if (is_const[i]) {
      g.initializers[names[i]] = consts[i];
      if (!infos[i].doc.empty()) g.value_info[names[i]] = infos[i];  // notes the IR has no field for
      continue;
    }
    bool is_output = false;
    for (const auto& o : g.outputs) is_output = is_output || o.name == names[i];
    if (!is_output) g.value_info[names[i]] = infos[i];
  }
  return res;
}

Expected<Graph> Reader::run() {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes_.data());
  if (bytes_.size() < 8) return invalid_model(file_ + ": file is truncated (" + std::to_string(bytes_.size()) + " bytes)");
  if (!tflite::ModelBufferHasIdentifier(data)) {
    std::string id = bytes_.substr(4, 4);
    for (char& c : id)
      if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
    return invalid_model(file_ + ": not a TFLite model (file identifier '" + id + "', expected 'TFL3')");
  }
  // The FlatBuffer itself is below 2 GB; data of larger models follows it.
  const size_t fb_size = std::min<size_t>(bytes_.size(), FLATBUFFERS_MAX_BUFFER_SIZE - 1);
  flatbuffers::Verifier verifier(data, fb_size, /*max_depth=*/64, /*max_tables=*/50'000'000);
  if (!tflite::VerifyModelBuffer(verifier))
    return invalid_model(file_ + ": file is truncated or corrupt (the FlatBuffer does not verify against the TFLite schema)");
  m_ = tflite::GetModel(data);
  if (m_->version() != 3)
    return invalid_model(file_ + ": TFLite schema version " + std::to_string(m_->version()) + " is not supported (expected 3)");
  if (!m_->subgraphs() || m_->subgraphs()->size() == 0) return invalid_model(file_ + ": the model has no subgraphs");
  nbuffers_ = m_->buffers() ? m_->buffers()->size() : 0;
  nsubgraphs_ = m_->subgraphs()->size();
  if (m_->operator_codes())
    for (uint32_t i = 0; i < m_->operator_codes()->size(); ++i) {
      const tflite::OperatorCode* c = m_->operator_codes()->Get(i);
      const int32_t code = std::max<int32_t>(c->deprecated_builtin_code(), static_cast<int32_t>(c->builtin_code()));
      if (code < 0) return invalid_model(file_ + ": operator code " + std::to_string(i) + ": builtin code " + std::to_string(code) + " is negative");
      codes_.push_back(code);
      custom_.push_back(c->custom_code() ? c->custom_code()->str() : "");
      versions_.push_back(c->version());
    }

  std::vector<SubgraphResult> subs;
  for (uint32_t k = 0; k < nsubgraphs_; ++k) {
    auto s = subgraph(k);
    if (!s.ok()) return s.status().with_context(file_);
    subs.push_back(std::move(s).value());
  }
  Graph g = std::move(subs[0].g);
  ModelInfo& info = g.info;
  info.format = "tflite";
  info.ir_version = m_->version();
  info.doc = m_->description() ? m_->description()->str() : "";
  if (m_->metadata())
    for (uint32_t i = 0; i < m_->metadata()->size(); ++i) {
      const tflite::Metadata* md = m_->metadata()->Get(i);
      const std::string name = md->name() ? md->name()->str() : "";
      auto b = buffer(md->buffer());
      if (!b.ok()) return b.status().with_context(file_ + ": metadata " + std::to_string(i) + " " + quote(name));
      info.metadata.emplace(name, std::string(b.value()));
    }
  if (m_->signature_defs())
    for (uint32_t i = 0; i < m_->signature_defs()->size(); ++i) {
      const tflite::SignatureDef* sd = m_->signature_defs()->Get(i);
      ModelInfo::Signature s;
      s.key = sd->signature_key() ? sd->signature_key()->str() : "";
      const std::string sw = file_ + ": signature " + std::to_string(i) + " " + quote(s.key);
      if (sd->subgraph_index() >= nsubgraphs_)
        return invalid_model(sw + ": subgraph index " + std::to_string(sd->subgraph_index()) + " out of range");
      s.graph = sd->subgraph_index();
      const auto& names = subs[sd->subgraph_index()].names;
      auto map = [&](const flatbuffers::Vector<flatbuffers::Offset<tflite::TensorMap>>* v, const char* what,
                     std::vector<std::pair<std::string, std::string>>& out) -> Status {
        if (!v) return Status::OK();
        for (uint32_t e = 0; e < v->size(); ++e) {
          const tflite::TensorMap* tm = v->Get(e);
          if (tm->tensor_index() >= names.size())
            return invalid_model(sw + ": " + what + " " + std::to_string(e) + ": tensor index " + std::to_string(tm->tensor_index()) + " out of range");
          out.emplace_back(tm->name() ? tm->name()->str() : "", names[tm->tensor_index()]);
        }
        return Status::OK();
      };
      CONVFIX_RETURN_IF_ERROR(map(sd->inputs(), "input", s.inputs));
      CONVFIX_RETURN_IF_ERROR(map(sd->outputs(), "output", s.outputs));
      info.signatures.push_back(std::move(s));
    }
  for (size_t k = 1; k < subs.size(); ++k) {
    subs[k].g.info.format = "tflite";
    info.subgraphs.push_back(std::make_shared<Graph>(std::move(subs[k].g)));
  }
  Status st = g.verify();
  if (!st.ok()) return st.with_context(file_ + ": subgraph 0");
  for (size_t k = 0; k < info.subgraphs.size(); ++k) {
    st = info.subgraphs[k]->verify();
    if (!st.ok()) return st.with_context(file_ + ": subgraph " + std::to_string(k + 1));
  }
  return g;
}

}  // namespace

Expected<Graph> read_tflite_bytes(const std::string& bytes, const std::string& name_for_errors) {
  Reader r(bytes, name_for_errors);
  return r.run();
}

Expected<Graph> read_tflite(const std::string& path) {
  CONVFIX_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  auto g = read_tflite_bytes(bytes, path);
  if (g.ok()) g.value().info.source_path = path;
  return g;
}

}  // namespace convfix
