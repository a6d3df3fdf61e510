// tflite_tool — test driver for convfix's TFLite reader and writer, used by
// tests/tflite/test_roundtrip.py (which checks the written files with the
// real TFLite runtime, tools/tflite_run.js).
//
//   tflite_tool describe IN.tflite
//       Prints the full description the round-trip check compares: the
//       graph dump plus every initializer's bytes (hash), quantization,
//       value types, notes, metadata, signatures and subgraphs.
//   tflite_tool roundtrip IN.tflite OUT.tflite [--external]
//       Reads IN, writes OUT (constants after the FlatBuffer with
//       --external), re-reads OUT and checks the description is identical.
//   tflite_tool edit IN.tflite OUT.tflite EDIT [ARGS] [EDIT [ARGS]]...
//       Applies IR edits, writes OUT, re-reads it and checks the description
//       equals the edited graph's. Edits:
//         remove-softmax              drop the SOFTMAX producing output 0
//         mul-output K                append a MUL by the f32 constant K to output 0
//         set-attr NODE KEY VALUE     set an int / float / string attribute (NODE: a
//                                     name, or @OP_TYPE for the last node of that type)
//                                     (VALUE parsed as int, then float, else string)
//         zero-param NODE INPUT       set the initializer at that node input to zeros
//         expose-all                  make every node output a graph output too (in
//                                     node order, after the original outputs), so a
//                                     runtime shows every intermediate tensor
// Exit codes: 0 ok, 1 the re-read graph differs (diff on stdout), 2 error.
#include <cstdint>
#include <cstring>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "convfix/tflite_format.h"

using namespace convfix;

namespace {

uint64_t fnv1a(const void* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}

std::string quant_str(const std::optional<QuantParams>& q) {
  if (!q) return "";
  std::ostringstream o;
  o << " quant(axis=" << q->axis << " n=" << q->scale.size() << " scale0=" << q->scale[0] << " zp0=" << q->zero_point[0]
    << " hash=" << fnv1a(q->scale.data(), q->scale.size() * sizeof(float)) << "/"
    << fnv1a(q->zero_point.data(), q->zero_point.size() * sizeof(int64_t)) << ")";
  return o.str();
}

// Notes that legitimately change on a round trip: the writer stores unique
// names, so "tflite name 'x'" (a renamed duplicate) does not come back, and
// a repaired quantized_dimension is written repaired.
std::string stable_doc(const std::string& doc) {
  std::string out;
  size_t pos = 0;
  while (pos < doc.size()) {
    size_t end = doc.find("; ", pos);
    if (end == std::string::npos) end = doc.size();
    std::string part = doc.substr(pos, end - pos);
    if (part.rfind("tflite name ", 0) != 0 && part.rfind("tflite quantized_dimension ", 0) != 0)
      out += (out.empty() ? "" : "; ") + part;
    pos = end + 2;
  }
  return out;
}

void describe_graph(const Graph& g, std::ostream& o, const std::string& indent) {
  std::istringstream d(g.dump());
  for (std::string line; std::getline(d, line);) o << indent << line << "\n";
  auto vi = [&](const char* what, const ValueInfo& v) {
    o << indent << what << " " << v.name << ": " << dtype_name(v.dtype) << (v.has_shape ? shape_to_string(v.shape) : "?")
      << quant_str(v.quant) << " doc=[" << stable_doc(v.doc) << "]\n";
  };
  for (const auto& v : g.inputs) vi("input", v);
  for (const auto& v : g.outputs) vi("output", v);
  for (const auto& [n, v] : g.value_info) {
    if (!g.is_initializer(n)) vi("value", v);
    else if (!stable_doc(v.doc).empty()) o << indent << "const-note " << n << ": " << stable_doc(v.doc) << "\n";
  }
  for (const auto& [n, t] : g.initializers) {
    o << indent << "const " << n << ": " << dtype_name(t.dtype()) << dims_to_string(t.dims()) << quant_str(t.quant());
    if (t.dtype() == DType::kString) {
      for (const auto& s : *t.strings()) o << " '" << s << "'";
    } else {
      o << " hash=" << fnv1a(t.raw(), t.nbytes());
    }
    o << "\n";
  }
  for (const auto& n : g.nodes)
    for (const auto& [k, a] : n.attrs)
      if (a.kind == Attribute::Kind::kOpaque) o << indent << "opaque " << n.name << "." << k << " hash=" << fnv1a(a.s.data(), a.s.size()) << " size=" << a.s.size() << "\n";
}

std::string describe(const Graph& g) {
  std::ostringstream o;
  o << "format " << g.info.format << " version " << g.info.ir_version << " doc [" << g.info.doc << "]\n";
  for (const auto& [k, v] : g.info.metadata) o << "metadata " << k << " size=" << v.size() << " hash=" << fnv1a(v.data(), v.size()) << "\n";
  for (const auto& s : g.info.signatures) {
    o << "signature " << s.key << " graph " << s.graph << " in:";
    for (const auto& [a, v] : s.inputs) o << " " << a << "=" << v;
    o << " out:";
    for (const auto& [a, v] : s.outputs) o << " " << a << "=" << v;
    o << "\n";
  }
  describe_graph(g, o, "");
  for (size_t k = 0; k < g.info.subgraphs.size(); ++k) {
    o << "subgraph " << k + 1 << "\n";
    describe_graph(*g.info.subgraphs[k], o, "  ");
  }
  return o.str();
}

int fail(const std::string& m) {
  std::cerr << "tflite_tool: " << m << "\n";
  return 2;
}

// Writes g to `out`, re-reads it and compares descriptions.
int write_and_check(const Graph& g, const std::string& out, const TfliteWriteOptions& opt) {
  Status st = write_tflite(g, out, opt);
  if (!st.ok()) return fail(st.message());
  auto back = read_tflite(out);
  if (!back.ok()) return fail("re-reading the written file: " + back.status().message());
  const std::string a = describe(g), b = describe(back.value());
  if (a == b) return 0;
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  int shown = 0;
  for (int line = 1; shown < 20; ++line) {
    const bool ea = !std::getline(sa, la), eb = !std::getline(sb, lb);
    if (ea && eb) break;
    if (ea) la = "<end>";
    if (eb) lb = "<end>";
    if (la != lb) {
      std::cout << "line " << line << ":\n  written: " << la << "\n  re-read: " << lb << "\n";
      ++shown;
    }
  }
  std::cout << "the re-read graph differs from the written one\n";
  return 1;
}

// A node by name, or "@OP_TYPE" for the last node of that op type.
int64_t find(const Graph& g, const std::string& node) {
  if (node.empty() || node[0] != '@') return g.find_node(node);
  for (size_t k = g.nodes.size(); k-- > 0;)
    if (g.nodes[k].op_type == node.substr(1)) return static_cast<int64_t>(k);
  return -1;
}

Status apply_edit(Graph& g, const std::vector<std::string>& args, size_t& i) {
  const std::string e = args[i++];
  auto need = [&](size_t n) -> Status {
    if (i + n > args.size()) return invalid_argument("edit " + e + " needs " + std::to_string(n) + " arguments");
    return Status::OK();
  };
  if (g.outputs.empty()) return invalid_argument("graph has no outputs");
  const std::string out0 = g.outputs[0].name;
  if (e == "remove-softmax") {
    const int64_t p = g.producer(out0);
    if (p < 0 || g.nodes[static_cast<size_t>(p)].op_type != "SOFTMAX") return invalid_argument("output 0 is not produced by a SOFTMAX");
    const std::string in = g.nodes[static_cast<size_t>(p)].inputs[0];
    if (!g.value_info.count(in)) return invalid_argument("the SOFTMAX input has no value_info");
    ValueInfo vi = g.value_info[in];
    g.value_info.erase(in);
    // Graph::remove_node keeps the graph output's name (the producer's
    // value is renamed to it); the output now carries the logits' type.
    CONVFIX_RETURN_IF_ERROR(g.remove_node(static_cast<size_t>(p), 0));
    vi.name = g.outputs[0].name;
    g.outputs[0] = vi;
    return Status::OK();
  }
  if (e == "mul-output") {
    CONVFIX_RETURN_IF_ERROR(need(1));
    const float k = std::stof(args[i++]);
    if (g.outputs[0].dtype != DType::kF32) return invalid_argument("mul-output needs a float output");
    const std::string kname = g.unique_value_name("mul_output_factor");
    g.initializers[kname] = Tensor::scalar_f32(k);
    const std::string oname = g.unique_value_name(out0 + "_scaled");
    Node n;
    n.name = g.unique_node_name(oname);
    n.domain = "tflite";
    n.op_type = "MUL";
    n.inputs = {out0, kname};
    n.outputs = {oname};
    n.attrs["fused_activation_function"] = Attribute::of_string("NONE");
    n.attrs["version"] = Attribute::of_int(1);
    ValueInfo old = g.outputs[0];
    g.value_info[out0] = old;
    g.insert_node(g.nodes.size(), std::move(n));
    g.outputs[0].name = oname;
    g.outputs[0].doc.clear();
    return Status::OK();
  }
  if (e == "set-attr") {
    CONVFIX_RETURN_IF_ERROR(need(3));
    const std::string node = args[i++], key = args[i++], value = args[i++];
    const int64_t idx = find(g, node);
    if (idx < 0) return invalid_argument("no node '" + node + "'");
    Attribute a;
    char* end = nullptr;
    const long long iv = std::strtoll(value.c_str(), &end, 10);
    if (end && *end == '\0' && !value.empty()) {
      a = Attribute::of_int(iv);
    } else {
      const float fv = std::strtof(value.c_str(), &end);
      a = (end && *end == '\0' && !value.empty()) ? Attribute::of_float(fv) : Attribute::of_string(value);
    }
    auto& attrs = g.nodes[static_cast<size_t>(idx)].attrs;
    // Keep the kind the reader gave (beta=1 parsed as int stays a float).
    if (auto it = attrs.find(key); it != attrs.end() && it->second.kind == Attribute::Kind::kFloat && a.kind == Attribute::Kind::kInt)
      a = Attribute::of_float(static_cast<float>(iv));
    attrs[key] = a;
    return Status::OK();
  }
  if (e == "zero-param") {
    CONVFIX_RETURN_IF_ERROR(need(2));
    const std::string node = args[i++];
    const int input = std::stoi(args[i++]);
    const int64_t idx = find(g, node);
    if (idx < 0) return invalid_argument("no node '" + node + "'");
    const Node& n = g.nodes[static_cast<size_t>(idx)];
    if (input < 0 || static_cast<size_t>(input) >= n.inputs.size() || !g.is_initializer(n.inputs[static_cast<size_t>(input)]))
      return invalid_argument("input " + std::to_string(input) + " of '" + node + "' is not a parameter");
    Tensor& t = g.initializers[n.inputs[static_cast<size_t>(input)]];
    Tensor z(t.dtype(), t.dims());
    if (t.quant()) {  // quantized zero is the zero point (per tensor or per channel)
      const QuantParams& q = *t.quant();
      const int64_t ax = q.per_channel() ? q.axis : 0;
      int64_t inner = 1;
      for (int64_t d = ax + 1; d < t.rank(); ++d) inner *= t.dim(d);
      for (int64_t e2 = 0; e2 < z.numel(); ++e2) {
        const int64_t c = q.per_channel() ? (e2 / inner) % t.dim(ax) : 0;
        const int64_t zp = q.zero_point[static_cast<size_t>(c)];
        if (t.dtype() == DType::kI8) z.data<int8_t>()[e2] = static_cast<int8_t>(zp);
        else if (t.dtype() == DType::kU8) z.data<uint8_t>()[e2] = static_cast<uint8_t>(zp);
      }
    }
    z.set_quant(t.quant());
    t = z;
    return Status::OK();
  }
  if (e == "expose-all") {
    std::set<std::string> have;
    for (const auto& o : g.outputs) have.insert(o.name);
    for (const Node& n : g.nodes)
      for (const std::string& v : n.outputs) {
        if (v.empty() || have.count(v)) continue;
        auto it = g.value_info.find(v);
        if (it == g.value_info.end()) return invalid_argument("value '" + v + "' has no value_info");
        g.outputs.push_back(it->second);
        g.value_info.erase(it);
        have.insert(v);
      }
    return Status::OK();
  }
  return invalid_argument("unknown edit '" + e + "'");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2) return fail("usage: tflite_tool describe IN | roundtrip IN OUT [--external] | edit IN OUT EDIT...");
  const std::string cmd = args[0];
  auto g = read_tflite(args[1]);
  if (!g.ok()) return fail(g.status().message());
  if (cmd == "describe") {
    std::cout << describe(g.value());
    return 0;
  }
  if (args.size() < 3) return fail("missing output path");
  if (args[1] == args[2]) return fail("refusing to overwrite the input");
  TfliteWriteOptions opt;
  if (cmd == "roundtrip") {
    if (args.size() > 3 && args[3] == "--external") opt.buffers = TfliteWriteOptions::BufferPlacement::kExternal;
    return write_and_check(g.value(), args[2], opt);
  }
  if (cmd == "edit") {
    size_t i = 3;
    while (i < args.size()) {
      Status st = apply_edit(g.value(), args, i);
      if (!st.ok()) return fail(st.message());
    }
    // .tflite stores no operator names; a reader names each node after its
    // first output, so compare against the edited graph named that way.
    std::set<std::string> used;
    for (auto& n : g.value().nodes) {
      std::string base = n.outputs.empty() ? n.op_type : n.outputs[0], name = base;
      for (int k = 1; used.count(name); ++k) name = base + "_" + std::to_string(k);
      used.insert(name);
      n.name = name;
    }
    return write_and_check(g.value(), args[2], opt);
  }
  return fail("unknown command '" + cmd + "'");
}
