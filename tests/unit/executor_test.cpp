// Executor properties that hold for any kernels: observing never changes
// results, re-execution after an edit equals a full run of the edited graph,
// values of clean nodes really come from the cache, and 1 vs 2 threads give
// bit-identical results. The graphs use ops that exist from the first commit
// (Add/Sub/Mul/Div/Max from src/ops/elementwise_binary.cpp) plus, when built,
// MatMul and Conv (their multi-threaded paths).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <set>

#include "convfix/executor.h"
#include "convfix/op_registry.h"
#include "ops/nn_backend.h"
#include "test_util.h"

using namespace convfix;

namespace {

Tensor random_f32(std::vector<int64_t> dims, uint32_t seed) {
  return testutil::random_tensor(std::move(dims), seed, -2.f, 2.f);
}
using testutil::node;
using testutil::vinfo;

bool have_op(const char* op) { return OpRegistry::builtin().find("", op) != nullptr; }

// A diamond-shaped graph over x[2,64,96] (large enough for parallel_for to
// split the elementwise loops):
//   a = x + w1;  b = a * w2;  c = a - w3;  d = max(b, c);  e = d / w4;  y = e + b
Graph diamond() {
  Graph g;
  g.name = "diamond";
  g.info.opsets[""] = 17;
  const std::vector<int64_t> s = {2, 64, 96};
  g.inputs.push_back(vinfo("x", s));
  g.outputs.push_back(vinfo("y", s));
  g.outputs.push_back(vinfo("c", s));  // an intermediate that is also an output
  g.initializers["w1"] = random_f32({96}, 1);
  g.initializers["w2"] = random_f32({64, 1}, 2);
  g.initializers["w3"] = random_f32(s, 3);
  Tensor w4 = random_f32({1}, 4);
  w4.data<float>()[0] = 1.75f;
  g.initializers["w4"] = w4;
  g.nodes.push_back(node("add_a", "Add", {"x", "w1"}, {"a"}));
  g.nodes.push_back(node("mul_b", "Mul", {"a", "w2"}, {"b"}));
  g.nodes.push_back(node("sub_c", "Sub", {"a", "w3"}, {"c"}));
  g.nodes.push_back(node("max_d", "Max", {"b", "c"}, {"d"}));
  g.nodes.push_back(node("div_e", "Div", {"d", "w4"}, {"e"}));
  g.nodes.push_back(node("add_y", "Add", {"e", "b"}, {"y"}));
  EXPECT_TRUE(g.verify().ok());
  return g;
}

std::unique_ptr<Executor> make(const Graph& g, int threads = 1) {
  auto ex = Executor::create(std::make_shared<Graph>(g), ExecOptions{threads, true});
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  return ex.ok() ? std::move(ex).value() : nullptr;
}

TensorMap run_ok(Executor& ex, const TensorMap& in, const RunOptions& ro = {}) {
  auto r = ex.run(in, ro);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : TensorMap{};
}

void expect_bitwise_equal(const TensorMap& a, const TensorMap& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [k, t] : a) {
    ASSERT_EQ(b.count(k), 1u) << k;
    EXPECT_TRUE(t.bitwise_equal(b.at(k))) << "value '" << k << "' differs";
  }
}

// The graph evaluated with plain loops, as an independent check of the
// executor's wiring (not of the kernels, which the conformance tests cover).
Tensor diamond_by_hand(const Graph& g, const Tensor& x) {
  Tensor y(DType::kF32, x.dims());
  const float* px = x.data<float>();
  const float* w1 = g.initializers.at("w1").data<float>();
  const float* w2 = g.initializers.at("w2").data<float>();
  const float* w3 = g.initializers.at("w3").data<float>();
  const float w4 = g.initializers.at("w4").data<float>()[0];
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 64; ++i)
      for (int64_t j = 0; j < 96; ++j) {
        const int64_t k = (n * 64 + i) * 96 + j;
        const float a = px[k] + w1[j];
        const float b = a * w2[i];
        const float c = a - w3[k];
        const float d = std::max(b, c);
        y.data<float>()[k] = d / w4 + b;
      }
  return y;
}

TEST(Executor, DiamondGraphMatchesAHandWrittenLoop) {
  Graph g = diamond();
  auto ex = make(g);
  ASSERT_TRUE(ex);
  const Tensor x = random_f32({2, 64, 96}, 10);
  TensorMap out = run_ok(*ex, {{"x", x}});
  ASSERT_EQ(out.count("y"), 1u);
  const Tensor want = diamond_by_hand(g, x);
  ASSERT_EQ(out["y"].dims(), want.dims());
  // Kernels may evaluate e.g. a division differently (reciprocal), so allow
  // a few ulps; a wiring mistake gives errors of order 1.
  for (int64_t i = 0; i < want.numel(); ++i) {
    const float w = want.data<float>()[i], got = out["y"].data<float>()[i];
    ASSERT_NEAR(got, w, 1e-5f * (1.f + std::fabs(w))) << "element " << i;
  }
}

TEST(Executor, ObservingEveryNodeDoesNotChangeOutputsBitForBit) {
  Graph g = diamond();
  auto ex = make(g);
  ASSERT_TRUE(ex);
  const TensorMap in = {{"x", random_f32({2, 64, 96}, 11)}};
  const TensorMap plain = run_ok(*ex, in);
  CaptureAll cap;
  RunOptions ro;
  ro.observer = &cap;
  const TensorMap observed = run_ok(*ex, in, ro);
  expect_bitwise_equal(plain, observed);
  // Every output of every node was handed out, and equals what keep_all saw.
  EXPECT_EQ(cap.values.size(), g.nodes.size());
  ValueCache all;
  RunOptions ro2;
  ro2.keep_all = &all;
  const TensorMap kept = run_ok(*ex, in, ro2);
  expect_bitwise_equal(plain, kept);
  for (const auto& [name, t] : cap.values) {
    ASSERT_EQ(all.count(name), 1u) << name;
    EXPECT_TRUE(all.at(name).bitwise_equal(t)) << name;
  }
  // Holding on to observed tensors does not let a later run change them.
  const Tensor a_copy = cap.values.at("a").clone();
  run_ok(*ex, {{"x", random_f32({2, 64, 96}, 12)}});
  EXPECT_TRUE(cap.values.at("a").bitwise_equal(a_copy));
}

// Observer that only asks for some nodes.
class Selective : public Observer {
 public:
  bool wants(const Node& n) override { return n.op_type == "Max"; }
  void on_output(const Node& n, size_t, const std::string& v, const Tensor&) override { seen.push_back(n.name + ":" + v); }
  std::vector<std::string> seen;
};

TEST(Executor, ObserverIsOnlyHandedTheNodesItWants) {
  Graph g = diamond();
  auto ex = make(g);
  ASSERT_TRUE(ex);
  Selective sel;
  RunOptions ro;
  ro.observer = &sel;
  run_ok(*ex, {{"x", random_f32({2, 64, 96}, 13)}}, ro);
  EXPECT_EQ(sel.seen, (std::vector<std::string>{"max_d:d"}));
}

TEST(Executor, ReexecutionAfterAnEditEqualsAFullRunOfTheEditedGraph) {
  Graph g = diamond();
  const TensorMap in = {{"x", random_f32({2, 64, 96}, 14)}};
  ValueCache cache;
  {
    auto ex = make(g);
    ASSERT_TRUE(ex);
    RunOptions ro;
    ro.keep_all = &cache;
    run_ok(*ex, in, ro);
  }
  // Edit 1: sub_c becomes an Add (same name, same output value name).
  Graph g1 = g;
  g1.nodes[2].op_type = "Add";
  // Edit 2: a new node inserted between max_d and div_e.
  Graph g2 = g;
  g2.nodes.insert(g2.nodes.begin() + 4, node("mul_new", "Mul", {"d", "w2"}, {"d2"}));
  g2.nodes[5].inputs[0] = "d2";
  ASSERT_TRUE(g2.verify().ok());
  struct Edit { const char* what; Graph* graph; std::set<std::string> dirty; };
  for (const Edit& e : {Edit{"op change", &g1, {"sub_c"}}, Edit{"inserted node", &g2, {"mul_new"}}}) {
    SCOPED_TRACE(e.what);
    auto ex = make(*e.graph);
    ASSERT_TRUE(ex);
    const TensorMap full = run_ok(*ex, in);
    RunOptions ro;
    ro.reuse = &cache;
    ro.dirty_nodes = e.dirty;
    const TensorMap partial = run_ok(*ex, in, ro);
    expect_bitwise_equal(full, partial);
    // And the edit did change something (the test would be vacuous otherwise).
    bool changed = false;
    for (const auto& [k, t] : full) changed |= !t.bitwise_equal(cache.at(k));
    EXPECT_TRUE(changed);
  }
}

TEST(Executor, CleanNodesAreTakenFromTheCacheNotRecomputed) {
  Graph g = diamond();
  const TensorMap in = {{"x", random_f32({2, 64, 96}, 15)}};
  auto ex = make(g);
  ASSERT_TRUE(ex);
  ValueCache cache;
  RunOptions keep;
  keep.keep_all = &cache;
  const TensorMap full = run_ok(*ex, in, keep);
  // Poison the cached value of 'b' (clean, upstream of the dirty node div_e).
  // If b is reused, y = e + b sees the poison; if it were recomputed, not.
  ValueCache poisoned = cache;
  Tensor b = cache.at("b").clone();
  for (int64_t i = 0; i < b.numel(); ++i) b.data<float>()[i] = 1000.f;
  poisoned["b"] = b;
  RunOptions ro;
  ro.reuse = &poisoned;
  ro.dirty_nodes = {"div_e"};
  const TensorMap partial = run_ok(*ex, in, ro);
  // e is recomputed from the cached d (not poisoned), so e is exact, and
  // y = e + 1000 everywhere.
  const Tensor& e = cache.at("e");
  const Tensor& y = partial.at("y");
  for (int64_t i = 0; i < y.numel(); i += 97) ASSERT_EQ(y.data<float>()[i], e.data<float>()[i] + 1000.f);
  // c is clean and not downstream of div_e: exactly the cached one.
  EXPECT_TRUE(partial.at("c").bitwise_equal(full.at("c")));
  // With no dirty nodes, everything comes from the cache.
  RunOptions none;
  none.reuse = &poisoned;
  const TensorMap all_cached = run_ok(*ex, in, none);
  EXPECT_TRUE(all_cached.at("y").bitwise_equal(cache.at("y")));
}

TEST(Executor, OneAndTwoThreadsAgreeBitForBit) {
  Graph g = diamond();
  // When the NN kernels are built, append MatMul and Conv so their
  // multi-threaded paths are covered too.
  const bool nn = have_op("MatMul") && have_op("Conv");
  if (nn) {
    g.outputs.clear();
    g.initializers["mm"] = random_f32({96, 80}, 20);
    g.initializers["cw"] = random_f32({8, 2, 3, 3}, 21);
    g.initializers["cb"] = random_f32({8}, 22);
    g.nodes.push_back(node("matmul", "MatMul", {"y", "mm"}, {"z"}));  // [2,64,80]
    Node conv = node("conv", "Conv", {"z4", "cw", "cb"}, {"out"});
    conv.attrs["pads"] = Attribute::of_ints({1, 1, 1, 1});
    g.initializers["shape4"] = Tensor::from_vector<int64_t>(DType::kI64, {4}, {1, 2, 64, 80});
    if (have_op("Reshape")) {
      g.nodes.push_back(node("reshape", "Reshape", {"z", "shape4"}, {"z4"}));
      g.nodes.push_back(conv);
      g.outputs.push_back(vinfo("out", {1, 8, 64, 80}));
    }
    g.outputs.push_back(vinfo("z", {2, 64, 80}));
    g.outputs.push_back(vinfo("y", {2, 64, 96}));
    ASSERT_TRUE(g.verify().ok());
  }
  const TensorMap in = {{"x", random_f32({2, 64, 96}, 16)}};
  auto ex1 = make(g, 1);
  auto ex2 = make(g, 2);
  ASSERT_TRUE(ex1 && ex2);
  ValueCache v1, v2;
  RunOptions r1, r2;
  r1.keep_all = &v1;
  r2.keep_all = &v2;
  expect_bitwise_equal(run_ok(*ex1, in, r1), run_ok(*ex2, in, r2));
  for (const auto& [k, t] : v1) EXPECT_TRUE(v2.count(k) && v2.at(k).bitwise_equal(t)) << k;
}

TEST(Executor, ErrorsNameTheInputOrNode) {
  Graph g = diamond();
  auto ex = make(g);
  ASSERT_TRUE(ex);
  auto missing = ex->run({});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'x'"), std::string::npos);
  auto unknown = ex->run({{"x", random_f32({2, 64, 96}, 1)}, {"nope", random_f32({1}, 1)}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'nope'"), std::string::npos);
  auto wrong_type = ex->run({{"x", Tensor(DType::kF64, {2, 64, 96})}});
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.status().message().find("'x'"), std::string::npos);
  auto wrong_rank = ex->run({{"x", random_f32({64, 96}, 1)}});
  ASSERT_FALSE(wrong_rank.ok());
  EXPECT_NE(wrong_rank.status().message().find("'x'"), std::string::npos);
  // A kernel's shape error names the node and op.
  // (The rank matches, so the executor lets it through to the kernels.)
  auto bad_shape = ex->run({{"x", random_f32({2, 64, 95}, 1)}});
  ASSERT_FALSE(bad_shape.ok());
  EXPECT_NE(bad_shape.status().message().find("add_a"), std::string::npos) << bad_shape.status().message();
  EXPECT_NE(bad_shape.status().message().find("Add"), std::string::npos);
}

TEST(Executor, UnknownOpsFailAtCreateOnlyWhenAsked) {
  Graph g;
  g.info.opsets[""] = 17;
  g.inputs.push_back(vinfo("x", {2}));
  g.outputs.push_back(vinfo("y", {2}));
  g.nodes.push_back(node("mystery", "NoSuchOpAnywhere", {"x"}, {"y"}));
  auto lenient = Executor::create(std::make_shared<Graph>(g), ExecOptions{1, false});
  ASSERT_TRUE(lenient.ok());
  EXPECT_EQ((*lenient)->unsupported_ops(), (std::vector<std::string>{"NoSuchOpAnywhere"}));
  auto r = (*lenient)->run({{"x", random_f32({2}, 1)}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("mystery"), std::string::npos);
  EXPECT_NE(r.status().message().find("NoSuchOpAnywhere"), std::string::npos);
  auto strict = Executor::create(std::make_shared<Graph>(g), ExecOptions{1, true});
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("mystery"), std::string::npos);
}

}  // namespace

// Fusion (executor.h): Conv followed by its only consumer Relu / LeakyRelu /
// Clip gives the same outputs fused (default), unfused (ExecOptions::fuse =
// false), and with an observer that wants the Conv (which turns fusion off
// for that node and must be handed the pre-activation value). The
// expectation is computed here by hand from the unfused Conv output.
TEST(Executor, ConvActivationFusionMatchesUnfusedAndStaysObservable) {
  if (!have_op("Conv") || !have_op("Clip") || !have_op("Relu") || !have_op("LeakyRelu")) GTEST_SKIP();
  Graph g;
  g.name = "fusion";
  g.info.opsets[""] = 13;
  g.inputs.push_back(vinfo("x", {2, 16, 20, 20}));
  g.initializers["w1"] = random_f32({32, 16, 3, 3}, 31);
  g.initializers["b1"] = random_f32({32}, 32);
  g.initializers["w2"] = random_f32({32, 1, 3, 3}, 33);
  g.initializers["w3"] = random_f32({16, 32, 1, 1}, 34);
  g.initializers["lo"] = Tensor::scalar_f32(-0.5f);
  g.initializers["hi"] = Tensor::scalar_f32(6.0f);
  Node c1 = node("c1", "Conv", {"x", "w1", "b1"}, {"y1"});
  c1.attrs["pads"] = Attribute::of_ints({1, 1, 1, 1});
  Node c2 = node("c2", "Conv", {"a1", "w2"}, {"y2"});
  c2.attrs["pads"] = Attribute::of_ints({1, 1, 1, 1});
  c2.attrs["group"] = Attribute::of_int(32);
  Node c3 = node("c3", "Conv", {"a2", "w3"}, {"y3"});
  Node leaky = node("leaky", "LeakyRelu", {"y3"}, {"out"});
  leaky.attrs["alpha"] = Attribute::of_float(0.2f);
  g.nodes = {c1, node("clip", "Clip", {"y1", "lo", "hi"}, {"a1"}), c2, node("relu", "Relu", {"y2"}, {"a2"}), c3, leaky};
  g.outputs.push_back(vinfo("out", {2, 16, 20, 20}));
  ASSERT_TRUE(g.verify().ok());
  const TensorMap in = {{"x", random_f32({2, 16, 20, 20}, 35)}};

  auto fused_ex = make(g, 2);
  ASSERT_TRUE(fused_ex);
  const TensorMap fused = run_ok(*fused_ex, in, {});
  // The reference kernels never fuse; the oneDNN path fuses all three.
  EXPECT_EQ(fused_ex->last_run_fused(), ops::fast_kernels_enabled() ? 3 : 0);  // Clip, Relu, LeakyRelu

  ExecOptions no_fuse;
  no_fuse.threads = 2;
  auto plain_ex = Executor::create(std::make_shared<Graph>(g), no_fuse);
  ASSERT_TRUE(plain_ex.ok());
  CaptureAll all;
  RunOptions ro;
  ro.observer = &all;
  const TensorMap plain = run_ok(**plain_ex, in, ro);

  // The activations recomputed by hand from the captured Conv outputs.
  auto check_act = [&](const std::string& pre, const std::string& post, auto f) {
    ASSERT_TRUE(all.values.count(pre) && all.values.count(post)) << pre;
    const Tensor& a = all.values.at(pre);
    const Tensor& b = all.values.at(post);
    for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(b.data<float>()[i], f(a.data<float>()[i])) << post << " at " << i;
  };
  check_act("y1", "a1", [](float v) { return std::min(std::max(v, -0.5f), 6.0f); });
  check_act("y2", "a2", [](float v) { return std::max(v, 0.0f); });
  check_act("y3", "out", [](float v) { return v < 0 ? 0.2f * v : v; });

  const Tensor& a = fused.at("out");
  const Tensor& b = plain.at("out");
  ASSERT_EQ(a.dims(), b.dims());
  double max_ref = 0, max_diff = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(b.data<float>()[i])));
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(a.data<float>()[i]) - b.data<float>()[i]));
  }
  EXPECT_LE(max_diff, 1e-5 * max_ref);

  // An observer on the fused executor that wants only c2 gets the
  // pre-activation value, equal to the unfused run's.
  struct Only : Observer {
    bool wants(const Node& n) override { return n.name == "c2"; }
    void on_output(const Node&, size_t, const std::string& v, const Tensor& t) override { got[v] = t; }
    std::map<std::string, Tensor> got;
  } only;
  RunOptions r2;
  r2.observer = &only;
  run_ok(*fused_ex, in, r2);
  EXPECT_EQ(fused_ex->last_run_fused(), ops::fast_kernels_enabled() ? 2 : 0);  // not c2's Relu
  ASSERT_EQ(only.got.size(), 1u);
  ASSERT_TRUE(only.got.count("y2"));
  const Tensor& y2 = all.values.at("y2");
  double d2 = 0;
  for (int64_t i = 0; i < y2.numel(); ++i)
    d2 = std::max(d2, std::fabs(static_cast<double>(only.got.at("y2").data<float>()[i]) - y2.data<float>()[i]));
  EXPECT_LE(d2, 1e-4);
}

// Blocked layout (executor.h): a graph where nChw16c tensors flow through
// Conv, a fused and an unfused activation, a residual Add, MaxPool,
// AveragePool, a channel Concat, and into ops that need plain tensors
// (GlobalAveragePool, a broadcasting Mul, Flatten). Outputs equal the run
// with blocked layouts off; an observer sees plain values equal to the
// unblocked run's.
TEST(Executor, BlockedLayoutGivesThePlainRunsResultsAndPlainObservedValues) {
  for (const char* op : {"Conv", "Relu", "Add", "MaxPool", "AveragePool", "Concat", "GlobalAveragePool", "Mul", "Flatten",
                         "Sigmoid", "Pad"})
    if (!have_op(op)) GTEST_SKIP() << op;
  Graph g;
  g.name = "blocked";
  g.info.opsets[""] = 13;
  g.inputs.push_back(vinfo("x", {2, 3, 17, 19}));
  g.initializers["w0"] = random_f32({32, 3, 3, 3}, 41);
  g.initializers["b0"] = random_f32({32}, 42);
  g.initializers["w1"] = random_f32({32, 32, 1, 1}, 43);
  g.initializers["w2"] = random_f32({32, 1, 3, 3}, 44);
  g.initializers["w3"] = random_f32({16, 64, 3, 3}, 45);
  g.initializers["scale"] = random_f32({1, 64, 1, 1}, 46);
  auto conv = [&](const std::string& name, std::vector<std::string> in, const std::string& out, int64_t pad,
                  int64_t group) {
    Node c = node(name, "Conv", std::move(in), {out});
    c.attrs["pads"] = Attribute::of_ints({pad, pad, pad, pad});
    if (group > 1) c.attrs["group"] = Attribute::of_int(group);
    return c;
  };
  Node mp = node("mp", "MaxPool", {"s"}, {"m"});
  mp.attrs["kernel_shape"] = Attribute::of_ints({3, 3});
  mp.attrs["strides"] = Attribute::of_ints({2, 2});
  mp.attrs["pads"] = Attribute::of_ints({1, 1, 1, 1});
  g.initializers["pads"] = Tensor::from_vector<int64_t>(DType::kI64, {8}, {0, 0, 1, 1, 0, 0, 1, 1});
  Node pad = node("pad", "Pad", {"s", "pads"}, {"sp"});  // H/W zero pad on nChw16c
  Node ap = node("ap", "AveragePool", {"sp"}, {"a"});
  ap.attrs["kernel_shape"] = Attribute::of_ints({3, 3});
  ap.attrs["strides"] = Attribute::of_ints({2, 2});
  ap.attrs["ceil_mode"] = Attribute::of_int(1);
  Node cat = node("cat", "Concat", {"m", "a"}, {"c"});
  cat.attrs["axis"] = Attribute::of_int(1);
  g.nodes = {conv("c0", {"x", "w0", "b0"}, "y0", 1, 1),  // plain in, blocked out
             node("r0", "Relu", {"y0"}, {"z0"}),         // fused
             conv("c1", {"z0", "w1"}, "y1", 0, 1),       // pointwise, blocked in/out
             node("sg", "Sigmoid", {"y1"}, {"q1"}),      // not fusable: elementwise on nChw16c
             conv("c2", {"q1", "w2"}, "y2", 1, 32),      // depthwise
             node("add", "Add", {"y2", "z0"}, {"s"}),    // residual, both nChw16c
             mp, pad, ap, cat,                           // pad and pools on nChw16c, channel concat
             node("mul", "Mul", {"c", "scale"}, {"cs"}),  // broadcast: needs plain
             node("gap", "GlobalAveragePool", {"c"}, {"g"}),
             node("fl", "Flatten", {"g"}, {"f"}),
             conv("c3", {"cs", "w3"}, "y3", 1, 1)};
  g.outputs.push_back(vinfo("f", {2, 64}));
  g.outputs.push_back(vinfo("y3", {2, 16, 9, 10}));
  ASSERT_TRUE(g.verify().ok());
  const TensorMap in = {{"x", random_f32({2, 3, 17, 19}, 47)}};

  ExecOptions plain_opts;
  plain_opts.threads = 2;
  plain_opts.blocked_layout = false;
  plain_opts.fuse = false;
  auto plain_ex = Executor::create(std::make_shared<Graph>(g), plain_opts);
  ASSERT_TRUE(plain_ex.ok());
  ValueCache all_plain;
  RunOptions keep;
  keep.keep_all = &all_plain;
  const TensorMap want = run_ok(**plain_ex, in, keep);

  auto close = [](const Tensor& a, const Tensor& b, const std::string& what) {
    ASSERT_EQ(a.dims(), b.dims()) << what;
    EXPECT_EQ(a.layout(), MemoryLayout::kPlain) << what;
    double ref = 0, diff = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
      ref = std::max(ref, std::fabs(static_cast<double>(b.data<float>()[i])));
      diff = std::max(diff, std::fabs(static_cast<double>(a.data<float>()[i]) - b.data<float>()[i]));
    }
    EXPECT_LE(diff, 1e-5 * std::max(1.0, ref)) << what;
  };
  for (int threads : {1, 2}) {
    auto ex = make(g, threads);
    ASSERT_TRUE(ex);
    const TensorMap got = run_ok(*ex, in, {});
    for (const auto& [k, t] : want) close(got.at(k), t, k + " threads " + std::to_string(threads));
    // On the oneDNN path: y0 (fused into z0), y1, q1, y2, s, m, sp, a, c.
    EXPECT_EQ(ex->last_run_blocked(), ops::fast_kernels_enabled() ? 9 : 0);
    // Observing every node: plain values equal to the plain run's.
    CaptureAll all;
    RunOptions ro;
    ro.observer = &all;
    run_ok(*ex, in, ro);
    for (const auto& [k, t] : all.values) {
      ASSERT_TRUE(all_plain.count(k)) << k;
      close(t, all_plain.at(k), "observed " + k);
    }
    EXPECT_EQ(all.values.size(), g.nodes.size());
  }
}
