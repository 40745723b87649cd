#include "lib/text/fold.h"

#include <cstdlib>
#include <unordered_map>

#include <utf8proc.h>

namespace voisinage {

namespace {

// The folded form of one non-ASCII character, computed by utf8proc once and then remembered: a registry
// uses a few dozen accented letters millions of times.
const std::string& FoldCharacter(utf8proc_int32_t codepoint) {
  thread_local std::unordered_map<utf8proc_int32_t, std::string> cache;
  auto it = cache.find(codepoint);
  if (it != cache.end()) return it->second;
  utf8proc_uint8_t encoded[4];
  utf8proc_ssize_t length = utf8proc_encode_char(codepoint, encoded);
  utf8proc_uint8_t* mapped = nullptr;
  utf8proc_ssize_t folded = utf8proc_map(
      encoded, length, &mapped,
      utf8proc_option_t(UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD));
  std::string out = folded < 0 ? std::string(reinterpret_cast<char*>(encoded), length)
                               : std::string(reinterpret_cast<char*>(mapped), folded);
  std::free(mapped);
  // Ligatures are letters of their own in Unicode, but French readers type them as two.
  if (out == "œ")
    out = "oe";
  else if (out == "æ")
    out = "ae";
  else if (codepoint == 0x2019)
    out = "'";  // typographic apostrophe
  return cache.emplace(codepoint, std::move(out)).first->second;
}

}  // namespace

std::string Fold(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(utf8.data());
  const auto* end = p + utf8.size();
  while (p < end) {
    if (*p < 0x80) {
      char c = static_cast<char>(*p++);
      out += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
      continue;
    }
    utf8proc_int32_t codepoint = 0;
    utf8proc_ssize_t length = utf8proc_iterate(p, end - p, &codepoint);
    if (length <= 0) {  // invalid UTF-8: keep the byte as is
      out += static_cast<char>(*p++);
      continue;
    }
    out += FoldCharacter(codepoint);
    p += length;
  }
  return out;
}

}  // namespace voisinage
