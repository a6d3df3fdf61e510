// Unit tests of the tflite-domain kernels' arithmetic (ctest label unit).
// The oracles here are exact arithmetic written in the test (long
// double / brute-force loops), independent of the kernels; the comparison
// with the real TFLite runtime is tests/tflite/test_oracle.py.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "convfix/executor.h"
#include "convfix/graph.h"
#include "convfix/tflite_format.h"
#include "ops/tflite_util.h"

using namespace convfix;
using namespace convfix::ops::tfl;

namespace {

long double exact_multiplier(QMul q) { return std::ldexp(static_cast<long double>(q.m), q.shift - 31); }

TEST(TfliteFixedPoint, QuantizeMultiplierIsCloseAndNormalised) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> e(-20, 10);
  for (int i = 0; i < 10000; ++i) {
    const double real = std::exp2(e(rng));
    const QMul q = quantize_multiplier(real);
    ASSERT_GE(q.m, 1 << 30);
    ASSERT_LT(static_cast<int64_t>(q.m), int64_t{1} << 31);
    // Q0.31 rounding: error at most half a unit of the 31-bit mantissa.
    EXPECT_LE(std::fabs(exact_multiplier(q) - real), std::ldexp(1.0L, q.shift - 32) * 1.0000001L) << real;
  }
  EXPECT_EQ(quantize_multiplier(0.0).m, 0);
}

TEST(TfliteFixedPoint, MultiplyByQuantizedMultiplierRoundsToTheExactProduct) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> e(-16, 2);
  std::uniform_int_distribution<int32_t> xs(-(1 << 24), 1 << 24);
  for (int i = 0; i < 20000; ++i) {
    const QMul q = quantize_multiplier(std::exp2(e(rng)));
    const int32_t x = xs(rng);
    const long double exact = static_cast<long double>(x) * exact_multiplier(q);
    const int32_t got = multiply_by_qmul(x, q);
    // Two roundings (high multiply, then the shift): within one of the exact value,
    // and exactly the nearest integer when the exact value is not within 1/4 of a tie.
    EXPECT_LE(std::fabs(static_cast<long double>(got) - exact), 1.0L) << x;
    const long double frac = exact - std::floor(exact);
    if (std::fabs(frac - 0.5L) > 0.25L) {
      EXPECT_EQ(got, static_cast<int32_t>(std::llround(exact))) << x;
    }
  }
}

TEST(TfliteFixedPoint, RoundingDivideByPowerOfTwoRoundsHalfAwayFromZero) {
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(rounding_divide_by_pot(7, 2), 2);    // 1.75 -> 2
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);  // -1.5 -> -2
  EXPECT_EQ(rounding_divide_by_pot(9, 0), 9);
  EXPECT_EQ(sat_rounding_doubling_high_mul(INT32_MIN, INT32_MIN), INT32_MAX);
}

TEST(TfliteFixedPoint, RoundSatNeverOverflows) {
  EXPECT_EQ(round_sat(NAN, -128, 127), -128);
  EXPECT_EQ(round_sat(INFINITY, -128, 127), 127);
  EXPECT_EQ(round_sat(-1e300, -128, 127), -128);
  EXPECT_EQ(round_sat(2.5, -128, 127), 3);
  EXPECT_EQ(round_sat(-2.5, -128, 127), -3);
}

// ---- kernels through the executor, against brute-force double loops.

struct OneNode {
  Graph g;
  Node n;
};

ValueInfo vi(const std::string& name, DType t, std::vector<int64_t> dims, std::optional<QuantParams> q = {}) {
  ValueInfo v;
  v.name = name;
  v.dtype = t;
  for (int64_t d : dims) v.shape.push_back(Dim::of(d));
  v.has_shape = true;
  v.quant = std::move(q);
  return v;
}

Tensor run_one(Graph g, const std::string& in_name, const Tensor& x) {
  auto ex = Executor::create(std::make_shared<Graph>(std::move(g)));
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  if (!ex.ok()) return {};
  auto r = (*ex)->run({{in_name, x}});
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok()) return {};
  return r->begin()->second;
}

// NHWC x OHWI reference with TFLite's SAME rule, in long double.
std::vector<long double> conv_ref(const std::vector<float>& x, int64_t h, int64_t w, int64_t c, const std::vector<float>& wt,
                                  int64_t o, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t* oh, int64_t* ow) {
  *oh = (h + sh - 1) / sh;
  *ow = (w + sw - 1) / sw;
  const int64_t pt = std::max<int64_t>((*oh - 1) * sh + kh - h, 0) / 2;
  const int64_t pl = std::max<int64_t>((*ow - 1) * sw + kw - w, 0) / 2;
  std::vector<long double> y(static_cast<size_t>(*oh * *ow * o), 0.0L);
  for (int64_t yy = 0; yy < *oh; ++yy)
    for (int64_t xx = 0; xx < *ow; ++xx)
      for (int64_t oc = 0; oc < o; ++oc)
        for (int64_t ky = 0; ky < kh; ++ky)
          for (int64_t kx = 0; kx < kw; ++kx)
            for (int64_t ic = 0; ic < c; ++ic) {
              const int64_t iy = yy * sh - pt + ky, ix = xx * sw - pl + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              y[size_t((yy * *ow + xx) * o + oc)] += static_cast<long double>(x[size_t((iy * w + ix) * c + ic)]) *
                                                     wt[size_t(((oc * kh + ky) * kw + kx) * c + ic)];
            }
  return y;
}

Graph conv_graph(DType t, std::vector<int64_t> xd, Tensor w, Tensor b, std::vector<int64_t> yd, std::optional<QuantParams> xq,
                 std::optional<QuantParams> yq, int64_t sh, int64_t sw) {
  Graph g;
  g.inputs.push_back(vi("x", t, xd, xq));
  g.outputs.push_back(vi("y", t, yd, yq));
  g.initializers["w"] = std::move(w);
  g.initializers["b"] = std::move(b);
  Node n;
  n.name = "conv";
  n.domain = "tflite";
  n.op_type = "CONV_2D";
  n.inputs = {"x", "w", "b"};
  n.outputs = {"y"};
  n.attrs["padding"] = Attribute::of_string("SAME");
  n.attrs["stride_h"] = Attribute::of_int(sh);
  n.attrs["stride_w"] = Attribute::of_int(sw);
  n.attrs["fused_activation_function"] = Attribute::of_string("NONE");
  g.nodes.push_back(n);
  return g;
}

TEST(TfliteKernels, FloatConvSamePaddingPutsTheOddPixelAtTheEnd) {
  const int64_t h = 5, w = 6, c = 3, o = 4, kh = 3, kw = 2, sh = 2, sw = 1;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  std::vector<float> x(static_cast<size_t>(h * w * c)), wt(static_cast<size_t>(o * kh * kw * c)), b(static_cast<size_t>(o));
  for (auto& v : x) v = nd(rng);
  for (auto& v : wt) v = nd(rng);
  for (auto& v : b) v = nd(rng);
  int64_t oh, ow;
  const auto ref = conv_ref(x, h, w, c, wt, o, kh, kw, sh, sw, &oh, &ow);
  Graph g = conv_graph(DType::kF32, {1, h, w, c}, Tensor::from_vector(DType::kF32, {o, kh, kw, c}, wt),
                       Tensor::from_vector(DType::kF32, {o}, b), {1, oh, ow, o}, {}, {}, sh, sw);
  const Tensor y = run_one(std::move(g), "x", Tensor::from_vector(DType::kF32, {1, h, w, c}, x));
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{1, oh, ow, o}));
  for (int64_t i = 0; i < y.numel(); ++i)
    EXPECT_NEAR(y.data<float>()[i], static_cast<double>(ref[size_t(i)] + b[size_t(i % o)]), 1e-5) << i;
}

TEST(TfliteKernels, Int8ConvIsWithinOneStepOfTheRealResultInBothRoundingModes) {
  const int64_t h = 6, w = 5, c = 4, o = 3, kh = 3, kw = 3, sh = 1, sw = 2;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> q8(-128, 127);
  const float sx = 0.05f, sy = 0.2f;
  const int zx = -7, zy = 3;
  const std::vector<float> ws{0.01f, 0.02f, 0.005f};
  std::vector<int8_t> xq(static_cast<size_t>(h * w * c)), wq(static_cast<size_t>(o * kh * kw * c));
  std::vector<int32_t> bq(static_cast<size_t>(o));
  for (auto& v : xq) v = static_cast<int8_t>(q8(rng));
  for (auto& v : wq) v = static_cast<int8_t>(std::max(q8(rng), -127));
  for (auto& v : bq) v = q8(rng) * 20;
  std::vector<float> xr(xq.size()), wr(wq.size());
  for (size_t i = 0; i < xq.size(); ++i) xr[i] = static_cast<float>(xq[i] - zx);
  for (size_t i = 0; i < wq.size(); ++i) wr[i] = static_cast<float>(wq[i]);
  int64_t oh, ow;
  const auto acc = conv_ref(xr, h, w, c, wr, o, kh, kw, sh, sw, &oh, &ow);
  for (TfliteRounding mode : {TfliteRounding::kRuntime, TfliteRounding::kReference}) {
    set_tflite_rounding(mode);
    Tensor wt = Tensor::from_vector(DType::kI8, {o, kh, kw, c}, wq);
    wt.set_quant(QuantParams{ws, {0, 0, 0}, 0});
    Tensor bt = Tensor::from_vector(DType::kI32, {o}, bq);
    bt.set_quant(QuantParams{{sx * ws[0], sx * ws[1], sx * ws[2]}, {0, 0, 0}, 0});
    Graph g = conv_graph(DType::kI8, {1, h, w, c}, wt, bt, {1, oh, ow, o}, QuantParams{{sx}, {zx}, 0},
                         QuantParams{{sy}, {zy}, 0}, sh, sw);
    const Tensor y = run_one(std::move(g), "x", Tensor::from_vector(DType::kI8, {1, h, w, c}, xq));
    ASSERT_EQ(y.dtype(), DType::kI8);
    for (int64_t i = 0; i < y.numel(); ++i) {
      const int64_t oc = i % o;
      const long double real = (acc[size_t(i)] + bq[size_t(oc)]) * sx * ws[size_t(oc)];
      const long double want = std::clamp<long double>(std::round(real / sy) + zy, -128, 127);
      EXPECT_LE(std::fabs(y.data<int8_t>()[i] - want), 1.0L) << i;
    }
  }
  set_tflite_rounding(TfliteRounding::kRuntime);
}

TEST(TfliteKernels, Int8AddMatchesTheRealSumWithinOneStep) {
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> q8(-128, 127);
  const float sa = 0.03f, sb = 0.11f, sy = 0.07f;
  const int za = 5, zb = -20, zy = -3;
  std::vector<int8_t> a(64), bconst(4);
  for (auto& v : a) v = static_cast<int8_t>(q8(rng));
  for (auto& v : bconst) v = static_cast<int8_t>(q8(rng));
  Graph g;
  g.inputs.push_back(vi("a", DType::kI8, {1, 4, 4, 4}, QuantParams{{sa}, {za}, 0}));
  g.outputs.push_back(vi("y", DType::kI8, {1, 4, 4, 4}, QuantParams{{sy}, {zy}, 0}));
  Tensor bt = Tensor::from_vector(DType::kI8, {4}, bconst);
  bt.set_quant(QuantParams{{sb}, {zb}, 0});
  g.initializers["b"] = bt;
  Node n;
  n.name = "add";
  n.domain = "tflite";
  n.op_type = "ADD";
  n.inputs = {"a", "b"};
  n.outputs = {"y"};
  n.attrs["fused_activation_function"] = Attribute::of_string("RELU");
  g.nodes.push_back(n);
  const Tensor y = run_one(std::move(g), "a", Tensor::from_vector(DType::kI8, {1, 4, 4, 4}, a));
  for (int64_t i = 0; i < 64; ++i) {
    const double real = (a[size_t(i)] - za) * static_cast<double>(sa) + (bconst[size_t(i % 4)] - zb) * static_cast<double>(sb);
    const double want = std::clamp(std::round(std::max(real, 0.0) / sy) + zy, -128.0, 127.0);
    EXPECT_LE(std::fabs(y.data<int8_t>()[i] - want), 1.0) << i;
  }
}

TEST(TfliteKernels, MissingQuantizationIsAnErrorNotACrash) {
  Graph g = conv_graph(DType::kI8, {1, 3, 3, 1}, Tensor::from_vector(DType::kI8, {1, 1, 1, 1}, std::vector<int8_t>{1}),
                       Tensor::from_vector(DType::kI32, {1}, std::vector<int32_t>{0}), {1, 3, 3, 1}, {}, {}, 1, 1);
  auto ex = Executor::create(std::make_shared<Graph>(std::move(g)));
  ASSERT_TRUE(ex.ok());
  auto r = (*ex)->run({{"x", Tensor(DType::kI8, {1, 3, 3, 1})}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("conv"), std::string::npos) << r.status().message();
}

// MediaPipe custom ops, small cases worked out by hand.
std::string pod_options(std::vector<int32_t> fields) {
  std::string s;
  for (int32_t f : fields)
    for (int b = 0; b < 4; ++b) s.push_back(static_cast<char>((static_cast<uint32_t>(f) >> (8 * b)) & 0xFF));
  return s;
}

Node custom_node(const std::string& code, std::vector<std::string> in, std::vector<std::string> out, std::string opts) {
  Node n;
  n.name = code;
  n.domain = "tflite.custom";
  n.op_type = code;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  Attribute a;
  a.kind = Attribute::Kind::kOpaque;
  a.s = std::move(opts);
  n.attrs["custom_options"] = a;
  return n;
}

TEST(TfliteCustomOps, PoolArgmaxThenUnpoolRestoresTheMaxima) {
  // 4x4 input, 2x2 windows, stride 2, VALID: each window's max and its position.
  const std::vector<float> x{1, 5, 2, 0,   //
                             3, 4, 8, 8,   //
                             0, 0, -1, -2, //
                             9, 0, -3, -1};
  Graph g;
  g.inputs.push_back(vi("x", DType::kF32, {1, 4, 4, 1}));
  g.outputs.push_back(vi("v", DType::kF32, {1, 2, 2, 1}));
  g.outputs.push_back(vi("i", DType::kF32, {1, 2, 2, 1}));
  g.outputs.push_back(vi("u", DType::kF32, {1, 4, 4, 1}));
  const std::string opts = pod_options({2, 2, 2, 2, 2, 0, 0, 0, 0, 0});
  g.nodes.push_back(custom_node("MaxPoolingWithArgmax2D", {"x"}, {"v", "i"}, opts));
  g.nodes.push_back(custom_node("MaxUnpooling2D", {"v", "i"}, {"u"}, opts));
  auto ex = Executor::create(std::make_shared<Graph>(std::move(g)));
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  auto r = (*ex)->run({{"x", Tensor::from_vector(DType::kF32, {1, 4, 4, 1}, x)}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Tensor& v = r->at("v");
  const Tensor& i = r->at("i");
  const Tensor& u = r->at("u");
  const std::vector<float> want_v{5, 8, 9, -1}, want_i{1.1f, 2.1f, 2.1f, 0.1f};  // ties: the first maximum (8 at kx 0)
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(v.data<float>()[k], want_v[k]) << k;
    EXPECT_FLOAT_EQ(i.data<float>()[k], want_i[k]) << k;
  }
  std::vector<float> want_u(16, 0.0f);
  want_u[1] = 5;
  want_u[6] = 8;
  want_u[12] = 9;
  want_u[10] = -1;
  for (size_t k = 0; k < 16; ++k) EXPECT_EQ(u.data<float>()[k], want_u[k]) << k;
}

TEST(TfliteCustomOps, TransposeConvBiasSameCropsTheLeadingHalfOfThePadding) {
  // 1x2 input, 1x3 kernel of ones, stride 2, SAME: full result [a, a, a+b, b, b] (width 5),
  // P = max(0, 3 - (2 - 1) % 2 - 1) = 1, output width 4 = the full result minus its first 0 and
  // last 1 columns; bias 10. Height 1 with a 1-row kernel: no vertical padding.
  Graph g;
  g.inputs.push_back(vi("x", DType::kF32, {1, 1, 2, 1}));
  g.outputs.push_back(vi("y", DType::kF32, {1, 1, 4, 1}));
  g.initializers["w"] = Tensor::from_vector(DType::kF32, {1, 1, 3, 1}, std::vector<float>{1, 1, 1});
  g.initializers["b"] = Tensor::from_vector(DType::kF32, {1}, std::vector<float>{10});
  g.nodes.push_back(custom_node("Convolution2DTransposeBias", {"x", "w", "b"}, {"y"}, pod_options({1, 2, 1})));
  const Tensor y = run_one(std::move(g), "x", Tensor::from_vector(DType::kF32, {1, 1, 2, 1}, std::vector<float>{2, 3}));
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{1, 1, 4, 1}));
  const std::vector<float> want{12, 12, 15, 13};
  for (size_t k = 0; k < 4; ++k) EXPECT_EQ(y.data<float>()[k], want[k]) << k;
}

TEST(TfliteCustomOps, ShortOptionsAreAnErrorNamingTheNode) {
  Graph g;
  g.inputs.push_back(vi("x", DType::kF32, {1, 2, 2, 1}));
  g.outputs.push_back(vi("v", DType::kF32, {1, 1, 1, 1}));
  g.outputs.push_back(vi("i", DType::kF32, {1, 1, 1, 1}));
  g.nodes.push_back(custom_node("MaxPoolingWithArgmax2D", {"x"}, {"v", "i"}, pod_options({1, 2})));
  auto ex = Executor::create(std::make_shared<Graph>(std::move(g)));
  ASSERT_TRUE(ex.ok());
  auto r = (*ex)->run({{"x", Tensor(DType::kF32, {1, 2, 2, 1})}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("MaxPoolingWithArgmax2D"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("expected at least 24"), std::string::npos) << r.status().message();
}

}  // namespace
