// Minimal zip reader/writer (see keras_zip.h); layout from the PKWARE
// APPNOTE (local file header, central directory, end of central directory).
#include "formats/keras/keras_zip.h"

#if CONVFIX_HAVE_HDF5
#include <zlib.h>
#endif

#include <cstring>

namespace convfix::keras {

namespace {
uint32_t u32(const std::string& b, size_t o) {
  return static_cast<uint32_t>(static_cast<unsigned char>(b[o])) | (static_cast<uint32_t>(static_cast<unsigned char>(b[o + 1])) << 8) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[o + 2])) << 16) | (static_cast<uint32_t>(static_cast<unsigned char>(b[o + 3])) << 24);
}
uint16_t u16(const std::string& b, size_t o) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[o]) | (static_cast<unsigned char>(b[o + 1]) << 8));
}
void put16(std::string* s, uint32_t v) { s->push_back(static_cast<char>(v & 0xff)); s->push_back(static_cast<char>((v >> 8) & 0xff)); }
void put32(std::string* s, uint32_t v) { put16(s, v & 0xffff); put16(s, v >> 16); }
}  // namespace

Expected<std::vector<std::pair<std::string, std::string>>> read_zip(const std::string& path, const std::string& b) {
#if CONVFIX_HAVE_HDF5
  std::vector<std::pair<std::string, std::string>> out;
  if (b.size() < 22) return invalid_model(path + ": not a zip archive (too short)");
  size_t eocd = std::string::npos;
  const size_t lo = b.size() > 22 + 65535 ? b.size() - 22 - 65535 : 0;
  for (size_t i = b.size() - 22 + 1; i-- > lo;)
    if (u32(b, i) == 0x06054b50) { eocd = i; break; }
  if (eocd == std::string::npos) return invalid_model(path + ": zip archive without end-of-central-directory record (truncated?)");
  const uint16_t count = u16(b, eocd + 10);
  const uint32_t cd_size = u32(b, eocd + 12), cd_off = u32(b, eocd + 16);
  if (static_cast<uint64_t>(cd_off) + cd_size > eocd) return invalid_model(path + ": zip central directory out of range");
  size_t p = cd_off;
  for (uint16_t e = 0; e < count; ++e) {
    if (p + 46 > eocd || u32(b, p) != 0x02014b50) return invalid_model(path + ": bad zip central directory entry");
    const uint16_t method = u16(b, p + 10);
    const uint32_t csize = u32(b, p + 20), usize = u32(b, p + 24);
    const uint16_t nlen = u16(b, p + 28), xlen = u16(b, p + 30), clen = u16(b, p + 32);
    const uint32_t loff = u32(b, p + 42);
    if (p + 46 + nlen > eocd) return invalid_model(path + ": bad zip entry name");
    const std::string name = b.substr(p + 46, nlen);
    p += 46 + static_cast<size_t>(nlen) + xlen + clen;
    if (csize == 0xffffffffu || usize == 0xffffffffu) return not_implemented(path + ": zip64 archives are not supported");
    if (static_cast<uint64_t>(loff) + 30 > b.size() || u32(b, loff) != 0x04034b50)
      return invalid_model(path + ": zip entry '" + name + "' has a bad local header");
    const size_t data = loff + 30 + static_cast<size_t>(u16(b, loff + 26)) + u16(b, loff + 28);
    if (static_cast<uint64_t>(data) + csize > b.size()) return invalid_model(path + ": zip entry '" + name + "' runs past the archive (truncated?)");
    if (usize > (1u << 31)) return invalid_model(path + ": zip entry '" + name + "' is too large");
    std::string u;
    if (method == 0) {
      if (csize != usize) return invalid_model(path + ": stored zip entry '" + name + "' has mismatched sizes");
      u = b.substr(data, csize);
    } else if (method == 8) {
      u.resize(usize);
      z_stream zs;
      std::memset(&zs, 0, sizeof zs);
      if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return internal_error(path + ": zlib inflateInit2 failed");
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(b.data() + data));
      zs.avail_in = csize;
      zs.next_out = reinterpret_cast<Bytef*>(u.data());
      zs.avail_out = usize;
      const int rc = inflate(&zs, Z_FINISH);
      const uLong got = zs.total_out;
      inflateEnd(&zs);
      if (rc != Z_STREAM_END || got != usize) return invalid_model(path + ": zip entry '" + name + "' does not inflate (corrupt)");
    } else {
      return not_implemented(path + ": zip entry '" + name + "' uses compression method " + std::to_string(method));
    }
    if (crc32(0L, reinterpret_cast<const Bytef*>(u.data()), static_cast<uInt>(u.size())) != u32(b, p - 46 - nlen - xlen - clen + 16))
      return invalid_model(path + ": zip entry '" + name + "' fails its CRC-32 check");
    out.emplace_back(name, std::move(u));
  }
  return out;
#else
  return not_implemented(path + ": .keras archives need a build with zlib and libhdf5");
#endif
}

Expected<std::string> write_zip(const std::vector<std::pair<std::string, std::string>>& entries) {
#if CONVFIX_HAVE_HDF5
  std::string out, cd;
  for (const auto& [name, data] : entries) {
    const uint32_t crc = static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const uint32_t off = static_cast<uint32_t>(out.size());
    put32(&out, 0x04034b50); put16(&out, 20); put16(&out, 0); put16(&out, 0); put16(&out, 0); put16(&out, 0x21);
    put32(&out, crc); put32(&out, static_cast<uint32_t>(data.size())); put32(&out, static_cast<uint32_t>(data.size()));
    put16(&out, static_cast<uint32_t>(name.size())); put16(&out, 0);
    out += name;
    out += data;
    put32(&cd, 0x02014b50); put16(&cd, 20); put16(&cd, 20); put16(&cd, 0); put16(&cd, 0); put16(&cd, 0); put16(&cd, 0x21);
    put32(&cd, crc); put32(&cd, static_cast<uint32_t>(data.size())); put32(&cd, static_cast<uint32_t>(data.size()));
    put16(&cd, static_cast<uint32_t>(name.size())); put16(&cd, 0); put16(&cd, 0); put16(&cd, 0); put16(&cd, 0);
    put32(&cd, 0); put32(&cd, off);
    cd += name;
  }
  const uint32_t cd_off = static_cast<uint32_t>(out.size());
  out += cd;
  put32(&out, 0x06054b50); put16(&out, 0); put16(&out, 0);
  put16(&out, static_cast<uint32_t>(entries.size())); put16(&out, static_cast<uint32_t>(entries.size()));
  put32(&out, static_cast<uint32_t>(cd.size())); put32(&out, cd_off); put16(&out, 0);
  return out;
#else
  return not_implemented("writing .keras archives needs a build with zlib");
#endif
}

}  // namespace convfix::keras
