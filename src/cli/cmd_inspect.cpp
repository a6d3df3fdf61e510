// convfix inspect MODEL [--json]
#include <iostream>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "convfix/model_io.h"
#include "convfix/op_registry.h"

namespace convfix::cli {

namespace {

nlohmann::json value_json(const ValueInfo& v) {
  nlohmann::json j;
  j["name"] = v.name;
  j["dtype"] = dtype_name(v.dtype);
  if (v.has_shape) {
    nlohmann::json s = nlohmann::json::array();
    for (const auto& d : v.shape) {
      if (d.known()) s.push_back(d.value);
      else s.push_back(d.symbol.empty() ? "?" : d.symbol);
    }
    j["shape"] = s;
  } else {
    j["shape"] = nullptr;
  }
  if (v.quant) {
    j["quant"] = {{"scale", v.quant->scale}, {"zero_point", v.quant->zero_point}};
    if (v.quant->per_channel()) j["quant"]["axis"] = v.quant->axis;
  }
  return j;
}

// "  quant: scale=0.0039 zero_point=-128" or "  quant: 12 scales along axis 3"; "" when not quantized.
std::string quant_text(const std::optional<QuantParams>& q) {
  if (!q || q->scale.empty()) return "";
  std::ostringstream o;
  if (q->per_channel())
    o << "  quant: " << q->scale.size() << " scales along axis " << q->axis;
  else
    o << "  quant: scale=" << q->scale[0] << " zero_point=" << (q->zero_point.empty() ? 0 : q->zero_point[0]);
  return o.str();
}

bool is_quantized(const Graph& g) {
  for (const auto& v : g.inputs) if (v.quant) return true;
  for (const auto& v : g.outputs) if (v.quant) return true;
  for (const auto& [n, v] : g.value_info) if (v.quant) return true;
  for (const auto& [n, t] : g.initializers) if (t.quant()) return true;
  return false;
}

int run_inspect(const std::string& path, bool json) {
  auto g = load_model(path);
  if (!g.ok()) return report_error(g.status());
  const Graph& graph = g.value();
  std::map<std::string, int> hist;
  std::map<std::string, int> unsupported;
  const OpRegistry& reg = OpRegistry::builtin();
  for (const auto& n : graph.nodes) {
    const std::string k = n.domain.empty() ? n.op_type : n.domain + ":" + n.op_type;
    hist[k]++;
    if (!reg.find(n.domain, n.op_type)) unsupported[k]++;
  }
  nlohmann::json j;
  j["file"] = path;
  j["format"] = graph.info.format;
  j["producer"] = graph.info.producer_name;
  j["producer_version"] = graph.info.producer_version;
  j["ir_version"] = graph.info.ir_version;
  j["opsets"] = graph.info.opsets;
  j["inputs"] = nlohmann::json::array();
  for (const auto& v : graph.inputs) j["inputs"].push_back(value_json(v));
  j["outputs"] = nlohmann::json::array();
  for (const auto& v : graph.outputs) j["outputs"].push_back(value_json(v));
  j["nodes"] = graph.nodes.size();
  j["op_histogram"] = hist;
  j["unsupported_ops"] = unsupported;
  j["parameters"] = graph.parameter_count();
  j["parameter_bytes"] = graph.parameter_bytes();
  j["quantized"] = is_quantized(graph);
  if (json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "file:       " << path << "\n";
  std::cout << "format:     " << graph.info.format;
  if (!graph.info.producer_name.empty())
    std::cout << " (producer " << graph.info.producer_name << " " << graph.info.producer_version << ")";
  std::cout << "\n";
  if (graph.info.ir_version) std::cout << "ir_version: " << graph.info.ir_version << "\n";
  std::cout << "opsets:    ";
  for (const auto& [d, v] : graph.info.opsets) std::cout << " " << (d.empty() ? "ai.onnx" : d) << "=" << v;
  std::cout << "\ninputs:\n";
  for (const auto& v : graph.inputs)
    std::cout << "  " << v.name << "  " << dtype_name(v.dtype) << " " << (v.has_shape ? shape_to_string(v.shape) : "?") << quant_text(v.quant) << "\n";
  std::cout << "outputs:\n";
  for (const auto& v : graph.outputs)
    std::cout << "  " << v.name << "  " << dtype_name(v.dtype) << " " << (v.has_shape ? shape_to_string(v.shape) : "?") << quant_text(v.quant) << "\n";
  std::cout << "quantized:  " << (is_quantized(graph) ? "yes" : "no") << "\n";
  std::cout << "nodes:      " << graph.nodes.size() << "\n";
  std::cout << "parameters: " << graph.parameter_count() << " (" << graph.parameter_bytes() << " bytes)\n";
  std::cout << "ops:\n";
  for (const auto& [k, c] : hist)
    std::cout << "  " << k << " x" << c << (unsupported.count(k) ? "   (not supported by the executor)" : "") << "\n";
  return 0;
}

}  // namespace

void add_inspect(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand("inspect", "Show a model's inputs, outputs, ops and parameters");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  sub->add_option("model", *path, "Model file or folder")->required();
  sub->add_flag("--json", *json, "Print JSON");
  sub->callback([=] { *exit_code = run_inspect(*path, *json); });
}

}  // namespace convfix::cli
