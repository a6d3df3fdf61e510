#include "convfix/fileio.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace convfix {

namespace fs = std::filesystem;

Expected<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return io_error(path + ": no such file");
  if (fs::is_directory(path, ec)) return io_error(path + ": is a folder, not a file");
  std::ifstream f(path, std::ios::binary);
  if (!f) return io_error(path + ": cannot open (" + std::strerror(errno) + ")");
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  if (size < 0) return io_error(path + ": cannot determine size");
  std::string s(static_cast<size_t>(size), '\0');
  f.seekg(0);
  f.read(s.data(), size);
  if (!f) return io_error(path + ": short read");
  return s;
}

Status write_file_atomic(const std::string& path, const std::string& bytes) {
  fs::path p(path);
  fs::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return io_error(path + ": folder '" + dir.string() + "' does not exist");
  std::random_device rd;
  const fs::path tmp = dir / ("." + p.filename().string() + ".tmp" + std::to_string(rd()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return io_error(path + ": cannot create temporary file in '" + dir.string() + "'");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      f.close();
      fs::remove(tmp, ec);
      return io_error(path + ": write failed (disk full?)");
    }
  }
  fs::rename(tmp, p, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return io_error(path + ": cannot rename temporary file into place");
  }
  return Status::OK();
}

std::string sanitize_filename(const std::string& name) {
  std::string r = name;
  for (char& c : r) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) c = '_';
  }
  if (r.empty() || r == "." || r == "..") r = "_" + r;
  return r;
}

}  // namespace convfix
