#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "cli/commands.h"

namespace convfix::cli {
int report_error(const Status& st) {
  std::cerr << "convfix: error: " << st.message() << "\n";
  return 2;
}
}  // namespace convfix::cli

int main(int argc, char** argv) {
  CLI::App app{"convfix — find and repair faults introduced by deep-learning model converters"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "convfix 0.1.0");
  int exit_code = 0;
  convfix::cli::add_inspect(app, &exit_code);
  convfix::cli::add_run(app, &exit_code);
  convfix::cli::add_compare(app, &exit_code);
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
