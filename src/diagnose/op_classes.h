// How diagnosis sees each op: the role it plays in a layer (anchor,
// activation, affine, layout, pad, ...) and the layer kind an anchor makes.
// One table for the ONNX domain and the TFLite domain (importers of the
// other formats lower onto the ONNX domain). Internal to src/diagnose.
#pragma once

#include <optional>
#include <string>

#include "convfix/align.h"
#include "convfix/graph.h"

namespace convfix {

enum class OpClass {
  kAnchor,      // does a layer's main work
  kActivation,  // elementwise non-linearity (Relu, Clip, Sigmoid, ...)
  kAffine,      // elementwise with a constant operand (resolved from kBinary)
  kBinary,      // Add/Sub/Mul/Div/Max/Min: affine, part of an activation, or a join
  kNorm,        // BatchNormalization and friends: folded into the layer before, or an anchor
  kLayout,      // Transpose, Reshape, Flatten, Identity, Cast, (De)Quantize, ...
  kPad,         // Pad: absorbed into the next anchor
  kConcat,      // an anchor when it joins two or more data inputs
  kShape,       // Shape, Size, ...: computes shapes only
};

OpClass op_class(const Node& n);

// The layer kind of an anchor node ("conv", "dense", "maxpool", ...).
std::string layer_kind(const Node& n, const Graph& g, const ValueDims* shapes);

// The canonical name of an elementwise activation node: "relu", "relu6",
// "clip(a,b)", "leaky_relu(a)", "sigmoid", "tanh", "hard_swish",
// "hard_sigmoid", "elu", "selu", "softplus", "gelu", "prelu", or the op type.
// `g` resolves Clip bounds given as constant inputs.
std::string activation_name(const Node& n, const Graph& g);

// TFLite fused_activation_function attribute → activation name ("" = none).
std::string fused_activation_name(const Node& n);

bool is_tflite(const Node& n);

// A number as diagnosis prints it in hyperparameter values: "%g", "inf", "-inf".
std::string format_number(double v);

// The value of a constant: an initializer, the output of an ONNX Constant
// node, or a layout chain over one (Transpose, Reshape, Flatten, Squeeze,
// Unsqueeze, Identity, Cast to float — what importers put between a file's
// kernel layout and a Conv/MatMul), computed here; nullopt otherwise.
std::optional<Tensor> constant_value(const Graph& g, const std::string& name);
// Whether constant_value would succeed (without computing it).
bool is_constant(const Graph& g, const std::string& name);
// The initializer (or Constant output) at the root of such a chain: the
// name the file gives the tensor. `name` itself when there is no chain.
std::string constant_root(const Graph& g, const std::string& name);

}  // namespace convfix
