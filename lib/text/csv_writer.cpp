#include "lib/text/csv_writer.h"

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

}  // namespace voisinage
