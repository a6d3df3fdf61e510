// convfix/image.h — decoding photographs (JPEG, PNG) into 8-bit pixels.
//
// Contract:
// - decode_image() accepts baseline and progressive JPEG and every PNG colour
//   type (gray, gray+alpha, RGB, RGBA, palette, with or without tRNS) at bit
//   depths 1 to 16. The result is always 8 bits per sample, interleaved, with
//   1 channel (the file is gray or gray+alpha) or 3 channels (RGB) — alpha is
//   dropped (not composited), as PIL's convert("RGB"/"L") does. 16-bit
//   samples are scaled to 8 bits with rounding: round(v * 255 / 65535).
// - EXIF orientation is not applied (neither does PIL's Image.open).
// - Errors name the file: "<file>: not a JPEG or PNG image (...)". Nothing is
//   printed; the functions are thread-safe.
// - convert_channels() turns gray into RGB (replicated) or RGB into gray with
//   the ITU-R 601-2 luma weights L = 0.299 R + 0.587 G + 0.114 B, rounded to
//   nearest (PIL's convert("L") uses the same weights in 16-bit fixed point,
//   so the two may differ by one level).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "convfix/status.h"

namespace convfix {

// An 8-bit image stored row by row, channels interleaved (HWC).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;             // 1 (gray) or 3 (RGB)
  std::vector<uint8_t> pixels;  // height * width * channels bytes

  uint8_t at(int y, int x, int c) const {
    return pixels[(static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) *
                      static_cast<size_t>(channels) +
                  static_cast<size_t>(c)];
  }
};

// What the file itself stores (before conversion to 8-bit gray/RGB).
struct ImageFileInfo {
  std::string format;       // "jpeg" or "png"
  int width = 0, height = 0;
  int channels = 0;         // channels in the file: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (palette: 3 or 4)
  bool sixteen_bit = false; // PNG with 16-bit samples
};

// "jpeg", "png" or "" from the first bytes (magic numbers), independent of the name.
std::string sniff_image_format(const std::string& bytes);

// Decodes `bytes` (the content of file `name`, used in messages only).
Expected<Image> decode_image(const std::string& bytes, const std::string& name);
// Reads and decodes a file.
Expected<Image> read_image(const std::string& path);
// Reads only the header: format, size, channels. Cheap; used to reject
// non-image files before any work starts.
Expected<ImageFileInfo> read_image_info(const std::string& path);

// Returns an image with `channels` (1 or 3) channels; a copy when it already has them.
Expected<Image> convert_channels(const Image& img, int channels);

// True for names ending in .jpg, .jpeg or .png (any case).
bool has_image_extension(const std::string& path);

// Expands command-line arguments into image files: a folder gives its files
// with an image extension, sorted by name, not recursing; a file is taken as
// is (whatever its name; decoding reports non-images). Errors: a path that
// does not exist, a folder without any JPEG/PNG file.
Expected<std::vector<std::string>> collect_image_files(const std::vector<std::string>& args);

}  // namespace convfix
