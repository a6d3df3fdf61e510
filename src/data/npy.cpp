#include "convfix/npy.h"

#include <cctype>
#include <optional>
#include <string_view>

#include "convfix/fileio.h"

namespace convfix {

namespace {

struct NpyType {
  const char* code;
  DType dtype;
};
constexpr NpyType kTypes[] = {
    {"f4", DType::kF32}, {"f2", DType::kF16}, {"f8", DType::kF64}, {"i1", DType::kI8},  {"u1", DType::kU8},
    {"i2", DType::kI16}, {"u2", DType::kU16}, {"i4", DType::kI32}, {"u4", DType::kU32}, {"i8", DType::kI64},
    {"u8", DType::kU64}, {"b1", DType::kBool},
};

}  // namespace

Expected<Tensor> parse_npy(const std::string& b, const std::string& file) {
  if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) return invalid_argument(file + ": not a .npy file");
  const int major = static_cast<unsigned char>(b[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(b[8]) | (static_cast<size_t>(static_cast<unsigned char>(b[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) return invalid_argument(file + ": truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(b[8 + i])) << (8 * i);
    offset = 12;
  } else {
    return invalid_argument(file + ": unsupported .npy version " + std::to_string(major));
  }
  // numpy itself writes headers of a few hundred bytes; a huge one is not an
  // array header (and would be slow to scan).
  if (header_len > 65536) return invalid_argument(file + ": .npy header is too long (" + std::to_string(header_len) + " bytes)");
  if (offset + header_len > b.size()) return invalid_argument(file + ": truncated .npy header");
  const std::string h = b.substr(offset, header_len);
  // The header is a Python dict literal; take the text after "'key':".
  auto value_of = [&h](const char* key) -> std::optional<std::string_view> {
    const std::string k = std::string("'") + key + "'";
    size_t p = h.find(k);
    if (p == std::string::npos) return std::nullopt;
    p += k.size();
    while (p < h.size() && std::isspace(static_cast<unsigned char>(h[p]))) ++p;
    if (p >= h.size() || h[p] != ':') return std::nullopt;
    ++p;
    while (p < h.size() && std::isspace(static_cast<unsigned char>(h[p]))) ++p;
    return std::string_view(h).substr(p);
  };
  const auto descr_v = value_of("descr");
  // A plain dtype is a quoted string such as '<f4'; structured dtypes are lists.
  if (!descr_v || descr_v->empty() || descr_v->front() != '\'')
    return not_implemented(file + ": .npy header has no plain 'descr' (structured arrays are not supported)");
  const size_t descr_end = descr_v->find('\'', 1);
  if (descr_end == std::string_view::npos) return invalid_argument(file + ": .npy header 'descr' is malformed");
  const std::string descr(descr_v->substr(1, descr_end - 1));
  if (descr.size() < 2) return invalid_argument(file + ": .npy dtype '" + descr + "' is malformed");
  const char endian = descr[0];
  const std::string code = std::string("<>|=").find(endian) != std::string::npos ? descr.substr(1) : descr;
  if (endian == '>') return not_implemented(file + ": big-endian .npy data is not supported");
  DType dt = DType::kUndefined;
  for (const auto& t : kTypes)
    if (code == t.code) dt = t.dtype;
  if (dt == DType::kUndefined) return not_implemented(file + ": .npy dtype '" + descr + "' is not supported");
  const auto fortran_v = value_of("fortran_order");
  if (!fortran_v) return invalid_argument(file + ": .npy header lacks fortran_order");
  if (fortran_v->substr(0, 4) == "True") return not_implemented(file + ": Fortran-order .npy arrays are not supported");
  if (fortran_v->substr(0, 5) != "False") return invalid_argument(file + ": .npy header 'fortran_order' is malformed");
  const auto shape_v = value_of("shape");
  if (!shape_v || shape_v->empty() || shape_v->front() != '(') return invalid_argument(file + ": .npy header lacks shape");
  const size_t shape_end = shape_v->find(')');
  if (shape_end == std::string_view::npos) return invalid_argument(file + ": .npy header 'shape' is malformed");
  // shape: "(" [int ("," int)* [","]] ")" with optional spaces.
  std::vector<int64_t> dims;
  const std::string shape_s(shape_v->substr(1, shape_end - 1));
  size_t i = 0;
  auto skip_space = [&] { while (i < shape_s.size() && std::isspace(static_cast<unsigned char>(shape_s[i]))) ++i; };
  skip_space();
  while (i < shape_s.size()) {
    size_t j = i;
    while (j < shape_s.size() && std::isdigit(static_cast<unsigned char>(shape_s[j]))) ++j;
    if (j == i) return invalid_argument(file + ": .npy shape '(" + shape_s + ")' is not a tuple of non-negative integers");
    if (j - i > 18) return invalid_argument(file + ": .npy dimension " + shape_s.substr(i, j - i) + " is too large");
    dims.push_back(std::stoll(shape_s.substr(i, j - i)));
    i = j;
    skip_space();
    if (i < shape_s.size()) {
      if (shape_s[i] != ',') return invalid_argument(file + ": .npy shape '(" + shape_s + ")' is malformed");
      ++i;
      skip_space();
    }
  }
  // Size checks before allocating: absurd dims fail here, also next to a 0.
  const size_t data_off = offset + header_len;
  const uint64_t avail = b.size() - data_off;
  uint64_t nonzero = 1;
  bool has_zero = false;
  for (int64_t d : dims) {
    if (d == 0) { has_zero = true; continue; }
    if (nonzero > (uint64_t{1} << 62) / static_cast<uint64_t>(d) / dtype_size(dt))
      return invalid_argument(file + ": .npy shape " + dims_to_string(dims) + " is too large");
    nonzero *= static_cast<uint64_t>(d);
  }
  const uint64_t need = has_zero ? 0 : nonzero * dtype_size(dt);
  if (need > avail)
    return invalid_argument(file + ": .npy data is truncated (shape " + dims_to_string(dims) + " of " +
                            dtype_name(dt) + " needs " + std::to_string(need) + " bytes, the file has " +
                            std::to_string(avail) + ")");
  Tensor t(dt, dims);
  if (t.nbytes()) std::memcpy(t.raw(), b.data() + data_off, t.nbytes());
  return t;
}

Expected<Tensor> read_npy(const std::string& path) {
  CONVFIX_ASSIGN_OR_RETURN(std::string b, read_file(path));
  return parse_npy(b, path);
}

Status write_npy(const Tensor& t, const std::string& path) {
  const char* code = nullptr;
  for (const auto& k : kTypes)
    if (k.dtype == t.dtype()) code = k.code;
  Tensor src = t;
  if (t.dtype() == DType::kBF16) {  // numpy has no bfloat16: write as f4
    auto c = t.cast(DType::kF32);
    if (!c.ok()) return c.status();
    src = c.value();
    code = "f4";
  }
  if (!code) return not_implemented(path + ": cannot write " + dtype_name(t.dtype()) + " as .npy");
  std::string shape = "(";
  for (size_t i = 0; i < src.dims().size(); ++i) shape += std::to_string(src.dims()[i]) + ", ";
  if (src.dims().size() > 1) shape.resize(shape.size() - 2);
  else if (src.dims().size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string descr = std::string(code[0] == 'b' || code[1] == '1' ? "|" : "<") + code;
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  out.append(static_cast<const char*>(src.raw()), src.nbytes());
  return write_file_atomic(path, out);
}

}  // namespace convfix
