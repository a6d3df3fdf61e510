// Image decoding on top of stb_image (Debian libstb-dev, header only here:
// the implementation is compiled into this file, JPEG and PNG only).
#include "convfix/image.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "convfix/fileio.h"

#if defined(CONVFIX_HAVE_STB)
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
// Included through the system include path so that the third-party code is
// compiled without our -Werror warnings.
#include <stb/stb_image.h>
#endif

namespace convfix {

namespace fs = std::filesystem;

std::string sniff_image_format(const std::string& bytes) {
  static const unsigned char kPng[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPng, 8) == 0) return "png";
  if (bytes.size() >= 3 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
      static_cast<unsigned char>(bytes[1]) == 0xD8 && static_cast<unsigned char>(bytes[2]) == 0xFF)
    return "jpeg";
  return "";
}

bool has_image_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

#if defined(CONVFIX_HAVE_STB)

namespace {

struct StbFree {
  void operator()(void* p) const { stbi_image_free(p); }
};

Status not_an_image(const std::string& name, const std::string& bytes) {
  if (bytes.empty()) return invalid_argument(name + ": not a JPEG or PNG image (empty file)");
  return invalid_argument(name + ": not a JPEG or PNG image");
}

Status decode_failed(const std::string& name, const std::string& format) {
  const char* why = stbi_failure_reason();
  return invalid_argument(name + ": cannot decode " + format + " image: " + (why ? why : "unknown error"));
}

int stb_len(const std::string& bytes) {
  return bytes.size() > static_cast<size_t>(INT32_MAX) ? INT32_MAX : static_cast<int>(bytes.size());
}

// Drops alpha: 2 -> 1, 4 -> 3 channels.
template <typename T>
Image to_image(const T* src, int w, int h, int file_channels, int shift_to_8) {
  Image img;
  img.width = w;
  img.height = h;
  img.channels = file_channels <= 2 ? 1 : 3;
  const size_t n = static_cast<size_t>(w) * static_cast<size_t>(h);
  img.pixels.resize(n * static_cast<size_t>(img.channels));
  uint8_t* dst = img.pixels.data();
  for (size_t i = 0; i < n; ++i) {
    const T* p = src + i * static_cast<size_t>(file_channels);
    for (int c = 0; c < img.channels; ++c) {
      if (shift_to_8) {
        // 16 -> 8 bits with rounding: round(v * 255 / 65535).
        const uint32_t v = static_cast<uint32_t>(p[c]);
        *dst++ = static_cast<uint8_t>((v * 255u + 32767u) / 65535u);
      } else {
        *dst++ = static_cast<uint8_t>(p[c]);
      }
    }
  }
  return img;
}

}  // namespace

Expected<Image> decode_image(const std::string& bytes, const std::string& name) {
  const std::string format = sniff_image_format(bytes);
  if (format.empty()) return not_an_image(name, bytes);
  const auto* buf = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = stb_len(bytes);
  int w = 0, h = 0, n = 0;
  if (stbi_is_16_bit_from_memory(buf, len)) {
    std::unique_ptr<stbi_us, StbFree> px(stbi_load_16_from_memory(buf, len, &w, &h, &n, 0));
    if (!px) return decode_failed(name, format);
    if (n < 1 || n > 4) return invalid_argument(name + ": unsupported channel count " + std::to_string(n));
    return to_image(px.get(), w, h, n, 1);
  }
  std::unique_ptr<stbi_uc, StbFree> px(stbi_load_from_memory(buf, len, &w, &h, &n, 0));
  if (!px) return decode_failed(name, format);
  if (n < 1 || n > 4) return invalid_argument(name + ": unsupported channel count " + std::to_string(n));
  return to_image(px.get(), w, h, n, 0);
}

Expected<ImageFileInfo> read_image_info(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  ImageFileInfo info;
  info.format = sniff_image_format(*bytes);
  if (info.format.empty()) return not_an_image(path, *bytes);
  const auto* buf = reinterpret_cast<const stbi_uc*>(bytes->data());
  const int len = stb_len(*bytes);
  if (!stbi_info_from_memory(buf, len, &info.width, &info.height, &info.channels))
    return decode_failed(path, info.format);
  info.sixteen_bit = stbi_is_16_bit_from_memory(buf, len) != 0;
  return info;
}

#else  // !CONVFIX_HAVE_STB

Expected<Image> decode_image(const std::string& bytes, const std::string& name) {
  return not_implemented(name + ": convfix was built without stb_image (install libstb-dev), images cannot be read");
}

Expected<ImageFileInfo> read_image_info(const std::string& path) {
  return not_implemented(path + ": convfix was built without stb_image (install libstb-dev), images cannot be read");
}

#endif

Expected<Image> read_image(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  return decode_image(*bytes, path);
}

Expected<Image> convert_channels(const Image& img, int channels) {
  if (channels != 1 && channels != 3) return invalid_argument("images have 1 or 3 channels, not " + std::to_string(channels));
  if (img.channels != 1 && img.channels != 3)
    return invalid_argument("image has " + std::to_string(img.channels) + " channels; expected 1 or 3");
  if (img.channels == channels) return img;
  Image out;
  out.width = img.width;
  out.height = img.height;
  out.channels = channels;
  const size_t n = static_cast<size_t>(img.width) * static_cast<size_t>(img.height);
  out.pixels.resize(n * static_cast<size_t>(channels));
  if (channels == 3) {
    for (size_t i = 0; i < n; ++i) out.pixels[3 * i] = out.pixels[3 * i + 1] = out.pixels[3 * i + 2] = img.pixels[i];
  } else {
    for (size_t i = 0; i < n; ++i) {
      const double l = 0.299 * img.pixels[3 * i] + 0.587 * img.pixels[3 * i + 1] + 0.114 * img.pixels[3 * i + 2];
      out.pixels[i] = static_cast<uint8_t>(std::clamp(std::lround(l), 0L, 255L));
    }
  }
  return out;
}

Expected<std::vector<std::string>> collect_image_files(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  for (const auto& arg : args) {
    std::error_code ec;
    const fs::file_status st = fs::status(arg, ec);
    if (ec || !fs::exists(st)) return io_error(arg + ": no such file or folder");
    if (fs::is_directory(st)) {
      std::vector<std::string> names;
      fs::directory_iterator it(arg, ec);
      if (ec) return io_error(arg + ": cannot list folder: " + ec.message());
      for (const auto& entry : it) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name[0] == '.' || !has_image_extension(name)) continue;
        std::error_code ec2;
        if (!entry.is_regular_file(ec2)) continue;
        names.push_back(name);
      }
      if (names.empty()) return invalid_argument(arg + ": no JPEG or PNG files in this folder");
      std::sort(names.begin(), names.end());
      for (const auto& name : names) files.push_back((fs::path(arg) / name).string());
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) return invalid_argument("no image files given");
  return files;
}

}  // namespace convfix
