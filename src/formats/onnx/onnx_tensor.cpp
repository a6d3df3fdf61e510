#include "onnx_tensor.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace convfix::onnxfmt {

namespace fs = std::filesystem;

Expected<DType> dtype_from_onnx(int32_t t) {
  switch (t) {
    case onnx::TensorProto::FLOAT: return DType::kF32;
    case onnx::TensorProto::UINT8: return DType::kU8;
    case onnx::TensorProto::INT8: return DType::kI8;
    case onnx::TensorProto::UINT16: return DType::kU16;
    case onnx::TensorProto::INT16: return DType::kI16;
    case onnx::TensorProto::INT32: return DType::kI32;
    case onnx::TensorProto::INT64: return DType::kI64;
    case onnx::TensorProto::STRING: return DType::kString;
    case onnx::TensorProto::BOOL: return DType::kBool;
    case onnx::TensorProto::FLOAT16: return DType::kF16;
    case onnx::TensorProto::DOUBLE: return DType::kF64;
    case onnx::TensorProto::UINT32: return DType::kU32;
    case onnx::TensorProto::UINT64: return DType::kU64;
    case onnx::TensorProto::BFLOAT16: return DType::kBF16;
    default: return not_implemented("ONNX tensor element type " + std::to_string(t) + " is not supported");
  }
}

int32_t dtype_to_onnx(DType t) {
  switch (t) {
    case DType::kF32: return onnx::TensorProto::FLOAT;
    case DType::kU8: return onnx::TensorProto::UINT8;
    case DType::kI8: return onnx::TensorProto::INT8;
    case DType::kU16: return onnx::TensorProto::UINT16;
    case DType::kI16: return onnx::TensorProto::INT16;
    case DType::kI32: return onnx::TensorProto::INT32;
    case DType::kI64: return onnx::TensorProto::INT64;
    case DType::kString: return onnx::TensorProto::STRING;
    case DType::kBool: return onnx::TensorProto::BOOL;
    case DType::kF16: return onnx::TensorProto::FLOAT16;
    case DType::kF64: return onnx::TensorProto::DOUBLE;
    case DType::kU32: return onnx::TensorProto::UINT32;
    case DType::kU64: return onnx::TensorProto::UINT64;
    case DType::kBF16: return onnx::TensorProto::BFLOAT16;
    case DType::kUndefined: return onnx::TensorProto::UNDEFINED;
  }
  return onnx::TensorProto::UNDEFINED;
}

namespace {

// Largest tensor a file may declare (bytes). Checked before any allocation,
// so a header claiming absurd dims fails fast instead of exhausting memory.
constexpr uint64_t kMaxTensorBytes = 64ull << 30;

// Parses a non-negative decimal integer (external data offset/length).
bool parse_u63(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// True when the relative location stays inside the model's folder: not
// absolute, no ".." component, no root name.
bool stays_inside(const fs::path& rel) {
  if (rel.empty() || rel.is_absolute() || rel.has_root_name() || rel.has_root_directory()) return false;
  for (const auto& part : rel)
    if (part == "..") return false;
  return true;
}

// Reads the external data of `p` into `dst` (exactly `expect` bytes).
Status read_external(const onnx::TensorProto& p, const std::string& base_dir, void* dst, uint64_t expect) {
  const std::string tname = "tensor '" + p.name() + "'";
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : p.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
    } else if (kv.key() == "offset") {
      if (!parse_u63(kv.value(), &offset))
        return invalid_model(tname + ": external data offset '" + kv.value() + "' is not a non-negative integer");
    } else if (kv.key() == "length") {
      if (!parse_u63(kv.value(), &length))
        return invalid_model(tname + ": external data length '" + kv.value() + "' is not a non-negative integer");
    }
  }
  if (location.empty()) return invalid_model(tname + ": external data without a location");
  if (base_dir.empty()) return invalid_model(tname + ": external data cannot be resolved here");
  if (location.find('\0') != std::string::npos)
    return invalid_model(tname + ": external data location contains a NUL byte");
  const fs::path rel(location);
  if (!stays_inside(rel))
    return invalid_model(tname + ": external data location '" + location + "' leaves the model's folder");
  const fs::path full = fs::path(base_dir) / rel;
  std::error_code ec;
  if (!fs::exists(full, ec))
    return io_error(tname + ": external data file '" + full.string() + "' does not exist");
  if (!fs::is_regular_file(full, ec))
    return invalid_model(tname + ": external data location '" + full.string() + "' is not a regular file");
  std::ifstream f(full, std::ios::binary);
  if (!f) return io_error(tname + ": cannot open external data file '" + full.string() + "'");
  f.seekg(0, std::ios::end);
  const int64_t size = static_cast<int64_t>(f.tellg());
  if (size < 0) return io_error(tname + ": cannot determine the size of '" + full.string() + "'");
  if (length < 0) length = offset <= size ? size - offset : 0;
  if (offset > size || length > size - offset || static_cast<uint64_t>(length) != expect)
    return invalid_model(tname + ": external data range offset " + std::to_string(offset) + " length " +
                         std::to_string(length) + " does not fit file '" + full.string() + "' (" +
                         std::to_string(size) + " bytes) or the tensor (" + std::to_string(expect) + " bytes)");
  if (expect == 0) return Status::OK();
  f.seekg(offset);
  f.read(static_cast<char*>(dst), static_cast<std::streamsize>(expect));
  if (!f) return io_error(tname + ": short read from '" + full.string() + "'");
  return Status::OK();
}

template <typename Src, typename Dst>
void copy_field(const Src& field, Dst* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<Dst>(field.Get(static_cast<int>(i)));
}

// Number of values the typed field for `dt` holds.
int64_t typed_field_size(const onnx::TensorProto& p, DType dt) {
  switch (dt) {
    case DType::kF32: return p.float_data_size();
    case DType::kF64: return p.double_data_size();
    case DType::kI64: return p.int64_data_size();
    case DType::kU32: case DType::kU64: return p.uint64_data_size();
    default: return p.int32_data_size();
  }
}

}  // namespace

Expected<Tensor> tensor_from_proto(const onnx::TensorProto& p, const std::string& base_dir) {
  CONVFIX_ASSIGN_OR_RETURN(DType dt, dtype_from_onnx(p.data_type()));
  std::vector<int64_t> dims(p.dims().begin(), p.dims().end());
  // Validate the declared size before allocating anything. Zero dims do not
  // excuse absurd others (their product would overflow int64 elsewhere).
  uint64_t nonzero = 1;
  bool has_zero = false;
  for (int64_t d : dims) {
    if (d < 0) return invalid_model("tensor '" + p.name() + "' has a negative dimension in " + dims_to_string(dims));
    if (d == 0) { has_zero = true; continue; }
    if (nonzero > kMaxTensorBytes / static_cast<uint64_t>(d) / dtype_size(dt))
      return invalid_model("tensor '" + p.name() + "' claims shape " + dims_to_string(dims) +
                           " of " + dtype_name(dt) + " (larger than 64 GiB)");
    nonzero *= static_cast<uint64_t>(d);
  }
  const int64_t n = has_zero ? 0 : static_cast<int64_t>(nonzero);
  const uint64_t bytes = static_cast<uint64_t>(n) * (dt == DType::kString ? 0 : dtype_size(dt));
  if (dt == DType::kString) {
    if (p.string_data_size() != n)
      return invalid_model("tensor '" + p.name() + "': " + std::to_string(p.string_data_size()) +
                           " strings for shape " + dims_to_string(dims));
    Tensor t(dt, dims);
    for (int64_t i = 0; i < n; ++i) (*t.strings())[static_cast<size_t>(i)] = p.string_data(static_cast<int>(i));
    return t;
  }
  if (p.data_location() == onnx::TensorProto::EXTERNAL) {
    Tensor t(dt, dims);
    CONVFIX_RETURN_IF_ERROR(read_external(p, base_dir, t.raw(), bytes));
    return t;
  }
  if (p.has_raw_data()) {
    if (p.raw_data().size() != bytes)
      return invalid_model("tensor '" + p.name() + "': raw_data has " + std::to_string(p.raw_data().size()) +
                           " bytes, shape " + dims_to_string(dims) + " of " + dtype_name(dt) + " needs " +
                           std::to_string(bytes));
    Tensor t(dt, dims);
    if (bytes) std::memcpy(t.raw(), p.raw_data().data(), bytes);
    return t;
  }
  const int64_t have = typed_field_size(p, dt);
  if (have != n)
    return invalid_model("tensor '" + p.name() + "': " + std::to_string(have) + " values for shape " +
                         dims_to_string(dims));
  Tensor t(dt, dims);
  switch (dt) {
    case DType::kF32: copy_field(p.float_data(), t.data<float>(), n); break;
    case DType::kF64: copy_field(p.double_data(), t.data<double>(), n); break;
    case DType::kI64: copy_field(p.int64_data(), t.data<int64_t>(), n); break;
    case DType::kU32: copy_field(p.uint64_data(), t.data<uint32_t>(), n); break;
    case DType::kU64: copy_field(p.uint64_data(), t.data<uint64_t>(), n); break;
    case DType::kI32: copy_field(p.int32_data(), t.data<int32_t>(), n); break;
    case DType::kI16: copy_field(p.int32_data(), t.data<int16_t>(), n); break;
    case DType::kU16: case DType::kF16: case DType::kBF16: copy_field(p.int32_data(), t.data<uint16_t>(), n); break;
    case DType::kI8: copy_field(p.int32_data(), t.data<int8_t>(), n); break;
    case DType::kU8: case DType::kBool: copy_field(p.int32_data(), t.data<uint8_t>(), n); break;
    default: return not_implemented("tensor '" + p.name() + "': element type " + dtype_name(dt));
  }
  return t;
}

void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* p) {
  p->Clear();
  if (!name.empty()) p->set_name(name);
  p->set_data_type(dtype_to_onnx(t.dtype()));
  for (int64_t d : t.dims()) p->add_dims(d);
  if (t.dtype() == DType::kString) {
    for (const auto& s : *t.strings()) p->add_string_data(s);
    return;
  }
  p->set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
}

ValueInfo value_info_from_proto(const onnx::ValueInfoProto& p) {
  ValueInfo v;
  v.name = p.name();
  v.doc = p.doc_string();
  if (p.has_type() && p.type().has_tensor_type()) {
    const auto& tt = p.type().tensor_type();
    auto dt = dtype_from_onnx(tt.elem_type());
    if (dt.ok()) v.dtype = dt.value();
    if (tt.has_shape()) {
      v.has_shape = true;
      for (const auto& d : tt.shape().dim()) {
        if (d.has_dim_value()) v.shape.push_back(Dim::of(d.dim_value()));
        else v.shape.push_back(Dim::sym(d.has_dim_param() ? d.dim_param() : ""));
      }
    }
  }
  return v;
}

void value_info_to_proto(const ValueInfo& v, onnx::ValueInfoProto* p) {
  p->set_name(v.name);
  if (!v.doc.empty()) p->set_doc_string(v.doc);
  auto* tt = p->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(dtype_to_onnx(v.dtype));
  if (v.has_shape) {
    auto* sh = tt->mutable_shape();
    for (const auto& d : v.shape) {
      auto* dd = sh->add_dim();
      if (d.known()) dd->set_dim_value(d.value);
      else if (!d.symbol.empty()) dd->set_dim_param(d.symbol);
    }
  }
}

}  // namespace convfix::onnxfmt
