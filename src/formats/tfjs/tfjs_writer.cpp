// TF.js model.json + shard writer, either flavour (see convfix/tfjs_format.h).
#include <cstring>
#include <filesystem>

#include "convfix/fileio.h"
#include "convfix/tfjs_format.h"
#include "formats/keras/keras_config_patch.h"

namespace convfix {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A layers-model's config patched from the graph (keras_config_patch.h):
// the topology in `j` is replaced, new weights are returned in `added`, the
// graph's tensors of the file weights in `weights`.
Status patch_layers_model(const Graph& g, const std::string& path, json* j, std::vector<keras::NewWeight>* added,
                          std::map<std::string, Tensor>* weights) {
  json& t = (*j)["modelTopology"];
  if (!t.is_object()) return invalid_model(path + ": no modelTopology");
  keras::LowerRequest req;
  req.path = path;
  req.format = "tfjs";
  const bool wrapped = t.contains("model_config");
  req.model = wrapped ? t["model_config"] : t;
  if (!req.model.is_object() || !req.model.contains("class_name")) return invalid_model(path + ": modelTopology holds no Keras model_config");
  CONVFIX_ASSIGN_OR_RETURN(TfjsWeights w, read_tfjs_weights(path, *j));
  std::set<std::string> layers, models;
  keras::collect_layers(req.model, &layers, &models);
  for (const auto& name : w.order) {
    const std::string owner = keras::weight_owner(name, layers);
    if (!owner.empty()) req.weights[owner].emplace_back(name, w.tensors.at(name));
  }
  CONVFIX_ASSIGN_OR_RETURN(keras::ConfigPatch patch, keras::patch_config(g, req, keras::sibling_namer(false)));
  if (patch.changed) {
    if (wrapped) t["model_config"] = patch.model;
    else t = patch.model;
  }
  *added = std::move(patch.added);
  *weights = std::move(patch.weights);
  return Status::OK();
}

}  // namespace

namespace {
Status write_tfjs_impl(const Graph& g, const std::string& original_model_json, const std::string& out_dir, bool dry_run) {
  std::error_code ec;
  const fs::path src = fs::absolute(original_model_json);
  const fs::path dst_dir = dry_run ? fs::path() : fs::absolute(out_dir);
  if (!dry_run && fs::exists(dst_dir, ec) && fs::equivalent(src.parent_path(), dst_dir, ec))
    return invalid_argument(out_dir + ": refusing to write into the input model's folder");
  CONVFIX_ASSIGN_OR_RETURN(std::string text, read_file(original_model_json));
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return invalid_model(original_model_json + ": not a JSON object");
  // A layers-model: its Keras config patched from the graph.
  std::vector<keras::NewWeight> added;
  std::map<std::string, Tensor> weights;
  const bool layers_model = j.value("format", "") == "layers-model" ||
                            (!j.contains("format") && j.contains("modelTopology") && j["modelTopology"].is_object() &&
                             (j["modelTopology"].contains("model_config") || j["modelTopology"].contains("class_name")));
  if (layers_model) CONVFIX_RETURN_IF_ERROR(patch_layers_model(g, original_model_json, &j, &added, &weights));
  if (dry_run) return Status::OK();
  auto tensor_of = [&](const std::string& name) -> const Tensor* {
    if (auto it = weights.find(name); it != weights.end()) return &it->second;
    if (auto it = g.initializers.find(name); it != g.initializers.end()) return &it->second;
    return nullptr;
  };
  std::string shard;
  json group = json::object();
  group["paths"] = json::array({"group1-shard1of1.bin"});
  group["weights"] = json::array();
  if (j.contains("weightsManifest") && j["weightsManifest"].is_array()) {
    for (const auto& gr : j["weightsManifest"]) {
      if (!gr.contains("weights") || !gr["weights"].is_array()) continue;
      std::vector<json> entries;
      for (const json& w : gr["weights"]) {
        entries.push_back(w);
        for (const auto& a : added)
          if (a.after == w.value("name", "")) {
            json e = {{"name", a.name}, {"shape", a.value.dims()}, {"dtype", "float32"}};
            weights[a.name] = a.value;
            entries.push_back(e);
          }
      }
      for (json w : entries) {
        const std::string name = w.value("name", "");
        const Tensor* tp = tensor_of(name);
        if (!tp)
          return invalid_argument(original_model_json + ": manifest weight '" + name + "' has no initializer of that name in the graph");
        const Tensor& t = *tp;
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
  fs::create_directories(dst_dir, ec);
  if (ec) return io_error(out_dir + ": cannot create the folder (" + ec.message() + ")");
  CONVFIX_RETURN_IF_ERROR(write_file_atomic((dst_dir / "group1-shard1of1.bin").string(), shard));
  return write_file_atomic((dst_dir / "model.json").string(), j.dump());
}
}  // namespace

Status write_tfjs(const Graph& g, const std::string& original_model_json, const std::string& out_dir) {
  try {
    return write_tfjs_impl(g, original_model_json, out_dir, false);
  } catch (const std::exception& e) {
    return invalid_model(original_model_json + ": malformed model.json (" + e.what() + ")");
  }
}

Status check_tfjs_writable(const Graph& g, const std::string& original_model_json) {
  try {
    return write_tfjs_impl(g, original_model_json, "", true);
  } catch (const std::exception& e) {
    return invalid_model(original_model_json + ": malformed model.json (" + e.what() + ")");
  }
}

}  // namespace convfix
