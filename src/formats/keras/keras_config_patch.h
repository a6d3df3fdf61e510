// Config patching for the Keras and TF.js layers-model writers: turns the
// differences between an edited graph and the lowering of its original file
// into Keras layer-config changes, and proves the result.
//
// Contract:
// - patch_config(g, original, namer): `original` is the LowerRequest of the
//   file g was read from (its model config and weights). The original is
//   lowered again; for every (non-model) layer the config fields this module
//   knows are read off g's nodes of that layer (matched by name: the main
//   node is named after the layer, helpers "<layer>/<what>", see
//   keras_lower.h) and off the original lowering the same way; a field is
//   rewritten only where the two differ:
//     Conv1D/2D/3D, DepthwiseConv2D, SeparableConv2D, Conv*DTranspose:
//       strides, dilation_rate, padding ("same" / "valid" / "causal", from
//       auto_pad or from explicit pads equal to what Keras gives for the
//       node's input shape, found by one run of g on zeros), use_bias
//       (false -> true: the bias becomes a new weight named by `namer`),
//       activation (the node after the layer: relu, relu6 = Clip(0, 6),
//       sigmoid, tanh, softmax, swish, elu, selu, softplus, softsign,
//       exponential, hard_sigmoid, hard_swish, mish, gelu, linear = none);
//     Dense: use_bias (false -> true), activation;
//     Max/AveragePooling: pool_size, strides, padding;
//     BatchNormalization, LayerNormalization: epsilon;
//     Activation: activation; ReLU: max_value, negative_slope, threshold;
//     LeakyReLU / ELU: alpha; ThresholdedReLU: theta; Softmax,
//     Concatenate: axis.
//   A layer's main node carrying an edited "keras_layer_config" (same class)
//   starts from that config.
// - Proof: the patched config is lowered (with the new weights) and compared
//   with g structurally from the graph outputs back (value names may differ;
//   Identity nodes are looked through; constants compare by value; a file
//   weight must be the same initializer name or a constant of the same
//   shape; explicit pads compare equal to auto_pad SAME/VALID when they
//   resolve to the same pads). Any difference is kNotImplemented naming the
//   file, g's node, its op and the attribute or input that has no Keras
//   config equivalent. Nothing is written by this module.
// - ConfigPatch::weights: the tensor g holds for every file weight the graph
//   uses (by the file's weight name); `added`: new weights in layer order.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "convfix/graph.h"
#include "convfix/status.h"
#include "formats/keras/keras_lower.h"

namespace convfix::keras {

struct NewWeight {
  std::string layer;  // owning layer
  std::string name;   // weight name in the file's convention
  std::string after;  // existing weight of the layer it follows
  Tensor value;
};

struct ConfigPatch {
  nlohmann::json model;                 // the (patched) model config
  bool changed = false;                 // model differs from the original
  std::vector<std::string> changes;     // "layer 'c': strides [1,1] -> [2,2]"
  std::vector<NewWeight> added;
  std::map<std::string, Tensor> weights;  // file weight name -> g's tensor
};

// Names a new weight (role "bias") of `layer`, whose weights are `existing`.
using WeightNamer = std::function<std::string(const std::string& layer, const std::string& role, const WeightList& existing)>;

// Names a new weight after the layer's first weight: same folder, last
// component `role` (keeping a ":0" suffix), or, when `numbered` (Keras 3
// "layers/<name>/vars/<i>"), the next index.
WeightNamer sibling_namer(bool numbered);

Expected<ConfigPatch> patch_config(const Graph& g, const LowerRequest& original, const WeightNamer& namer);

// The layer a TF.js manifest / Keras weight name belongs to: the component
// before the last ("conv2d/kernel", "model/conv2d/kernel:0"), else any
// earlier component naming a layer; "" when none does.
std::string weight_owner(const std::string& weight, const std::set<std::string>& layers);

}  // namespace convfix::keras
