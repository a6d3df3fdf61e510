#include "convfix/graph.h"

#include <algorithm>
#include <deque>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace convfix {

std::string Attribute::to_string() const {
  std::ostringstream o;
  auto list = [&o](const auto& v) {
    o << "[";
    for (size_t i = 0; i < v.size(); ++i) o << (i ? ", " : "") << v[i];
    o << "]";
  };
  switch (kind) {
    case Kind::kInt: o << i; break;
    case Kind::kFloat: o << f; break;
    case Kind::kString: o << s; break;
    case Kind::kInts: list(ints); break;
    case Kind::kFloats: list(floats); break;
    case Kind::kStrings: list(strings); break;
    case Kind::kTensor: o << "tensor " << dtype_name(t.dtype()) << dims_to_string(t.dims()); break;
    case Kind::kGraph: o << "graph"; break;
    case Kind::kTensors: o << tensors.size() << " tensors"; break;
    case Kind::kGraphs: o << graphs.size() << " graphs"; break;
    case Kind::kOpaque: o << "<opaque>"; break;
  }
  return o.str();
}

const Attribute* Node::attr(const std::string& key) const {
  auto it = attrs.find(key);
  return it == attrs.end() ? nullptr : &it->second;
}
int64_t Node::attr_int(const std::string& key, int64_t def) const {
  const Attribute* a = attr(key);
  if (!a) return def;
  if (a->kind == Attribute::Kind::kFloat) return static_cast<int64_t>(a->f);
  return a->i;
}
float Node::attr_float(const std::string& key, float def) const {
  const Attribute* a = attr(key);
  if (!a) return def;
  if (a->kind == Attribute::Kind::kInt) return static_cast<float>(a->i);
  return a->f;
}
std::string Node::attr_string(const std::string& key, const std::string& def) const {
  const Attribute* a = attr(key);
  return a ? a->s : def;
}
std::vector<int64_t> Node::attr_ints(const std::string& key, std::vector<int64_t> def) const {
  const Attribute* a = attr(key);
  return a ? a->ints : def;
}
std::vector<float> Node::attr_floats(const std::string& key, std::vector<float> def) const {
  const Attribute* a = attr(key);
  return a ? a->floats : def;
}
std::string Node::label() const {
  std::string d = domain.empty() ? op_type : domain + ":" + op_type;
  return "node '" + name + "' (" + d + ")";
}

int64_t Graph::opset(const std::string& domain) const {
  auto it = info.opsets.find(domain);
  if (it != info.opsets.end()) return it->second;
  if (domain == "ai.onnx") return opset("");
  return 0;
}

int64_t Graph::producer(const std::string& value) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& o : nodes[i].outputs)
      if (o == value) return static_cast<int64_t>(i);
  return -1;
}

std::vector<size_t> Graph::consumers(const std::string& value) const {
  std::vector<size_t> r;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& in : nodes[i].inputs)
      if (in == value) { r.push_back(i); break; }
  return r;
}

int64_t Graph::find_node(const std::string& n) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == n) return static_cast<int64_t>(i);
  return -1;
}

std::vector<std::string> Graph::parameters(const Node& n) const {
  std::vector<std::string> r;
  for (const auto& in : n.inputs)
    if (!in.empty() && is_initializer(in)) r.push_back(in);
  return r;
}

int64_t Graph::parameter_count() const {
  int64_t n = 0;
  for (const auto& [k, t] : initializers) n += t.numel();
  return n;
}
int64_t Graph::parameter_bytes() const {
  int64_t n = 0;
  for (const auto& [k, t] : initializers) n += static_cast<int64_t>(t.nbytes());
  return n;
}

namespace {
std::unordered_set<std::string> all_value_names(const Graph& g) {
  std::unordered_set<std::string> s;
  for (const auto& v : g.inputs) s.insert(v.name);
  for (const auto& [k, t] : g.initializers) s.insert(k);
  for (const auto& n : g.nodes) {
    for (const auto& i : n.inputs) s.insert(i);
    for (const auto& o : n.outputs) s.insert(o);
  }
  return s;
}
}  // namespace

std::string Graph::unique_value_name(const std::string& base) const {
  const auto used = all_value_names(*this);
  if (!used.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string c = base + "_" + std::to_string(i);
    if (!used.count(c)) return c;
  }
}

std::string Graph::unique_node_name(const std::string& base) const {
  std::unordered_set<std::string> used;
  for (const auto& n : nodes) used.insert(n.name);
  if (!used.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string c = base + "_" + std::to_string(i);
    if (!used.count(c)) return c;
  }
}

size_t Graph::insert_node(size_t pos, Node n) {
  pos = std::min(pos, nodes.size());
  nodes.insert(nodes.begin() + static_cast<std::ptrdiff_t>(pos), std::move(n));
  return pos;
}

Status Graph::remove_node(size_t idx, int bypass_input) {
  if (idx >= nodes.size()) return invalid_argument("remove_node: index " + std::to_string(idx) + " out of range");
  Node n = nodes[idx];
  if (bypass_input >= 0) {
    if (static_cast<size_t>(bypass_input) >= n.inputs.size() || n.outputs.empty())
      return invalid_argument(n.label() + ": cannot bypass input " + std::to_string(bypass_input));
    const std::string from = n.outputs[0];
    const std::string to = n.inputs[static_cast<size_t>(bypass_input)];
    nodes.erase(nodes.begin() + static_cast<std::ptrdiff_t>(idx));
    // If the removed output is a graph output, keep its name visible by
    // renaming the producer's value instead of rewiring the graph output.
    bool is_graph_output = false;
    for (const auto& o : outputs) is_graph_output |= (o.name == from);
    if (is_graph_output && producer(to) >= 0 && !is_initializer(to)) {
      bool to_is_output = false;
      for (const auto& o : outputs) to_is_output |= (o.name == to);
      if (!to_is_output) {
        // rename `to` to `from` everywhere
        for (auto& m : nodes) {
          for (auto& i : m.inputs) if (i == to) i = from;
          for (auto& o : m.outputs) if (o == to) o = from;
        }
        return Status::OK();
      }
    }
    rewire(from, to);
    return Status::OK();
  }
  nodes.erase(nodes.begin() + static_cast<std::ptrdiff_t>(idx));
  return Status::OK();
}

void Graph::replace_node(size_t idx, Node replacement) {
  if (idx < nodes.size()) nodes[idx] = std::move(replacement);
}

void Graph::rewire(const std::string& from, const std::string& to) {
  for (auto& n : nodes)
    for (auto& i : n.inputs)
      if (i == from) i = to;
  for (auto& o : outputs)
    if (o.name == from) o.name = to;
}

Status Graph::topo_sort() {
  std::unordered_map<std::string, size_t> prod;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& o : nodes[i].outputs)
      if (!o.empty()) prod[o] = i;
  std::vector<int> indeg(nodes.size(), 0);
  std::vector<std::vector<size_t>> succ(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::set<size_t> deps;
    for (const auto& in : nodes[i].inputs) {
      auto it = prod.find(in);
      if (!in.empty() && it != prod.end() && it->second != i) deps.insert(it->second);
    }
    for (size_t d : deps) { succ[d].push_back(i); ++indeg[i]; }
  }
  // Stable Kahn: always take the smallest ready index.
  std::set<size_t> ready;
  for (size_t i = 0; i < nodes.size(); ++i) if (indeg[i] == 0) ready.insert(i);
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (size_t s : succ[i]) if (--indeg[s] == 0) ready.insert(s);
  }
  if (order.size() != nodes.size()) {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (indeg[i] > 0) return invalid_model("graph has a cycle through " + nodes[i].label());
  }
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  for (size_t i : order) sorted.push_back(std::move(nodes[i]));
  nodes = std::move(sorted);
  return Status::OK();
}

void Graph::prune_unused() {
  std::unordered_set<std::string> live;
  for (const auto& o : outputs) live.insert(o.name);
  std::vector<bool> keep(nodes.size(), false);
  for (size_t k = nodes.size(); k-- > 0;) {
    bool needed = false;
    for (const auto& o : nodes[k].outputs) needed |= live.count(o) > 0;
    if (!needed) continue;
    keep[k] = true;
    for (const auto& i : nodes[k].inputs) live.insert(i);
  }
  std::vector<Node> kept;
  for (size_t k = 0; k < nodes.size(); ++k) if (keep[k]) kept.push_back(std::move(nodes[k]));
  nodes = std::move(kept);
  for (auto it = initializers.begin(); it != initializers.end();) {
    if (!live.count(it->first)) it = initializers.erase(it);
    else ++it;
  }
}

Status Graph::verify() const {
  std::unordered_set<std::string> defined;
  for (const auto& v : inputs) {
    if (v.name.empty()) return invalid_model("graph input with an empty name");
    if (!defined.insert(v.name).second) return invalid_model("graph input '" + v.name + "' declared twice");
  }
  for (const auto& [k, t] : initializers) defined.insert(k);
  std::unordered_set<std::string> produced;
  for (const auto& n : nodes) {
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const auto& in = n.inputs[i];
      if (in.empty()) continue;
      if (!defined.count(in))
        return invalid_model(n.label() + ": input " + std::to_string(i) + " '" + in +
                             "' is not produced by any earlier node, graph input or initializer");
    }
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      if (!produced.insert(o).second) return invalid_model(n.label() + ": output '" + o + "' is produced twice");
      defined.insert(o);
    }
  }
  for (const auto& o : outputs)
    if (!defined.count(o.name)) return invalid_model("graph output '" + o.name + "' is never produced");
  return Status::OK();
}

std::string Graph::dump() const {
  std::ostringstream s;
  auto vi = [&s](const ValueInfo& v) {
    s << "  " << v.name << ": " << dtype_name(v.dtype);
    if (v.has_shape) s << shape_to_string(v.shape);
    s << "\n";
  };
  s << "graph " << (name.empty() ? "(unnamed)" : name) << "\n";
  s << "inputs:\n";
  for (const auto& v : inputs) vi(v);
  s << "outputs:\n";
  for (const auto& v : outputs) vi(v);
  s << "initializers: " << initializers.size() << " (" << parameter_count() << " elements)\n";
  s << "nodes:\n";
  for (const auto& n : nodes) {
    s << "  " << n.name << " = " << (n.domain.empty() ? "" : n.domain + ":") << n.op_type << "(";
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      s << (i ? ", " : "") << n.inputs[i];
      if (is_initializer(n.inputs[i])) {
        const Tensor& t = initializers.at(n.inputs[i]);
        s << ":" << dtype_name(t.dtype()) << dims_to_string(t.dims());
      }
    }
    s << ") -> (";
    for (size_t i = 0; i < n.outputs.size(); ++i) s << (i ? ", " : "") << n.outputs[i];
    s << ")";
    if (!n.attrs.empty()) {
      s << " {";
      bool first = true;
      for (const auto& [k, a] : n.attrs) {
        s << (first ? "" : ", ") << k << "=" << a.to_string();
        first = false;
      }
      s << "}";
    }
    s << "\n";
  }
  return s.str();
}

}  // namespace convfix
