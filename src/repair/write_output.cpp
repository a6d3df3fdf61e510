// Writing the repaired model in the target's own format (repair_internal.h).
#include <filesystem>

#include "convfix/keras_format.h"
#include "convfix/onnx_format.h"
#include "convfix/tfjs_format.h"
#include "convfix/tflite_format.h"
#include "repair/repair_internal.h"

namespace convfix {

namespace fs = std::filesystem;

WriteCaps write_caps(const Graph& target) {
  WriteCaps c;
  c.format = target.info.format;
  c.output_format = c.format;
  if (c.format == "tflite") {
    c.tflite_domain = true;
  } else if (c.format == "keras" ||
             (c.format == "tfjs" && target.info.metadata.count("tfjs_format") &&
              target.info.metadata.at("tfjs_format") == "layers-model")) {
    // The Keras and TF.js layers-model writers patch weights and the layer
    // config of a copy of the original: every candidate is asked whether the
    // writer can express it (check_expressible).
    c.needs_check = true;
  } else if (c.format == "tfjs") {
    // A graph-model's writer writes weights only.
    c.new_initializers = false;
    c.attributes = false;
    c.structure = false;
  } else if (c.format != "onnx") {
    // TorchScript and TensorFlow have no writer: the repaired graph is
    // written as ONNX (their importers lower onto the ONNX domain).
    c.output_format = "onnx";
  }
  return c;
}

Status check_expressible(const Graph& g, const WriteCaps& caps, const std::string& target_path) {
  if (!caps.needs_check) return Status::OK();
  if (caps.output_format == "keras") return check_keras_writable(g, target_path);
  if (caps.output_format == "tfjs") {
    std::string model_json = target_path;
    if (fs::is_directory(model_json)) model_json = (fs::path(model_json) / "model.json").string();
    return check_tfjs_writable(g, model_json);
  }
  return Status::OK();
}

namespace {

std::string canonical(const std::string& p) {
  std::error_code ec;
  auto c = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? p : c.string();
}

}  // namespace

Expected<std::string> write_repaired(const Graph& g, const WriteCaps& caps, const std::string& target_path,
                                     const std::vector<std::string>& input_paths, const std::string& out) {
  if (out.empty()) return invalid_argument("repair: give the output path (-o)");
  const std::string co = canonical(out);
  for (const auto& in : input_paths) {
    const std::string ci = canonical(in);
    if (ci == co) return invalid_argument("repair: the output " + out + " is an input file; choose another path");
    if (caps.output_format == "tfjs" && canonical(fs::path(in).parent_path().string()) == co)
      return invalid_argument("repair: the output folder " + out + " holds an input model; choose another folder");
  }
  if (caps.output_format == "onnx") {
    CONVFIX_RETURN_IF_ERROR(write_onnx(g, out));
    return out;
  }
  if (caps.output_format == "tflite") {
    CONVFIX_RETURN_IF_ERROR(write_tflite(g, out));
    return out;
  }
  if (caps.output_format == "keras") {
    CONVFIX_RETURN_IF_ERROR(write_keras(g, target_path, out));
    return out;
  }
  if (caps.output_format == "tfjs") {
    std::string model_json = target_path;
    if (fs::is_directory(model_json)) model_json = (fs::path(model_json) / "model.json").string();
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) return io_error(out + ": cannot create the output folder: " + ec.message());
    CONVFIX_RETURN_IF_ERROR(write_tfjs(g, model_json, out));
    return (fs::path(out) / "model.json").string();
  }
  return not_implemented("repair: no writer for the " + caps.output_format + " format");
}

}  // namespace convfix
