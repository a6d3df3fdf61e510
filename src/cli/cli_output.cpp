// Terminal progress and report folders shared by the commands (commands.h).
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "convfix/fileio.h"
#include "convfix/report.h"

namespace convfix::cli {

namespace fs = std::filesystem;

std::function<void(const std::string&)> terminal_progress() {
  if (isatty(STDERR_FILENO) == 0) return {};
  return [](const std::string& stage) { std::cerr << "\r\033[Kconvfix: " << stage << std::flush; };
}

void end_terminal_progress() {
  if (isatty(STDERR_FILENO) != 0) std::cerr << "\r\033[K" << std::flush;
}

Status create_report_folder(const std::string& dir) {
  if (dir.empty()) return Status::OK();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error(dir + ": cannot create the report folder: " + ec.message());
  return Status::OK();
}

Expected<std::string> write_report_folder(const nlohmann::json& doc, const std::string& text, const std::string& dir,
                                          const std::string& json_name) {
  CONVFIX_RETURN_IF_ERROR(create_report_folder(dir));
  const std::string json_path = (fs::path(dir) / json_name).string();
  CONVFIX_RETURN_IF_ERROR(write_file_atomic(json_path, text));
  const std::string html_path = (fs::path(dir) / "report.html").string();
  CONVFIX_RETURN_IF_ERROR(write_html_report(doc, html_path));
  return json_path + ", " + html_path;
}

int finish_document(const nlohmann::json& doc, const std::string& json_file, const std::string& report_dir,
                    const std::string& json_name, const std::function<void(const nlohmann::json&)>& print) {
  const std::string text = doc.dump(1) + "\n";
  if (!json_file.empty()) {
    Status st = write_file_atomic(json_file, text);
    if (!st.ok()) return report_error(st);
  }
  print(doc);
  if (!report_dir.empty()) {
    auto paths = write_report_folder(doc, text, report_dir, json_name);
    if (!paths.ok()) return report_error(paths.status());
    std::cout << "  report: " << *paths << "\n";
  }
  return 0;
}

}  // namespace convfix::cli
