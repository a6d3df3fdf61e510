// CLI subcommands. Each registers its options on the CLI11 app and returns
// the exit code through *exit_code when run (0 ok, 1 check failed, 2 bad input).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include <vector>

#include <nlohmann/json.hpp>

#include "convfix/compare.h"
#include "convfix/preprocess.h"
#include "convfix/status.h"

namespace convfix::cli {

void add_inspect(CLI::App& app, int* exit_code);
void add_run(CLI::App& app, int* exit_code);
void add_compare(CLI::App& app, int* exit_code);
void add_diagnose(CLI::App& app, int* exit_code);
void add_repair(CLI::App& app, int* exit_code);
void add_demo(CLI::App& app, int* exit_code);

// The options compare and diagnose share: models of the chain, images,
// presets, batch/threads/top-k, geometry, labels, JSON file and cache.
struct PairArgs {
  std::string source, target;
  std::vector<std::string> via, images;
  std::string labels, source_preset = "torch", target_preset, via_preset, json_file, cache_dir, layout, size;
  bool no_cache = false;
  int batch = 8, threads = 1, top = 5;
};
void add_pair_options(CLI::App* sub, PairArgs* a);
// Checks the presets, builds CompareOptions (cache folder resolved) and
// reads the labels; errors name the option (`command: --opt ...`).
Status build_compare_options(const PairArgs& a, const std::string& command, CompareOptions* o,
                             std::vector<std::string>* labels);

// "--size" values: "224" or "224x320" (height x width), each 1..999999.
Status parse_size(const std::string& s, GeometryOptions* g);

// Progress lines on stderr when it is a terminal (an empty function
// otherwise); end_terminal_progress() clears the line.
std::function<void(const std::string&)> terminal_progress();
void end_terminal_progress();
// Creates a report folder (nothing for ""); errors name it.
Status create_report_folder(const std::string& dir);
// Writes DIR/<json_name> (`text`, the document's JSON) and DIR/report.html
// (write_html_report) atomically; returns "<json path>, <html path>".
Expected<std::string> write_report_folder(const nlohmann::json& doc, const std::string& text, const std::string& dir,
                                          const std::string& json_name);

// The end of a command that produces a document: --json FILE (if given),
// `print` on stdout, then the report folder (if given) and its paths.
// Returns 0, or 2 after report_error() when a file cannot be written.
int finish_document(const nlohmann::json& doc, const std::string& json_file, const std::string& report_dir,
                    const std::string& json_name, const std::function<void(const nlohmann::json&)>& print);

// Prints "convfix: error: <message>" to stderr and returns 2.
int report_error(const Status& st);

}  // namespace convfix::cli
