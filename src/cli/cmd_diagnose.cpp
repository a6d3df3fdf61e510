// convfix diagnose SOURCE TARGET [--via MODEL ...] --images DIR... [every compare option]
//                  [--report DIR] [--json FILE] [--activation-images K]
//                  [--no-preprocessing-check] [--fail-on-discrepancy]
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "convfix/diagnose.h"

namespace convfix::cli {

namespace {

struct DiagnoseArgs : PairArgs {
  std::string report_dir;
  int activation_images = 5;
  bool no_preprocessing = false, fail_on_discrepancy = false;
};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

void print_verdict(const nlohmann::json& j) {
  std::cout << "diagnose: " << j["verdict"]["code"].get<std::string>() << "\n  "
            << j["verdict"]["summary"].get<std::string>() << "\n";
  const auto& al = j["alignment"];
  std::cout << "  alignment: " << al["matched"] << " layers matched, " << al["inserted"] << " inserted, "
            << al["removed"] << " removed (source " << al["source_layers"] << ", target " << al["target_layers"]
            << " layers)\n";
  const auto& act = j["activation_analysis"];
  if (act["ran"].get<bool>()) {
    std::cout << "  activations: " << act["images_discrepant"].size() << " discrepant and "
              << act["images_agreeing"].size() << " agreeing images; noise floor " << num(act["noise_floor"].get<double>());
    if (act["first_divergent_row"].is_number()) std::cout << "; first divergent row " << act["first_divergent_row"];
    std::cout << "\n";
  }
  const auto& s = j["suspects"];
  if (s.empty()) {
    std::cout << "  suspects: none\n";
  } else {
    std::cout << "  suspects (" << s.size() << "):\n";
    for (size_t i = 0; i < s.size() && i < 5; ++i) {
      const auto& x = s[i];
      std::string names;
      if (x["source_node"].is_string()) names += x["source_node"].get<std::string>();
      if (x["target_node"].is_string()) names += " <-> " + x["target_node"].get<std::string>();
      std::cout << "   " << x["rank"] << ". [" << x["category"].get<std::string>() << "] " << names << ": "
                << x["explanation"].get<std::string>() << "\n      evidence: "
                << x["evidence"].value("summary", "") << "\n      repair: " << x["repair"].get<std::string>() << "\n";
    }
  }
}

int run_diagnose(const DiagnoseArgs& a) {
  DiagnoseOptions o;
  Status built = build_compare_options(a, "diagnose", &o.compare, &o.labels);
  if (!built.ok()) return report_error(built);
  o.activation_images = a.activation_images;
  o.preprocessing = !a.no_preprocessing;
  Status made = create_report_folder(a.report_dir);
  if (!made.ok()) return report_error(made);
  auto r = diagnose_models(o, terminal_progress());
  end_terminal_progress();
  if (!r.ok()) return report_error(r.status());
  if (int rc = finish_document(*r, a.json_file, a.report_dir, "diagnose.json", print_verdict); rc != 0) return rc;
  if (a.fail_on_discrepancy) {
    const std::string code = (*r)["verdict"]["code"];
    if (code != "faithful") return 1;
  }
  return 0;
}

}  // namespace

void add_diagnose(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand(
      "diagnose",
      "Compare a source model and its conversion, align their layers, and find where and why they differ");
  auto a = std::make_shared<DiagnoseArgs>();
  add_pair_options(sub, a.get());
  sub->add_option("--report", a->report_dir, "Write DIR/diagnose.json and DIR/report.html");
  sub->add_option("--activation-images", a->activation_images,
                  "Discrepant (lowest tau first) and agreeing images each for the activation analysis")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_flag("--no-preprocessing-check", a->no_preprocessing, "Skip the preprocessing hypotheses");
  sub->add_flag("--fail-on-discrepancy", a->fail_on_discrepancy,
                "Exit with 1 unless the verdict is faithful (no label change and no finding)");
  sub->callback([=] { *exit_code = run_diagnose(*a); });
}

}  // namespace convfix::cli
