#include "cmd/cli.h"

#include <algorithm>

#include <fmt/format.h>

namespace voisinage {

Db OpenDb(Invocation& invocation, OpenMode mode) {
  invocation.db_path = ResolveDbPath(invocation.global.db);
  return Db::Open(invocation.db_path, mode, invocation.global.busy_timeout_ms);
}

void PrintJson(const nlohmann::json& value) {
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

void Say(const Invocation& invocation, const std::string& line) {
  if (!invocation.global.quiet) std::cout << line << '\n';
}

namespace cli_command {

// Display width of UTF-8 text: continuation bytes take no column.
size_t Width(const std::string& text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

}  // namespace cli_command

void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  using namespace cli_command;
  std::vector<size_t> widths(header.size());
  for (size_t i = 0; i < header.size(); ++i) widths[i] = Width(header[i]);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], Width(Printable(row[i])));
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string cell = Printable(row[i]);
      line += cell;
      if (i + 1 < row.size()) line += std::string(widths[i] - Width(cell) + 2, ' ');
    }
    std::cout << line << '\n';
  };
  print(header);
  for (const auto& row : rows) print(row);
}

void AddJsonFlag(CLI::App* app, bool& json) {
  app->add_flag("--json", json, "Print JSON instead of text");
}

}  // namespace voisinage
