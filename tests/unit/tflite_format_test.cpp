// TFLite reader/writer unit tests. The oracle for field mapping is the
// flatc-generated typed API (tflite_schema_generated.h: builders and
// accessors per table), which is independent of the reader/writer's
// reflection-based mapping of options to attributes. Runtime-level checks
// (the real TFLite runtime) are in tests/tflite/test_roundtrip.py.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "convfix/fileio.h"
#include "convfix/tflite_format.h"
#include "tflite_schema_generated.h"

using namespace convfix;
namespace fb = flatbuffers;
namespace fs = std::filesystem;

namespace {

std::string finish(fb::FlatBufferBuilder& b, fb::Offset<tflite::Model> m) {
  tflite::FinishModelBuffer(b, m);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

// image [?,5,5,2] -> CONV_2D (float weights with per-channel quantization
// parameters, no bias) -> GELU (code 150) -> STABLEHLO_PAD (second options union).
std::string typed_model() {
  fb::FlatBufferBuilder b;
  std::vector<float> w(3 * 2 * 2 * 2);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.25f * static_cast<float>(i) - 1.0f;
  b.ForceVectorAlignment(w.size() * 4, 1, 16);
  auto wdata = b.CreateVector(reinterpret_cast<const uint8_t*>(w.data()), w.size() * 4);
  std::vector<fb::Offset<tflite::Buffer>> bufs = {tflite::CreateBuffer(b), tflite::CreateBuffer(b, wdata)};
  std::vector<float> scales{0.5f, 0.25f, 0.125f};
  std::vector<int64_t> zps{1, 2, 3};
  auto wq = tflite::CreateQuantizationParametersDirect(b, nullptr, nullptr, &scales, &zps, tflite::QuantizationDetails::NONE, 0, 0);
  std::vector<int32_t> in_shape{1, 5, 5, 2}, w_shape{3, 2, 2, 2}, c_shape{1, 2, 2, 3}, p_shape{1, 4, 5, 3}, sig{-1, 5, 5, 2};
  std::vector<fb::Offset<tflite::Tensor>> tensors = {
      tflite::CreateTensorDirect(b, &in_shape, tflite::TensorType::FLOAT32, 0, "image", 0, false, 0, &sig),
      tflite::CreateTensorDirect(b, &w_shape, tflite::TensorType::FLOAT32, 1, "weights", wq),
      tflite::CreateTensorDirect(b, &c_shape, tflite::TensorType::FLOAT32, 0, "conv"),
      tflite::CreateTensorDirect(b, &c_shape, tflite::TensorType::FLOAT32, 0, "gelu"),
      tflite::CreateTensorDirect(b, &p_shape, tflite::TensorType::FLOAT32, 0, "padded"),
  };
  std::vector<fb::Offset<tflite::OperatorCode>> codes = {
      tflite::CreateOperatorCode(b, 3, 0, 2, tflite::BuiltinOperator::CONV_2D),
      tflite::CreateOperatorCode(b, 127, 0, 1, tflite::BuiltinOperator::GELU),
      tflite::CreateOperatorCode(b, 127, 0, 1, tflite::BuiltinOperator::STABLEHLO_PAD),
  };
  auto conv = tflite::CreateConv2DOptions(b, tflite::Padding::VALID, /*stride_w=*/2, /*stride_h=*/3,
                                          tflite::ActivationFunctionType::RELU6, /*dilation_w=*/1, /*dilation_h=*/2);
  auto gelu = tflite::CreateGeluOptions(b, true);
  std::vector<int64_t> lo{0, 1, 0, 0}, hi{0, 1, 2, 0}, interior{0, 0, 0, 0};
  auto pad = tflite::CreateStablehloPadOptionsDirect(b, &lo, &hi, &interior);
  std::vector<int32_t> i0{0, 1, -1}, o0{2}, i1{2}, o1{3}, i2{3}, o2{4};
  std::vector<fb::Offset<tflite::Operator>> ops = {
      tflite::CreateOperatorDirect(b, 0, &i0, &o0, tflite::BuiltinOptions::Conv2DOptions, conv.Union()),
      tflite::CreateOperatorDirect(b, 1, &i1, &o1, tflite::BuiltinOptions::GeluOptions, gelu.Union()),
      tflite::CreateOperatorDirect(b, 2, &i2, &o2, tflite::BuiltinOptions::NONE, 0, nullptr,
                                   tflite::CustomOptionsFormat::FLEXBUFFERS, nullptr, nullptr, 0, 0,
                                   tflite::BuiltinOptions2::StablehloPadOptions, pad.Union()),
  };
  std::vector<int32_t> gin{0}, gout{4};
  std::vector<fb::Offset<tflite::SubGraph>> sgs = {tflite::CreateSubGraphDirect(b, &tensors, &gin, &gout, &ops, "main")};
  auto model = tflite::CreateModelDirect(b, 3, &codes, &sgs, "typed fixture", &bufs);
  return finish(b, model);
}

const Node& node_of(const Graph& g, const std::string& op) {
  for (const auto& n : g.nodes)
    if (n.op_type == op) return n;
  static Node none;
  ADD_FAILURE() << "no node " << op;
  return none;
}

}  // namespace

TEST(TfliteFormat, ReaderMapsOptionsLikeTheTypedApi) {
  auto g = read_tflite_bytes(typed_model(), "typed.tflite");
  ASSERT_TRUE(g.ok()) << g.status().message();
  const Node& conv = node_of(*g, "CONV_2D");
  EXPECT_EQ(conv.domain, "tflite");
  EXPECT_EQ(conv.attr_string("padding", ""), "VALID");
  EXPECT_EQ(conv.attr_int("stride_w", 0), 2);
  EXPECT_EQ(conv.attr_int("stride_h", 0), 3);
  EXPECT_EQ(conv.attr_int("dilation_w_factor", 0), 1);
  EXPECT_EQ(conv.attr_int("dilation_h_factor", 0), 2);
  EXPECT_EQ(conv.attr_string("fused_activation_function", ""), "RELU6");
  EXPECT_EQ(conv.attr_int("version", 0), 2);
  EXPECT_EQ(conv.attr_string("data_layout", ""), "NHWC");
  EXPECT_EQ(conv.attr_string("weight_layout", ""), "OHWI");
  EXPECT_EQ(conv.provenance.format, "tflite");
  ASSERT_EQ(conv.inputs.size(), 3u);
  EXPECT_EQ(conv.inputs[2], "");  // optional bias left out (-1)
  EXPECT_EQ(conv.name, "conv");   // named after its first output
  // Builtin code above 127 (deprecated_builtin_code holds the placeholder 127).
  EXPECT_EQ(node_of(*g, "GELU").attr_int("approximate", 0), 1);
  // Second options union.
  EXPECT_EQ(node_of(*g, "STABLEHLO_PAD").attr_ints("edge_padding_high"), (std::vector<int64_t>{0, 1, 2, 0}));
  // Constants, per-channel quantization, dynamic dims.
  const Tensor& w = g->initializers.at("weights");
  EXPECT_EQ(w.dims(), (std::vector<int64_t>{3, 2, 2, 2}));
  EXPECT_FLOAT_EQ(w.data<float>()[5], 0.25f * 5 - 1.0f);
  ASSERT_TRUE(w.quant().has_value());
  EXPECT_EQ(w.quant()->scale, (std::vector<float>{0.5f, 0.25f, 0.125f}));
  EXPECT_EQ(w.quant()->zero_point, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(w.quant()->axis, 0);
  ASSERT_EQ(g->inputs.size(), 1u);
  EXPECT_FALSE(g->inputs[0].shape[0].known());
  EXPECT_EQ(g->inputs[0].shape[1], Dim::of(5));
  EXPECT_EQ(g->info.format, "tflite");
  EXPECT_EQ(g->info.doc, "typed fixture");
}

TEST(TfliteFormat, WriterFieldsReadBackWithTheTypedApi) {
  auto g = read_tflite_bytes(typed_model(), "typed.tflite");
  ASSERT_TRUE(g.ok()) << g.status().message();
  Graph& graph = g.value();
  // Edit hyperparameters and a weight, then check the bytes the writer made.
  for (auto& n : graph.nodes)
    if (n.op_type == "CONV_2D") {
      n.attrs["stride_h"] = Attribute::of_int(1);
      n.attrs["padding"] = Attribute::of_string("SAME");
    }
  Tensor w = graph.initializers.at("weights").clone();
  w.data<float>()[0] = 42.0f;
  graph.initializers["weights"] = w;
  auto bytes = tflite_to_bytes(graph);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  fb::Verifier v(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  ASSERT_TRUE(tflite::VerifyModelBuffer(v));
  const tflite::Model* m = tflite::GetModel(bytes->data());
  EXPECT_EQ(m->version(), 3u);
  EXPECT_EQ(m->description()->str(), "typed fixture");
  const auto* sg = m->subgraphs()->Get(0);
  std::set<int32_t> codes;
  for (const auto* op : *sg->operators()) {
    const auto* code = m->operator_codes()->Get(op->opcode_index());
    const int32_t c = static_cast<int32_t>(code->builtin_code());
    codes.insert(c);
    EXPECT_EQ(code->deprecated_builtin_code(), std::min(c, 127));
    if (code->builtin_code() == tflite::BuiltinOperator::CONV_2D) {
      EXPECT_EQ(code->version(), 2);
      const auto* o = op->builtin_options_as_Conv2DOptions();
      ASSERT_NE(o, nullptr);
      EXPECT_EQ(o->padding(), tflite::Padding::SAME);
      EXPECT_EQ(o->stride_w(), 2);
      EXPECT_EQ(o->stride_h(), 1);
      EXPECT_EQ(o->dilation_h_factor(), 2);
      EXPECT_EQ(o->fused_activation_function(), tflite::ActivationFunctionType::RELU6);
      EXPECT_EQ(op->inputs()->Get(2), -1);
      const auto* wt = sg->tensors()->Get(static_cast<uint32_t>(op->inputs()->Get(1)));
      const auto* data = m->buffers()->Get(wt->buffer())->data();
      ASSERT_NE(data, nullptr);
      float first;
      std::memcpy(&first, data->data(), 4);
      EXPECT_EQ(first, 42.0f);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(data->data()) % 16, 0u);  // force_align: 16
      EXPECT_EQ(wt->quantization()->zero_point()->Get(2), 3);
    }
    if (code->builtin_code() == tflite::BuiltinOperator::STABLEHLO_PAD) {
      const auto* o = op->builtin_options_2_as_StablehloPadOptions();
      ASSERT_NE(o, nullptr);
      EXPECT_EQ(o->edge_padding_low()->Get(1), 1);
    }
  }
  EXPECT_EQ(codes, (std::set<int32_t>{3, 150, 195}));
  // shape_signature keeps the dynamic batch; shape holds 1 for it.
  const auto* in = sg->tensors()->Get(static_cast<uint32_t>(sg->inputs()->Get(0)));
  EXPECT_EQ(in->shape_signature()->Get(0), -1);
  EXPECT_EQ(in->shape()->Get(0), 1);
}

TEST(TfliteFormat, RoundTripKeepsModelLevelFacts) {
  Graph g;
  g.info.format = "tflite";
  g.info.doc = "demo";
  g.info.metadata["min_runtime_version"] = std::string("1.5.0\0\0\0", 8);
  g.info.metadata["blob"] = std::string("\x00\xff\x10", 3);
  g.inputs.push_back({"x", DType::kI8, {Dim::of(1), Dim::of(4)}, true, "", QuantParams{{0.5f}, {-3}, 0}});
  g.outputs.push_back({"y", DType::kI8, {Dim::of(1), Dim::of(4)}, true, "", QuantParams{{0.25f}, {7}, 0}});
  Tensor labels(DType::kString, {2});
  (*labels.strings())[0] = "cat";
  (*labels.strings())[1] = std::string("d\0g", 3);
  g.initializers["labels"] = labels;
  Node n;
  n.name = "y";
  n.domain = "tflite.custom";
  n.op_type = "MyOp";
  n.inputs = {"x", "labels"};
  n.outputs = {"y"};
  Attribute opaque;
  opaque.kind = Attribute::Kind::kOpaque;
  opaque.s = std::string("\x01\x00\x02", 3);
  n.attrs["custom_options"] = opaque;
  n.attrs["version"] = Attribute::of_int(3);
  g.nodes.push_back(n);
  // A branch subgraph called by nobody here, kept with its index.
  auto sub = std::make_shared<Graph>();
  sub->info.format = "tflite";
  sub->inputs.push_back({"a", DType::kF32, {Dim::of(2)}, true, "", std::nullopt});
  sub->outputs.push_back({"b", DType::kF32, {Dim::of(2)}, true, "", std::nullopt});
  Node relu;
  relu.name = "b";
  relu.domain = "tflite";
  relu.op_type = "RELU";
  relu.inputs = {"a"};
  relu.outputs = {"b"};
  relu.attrs["version"] = Attribute::of_int(1);  // the reader always reports the operator version
  sub->nodes.push_back(relu);
  g.info.subgraphs.push_back(sub);
  g.info.signatures.push_back({"serving_default", 0, {{"input", "x"}}, {{"output", "y"}}});

  for (auto placement : {TfliteWriteOptions::BufferPlacement::kInline, TfliteWriteOptions::BufferPlacement::kExternal}) {
    TfliteWriteOptions opt;
    opt.buffers = placement;
    auto bytes = tflite_to_bytes(g, opt);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    auto back = read_tflite_bytes(bytes.value(), "rt.tflite");
    ASSERT_TRUE(back.ok()) << back.status().message();
    const Graph& r = back.value();
    EXPECT_EQ(r.dump(), g.dump());
    EXPECT_EQ(r.info.doc, "demo");
    EXPECT_EQ(r.info.metadata, g.info.metadata);
    ASSERT_EQ(r.info.signatures.size(), 1u);
    EXPECT_EQ(r.info.signatures[0].key, "serving_default");
    EXPECT_EQ(r.info.signatures[0].inputs, g.info.signatures[0].inputs);
    EXPECT_EQ(r.info.signatures[0].outputs, g.info.signatures[0].outputs);
    ASSERT_EQ(r.info.subgraphs.size(), 1u);
    EXPECT_EQ(r.info.subgraphs[0]->dump(), sub->dump());
    EXPECT_EQ(r.inputs[0].quant, g.inputs[0].quant);
    EXPECT_EQ(r.outputs[0].quant, g.outputs[0].quant);
    EXPECT_EQ(*r.initializers.at("labels").strings(), *labels.strings());
    EXPECT_EQ(r.nodes[0].attr("custom_options")->s, opaque.s);
    const tflite::Model* m = tflite::GetModel(bytes->data());
    bool any_external = false;
    for (const auto* buf : *m->buffers()) any_external = any_external || buf->offset() > 1;
    // Metadata stays inline; the string constant goes after the FlatBuffer.
    EXPECT_EQ(any_external, placement == TfliteWriteOptions::BufferPlacement::kExternal);
  }
}

TEST(TfliteFormat, WriterRefusesWhatTfliteCannotHold) {
  auto g = read_tflite_bytes(typed_model(), "typed.tflite");
  ASSERT_TRUE(g.ok());
  {
    Graph e = g.value();
    e.nodes[0].domain = "";  // an ONNX op
    auto r = tflite_to_bytes(e);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kNotImplemented);
    EXPECT_NE(r.status().message().find("only ops of domain 'tflite'"), std::string::npos) << r.status().message();
  }
  {
    Graph e = g.value();
    e.nodes[0].attrs["stride"] = Attribute::of_int(2);  // not a Conv2DOptions field
    auto r = tflite_to_bytes(e);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("attribute 'stride' is not a field"), std::string::npos) << r.status().message();
  }
  {
    Graph e = g.value();
    e.value_info.erase("conv");  // an intermediate without dtype/shape
    auto r = tflite_to_bytes(e);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("value 'conv'"), std::string::npos) << r.status().message();
  }
}

TEST(TfliteFormat, SharedModelsAgreeWithTheTypedAccessors) {
  const fs::path dir = fs::path(CONVFIX_TFLITE_TEST_SOURCE_DIR) / ".." / "shared" / "models" / "tflite";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " not found (a fresh clone has no ../shared)";
  int checked = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".tflite") continue;
    auto bytes = read_file(e.path().string());
    ASSERT_TRUE(bytes.ok());
    auto g = read_tflite_bytes(bytes.value(), e.path().string());
    ASSERT_TRUE(g.ok()) << g.status().message();
    const tflite::Model* m = tflite::GetModel(bytes->data());
    const auto* sg = m->subgraphs()->Get(0);
    ASSERT_EQ(g->nodes.size(), sg->operators()->size()) << e.path();
    for (uint32_t j = 0; j < sg->operators()->size(); ++j) {
      const auto* op = sg->operators()->Get(j);
      const auto* code = m->operator_codes()->Get(op->opcode_index());
      const int32_t c = std::max<int32_t>(code->deprecated_builtin_code(), static_cast<int32_t>(code->builtin_code()));
      const Node& n = g->nodes[j];
      EXPECT_EQ(n.op_type, tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(c))) << e.path();
      EXPECT_EQ(n.attr_int("version", -1), code->version());
      // Every input the file names is the node's input, in order.
      ASSERT_EQ(n.inputs.size(), op->inputs()->size());
      for (uint32_t i = 0; i < op->inputs()->size(); ++i) {
        const int32_t t = op->inputs()->Get(i);
        if (t < 0) { EXPECT_EQ(n.inputs[i], ""); continue; }
        const auto* tt = sg->tensors()->Get(static_cast<uint32_t>(t));
        const auto* buf = m->buffers()->Get(tt->buffer());
        if (buf->data() && buf->data()->size() && g->is_initializer(n.inputs[i])) {
          const Tensor& v = g->initializers.at(n.inputs[i]);
          ASSERT_EQ(v.nbytes(), buf->data()->size());
          EXPECT_EQ(std::memcmp(v.raw(), buf->data()->data(), v.nbytes()), 0);
          if (tt->quantization() && tt->quantization()->scale() && tt->quantization()->scale()->size()) {
            ASSERT_TRUE(v.quant().has_value());
            EXPECT_EQ(v.quant()->scale.size(), tt->quantization()->scale()->size());
            EXPECT_EQ(v.quant()->scale[0], tt->quantization()->scale()->Get(0));
          }
        }
      }
      if (const auto* o = op->builtin_options_as_Conv2DOptions()) {
        EXPECT_EQ(n.attr_int("stride_w", -1), o->stride_w());
        EXPECT_EQ(n.attr_int("stride_h", -1), o->stride_h());
        EXPECT_EQ(n.attr_int("dilation_h_factor", -1), o->dilation_h_factor());
        EXPECT_EQ(n.attr_string("padding", ""), tflite::EnumNamePadding(o->padding()));
        EXPECT_EQ(n.attr_string("fused_activation_function", ""), tflite::EnumNameActivationFunctionType(o->fused_activation_function()));
      }
      if (const auto* o = op->builtin_options_as_DepthwiseConv2DOptions()) {
        EXPECT_EQ(n.attr_int("depth_multiplier", -1), o->depth_multiplier());
        EXPECT_EQ(n.attr_int("stride_h", -1), o->stride_h());
      }
      if (const auto* o = op->builtin_options_as_Pool2DOptions()) {
        EXPECT_EQ(n.attr_int("filter_width", -1), o->filter_width());
        EXPECT_EQ(n.attr_int("filter_height", -1), o->filter_height());
      }
      if (const auto* o = op->builtin_options_as_SoftmaxOptions()) {
        EXPECT_EQ(n.attr_float("beta", -1), o->beta());
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(TfliteFormat, CorruptBytesNeverCrash) {
  const std::string good = typed_model();
  uint32_t state = 12345;
  auto next = [&state] { state = state * 1664525u + 1013904223u; return state; };
  for (int k = 0; k < 300; ++k) {
    std::string bad = good;
    for (int f = 0; f < 1 + k % 5; ++f) bad[next() % bad.size()] = static_cast<char>(next() & 0xFF);
    if (k % 7 == 0) bad.resize(next() % bad.size());
    auto g = read_tflite_bytes(bad, "fuzz.tflite");
    if (!g.ok()) {
      EXPECT_NE(g.status().message().find("fuzz.tflite"), std::string::npos) << g.status().message();
    }
  }
}
