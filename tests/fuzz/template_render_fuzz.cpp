// The templates of templates/ rendered with user-supplied strings. The input, split at NUL bytes, gives the
// strings; every field a template shows with {{x}} gets one of them (in turn), every {{{x}}} (markup the
// program built) a fixed fragment, every section a list of one object. The escaping property: the output has
// as many raw < > " ' as when those characters are taken out of the strings, so none came from the input.
// EscapeHtml and EscapeMarkdown are checked on the whole input too.

#include <algorithm>
#include <regex>
#include <vector>

#include "lib/error.h"
#include "lib/render/template.h"
#include "tests/fuzz/fuzz_support.h"

namespace voisinage {
namespace {

using nlohmann::json;

// A template with its partials ({{> web/_x}}) inlined, as lib/web/pages.cpp renders them.
std::string Expand(const std::string& name) {
  std::string source = EmbeddedTemplates().at(name);
  for (size_t at = source.find("{{> "); at != std::string::npos; at = source.find("{{> ", at)) {
    const size_t end = source.find("}}", at);
    source.replace(at, end + 2 - at, Expand(source.substr(at + 4, end - at - 4) + ".html.mustache"));
  }
  return source;
}

json& Field(json& context, const std::string& name) {
  json* at = &context;
  for (size_t start = 0;;) {
    const size_t dot = name.find('.', start);
    json& part = (*at)[name.substr(start, dot - start)];
    if (dot == std::string::npos) return part;
    if (!part.is_object()) part = json::object();
    at = &part;
    start = dot + 1;
  }
}

struct Tag {
  bool raw;  // {{{x}}} or {{&x}}
  std::string kind;
  std::string name;
};

// The tags of `source`, as RenderMustache's field check reads them (read once: std::regex is slow).
std::vector<Tag> TagsOf(const std::string& source) {
  static const std::regex tag(R"(\{\{(\{?)\s*([#^/&!>]?)\s*([^}]*?)\s*\}?\}\})");
  std::vector<Tag> tags;
  for (auto it = std::sregex_iterator(source.begin(), source.end(), tag); it != std::sregex_iterator(); ++it)
    tags.push_back({(*it)[1] == "{" || (*it)[2] == "&", (*it)[2], (*it)[3]});
  return tags;
}

// Data for a template's tags: each escaped field gets strings[i % n] for the i-th field met.
json DataFor(const std::vector<Tag>& tags, const std::vector<std::string>& strings) {
  json data = json::object();
  std::vector<json*> contexts = {&data};
  size_t next = 0;
  for (const auto& [raw, kind, name] : tags) {
    json& context = *contexts.back();
    if (kind == "!" || kind == ">" || name == ".") continue;
    if (kind == "/") {
      if (contexts.size() > 1) contexts.pop_back();
    } else if (kind == "#") {
      json& field = Field(context, name);
      if (field.is_null()) field = json::array({json::object()});
      contexts.push_back(field.is_array() && !field.empty() && field[0].is_object() ? &field[0] : &context);
    } else if (kind == "^") {
      json& field = Field(context, name);
      if (field.is_null()) field = false;
      contexts.push_back(&context);
    } else {
      json& field = Field(context, name);
      if (!field.is_null()) continue;
      field = raw ? json("<b>markup</b>") : json(strings.empty() ? "" : strings[next++ % strings.size()]);
    }
  }
  return data;
}

std::vector<std::string> Split(std::string_view input) {
  std::vector<std::string> pieces;
  for (size_t start = 0; start <= input.size() && pieces.size() < 32;) {
    const size_t end = std::min(input.find('\0', start), input.size());
    pieces.emplace_back(input.substr(start, end - start));
    start = end + 1;
  }
  return pieces;
}

void CheckEscapes(std::string_view text) {
  const std::string html = EscapeHtml(text);
  FUZZ_CHECK(html.find_first_of("<>\"'") == std::string::npos);
  const std::string markdown = EscapeMarkdown(text);
  FUZZ_CHECK(markdown.find_first_of("\n\r") == std::string::npos);
  for (size_t at = markdown.find('<'); at != std::string::npos; at = markdown.find('<', at + 1))
    FUZZ_CHECK(at > 0 && markdown[at - 1] == '\\');
}

}  // namespace
}  // namespace voisinage

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace voisinage;
  struct Template {
    std::string name, source;
    std::vector<Tag> tags;
  };
  static const std::vector<Template> kTemplates = [] {
    std::vector<Template> html;
    for (const auto& [name, source] : EmbeddedTemplates())
      if (name.ends_with(".html.mustache") && name.find("/_") == std::string::npos)
        html.push_back({name, Expand(name), TagsOf(Expand(name))});
    return html;
  }();
  const std::string_view input = fuzz::AsText(data, size);
  CheckEscapes(input);
  if (kTemplates.empty()) return 0;
  const std::vector<std::string> strings = Split(input);
  std::vector<std::string> defused = strings;
  for (std::string& text : defused)
    std::replace_if(
        text.begin(), text.end(), [](char ch) { return ch == '<' || ch == '>' || ch == '"' || ch == '\''; },
        'x');
  // Which template: the input's length picks it, so that every template sees every kind of input.
  const Template& page = kTemplates[size % kTemplates.size()];
  const std::string shown = RenderMustache(page.name, page.source, DataFor(page.tags, strings));
  const std::string baseline = RenderMustache(page.name, page.source, DataFor(page.tags, defused));
  for (char ch : {'<', '>', '"', '\''})
    FUZZ_CHECK(std::count(shown.begin(), shown.end(), ch) ==
               std::count(baseline.begin(), baseline.end(), ch));
  return 0;
}
