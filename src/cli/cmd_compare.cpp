// convfix compare SOURCE TARGET [--via MODEL ...] --images DIR_OR_FILE... [--labels FILE]
//                 [--source-preprocess P] [--target-preprocess P] [--via-preprocess P]
//                 [--batch N] [--threads N] [--top K] [--json FILE] [--cache-dir DIR | --no-cache]
//                 [--fail-on-discrepancy]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <numeric>
#include <sstream>

#include "cli/commands.h"
#include "convfix/compare.h"
#include "convfix/fileio.h"
#include "convfix/output_cache.h"

namespace convfix::cli {

namespace fs = std::filesystem;

namespace {

struct CompareArgs : PairArgs {
  bool fail_on_discrepancy = false;
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

std::string short_name(const std::string& path) { return fs::path(path).filename().string(); }

std::string class_text(const std::vector<std::string>& labels, int64_t classes, int64_t idx) {
  std::string s = std::to_string(idx);
  if (auto l = label_for(labels, classes, idx)) s += " " + *l;
  return s;
}

void print_summary(const CompareResult& r, const std::vector<std::string>& labels) {
  int64_t hits = 0, computed = 0;
  for (const auto& m : r.models) {
    hits += m.cache_hits;
    computed += m.computed;
  }
  std::cout << "compare: " << r.models.size() << " models, " << r.images.size()
            << (r.images.size() == 1 ? " image" : " images") << " (outputs: " << computed << " computed, " << hits
            << " from the cache)\n";
  for (size_t m = 0; m < r.models.size(); ++m) {
    const auto& mi = r.models[m];
    std::string shape = "[";
    for (size_t i = 0; i < mi.input_dims.size(); ++i)
      shape += (i ? ", " : "") + (mi.input_dims[i] < 0 ? std::string("N") : std::to_string(mi.input_dims[i]));
    shape += "]";
    std::cout << "  [" << m << "] " << pad(mi.role, 6) << " " << mi.path << "  (" << mi.format << ", input " << shape
              << " " << mi.layout << ", preset " << mi.preset << ", output " << dims_to_string(mi.output_dims)
              << (mi.classification ? "" : ", not [N, classes]: top-k does not apply") << ")\n";
  }
  std::cout << "\n"
            << pad("pair", 22) << pad("top-1 differs", 20) << pad("tau mean", 10) << pad("tau min", 10)
            << pad("tau<1", 7) << pad("max|diff|", 11) << pad("mean|diff|", 11) << "max|diff|/max|a|\n";
  for (const auto& p : r.pairs) {
    std::string name = (p.kind == "source-target" ? "source->target" : p.kind == "step" ? "step" : "source->via") +
                       std::string(" ") + std::to_string(p.a) + "->" + std::to_string(p.b);
    std::string disc = "n/a", tm = "n/a", tmin = "n/a", tb = "n/a";
    if (p.topk_applies) {
      disc = std::to_string(p.discrepant) + "/" + std::to_string(p.images) + " (" +
             fmt("%.1f", 100.0 * p.discrepancy_rate) + "%)";
      tm = fmt("%.3f", p.tau_stats.mean);
      tmin = fmt("%.3f", p.tau_stats.min);
      tb = std::to_string(p.tau_stats.below_one);
    }
    std::string mx = "-", mean = "-", rel = "-";
    if (!p.outputs.empty()) {
      const auto& o = p.outputs[0];
      if (o.shape_mismatch) {
        mx = "shapes differ";
        mean = rel = "";
      } else {
        mx = fmt("%.3g", o.max_abs);
        mean = fmt("%.3g", o.mean_abs);
        rel = fmt("%.3g", o.rel_max);
      }
    }
    std::cout << pad(name, 22) << pad(disc, 20) << pad(tm, 10) << pad(tmin, 10) << pad(tb, 7) << pad(mx, 11)
              << pad(mean, 11) << rel << "\n";
    if (!p.topk_applies && !p.topk_note.empty()) std::cout << "  note: " << p.topk_note << "\n";
    for (size_t k = 1; k < p.outputs.size(); ++k) {
      const auto& o = p.outputs[k];
      std::cout << "  output " << k << " ('" << o.output_a << "' vs '" << o.output_b << "'): ";
      if (o.shape_mismatch)
        std::cout << "shapes differ " << dims_to_string(o.dims_a) << " vs " << dims_to_string(o.dims_b) << "\n";
      else
        std::cout << "max|diff| " << fmt("%.3g", o.max_abs) << ", mean|diff| " << fmt("%.3g", o.mean_abs)
                  << ", relative " << fmt("%.3g", o.rel_max) << "\n";
    }
  }
  const ComparePair& st = r.pairs.front();
  if (r.models.size() > 2) {
    std::cout << "\nchain: ";
    if (!r.chain_applies) {
      std::cout << r.chain_note << "\n";
    } else if (r.chain.empty()) {
      std::cout << "source and target agree on every image\n";
    } else {
      std::cout << "top-1 of every model on the " << r.chain.size()
                << " discrepant image(s); * marks the first model that changed the label\n";
      std::vector<std::string> head{"image"};
      for (size_t m = 0; m < r.models.size(); ++m) head.push_back("[" + std::to_string(m) + "] " + r.models[m].role);
      std::vector<std::vector<std::string>> rows{head};
      for (const auto& c : r.chain) {
        std::vector<std::string> row{short_name(r.images[c.image].file)};
        for (size_t m = 0; m < c.top1.size(); ++m)
          row.push_back((m == c.first_changed ? "*" : "") + class_text(labels, r.models[m].classes, c.top1[m]));
        rows.push_back(row);
      }
      std::vector<size_t> w(head.size(), 0);
      for (const auto& row : rows)
        for (size_t k = 0; k < row.size(); ++k) w[k] = std::max(w[k], std::min<size_t>(row[k].size(), 40) + 2);
      for (const auto& row : rows) {
        std::cout << "  ";
        for (size_t k = 0; k < row.size(); ++k) std::cout << pad(row[k].substr(0, 40), w[k]);
        std::cout << "\n";
      }
      std::cout << "  first changed at:";
      for (size_t m = 1; m < r.first_changed_counts.size(); ++m)
        if (r.first_changed_counts[m])
          std::cout << " [" << m << "] " << short_name(r.models[m].path) << ": " << r.first_changed_counts[m];
      std::cout << "\n";
    }
  } else if (st.topk_applies && st.discrepant > 0) {
    std::vector<size_t> order;
    for (size_t i = 0; i < st.tau.size(); ++i)
      if (!st.top1_agree[i]) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return st.tau[x] < st.tau[y]; });
    std::cout << "\ndiscrepant images (lowest tau first" << (order.size() > 10 ? ", first 10" : "") << "):\n";
    for (size_t k = 0; k < order.size() && k < 10; ++k) {
      const size_t i = order[k];
      const auto& row = r.images[i];
      std::cout << "  " << pad(short_name(row.file), 24) << " tau " << pad(fmt("%.3f", st.tau[i]), 7) << " source "
                << class_text(labels, r.models.front().classes, row.top.front().front().index) << "  target "
                << class_text(labels, r.models.back().classes, row.top.back().front().index) << "\n";
    }
  }
}

int run_compare(const CompareArgs& a) {
  CompareOptions o;
  std::vector<std::string> labels;
  Status built = build_compare_options(a, "compare", &o, &labels);
  if (!built.ok()) return report_error(built);
  const bool tty = isatty(STDERR_FILENO) != 0;
  CompareProgress progress;
  if (tty)
    progress = [](int64_t done, int64_t total) {
      std::cerr << "\rconvfix: " << done << "/" << total << " images" << std::flush;
    };
  auto r = compare_models(o, progress);
  if (tty) std::cerr << "\r\033[K" << std::flush;
  if (!r.ok()) return report_error(r.status());
  if (!labels.empty())
    for (const auto& m : r->models)
      if (m.classification && labels.size() != static_cast<size_t>(m.classes) &&
          labels.size() + 1 != static_cast<size_t>(m.classes)) {
        std::cerr << "convfix: warning: " << a.labels << " has " << labels.size() << " labels but " << m.path
                  << " has " << m.classes << " classes\n";
        break;
      }
  if (!a.json_file.empty()) {
    Status st = write_file_atomic(a.json_file, compare_result_to_json(*r, labels).dump(1) + "\n");
    if (!st.ok()) return report_error(st);
  }
  print_summary(*r, labels);
  if (a.fail_on_discrepancy) {
    const ComparePair& p = r->pairs.front();
    if (p.topk_applies ? p.discrepant > 0 : (!p.outputs.empty() && (p.outputs[0].shape_mismatch || p.outputs[0].max_abs > 0)))
      return 1;
  }
  return 0;
}

}  // namespace

void add_compare(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand(
      "compare", "Run a source model, its conversion (and intermediate models) over images and compare the outputs");
  auto a = std::make_shared<CompareArgs>();
  add_pair_options(sub, a.get());
  sub->add_flag("--fail-on-discrepancy", a->fail_on_discrepancy,
                "Exit with 1 when source and target disagree on any image's top-1 class");
  sub->callback([=] { *exit_code = run_compare(*a); });
}

}  // namespace convfix::cli
