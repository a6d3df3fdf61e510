// CLI subcommands. Each registers its options on the CLI11 app and returns
// the exit code through *exit_code when run (0 ok, 1 check failed, 2 bad input).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "convfix/preprocess.h"
#include "convfix/status.h"

namespace convfix::cli {

void add_inspect(CLI::App& app, int* exit_code);
void add_run(CLI::App& app, int* exit_code);
void add_compare(CLI::App& app, int* exit_code);

// "--size" values: "224" or "224x320" (height x width), each 1..999999.
Status parse_size(const std::string& s, GeometryOptions* g);

// Prints "convfix: error: <message>" to stderr and returns 2.
int report_error(const Status& st);

}  // namespace convfix::cli
