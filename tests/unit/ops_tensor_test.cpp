// Shape and data-movement kernels: properties that hold independently of the
// implementation (round trips, exact reproductions from the definitions,
// dtype coverage incl. strings, bool and f16) and the wording of errors.
// Values are checked against index formulas computed here, never against
// output captured from convfix itself. ONNX Runtime comparisons over many
// settings are in tests/oracles/ops_tensor_ort.py.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "convfix/executor.h"

using namespace convfix;

namespace {

struct In {
  std::string name;
  Tensor t;
};

// Runs one node (inputs named as given, "" = omitted) and returns its outputs
// or the error.
Expected<std::vector<Tensor>> run_node(const std::string& op, const std::vector<In>& inputs, Attributes attrs = {},
                                       int64_t opset = 17, size_t n_out = 1) {
  auto g = std::make_shared<Graph>();
  g->info.opsets[""] = opset;
  Node n;
  n.name = "n";
  n.op_type = op;
  n.attrs = std::move(attrs);
  TensorMap feeds;
  for (const auto& in : inputs) {
    n.inputs.push_back(in.name);
    if (in.name.empty()) continue;
    ValueInfo vi;
    vi.name = in.name;
    vi.dtype = in.t.dtype();
    g->inputs.push_back(vi);
    feeds[in.name] = in.t;
  }
  for (size_t i = 0; i < n_out; ++i) {
    n.outputs.push_back("y" + std::to_string(i));
    ValueInfo vo;
    vo.name = n.outputs.back();
    g->outputs.push_back(vo);
  }
  g->nodes.push_back(n);
  auto ex = Executor::create(g);
  if (!ex.ok()) return ex.status();
  auto out = (*ex)->run(feeds);
  if (!out.ok()) return out.status();
  std::vector<Tensor> r;
  for (size_t i = 0; i < n_out; ++i) r.push_back(out->at("y" + std::to_string(i)));
  return r;
}

Tensor i64s(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::from_vector(DType::kI64, {n}, v);
}

Tensor random_f32(std::vector<int64_t> dims, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-4.f, 4.f);
  Tensor t(DType::kF32, std::move(dims));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

Tensor strings(std::vector<int64_t> dims) {
  Tensor t(DType::kString, std::move(dims));
  for (int64_t i = 0; i < t.numel(); ++i) (*t.strings())[static_cast<size_t>(i)] = "s" + std::to_string(i);
  return t;
}

}  // namespace

TEST(OpsTensor, ReshapeErrorNamesNodeAndShapes) {
  auto r = run_node("Reshape", {{"x", Tensor(DType::kF32, {2, 3})}, {"s", i64s({4, -1})}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "node 'n' (Reshape): cannot reshape [2, 3] into [4, -1]");
}

TEST(OpsTensor, ShapeInputErrorsNameTheInputIndex) {
  auto r = run_node("Slice", {{"x", Tensor(DType::kF32, {4})}, {"s", Tensor::scalar_f32(1.f).reshaped({1})},
                              {"e", i64s({3})}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input 1 (starts)"), std::string::npos) << r.status().message();
  auto u = run_node("Unsqueeze", {{"x", Tensor(DType::kF32, {4})}, {"a", i64s({0, 0})}});
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("twice"), std::string::npos) << u.status().message();
  auto t = run_node("Tile", {{"x", Tensor(DType::kF32, {2, 2})}, {"r", i64s({2})}});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("input 1 (repeats)"), std::string::npos) << t.status().message();
}

TEST(OpsTensor, TransposeStringsFollowsIndexFormula) {
  Tensor x = strings({2, 3, 4});
  auto r = run_node("Transpose", {{"x", x}}, {{"perm", Attribute::of_ints({2, 0, 1})}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Tensor& y = (*r)[0];
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{4, 2, 3}));
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 4; ++c)
        EXPECT_EQ((*y.strings())[static_cast<size_t>((c * 2 + a) * 3 + b)],
                  (*x.strings())[static_cast<size_t>((a * 3 + b) * 4 + c)]);
}

TEST(OpsTensor, TransposeThenInversePermIsBitwiseIdentityForF16) {
  Tensor x(DType::kF16, {3, 1, 4, 5});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<uint16_t>()[i] = static_cast<uint16_t>(i * 2654435761u >> 16);
  const std::vector<int64_t> perm = {2, 0, 3, 1};
  std::vector<int64_t> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
  auto a = run_node("Transpose", {{"x", x}}, {{"perm", Attribute::of_ints(perm)}});
  ASSERT_TRUE(a.ok());
  auto b = run_node("Transpose", {{"x", (*a)[0]}}, {{"perm", Attribute::of_ints(inv)}});
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE((*b)[0].bitwise_equal(x));
}

TEST(OpsTensor, SliceNegativeStepReversesBool) {
  Tensor x(DType::kBool, {7});
  for (int i = 0; i < 7; ++i) x.data<uint8_t>()[i] = (i % 3) == 0;
  const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
  auto r = run_node("Slice", {{"x", x}, {"s", i64s({big})}, {"e", i64s({small})}, {"a", i64s({0})}, {"t", i64s({-1})}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Tensor& y = (*r)[0];
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{7}));
  for (int i = 0; i < 7; ++i) EXPECT_EQ(y.data<uint8_t>()[i], x.data<uint8_t>()[6 - i]);
}

TEST(OpsTensor, ConcatThenSplitRestoresInputs) {
  Tensor a = strings({2, 3}), b = strings({2, 1});
  auto c = run_node("Concat", {{"a", a}, {"b", b}}, {{"axis", Attribute::of_int(-1)}});
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  ASSERT_EQ((*c)[0].dims(), (std::vector<int64_t>{2, 4}));
  auto s = run_node("Split", {{"x", (*c)[0]}, {"p", i64s({3, 1})}}, {{"axis", Attribute::of_int(1)}}, 13, 2);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(*(*s)[0].strings(), *a.strings());
  EXPECT_EQ(*(*s)[1].strings(), *b.strings());
}

TEST(OpsTensor, GatherStringsWithNegativeIndices) {
  Tensor x = strings({4, 2});
  auto r = run_node("Gather", {{"x", x}, {"i", i64s({-1, 0})}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto& y = *(*r)[0].strings();
  EXPECT_EQ(y, (std::vector<std::string>{"s6", "s7", "s0", "s1"}));
  auto bad = run_node("Gather", {{"x", x}, {"i", i64s({4})}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("index 4 is out of range for axis 0 of size 4"), std::string::npos);
}

TEST(OpsTensor, ReflectPadThenCropRestoresInputAndMirrors) {
  Tensor x = random_f32({3, 5}, 7);
  auto p = run_node("Pad", {{"x", x}, {"p", i64s({1, 3, 2, 4})}}, {{"mode", Attribute::of_string("reflect")}}, 13);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  const Tensor& y = (*p)[0];
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{6, 12}));
  // Reflect (numpy 'reflect'): padded[i] = x[|i|] mirrored at both ends without repeating the edge.
  auto src = [](int64_t i, int64_t n) {
    const int64_t period = 2 * (n - 1);
    i = ((i % period) + period) % period;
    return i < n ? i : period - i;
  };
  for (int64_t r = 0; r < 6; ++r)
    for (int64_t c = 0; c < 12; ++c)
      EXPECT_EQ(y.data<float>()[r * 12 + c], x.data<float>()[src(r - 1, 3) * 5 + src(c - 3, 5)]);
  auto crop = run_node("Pad", {{"x", y}, {"p", i64s({-1, -3, -2, -4})}}, {}, 13);
  ASSERT_TRUE(crop.ok());
  EXPECT_TRUE((*crop)[0].bitwise_equal(x));
}

TEST(OpsTensor, QuantizeRoundsHalfToEvenAndSaturates) {
  // From the definition: q = saturate(round_half_even(x / scale) + zp).
  Tensor x = Tensor::from_vector<float>(DType::kF32, {8}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 1000.f, -1000.f, 0.49f});
  Tensor zp(DType::kI8, {});
  auto r = run_node("QuantizeLinear", {{"x", x}, {"s", Tensor::scalar_f32(1.f)}, {"z", zp}}, {}, 13);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const int8_t* q = (*r)[0].data<int8_t>();
  const std::vector<int8_t> want = {0, 2, 2, 0, -2, 127, -128, 0};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(q[i], want[i]) << i;
}

TEST(OpsTensor, QuantizeDequantizePerAxisErrorIsAtMostHalfAStep) {
  Tensor x = random_f32({2, 3, 5}, 11);
  Tensor s = Tensor::from_vector<float>(DType::kF32, {3}, {0.05f, 0.1f, 0.2f});
  Tensor z = Tensor::from_vector<uint8_t>(DType::kU8, {3}, {128, 120, 140});
  Attributes ax{{"axis", Attribute::of_int(1)}};
  auto q = run_node("QuantizeLinear", {{"x", x}, {"s", s}, {"z", z}}, ax, 13);
  ASSERT_TRUE(q.ok()) << q.status().to_string();
  auto d = run_node("DequantizeLinear", {{"q", (*q)[0]}, {"s", s}, {"z", z}}, ax, 13);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float step = s.data<float>()[(i / 5) % 3];
    EXPECT_LE(std::fabs(d->at(0).data<float>()[i] - x.data<float>()[i]), step / 2 + 1e-6f) << i;
  }
}

TEST(OpsTensor, ResizeNearestIntegerFactorIsRepeat) {
  Tensor x = random_f32({1, 2, 3, 4}, 3);
  auto r = run_node("Resize", {{"x", x}, {"", {}}, {"s", Tensor::from_vector<float>(DType::kF32, {4}, {1, 1, 2, 3})}},
                    {{"coordinate_transformation_mode", Attribute::of_string("asymmetric")},
                     {"nearest_mode", Attribute::of_string("floor")}}, 13);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const Tensor& y = (*r)[0];
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{1, 2, 6, 12}));
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t h = 0; h < 6; ++h)
      for (int64_t w = 0; w < 12; ++w)
        EXPECT_EQ(y.data<float>()[(c * 6 + h) * 12 + w], x.data<float>()[(c * 3 + h / 2) * 4 + w / 3]);
}

TEST(OpsTensor, ResizeLinearAndCubicReproduceALinearRamp) {
  // Linear interpolation is exact on a linear function; so is cubic
  // convolution away from the borders (its weights reproduce degree-1
  // polynomials). align_corners maps the end points onto each other.
  Tensor x(DType::kF32, {1, 1, 1, 6});
  for (int i = 0; i < 6; ++i) x.data<float>()[i] = 2.f * static_cast<float>(i) - 3.f;
  for (const char* mode : {"linear", "cubic"}) {
    auto r = run_node("Resize", {{"x", x}, {"", {}}, {"", {}}, {"z", i64s({1, 1, 1, 11})}},
                      {{"mode", Attribute::of_string(mode)},
                       {"coordinate_transformation_mode", Attribute::of_string("align_corners")}}, 13);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const Tensor& y = (*r)[0];
    ASSERT_EQ(y.numel(), 11);
    const int lo = std::string(mode) == "cubic" ? 2 : 0, hi = std::string(mode) == "cubic" ? 9 : 11;
    for (int i = lo; i < hi; ++i) EXPECT_NEAR(y.data<float>()[i], -3.f + static_cast<float>(i), 1e-5f) << mode << " " << i;
  }
}

TEST(OpsTensor, DepthToSpaceThenSpaceToDepthRestoresInputForDCR) {
  Tensor x = random_f32({2, 8, 3, 5}, 5);
  auto d = run_node("DepthToSpace", {{"x", x}}, {{"blocksize", Attribute::of_int(2)}});
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ((*d)[0].dims(), (std::vector<int64_t>{2, 2, 6, 10}));
  auto s = run_node("SpaceToDepth", {{"x", (*d)[0]}}, {{"blocksize", Attribute::of_int(2)}});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE((*s)[0].bitwise_equal(x));
}

TEST(OpsTensor, TileAndExpandFollowIndexFormulas) {
  Tensor x = random_f32({2, 1, 3}, 9);
  auto t = run_node("Tile", {{"x", x}, {"r", i64s({2, 3, 1})}});
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  const Tensor& y = (*t)[0];
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{4, 3, 3}));
  for (int64_t a = 0; a < 4; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(y.data<float>()[(a * 3 + b) * 3 + c], x.data<float>()[(a % 2) * 3 + c]);
  auto e = run_node("Expand", {{"x", x}, {"s", i64s({4, 1, 1, 1})}});
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  const Tensor& z = (*e)[0];
  ASSERT_EQ(z.dims(), (std::vector<int64_t>{4, 2, 1, 3}));
  for (int64_t i = 0; i < z.numel(); ++i) EXPECT_EQ(z.data<float>()[i], x.data<float>()[i % 6]);
}

TEST(OpsTensor, PerTensorQuantParamsSurviveDataMovement) {
  Tensor x(DType::kU8, {2, 3});
  for (int i = 0; i < 6; ++i) x.data<uint8_t>()[i] = static_cast<uint8_t>(i * 40);
  QuantParams qp;
  qp.scale = {0.5f};
  qp.zero_point = {10};
  x.set_quant(qp);
  auto t = run_node("Transpose", {{"x", x}});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE((*t)[0].quant().has_value());
  EXPECT_EQ(*(*t)[0].quant(), qp);
  auto s = run_node("Slice", {{"x", x}, {"s", i64s({1})}, {"e", i64s({3})}, {"a", i64s({1})}});
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)[0].quant().has_value());
}

TEST(OpsTensor, TopKBreaksTiesByLowerIndex) {
  Tensor x = Tensor::from_vector<float>(DType::kF32, {6}, {1.f, 3.f, 3.f, 2.f, 3.f, 1.f});
  auto r = run_node("TopK", {{"x", x}, {"k", i64s({4})}}, {}, 11, 2);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[1].to_i64_vector(), (std::vector<int64_t>{1, 2, 4, 3}));
  auto s = run_node("TopK", {{"x", x}, {"k", i64s({3})}}, {{"largest", Attribute::of_int(0)}}, 11, 2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[1].to_i64_vector(), (std::vector<int64_t>{0, 5, 3}));
}

TEST(OpsTensor, ConstantStringsAndScalars) {
  auto s = run_node("Constant", {}, {{"value_strings", Attribute::of_strings({"a", "bc"})}});
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ((*s)[0].dtype(), DType::kString);
  EXPECT_EQ(*(*s)[0].strings(), (std::vector<std::string>{"a", "bc"}));
  auto f = run_node("Constant", {}, {{"value_float", Attribute::of_float(2.5f)}});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)[0].rank(), 0);
  EXPECT_EQ((*f)[0].data<float>()[0], 2.5f);
  auto i = run_node("Constant", {}, {{"value_ints", Attribute::of_ints({4, -5})}});
  ASSERT_TRUE(i.ok());
  EXPECT_EQ((*i)[0].to_i64_vector(), (std::vector<int64_t>{4, -5}));
}

TEST(OpsTensor, ExtremeShapeArgumentsGiveErrorsOrEmptyResults) {
  const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
  // Range whose length does not fit: an error, not an allocation failure.
  auto r = run_node("Range", {{"a", Tensor::scalar_i64(small)}, {"b", Tensor::scalar_i64(big)}, {"d", Tensor::scalar_i64(1)}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("(Range): would produce"), std::string::npos) << r.status().message();
  // Expand to a negative dim.
  auto e = run_node("Expand", {{"x", Tensor(DType::kF32, {1})}, {"s", i64s({-2})}});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("input 1 (shape)"), std::string::npos);
  // Negative-step slice of an empty axis is empty.
  auto s = run_node("Slice", {{"x", Tensor(DType::kF32, {0, 3})}, {"s", i64s({big})}, {"e", i64s({small})},
                              {"a", i64s({0})}, {"t", i64s({-1})}});
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ((*s)[0].dims(), (std::vector<int64_t>{0, 3}));
  // Trilu with k far beyond the matrix: keeps all (lower) or nothing (upper).
  Tensor x = random_f32({3, 4}, 13);
  auto lo = run_node("Trilu", {{"x", x}, {"k", Tensor::scalar_i64(big)}}, {{"upper", Attribute::of_int(0)}}, 14);
  ASSERT_TRUE(lo.ok());
  EXPECT_TRUE((*lo)[0].bitwise_equal(x));
  auto up = run_node("Trilu", {{"x", x}, {"k", Tensor::scalar_i64(big)}}, {}, 14);
  ASSERT_TRUE(up.ok());
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ((*up)[0].data<float>()[i], 0.f);
}

TEST(OpsTensor, LargeTransposeOfStringsAndBoolFollowsIndexFormula) {
  // Big enough for the tiled copy (both tile dims >= 8, not multiples of 32).
  const int64_t A = 37, B = 45, C = 3;
  Tensor x = strings({A, C, B});
  auto r = run_node("Transpose", {{"x", x}}, {{"perm", Attribute::of_ints({1, 2, 0})}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const auto& y = *(*r)[0].strings();
  ASSERT_EQ((*r)[0].dims(), (std::vector<int64_t>{C, B, A}));
  for (int64_t c = 0; c < C; ++c)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t a = 0; a < A; ++a)
        ASSERT_EQ(y[static_cast<size_t>((c * B + b) * A + a)], (*x.strings())[static_cast<size_t>((a * C + c) * B + b)]);
  Tensor m(DType::kBool, {A, B});
  for (int64_t i = 0; i < A * B; ++i) m.data<uint8_t>()[i] = (i * 7 % 5) == 0;
  auto t = run_node("Transpose", {{"m", m}});
  ASSERT_TRUE(t.ok());
  for (int64_t a = 0; a < A; ++a)
    for (int64_t b = 0; b < B; ++b) ASSERT_EQ((*t)[0].data<uint8_t>()[b * A + a], m.data<uint8_t>()[a * B + b]);
}
