#pragma once

#include <string>
#include <string_view>

namespace voisinage {

/// Folds text for matching: lower case, no accents, ligatures spelt out ("Cœur ÉPICERIE" → "coeur epicerie").
/// Used on both sides of every accent- and case-insensitive comparison (directory search, word rules).
std::string Fold(std::string_view utf8);

}  // namespace voisinage
