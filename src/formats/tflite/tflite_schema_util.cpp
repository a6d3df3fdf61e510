#include "tflite_schema_util.h"


#include <cctype>
#include <limits>
#include <map>
#include <unordered_map>
#include <vector>

#include "tflite_schema_bfbs_generated.h"

namespace convfix::tflitefmt {

namespace {

using reflection::BaseType;

// Tables built once from the embedded binary schema.
struct SchemaTables {
  const reflection::Schema* schema = nullptr;
  std::map<int32_t, std::string> op_name;
  std::unordered_map<std::string, int32_t> op_code;
  std::map<std::pair<int, uint8_t>, OptionsKind> kind_by_code;
  std::unordered_map<std::string, OptionsKind> kind_by_name;
  std::unordered_map<std::string, OptionsKind> kind_by_normalized;  // "conv2doptions"
};

std::string normalized(const std::string& s) {
  std::string r;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c))) r += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// Linear search by name (LookupByKey's inlined strcmp trips GCC 12's
// -Wstringop-overread false positive under ASan builds).
const reflection::Enum* find_enum(const reflection::Schema* s, const std::string& name) {
  for (const auto* e : *s->enums())
    if (e->name()->str() == name) return e;
  return nullptr;
}

const SchemaTables& tables() {
  static const SchemaTables t = [] {
    SchemaTables r;
    flatbuffers::Verifier v(tflite::ModelBinarySchema::data(), tflite::ModelBinarySchema::size());
    // The schema is compiled into the program; a failure here is a build bug.
    if (!reflection::VerifySchemaBuffer(v)) return r;
    r.schema = reflection::GetSchema(tflite::ModelBinarySchema::data());
    if (const auto* ops = find_enum(r.schema, "tflite.BuiltinOperator")) {
      for (const auto* ev : *ops->values()) {
        r.op_name[static_cast<int32_t>(ev->value())] = ev->name()->str();
        r.op_code[ev->name()->str()] = static_cast<int32_t>(ev->value());
      }
    }
    const char* unions[2] = {"tflite.BuiltinOptions", "tflite.BuiltinOptions2"};
    for (int w = 1; w <= 2; ++w) {
      const auto* u = find_enum(r.schema, unions[w - 1]);
      if (!u) continue;
      for (const auto* ev : *u->values()) {
        if (ev->value() == 0) continue;  // NONE
        OptionsKind k;
        k.which = w;
        k.type = static_cast<uint8_t>(ev->value());
        k.name = ev->name()->str();
        const auto* ut = ev->union_type();
        if (ut && ut->index() >= 0 && static_cast<uint32_t>(ut->index()) < r.schema->objects()->size())
          k.obj = r.schema->objects()->Get(static_cast<uint32_t>(ut->index()));
        if (!k.obj) continue;
        r.kind_by_code[{w, k.type}] = k;
        r.kind_by_name[k.name] = k;
        r.kind_by_normalized[normalized(k.name)] = k;
      }
    }
    return r;
  }();
  return t;
}

bool is_scalar(BaseType t) { return t >= reflection::Bool && t <= reflection::Double; }
bool is_float(BaseType t) { return t == reflection::Float || t == reflection::Double; }

const reflection::Enum* enum_of(const reflection::Type* type) {
  const auto* s = tables().schema;
  if (type->index() < 0 || static_cast<uint32_t>(type->index()) >= s->enums()->size()) return nullptr;
  return s->enums()->Get(static_cast<uint32_t>(type->index()));
}

std::optional<std::string> enum_value_name(const reflection::Enum* e, int64_t v) {
  if (!e) return std::nullopt;
  for (const auto* ev : *e->values())
    if (ev->value() == v) return ev->name()->str();
  return std::nullopt;
}

std::optional<int64_t> enum_value_of(const reflection::Enum* e, const std::string& name) {
  if (!e) return std::nullopt;
  for (const auto* ev : *e->values())
    if (ev->name()->str() == name) return ev->value();
  return std::nullopt;
}

int64_t read_int(const flatbuffers::Table* t, const reflection::Field& f) {
  const auto off = f.offset();
  const int64_t d = f.default_integer();
  if (!t) return d;
  switch (f.type()->base_type()) {
    case reflection::Bool:
    case reflection::UByte: return t->GetField<uint8_t>(off, static_cast<uint8_t>(d));
    case reflection::Byte: return t->GetField<int8_t>(off, static_cast<int8_t>(d));
    case reflection::Short: return t->GetField<int16_t>(off, static_cast<int16_t>(d));
    case reflection::UShort: return t->GetField<uint16_t>(off, static_cast<uint16_t>(d));
    case reflection::Int: return t->GetField<int32_t>(off, static_cast<int32_t>(d));
    case reflection::UInt: return t->GetField<uint32_t>(off, static_cast<uint32_t>(d));
    case reflection::Long: return t->GetField<int64_t>(off, d);
    case reflection::ULong: return static_cast<int64_t>(t->GetField<uint64_t>(off, static_cast<uint64_t>(d)));
    default: return d;
  }
}

template <typename T>
void ints_of_vector(const flatbuffers::Table* t, uint16_t off, std::vector<int64_t>& out) {
  const auto* v = t->GetPointer<const flatbuffers::Vector<T>*>(off);
  if (!v) return;
  out.reserve(v->size());
  for (auto x : *v) out.push_back(static_cast<int64_t>(x));
}

// Integer range of a scalar base type, for checking attribute values.
bool fits(BaseType t, int64_t v) {
  switch (t) {
    case reflection::Bool: return v == 0 || v == 1;
    case reflection::UByte: return v >= 0 && v <= 255;
    case reflection::Byte: return v >= -128 && v <= 127;
    case reflection::Short: return v >= INT16_MIN && v <= INT16_MAX;
    case reflection::UShort: return v >= 0 && v <= UINT16_MAX;
    case reflection::Int: return v >= INT32_MIN && v <= INT32_MAX;
    case reflection::UInt: return v >= 0 && v <= static_cast<int64_t>(UINT32_MAX);
    default: return true;
  }
}

void add_scalar(flatbuffers::FlatBufferBuilder& b, const reflection::Field& f, int64_t v) {
  const auto off = f.offset();
  const int64_t d = f.default_integer();
  switch (f.type()->base_type()) {
    case reflection::Bool:
    case reflection::UByte: b.AddElement<uint8_t>(off, static_cast<uint8_t>(v), static_cast<uint8_t>(d)); break;
    case reflection::Byte: b.AddElement<int8_t>(off, static_cast<int8_t>(v), static_cast<int8_t>(d)); break;
    case reflection::Short: b.AddElement<int16_t>(off, static_cast<int16_t>(v), static_cast<int16_t>(d)); break;
    case reflection::UShort: b.AddElement<uint16_t>(off, static_cast<uint16_t>(v), static_cast<uint16_t>(d)); break;
    case reflection::Int: b.AddElement<int32_t>(off, static_cast<int32_t>(v), static_cast<int32_t>(d)); break;
    case reflection::UInt: b.AddElement<uint32_t>(off, static_cast<uint32_t>(v), static_cast<uint32_t>(d)); break;
    case reflection::Long: b.AddElement<int64_t>(off, v, d); break;
    case reflection::ULong: b.AddElement<uint64_t>(off, static_cast<uint64_t>(v), static_cast<uint64_t>(d)); break;
    default: break;
  }
}

template <typename T>
flatbuffers::uoffset_t make_int_vector(flatbuffers::FlatBufferBuilder& b, const std::vector<int64_t>& v) {
  std::vector<T> tmp(v.begin(), v.end());
  return b.CreateVector(tmp).o;
}

}  // namespace

bool OptionsKind::has_fields() const {
  if (!obj) return false;
  for (const auto* f : *obj->fields())
    if (!f->deprecated()) return true;
  return false;
}

bool OptionsKind::has_scalar_fields() const {
  if (!obj) return false;
  for (const auto* f : *obj->fields())
    if (!f->deprecated() && is_scalar(f->type()->base_type())) return true;
  return false;
}

std::string builtin_op_name(int32_t code) {
  const auto& t = tables();
  auto it = t.op_name.find(code);
  if (it != t.op_name.end()) return it->second;
  return "BUILTIN_" + std::to_string(code);
}

std::optional<int32_t> builtin_op_code(const std::string& name) {
  const auto& t = tables();
  auto it = t.op_code.find(name);
  if (it != t.op_code.end()) return it->second;
  if (name.rfind("BUILTIN_", 0) == 0 && name.size() > 8 && name.size() <= 18) {
    int64_t v = 0;
    for (size_t i = 8; i < name.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(name[i]))) return std::nullopt;
      v = v * 10 + (name[i] - '0');
    }
    if (v <= INT32_MAX) return static_cast<int32_t>(v);
  }
  return std::nullopt;
}

std::optional<OptionsKind> options_kind_by_code(int which, uint8_t type) {
  if (type == 0) return OptionsKind{0, 0, nullptr, "NONE"};
  const auto& t = tables();
  auto it = t.kind_by_code.find({which, type});
  if (it == t.kind_by_code.end()) return std::nullopt;
  return it->second;
}

std::optional<OptionsKind> options_kind_by_name(const std::string& name) {
  if (name == "NONE") return OptionsKind{0, 0, nullptr, "NONE"};
  const auto& t = tables();
  auto it = t.kind_by_name.find(name);
  if (it == t.kind_by_name.end()) return std::nullopt;
  return it->second;
}

OptionsKind standard_options_for_op(const std::string& op) {
  // Ops whose options table is not named after the op.
  static const std::unordered_map<std::string, std::string> kShared = {
      {"AVERAGE_POOL_2D", "Pool2DOptions"},       {"MAX_POOL_2D", "Pool2DOptions"},
      {"L2_POOL_2D", "Pool2DOptions"},            {"MEAN", "ReducerOptions"},
      {"SUM", "ReducerOptions"},                  {"REDUCE_PROD", "ReducerOptions"},
      {"REDUCE_MAX", "ReducerOptions"},           {"REDUCE_MIN", "ReducerOptions"},
      {"REDUCE_ANY", "ReducerOptions"},           {"REDUCE_ALL", "ReducerOptions"},
      {"MAXIMUM", "MaximumMinimumOptions"},       {"MINIMUM", "MaximumMinimumOptions"},
      {"L2_NORMALIZATION", "L2NormOptions"},      {"UNIDIRECTIONAL_SEQUENCE_RNN", "SequenceRNNOptions"},
      {"CONV_3D_TRANSPOSE", "Conv3DOptions"},     {"RANDOM_STANDARD_NORMAL", "RandomOptions"},
      {"RANDOM_UNIFORM", "RandomOptions"},        {"MULTINOMIAL", "RandomOptions"},
  };
  auto it = kShared.find(op);
  if (it != kShared.end()) {
    if (auto k = options_kind_by_name(it->second)) return *k;
  }
  const auto& t = tables();
  auto jt = t.kind_by_normalized.find(normalized(op) + "options");
  if (jt != t.kind_by_normalized.end()) return jt->second;
  return OptionsKind{0, 0, nullptr, "NONE"};
}

void read_options(const OptionsKind& kind, const flatbuffers::Table* t, Attributes& out) {
  if (!kind.obj) return;
  for (const auto* f : *kind.obj->fields()) {
    if (f->deprecated()) continue;
    const std::string name = f->name()->str();
    const BaseType bt = f->type()->base_type();
    if (is_scalar(bt)) {
      if (is_float(bt)) {
        double v = f->default_real();
        if (t) v = bt == reflection::Float ? t->GetField<float>(f->offset(), static_cast<float>(v))
                                           : t->GetField<double>(f->offset(), v);
        out[name] = Attribute::of_float(static_cast<float>(v));
        continue;
      }
      const int64_t v = read_int(t, *f);
      if (auto en = enum_value_name(enum_of(f->type()), v); en && bt != reflection::Bool)
        out[name] = Attribute::of_string(*en);
      else
        out[name] = Attribute::of_int(v);
      continue;
    }
    if (!t) continue;
    if (bt == reflection::String) {
      if (const auto* s = t->GetPointer<const flatbuffers::String*>(f->offset())) out[name] = Attribute::of_string(s->str());
      continue;
    }
    if (bt != reflection::Vector) continue;  // options tables hold no nested tables
    const BaseType et = f->type()->element();
    const auto off = f->offset();
    if (!t->GetPointer<const void*>(off)) continue;
    if (et == reflection::Float) {
      const auto* v = t->GetPointer<const flatbuffers::Vector<float>*>(off);
      out[name] = Attribute::of_floats({v->begin(), v->end()});
      continue;
    }
    if (et == reflection::Double) {
      const auto* v = t->GetPointer<const flatbuffers::Vector<double>*>(off);
      std::vector<float> fl;
      for (double d : *v) fl.push_back(static_cast<float>(d));
      out[name] = Attribute::of_floats(std::move(fl));
      continue;
    }
    if (et == reflection::UByte && f->type()->index() < 0) {
      const auto* v = t->GetPointer<const flatbuffers::Vector<uint8_t>*>(off);
      Attribute a;
      a.kind = Attribute::Kind::kOpaque;
      a.s.assign(reinterpret_cast<const char*>(v->data()), v->size());
      out[name] = std::move(a);
      continue;
    }
    std::vector<int64_t> ints;
    switch (et) {
      case reflection::Bool:
      case reflection::UByte: ints_of_vector<uint8_t>(t, off, ints); break;
      case reflection::Byte: ints_of_vector<int8_t>(t, off, ints); break;
      case reflection::Short: ints_of_vector<int16_t>(t, off, ints); break;
      case reflection::UShort: ints_of_vector<uint16_t>(t, off, ints); break;
      case reflection::Int: ints_of_vector<int32_t>(t, off, ints); break;
      case reflection::UInt: ints_of_vector<uint32_t>(t, off, ints); break;
      case reflection::Long: ints_of_vector<int64_t>(t, off, ints); break;
      case reflection::ULong: ints_of_vector<uint64_t>(t, off, ints); break;
      default: continue;
    }
    const reflection::Enum* e = et == reflection::Bool ? nullptr : enum_of(f->type());
    if (e) {
      std::vector<std::string> names;
      bool all = true;
      for (int64_t x : ints) {
        auto n = enum_value_name(e, x);
        if (!n) { all = false; break; }
        names.push_back(*n);
      }
      if (all) { out[name] = Attribute::of_strings(std::move(names)); continue; }
    }
    out[name] = Attribute::of_ints(std::move(ints));
  }
}

Expected<flatbuffers::uoffset_t> write_options(flatbuffers::FlatBufferBuilder& b, const OptionsKind& kind,
                                               const Attributes& attrs, std::set<std::string>& used) {
  if (!kind.obj) return internal_error("options table '" + kind.name + "' unknown to the schema");
  const std::string tname = kind.name;
  struct Pending { uint16_t off; flatbuffers::uoffset_t val; };
  std::vector<Pending> offsets;
  // Strings and vectors go before the table (FlatBuffers builds bottom-up).
  for (const auto* f : *kind.obj->fields()) {
    if (f->deprecated()) continue;
    const std::string name = f->name()->str();
    const BaseType bt = f->type()->base_type();
    auto it = attrs.find(name);
    if (it == attrs.end() || is_scalar(bt)) continue;
    const Attribute& a = it->second;
    auto bad = [&](const char* want) {
      return invalid_argument("attribute '" + name + "' of " + tname + " must be " + want);
    };
    if (bt == reflection::String) {
      if (a.kind != Attribute::Kind::kString && a.kind != Attribute::Kind::kOpaque) return bad("a string");
      offsets.push_back({f->offset(), b.CreateString(a.s).o});
      used.insert(name);
      continue;
    }
    if (bt != reflection::Vector) continue;
    const BaseType et = f->type()->element();
    if (et == reflection::Float || et == reflection::Double) {
      std::vector<float> fl;
      if (a.kind == Attribute::Kind::kFloats) fl = a.floats;
      else if (a.kind == Attribute::Kind::kInts) for (int64_t x : a.ints) fl.push_back(static_cast<float>(x));
      else return bad("a list of floats");
      if (et == reflection::Float) {
        offsets.push_back({f->offset(), b.CreateVector(fl).o});
      } else {
        std::vector<double> d(fl.begin(), fl.end());
        offsets.push_back({f->offset(), b.CreateVector(d).o});
      }
      used.insert(name);
      continue;
    }
    std::vector<int64_t> ints;
    if (a.kind == Attribute::Kind::kOpaque || (a.kind == Attribute::Kind::kString && et == reflection::UByte)) {
      for (unsigned char c : a.s) ints.push_back(c);
    } else if (a.kind == Attribute::Kind::kInts) {
      ints = a.ints;
    } else if (a.kind == Attribute::Kind::kStrings) {
      const reflection::Enum* e = enum_of(f->type());
      for (const auto& s : a.strings) {
        auto v = enum_value_of(e, s);
        if (!v) return invalid_argument("attribute '" + name + "' of " + tname + ": '" + s + "' is not a value of its enum");
        ints.push_back(*v);
      }
    } else {
      return bad("a list of integers");
    }
    for (int64_t x : ints)
      if (!fits(et, x)) return invalid_argument("attribute '" + name + "' of " + tname + ": value " + std::to_string(x) + " out of range");
    flatbuffers::uoffset_t o = 0;
    switch (et) {
      case reflection::Bool:
      case reflection::UByte: o = make_int_vector<uint8_t>(b, ints); break;
      case reflection::Byte: o = make_int_vector<int8_t>(b, ints); break;
      case reflection::Short: o = make_int_vector<int16_t>(b, ints); break;
      case reflection::UShort: o = make_int_vector<uint16_t>(b, ints); break;
      case reflection::Int: o = make_int_vector<int32_t>(b, ints); break;
      case reflection::UInt: o = make_int_vector<uint32_t>(b, ints); break;
      case reflection::Long: o = make_int_vector<int64_t>(b, ints); break;
      case reflection::ULong: o = make_int_vector<uint64_t>(b, ints); break;
      default: return internal_error("option field '" + name + "' has an unsupported element type");
    }
    offsets.push_back({f->offset(), o});
    used.insert(name);
  }
  // Check and convert the scalars before starting the table.
  struct Scalar { const reflection::Field* f; int64_t i; double d; };
  std::vector<Scalar> scalars;
  for (const auto* f : *kind.obj->fields()) {
    if (f->deprecated()) continue;
    const BaseType bt = f->type()->base_type();
    if (!is_scalar(bt)) continue;
    const std::string name = f->name()->str();
    auto it = attrs.find(name);
    if (it == attrs.end()) continue;
    const Attribute& a = it->second;
    used.insert(name);
    if (is_float(bt)) {
      if (a.kind == Attribute::Kind::kFloat) scalars.push_back({f, 0, a.f});
      else if (a.kind == Attribute::Kind::kInt) scalars.push_back({f, 0, static_cast<double>(a.i)});
      else return invalid_argument("attribute '" + name + "' of " + tname + " must be a float");
      continue;
    }
    int64_t v = 0;
    if (a.kind == Attribute::Kind::kInt) {
      v = a.i;
    } else if (a.kind == Attribute::Kind::kString) {
      auto ev = enum_value_of(enum_of(f->type()), a.s);
      if (!ev) return invalid_argument("attribute '" + name + "' of " + tname + ": '" + a.s + "' is not a value of its enum");
      v = *ev;
    } else {
      return invalid_argument("attribute '" + name + "' of " + tname + " must be an integer or enum name");
    }
    if (!fits(bt, v)) return invalid_argument("attribute '" + name + "' of " + tname + ": value " + std::to_string(v) + " out of range");
    scalars.push_back({f, v, 0});
  }
  const auto start = b.StartTable();
  for (const auto& s : scalars) {
    const BaseType bt = s.f->type()->base_type();
    if (bt == reflection::Float)
      b.AddElement<float>(s.f->offset(), static_cast<float>(s.d), static_cast<float>(s.f->default_real()));
    else if (bt == reflection::Double)
      b.AddElement<double>(s.f->offset(), s.d, s.f->default_real());
    else
      add_scalar(b, *s.f, s.i);
  }
  for (const auto& p : offsets) b.AddOffset(p.off, flatbuffers::Offset<void>(p.val));
  return b.EndTable(start);
}

bool is_subgraph_field(const std::string& field) {
  const std::string suffix = "subgraph_index";
  return field == "subgraph" || field == "called_computations" ||
         (field.size() >= suffix.size() && field.compare(field.size() - suffix.size(), suffix.size(), suffix) == 0);
}

std::optional<DType> dtype_from_tflite(tflite::TensorType t) {
  using TT = tflite::TensorType;
  switch (t) {
    case TT::FLOAT32: return DType::kF32;
    case TT::FLOAT16: return DType::kF16;
    case TT::INT32: return DType::kI32;
    case TT::UINT8: return DType::kU8;
    case TT::INT64: return DType::kI64;
    case TT::STRING: return DType::kString;
    case TT::BOOL: return DType::kBool;
    case TT::INT16: return DType::kI16;
    case TT::INT8: return DType::kI8;
    case TT::FLOAT64: return DType::kF64;
    case TT::UINT64: return DType::kU64;
    case TT::UINT32: return DType::kU32;
    case TT::UINT16: return DType::kU16;
    case TT::INT4: return DType::kI8;
    default: return std::nullopt;
  }
}

std::optional<tflite::TensorType> dtype_to_tflite(DType d) {
  using TT = tflite::TensorType;
  switch (d) {
    case DType::kF32: return TT::FLOAT32;
    case DType::kF16: return TT::FLOAT16;
    case DType::kI32: return TT::INT32;
    case DType::kU8: return TT::UINT8;
    case DType::kI64: return TT::INT64;
    case DType::kString: return TT::STRING;
    case DType::kBool: return TT::BOOL;
    case DType::kI16: return TT::INT16;
    case DType::kI8: return TT::INT8;
    case DType::kF64: return TT::FLOAT64;
    case DType::kU64: return TT::UINT64;
    case DType::kU32: return TT::UINT32;
    case DType::kU16: return TT::UINT16;
    default: return std::nullopt;
  }
}

std::string tensor_type_name(tflite::TensorType t) {
  const char* n = tflite::EnumNameTensorType(t);
  if (n && *n) return n;
  return "TYPE_" + std::to_string(static_cast<int>(t));
}

std::optional<tflite::TensorType> tensor_type_from_name(const std::string& name) {
  for (auto t : tflite::EnumValuesTensorType())
    if (name == tflite::EnumNameTensorType(t)) return t;
  return std::nullopt;
}

const std::set<std::string>& meta_attributes() {
  static const std::set<std::string> s = {"version",       "data_layout",           "weight_layout",
                                          "builtin_options_type", "custom_options", "custom_options_format",
                                          "mutating_variable_inputs", "intermediates"};
  return s;
}

void add_layout_attributes(const std::string& op, Attributes& a) {
  static const std::unordered_map<std::string, std::pair<const char*, const char*>> kLayouts = {
      {"CONV_2D", {"NHWC", "OHWI"}},
      {"DEPTHWISE_CONV_2D", {"NHWC", "1HWO"}},
      {"TRANSPOSE_CONV", {"NHWC", "OHWI"}},
      {"CONV_3D", {"NDHWC", "DHWIO"}},
      {"CONV_3D_TRANSPOSE", {"NDHWC", "DHWOI"}},
      {"FULLY_CONNECTED", {"", "OI"}},
      {"AVERAGE_POOL_2D", {"NHWC", ""}},
      {"MAX_POOL_2D", {"NHWC", ""}},
      {"L2_POOL_2D", {"NHWC", ""}},
      {"RESIZE_BILINEAR", {"NHWC", ""}},
      {"RESIZE_NEAREST_NEIGHBOR", {"NHWC", ""}},
      {"SPACE_TO_DEPTH", {"NHWC", ""}},
      {"DEPTH_TO_SPACE", {"NHWC", ""}},
      {"SPACE_TO_BATCH_ND", {"NHWC", ""}},
      {"BATCH_TO_SPACE_ND", {"NHWC", ""}},
      {"LOCAL_RESPONSE_NORMALIZATION", {"NHWC", ""}},
  };
  auto it = kLayouts.find(op);
  if (it == kLayouts.end()) return;
  if (*it->second.first) a["data_layout"] = Attribute::of_string(it->second.first);
  if (*it->second.second) a["weight_layout"] = Attribute::of_string(it->second.second);
}

bool has_note(const std::string& doc, const std::string& note) {
  size_t pos = 0;
  while (pos <= doc.size()) {
    size_t end = doc.find("; ", pos);
    if (end == std::string::npos) end = doc.size();
    if (doc.compare(pos, end - pos, note) == 0) return true;
    pos = end + 2;
  }
  return false;
}

std::string note_value(const std::string& doc, const std::string& prefix) {
  size_t pos = 0;
  while (pos < doc.size()) {
    size_t end = doc.find("; ", pos);
    if (end == std::string::npos) end = doc.size();
    if (doc.compare(pos, prefix.size(), prefix) == 0 && end - pos >= prefix.size())
      return doc.substr(pos + prefix.size(), end - pos - prefix.size());
    pos = end + 2;
  }
  return "";
}

void add_note(std::string& doc, const std::string& note) {
  if (!doc.empty()) doc += "; ";
  doc += note;
}

}  // namespace convfix::tflitefmt
