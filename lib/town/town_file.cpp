#include "lib/town/town_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "lib/error.h"
#include "lib/moderation/word_rules.h"
#include "lib/privacy/retention.h"
#include "lib/text/suggest.h"
#include "lib/town/validation.h"

namespace voisinage {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& WordRuleActions() {
  static const std::vector<std::string> actions = {"flag", "censor", "hold", "block"};
  return actions;
}

namespace {

// Reads one YAML document, turning every problem into an Error located at the offending node.
class TownFileReader {
 public:
  explicit TownFileReader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void FailAt(const YAML::Node& node, const std::string& message,
                           const std::string& hint = {}) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) throw Error(fmt::format("'{}': {}", path_, message), hint);
    throw Error(fmt::format("'{}': line {}, column {}: {}", path_, mark.line + 1, mark.column + 1, message),
                hint);
  }

  // Wraps a validation Error with the node's position.
  template <typename F>
  void Check(const YAML::Node& node, F&& validate) const {
    try {
      validate();
    } catch (const Error& e) {
      FailAt(node, e.what(), e.hint());
    }
  }

  void RequireMap(const YAML::Node& node, const std::string& what,
                  const std::vector<std::string>& allowed) const {
    if (!node.IsMap()) FailAt(node, fmt::format("'{}' must be a mapping of keys to values", what));
    for (const auto& item : node) {
      std::string key = item.first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        FailAt(item.first, fmt::format("unknown key '{}' in '{}'{}", key, what, DidYouMean(key, allowed)),
               fmt::format("'{}' accepts: {}", what, fmt::join(allowed, ", ")));
    }
  }

  const YAML::Node Required(const YAML::Node& map, const std::string& key, const std::string& what) const {
    const YAML::Node value = map[key];
    if (!value || value.IsNull()) FailAt(map, fmt::format("missing required key '{}' in '{}'", key, what));
    return value;
  }

  std::string Text(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) FailAt(node, fmt::format("'{}' must be a text value", key));
    return node.Scalar();
  }

  std::string RequiredText(const YAML::Node& map, const std::string& key, const std::string& what) const {
    return Text(Required(map, key, what), key);
  }

  std::string OptionalText(const YAML::Node& map, const std::string& key) const {
    const YAML::Node value = map[key];
    return value && !value.IsNull() ? Text(value, key) : std::string();
  }

  template <typename T>
  T Number(const YAML::Node& node, const std::string& key, const char* expected) const {
    try {
      if (node.IsScalar()) return node.as<T>();
    } catch (const YAML::Exception&) {
    }
    FailAt(node, fmt::format("'{}' must be {}, not '{}'", key, expected,
                             node.IsScalar() ? node.Scalar() : "a list"));
  }

  bool Bool(const YAML::Node& node, const std::string& key) const {
    try {
      if (node.IsScalar()) return node.as<bool>();
    } catch (const YAML::Exception&) {
    }
    FailAt(node, fmt::format("'{}' must be true or false", key));
  }

  std::vector<std::string> Postcodes(const YAML::Node& map, const std::string& what, bool required) const {
    const YAML::Node node = required ? Required(map, "postcodes", what) : map["postcodes"];
    std::set<std::string> postcodes;
    if (!node || node.IsNull()) return {};
    if (!node.IsSequence()) FailAt(node, "'postcodes' must be a list, e.g. [\"77810\"]");
    for (const auto& item : node) {
      std::string postcode = Text(item, "postcodes");
      Check(item, [&] { ValidatePostcode(postcode); });
      postcodes.insert(postcode);
    }
    if (required && postcodes.empty()) FailAt(node, fmt::format("'{}' needs at least one postcode", what));
    return {postcodes.begin(), postcodes.end()};
  }

  Area Polygon(const YAML::Node& node) const {
    json geojson;
    if (node.IsScalar()) {
      fs::path file = fs::path(path_).parent_path() / node.Scalar();
      std::error_code ignored;
      // A directory opens like a file, then fails to be read with an exception of the stream's own.
      if (fs::is_directory(file, ignored))
        FailAt(node, fmt::format("cannot read polygon file '{}': it is a directory", file.string()));
      std::ifstream in(file);
      if (!in) FailAt(node, fmt::format("cannot read polygon file '{}'", file.string()));
      try {
        geojson = json::parse(in);
      } catch (const json::parse_error& e) {
        FailAt(node, fmt::format("polygon file '{}' is not valid JSON (byte {})", file.string(), e.byte));
      } catch (const std::ios_base::failure& e) {
        FailAt(node, fmt::format("cannot read polygon file '{}': {}", file.string(), e.code().message()));
      }
    } else {
      geojson = ToJson(node);
    }
    Area area;
    Check(node, [&] { area = Area::FromGeoJson(geojson); });
    return area;
  }

  // Inline GeoJSON written as YAML: numbers stay numbers.
  json ToJson(const YAML::Node& node) const {
    switch (node.Type()) {
      case YAML::NodeType::Map: {
        json object = json::object();
        for (const auto& item : node) object[item.first.as<std::string>()] = ToJson(item.second);
        return object;
      }
      case YAML::NodeType::Sequence: {
        json array = json::array();
        for (const auto& item : node) array.push_back(ToJson(item));
        return array;
      }
      case YAML::NodeType::Scalar: {
        double number = 0;
        if (node.Tag() != "!" && YAML::convert<double>::decode(node, number)) return number;
        return node.Scalar();
      }
      default:
        return nullptr;
    }
  }

  template <typename Spec>
  void ForEachItem(const YAML::Node& root, const std::string& section, std::vector<Spec>& out,
                   auto read) const {
    const YAML::Node list = root[section];
    if (!list || list.IsNull()) return;
    if (!list.IsSequence()) FailAt(list, fmt::format("'{}' must be a list", section));
    for (const auto& item : list) {
      Spec spec = read(item);
      spec.line = item.Mark().line + 1;
      out.push_back(std::move(spec));
    }
  }

  template <typename Spec>
  void RejectDuplicates(const YAML::Node& root, const std::string& section, const std::vector<Spec>& specs,
                        const std::string& key_name, auto key) const {
    std::set<std::string> seen;
    size_t index = 0;
    for (const Spec& spec : specs) {
      if (!seen.insert(key(spec)).second)
        FailAt(root[section][index], fmt::format("duplicate {} '{}' in '{}'", key_name, key(spec), section),
               "each entry must have its own " + key_name);
      ++index;
    }
  }

  TownFile Read(const YAML::Node& root) const {
    TownFile file;
    file.path = path_;
    if (!root.IsDefined() || root.IsNull()) throw Error(fmt::format("'{}': the file is empty", path_));
    RequireMap(root, "town file",
               {"town", "neighbourhoods", "grievance_categories", "moderation", "staff", "retention"});

    const YAML::Node town = Required(root, "town", "town file");
    RequireMap(town, "town", {"name", "insee", "postcodes", "timezone", "url"});
    file.town.name = RequiredText(town, "name", "town");
    Check(town["name"], [&] { ValidateName("town name", file.town.name); });
    file.town.insee = RequiredText(town, "insee", "town");
    Check(town["insee"], [&] { ValidateInsee(file.town.insee); });
    file.town.postcodes = Postcodes(town, "town", true);
    if (town["timezone"]) {
      file.town.timezone = Text(town["timezone"], "timezone");
      Check(town["timezone"], [&] { ValidateTimezone(file.town.timezone); });
    }
    file.town.url = OptionalText(town, "url");
    if (!file.town.url.empty()) Check(town["url"], [&] { ValidateUrl(file.town.url); });

    ForEachItem(root, "neighbourhoods", file.neighbourhoods, [&](const YAML::Node& item) {
      RequireMap(item, "neighbourhoods", {"slug", "name", "postcodes", "polygon"});
      NeighbourhoodSpec spec;
      spec.slug = RequiredText(item, "slug", "neighbourhoods");
      Check(item["slug"], [&] { ValidateSlug(spec.slug); });
      spec.name = RequiredText(item, "name", "neighbourhoods");
      Check(item["name"], [&] { ValidateName("neighbourhood name", spec.name); });
      spec.postcodes = Postcodes(item, "neighbourhoods", false);
      if (item["polygon"] && !item["polygon"].IsNull()) spec.area = Polygon(item["polygon"]);
      return spec;
    });
    RejectDuplicates(root, "neighbourhoods", file.neighbourhoods, "slug",
                     [](const auto& s) { return s.slug; });

    ForEachItem(root, "grievance_categories", file.categories, [&](const YAML::Node& item) {
      RequireMap(item, "grievance_categories", {"code", "name", "group", "service", "sla_days", "active"});
      CategorySpec spec;
      spec.code = RequiredText(item, "code", "grievance_categories");
      Check(item["code"], [&] { ValidateCategoryCode(spec.code); });
      spec.name = RequiredText(item, "name", "grievance_categories");
      Check(item["name"], [&] { ValidateName("category name", spec.name); });
      spec.group = OptionalText(item, "group");
      spec.service = OptionalText(item, "service");
      const YAML::Node sla = Required(item, "sla_days", "grievance_categories");
      spec.sla_days = Number<int>(sla, "sla_days", "a whole number of days");
      if (spec.sla_days < 1 || spec.sla_days > 365) FailAt(sla, "'sla_days' must be between 1 and 365");
      if (item["active"]) spec.active = Bool(item["active"], "active");
      return spec;
    });
    RejectDuplicates(root, "grievance_categories", file.categories, "code",
                     [](const auto& s) { return s.code; });

    if (const YAML::Node moderation = root["moderation"]; moderation && !moderation.IsNull()) {
      RequireMap(moderation, "moderation", {"auto_hide", "word_rules"});
      if (const YAML::Node hide = moderation["auto_hide"]; hide && !hide.IsNull()) {
        RequireMap(hide, "auto_hide", {"score", "reporters"});
        if (hide["score"]) {
          file.auto_hide_score = Number<double>(hide["score"], "score", "a number");
          if (*file.auto_hide_score <= 0) FailAt(hide["score"], "'score' must be greater than 0");
        }
        if (hide["reporters"]) {
          file.auto_hide_reporters = Number<int>(hide["reporters"], "reporters", "a whole number");
          if (*file.auto_hide_reporters < 1) FailAt(hide["reporters"], "'reporters' must be at least 1");
        }
      }
      ForEachItem(moderation, "word_rules", file.word_rules, [&](const YAML::Node& item) {
        RequireMap(item, "word_rules", {"pattern", "action"});
        WordRuleSpec spec;
        spec.pattern = RequiredText(item, "pattern", "word_rules");
        if (spec.pattern.empty() || spec.pattern.size() > 200)
          FailAt(item["pattern"], "'pattern' must have 1 to 200 bytes");
        spec.action = RequiredText(item, "action", "word_rules");
        const auto& actions = WordRuleActions();
        if (std::find(actions.begin(), actions.end(), spec.action) == actions.end())
          FailAt(item["action"],
                 fmt::format("unknown action '{}'{}", spec.action, DidYouMean(spec.action, actions)),
                 "actions: block, hold, flag, censor");
        return spec;
      });
      RejectDuplicates(moderation, "word_rules", file.word_rules, "pattern",
                       [](const auto& s) { return s.pattern; });
    }

    ForEachItem(root, "staff", file.staff, [&](const YAML::Node& item) {
      RequireMap(item, "staff", {"name", "email", "role"});
      StaffSpec spec;
      spec.name = RequiredText(item, "name", "staff");
      Check(item["name"], [&] { ValidateName("staff name", spec.name); });
      spec.email = RequiredText(item, "email", "staff");
      Check(item["email"], [&] { ValidateEmail(spec.email); });
      spec.role = RequiredText(item, "role", "staff");
      Check(item["role"], [&] { ValidateRole(spec.role); });
      return spec;
    });
    RejectDuplicates(root, "staff", file.staff, "e-mail", [](const auto& s) {
      std::string lower = s.email;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      return lower;
    });
    ReadRetentionSection(root, file);
    return file;
  }

 private:
  void ReadRetentionSection(const YAML::Node& root, TownFile& file) const {
    const YAML::Node retention = root["retention"];
    if (!retention || retention.IsNull()) return;
    std::vector<std::string> names;
    for (const RetentionKey& key : RetentionKeys()) names.push_back(key.name);
    RequireMap(retention, "retention", names);
    for (const RetentionKey& key : RetentionKeys()) {
      const YAML::Node node = retention[key.name];
      if (!node || node.IsNull()) continue;
      const std::string field = "retention." + key.name;
      const std::string hint = fmt::format("'{}' is a whole number of {} from {} to {} (default {})", field,
                                           key.unit, key.min, key.max, key.default_value());
      int value = 0;
      try {
        if (!node.IsScalar())
          FailAt(node, fmt::format("'{}' must be a whole number of {}", field, key.unit), hint);
        value = node.as<int>();
      } catch (const YAML::Exception&) {
        FailAt(node,
               fmt::format("'{}' must be a whole number of {}, not '{}'", field, key.unit, node.Scalar()),
               hint);
      }
      if (value < key.min || value > key.max)
        FailAt(node,
               fmt::format("'{}' must be between {} and {} {}, not {}", field, key.min, key.max, key.unit,
                           value),
               hint);
      file.retention[key.name] = value;
    }
  }

  std::string path_;
};

}  // namespace

namespace {

// YAML lets a quoted value run over several lines, so a forgotten closing quote silently swallows the next
// entries. Town files never need that: a quote opened at the start of a value must close on its line.
void RejectUnclosedQuotes(const std::string& text, const std::string& path) {
  int line = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = std::min(text.find('\n', start), text.size());
    std::string_view l(text.data() + start, end - start);
    ++line;
    start = end + 1;
    for (size_t i = 0; i < l.size(); ++i) {
      char c = l[i];
      if (c == '#' && (i == 0 || l[i - 1] == ' ')) break;
      if (c != '"' && c != '\'') continue;
      // Only a quote that opens a value counts: after indentation, "- ", ": ", "[", "{" or ", ".
      size_t before = l.find_last_not_of(' ', i == 0 ? std::string_view::npos : i - 1);
      bool opens = before == std::string_view::npos || l[before] == '-' || l[before] == ':' ||
                   l[before] == '[' || l[before] == '{' || l[before] == ',';
      if (!opens) break;
      size_t j = i + 1;
      for (; j < l.size(); ++j) {
        if (c == '"' && l[j] == '\\')
          ++j;
        else if (l[j] == c && c == '\'' && j + 1 < l.size() && l[j + 1] == '\'')
          ++j;
        else if (l[j] == c)
          break;
      }
      if (j >= l.size())
        throw Error(fmt::format("'{}': line {}, column {}: YAML syntax error: unterminated quoted value",
                                path, line, i + 1),
                    "close the quote on the same line");
      i = j;
    }
  }
}

}  // namespace

TownFile ParseTownFile(const std::string& yaml_text, const std::string& path) {
  RejectUnclosedQuotes(yaml_text, path);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw Error(fmt::format("'{}': line {}, column {}: YAML syntax error: {}", path, e.mark.line + 1,
                            e.mark.column + 1, e.msg));
  }
  try {
    return TownFileReader(path).Read(root);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("'{}': line {}, column {}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

TownFile LoadTownFile(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw Error(fmt::format("cannot read town file '{}': it is a directory", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read town file '{}': {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseTownFile(text.str(), path);
}

}  // namespace voisinage
