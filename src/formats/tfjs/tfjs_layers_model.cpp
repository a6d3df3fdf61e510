// TF.js layers-model reader: the Keras topology of model.json lowered by the
// Keras lowering, weights from the manifest (see convfix/tfjs_format.h).
#include <sstream>

#include "convfix/fileio.h"
#include "convfix/tfjs_format.h"
#include "formats/keras/keras_lower.h"

namespace convfix {

using nlohmann::json;

namespace {

// The layer a manifest weight belongs to: the component before the last
// ("conv2d/kernel", "model/conv2d/kernel"), else any component naming a layer.
std::string owner_layer(const std::string& weight, const std::set<std::string>& layers) {
  std::vector<std::string> parts;
  std::stringstream ss(keras::strip_tf_suffix(weight));
  for (std::string p; std::getline(ss, p, '/');) parts.push_back(p);
  if (parts.size() >= 2 && layers.count(parts[parts.size() - 2])) return parts[parts.size() - 2];
  for (size_t i = parts.size(); i-- > 0;)
    if (i + 1 < parts.size() && layers.count(parts[i])) return parts[i];
  return "";
}

Expected<Graph> read_layers_model(const std::string& path) {
  CONVFIX_ASSIGN_OR_RETURN(std::string text, read_file(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return invalid_model(path + ": not a JSON object (truncated or corrupt)");
  auto t = j.find("modelTopology");
  if (t == j.end() || !t->is_object()) return invalid_model(path + ": no modelTopology");
  keras::LowerRequest req;
  req.path = path;
  req.format = "tfjs";
  if (t->contains("model_config")) req.model = (*t)["model_config"];
  else req.model = *t;
  if (!req.model.is_object() || !req.model.contains("class_name"))
    return invalid_model(path + ": modelTopology holds no Keras model_config");
  CONVFIX_ASSIGN_OR_RETURN(TfjsWeights w, read_tfjs_weights(path, j));
  std::set<std::string> layers, models;
  keras::collect_layers(req.model, &layers, &models);
  for (const auto& name : w.order) {
    const std::string owner = owner_layer(name, layers);
    if (owner.empty()) continue;  // not a layer weight (e.g. optimizer state)
    req.weights[owner].emplace_back(name, w.tensors.at(name));
  }
  auto g = keras::lower_model(req);
  if (!g.ok()) return g.status();
  g->info.producer_name = j.value("convertedBy", "");
  g->info.producer_version = j.value("generatedBy", "");
  if (t->contains("keras_version") && (*t)["keras_version"].is_string())
    g->info.metadata["keras_version"] = (*t)["keras_version"].get<std::string>();
  if (t->contains("backend") && (*t)["backend"].is_string()) g->info.metadata["backend"] = (*t)["backend"].get<std::string>();
  g->info.metadata["tfjs_format"] = "layers-model";
  return g;
}

}  // namespace

Expected<Graph> read_tfjs_layers_model(const std::string& model_json_path) {
  try {
    return read_layers_model(model_json_path);
  } catch (const std::exception& e) {
    return invalid_model(model_json_path + ": malformed layers-model JSON (" + e.what() + ")");
  }
}

}  // namespace convfix
