// TorchScript loader (part of convfix_core; no libtorch): checks the archive
// without libtorch, then loads the importer plugin with dlopen on first use.
// See include/convfix/torchscript_format.h.
#include <dlfcn.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "convfix/torchscript_format.h"
#include "formats/torchscript/torchscript_plugin.h"

namespace convfix {

namespace fs = std::filesystem;

namespace {

uint32_t le32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t{p[3]} << 24); }
uint16_t le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint64_t le64(const unsigned char* p) { return le32(p) | (uint64_t{le32(p + 4)} << 32); }

struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint64_t csize = 0, usize = 0, local_offset = 0;
};

bool read_at(std::ifstream& f, uint64_t off, size_t n, std::string* out) {
  out->assign(n, '\0');
  f.clear();
  f.seekg(static_cast<std::streamoff>(off));
  f.read(out->data(), static_cast<std::streamsize>(n));
  return static_cast<size_t>(f.gcount()) == n;
}

// Lists the central directory. Error text says what is wrong with the zip.
Status list_zip(const std::string& path, std::vector<ZipEntry>* entries, std::ifstream& f, uint64_t* fsize) {
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return io_error(path + ": cannot read the file");
  *fsize = size;
  const uint64_t tail_len = std::min<uint64_t>(size, 65535 + 22);
  std::string tail;
  if (!read_at(f, size - tail_len, static_cast<size_t>(tail_len), &tail)) return io_error(path + ": cannot read the file");
  int64_t eocd = -1;
  for (int64_t i = static_cast<int64_t>(tail.size()) - 22; i >= 0; --i) {
    if (std::memcmp(tail.data() + i, "PK\x05\x06", 4) == 0) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0)
    return invalid_model(path + ": truncated or corrupt zip archive (no end-of-central-directory record); "
                                "a TorchScript file is a complete zip written by torch.jit.save");
  const auto* e = reinterpret_cast<const unsigned char*>(tail.data() + eocd);
  uint64_t count = le16(e + 10);
  uint64_t cd_size = le32(e + 12);
  uint64_t cd_off = le32(e + 16);
  const uint64_t eocd_abs = size - tail_len + static_cast<uint64_t>(eocd);
  if (cd_off == 0xFFFFFFFFu || count == 0xFFFF || cd_size == 0xFFFFFFFFu) {
    // ZIP64: locator right before the EOCD record.
    if (eocd < 20 || std::memcmp(tail.data() + eocd - 20, "PK\x06\x07", 4) != 0)
      return invalid_model(path + ": corrupt zip archive (ZIP64 locator missing)");
    const uint64_t z64 = le64(reinterpret_cast<const unsigned char*>(tail.data() + eocd - 20 + 8));
    std::string rec;
    if (z64 + 56 > size || !read_at(f, z64, 56, &rec) || rec.compare(0, 4, "PK\x06\x06") != 0)
      return invalid_model(path + ": corrupt zip archive (bad ZIP64 end-of-central-directory record)");
    const auto* r = reinterpret_cast<const unsigned char*>(rec.data());
    count = le64(r + 32);
    cd_size = le64(r + 40);
    cd_off = le64(r + 48);
  }
  if (cd_off > eocd_abs || cd_size > eocd_abs - cd_off || count > cd_size / 46 + 1)
    return invalid_model(path + ": truncated or corrupt zip archive (central directory outside the file)");
  std::string cd;
  if (!read_at(f, cd_off, static_cast<size_t>(cd_size), &cd)) return invalid_model(path + ": truncated zip archive");
  size_t p = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (p + 46 > cd.size() || cd.compare(p, 4, "PK\x01\x02") != 0)
      return invalid_model(path + ": corrupt zip archive (bad central directory entry " + std::to_string(i) + ")");
    const auto* c = reinterpret_cast<const unsigned char*>(cd.data() + p);
    ZipEntry z;
    z.method = le16(c + 10);
    z.csize = le32(c + 20);
    z.usize = le32(c + 24);
    const size_t nlen = le16(c + 28), xlen = le16(c + 30), clen = le16(c + 32);
    z.local_offset = le32(c + 42);
    if (p + 46 + nlen + xlen + clen > cd.size())
      return invalid_model(path + ": corrupt zip archive (central directory entry " + std::to_string(i) + " overruns)");
    z.name = cd.substr(p + 46, nlen);
    // ZIP64 extra field: sizes and offset that did not fit in 32 bits.
    size_t x = p + 46 + nlen;
    const size_t xend = x + xlen;
    while (x + 4 <= xend) {
      const auto* h = reinterpret_cast<const unsigned char*>(cd.data() + x);
      const size_t id = le16(h), len = le16(h + 2);
      if (x + 4 + len > xend) break;
      if (id == 1) {
        size_t q = x + 4;
        auto take = [&](uint64_t* v) {
          if (*v == 0xFFFFFFFFu && q + 8 <= x + 4 + len) {
            *v = le64(reinterpret_cast<const unsigned char*>(cd.data() + q));
            q += 8;
          }
        };
        take(&z.usize);
        take(&z.csize);
        take(&z.local_offset);
      }
      x += 4 + len;
    }
    if (z.local_offset > cd_off || z.csize > cd_off - z.local_offset)
      return invalid_model(path + ": truncated or corrupt zip archive (entry '" + z.name + "' lies outside the file)");
    entries->push_back(std::move(z));
    p += 46 + nlen + xlen + clen;
  }
  return Status::OK();
}

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// Says what a torch.save pickle holds, from the class names it mentions.
std::string describe_pickle(const std::string& bytes) {
  if (bytes.find("OrderedDict") != std::string::npos && bytes.find("torch.nn.modules") == std::string::npos &&
      bytes.find("\nModule") == std::string::npos)
    return "a PyTorch state_dict saved with torch.save (a pickled dict of tensors, no network code)";
  if (bytes.find("torch.nn.modules") != std::string::npos || bytes.find("torchvision.models") != std::string::npos)
    return "a pickled Python nn.Module saved with torch.save (needs the Python class definitions to load)";
  return "a Python object pickled with torch.save (not a TorchScript module)";
}

const char* kNeedTorchScript =
    "convfix needs a TorchScript file: torch.jit.trace(model, example_input).save(path) or "
    "torch.jit.script(model).save(path)";

// Checks the archive layout before libtorch sees it.
Status check_archive(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return io_error(path + ": cannot open the file");
  char head[4] = {0, 0, 0, 0};
  f.read(head, 4);
  if (f.gcount() >= 2 && static_cast<unsigned char>(head[0]) == 0x80 && head[1] >= 2 && head[1] <= 5) {
    std::string all;
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    read_at(f, 0, static_cast<size_t>(std::min<uint64_t>(ec ? 0 : size, 1 << 20)), &all);
    return invalid_model(path + ": " + describe_pickle(all) + " in the legacy (non-zip) format; " + kNeedTorchScript);
  }
  if (f.gcount() < 4 || std::memcmp(head, "PK\x03\x04", 4) != 0)
    return invalid_model(path + ": not a TorchScript file (not a zip archive)");
  std::vector<ZipEntry> entries;
  uint64_t fsize = 0;
  CONVFIX_RETURN_IF_ERROR(list_zip(path, &entries, f, &fsize));
  bool has_code = false, has_constants = false;
  const ZipEntry* data_pkl = nullptr;
  for (const auto& e : entries) {
    if (e.name.find("/code/") != std::string::npos || e.name.rfind("code/", 0) == 0) has_code = true;
    if (ends_with(e.name, "constants.pkl")) has_constants = true;
    if (e.name == "data.pkl" || ends_with(e.name, "/data.pkl")) data_pkl = &e;
  }
  if (has_code && has_constants) return Status::OK();
  if (data_pkl) {
    std::string bytes;
    if (data_pkl->method == 0 && data_pkl->local_offset + 30 <= fsize && read_at(f, data_pkl->local_offset, 30, &bytes)) {
      const auto* h = reinterpret_cast<const unsigned char*>(bytes.data());
      const uint64_t start = data_pkl->local_offset + 30 + le16(h + 26) + le16(h + 28);
      const uint64_t n = std::min<uint64_t>(data_pkl->csize, 1 << 20);
      if (start + n <= fsize && read_at(f, start, static_cast<size_t>(n), &bytes))
        return invalid_model(path + ": " + describe_pickle(bytes) + ", not TorchScript; " + kNeedTorchScript);
    }
    return invalid_model(path + ": a torch.save archive (data.pkl without TorchScript code), not TorchScript; " +
                         kNeedTorchScript);
  }
  std::string names;
  for (size_t i = 0; i < entries.size() && i < 3; ++i) names += (i ? ", " : "") + entries[i].name;
  if (entries.size() > 3) names += ", ...";
  return invalid_model(path + ": a zip archive that is not TorchScript (no code/ folder and constants.pkl; entries: " +
                       (names.empty() ? std::string("none") : names) + ")");
}

#ifdef CONVFIX_TORCHSCRIPT_PLUGIN_PATH
struct Plugin {
  ConvfixTorchScriptReadFn read = nullptr;
  Status status;
};

std::string exe_dir() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.parent_path().string();
}

const Plugin& plugin() {
  static const Plugin p = [] {
    Plugin r;
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("CONVFIX_TORCHSCRIPT_PLUGIN"); env && *env) {
      candidates.push_back(env);
    } else {
      const std::string dir = exe_dir();
      if (!dir.empty()) candidates.push_back(dir + "/libconvfix_torchscript.so");
      candidates.push_back(CONVFIX_TORCHSCRIPT_PLUGIN_PATH);
    }
    std::string tried;
    for (const auto& c : candidates) {
      std::error_code ec;
      if (!fs::exists(c, ec)) {
        tried += (tried.empty() ? "" : ", ") + c;
        continue;
      }
      void* h = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!h) {
        const char* err = dlerror();
        r.status = not_implemented("cannot load the TorchScript plugin " + c + ": " + (err ? err : "dlopen failed"));
        return r;
      }
      auto abi = reinterpret_cast<ConvfixTorchScriptAbiFn>(dlsym(h, CONVFIX_TS_ABI_SYMBOL));
      auto read = reinterpret_cast<ConvfixTorchScriptReadFn>(dlsym(h, CONVFIX_TS_READ_SYMBOL));
      if (!abi || !read || abi() != tsfmt::kPluginAbi) {
        r.status = not_implemented("the TorchScript plugin " + c + " does not match this convfix build (rebuild it)");
        return r;  // not unloaded: harmless, and its static objects may be live
      }
      r.read = read;
      return r;
    }
    r.status = not_implemented("TorchScript support was built, but the plugin libconvfix_torchscript.so is missing (looked at " +
                               tried + "; set CONVFIX_TORCHSCRIPT_PLUGIN)");
    return r;
  }();
  return p;
}
#endif

}  // namespace

bool torchscript_support_built() {
#ifdef CONVFIX_TORCHSCRIPT_PLUGIN_PATH
  return true;
#else
  return false;
#endif
}

bool is_torch_pickle(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char h[2] = {0, 0};
  f.read(reinterpret_cast<char*>(h), 2);
  if (f.gcount() != 2 || h[0] != 0x80 || h[1] < 2 || h[1] > 5) return false;
  // torch.save's legacy format starts with a pickled magic number (a long),
  // so the second opcode is LONG1 (0x8a); plain pickles are not ours.
  char third = 0;
  f.read(&third, 1);
  return f.gcount() == 1 && static_cast<unsigned char>(third) == 0x8a;
}

Expected<Graph> read_torchscript(const std::string& path, const TorchScriptOptions& opts) {
  CONVFIX_RETURN_IF_ERROR(check_archive(path));
#ifdef CONVFIX_TORCHSCRIPT_PLUGIN_PATH
  const Plugin& p = plugin();
  if (!p.read) return p.status.with_context(path);
  Graph g;
  Status st;
  p.read(path.c_str(), &opts, &g, &st);
  if (!st.ok()) return st;
  return g;
#else
  (void)opts;
  return not_implemented(path + ": convfix was built without TorchScript support (libtorch not found or "
                                "CONVFIX_TORCHSCRIPT=OFF); install libtorch-dev and rebuild");
#endif
}

}  // namespace convfix
