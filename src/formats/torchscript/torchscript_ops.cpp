// ATen / prim op handlers of the TorchScript importer: each maps one op
// (or a family) onto canonical ONNX-domain IR ops (opset 17). The table at
// the end is the one list of supported ops; docs/FORMATS.md mirrors it.
#include <cmath>
#include <limits>

#include "formats/torchscript/torchscript_importer.h"

namespace convfix::tsfmt {

namespace {

#define TRY_ASSIGN(lhs, expr) CONVFIX_ASSIGN_OR_RETURN(lhs, expr)

Attributes attrs(std::initializer_list<std::pair<const std::string, Attribute>> l) { return Attributes(l); }

bool numeric_const(const Val& v) { return v.kind == Val::Kind::kConst && (v.iv.isInt() || v.iv.isDouble() || v.iv.isBool()); }
double as_double(const c10::IValue& v) { return v.isDouble() ? v.toDouble() : v.isInt() ? static_cast<double>(v.toInt()) : v.toBool(); }

// ---- pass-through and structure ---------------------------------------------

// dropout (eval), contiguous, clone, detach, NumToTensor, Int, ...: the output
// is the input.
Status identity(Importer& im, const tj::Node* n) {
  im.set(n->output(), im.val(n->input(0)));
  return Status::OK();
}

Status dropout(Importer& im, const tj::Node* n) {
  if (n->inputs().size() >= 3) {
    auto train = im.cbool(n, 2);
    if (train.ok() && *train) return im.unsupported(n, "dropout in training mode (call model.eval() before tracing)");
  }
  return identity(im, n);
}

Status list_construct(Importer& im, const tj::Node* n) {
  Val v;
  v.kind = Val::Kind::kList;
  for (const tj::Value* in : n->inputs()) v.elems.push_back(im.val(in));
  im.set(n->output(), std::move(v));
  return Status::OK();
}

Status list_unpack(Importer& im, const tj::Node* n) {
  const Val& in = im.val(n->input(0));
  std::vector<Val> elems;
  if (in.kind == Val::Kind::kList) {
    elems = in.elems;
  } else if (in.kind == Val::Kind::kConst && (in.iv.isList() || in.iv.isTuple())) {
    const auto& lst = in.iv.isList() ? in.iv.toListRef().vec() : in.iv.toTupleRef().elements().vec();
    for (const auto& e : lst) {
      Val c;
      c.kind = Val::Kind::kConst;
      c.iv = e;
      elems.push_back(c);
    }
  } else {
    return im.unsupported(n, "unpacking a value that is not a known list or tuple");
  }
  if (elems.size() != n->outputs().size())
    return im.err(n, "unpacks " + std::to_string(n->outputs().size()) + " values from a list of " +
                         std::to_string(elems.size()));
  for (size_t k = 0; k < elems.size(); ++k) im.set(n->output(k), elems[k]);
  return Status::OK();
}

Status list_index(Importer& im, const tj::Node* n) {
  const Val& in = im.val(n->input(0));
  TRY_ASSIGN(int64_t idx, im.cint(n, 1));
  if (in.kind == Val::Kind::kList) {
    const int64_t sz = static_cast<int64_t>(in.elems.size());
    if (idx < 0) idx += sz;
    if (idx < 0 || idx >= sz) return im.err(n, "index " + std::to_string(idx) + " out of range");
    im.set(n->output(), in.elems[static_cast<size_t>(idx)]);
    return Status::OK();
  }
  if (in.kind == Val::Kind::kConst && in.iv.isIntList()) {
    auto v = in.iv.toIntVector();
    const int64_t sz = static_cast<int64_t>(v.size());
    if (idx < 0) idx += sz;
    if (idx < 0 || idx >= sz) return im.err(n, "index out of range");
    Val c;
    c.kind = Val::Kind::kConst;
    c.iv = v[static_cast<size_t>(idx)];
    im.set(n->output(), c);
    return Status::OK();
  }
  if (in.kind == Val::Kind::kTensor && in.rank == 1 && dtype_is_integer(in.dtype)) {  // x.size()[i]
    const std::string out = im.out_name(n);
    im.emit(n, "Gather", {in.name, im.const_i64({idx}, true, "index")}, {out}, attrs({{"axis", Attribute::of_int(0)}}));
    im.bind(n, 0, out, in.dtype, 0, true);
    return Status::OK();
  }
  return im.unsupported(n, "indexing a value that is not a known list");
}

// Values a scripted module never uses on the taken path.
Status unset(Importer& im, const tj::Node* n) {
  for (const tj::Value* o : n->outputs()) im.set(o, Val{});
  return Status::OK();
}
Status no_op(Importer&, const tj::Node*) { return Status::OK(); }

Status raise(Importer& im, const tj::Node* n) {
  std::string msg;
  if (!n->inputs().empty() && im.is_const(n, 0) && im.val(n->input(0)).iv.isString()) msg = im.val(n->input(0)).iv.toStringRef();
  return im.err(n, "the module raises an exception for this input rank/shape: " + msg.substr(0, msg.find('\n')));
}

Status dim(Importer& im, const tj::Node* n) {
  const int r = im.rank_of(n, 0);
  if (r < 0) return im.unsupported(n, "x.dim() of a tensor of unknown rank");
  Val c;
  c.kind = Val::Kind::kConst;
  c.iv = static_cast<int64_t>(r);
  im.set(n->output(), c);
  return Status::OK();
}

Status len(Importer& im, const tj::Node* n) {
  const Val& v = im.val(n->input(0));
  int64_t l = -1;
  if (v.kind == Val::Kind::kList) l = static_cast<int64_t>(v.elems.size());
  else if (v.kind == Val::Kind::kConst && v.iv.isList()) l = static_cast<int64_t>(v.iv.toListRef().size());
  else if (v.kind == Val::Kind::kTensor && v.rank == 1 && v.name.find("_shape") != std::string::npos && v.dtype == DType::kI64) {
    // len(x.size()) == rank of x: the shape value knows it when x's rank is known
  }
  if (l < 0) return im.unsupported(n, "len() of a value whose length is not known at import");
  Val c;
  c.kind = Val::Kind::kConst;
  c.iv = l;
  im.set(n->output(), c);
  return Status::OK();
}

Status append(Importer& im, const tj::Node* n) {
  Val& lst = im.mutable_val(n->input(0));
  if (lst.kind == Val::Kind::kConst && lst.iv.isList()) {
    Val l;
    l.kind = Val::Kind::kList;
    for (const auto& e : lst.iv.toListRef()) {
      Val c;
      c.kind = Val::Kind::kConst;
      c.iv = e;
      l.elems.push_back(c);
    }
    lst = l;
  }
  if (lst.kind != Val::Kind::kList) return im.unsupported(n, "append to a list that is not known element by element");
  lst.elems.push_back(im.val(n->input(1)));
  if (!n->outputs().empty()) im.set(n->output(), lst);
  return Status::OK();
}

// aten::Int / aten::Float on shape scalars: casts (constants convert).
Status to_number(Importer& im, const tj::Node* n) {
  const bool to_int = std::string(n->kind().toUnqualString()) == "Int";
  const Val& v = im.val(n->input(0));
  if (v.kind == Val::Kind::kConst && (v.iv.isDouble() || v.iv.isInt() || v.iv.isBool())) {
    Val c;
    c.kind = Val::Kind::kConst;
    if (to_int) c.iv = static_cast<int64_t>(as_double(v.iv));
    else c.iv = as_double(v.iv);
    im.set(n->output(), c);
    return Status::OK();
  }
  if (v.kind != Val::Kind::kTensor) return im.unsupported(n, "conversion of a value that is not a number");
  if (to_int == dtype_is_integer(v.dtype)) {
    im.set(n->output(), v);
    return Status::OK();
  }
  const std::string out = im.out_name(n);
  im.emit(n, "Cast", {v.name}, {out}, attrs({{"to", Attribute::of_int(to_int ? 7 : 1)}}));
  im.bind(n, 0, out, to_int ? DType::kI64 : DType::kF32, v.rank, true);
  return Status::OK();
}

// prim::Loop with a constant trip count and a constant-true condition is
// unrolled (scripted helpers build small lists this way).
Status loop(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(int64_t trips, im.cint(n, 0));
  auto cond = im.cbool(n, 1);
  if (!cond.ok() || trips > 4096) return im.unsupported(n, "a loop whose trip count is not a small constant");
  const tj::Block* body = n->blocks()[0];
  std::vector<Val> carried;
  for (size_t i = 2; i < n->inputs().size(); ++i) carried.push_back(im.val(n->input(i)));
  bool go = *cond;
  for (int64_t it = 0; it < trips && go; ++it) {
    Val iv;
    iv.kind = Val::Kind::kConst;
    iv.iv = it;
    im.set(body->inputs()[0], iv);
    for (size_t k = 0; k < carried.size(); ++k) im.set(body->inputs()[k + 1], carried[k]);
    CONVFIX_RETURN_IF_ERROR(im.walk(body));
    const Val& c = im.val(body->outputs()[0]);
    if (c.kind != Val::Kind::kConst) return im.unsupported(n, "a loop whose condition depends on data");
    go = c.iv.isBool() ? c.iv.toBool() : c.iv.toInt() != 0;
    for (size_t k = 0; k < carried.size(); ++k) carried[k] = im.val(body->outputs()[k + 1]);
  }
  for (size_t k = 0; k < carried.size() && k < n->outputs().size(); ++k) im.set(n->output(k), carried[k]);
  return Status::OK();
}

Status contains(Importer& im, const tj::Node* n) {
  const Val& c = im.val(n->input(0));
  const Val& e = im.val(n->input(1));
  if (e.kind != Val::Kind::kConst) return im.unsupported(n, "membership test of a non-constant value");
  std::vector<c10::IValue> items;
  if (c.kind == Val::Kind::kConst && c.iv.isList()) items = c.iv.toListRef().vec();
  else if (c.kind == Val::Kind::kConst && c.iv.isTuple()) items = c.iv.toTupleRef().elements().vec();
  else if (c.kind == Val::Kind::kConst && c.iv.isGenericDict()) for (const auto& kv : c.iv.toGenericDict()) items.push_back(kv.key());
  else if (c.kind == Val::Kind::kList) {
    for (const auto& x : c.elems) {
      if (x.kind != Val::Kind::kConst) return im.unsupported(n, "membership test in a list with non-constant elements");
      items.push_back(x.iv);
    }
  } else {
    return im.unsupported(n, "membership test in a value that is not a constant container");
  }
  bool found = false;
  for (const auto& x : items) found |= x == e.iv;
  Val r;
  r.kind = Val::Kind::kConst;
  r.iv = found;
  im.set(n->output(), r);
  return Status::OK();
}

// not / and / or on constant bools (scripted guards such as
// `if not self.training`).
Status bool_op(Importer& im, const tj::Node* n) {
  const std::string k = n->kind().toUnqualString();
  TRY_ASSIGN(bool a, im.cbool(n, 0));
  bool r = !a;
  if (k != "__not__") {
    TRY_ASSIGN(bool b, im.cbool(n, 1));
    r = k == "__and__" ? (a && b) : k == "__or__" ? (a || b) : (a != b);
  }
  Val c;
  c.kind = Val::Kind::kConst;
  c.iv = r;
  im.set(n->output(), c);
  return Status::OK();
}

Status is_op(Importer& im, const tj::Node* n) {
  const bool a = im.is_none(n, 0), b = im.is_none(n, 1);
  const bool both_known = im.is_const(n, 0) && im.is_const(n, 1);
  bool same;
  if (a || b) same = a && b;
  else if (both_known) same = false;
  else return im.unsupported(n, "identity comparison of non-constant values");
  Val c;
  c.kind = Val::Kind::kConst;
  c.iv = (std::string(n->kind().toUnqualString()) == "__is__") ? same : !same;
  im.set(n->output(), c);
  return Status::OK();
}

// ---- shapes ------------------------------------------------------------------

Status size(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  const std::string shape = im.tmp(x + "_shape");
  im.emit(n, "Shape", {x}, {shape});
  if (n->inputs().size() == 1) {
    const int r = im.rank_of(n, 0);
    if (r < 0) {
      im.bind(n, 0, shape, DType::kI64, 1);
      return Status::OK();
    }
    // Known rank: a list of shape scalars (len(), indexing and slicing work).
    Val l;
    l.kind = Val::Kind::kList;
    for (int d = 0; d < r; ++d) {
      const std::string e = im.tmp(x + "_dim" + std::to_string(d));
      im.emit(n, "Gather", {shape, im.const_i64({d}, true, "index")}, {e}, attrs({{"axis", Attribute::of_int(0)}}));
      Val v;
      v.kind = Val::Kind::kTensor;
      v.name = e;
      v.dtype = DType::kI64;
      v.rank = 0;
      v.scalar = true;
      l.elems.push_back(v);
    }
    im.set(n->output(), l);
    return Status::OK();
  }
  TRY_ASSIGN(int64_t d, im.cint(n, 1));
  const std::string out = im.out_name(n);
  im.emit(n, "Gather", {shape, im.const_i64({d}, true, "index")}, {out}, attrs({{"axis", Attribute::of_int(0)}}));
  im.bind(n, 0, out, DType::kI64, 0, true);
  return Status::OK();
}

// aten::slice(x, dim, start, end, step) on tensors (ONNX Slice; start/end
// may be shape scalars) and aten::slice.t(list, start, end, step) on lists.
Status slice(Importer& im, const tj::Node* n) {
  const Val& in = im.val(n->input(0));
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (in.kind == Val::Kind::kList) {
    const int64_t sz = static_cast<int64_t>(in.elems.size());
    int64_t st = 0, en = kMax, step = 1;
    if (!im.is_none(n, 1)) { TRY_ASSIGN(st, im.cint(n, 1)); }
    if (n->inputs().size() > 2 && !im.is_none(n, 2)) { TRY_ASSIGN(en, im.cint(n, 2)); }
    if (n->inputs().size() > 3) { TRY_ASSIGN(step, im.cint(n, 3)); }
    if (step <= 0) return im.unsupported(n, "list slice with a step below 1");
    if (st < 0) st = std::max<int64_t>(0, st + sz);
    if (en < 0) en = std::max<int64_t>(0, en + sz);
    en = std::min(en, sz);
    Val r;
    r.kind = Val::Kind::kList;
    for (int64_t i = st; i < en; i += step) r.elems.push_back(in.elems[static_cast<size_t>(i)]);
    im.set(n->output(), r);
    return Status::OK();
  }
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(int64_t d, im.cint(n, 1));
  int64_t step = 1;
  if (n->inputs().size() > 4) { TRY_ASSIGN(step, im.cint(n, 4)); }
  auto bound = [&](size_t i, int64_t def) -> Expected<std::string> {
    if (im.is_none(n, i)) return im.const_i64({def}, false, "bound");
    const Val& v = im.val(n->input(i));
    if (v.kind == Val::Kind::kConst && v.iv.isInt()) return im.const_i64({v.iv.toInt()}, false, "bound");
    if (v.kind == Val::Kind::kTensor && dtype_is_integer(v.dtype)) {
      const std::string u = im.tmp(v.name + "_1d");
      im.emit(n, "Unsqueeze", {v.name, im.const_i64({0}, false, "axes")}, {u});
      return u;
    }
    return im.unsupported(n, "slice bound is neither an int nor a shape value");
  };
  TRY_ASSIGN(std::string st, bound(2, 0));
  TRY_ASSIGN(std::string en, bound(3, kMax));
  return im.simple(n, "Slice", {x, st, en, im.const_i64({d}, false, "axes"), im.const_i64({step}, false, "steps")});
}

// ---- arithmetic ----------------------------------------------------------------


// add/sub/mul/div/floordiv/rsub/pow for tensors, shape scalars and folded
// constants. alpha (add/sub) scales the second operand.
Status binary(Importer& im, const tj::Node* n) {
  std::string k = n->kind().toUnqualString();
  while (!k.empty() && k.back() == '_') k.pop_back();
  const bool rsub = k == "rsub";
  const Val& a = im.val(n->input(0));
  const Val& b = im.val(n->input(1));
  double alpha = 1.0;
  if ((k == "add" || k == "sub" || rsub) && n->inputs().size() >= 3 && !im.is_none(n, 2)) {
    TRY_ASSIGN(alpha, im.cdouble(n, 2));
  }
  std::string rounding;
  if (k == "div" && n->inputs().size() >= 3 && !im.is_none(n, 2)) {
    const Val& r = im.val(n->input(2));
    if (r.kind == Val::Kind::kConst && r.iv.isString()) rounding = r.iv.toStringRef();
  }
  if (k == "floordiv" || k == "floor_divide") rounding = "floor";
  if (numeric_const(a) && numeric_const(b)) {  // fold
    const bool ints = !a.iv.isDouble() && !b.iv.isDouble();
    const double x = as_double(a.iv), y = as_double(b.iv);
    double r = 0;
    if (k == "add") r = x + alpha * y;
    else if (k == "sub") r = x - alpha * y;
    else if (rsub) r = y - alpha * x;
    else if (k == "mul") r = x * y;
    else if (k == "pow") r = std::pow(x, y);
    else {
      if (y == 0) return im.err(n, "division by zero in a constant expression");
      r = x / y;
      if (rounding == "floor") r = std::floor(r);
      if (rounding == "trunc") r = std::trunc(r);
    }
    Val c;
    c.kind = Val::Kind::kConst;
    const bool int_result = ints && (k != "div" || !rounding.empty());
    if (int_result) c.iv = static_cast<int64_t>(r);
    else c.iv = r;
    im.set(n->output(), c);
    return Status::OK();
  }
  DType dt = a.kind == Val::Kind::kTensor ? a.dtype : b.kind == Val::Kind::kTensor ? b.dtype : DType::kF32;
  if (a.kind == Val::Kind::kTensor && b.kind == Val::Kind::kTensor && a.scalar && !b.scalar) dt = b.dtype;
  const bool scalar_math = (a.kind != Val::Kind::kTensor || a.scalar) && (b.kind != Val::Kind::kTensor || b.scalar);
  if (k == "div" && rounding.empty() && dtype_is_integer(dt)) {
    // true division of shape scalars gives a float
    TRY_ASSIGN(std::string x, im.tensor(n, 0, DType::kI64));
    TRY_ASSIGN(std::string y, im.tensor(n, 1, DType::kI64));
    const std::string xf = im.tmp(x + "_f"), yf = im.tmp(y + "_f"), out = im.out_name(n);
    im.emit(n, "Cast", {x}, {xf}, attrs({{"to", Attribute::of_int(1)}}));
    im.emit(n, "Cast", {y}, {yf}, attrs({{"to", Attribute::of_int(1)}}));
    im.emit(n, "Div", {xf, yf}, {out});
    im.bind(n, 0, out, DType::kF32, 0, true);
    return Status::OK();
  }
  TRY_ASSIGN(std::string x, im.tensor(n, 0, dt));
  TRY_ASSIGN(std::string y, im.tensor(n, 1, dt));
  // A 0-d constant tensor never changes the other operand's type in torch
  // (f32 tensor * f64 0-d tensor is f32): give it the other's type.
  x = im.coerce_scalar(x, dt);
  y = im.coerce_scalar(y, dt);
  if (rsub) std::swap(x, y);
  if (alpha != 1.0) {
    const std::string scaled = im.tmp(y + "_alpha");
    const std::string al = dtype_is_integer(dt) ? im.const_i64({static_cast<int64_t>(alpha)}, true, "alpha")
                                                : im.const_f32(static_cast<float>(alpha), "alpha");
    im.emit(n, "Mul", {y, al}, {scaled});
    y = scaled;
  }
  std::string op = k == "add" ? "Add" : (k == "sub" || rsub) ? "Sub" : k == "mul" ? "Mul" : k == "pow" ? "Pow" : "Div";
  const int r = std::max(im.rank_of(n, 0), im.rank_of(n, 1));
  if (op == "Div" && !rounding.empty() && !dtype_is_integer(dt)) {
    const std::string q = im.tmp(x + "_div");
    im.emit(n, "Div", {x, y}, {q});
    const std::string out = im.out_name(n);
    im.emit(n, rounding == "floor" ? "Floor" : "Ceil", {q}, {out});  // trunc handled below
    if (rounding == "trunc") return im.unsupported(n, "rounding_mode='trunc' on floats");
    im.bind(n, 0, out, dt, r, scalar_math);
    return Status::OK();
  }
  const std::string out = im.out_name(n);
  im.emit(n, op, {x, y}, {out});
  im.bind(n, 0, out, dt, r, scalar_math);
  return Status::OK();
}

Status unary(Importer& im, const tj::Node* n, const std::string& op, Attributes a = {}) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  return im.simple(n, op, {x}, std::move(a));
}

#define UNARY(fn, op) \
  Status fn(Importer& im, const tj::Node* n) { return unary(im, n, op); }
UNARY(relu, "Relu")
UNARY(sigmoid, "Sigmoid")
UNARY(tanh_op, "Tanh")
UNARY(hardswish, "HardSwish")
UNARY(abs_op, "Abs")
UNARY(neg_op, "Neg")
UNARY(exp_op, "Exp")
UNARY(log_op, "Log")
UNARY(sqrt_op, "Sqrt")
UNARY(erf_op, "Erf")
UNARY(floor_op, "Floor")
UNARY(ceil_op, "Ceil")
UNARY(reciprocal, "Reciprocal")
#undef UNARY

Status hardsigmoid(Importer& im, const tj::Node* n) {
  return unary(im, n, "HardSigmoid", attrs({{"alpha", Attribute::of_float(1.0f / 6.0f)}, {"beta", Attribute::of_float(0.5f)}}));
}

Status clip_between(Importer& im, const tj::Node* n, std::optional<double> lo, std::optional<double> hi) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  std::vector<std::string> ins{x, lo ? im.const_f32(static_cast<float>(*lo), "min") : "",
                               hi ? im.const_f32(static_cast<float>(*hi), "max") : ""};
  while (ins.back().empty()) ins.pop_back();
  return im.simple(n, "Clip", ins);
}
Status hardtanh(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(double lo, im.cdouble(n, 1));
  TRY_ASSIGN(double hi, im.cdouble(n, 2));
  return clip_between(im, n, lo, hi);
}
Status relu6(Importer& im, const tj::Node* n) { return clip_between(im, n, 0.0, 6.0); }
Status clamp(Importer& im, const tj::Node* n) {
  std::optional<double> lo, hi;
  if (!im.is_none(n, 1)) {
    TRY_ASSIGN(double v, im.cdouble(n, 1));
    lo = v;
  }
  if (!im.is_none(n, 2)) {
    TRY_ASSIGN(double v, im.cdouble(n, 2));
    hi = v;
  }
  return clip_between(im, n, lo, hi);
}

Status silu(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  const std::string s = im.tmp(x + "_sigmoid");
  im.emit(n, "Sigmoid", {x}, {s});
  return im.simple(n, "Mul", {x, s});
}

Status gelu(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  std::string approx = "none";
  if (n->inputs().size() > 1 && im.is_const(n, 1) && im.val(n->input(1)).iv.isString())
    approx = im.val(n->input(1)).iv.toStringRef();
  return im.simple(n, "Gelu", {x}, attrs({{"approximate", Attribute::of_string(approx)}}));
}

Status leaky_relu(Importer& im, const tj::Node* n) {
  double slope = 0.01;
  if (n->inputs().size() > 1) {
    TRY_ASSIGN(slope, im.cdouble(n, 1));
  }
  return unary(im, n, "LeakyRelu", attrs({{"alpha", Attribute::of_float(static_cast<float>(slope))}}));
}

Status elu(Importer& im, const tj::Node* n) {
  double alpha = 1, scale = 1, in_scale = 1;
  if (n->inputs().size() > 1) { TRY_ASSIGN(alpha, im.cdouble(n, 1)); }
  if (n->inputs().size() > 2) { TRY_ASSIGN(scale, im.cdouble(n, 2)); }
  if (n->inputs().size() > 3) { TRY_ASSIGN(in_scale, im.cdouble(n, 3)); }
  if (scale != 1 || in_scale != 1) return im.unsupported(n, "elu with scale or input_scale other than 1");
  return unary(im, n, "Elu", attrs({{"alpha", Attribute::of_float(static_cast<float>(alpha))}}));
}

Status prelu(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(std::string w, im.tensor(n, 1));
  const Tensor* wt = im.initializer(w);
  const int r = im.rank_of(n, 0);
  if (wt && wt->numel() > 1) {
    if (r < 2) return im.unsupported(n, "per-channel prelu on an input of unknown rank");
    // torch broadcasts the slope along dim 1: [C] -> [C, 1, ...].
    std::vector<int64_t> shape{wt->numel()};
    for (int i = 2; i < r; ++i) shape.push_back(1);
    const std::string ws = im.tmp(w + "_bcast");
    im.emit(n, "Reshape", {w, im.const_i64(shape, false, "shape")}, {ws});
    w = ws;
  }
  return im.simple(n, "PRelu", {x, w});
}

Status softmax(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(int64_t dim, im.cint(n, 1));
  const bool log = std::string(n->kind().toUnqualString()) == "log_softmax";
  return im.simple(n, log ? "LogSoftmax" : "Softmax", {x}, attrs({{"axis", Attribute::of_int(dim)}}));
}

// gt/lt/ge/le/eq/ne on tensors (bool outputs); constants fold.
Status compare(Importer& im, const tj::Node* n) {
  const std::string k = n->kind().toUnqualString();
  const Val& a = im.val(n->input(0));
  const Val& b = im.val(n->input(1));
  if (a.kind == Val::Kind::kConst && b.kind == Val::Kind::kConst && !(numeric_const(a) && numeric_const(b)) &&
      (k == "eq" || k == "ne")) {  // strings, lists, None
    Val c;
    c.kind = Val::Kind::kConst;
    c.iv = (a.iv == b.iv) == (k == "eq");
    im.set(n->output(), c);
    return Status::OK();
  }
  if (numeric_const(a) && numeric_const(b)) {
    const double x = as_double(a.iv), y = as_double(b.iv);
    Val c;
    c.kind = Val::Kind::kConst;
    c.iv = k == "gt" ? x > y : k == "lt" ? x < y : k == "ge" ? x >= y : k == "le" ? x <= y : k == "eq" ? x == y : x != y;
    im.set(n->output(), c);
    return Status::OK();
  }
  const DType dt = a.kind == Val::Kind::kTensor ? a.dtype : b.dtype;
  TRY_ASSIGN(std::string x, im.tensor(n, 0, dt));
  TRY_ASSIGN(std::string y, im.tensor(n, 1, dt));
  x = im.coerce_scalar(x, dt);
  y = im.coerce_scalar(y, dt);
  const int r = std::max(im.rank_of(n, 0), im.rank_of(n, 1));
  if (k == "ne") {
    const std::string eq = im.tmp(x + "_eq");
    im.emit(n, "Equal", {x, y}, {eq});
    return im.simple(n, "Not", {eq}, {}, DType::kBool, r);
  }
  const std::string op = k == "gt" ? "Greater" : k == "lt" ? "Less" : k == "ge" ? "GreaterOrEqual" : k == "le" ? "LessOrEqual" : "Equal";
  return im.simple(n, op, {x, y}, {}, DType::kBool, r);
}

// ---- convolution, normalisation, linear ----------------------------------------

Status conv_common(Importer& im, const tj::Node* n, std::vector<int64_t> stride, std::vector<int64_t> pad,
                   std::vector<int64_t> dil, bool transposed, std::vector<int64_t> out_pad, int64_t groups,
                   const std::string& pad_mode) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(std::string w, im.tensor(n, 1));
  const Tensor* wt = im.initializer(w);
  if (!wt) return im.unsupported(n, "convolution weight that is not a module parameter");
  const size_t sp = static_cast<size_t>(wt->rank() - 2);
  auto fit = [&](std::vector<int64_t>& v, int64_t def) {
    if (v.empty()) v.assign(sp, def);
    if (v.size() == 1 && sp > 1) v.assign(sp, v[0]);
  };
  fit(stride, 1);
  fit(dil, 1);
  fit(out_pad, 0);
  std::vector<int64_t> kernel(wt->dims().begin() + 2, wt->dims().end());
  std::vector<int64_t> pads;
  if (pad_mode == "same") {
    std::vector<int64_t> b, e;
    for (size_t i = 0; i < sp; ++i) {
      const int64_t total = dil[i] * (kernel[i] - 1);
      b.push_back(total / 2);
      e.push_back(total - total / 2);
    }
    pads = b;
    pads.insert(pads.end(), e.begin(), e.end());
  } else {
    fit(pad, 0);
    if (stride.size() != sp || pad.size() != sp || dil.size() != sp) return im.err(n, "stride/padding/dilation do not match the kernel rank");
    pads = pad;
    pads.insert(pads.end(), pad.begin(), pad.end());
  }
  Attributes a;
  a["kernel_shape"] = Attribute::of_ints(kernel);
  a["strides"] = Attribute::of_ints(stride);
  a["pads"] = Attribute::of_ints(pads);
  a["dilations"] = Attribute::of_ints(dil);
  a["group"] = Attribute::of_int(groups);
  std::vector<std::string> ins{x, w};
  if (!im.is_none(n, 2)) {
    TRY_ASSIGN(std::string b, im.tensor(n, 2));
    ins.push_back(b);
  }
  if (transposed) {
    a["output_padding"] = Attribute::of_ints(out_pad);
    return im.simple(n, "ConvTranspose", ins, a);
  }
  return im.simple(n, "Conv", ins, a, std::nullopt, static_cast<int>(sp) + 2);
}

// aten::_convolution(input, weight, bias, stride, padding, dilation, transposed,
//                    output_padding, groups, benchmark, deterministic, cudnn_enabled[, allow_tf32])
Status convolution_(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(auto stride, im.cints(n, 3));
  TRY_ASSIGN(auto pad, im.cints(n, 4));
  TRY_ASSIGN(auto dil, im.cints(n, 5));
  TRY_ASSIGN(bool tr, im.cbool(n, 6));
  TRY_ASSIGN(auto op, im.cints(n, 7));
  TRY_ASSIGN(int64_t groups, im.cint(n, 8));
  return conv_common(im, n, stride, pad, dil, tr, op, groups, "");
}
// aten::conv{1,2,3}d(input, weight, bias, stride, padding, dilation, groups);
// padding may be the string "same" / "valid".
Status convnd(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(auto stride, im.cints(n, 3));
  std::string mode;
  std::vector<int64_t> pad;
  const Val& pv = im.val(n->input(4));
  if (pv.kind == Val::Kind::kConst && pv.iv.isString()) {
    mode = pv.iv.toStringRef();
    if (mode != "same" && mode != "valid") return im.unsupported(n, "padding='" + mode + "'");
    if (mode == "valid") mode.clear();
  } else {
    TRY_ASSIGN(pad, im.cints(n, 4));
  }
  TRY_ASSIGN(auto dil, im.cints(n, 5));
  TRY_ASSIGN(int64_t groups, im.cint(n, 6));
  return conv_common(im, n, stride, pad, dil, false, {}, groups, mode);
}

// aten::batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled)
Status batch_norm(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(bool training, im.cbool(n, 5));
  if (training) return im.unsupported(n, "batch_norm in training mode (call model.eval() before tracing)");
  TRY_ASSIGN(double eps, im.cdouble(n, 7));
  if (im.is_none(n, 3) || im.is_none(n, 4)) return im.unsupported(n, "batch_norm without running statistics");
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(std::string mean, im.tensor(n, 3));
  TRY_ASSIGN(std::string var, im.tensor(n, 4));
  const Tensor* mt = im.initializer(mean);
  if (!mt) return im.unsupported(n, "running statistics that are not module buffers");
  const int64_t c = mt->numel();
  std::string scale, bias;
  if (im.is_none(n, 1)) scale = im.const_tensor(Tensor::from_vector<float>(DType::kF32, {c}, std::vector<float>(static_cast<size_t>(c), 1.0f)), "ones");
  else { TRY_ASSIGN(scale, im.tensor(n, 1)); }
  if (im.is_none(n, 2)) bias = im.const_tensor(Tensor(DType::kF32, {c}), "zeros");
  else { TRY_ASSIGN(bias, im.tensor(n, 2)); }
  return im.simple(n, "BatchNormalization", {x, scale, bias, mean, var},
                   attrs({{"epsilon", Attribute::of_float(static_cast<float>(eps))}}));
}

// aten::layer_norm(input, normalized_shape, weight, bias, eps, cudnn_enable)
Status layer_norm(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(auto shape, im.cints(n, 1, 1));
  TRY_ASSIGN(double eps, im.cdouble(n, 4));
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  std::string scale, bias;
  if (im.is_none(n, 2)) scale = im.const_tensor(Tensor::from_vector<float>(DType::kF32, shape, std::vector<float>(static_cast<size_t>(count), 1.0f)), "ones");
  else { TRY_ASSIGN(scale, im.tensor(n, 2)); }
  if (im.is_none(n, 3)) bias = im.const_tensor(Tensor(DType::kF32, shape), "zeros");
  else { TRY_ASSIGN(bias, im.tensor(n, 3)); }
  return im.simple(n, "LayerNormalization", {x, scale, bias},
                   attrs({{"axis", Attribute::of_int(-static_cast<int64_t>(shape.size()))},
                          {"epsilon", Attribute::of_float(static_cast<float>(eps))}}));
}

// aten::linear(input, weight, bias): Gemm(transB) on 2-D inputs, else
// MatMul with the transposed weight (the weight keeps its name either way).
Status linear(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(std::string w, im.tensor(n, 1));
  std::string b;
  if (!im.is_none(n, 2)) { TRY_ASSIGN(b, im.tensor(n, 2)); }
  if (im.rank_of(n, 0) == 2) {
    std::vector<std::string> ins{x, w};
    if (!b.empty()) ins.push_back(b);
    return im.simple(n, "Gemm", ins, attrs({{"transB", Attribute::of_int(1)}}));
  }
  const std::string wt = im.tmp(w + "_t");
  im.emit(n, "Transpose", {w}, {wt}, attrs({{"perm", Attribute::of_ints({1, 0})}}));
  if (b.empty()) return im.simple(n, "MatMul", {x, wt});
  const std::string mm = im.tmp(x + "_matmul");
  im.emit(n, "MatMul", {x, wt}, {mm});
  return im.simple(n, "Add", {mm, b});
}

Status matmul(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string a, im.tensor(n, 0));
  TRY_ASSIGN(std::string b, im.tensor(n, 1));
  return im.simple(n, "MatMul", {a, b}, {}, std::nullopt, std::max(im.rank_of(n, 0), im.rank_of(n, 1)));
}

// aten::addmm(self, mat1, mat2, beta, alpha) = beta*self + alpha*mat1@mat2
Status addmm(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string c, im.tensor(n, 0));
  TRY_ASSIGN(std::string a, im.tensor(n, 1));
  TRY_ASSIGN(std::string b, im.tensor(n, 2));
  double beta = 1, alpha = 1;
  if (n->inputs().size() > 3) { TRY_ASSIGN(beta, im.cdouble(n, 3)); }
  if (n->inputs().size() > 4) { TRY_ASSIGN(alpha, im.cdouble(n, 4)); }
  return im.simple(n, "Gemm", {a, b, c},
                   attrs({{"alpha", Attribute::of_float(static_cast<float>(alpha))},
                          {"beta", Attribute::of_float(static_cast<float>(beta))}}),
                   im.dtype_of(n, 1), 2);
}

Status t_op(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  if (im.rank_of(n, 0) < 2) return identity(im, n);
  return im.simple(n, "Transpose", {x}, attrs({{"perm", Attribute::of_ints({1, 0})}}));
}

// ---- pooling -------------------------------------------------------------------

// aten::max_pool2d(input, kernel, stride, padding, dilation, ceil_mode)
Status max_pool(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(auto k, im.cints(n, 1, 2));
  TRY_ASSIGN(auto s, im.cints(n, 2, k.size()));
  if (s.empty()) s = k;
  TRY_ASSIGN(auto p, im.cints(n, 3, k.size()));
  TRY_ASSIGN(auto d, im.cints(n, 4, k.size()));
  TRY_ASSIGN(bool ceil, im.cbool(n, 5));
  std::vector<int64_t> pads = p;
  pads.insert(pads.end(), p.begin(), p.end());
  return im.simple(n, "MaxPool", {x},
                   attrs({{"kernel_shape", Attribute::of_ints(k)}, {"strides", Attribute::of_ints(s)},
                          {"pads", Attribute::of_ints(pads)}, {"dilations", Attribute::of_ints(d)},
                          {"ceil_mode", Attribute::of_int(ceil)}}));
}

// aten::avg_pool2d(input, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
Status avg_pool(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(auto k, im.cints(n, 1, 2));
  TRY_ASSIGN(auto s, im.cints(n, 2, k.size()));
  if (s.empty()) s = k;
  TRY_ASSIGN(auto p, im.cints(n, 3, k.size()));
  bool ceil = false, cip = true;
  if (n->inputs().size() > 4) { TRY_ASSIGN(ceil, im.cbool(n, 4)); }
  if (n->inputs().size() > 5) { TRY_ASSIGN(cip, im.cbool(n, 5)); }
  std::vector<int64_t> pads = p;
  pads.insert(pads.end(), p.begin(), p.end());
  Attributes a = attrs({{"kernel_shape", Attribute::of_ints(k)}, {"strides", Attribute::of_ints(s)},
                        {"pads", Attribute::of_ints(pads)}, {"ceil_mode", Attribute::of_int(ceil)},
                        {"count_include_pad", Attribute::of_int(cip)}});
  if (n->inputs().size() > 6 && !im.is_none(n, 6)) {
    // divisor_override: sum over the window (mean with padding counted,
    // times the window area) divided by the given divisor.
    TRY_ASSIGN(int64_t div, im.cint(n, 6));
    if (div == 0) return im.err(n, "divisor_override is 0");
    if (ceil) return im.unsupported(n, "divisor_override together with ceil_mode");
    int64_t area = 1;
    for (int64_t v : k) area *= v;
    a["count_include_pad"] = Attribute::of_int(1);
    const std::string mean = im.tmp(x + "_avg");
    im.emit(n, "AveragePool", {x}, {mean}, a);
    return im.simple(n, "Mul", {mean, im.const_f32(static_cast<float>(area) / static_cast<float>(div), "divisor")});
  }
  return im.simple(n, "AveragePool", {x}, a);
}

// adaptive_{avg,max}_pool2d: global pooling for output 1x1, else every
// output cell i along an axis of length L pools [floor(i*L/O), ceil((i+1)*L/O))
// (PyTorch's rule): one Slice + Reduce per row and per column (the pooling is
// separable), with L read from the input's shape at run time.
Status adaptive_pool(Importer& im, const tj::Node* n) {
  const bool is_max = std::string(n->kind().toUnqualString()).find("max") != std::string::npos;
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(auto out, im.cints(n, 1, 2));
  if (is_max && n->outputs().size() > 1 && n->output(1)->hasUses())
    return im.unsupported(n, "adaptive_max_pool2d indices");
  const int r = im.rank_of(n, 0) > 0 ? im.rank_of(n, 0) : static_cast<int>(out.size()) + 2;
  const int first = r - static_cast<int>(out.size());
  bool global = true;
  for (int64_t o : out) global &= o == 1;
  if (global) return im.simple(n, is_max ? "GlobalMaxPool" : "GlobalAveragePool", {x});
  const std::string reduce = is_max ? "ReduceMax" : "ReduceMean";
  std::string cur = x;
  const std::string shape = im.tmp(x + "_shape");
  im.emit(n, "Shape", {x}, {shape});
  for (size_t ax = 0; ax < out.size(); ++ax) {
    const int64_t axis = first + static_cast<int64_t>(ax);
    const int64_t o = out[ax];
    if (o <= 0) return im.err(n, "output size must be positive");
    const std::string len = im.tmp(x + "_len");
    im.emit(n, "Gather", {shape, im.const_i64({axis}, false, "axis")}, {len}, attrs({{"axis", Attribute::of_int(0)}}));
    std::vector<std::string> cells;
    const std::string on = im.const_i64({o}, false, "out_size");
    for (int64_t i = 0; i < o; ++i) {
      // start = floor(i*L/O); end = ceil((i+1)*L/O) = floor(((i+1)*L + O - 1)/O)
      const std::string li = im.tmp("len_x"), start = im.tmp("start"), lj = im.tmp("len_x"), lj2 = im.tmp("len_x"),
                        end = im.tmp("end");
      im.emit(n, "Mul", {len, im.const_i64({i}, false, "i")}, {li});
      im.emit(n, "Div", {li, on}, {start});
      im.emit(n, "Mul", {len, im.const_i64({i + 1}, false, "i")}, {lj});
      im.emit(n, "Add", {lj, im.const_i64({o - 1}, false, "o1")}, {lj2});
      im.emit(n, "Div", {lj2, on}, {end});
      const std::string sl = im.tmp(x + "_cell"), red = im.tmp(x + "_pooled");
      im.emit(n, "Slice", {cur, start, end, im.const_i64({axis}, false, "axes")}, {sl});
      im.emit(n, reduce, {sl}, {red}, attrs({{"axes", Attribute::of_ints({axis})}, {"keepdims", Attribute::of_int(1)}}));
      cells.push_back(red);
    }
    const bool last = ax + 1 == out.size();
    const std::string cat = last ? im.out_name(n) : im.tmp(x + "_pooled_axis");
    im.emit(n, "Concat", cells, {cat}, attrs({{"axis", Attribute::of_int(axis)}}));
    cur = cat;
  }
  im.bind(n, 0, cur, im.dtype_of(n, 0), r);
  return Status::OK();
}

// ---- shape manipulation ----------------------------------------------------------

Status flatten(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(int64_t s, im.cint(n, 1));
  TRY_ASSIGN(int64_t e, im.cint(n, 2));
  const int r = im.rank_of(n, 0);
  if (r >= 0) {
    if (s < 0) s += r;
    if (e < 0) e += r;
    if (r == 0) return im.simple(n, "Reshape", {x, im.const_i64({1}, false, "shape")}, {}, std::nullopt, 1);
    if (s == e) return identity(im, n);
    if (s == 1 && e == r - 1) return im.simple(n, "Flatten", {x}, attrs({{"axis", Attribute::of_int(1)}}), std::nullopt, 2);
    if (s == 0 && e == r - 1) return im.simple(n, "Reshape", {x, im.const_i64({-1}, false, "shape")}, {}, std::nullopt, 1);
    // [d0..d(s-1), -1, d(e+1)..]: the kept dims copied with 0.
    std::vector<int64_t> shape;
    for (int64_t i = 0; i < s; ++i) shape.push_back(0);
    shape.push_back(-1);
    for (int64_t i = e + 1; i < r; ++i) shape.push_back(0);
    // Reshape's 0 copies the input dim at the same index: only valid for
    // the leading dims; trailing dims need their real value.
    if (e + 1 < r) {
      const std::string sh = im.tmp(x + "_shape"), tail = im.tmp(x + "_tail"), full = im.tmp(x + "_newshape");
      im.emit(n, "Shape", {x}, {sh});
      im.emit(n, "Slice", {sh, im.const_i64({e + 1}, false, "start"), im.const_i64({r}, false, "end")}, {tail});
      std::vector<int64_t> head(static_cast<size_t>(s), 0);
      head.push_back(-1);
      im.emit(n, "Concat", {im.const_i64(head, false, "head"), tail}, {full}, attrs({{"axis", Attribute::of_int(0)}}));
      return im.simple(n, "Reshape", {x, full}, {}, std::nullopt, static_cast<int>(s + 1 + (r - e - 1)));
    }
    return im.simple(n, "Reshape", {x, im.const_i64(shape, false, "shape")}, {}, std::nullopt, static_cast<int>(shape.size()));
  }
  if (s == 1 && e == -1) return im.simple(n, "Flatten", {x}, attrs({{"axis", Attribute::of_int(1)}}), std::nullopt, 2);
  // Unknown rank: new shape = shape[:s] ++ [-1] ++ shape[e+1:], read at run time.
  if ((s >= 0) != (e >= 0) && !(s >= 0 && e == -1))
    return im.unsupported(n, "flatten(" + std::to_string(s) + ", " + std::to_string(e) + ") of an input of unknown rank");
  const std::string sh = im.tmp(x + "_shape"), head = im.tmp(x + "_head"), full = im.tmp(x + "_newshape");
  im.emit(n, "Shape", {x}, {sh});
  im.emit(n, "Slice", {sh, im.const_i64({0}, false, "start"), im.const_i64({s}, false, "end")}, {head});
  std::vector<std::string> parts{head, im.const_i64({-1}, false, "minus_one")};
  if (e != -1) {
    const std::string tail = im.tmp(x + "_tail");
    im.emit(n, "Slice", {sh, im.const_i64({e + 1}, false, "start"),
                         im.const_i64({std::numeric_limits<int64_t>::max()}, false, "end")}, {tail});
    parts.push_back(tail);
  }
  im.emit(n, "Concat", parts, {full}, attrs({{"axis", Attribute::of_int(0)}}));
  return im.simple(n, "Reshape", {x, full}, {}, std::nullopt, -1);
}

Status reshape(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(std::string shape, im.int_list_tensor(n, 1));
  int rank = -1;
  const Val& sv = im.val(n->input(1));
  if (sv.kind == Val::Kind::kList) rank = static_cast<int>(sv.elems.size());
  else if (sv.kind == Val::Kind::kConst && sv.iv.isIntList()) rank = static_cast<int>(sv.iv.toIntVector().size());
  // torch's view never copies a dim with 0 the way ONNX Reshape does.
  return im.simple(n, "Reshape", {x, shape}, attrs({{"allowzero", Attribute::of_int(1)}}), std::nullopt, rank);
}

Status transpose(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(int64_t a, im.cint(n, 1));
  TRY_ASSIGN(int64_t b, im.cint(n, 2));
  const int r = im.rank_of(n, 0);
  if (r < 0) return im.unsupported(n, "transpose of an input of unknown rank");
  if (a < 0) a += r;
  if (b < 0) b += r;
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < r; ++i) perm.push_back(i);
  if (a < 0 || b < 0 || a >= r || b >= r) return im.err(n, "dims out of range");
  std::swap(perm[static_cast<size_t>(a)], perm[static_cast<size_t>(b)]);
  return im.simple(n, "Transpose", {x}, attrs({{"perm", Attribute::of_ints(perm)}}));
}

Status permute(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(auto perm, im.cints(n, 1));
  const int64_t r = static_cast<int64_t>(perm.size());
  for (auto& p : perm) if (p < 0) p += r;
  return im.simple(n, "Transpose", {x}, attrs({{"perm", Attribute::of_ints(perm)}}), std::nullopt, static_cast<int>(r));
}

Status squeeze_unsqueeze(Importer& im, const tj::Node* n) {
  const bool un = std::string(n->kind().toUnqualString()).rfind("unsqueeze", 0) == 0;
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  const int r = im.rank_of(n, 0);
  if (n->inputs().size() < 2) {
    if (un) return im.err(n, "unsqueeze needs a dim");
    return im.simple(n, "Squeeze", {x}, {}, std::nullopt, -1);
  }
  TRY_ASSIGN(auto dims, im.cints(n, 1, 1));
  return im.simple(n, un ? "Unsqueeze" : "Squeeze", {x, im.const_i64(dims, false, "axes")}, {}, std::nullopt,
                   r < 0 ? -1 : r + (un ? 1 : -1) * static_cast<int>(dims.size()));
}

Status cat(Importer& im, const tj::Node* n) {
  const Val& lst = im.val(n->input(0));
  if (lst.kind != Val::Kind::kList) return im.unsupported(n, "concatenation of a list that is not known element by element");
  TRY_ASSIGN(int64_t dim, im.cint(n, 1));
  std::vector<std::string> ins;
  DType dt = DType::kF32;
  int r = -1;
  for (const auto& e : lst.elems) {
    if (e.kind != Val::Kind::kTensor) return im.unsupported(n, "a list element is not a tensor");
    ins.push_back(e.name);
    dt = e.dtype;
    r = std::max(r, e.rank);
  }
  const bool stack = std::string(n->kind().toUnqualString()) == "stack";
  if (stack) {
    for (auto& in : ins) {
      const std::string u = im.tmp(in + "_unsq");
      im.emit(n, "Unsqueeze", {in, im.const_i64({dim}, false, "axes")}, {u});
      in = u;
    }
    if (r >= 0) ++r;
  }
  return im.simple(n, "Concat", ins, attrs({{"axis", Attribute::of_int(dim)}}), dt, r);
}

Status bind_list(Importer& im, const tj::Node* n, const std::vector<std::string>& outs, DType dt, int r) {
  if (n->outputs().size() == outs.size() && n->outputs().size() > 1) {
    for (size_t k = 0; k < outs.size(); ++k) im.bind(n, k, outs[k], dt, r);
    return Status::OK();
  }
  Val v;
  v.kind = Val::Kind::kList;
  for (const auto& o : outs) {
    Val e;
    e.kind = Val::Kind::kTensor;
    e.name = o;
    e.dtype = dt;
    e.rank = r;
    v.elems.push_back(e);
  }
  im.set(n->output(), std::move(v));
  return Status::OK();
}

// How many pieces a list-returning op produces: from its ListUnpack user.
size_t unpack_count(const tj::Node* n) {
  for (const auto& use : n->output(0)->uses())
    if (std::string(use.user->kind().toQualString()) == "prim::ListUnpack") return use.user->outputs().size();
  return 0;
}

// chunk / prim::ConstantChunk: equal Split; split(size) and
// split_with_sizes: Slices / Split with the given sizes.
Status chunk(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  int64_t chunks = 0, dim = 0;
  if (std::string(n->kind().toQualString()) == "prim::ConstantChunk") {
    chunks = n->i(c10::Symbol::attr("chunks"));
    dim = n->i(c10::Symbol::attr("dim"));
  } else {
    TRY_ASSIGN(chunks, im.cint(n, 1));
    TRY_ASSIGN(dim, im.cint(n, 2));
  }
  size_t pieces = n->outputs().size() > 1 ? n->outputs().size() : unpack_count(n);
  if (pieces == 0) pieces = static_cast<size_t>(chunks);
  if (static_cast<int64_t>(pieces) != chunks)
    return im.unsupported(n, "chunk into " + std::to_string(chunks) + " pieces of which " + std::to_string(pieces) +
                                 " exist (the dim is not divisible)");
  std::vector<std::string> outs;
  for (size_t k = 0; k < pieces; ++k) outs.push_back(im.tmp(x + "_chunk" + std::to_string(k)));
  im.emit(n, "Split", {x}, outs, attrs({{"axis", Attribute::of_int(dim)}}));
  return bind_list(im, n, outs, im.dtype_of(n, 0), im.rank_of(n, 0));
}

Status split(Importer& im, const tj::Node* n) {
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(int64_t dim, im.cint(n, 2));
  const Val& sv = im.val(n->input(1));
  std::vector<std::string> outs;
  if (sv.kind == Val::Kind::kConst && sv.iv.isInt()) {
    const int64_t size = sv.iv.toInt();
    const size_t pieces = n->outputs().size() > 1 ? n->outputs().size() : unpack_count(n);
    if (pieces == 0) return im.unsupported(n, "split whose number of pieces is not known at import");
    for (size_t k = 0; k < pieces; ++k) {
      const std::string o = im.tmp(x + "_split" + std::to_string(k));
      const int64_t s = static_cast<int64_t>(k) * size;
      const int64_t e = k + 1 == pieces ? std::numeric_limits<int64_t>::max() : s + size;
      im.emit(n, "Slice", {x, im.const_i64({s}, false, "start"), im.const_i64({e}, false, "end"),
                           im.const_i64({dim}, false, "axes")}, {o});
      outs.push_back(o);
    }
  } else {
    TRY_ASSIGN(auto sizes, im.cints(n, 1));
    for (size_t k = 0; k < sizes.size(); ++k) outs.push_back(im.tmp(x + "_split" + std::to_string(k)));
    im.emit(n, "Split", {x, im.const_i64(sizes, false, "split")}, outs, attrs({{"axis", Attribute::of_int(dim)}}));
  }
  return bind_list(im, n, outs, im.dtype_of(n, 0), im.rank_of(n, 0));
}

// aten::mean(input, dims, keepdim, dtype) / aten::sum
Status reduce(Importer& im, const tj::Node* n) {
  const std::string k = n->kind().toUnqualString();
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  const int r = im.rank_of(n, 0);
  if (n->inputs().size() <= 2) {  // mean(x[, dtype]): everything
    return im.simple(n, k == "sum" ? "ReduceSum" : "ReduceMean", {x}, attrs({{"keepdims", Attribute::of_int(0)}}), std::nullopt, 0);
  }
  TRY_ASSIGN(auto dims, im.cints(n, 1, 1));
  TRY_ASSIGN(bool keep, im.cbool(n, 2));
  const int nr = r < 0 ? -1 : keep ? r : r - static_cast<int>(dims.size());
  if (k == "sum")
    return im.simple(n, "ReduceSum", {x, im.const_i64(dims, false, "axes")}, attrs({{"keepdims", Attribute::of_int(keep)}}),
                     std::nullopt, nr);
  return im.simple(n, "ReduceMean", {x}, attrs({{"axes", Attribute::of_ints(dims)}, {"keepdims", Attribute::of_int(keep)}}),
                   std::nullopt, nr);
}

// aten::upsample_{nearest,bilinear,bicubic}{1,2,3}d(input, output_size?, [align_corners,] scale_factors?)
// (the .vec overloads F.interpolate records) and the older ones with scales_h/w.
Status upsample(Importer& im, const tj::Node* n) {
  const std::string k = n->kind().toUnqualString();
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  const bool nearest = k.find("nearest") != std::string::npos;
  const bool exact = k.find("exact") != std::string::npos;
  const bool cubic = k.find("bicubic") != std::string::npos;
  const size_t sp = k.back() == '1' ? 1 : k.back() == '3' ? 3 : 2;
  bool align = false;
  size_t next = 2;
  if (!nearest) {
    TRY_ASSIGN(align, im.cbool(n, 2));
    next = 3;
  }
  Attributes a;
  a["mode"] = Attribute::of_string(nearest ? "nearest" : cubic ? "cubic" : "linear");
  if (nearest) {
    a["coordinate_transformation_mode"] = Attribute::of_string(exact ? "half_pixel" : "asymmetric");
    a["nearest_mode"] = Attribute::of_string(exact ? "round_prefer_ceil" : "floor");
  } else {
    a["coordinate_transformation_mode"] = Attribute::of_string(align ? "align_corners" : "pytorch_half_pixel");
    if (cubic) a["cubic_coeff_a"] = Attribute::of_float(-0.75f);
  }
  std::vector<double> scales;
  const bool vec_overload = n->inputs().size() == next + 1 &&
                            (im.is_none(n, next) || im.val(n->input(next)).kind == Val::Kind::kList ||
                             (im.is_const(n, next) && im.val(n->input(next)).iv.isDoubleList()));
  if (vec_overload && !im.is_none(n, next)) { TRY_ASSIGN(scales, im.cdoubles(n, next)); }
  if (!vec_overload) {
    // (input, output_size, [align_corners,] scales_h?, scales_w?): scales
    // only matter for coordinates, which PyTorch computes from them when given.
    for (size_t i = next; i < n->inputs().size(); ++i) {
      if (im.is_none(n, i)) { scales.clear(); break; }
      TRY_ASSIGN(double s, im.cdouble(n, i));
      scales.push_back(s);
    }
  }
  if (!scales.empty()) {
    if (scales.size() == 1) scales.assign(sp, scales[0]);
    std::vector<float> s4{1.0f, 1.0f};
    for (double s : scales) s4.push_back(static_cast<float>(s));
    const std::string sc = im.const_tensor(Tensor::from_vector<float>(DType::kF32, {static_cast<int64_t>(s4.size())}, s4), "scales");
    return im.simple(n, "Resize", {x, "", sc}, a);
  }
  if (im.is_none(n, 1)) return im.err(n, "neither output_size nor scale_factors given");
  TRY_ASSIGN(std::string size, im.int_list_tensor(n, 1));
  const std::string sh = im.tmp(x + "_shape"), nc = im.tmp(x + "_nc"), sizes = im.tmp(x + "_sizes");
  im.emit(n, "Shape", {x}, {sh});
  im.emit(n, "Slice", {sh, im.const_i64({0}, false, "start"), im.const_i64({2}, false, "end")}, {nc});
  im.emit(n, "Concat", {nc, size}, {sizes}, attrs({{"axis", Attribute::of_int(0)}}));
  return im.simple(n, "Resize", {x, "", "", sizes}, a);
}

// aten::pad(input, pad, mode, value), constant_pad_nd(input, pad, value),
// reflection_padNd / replication_padNd(input, pad). torch's pad list runs
// from the last dim backwards: (last_begin, last_end, prev_begin, ...).
Status pad(Importer& im, const tj::Node* n) {
  const std::string k = n->kind().toUnqualString();
  TRY_ASSIGN(std::string x, im.tensor(n, 0));
  TRY_ASSIGN(auto p, im.cints(n, 1));
  std::string mode = "constant";
  double value = 0;
  if (k == "pad") {
    if (n->inputs().size() > 2 && im.is_const(n, 2) && im.val(n->input(2)).iv.isString()) mode = im.val(n->input(2)).iv.toStringRef();
    if (n->inputs().size() > 3 && !im.is_none(n, 3)) { TRY_ASSIGN(value, im.cdouble(n, 3)); }
  } else if (k == "constant_pad_nd") {
    if (n->inputs().size() > 2) { TRY_ASSIGN(value, im.cdouble(n, 2)); }
  } else if (k.rfind("reflection", 0) == 0) {
    mode = "reflect";
  } else {
    mode = "edge";
  }
  if (mode == "replicate") mode = "edge";
  if (mode == "circular") return im.unsupported(n, "circular padding");
  const int r = im.rank_of(n, 0);
  if (p.size() % 2) return im.err(n, "pad list has an odd length");
  if (r < 0) {
    // Unknown rank: pads = [0]*(rank-k) ++ begins ++ [0]*(rank-k) ++ ends,
    // with rank read from the input's shape at run time.
    const int64_t k = static_cast<int64_t>(p.size() / 2);
    std::vector<int64_t> b, e;
    for (int64_t i = k - 1; i >= 0; --i) {
      b.push_back(p[static_cast<size_t>(2 * i)]);
      e.push_back(p[static_cast<size_t>(2 * i + 1)]);
    }
    const std::string sh = im.tmp(x + "_shape"), rk = im.tmp(x + "_rank"), lead = im.tmp(x + "_lead"),
                      zeros = im.tmp(x + "_zeros"), pads = im.tmp(x + "_pads");
    im.emit(n, "Shape", {x}, {sh});
    im.emit(n, "Shape", {sh}, {rk});
    im.emit(n, "Sub", {rk, im.const_i64({k}, false, "k")}, {lead});
    Attributes za;
    za["value"] = Attribute::of_tensor(Tensor::from_vector<int64_t>(DType::kI64, {1}, {0}));
    im.emit(n, "ConstantOfShape", {lead}, {zeros}, za);
    im.emit(n, "Concat", {zeros, im.const_i64(b, false, "pads_begin"), zeros, im.const_i64(e, false, "pads_end")}, {pads},
            attrs({{"axis", Attribute::of_int(0)}}));
    std::vector<std::string> ins{x, pads};
    if (mode == "constant") ins.push_back(im.const_f32(static_cast<float>(value), "pad_value"));
    return im.simple(n, "Pad", ins, attrs({{"mode", Attribute::of_string(mode)}}));
  }
  if (static_cast<int>(p.size() / 2) > r) return im.err(n, "pad list is longer than the input's rank");
  std::vector<int64_t> pads(static_cast<size_t>(2 * r), 0);
  for (size_t i = 0; i < p.size() / 2; ++i) {
    const size_t d = static_cast<size_t>(r) - 1 - i;
    pads[d] = p[2 * i];
    pads[d + static_cast<size_t>(r)] = p[2 * i + 1];
  }
  std::vector<std::string> ins{x, im.const_i64(pads, false, "pads")};
  if (mode == "constant") ins.push_back(im.const_f32(static_cast<float>(value), "pad_value"));
  return im.simple(n, "Pad", ins, attrs({{"mode", Attribute::of_string(mode)}}));
}

}  // namespace

const std::unordered_map<std::string, OpHandler>& op_handlers() {
  static const std::unordered_map<std::string, OpHandler> t = {
      // structure, pass-through
      {"prim::ListConstruct", list_construct}, {"prim::TupleConstruct", list_construct},
      {"prim::ListUnpack", list_unpack}, {"prim::TupleUnpack", list_unpack},
      {"prim::TupleIndex", list_index}, {"aten::__getitem__", list_index},
      {"aten::__is__", is_op}, {"aten::__isnot__", is_op},
      {"prim::NumToTensor", identity}, {"aten::Int", to_number}, {"aten::Float", to_number},
      {"prim::Uninitialized", unset}, {"prim::RaiseException", raise}, {"aten::warn", no_op},
      {"aten::dim", dim}, {"aten::len", len}, {"aten::append", append}, {"prim::Loop", loop},
      {"prim::unchecked_cast", identity}, {"aten::list", identity}, {"aten::format", unset},
      {"aten::str", unset}, {"aten::__contains__", contains},
      {"aten::__not__", bool_op}, {"aten::__and__", bool_op}, {"aten::__or__", bool_op}, {"aten::__xor__", bool_op},
      {"aten::ScalarImplicit", identity}, {"aten::contiguous", identity}, {"aten::clone", identity},
      {"aten::detach", identity}, {"aten::dropout", dropout}, {"aten::dropout_", dropout},
      {"aten::feature_dropout", dropout}, {"aten::feature_dropout_", dropout},
      {"aten::alpha_dropout", dropout}, {"aten::alpha_dropout_", dropout},
      {"aten::size", size}, {"aten::slice", slice},
      // arithmetic
      {"aten::add", binary}, {"aten::add_", binary}, {"aten::sub", binary}, {"aten::sub_", binary},
      {"aten::mul", binary}, {"aten::mul_", binary}, {"aten::div", binary}, {"aten::div_", binary},
      {"aten::floordiv", binary}, {"aten::floor_divide", binary}, {"aten::rsub", binary},
      {"aten::pow", binary},
      {"aten::gt", compare}, {"aten::lt", compare}, {"aten::ge", compare}, {"aten::le", compare},
      {"aten::eq", compare}, {"aten::ne", compare}, {"aten::Bool", identity},
      // activations
      {"aten::relu", relu}, {"aten::relu_", relu}, {"aten::relu6", relu6}, {"aten::relu6_", relu6},
      {"aten::hardtanh", hardtanh}, {"aten::hardtanh_", hardtanh}, {"aten::clamp", clamp}, {"aten::clamp_", clamp},
      {"aten::hardswish", hardswish}, {"aten::hardswish_", hardswish},
      {"aten::hardsigmoid", hardsigmoid}, {"aten::hardsigmoid_", hardsigmoid},
      {"aten::silu", silu}, {"aten::silu_", silu}, {"aten::sigmoid", sigmoid}, {"aten::sigmoid_", sigmoid},
      {"aten::tanh", tanh_op}, {"aten::tanh_", tanh_op}, {"aten::gelu", gelu},
      {"aten::leaky_relu", leaky_relu}, {"aten::leaky_relu_", leaky_relu}, {"aten::prelu", prelu},
      {"aten::elu", elu}, {"aten::elu_", elu},
      {"aten::softmax", softmax}, {"aten::log_softmax", softmax},
      {"aten::abs", abs_op}, {"aten::neg", neg_op}, {"aten::exp", exp_op}, {"aten::log", log_op},
      {"aten::sqrt", sqrt_op}, {"aten::erf", erf_op}, {"aten::floor", floor_op}, {"aten::ceil", ceil_op},
      {"aten::reciprocal", reciprocal},
      // layers
      {"aten::_convolution", convolution_}, {"aten::conv1d", convnd}, {"aten::conv2d", convnd},
      {"aten::conv3d", convnd}, {"aten::_convolution_mode", convnd}, {"aten::batch_norm", batch_norm}, {"aten::layer_norm", layer_norm}, {"aten::linear", linear},
      {"aten::matmul", matmul}, {"aten::mm", matmul}, {"aten::bmm", matmul}, {"aten::addmm", addmm},
      {"aten::t", t_op},
      {"aten::max_pool1d", max_pool}, {"aten::max_pool2d", max_pool}, {"aten::max_pool3d", max_pool},
      {"aten::avg_pool1d", avg_pool}, {"aten::avg_pool2d", avg_pool}, {"aten::avg_pool3d", avg_pool},
      {"aten::adaptive_avg_pool1d", adaptive_pool}, {"aten::adaptive_avg_pool2d", adaptive_pool},
      {"aten::adaptive_avg_pool3d", adaptive_pool}, {"aten::adaptive_max_pool2d", adaptive_pool},
      // shapes
      {"aten::flatten", flatten}, {"aten::view", reshape}, {"aten::reshape", reshape},
      {"aten::transpose", transpose}, {"aten::transpose_", transpose}, {"aten::permute", permute},
      {"aten::squeeze", squeeze_unsqueeze}, {"aten::unsqueeze", squeeze_unsqueeze},
      {"aten::cat", cat}, {"aten::concat", cat}, {"aten::stack", cat},
      {"aten::chunk", chunk}, {"prim::ConstantChunk", chunk}, {"aten::split", split},
      {"aten::split_with_sizes", split},
      {"aten::mean", reduce}, {"aten::sum", reduce},
      {"aten::upsample_nearest1d", upsample}, {"aten::upsample_nearest2d", upsample},
      {"aten::upsample_nearest3d", upsample}, {"aten::_upsample_nearest_exact2d", upsample},
      {"aten::upsample_bilinear2d", upsample}, {"aten::upsample_linear1d", upsample},
      {"aten::upsample_bicubic2d", upsample},
      {"aten::pad", pad}, {"aten::constant_pad_nd", pad}, {"aten::reflection_pad1d", pad},
      {"aten::reflection_pad2d", pad}, {"aten::replication_pad1d", pad}, {"aten::replication_pad2d", pad},
  };
  return t;
}

}  // namespace convfix::tsfmt
