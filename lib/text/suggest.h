#pragma once

#include <string>
#include <vector>

namespace voisinage {

/// The candidate closest to `word` by edit distance, when close enough to be a likely typo; else empty.
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" when a close candidate exists, else empty: appended to "unknown ..." messages.
std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace voisinage
