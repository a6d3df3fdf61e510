// Minimal zip archive reader/writer for Keras 3 ".keras" files: stored and
// deflate entries (zlib), no zip64, no encryption. Every offset and size is
// checked against the archive length before use.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "convfix/status.h"

namespace convfix::keras {

// Entries in archive order: (name, uncompressed bytes).
Expected<std::vector<std::pair<std::string, std::string>>> read_zip(const std::string& path, const std::string& bytes);
// A zip archive of stored (uncompressed) entries with CRC-32s.
Expected<std::string> write_zip(const std::vector<std::pair<std::string, std::string>>& entries);

}  // namespace convfix::keras
