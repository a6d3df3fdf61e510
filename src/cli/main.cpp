#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "cli/commands.h"

namespace convfix::cli {

Status parse_size(const std::string& s, GeometryOptions* g) {
  auto num = [](const std::string& t, int64_t* v) {
    if (t.empty() || t.size() > 6 || !std::all_of(t.begin(), t.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      return false;
    *v = std::stoll(t);
    return *v > 0;
  };
  const auto x = s.find_first_of("xX");
  int64_t h = 0, w = 0;
  if (x == std::string::npos) {
    if (!num(s, &h)) return invalid_argument("--size " + s + ": expected N or HxW");
    w = h;
  } else if (!num(s.substr(0, x), &h) || !num(s.substr(x + 1), &w)) {
    return invalid_argument("--size " + s + ": expected N or HxW");
  }
  g->height = h;
  g->width = w;
  return Status::OK();
}


int report_error(const Status& st) {
  std::cerr << "convfix: error: " << st.message() << "\n";
  return 2;
}
}  // namespace convfix::cli

int main(int argc, char** argv) {
  CLI::App app{"convfix — find and repair faults introduced by deep-learning model converters"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "convfix " CONVFIX_VERSION);
  int exit_code = 0;
  convfix::cli::add_inspect(app, &exit_code);
  convfix::cli::add_run(app, &exit_code);
  convfix::cli::add_compare(app, &exit_code);
  convfix::cli::add_diagnose(app, &exit_code);
  convfix::cli::add_repair(app, &exit_code);
  convfix::cli::add_demo(app, &exit_code);
  // An unknown command word would otherwise read "A subcommand is required".
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) known |= sub->check_name(argv[1]);
    if (!known) {
      std::cerr << "convfix: error: unknown command '" << argv[1] << "' (see convfix --help)\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help / --version: CLI11 prints them and reports success.
    if (e.get_exit_code() == 0) return app.exit(e);
    // Usage errors are bad input like any other: one line, exit code 2.
    std::string where = "convfix";
    for (const CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n' || c == '\r') c = ' ';
    std::cerr << "convfix: error: " << msg << " (see " << where << " --help)\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "convfix: error: out of memory\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "convfix: error: " << e.what() << "\n";
    return 2;
  }
  return exit_code;
}
