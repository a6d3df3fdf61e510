// convfix/torchscript_format.h — TorchScript (.pt) importer.
//
// Contract:
// - read_torchscript(path) imports a TorchScript archive (torch.jit.trace or
//   torch.jit.script, saved with .save()) into the IR: the forward method is
//   inlined, module attributes become initializers named by their attribute
//   path ("features.3.conv.0.weight"), ATen ops become canonical ONNX-domain
//   ops (opset 17) with provenance {format "torchscript", original_op
//   "aten::...", layer = module path}. Node names are module paths
//   ("features.3.conv.0") where the op ran inside a submodule.
// - Shape arithmetic (aten::size, int math) with constant operands is folded
//   at import; the rest becomes Shape/Gather/arithmetic on i64 scalars, so
//   the imported graph takes any batch (and, where the network allows, any
//   image) size. The file declares no input shape: it is inferred from the
//   first op that constrains the input ([batch, C, ?, ?] before a conv, C
//   from its weight; [batch, K] before a Linear; a flattened input feeding
//   a Linear; a reshape to constant sizes), H/W fixed where a later Linear
//   needs one square size, else left symbolic (rules: docs/FORMATS.md,
//   TorchScript, "Input shape"); unknown when nothing constrains it.
//   TorchScriptOptions::input_shapes overrides it (-1 = unknown).
// - The libtorch-dependent part is a plugin (libconvfix_torchscript.so next
//   to the convfix binary, or $CONVFIX_TORCHSCRIPT_PLUGIN) loaded with dlopen
//   on first use and never unloaded, so programs that never read .pt files
//   never pay libtorch's start-up cost. Built without it (CMake option
//   CONVFIX_TORCHSCRIPT=OFF) or without the plugin file, the call is a
//   kNotImplemented error saying so.
// - Before loading libtorch the archive is checked without it: a truncated
//   zip, a zip that is not TorchScript (e.g. a torch.save'd state_dict or
//   module) or a legacy (non-zip) torch.save pickle give kInvalidModel errors
//   naming the file and saying what it is. An op without a mapping is a
//   kNotImplemented error naming the file, node and op.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convfix/graph.h"
#include "convfix/status.h"

namespace convfix {

struct TorchScriptOptions {
  // One shape per forward() input (after self); -1 marks an unknown dim.
  // Empty: inferred as described above.
  std::vector<std::vector<int64_t>> input_shapes;
};

Expected<Graph> read_torchscript(const std::string& path, const TorchScriptOptions& opts = {});

// True for a file that starts like a pickle written by torch.save without
// the zip container (protocol 2+ pickles: 0x80, version byte): model_io sends
// such files here so the error can say what they are.
bool is_torch_pickle(const std::string& path);

// True when this build can import TorchScript (the plugin was built); the
// plugin file may still be missing at run time.
bool torchscript_support_built();

}  // namespace convfix
