// convfix/keras_format.h — Keras model files: Keras 2 HDF5 (model.save),
// architecture JSON + weights-only HDF5, Keras 3 ".keras" zip archives (and
// legacy HDF5 files carrying a .keras name); read and write back.
//
// Contract:
// - read_keras_h5: root attribute model_config (JSON), weights from group
//   model_weights (or the root for weights-only files): attribute
//   layer_names, each layer group's weight_names. Initializers are named
//   after the HDF5 weight names ("conv2d/kernel:0"); the dataset path of each
//   is kept in Graph::info.metadata["keras_weight_paths"] (JSON object) for
//   the writer. keras_version / backend go to info.metadata.
// - read_keras_json_h5: an architecture JSON (model.to_json()) with a
//   weights-only HDF5 file.
// - read_keras_v3: a .keras zip (config.json, metadata.json,
//   model.weights.h5 whose weights live in layers/<name>/vars/<i>);
//   initializers are named by their path in model.weights.h5.
// - Lowering: see src/formats/keras/keras_lower.h (layer list and naming in
//   docs/FORMATS.md, "Keras"). Provenance format "keras".
// - write_keras: writes `out_path` as a copy of `original` in its flavour:
//   model.save HDF5 (also under a .keras name), Keras 3 .keras zip, or an
//   architecture JSON (then out_path must end in .json and the weights go to
//   OUT.weights.h5 beside it; a weights-only HDF5 given as the original is
//   patched only when the config needs no change). The config is patched
//   from the graph (src/formats/keras/keras_config_patch.h): the original is
//   read and lowered again, the graph is diffed against that lowering layer
//   by layer, and the differences a Keras config expresses are written into
//   the layers' configs (strides, dilation_rate, padding incl. explicit pads
//   equal to "same" for the input shape, use_bias false -> true with the new
//   bias weight, activation after a layer, pooling sizes, BatchNormalization
//   / LayerNormalization epsilon, ReLU / LeakyReLU / ELU / ThresholdedReLU
//   parameters, Softmax / Concatenate axis). The patched config is lowered
//   again and must give the graph (structural comparison); any difference
//   it cannot express is kNotImplemented naming the file, the node, its op
//   and the attribute, and nothing is written. Weights: every weight the
//   graph uses is written from the graph's tensor (shapes must match; f32
//   converted to the dataset's type by HDF5); a new bias is a new f32
//   dataset next to the layer's first weight (Keras 2: also in the layer's
//   weight_names; Keras 3: vars/<next>). The model_config attribute keeps its
//   string form; JSON keys come out sorted. Atomic (temporary file +
//   rename); out_path must not be an input file.
// - check_keras_writable: what write_keras would decide, nothing written:
//   OK when the graph can be written over `original`, else the writer's
//   error (e.g. kNotImplemented naming the node and attribute).
// - Errors: kInvalidModel naming the file (and layer / weight): not HDF5,
//   truncated, missing model_config, a weight the config needs is missing,
//   a weight shape that does not match the config; kNotImplemented in builds
//   without libhdf5.
#pragma once

#include <string>

#include "convfix/graph.h"
#include "convfix/status.h"

namespace convfix {

Expected<Graph> read_keras_h5(const std::string& path);
Expected<Graph> read_keras_json_h5(const std::string& json_path, const std::string& weights_h5);
Expected<Graph> read_keras_v3(const std::string& path);
Status write_keras(const Graph& g, const std::string& original, const std::string& out_path);
Status check_keras_writable(const Graph& g, const std::string& original);

}  // namespace convfix
