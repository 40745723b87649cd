#include "lib/render/template.h"

#include <regex>
#include <vector>

#include <kainjow/mustache.hpp>

#include "lib/error.h"
#include "lib/text/strings.h"

namespace voisinage {

using nlohmann::json;
namespace mustache = kainjow::mustache;

namespace {

int LineAt(const std::string& source, size_t offset) {
  return 1 +
         static_cast<int>(std::count(source.begin(), source.begin() + std::min(offset, source.size()), '\n'));
}

mustache::data ToMustache(const json& value) {
  switch (value.type()) {
    case json::value_t::object: {
      mustache::data object{mustache::data::type::object};
      for (const auto& [key, item] : value.items()) object.set(key, ToMustache(item));
      return object;
    }
    case json::value_t::array: {
      mustache::data list{mustache::data::type::list};
      for (const auto& item : value) list.push_back(ToMustache(item));
      return list;
    }
    case json::value_t::string:
      return mustache::data(value.get<std::string>());
    case json::value_t::boolean:
      return value.get<bool>() ? mustache::data(mustache::data::type::bool_true)
                               : mustache::data(mustache::data::type::bool_false);
    case json::value_t::null:
      return mustache::data(mustache::data::type::bool_false);
    default:
      return mustache::data(value.dump());
  }
}

// Finds `name` (possibly dotted) in the innermost context that has its first part, as mustache does.
const json* Lookup(const std::vector<const json*>& contexts, const std::string& name) {
  if (name == ".") return contexts.back();
  std::string first = name.substr(0, name.find('.'));
  for (auto it = contexts.rbegin(); it != contexts.rend(); ++it) {
    if (!(*it)->is_object() || !(*it)->contains(first)) continue;
    const json* found = &(**it)[first];
    for (size_t dot = first.size(); found != nullptr && dot < name.size();) {
      size_t next = std::min(name.find('.', dot + 1), name.size());
      std::string part = name.substr(dot + 1, next - dot - 1);
      found = found->is_object() && found->contains(part) ? &(*found)[part] : nullptr;
      dot = next;
    }
    return found;
  }
  return nullptr;
}

// A template that names a field the data lacks would silently print nothing: refuse it instead.
void CheckFields(const std::string& name, const std::string& source, const json& data) {
  static const std::regex tag(R"(\{\{(\{?)\s*([#^/&!>]?)\s*([^}]*?)\s*\}?\}\})");
  std::vector<const json*> contexts = {&data};
  std::vector<bool> skipping;  // inside an empty list or a missing-shape section: nothing to check
  for (auto it = std::sregex_iterator(source.begin(), source.end(), tag); it != std::sregex_iterator();
       ++it) {
    const std::string kind = (*it)[2];
    const std::string field = (*it)[3];
    if (kind == "!" || kind == ">") continue;
    if (kind == "/") {
      if (!skipping.empty()) {
        if (!skipping.back()) contexts.pop_back();
        skipping.pop_back();
      }
      continue;
    }
    bool skip = !skipping.empty() && skipping.back();
    const json* value = skip ? nullptr : Lookup(contexts, field);
    if (!skip && value == nullptr)
      throw Error(fmt::format("template '{}': line {}: unknown field '{}'", name,
                              LineAt(source, it->position()), field));
    if (kind == "#" || kind == "^") {
      const json* inner = value;
      if (!skip && kind == "#" && value->is_array()) inner = value->empty() ? nullptr : &(*value)[0];
      bool skip_inner = skip || inner == nullptr || kind == "^";
      skipping.push_back(skip_inner);
      if (!skip_inner) contexts.push_back(inner);
    }
  }
}

}  // namespace

std::string RenderMustache(const std::string& name, const std::string& source, const json& data) {
  mustache::mustache view(source);
  if (!view.is_valid()) {
    std::string message = view.error_message();
    std::smatch at;
    if (std::regex_search(message, at, std::regex(R"( at (\d+)$)")))
      message =
          fmt::format("line {}: {}", LineAt(source, std::stoul(at[1])), message.substr(0, at.position(0)));
    throw Error(fmt::format("template '{}': {}", name, message));
  }
  CheckFields(name, source, data);
  std::string out = view.render(ToMustache(data));
  if (!view.error_message().empty())
    throw Error(fmt::format("template '{}': {}", name, view.error_message()));
  return out;
}

std::string RenderTemplate(const std::string& name, const json& data) {
  auto it = EmbeddedTemplates().find(name);
  if (it == EmbeddedTemplates().end()) throw Error(fmt::format("no template named '{}'", name));
  return RenderMustache(name, it->second, data);
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : NeutraliseBidi(text)) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapeMarkdown(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : NeutraliseBidi(text)) {
    if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (std::string_view("\\`*_[]<>|~&").find(c) != std::string_view::npos) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

json MapStrings(const json& value, std::string (*escape)(std::string_view)) {
  if (value.is_string()) return escape(value.get_ref<const std::string&>());
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, item] : value.items()) out[key] = MapStrings(item, escape);
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const json& item : value) out.push_back(MapStrings(item, escape));
    return out;
  }
  return value;
}

}  // namespace voisinage
