#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace voisinage {

/// One RFC 4180 field: quoted when it holds the delimiter, a quote, CR or LF; quotes doubled.
std::string CsvField(std::string_view value, char delimiter = ',');

/// A whole record, fields joined by `delimiter`, without the line ending.
std::string CsvLine(const std::vector<std::string>& fields, char delimiter = ',');

/// Text a spreadsheet will not run: a cell starting with = + - @, a tab or a carriage return gets a leading
/// apostrophe (OWASP's advice against CSV injection), and bidirectional controls are neutralised. For
/// user-supplied text only: numbers the program writes must stay numbers.
std::string SpreadsheetText(std::string_view text);

}  // namespace voisinage
