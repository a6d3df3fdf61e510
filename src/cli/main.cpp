#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <iostream>

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "convfix: error: out of memory\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "convfix: error: " << e.what() << "\n";
    return 2;
  }
  return exit_code;
}
