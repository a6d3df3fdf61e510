// convfix run MODEL --input [NAME=]FILE ... [--save-outputs DIR] [--save-activations DIR]
// convfix run MODEL --images DIR_OR_FILE... [--preprocess PRESET] [--top K] [--batch N]
//                   [--labels FILE] [--layout nchw|nhwc] [--size N|HxW] [--save-inputs DIR]
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "convfix/compare.h"
#include "convfix/executor.h"
#include "convfix/fileio.h"
#include "convfix/image.h"
#include "convfix/model_io.h"
#include "convfix/npy.h"
#include "convfix/onnx_format.h"
#include "convfix/preprocess.h"
#include "convfix/scores.h"

namespace convfix::cli {

namespace fs = std::filesystem;

namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string save_outputs, save_activations;
  int threads = 1;
  bool json = false;
  // image mode
  std::vector<std::string> images;
  std::string preset = "torch";
  int top = 5;
  int batch = 8;
  bool batch_given = false;
  std::string labels, layout, size, save_inputs;
  float crop_fraction = 0;  // 0: the preset's
};

Expected<Tensor> load_tensor_file(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  if (ext == ".npy") return read_npy(path);
  if (ext == ".pb") return read_tensor_pb(path);
  return invalid_argument(path + ": input tensors must be .npy or TensorProto .pb files");
}

Status ensure_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec)) return io_error(dir + ": cannot create output folder");
  return Status::OK();
}

class ActivationWriter : public Observer {
 public:
  explicit ActivationWriter(std::string dir) : dir_(std::move(dir)) {}
  bool wants(const Node&) override { return true; }
  void on_output(const Node&, size_t, const std::string& name, const Tensor& v) override {
    if (!status.ok()) return;
    status = write_npy(v, (fs::path(dir_) / (sanitize_filename(name) + ".npy")).string());
  }
  Status status;

 private:
  std::string dir_;
};

int run_tensors(const RunArgs& a) {
  auto g = load_model(a.model);
  if (!g.ok()) return report_error(g.status());
  auto graph = std::make_shared<Graph>(std::move(g).value());
  TensorMap feeds;
  size_t positional = 0;
  for (const auto& spec : a.inputs) {
    std::string name, file = spec;
    const auto eq = spec.find('=');
    if (eq != std::string::npos && !fs::exists(spec)) {
      name = spec.substr(0, eq);
      file = spec.substr(eq + 1);
    } else {
      if (positional >= graph->inputs.size())
        return report_error(invalid_argument(spec + ": more input files than the model has inputs (" +
                                             std::to_string(graph->inputs.size()) + ")"));
      name = graph->inputs[positional++].name;
    }
    auto t = load_tensor_file(file);
    if (!t.ok()) return report_error(t.status());
    feeds[name] = std::move(t).value();
  }
  auto ex = Executor::create(graph, ExecOptions{a.threads, false});
  if (!ex.ok()) return report_error(ex.status().with_context(a.model));
  RunOptions ro;
  std::unique_ptr<ActivationWriter> aw;
  if (!a.save_activations.empty()) {
    Status st = ensure_dir(a.save_activations);
    if (!st.ok()) return report_error(st);
    aw = std::make_unique<ActivationWriter>(a.save_activations);
    ro.observer = aw.get();
  }
  auto out = (*ex)->run(feeds, ro);
  if (!out.ok()) return report_error(out.status().with_context(a.model));
  if (aw && !aw->status.ok()) return report_error(aw->status);
  if (!a.save_outputs.empty()) {
    Status st = ensure_dir(a.save_outputs);
    if (!st.ok()) return report_error(st);
    for (const auto& [name, t] : out.value()) {
      st = write_npy(t, (fs::path(a.save_outputs) / (sanitize_filename(name) + ".npy")).string());
      if (!st.ok()) return report_error(st);
    }
  }
  if (a.json) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, t] : out.value()) j[name] = {{"dtype", dtype_name(t.dtype())}, {"shape", t.dims()}};
    std::cout << nlohmann::json{{"outputs", j}}.dump(2) << "\n";
  } else {
    for (const auto& [name, t] : out.value())
      std::cout << name << ": " << dtype_name(t.dtype()) << " " << dims_to_string(t.dims()) << "\n";
  }
  return 0;
}

// ---- image mode -------------------------------------------------------------

// Item `i` of a batch tensor as a [1, ...] tensor.
Tensor batch_item(const Tensor& t, int64_t i) {
  std::vector<int64_t> dims = t.dims();
  dims[0] = 1;
  Tensor one(t.dtype(), dims);
  const size_t bytes = one.nbytes();
  if (bytes) std::memcpy(one.raw(), static_cast<const uint8_t*>(t.raw()) + static_cast<size_t>(i) * bytes, bytes);
  return one;
}

// The first `n` items of each batch, concatenated along dim 0.
Expected<Tensor> concat_items(const std::vector<Tensor>& parts, const std::vector<int64_t>& counts, const std::string& name) {
  std::vector<int64_t> dims = parts.front().dims();
  int64_t total = 0;
  for (size_t p = 0; p < parts.size(); ++p) {
    const auto& d = parts[p].dims();
    if (parts[p].dtype() != parts.front().dtype() || d.size() != dims.size() ||
        !std::equal(d.begin() + 1, d.end(), dims.begin() + 1))
      return shape_error("output '" + name + "' changes shape between batches");
    total += counts[p];
  }
  dims[0] = total;
  Tensor out(parts.front().dtype(), dims);
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (size_t p = 0; p < parts.size(); ++p) {
    const size_t bytes = static_cast<size_t>(counts[p]) * (parts[p].dim(0) ? parts[p].nbytes() / static_cast<size_t>(parts[p].dim(0)) : 0);
    if (bytes) std::memcpy(dst, parts[p].raw(), bytes);
    dst += bytes;
  }
  return out;
}

int run_images(const RunArgs& a) {
  if (!a.inputs.empty()) return report_error(invalid_argument("run: give either --input or --images, not both"));
  if (!a.save_activations.empty())
    return report_error(invalid_argument(
        "run: --save-activations works with --input tensors; save the image tensors with --save-inputs DIR and run "
        "again with --input DIR/<file>.npy"));
  auto files = collect_image_files(a.images);
  if (!files.ok()) return report_error(files.status());
  auto preset = preset_by_name(a.preset);
  if (!preset.ok()) return report_error(preset.status());
  if (a.crop_fraction != 0) preset->crop_fraction = a.crop_fraction;
  GeometryOptions geo;
  if (!a.layout.empty()) {
    geo.layout = layout_from_name(a.layout);
    if (!geo.layout) return report_error(invalid_argument("--layout " + a.layout + ": expected nchw or nhwc"));
  }
  if (!a.size.empty()) {
    Status st = parse_size(a.size, &geo);
    if (!st.ok()) return report_error(st);
  }
  std::vector<std::string> labels;
  if (!a.labels.empty()) {
    auto l = read_label_file(a.labels);
    if (!l.ok()) return report_error(l.status());
    labels = std::move(l).value();
  }

  auto g = load_model(a.model);
  if (!g.ok()) return report_error(g.status());
  auto graph = std::make_shared<Graph>(std::move(g).value());
  if (graph->inputs.size() != 1) {
    std::string names;
    for (const auto& in : graph->inputs) names += (names.empty() ? "" : ", ") + in.name;
    return report_error(invalid_argument(a.model + ": --images needs a model with one input; it has " +
                                         std::to_string(graph->inputs.size()) + (names.empty() ? "" : " (" + names + ")")));
  }
  if (graph->outputs.empty()) return report_error(invalid_model(a.model + ": the model has no outputs"));
  auto spec_or = image_input_spec(graph->inputs[0], geo);
  if (!spec_or.ok()) return report_error(spec_or.status().with_context(a.model));
  const ImageInputSpec spec = spec_or.value();

  // Reject non-images before any work starts.
  for (const auto& f : *files) {
    auto info = read_image_info(f);
    if (!info.ok()) return report_error(info.status());
  }

  const int64_t n_images = static_cast<int64_t>(files->size());
  int64_t batch = std::max(1, a.batch);
  if (spec.batch > 0) {
    if (spec.batch == 1 && a.batch_given && a.batch > 1)
      std::cerr << "convfix: note: input '" << spec.input_name
                << "' has a fixed batch size of 1; running the images one by one\n";
    batch = spec.batch;
  } else {
    batch = std::min(batch, n_images);
  }
  if (!a.save_inputs.empty()) {
    Status st = ensure_dir(a.save_inputs);
    if (!st.ok()) return report_error(st);
  }

  auto ex = Executor::create(graph, ExecOptions{a.threads, false});
  if (!ex.ok()) return report_error(ex.status().with_context(a.model));
  const std::string out_name = graph->outputs[0].name;
  const bool progress = isatty(STDERR_FILENO) != 0 && n_images > 1;
  std::vector<std::vector<float>> rows;
  std::set<std::string> saved_input_names;  // two photos with one name (from two folders) get .1, .2, ...
  std::map<std::string, std::vector<Tensor>> saved_outputs;
  std::vector<int64_t> saved_counts;
  for (int64_t start = 0; start < n_images; start += batch) {
    const int64_t count = std::min(batch, n_images - start);
    std::vector<Image> imgs;
    for (int64_t i = start; i < start + count; ++i) {
      auto img = read_image((*files)[static_cast<size_t>(i)]);
      if (!img.ok()) return report_error(img.status());
      imgs.push_back(std::move(img).value());
    }
    const int64_t rows_in_tensor = spec.batch > 0 ? spec.batch : count;
    auto input = make_image_batch(imgs, *preset, spec, rows_in_tensor);
    if (!input.ok()) return report_error(input.status().with_context((*files)[static_cast<size_t>(start)]));
    if (!a.save_inputs.empty()) {
      for (int64_t i = 0; i < count; ++i) {
        std::string base = sanitize_filename(fs::path((*files)[static_cast<size_t>(start + i)]).filename().string());
        for (int k = 1; !saved_input_names.insert(base).second; ++k)
          base = sanitize_filename(fs::path((*files)[static_cast<size_t>(start + i)]).filename().string()) + "." +
                 std::to_string(k);
        Status st = write_npy(batch_item(*input, i), (fs::path(a.save_inputs) / (base + ".npy")).string());
        if (!st.ok()) return report_error(st);
      }
    }
    TensorMap feeds{{spec.input_name, std::move(input).value()}};
    auto out = (*ex)->run(feeds);
    if (!out.ok()) return report_error(out.status().with_context(a.model));
    auto it = out->find(out_name);
    if (it == out->end()) return report_error(internal_error(a.model + ": output '" + out_name + "' was not produced"));
    const Tensor& y = it->second;
    if (y.rank() < 1 || y.dim(0) != rows_in_tensor)
      return report_error(shape_error(a.model + ": output '" + out_name + "' has shape " + dims_to_string(y.dims()) +
                                      "; expected the batch (" + std::to_string(rows_in_tensor) + ") first"));
    auto yf = y.to_f32();
    if (!yf.ok()) return report_error(yf.status().with_context(a.model + ": output '" + out_name + "'"));
    const int64_t per = rows_in_tensor ? yf->numel() / rows_in_tensor : 0;
    const float* yd = yf->data<float>();
    for (int64_t i = 0; i < count; ++i) rows.emplace_back(yd + i * per, yd + (i + 1) * per);
    if (!a.save_outputs.empty()) {
      for (const auto& [name, t] : out.value()) saved_outputs[name].push_back(t);
      saved_counts.push_back(count);
    }
    if (progress) std::cerr << "\rconvfix: " << (start + count) << "/" << n_images << " images" << std::flush;
  }
  if (progress) std::cerr << "\r\033[K" << std::flush;

  if (!a.save_outputs.empty()) {
    Status st = ensure_dir(a.save_outputs);
    if (!st.ok()) return report_error(st);
    for (const auto& [name, parts] : saved_outputs) {
      auto t = concat_items(parts, saved_counts, name);
      if (!t.ok()) return report_error(t.status().with_context(a.model));
      st = write_npy(*t, (fs::path(a.save_outputs) / (sanitize_filename(name) + ".npy")).string());
      if (!st.ok()) return report_error(st);
    }
  }

  const bool probs = looks_like_probabilities(rows);
  if (!probs)
    for (auto& r : rows) softmax_inplace(r);
  const size_t classes = rows.empty() ? 0 : rows.front().size();
  // A label list one shorter than the classes: index 0 is the background class.
  const size_t label_offset = (!labels.empty() && labels.size() + 1 == classes) ? 1 : 0;
  if (!labels.empty() && labels.size() != classes && label_offset == 0)
    std::cerr << "convfix: warning: " << a.labels << " has " << labels.size() << " labels but output '" << out_name
              << "' has " << classes << " classes\n";
  auto label_of = [&](size_t idx) -> std::optional<std::string> {
    if (labels.empty()) return std::nullopt;
    if (label_offset == 1 && idx == 0) return std::string("background");
    const size_t li = idx - label_offset;
    if (li < labels.size()) return labels[li];
    return std::nullopt;
  };
  const std::vector<int64_t> in_dims =
      spec.layout == Layout::kNCHW ? std::vector<int64_t>{spec.batch, spec.channels, spec.height, spec.width}
                                   : std::vector<int64_t>{spec.batch, spec.height, spec.width, spec.channels};
  const std::string scores_kind = probs ? "model" : "softmax";
  if (a.json) {
    nlohmann::json j;
    j["model"] = a.model;
    j["input"] = {{"name", spec.input_name},
                  {"dtype", dtype_name(spec.dtype)},
                  {"shape", in_dims},
                  {"layout_from_model", spec.layout_from_model},
                  {"size_from_model", spec.size_from_model}};
    j["preset"] = preset->name;
    j["crop_fraction"] = preset->crop_fraction;
    j["layout"] = layout_name(spec.layout);
    j["output"] = out_name;
    j["scores"] = scores_kind;
    j["batch"] = batch;
    j["images"] = nlohmann::json::array();
    for (size_t i = 0; i < rows.size(); ++i) {
      nlohmann::json top = nlohmann::json::array();
      for (size_t idx : top_k(rows[i], static_cast<size_t>(std::max(a.top, 0)))) {
        nlohmann::json e{{"index", idx}};
        if (auto l = label_of(idx)) e["label"] = *l;
        e["score"] = rows[i][idx];
        top.push_back(e);
      }
      j["images"].push_back({{"file", (*files)[i]}, {"top", top}});
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "model: " << a.model << "\n";
  std::string shape_text = "[";
  for (size_t i = 0; i < in_dims.size(); ++i)
    shape_text += (i ? ", " : "") + (in_dims[i] < 0 ? std::string("N") : std::to_string(in_dims[i]));
  shape_text += "]";
  std::cout << "input: '" << spec.input_name << "' " << dtype_name(spec.dtype) << " " << shape_text << " "
            << layout_name(spec.layout) << (spec.layout_from_model ? "" : " (not from the model)") << ", preset "
            << preset->name << ", " << n_images << (n_images == 1 ? " image" : " images") << ", batch " << batch << "\n";
  std::cout << "scores: "
            << (probs ? "output '" + out_name + "' as is (it already holds probabilities)"
                      : "softmax of output '" + out_name + "' (it does not hold probabilities)")
            << "\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    std::cout << (*files)[i] << "\n";
    for (size_t idx : top_k(rows[i], static_cast<size_t>(std::max(a.top, 0)))) {
      std::ostringstream line;
      line << "  " << std::setw(5) << idx << "  " << std::fixed << std::setprecision(4) << rows[i][idx];
      if (auto l = label_of(idx)) line << "  " << *l;
      std::cout << line.str() << "\n";
    }
  }
  return 0;
}

}  // namespace

void add_run(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand("run", "Run a model on tensors (.npy/.pb) or images");
  auto a = std::make_shared<RunArgs>();
  sub->add_option("model", a->model, "Model file or folder")->required();
  sub->add_option("--input", a->inputs, "Input tensor as [NAME=]FILE (.npy or TensorProto .pb); repeatable");
  sub->add_option("--images", a->images,
                  "JPEG/PNG files or folders (a folder gives its .jpg/.jpeg/.png files, sorted, not recursive)");
  sub->add_option("--preprocess", a->preset, "Image preset: torch, tf, caffe, unit, raw (see docs/PREPROCESSING.md)")
      ->capture_default_str();
  sub->add_option("--top", a->top, "Classes to print per image")->check(CLI::Range(1, 1000000))->capture_default_str();
  auto* batch_opt = sub->add_option("--batch", a->batch, "Images per run for models with a dynamic batch size")
                        ->check(CLI::Range(1, 4096))
                        ->capture_default_str();
  sub->add_option("--labels", a->labels, "Class names, one per line (line i names class i)");
  sub->add_option("--layout", a->layout, "Image tensor layout nchw or nhwc (default: from the model input shape)");
  sub->add_option("--size", a->size, "Image size N or HxW when the model input does not fix it (default 224)");
  sub->add_option("--crop-fraction", a->crop_fraction,
                  "Resize to size/FRACTION before the centre crop (default: the preset's; torch 0.875, others 1)")
      ->check(CLI::Range(0.01f, 1.0f));
  sub->add_option("--save-inputs", a->save_inputs, "Write each preprocessed image as DIR/<image file name>.npy");
  sub->add_option("--save-outputs", a->save_outputs, "Write every output as DIR/<name>.npy");
  sub->add_option("--save-activations", a->save_activations, "Write every intermediate tensor as DIR/<name>.npy");
  sub->add_option("--threads", a->threads, "Worker threads")->check(CLI::Range(1, 256));
  sub->add_flag("--json", a->json, "Print JSON");
  sub->callback([=] {
    if (!a->images.empty()) {
      a->batch_given = batch_opt->count() > 0;
      *exit_code = run_images(*a);
      return;
    }
    if (a->inputs.empty()) {
      // A model without runtime inputs (only constants) runs as it is.
      auto g = load_model(a->model);
      if (!g.ok()) {
        *exit_code = report_error(g.status());
        return;
      }
      if (!g->inputs.empty()) {
        *exit_code = report_error(invalid_argument("run: give --input FILE ... or --images DIR_OR_FILE ..."));
        return;
      }
    }
    *exit_code = run_tensors(*a);
  });
}

}  // namespace convfix::cli
