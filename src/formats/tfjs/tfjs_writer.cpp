// TF.js model.json + shard writer, either flavour (see convfix/tfjs_format.h).
#include <cstring>
#include <filesystem>

#include "convfix/fileio.h"
#include "convfix/tfjs_format.h"

namespace convfix {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Replaces, in a Keras topology, the config of every layer whose graph node
// carries a changed "keras_layer_config".
void patch_topology(json* layers_holder, const std::map<std::string, json>& cfgs) {
  if (layers_holder->is_object()) {
    if (layers_holder->contains("class_name") && layers_holder->contains("config")) {
      json& c = (*layers_holder)["config"];
      std::string name = layers_holder->value("name", "");
      if (name.empty() && c.is_object()) name = c.value("name", "");
      auto it = cfgs.find(name);
      if (it != cfgs.end() && it->second.contains("config") && it->second.value("class_name", "") == layers_holder->value("class_name", ""))
        c = it->second["config"];
    }
    for (auto& [k, v] : layers_holder->items()) patch_topology(&v, cfgs);
  } else if (layers_holder->is_array()) {
    for (auto& v : *layers_holder) patch_topology(&v, cfgs);
  }
}

}  // namespace

namespace {
Status write_tfjs_impl(const Graph& g, const std::string& original_model_json, const std::string& out_dir) {
  std::error_code ec;
  const fs::path src = fs::absolute(original_model_json);
  const fs::path dst_dir = fs::absolute(out_dir);
  fs::create_directories(dst_dir, ec);
  if (ec) return io_error(out_dir + ": cannot create the folder (" + ec.message() + ")");
  if (fs::equivalent(src.parent_path(), dst_dir, ec))
    return invalid_argument(out_dir + ": refusing to write into the input model's folder");
  CONVFIX_ASSIGN_OR_RETURN(std::string text, read_file(original_model_json));
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return invalid_model(original_model_json + ": not a JSON object");
  // Layer configs the graph carries (main nodes of a layers-model import).
  std::map<std::string, json> cfgs;
  for (const auto& n : g.nodes)
    if (const Attribute* a = n.attr("keras_layer_config"); a && a->kind == Attribute::Kind::kString) {
      json c = json::parse(a->s, nullptr, false);
      if (c.is_object()) cfgs[n.provenance.layer] = c;
    }
  if (!cfgs.empty() && j.contains("modelTopology")) patch_topology(&j["modelTopology"], cfgs);
  std::string shard;
  json group = json::object();
  group["paths"] = json::array({"group1-shard1of1.bin"});
  group["weights"] = json::array();
  if (j.contains("weightsManifest") && j["weightsManifest"].is_array()) {
    for (const auto& gr : j["weightsManifest"]) {
      if (!gr.contains("weights") || !gr["weights"].is_array()) continue;
      for (json w : gr["weights"]) {
        const std::string name = w.value("name", "");
        auto it = g.initializers.find(name);
        if (it == g.initializers.end())
          return invalid_argument(original_model_json + ": manifest weight '" + name + "' has no initializer of that name in the graph");
        const Tensor& t = it->second;
        std::vector<int64_t> shape;
        for (const auto& d : w["shape"]) shape.push_back(d.get<int64_t>());
        if (num_elements(shape) != t.numel())
          return invalid_argument(original_model_json + ": weight '" + name + "' has " + std::to_string(t.numel()) +
                                  " elements in the graph, the manifest shape holds " + std::to_string(num_elements(shape)));
        const std::string dt = w.value("dtype", "float32");
        const bool f16 = w.contains("quantization") && w["quantization"].value("dtype", "") == "float16";
        w.erase("quantization");
        if (dt == "float32" && !f16) {
          if (t.dtype() == DType::kF32) shard.append(static_cast<const char*>(t.raw()), t.nbytes());
          else if (t.dtype() == DType::kF16)
            for (int64_t i = 0; i < t.numel(); ++i) {
              const float f = f16_to_f32(t.data<uint16_t>()[i]);
              shard.append(reinterpret_cast<const char*>(&f), 4);
            }
          else return not_implemented(original_model_json + ": weight '" + name + "' is " + dtype_name(t.dtype()) + " in the graph");
        } else if (f16 || dt == "float16") {
          // float16 storage (graph-model quantization or dtype float16).
          for (int64_t i = 0; i < t.numel(); ++i) {
            const uint16_t h = t.dtype() == DType::kF16 ? t.data<uint16_t>()[i] : f32_to_f16(t.data<float>()[i]);
            shard.append(reinterpret_cast<const char*>(&h), 2);
          }
          if (f16) w["quantization"] = json{{"dtype", "float16"}};
        } else if ((dt == "int32" && t.dtype() == DType::kI32) || (dt == "bool" && t.dtype() == DType::kBool)) {
          shard.append(static_cast<const char*>(t.raw()), t.nbytes());
        } else {
          return not_implemented(original_model_json + ": weight '" + name + "' of dtype " + dt + " cannot be written from " +
                                 dtype_name(t.dtype()));
        }
        group["weights"].push_back(w);
      }
    }
  }
  j["weightsManifest"] = json::array({group});
  CONVFIX_RETURN_IF_ERROR(write_file_atomic((dst_dir / "group1-shard1of1.bin").string(), shard));
  return write_file_atomic((dst_dir / "model.json").string(), j.dump());
}
}  // namespace

Status write_tfjs(const Graph& g, const std::string& original_model_json, const std::string& out_dir) {
  try {
    return write_tfjs_impl(g, original_model_json, out_dir);
  } catch (const std::exception& e) {
    return invalid_model(original_model_json + ": malformed model.json (" + e.what() + ")");
  }
}

}  // namespace convfix
