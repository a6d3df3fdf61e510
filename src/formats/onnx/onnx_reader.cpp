#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <filesystem>
#include <unordered_set>

#include "convfix/fileio.h"
#include "convfix/onnx_format.h"
#include "onnx_tensor.h"

namespace convfix {

namespace fs = std::filesystem;
using namespace onnxfmt;

namespace {

Expected<Graph> convert_graph(const onnx::GraphProto& gp, const std::string& base_dir, const ModelInfo& info);

Expected<Attribute> convert_attr(const onnx::AttributeProto& a, const std::string& base_dir, const ModelInfo& info) {
  Attribute r;
  using AP = onnx::AttributeProto;
  AP::AttributeType type = a.type();
  if (type == AP::UNDEFINED) {  // very old files: infer from the filled field
    if (a.has_f()) type = AP::FLOAT;
    else if (a.has_i()) type = AP::INT;
    else if (a.has_s()) type = AP::STRING;
    else if (a.has_t()) type = AP::TENSOR;
    else if (a.has_g()) type = AP::GRAPH;
    else if (a.floats_size()) type = AP::FLOATS;
    else if (a.ints_size()) type = AP::INTS;
    else if (a.strings_size()) type = AP::STRINGS;
    else type = AP::INTS;
  }
  switch (type) {
    case AP::FLOAT: r = Attribute::of_float(a.f()); break;
    case AP::INT: r = Attribute::of_int(a.i()); break;
    case AP::STRING: r = Attribute::of_string(a.s()); break;
    case AP::FLOATS: r = Attribute::of_floats({a.floats().begin(), a.floats().end()}); break;
    case AP::INTS: r = Attribute::of_ints({a.ints().begin(), a.ints().end()}); break;
    case AP::STRINGS: r = Attribute::of_strings({a.strings().begin(), a.strings().end()}); break;
    case AP::TENSOR: {
      CONVFIX_ASSIGN_OR_RETURN(Tensor t, tensor_from_proto(a.t(), base_dir));
      r = Attribute::of_tensor(std::move(t));
      break;
    }
    case AP::TENSORS: {
      r.kind = Attribute::Kind::kTensors;
      for (const auto& tp : a.tensors()) {
        CONVFIX_ASSIGN_OR_RETURN(Tensor t, tensor_from_proto(tp, base_dir));
        r.tensors.push_back(std::move(t));
      }
      break;
    }
    case AP::GRAPH: {
      CONVFIX_ASSIGN_OR_RETURN(Graph g, convert_graph(a.g(), base_dir, info));
      r.kind = Attribute::Kind::kGraph;
      r.g = std::make_shared<Graph>(std::move(g));
      break;
    }
    case AP::GRAPHS: {
      r.kind = Attribute::Kind::kGraphs;
      for (const auto& gp : a.graphs()) {
        CONVFIX_ASSIGN_OR_RETURN(Graph g, convert_graph(gp, base_dir, info));
        r.graphs.push_back(std::make_shared<Graph>(std::move(g)));
      }
      break;
    }
    default:  // TYPE_PROTO(S), SPARSE_TENSOR(S): kept as bytes, not interpreted
      r.kind = Attribute::Kind::kOpaque;
      a.SerializeToString(&r.s);
      break;
  }
  return r;
}

Expected<Graph> convert_graph(const onnx::GraphProto& gp, const std::string& base_dir, const ModelInfo& info) {
  Graph g;
  g.name = gp.name();
  g.info = info;
  for (const auto& tp : gp.initializer()) {
    auto t = tensor_from_proto(tp, base_dir);
    if (!t.ok()) return t.status().with_context("initializer '" + tp.name() + "'");
    g.initializers[tp.name()] = std::move(t).value();
  }
  for (const auto& sp : gp.sparse_initializer()) {
    return not_implemented("sparse initializer '" + sp.values().name() + "' is not supported");
  }
  for (const auto& vp : gp.input()) {
    if (g.is_initializer(vp.name())) continue;  // an initializer listed as input (IR < 4 style)
    g.inputs.push_back(value_info_from_proto(vp));
  }
  for (const auto& vp : gp.output()) g.outputs.push_back(value_info_from_proto(vp));
  for (const auto& vp : gp.value_info()) g.value_info[vp.name()] = value_info_from_proto(vp);
  std::unordered_set<std::string> names;
  int idx = 0;
  for (const auto& np : gp.node()) {
    Node n;
    n.name = np.name();
    n.op_type = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    if (n.name.empty() || names.count(n.name)) {
      std::string base = n.name.empty() ? n.op_type + "_" + std::to_string(idx) : n.name;
      std::string c = base;
      for (int k = 1; names.count(c); ++k) c = base + "_" + std::to_string(k);
      n.name = c;
    }
    names.insert(n.name);
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    n.doc = np.doc_string();
    n.provenance.format = "onnx";
    n.provenance.original_op = n.domain.empty() ? n.op_type : n.domain + ":" + n.op_type;
    n.provenance.layer = np.name();
    for (const auto& ap : np.attribute()) {
      auto a = convert_attr(ap, base_dir, info);
      if (!a.ok()) return a.status().with_context(n.label());
      n.attrs[ap.name()] = std::move(a).value();
    }
    g.nodes.push_back(std::move(n));
    ++idx;
  }
  return g;
}

}  // namespace

Expected<Graph> read_onnx_bytes(const std::string& bytes, const std::string& file, const std::string& base_dir) {
  if (bytes.empty()) return invalid_model(file + ": file is empty");
  onnx::ModelProto mp;
  google::protobuf::io::ArrayInputStream ais(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream cis(&ais);
  cis.SetTotalBytesLimit(INT32_MAX);
  cis.SetRecursionLimit(200);
  if (!mp.ParseFromCodedStream(&cis) || !cis.ConsumedEntireMessage())
    return invalid_model(file + ": not a valid ONNX model (protobuf parse failed)");
  if (!mp.has_graph() || (mp.graph().node_size() == 0 && mp.graph().output_size() == 0))
    return invalid_model(file + ": not an ONNX model (no graph)");
  ModelInfo info;
  info.format = "onnx";
  info.ir_version = mp.ir_version();
  for (const auto& os : mp.opset_import()) {
    std::string d = os.domain() == "ai.onnx" ? "" : os.domain();
    info.opsets[d] = os.version();
  }
  if (mp.opset_import_size() == 0) info.opsets[""] = 1;
  info.producer_name = mp.producer_name();
  info.producer_version = mp.producer_version();
  info.domain = mp.domain();
  info.model_version = mp.model_version();
  info.doc = mp.doc_string();
  for (const auto& kv : mp.metadata_props()) info.metadata[kv.key()] = kv.value();
  info.source_path = file;
  auto g = convert_graph(mp.graph(), base_dir, info);
  if (!g.ok()) return g.status().with_context(file);
  Status st = g->verify();
  if (!st.ok()) {
    // Some exporters list nodes out of order; try sorting before giving up.
    Status sorted = g->topo_sort();
    if (!sorted.ok()) return sorted.with_context(file);
    st = g->verify();
    if (!st.ok()) return st.with_context(file);
  }
  return g;
}

Expected<Graph> read_onnx(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return invalid_argument(path + ": is a folder, not an ONNX file");
  CONVFIX_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  const std::string base = fs::path(path).parent_path().string();
  return read_onnx_bytes(bytes, path, base.empty() ? "." : base);
}

Expected<Tensor> read_tensor_pb(const std::string& path, std::string* name) {
  CONVFIX_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  onnx::TensorProto tp;
  if (bytes.empty() || !tp.ParseFromString(bytes)) return invalid_model(path + ": not a TensorProto file");
  if (name) *name = tp.name();
  auto t = tensor_from_proto(tp, fs::path(path).parent_path().string());
  if (!t.ok()) return t.status().with_context(path);
  return t;
}

Status write_tensor_pb(const Tensor& t, const std::string& name, const std::string& path) {
  onnx::TensorProto tp;
  tensor_to_proto(t, name, &tp);
  std::string bytes;
  if (!tp.SerializeToString(&bytes)) return io_error(path + ": cannot serialize tensor");
  return write_file_atomic(path, bytes);
}

}  // namespace convfix
