// convfix/tflite_format.h — TensorFlow Lite (.tflite) reader and writer.
//
// Contract (the full element-by-element mapping is in docs/FORMATS.md):
// - read_tflite checks the whole FlatBuffer with the schema's verifier
//   before looking at any field, then checks every index (buffer, tensor,
//   operator code, subgraph), every constant's byte size against its shape
//   and type, and the operator order (an operator may only read constants,
//   graph inputs, variables and tensors written by an earlier operator).
//   Any violation is a kInvalidModel error naming the file and the
//   subgraph / operator / tensor index; a malformed file never crashes.
// - The Graph is subgraph 0. Nodes are in domain "tflite" with op_type the
//   builtin operator's schema name ("CONV_2D"), attributes the builtin
//   options' fields by their schema names (enums as their names, bools as
//   0/1 ints) plus "version" (the operator code version) and, for ops with
//   spatial data, "data_layout" / "weight_layout" (informative, as the file
//   stores them: NHWC activations, OHWI conv filters, 1HWO depthwise
//   filters). Custom ops are in domain "tflite.custom" with op_type the
//   custom code and the raw custom options in attribute "custom_options"
//   (kOpaque); MediaPipe's Convolution2DTransposeBias,
//   MaxPoolingWithArgmax2D and MaxUnpooling2D have kernels (their options
//   are raw TFLite C structs, see docs/FORMATS.md), other custom ops fail
//   clearly when run. Constants become initializers (with QuantParams); other
//   tensors get value_info / input / output entries with ValueInfo::quant.
//   Further subgraphs go to ModelInfo::subgraphs, SignatureDefs to
//   ModelInfo::signatures, metadata buffers to ModelInfo::metadata (raw
//   bytes), the description to ModelInfo::doc.
// - write_tflite writes such a graph (also after edits: changed constants
//   or attributes, removed or inserted tflite-domain nodes) back as a
//   .tflite file the TFLite runtime loads, atomically. Every value a node
//   uses must be an initializer, a graph input/output or have a value_info
//   entry (its dtype and shape become the tensor's). Nodes of other domains
//   and attributes that are not fields of the op's options are errors.
//   Operator versions, metadata, signatures and the description are kept.
#pragma once

#include <string>

#include "convfix/graph.h"
#include "convfix/status.h"

namespace convfix {

struct TfliteWriteOptions {
  // Where constant data goes. kAuto: inside the FlatBuffer, unless the model
  // would pass the FlatBuffer 2 GB limit; then after it (Buffer.offset/size).
  enum class BufferPlacement { kAuto, kInline, kExternal };
  BufferPlacement buffers = BufferPlacement::kAuto;
};

Expected<Graph> read_tflite(const std::string& path);
Expected<Graph> read_tflite_bytes(const std::string& bytes, const std::string& name_for_errors);

// How the integer kernels of the "tflite" domain round a requantised int32
// accumulator (convfix extension; reading and writing do not depend on it).
// - kRuntime (default): as the TFLite runtime runs by default on CPU, with
//   its XNNPACK delegate: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and
//   TRANSPOSE_CONV compute acc * f32(s_in * s_w / s_out) in f32 and round
//   half to even, MEAN over H and W likewise (XNNPACK's global average
//   pooling); every other op as kReference.
// - kReference: TFLite's reference kernels everywhere (Q0.31 fixed-point
//   multiplier, rounding doubling high multiply, rounding right shift).
// The two differ by at most one step per requantisation. The initial value
// comes from the environment variable CONVFIX_TFLITE_ROUNDING (`runtime` or
// `reference`); the setting is process-wide, read by kernels as they run.
enum class TfliteRounding { kRuntime, kReference };
void set_tflite_rounding(TfliteRounding r);
TfliteRounding tflite_rounding();

Status write_tflite(const Graph& g, const std::string& path, const TfliteWriteOptions& options = {});
Expected<std::string> tflite_to_bytes(const Graph& g, const TfliteWriteOptions& options = {});

}  // namespace convfix
