// ONNX reader/writer. The fixtures are written by the onnx Python package
// (onnx.helper, onnx.save_model with external data) at test time, and files
// convfix writes are checked by onnx itself (onnx.checker, protobuf/numpy
// comparison of every attribute). Needs Debian's /usr/bin/python3 with
// python3-onnx; those tests skip without it. The round-trip test over the ONNX
// backend test data needs libonnx-testdata.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "convfix/fileio.h"
#include "convfix/onnx_format.h"

using namespace convfix;
namespace fs = std::filesystem;

namespace {

int run_python(const fs::path& script, const std::string& args) {
  const std::string cmd = "/usr/bin/python3 '" + script.string() + "' " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int st = pclose(p);
  if (!out.empty()) std::cerr << "[python] " << out;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool have_onnx_python() {
  static const int ok = std::system("/usr/bin/python3 -c 'import onnx, numpy' >/dev/null 2>&1") == 0;
  return ok;
}

void write_text(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary);
  f << s;
}

std::string slurp(const fs::path& p) {
  auto r = read_file(p.string());
  return r.ok() ? r.value() : std::string();
}

std::string bytes_of(const Tensor& t) {
  if (t.dtype() == DType::kString) {
    std::string s;
    for (const auto& x : *t.strings()) s += std::to_string(x.size()) + ":" + x + ";";
    return s;
  }
  return std::string(static_cast<const char*>(t.raw()), t.nbytes());
}

// Everything the IR holds, printed: Graph::dump() plus what it leaves out
// (model info, value_info, initializer bytes, full attribute contents and
// subgraphs, provenance). Two graphs with equal deep dumps are the same model.
std::string deep_dump(const Graph& g, int depth = 0) {
  std::ostringstream s;
  s << g.dump();
  s << "info " << g.info.ir_version << " " << g.info.producer_name << " " << g.info.producer_version << " "
    << g.info.domain << " " << g.info.model_version << " doc=" << g.info.doc << "\n";
  for (const auto& [d, v] : g.info.opsets) s << "opset '" << d << "'=" << v << "\n";
  for (const auto& [k, v] : g.info.metadata) s << "meta " << k << "=" << v << "\n";
  auto vi = [&s](const ValueInfo& v) {
    s << v.name << ":" << dtype_name(v.dtype) << (v.has_shape ? shape_to_string(v.shape) : "?");
    for (const auto& d : v.shape) s << "/" << d.symbol;
    s << " doc=" << v.doc << "\n";
  };
  for (const auto& v : g.inputs) vi(v);
  for (const auto& v : g.outputs) vi(v);
  for (const auto& [k, v] : g.value_info) vi(v);
  std::hash<std::string> h;
  for (const auto& [k, t] : g.initializers)
    s << "init " << k << " " << dtype_name(t.dtype()) << dims_to_string(t.dims()) << " #" << h(bytes_of(t)) << "\n";
  for (const auto& n : g.nodes) {
    // provenance.layer is the file's node name: a node the file left unnamed
    // gets a generated name, which the writer stores, so it is compared
    // separately (same_layers).
    s << "node " << n.name << " doc=" << n.doc << " prov=" << n.provenance.format << "/"
      << n.provenance.original_op << "\n";
    for (const auto& [k, a] : n.attrs) {
      s << "  attr " << k << " kind=" << static_cast<int>(a.kind) << " " << a.to_string();
      switch (a.kind) {
        case Attribute::Kind::kFloat: s << " bits=" << std::hash<std::string>()(std::string(reinterpret_cast<const char*>(&a.f), 4)); break;
        case Attribute::Kind::kString: case Attribute::Kind::kOpaque: s << " #" << h(a.s); break;
        case Attribute::Kind::kTensor: s << " #" << h(bytes_of(a.t)); break;
        case Attribute::Kind::kTensors:
          for (const auto& t : a.tensors) s << " " << dtype_name(t.dtype()) << dims_to_string(t.dims()) << "#" << h(bytes_of(t));
          break;
        case Attribute::Kind::kGraph: s << "\n" << (a.g ? deep_dump(*a.g, depth + 1) : "null"); break;
        case Attribute::Kind::kGraphs:
          for (const auto& sg : a.graphs) s << "\n" << deep_dump(*sg, depth + 1);
          break;
        default: break;
      }
      s << "\n";
    }
  }
  return s.str();
}

// Node names the file gave survive a write + read.
bool same_layers(const Graph& a, const Graph& b) {
  if (a.nodes.size() != b.nodes.size()) return false;
  for (size_t i = 0; i < a.nodes.size(); ++i)
    if (!a.nodes[i].provenance.layer.empty() && a.nodes[i].provenance.layer != b.nodes[i].provenance.layer)
      return false;
  return true;
}

// ---- fixtures written by the onnx package --------------------------------
const char* kGenerate = R"PY(
import os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
out = sys.argv[1]
F = TensorProto.FLOAT
def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)
def model(graph, opset=17, ir=8):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="onnx-test-gen")
    m.ir_version = ir
    return m

# 1. external data: every tensor in one file, plus a model whose data sits in a subfolder
w = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
b = np.array([1.5, -2, 0.25, 8], dtype=np.float32)
g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["xw"], name="mm"),
                       helper.make_node("Add", ["xw", "b"], ["y"], name="add")], "ext",
                      [vi("x", [2, 3])], [vi("y", [2, 4])],
                      [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
os.makedirs(f"{out}/ext", exist_ok=True)
onnx.save_model(model(g), f"{out}/ext/model.onnx", save_as_external_data=True,
                all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
os.makedirs(f"{out}/ext2/data", exist_ok=True)
onnx.save_model(model(g), f"{out}/ext2/model.onnx", save_as_external_data=True,
                all_tensors_to_one_file=True, location="data/w.data", size_threshold=0)
w.tofile(f"{out}/w.raw"); b.tofile(f"{out}/b.raw")

# 2. IR 3 / opset 7: initializers also listed as graph inputs
g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add")], "ir3",
                      [vi("x", [1, 4]), vi("w", [1, 4])], [vi("y", [1, 4])],
                      [numpy_helper.from_array(np.ones((1, 4), np.float32), "w")])
onnx.save_model(model(g, opset=7, ir=3), f"{out}/ir3.onnx")

# 3. Constant node + value_info with symbolic dims
c = helper.make_node("Constant", [], ["c"], name="const",
                     value=numpy_helper.from_array(np.array([[1, 2], [3, 4]], np.float32), "cval"))
g = helper.make_graph([c, helper.make_node("Add", ["x", "c"], ["h"], name="add"),
                       helper.make_node("Relu", ["h"], ["y"], name="relu")], "const",
                      [vi("x", ["N", 2])], [vi("y", ["N", 2])], value_info=[vi("h", ["N", 2])])
g.value_info[0].doc_string = "hidden value"
onnx.save_model(model(g), f"{out}/const_vi.onnx")

# 4. every attribute kind on one node (a custom-domain op: nothing interprets it)
sub = helper.make_graph([helper.make_node("Add", ["a", "k"], ["o"])], "sub", [vi("a", [1])], [vi("o", [1])],
                        [numpy_helper.from_array(np.array([2], np.float32), "k")])
sub2 = helper.make_graph([helper.make_node("Neg", ["a"], ["o"], name="neg")], "sub2", [vi("a", [1])], [vi("o", [1])])
sparse = helper.make_sparse_tensor(numpy_helper.from_array(np.array([5, 6], np.float32), "sv"),
                                   numpy_helper.from_array(np.array([1, 3], np.int64), "si"), [4])
zoo = helper.make_node("AttrZoo", ["x"], ["y"], name="zoo", domain="com.convfix.test",
    i=-7, f=0.1, s=b"hello\x00world", ints=[1, -2, 1 << 40], floats=[0.5, -1e-30, float("inf")],
    strings=[b"a", b"", b"ccc"],
    t=numpy_helper.from_array(np.array([[1, 2, 3]], np.int32), "tt"),
    tensors=[numpy_helper.from_array(np.array([1.5], np.float64), "t1"),
             numpy_helper.from_array(np.array([True, False]), "t2")],
    g=sub, graphs=[sub, sub2], sp=sparse, tp=helper.make_tensor_type_proto(F, [2, "M"]),
    tps=[helper.make_tensor_type_proto(TensorProto.INT64, [1])])
g = helper.make_graph([zoo], "zoo", [vi("x", [1])], [vi("y", [1])])
m = model(g)
m.opset_import.append(helper.make_opsetid("com.convfix.test", 1))
m.metadata_props.add(key="author", value="test")
m.doc_string = "attribute zoo"
onnx.save_model(m, f"{out}/attrs.onnx")

# 5. opset 7 and opset 17 models that onnx.checker accepts
for opset in (7, 17):
    g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
                           helper.make_node("Relu", ["c"], ["r"], name="relu"),
                           helper.make_node("MaxPool", ["r"], ["y"], name="pool", kernel_shape=[2, 2], strides=[2, 2])],
                          f"opset{opset}", [vi("x", [1, 2, 4, 4])] + ([vi("w", [3, 2, 3, 3])] if opset == 7 else []),
                          [vi("y", [1, 3, 2, 2])],
                          [numpy_helper.from_array(np.full((3, 2, 3, 3), 0.5, np.float32), "w")])
    m = model(g, opset=opset, ir=3 if opset == 7 else 8)
    onnx.checker.check_model(m, full_check=True)
    onnx.save_model(m, f"{out}/opset{opset}.onnx")
)PY";

// Checks files convfix wrote: onnx.checker, and attribute-by-attribute equality.
const char* kVerify = R"PY(
import sys
import numpy as np
import onnx
from onnx import numpy_helper, AttributeProto as AP
d = sys.argv[1]
fails = []
def check(cond, what):
    if not cond:
        fails.append(what)

def same_tensor(a, b):
    x, y = numpy_helper.to_array(a), numpy_helper.to_array(b)
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()

def same_graph(a, b):
    if [(n.op_type, n.domain, list(n.input), list(n.output)) for n in a.node] != \
       [(n.op_type, n.domain, list(n.input), list(n.output)) for n in b.node]:
        return False
    if sorted(i.name for i in a.initializer) != sorted(i.name for i in b.initializer):
        return False
    ib = {i.name: i for i in b.initializer}
    if not all(same_tensor(i, ib[i.name]) for i in a.initializer):
        return False
    return ([i.SerializeToString() for i in a.input] == [i.SerializeToString() for i in b.input] and
            [o.SerializeToString() for o in a.output] == [o.SerializeToString() for o in b.output] and
            all(same_attr(x, y) for na, nb in zip(a.node, b.node)
                for x, y in zip(sorted(na.attribute, key=lambda q: q.name), sorted(nb.attribute, key=lambda q: q.name))))

def same_attr(a, b):
    if a.name != b.name or a.type != b.type:
        return False
    t = a.type
    if t == AP.FLOAT: return np.float32(a.f).tobytes() == np.float32(b.f).tobytes()
    if t == AP.INT: return a.i == b.i
    if t == AP.STRING: return a.s == b.s
    if t == AP.FLOATS: return np.array(a.floats, np.float32).tobytes() == np.array(b.floats, np.float32).tobytes()
    if t == AP.INTS: return list(a.ints) == list(b.ints)
    if t == AP.STRINGS: return list(a.strings) == list(b.strings)
    if t == AP.TENSOR: return same_tensor(a.t, b.t)
    if t == AP.TENSORS: return len(a.tensors) == len(b.tensors) and all(map(same_tensor, a.tensors, b.tensors))
    if t == AP.GRAPH: return same_graph(a.g, b.g)
    if t == AP.GRAPHS: return len(a.graphs) == len(b.graphs) and all(map(same_graph, a.graphs, b.graphs))
    return a.SerializeToString() == b.SerializeToString()  # sparse tensors, type protos: kept verbatim

# every attribute of the zoo node survives the convfix round trip
orig = onnx.load(f"{d}/attrs.onnx")
back = onnx.load(f"{d}/out_attrs.onnx")
oa = {a.name: a for a in orig.graph.node[0].attribute}
ba = {a.name: a for a in back.graph.node[0].attribute}
check(sorted(oa) == sorted(ba), f"attribute names {sorted(oa)} vs {sorted(ba)}")
for k in oa:
    if k in ba:
        check(same_attr(oa[k], ba[k]), f"attribute {k} differs after the round trip")
check(back.graph.node[0].domain == "com.convfix.test", "custom domain lost")
check({(o.domain, o.version) for o in orig.opset_import} == {(o.domain, o.version) for o in back.opset_import},
      "opset_import differs")
check({p.key: p.value for p in back.metadata_props} == {"author": "test"}, "metadata lost")

# models onnx.checker accepted before must still pass it, with the same opset
for name, opset in (("opset7", 7), ("opset17", 17), ("ir3", 7), ("const_vi", 17)):
    m = onnx.load(f"{d}/out_{name}.onnx")
    try:
        onnx.checker.check_model(m, full_check=True)
    except Exception as e:
        fails.append(f"{name}: onnx.checker rejects convfix's file: {e}")
    check([o.version for o in m.opset_import if o.domain in ("", "ai.onnx")] == [opset], f"{name}: opset")
    o = onnx.load(f"{d}/{name}.onnx")
    check([n.op_type for n in o.graph.node] == [n.op_type for n in m.graph.node], f"{name}: node ops differ")
    ob = {i.name: i for i in m.graph.initializer}
    for i in o.graph.initializer:
        check(i.name in ob and same_tensor(i, ob[i.name]), f"{name}: initializer {i.name} differs")

# IR 3: initializers must be listed as graph inputs again
m = onnx.load(f"{d}/out_ir3.onnx")
check(m.ir_version == 3, "ir3: ir_version changed")
check([i.name for i in m.graph.input] == ["x", "w"], f"ir3: inputs {[i.name for i in m.graph.input]}")
# value_info with its symbolic dims and doc
m = onnx.load(f"{d}/out_const_vi.onnx")
vis = {v.name: v for v in m.graph.value_info}
check("h" in vis and [x.dim_param or x.dim_value for x in vis["h"].type.tensor_type.shape.dim] == ["N", 2],
      "value_info h lost or changed")
check("h" in vis and vis["h"].doc_string == "hidden value", "value_info doc lost")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
)PY";

class OnnxFormat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("convfix-onnx-test-" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    if (!have_onnx_python()) return;
    write_text(*dir_ / "gen.py", kGenerate);
    write_text(*dir_ / "verify.py", kVerify);
    generated_ = run_python(*dir_ / "gen.py", "'" + dir_->string() + "'") == 0;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }
  void SetUp() override {
    if (!have_onnx_python()) GTEST_SKIP() << "needs /usr/bin/python3 with python3-onnx (run scripts/setup)";
    ASSERT_TRUE(generated_) << "fixture generation with the onnx package failed";
  }
  static Graph load(const std::string& name) {
    auto g = read_onnx((*dir_ / name).string());
    EXPECT_TRUE(g.ok()) << name << ": " << g.status().message();
    return g.ok() ? std::move(g).value() : Graph{};
  }
  static fs::path* dir_;
  static bool generated_;
};
fs::path* OnnxFormat::dir_ = nullptr;
bool OnnxFormat::generated_ = false;

TEST_F(OnnxFormat, ExternalDataIsReadFromTheModelFolder) {
  for (const char* m : {"ext/model.onnx", "ext2/model.onnx"}) {
    SCOPED_TRACE(m);
    Graph g = load(m);
    ASSERT_EQ(g.initializers.count("w"), 1u);
    ASSERT_EQ(g.initializers.count("b"), 1u);
    EXPECT_EQ(g.initializers.at("w").dims(), (std::vector<int64_t>{3, 4}));
    EXPECT_EQ(bytes_of(g.initializers.at("w")), slurp(*dir_ / "w.raw"));
    EXPECT_EQ(bytes_of(g.initializers.at("b")), slurp(*dir_ / "b.raw"));
  }
}

TEST_F(OnnxFormat, ExternalDataReadFromBytesNeedsABaseFolder) {
  const std::string bytes = slurp(*dir_ / "ext" / "model.onnx");
  auto no_base = read_onnx_bytes(bytes, "mem.onnx", "");
  ASSERT_FALSE(no_base.ok());
  EXPECT_NE(no_base.status().message().find("mem.onnx"), std::string::npos);
  auto with_base = read_onnx_bytes(bytes, "mem.onnx", (*dir_ / "ext").string());
  ASSERT_TRUE(with_base.ok()) << with_base.status().message();
  EXPECT_EQ(bytes_of(with_base->initializers.at("w")), slurp(*dir_ / "w.raw"));
}

TEST_F(OnnxFormat, InitializersListedAsInputsAreNotRuntimeInputs) {
  Graph g = load("ir3.onnx");
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].name, "x");
  EXPECT_TRUE(g.is_initializer("w"));
  EXPECT_EQ(g.info.ir_version, 3);
  EXPECT_EQ(g.opset(), 7);
}

TEST_F(OnnxFormat, ConstantNodesStayNodesAndValueInfoIsKept) {
  Graph g = load("const_vi.onnx");
  ASSERT_EQ(g.nodes.size(), 3u);
  const Node& c = g.nodes[0];
  EXPECT_EQ(c.op_type, "Constant");
  EXPECT_EQ(c.name, "const");
  ASSERT_NE(c.attr("value"), nullptr);
  ASSERT_EQ(c.attr("value")->kind, Attribute::Kind::kTensor);
  EXPECT_EQ(c.attr("value")->t.to_f32_vector(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_TRUE(g.initializers.empty());
  ASSERT_EQ(g.value_info.count("h"), 1u);
  const ValueInfo& h = g.value_info.at("h");
  EXPECT_EQ(h.dtype, DType::kF32);
  ASSERT_EQ(h.shape.size(), 2u);
  EXPECT_EQ(h.shape[0].symbol, "N");
  EXPECT_FALSE(h.shape[0].known());
  EXPECT_EQ(h.shape[1].value, 2);
  EXPECT_EQ(h.doc, "hidden value");
  EXPECT_EQ(g.inputs[0].shape[0].symbol, "N");
}

TEST_F(OnnxFormat, EveryAttributeKindIsImported) {
  Graph g = load("attrs.onnx");
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& n = g.nodes[0];
  EXPECT_EQ(n.domain, "com.convfix.test");
  EXPECT_EQ(n.provenance.original_op, "com.convfix.test:AttrZoo");
  using K = Attribute::Kind;
  auto kind = [&](const char* k) { return n.attr(k) ? static_cast<int>(n.attr(k)->kind) : -1; };
  EXPECT_EQ(kind("i"), static_cast<int>(K::kInt));
  EXPECT_EQ(n.attr("i")->i, -7);
  EXPECT_EQ(kind("f"), static_cast<int>(K::kFloat));
  EXPECT_EQ(n.attr("f")->f, 0.1f);
  EXPECT_EQ(n.attr("s")->s, std::string("hello\0world", 11));
  EXPECT_EQ(n.attr("ints")->ints, (std::vector<int64_t>{1, -2, int64_t{1} << 40}));
  ASSERT_EQ(n.attr("floats")->floats.size(), 3u);
  EXPECT_EQ(n.attr("floats")->floats[1], -1e-30f);
  EXPECT_EQ(n.attr("strings")->strings, (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(kind("t"), static_cast<int>(K::kTensor));
  EXPECT_EQ(n.attr("t")->t.dtype(), DType::kI32);
  EXPECT_EQ(n.attr("t")->t.to_i64_vector(), (std::vector<int64_t>{1, 2, 3}));
  ASSERT_EQ(kind("tensors"), static_cast<int>(K::kTensors));
  ASSERT_EQ(n.attr("tensors")->tensors.size(), 2u);
  EXPECT_EQ(n.attr("tensors")->tensors[0].dtype(), DType::kF64);
  EXPECT_EQ(n.attr("tensors")->tensors[1].dtype(), DType::kBool);
  ASSERT_EQ(kind("g"), static_cast<int>(K::kGraph));
  ASSERT_TRUE(n.attr("g")->g);
  EXPECT_EQ(n.attr("g")->g->nodes.size(), 1u);
  EXPECT_TRUE(n.attr("g")->g->is_initializer("k"));
  ASSERT_EQ(kind("graphs"), static_cast<int>(K::kGraphs));
  EXPECT_EQ(n.attr("graphs")->graphs.size(), 2u);
  EXPECT_EQ(kind("sp"), static_cast<int>(K::kOpaque));
  EXPECT_EQ(kind("tp"), static_cast<int>(K::kOpaque));
  EXPECT_EQ(kind("tps"), static_cast<int>(K::kOpaque));
  EXPECT_EQ(g.info.metadata.at("author"), "test");
  EXPECT_EQ(g.info.opsets.at("com.convfix.test"), 1);
}

TEST_F(OnnxFormat, OpsetsSevenAndSeventeen) {
  Graph g7 = load("opset7.onnx");
  Graph g17 = load("opset17.onnx");
  EXPECT_EQ(g7.opset(), 7);
  EXPECT_EQ(g17.opset(), 17);
  EXPECT_EQ(g7.nodes.size(), 3u);
  EXPECT_EQ(g7.nodes[0].attr_ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(g17.nodes[2].attr_ints("kernel_shape"), (std::vector<int64_t>{2, 2}));
}

TEST_F(OnnxFormat, WrittenFilesPassOnnxCheckerAndKeepEveryAttribute) {
  for (const char* name : {"attrs", "opset7", "opset17", "ir3", "const_vi"}) {
    Graph g = load(std::string(name) + ".onnx");
    Status st = write_onnx(g, (*dir_ / ("out_" + std::string(name) + ".onnx")).string());
    ASSERT_TRUE(st.ok()) << st.message();
  }
  EXPECT_EQ(run_python(*dir_ / "verify.py", "'" + dir_->string() + "'"), 0);
}

TEST_F(OnnxFormat, RereadingAWrittenModelGivesTheSameGraph) {
  for (const char* name : {"attrs.onnx", "opset7.onnx", "opset17.onnx", "ir3.onnx", "const_vi.onnx",
                           "ext/model.onnx"}) {
    SCOPED_TRACE(name);
    Graph g = load(name);
    auto bytes = onnx_to_bytes(g);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    auto g2 = read_onnx_bytes(bytes.value(), "rewritten.onnx", dir_->string());
    ASSERT_TRUE(g2.ok()) << g2.status().message();
    g2->info.source_path = g.info.source_path;
    EXPECT_EQ(g.dump(), g2->dump());
    EXPECT_EQ(deep_dump(g), deep_dump(g2.value()));
    EXPECT_TRUE(same_layers(g, g2.value()));
  }
}

// Every model of the ONNX backend test data (Debian libonnx-testdata):
// read, write, re-read, same deep dump. No Python needed.
TEST(OnnxFormatTestData, EveryBackendTestModelRoundTrips) {
  const fs::path root = "/usr/share/libonnx-testdata/data";
  if (!fs::is_directory(root)) GTEST_SKIP() << "libonnx-testdata is not installed (run scripts/setup)";
  int models = 0, failures = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().filename() != "model.onnx") continue;
    ++models;
    auto g = read_onnx(e.path().string());
    if (!g.ok()) {
      ++failures;
      ADD_FAILURE() << e.path() << ": " << g.status().message();
      continue;
    }
    auto bytes = onnx_to_bytes(g.value());
    if (!bytes.ok()) {
      ++failures;
      ADD_FAILURE() << e.path() << ": write: " << bytes.status().message();
      continue;
    }
    auto g2 = read_onnx_bytes(bytes.value(), e.path().string(), e.path().parent_path().string());
    if (!g2.ok() || deep_dump(g.value()) != deep_dump(g2.value()) || !same_layers(g.value(), g2.value())) {
      ++failures;
      ADD_FAILURE() << e.path() << ": re-read differs" << (g2.ok() ? "" : ": " + g2.status().message());
    }
    if (failures > 20) break;
  }
  EXPECT_GT(models, 900);
  EXPECT_EQ(failures, 0);
}

TEST(OnnxTensorPb, BackendTestDataTensorsRoundTrip) {
  const fs::path dir = "/usr/share/libonnx-testdata/data/node/test_add/test_data_set_0";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "libonnx-testdata is not installed";
  std::string name;
  auto t = read_tensor_pb((dir / "input_0.pb").string(), &name);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->dims(), (std::vector<int64_t>{3, 4, 5}));
  const fs::path out = fs::temp_directory_path() / ("convfix-pb-" + std::to_string(getpid()) + ".pb");
  ASSERT_TRUE(write_tensor_pb(t.value(), name, out.string()).ok());
  std::string name2;
  auto t2 = read_tensor_pb(out.string(), &name2);
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(name2, name);
  EXPECT_TRUE(t2->bitwise_equal(t.value()));
  fs::remove(out);
}

TEST(OnnxReader, RejectsGarbageWithTheFileName) {
  for (const std::string& bytes : {std::string(), std::string("not a model"), std::string("\x08\x07", 2)}) {
    auto g = read_onnx_bytes(bytes, "junk.onnx");
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.status().message().rfind("junk.onnx", 0), 0u) << g.status().message();
  }
}

}  // namespace
