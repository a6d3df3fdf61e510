// Tests of the neural-network op kernels (Conv, ConvTranspose, pooling,
// normalizations, Gemm, MatMul).
//
// - Fast path (oneDNN) against the reference kernels on many random shapes
//   (groups, depthwise, strides, dilations, asymmetric pads, auto_pad,
//   batch 1 and 8, 1 and 2 threads): max|fast - ref| <= 1e-4 * max|ref|.
// - Properties that hold independently of any implementation: ConvTranspose
//   is the adjoint of Conv (<conv(x), y> = <x, conv_transpose(y)>), a 1x1
//   Conv is a MatMul, MaxPool's Indices point at the maxima, LayerNorm rows
//   have mean 0 and variance 1, ...
// - Error messages name the input index.
// The exact values of these ops are checked against the ONNX backend test
// data by tests/conformance (run_onnx_node_tests.py).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>

#include "convfix/op_registry.h"
#include "convfix/thread_pool.h"
#include "ops/nn_backend.h"

using namespace convfix;

namespace {

// Runs one op kernel directly (no executor), keeping the node state across
// calls like the executor does.
class OpRunner {
 public:
  OpRunner(std::string op, Attributes attrs, size_t n_in, size_t n_out = 1) {
    node_.name = "n0";
    node_.op_type = std::move(op);
    node_.attrs = std::move(attrs);
    for (size_t i = 0; i < n_in; ++i) node_.inputs.push_back("in" + std::to_string(i));
    for (size_t i = 0; i < n_out; ++i) node_.outputs.push_back("out" + std::to_string(i));
  }
  // Omits input i from the node (optional input left empty).
  void omit_input(size_t i) { node_.inputs[i] = ""; }
  void omit_output(size_t i) { node_.outputs[i] = ""; }

  Expected<std::vector<Tensor>> run(const std::vector<const Tensor*>& ins, int threads = 1, int64_t opset = 17) {
    const OpDef* def = OpRegistry::builtin().find("", node_.op_type);
    if (!def) return not_implemented("no kernel for " + node_.op_type);
    if (!pool_ || pool_->threads() != threads) pool_ = std::make_unique<ThreadPool>(threads);
    std::vector<const Tensor*> in = ins;
    for (size_t i = 0; i < in.size() && i < node_.inputs.size(); ++i)
      if (node_.inputs[i].empty()) in[i] = nullptr;
    KernelContext ctx(node_, opset, in, pool_.get(), &state_);
    Status st = def->kernel(ctx);
    if (!st.ok()) return st;
    return ctx.outputs();
  }

 private:
  Node node_;
  std::shared_ptr<void> state_;
  std::unique_ptr<ThreadPool> pool_;
};

Tensor random_tensor(std::mt19937& rng, std::vector<int64_t> dims, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::kF32, std::move(dims));
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(static_cast<double>(t.data<float>()[i])));
  return m;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a.data<float>()[i]) - b.data<float>()[i]));
  return m;
}

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += static_cast<double>(a.data<float>()[i]) * b.data<float>()[i];
  return s;
}

// Restores the default kernel mode when a test ends.
struct KernelModeGuard {
  ~KernelModeGuard() { ops::set_kernel_mode(ops::KernelMode::kFromEnvironment); }
};

// Runs the same op in reference and fast mode at 1 and 2 threads and checks
// that every result agrees with the 1-thread reference.
void expect_fast_matches_reference(OpRunner& fast, OpRunner& ref, const std::vector<const Tensor*>& ins,
                                   const std::string& what) {
  KernelModeGuard guard;
  ops::set_kernel_mode(ops::KernelMode::kReference);
  auto r = ref.run(ins, 1);
  ASSERT_TRUE(r.ok()) << what << ": " << r.status().to_string();
  const Tensor& want = (*r)[0];
  const double tol = 1e-4 * std::max(1e-30, max_abs(want));
  for (int threads : {1, 2}) {
    ops::set_kernel_mode(ops::KernelMode::kReference);
    auto r2 = ref.run(ins, threads);
    ASSERT_TRUE(r2.ok()) << what << ": " << r2.status().to_string();
    EXPECT_LE(max_abs_diff((*r2)[0], want), tol) << what << " reference at " << threads << " threads";
    ops::set_kernel_mode(ops::KernelMode::kFast);
    auto f = fast.run(ins, threads);
    ASSERT_TRUE(f.ok()) << what << ": " << f.status().to_string();
    ASSERT_EQ((*f)[0].dims(), want.dims()) << what;
    EXPECT_LE(max_abs_diff((*f)[0], want), tol) << what << " fast path at " << threads << " threads";
  }
}

Attributes conv_attrs(std::mt19937& rng, int r, int64_t group, const std::vector<int64_t>& k, std::string* desc) {
  std::uniform_int_distribution<int> coin(0, 1), s13(1, 3), d12(1, 2), p02(0, 2), ap(0, 5);
  std::vector<int64_t> strides, dil, pads(2 * static_cast<size_t>(r));
  for (int i = 0; i < r; ++i) {
    strides.push_back(s13(rng));
    dil.push_back(d12(rng));
    pads[static_cast<size_t>(i)] = p02(rng);
    pads[static_cast<size_t>(i + r)] = p02(rng);  // asymmetric in general
  }
  Attributes a;
  a["group"] = Attribute::of_int(group);
  a["strides"] = Attribute::of_ints(strides);
  a["dilations"] = Attribute::of_ints(dil);
  a["kernel_shape"] = Attribute::of_ints(k);
  const int mode = ap(rng);
  const char* names[] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
  if (mode < 3) {
    a["pads"] = Attribute::of_ints(pads);
    *desc = "pads " + dims_to_string(pads);
  } else {
    a["auto_pad"] = Attribute::of_string(names[mode - 3]);
    *desc = std::string("auto_pad ") + names[mode - 3];
  }
  *desc += " strides " + dims_to_string(strides) + " dilations " + dims_to_string(dil) + " group " +
           std::to_string(group);
  return a;
}

}  // namespace

TEST(ConvFastPath, MatchesReferenceOnRandomShapes) {
#ifndef CONVFIX_HAVE_DNNL
  GTEST_SKIP() << "built without oneDNN: no fast path to compare";
#endif
  std::mt19937 rng(1234);
  int checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const int r = trial % 10 == 0 ? 1 : trial % 10 == 1 ? 3 : 2;
    const int64_t batch = trial % 3 == 0 ? 8 : 1;
    const int kind = trial % 4;  // 0 plain, 1 grouped, 2 depthwise, 3 depthwise with multiplier
    const int64_t cg = kind >= 2 ? 1 : 1 + trial % 5;
    const int64_t group = kind == 0 ? 1 : kind == 1 ? 2 + trial % 3 : 3 + trial % 14;
    const int64_t c = cg * group;
    const int64_t m = kind == 2 ? group : kind == 3 ? 2 * group : group * (1 + (trial * 7) % 6);
    std::vector<int64_t> k, xd{batch, c}, wd{m, cg};
    for (int i = 0; i < r; ++i) {
      const int64_t ks = 1 + (trial + i * 3) % 5;
      k.push_back(r == 3 ? std::min<int64_t>(ks, 3) : ks);
      xd.push_back(r == 3 ? 7 + i : 9 + (trial * 5 + i) % 12);
      wd.push_back(k.back());
    }
    std::string desc;
    Attributes a = conv_attrs(rng, r, group, k, &desc);
    const Tensor x = random_tensor(rng, xd), w = random_tensor(rng, wd), b = random_tensor(rng, {m});
    const bool with_bias = trial % 2 == 0;
    OpRunner fast("Conv", a, with_bias ? 3 : 2), ref("Conv", a, with_bias ? 3 : 2);
    std::vector<const Tensor*> ins{&x, &w};
    if (with_bias) ins.push_back(&b);
    // Too-large kernels for the input are a shape error in both modes.
    ops::set_kernel_mode(ops::KernelMode::kReference);
    auto probe = ref.run(ins);
    ops::set_kernel_mode(ops::KernelMode::kFromEnvironment);
    if (!probe.ok()) {
      EXPECT_EQ(probe.status().code(), StatusCode::kShapeError) << probe.status().to_string();
      continue;
    }
    expect_fast_matches_reference(fast, ref, ins,
                                  "Conv x " + dims_to_string(xd) + " w " + dims_to_string(wd) + " " + desc);
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

TEST(ConvFastPath, CacheFollowsShapesAndWeights) {
  KernelModeGuard guard;
  std::mt19937 rng(7);
  Attributes a;
  a["pads"] = Attribute::of_ints({1, 1, 1, 1});
  OpRunner fast("Conv", a, 2), ref("Conv", a, 2);
  for (int step = 0; step < 4; ++step) {
    // Alternate spatial sizes and fresh weight buffers: the cached primitive
    // and reordered weights must be rebuilt each time.
    const Tensor x = random_tensor(rng, {2, 3, 8 + step * 3, 10});
    const Tensor w = random_tensor(rng, {4, 3, 3, 3});
    ops::set_kernel_mode(ops::KernelMode::kFast);
    auto f = fast.run({&x, &w}, 1 + step % 2);
    ops::set_kernel_mode(ops::KernelMode::kReference);
    auto r = ref.run({&x, &w});
    ASSERT_TRUE(f.ok() && r.ok());
    EXPECT_LE(max_abs_diff((*f)[0], (*r)[0]), 1e-4 * max_abs((*r)[0])) << "step " << step;
  }
}

// <Conv(x; W), y> == <x, ConvTranspose(y; W)>: ConvTranspose is the adjoint
// of Conv with the same strides, dilations, pads and groups.
TEST(ConvTranspose, IsTheAdjointOfConv) {
  KernelModeGuard guard;
  std::mt19937 rng(99);
  for (int trial = 0; trial < 24; ++trial) {
    const int r = trial % 6 == 0 ? 1 : trial % 6 == 1 ? 3 : 2;
    const int64_t group = trial % 3 == 0 ? 2 : 1;
    const int64_t c = 2 * group, m = 3 * group;
    std::vector<int64_t> xd{2, c}, wd{m, c / group}, k, strides, dil, pads(2 * static_cast<size_t>(r));
    for (int i = 0; i < r; ++i) {
      k.push_back(1 + (trial + i) % 3);
      strides.push_back(1 + (trial / 2 + i) % 3);
      dil.push_back(1 + (trial / 3 + i) % 2);
      pads[static_cast<size_t>(i)] = (trial + i) % 2;
      pads[static_cast<size_t>(i + r)] = (trial / 2 + i) % 3;
      xd.push_back(r == 3 ? 6 : 11 + i);
      wd.push_back(k.back());
    }
    Attributes ca;
    ca["group"] = Attribute::of_int(group);
    ca["strides"] = Attribute::of_ints(strides);
    ca["dilations"] = Attribute::of_ints(dil);
    ca["pads"] = Attribute::of_ints(pads);
    const Tensor x = random_tensor(rng, xd), w = random_tensor(rng, wd);
    ops::set_kernel_mode(ops::KernelMode::kReference);
    OpRunner conv("Conv", ca, 2);
    auto y = conv.run({&x, &w});
    ASSERT_TRUE(y.ok()) << y.status().to_string();
    const Tensor g = random_tensor(rng, (*y)[0].dims());
    // ConvTranspose reads W [m, c/group, k] as [its input channels, its
    // output channels / group, k]; output_padding makes up the input
    // positions the strided Conv never reached, so the output has x's size.
    Attributes ta = ca;
    std::vector<int64_t> out_pad;
    for (int i = 0; i < r; ++i) {
      const size_t u = static_cast<size_t>(i);
      const int64_t span = xd[u + 2] + pads[u] + pads[u + static_cast<size_t>(r)] - (k[u] - 1) * dil[u] - 1;
      out_pad.push_back(span % strides[u]);
    }
    ta["output_padding"] = Attribute::of_ints(out_pad);
    OpRunner tconv("ConvTranspose", ta, 2);
    auto xt = tconv.run({&g, &w});
    ASSERT_TRUE(xt.ok()) << xt.status().to_string();
    ASSERT_EQ((*xt)[0].dims(), x.dims());
    const double lhs = dot((*y)[0], g), rhs = dot(x, (*xt)[0]);
    EXPECT_NEAR(lhs, rhs, 1e-4 * (std::fabs(lhs) + 1)) << "trial " << trial;
  }
}

// output_shape leads to the pads that give that size (split evenly here).
TEST(ConvTranspose, OutputShapeMatchesExplicitPads) {
  std::mt19937 rng(3);
  const Tensor x = random_tensor(rng, {1, 2, 5, 6}), w = random_tensor(rng, {2, 3, 3, 3});
  Attributes a1, a2;
  a1["strides"] = Attribute::of_ints({2, 2});
  a1["pads"] = Attribute::of_ints({1, 1, 1, 1});
  a2["strides"] = Attribute::of_ints({2, 2});
  a2["output_shape"] = Attribute::of_ints({9, 11});
  OpRunner r1("ConvTranspose", a1, 2), r2("ConvTranspose", a2, 2);
  auto y1 = r1.run({&x, &w});
  auto y2 = r2.run({&x, &w});
  ASSERT_TRUE(y1.ok() && y2.ok());
  ASSERT_EQ((*y1)[0].dims(), (std::vector<int64_t>{1, 3, 9, 11}));
  EXPECT_EQ(max_abs_diff((*y1)[0], (*y2)[0]), 0.0);
}

TEST(Conv, OneByOneConvIsAMatMul) {
  KernelModeGuard guard;
  std::mt19937 rng(5);
  const Tensor x = random_tensor(rng, {1, 6, 4, 5}), w = random_tensor(rng, {7, 6, 1, 1});
  for (auto mode : {ops::KernelMode::kReference, ops::KernelMode::kFast}) {
    ops::set_kernel_mode(mode);
    OpRunner conv("Conv", {}, 2), mm("MatMul", {}, 2);
    auto y = conv.run({&x, &w});
    const Tensor wm = w.reshaped({7, 6}), xm = x.reshaped({6, 20});
    auto z = mm.run({&wm, &xm});
    ASSERT_TRUE(y.ok() && z.ok());
    EXPECT_LE(max_abs_diff((*y)[0].reshaped({7, 20}), (*z)[0]), 1e-5);
  }
}

TEST(GemmFastPath, MatchesReference) {
#ifndef CONVFIX_HAVE_DNNL
  GTEST_SKIP() << "built without oneDNN: no fast path to compare";
#endif
  std::mt19937 rng(11);
  for (int trial = 0; trial < 32; ++trial) {
    const int64_t m = 1 + (trial * 7) % 40, n = 1 + (trial * 13) % 70, k = 1 + (trial * 5) % 50;
    const bool ta = trial % 2, tb = (trial / 2) % 2;
    Attributes a;
    a["transA"] = Attribute::of_int(ta);
    a["transB"] = Attribute::of_int(tb);
    a["alpha"] = Attribute::of_float(trial % 3 == 0 ? 0.5f : 1.0f);
    a["beta"] = Attribute::of_float(trial % 5 == 0 ? 2.0f : 1.0f);
    const Tensor A = random_tensor(rng, ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k});
    const Tensor B = random_tensor(rng, tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n});
    const std::vector<std::vector<int64_t>> cshapes{{m, n}, {n}, {1, n}, {m, 1}, {1}, {}};
    const Tensor C = random_tensor(rng, cshapes[static_cast<size_t>(trial) % cshapes.size()]);
    const bool with_c = trial % 7 != 6;
    OpRunner fast("Gemm", a, with_c ? 3 : 2), ref("Gemm", a, with_c ? 3 : 2);
    std::vector<const Tensor*> ins{&A, &B};
    if (with_c) ins.push_back(&C);
    expect_fast_matches_reference(fast, ref, ins, "Gemm m" + std::to_string(m) + " n" + std::to_string(n) + " k" +
                                                      std::to_string(k) + " C " + dims_to_string(C.dims()));
  }
}

TEST(MatMulFastPath, MatchesReferenceWithBroadcasting) {
#ifndef CONVFIX_HAVE_DNNL
  GTEST_SKIP() << "built without oneDNN: no fast path to compare";
#endif
  std::mt19937 rng(13);
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> cases{
      {{5, 7}, {7, 3}},          {{7}, {7, 4}},           {{3, 7}, {7}},          {{7}, {7}},
      {{2, 3, 5, 7}, {7, 6}},    {{2, 1, 5, 7}, {3, 7, 6}}, {{4, 5, 7}, {1, 7, 6}}, {{5, 7}, {2, 3, 7, 4}},
      {{8, 64, 33}, {33, 100}},  {{2, 8, 16, 32}, {2, 8, 32, 16}}};
  for (const auto& [ad, bd] : cases) {
    const Tensor A = random_tensor(rng, ad), B = random_tensor(rng, bd);
    OpRunner fast("MatMul", {}, 2), ref("MatMul", {}, 2);
    expect_fast_matches_reference(fast, ref, {&A, &B}, "MatMul " + dims_to_string(ad) + " x " + dims_to_string(bd));
  }
}

TEST(MatMul, ShapesFollowNumpy) {
  std::mt19937 rng(17);
  const Tensor a = random_tensor(rng, {2, 1, 5, 7}), b = random_tensor(rng, {3, 7, 6}), v = random_tensor(rng, {7});
  OpRunner mm("MatMul", {}, 2);
  auto r = mm.run({&a, &b});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].dims(), (std::vector<int64_t>{2, 3, 5, 6}));
  r = mm.run({&v, &b});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].dims(), (std::vector<int64_t>{3, 6}));
  r = mm.run({&a, &v});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].dims(), (std::vector<int64_t>{2, 1, 5}));
  r = mm.run({&b, &a});  // 7 vs 5: inner dims differ
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input 0"), std::string::npos);
}

TEST(MaxPool, IndicesPointAtTheMaxima) {
  std::mt19937 rng(21);
  const Tensor x = random_tensor(rng, {2, 3, 9, 8});
  for (int order : {0, 1}) {
    Attributes a;
    a["kernel_shape"] = Attribute::of_ints({3, 2});
    a["strides"] = Attribute::of_ints({2, 2});
    a["pads"] = Attribute::of_ints({1, 0, 1, 1});
    a["dilations"] = Attribute::of_ints({1, 2});
    a["storage_order"] = Attribute::of_int(order);
    OpRunner pool("MaxPool", a, 1, 2);
    auto r = pool.run({&x});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const Tensor& y = (*r)[0];
    const Tensor& idx = (*r)[1];
    ASSERT_EQ(idx.dtype(), DType::kI64);
    for (int64_t i = 0; i < y.numel(); ++i) {
      int64_t at = idx.data<int64_t>()[i];
      if (order == 1) {  // column-major within the (image, channel) plane
        const int64_t plane = at / 72, in_plane = at % 72, h = in_plane % 9, w = in_plane / 9;
        at = plane * 72 + h * 8 + w;
      }
      ASSERT_GE(at, 0);
      ASSERT_LT(at, x.numel());
      EXPECT_EQ(y.data<float>()[i], x.data<float>()[at]);
    }
  }
}

TEST(AveragePool, ConstantInputGivesConstantUnlessPadsCount) {
  Tensor x(DType::kF32, {1, 1, 5, 5});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = 3.0f;
  Attributes a;
  a["kernel_shape"] = Attribute::of_ints({3, 3});
  a["pads"] = Attribute::of_ints({1, 1, 1, 1});
  OpRunner excl("AveragePool", a, 1);
  auto r = excl.run({&x});
  ASSERT_TRUE(r.ok());
  for (int64_t i = 0; i < 25; ++i) EXPECT_FLOAT_EQ((*r)[0].data<float>()[i], 3.0f);
  a["count_include_pad"] = Attribute::of_int(1);
  OpRunner incl("AveragePool", a, 1);
  r = incl.run({&x});
  ASSERT_TRUE(r.ok());
  EXPECT_FLOAT_EQ((*r)[0].data<float>()[0], 3.0f * 4 / 9);   // corner: 4 of 9 taps inside
  EXPECT_FLOAT_EQ((*r)[0].data<float>()[1], 3.0f * 6 / 9);   // edge: 6 of 9
  EXPECT_FLOAT_EQ((*r)[0].data<float>()[12], 3.0f);          // centre
}

TEST(Pool, CeilModeDropsAWindowStartingInThePadding) {
  // in 6, kernel 2, stride 2, pads 0/1, ceil: windows start at 0, 2, 4 and
  // a fourth one would start at 6 (only padding) and is dropped.
  Tensor x(DType::kF32, {1, 1, 6});
  for (int64_t i = 0; i < 6; ++i) x.data<float>()[i] = static_cast<float>(i);
  Attributes a;
  a["kernel_shape"] = Attribute::of_ints({2});
  a["strides"] = Attribute::of_ints({2});
  a["pads"] = Attribute::of_ints({0, 1});
  a["ceil_mode"] = Attribute::of_int(1);
  OpRunner pool("MaxPool", a, 1);
  auto r = pool.run({&x});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].dims(), (std::vector<int64_t>{1, 1, 3}));
}

TEST(GlobalPools, ReduceEverySpatialAxis) {
  std::mt19937 rng(23);
  const Tensor x = random_tensor(rng, {2, 3, 4, 5, 6});
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"}) {
    OpRunner pool(op, {}, 1);
    auto r = pool.run({&x});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ((*r)[0].dims(), (std::vector<int64_t>{2, 3, 1, 1, 1}));
    for (int64_t p = 0; p < 6; ++p) {
      double sum = 0, sq = 0, mx = -1e30;
      for (int64_t i = 0; i < 120; ++i) {
        const double v = x.data<float>()[p * 120 + i];
        sum += v;
        sq += v * v;
        mx = std::max(mx, v);
      }
      const double want = std::string(op) == "GlobalAveragePool" ? sum / 120 : std::string(op) == "GlobalMaxPool" ? mx : std::sqrt(sq);
      EXPECT_NEAR((*r)[0].data<float>()[p], want, 1e-5) << op;
    }
  }
}

TEST(LayerNormalization, RowsHaveZeroMeanAndUnitVariance) {
  std::mt19937 rng(29);
  const Tensor x = random_tensor(rng, {3, 4, 10}, -5.f, 7.f);
  Tensor scale(DType::kF32, {4, 10});
  for (int64_t i = 0; i < scale.numel(); ++i) scale.data<float>()[i] = 1.0f;
  Attributes a;
  a["axis"] = Attribute::of_int(1);
  a["epsilon"] = Attribute::of_float(0.0f);
  OpRunner ln("LayerNormalization", a, 2, 3);
  auto r = ln.run({&x, &scale});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ((*r)[1].dims(), (std::vector<int64_t>{3, 1, 1}));
  for (int64_t row = 0; row < 3; ++row) {
    double s = 0, ss = 0, xs = 0;
    for (int64_t i = 0; i < 40; ++i) {
      const double v = (*r)[0].data<float>()[row * 40 + i];
      s += v;
      ss += v * v;
      xs += x.data<float>()[row * 40 + i];
    }
    EXPECT_NEAR(s / 40, 0.0, 1e-5);
    EXPECT_NEAR(ss / 40, 1.0, 1e-4);
    EXPECT_NEAR((*r)[1].data<float>()[row], xs / 40, 1e-4);
  }
}

TEST(BatchNormalization, TrainingModeUpdatesRunningStatistics) {
  std::mt19937 rng(31);
  const Tensor x = random_tensor(rng, {4, 2, 3, 3});
  Tensor ones(DType::kF32, {2}), zeros(DType::kF32, {2});
  for (int i = 0; i < 2; ++i) ones.data<float>()[i] = 1.0f;
  Attributes a;
  a["training_mode"] = Attribute::of_int(1);
  a["momentum"] = Attribute::of_float(0.75f);
  a["epsilon"] = Attribute::of_float(0.0f);
  OpRunner bn("BatchNormalization", a, 5, 3);
  auto r = bn.run({&x, &ones, &zeros, &zeros, &ones}, 1, 15);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  for (int64_t ch = 0; ch < 2; ++ch) {
    double s = 0, ss = 0, ys = 0;
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t i = 0; i < 9; ++i) {
        const double v = x.data<float>()[(b * 2 + ch) * 9 + i];
        s += v;
        ss += v * v;
        ys += (*r)[0].data<float>()[(b * 2 + ch) * 9 + i];
      }
    const double mean = s / 36, var = ss / 36 - mean * mean;
    EXPECT_NEAR((*r)[1].data<float>()[ch], 0.25 * mean, 1e-5);
    EXPECT_NEAR((*r)[2].data<float>()[ch], 0.75 + 0.25 * var, 1e-5);
    EXPECT_NEAR(ys / 36, 0.0, 1e-5);
  }
}

TEST(NnErrors, NameTheInput) {
  std::mt19937 rng(37);
  const Tensor x = random_tensor(rng, {1, 3, 5, 5}), w = random_tensor(rng, {4, 2, 3, 3}), b = random_tensor(rng, {5});
  OpRunner conv("Conv", {}, 2);
  auto r = conv.run({&x, &w});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input 1"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("n0"), std::string::npos) << r.status().message();
  const Tensor w2 = random_tensor(rng, {4, 3, 3, 3});
  OpRunner conv_b("Conv", {}, 3);
  r = conv_b.run({&x, &w2, &b});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input 2"), std::string::npos) << r.status().message();
  OpRunner missing("Conv", {}, 2);
  missing.omit_input(1);
  r = missing.run({&x, nullptr});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input 1"), std::string::npos) << r.status().message();
  Attributes bad;
  bad["auto_pad"] = Attribute::of_string("SAME_MIDDLE");
  OpRunner conv_bad("Conv", bad, 2);
  r = conv_bad.run({&x, &w2});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotImplemented);
  const Tensor a = random_tensor(rng, {3, 4}), g = random_tensor(rng, {5, 6});
  OpRunner gemm("Gemm", {}, 2);
  r = gemm.run({&a, &g});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input 1"), std::string::npos) << r.status().message();
}
