// convfix/tfjs_format.h — TensorFlow.js model.json: weight manifests (both
// flavours), the layers-model reader and a flavour-independent writer.
//
// Contract:
// - read_tfjs_weights: the weights of a TF.js model.json: every entry of
//   every weightsManifest group, read from the group's shard files (paths
//   confined to the model folder: absolute paths and ".." components are
//   refused), concatenated per group in order, decoded to Tensors:
//   float32/int32/bool as stored; float16 kept as f16 tensors; quantized
//   uint8/uint16 (quantization {dtype, min, scale} or {dtype, scale,
//   zero_point? / original_dtype}) dequantized to float32 as
//   value*scale + min (min = -zero_point*scale when only a zero point is
//   given; an int32 original_dtype rounds back to int32). Sizes are checked
//   against the shard lengths before any read; a missing or short shard is
//   kInvalidModel / kIoError naming the model.json and the weight.
// - read_tfjs_layers_model: a "layers-model" model.json (Keras topology in
//   modelTopology.model_config or modelTopology itself) lowered exactly as a
//   Keras file is (see keras_format.h): initializer names = manifest names,
//   provenance.format "tfjs", original_op the Keras class name.
// - write_tfjs: copies the original model.json into out_dir and writes one
//   new shard "group1-shard1of1.bin". A layers-model's Keras config is
//   patched from the graph exactly as write_keras does it (keras_format.h;
//   TF.js semantics: ReLU negative_slope / threshold, ELU alpha != 1 and a
//   changed Softmax layer axis are refused, as tfjs-layers 4.9 ignores or
//   refuses them); unexpressible differences are kNotImplemented
//   naming node and attribute, and nothing is written; a new bias is added
//   to the manifest after the layer's last weight ("<layer>/bias"). The
//   shard holds every manifest weight from the graph (for a layers-model:
//   the tensor the graph uses at that weight's place; else the initializer
//   of the same manifest name), in manifest order, in its stored dtype (quantized
//   weights are written back as float32 and lose their "quantization"
//   entry; float16 weights stay float16). Files are written atomically and
//   never over an input file (out_dir must differ from the input folder).
// - check_tfjs_writable: what write_tfjs would decide about the graph,
//   nothing written (OK, or the writer's error). A graph-model's writer
//   writes weights only: node or attribute changes are not checked there.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "convfix/graph.h"
#include "convfix/status.h"
#include "convfix/tensor.h"

namespace convfix {

struct TfjsWeights {
  std::vector<std::string> order;            // manifest order
  std::map<std::string, Tensor> tensors;     // by manifest name
};
Expected<TfjsWeights> read_tfjs_weights(const std::string& model_json_path, const nlohmann::json& model_json);
Expected<Graph> read_tfjs_layers_model(const std::string& model_json_path);
Status write_tfjs(const Graph& g, const std::string& original_model_json, const std::string& out_dir);
Status check_tfjs_writable(const Graph& g, const std::string& original_model_json);

}  // namespace convfix
