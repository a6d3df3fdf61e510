// Diagnosis on hand-built graph pairs where the answer is known by
// construction: the layer grouping, the alignment (renamed tensors, folded
// BatchNorm, decomposed activations, NHWC target), the folding-aware
// parameter comparison and its patterns, and the normalised
// hyperparameters (SAME resolved, explicit Pad absorbed).
//
//   source:  x -> Conv1(pads 1) -> BatchNorm -> Relu -> Conv2 -> HardSwish -> GAP -> Flatten -> Gemm -> y
//   target:  renamed; BatchNorm folded into Conv1; HardSwish as x*clip(x+3,0,6)/6; variants below
#include <gtest/gtest.h>

#include <cmath>

#include "convfix/align.h"
#include "diagnose/diagnose_internal.h"
#include "diagnose/layer_params.h"
#include "test_util.h"

using namespace convfix;

namespace {

// test_util.h's helpers under this file's short names.
Tensor rnd(std::vector<int64_t> dims, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  return testutil::random_tensor(std::move(dims), seed, lo, hi);
}
constexpr auto mk = testutil::node;
ValueInfo vi(const std::string& name) { return testutil::vinfo(name); }

Tensor scalar(float v) { return Tensor::scalar_f32(v); }

struct Weights {
  Tensor w1 = rnd({4, 3, 3, 3}, 1), b1 = rnd({4}, 2);
  Tensor gamma = rnd({4}, 3, 0.5f, 1.5f), beta = rnd({4}, 4), mean = rnd({4}, 5), var = rnd({4}, 6, 0.5f, 2.f);
  Tensor w2 = rnd({6, 4, 1, 1}, 7), b2 = rnd({6}, 8);
  Tensor w3 = rnd({5, 6}, 9), b3 = rnd({5}, 10);
};

Graph source_graph(const Weights& w) {
  Graph g;
  g.info.opsets[""] = 17;
  g.inputs.push_back(vi("x"));
  g.outputs.push_back(vi("y"));
  g.initializers = {{"w1", w.w1}, {"b1", w.b1}, {"gamma", w.gamma}, {"beta", w.beta}, {"mean", w.mean},
                    {"var", w.var}, {"w2", w.w2}, {"b2", w.b2}, {"w3", w.w3}, {"b3", w.b3}};
  Node c1 = mk("conv1", "Conv", {"x", "w1", "b1"}, {"c1"});
  c1.attrs["pads"] = Attribute::of_ints({1, 1, 1, 1});
  g.nodes.push_back(c1);
  Node bn = mk("bn1", "BatchNormalization", {"c1", "gamma", "beta", "mean", "var"}, {"n1"});
  bn.attrs["epsilon"] = Attribute::of_float(1e-3f);
  g.nodes.push_back(bn);
  g.nodes.push_back(mk("relu1", "Relu", {"n1"}, {"r1"}));
  g.nodes.push_back(mk("conv2", "Conv", {"r1", "w2", "b2"}, {"c2"}));
  g.nodes.push_back(mk("hs", "HardSwish", {"c2"}, {"h2"}));
  g.nodes.push_back(mk("gap", "GlobalAveragePool", {"h2"}, {"p"}));
  g.nodes.push_back(mk("flat", "Flatten", {"p"}, {"f"}));
  Node fc = mk("fc", "Gemm", {"f", "w3", "b3"}, {"y"});
  fc.attrs["transB"] = Attribute::of_int(1);
  g.nodes.push_back(fc);
  return g;
}

// The faithful target: other names, BatchNorm folded into conv1, HardSwish
// decomposed, Gemm as MatMul + Add with the weight stored [I, O].
Graph target_graph(const Weights& w) {
  Graph g;
  g.info.opsets[""] = 17;
  g.inputs.push_back(vi("input:0"));
  g.outputs.push_back(vi("logits"));
  Tensor fw = w.w1.clone(), fb(DType::kF32, {4});
  for (int o = 0; o < 4; ++o) {
    const float s = w.gamma.data<float>()[o] / std::sqrt(w.var.data<float>()[o] + 1e-3f);
    for (int k = 0; k < 27; ++k) fw.data<float>()[o * 27 + k] *= s;
    fb.data<float>()[o] = (w.b1.data<float>()[o] - w.mean.data<float>()[o]) * s + w.beta.data<float>()[o];
  }
  Tensor w3t(DType::kF32, {6, 5});
  for (int i = 0; i < 6; ++i)
    for (int o = 0; o < 5; ++o) w3t.data<float>()[i * 5 + o] = w.w3.data<float>()[o * 6 + i];
  g.initializers = {{"k1", fw}, {"k1b", fb}, {"k2", w.w2}, {"k2b", w.b2}, {"dense/kernel", w3t},
                    {"dense/bias", w.b3}, {"three", scalar(3)}, {"zero", scalar(0)}, {"six", scalar(6)}};
  Node c1 = mk("A", "Conv", {"input:0", "k1", "k1b"}, {"a"});
  c1.attrs["auto_pad"] = Attribute::of_string("SAME_UPPER");
  c1.attrs["kernel_shape"] = Attribute::of_ints({3, 3});
  g.nodes.push_back(c1);
  g.nodes.push_back(mk("B", "Relu", {"a"}, {"b"}));
  g.nodes.push_back(mk("C", "Conv", {"b", "k2", "k2b"}, {"c"}));
  g.nodes.push_back(mk("D", "Add", {"c", "three"}, {"d"}));
  g.nodes.push_back(mk("E", "Clip", {"d", "zero", "six"}, {"e"}));
  g.nodes.push_back(mk("F", "Mul", {"c", "e"}, {"f"}));
  g.nodes.push_back(mk("G", "Div", {"f", "six"}, {"h"}));
  g.nodes.push_back(mk("H", "ReduceMean", {"h"}, {"p"}));
  g.nodes.back().attrs["axes"] = Attribute::of_ints({2, 3});
  g.nodes.push_back(mk("I", "Reshape", {"p", "shape"}, {"q"}));
  g.initializers["shape"] = Tensor::from_vector<int64_t>(DType::kI64, {2}, std::vector<int64_t>{1, 6});
  g.nodes.push_back(mk("J", "MatMul", {"q", "dense/kernel"}, {"m"}));
  g.nodes.push_back(mk("K", "Add", {"m", "dense/bias"}, {"logits"}));
  return g;
}

ValueDims shapes_source() {
  return {{"x", {1, 3, 8, 8}}, {"c1", {1, 4, 8, 8}}, {"n1", {1, 4, 8, 8}}, {"r1", {1, 4, 8, 8}},
          {"c2", {1, 6, 8, 8}}, {"h2", {1, 6, 8, 8}}, {"p", {1, 6, 1, 1}}, {"f", {1, 6}}, {"y", {1, 5}}};
}
ValueDims shapes_target() {
  return {{"input:0", {1, 3, 8, 8}}, {"a", {1, 4, 8, 8}}, {"b", {1, 4, 8, 8}}, {"c", {1, 6, 8, 8}},
          {"d", {1, 6, 8, 8}}, {"e", {1, 6, 8, 8}}, {"f", {1, 6, 8, 8}}, {"h", {1, 6, 8, 8}},
          {"p", {1, 6, 1, 1}}, {"q", {1, 6}}, {"m", {1, 5}}, {"logits", {1, 5}}};
}

struct Diag {
  Diag(Graph s, Graph t) : sg(std::move(s)), tg(std::move(t)) {}
  Graph sg, tg;
  ValueDims ss = shapes_source(), ts = shapes_target();
  LayerGraph src, tgt;
  Alignment a;
  std::vector<RowFindings> f;
  void run() {
    src = build_layers(sg, &ss);
    tgt = build_layers(tg, &ts);
    a = align_layers(src, tgt, &ss, &ts);
    f.assign(a.rows.size(), RowFindings{});
    for (const auto& r : a.rows) {
      if (r.status != "matched") continue;
      const Layer& sl = src.layers[static_cast<size_t>(r.source_layer)];
      const Layer& tl = tgt.layers[static_cast<size_t>(r.target_layer)];
      compare_parameters(sg, sl, ss, tg, tl, ts, f[static_cast<size_t>(r.index)]);
      compare_hyperparameters(sg, sl, ss, tg, tl, ts, r.layout, f[static_cast<size_t>(r.index)]);
    }
  }
  const AlignmentRow& row_of_source(const std::string& name) const {
    for (const auto& r : a.rows)
      if (r.source_layer >= 0 && src.layers[static_cast<size_t>(r.source_layer)].name == name) return r;
    static AlignmentRow none;
    return none;
  }
  std::string target_name(const AlignmentRow& r) const {
    return r.target_layer < 0 ? "" : tgt.layers[static_cast<size_t>(r.target_layer)].name;
  }
};

}  // namespace

TEST(DiagnoseLayers, BatchNormActivationsAndDecomposedHardSwishStayInTheirLayer) {
  Weights w;
  Graph s = source_graph(w), t = target_graph(w);
  ValueDims ss = shapes_source(), ts = shapes_target();
  LayerGraph a = build_layers(s, &ss), b = build_layers(t, &ts);
  // input, conv1, conv2, gap, fc on both sides.
  ASSERT_EQ(a.layers.size(), 5u);
  ASSERT_EQ(b.layers.size(), 5u);
  EXPECT_EQ(a.layers[1].kind, "conv");
  EXPECT_EQ(a.layers[1].output, "r1");  // after BatchNorm and Relu
  EXPECT_EQ(b.layers[2].output, "h");   // after x*clip(x+3,0,6)/6
  EXPECT_EQ(b.layers[3].kind, "globalpool");
  EXPECT_EQ(b.layers[4].kind, "dense");
  EXPECT_EQ(b.layers[4].output, "logits");
}

TEST(DiagnoseAlign, RenamedFoldedDecomposedTargetAlignsOneToOneAndHasNoFinding) {
  Weights w;
  Diag d(source_graph(w), target_graph(w));
  d.run();
  EXPECT_EQ(d.a.matched, 5);
  EXPECT_EQ(d.a.inserted, 0);
  EXPECT_EQ(d.a.removed, 0);
  EXPECT_EQ(d.target_name(d.row_of_source("conv1")), "A");
  EXPECT_EQ(d.target_name(d.row_of_source("conv2")), "C");
  EXPECT_EQ(d.target_name(d.row_of_source("fc")), "J");
  for (const auto& r : d.a.rows) {
    const RowFindings& x = d.f[static_cast<size_t>(r.index)];
    EXPECT_FALSE(x.params_differ) << "row " << r.index << " pattern " << x.p_pattern << " rel " << x.p_rel_l2;
    EXPECT_TRUE(x.hp_diffs.empty()) << "row " << r.index << ": " << (x.hp_diffs.empty() ? "" : x.hp_diffs[0].name);
  }
  // conv1 was compared in its folded form, and SAME resolved to the source's explicit pads.
  const RowFindings& c1 = d.f[static_cast<size_t>(d.row_of_source("conv1").index)];
  EXPECT_TRUE(c1.has_params);
  EXPECT_LT(c1.p_rel_l2, 2e-6);
  auto hp = layer_hyperparameters(d.tg, d.tgt.layers[1], d.ts);
  EXPECT_EQ(hp["pads"], "[1, 1, 1, 1]");
  EXPECT_EQ(layer_hyperparameters(d.tg, d.tgt.layers[2], d.ts)["activation"], "hard_swish");
  EXPECT_EQ(layer_hyperparameters(d.sg, d.src.layers[2], d.ss)["activation"], "hard_swish");
}

TEST(DiagnoseParameters, Float16RoundedWeightsAreNamedAsSuch) {
  Weights w;
  Graph t = target_graph(w);
  Tensor& k2 = t.initializers["k2"];
  k2 = k2.clone();
  for (int64_t i = 0; i < k2.numel(); ++i) k2.data<float>()[i] = f16_to_f32(f32_to_f16(k2.data<float>()[i]));
  Diag d(source_graph(w), t);
  d.run();
  const RowFindings& c2 = d.f[static_cast<size_t>(d.row_of_source("conv2").index)];
  EXPECT_TRUE(c2.params_differ);
  EXPECT_EQ(c2.p_pattern, "float16_rounding");
  EXPECT_GT(c2.p_mean_abs, 0);
  EXPECT_FALSE(d.f[static_cast<size_t>(d.row_of_source("conv1").index)].params_differ);
}

TEST(DiagnoseParameters, ZeroedBiasIsAMissingBias) {
  Weights w;
  Graph t = target_graph(w);
  t.initializers["k2b"] = Tensor(DType::kF32, {6});
  Diag d(source_graph(w), t);
  d.run();
  const RowFindings& c2 = d.f[static_cast<size_t>(d.row_of_source("conv2").index)];
  EXPECT_TRUE(c2.params_differ);
  EXPECT_EQ(c2.p_pattern, "missing_bias");
}

TEST(DiagnoseParameters, DenseWeightsStoredTransposedAreNamed) {
  Weights w;
  Graph t = target_graph(w);
  // The weight of MatMul used as if it were [O, I]: a transB-style mix-up (6x5 stored as 5x6).
  Tensor& k = t.initializers["dense/kernel"];
  k = w.w3.clone();  // [5, 6] where MatMul wants [6, 5]
  Diag d(source_graph(w), t);
  d.run();
  const RowFindings& fc = d.f[static_cast<size_t>(d.row_of_source("fc").index)];
  EXPECT_TRUE(fc.params_differ);
  EXPECT_EQ(fc.p_pattern, "transposed");
}

TEST(DiagnoseHyperparameters, LostPaddingAndZeroPaddedMaxPoolAreDifferences) {
  Weights w;
  Graph t = target_graph(w);
  t.nodes[0].attrs["auto_pad"] = Attribute::of_string("VALID");
  Diag d(source_graph(w), t);
  d.ts["a"] = {1, 4, 6, 6};
  d.run();
  const RowFindings& c1 = d.f[static_cast<size_t>(d.row_of_source("conv1").index)];
  ASSERT_EQ(c1.hp_diffs.size(), 1u);
  EXPECT_EQ(c1.hp_diffs[0].name, "pads");
  EXPECT_EQ(c1.hp_diffs[0].source, "[1, 1, 1, 1]");
  EXPECT_EQ(c1.hp_diffs[0].target, "[0, 0, 0, 0]");

  // MaxPool with implicit (-inf) padding vs a zero Pad node then an unpadded MaxPool.
  Graph a, b;
  for (Graph* g : {&a, &b}) {
    g->info.opsets[""] = 17;
    g->inputs.push_back(vi("x"));
    g->outputs.push_back(vi("y"));
  }
  Node mp = mk("pool", "MaxPool", {"x"}, {"y"});
  mp.attrs["kernel_shape"] = Attribute::of_ints({3, 3});
  mp.attrs["strides"] = Attribute::of_ints({2, 2});
  mp.attrs["pads"] = Attribute::of_ints({1, 1, 1, 1});
  a.nodes.push_back(mp);
  b.initializers["pads"] = Tensor::from_vector<int64_t>(DType::kI64, {8}, std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1});
  b.nodes.push_back(mk("zpad", "Pad", {"x", "pads"}, {"xp"}));
  Node mp2 = mk("pool2", "MaxPool", {"xp"}, {"y"});
  mp2.attrs["kernel_shape"] = Attribute::of_ints({3, 3});
  mp2.attrs["strides"] = Attribute::of_ints({2, 2});
  b.nodes.push_back(mp2);
  ValueDims sa = {{"x", {1, 2, 8, 8}}, {"y", {1, 2, 4, 4}}}, sb = {{"x", {1, 2, 8, 8}}, {"xp", {1, 2, 10, 10}}, {"y", {1, 2, 4, 4}}};
  LayerGraph la = build_layers(a, &sa), lb = build_layers(b, &sb);
  ASSERT_EQ(lb.layers.size(), 2u);
  EXPECT_EQ(lb.layers[1].pre.size(), 1u);  // the Pad belongs to the pool
  auto ha = layer_hyperparameters(a, la.layers[1], sa), hb = layer_hyperparameters(b, lb.layers[1], sb);
  EXPECT_EQ(ha["pads"], hb["pads"]);
  EXPECT_NE(ha["pad_value"], hb["pad_value"]);
  EXPECT_EQ(hb["pad_value"], "explicit Pad, value 0");
}

TEST(DiagnoseAlign, NhwcTargetOutputsAreRecognisedAsALayoutChange) {
  EXPECT_EQ(layout_relation({1, 4, 8, 6}, {1, 8, 6, 4}), "nchw-nhwc");
  EXPECT_EQ(layout_relation({1, 8, 6, 4}, {1, 4, 8, 6}), "nhwc-nchw");
  EXPECT_EQ(layout_relation({1, 6}, {1, 6}), "same");
  EXPECT_EQ(layout_relation({1, 6, 1, 1}, {1, 6}), "reshape");
  EXPECT_EQ(layout_relation({1, 6}, {1, 7}), "");
}
