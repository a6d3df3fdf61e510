#include "convfix/fileio.h"
#include "convfix/onnx_format.h"
#include "onnx_tensor.h"

namespace convfix {

using namespace onnxfmt;

namespace {

void graph_to_proto(const Graph& g, onnx::GraphProto* gp, bool initializers_as_inputs);

void attr_to_proto(const std::string& name, const Attribute& a, onnx::AttributeProto* ap) {
  using AP = onnx::AttributeProto;
  ap->set_name(name);
  switch (a.kind) {
    case Attribute::Kind::kInt: ap->set_type(AP::INT); ap->set_i(a.i); break;
    case Attribute::Kind::kFloat: ap->set_type(AP::FLOAT); ap->set_f(a.f); break;
    case Attribute::Kind::kString: ap->set_type(AP::STRING); ap->set_s(a.s); break;
    case Attribute::Kind::kInts:
      ap->set_type(AP::INTS);
      for (auto v : a.ints) ap->add_ints(v);
      break;
    case Attribute::Kind::kFloats:
      ap->set_type(AP::FLOATS);
      for (auto v : a.floats) ap->add_floats(v);
      break;
    case Attribute::Kind::kStrings:
      ap->set_type(AP::STRINGS);
      for (const auto& v : a.strings) ap->add_strings(v);
      break;
    case Attribute::Kind::kTensor: ap->set_type(AP::TENSOR); tensor_to_proto(a.t, "", ap->mutable_t()); break;
    case Attribute::Kind::kTensors:
      ap->set_type(AP::TENSORS);
      for (const auto& t : a.tensors) tensor_to_proto(t, "", ap->add_tensors());
      break;
    case Attribute::Kind::kGraph:
      ap->set_type(AP::GRAPH);
      if (a.g) graph_to_proto(*a.g, ap->mutable_g(), false);
      break;
    case Attribute::Kind::kGraphs:
      ap->set_type(AP::GRAPHS);
      for (const auto& g : a.graphs) graph_to_proto(*g, ap->add_graphs(), false);
      break;
    case Attribute::Kind::kOpaque:
      ap->ParseFromString(a.s);
      ap->set_name(name);
      break;
  }
}

void graph_to_proto(const Graph& g, onnx::GraphProto* gp, bool initializers_as_inputs) {
  gp->set_name(g.name.empty() ? "convfix" : g.name);
  for (const auto& v : g.inputs) value_info_to_proto(v, gp->add_input());
  for (const auto& [name, t] : g.initializers) {
    tensor_to_proto(t, name, gp->add_initializer());
    if (initializers_as_inputs) {
      ValueInfo v;
      v.name = name;
      v.dtype = t.dtype();
      v.has_shape = true;
      for (int64_t d : t.dims()) v.shape.push_back(Dim::of(d));
      value_info_to_proto(v, gp->add_input());
    }
  }
  for (const auto& v : g.outputs) value_info_to_proto(v, gp->add_output());
  for (const auto& [name, v] : g.value_info) value_info_to_proto(v, gp->add_value_info());
  for (const auto& n : g.nodes) {
    auto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op_type);
    if (!n.domain.empty()) np->set_domain(n.domain);
    for (const auto& i : n.inputs) np->add_input(i);
    for (const auto& o : n.outputs) np->add_output(o);
    if (!n.doc.empty()) np->set_doc_string(n.doc);
    for (const auto& [k, a] : n.attrs) attr_to_proto(k, a, np->add_attribute());
  }
}

}  // namespace

Expected<std::string> onnx_to_bytes(const Graph& g) {
  onnx::ModelProto mp;
  const int64_t ir = g.info.ir_version > 0 ? g.info.ir_version : 8;
  mp.set_ir_version(ir);
  mp.set_producer_name(g.info.producer_name.empty() ? "convfix" : g.info.producer_name);
  if (!g.info.producer_version.empty()) mp.set_producer_version(g.info.producer_version);
  if (!g.info.domain.empty()) mp.set_domain(g.info.domain);
  if (g.info.model_version) mp.set_model_version(g.info.model_version);
  if (!g.info.doc.empty()) mp.set_doc_string(g.info.doc);
  for (const auto& [k, v] : g.info.metadata) {
    auto* kv = mp.add_metadata_props();
    kv->set_key(k);
    kv->set_value(v);
  }
  if (g.info.opsets.empty()) {
    auto* os = mp.add_opset_import();
    os->set_domain("");
    os->set_version(17);
  }
  for (const auto& [d, v] : g.info.opsets) {
    auto* os = mp.add_opset_import();
    os->set_domain(d);
    os->set_version(v);
  }
  graph_to_proto(g, mp.mutable_graph(), ir < 4);
  std::string bytes;
  if (!mp.SerializeToString(&bytes)) return io_error("cannot serialize the ONNX model (larger than 2 GiB?)");
  return bytes;
}

Status write_onnx(const Graph& g, const std::string& path) {
  CONVFIX_ASSIGN_OR_RETURN(std::string bytes, onnx_to_bytes(g));
  return write_file_atomic(path, bytes);
}

}  // namespace convfix
