// Flattening (function inlining) and lowering of TensorFlow graphs onto the
// canonical ONNX-domain ops. Shared by the GraphDef / SavedModel reader and
// the TF.js graph-model reader (tf_internal.h).
//
// Layout: activations stay in the file's data format (NHWC as a rule); only
// layout-sensitive ops (Conv, ConvTranspose, pools) are wrapped in a
// Transpose pair. TF's SAME padding (extra pad at the end) is ONNX's
// auto_pad SAME_UPPER. Weights keep their TF layout under the Const /
// variable name; the conversion to ONNX layout is a node ("<name>/...").
#include <algorithm>
#include <climits>
#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "formats/onnx/onnx_tensor.h"
#include "formats/tf/tf_internal.h"

namespace convfix::tf {

Expected<DType> dtype_from_tf(int64_t code) {
  switch (code % 100) {  // reference types are code + 100
    case 1: return DType::kF32;
    case 2: return DType::kF64;
    case 3: return DType::kI32;
    case 4: return DType::kU8;
    case 5: return DType::kI16;
    case 6: return DType::kI8;
    case 7: return DType::kString;
    case 9: return DType::kI64;
    case 10: return DType::kBool;
    case 14: return DType::kBF16;
    case 17: return DType::kU16;
    case 19: return DType::kF16;
    case 22: return DType::kU32;
    case 23: return DType::kU64;
    default: return not_implemented("TensorFlow data type " + std::to_string(code) + " is not supported");
  }
}

int64_t dtype_to_tf(DType t) {
  switch (t) {
    case DType::kF32: return 1;
    case DType::kF64: return 2;
    case DType::kI32: return 3;
    case DType::kU8: return 4;
    case DType::kI16: return 5;
    case DType::kI8: return 6;
    case DType::kString: return 7;
    case DType::kI64: return 9;
    case DType::kBool: return 10;
    case DType::kBF16: return 14;
    case DType::kU16: return 17;
    case DType::kF16: return 19;
    case DType::kU32: return 22;
    case DType::kU64: return 23;
    default: return 0;
  }
}

namespace {

struct Ref {
  std::string node;
  int64_t idx = 0;
};
std::string key_of(const Ref& r) { return r.node + ":" + std::to_string(r.idx); }

struct FlatNode {
  std::string name, op;
  std::vector<Ref> inputs;  // data inputs only
  std::vector<std::string> raw_inputs;
  Attributes attrs;
  bool inlined = false;  // from a function body
};

bool is_call_op(const std::string& op) { return op == "StatefulPartitionedCall" || op == "PartitionedCall"; }

int64_t out_base(const std::string& op, const std::string& arg, const GraphDef& gd) {
  if (op.rfind("FusedBatchNorm", 0) == 0 || op == "_FusedBatchNormEx") {
    static const char* names[] = {"y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2",
                                  "reserve_space_3"};
    for (int i = 0; i < 6; ++i)
      if (arg == names[i]) return i;
    return 0;
  }
  auto f = gd.functions.find(op);
  if (f != gd.functions.end()) {
    for (size_t i = 0; i < f->second.output_args.size(); ++i)
      if (f->second.output_args[i] == arg) return static_cast<int64_t>(i);
  }
  return 0;
}

bool parse_index(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 9) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Top-level reference "n", "n:k".
Expected<Ref> parse_ref(const std::string& s) {
  Ref r;
  const auto c = s.rfind(':');
  if (c == std::string::npos) {
    r.node = s;
    return r;
  }
  r.node = s.substr(0, c);
  if (!parse_index(s.substr(c + 1), &r.idx)) return invalid_model("malformed input reference '" + s + "'");
  return r;
}

class Flattener {
 public:
  Flattener(const GraphDef& gd, const std::string& path) : gd_(gd), path_(path) {}

  Status run() {
    std::map<std::string, Ref> no_args;
    std::unordered_map<std::string, std::string> local_ops;
    for (const auto& n : gd_.nodes) local_ops[n.name] = n.op;
    for (const auto& n : gd_.nodes) CONVFIX_RETURN_IF_ERROR(add(n, "", no_args, local_ops, /*in_function=*/false, 0));
    return Status::OK();
  }

  std::vector<FlatNode> nodes;
  std::unordered_map<std::string, size_t> index;
  std::unordered_map<std::string, Ref> alias;

  // Inlined nodes take their name inside the function body when that name is
  // unique in the whole flattened graph (Keras SavedModels: the layer names,
  // "functional_1/conv2d/Conv2D"); otherwise "<call node>/<body node>".
  void shorten_names() {
    std::unordered_map<std::string, int> count;
    for (size_t i = 0; i < nodes.size(); ++i) ++count[local_[i]];
    for (size_t i = 0; i < nodes.size(); ++i)
      if (local_[i] != nodes[i].name) ++count[nodes[i].name];  // a full name used elsewhere blocks its short form
    std::unordered_map<std::string, std::string> rename;
    for (size_t i = 0; i < nodes.size(); ++i)
      if (local_[i] != nodes[i].name && count[local_[i]] == 1) rename[nodes[i].name] = local_[i];
    if (rename.empty()) return;
    auto fix = [&](Ref& r) {
      auto it = rename.find(r.node);
      if (it != rename.end()) r.node = it->second;
    };
    index.clear();
    for (size_t i = 0; i < nodes.size(); ++i) {
      auto it = rename.find(nodes[i].name);
      if (it != rename.end()) nodes[i].name = it->second;
      for (Ref& r : nodes[i].inputs) fix(r);
      index[nodes[i].name] = i;
    }
    std::unordered_map<std::string, Ref> a2;
    for (auto& [k, v] : alias) {
      const auto c = k.rfind(':');
      Ref key{k.substr(0, c), std::stoll(k.substr(c + 1))};
      fix(key);
      Ref val = v;
      fix(val);
      a2[key_of(key)] = val;
    }
    alias = std::move(a2);
  }

 private:
  Expected<Ref> resolve_input(const std::string& s, const std::string& prefix, const std::map<std::string, Ref>& args,
                              const std::unordered_map<std::string, std::string>& local_ops, bool in_function) {
    if (!in_function) return parse_ref(s);
    const auto c1 = s.find(':');
    if (c1 == std::string::npos) {
      auto a = args.find(s);
      if (a != args.end()) return a->second;
      return Ref{prefix + s, 0};
    }
    const std::string node = s.substr(0, c1);
    const std::string rest = s.substr(c1 + 1);
    const auto c2 = rest.find(':');
    Ref r{prefix + node, 0};
    if (c2 == std::string::npos) {
      if (!parse_index(rest, &r.idx)) return invalid_model("malformed input reference '" + s + "'");
      return r;
    }
    int64_t k = 0;
    if (!parse_index(rest.substr(c2 + 1), &k)) return invalid_model("malformed input reference '" + s + "'");
    auto op = local_ops.find(node);
    r.idx = out_base(op == local_ops.end() ? "" : op->second, rest.substr(0, c2), gd_) + k;
    return r;
  }

  Status add(const NodeDef& n, const std::string& prefix, const std::map<std::string, Ref>& args,
             const std::unordered_map<std::string, std::string>& local_ops, bool in_function, int depth) {
    FlatNode f;
    f.name = prefix + n.name;
    f.op = n.op;
    f.attrs = n.attrs;
    f.inlined = in_function;
    for (const auto& s : n.inputs) {
      if (s.empty() || s[0] == '^') continue;
      auto r = resolve_input(s, prefix, args, local_ops, in_function);
      if (!r.ok()) return r.status().with_context("node '" + f.name + "' (" + n.op + ")");
      f.inputs.push_back(r.value());
      f.raw_inputs.push_back(s);
    }
    if (index.count(f.name)) return invalid_model("two nodes are named '" + f.name + "'");
    const FunctionDef* fn = nullptr;
    if (is_call_op(n.op)) {
      auto* a = n.attrs.count("f") ? &n.attrs.at("f") : nullptr;
      if (!a) return invalid_model("node '" + f.name + "' (" + n.op + ") has no function attribute 'f'");
      auto it = gd_.functions.find(a->s);
      if (it == gd_.functions.end())
        return invalid_model("node '" + f.name + "' (" + n.op + ") calls function '" + a->s + "', which the library lacks");
      fn = &it->second;
    } else if (auto it = gd_.functions.find(n.op); it != gd_.functions.end()) {
      fn = &it->second;
    }
    index[f.name] = nodes.size();
    nodes.push_back(f);
    local_.push_back(n.name);
    if (!fn) return Status::OK();
    if (depth > 64) return invalid_model("node '" + f.name + "': function calls nest deeper than 64 (recursion?)");
    if (fn->input_args.size() != f.inputs.size())
      return invalid_model("node '" + f.name + "' (" + n.op + ") passes " + std::to_string(f.inputs.size()) +
                           " inputs to function '" + fn->name + "', which takes " +
                           std::to_string(fn->input_args.size()));
    nodes.back().op = "_InlinedCall";
    std::map<std::string, Ref> fargs;
    for (size_t i = 0; i < fn->input_args.size(); ++i) fargs[fn->input_args[i]] = f.inputs[i];
    std::unordered_map<std::string, std::string> fops;
    for (const auto& bn : fn->nodes) fops[bn.name] = bn.op;
    const std::string p = f.name + "/";
    for (const auto& bn : fn->nodes) CONVFIX_RETURN_IF_ERROR(add(bn, p, fargs, fops, true, depth + 1));
    for (size_t k = 0; k < fn->output_args.size(); ++k) {
      auto rt = fn->ret.find(fn->output_args[k]);
      if (rt == fn->ret.end())
        return invalid_model("function '" + fn->name + "' returns nothing for output '" + fn->output_args[k] + "'");
      auto r = resolve_input(rt->second, p, fargs, fops, true);
      if (!r.ok()) return r.status().with_context("function '" + fn->name + "'");
      alias[key_of(Ref{f.name, static_cast<int64_t>(k)})] = r.value();
    }
    return Status::OK();
  }

  const GraphDef& gd_;
  std::string path_;
  std::vector<std::string> local_;  // each node's name in its own graph or function body
};

bool is_passthrough(const std::string& op) {
  return op == "Identity" || op == "Snapshot" || op == "StopGradient" || op == "ReadVariableOp" ||
         op == "PreventGradient" || op == "IdentityN" || op == "PlaceholderWithDefault" || op == "CheckNumerics" ||
         op == "EnsureShape";
}

constexpr int64_t kOnnxI64 = 7;

class Lowerer {
 public:
  Lowerer(const Flattener& fl, const LowerRequest& req) : fl_(fl), req_(req) {}

  Expected<Graph> run();

 private:
  const FlatNode* node(const std::string& name) const {
    auto it = fl_.index.find(name);
    return it == fl_.index.end() ? nullptr : &fl_.nodes[it->second];
  }
  Ref resolve(Ref r) const {
    for (int guard = 0; guard < 100000; ++guard) {
      auto a = fl_.alias.find(key_of(r));
      if (a != fl_.alias.end()) {
        r = a->second;
        continue;
      }
      if (input_nodes_.count(r.node)) return r;
      const FlatNode* n = node(r.node);
      if (!n || !is_passthrough(n->op) || n->inputs.empty()) return r;
      if (n->op == "IdentityN") {
        if (r.idx >= static_cast<int64_t>(n->inputs.size())) return r;
        r = n->inputs[static_cast<size_t>(r.idx)];
      } else {
        if (r.idx != 0) return r;
        r = n->inputs[0];
      }
    }
    return r;
  }
  static std::string vname(const Ref& r) { return r.idx == 0 ? r.node : r.node + ":" + std::to_string(r.idx); }

  Status variable_keys();
  Status order(const std::vector<Ref>& outs, std::vector<const FlatNode*>* topo);
  Status lower(const FlatNode& n);

  // --- emission helpers (valid while lowering cur_) ---
  std::string fresh(const std::string& suffix) {
    std::string base = cur_->name + "/" + suffix;
    std::string s = base;
    for (int k = 1; used_.count(s); ++k) s = base + "_" + std::to_string(k);
    used_.insert(s);
    return s;
  }
  // Emits a node; returns its (first) output value name.
  std::string emit(const std::string& op, std::vector<std::string> inputs, Attributes attrs,
                   const std::string& node_name, const std::string& out_value) {
    Node n;
    n.name = node_name;
    n.op_type = op;
    n.inputs = std::move(inputs);
    n.outputs = {out_value};
    n.attrs = std::move(attrs);
    n.provenance.format = req_.format;
    n.provenance.original_op = cur_->op;
    n.provenance.layer = cur_->name;
    if (!data_format_.empty()) n.attrs["data_layout"] = Attribute::of_string(data_format_);
    g_.nodes.push_back(std::move(n));
    return out_value;
  }
  // Helper node "<name>/<what>" with output value of the same name.
  std::string helper(const std::string& op, std::vector<std::string> inputs, Attributes attrs, const std::string& what) {
    const std::string s = fresh(what);
    return emit(op, std::move(inputs), std::move(attrs), s, s);
  }
  // The node doing the op's main work: named exactly as the TF node.
  std::string main(const std::string& op, std::vector<std::string> inputs, Attributes attrs, bool final_output) {
    const std::string out = final_output ? out_ : fresh("main");
    return emit(op, std::move(inputs), std::move(attrs), cur_->name, out);
  }
  // Makes `v` the value of output 0: renames the last node's output when it
  // produced v, else copies with an Identity.
  void finish(const std::string& v) {
    if (v == out_) return;
    if (!g_.nodes.empty() && g_.nodes.back().outputs.size() == 1 && g_.nodes.back().outputs[0] == v) {
      g_.nodes.back().outputs[0] = out_;
      return;
    }
    emit("Identity", {v}, {}, main_named_ ? fresh("out") : cur_->name, out_);
  }
  std::string init(const std::string& what, Tensor t) {
    const std::string s = fresh(what);
    g_.initializers[s] = std::move(t);
    return s;
  }
  std::string init_i64(const std::string& what, const std::vector<int64_t>& v) {
    return init(what, Tensor::from_vector(DType::kI64, {static_cast<int64_t>(v.size())}, v));
  }
  std::string init_f32(const std::string& what, float v) { return init(what, Tensor::scalar_f32(v)); }
  const Tensor* constant(const std::string& value) const {
    auto it = g_.initializers.find(value);
    return it == g_.initializers.end() ? nullptr : &it->second;
  }
  Status err(const std::string& msg) const {
    return invalid_model(req_.path + ": node '" + cur_->name + "' (" + cur_->op + "): " + msg);
  }
  Status unsupported(const std::string& msg) const {
    return not_implemented(req_.path + ": node '" + cur_->name + "' (" + cur_->op + "): " + msg);
  }
  Expected<std::vector<int64_t>> const_ints(size_t input, const std::string& what) const {
    if (input >= in_.size()) return err("missing input " + std::to_string(input) + " (" + what + ")");
    const Tensor* t = constant(in_[input]);
    if (!t) return unsupported("input " + std::to_string(input) + " (" + what + ") must be a constant");
    if (!dtype_is_integer(t->dtype())) return err("input " + std::to_string(input) + " (" + what + ") is not integer");
    return t->to_i64_vector();
  }
  // An int64 version of integer input `input` (constant folded when possible).
  std::string as_i64(size_t input, const std::string& what) {
    if (const Tensor* t = constant(in_[input])) {
      auto v = t->to_i64_vector();
      return init(what, Tensor::from_vector(DType::kI64, t->dims(), v));
    }
    Attributes a;
    a["to"] = Attribute::of_int(kOnnxI64);
    return helper("Cast", {in_[input]}, std::move(a), what);
  }
  std::string attr_s(const std::string& k, const std::string& d) const {
    auto it = cur_->attrs.find(k);
    return it == cur_->attrs.end() ? d : it->second.s;
  }
  int64_t attr_i(const std::string& k, int64_t d) const {
    auto it = cur_->attrs.find(k);
    return it == cur_->attrs.end() ? d : it->second.i;
  }
  float attr_f(const std::string& k, float d) const {
    auto it = cur_->attrs.find(k);
    return it == cur_->attrs.end() ? d : it->second.f;
  }
  std::vector<int64_t> attr_is(const std::string& k) const {
    auto it = cur_->attrs.find(k);
    return it == cur_->attrs.end() ? std::vector<int64_t>{} : it->second.ints;
  }
  std::vector<std::string> attr_ss(const std::string& k) const {
    auto it = cur_->attrs.find(k);
    return it == cur_->attrs.end() ? std::vector<std::string>{} : it->second.strings;
  }
  Status need_inputs(size_t n) const {
    if (in_.size() < n) return err("needs " + std::to_string(n) + " inputs, has " + std::to_string(in_.size()));
    return Status::OK();
  }
  std::string transpose(const std::string& v, std::vector<int64_t> perm, const std::string& what) {
    Attributes a;
    a["perm"] = Attribute::of_ints(std::move(perm));
    return helper("Transpose", {v}, std::move(a), what);
  }

  // Spatial (2-D) attributes from TF's 4-element lists in data format order.
  Status spatial(const std::string& key, bool nchw, std::vector<int64_t>* out, int64_t def) const {
    auto v = attr_is(key);
    if (v.empty()) {
      *out = {def, def};
      return Status::OK();
    }
    if (v.size() != 4) return err("attribute '" + key + "' has " + std::to_string(v.size()) + " values, expected 4");
    *out = nchw ? std::vector<int64_t>{v[2], v[3]} : std::vector<int64_t>{v[1], v[2]};
    return Status::OK();
  }
  Status padding_attrs(bool nchw, Attributes* a) const {
    const std::string p = attr_s("padding", "VALID");
    if (p == "SAME") (*a)["auto_pad"] = Attribute::of_string("SAME_UPPER");
    else if (p == "VALID") (*a)["auto_pad"] = Attribute::of_string("VALID");
    else if (p == "EXPLICIT") {
      auto e = attr_is("explicit_paddings");
      if (e.size() != 8) return err("explicit_paddings has " + std::to_string(e.size()) + " values, expected 8");
      const size_t h = nchw ? 4 : 2, w = nchw ? 6 : 4;
      (*a)["pads"] = Attribute::of_ints({e[h], e[w], e[h + 1], e[w + 1]});
    } else {
      return err("padding '" + p + "' is not SAME, VALID or EXPLICIT");
    }
    return Status::OK();
  }
  bool nchw() const { return attr_s("data_format", "NHWC") == "NCHW"; }

  Status conv_like(bool depthwise, const std::vector<std::string>& fused, size_t nargs);
  Status lower_fused_tail(std::string v, const std::vector<std::string>& fused, size_t arg0, bool nchw_value,
                          bool bias_done);
  std::string batch_norm(const std::string& x, const std::string& scale, const std::string& offset,
                         const std::string& mean, const std::string& var, float eps, bool channels_first,
                         bool final_output);
  Status activation(const std::string& act, std::string v, size_t alpha_input, bool final_output,
                    std::string* out);
  Status strided_slice();

  const Flattener& fl_;
  const LowerRequest& req_;
  Graph g_;
  std::unordered_set<std::string> used_;
  std::unordered_set<std::string> input_nodes_;
  std::map<std::string, std::string> var_key_;  // variable node -> checkpoint key
  std::unordered_map<std::string, int64_t> rank_;  // known ranks of values
  // current node
  const FlatNode* cur_ = nullptr;
  std::vector<std::string> in_;
  std::string out_;
  std::string data_format_;
  bool main_named_ = false;
};

Status Lowerer::variable_keys() {
  for (const auto& n : fl_.nodes) {
    if ((n.op != "AssignVariableOp" && n.op != "Assign") || n.inputs.size() < 2) continue;
    const Ref var = resolve(n.inputs[0]);
    const Ref val = resolve(n.inputs[1]);
    const FlatNode* r = node(val.node);
    if (!r || (r->op != "RestoreV2" && r->op != "Restore" && r->op != "RestoreSlice") || r->inputs.size() < 2)
      continue;
    const FlatNode* names = node(resolve(r->inputs[1]).node);
    if (!names || names->op != "Const" || !names->attrs.count("value")) continue;
    const Tensor& t = names->attrs.at("value").t;
    if (t.dtype() != DType::kString || !t.strings()) continue;
    const auto& s = *t.strings();
    if (r->op == "RestoreV2" && val.idx < static_cast<int64_t>(s.size())) var_key_[var.node] = s[static_cast<size_t>(val.idx)];
    else if (r->op != "RestoreV2" && !s.empty()) var_key_[var.node] = s[0];
  }
  return Status::OK();
}

Status Lowerer::order(const std::vector<Ref>& outs, std::vector<const FlatNode*>* topo) {
  // Iterative DFS over resolved data inputs; 1 = on stack, 2 = done.
  std::unordered_map<std::string, int> state;
  for (const Ref& o0 : outs) {
    const Ref o = resolve(o0);
    if (!node(o.node)) return invalid_model(req_.path + ": output '" + vname(o0) + "' names no node");
    std::vector<std::pair<const FlatNode*, size_t>> stack;
    if (state[o.node] == 2) continue;
    stack.push_back({node(o.node), 0});
    state[o.node] = 1;
    while (!stack.empty()) {
      auto& [n, i] = stack.back();
      const bool leaf = input_nodes_.count(n->name) || n->op == "VarHandleOp" || n->op == "VariableV2" ||
                        n->op == "Variable" || n->op == "Const";
      if (leaf || i >= n->inputs.size()) {
        state[n->name] = 2;
        topo->push_back(n);
        stack.pop_back();
        continue;
      }
      const Ref r = resolve(n->inputs[i]);
      const size_t which = i++;
      const FlatNode* p = node(r.node);
      if (!p)
        return invalid_model(req_.path + ": node '" + n->name + "' (" + n->op + "): input " + std::to_string(which) +
                             " '" + n->raw_inputs[which] + "' names no node (dangling input)");
      int& s = state[p->name];
      if (s == 1) return invalid_model(req_.path + ": node '" + n->name + "' (" + n->op + "): the graph has a cycle through '" + p->name + "'");
      if (s == 2) continue;
      s = 1;
      stack.push_back({p, 0});
    }
  }
  return Status::OK();
}

Expected<Graph> Lowerer::run() {
  g_.info.format = req_.format;
  g_.info.opsets[""] = 18;
  g_.info.source_path = req_.path;
  for (const auto& n : fl_.nodes) used_.insert(n.name);

  // Inputs.
  std::vector<Ref> in_refs;
  for (const auto& s : req_.inputs) {
    CONVFIX_ASSIGN_OR_RETURN(Ref r, parse_ref(s));
    in_refs.push_back(r);
    input_nodes_.insert(r.node);
  }
  // Outputs.
  std::vector<Ref> outs;
  for (const auto& s : req_.outputs) {
    CONVFIX_ASSIGN_OR_RETURN(Ref r, parse_ref(s));
    outs.push_back(r);
  }
  if (outs.empty()) {
    std::unordered_set<std::string> consumed;
    for (const auto& n : fl_.nodes)
      for (const auto& r : n.inputs) consumed.insert(r.node);
    static const std::set<std::string> skip = {"Const", "NoOp", "Placeholder", "VarHandleOp", "VariableV2",
                                               "Assign", "AssignVariableOp", "SaveV2", "RestoreV2", "_InlinedCall"};
    // Unconsumed nodes that compute something (an Identity of a constant is not an output).
    auto candidate = [&](const FlatNode& n) {
      if (consumed.count(n.name) || skip.count(n.op)) return false;
      const FlatNode* r = node(resolve(Ref{n.name, 0}).node);
      return !r || !skip.count(r->op);
    };
    for (const auto& n : fl_.nodes)
      if (candidate(n) && !n.inlined) outs.push_back(Ref{n.name, 0});
    if (outs.empty())
      for (const auto& n : fl_.nodes)
        if (candidate(n)) outs.push_back(Ref{n.name, 0});
    if (outs.empty()) return invalid_model(req_.path + ": the graph has no output node");
  }
  CONVFIX_RETURN_IF_ERROR(variable_keys());
  std::vector<const FlatNode*> topo;
  CONVFIX_RETURN_IF_ERROR(order(outs, &topo));
  if (req_.inputs.empty())
    for (const FlatNode* n : topo)
      if (n->op == "Placeholder") in_refs.push_back(Ref{n->name, 0}), input_nodes_.insert(n->name);
  for (size_t i = 0; i < in_refs.size(); ++i) {
    const FlatNode* n = node(in_refs[i].node);
    if (!n) return invalid_model(req_.path + ": input '" + vname(in_refs[i]) + "' names no node");
    ValueInfo v;
    v.name = vname(in_refs[i]);
    auto dt = n->attrs.count("dtype") ? dtype_from_tf(n->attrs.at("dtype").i) : Expected<DType>(DType::kF32);
    if (!dt.ok()) return dt.status().with_context(req_.path + ": input '" + v.name + "'");
    v.dtype = dt.value();
    if (auto s = n->attrs.find("shape"); s != n->attrs.end() && !n->attrs.count("shape/unknown_rank")) {
      v.has_shape = true;
      for (int64_t d : s->second.ints) v.shape.push_back(d >= 0 ? Dim::of(d) : Dim{});
      rank_[v.name] = static_cast<int64_t>(v.shape.size());
    }
    if (i < req_.input_aliases.size()) v.doc = req_.input_aliases[i];
    g_.inputs.push_back(v);
  }
  for (const FlatNode* n : topo) {
    if (input_nodes_.count(n->name)) continue;
    CONVFIX_RETURN_IF_ERROR(lower(*n));
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    const Ref r = resolve(outs[i]);
    ValueInfo v;
    v.name = vname(r);
    if (vname(outs[i]) != v.name && !g_.is_initializer(v.name) && !input_nodes_.count(r.node)) {
      // Keep the requested output's name (e.g. a final Identity).
      const FlatNode* o = node(outs[i].node);
      Node n;
      n.name = outs[i].node;
      n.op_type = "Identity";
      n.inputs = {v.name};
      n.outputs = {vname(outs[i])};
      n.provenance = {req_.format, o ? o->op : "Identity", outs[i].node};
      g_.nodes.push_back(std::move(n));
      v.name = vname(outs[i]);
    }
    if (i < req_.output_aliases.size()) v.doc = req_.output_aliases[i];
    // Element type from the producing TF node (T / DstT / out_type / dtype).
    if (const FlatNode* pn = node(r.node)) {
      for (const char* k : {"T", "DstT", "out_type", "dtype"}) {
        auto a = pn->attrs.find(k);
        if (a == pn->attrs.end() || a->second.kind != Attribute::Kind::kInt) continue;
        if (auto dt = dtype_from_tf(a->second.i); dt.ok()) v.dtype = dt.value();
        break;
      }
    }
    g_.outputs.push_back(v);
  }
  if (!req_.input_aliases.empty() || !req_.output_aliases.empty()) {
    ModelInfo::Signature sig;
    sig.key = "serving_default";
    for (size_t i = 0; i < g_.inputs.size() && i < req_.input_aliases.size(); ++i)
      sig.inputs.push_back({req_.input_aliases[i], g_.inputs[i].name});
    for (size_t i = 0; i < g_.outputs.size() && i < req_.output_aliases.size(); ++i)
      sig.outputs.push_back({req_.output_aliases[i], g_.outputs[i].name});
    g_.info.signatures.push_back(sig);
  }
  auto st = g_.verify();
  if (!st.ok()) return st.with_context(req_.path);
  return std::move(g_);
}

std::string Lowerer::batch_norm(const std::string& x, const std::string& scale, const std::string& offset,
                                const std::string& mean, const std::string& var, float eps, bool channels_first,
                                bool final_output) {
  const std::string e = init_f32("epsilon", eps);
  const std::string ve = helper("Add", {var, e}, {}, "var_eps");
  const std::string sd = helper("Sqrt", {ve}, {}, "std");
  std::string inv = helper("Div", {scale, sd}, {}, "inv");
  const std::string mi = helper("Mul", {mean, inv}, {}, "mean_inv");
  std::string shift = helper("Sub", {offset, mi}, {}, "shift");
  if (channels_first) {
    const std::string ax = init_i64("axes", {1, 2});
    inv = helper("Unsqueeze", {inv, ax}, {}, "inv_c11");
    shift = helper("Unsqueeze", {shift, ax}, {}, "shift_c11");
  }
  const std::string y = main_named_ ? helper("Mul", {x, inv}, {}, "scale") : main("Mul", {x, inv}, {}, false);
  main_named_ = true;
  const std::string s = final_output ? out_ : fresh("bn");
  return emit("Add", {y, shift}, {}, fresh("add_shift"), s);
}

Status Lowerer::activation(const std::string& act, std::string v, size_t alpha_input, bool final_output,
                           std::string* out) {
  Attributes a;
  std::string op;
  std::vector<std::string> ins = {v};
  if (act == "Relu") op = "Relu";
  else if (act == "Relu6") {
    op = "Clip";
    ins.push_back(init_f32("min", 0.f));
    ins.push_back(init_f32("max", 6.f));
  } else if (act == "Elu") op = "Elu";
  else if (act == "Selu") op = "Selu";
  else if (act == "Sigmoid") op = "Sigmoid";
  else if (act == "Tanh") op = "Tanh";
  else if (act == "Softplus") op = "Softplus";
  else if (act == "LeakyRelu") {
    op = "LeakyRelu";
    a["alpha"] = Attribute::of_float(attr_f("leakyrelu_alpha", attr_f("alpha", 0.2f)));
  } else if (act == "Prelu") {
    op = "PRelu";
    if (alpha_input >= in_.size()) return err("Prelu needs an alpha argument");
    ins.push_back(in_[alpha_input]);
  } else {
    return unsupported("fused activation '" + act + "' is not supported");
  }
  const std::string o = final_output ? out_ : fresh(op == "Clip" ? "relu6" : act);
  *out = emit(op, ins, std::move(a), fresh(act), o);
  return Status::OK();
}

Status Lowerer::lower_fused_tail(std::string v, const std::vector<std::string>& fused, size_t arg0, bool nchw_value,
                                 bool bias_done) {
  // fused[0]: BiasAdd (already applied as Conv/Gemm bias when bias_done) or FusedBatchNorm;
  // fused[1]: optional activation.
  size_t next_arg = arg0;
  size_t i = 0;
  if (i < fused.size() && fused[i] == "BiasAdd") {
    if (!bias_done) {
      if (next_arg >= in_.size()) return err("BiasAdd needs a bias argument");
      std::string b = in_[next_arg];
      if (nchw_value) b = helper("Unsqueeze", {b, init_i64("axes", {1, 2})}, {}, "bias_c11");
      v = helper("Add", {v, b}, {}, "bias_add");
    }
    ++next_arg;
    ++i;
  } else if (i < fused.size() && (fused[i] == "FusedBatchNorm" || fused[i] == "FusedBatchNormV3")) {
    if (next_arg + 4 > in_.size()) return err("FusedBatchNorm needs 4 arguments");
    const bool last = i + 1 == fused.size();
    v = batch_norm(v, in_[next_arg], in_[next_arg + 1], in_[next_arg + 2], in_[next_arg + 3],
                   attr_f("epsilon", 1e-4f), nchw_value, last);
    next_arg += 4;
    ++i;
  } else if (i < fused.size() && fused[i] == "Add") {
    return unsupported("fused op 'Add' is not supported");
  }
  if (i < fused.size()) {
    std::string o;
    CONVFIX_RETURN_IF_ERROR(activation(fused[i], v, next_arg, true, &o));
    v = o;
    ++i;
  }
  if (i < fused.size()) return unsupported("fused ops list " + std::to_string(fused.size()) + " ops, convfix reads 2");
  finish(v);
  return Status::OK();
}

Status Lowerer::conv_like(bool depthwise, const std::vector<std::string>& fused, size_t nargs) {
  CONVFIX_RETURN_IF_ERROR(need_inputs(2 + nargs));
  const bool cf = nchw();
  Attributes a;
  std::vector<int64_t> st, dl;
  CONVFIX_RETURN_IF_ERROR(spatial("strides", cf, &st, 1));
  CONVFIX_RETURN_IF_ERROR(spatial("dilations", cf, &dl, 1));
  a["strides"] = Attribute::of_ints(st);
  a["dilations"] = Attribute::of_ints(dl);
  CONVFIX_RETURN_IF_ERROR(padding_attrs(cf, &a));
  std::string w;
  if (depthwise) {
    const Tensor* f = constant(in_[1]);
    if (!f || f->rank() != 4) return unsupported("the depthwise filter must be a constant of rank 4");
    const int64_t H = f->dim(0), W = f->dim(1), C = f->dim(2), M = f->dim(3);
    w = transpose(in_[1], {2, 3, 0, 1}, "filter_cmhw");
    w = helper("Reshape", {w, init_i64("filter_shape", {C * M, 1, H, W})}, {}, "filter_oihw");
    a["group"] = Attribute::of_int(C);
  } else {
    w = transpose(in_[1], {3, 2, 0, 1}, "filter_oihw");
  }
  std::string x = in_[0];
  if (!cf) x = transpose(x, {0, 3, 1, 2}, "to_nchw");
  std::vector<std::string> ins = {x, w};
  bool bias_done = false;
  if (!fused.empty() && fused[0] == "BiasAdd") {
    ins.push_back(in_[2]);
    bias_done = true;
  }
  std::string y = main("Conv", ins, std::move(a), false);
  main_named_ = true;
  // Activations other than Prelu are layout-free: apply before the transpose
  // back so the executor can fuse them into the convolution.
  std::vector<std::string> rest = fused;
  if (bias_done && rest.size() == 2 && rest[1] != "Prelu") {
    std::string o;
    CONVFIX_RETURN_IF_ERROR(activation(rest[1], y, 0, false, &o));
    y = o;
    rest.pop_back();
  }
  if (!cf) y = transpose(y, {0, 2, 3, 1}, "to_nhwc");
  return lower_fused_tail(y, rest, 2, cf, bias_done);
}

Status Lowerer::strided_slice() {
  CONVFIX_RETURN_IF_ERROR(need_inputs(4));
  CONVFIX_ASSIGN_OR_RETURN(auto b, const_ints(1, "begin"));
  CONVFIX_ASSIGN_OR_RETURN(auto e, const_ints(2, "end"));
  CONVFIX_ASSIGN_OR_RETURN(auto s, const_ints(3, "strides"));
  if (b.size() != e.size() || b.size() != s.size()) return err("begin, end and strides differ in length");
  const int64_t bm = attr_i("begin_mask", 0), em = attr_i("end_mask", 0), elm = attr_i("ellipsis_mask", 0),
                nam = attr_i("new_axis_mask", 0), sam = attr_i("shrink_axis_mask", 0);
  const int64_t n = static_cast<int64_t>(b.size());
  // Entries before the ellipsis count dims from the start, entries after it
  // from the end (negative axes), so the input's rank is never needed.
  int64_t ell = -1;
  for (int64_t i = 0; i < n; ++i)
    if (elm & (1LL << i)) {
      if (ell >= 0) return err("more than one ellipsis");
      ell = i;
    }
  std::vector<int64_t> axes, starts, ends, steps, squeeze, unsq;
  auto entry = [&](int64_t i, int64_t& in_dim, int64_t& out_dim, int64_t dir) -> Status {
    const int64_t bit = 1LL << i;
    if (nam & bit) {
      unsq.push_back(out_dim);
      out_dim += dir;
      return Status::OK();
    }
    const int64_t st = s[static_cast<size_t>(i)];
    if (st == 0) return err("stride 0");
    if (sam & bit) {
      const int64_t bb = b[static_cast<size_t>(i)];
      axes.push_back(in_dim);
      starts.push_back(bb);
      ends.push_back(bb == -1 ? INT64_MAX : bb + 1);
      steps.push_back(1);
      squeeze.push_back(in_dim);
      in_dim += dir;
      return Status::OK();
    }
    const int64_t bb = (bm & bit) ? (st > 0 ? 0 : INT64_MAX) : b[static_cast<size_t>(i)];
    const int64_t ee = (em & bit) ? (st > 0 ? INT64_MAX : INT64_MIN) : e[static_cast<size_t>(i)];
    if (!((bm & bit) && (em & bit) && st == 1)) {
      axes.push_back(in_dim);
      starts.push_back(bb);
      ends.push_back(ee);
      steps.push_back(st);
    }
    in_dim += dir;
    out_dim += dir;
    return Status::OK();
  };
  int64_t in_dim = 0, out_dim = 0;
  for (int64_t i = 0; i < (ell >= 0 ? ell : n); ++i) CONVFIX_RETURN_IF_ERROR(entry(i, in_dim, out_dim, 1));
  if (ell >= 0) {
    in_dim = -1;
    out_dim = -1;
    for (int64_t i = n - 1; i > ell; --i) CONVFIX_RETURN_IF_ERROR(entry(i, in_dim, out_dim, -1));
  }
  std::string v = in_[0];
  const bool more = !squeeze.empty() || !unsq.empty();
  if (!axes.empty()) {
    v = main("Slice", {v, init_i64("starts", starts), init_i64("ends", ends), init_i64("axes", axes),
                       init_i64("steps", steps)}, {}, !more);
    main_named_ = true;
  }
  if (!squeeze.empty()) v = helper("Squeeze", {v, init_i64("squeeze_axes", squeeze)}, {}, "squeeze");
  if (!unsq.empty()) v = helper("Unsqueeze", {v, init_i64("new_axes", unsq)}, {}, "new_axis");
  finish(v);
  return Status::OK();
}

Status Lowerer::lower(const FlatNode& n) {
  cur_ = &n;
  main_named_ = false;
  data_format_.clear();
  in_.clear();
  for (const Ref& r : n.inputs) {
    const Ref rr = resolve(r);
    in_.push_back(vname(rr));
  }
  out_ = vname(Ref{n.name, 0});
  const std::string& op = n.op;
  static const std::map<std::string, std::string> binary = {
      {"Add", "Add"}, {"AddV2", "Add"}, {"Sub", "Sub"}, {"Mul", "Mul"}, {"RealDiv", "Div"}, {"Div", "Div"},
      {"Maximum", "Max"}, {"Minimum", "Min"}, {"Pow", "Pow"}, {"Equal", "Equal"}, {"Greater", "Greater"},
      {"GreaterEqual", "GreaterOrEqual"}, {"Less", "Less"}, {"LessEqual", "LessOrEqual"},
      {"LogicalAnd", "And"}, {"LogicalOr", "Or"}};
  static const std::map<std::string, std::string> unary = {
      {"Relu", "Relu"}, {"Elu", "Elu"}, {"Selu", "Selu"}, {"Sigmoid", "Sigmoid"}, {"Tanh", "Tanh"},
      {"Softplus", "Softplus"}, {"Sqrt", "Sqrt"}, {"Exp", "Exp"}, {"Log", "Log"}, {"Neg", "Neg"},
      {"Abs", "Abs"}, {"Floor", "Floor"}, {"Ceil", "Ceil"}, {"Reciprocal", "Reciprocal"}, {"Inv", "Reciprocal"},
      {"Erf", "Erf"}, {"Sin", "Sin"}, {"Cos", "Cos"}, {"LogicalNot", "Not"}, {"Sign", "Sign"},
      {"Round", "Round"}, {"Softsign", "Softsign"}};

  if (op == "Const") {
    auto w = req_.weights.find(n.name);
    if (w != req_.weights.end()) {
      g_.initializers[n.name] = w->second;
    } else {
      auto v = n.attrs.find("value");
      if (v == n.attrs.end() || v->second.kind != Attribute::Kind::kTensor) return err("has no value");
      g_.initializers[n.name] = v->second.t;
    }
    rank_[n.name] = g_.initializers[n.name].rank();
    return Status::OK();
  }
  if (op == "VarHandleOp" || op == "VariableV2" || op == "Variable") {
    auto k = var_key_.find(n.name);
    std::string key = k != var_key_.end() ? k->second : n.name;
    auto t = req_.checkpoint.find(key);
    if (t == req_.checkpoint.end() && k == var_key_.end()) {
      const std::string sn = attr_s("shared_name", "");
      if (!sn.empty()) t = req_.checkpoint.find(sn);
    }
    if (t == req_.checkpoint.end())
      return err("variable '" + key + "' is not in the checkpoint (variables.index)");
    g_.initializers[n.name] = t->second;
    rank_[n.name] = t->second.rank();
    return Status::OK();
  }
  if (op == "Placeholder") return err("placeholder is not among the graph inputs");
  if (is_passthrough(op)) {  // kept only when resolve() could not pass through (e.g. output index > 0)
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    main("Identity", {in_[0]}, {}, true);
    return Status::OK();
  }
  if (auto it = binary.find(op); it != binary.end()) {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    main(it->second, {in_[0], in_[1]}, {}, true);
    return Status::OK();
  }
  if (auto it = unary.find(op); it != unary.end()) {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    main(it->second, {in_[0]}, {}, true);
    return Status::OK();
  }
  if (op == "Relu6" || op == "LeakyRelu") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    Attributes a;
    if (op == "LeakyRelu") {
      a["alpha"] = Attribute::of_float(attr_f("alpha", 0.2f));
      main("LeakyRelu", {in_[0]}, std::move(a), true);
    } else {
      main("Clip", {in_[0], init_f32("min", 0.f), init_f32("max", 6.f)}, {}, true);
    }
    return Status::OK();
  }
  if (op == "Prelu") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    main("PRelu", {in_[0], in_[1]}, {}, true);
    return Status::OK();
  }
  if (op == "AddN") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    main("Sum", in_, {}, true);
    return Status::OK();
  }
  if (op == "Rsqrt") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    const std::string s = helper("Sqrt", {in_[0]}, {}, "sqrt");
    main("Reciprocal", {s}, {}, true);
    return Status::OK();
  }
  if (op == "Square") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    main("Mul", {in_[0], in_[0]}, {}, true);
    return Status::OK();
  }
  if (op == "SquaredDifference") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    const std::string d = helper("Sub", {in_[0], in_[1]}, {}, "diff");
    main("Mul", {d, d}, {}, true);
    return Status::OK();
  }
  if (op == "Conv2D" || op == "DepthwiseConv2dNative") {
    data_format_ = attr_s("data_format", "NHWC");
    return conv_like(op != "Conv2D", {}, 0);
  }
  if (op == "_FusedConv2D" || op == "FusedDepthwiseConv2dNative") {
    data_format_ = attr_s("data_format", "NHWC");
    const int64_t na = attr_i("num_args", static_cast<int64_t>(in_.size()) - 2);
    return conv_like(op != "_FusedConv2D", attr_ss("fused_ops"), static_cast<size_t>(std::max<int64_t>(na, 0)));
  }
  if (op == "Conv2DBackpropInput") {
    data_format_ = attr_s("data_format", "NHWC");
    CONVFIX_RETURN_IF_ERROR(need_inputs(3));
    const bool cf = nchw();
    CONVFIX_ASSIGN_OR_RETURN(auto sizes, const_ints(0, "input_sizes"));
    const Tensor* f = constant(in_[1]);
    if (!f || f->rank() != 4) return unsupported("the filter must be a constant of rank 4");
    if (sizes.size() != 4) return err("input_sizes must have 4 values");
    std::vector<int64_t> st, dl;
    CONVFIX_RETURN_IF_ERROR(spatial("strides", cf, &st, 1));
    CONVFIX_RETURN_IF_ERROR(spatial("dilations", cf, &dl, 1));
    const std::string pad = attr_s("padding", "VALID");
    std::vector<int64_t> pads(4, 0), opad(2, 0);
    for (int d = 0; d < 2; ++d) {
      const int64_t in = cf ? sizes[2 + d] : sizes[1 + d];
      const int64_t k = (f->dim(d) - 1) * dl[d] + 1, s = st[d];
      int64_t out = 0, total = 0;
      if (pad == "SAME") {
        out = (in + s - 1) / s;
        total = std::max<int64_t>((out - 1) * s + k - in, 0);
      } else if (pad == "VALID") {
        out = (in - k + s) / s;
      } else {
        return unsupported("padding '" + pad + "'");
      }
      pads[d] = total / 2;
      pads[d + 2] = total - total / 2;
      opad[d] = in - ((out - 1) * s + k - total);
      if (opad[d] < 0) return err("input_sizes do not fit the filter and strides");
    }
    Attributes a;
    a["strides"] = Attribute::of_ints(st);
    a["dilations"] = Attribute::of_ints(dl);
    a["pads"] = Attribute::of_ints(pads);
    a["output_padding"] = Attribute::of_ints(opad);
    const std::string w = transpose(in_[1], {3, 2, 0, 1}, "filter_iohw");
    std::string x = in_[2];
    if (!cf) x = transpose(x, {0, 3, 1, 2}, "to_nchw");
    std::string y = main("ConvTranspose", {x, w}, std::move(a), cf);
    main_named_ = true;
    if (!cf) finish(transpose(y, {0, 2, 3, 1}, "to_nhwc"));
    return Status::OK();
  }
  if (op == "BiasAdd" || op == "BiasAddV1") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    data_format_ = attr_s("data_format", "NHWC");
    std::string b = in_[1];
    if (nchw()) b = helper("Unsqueeze", {b, init_i64("axes", {1, 2})}, {}, "bias_c11");
    main("Add", {in_[0], b}, {}, true);
    return Status::OK();
  }
  if (op == "FusedBatchNorm" || op == "FusedBatchNormV2" || op == "FusedBatchNormV3") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(5));
    data_format_ = attr_s("data_format", "NHWC");
    if (attr_i("is_training", 0) != 0) {
      // Frozen TF1 graphs sometimes keep is_training=true with batch statistics.
      return unsupported("is_training=true (batch statistics) is not supported");
    }
    batch_norm(in_[0], in_[1], in_[2], in_[3], in_[4], attr_f("epsilon", 1e-4f), nchw(), true);
    return Status::OK();
  }
  if (op == "MatMul" || op == "_FusedMatMul") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    Attributes a;
    a["transA"] = Attribute::of_int(attr_i("transpose_a", 0));
    a["transB"] = Attribute::of_int(attr_i("transpose_b", 0));
    std::vector<std::string> ins = {in_[0], in_[1]};
    const auto fused = attr_ss("fused_ops");
    const bool bias = !fused.empty() && fused[0] == "BiasAdd";
    if (bias) {
      CONVFIX_RETURN_IF_ERROR(need_inputs(3));
      ins.push_back(in_[2]);
    }
    std::string y = main("Gemm", ins, std::move(a), fused.empty() || (bias && fused.size() == 1));
    main_named_ = true;
    if (fused.empty()) return Status::OK();
    return lower_fused_tail(y, fused, 2, false, bias);
  }
  if (op == "BatchMatMul" || op == "BatchMatMulV2" || op == "BatchMatMulV3") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    std::string x = in_[0], y = in_[1];
    for (int k = 0; k < 2; ++k) {
      if (attr_i(k == 0 ? "adj_x" : "adj_y", 0) == 0) continue;
      std::string& v = k == 0 ? x : y;
      auto rk = rank_.find(v);
      if (rk == rank_.end()) return unsupported("adj_x/adj_y on an input of unknown rank");
      std::vector<int64_t> perm;
      for (int64_t d = 0; d < rk->second; ++d) perm.push_back(d);
      std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
      v = transpose(v, perm, k == 0 ? "adj_x" : "adj_y");
    }
    main("MatMul", {x, y}, {}, true);
    return Status::OK();
  }
  if (op == "AvgPool" || op == "MaxPool") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    data_format_ = attr_s("data_format", "NHWC");
    const bool cf = nchw();
    Attributes a;
    std::vector<int64_t> k, st;
    CONVFIX_RETURN_IF_ERROR(spatial("ksize", cf, &k, 1));
    CONVFIX_RETURN_IF_ERROR(spatial("strides", cf, &st, 1));
    a["kernel_shape"] = Attribute::of_ints(k);
    a["strides"] = Attribute::of_ints(st);
    CONVFIX_RETURN_IF_ERROR(padding_attrs(cf, &a));
    std::string x = in_[0];
    if (!cf) x = transpose(x, {0, 3, 1, 2}, "to_nchw");
    std::string y = main(op == "AvgPool" ? "AveragePool" : "MaxPool", {x}, std::move(a), cf);
    main_named_ = true;
    if (!cf) finish(transpose(y, {0, 2, 3, 1}, "to_nhwc"));
    return Status::OK();
  }
  if (op == "Mean" || op == "Sum" || op == "Max" || op == "Min" || op == "Prod") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    Attributes a;
    a["keepdims"] = Attribute::of_int(attr_i("keep_dims", 0));
    a["noop_with_empty_axes"] = Attribute::of_int(1);
    const std::string onnx = op == "Mean" ? "ReduceMean" : op == "Sum" ? "ReduceSum" : op == "Max" ? "ReduceMax"
                             : op == "Min" ? "ReduceMin" : "ReduceProd";
    main(onnx, {in_[0], as_i64(1, "axes")}, std::move(a), true);
    return Status::OK();
  }
  if (op == "Pad" || op == "PadV2" || op == "MirrorPad") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    CONVFIX_ASSIGN_OR_RETURN(auto p, const_ints(1, "paddings"));
    if (p.size() % 2) return err("paddings must have shape [rank, 2]");
    const size_t r = p.size() / 2;
    std::vector<int64_t> pads(p.size());
    for (size_t d = 0; d < r; ++d) pads[d] = p[2 * d], pads[r + d] = p[2 * d + 1];
    Attributes a;
    std::vector<std::string> ins = {in_[0], init_i64("pads", pads)};
    if (op == "MirrorPad") {
      const std::string mode = attr_s("mode", "REFLECT");
      if (mode != "REFLECT") return unsupported("MirrorPad mode '" + mode + "' (only REFLECT maps onto ONNX Pad)");
      a["mode"] = Attribute::of_string("reflect");
    } else if (op == "PadV2") {
      CONVFIX_RETURN_IF_ERROR(need_inputs(3));
      ins.push_back(in_[2]);
    }
    main("Pad", ins, std::move(a), true);
    return Status::OK();
  }
  if (op == "ConcatV2" || op == "Concat") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    const size_t ai = op == "ConcatV2" ? in_.size() - 1 : 0;
    CONVFIX_ASSIGN_OR_RETURN(auto ax, const_ints(ai, "axis"));
    if (ax.size() != 1) return err("axis must be a scalar");
    std::vector<std::string> ins;
    for (size_t i = 0; i < in_.size(); ++i)
      if (i != ai) ins.push_back(in_[i]);
    Attributes a;
    a["axis"] = Attribute::of_int(ax[0]);
    main("Concat", ins, std::move(a), true);
    return Status::OK();
  }
  if (op == "Reshape") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    main("Reshape", {in_[0], as_i64(1, "shape")}, {}, true);
    return Status::OK();
  }
  if (op == "Squeeze") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    auto ax = attr_is("squeeze_dims");
    if (ax.empty()) ax = attr_is("axis");
    std::vector<std::string> ins = {in_[0]};
    if (!ax.empty()) ins.push_back(init_i64("axes", ax));
    main("Squeeze", ins, {}, true);
    return Status::OK();
  }
  if (op == "ExpandDims") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    main("Unsqueeze", {in_[0], as_i64(1, "axes")}, {}, true);
    return Status::OK();
  }
  if (op == "Transpose") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    CONVFIX_ASSIGN_OR_RETURN(auto perm, const_ints(1, "perm"));
    Attributes a;
    a["perm"] = Attribute::of_ints(perm);
    main("Transpose", {in_[0]}, std::move(a), true);
    return Status::OK();
  }
  if (op == "Softmax" || op == "LogSoftmax") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    Attributes a;
    a["axis"] = Attribute::of_int(-1);
    main(op, {in_[0]}, std::move(a), true);
    return Status::OK();
  }
  if (op == "StridedSlice") return strided_slice();
  if (op == "Slice") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(3));
    CONVFIX_ASSIGN_OR_RETURN(auto b, const_ints(1, "begin"));
    CONVFIX_ASSIGN_OR_RETURN(auto sz, const_ints(2, "size"));
    if (b.size() != sz.size()) return err("begin and size differ in length");
    std::vector<int64_t> e(b.size()), ax(b.size());
    for (size_t i = 0; i < b.size(); ++i) {
      e[i] = sz[i] < 0 ? INT64_MAX : b[i] + sz[i];
      ax[i] = static_cast<int64_t>(i);
    }
    main("Slice", {in_[0], init_i64("starts", b), init_i64("ends", e), init_i64("axes", ax)}, {}, true);
    return Status::OK();
  }
  if (op == "Shape") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    const int64_t ot = attr_i("out_type", 3);
    std::string s = main("Shape", {in_[0]}, {}, ot == 9);
    main_named_ = true;
    if (ot != 9) {
      CONVFIX_ASSIGN_OR_RETURN(DType dt, dtype_from_tf(ot));
      Attributes a;
      a["to"] = Attribute::of_int(onnxfmt::dtype_to_onnx(dt));
      emit("Cast", {s}, std::move(a), fresh("cast"), out_);
    }
    return Status::OK();
  }
  if (op == "Pack") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    const std::string ax = init_i64("axes", {attr_i("axis", 0)});
    std::vector<std::string> parts;
    for (size_t i = 0; i < in_.size(); ++i) parts.push_back(helper("Unsqueeze", {in_[i], ax}, {}, "expand_" + std::to_string(i)));
    Attributes a;
    a["axis"] = Attribute::of_int(attr_i("axis", 0));
    main("Concat", parts, std::move(a), true);
    return Status::OK();
  }
  if (op == "Fill") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    main("Expand", {in_[1], as_i64(0, "dims")}, {}, true);
    return Status::OK();
  }
  if (op == "Tile") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    main("Tile", {in_[0], as_i64(1, "multiples")}, {}, true);
    return Status::OK();
  }
  if (op == "ResizeBilinear" || op == "ResizeNearestNeighbor") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(2));
    data_format_ = "NHWC";
    const bool ac = attr_i("align_corners", 0) != 0, hp = attr_i("half_pixel_centers", 0) != 0;
    if (ac && hp) return err("align_corners and half_pixel_centers are both set");
    Attributes a;
    a["axes"] = Attribute::of_ints({1, 2});
    if (op == "ResizeBilinear") {
      a["mode"] = Attribute::of_string("linear");
      a["coordinate_transformation_mode"] = Attribute::of_string(ac ? "align_corners" : hp ? "half_pixel" : "asymmetric");
    } else {
      a["mode"] = Attribute::of_string("nearest");
      a["coordinate_transformation_mode"] =
          Attribute::of_string(ac ? "align_corners" : hp ? "tf_half_pixel_for_nn" : "asymmetric");
      a["nearest_mode"] = Attribute::of_string(ac ? "round_prefer_ceil" : "floor");
    }
    main("Resize", {in_[0], "", "", as_i64(1, "sizes")}, std::move(a), true);
    return Status::OK();
  }
  if (op == "Cast") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    CONVFIX_ASSIGN_OR_RETURN(DType dt, dtype_from_tf(attr_i("DstT", 1)));
    Attributes a;
    a["to"] = Attribute::of_int(onnxfmt::dtype_to_onnx(dt));
    main("Cast", {in_[0]}, std::move(a), true);
    return Status::OK();
  }
  if (op == "SpaceToDepth" || op == "DepthToSpace") {
    CONVFIX_RETURN_IF_ERROR(need_inputs(1));
    data_format_ = attr_s("data_format", "NHWC");
    Attributes a;
    a["blocksize"] = Attribute::of_int(attr_i("block_size", 2));
    if (op == "DepthToSpace") a["mode"] = Attribute::of_string("DCR");
    if (nchw()) return unsupported("data_format NCHW");
    std::string x = transpose(in_[0], {0, 3, 1, 2}, "to_nchw");
    std::string y = main(op, {x}, std::move(a), false);
    main_named_ = true;
    finish(transpose(y, {0, 2, 3, 1}, "to_nhwc"));
    return Status::OK();
  }
  if (op == "SpaceToBatchND" || op == "BatchToSpaceND") {
    // NHWC with a 2-D block: reshape / transpose / reshape with shapes built
    // at run time from Shape (the batch and spatial sizes may be unknown).
    CONVFIX_RETURN_IF_ERROR(need_inputs(3));
    CONVFIX_ASSIGN_OR_RETURN(auto blk, const_ints(1, "block_shape"));
    CONVFIX_ASSIGN_OR_RETURN(auto pc, const_ints(2, op == "SpaceToBatchND" ? "paddings" : "crops"));
    if (blk.size() != 2 || pc.size() != 4)
      return unsupported("only 2-D blocks over the H and W of an NHWC tensor are supported");
    const int64_t b1 = blk[0], b2 = blk[1];
    if (b1 < 1 || b2 < 1) return err("block sizes must be positive");
    auto dim = [&](const std::string& shape, int64_t d, const std::string& what) {
      return helper("Slice", {shape, init_i64("start", {d}), init_i64("end", {d + 1})}, {}, what);
    };
    if (op == "SpaceToBatchND") {
      const std::string p = helper("Pad", {in_[0], init_i64("pads", {0, pc[0], pc[2], 0, 0, pc[1], pc[3], 0})}, {}, "pad");
      const std::string sh = helper("Shape", {p}, {}, "shape");
      const std::string n = dim(sh, 0, "n"), c = dim(sh, 3, "c");
      const std::string h = helper("Div", {dim(sh, 1, "hp"), init_i64("b1", {b1})}, {}, "h");
      const std::string w = helper("Div", {dim(sh, 2, "wp"), init_i64("b2", {b2})}, {}, "w");
      Attributes cat;
      cat["axis"] = Attribute::of_int(0);
      const std::string s1 = helper("Concat", {n, h, init_i64("b1_dim", {b1}), w, init_i64("b2_dim", {b2}), c}, cat, "shape6");
      const std::string r = helper("Reshape", {p, s1}, {}, "blocks");
      Attributes tp;
      tp["perm"] = Attribute::of_ints({2, 4, 0, 1, 3, 5});
      const std::string t = main("Transpose", {r}, std::move(tp), false);
      main_named_ = true;
      const std::string nb = helper("Mul", {n, init_i64("bb", {b1 * b2})}, {}, "nb");
      const std::string s2 = helper("Concat", {nb, h, w, c}, cat, "shape4");
      finish(helper("Reshape", {t, s2}, {}, "out"));
    } else {
      const std::string sh = helper("Shape", {in_[0]}, {}, "shape");
      const std::string h = dim(sh, 1, "h"), w = dim(sh, 2, "w"), c = dim(sh, 3, "c");
      const std::string n = helper("Div", {dim(sh, 0, "b"), init_i64("bb", {b1 * b2})}, {}, "n");
      Attributes cat;
      cat["axis"] = Attribute::of_int(0);
      const std::string s1 = helper("Concat", {init_i64("b1_dim", {b1}), init_i64("b2_dim", {b2}), n, h, w, c}, cat, "shape6");
      const std::string r = helper("Reshape", {in_[0], s1}, {}, "blocks");
      Attributes tp;
      tp["perm"] = Attribute::of_ints({2, 3, 0, 4, 1, 5});
      const std::string t = main("Transpose", {r}, std::move(tp), false);
      main_named_ = true;
      const std::string hb = helper("Mul", {h, init_i64("b1", {b1})}, {}, "hb");
      const std::string wb = helper("Mul", {w, init_i64("b2", {b2})}, {}, "wb");
      const std::string s2 = helper("Concat", {n, hb, wb, c}, cat, "shape4");
      std::string v = helper("Reshape", {t, s2}, {}, "space");
      if (pc[0] || pc[1] || pc[2] || pc[3]) {
        const std::vector<int64_t> ends = {pc[1] ? -pc[1] : INT64_MAX, pc[3] ? -pc[3] : INT64_MAX};
        v = helper("Slice", {v, init_i64("crop_starts", {pc[0], pc[2]}), init_i64("crop_ends", ends),
                             init_i64("crop_axes", {1, 2})}, {}, "crop");
      }
      finish(v);
    }
    return Status::OK();
  }
  if (op == "_InlinedCall") return err("a function call's outputs are used by index beyond its results");
  return unsupported("op '" + op + "' is not supported");
}

}  // namespace

Expected<Graph> lower_graph(const GraphDef& gd, const LowerRequest& req) {
  Flattener fl(gd, req.path);
  auto st = fl.run();
  if (!st.ok()) return st.with_context(req.path);
  fl.shorten_names();
  Lowerer lw(fl, req);
  return lw.run();
}

}  // namespace convfix::tf
