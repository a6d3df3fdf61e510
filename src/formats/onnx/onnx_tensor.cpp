#include "onnx_tensor.h"

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

Expected<std::string> read_external(const onnx::TensorProto& p, const std::string& base_dir, size_t expect) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : p.external_data()) {
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") offset = std::stoll(kv.value());
    else if (kv.key() == "length") length = std::stoll(kv.value());
  }
  if (location.empty()) return invalid_model("tensor '" + p.name() + "': external data without a location");
  if (base_dir.empty()) return invalid_model("tensor '" + p.name() + "': external data cannot be resolved here");
  const fs::path rel(location);
  if (rel.is_absolute() || location.find("..") != std::string::npos)
    return invalid_model("tensor '" + p.name() + "': external data location '" + location +
                         "' leaves the model's folder");
  const fs::path full = fs::path(base_dir) / rel;
  std::ifstream f(full, std::ios::binary);
  if (!f) return io_error("tensor '" + p.name() + "': cannot open external data file '" + full.string() + "'");
  f.seekg(0, std::ios::end);
  const int64_t size = static_cast<int64_t>(f.tellg());
  if (length < 0) length = size - offset;
  if (offset < 0 || offset + length > size || static_cast<size_t>(length) != expect)
    return invalid_model("tensor '" + p.name() + "': external data range offset " + std::to_string(offset) +
                         " length " + std::to_string(length) + " does not fit file '" + full.string() +
                         "' (" + std::to_string(size) + " bytes) or the tensor (" + std::to_string(expect) +
                         " bytes)");
  std::string buf(static_cast<size_t>(length), '\0');
  f.seekg(offset);
  f.read(buf.data(), length);
  if (!f) return io_error("tensor '" + p.name() + "': short read from '" + full.string() + "'");
  return buf;
}

template <typename Src, typename Dst>
void copy_field(const Src& field, Dst* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<Dst>(field.Get(static_cast<int>(i)));
}

}  // namespace

Expected<Tensor> tensor_from_proto(const onnx::TensorProto& p, const std::string& base_dir) {
  CONVFIX_ASSIGN_OR_RETURN(DType dt, dtype_from_onnx(p.data_type()));
  std::vector<int64_t> dims(p.dims().begin(), p.dims().end());
  for (int64_t d : dims)
    if (d < 0) return invalid_model("tensor '" + p.name() + "' has a negative dimension");
  // Guard against absurd sizes from malicious files before allocating.
  long double total = 1;
  for (int64_t d : dims) total *= static_cast<long double>(d);
  if (total * dtype_size(dt) > 64.0L * 1024 * 1024 * 1024)
    return invalid_model("tensor '" + p.name() + "' claims " + dims_to_string(dims) + " elements (too large)");
  Tensor t(dt, dims);
  const int64_t n = t.numel();
  if (dt == DType::kString) {
    if (p.string_data_size() != n)
      return invalid_model("tensor '" + p.name() + "': " + std::to_string(p.string_data_size()) +
                           " strings for shape " + dims_to_string(dims));
    for (int64_t i = 0; i < n; ++i) (*t.strings())[static_cast<size_t>(i)] = p.string_data(static_cast<int>(i));
    return t;
  }
  const size_t bytes = t.nbytes();
  if (p.data_location() == onnx::TensorProto::EXTERNAL) {
    CONVFIX_ASSIGN_OR_RETURN(std::string buf, read_external(p, base_dir, bytes));
    if (bytes) std::memcpy(t.raw(), buf.data(), bytes);
    return t;
  }
  if (p.has_raw_data()) {
    if (p.raw_data().size() != bytes)
      return invalid_model("tensor '" + p.name() + "': raw_data has " + std::to_string(p.raw_data().size()) +
                           " bytes, shape " + dims_to_string(dims) + " of " + dtype_name(dt) + " needs " +
                           std::to_string(bytes));
    if (bytes) std::memcpy(t.raw(), p.raw_data().data(), bytes);
    return t;
  }
  auto check = [&](int have) -> Status {
    if (have != n)
      return invalid_model("tensor '" + p.name() + "': " + std::to_string(have) + " values for shape " +
                           dims_to_string(dims));
    return Status::OK();
  };
  switch (dt) {
    case DType::kF32:
      CONVFIX_RETURN_IF_ERROR(check(p.float_data_size()));
      copy_field(p.float_data(), t.data<float>(), n);
      break;
    case DType::kF64:
      CONVFIX_RETURN_IF_ERROR(check(p.double_data_size()));
      copy_field(p.double_data(), t.data<double>(), n);
      break;
    case DType::kI64:
      CONVFIX_RETURN_IF_ERROR(check(p.int64_data_size()));
      copy_field(p.int64_data(), t.data<int64_t>(), n);
      break;
    case DType::kU32:
      CONVFIX_RETURN_IF_ERROR(check(p.uint64_data_size()));
      copy_field(p.uint64_data(), t.data<uint32_t>(), n);
      break;
    case DType::kU64:
      CONVFIX_RETURN_IF_ERROR(check(p.uint64_data_size()));
      copy_field(p.uint64_data(), t.data<uint64_t>(), n);
      break;
    case DType::kI32:
      CONVFIX_RETURN_IF_ERROR(check(p.int32_data_size()));
      copy_field(p.int32_data(), t.data<int32_t>(), n);
      break;
    case DType::kI16:
      CONVFIX_RETURN_IF_ERROR(check(p.int32_data_size()));
      copy_field(p.int32_data(), t.data<int16_t>(), n);
      break;
    case DType::kU16: case DType::kF16: case DType::kBF16:
      CONVFIX_RETURN_IF_ERROR(check(p.int32_data_size()));
      copy_field(p.int32_data(), t.data<uint16_t>(), n);
      break;
    case DType::kI8:
      CONVFIX_RETURN_IF_ERROR(check(p.int32_data_size()));
      copy_field(p.int32_data(), t.data<int8_t>(), n);
      break;
    case DType::kU8: case DType::kBool:
      CONVFIX_RETURN_IF_ERROR(check(p.int32_data_size()));
      copy_field(p.int32_data(), t.data<uint8_t>(), n);
      break;
    default:
      return not_implemented("tensor '" + p.name() + "': element type " + dtype_name(dt));
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
