// convfix/fileio.h — whole-file reads and atomic writes.
//
// Contract: write_file_atomic writes to a temporary file in the same folder
// and renames it over `path`, so readers never see a partial file; on error
// the temporary file is removed and `path` is untouched.
#pragma once

#include <string>

#include "convfix/status.h"

namespace convfix {

Expected<std::string> read_file(const std::string& path);
Status write_file_atomic(const std::string& path, const std::string& bytes);
// Replaces characters outside [A-Za-z0-9_.-] with '_' (file names from tensor names).
std::string sanitize_filename(const std::string& name);

}  // namespace convfix
