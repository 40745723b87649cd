#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace voisinage {

/// The parts of `text` between `separator`s: "a,b" → {"a", "b"}, "a," → {"a", ""}, "" → {}.
std::vector<std::string> Split(std::string_view text, char separator);

/// `text` cut to at most `max_bytes` (at least 4), "..." included, on a UTF-8 character boundary.
std::string Shorten(std::string_view text, size_t max_bytes);

}  // namespace voisinage
