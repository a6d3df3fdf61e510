// Keras HDF5 / .keras readers and writer (see convfix/keras_format.h), on
// libhdf5's C API. HDF5's own error printing is switched off; every failure
// becomes a Status naming the file.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "convfix/fileio.h"
#include "convfix/keras_format.h"
#include "formats/keras/keras_config_patch.h"
#include "formats/keras/keras_lower.h"
#include "formats/keras/keras_zip.h"

#if CONVFIX_HAVE_HDF5
#include <hdf5.h>
#endif

namespace convfix {

namespace fs = std::filesystem;
using nlohmann::json;

#if CONVFIX_HAVE_HDF5
namespace {

// Owns an hid_t and closes it with `close`.
class Hid {
 public:
  Hid() = default;
  Hid(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  Hid(Hid&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Hid& operator=(Hid&& o) noexcept {
    reset();
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = -1;
    return *this;
  }
  ~Hid() { reset(); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

void quiet_hdf5() {
  static std::atomic<bool> done{false};
  if (!done.exchange(true)) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

bool has_attr(hid_t obj, const char* name) { return H5Aexists(obj, name) > 0; }

// A string attribute (fixed or variable length; scalar or 1-D array).
Expected<std::vector<std::string>> read_str_attr(const std::string& file, hid_t obj, const char* name) {
  Hid a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!a.ok()) return invalid_model(file + ": attribute '" + name + "' cannot be opened");
  Hid t(H5Aget_type(a.get()), H5Tclose);
  Hid s(H5Aget_space(a.get()), H5Sclose);
  if (!t.ok() || !s.ok()) return invalid_model(file + ": attribute '" + name + "' cannot be read");
  const hssize_t n = H5Sget_simple_extent_npoints(s.get());
  // h5py stores an empty list as an empty float64 array.
  if (n == 0) return std::vector<std::string>{};
  if (H5Tget_class(t.get()) != H5T_STRING) return invalid_model(file + ": attribute '" + name + "' is not a string");
  if (n < 0 || n > (1 << 24)) return invalid_model(file + ": attribute '" + name + "' has a bad size");
  std::vector<std::string> out;
  if (H5Tis_variable_str(t.get()) > 0) {
    Hid mt(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mt.get(), H5T_VARIABLE);
    H5Tset_cset(mt.get(), H5Tget_cset(t.get()));
    std::vector<char*> p(static_cast<size_t>(n), nullptr);
    if (H5Aread(a.get(), mt.get(), p.data()) < 0) return invalid_model(file + ": attribute '" + name + "' cannot be read");
    for (char* c : p) {
      out.emplace_back(c ? c : "");
      if (c) H5free_memory(c);
    }
  } else {
    const size_t sz = H5Tget_size(t.get());
    if (sz == 0 || sz > (size_t{1} << 30)) return invalid_model(file + ": attribute '" + name + "' has a bad size");
    std::string buf(sz * static_cast<size_t>(n), '\0');
    if (H5Aread(a.get(), t.get(), buf.data()) < 0) return invalid_model(file + ": attribute '" + name + "' cannot be read");
    for (hssize_t i = 0; i < n; ++i) {
      std::string v = buf.substr(static_cast<size_t>(i) * sz, sz);
      const auto z = v.find('\0');
      if (z != std::string::npos) v.resize(z);
      out.push_back(v);
    }
  }
  return out;
}

Expected<std::string> read_str1(const std::string& file, hid_t obj, const char* name) {
  CONVFIX_ASSIGN_OR_RETURN(auto v, read_str_attr(file, obj, name));
  if (v.empty()) return invalid_model(file + ": attribute '" + std::string(name) + "' is empty");
  return v[0];
}

// A numeric dataset as f32 (HDF5 converts the stored float/int type).
Expected<Tensor> read_dataset(const std::string& file, hid_t loc, const std::string& path) {
  Hid d(H5Dopen2(loc, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.ok()) return invalid_model(file + ": weight '" + path + "' is missing");
  Hid s(H5Dget_space(d.get()), H5Sclose);
  const int nd = H5Sget_simple_extent_ndims(s.get());
  if (nd < 0 || nd > 8) return invalid_model(file + ": weight '" + path + "' has a bad rank");
  hsize_t dims[8] = {0};
  H5Sget_simple_extent_dims(s.get(), dims, nullptr);
  std::vector<int64_t> shape;
  uint64_t n = 1;
  for (int i = 0; i < nd; ++i) {
    shape.push_back(static_cast<int64_t>(dims[i]));
    n *= dims[i];
    if (n > (uint64_t{1} << 32)) return invalid_model(file + ": weight '" + path + "' is too large");
  }
  Hid t(H5Dget_type(d.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(t.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) return not_implemented(file + ": weight '" + path + "' is not numeric");
  Tensor out = Tensor::uninitialized(DType::kF32, shape);
  if (n && H5Dread(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.raw()) < 0)
    return invalid_model(file + ": weight '" + path + "' cannot be read (truncated or corrupt file)");
  return out;
}

Expected<Hid> open_h5(const std::string& path, bool write = false) {
  quiet_hdf5();
  if (H5Fis_hdf5(path.c_str()) <= 0) return invalid_model(path + ": not an HDF5 file (or truncated)");
  Hid f(H5Fopen(path.c_str(), write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.ok()) return invalid_model(path + ": HDF5 file cannot be opened (truncated or corrupt)");
  return f;
}

std::vector<std::string> children(hid_t g) {
  std::vector<std::string> out;
  H5G_info_t info;
  if (H5Gget_info(g, &info) < 0) return out;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len <= 0) continue;
    std::string s(static_cast<size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, s.data(), s.size(), H5P_DEFAULT);
    s.resize(static_cast<size_t>(len));
    out.push_back(s);
  }
  return out;
}

// Keras 2 weights: groups listed in layer_names, weights in weight_names.
Status read_keras2_weights(const std::string& file, hid_t root, const std::string& group, const json& model,
                           keras::LowerRequest* req, json* paths) {
  Hid g(H5Gopen2(root, group.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.ok()) return invalid_model(file + ": group '" + group + "' is missing");
  if (!has_attr(g.get(), "layer_names")) return invalid_model(file + ": '" + group + "' has no layer_names attribute");
  CONVFIX_ASSIGN_OR_RETURN(auto layer_names, read_str_attr(file, g.get(), "layer_names"));
  std::set<std::string> layers, models;
  keras::collect_layers(model, &layers, &models);
  for (const auto& ln : layer_names) {
    Hid lg(H5Gopen2(g.get(), ln.c_str(), H5P_DEFAULT), H5Gclose);
    if (!lg.ok()) return invalid_model(file + ": layer '" + ln + "': its weight group is missing");
    if (!has_attr(lg.get(), "weight_names")) continue;
    CONVFIX_ASSIGN_OR_RETURN(auto wn, read_str_attr(file, lg.get(), "weight_names"));
    for (const auto& w : wn) {
      auto t = read_dataset(file, lg.get(), w);
      if (!t.ok()) return t.status().with_context("layer '" + ln + "'");
      std::string owner = ln;
      if (!layers.count(ln)) {
        // A nested model's group: the weight's own layer is the component
        // before the last one.
        std::vector<std::string> parts;
        std::stringstream ss(keras::strip_tf_suffix(w));
        for (std::string p; std::getline(ss, p, '/');) parts.push_back(p);
        owner.clear();
        for (size_t i = parts.size() - 1; i-- > 0;)
          if (layers.count(parts[i])) { owner = parts[i]; break; }
        if (owner.empty()) continue;
      }
      req->weights[owner].emplace_back(w, std::move(t).value());
      (*paths)[w] = (group == "/" ? "" : group + "/") + ln + "/" + w;
    }
  }
  return Status::OK();
}

json parse_config(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_object() && j.contains("model_config") && !j.contains("class_name")) return j["model_config"];
  return j;
}

Expected<Graph> finish(keras::LowerRequest& req, const json& paths, const std::string& kv, const std::string& backend,
                       const std::string& flavour) {
  auto g = keras::lower_model(req);
  if (!g.ok()) return g.status();
  g->info.metadata["keras_weight_paths"] = paths.dump();
  g->info.metadata["keras_flavour"] = flavour;
  if (!kv.empty()) g->info.metadata["keras_version"] = kv;
  if (!backend.empty()) g->info.metadata["backend"] = backend;
  g->info.producer_name = "keras";
  g->info.producer_version = kv;
  return g;
}

// Keras 3 model.weights.h5: layers/<name>/vars/<i>, nested models recursing.
void read_v3_group(const std::string& file, hid_t g, const std::string& prefix, keras::LowerRequest* req, json* paths,
                   Status* st) {
  for (const auto& c : children(g)) {
    Hid lg(H5Gopen2(g, c.c_str(), H5P_DEFAULT), H5Gclose);
    if (!lg.ok()) continue;
    const std::string base = prefix + "/" + c;
    if (H5Lexists(lg.get(), "vars", H5P_DEFAULT) > 0) {
      Hid vg(H5Gopen2(lg.get(), "vars", H5P_DEFAULT), H5Gclose);
      auto names = children(vg.get());
      std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
      });
      for (const auto& v : names) {
        auto t = read_dataset(file, vg.get(), v);
        if (!t.ok()) { *st = t.status().with_context("layer '" + c + "'"); return; }
        const std::string n = (base + "/vars/" + v).substr(1);
        req->weights[c].emplace_back(n, std::move(t).value());
        (*paths)[n] = n;
      }
    }
    if (H5Lexists(lg.get(), "layers", H5P_DEFAULT) > 0) {
      Hid sg(H5Gopen2(lg.get(), "layers", H5P_DEFAULT), H5Gclose);
      read_v3_group(file, sg.get(), base + "/layers", req, paths, st);
      if (!st->ok()) return;
    }
  }
}

std::string temp_path(const std::string& near) {
  static std::atomic<int> k{0};
  return near + ".convfix-tmp-" + std::to_string(::getpid()) + "-" + std::to_string(k++);
}

// A string attribute written anew: a scalar (one value) or a 1-D array, in
// the form (variable / fixed length) and character set of the attribute it
// replaces (fixed-length ASCII when there was none).
Status write_str_attr(const std::string& file, hid_t obj, const char* name, const std::vector<std::string>& vals, bool scalar) {
  H5T_cset_t cset = H5T_CSET_ASCII;
  bool vlen = false;
  if (has_attr(obj, name)) {
    Hid a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    Hid t(a.ok() ? H5Aget_type(a.get()) : -1, H5Tclose);
    if (t.ok() && H5Tget_class(t.get()) == H5T_STRING) {
      cset = H5Tget_cset(t.get());
      vlen = H5Tis_variable_str(t.get()) > 0;
    }
    a.reset();
    if (H5Adelete(obj, name) < 0) return io_error(file + ": attribute '" + name + "' cannot be replaced");
  }
  size_t len = 1;
  for (const auto& v : vals) len = std::max(len, v.size());
  Hid t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), vlen ? H5T_VARIABLE : len);
  H5Tset_cset(t.get(), cset);
  if (!vlen) H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
  const hsize_t n = vals.size();
  Hid sp(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose);
  Hid a(H5Acreate2(obj, name, t.get(), sp.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!a.ok()) return io_error(file + ": attribute '" + name + "' cannot be written");
  herr_t w;
  if (vlen) {
    std::vector<const char*> p;
    for (const auto& v : vals) p.push_back(v.c_str());
    w = H5Awrite(a.get(), t.get(), p.data());
  } else {
    std::string buf(len * vals.size(), '\0');
    for (size_t i = 0; i < vals.size(); ++i) buf.replace(i * len, vals[i].size(), vals[i]);
    w = H5Awrite(a.get(), t.get(), buf.data());
  }
  if (w < 0) return io_error(file + ": attribute '" + name + "' cannot be written");
  return Status::OK();
}

// Writes the patch's weights into the HDF5 file at `file` (opened
// read-write): every file weight the graph uses, from the graph; new
// weights (a bias) as new f32 datasets next to the layer's first weight
// (Keras 2 files: also listed in the layer group's weight_names, after the
// layer's last weight).
Status patch_h5(const keras::ConfigPatch& patch, const json& paths, const std::string& file, bool keras2) {
  CONVFIX_ASSIGN_OR_RETURN(Hid f, open_h5(file, true));
  for (const auto& [name, t] : patch.weights) {
    if (!paths.contains(name) || !paths[name].is_string()) continue;
    const std::string p = paths[name].get<std::string>();
    if (t.dtype() != DType::kF32) return not_implemented(file + ": weight '" + name + "' is " + dtype_name(t.dtype()) + ", not f32");
    Hid d(H5Dopen2(f.get(), p.c_str(), H5P_DEFAULT), H5Dclose);
    if (!d.ok()) return invalid_model(file + ": weight dataset '" + p + "' is missing");
    Hid s(H5Dget_space(d.get()), H5Sclose);
    const int nd = H5Sget_simple_extent_ndims(s.get());
    hsize_t dims[8] = {0};
    if (nd < 0 || nd > 8) return invalid_model(file + ": weight '" + name + "' has a bad rank");
    H5Sget_simple_extent_dims(s.get(), dims, nullptr);
    bool same = nd == t.rank();
    for (int i = 0; same && i < nd; ++i) same = static_cast<int64_t>(dims[i]) == t.dim(i);
    if (!same) return invalid_argument(file + ": weight '" + name + "': the graph's shape differs from the file's; shapes cannot change");
    if (t.numel() && H5Dwrite(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.raw()) < 0)
      return io_error(file + ": weight '" + name + "' cannot be written");
  }
  for (const auto& w : patch.added) {
    if (!paths.contains(w.after) || !paths[w.after].is_string())
      return internal_error(file + ": layer '" + w.layer + "': no dataset path for weight '" + w.after + "'");
    const std::string pa = paths[w.after].get<std::string>();
    if (pa.size() < w.after.size() || pa.compare(pa.size() - w.after.size(), w.after.size(), w.after) != 0)
      return not_implemented(file + ": layer '" + w.layer + "': cannot place a new weight next to '" + pa + "'");
    const std::string base = pa.substr(0, pa.size() - w.after.size());
    const std::string dpath = base + w.name;
    if (H5Lexists(f.get(), dpath.c_str(), H5P_DEFAULT) > 0)
      return not_implemented(file + ": layer '" + w.layer + "': dataset '" + dpath + "' already exists");
    std::vector<hsize_t> dims;
    for (int64_t d : w.value.dims()) dims.push_back(static_cast<hsize_t>(d));
    Hid lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    Hid sp(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    Hid d(H5Dcreate2(f.get(), dpath.c_str(), H5T_IEEE_F32LE, sp.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    if (!d.ok() || (w.value.numel() && H5Dwrite(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w.value.raw()) < 0))
      return io_error(file + ": layer '" + w.layer + "': weight '" + w.name + "' cannot be written");
    if (!keras2) continue;
    const std::string group = base.empty() ? "/" : base.substr(0, base.size() - 1);
    Hid g(H5Gopen2(f.get(), group.c_str(), H5P_DEFAULT), H5Gclose);
    if (!g.ok() || !has_attr(g.get(), "weight_names")) return invalid_model(file + ": group '" + group + "' has no weight_names");
    CONVFIX_ASSIGN_OR_RETURN(auto names, read_str_attr(file, g.get(), "weight_names"));
    auto it = std::find(names.begin(), names.end(), w.after);
    names.insert(it == names.end() ? names.end() : it + 1, w.name);
    CONVFIX_RETURN_IF_ERROR(write_str_attr(file, g.get(), "weight_names", names, false));
  }
  if (H5Fflush(f.get(), H5F_SCOPE_GLOBAL) < 0) return io_error(file + ": flush failed");
  return Status::OK();
}

// The model config as the file stores it, with the model replaced.
json with_model(const json& stored, const json& model) {
  if (stored.is_object() && stored.contains("model_config") && !stored.contains("class_name")) {
    json j = stored;
    j["model_config"] = model;
    return j;
  }
  return model;
}

// What a writer needs of an original Keras file: the lowering request (model
// config and weights), the weight dataset paths and the stored config JSON.
struct Source {
  keras::LowerRequest req;
  json paths = json::object();
  json stored;  // the stored config JSON (model_config attribute, arch JSON, config.json)
  std::string kv, backend;
};

Expected<Source> source_h5(const std::string& path) {
  CONVFIX_ASSIGN_OR_RETURN(Hid f, open_h5(path));
  if (!has_attr(f.get(), "model_config"))
    return invalid_model(path + ": no model_config attribute (a weights-only file? give its architecture JSON too)");
  CONVFIX_ASSIGN_OR_RETURN(std::string cfg, read_str1(path, f.get(), "model_config"));
  Source s;
  s.req.path = path;
  s.req.format = "keras";
  s.stored = json::parse(cfg, nullptr, false);
  s.req.model = parse_config(cfg);
  if (!s.req.model.is_object() || !s.req.model.contains("class_name")) return invalid_model(path + ": model_config is not a Keras model JSON");
  if (has_attr(f.get(), "keras_version")) { CONVFIX_ASSIGN_OR_RETURN(s.kv, read_str1(path, f.get(), "keras_version")); }
  if (has_attr(f.get(), "backend")) { CONVFIX_ASSIGN_OR_RETURN(s.backend, read_str1(path, f.get(), "backend")); }
  if (H5Lexists(f.get(), "model_weights", H5P_DEFAULT) > 0)
    CONVFIX_RETURN_IF_ERROR(read_keras2_weights(path, f.get(), "model_weights", s.req.model, &s.req, &s.paths));
  return s;
}

Expected<Source> source_json_h5(const std::string& json_path, const std::string& weights_h5) {
  CONVFIX_ASSIGN_OR_RETURN(std::string text, read_file(json_path));
  Source s;
  s.req.path = json_path;
  s.stored = json::parse(text, nullptr, false);
  s.req.model = parse_config(text);
  if (!s.req.model.is_object() || !s.req.model.contains("class_name")) return invalid_model(json_path + ": not a Keras model JSON");
  CONVFIX_ASSIGN_OR_RETURN(Hid f, open_h5(weights_h5));
  const std::string group = has_attr(f.get(), "layer_names") ? "/" : "model_weights";
  CONVFIX_RETURN_IF_ERROR(read_keras2_weights(weights_h5, f.get(), group, s.req.model, &s.req, &s.paths));
  if (has_attr(f.get(), "keras_version")) { CONVFIX_ASSIGN_OR_RETURN(s.kv, read_str1(weights_h5, f.get(), "keras_version")); }
  return s;
}

// A Keras 3 archive's config.json and model.weights.h5 (entries of the zip).
Expected<Source> source_v3(const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries) {
  const std::string* config = nullptr;
  const std::string* weights = nullptr;
  const std::string* meta = nullptr;
  for (const auto& [n, d] : entries) {
    if (n == "config.json") config = &d;
    if (n == "model.weights.h5") weights = &d;
    if (n == "metadata.json") meta = &d;
  }
  if (!config) return invalid_model(path + ": .keras archive without config.json");
  Source s;
  s.req.path = path;
  s.req.format = "keras";
  s.req.model = json::parse(*config, nullptr, false);
  s.stored = s.req.model;
  s.req.keras3 = true;
  if (!s.req.model.is_object() || !s.req.model.contains("class_name")) return invalid_model(path + ": config.json is not a Keras model JSON");
  if (weights) {
    quiet_hdf5();
    const std::string tmp = temp_path((fs::temp_directory_path() / "convfix-keras").string());
    CONVFIX_RETURN_IF_ERROR(write_file_atomic(tmp, *weights));
    Status st;
    {
      auto f = open_h5(tmp);
      if (!f.ok()) st = invalid_model(path + ": model.weights.h5 is not a valid HDF5 file");
      else if (H5Lexists(f->get(), "layers", H5P_DEFAULT) > 0) {
        Hid lg(H5Gopen2(f->get(), "layers", H5P_DEFAULT), H5Gclose);
        read_v3_group(path, lg.get(), "/layers", &s.req, &s.paths, &st);
      }
    }
    std::error_code ec;
    fs::remove(tmp, ec);
    CONVFIX_RETURN_IF_ERROR(st);
  }
  if (meta) {
    json m = json::parse(*meta, nullptr, false);
    if (m.is_object() && m.contains("keras_version") && m["keras_version"].is_string()) s.kv = m["keras_version"].get<std::string>();
  }
  return s;
}

}  // namespace

static Expected<Graph> read_keras_h5_impl(const std::string& path) {
  CONVFIX_ASSIGN_OR_RETURN(Source s, source_h5(path));
  return finish(s.req, s.paths, s.kv, s.backend, "h5");
}

static Expected<Graph> read_keras_json_h5_impl(const std::string& json_path, const std::string& weights_h5) {
  CONVFIX_ASSIGN_OR_RETURN(Source s, source_json_h5(json_path, weights_h5));
  auto g = finish(s.req, s.paths, s.kv, "", "json+h5");
  if (g.ok()) g->info.metadata["keras_weights_file"] = weights_h5;
  return g;
}

static bool is_hdf5_file(const std::string& path) {
  std::string head(8, '\0');
  FILE* fp = std::fopen(path.c_str(), "rb");
  if (!fp) return false;
  const size_t n = std::fread(head.data(), 1, 8, fp);
  std::fclose(fp);
  return n == 8 && head == std::string("\x89HDF\r\n\x1a\n", 8);
}

static Expected<Graph> read_keras_v3_impl(const std::string& path) {
  // A legacy HDF5 file carrying a .keras name.
  if (is_hdf5_file(path)) return read_keras_h5_impl(path);
  CONVFIX_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  CONVFIX_ASSIGN_OR_RETURN(auto entries, keras::read_zip(path, bytes));
  CONVFIX_ASSIGN_OR_RETURN(Source s, source_v3(path, entries));
  return finish(s.req, s.paths, s.kv, "", "keras3");
}

// JSON type errors (a config field of the wrong type) become kInvalidModel.
template <typename F>
Expected<Graph> guarded(const std::string& path, F f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return invalid_model(path + ": malformed Keras model config (" + e.what() + ")");
  }
}

Expected<Graph> read_keras_h5(const std::string& path) { return guarded(path, [&] { return read_keras_h5_impl(path); }); }
Expected<Graph> read_keras_json_h5(const std::string& json_path, const std::string& weights_h5) {
  return guarded(json_path, [&] { return read_keras_json_h5_impl(json_path, weights_h5); });
}
Expected<Graph> read_keras_v3(const std::string& path) { return guarded(path, [&] { return read_keras_v3_impl(path); }); }

namespace {

// Copies the HDF5 file `src` to a temporary file beside `out`, patches its
// weights (and, when `config` is set, its model_config attribute) and
// renames it to `out`.
Status write_h5_copy(const std::string& src, const std::string& out, const keras::ConfigPatch& patch, const json& paths,
                     const std::string* config) {
  std::error_code ec;
  CONVFIX_ASSIGN_OR_RETURN(std::string bytes, read_file(src));
  const std::string tmp = temp_path((fs::absolute(out).parent_path() / ".convfix-keras").string());
  CONVFIX_RETURN_IF_ERROR(write_file_atomic(tmp, bytes));
  Status st = patch_h5(patch, paths, tmp, true);
  if (st.ok() && config) {
    auto f = open_h5(tmp, true);
    st = f.ok() ? write_str_attr(tmp, f->get(), "model_config", {*config}, true) : f.status();
  }
  if (st.ok()) {
    fs::rename(tmp, out, ec);
    if (ec) st = io_error(out + ": cannot be written (" + ec.message() + ")");
  }
  if (!st.ok()) fs::remove(tmp, ec);
  return st;
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

Status write_keras_impl(const Graph& g, const std::string& original, const std::string& out_path, bool dry_run) {
  std::error_code ec;
  if (!dry_run && same_file(original, out_path)) return invalid_argument(out_path + ": refusing to write over the input file");
  CONVFIX_ASSIGN_OR_RETURN(std::string bytes, read_file(original));
  const bool zip = bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0;
  const bool h5 = bytes.size() >= 8 && bytes.compare(0, 8, "\x89HDF\r\n\x1a\n") == 0;
  if (zip) {
    // Keras 3 archive: config.json and model.weights.h5 replaced.
    CONVFIX_ASSIGN_OR_RETURN(auto entries, keras::read_zip(original, bytes));
    CONVFIX_ASSIGN_OR_RETURN(Source s, source_v3(original, entries));
    CONVFIX_ASSIGN_OR_RETURN(keras::ConfigPatch patch, keras::patch_config(g, s.req, keras::sibling_namer(true)));
    if (dry_run) return Status::OK();
    const std::string tmp = temp_path((fs::absolute(out_path).parent_path() / ".convfix-keras").string());
    for (auto& [n, d] : entries) {
      if (n == "config.json" && patch.changed) d = patch.model.dump();
      if (n != "model.weights.h5") continue;
      CONVFIX_RETURN_IF_ERROR(write_file_atomic(tmp, d));
      Status st = patch_h5(patch, s.paths, tmp, false);
      auto nb = st.ok() ? read_file(tmp) : Expected<std::string>(st);
      fs::remove(tmp, ec);
      if (!nb.ok()) return nb.status();
      d = std::move(nb).value();
    }
    CONVFIX_ASSIGN_OR_RETURN(std::string z, keras::write_zip(entries));
    return write_file_atomic(out_path, z);
  }
  if (h5) {
    Hid f;
    {
      CONVFIX_ASSIGN_OR_RETURN(f, open_h5(original));
    }
    const bool has_config = has_attr(f.get(), "model_config");
    f.reset();
    if (has_config) {
      // model.save HDF5 (also a legacy HDF5 file named .keras).
      CONVFIX_ASSIGN_OR_RETURN(Source s, source_h5(original));
      CONVFIX_ASSIGN_OR_RETURN(keras::ConfigPatch patch, keras::patch_config(g, s.req, keras::sibling_namer(false)));
      if (dry_run) return Status::OK();
      const std::string cfg = with_model(s.stored, patch.model).dump();
      return write_h5_copy(original, out_path, patch, s.paths, patch.changed ? &cfg : nullptr);
    }
    // A weights-only file: its architecture JSON is the graph's source.
    const std::string arch = g.info.source_path;
    if (arch.empty() || is_hdf5_file(arch))
      return invalid_argument(original + ": a weights-only HDF5 file; give the architecture JSON as the original");
    CONVFIX_ASSIGN_OR_RETURN(Source s, source_json_h5(arch, original));
    CONVFIX_ASSIGN_OR_RETURN(keras::ConfigPatch patch, keras::patch_config(g, s.req, keras::sibling_namer(false)));
    if (patch.changed)
      return not_implemented(original + ": the graph needs a changed architecture JSON; write from the JSON (" + arch +
                             ") to get both files");
    if (dry_run) return Status::OK();
    return write_h5_copy(original, out_path, patch, s.paths, nullptr);
  }
  // Architecture JSON + weights-only HDF5: OUT.json and OUT.weights.h5.
  std::string weights;
  if (auto it = g.info.metadata.find("keras_weights_file"); it != g.info.metadata.end()) weights = it->second;
  for (const char* ext : {".weights.h5", ".h5"})
    if (weights.empty())
      if (fs::path w = fs::path(original).replace_extension(ext); fs::exists(w, ec)) weights = w.string();
  if (weights.empty()) return invalid_argument(original + ": not a Keras file, or an architecture JSON without its weights file");
  if (dry_run) {
    CONVFIX_ASSIGN_OR_RETURN(Source s, source_json_h5(original, weights));
    return keras::patch_config(g, s.req, keras::sibling_namer(false)).status();
  }
  if (fs::path(out_path).extension() != ".json")
    return invalid_argument(out_path + ": an architecture JSON + weights model is written as OUT.json and OUT.weights.h5; give a .json name");
  const std::string out_weights = fs::path(out_path).replace_extension(".weights.h5").string();
  if (same_file(weights, out_weights) || same_file(original, out_weights))
    return invalid_argument(out_weights + ": refusing to write over the input file");
  CONVFIX_ASSIGN_OR_RETURN(Source s, source_json_h5(original, weights));
  CONVFIX_ASSIGN_OR_RETURN(keras::ConfigPatch patch, keras::patch_config(g, s.req, keras::sibling_namer(false)));
  CONVFIX_RETURN_IF_ERROR(write_h5_copy(weights, out_weights, patch, s.paths, nullptr));
  return write_file_atomic(out_path, with_model(s.stored, patch.model).dump());
}

}  // namespace

Status write_keras(const Graph& g, const std::string& original, const std::string& out_path) {
  try {
    return write_keras_impl(g, original, out_path, false);
  } catch (const std::exception& e) {
    return invalid_model(original + ": malformed Keras model config (" + e.what() + ")");
  }
}

Status check_keras_writable(const Graph& g, const std::string& original) {
  try {
    return write_keras_impl(g, original, "", true);
  } catch (const std::exception& e) {
    return invalid_model(original + ": malformed Keras model config (" + e.what() + ")");
  }
}

#else  // !CONVFIX_HAVE_HDF5

Expected<Graph> read_keras_h5(const std::string& path) { return not_implemented(path + ": Keras HDF5 needs a build with libhdf5"); }
Expected<Graph> read_keras_json_h5(const std::string& p, const std::string&) { return not_implemented(p + ": Keras HDF5 needs a build with libhdf5"); }
Expected<Graph> read_keras_v3(const std::string& path) { return not_implemented(path + ": .keras needs a build with libhdf5"); }
Status write_keras(const Graph&, const std::string& original, const std::string&) {
  return not_implemented(original + ": writing Keras files needs a build with libhdf5");
}
Status check_keras_writable(const Graph&, const std::string& original) {
  return not_implemented(original + ": writing Keras files needs a build with libhdf5");
}

#endif

}  // namespace convfix
