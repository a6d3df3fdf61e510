// keras_patch_tool — test driver for the Keras / TF.js config patching.
//   keras_patch_tool IN OUT INPUTS(a.npy,b.npy) OUTDIR EDIT...
// Reads IN (Keras .h5 / .keras / arch .json, TF.js model.json), applies the
// edits to the IR, runs the edited graph on INPUTS (OUTDIR/edited_<i>.npy),
// writes OUT in IN's flavour (TF.js: a folder), re-reads OUT and checks that
// the re-read graph has the same nodes (op, attributes but the layer-config
// metadata and the pads form, input count) as the edited one and gives the
// same outputs (OUTDIR/reread_<i>.npy); check_keras_writable /
// check_tfjs_writable must agree with the writer. Exit 0 ok, 1 check failed, 2 usage /
// read error, 3 the writer refused (its message on stderr).
// Edits:
//   attr:NODE:KEY=i,j,...   ints attribute        str:NODE:KEY=VALUE   string attribute
//   int:NODE:KEY=I          int attribute         float:NODE:KEY=F     float attribute
//   const:VALUE=F           scalar initializer    op:NODE=OP           op type (first input kept, attributes dropped)
//   relu6:NODE              Clip(0, 6)            bypass:NODE          node removed, its input used
//   bias:NODE=N             bias 0.1..0.1N added (Conv input 3; MatMul: a new Add after it)
//   insert:NODE=OP          new unary node after NODE (no provenance)
//   pads:NODE=p,...         explicit pads, auto_pad NOTSET
//   inputs:NODE=N           inputs cut to the first N
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "convfix/executor.h"
#include "convfix/keras_format.h"
#include "convfix/model_io.h"
#include "convfix/npy.h"
#include "convfix/tfjs_format.h"

using namespace convfix;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> split(const std::string& s, char c) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string p; std::getline(ss, p, c);) out.push_back(p);
  return out;
}

Node* find(Graph& g, const std::string& name) {
  const int64_t i = g.find_node(name);
  return i < 0 ? nullptr : &g.nodes[static_cast<size_t>(i)];
}

bool apply(Graph& g, const std::string& e, std::string* err) {
  const auto colon = e.find(':');
  const std::string kind = e.substr(0, colon);
  std::string rest = e.substr(colon + 1), value;
  if (const auto eq = rest.find('='); eq != std::string::npos) {
    value = rest.substr(eq + 1);
    rest = rest.substr(0, eq);
  }
  if (kind == "const") {
    auto it = g.initializers.find(rest);
    if (it == g.initializers.end()) return *err = "no initializer " + rest, false;
    it->second = Tensor::scalar_f32(std::stof(value));
    return true;
  }
  std::string node = rest, key;
  if (kind == "attr" || kind == "str" || kind == "int" || kind == "float") {
    const auto c = rest.rfind(':');
    node = rest.substr(0, c);
    key = rest.substr(c + 1);
  }
  Node* n = find(g, node);
  if (!n) return *err = "no node " + node, false;
  if (kind == "attr") {
    std::vector<int64_t> v;
    for (const auto& x : split(value, ',')) v.push_back(std::stoll(x));
    n->attrs[key] = Attribute::of_ints(v);
  } else if (kind == "int") {
    n->attrs[key] = Attribute::of_int(std::stoll(value));
  } else if (kind == "float") {
    n->attrs[key] = Attribute::of_float(std::stof(value));
  } else if (kind == "str") {
    n->attrs[key] = Attribute::of_string(value);
  } else if (kind == "pads") {
    std::vector<int64_t> v;
    for (const auto& x : split(value, ',')) v.push_back(std::stoll(x));
    n->attrs["pads"] = Attribute::of_ints(v);
    n->attrs["auto_pad"] = Attribute::of_string("NOTSET");
  } else if (kind == "op") {
    n->op_type = value;
    n->inputs.resize(1);
    n->attrs.clear();
  } else if (kind == "inputs") {
    n->inputs.resize(static_cast<size_t>(std::stoll(value)));
  } else if (kind == "relu6") {
    const std::string lo = g.unique_value_name(node + "/lo"), hi = g.unique_value_name(node + "/hi");
    g.initializers[lo] = Tensor::scalar_f32(0.f);
    g.initializers[hi] = Tensor::scalar_f32(6.f);
    n->op_type = "Clip";
    n->inputs = {n->inputs[0], lo, hi};
    n->attrs.clear();
  } else if (kind == "bypass") {
    const std::string in = n->inputs[0], out = n->outputs[0];
    g.nodes.erase(g.nodes.begin() + g.find_node(node));
    g.rewire(out, in);
  } else if (kind == "bias") {
    const int64_t c = std::stoll(value);
    std::vector<float> b;
    for (int64_t i = 0; i < c; ++i) b.push_back(0.1f * static_cast<float>(i + 1));
    const std::string bn = g.unique_value_name(node + "/added_bias");
    g.initializers[bn] = Tensor::from_vector<float>(DType::kF32, {c}, b);
    if (n->op_type == "MatMul") {
      Node add;
      add.name = g.unique_node_name(node + "/added_bias_add");
      add.op_type = "Add";
      const std::string out = n->outputs[0];
      add.outputs = {g.unique_value_name(add.name)};
      g.rewire(out, add.outputs[0]);
      add.inputs = {out, bn};
      g.insert_node(static_cast<size_t>(g.find_node(node)) + 1, add);
    } else {
      n->inputs.resize(2);
      n->inputs.push_back(bn);
    }
  } else if (kind == "insert") {
    Node x;
    x.name = g.unique_node_name(node + "/inserted");
    x.op_type = value;
    const std::string out = n->outputs[0];
    x.outputs = {g.unique_value_name(x.name)};
    g.rewire(out, x.outputs[0]);
    x.inputs = {out};
    g.insert_node(static_cast<size_t>(g.find_node(node)) + 1, x);
  } else {
    return *err = "unknown edit " + e, false;
  }
  return true;
}

// One line per node: op, attributes (but layer-config metadata and the pads
// form), input count; sorted.
std::vector<std::string> signature(const Graph& g) {
  std::vector<std::string> out;
  for (const auto& n : g.nodes) {
    if (n.op_type == "Identity") continue;
    std::string s = n.domain + ":" + n.op_type + " in=" + std::to_string(n.inputs.size());
    for (const auto& [k, a] : n.attrs)
      if (k != "keras_layer_config" && k != "auto_pad" && k != "pads") s += " " + k + "=" + a.to_string();
    out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Expected<TensorMap> run(const Graph& g, const std::vector<Tensor>& xs) {
  TensorMap in;
  for (size_t i = 0; i < g.inputs.size() && i < xs.size(); ++i) in[g.inputs[i].name] = xs[i];
  CONVFIX_ASSIGN_OR_RETURN(auto ex, Executor::create(std::make_shared<const Graph>(g)));
  return ex->run(in);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: keras_patch_tool IN OUT INPUTS OUTDIR EDIT...\n");
    return 2;
  }
  const std::string in = argv[1], out = argv[2], outdir = argv[4];
  auto g = load_model(in);
  if (!g.ok()) return std::fprintf(stderr, "keras_patch_tool: %s\n", g.status().message().c_str()), 2;
  std::vector<Tensor> xs;
  for (const auto& f : split(argv[3], ',')) {
    auto t = read_npy(f);
    if (!t.ok()) return std::fprintf(stderr, "keras_patch_tool: %s\n", t.status().message().c_str()), 2;
    xs.push_back(*t);
  }
  for (int i = 5; i < argc; ++i) {
    std::string err;
    if (!apply(*g, argv[i], &err)) return std::fprintf(stderr, "keras_patch_tool: %s\n", err.c_str()), 2;
  }
  if (Status st = g->topo_sort(); !st.ok()) return std::fprintf(stderr, "keras_patch_tool: %s\n", st.message().c_str()), 2;
  fs::create_directories(outdir);
  auto ye = run(*g, xs);
  if (!ye.ok()) return std::fprintf(stderr, "keras_patch_tool: edited graph: %s\n", ye.status().message().c_str()), 2;
  for (size_t i = 0; i < g->outputs.size(); ++i)
    (void)write_npy(ye->at(g->outputs[i].name), outdir + "/edited_" + std::to_string(i) + ".npy");
  const bool tfjs = fs::path(in).filename() == "model.json";  // else a Keras file (arch JSON: another name)
  const Status chk = tfjs ? check_tfjs_writable(*g, in) : check_keras_writable(*g, in);
  Status st = tfjs ? write_tfjs(*g, in, out) : write_keras(*g, in, out);
  if (chk.code() != st.code() || chk.message() != st.message()) {
    std::fprintf(stderr, "keras_patch_tool: check_*_writable says '%s', the writer '%s'\n", chk.message().c_str(), st.message().c_str());
    return 1;
  }
  if (!st.ok()) {
    std::fprintf(stderr, "keras_patch_tool: %s\n", st.message().c_str());
    return st.code() == StatusCode::kNotImplemented ? 3 : 2;
  }
  auto r = load_model(tfjs ? (fs::path(out) / "model.json").string() : out);
  if (!r.ok()) return std::fprintf(stderr, "keras_patch_tool: re-read: %s\n", r.status().message().c_str()), 1;
  const auto sa = signature(*g), sb = signature(*r);
  if (sa != sb) {
    std::fprintf(stderr, "keras_patch_tool: the re-read graph differs from the edited one\n");
    for (const auto& s : sa)
      if (std::find(sb.begin(), sb.end(), s) == sb.end()) std::fprintf(stderr, "  only edited: %s\n", s.c_str());
    for (const auto& s : sb)
      if (std::find(sa.begin(), sa.end(), s) == sa.end()) std::fprintf(stderr, "  only re-read: %s\n", s.c_str());
    return 1;
  }
  auto yr = run(*r, xs);
  if (!yr.ok()) return std::fprintf(stderr, "keras_patch_tool: re-read graph: %s\n", yr.status().message().c_str()), 1;
  double worst = 0;
  for (size_t i = 0; i < r->outputs.size(); ++i) {
    const Tensor& a = ye->at(g->outputs[i].name);
    const Tensor& b = yr->at(r->outputs[i].name);
    (void)write_npy(b, outdir + "/reread_" + std::to_string(i) + ".npy");
    if (a.dims() != b.dims()) return std::fprintf(stderr, "keras_patch_tool: output %zu shape differs\n", i), 1;
    for (int64_t k = 0; k < a.numel(); ++k)
      worst = std::max(worst, static_cast<double>(std::fabs(a.data<float>()[k] - b.data<float>()[k])));
  }
  std::printf("nodes %zu, same signature; max |edited - re-read| %.3g\n", r->nodes.size(), worst);
  return worst <= 1e-6 ? 0 : 1;
}
