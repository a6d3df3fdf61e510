// TF reader unit tests: GraphDefs written byte by byte (protobuf wire format)
// and checked against naive reference arithmetic in the test itself.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "convfix/executor.h"
#include "convfix/tf_format.h"

namespace convfix {
namespace {

std::string varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string ld(int field, const std::string& payload) { return varint((field << 3) | 2) + varint(payload.size()) + payload; }
std::string vi(int field, uint64_t v) { return varint(field << 3) + varint(v); }
std::string attr(const std::string& key, const std::string& value) { return ld(5, ld(1, key) + ld(2, value)); }
std::string a_s(const std::string& s) { return ld(2, s); }
std::string a_type(int t) { return vi(6, t); }
std::string a_ints(const std::vector<int64_t>& v) {
  std::string p;
  for (int64_t x : v) p += varint(static_cast<uint64_t>(x));
  return ld(1, ld(3, p));
}
std::string tensor_f32(const std::vector<int64_t>& dims, const std::vector<float>& vals) {
  std::string shape;
  for (int64_t d : dims) shape += ld(2, vi(1, static_cast<uint64_t>(d)));
  std::string content(reinterpret_cast<const char*>(vals.data()), vals.size() * 4);
  return ld(8, vi(1, 1) + ld(2, shape) + ld(4, content));
}
std::string node(const std::string& name, const std::string& op, const std::vector<std::string>& in,
                 const std::string& attrs = "") {
  std::string b = ld(1, name) + ld(2, op);
  for (const auto& i : in) b += ld(3, i);
  return ld(1, b + attrs);
}

std::string write_tmp(const std::string& name, const std::string& bytes) {
  const auto p = std::filesystem::temp_directory_path() / ("convfix_tf_test_" + name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

TEST(TfFormat, Conv2DSameStride2MatchesReferenceAndKeepsNames) {
  // x [1,5,5,1] -> Conv2D 3x3 stride 2 SAME (HWIO filter [3,3,1,2]) -> BiasAdd -> Relu6.
  std::vector<float> w(18), b = {0.5f, -1.f};
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.1f * static_cast<float>(i) - 0.7f;
  const std::string g =
      node("x", "Placeholder", {}, attr("dtype", a_type(1))) +
      node("w", "Const", {}, attr("value", tensor_f32({3, 3, 1, 2}, w)) + attr("dtype", a_type(1))) +
      node("b", "Const", {}, attr("value", tensor_f32({2}, b)) + attr("dtype", a_type(1))) +
      node("conv", "Conv2D", {"x", "w"},
           attr("strides", a_ints({1, 2, 2, 1})) + attr("padding", a_s("SAME")) + attr("data_format", a_s("NHWC"))) +
      node("w_read", "Identity", {"w"}) + node("bias", "BiasAdd", {"conv", "b"}) + node("act", "Relu6", {"bias"});
  auto gr = read_tf_frozen(write_tmp("conv.pb", g));
  ASSERT_TRUE(gr.ok()) << gr.status().to_string();
  const Graph& graph = gr.value();
  EXPECT_EQ(graph.info.format, "tf");
  ASSERT_EQ(graph.outputs.size(), 1u);
  EXPECT_EQ(graph.outputs[0].name, "act");
  EXPECT_TRUE(graph.is_initializer("w"));
  EXPECT_EQ(graph.initializers.at("w").dims(), (std::vector<int64_t>{3, 3, 1, 2}));  // TF layout kept
  const int64_t ci = graph.find_node("conv");
  ASSERT_GE(ci, 0);
  EXPECT_EQ(graph.nodes[ci].op_type, "Conv");
  EXPECT_EQ(graph.nodes[ci].provenance.original_op, "Conv2D");
  EXPECT_EQ(graph.nodes[ci].attr_string("data_layout", ""), "NHWC");

  std::vector<float> xv(25);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = std::sin(static_cast<float>(i));
  auto ex = Executor::create(std::make_shared<Graph>(graph));
  ASSERT_TRUE(ex.ok()) << ex.status().to_string();
  TensorMap in;
  in["x"] = Tensor::from_vector(DType::kF32, {1, 5, 5, 1}, xv);
  auto out = ex.value()->run(in);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  const Tensor& y = out.value().at("act");
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{1, 3, 3, 2}));
  // TF SAME, stride 2, 5 -> 3: total pad 2, 1 before, 1 after.
  for (int oh = 0; oh < 3; ++oh)
    for (int ow = 0; ow < 3; ++ow)
      for (int o = 0; o < 2; ++o) {
        double acc = b[o];
        for (int kh = 0; kh < 3; ++kh)
          for (int kw = 0; kw < 3; ++kw) {
            const int ih = oh * 2 - 1 + kh, iw = ow * 2 - 1 + kw;
            if (ih < 0 || iw < 0 || ih >= 5 || iw >= 5) continue;
            acc += static_cast<double>(xv[ih * 5 + iw]) * w[(kh * 3 + kw) * 2 + o];
          }
        const double ref = std::min(std::max(acc, 0.0), 6.0);
        EXPECT_NEAR(y.data<float>()[(oh * 3 + ow) * 2 + o], ref, 1e-5);
      }
}

TEST(TfFormat, UnsupportedOpAndDanglingInputAreClearErrors) {
  auto a = read_tf_frozen(write_tmp("bad1.pb", node("x", "Placeholder", {}, attr("dtype", a_type(1))) +
                                                    node("n1", "NoSuchOp", {"x"})));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("'n1'"), std::string::npos);
  EXPECT_NE(a.status().message().find("NoSuchOp"), std::string::npos);
  auto b = read_tf_frozen(write_tmp("bad2.pb", node("y", "Relu", {"missing"})));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("dangling"), std::string::npos);
  auto c = read_tf_frozen(write_tmp("bad3.pb", std::string("\x0a\xff\xff\xff", 4)));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidModel);
}

TEST(TfFormat, SharedCheckpointWhenPresent) {
#ifdef CONVFIX_TF_TEST_SOURCE_DIR
  const std::string root = CONVFIX_TF_TEST_SOURCE_DIR;
#else
  const std::string root = ".";
#endif
  const std::string prefix = root + "/../shared/models/tf_savedmodel/tf2onnx_regression/variables/variables";
  if (std::filesystem::exists(prefix + ".index")) {
    auto ck = read_tf_checkpoint(prefix);
    ASSERT_TRUE(ck.ok()) << ck.status().to_string();
    ASSERT_EQ(ck.value().size(), 2u);  // W and b, one float each
    for (const auto& [k, t] : ck.value()) EXPECT_EQ(t.numel(), 1) << k;
    return;
  }
  GTEST_SKIP() << "../shared/models absent";
}

}  // namespace
}  // namespace convfix
