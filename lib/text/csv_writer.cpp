#include "lib/text/csv_writer.h"

#include "lib/text/strings.h"

namespace voisinage {

std::string CsvField(std::string_view value, char delimiter) {
  if (value.find_first_of(std::string{'"', '\r', '\n', delimiter}) == std::string_view::npos)
    return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string CsvLine(const std::vector<std::string>& fields, char delimiter) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += delimiter;
    out += CsvField(fields[i], delimiter);
  }
  return out;
}

std::string SpreadsheetText(std::string_view text) {
  std::string safe = NeutraliseBidi(text);
  if (!safe.empty() && (safe[0] == '=' || safe[0] == '+' || safe[0] == '-' || safe[0] == '@' ||
                        safe[0] == '\t' || safe[0] == '\r'))
    safe.insert(0, 1, '\'');
  return safe;
}

}  // namespace voisinage
