// convfix repair SOURCE TARGET [--via MODEL ...] --images DIR... [every compare option]
//                -o OUT [--budget SECONDS] [--holdout FRACTION] [--report DIR] [--json FILE]
//                [--embed-preprocessing] [--allow-dequantize LAYERS|auto] [--no-verify-full]
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "convfix/repair.h"

namespace convfix::cli {

namespace {

struct RepairArgs : PairArgs {
  std::string output, report_dir, allow_dequantize;
  double budget = 600, holdout = 0.25;
  int activation_images = 5;
  bool embed_preprocessing = false, no_verify_full = false, fail_unless_repaired = false;
};

std::string pct(const nlohmann::json& v) {
  if (!v.is_number()) return "—";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", v.get<double>() * 100);
  return buf;
}

void print_summary(const nlohmann::json& j) {
  std::cout << "repair: " << j["verdict"]["code"].get<std::string>() << "\n  "
            << j["verdict"]["summary"].get<std::string>() << "\n";
  std::cout << "  discrepancy: " << pct(j["discrepancy_before"]) << " -> " << pct(j["discrepancy_after"]) << "\n";
  const auto& reps = j["repairs"];
  int kept = 0;
  for (const auto& r : reps) kept += r.value("kept", false) ? 1 : 0;
  std::cout << "  changes: " << kept << " kept of " << reps.size() << " tried\n";
  for (const auto& r : reps) {
    if (!r.value("kept", false)) continue;
    std::cout << "   + [" << r.value("strategy", "") << "] " << r.value("target_node", std::string()) << ": "
              << r.value("change", "") << "  (discrepant " << r["discrepant_before"] << " -> " << r["discrepant_after"]
              << " of " << j["verification"]["images"] << " verification images)\n";
  }
  if (j["preprocessing_required"].is_object())
    std::cout << "  input pipeline: " << j["preprocessing_required"].value("summary", "") << "\n";
  if (j["output_model"].is_string()) std::cout << "  repaired model: " << j["output_model"].get<std::string>() << "\n";
}

int run_repair(const RepairArgs& a) {
  RepairOptions o;
  Status built = build_compare_options(a, "repair", &o.diagnose.compare, &o.diagnose.labels);
  if (!built.ok()) return report_error(built);
  o.diagnose.activation_images = a.activation_images;
  o.output = a.output;
  o.budget_s = a.budget;
  o.holdout = a.holdout;
  o.embed_preprocessing = a.embed_preprocessing;
  o.verify_full = !a.no_verify_full;
  if (a.allow_dequantize == "auto") {
    o.allow_dequantize_auto = true;
  } else if (!a.allow_dequantize.empty()) {
    std::stringstream ss(a.allow_dequantize);
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) o.allow_dequantize.push_back(item);
  }
  Status made = create_report_folder(a.report_dir);
  if (!made.ok()) return report_error(made);
  auto r = repair_models(o, terminal_progress());
  end_terminal_progress();
  if (!r.ok()) return report_error(r.status());
  if (int rc = finish_document(*r, a.json_file, a.report_dir, "repair.json", print_summary); rc != 0) return rc;
  if (a.fail_unless_repaired && (*r)["verdict"]["code"] != "repaired" && (*r)["verdict"]["code"] != "faithful") return 1;
  return 0;
}

}  // namespace

void add_repair(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand(
      "repair", "Diagnose a conversion, change the target until it behaves like the source, verify, and write it");
  auto a = std::make_shared<RepairArgs>();
  add_pair_options(sub, a.get());
  sub->add_option("-o,--output", a->output, "Repaired model to write (a folder for TF.js targets)")->required();
  sub->add_option("--budget", a->budget, "Seconds for the search (the final checks come on top)")
      ->check(CLI::Range(1.0, 1e6))
      ->capture_default_str();
  sub->add_option("--holdout", a->holdout, "Fraction of the agreeing images held out to catch regressions")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->add_option("--report", a->report_dir, "Write DIR/repair.json and DIR/report.html");
  sub->add_option("--activation-images", a->activation_images,
                  "Discrepant and agreeing images each for the activation analysis")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_flag("--embed-preprocessing", a->embed_preprocessing,
                "When the input pipeline is at fault, fold the fix into the model (channel order, scale, shift)");
  sub->add_option("--allow-dequantize", a->allow_dequantize,
                  "Quantized target: layers (comma-separated node names) or 'auto' that may run in float");
  sub->add_flag("--no-verify-full", a->no_verify_full, "Skip the final compare + diagnose of the full image set");
  sub->add_flag("--fail-unless-repaired", a->fail_unless_repaired,
                "Exit with 1 unless the repaired model agrees with the source on every image");
  sub->callback([=] { *exit_code = run_repair(*a); });
}

}  // namespace convfix::cli
