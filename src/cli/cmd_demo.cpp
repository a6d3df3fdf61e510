// convfix demo [--dir build/demo] [--images assets/images] [--out DIR] [--budget S] [--threads N]
//
// The main job on the built-in default pair (tools/make_demo_pair.py writes
// it): compare -> diagnose -> repair of DIR/mobilenet_v2.onnx (the source)
// and DIR/mobilenet_v2_converted.onnx (a faulty conversion of it) on the
// bundled photos, both with the torch preset. Writes OUT/compare.json,
// OUT/diagnose/{diagnose.json,report.html}, OUT/repair/{repair.json,report.html}
// and the repaired model OUT/repaired.onnx; prints a short summary of each
// stage and where the reports and the repaired model are. When DIR/pair.json
// (the pair's ground truth) is there, the injected faults are listed next to
// the repairs that were kept. Exit 0 when every stage ran, 2 on bad input
// (a missing pair names the command that makes it).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "convfix/compare.h"
#include "convfix/diagnose.h"
#include "convfix/fileio.h"
#include "convfix/repair.h"
#include "convfix/report.h"

namespace convfix::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSource = "mobilenet_v2.onnx";
constexpr const char* kTarget = "mobilenet_v2_converted.onnx";

struct DemoArgs {
  std::string dir = "build/demo", images = "assets/images", out;
  double budget = 300;
  int threads = 0;  // 0: the machine's cores, at most 8
};

std::string pct(const nlohmann::json& v) {
  if (!v.is_number()) return "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v.get<double>() * 100);
  return buf;
}

std::string num(const nlohmann::json& v, const char* f = "%.3f") {
  if (!v.is_number()) return "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v.get<double>());
  return buf;
}

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Status write_json(const fs::path& path, const nlohmann::json& j) { return write_file_atomic(path.string(), j.dump(1) + "\n"); }

Status write_reports(const fs::path& dir, const std::string& json_name, const nlohmann::json& j) {
  auto paths = write_report_folder(j, j.dump(1) + "\n", dir.string(), json_name);
  return paths.ok() ? Status::OK() : paths.status();
}

void print_compare(const CompareResult& r) {
  const ComparePair& p = r.pairs.front();
  std::cout << "1/3 compare: " << r.images.size() << " photos, source vs target\n";
  if (p.topk_applies)
    std::cout << "  top-1 differs on " << p.discrepant << " of " << p.images << " photos ("
              << pct(p.discrepancy_rate) << "); Kendall tau of the top-" << r.top_k << " lists: mean "
              << num(p.tau_stats.mean) << ", min " << num(p.tau_stats.min) << "\n";
  if (!p.outputs.empty() && !p.outputs[0].shape_mismatch)
    std::cout << "  largest output difference " << num(p.outputs[0].max_abs, "%.3g") << " ("
              << num(p.outputs[0].rel_max, "%.3g") << " of the source's largest output)\n";
}

void print_diagnose(const nlohmann::json& d) {
  const auto& v = d["verdict"];
  std::cout << "2/3 diagnose: " << str(v, "code") << "\n  " << str(v, "summary") << "\n";
  const auto& s = d["suspects"];
  if (!s.is_array() || s.empty()) {
    std::cout << "  suspects: none\n";
    return;
  }
  std::cout << "  top suspects (of " << s.size() << "):\n";
  for (size_t i = 0; i < s.size() && i < 5; ++i) {
    const auto& x = s[i];
    std::string node = str(x, "target_node");
    if (node.empty()) node = str(x, "source_node");
    std::cout << "   " << x.value("rank", static_cast<int>(i + 1)) << ". [" << str(x, "category") << "] "
              << (node.empty() ? "(whole model)" : node) << ": "
              << (x["evidence"].is_object() ? str(x["evidence"], "summary") : std::string()) << "\n";
  }
}

void print_repair(const nlohmann::json& r) {
  const auto& v = r["verdict"];
  std::cout << "3/3 repair: " << str(v, "code") << "\n  " << str(v, "summary") << "\n";
  std::cout << "  top-1 discrepancy " << pct(r["discrepancy_before"]) << " -> " << pct(r["discrepancy_after"])
            << ", mean Kendall tau " << num(r["tau_before"]) << " -> " << num(r["tau_after"]) << "\n";
  const auto& reps = r["repairs"];
  int kept = 0, tried = 0;
  if (reps.is_array())
    for (const auto& x : reps) {
      ++tried;
      if (x.value("kept", false)) ++kept;
    }
  std::cout << "  changes kept: " << kept << " of " << tried << " tried\n";
  if (reps.is_array())
    for (const auto& x : reps) {
      if (!x.value("kept", false)) continue;
      std::cout << "   + [" << str(x, "strategy") << "] " << str(x, "target_node") << ": " << str(x, "change");
      if (x["discrepant_before"].is_number() && x["discrepant_after"].is_number())
        std::cout << "  (discrepant " << x["discrepant_before"] << " -> " << x["discrepant_after"] << ")";
      std::cout << "\n";
    }
  if (r["preprocessing_required"].is_object())
    std::cout << "  input pipeline: " << str(r["preprocessing_required"], "summary") << "\n";
}

// The pair's ground truth next to the repairs that were kept.
void print_ground_truth(const fs::path& pair_json, const nlohmann::json& repair) {
  auto text = read_file(pair_json.string());
  if (!text.ok()) return;
  auto pair = nlohmann::json::parse(*text, nullptr, false);
  if (pair.is_discarded() || !pair["faults"].is_array()) return;
  std::cout << "\nInjected into the target (" << pair_json.string() << "):\n";
  for (const auto& f : pair["faults"]) {
    const std::string node = str(f, "node");
    std::vector<std::string> nodes{node};
    if (f["nodes"].is_array())
      for (const auto& n : f["nodes"])
        if (n.is_string()) nodes.push_back(n.get<std::string>());
    auto concerns = [&](const std::string& name) {
      return !name.empty() && std::find(nodes.begin(), nodes.end(), name) != nodes.end();
    };
    bool fixed = false;
    if (repair["repairs"].is_array())
      for (const auto& x : repair["repairs"])
        if (x.value("kept", false) && (concerns(str(x, "target_node")) || concerns(str(x, "source_node")))) fixed = true;
    std::cout << "  " << (fixed ? "repaired  " : "          ") << "class " << f.value("cls", 0) << " ("
              << str(f, "name") << ") at " << node << "\n";
  }
}

int run_demo(const DemoArgs& a) {
  const fs::path dir(a.dir);
  const fs::path source = dir / kSource, target = dir / kTarget;
  for (const auto& p : {source, target})
    if (!fs::is_regular_file(p))
      return report_error(invalid_argument(p.string() + ": the demo pair is missing; make it with: /usr/bin/python3 "
                                           "tools/make_demo_pair.py " + a.dir + " (or run scripts/demo)"));
  std::error_code ec;
  if (!fs::exists(a.images, ec))
    return report_error(invalid_argument(a.images + ": no such image folder (the bundled photos are in assets/images)"));
  const fs::path out = a.out.empty() ? dir / "results" : fs::path(a.out);
  fs::create_directories(out, ec);
  if (ec) return report_error(io_error(out.string() + ": cannot create the output folder: " + ec.message()));
  const fs::path repaired = out / "repaired.onnx";

  CompareOptions co;
  co.models = {{source.string(), "source", "torch", 0}, {target.string(), "target", "torch", 0}};
  co.images = {a.images};
  co.threads = a.threads > 0 ? a.threads : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  co.top_k = 5;
  co.cache_dir = "";  // the demo leaves no cache behind

  std::cout << "convfix demo: source " << source.string() << "\n              target " << target.string()
            << " (a faulty conversion; see " << (dir / "README.txt").string() << ")\n              photos "
            << a.images << ", torch preprocessing for both\n\n";

  // 1. compare
  CompareProgress cp;
  if (isatty(STDERR_FILENO) != 0)
    cp = [](int64_t done, int64_t total) { std::cerr << "\rconvfix: compare " << done << "/" << total << std::flush; };
  auto cmp = compare_models(co, cp);
  end_terminal_progress();
  if (!cmp.ok()) return report_error(cmp.status().with_context("demo: compare"));
  const fs::path compare_json = out / "compare.json";
  Status st = write_json(compare_json, compare_result_to_json(*cmp));
  if (!st.ok()) return report_error(st);
  print_compare(*cmp);

  // 2. diagnose
  DiagnoseOptions dopt;
  dopt.compare = co;
  auto diag = diagnose_models(dopt, terminal_progress());
  end_terminal_progress();
  if (!diag.ok()) return report_error(diag.status().with_context("demo: diagnose"));
  st = write_reports(out / "diagnose", "diagnose.json", *diag);
  if (!st.ok()) return report_error(st);
  print_diagnose(*diag);

  // 3. repair
  RepairOptions ropt;
  ropt.diagnose = dopt;
  ropt.output = repaired.string();
  ropt.budget_s = a.budget;
  ropt.diagnosis = &*diag;   // the document just printed: no second diagnosis
  auto rep = repair_models(ropt, terminal_progress());
  end_terminal_progress();
  if (!rep.ok()) return report_error(rep.status().with_context("demo: repair"));
  st = write_reports(out / "repair", "repair.json", *rep);
  if (!st.ok()) return report_error(st);
  print_repair(*rep);
  print_ground_truth(dir / "pair.json", *rep);

  std::cout << "\nReports:\n  compare   " << compare_json.string() << "\n  diagnose  "
            << (out / "diagnose" / "report.html").string() << "  (JSON: diagnose.json beside it)\n  repair    "
            << (out / "repair" / "report.html").string() << "  (JSON: repair.json beside it)\n";
  const std::string written = str(*rep, "output_model");
  if (!written.empty())
    std::cout << "Repaired model: " << written << "\n";
  else
    std::cout << "Repaired model: none written (" << str((*rep)["verdict"], "code") << ")\n";
  std::cout << "Check it: convfix compare " << source.string() << " " << (written.empty() ? target.string() : written)
            << " --images " << a.images << "\n";
  return 0;
}

}  // namespace

void add_demo(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand(
      "demo", "Compare, diagnose and repair the built-in default pair (a MobileNetV2 and a faulty conversion of it)");
  auto a = std::make_shared<DemoArgs>();
  sub->add_option("--dir", a->dir, "Folder of the demo pair (tools/make_demo_pair.py writes it)")->capture_default_str();
  sub->add_option("--images", a->images, "Photos to run (a folder or files)")->capture_default_str();
  sub->add_option("--out", a->out, "Output folder for the reports and the repaired model (default: DIR/results)");
  sub->add_option("--budget", a->budget, "Seconds for the repair search")->check(CLI::Range(1.0, 1e6))->capture_default_str();
  sub->add_option("--threads", a->threads, "Worker threads (default: the machine's cores, at most 8)")
      ->check(CLI::Range(1, 256));
  sub->callback([=] { *exit_code = run_demo(*a); });
}

}  // namespace convfix::cli
