// torchscript_dump MODEL: loads any model with load_model and prints its
// graph as JSON (inputs with shapes, initializer names and dims, nodes with
// op, provenance and inputs), for the TorchScript tests to check names and
// provenance against PyTorch's own state_dict. Exit 2 with one line on error.
#include <iostream>
#include <nlohmann/json.hpp>

#include "convfix/model_io.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: torchscript_dump MODEL\n";
    return 2;
  }
  auto g = convfix::load_model(argv[1]);
  if (!g.ok()) {
    std::cerr << "torchscript_dump: error: " << g.status().message() << "\n";
    return 2;
  }
  nlohmann::json j;
  j["format"] = g->info.format;
  j["inputs"] = nlohmann::json::array();
  for (const auto& v : g->inputs) j["inputs"].push_back({{"name", v.name}, {"shape", v.has_shape ? convfix::shape_to_string(v.shape) : "?"}});
  j["outputs"] = nlohmann::json::array();
  for (const auto& v : g->outputs) j["outputs"].push_back(v.name);
  j["initializers"] = nlohmann::json::object();
  for (const auto& [name, t] : g->initializers) j["initializers"][name] = t.dims();
  j["nodes"] = nlohmann::json::array();
  for (const auto& n : g->nodes)
    j["nodes"].push_back({{"name", n.name}, {"op", n.op_type}, {"format", n.provenance.format},
                          {"original_op", n.provenance.original_op}, {"layer", n.provenance.layer},
                          {"inputs", n.inputs}, {"outputs", n.outputs}});
  std::cout << j.dump(1) << "\n";
  return 0;
}
