// Tests of the elementwise, reduction, softmax and cast kernels that the
// conformance runner and the ONNX Runtime oracle (tests/oracles/
// ops_elementwise_ort.py) cannot check:
// - the ONNX test data Cast cases whose bf16 tensors are stored as uint16 or
//   whose output is a string tensor (run here on the executor directly, with
//   the bf16 bits reinterpreted);
// - f64 -> f16/bf16 rounding against the IEEE definition (every midpoint of
//   two neighbouring f16 values, and just above/below it);
// - fast_exp against libm's double exp (ulp error) over the whole f32 range;
// - broadcasting against a direct index computation on random shapes, and
//   results that do not depend on the number of threads;
// - error messages that name the node, op and input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>

#include "convfix/executor.h"
#include "convfix/onnx_format.h"
#include "convfix/op_registry.h"
#include "convfix/thread_pool.h"
#include "ops/elementwise_util.h"

using namespace convfix;

namespace {

const char* kTestData = "/usr/share/libonnx-testdata/data/node";

// Calls one kernel directly.
Expected<std::vector<Tensor>> run_op(const std::string& op, const std::vector<const Tensor*>& ins, Attributes attrs = {},
                                     int threads = 1, int64_t opset = 17) {
  Node n;
  n.name = "n0";
  n.op_type = op;
  n.attrs = std::move(attrs);
  for (size_t i = 0; i < ins.size(); ++i) n.inputs.push_back(ins[i] ? "in" + std::to_string(i) : "");
  n.outputs.push_back("out0");
  const OpDef* def = OpRegistry::builtin().find("", op);
  if (!def) return not_implemented("no kernel for " + op);
  ThreadPool pool(threads);
  std::shared_ptr<void> state;
  KernelContext ctx(n, opset, ins, &pool, &state);
  Status st = def->kernel(ctx);
  if (!st.ok()) return st;
  return ctx.outputs();
}

// Runs an ONNX test-data case on the executor. Inputs whose file holds
// uint16 where the model wants bf16 get their bits reinterpreted. The
// declared input shapes are dropped: the CastLike cases of onnx 1.12 declare
// 'like' as [3, 4] but store a [1] tensor.
struct CaseResult {
  std::vector<Tensor> outputs, expected;
};
Expected<CaseResult> run_test_data_case(const std::string& name) {
  const std::string dir = std::string(kTestData) + "/" + name;
  CONVFIX_ASSIGN_OR_RETURN(Graph g, read_onnx(dir + "/model.onnx"));
  for (auto& vi : g.inputs) vi.has_shape = false;
  auto graph = std::make_shared<Graph>(std::move(g));
  CONVFIX_ASSIGN_OR_RETURN(auto ex, Executor::create(graph));
  TensorMap feeds;
  CaseResult r;
  for (size_t i = 0; i < graph->inputs.size(); ++i) {
    CONVFIX_ASSIGN_OR_RETURN(Tensor t, read_tensor_pb(dir + "/test_data_set_0/input_" + std::to_string(i) + ".pb"));
    if (graph->inputs[i].dtype == DType::kBF16 && t.dtype() == DType::kU16) {
      Tensor b(DType::kBF16, t.dims());
      std::memcpy(b.raw(), t.raw(), t.nbytes());
      t = b;
    }
    feeds[graph->inputs[i].name] = t;
  }
  CONVFIX_ASSIGN_OR_RETURN(TensorMap outs, ex->run(feeds));
  for (size_t i = 0; i < graph->outputs.size(); ++i) {
    r.outputs.push_back(outs[graph->outputs[i].name]);
    CONVFIX_ASSIGN_OR_RETURN(Tensor e, read_tensor_pb(dir + "/test_data_set_0/output_" + std::to_string(i) + ".pb"));
    r.expected.push_back(e);
  }
  return r;
}

bool have_test_data() { return std::filesystem::exists(kTestData); }

Tensor random_f32(std::mt19937& rng, std::vector<int64_t> dims, float lo = -2.f, float hi = 2.f) {
  Tensor t(DType::kF32, std::move(dims));
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

}  // namespace

// --- ONNX test data cases the conformance runner skips (see skip.txt) -------

TEST(CastTestData, Bf16InputsStoredAsUint16) {
  if (!have_test_data()) GTEST_SKIP() << kTestData << " missing (install libonnx-testdata)";
  for (const char* name : {"test_cast_BFLOAT16_to_FLOAT", "test_castlike_BFLOAT16_to_FLOAT",
                           "test_castlike_BFLOAT16_to_FLOAT_expanded"}) {
    SCOPED_TRACE(name);
    auto r = run_test_data_case(name);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const Tensor& got = r->outputs[0];
    const Tensor& exp = r->expected[0];
    ASSERT_EQ(got.dtype(), DType::kF32);
    ASSERT_EQ(got.dims(), exp.dims());
    // bf16 -> f32 is exact: bitwise equal (NaN payloads included).
    EXPECT_EQ(std::memcmp(got.raw(), exp.raw(), got.nbytes()), 0);
  }
}

// The expected outputs were produced by truncation (onnx 1.12); convfix
// rounds to nearest even like ONNX Runtime. Check that every result is the
// bf16 value nearest to the input, and at most one bf16 step from the
// truncated expectation.
TEST(CastTestData, F32ToBf16RoundsToNearestEven) {
  if (!have_test_data()) GTEST_SKIP() << kTestData << " missing";
  for (const char* name : {"test_cast_FLOAT_to_BFLOAT16", "test_castlike_FLOAT_to_BFLOAT16",
                           "test_castlike_FLOAT_to_BFLOAT16_expanded"}) {
    SCOPED_TRACE(name);
    auto r = run_test_data_case(name);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    auto in = read_tensor_pb(std::string(kTestData) + "/" + name + "/test_data_set_0/input_0.pb");
    ASSERT_TRUE(in.ok());
    const Tensor& got = r->outputs[0];
    ASSERT_EQ(got.dtype(), DType::kBF16);
    const Tensor& exp = r->expected[0];  // uint16 bit patterns (truncated)
    ASSERT_EQ(exp.numel(), got.numel());
    for (int64_t i = 0; i < got.numel(); ++i) {
      const float x = in->data<float>()[i];
      const uint16_t g = got.data<uint16_t>()[i];
      const uint16_t e = static_cast<uint16_t>(exp.get_i64(i));
      if (!std::isfinite(x)) {
        if (std::isnan(x)) EXPECT_TRUE(std::isnan(bf16_to_f32(g))) << "element " << i;
        else EXPECT_EQ(bf16_to_f32(g), x) << "element " << i;
        continue;
      }
      const double err = std::fabs(static_cast<double>(bf16_to_f32(g)) - x);
      // Neighbours of the result are not closer to x.
      for (int d : {-1, 1}) {
        const float nb = bf16_to_f32(static_cast<uint16_t>(g + d));
        if (std::isfinite(nb)) {
          EXPECT_LE(err, std::fabs(static_cast<double>(nb) - x)) << "element " << i;
        }
      }
      EXPECT_LE(std::abs(static_cast<int>(g) - static_cast<int>(e)), 1) << "element " << i;
    }
  }
}

TEST(CastTestData, FloatToStringAndBack) {
  if (!have_test_data()) GTEST_SKIP() << kTestData << " missing";
  for (const char* name : {"test_cast_FLOAT_to_STRING", "test_castlike_FLOAT_to_STRING",
                           "test_castlike_FLOAT_to_STRING_expanded", "test_cast_STRING_to_FLOAT",
                           "test_castlike_STRING_to_FLOAT", "test_castlike_STRING_to_FLOAT_expanded"}) {
    SCOPED_TRACE(name);
    auto r = run_test_data_case(name);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const Tensor& got = r->outputs[0];
    const Tensor& exp = r->expected[0];
    ASSERT_EQ(got.dtype(), exp.dtype());
    ASSERT_EQ(got.dims(), exp.dims());
    if (got.dtype() == DType::kString) {
      EXPECT_EQ(*got.strings(), *exp.strings());
    } else {
      EXPECT_EQ(std::memcmp(got.raw(), exp.raw(), got.nbytes()), 0);
    }
  }
}

// --- rounding to f16 / bf16 from f64 -----------------------------------------

TEST(Cast, F64ToF16RoundsOnceToNearestEven) {
  // All positive finite f16 values h[k]; midpoints m = (h[k] + h[k+1]) / 2
  // are exact in double. IEEE round-to-nearest-even: m goes to the neighbour
  // with an even mantissa; m +/- a little goes to the nearer neighbour.
  std::vector<double> xs;
  std::vector<uint16_t> want;
  for (uint16_t h = 0; h < 0x7bff; ++h) {
    const double a = f16_to_f32(h), b = f16_to_f32(static_cast<uint16_t>(h + 1));
    const double m = (a + b) / 2;
    const double tiny = (b - a) * 1e-6;
    xs.insert(xs.end(), {a, m, m - tiny, m + tiny, -m});
    const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : h;
    want.insert(want.end(), {h, even, h, static_cast<uint16_t>(h + 1), static_cast<uint16_t>(even | 0x8000)});
  }
  // Overflow: 65504 is the largest f16; from 65520 on the result is inf.
  xs.insert(xs.end(), {65519.99, 65520.0, 1e300, -1e300});
  want.insert(want.end(), {0x7bff, 0x7c00, 0x7c00, 0xfc00});
  Tensor x = Tensor::from_vector(DType::kF64, {static_cast<int64_t>(xs.size())}, xs);
  Attributes a;
  a["to"] = Attribute::of_int(10);  // FLOAT16
  auto out = run_op("Cast", {&x}, a, 2);
  ASSERT_TRUE(out.ok()) << out.status().to_string();
  const uint16_t* g = (*out)[0].data<uint16_t>();
  int bad = 0;
  for (size_t i = 0; i < xs.size() && bad < 10; ++i)
    if (g[i] != want[i]) {
      ++bad;
      ADD_FAILURE() << "cast(" << xs[i] << ") = 0x" << std::hex << g[i] << ", want 0x" << want[i];
    }
}

TEST(Cast, F64ToBf16MatchesF32PathWhereThatIsExact) {
  // For doubles that are exactly representable in f32, rounding f64 -> bf16
  // directly must equal f32 -> bf16 (a single rounding either way).
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits(0, 0xffffffffu);
  std::vector<double> xs;
  std::vector<float> fs;
  for (int i = 0; i < 20000; ++i) {
    uint32_t b = bits(rng);
    float f;
    std::memcpy(&f, &b, 4);
    if (!std::isfinite(f)) continue;
    xs.push_back(f);
    fs.push_back(f);
  }
  Tensor xd = Tensor::from_vector(DType::kF64, {static_cast<int64_t>(xs.size())}, xs);
  Tensor xf = Tensor::from_vector(DType::kF32, {static_cast<int64_t>(fs.size())}, fs);
  Attributes a;
  a["to"] = Attribute::of_int(16);  // BFLOAT16
  auto od = run_op("Cast", {&xd}, a);
  auto of = run_op("Cast", {&xf}, a);
  ASSERT_TRUE(od.ok() && of.ok());
  for (size_t i = 0; i < xs.size(); ++i)
    ASSERT_EQ((*od)[0].data<uint16_t>()[i], f32_to_bf16(fs[i])) << "x = " << fs[i];
  EXPECT_EQ(0, std::memcmp((*od)[0].raw(), (*of)[0].raw(), (*od)[0].nbytes()));
}

// --- fast_exp -----------------------------------------------------------------

TEST(FastExp, WithinTwoUlpOfDoubleExp) {
  double worst = 0;
  float worst_x = 0;
  for (float x = -103.0f; x < 88.7f; x += std::max(1e-4f * std::fabs(x), 1e-6f)) {
    const double ref = std::exp(static_cast<double>(x));
    const float got = ops::fast_exp(x);
    const float r = static_cast<float>(ref);
    const double ulp = std::fabs(static_cast<double>(std::nextafter(r, INFINITY)) - r);
    const double e = std::fabs(static_cast<double>(got) - ref) / ulp;
    if (e > worst) {
      worst = e;
      worst_x = x;
    }
  }
  EXPECT_LE(worst, 2.0) << "worst at x = " << worst_x;
  EXPECT_EQ(ops::fast_exp(0.0f), 1.0f);
  EXPECT_EQ(ops::fast_exp(-INFINITY), 0.0f);
  EXPECT_EQ(ops::fast_exp(INFINITY), INFINITY);
  EXPECT_EQ(ops::fast_exp(89.0f), INFINITY);
  EXPECT_EQ(ops::fast_exp(-110.0f), 0.0f);
  EXPECT_TRUE(std::isnan(ops::fast_exp(NAN)));
}

// Max ulp distance of f over [lo, hi) from the double reference.
template <typename F, typename R>
double max_ulp_error(F f, R ref, float lo, float hi, float* where) {
  double worst = 0;
  for (float x = lo; x < hi; x += std::max(1e-4f * std::fabs(x), 1e-6f)) {
    const double r = ref(static_cast<double>(x));
    const float rf = static_cast<float>(r);
    if (rf == 0.0f) continue;
    const double ulp = std::fabs(static_cast<double>(std::nextafter(rf, INFINITY)) - rf);
    const double e = std::fabs(static_cast<double>(f(x)) - r) / ulp;
    if (e > worst) {
      worst = e;
      *where = x;
    }
  }
  return worst;
}

TEST(FastExp, Expm1TanhErfWithinFewUlp) {
  float at = 0;
  EXPECT_LE(max_ulp_error([](float x) { return ops::fast_expm1(x); }, [](double x) { return std::expm1(x); }, -20.f, 80.f,
                          &at),
            3.0)
      << "expm1 worst at " << at;
  EXPECT_LE(max_ulp_error([](float x) { return ops::fast_tanh(x); }, [](double x) { return std::tanh(x); }, -12.f, 12.f, &at),
            4.0)
      << "tanh worst at " << at;
  EXPECT_LE(max_ulp_error([](float x) { return ops::fast_erf(x); }, [](double x) { return std::erf(x); }, -6.f, 6.f, &at), 4.0)
      << "erf worst at " << at;
  EXPECT_EQ(ops::fast_erf(0.0f), 0.0f);
  EXPECT_EQ(ops::fast_erf(-INFINITY), -1.0f);
  EXPECT_TRUE(std::isnan(ops::fast_erf(NAN)));
  EXPECT_EQ(ops::fast_tanh(0.0f), 0.0f);
  EXPECT_TRUE(std::signbit(ops::fast_tanh(-0.0f)));
  EXPECT_EQ(ops::fast_tanh(INFINITY), 1.0f);
  EXPECT_EQ(ops::fast_tanh(-1e30f), -1.0f);
  EXPECT_TRUE(std::isnan(ops::fast_tanh(NAN)));
  EXPECT_EQ(ops::fast_expm1(-INFINITY), -1.0f);
  EXPECT_TRUE(std::isnan(ops::fast_expm1(NAN)));
}

TEST(Cast, F32ToF16BufferPathMatchesScalarConversion) {
  // The Cast kernel converts whole buffers (F16C when available); every
  // f16 value and random f32 bit patterns must give what f32_to_f16 gives
  // (NaN payloads aside).
  std::vector<float> xs;
  for (uint32_t h = 0; h < 0x10000; ++h) xs.push_back(f16_to_f32(static_cast<uint16_t>(h)));
  std::mt19937 rng(9);
  for (int i = 0; i < 100000; ++i) {
    const uint32_t b = static_cast<uint32_t>(rng());
    float f;
    std::memcpy(&f, &b, 4);
    if (!std::isnan(f)) xs.push_back(f);
  }
  Tensor x = Tensor::from_vector(DType::kF32, {static_cast<int64_t>(xs.size())}, xs);
  Attributes a;
  a["to"] = Attribute::of_int(10);
  auto h = run_op("Cast", {&x}, a, 2);
  ASSERT_TRUE(h.ok());
  for (size_t i = 0; i < xs.size(); ++i) {
    const uint16_t got = (*h)[0].data<uint16_t>()[i];
    if (std::isnan(xs[i])) {  // NaN payloads may differ (F16C keeps them); NaN stays NaN
      ASSERT_TRUE(std::isnan(f16_to_f32(got))) << i;
      continue;
    }
    ASSERT_EQ(got, f32_to_f16(xs[i])) << xs[i];
  }
  Attributes back;
  back["to"] = Attribute::of_int(1);
  auto f = run_op("Cast", {&(*h)[0]}, back, 2);
  ASSERT_TRUE(f.ok());
  for (size_t i = 0; i < xs.size(); ++i) {
    const float want = f16_to_f32((*h)[0].data<uint16_t>()[i]);
    ASSERT_TRUE(std::memcmp(&want, &(*f)[0].data<float>()[i], 4) == 0) << i;
  }
}

// --- broadcasting and threads ------------------------------------------------

TEST(Broadcast, AddMatchesDirectIndexingOnRandomShapes) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> rank_d(0, 5), dim_d(1, 6), coin(0, 2);
  for (int trial = 0; trial < 300; ++trial) {
    const int r = rank_d(rng);
    std::vector<int64_t> out(static_cast<size_t>(r)), a, b;
    for (auto& d : out) d = dim_d(rng);
    // Each input: a suffix of the output shape with some dims set to 1.
    const int ra = std::uniform_int_distribution<int>(0, r)(rng), rb = std::uniform_int_distribution<int>(0, r)(rng);
    for (int i = r - ra; i < r; ++i) a.push_back(coin(rng) == 0 ? 1 : out[static_cast<size_t>(i)]);
    for (int i = r - rb; i < r; ++i) b.push_back(coin(rng) == 0 ? 1 : out[static_cast<size_t>(i)]);
    Tensor ta = random_f32(rng, a), tb = random_f32(rng, b);
    std::vector<int64_t> od;
    ASSERT_TRUE(ops::broadcast_dims(a, b, &od));
    auto res = run_op("Sub", {&ta, &tb}, {}, 1 + trial % 3);
    ASSERT_TRUE(res.ok()) << res.status().to_string();
    const Tensor& o = (*res)[0];
    ASSERT_EQ(o.dims(), od);
    // Direct index computation: coordinates of each output element, clamped
    // to 0 where an input has size 1.
    const auto ost = ops::strides_of(od);
    for (int64_t i = 0; i < o.numel(); ++i) {
      int64_t oa = 0, ob = 0, sa = 1, sb = 1;
      for (size_t k = od.size(); k-- > 0;) {
        const int64_t c = (i / ost[k]) % od[k];
        const size_t fa = k + a.size(), fb = k + b.size();
        if (fa >= od.size()) {
          const size_t ka = fa - od.size();
          oa += (a[ka] == 1 ? 0 : c) * sa;
          sa *= a[ka];
        }
        if (fb >= od.size()) {
          const size_t kb = fb - od.size();
          ob += (b[kb] == 1 ? 0 : c) * sb;
          sb *= b[kb];
        }
      }
      ASSERT_EQ(o.data<float>()[i], ta.data<float>()[oa] - tb.data<float>()[ob])
          << dims_to_string(a) << " - " << dims_to_string(b) << " at " << i;
    }
  }
}

TEST(Broadcast, ResultsDoNotDependOnThreads) {
  std::mt19937 rng(3);
  Tensor x = random_f32(rng, {3, 37, 29, 31});
  Tensor c = random_f32(rng, {37, 1, 1});
  struct Op {
    std::string type;
    Attributes attrs;
    bool binary;
  };
  std::vector<Op> ops_list = {{"Mul", {}, true}, {"Sigmoid", {}, false}, {"Softmax", {}, false},
                              {"ReduceMean", {}, false}, {"ReduceSum", {}, false}, {"LogSoftmax", {}, false}};
  ops_list[2].attrs["axis"] = Attribute::of_int(1);
  ops_list[3].attrs["axes"] = Attribute::of_ints({2, 3});
  ops_list[4].attrs["axes"] = Attribute::of_ints({0, 2});
  ops_list[4].attrs["keepdims"] = Attribute::of_int(0);
  ops_list[5].attrs["axis"] = Attribute::of_int(2);
  for (const auto& op : ops_list) {
    SCOPED_TRACE(op.type);
    std::vector<const Tensor*> ins = {&x};
    if (op.binary) ins.push_back(&c);
    auto one = run_op(op.type, ins, op.attrs, 1, 13);
    auto four = run_op(op.type, ins, op.attrs, 4, 13);
    ASSERT_TRUE(one.ok() && four.ok());
    EXPECT_TRUE((*one)[0].bitwise_equal((*four)[0]));
  }
}

TEST(Softmax, LegacyAndSingleAxisSemanticsDiffer) {
  // opset < 13 normalises over all dims from `axis` on; opset 13 over `axis`
  // only. Rows of the coerced 2-D view sum to 1 in the first case, columns
  // along the axis in the second.
  std::mt19937 rng(5);
  Tensor x = random_f32(rng, {2, 3, 4});
  Attributes a;
  a["axis"] = Attribute::of_int(1);
  auto legacy = run_op("Softmax", {&x}, a, 1, 11);
  auto modern = run_op("Softmax", {&x}, a, 1, 13);
  ASSERT_TRUE(legacy.ok() && modern.ok());
  const float* l = (*legacy)[0].data<float>();
  const float* m = (*modern)[0].data<float>();
  for (int b = 0; b < 2; ++b) {
    double s = 0;
    for (int i = 0; i < 12; ++i) s += l[b * 12 + i];
    EXPECT_NEAR(s, 1.0, 1e-6);
    for (int k = 0; k < 4; ++k) {
      double t = 0;
      for (int j = 0; j < 3; ++j) t += m[b * 12 + j * 4 + k];
      EXPECT_NEAR(t, 1.0, 1e-6);
    }
  }
}

// --- errors ----------------------------------------------------------------

TEST(Errors, NameNodeOpAndInput) {
  Tensor a(DType::kF32, {2, 3}), b(DType::kF32, {4});
  auto r = run_op("Add", {&a, &b});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("n0"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("Add"), std::string::npos);
  EXPECT_NE(r.status().message().find("input 1"), std::string::npos);

  Tensor i(DType::kI32, {2, 3});
  auto m = run_op("Mul", {&a, &i});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("input 1 is i32"), std::string::npos) << m.status().message();

  Attributes ax;
  ax["axes"] = Attribute::of_ints({5});
  auto red = run_op("ReduceSum", {&a}, ax, 1, 11);
  ASSERT_FALSE(red.ok());
  EXPECT_NE(red.status().message().find("out of range"), std::string::npos) << red.status().message();

  Tensor s(DType::kF32, {2});
  auto clip = run_op("Clip", {&a, &s}, {}, 1, 13);
  ASSERT_FALSE(clip.ok());
  EXPECT_NE(clip.status().message().find("input 1 must be a scalar"), std::string::npos) << clip.status().message();

  auto sq = run_op("Sqrt", {&i});
  ASSERT_FALSE(sq.ok());
  EXPECT_EQ(sq.status().code(), StatusCode::kNotImplemented);

  Attributes eq;
  eq["equation"] = Attribute::of_string("ij,jk->ik");
  Tensor e1(DType::kF32, {2, 3}), e2(DType::kF32, {4, 5});
  auto es = run_op("Einsum", {&e1, &e2}, eq);
  ASSERT_FALSE(es.ok());
  EXPECT_NE(es.status().message().find("input 1"), std::string::npos) << es.status().message();
}
