// convfix/align.h — layers of a model and the alignment of a source model's
// layers with its conversion's (diagnose stage 3; docs/DIAGNOSIS.md,
// "Alignment", documents the algorithm with examples).
//
// Contract:
// - build_layers() groups the nodes of a graph into layers: one "anchor"
//   node doing a layer's main work (Conv, Gemm / MatMul with a constant
//   weight, pools, Concat, a binary op joining two branches, Softmax, LRN,
//   Resize, a stand-alone normalisation, ... in the ONNX domain and their
//   TFLite counterparts) plus the nodes absorbed around it: before it, Pad
//   nodes that feed it (their pads become part of the layer's hyper-
//   parameters); after it, the chain of single-consumer pass-through nodes
//   that follows it — activations (also when decomposed, e.g. x*relu6(x+3)/6
//   or x*sigmoid(x)), affine ops with a constant operand (BatchNormalization,
//   Mul/Add/Sub/Div by a constant: a folded or split BatchNorm, a MatMul's
//   bias Add), and layout or type ops (Transpose, Reshape, Flatten,
//   Squeeze, Unsqueeze, Identity, Dropout, Cast, Quantize/Dequantize). Nodes
//   that only compute constants or shapes belong to no layer. A layer's
//   output is the value at the end of its absorbed chain.
// - `shapes` (optional) gives the dims of values seen in a run (e.g. one
//   image through the model); they make hyperparameters such as SAME pads
//   concrete and let the alignment compare output sizes.
// - align_layers() matches source layers to target layers, structurally:
//   graph inputs are matched first, then each source layer in topological
//   order takes the unmatched target layer of the same kind whose input
//   layers are the matches of its own input layers; ties and inserted or
//   removed layers are resolved by signature (kernel size, channel counts,
//   output size up to NCHW/NHWC, parameter shapes), by the cosine of the
//   parameters and by name. It never looks at tensor names to decide a
//   structural match, so renamed tensors do not matter. Each row has a
//   confidence in [0, 1]; target layers left over are "inserted", source
//   layers left over "removed".
// Nothing here runs a model, prints or throws.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "convfix/graph.h"

namespace convfix {

using ValueDims = std::unordered_map<std::string, std::vector<int64_t>>;

struct Layer {
  int id = 0;
  // "input", "conv", "depthwise", "conv_transpose", "dense", "maxpool",
  // "avgpool", "l2pool", "globalpool", "concat", "add", "sub", "mul", "div",
  // "max", "min", "softmax", "lrn", "resize", "norm", "reduce", "other".
  std::string kind;
  int64_t anchor = -1;             // node index (-1 for an input layer)
  std::string input_value;         // for an input layer: the graph input
  std::vector<size_t> pre;         // absorbed Pad nodes before the anchor
  std::vector<size_t> post;        // absorbed nodes after the anchor, in order
  std::string output;              // value at the end of the layer
  // The value compared across models: the output before trailing Transposes
  // (a Transpose at the end of a chain usually prepares the next layer's
  // input layout, e.g. NHWC -> NCHW in front of the next Conv).
  std::string compare_output;
  std::vector<int> inputs;         // layer ids feeding the anchor (data inputs, in order)
  std::string name;                // the anchor's node name (or the input's name)
  std::string op;                  // the anchor's op type as the file names it
};

struct LayerGraph {
  const Graph* graph = nullptr;
  std::vector<Layer> layers;       // topological order; input layers first
  // value -> layer id that produced it (through absorbed nodes).
  std::unordered_map<std::string, int> owner;
  // All node names of a layer (anchor, pre, post), for reports.
  std::vector<std::string> node_names(const Layer& l) const;
};

LayerGraph build_layers(const Graph& g, const ValueDims* shapes = nullptr);

struct AlignmentRow {
  int index = 0;
  std::string status;              // "matched", "removed", "inserted"
  int source_layer = -1, target_layer = -1;
  double confidence = 0;
  std::string method;              // "structure", "structure+signature", "signature", "input", ...
  std::string layout;              // output layout relation: "same", "nchw-nhwc", "reshape", "" (unknown)
};

struct Alignment {
  std::vector<AlignmentRow> rows;  // source order, inserted rows after their producer's row
  int matched = 0, removed = 0, inserted = 0;
};

Alignment align_layers(const LayerGraph& source, const LayerGraph& target,
                       const ValueDims* source_shapes = nullptr, const ValueDims* target_shapes = nullptr);

// The output layout relation of two values' dims: "same" (equal dims),
// "nchw-nhwc" (source [N,C,H,W] ~ target [N,H,W,C]), "nhwc-nchw", "reshape"
// (same element count, other shape), "" (sizes differ or unknown).
std::string layout_relation(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

}  // namespace convfix
