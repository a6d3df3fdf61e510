// Keras model config (Sequential / Functional / nested; Keras 2 and Keras 3
// JSON) lowered onto canonical ONNX-domain ops. Shared by the Keras HDF5 and
// .keras readers and the TF.js layers-model reader.
//
// Contract:
// - weights: per (non-model) layer name, the layer's weights in the
//   layer's own order (Keras 2: weight_names; Keras 3: vars/0..n; TF.js:
//   manifest order), each with its initializer name (the file's weight
//   name). A weight is picked by its last name component ("kernel",
//   "bias", "gamma", ...) when the name has one, else by position.
// - Activations stay in the file's data format; Conv / ConvTranspose /
//   pools are wrapped in Transpose pairs ("<layer>/to_nchw",
//   "<layer>/to_nhwc"). The node doing a layer's main work is named exactly
//   after the layer (a second call of a shared layer: "<layer>/call<k>");
//   helper nodes "<layer>/<what>". Provenance: format req.format,
//   original_op = class_name, layer = layer name. Every node of a layer
//   carries "keras_layer_config" only on its main node (the layer's config
//   JSON, for the writers). Layout attributes: "data_layout" (NHWC / NCHW /
//   NWC / NCW) on spatial nodes, "weight_layout" (HWIO, HWCM, ...) on the
//   node that consumes a kernel.
// - Lambda and unknown layers become a node of domain "keras" and op
//   class_name, which the executor cannot run ("cannot execute" naming the
//   layer at run time); importing still succeeds.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "convfix/graph.h"
#include "convfix/status.h"

namespace convfix::keras {

using WeightList = std::vector<std::pair<std::string, Tensor>>;

struct LowerRequest {
  std::string path;             // for messages
  std::string format = "keras";  // provenance format: "keras" or "tfjs"
  nlohmann::json model;         // {"class_name": ..., "config": ...}
  std::map<std::string, WeightList> weights;  // by layer name
  bool keras3 = false;          // Keras 3 semantics (hard_sigmoid = relu6(x + 3) / 6)
};

Expected<Graph> lower_model(const LowerRequest& req);

// Every layer of a model config (nested models flattened): plain layers into
// `layers`, model layers (Functional / Sequential / Model) into `models`.
void collect_layers(const nlohmann::json& model, std::set<std::string>* layers, std::set<std::string>* models);

// Functional / Model / Sequential: a nested model, not a plain layer.
bool is_model_class(const std::string& class_name);
// A layer JSON's name ("name", else config.name; "" when none).
std::string layer_name(const nlohmann::json& layer);

// Strips a trailing ":<digits>" from a TF variable name.
std::string strip_tf_suffix(const std::string& name);

// An int or int list config field as n ints (a scalar repeated, a short list
// padded with its last value, `def` when absent).
std::vector<int64_t> ints_of(const nlohmann::json& v, size_t n, int64_t def);

// The explicit ConvTranspose pads (begin..., end...) and output_padding that
// give Keras' Conv*DTranspose output length for kernel k, strides s,
// dilations d, config output_padding (-1 per axis when absent) and padding
// "same" (true) or "valid".
void conv_transpose_pads(const std::vector<int64_t>& k, const std::vector<int64_t>& s, const std::vector<int64_t>& d,
                         const std::vector<int64_t>& output_padding, bool same, std::vector<int64_t>* pads,
                         std::vector<int64_t>* outpad);

}  // namespace convfix::keras
