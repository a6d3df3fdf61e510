// TF.js weightsManifest reader (both flavours); see convfix/tfjs_format.h.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "convfix/fileio.h"
#include "convfix/tfjs_format.h"

namespace convfix {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A shard path relative to the model folder; absolute paths and ".." are refused.
Expected<fs::path> shard_path(const std::string& model_json, const std::string& p) {
  const fs::path rel(p);
  if (p.empty() || rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    return invalid_model(model_json + ": shard path '" + p + "' is not relative to the model folder");
  for (const auto& part : rel)
    if (part == "..") return invalid_model(model_json + ": shard path '" + p + "' leaves the model folder");
  return fs::path(model_json).parent_path() / rel;
}

size_t stored_size(const std::string& dtype) {
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "float16" || dtype == "uint16" || dtype == "int16") return 2;
  if (dtype == "bool" || dtype == "uint8" || dtype == "int8") return 1;
  if (dtype == "int64" || dtype == "float64") return 8;
  return 0;
}

}  // namespace

namespace {
Expected<TfjsWeights> read_weights(const std::string& path, const json& j) {
  TfjsWeights out;
  if (!j.is_object()) return invalid_model(path + ": not a JSON object");
  auto mit = j.find("weightsManifest");
  if (mit == j.end() || mit->is_null()) return out;
  if (!mit->is_array()) return invalid_model(path + ": weightsManifest is not a list");
  for (const auto& group : *mit) {
    if (!group.is_object()) return invalid_model(path + ": a weightsManifest group is not an object");
    auto pit = group.find("paths");
    auto wit = group.find("weights");
    if (pit == group.end() || !pit->is_array()) return invalid_model(path + ": a weightsManifest group has no 'paths'");
    if (wit == group.end() || !wit->is_array()) return invalid_model(path + ": a weightsManifest group has no 'weights'");
    // Sizes first: the bytes every weight needs, against the shard lengths.
    uint64_t need = 0;
    for (const auto& w : *wit) {
      if (!w.is_object() || !w.contains("name") || !w["name"].is_string())
        return invalid_model(path + ": a manifest weight has no name");
      const std::string name = w["name"].get<std::string>();
      const std::string dt = w.value("dtype", "float32");
      std::string qdt;
      if (auto q = w.find("quantization"); q != w.end() && q->is_object()) qdt = q->value("dtype", "");
      const size_t es = stored_size(qdt.empty() ? dt : qdt);
      if (es == 0) return not_implemented(path + ": weight '" + name + "' has dtype '" + (qdt.empty() ? dt : qdt) + "'");
      uint64_t n = 1;
      if (!w.contains("shape") || !w["shape"].is_array()) return invalid_model(path + ": weight '" + name + "' has no shape");
      for (const auto& d : w["shape"]) {
        if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > (int64_t{1} << 31))
          return invalid_model(path + ": weight '" + name + "' has a bad shape " + w["shape"].dump());
        n *= static_cast<uint64_t>(d.get<int64_t>());
        if (n > (uint64_t{1} << 32)) return invalid_model(path + ": weight '" + name + "' is too large");
      }
      need += n * es;
    }
    uint64_t have = 0;
    std::vector<fs::path> files;
    for (const auto& p : *pit) {
      if (!p.is_string()) return invalid_model(path + ": a shard path is not a string");
      CONVFIX_ASSIGN_OR_RETURN(fs::path f, shard_path(path, p.get<std::string>()));
      std::error_code ec;
      const auto sz = fs::file_size(f, ec);
      if (ec) return io_error(path + ": weight shard '" + p.get<std::string>() + "' cannot be read (missing?)");
      have += sz;
      files.push_back(f);
    }
    if (need > have)
      return invalid_model(path + ": the weights of a manifest group need " + std::to_string(need) +
                           " bytes but its shards hold " + std::to_string(have) + " (shard too short or missing)");
    std::string data;
    data.reserve(static_cast<size_t>(have));
    for (const auto& f : files) {
      CONVFIX_ASSIGN_OR_RETURN(std::string s, read_file(f.string()));
      data += s;
    }
    size_t off = 0;
    for (const auto& w : *wit) {
      const std::string name = w["name"].get<std::string>();
      const std::string dt = w.value("dtype", "float32");
      std::vector<int64_t> dims;
      for (const auto& d : w["shape"]) dims.push_back(d.get<int64_t>());
      const int64_t n = num_elements(dims);
      const json* q = nullptr;
      if (auto qi = w.find("quantization"); qi != w.end() && qi->is_object()) q = &*qi;
      const std::string qdt = q ? q->value("dtype", "") : "";
      const size_t es = stored_size(qdt.empty() ? dt : qdt);
      const size_t bytes = static_cast<size_t>(n) * es;
      if (off + bytes > data.size()) return invalid_model(path + ": weight '" + name + "' runs past its shards");
      const unsigned char* src = reinterpret_cast<const unsigned char*>(data.data() + off);
      Tensor t;
      if (qdt.empty() || qdt == dt) {
        DType d = dt == "float32" ? DType::kF32 : dt == "int32" ? DType::kI32 : dt == "bool" ? DType::kBool
                  : dt == "float16" ? DType::kF16 : dt == "uint8" ? DType::kU8 : dt == "uint16" ? DType::kU16
                  : dt == "int8" ? DType::kI8 : dt == "int16" ? DType::kI16 : dt == "int64" ? DType::kI64
                  : dt == "float64" ? DType::kF64 : DType::kUndefined;
        if (d == DType::kUndefined) return not_implemented(path + ": weight '" + name + "' has dtype '" + dt + "'");
        t = Tensor::uninitialized(d, dims);
        if (bytes) std::memcpy(t.raw(), src, bytes);
      } else if (qdt == "float16") {
        t = Tensor::uninitialized(DType::kF16, dims);
        if (bytes) std::memcpy(t.raw(), src, bytes);
      } else if (qdt == "uint8" || qdt == "uint16") {
        const double scale = q->value("scale", 1.0);
        double mn = 0;
        if (q->contains("min")) mn = q->value("min", 0.0);
        else if (q->contains("zero_point")) mn = -q->value("zero_point", 0.0) * scale;
        else if (q->contains("offset")) mn = -q->value("offset", 0.0) * scale;
        const std::string orig = q->value("original_dtype", dt);
        const bool to_int = orig == "int32";
        t = Tensor::uninitialized(to_int ? DType::kI32 : DType::kF32, dims);
        for (int64_t i = 0; i < n; ++i) {
          const uint32_t v = qdt == "uint8" ? src[i] : static_cast<uint32_t>(src[2 * i] | (src[2 * i + 1] << 8));
          const double r = static_cast<double>(v) * scale + mn;
          if (to_int) t.data<int32_t>()[i] = static_cast<int32_t>(std::lround(r));
          else t.data<float>()[i] = static_cast<float>(static_cast<float>(v) * static_cast<float>(scale) + static_cast<float>(mn));
        }
      } else {
        return not_implemented(path + ": weight '" + name + "' has quantization dtype '" + qdt + "'");
      }
      off += bytes;
      if (!out.tensors.count(name)) out.order.push_back(name);
      out.tensors[name] = std::move(t);
    }
  }
  return out;
}
}  // namespace

Expected<TfjsWeights> read_tfjs_weights(const std::string& path, const json& j) {
  try {
    return read_weights(path, j);
  } catch (const std::exception& e) {
    return invalid_model(path + ": malformed weightsManifest (" + e.what() + ")");
  }
}

}  // namespace convfix
