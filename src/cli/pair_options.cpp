// Options shared by `convfix compare` and `convfix diagnose` (commands.h).
#include "cli/commands.h"
#include "convfix/output_cache.h"

namespace convfix::cli {

void add_pair_options(CLI::App* sub, PairArgs* a) {
  sub->add_option("source", a->source, "Source model (file or folder)")->required();
  sub->add_option("target", a->target, "Converted (target) model")->required();
  sub->add_option("--via", a->via, "Intermediate model of the conversion chain, in order; repeatable");
  sub->add_option("--images", a->images,
                  "JPEG/PNG files or folders (a folder gives its .jpg/.jpeg/.png files, sorted, not recursive)")
      ->required();
  sub->add_option("--labels", a->labels, "Class names, one per line (line i names class i)");
  sub->add_option("--source-preprocess", a->source_preset,
                  "Preset for the source: torch, tf, caffe, unit, raw (any with +swap-rb)")
      ->capture_default_str();
  sub->add_option("--target-preprocess", a->target_preset, "Preset for the target (default: the source's)");
  sub->add_option("--via-preprocess", a->via_preset, "Preset for the --via models (default: the source's)");
  sub->add_option("--batch", a->batch, "Images per chunk and per run (dynamic-batch models)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  sub->add_option("--threads", a->threads, "Worker threads")->check(CLI::Range(1, 256));
  sub->add_option("--top", a->top, "Length of the ranked lists compared with Kendall's tau")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_option("--layout", a->layout, "Image tensor layout nchw or nhwc for every model (default: each model's)");
  sub->add_option("--size", a->size, "Image size N or HxW when a model input does not fix it (default 224)");
  sub->add_option("--json", a->json_file, "Write the full result as JSON to FILE (schema: docs/DIAGNOSIS.md)");
  sub->add_option("--cache-dir", a->cache_dir,
                  "Output cache folder (default: $CONVFIX_CACHE_DIR, else $XDG_CACHE_HOME/convfix, else ~/.cache/convfix)");
  sub->add_flag("--no-cache", a->no_cache, "Neither read nor write the output cache");
}

Status build_compare_options(const PairArgs& a, const std::string& command, CompareOptions* o,
                             std::vector<std::string>* labels) {
  for (const auto& [opt, name] : {std::pair<const char*, std::string>{"--source-preprocess", a.source_preset},
                                   {"--target-preprocess", a.target_preset},
                                   {"--via-preprocess", a.via_preset}}) {
    if (name.empty()) continue;
    auto p = preset_by_name(name);
    if (!p.ok()) return p.status().with_context(command + ": " + opt);
  }
  o->models.push_back({a.source, "source", a.source_preset, 0});
  for (const auto& v : a.via) o->models.push_back({v, "via", a.via_preset.empty() ? a.source_preset : a.via_preset, 0});
  o->models.push_back({a.target, "target", a.target_preset.empty() ? a.source_preset : a.target_preset, 0});
  o->images = a.images;
  o->batch = a.batch;
  o->threads = a.threads;
  o->top_k = a.top;
  if (!a.layout.empty()) {
    o->geometry.layout = layout_from_name(a.layout);
    if (!o->geometry.layout) return invalid_argument("--layout " + a.layout + ": expected nchw or nhwc");
  }
  if (!a.size.empty()) CONVFIX_RETURN_IF_ERROR(parse_size(a.size, &o->geometry));
  if (!a.no_cache) {
    if (!a.cache_dir.empty()) {
      o->cache_dir = a.cache_dir;
    } else {
      CONVFIX_ASSIGN_OR_RETURN(o->cache_dir, default_output_cache_dir());
    }
  }
  if (!a.labels.empty()) {
    CONVFIX_ASSIGN_OR_RETURN(*labels, read_label_file(a.labels));
  }
  return Status::OK();
}

}  // namespace convfix::cli
