// convfix run MODEL --input [NAME=]FILE ... [--save-outputs DIR] [--save-activations DIR]
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "convfix/executor.h"
#include "convfix/fileio.h"
#include "convfix/model_io.h"
#include "convfix/npy.h"
#include "convfix/onnx_format.h"

namespace convfix::cli {

namespace fs = std::filesystem;

namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string save_outputs, save_activations;
  int threads = 1;
  bool json = false;
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

}  // namespace

void add_run(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand("run", "Run a model on tensors (.npy/.pb) or images");
  auto a = std::make_shared<RunArgs>();
  sub->add_option("model", a->model, "Model file or folder")->required();
  sub->add_option("--input", a->inputs, "Input tensor as [NAME=]FILE (.npy or TensorProto .pb); repeatable");
  sub->add_option("--save-outputs", a->save_outputs, "Write every output as DIR/<name>.npy");
  sub->add_option("--save-activations", a->save_activations, "Write every intermediate tensor as DIR/<name>.npy");
  sub->add_option("--threads", a->threads, "Worker threads")->check(CLI::Range(1, 256));
  sub->add_flag("--json", a->json, "Print JSON");
  sub->callback([=] {
    if (a->inputs.empty()) {
      *exit_code = report_error(invalid_argument("run: give --input FILE ... (image input is not available yet)"));
      return;
    }
    *exit_code = run_tensors(*a);
  });
}

}  // namespace convfix::cli
