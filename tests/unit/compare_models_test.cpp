// compare_models() end to end on tiny hand-built models and solid-colour
// PNG photos, where every number can be worked out by hand:
//
//   source:  x[N,3,8,8] -> GlobalAveragePool -> Flatten -> y[N,3]
//            (with the `unit` preset, y = the image's colour / 255)
//   via:     the same, then Mul by [1, 2.5, 1]
//   target:  the same, then Mul by [1, 1, 3]
//
//   image  colour (R,G,B)   source ranking   via ranking   target ranking
//   a.png  (200, 100, 50)   0 1 2            1 0 2         0 2 1
//   b.png  (100,  50, 80)   0 2 1            1 0 2         2 0 1
//   c.png  ( 10, 200, 30)   1 2 0            1 2 0         1 2 0
//
// Source vs target: b's top-1 differs (rate 1/3); tau(a) = tau(b) = 1/3
// (one discordant pair of three), tau(c) = 1. The only output that changes
// is class 2 (x3), so max|diff| = 2 * 80/255, mean|diff| =
// 2 * (50 + 80 + 30) / 255 / 9, max|source| = 200/255.
// Chain: b is the only discrepant image; the via model already changed its
// label (first_changed = 1).
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "convfix/compare.h"
#include "convfix/fileio.h"
#include "convfix/graph.h"
#include "convfix/onnx_format.h"
#include "test_util.h"

namespace convfix {
namespace {

namespace fs = std::filesystem;

using testutil::node;
using testutil::vinfo;

// scale: empty for no Mul; flatten false leaves the output [N,3,1,1].
Graph colour_model(const std::vector<float>& scale, bool flatten = true, int64_t size = 8,
                   const std::string& odd_op = "") {
  Graph g;
  g.name = "colour";
  g.info.opsets[""] = 13;
  g.inputs.push_back(vinfo("x", {Dim::sym("N"), Dim::of(3), Dim::of(size), Dim::of(size)}));
  g.nodes.push_back(node("gap", "GlobalAveragePool", {"x"}, {"p"}));
  std::string cur = "p";
  if (!odd_op.empty()) {
    g.nodes.push_back(node("odd", odd_op, {cur}, {"q"}));
    cur = "q";
  }
  if (flatten) {
    Node f = node("flat", "Flatten", {cur}, {"f"});
    f.attrs["axis"] = Attribute::of_int(1);
    g.nodes.push_back(f);
    cur = "f";
  }
  if (!scale.empty()) {
    const std::vector<int64_t> sd = flatten ? std::vector<int64_t>{3} : std::vector<int64_t>{3, 1, 1};
    g.initializers["s"] = Tensor::from_vector<float>(DType::kF32, sd, scale);
    g.nodes.push_back(node("scale", "Mul", {cur, "s"}, {"y"}));
  } else {
    g.nodes.push_back(node("id", "Identity", {cur}, {"y"}));
  }
  g.outputs.push_back(flatten ? vinfo("y", {Dim::sym("N"), Dim::of(3)})
                              : vinfo("y", {Dim::sym("N"), Dim::of(3), Dim::of(1), Dim::of(1)}));
  return g;
}

void write_png(const fs::path& p, int r, int g, int b, int size = 8) {
  std::vector<unsigned char> px;
  for (int i = 0; i < size * size; ++i) {
    px.push_back(static_cast<unsigned char>(r));
    px.push_back(static_cast<unsigned char>(g));
    px.push_back(static_cast<unsigned char>(b));
  }
  ASSERT_NE(stbi_write_png(p.string().c_str(), size, size, 3, px.data(), size * 3), 0);
}

class CompareModels : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("convfix-compare-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "images");
    write_png(dir_ / "images" / "a.png", 200, 100, 50);
    write_png(dir_ / "images" / "b.png", 100, 50, 80);
    write_png(dir_ / "images" / "c.png", 10, 200, 30);
    ASSERT_TRUE(write_onnx(colour_model({}), path("source.onnx")).ok());
    ASSERT_TRUE(write_onnx(colour_model({1, 2.5f, 1}), path("via.onnx")).ok());
    ASSERT_TRUE(write_onnx(colour_model({1, 1, 3}), path("target.onnx")).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& f) const { return (dir_ / f).string(); }
  CompareOptions options(std::vector<std::string> chain) const {
    CompareOptions o;
    for (size_t i = 0; i < chain.size(); ++i)
      o.models.push_back({path(chain[i]), i == 0 ? "source" : i + 1 == chain.size() ? "target" : "via", "unit", 0});
    o.images = {(dir_ / "images").string()};
    o.batch = 2;  // three images: two chunks
    o.top_k = 5;
    return o;
  }
  fs::path dir_;
};

TEST_F(CompareModels, DiscrepancyTauAndErrorStatisticsMatchHandComputation) {
  auto r = compare_models(options({"source.onnx", "target.onnx"}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->images.size(), 3u);
  ASSERT_EQ(r->pairs.size(), 1u);
  const ComparePair& p = r->pairs[0];
  ASSERT_TRUE(p.topk_applies);
  EXPECT_EQ(p.discrepant, 1);
  EXPECT_NEAR(p.discrepancy_rate, 1.0 / 3.0, 1e-12);
  EXPECT_EQ(p.top1_agree, (std::vector<uint8_t>{1, 0, 1}));
  ASSERT_EQ(p.tau.size(), 3u);
  EXPECT_NEAR(p.tau[0], 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(p.tau[1], 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(p.tau[2], 1.0, 1e-12);
  EXPECT_EQ(p.tau_stats.below_one, 2);
  // Top-k is clipped to the 3 classes; rankings as in the table above.
  ASSERT_EQ(r->images[1].top[0].size(), 3u);
  EXPECT_EQ(r->images[1].top[0][0].index, 0);
  EXPECT_EQ(r->images[1].top[1][0].index, 2);
  ASSERT_EQ(p.outputs.size(), 1u);
  const OutputErrorStats& e = p.outputs[0];
  EXPECT_FALSE(e.shape_mismatch);
  EXPECT_EQ(e.elements, 9);
  EXPECT_NEAR(e.max_abs, 2 * 80.0 / 255, 1e-5);
  EXPECT_NEAR(e.mean_abs, 2 * (50.0 + 80 + 30) / 255 / 9, 1e-5);
  EXPECT_NEAR(e.max_ref, 200.0 / 255, 1e-5);
  EXPECT_NEAR(e.rel_max, (2 * 80.0 / 255) / (200.0 / 255), 1e-5);
  // Softmax scores (the outputs are not probabilities) sum to at most 1 over the list.
  EXPECT_TRUE(r->models[0].scores_softmax);
  const auto j = compare_result_to_json(*r);
  EXPECT_EQ(j["schema_version"], kCompareSchemaVersion);
  EXPECT_NEAR(j["discrepancy_rate"].get<double>(), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(j["images"].size(), 3u);
  EXPECT_EQ(j["images"][1]["top1_agree"], false);
}

TEST_F(CompareModels, ChainTableNamesTheFirstModelThatChangedTheLabel) {
  auto r = compare_models(options({"source.onnx", "via.onnx", "target.onnx"}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->chain_applies);
  ASSERT_EQ(r->chain.size(), 1u);
  EXPECT_EQ(r->chain[0].image, 1u);
  EXPECT_EQ(r->chain[0].top1, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(r->chain[0].first_changed, 1u);
  EXPECT_EQ(r->first_changed_counts, (std::vector<int64_t>{0, 1, 0}));
  // Pairs: source-target, step 0->1, step 1->2.
  ASSERT_EQ(r->pairs.size(), 3u);
  EXPECT_EQ(r->pairs[1].kind, "step");
  EXPECT_EQ(r->pairs[1].discrepant, 2);  // a and b change at the via model
  EXPECT_EQ(r->pairs[2].discrepant, 2);  // a goes back to 0 at the target, b moves on to 2
}

TEST_F(CompareModels, CacheServesTheSecondRunWithIdenticalResults) {
  CompareOptions o = options({"source.onnx", "target.onnx"});
  o.cache_dir = path("cache");
  auto first = compare_models(o);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->models[0].computed, 3);
  EXPECT_EQ(first->models[0].cache_hits, 0);
  auto second = compare_models(o);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->models[0].computed, 0);
  EXPECT_EQ(second->models[1].cache_hits, 3);
  EXPECT_EQ(compare_result_to_json(*first)["pairs"], compare_result_to_json(*second)["pairs"]);
  // Another preprocessing is another key.
  o.models[1].preset = "raw";
  auto third = compare_models(o);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->models[0].cache_hits, 3);
  EXPECT_EQ(third->models[1].computed, 3);
}

TEST_F(CompareModels, NonClassificationOutputsStillGetErrorStatistics) {
  ASSERT_TRUE(write_onnx(colour_model({1, 1, 3}, false), path("target4d.onnx")).ok());
  ASSERT_TRUE(write_onnx(colour_model({}, false), path("source4d.onnx")).ok());
  auto r = compare_models(options({"source4d.onnx", "target4d.onnx"}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const ComparePair& p = r->pairs[0];
  EXPECT_FALSE(p.topk_applies);
  EXPECT_NE(p.topk_note.find("top-k does not apply"), std::string::npos);
  EXPECT_NEAR(p.outputs[0].max_abs, 2 * 80.0 / 255, 1e-5);
  EXPECT_TRUE(compare_result_to_json(*r)["discrepancy_rate"].is_null());
  // A [N,3] model against a [N,3,1,1] one: flagged, not compared.
  auto mixed = compare_models(options({"source.onnx", "target4d.onnx"}));
  ASSERT_TRUE(mixed.ok()) << mixed.status().message();
  EXPECT_TRUE(mixed->pairs[0].outputs[0].shape_mismatch);
}

TEST_F(CompareModels, BadInputIsAnErrorNamingTheFile) {
  ASSERT_TRUE(write_onnx(colour_model({1, 1, 3}, true, 16), path("big.onnx")).ok());
  auto r = compare_models(options({"source.onnx", "big.onnx"}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("big.onnx"), std::string::npos) << r.status().message();

  ASSERT_TRUE(write_onnx(colour_model({1, 1, 3}, true, 8, "FrobnicateTensor"), path("odd.onnx")).ok());
  r = compare_models(options({"source.onnx", "odd.onnx"}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("odd.onnx"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("FrobnicateTensor"), std::string::npos) << r.status().message();

  CompareOptions o = options({"source.onnx", "target.onnx"});
  o.images = {path("missing-folder")};
  EXPECT_FALSE(compare_models(o).ok());
  ASSERT_TRUE(write_file_atomic((dir_ / "images" / "z.png").string(), "not a picture").ok());
  r = compare_models(options({"source.onnx", "target.onnx"}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("z.png"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace convfix

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
