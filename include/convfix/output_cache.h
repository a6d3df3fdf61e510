// convfix/output_cache.h — on-disk cache of model outputs per image.
//
// Contract:
// - An entry holds every output of one model for one image (batch dimension
//   1, values converted to f32), keyed by output_cache_key(): SHA-256 of the
//   model (file, or every file of a folder model), the preprocessing
//   (preprocessing_key: preset numbers, crop fraction, input name, layout,
//   channels, size, element type) and the image file's bytes, plus the cache
//   format version and the convfix version, so a new convfix never reads
//   outputs an older executor computed.
// - Files live in DIR/outputs/<first 2 hex digits>/<key>.cfo and are written
//   with write_file_atomic (temporary file + rename): concurrent runs and
//   crashes never leave a partial entry. A missing, truncated or otherwise
//   malformed entry reads as a miss (the caller recomputes and overwrites).
// - An OutputCache with an empty folder is disabled: load() always misses,
//   store() does nothing.
// - default_output_cache_dir(): $CONVFIX_CACHE_DIR when set and not empty,
//   else $XDG_CACHE_HOME/convfix, else $HOME/.cache/convfix; an error when
//   none of those variables is set.
// Nothing here prints.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "convfix/preprocess.h"
#include "convfix/status.h"
#include "convfix/tensor.h"

namespace convfix {

struct CachedOutputs {
  std::vector<std::string> names;   // graph output names, in graph order
  std::vector<Tensor> tensors;      // f32, first dimension 1
};

// `input_quant`: per-tensor quantization applied to the preset's float values
// for an integer input (see compare.h); part of the key when given.
std::string preprocessing_key(const Preset& preset, const ImageInputSpec& spec,
                              const std::optional<QuantParams>& input_quant = std::nullopt);
std::string output_cache_key(const std::string& model_sha256, const std::string& preprocessing,
                             const std::string& image_sha256);
Expected<std::string> default_output_cache_dir();

class OutputCache {
 public:
  explicit OutputCache(std::string dir = {}) : dir_(std::move(dir)) {}
  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }
  std::string entry_path(const std::string& key) const;
  std::optional<CachedOutputs> load(const std::string& key) const;
  Status store(const std::string& key, const CachedOutputs& outputs) const;

 private:
  std::string dir_;
};

// The entry format, exposed for tests: "CFXO", u32 version, u32 count, then
// per output u32 name length, name, u32 rank, rank x i64 dims, f32 data
// (all little-endian).
std::string encode_cached_outputs(const CachedOutputs& outputs);
std::optional<CachedOutputs> decode_cached_outputs(const std::string& bytes);

}  // namespace convfix
