// The binary interface between the TorchScript loader (torchscript_loader.cpp,
// part of convfix_core, no libtorch) and the plugin that links libtorch
// (libconvfix_torchscript.so, torchscript_importer.cpp).
//
// The plugin carries its own copy of src/ir (compiled as position-independent
// code) and fills a convfix::Graph owned by the caller, so both sides must
// agree on the IR's layout: kPluginAbi mixes a version number with the sizes
// of the IR structs, and the loader refuses a plugin whose value differs
// (a stale plugin from another build). The plugin is never unloaded (tensor
// buffers it allocated keep a deleter inside it).
#pragma once

#include <cstdint>

#include "convfix/graph.h"
#include "convfix/torchscript_format.h"

namespace convfix::tsfmt {

inline constexpr uint64_t kPluginAbi = (uint64_t{1} << 56) ^ (uint64_t{sizeof(Graph)} << 40) ^
                                       (uint64_t{sizeof(Node)} << 28) ^ (uint64_t{sizeof(Tensor)} << 16) ^
                                       (uint64_t{sizeof(ValueInfo)} << 8) ^ uint64_t{sizeof(Attribute)} ^
                                       (uint64_t{sizeof(ModelInfo)} << 20) ^ (uint64_t{sizeof(Status)} << 4);

// Implemented by the plugin.
Expected<Graph> import_torchscript(const std::string& path, const TorchScriptOptions& opts);

}  // namespace convfix::tsfmt

extern "C" {
// Returns kPluginAbi as the plugin was compiled.
using ConvfixTorchScriptAbiFn = uint64_t (*)();
// Fills *out (on success) and *status.
using ConvfixTorchScriptReadFn = void (*)(const char* path, const convfix::TorchScriptOptions* opts,
                                          convfix::Graph* out, convfix::Status* status);
}
#define CONVFIX_TS_ABI_SYMBOL "convfix_torchscript_abi_v1"
#define CONVFIX_TS_READ_SYMBOL "convfix_torchscript_read_v1"
