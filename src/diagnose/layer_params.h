// The parameters of a layer in one canonical form, whatever the format
// stored: the linear part of a conv / dense layer as float32 weights in
// [O, I/groups, kH, kW] (conv; ONNX ConvTranspose and TFLite TRANSPOSE_CONV
// as [O, I, kH, kW] too) or [O, I] (dense) plus a bias [O]. Quantized
// weights are read in their real-valued view. Internal to src/diagnose.
#pragma once

#include <string>
#include <vector>

#include "convfix/align.h"
#include "convfix/graph.h"
#include "convfix/tensor.h"

namespace convfix {

struct LinearParams {
  bool valid = false;
  Tensor weight;                 // f32, canonical layout
  Tensor bias;                   // f32 [O]; zeros when the layer has none
  bool has_bias = false;
  bool quantized = false;        // some tensor was stored as integers
  bool folded = false;           // effective_params folded nodes after the anchor
  std::string weight_name, bias_name;   // initializer names in the file ("" when none)
  std::vector<std::string> folded_nodes; // names of the nodes folded in
};

// The anchor's own weights and bias (no folding).
LinearParams anchor_params(const Graph& g, const Layer& l);

// The anchor's weights and bias with the affine nodes that follow it in the
// layer folded in (BatchNormalization, Mul/Div/Add/Sub by a constant), up to
// the first non-linear node: what the layer computes before its activation.
LinearParams effective_params(const Graph& g, const Layer& l);

// Other parameter tensors of a layer by role ("bn.scale", "bn.bias",
// "bn.mean", "bn.var", "prelu.slope", "mul.const", "add.const", ...), in
// the order met, each in its real-valued f32 view.
struct RoleTensor {
  std::string role, name;
  Tensor value;
};
std::vector<RoleTensor> side_params(const Graph& g, const Layer& l);

}  // namespace convfix
