// On-disk cache of per-image model outputs (contract in convfix/output_cache.h).
#include "convfix/output_cache.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "convfix/fileio.h"
#include "convfix/sha256.h"

namespace convfix {

namespace {

constexpr uint32_t kCacheVersion = 1;
constexpr const char* kConvfixVersion = CONVFIX_VERSION;

std::string fmt_float(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

template <typename T>
void put(std::string& s, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  s.append(b, sizeof(T));
}

template <typename T>
bool get(const std::string& s, size_t& pos, T* v) {
  if (s.size() - pos < sizeof(T)) return false;
  std::memcpy(v, s.data() + pos, sizeof(T));
  pos += sizeof(T);
  return true;
}

}  // namespace

std::string preprocessing_key(const Preset& p, const ImageInputSpec& s, const std::optional<QuantParams>& q) {
  std::string k = "preset " + p.name + (p.bgr ? " bgr" : " rgb") + " scale " + fmt_float(p.scale) + " mean";
  for (float m : p.mean) k += " " + fmt_float(m);
  k += " std";
  for (float v : p.stddev) k += " " + fmt_float(v);
  k += " crop " + fmt_float(p.crop_fraction);
  k += "; input " + s.input_name + " " + layout_name(s.layout) + " c" + std::to_string(s.channels) + " " +
       std::to_string(s.height) + "x" + std::to_string(s.width) + " " + dtype_name(s.dtype);
  if (q) {
    k += "; quantized scale";
    for (float v : q->scale) k += " " + fmt_float(v);
    k += " zero point";
    for (int64_t z : q->zero_point) k += " " + std::to_string(z);
  }
  return k;
}

std::string output_cache_key(const std::string& model_sha256, const std::string& preprocessing,
                             const std::string& image_sha256) {
  return sha256_hex("convfix output cache v" + std::to_string(kCacheVersion) + "\nconvfix " + kConvfixVersion +
                    "\nmodel " + model_sha256 + "\npreprocessing " + preprocessing + "\nimage " + image_sha256 + "\n");
}

Expected<std::string> default_output_cache_dir() {
  auto env = [](const char* n) -> std::string {
    const char* v = std::getenv(n);
    return v ? std::string(v) : std::string();
  };
  if (auto d = env("CONVFIX_CACHE_DIR"); !d.empty()) return d;
  if (auto d = env("XDG_CACHE_HOME"); !d.empty()) return (std::filesystem::path(d) / "convfix").string();
  if (auto d = env("HOME"); !d.empty()) return (std::filesystem::path(d) / ".cache" / "convfix").string();
  return invalid_argument("no cache folder: set CONVFIX_CACHE_DIR or HOME, or pass --no-cache");
}

std::string encode_cached_outputs(const CachedOutputs& o) {
  std::string s = "CFXO";
  put<uint32_t>(s, kCacheVersion);
  put<uint32_t>(s, static_cast<uint32_t>(o.tensors.size()));
  for (size_t i = 0; i < o.tensors.size(); ++i) {
    const std::string& name = i < o.names.size() ? o.names[i] : std::string();
    put<uint32_t>(s, static_cast<uint32_t>(name.size()));
    s += name;
    const Tensor& t = o.tensors[i];
    put<uint32_t>(s, static_cast<uint32_t>(t.rank()));
    for (int64_t d : t.dims()) put<int64_t>(s, d);
    if (t.nbytes()) s.append(static_cast<const char*>(t.raw()), t.nbytes());
  }
  return s;
}

std::optional<CachedOutputs> decode_cached_outputs(const std::string& s) {
  if (s.size() < 12 || s.compare(0, 4, "CFXO") != 0) return std::nullopt;
  size_t pos = 4;
  uint32_t version = 0, count = 0;
  if (!get(s, pos, &version) || version != kCacheVersion || !get(s, pos, &count) || count > 4096) return std::nullopt;
  CachedOutputs o;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len = 0, rank = 0;
    if (!get(s, pos, &len) || s.size() - pos < len) return std::nullopt;
    o.names.push_back(s.substr(pos, len));
    pos += len;
    if (!get(s, pos, &rank) || rank > 16) return std::nullopt;
    std::vector<int64_t> dims(rank);
    uint64_t numel = 1;
    for (auto& d : dims) {
      if (!get(s, pos, &d) || d < 0) return std::nullopt;
      const uint64_t ud = static_cast<uint64_t>(d);
      if (ud != 0 && numel > (s.size() / 4) / ud) return std::nullopt;  // more than the file holds
      numel *= ud;
    }
    if (numel * 4 > s.size() - pos) return std::nullopt;
    Tensor t(DType::kF32, dims);
    if (numel) std::memcpy(t.raw(), s.data() + pos, numel * 4);
    pos += numel * 4;
    o.tensors.push_back(std::move(t));
  }
  if (pos != s.size()) return std::nullopt;
  return o;
}

std::string OutputCache::entry_path(const std::string& key) const {
  return (std::filesystem::path(dir_) / "outputs" / key.substr(0, 2) / (key + ".cfo")).string();
}

std::optional<CachedOutputs> OutputCache::load(const std::string& key) const {
  if (!enabled()) return std::nullopt;
  std::error_code ec;
  const std::string path = entry_path(key);
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  auto bytes = read_file(path);
  if (!bytes.ok()) return std::nullopt;
  return decode_cached_outputs(*bytes);
}

Status OutputCache::store(const std::string& key, const CachedOutputs& outputs) const {
  if (!enabled()) return Status::OK();
  const std::filesystem::path path = entry_path(key);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return io_error(path.parent_path().string() + ": cannot create cache folder: " + ec.message());
  return write_file_atomic(path.string(), encode_cached_outputs(outputs));
}

}  // namespace convfix
