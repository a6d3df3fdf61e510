// convfix demo — placeholder until the demo command lands.
#include "cli/commands.h"

namespace convfix::cli {

void add_demo(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand("demo", "compare, diagnose and repair the built-in default pair");
  sub->callback([exit_code] { *exit_code = report_error(not_implemented("demo: not built yet")); });
}

}  // namespace convfix::cli
