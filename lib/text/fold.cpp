#include "lib/text/fold.h"

#include <cstdlib>

#include <utf8proc.h>

namespace voisinage {

namespace {

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

std::string Fold(std::string_view utf8) {
  bool ascii = true;
  for (char c : utf8) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    std::string out(utf8);
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
  }
  utf8proc_uint8_t* mapped = nullptr;
  utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()), static_cast<utf8proc_ssize_t>(utf8.size()),
                   &mapped,
                   utf8proc_option_t(UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD));
  if (length < 0) return std::string(utf8);  // invalid UTF-8: compare as is
  std::string out(reinterpret_cast<char*>(mapped), static_cast<size_t>(length));
  std::free(mapped);
  // Ligatures are letters of their own in Unicode, but French readers type them as two.
  ReplaceAll(out, "œ", "oe");
  ReplaceAll(out, "æ", "ae");
  ReplaceAll(out, "’", "'");
  return out;
}

}  // namespace voisinage
