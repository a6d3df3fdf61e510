#include "convfix/op_registry.h"

#include "ops/registry_list.h"

namespace convfix {

Status KernelContext::error(const std::string& msg) const { return shape_error(node_.label() + ": " + msg); }
Status KernelContext::unsupported(const std::string& msg) const {
  return not_implemented(node_.label() + ": " + msg);
}
const ValueInfo* KernelContext::output_info(size_t i) const {
  if (!graph_ || i >= node_.outputs.size() || node_.outputs[i].empty()) return nullptr;
  const std::string& name = node_.outputs[i];
  auto it = graph_->value_info.find(name);
  if (it != graph_->value_info.end()) return &it->second;
  for (const auto& o : graph_->outputs)
    if (o.name == name) return &o;
  return nullptr;
}

Status KernelContext::require_input(size_t i) const {
  if (!has_input(i)) return invalid_model(node_.label() + ": required input " + std::to_string(i) + " is missing");
  return Status::OK();
}

void OpRegistry::add(OpDef def) {
  auto key = std::make_pair(def.domain, def.op_type);
  ops_[key] = std::move(def);
}

const OpDef* OpRegistry::find(const std::string& domain, const std::string& op_type) const {
  const std::string d = domain == "ai.onnx" ? "" : domain;
  auto it = ops_.find({d, op_type});
  return it == ops_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::op_names() const {
  std::vector<std::string> r;
  for (const auto& [k, v] : ops_) r.push_back(k.first.empty() ? k.second : k.first + ":" + k.second);
  return r;
}

const OpRegistry& OpRegistry::builtin() {
  static const OpRegistry reg = [] {
    OpRegistry r;
    register_all_builtin_ops(r);
    return r;
  }();
  return reg;
}

}  // namespace convfix
