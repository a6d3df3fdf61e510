// convfix/sha256.h — SHA-256 (FIPS 180-4) of bytes, files and model folders,
// used as content keys for the output cache.
//
// Contract: hex digests are 64 lower-case hex digits. sha256_file reads the
// file in chunks (memory does not grow with its size). sha256_path hashes a
// file as sha256_file does; a folder (folder model formats) as the digest of
// the sorted list "relative path NUL file digest NL" of every regular file
// under it, so renaming or changing any file changes the key. Errors name the
// path. Nothing here prints.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "convfix/status.h"

namespace convfix {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::array<uint8_t, 32> digest();   // finishes; the object is spent afterwards
  std::string hex_digest();

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buf_{};
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string sha256_hex(const std::string& bytes);
Expected<std::string> sha256_file(const std::string& path);
Expected<std::string> sha256_path(const std::string& path);

}  // namespace convfix
