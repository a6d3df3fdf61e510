#include "convfix/model_io.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "convfix/keras_format.h"
#include "convfix/onnx_format.h"
#include "convfix/tf_format.h"
#include "convfix/tfjs_format.h"
#include "convfix/tflite_format.h"
#include "convfix/torchscript_format.h"

namespace convfix {

namespace fs = std::filesystem;

namespace {
std::string head_bytes(const std::string& path, size_t n) {
  std::ifstream f(path, std::ios::binary);
  std::string s(n, '\0');
  f.read(s.data(), static_cast<std::streamsize>(n));
  s.resize(static_cast<size_t>(f.gcount()));
  return s;
}
// TF.js model.json: "graph-model" (GraphDef as JSON) or "layers-model"
// (Keras topology). Converters before 1.x leave "format" out: a topology
// holding "node" is a GraphDef, one holding "class_name" or "model_config"
// a Keras model. "" when the file is not such a JSON object.
std::string tfjs_flavour(const std::string& model_json) {
  std::ifstream f(model_json, std::ios::binary);
  if (!f) return "";
  auto j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "";
  if (auto it = j.find("format"); it != j.end() && it->is_string()) {
    if (*it == "graph-model") return "graph-model";
    if (*it == "layers-model") return "layers-model";
  }
  auto t = j.find("modelTopology");
  if (t == j.end() || !t->is_object()) return "";
  if (t->contains("node")) return "graph-model";
  if (t->contains("class_name") || t->contains("model_config")) return "layers-model";
  return "";
}
std::string lower_ext(const std::string& path) {
  std::string e = fs::path(path).extension().string();
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}
}  // namespace

std::string detect_format(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(fs::path(path) / "saved_model.pb", ec)) return "tf-savedmodel";
    if (fs::exists(fs::path(path) / "model.json", ec)) return "tfjs";
    return "";
  }
  const std::string h = head_bytes(path, 16);
  const std::string ext = lower_ext(path);
  if (h.size() >= 8 && h.compare(4, 4, "TFL3") == 0) return "tflite";
  if (h.size() >= 8 && h.compare(0, 8, "\x89HDF\r\n\x1a\n") == 0) return "keras-h5";
  if (h.size() >= 4 && h.compare(0, 4, "PK\x03\x04") == 0) return ext == ".keras" ? "keras-v3" : "torchscript";
  if (ext == ".json") return "tfjs";
  if (ext == ".onnx") return "onnx";
  if (ext == ".pb") return "tf-frozen";
  if (ext == ".tflite") return "tflite";
  return "";
}

Expected<Graph> load_model(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return io_error(path + ": no such file or folder");
  const std::string fmt = detect_format(path);
  if (fmt == "onnx") return read_onnx(path);
  if (fmt == "tflite") return read_tflite(path);
  if (fmt == "tf-frozen") return read_tf_frozen(path);
  if (fmt == "tf-savedmodel") return read_tf_savedmodel(path);
  if (fmt == "torchscript" || (fmt.empty() && is_torch_pickle(path))) return read_torchscript(path);
  if (fmt == "keras-h5") return read_keras_h5(path);
  if (fmt == "keras-v3") return read_keras_v3(path);
  if (fmt == "tfjs") {
    const fs::path json = fs::is_directory(path, ec) ? fs::path(path) / "model.json" : fs::path(path);
    const std::string flavour = tfjs_flavour(json.string());
    // A Keras architecture JSON (model.to_json()) with its weights-only HDF5 beside it.
    if (flavour.empty() && head_bytes(json.string(), 4096).find("\"class_name\"") != std::string::npos)
      for (const char* ext : {".weights.h5", ".h5"})
        if (fs::path w = fs::path(json).replace_extension(ext); fs::exists(w, ec)) return read_keras_json_h5(json.string(), w.string());
    if (flavour.empty())
      return invalid_model(json.string() + ": not a TF.js model.json (no \"format\" and no recognisable \"modelTopology\")");
    // TF.js readers (issue 4) dispatch here by flavour.
    if (flavour == "graph-model") return read_tfjs_graph_model(json.string());
    if (flavour == "layers-model") return read_tfjs_layers_model(json.string());
    return not_implemented(json.string() + ": TF.js " + flavour + " files are not supported yet");
  }
  if (fmt.empty()) {
    // Try ONNX as a last resort: protobuf files have no magic number.
    auto g = read_onnx(path);
    if (g.ok()) return g;
    return invalid_model(path + ": unknown model format (not ONNX, TFLite, Keras, TF.js, TF or TorchScript)");
  }
  return not_implemented(path + ": " + fmt + " models are not supported yet");
}

}  // namespace convfix
