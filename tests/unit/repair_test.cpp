// Repair strategies on hand-built pairs, XNNPACK-style: the target is run
// before and after the rewrite and compared with the source (the oracle is
// the source graph on the reference executor, built independently of the
// fault); each test also asserts what the rewrite changed in the graph.
//
//   source:  x -> Conv(pads 1) -> BatchNorm -> Clip(0,6) -> MaxPool(pads 1) -> Flatten -> Gemm(transB) -> Softmax
//   targets: one fault each (below).
#include <gtest/gtest.h>

#include <cmath>

#include "convfix/executor.h"
#include "convfix/preprocess.h"
#include "repair/repair_internal.h"
#include "test_util.h"

using namespace convfix;

namespace {

using testutil::node;
using testutil::random_tensor;

Tensor rnd(std::vector<int64_t> dims, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  return random_tensor(std::move(dims), seed, lo, hi);
}
Node mk(const std::string& name, const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
  return node(name, op, std::move(in), std::move(out));
}
ValueInfo vi(const std::string& name, std::vector<int64_t> dims = {}) {
  return dims.empty() ? testutil::vinfo(name) : testutil::vinfo(name, dims);
}

Tensor scalar(float v) { return Tensor::scalar_f32(v); }

Graph source_graph() {
  Graph g;
  g.info.opsets[""] = 17;
  g.info.format = "onnx";
  g.inputs.push_back(vi("x", {1, 3, 8, 8}));
  g.outputs.push_back(vi("y"));
  g.initializers = {{"w1", rnd({4, 3, 3, 3}, 1)}, {"b1", rnd({4}, 2)}, {"gamma", rnd({4}, 3, 0.5f, 1.5f)},
                    {"beta", rnd({4}, 4)}, {"mean", rnd({4}, 5)}, {"var", rnd({4}, 6, 0.5f, 2.f)},
                    {"lo", scalar(0)}, {"hi", scalar(6)}, {"w2", rnd({5, 64}, 7)}, {"b2", rnd({5}, 8)}};
  Node c = mk("conv", "Conv", {"x", "w1", "b1"}, {"c"});
  c.attrs["pads"] = Attribute::of_ints({1, 1, 1, 1});
  g.nodes.push_back(c);
  Node bn = mk("bn", "BatchNormalization", {"c", "gamma", "beta", "mean", "var"}, {"n"});
  bn.attrs["epsilon"] = Attribute::of_float(1e-5f);
  g.nodes.push_back(bn);
  g.nodes.push_back(mk("relu6", "Clip", {"n", "lo", "hi"}, {"r"}));
  Node mp = mk("pool", "MaxPool", {"r"}, {"p"});
  mp.attrs["kernel_shape"] = Attribute::of_ints({3, 3});
  mp.attrs["strides"] = Attribute::of_ints({2, 2});
  mp.attrs["pads"] = Attribute::of_ints({1, 1, 1, 1});
  g.nodes.push_back(mp);
  g.nodes.push_back(mk("flat", "Flatten", {"p"}, {"f"}));
  Node fc = mk("fc", "Gemm", {"f", "w2", "b2"}, {"l"});
  fc.attrs["transB"] = Attribute::of_int(1);
  g.nodes.push_back(fc);
  g.nodes.push_back(mk("softmax", "Softmax", {"l"}, {"y"}));
  return g;
}

Tensor run(const Graph& g, const Tensor& x) {
  auto ex = Executor::create(std::make_shared<Graph>(g), ExecOptions{1, true});
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  auto out = (*ex)->run({{"x", x}});
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out.ok() ? out->at("y") : Tensor();
}

// Probed dims of every value (as diagnose's probe run gives them).
ValueDims dims_of(const Graph& g, const Tensor& x) {
  auto ex = Executor::create(std::make_shared<Graph>(g), ExecOptions{1, true});
  ValueDims d;
  if (!ex.ok()) return d;
  CaptureAll cap;
  RunOptions ro;
  ro.observer = &cap;
  auto out = (*ex)->run({{"x", x}}, ro);
  for (const auto& [k, v] : cap.values) d[k] = v.dims();
  d["x"] = x.dims();
  return d;
}

double max_diff(const Tensor& a, const Tensor& b) {
  if (a.numel() != b.numel()) return INFINITY;
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, static_cast<double>(std::fabs(a.data<float>()[i] - b.data<float>()[i])));
  return m;
}

struct Fixture {
  Graph src = source_graph();
  Tensor x = rnd({1, 3, 8, 8}, 99, -3.f, 3.f);
  Tensor want;
  Fixture() { want = run(src, x); }

  // Candidates of `strategy` for every row; applies the first whose name
  // matches and returns the repaired graph (and the dirty nodes).
  Graph repaired(const Graph& tgt, const std::string& strategy, std::set<std::string>* dirty = nullptr,
                 std::string* change = nullptr) {
    PairView v = analyse_pair(src, dims_of(src, x), tgt, dims_of(tgt, x));
    WriteCaps caps = write_caps(tgt);
    std::vector<Candidate> cands;
    for (const auto& r : v.align.rows) {
      if (strategy == "parameters") parameter_candidates(v, r.index, caps, cands);
      if (strategy == "hyperparameters") hyperparameter_candidates(v, r.index, caps, cands);
      if (strategy == "graph") graph_candidates(v, r.index, caps, cands);
    }
    if (strategy == "global") global_graph_candidates(v, caps, cands);
    EXPECT_FALSE(cands.empty()) << "no " << strategy << " candidate";
    Graph g = tgt;
    if (cands.empty()) return g;
    auto d = cands.front().apply(g);
    EXPECT_TRUE(d.ok()) << d.status().message();
    EXPECT_TRUE(g.verify().ok());
    if (dirty && d.ok()) *dirty = *d;
    if (change) *change = cands.front().change;
    return g;
  }
};

}  // namespace

TEST(RepairParameters, SwappedBatchNormAndRoundedWeightsAreCopiedBack) {
  Fixture f;
  Graph t = f.src;
  std::swap(t.initializers["gamma"], t.initializers["beta"]);
  Tensor w = t.initializers["w1"].clone();
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = std::round(w.data<float>()[i] * 64) / 64;
  t.initializers["w1"] = w;
  ASSERT_GT(max_diff(run(t, f.x), f.want), 1e-3);
  std::set<std::string> dirty;
  Graph r = f.repaired(t, "parameters", &dirty);
  EXPECT_LE(max_diff(run(r, f.x), f.want), 1e-6);
  EXPECT_TRUE(dirty.count("conv") && dirty.count("bn"));
  // Only parameter values changed: same nodes, same attributes.
  ASSERT_EQ(r.nodes.size(), t.nodes.size());
  for (size_t i = 0; i < r.nodes.size(); ++i) EXPECT_EQ(r.nodes[i].attrs.size(), t.nodes[i].attrs.size());
}

TEST(RepairParameters, WeightsBehindALayoutChainAreWrittenInTheStoredLayout) {
  // The target keeps the conv kernel as OHWI behind a Transpose (as Keras /
  // TF importers do) and its values were permuted: the repair writes the
  // OHWI initializer so that the Transpose yields the source's OIHW kernel.
  Fixture f;
  Graph t = f.src;
  const Tensor& oihw = f.src.initializers["w1"];
  Tensor ohwi(DType::kF32, {4, 3, 3, 3});
  for (int o = 0; o < 4; ++o)
    for (int i = 0; i < 3; ++i)
      for (int h = 0; h < 3; ++h)
        for (int w = 0; w < 3; ++w)
          ohwi.data<float>()[((o * 3 + h) * 3 + w) * 3 + i] = oihw.data<float>()[((o * 3 + i) * 3 + h) * 3 + w];
  Tensor wrong = ohwi.clone();
  std::reverse(wrong.data<float>(), wrong.data<float>() + wrong.numel());
  t.initializers.erase("w1");
  t.initializers["kernel_ohwi"] = wrong;
  Node tr = mk("kernel_to_oihw", "Transpose", {"kernel_ohwi"}, {"w1"});
  tr.attrs["perm"] = Attribute::of_ints({0, 3, 1, 2});
  t.nodes.insert(t.nodes.begin(), tr);
  ASSERT_GT(max_diff(run(t, f.x), f.want), 1e-3);
  Graph r = f.repaired(t, "parameters");
  EXPECT_LE(max_diff(run(r, f.x), f.want), 1e-6);
  ASSERT_TRUE(r.initializers.count("kernel_ohwi"));
  EXPECT_EQ(max_diff(r.initializers["kernel_ohwi"], ohwi), 0.0);
  EXPECT_FALSE(r.initializers.count("w1"));
}

TEST(RepairParameters, DroppedGemmBiasIsRestoredAsANewInput) {
  Fixture f;
  Graph t = f.src;
  t.nodes[5].inputs.resize(2);   // fc without C
  t.initializers.erase("b2");
  ASSERT_GT(max_diff(run(t, f.x), f.want), 1e-4);
  Graph r = f.repaired(t, "parameters");
  EXPECT_EQ(r.nodes[5].inputs.size(), 3u);
  EXPECT_LE(max_diff(run(r, f.x), f.want), 1e-6);
}

TEST(RepairParameters, FoldedBatchNormTargetGetsTheSourcesFoldedForm) {
  // The target folded the BatchNorm into the conv and got the bias wrong.
  Fixture f;
  Graph t = f.src;
  const int64_t O = 4;
  Tensor w = t.initializers["w1"].clone(), b = t.initializers["b1"].clone();
  for (int64_t o = 0; o < O; ++o) {
    const float s = t.initializers["gamma"].data<float>()[o] / std::sqrt(t.initializers["var"].data<float>()[o] + 1e-5f);
    for (int64_t k = 0; k < 27; ++k) w.data<float>()[o * 27 + k] *= s;
    b.data<float>()[o] = 0.5f;   // wrong on purpose
  }
  t.initializers["w1"] = w;
  t.initializers["b1"] = b;
  t.nodes.erase(t.nodes.begin() + 1);   // bn
  t.nodes[1].inputs[0] = "c";           // Clip reads the conv
  ASSERT_GT(max_diff(run(t, f.x), f.want), 1e-3);
  Graph r = f.repaired(t, "parameters");
  EXPECT_LE(max_diff(run(r, f.x), f.want), 2e-5);
}

TEST(RepairHyperparameters, LostPadsAreSetAgain) {
  Fixture f;
  Graph t = f.src;
  t.nodes[0].attrs["pads"] = Attribute::of_ints({0, 0, 0, 0});
  t.initializers["w2"] = rnd({5, 16}, 7);   // the target's Gemm fits its smaller map
  Graph r = f.repaired(t, "hyperparameters");
  EXPECT_EQ(r.nodes[0].attr_ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
}

TEST(RepairHyperparameters, ReluSixBoundLostIsRestoredAsClip) {
  Fixture f;
  Graph t = f.src;
  t.nodes[2] = mk("relu6", "Relu", {"n"}, {"r"});
  // Large inputs so that the bound matters.
  f.x = rnd({1, 3, 8, 8}, 5, -40.f, 40.f);
  f.want = run(f.src, f.x);
  ASSERT_GT(max_diff(run(t, f.x), f.want), 1e-4);
  Graph r = f.repaired(t, "hyperparameters");
  EXPECT_EQ(r.nodes[2].op_type, "Clip");
  EXPECT_LE(max_diff(run(r, f.x), f.want), 1e-6);
}

TEST(RepairHyperparameters, EpsilonCeilModeAndSoftmaxAxisAreCopied) {
  Fixture f;
  Graph t = f.src;
  t.nodes[1].attrs["epsilon"] = Attribute::of_float(1e-1f);
  ASSERT_GT(max_diff(run(t, f.x), f.want), 1e-4);
  Graph r = f.repaired(t, "hyperparameters");
  EXPECT_FLOAT_EQ(r.nodes[1].attr_float("epsilon", 0), 1e-5f);
  EXPECT_LE(max_diff(run(r, f.x), f.want), 1e-6);

  Graph t2 = f.src;
  t2.nodes[6].attrs["axis"] = Attribute::of_int(0);
  ASSERT_GT(max_diff(run(t2, f.x), f.want), 1e-3);
  Graph r2 = f.repaired(t2, "hyperparameters");
  EXPECT_EQ(r2.nodes[6].attr_int("axis", -9), 1);
  EXPECT_LE(max_diff(run(r2, f.x), f.want), 1e-7);
}

TEST(RepairHyperparameters, ZeroPaddedMaxPoolGetsImplicitPadsBack) {
  // Target: explicit zero Pad before the pool, pool pads 0 (zero beats
  // negative values on the border). Source pool pads with -inf.
  Fixture f;
  Graph t = f.src;
  t.nodes[2] = mk("relu6", "Clip", {"n", "", "hi"}, {"r"});   // let negatives through so the border matters
  Graph s2 = f.src;
  s2.nodes[2] = t.nodes[2];
  Tensor beta(DType::kF32, {4});
  for (int k = 0; k < 4; ++k) beta.data<float>()[k] = -20.f;   // mostly negative maps
  s2.initializers["beta"] = beta;
  t.initializers["beta"] = beta;
  // Compare logits: the softmax of such large values saturates.
  for (Graph* g : {&s2, &t}) {
    g->nodes.pop_back();
    g->nodes.back().outputs[0] = "y";
  }
  f.src = s2;
  f.want = run(f.src, f.x);
  Node pad = mk("pad", "Pad", {"r", "pads"}, {"rp"});
  Tensor pv(DType::kI64, {8});
  const int64_t p[8] = {0, 0, 1, 1, 0, 0, 1, 1};
  for (int i = 0; i < 8; ++i) pv.data<int64_t>()[i] = p[i];
  t.initializers["pads"] = pv;
  t.nodes.insert(t.nodes.begin() + 3, pad);
  t.nodes[4].inputs[0] = "rp";
  t.nodes[4].attrs["pads"] = Attribute::of_ints({0, 0, 0, 0});
  ASSERT_GT(max_diff(run(t, f.x), f.want), 1e-5);
  Graph r = f.repaired(t, "hyperparameters");
  EXPECT_EQ(r.find_node("pad"), -1);
  EXPECT_LE(max_diff(run(r, f.x), f.want), 1e-7);
}

TEST(RepairGraph, TransposeBeforeFlattenIsRemoved) {
  Fixture f;
  Graph t = f.src;
  Node tr = mk("nhwc", "Transpose", {"p"}, {"pt"});
  tr.attrs["perm"] = Attribute::of_ints({0, 2, 3, 1});
  t.nodes.insert(t.nodes.begin() + 4, tr);
  t.nodes[5].inputs[0] = "pt";
  ASSERT_GT(max_diff(run(t, f.x), f.want), 1e-4);
  Graph r = f.repaired(t, "graph");
  EXPECT_EQ(r.find_node("nhwc"), -1);
  EXPECT_LE(max_diff(run(r, f.x), f.want), 1e-7);
}

TEST(RepairGraph, HardCodedBatchInReshapeBecomesMinusOne) {
  Fixture f;
  Graph t = f.src;
  t.inputs[0].shape[0] = Dim::sym("N");
  Tensor shape(DType::kI64, {2});
  shape.data<int64_t>()[0] = 1;
  shape.data<int64_t>()[1] = 64;
  t.initializers["shape"] = shape;
  t.nodes[4] = mk("flat", "Reshape", {"p", "shape"}, {"f"});
  Graph r = f.repaired(t, "global");
  auto s = r.initializers.at(r.nodes[4].inputs[1]).to_i64_vector();
  EXPECT_EQ(s, (std::vector<int64_t>{-1, 64}));
  // Batch 2 runs and gives the source's rows.
  Tensor x2(DType::kF32, {2, 3, 8, 8});
  std::copy(f.x.data<float>(), f.x.data<float>() + f.x.numel(), x2.data<float>());
  std::copy(f.x.data<float>(), f.x.data<float>() + f.x.numel(), x2.data<float>() + f.x.numel());
  Tensor y2 = run(r, x2);
  ASSERT_EQ(y2.numel(), 10);
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(y2.data<float>()[5 + k], f.want.data<float>()[k], 1e-6);
}

TEST(RepairGraph, ReshapeOfAnNhwcInputBecomesATranspose) {
  Fixture f;
  Graph t = f.src;
  t.inputs[0] = vi("x_nhwc", {1, 8, 8, 3});
  Tensor shape(DType::kI64, {4});
  const int64_t s[4] = {1, 3, 8, 8};
  for (int i = 0; i < 4; ++i) shape.data<int64_t>()[i] = s[i];
  t.initializers["nchw"] = shape;
  t.nodes.insert(t.nodes.begin(), mk("to_nchw", "Reshape", {"x_nhwc", "nchw"}, {"x"}));
  // Feed NHWC: the source's input transposed.
  Tensor xn(DType::kF32, {1, 8, 8, 3});
  for (int c = 0; c < 3; ++c)
    for (int h = 0; h < 8; ++h)
      for (int w = 0; w < 8; ++w) xn.data<float>()[(h * 8 + w) * 3 + c] = f.x.data<float>()[(c * 8 + h) * 8 + w];
  PairView v = analyse_pair(f.src, dims_of(f.src, f.x), t, [&] {
    auto ex = Executor::create(std::make_shared<Graph>(t), ExecOptions{1, true});
    CaptureAll cap;
    RunOptions ro;
    ro.observer = &cap;
    (void)(*ex)->run({{"x_nhwc", xn}}, ro);
    ValueDims d;
    for (const auto& [k, val] : cap.values) d[k] = val.dims();
    d["x_nhwc"] = xn.dims();
    return d;
  }());
  std::vector<Candidate> cands;
  global_graph_candidates(v, write_caps(t), cands);
  ASSERT_EQ(cands.size(), 1u);
  EXPECT_EQ(cands[0].strategy, "input_layout");
  Graph r = t;
  ASSERT_TRUE(cands[0].apply(r).ok());
  EXPECT_EQ(r.nodes[0].op_type, "Transpose");
  auto ex = Executor::create(std::make_shared<Graph>(r), ExecOptions{1, true});
  auto out = (*ex)->run({{"x_nhwc", xn}});
  ASSERT_TRUE(out.ok());
  EXPECT_LE(max_diff(out->at("y"), f.want), 1e-7);
}

TEST(RepairPreprocessing, EmbeddedCaffeToTorchMapEqualsTorchPreprocessing) {
  // The model was made for torch inputs but is fed caffe ones: embedding
  // the map in front of the input makes caffe-fed outputs equal torch-fed.
  Fixture f;
  nlohmann::json diag = {{"preprocessing", {{"tested", true}, {"best", "h"},
                                            {"hypotheses", {{{"name", "h"}, {"explains", true}, {"preset", "torch"},
                                                             {"description", "test"}}}}}}};
  CompareModelSpec spec;
  spec.path = "t.onnx";
  spec.preset = "caffe";
  ModelState st;
  st.input.layout = Layout::kNCHW;
  st.input.channels = 3;
  std::vector<Candidate> cands;
  preprocessing_candidates(diag, spec, true, st, write_caps(f.src), cands);
  ASSERT_EQ(cands.size(), 2u);
  // Embedding was asked for: it comes first; then the pipeline-only fix.
  EXPECT_TRUE(cands[0].details.value("embedded", false));
  EXPECT_FALSE(cands[0].target_preset.has_value());
  EXPECT_EQ(*cands[1].target_preset, "torch");
  Graph r = f.src;
  ASSERT_TRUE(cands[0].apply(r).ok());
  // One image, both presets, same geometry (crop 1).
  Image img;
  img.width = 8;
  img.height = 8;
  img.channels = 3;
  img.pixels.resize(8 * 8 * 3);
  std::mt19937 rng(3);
  for (auto& p : img.pixels) p = static_cast<uint8_t>(rng() % 256);
  ImageInputSpec is;
  is.input_name = "x";
  is.height = is.width = 8;
  Preset torch = *preset_by_name("torch"), caffe = *preset_by_name("caffe");
  torch.crop_fraction = caffe.crop_fraction = 1;
  auto xt = make_image_batch({img}, torch, is, 1);
  auto xc = make_image_batch({img}, caffe, is, 1);
  ASSERT_TRUE(xt.ok() && xc.ok());
  EXPECT_LE(max_diff(run(r, *xc), run(f.src, *xt)), 1e-5);
  EXPECT_GT(max_diff(run(f.src, *xc), run(f.src, *xt)), 1e-3);
}
