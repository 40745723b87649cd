#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace voisinage {

/// The parts of `text` between `separator`s: "a,b" → {"a", "b"}, "a," → {"a", ""}, "" → {}.
std::vector<std::string> Split(std::string_view text, char separator);

/// `text` cut to at most `max_bytes` (at least 4), "..." included, on a UTF-8 character boundary.
std::string Shorten(std::string_view text, size_t max_bytes);

/// The number of characters (code points) of UTF-8 text.
size_t Utf8Length(std::string_view text);

/// `text` with the Unicode bidirectional controls (U+202A..U+202E, U+2066..U+2069) replaced by U+FFFD: a
/// right-to-left override in a title cannot reorder what follows it in a report or a spreadsheet.
std::string NeutraliseBidi(std::string_view text);

/// Replaces control characters (terminal escapes, C1 controls) and bidirectional controls by '?' before
/// user-supplied text reaches a terminal or a log.
std::string Printable(std::string_view text);

}  // namespace voisinage
