// TorchScript importer, plugin side: loads the module with libtorch, inlines
// forward(), resolves module attributes into named initializers and walks
// the graph, handing each ATen op to its handler (torchscript_ops.cpp).
#include "formats/torchscript/torchscript_importer.h"

#include <torch/csrc/jit/passes/inliner.h>
#include <torch/version.h>

#include <algorithm>
#include <cstring>
#include <exception>

#include "formats/torchscript/torchscript_plugin.h"

namespace convfix::tsfmt {

namespace {

std::string first_line(const std::string& s) {
  std::string r = s.substr(0, s.find('\n'));
  while (!r.empty() && (r.back() == ' ' || r.back() == '\r')) r.pop_back();
  return r.size() > 400 ? r.substr(0, 400) + "..." : r;
}

// "x.1" -> "x": TorchScript's unique suffixes are noise in reports.
std::string strip_suffix(const std::string& s) {
  const auto dot = s.rfind('.');
  if (dot == std::string::npos || dot + 1 == s.size()) return s;
  for (size_t i = dot + 1; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return s;
  return s.substr(0, dot);
}

std::string short_kind(const tj::Node* n) {
  std::string k = n->kind().toUnqualString();
  while (!k.empty() && k.back() == '_') k.pop_back();
  while (!k.empty() && k.front() == '_') k.erase(k.begin());
  return k;
}

// The rank a convolution reached from `v` through rank-preserving ops gives
// `v` (its weight's rank), or 0. module: the object forward() runs on.
int conv_rank_after(const tj::Value* v, const c10::IValue& module) {
  // The rank of a weight read with prim::GetAttr chains from self, or 0.
  auto param_rank = [&](const tj::Value* w) {
    std::vector<std::string> names;
    while (w->node()->kind() == c10::prim::GetAttr) {
      names.push_back(w->node()->s(c10::Symbol::attr("name")));
      w = w->node()->input(0);
    }
    if (w->node()->kind() != c10::prim::Param) return 0;
    c10::IValue obj = module;
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
      if (!obj.isObject() || !obj.toObject()->type()->hasAttribute(*it)) return 0;
      obj = obj.toObject()->getAttr(*it);
    }
    return obj.isTensor() ? static_cast<int>(obj.toTensor().dim()) : 0;
  };
  static const std::unordered_set<std::string> kThrough = {
      "aten::add", "aten::sub", "aten::mul", "aten::div", "aten::add_", "aten::sub_", "aten::mul_", "aten::div_",
      "aten::relu", "aten::relu_", "aten::sigmoid", "aten::tanh", "aten::hardtanh", "aten::hardtanh_", "aten::clamp",
      "aten::batch_norm", "aten::contiguous", "aten::clone", "aten::detach", "aten::dropout", "aten::neg",
      "aten::leaky_relu", "aten::elu", "aten::gelu", "aten::silu", "aten::hardswish", "aten::prelu",
      "aten::pad", "aten::constant_pad_nd", "aten::reflection_pad2d", "aten::replication_pad2d",
      "aten::max_pool2d", "aten::avg_pool2d", "aten::upsample_nearest2d", "aten::upsample_bilinear2d"};
  std::vector<const tj::Value*> todo{v};
  std::unordered_set<const tj::Value*> seen{v};
  while (!todo.empty()) {
    const tj::Value* cur = todo.back();
    todo.pop_back();
    for (const tj::Use& u : cur->uses()) {
      const std::string k = u.user->kind().toQualString();
      if (u.offset == 0 && (k == "aten::_convolution" || k == "aten::conv2d" || k == "aten::conv1d" ||
                            k == "aten::conv3d" || k == "aten::_convolution_mode") && u.user->inputs().size() > 1) {
        if (int r = param_rank(u.user->input(1)); r >= 3) return r;
        return k == "aten::conv1d" ? 3 : k == "aten::conv3d" ? 5 : 4;
      }
      if (kThrough.count(k) && u.user->outputs().size() == 1 && seen.insert(u.user->output()).second)
        todo.push_back(u.user->output());
    }
  }
  return 0;
}

}  // namespace

DType dtype_from_torch(c10::ScalarType t, bool* ok) {
  *ok = true;
  switch (t) {
    case c10::ScalarType::Float: return DType::kF32;
    case c10::ScalarType::Double: return DType::kF64;
    case c10::ScalarType::Half: return DType::kF16;
    case c10::ScalarType::BFloat16: return DType::kBF16;
    case c10::ScalarType::Char: return DType::kI8;
    case c10::ScalarType::Byte: return DType::kU8;
    case c10::ScalarType::Short: return DType::kI16;
    case c10::ScalarType::Int: return DType::kI32;
    case c10::ScalarType::Long: return DType::kI64;
    case c10::ScalarType::Bool: return DType::kBool;
    default: *ok = false; return DType::kUndefined;
  }
}

const Val& Importer::val(const tj::Value* v) const {
  static const Val kUnset;
  auto it = vals_.find(v);
  return it == vals_.end() ? kUnset : it->second;
}

Status Importer::err(const tj::Node* n, const std::string& msg) const {
  const std::string where = scope_of(n);
  return invalid_model(file_ + ": node '" + (where.empty() ? short_kind(n) : where) + "' (" +
                       n->kind().toQualString() + "): " + msg);
}
Status Importer::unsupported(const tj::Node* n, const std::string& msg) const {
  const std::string where = scope_of(n);
  return not_implemented(file_ + ": node '" + (where.empty() ? short_kind(n) : where) + "' (" +
                         n->kind().toQualString() + "): " + msg);
}

// Module path of the call stack that inlining recorded: the instance names
// of the submodules the op ran in ("features.3.conv.0").
std::string Importer::scope_of(const tj::Node* n) const {
  std::string path;
  auto cs = n->callstack();
  if (!cs) return path;
  for (const auto& e : (*cs)->vec()) {
    const auto& mi = std::get<2>(e);
    if (!mi) continue;
    std::string nm = mi->instance_name();
    // Scripted modules name the callee "SELF.<attr>" (or "SELF").
    if (nm.rfind("SELF.", 0) == 0) nm = nm.substr(5);
    if (nm.empty() || nm == "self" || nm == "SELF") continue;
    nm = strip_suffix(nm);
    if (!nm.empty() && nm[0] == '_' && nm.size() > 1 && std::isdigit(static_cast<unsigned char>(nm[1])))
      nm = nm.substr(1);  // "_0" (Sequential child 0) -> "0"
    path += (path.empty() ? "" : ".") + nm;
  }
  return path;
}

bool Importer::is_none(const tj::Node* n, size_t i) const {
  if (i >= n->inputs().size()) return true;
  const Val& v = val(n->input(i));
  return v.kind == Val::Kind::kConst && v.iv.isNone();
}
bool Importer::is_const(const tj::Node* n, size_t i) const {
  return i < n->inputs().size() && val(n->input(i)).kind == Val::Kind::kConst;
}

Expected<int64_t> Importer::cint(const tj::Node* n, size_t i) const {
  if (i >= n->inputs().size()) return err(n, "input " + std::to_string(i) + " is missing");
  const Val& v = val(n->input(i));
  if (v.kind == Val::Kind::kConst && v.iv.isInt()) return v.iv.toInt();
  if (v.kind == Val::Kind::kConst && v.iv.isBool()) return static_cast<int64_t>(v.iv.toBool());
  return unsupported(n, "input " + std::to_string(i) + " must be a constant int (it depends on the input shape or data)");
}
Expected<double> Importer::cdouble(const tj::Node* n, size_t i) const {
  if (i >= n->inputs().size()) return err(n, "input " + std::to_string(i) + " is missing");
  const Val& v = val(n->input(i));
  if (v.kind == Val::Kind::kConst && v.iv.isDouble()) return v.iv.toDouble();
  if (v.kind == Val::Kind::kConst && v.iv.isInt()) return static_cast<double>(v.iv.toInt());
  if (v.kind == Val::Kind::kConst && v.iv.isBool()) return v.iv.toBool() ? 1.0 : 0.0;
  return unsupported(n, "input " + std::to_string(i) + " must be a constant number");
}
Expected<bool> Importer::cbool(const tj::Node* n, size_t i) const {
  if (i >= n->inputs().size()) return err(n, "input " + std::to_string(i) + " is missing");
  const Val& v = val(n->input(i));
  if (v.kind == Val::Kind::kConst && v.iv.isBool()) return v.iv.toBool();
  if (v.kind == Val::Kind::kConst && v.iv.isInt()) return v.iv.toInt() != 0;
  return unsupported(n, "input " + std::to_string(i) + " must be a constant bool");
}
Expected<std::vector<int64_t>> Importer::cints(const tj::Node* n, size_t i, size_t repeat) const {
  if (i >= n->inputs().size()) return err(n, "input " + std::to_string(i) + " is missing");
  const Val& v = val(n->input(i));
  std::vector<int64_t> r;
  if (v.kind == Val::Kind::kConst) {
    if (v.iv.isIntList()) return v.iv.toIntVector();
    if (v.iv.isInt() && repeat > 0) return std::vector<int64_t>(repeat, v.iv.toInt());
    if (v.iv.isList()) {
      for (const auto& e : v.iv.toListRef()) {
        if (!e.isInt()) return unsupported(n, "input " + std::to_string(i) + " must be a list of constant ints");
        r.push_back(e.toInt());
      }
      return r;
    }
  }
  if (v.kind == Val::Kind::kList) {
    for (const auto& e : v.elems) {
      if (e.kind != Val::Kind::kConst || !(e.iv.isInt() || e.iv.isBool()))
        return unsupported(n, "input " + std::to_string(i) +
                                  " must be a list of constant ints (an element depends on the input shape)");
      r.push_back(e.iv.isInt() ? e.iv.toInt() : static_cast<int64_t>(e.iv.toBool()));
    }
    if (repeat > 0 && r.size() == 1) r.assign(repeat, r[0]);
    return r;
  }
  return unsupported(n, "input " + std::to_string(i) + " must be a constant int list");
}
Expected<std::vector<double>> Importer::cdoubles(const tj::Node* n, size_t i) const {
  if (i >= n->inputs().size()) return err(n, "input " + std::to_string(i) + " is missing");
  const Val& v = val(n->input(i));
  std::vector<double> r;
  if (v.kind == Val::Kind::kConst && v.iv.isDoubleList()) {
    for (double d : v.iv.toDoubleVector()) r.push_back(d);
    return r;
  }
  if (v.kind == Val::Kind::kList) {
    for (const auto& e : v.elems) {
      if (e.kind != Val::Kind::kConst || !(e.iv.isDouble() || e.iv.isInt()))
        return unsupported(n, "input " + std::to_string(i) + " must be a list of constant numbers");
      r.push_back(e.iv.isDouble() ? e.iv.toDouble() : static_cast<double>(e.iv.toInt()));
    }
    return r;
  }
  return unsupported(n, "input " + std::to_string(i) + " must be a constant float list");
}

const Tensor* Importer::initializer(const std::string& name) const {
  auto it = g_.initializers.find(name);
  return it == g_.initializers.end() ? nullptr : &it->second;
}

DType Importer::dtype_of(const tj::Node* n, size_t i) const {
  if (i >= n->inputs().size()) return DType::kUndefined;
  const Val& v = val(n->input(i));
  if (v.kind == Val::Kind::kTensor) return v.dtype;
  if (v.kind == Val::Kind::kConst && v.iv.isInt()) return DType::kI64;
  if (v.kind == Val::Kind::kConst && v.iv.isDouble()) return DType::kF32;
  return DType::kUndefined;
}
int Importer::rank_of(const tj::Node* n, size_t i) const {
  if (i >= n->inputs().size()) return -1;
  const Val& v = val(n->input(i));
  if (v.kind == Val::Kind::kTensor) return v.rank;
  if (v.kind == Val::Kind::kConst && (v.iv.isInt() || v.iv.isDouble())) return 0;
  return -1;
}

std::string Importer::tmp(const std::string& base) {
  std::string c = base;
  while (used_values_.count(c)) c = base + "_" + std::to_string(++tmp_counter_);
  used_values_.insert(c);
  return c;
}

std::string Importer::const_tensor(const Tensor& t, const std::string& hint) {
  const std::string name = tmp(hint);
  g_.initializers[name] = t;
  return name;
}
std::string Importer::coerce_scalar(const std::string& name, DType dt) {
  const Tensor* t = initializer(name);
  if (!t || t->numel() != 1 || t->rank() != 0 || t->dtype() == dt || dt == DType::kUndefined) return name;
  // An integer 0-d tensor takes a float tensor's type; a float one never
  // becomes an integer (torch would promote the result to float instead).
  if (dtype_is_float(t->dtype()) && !dtype_is_float(dt)) return name;
  auto c = t->cast(dt);
  if (!c.ok()) return name;
  return const_tensor(c.value(), name + "_" + dtype_name(dt));
}

std::string Importer::const_f32(float v, const std::string& hint) {
  return const_tensor(Tensor::from_vector<float>(DType::kF32, {}, {v}), hint);
}
std::string Importer::const_i64(std::vector<int64_t> v, bool scalar, const std::string& hint) {
  std::vector<int64_t> dims;
  if (!scalar) dims.push_back(static_cast<int64_t>(v.size()));
  return const_tensor(Tensor::from_vector<int64_t>(DType::kI64, dims, v), hint);
}

Expected<Tensor> Importer::to_tensor(const at::Tensor& t0, const std::string& what) const {
  if (t0.is_quantized()) return not_implemented(file_ + ": " + what + ": quantized tensors are not supported");
  if (t0.is_sparse() || t0.layout() != c10::kStrided)
    return not_implemented(file_ + ": " + what + ": only dense tensors are supported");
  bool ok = false;
  const DType dt = dtype_from_torch(t0.scalar_type(), &ok);
  if (!ok) return not_implemented(file_ + ": " + what + ": element type " + std::string(c10::toString(t0.scalar_type())) + " is not supported");
  at::Tensor t = t0.detach().to(c10::kCPU).contiguous();
  std::vector<int64_t> dims(t.sizes().begin(), t.sizes().end());
  Tensor r = Tensor::uninitialized(dt, dims);
  if (r.nbytes()) std::memcpy(r.raw(), t.data_ptr(), r.nbytes());
  return r;
}

std::string Importer::out_name(const tj::Node* n, size_t k) {
  const tj::Value* v = n->output(k);
  std::string base = v->hasDebugName() ? strip_suffix(v->debugName()) : short_kind(n);
  if (base.empty()) base = "v";
  return tmp(base);
}

void Importer::bind(const tj::Node* n, size_t k, const std::string& name, DType dt, int rank, bool scalar) {
  Val v;
  v.kind = Val::Kind::kTensor;
  v.name = name;
  v.dtype = dt;
  v.rank = rank;
  v.scalar = scalar;
  set(n->output(k), std::move(v));
}

std::string Importer::node_name(const tj::Node* n, const std::vector<std::string>& inputs) {
  std::string base = scope_of(n);
  if (base.empty()) {
    for (const auto& in : inputs) {
      const std::string suf = ".weight";
      if (in.size() > suf.size() && in.compare(in.size() - suf.size(), suf.size(), suf) == 0 && initializer(in)) {
        base = in.substr(0, in.size() - suf.size());
        break;
      }
    }
  }
  const std::string sk = short_kind(n);
  if (base.empty()) base = sk;
  std::string c = base;
  if (used_nodes_.count(c)) c = base + "/" + sk;
  for (int i = 1; used_nodes_.count(c); ++i) c = base + "/" + sk + "_" + std::to_string(i);
  used_nodes_.insert(c);
  return c;
}

void Importer::emit(const tj::Node* n, const std::string& op_type, std::vector<std::string> inputs,
                    std::vector<std::string> outputs, Attributes attrs) {
  Node node;
  node.name = node_name(n, inputs);
  node.op_type = op_type;
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attrs = std::move(attrs);
  node.provenance.format = "torchscript";
  node.provenance.original_op = n->kind().toQualString();
  node.provenance.layer = scope_of(n);
  g_.nodes.push_back(std::move(node));
}

Status Importer::simple(const tj::Node* n, const std::string& op_type, std::vector<std::string> inputs,
                        Attributes attrs, std::optional<DType> dt, std::optional<int> rank) {
  const std::string out = out_name(n);
  const DType d = dt ? *dt : dtype_of(n, 0);
  const int r = rank ? *rank : rank_of(n, 0);
  emit(n, op_type, std::move(inputs), {out}, std::move(attrs));
  bind(n, 0, out, d == DType::kUndefined ? DType::kF32 : d, r);
  return Status::OK();
}

Expected<std::string> Importer::tensor(const tj::Node* n, size_t i, DType like) {
  if (i >= n->inputs().size()) return err(n, "input " + std::to_string(i) + " is missing");
  const Val& v = val(n->input(i));
  if (v.kind == Val::Kind::kTensor) return v.name;
  if (v.kind == Val::Kind::kConst) {
    const bool int_like = dtype_is_integer(like);
    if (v.iv.isDouble()) {
      if (like == DType::kF64) return const_tensor(Tensor::from_vector<double>(DType::kF64, {}, {v.iv.toDouble()}), "scalar");
      return const_f32(static_cast<float>(v.iv.toDouble()), "scalar");
    }
    if (v.iv.isInt() || v.iv.isBool()) {
      const int64_t x = v.iv.isInt() ? v.iv.toInt() : static_cast<int64_t>(v.iv.toBool());
      if (int_like) return const_i64({x}, true, "scalar");
      return const_f32(static_cast<float>(x), "scalar");
    }
    if (v.iv.isTensor()) {
      CONVFIX_ASSIGN_OR_RETURN(Tensor t, to_tensor(v.iv.toTensor(), "constant"));
      return const_tensor(t, "const");
    }
  }
  return unsupported(n, "input " + std::to_string(i) + " is not a tensor");
}

Expected<std::string> Importer::int_list_tensor(const tj::Node* n, size_t i) {
  if (i >= n->inputs().size()) return err(n, "input " + std::to_string(i) + " is missing");
  const Val& v = val(n->input(i));
  if (v.kind == Val::Kind::kTensor && v.dtype == DType::kI64 && v.rank == 1) return v.name;  // e.g. Shape output
  auto c = cints(n, i);
  if (c.ok()) return const_i64(*c, false, "shape");
  if (v.kind != Val::Kind::kList) return c.status();
  std::vector<std::string> parts;
  for (const auto& e : v.elems) {
    if (e.kind == Val::Kind::kConst && e.iv.isInt()) {
      parts.push_back(const_i64({e.iv.toInt()}, false, "dim"));
    } else if (e.kind == Val::Kind::kTensor && dtype_is_integer(e.dtype)) {
      std::string u = tmp(e.name + "_1d");
      emit(n, "Unsqueeze", {e.name, const_i64({0}, false, "axes")}, {u});
      parts.push_back(u);
    } else {
      return unsupported(n, "input " + std::to_string(i) + ": a list element is neither an int nor a shape value");
    }
  }
  std::string out = tmp("shape");
  Attributes a;
  a["axis"] = Attribute::of_int(0);
  emit(n, "Concat", parts, {out}, a);
  return out;
}

Status Importer::get_attr(const tj::Node* n) {
  const Val& owner = val(n->input(0));
  const std::string name = n->s(c10::Symbol::attr("name"));
  if (owner.kind != Val::Kind::kModule || !owner.iv.isObject())
    return unsupported(n, "attribute '" + name + "' of something that is not a module");
  const auto obj = owner.iv.toObject();
  const std::string path = owner.path.empty() ? name : owner.path + "." + name;
  if (!obj->type()->hasAttribute(name)) return err(n, "module '" + owner.path + "' has no attribute '" + name + "'");
  c10::IValue a = obj->getAttr(name);
  Val v;
  if (a.isObject()) {
    v.kind = Val::Kind::kModule;
    v.iv = a;
    v.path = path;
  } else if (a.isTensor()) {
    auto it = attr_inits_.find(path);
    std::string init;
    if (it != attr_inits_.end()) {
      init = it->second;
    } else {
      CONVFIX_ASSIGN_OR_RETURN(Tensor t, to_tensor(a.toTensor(), "attribute '" + path + "'"));
      init = tmp(path);
      g_.initializers[init] = t;
      attr_inits_[path] = init;
    }
    v.kind = Val::Kind::kTensor;
    v.name = init;
    v.dtype = g_.initializers[init].dtype();
    v.rank = static_cast<int>(g_.initializers[init].rank());
  } else {
    v.kind = Val::Kind::kConst;
    v.iv = a;
  }
  set(n->output(), std::move(v));
  return Status::OK();
}

Status Importer::constant(const tj::Node* n) {
  auto iv = tj::toIValue(n->output());
  if (!iv) {  // e.g. a function constant: an error only where it is used
    set(n->output(), Val{});
    return Status::OK();
  }
  if (iv->isTensor()) {
    CONVFIX_ASSIGN_OR_RETURN(Tensor t, to_tensor(iv->toTensor(), "constant"));
    const tj::Value* o = n->output();
    const std::string name = const_tensor(t, o->hasDebugName() ? strip_suffix(o->debugName()) : "const");
    Val v;
    v.kind = Val::Kind::kTensor;
    v.name = name;
    v.dtype = t.dtype();
    v.rank = static_cast<int>(t.rank());
    set(o, std::move(v));
    return Status::OK();
  }
  Val v;
  v.kind = Val::Kind::kConst;
  v.iv = *iv;
  set(n->output(), std::move(v));
  return Status::OK();
}

Status Importer::walk(const tj::Block* b) {
  for (const tj::Node* n : b->nodes()) CONVFIX_RETURN_IF_ERROR(import_node(n));
  return Status::OK();
}

Status Importer::import_node(const tj::Node* n) {
  const std::string kind = n->kind().toQualString();
  if (kind == "prim::Constant") return constant(n);
  if (kind == "prim::GetAttr") return get_attr(n);
  if (kind == "prim::If") {
    auto c = cbool(n, 0);
    if (!c.ok()) return unsupported(n, "data-dependent control flow (the condition is not a constant)");
    const tj::Block* blk = n->blocks()[*c ? 0 : 1];
    CONVFIX_RETURN_IF_ERROR(walk(blk));
    for (size_t k = 0; k < n->outputs().size(); ++k) set(n->output(k), val(blk->outputs()[k]));
    return Status::OK();
  }
  auto& table = op_handlers();
  auto it = table.find(kind);
  if (it == table.end())
    return unsupported(n, "no mapping onto convfix's IR for this op (supported ops: docs/FORMATS.md, TorchScript)");
  return it->second(*this, n);
}

Expected<Graph> Importer::run() {
  try {
    module_ = torch::jit::load(file_);
  } catch (const c10::Error& e) {
    return invalid_model(file_ + ": libtorch cannot load it as TorchScript: " + first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return invalid_model(file_ + ": libtorch cannot load it as TorchScript: " + first_line(e.what()));
  }
  try {
    module_.eval();
    if (!module_.find_method("forward")) return invalid_model(file_ + ": the TorchScript module has no forward() method");
    std::shared_ptr<tj::Graph> graph = module_.get_method("forward").graph()->copy();
    tj::Inline(*graph);
    const auto ins = graph->inputs();
    if (ins.empty()) return invalid_model(file_ + ": forward() has no self argument");
    Val self;
    self.kind = Val::Kind::kModule;
    self.iv = module_._ivalue();
    set(ins[0], self);
    for (size_t i = 1; i < ins.size(); ++i) {
      const tj::Value* in = ins[i];
      if (!in->type()->cast<c10::TensorType>())
        return not_implemented(file_ + ": forward() argument " + std::to_string(i) + " has type " +
                               in->type()->str() + " (only tensor arguments are supported)");
      std::string nm = in->hasDebugName() ? strip_suffix(in->debugName()) : "input";
      if (nm.empty() || nm == "self") nm = "input";
      ValueInfo vi;
      vi.name = tmp(nm);
      vi.dtype = DType::kF32;
      g_.inputs.push_back(vi);
      Val v;
      v.kind = Val::Kind::kTensor;
      v.name = vi.name;
      v.dtype = DType::kF32;
      if (i - 1 < opts_.input_shapes.size()) v.rank = static_cast<int>(opts_.input_shapes[i - 1].size());
      set(in, v);
    }
    // Rank of an input that feeds a convolution (directly or through
    // elementwise ops such as a normalisation): known before the walk so
    // that rank-dependent mappings (flatten, transpose, pad) work.
    for (size_t i = 1; i < ins.size(); ++i) {
      if (i - 1 < opts_.input_shapes.size()) continue;
      if (int r = conv_rank_after(ins[i], module_._ivalue()); r > 0) mutable_val(ins[i]).rank = r;
    }
    CONVFIX_RETURN_IF_ERROR(walk(graph->block()));
    std::vector<Val> outs;
    for (const tj::Value* o : graph->outputs()) {
      const Val& v = val(o);
      if (v.kind == Val::Kind::kList) {
        for (const auto& e : v.elems) outs.push_back(e);
      } else {
        outs.push_back(v);
      }
    }
    std::unordered_set<std::string> out_names;
    for (size_t k = 0; k < outs.size(); ++k) {
      const Val& v = outs[k];
      if (v.kind != Val::Kind::kTensor)
        return not_implemented(file_ + ": forward() output " + std::to_string(k) + " is not a tensor");
      std::string name = v.name;
      bool is_input = false;
      for (const auto& gi : g_.inputs) is_input |= gi.name == name;
      if (is_input || initializer(name) || out_names.count(name)) {
        const std::string id = tmp("output_" + std::to_string(k));
        Node node;
        node.name = "output_" + std::to_string(k);
        node.op_type = "Identity";
        node.inputs = {name};
        node.outputs = {id};
        node.provenance = {"torchscript", "prim::Return", ""};
        g_.nodes.push_back(node);
        name = id;
      }
      out_names.insert(name);
      ValueInfo vi;
      vi.name = name;
      vi.dtype = v.dtype;
      g_.outputs.push_back(vi);
    }
  } catch (const c10::Error& e) {
    return invalid_model(file_ + ": libtorch: " + first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return invalid_model(file_ + ": " + first_line(e.what()));
  }
  infer_input_shapes(g_, opts_);
  g_.name = "torchscript";
  g_.info.format = "torchscript";
  g_.info.producer_name = "pytorch";
  g_.info.producer_version = TORCH_VERSION;
  g_.info.opsets[""] = 17;
  g_.info.source_path = file_;
  g_.prune_unused();
  CONVFIX_RETURN_IF_ERROR(g_.verify().with_context(file_));
  return std::move(g_);
}

Expected<Graph> import_torchscript(const std::string& path, const TorchScriptOptions& opts) {
  Importer imp(path, opts);
  return imp.run();
}

}  // namespace convfix::tsfmt

extern "C" __attribute__((visibility("default"))) uint64_t convfix_torchscript_abi_v1() {
  return convfix::tsfmt::kPluginAbi;
}

extern "C" __attribute__((visibility("default"))) void convfix_torchscript_read_v1(
    const char* path, const convfix::TorchScriptOptions* opts, convfix::Graph* out, convfix::Status* status) {
  try {
    auto g = convfix::tsfmt::import_torchscript(path, opts ? *opts : convfix::TorchScriptOptions{});
    if (!g.ok()) {
      *status = g.status();
      return;
    }
    *out = std::move(g).value();
    *status = convfix::Status::OK();
  } catch (const std::exception& e) {
    *status = convfix::internal_error(std::string(path) + ": TorchScript import failed: " + e.what());
  } catch (...) {
    *status = convfix::internal_error(std::string(path) + ": TorchScript import failed");
  }
}
