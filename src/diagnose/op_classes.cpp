// The op table of diagnosis: role of each op in a layer, layer kinds,
// canonical activation names (src/diagnose/op_classes.h).
#include "diagnose/op_classes.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "convfix/executor.h"

namespace convfix {

bool is_tflite(const Node& n) { return n.domain == "tflite" || n.domain == "tflite.custom"; }

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

namespace {

bool is_default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// Arithmetic on constants (a BatchNorm lowered as scale = gamma / sqrt(var + eps), ...).
bool is_arith(const std::string& op) {
  return op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Sqrt" || op == "Reciprocal" ||
         op == "Neg";
}

// Elementwise f32 arithmetic where the operands have the same number of
// elements or one is a single value (the result takes the larger's dims).
std::optional<Tensor> arith(const std::string& op, const Tensor& a, const Tensor* b) {
  auto fa = a.to_f32();
  if (!fa.ok()) return std::nullopt;
  Tensor x = std::move(fa).value();
  if (!b) {
    Tensor y(DType::kF32, x.dims());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float v = x.data<float>()[i];
      y.data<float>()[i] = op == "Sqrt" ? std::sqrt(v) : op == "Reciprocal" ? 1.0f / v : -v;
    }
    return y;
  }
  auto fb = b->to_f32();
  if (!fb.ok()) return std::nullopt;
  Tensor z = std::move(fb).value();
  const int64_t n = std::max(x.numel(), z.numel());
  if ((x.numel() != n && x.numel() != 1) || (z.numel() != n && z.numel() != 1)) return std::nullopt;
  Tensor y(DType::kF32, x.numel() == n ? x.dims() : z.dims());
  for (int64_t i = 0; i < n; ++i) {
    const float u = x.data<float>()[x.numel() == 1 ? 0 : i], v = z.data<float>()[z.numel() == 1 ? 0 : i];
    y.data<float>()[i] = op == "Add" ? u + v : op == "Sub" ? u - v : op == "Mul" ? u * v : u / v;
  }
  return y;
}

// Ops whose output is computed here when their data input is a constant:
// the weight-layout chains importers put in front of a Conv or MatMul
// (Transpose of an HWIO kernel, Reshape of a depthwise filter, ...).
bool foldable(const Node& n) {
  if (!is_default_domain(n)) return false;
  const std::string& op = n.op_type;
  return op == "Transpose" || op == "Reshape" || op == "Identity" || op == "Cast" || op == "Squeeze" ||
         op == "Unsqueeze" || op == "Flatten" || op == "Constant" || is_arith(op);
}

Tensor transpose_any(const Tensor& x, std::vector<int64_t> perm) {
  const int64_t r = x.rank();
  if (perm.empty())
    for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
  std::vector<int64_t> dims(static_cast<size_t>(r)), in_strides(static_cast<size_t>(r), 1);
  for (int64_t i = r - 2; i >= 0; --i) in_strides[static_cast<size_t>(i)] = in_strides[static_cast<size_t>(i + 1)] * x.dim(i + 1);
  for (int64_t i = 0; i < r; ++i) dims[static_cast<size_t>(i)] = x.dim(perm[static_cast<size_t>(i)]);
  Tensor y(x.dtype(), dims);
  const size_t es = dtype_size(x.dtype());
  const auto* src = static_cast<const uint8_t*>(x.raw());
  auto* dst = static_cast<uint8_t*>(y.raw());
  std::vector<int64_t> idx(static_cast<size_t>(r), 0);
  for (int64_t o = 0; o < y.numel(); ++o) {
    int64_t off = 0;
    for (int64_t i = 0; i < r; ++i) off += idx[static_cast<size_t>(i)] * in_strides[static_cast<size_t>(perm[static_cast<size_t>(i)])];
    std::memcpy(dst + static_cast<size_t>(o) * es, src + static_cast<size_t>(off) * es, es);
    for (int64_t i = r - 1; i >= 0; --i) {
      if (++idx[static_cast<size_t>(i)] < dims[static_cast<size_t>(i)]) break;
      idx[static_cast<size_t>(i)] = 0;
    }
  }
  if (x.quant() && !x.quant()->per_channel()) y.set_quant(x.quant());
  return y;
}

// Shape arithmetic that exporters emit around Pad / Reshape (torch.onnx's
// F.pad: ConstantOfShape, Concat, Slice, Reshape, Transpose, Cast to int64):
// computed by running the node's kernel when all its inputs are constants.
bool kernel_foldable(const Node& n) {
  static const std::set<std::string> kOps = {
      "ConstantOfShape", "Concat", "Slice", "Gather", "Range", "Expand", "Tile", "Split", "Equal", "Less",
      "Greater", "Where", "Not", "And", "Or", "Mod", "Max", "Min", "Abs", "Floor", "Ceil", "Shape", "Size",
      "ReduceProd", "ReduceSum", "ReduceMax", "ReduceMin", "Cast", "Squeeze", "Unsqueeze", "Reshape", "Transpose"};
  return is_default_domain(n) && kOps.count(n.op_type) != 0;
}

std::optional<Tensor> eval_const(const Graph& g, const std::string& name, int depth);

std::optional<Tensor> kernel_fold(const Graph& g, const Node& n, const std::string& name, int depth) {
  if (!kernel_foldable(n)) return std::nullopt;
  auto mg = std::make_shared<Graph>();
  mg->info.opsets = g.info.opsets;
  int64_t total = 0;
  for (const auto& in : n.inputs) {
    if (in.empty() || mg->initializers.count(in)) continue;
    auto t = eval_const(g, in, depth + 1);
    if (!t || t->layout() != MemoryLayout::kPlain) return std::nullopt;
    total += t->numel();
    if (total > (int64_t{1} << 20)) return std::nullopt;
    mg->initializers[in] = *t;
  }
  mg->nodes.push_back(n);
  ValueInfo out;
  out.name = name;
  mg->outputs.push_back(out);
  auto ex = Executor::create(mg, ExecOptions{1, true});
  if (!ex.ok()) return std::nullopt;
  auto r = (*ex)->run({});
  if (!r.ok()) return std::nullopt;
  auto it = r->find(name);
  if (it == r->end()) return std::nullopt;
  return it->second;
}

std::optional<Tensor> eval_const(const Graph& g, const std::string& name, int depth) {
  if (name.empty() || depth > 8) return std::nullopt;
  auto it = g.initializers.find(name);
  if (it != g.initializers.end()) return it->second;
  const int64_t p = g.producer(name);
  if (p < 0) return std::nullopt;
  const Node& n = g.nodes[static_cast<size_t>(p)];
  if (!foldable(n)) return kernel_fold(g, n, name, depth);
  if (n.op_type == "Constant") {
    const Attribute* a = n.attr("value");
    if (a && a->kind == Attribute::Kind::kTensor) return a->t;
    if ((a = n.attr("value_float"))) return Tensor::scalar_f32(a->f);
    if ((a = n.attr("value_int"))) return Tensor::scalar_i64(a->i);
    if ((a = n.attr("value_floats")))
      return Tensor::from_vector<float>(DType::kF32, {static_cast<int64_t>(a->floats.size())}, a->floats);
    if ((a = n.attr("value_ints")))
      return Tensor::from_vector<int64_t>(DType::kI64, {static_cast<int64_t>(a->ints.size())}, a->ints);
    return std::nullopt;
  }
  if (n.inputs.empty()) return std::nullopt;
  auto x = eval_const(g, n.inputs[0], depth + 1);
  if (!x || x->layout() != MemoryLayout::kPlain) return std::nullopt;
  const std::string& op = n.op_type;
  if (is_arith(op)) {
    if (op == "Sqrt" || op == "Reciprocal" || op == "Neg") return arith(op, *x, nullptr);
    auto y = n.inputs.size() > 1 ? eval_const(g, n.inputs[1], depth + 1) : std::nullopt;
    if (!y) return std::nullopt;
    return arith(op, *x, &*y);
  }
  if (op == "Identity") return x;
  if (op == "Transpose") {
    auto perm = n.attr_ints("perm");
    if (!perm.empty() && static_cast<int64_t>(perm.size()) != x->rank()) return std::nullopt;
    return transpose_any(*x, perm);
  }
  if (op == "Cast") {
    if (n.attr_int("to", 1) != 1) return kernel_fold(g, n, name, depth);  // to float32 here, others by the kernel
    auto f = x->to_f32();
    return f.ok() ? std::optional<Tensor>(std::move(f).value()) : std::nullopt;
  }
  std::vector<int64_t> dims;
  if (op == "Reshape") {
    auto shape = n.inputs.size() > 1 ? eval_const(g, n.inputs[1], depth + 1) : std::nullopt;
    if (!shape) return kernel_fold(g, n, name, depth);
    dims = shape->to_i64_vector();
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] == 0 && i < static_cast<size_t>(x->rank())) dims[i] = x->dim(static_cast<int64_t>(i));
      if (dims[i] == -1) infer = static_cast<int64_t>(i);
      else known *= dims[i];
    }
    if (infer >= 0 && known > 0) dims[static_cast<size_t>(infer)] = x->numel() / known;
  } else if (op == "Flatten") {
    int64_t axis = n.attr_int("axis", 1);
    if (axis < 0) axis += x->rank();
    int64_t a = 1, b = 1;
    for (int64_t i = 0; i < x->rank(); ++i) (i < axis ? a : b) *= x->dim(i);
    dims = {a, b};
  } else {  // Squeeze / Unsqueeze
    std::vector<int64_t> axes = n.attr_ints("axes");
    if (axes.empty() && n.inputs.size() > 1) {
      auto ax = eval_const(g, n.inputs[1], depth + 1);
      if (ax) axes = ax->to_i64_vector();
    }
    if (op == "Squeeze") {
      for (int64_t i = 0; i < x->rank(); ++i) {
        bool drop = axes.empty() ? x->dim(i) == 1 : false;
        for (int64_t a : axes) drop = drop || a == i || a + x->rank() == i;
        if (!drop) dims.push_back(x->dim(i));
      }
    } else {
      const int64_t r = x->rank() + static_cast<int64_t>(axes.size());
      std::vector<bool> ins(static_cast<size_t>(r), false);
      for (int64_t a : axes) ins[static_cast<size_t>(a < 0 ? a + r : a)] = true;
      int64_t k = 0;
      for (int64_t i = 0; i < r; ++i) dims.push_back(ins[static_cast<size_t>(i)] ? 1 : x->dim(k++));
    }
  }
  if (num_elements(dims) != x->numel()) return std::nullopt;
  return x->reshaped(dims);
}

bool is_const_value(const Graph& g, const std::string& name, int depth) {
  if (name.empty() || depth > 8) return false;
  if (g.initializers.count(name)) return true;
  const int64_t p = g.producer(name);
  if (p < 0) return false;
  const Node& n = g.nodes[static_cast<size_t>(p)];
  if (!foldable(n) && !kernel_foldable(n)) return false;
  if (n.op_type == "Constant") return true;
  if (n.inputs.empty()) return false;
  for (const auto& in : n.inputs)
    if (!in.empty() && !is_const_value(g, in, depth + 1)) return false;
  return true;
}

}  // namespace

std::optional<Tensor> constant_value(const Graph& g, const std::string& name) { return eval_const(g, name, 0); }

bool is_constant(const Graph& g, const std::string& name) { return is_const_value(g, name, 0); }

std::string constant_root(const Graph& g, const std::string& name) {
  std::string v = name;
  for (int depth = 0; depth < 9 && !v.empty(); ++depth) {
    if (g.initializers.count(v)) return v;
    const int64_t p = g.producer(v);
    if (p < 0) return name;
    const Node& n = g.nodes[static_cast<size_t>(p)];
    if (!foldable(n) || n.op_type == "Constant" || n.inputs.empty()) return n.op_type == "Constant" ? v : name;
    v = n.inputs[0];
  }
  return name;
}

OpClass op_class(const Node& n) {
  static const std::unordered_map<std::string, OpClass> kOnnx = {
      {"Relu", OpClass::kActivation}, {"Clip", OpClass::kActivation}, {"LeakyRelu", OpClass::kActivation},
      {"PRelu", OpClass::kActivation}, {"Sigmoid", OpClass::kActivation}, {"Tanh", OpClass::kActivation},
      {"HardSigmoid", OpClass::kActivation}, {"HardSwish", OpClass::kActivation}, {"Elu", OpClass::kActivation},
      {"Selu", OpClass::kActivation}, {"Softplus", OpClass::kActivation}, {"Gelu", OpClass::kActivation},
      {"Erf", OpClass::kActivation}, {"Mish", OpClass::kActivation}, {"Celu", OpClass::kActivation},
      {"ThresholdedRelu", OpClass::kActivation}, {"Softsign", OpClass::kActivation},
      {"Add", OpClass::kBinary}, {"Sub", OpClass::kBinary}, {"Mul", OpClass::kBinary}, {"Div", OpClass::kBinary},
      {"Max", OpClass::kBinary}, {"Min", OpClass::kBinary}, {"Pow", OpClass::kBinary},
      {"BatchNormalization", OpClass::kNorm}, {"InstanceNormalization", OpClass::kNorm},
      {"LayerNormalization", OpClass::kNorm},
      {"Transpose", OpClass::kLayout}, {"Reshape", OpClass::kLayout}, {"Flatten", OpClass::kLayout},
      {"Squeeze", OpClass::kLayout}, {"Unsqueeze", OpClass::kLayout}, {"Identity", OpClass::kLayout},
      {"Dropout", OpClass::kLayout}, {"Cast", OpClass::kLayout}, {"QuantizeLinear", OpClass::kLayout},
      {"DequantizeLinear", OpClass::kLayout},
      {"Pad", OpClass::kPad},
      {"Concat", OpClass::kConcat},
      {"Shape", OpClass::kShape}, {"Size", OpClass::kShape}, {"ConstantOfShape", OpClass::kShape},
      {"Constant", OpClass::kShape},
  };
  static const std::unordered_map<std::string, OpClass> kTflite = {
      {"RELU", OpClass::kActivation}, {"RELU6", OpClass::kActivation}, {"RELU_N1_TO_1", OpClass::kActivation},
      {"RELU_0_TO_1", OpClass::kActivation}, {"LEAKY_RELU", OpClass::kActivation}, {"PRELU", OpClass::kActivation},
      {"LOGISTIC", OpClass::kActivation}, {"TANH", OpClass::kActivation}, {"HARD_SWISH", OpClass::kActivation},
      {"ELU", OpClass::kActivation}, {"GELU", OpClass::kActivation},
      {"ADD", OpClass::kBinary}, {"SUB", OpClass::kBinary}, {"MUL", OpClass::kBinary}, {"DIV", OpClass::kBinary},
      {"MAXIMUM", OpClass::kBinary}, {"MINIMUM", OpClass::kBinary},
      {"RESHAPE", OpClass::kLayout}, {"SQUEEZE", OpClass::kLayout}, {"EXPAND_DIMS", OpClass::kLayout},
      {"TRANSPOSE", OpClass::kLayout}, {"QUANTIZE", OpClass::kLayout}, {"DEQUANTIZE", OpClass::kLayout},
      {"CAST", OpClass::kLayout},
      {"PAD", OpClass::kPad}, {"PADV2", OpClass::kPad}, {"MIRROR_PAD", OpClass::kPad},
      {"CONCATENATION", OpClass::kConcat},
      {"SHAPE", OpClass::kShape},
  };
  if (n.domain.empty() || n.domain == "ai.onnx") {
    auto it = kOnnx.find(n.op_type);
    return it == kOnnx.end() ? OpClass::kAnchor : it->second;
  }
  if (n.domain == "tflite") {
    auto it = kTflite.find(n.op_type);
    return it == kTflite.end() ? OpClass::kAnchor : it->second;
  }
  return OpClass::kAnchor;
}

namespace {

// Constant axes of a reduction: attribute "axes" or a constant input 1.
std::vector<int64_t> reduce_axes(const Node& n, const Graph& g) {
  if (const Attribute* a = n.attr("axes"); a && a->kind == Attribute::Kind::kInts) return a->ints;
  if (auto tp = n.inputs.size() > 1 ? constant_value(g, n.inputs[1]) : std::nullopt) {
    const Tensor& t = *tp;
    std::vector<int64_t> ax;
    if (t.dtype() == DType::kI64) for (int64_t i = 0; i < t.numel(); ++i) ax.push_back(t.data<int64_t>()[i]);
    if (t.dtype() == DType::kI32) for (int64_t i = 0; i < t.numel(); ++i) ax.push_back(t.data<int32_t>()[i]);
    return ax;
  }
  return {};
}

bool const_input(const Node& n, const Graph& g, size_t i) {
  return i < n.inputs.size() && is_constant(g, n.inputs[i]);
}

}  // namespace

std::string layer_kind(const Node& n, const Graph& g, const ValueDims* shapes) {
  const std::string& op = n.op_type;
  if (is_tflite(n)) {
    if (op == "CONV_2D" || op == "DEPTHWISE_CONV_2D") return "conv";
    if (op == "TRANSPOSE_CONV" || op == "Convolution2DTransposeBias") return "conv_transpose";
    if (op == "FULLY_CONNECTED") return "dense";
    if (op == "MAX_POOL_2D" || op == "MaxPoolingWithArgmax2D") return "maxpool";
    if (op == "AVERAGE_POOL_2D") return "avgpool";
    if (op == "L2_POOL_2D") return "l2pool";
    if (op == "CONCATENATION") return "concat";
    if (op == "ADD") return "add";
    if (op == "SUB") return "sub";
    if (op == "MUL") return "mul";
    if (op == "DIV") return "div";
    if (op == "MAXIMUM") return "max";
    if (op == "MINIMUM") return "min";
    if (op == "SOFTMAX" || op == "LOG_SOFTMAX") return "softmax";
    if (op == "LOCAL_RESPONSE_NORMALIZATION") return "lrn";
    if (op == "RESIZE_BILINEAR" || op == "RESIZE_NEAREST_NEIGHBOR") return "resize";
    if (op == "L2_NORMALIZATION") return "norm";
    if (op == "MEAN" || op == "SUM" || op == "REDUCE_MAX" || op == "REDUCE_MIN") {
      auto ax = reduce_axes(n, g);
      std::sort(ax.begin(), ax.end());
      if (op == "MEAN" && ax == std::vector<int64_t>{1, 2}) return "globalpool";
      return "reduce";
    }
    return "other";
  }
  if (op == "Conv") return "conv";
  if (op == "ConvTranspose") return "conv_transpose";
  if (op == "Gemm") return "dense";
  if (op == "MatMul") return (const_input(n, g, 1) || const_input(n, g, 0)) ? "dense" : "other";
  if (op == "MaxPool") return "maxpool";
  if (op == "AveragePool") return "avgpool";
  if (op == "LpPool") return "l2pool";
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") return "globalpool";
  if (op == "Concat") return "concat";
  if (op == "Add") return "add";
  if (op == "Sub") return "sub";
  if (op == "Mul") return "mul";
  if (op == "Div") return "div";
  if (op == "Max") return "max";
  if (op == "Min") return "min";
  if (op == "Softmax" || op == "LogSoftmax") return "softmax";
  if (op == "LRN") return "lrn";
  if (op == "Resize" || op == "Upsample") return "resize";
  if (op == "BatchNormalization" || op == "InstanceNormalization" || op == "LayerNormalization") return "norm";
  if (op == "ReduceMean") {
    auto ax = reduce_axes(n, g);
    std::sort(ax.begin(), ax.end());
    int64_t rank = 4;
    if (shapes && !n.inputs.empty()) {
      auto it = shapes->find(n.inputs[0]);
      if (it != shapes->end()) rank = static_cast<int64_t>(it->second.size());
    }
    for (auto& a : ax) if (a < 0) a += rank;
    std::sort(ax.begin(), ax.end());
    if (rank == 4 && (ax == std::vector<int64_t>{2, 3} || ax == std::vector<int64_t>{1, 2})) return "globalpool";
    return "reduce";
  }
  if (op.rfind("Reduce", 0) == 0) return "reduce";
  return "other";
}

std::string fused_activation_name(const Node& n) {
  const std::string a = n.attr_string("fused_activation_function", "NONE");
  if (a == "NONE") return "";
  if (a == "RELU") return "relu";
  if (a == "RELU6") return "relu6";
  if (a == "RELU_N1_TO_1") return "clip(-1,1)";
  if (a == "TANH") return "tanh";
  return a;
}

namespace {
bool scalar_of(const Graph& g, const std::string& v, double* out) {
  auto tp = constant_value(g, v);
  if (!tp) return false;
  const Tensor& t = *tp;
  if (t.numel() != 1) return false;
  auto f = t.to_f32_vector();
  if (f.empty()) return false;
  *out = f[0];
  return true;
}
}  // namespace

std::string activation_name(const Node& n, const Graph& g) {
  const std::string& op = n.op_type;
  if (is_tflite(n)) {
    if (op == "RELU") return "relu";
    if (op == "RELU6") return "relu6";
    if (op == "RELU_N1_TO_1") return "clip(-1,1)";
    if (op == "RELU_0_TO_1") return "clip(0,1)";
    if (op == "LEAKY_RELU") return "leaky_relu(" + format_number(n.attr_float("alpha", 0.2f)) + ")";
    if (op == "PRELU") return "prelu";
    if (op == "LOGISTIC") return "sigmoid";
    if (op == "TANH") return "tanh";
    if (op == "HARD_SWISH") return "hard_swish";
    if (op == "ELU") return "elu";
    if (op == "GELU") return "gelu";
    return op;
  }
  if (op == "Relu") return "relu";
  if (op == "Clip") {
    double lo = -INFINITY, hi = INFINITY;
    if (g.opset() < 11 || n.attr("min") || n.attr("max")) {
      lo = n.attr_float("min", -INFINITY);
      hi = n.attr_float("max", INFINITY);
    }
    if (n.inputs.size() > 1) scalar_of(g, n.inputs[1], &lo);
    if (n.inputs.size() > 2) scalar_of(g, n.inputs[2], &hi);
    if (lo == 0 && hi == 6) return "relu6";
    if (lo == 0 && std::isinf(hi)) return "relu";
    return "clip(" + format_number(lo) + "," + format_number(hi) + ")";
  }
  if (op == "LeakyRelu") return "leaky_relu(" + format_number(n.attr_float("alpha", 0.01f)) + ")";
  if (op == "PRelu") return "prelu";
  if (op == "Sigmoid") return "sigmoid";
  if (op == "Tanh") return "tanh";
  if (op == "HardSwish") return "hard_swish";
  if (op == "HardSigmoid")
    return "hard_sigmoid(" + format_number(n.attr_float("alpha", 0.2f)) + "," + format_number(n.attr_float("beta", 0.5f)) + ")";
  if (op == "Elu") return "elu(" + format_number(n.attr_float("alpha", 1.0f)) + ")";
  if (op == "Selu") return "selu";
  if (op == "Softplus") return "softplus";
  if (op == "Gelu") return "gelu";
  return op;
}

}  // namespace convfix
