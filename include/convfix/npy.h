// convfix/npy.h — numpy .npy files (format versions 1.0-3.0, little-endian,
// C order; dtypes f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1).
//
// Contract: read_npy rejects Fortran order, big-endian data, object arrays
// and truncated files with a message naming the file. write_npy writes
// atomically (temp file + rename).
#pragma once

#include <string>

#include "convfix/status.h"
#include "convfix/tensor.h"

namespace convfix {

Expected<Tensor> read_npy(const std::string& path);
Expected<Tensor> parse_npy(const std::string& bytes, const std::string& name_for_errors);
Status write_npy(const Tensor& t, const std::string& path);

}  // namespace convfix
