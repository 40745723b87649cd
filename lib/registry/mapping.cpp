// A town hall's own CSV export, described by a YAML mapping file:
//
//   fields:
//     registry_key: SIRET        # a column name...
//     name: {column: Enseigne, transform: [trim]}
//     phone: {column: "Téléphone", transform: [phone]}
//     created_on: {column: Ouverture, transform: [trim, {date: "%d/%m/%Y"}]}
//     city: {value: Thomery}     # ...or a constant (with a column: the value of its empty cells)

#include <charconv>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include <utf8proc.h>
#include <yaml-cpp/yaml.h>

#include "lib/registry/naf.h"
#include "lib/registry/row_mapper.h"
#include "lib/text/suggest.h"

namespace voisinage {

namespace {

const std::vector<std::string> kTargets = {"registry_key",   "name",         "short_name", "activity_code",
                                           "activity_label", "description",  "address",    "postcode",
                                           "city",           "insee",        "lat",        "lon",
                                           "website",        "phone",        "email",      "created_on",
                                           "declared_on",    "dissolved_on", "status"};
const std::vector<std::string> kTransforms = {"trim", "upper", "lower", "phone", "date"};

struct Transform {
  std::string name;
  std::string date_format;  ///< for "date"
};

struct FieldSource {
  std::string target;
  std::optional<size_t> column;
  std::string column_name;
  std::string constant;
  std::vector<Transform> transforms;
};

// A decimal number written with a point or, as French spreadsheets do, a comma ("48,4085").
bool ParseDecimal(std::string text, double& out) {
  for (char& c : text)
    if (c == ',') c = '.';
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

// Upper or lower case of UTF-8 text, accented letters included ("Crèmerie" → "CRÈMERIE").
std::string ChangeCase(const std::string& text, bool upper) {
  std::string out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    utf8proc_int32_t codepoint = 0;
    utf8proc_ssize_t length = utf8proc_iterate(p, end - p, &codepoint);
    if (length <= 0) {
      out += static_cast<char>(*p++);
      continue;
    }
    utf8proc_uint8_t encoded[4];
    utf8proc_ssize_t n =
        utf8proc_encode_char(upper ? utf8proc_toupper(codepoint) : utf8proc_tolower(codepoint), encoded);
    out.append(reinterpret_cast<char*>(encoded), n);
    p += length;
  }
  return out;
}

std::string ApplyTransform(const Transform& t, std::string value, const std::string& column) {
  if (t.name == "trim") return Trim(value);
  if (t.name == "upper" || t.name == "lower") return ChangeCase(value, t.name == "upper");
  if (value.empty()) return value;
  if (t.name == "phone") {
    try {
      return NormalisePhone(value);
    } catch (const RowRejected& e) {
      throw RowRejected(fmt::format("{} in column '{}'", e.what(), column));
    }
  }
  // date
  std::tm tm{};
  const char* end = ::strptime(value.c_str(), t.date_format.c_str(), &tm);
  // strptime accepts 31/02: check the day exists.
  const std::chrono::year_month_day date{std::chrono::year{tm.tm_year + 1900},
                                         std::chrono::month(tm.tm_mon + 1), std::chrono::day(tm.tm_mday)};
  if (end == nullptr || *end != '\0' || !date.ok())
    throw RowRejected(
        fmt::format("invalid date '{}' in column '{}' (expected {})", value, column, t.date_format));
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

class MappingMapper final : public RowMapper {
 public:
  MappingMapper(std::string kind, std::vector<FieldSource> sources, const RowFilter& filter)
      : kind_(std::move(kind)), sources_(std::move(sources)), filter_(filter) {
    for (const FieldSource& s : sources_)
      if (s.target == "insee" && s.column) commune_ = s.column;
  }

  std::string format() const override { return "csv"; }
  std::optional<size_t> commune_column() const override { return commune_; }

  bool Map(const CsvRecord& record, DirectoryEntry& e) override {
    e = DirectoryEntry{};
    e.kind = kind_;
    e.source = "csv";
    std::string lat, lon;
    for (const FieldSource& s : sources_) {
      std::string value = s.column ? record.fields[*s.column] : s.constant;
      if (value.empty()) value = s.constant;
      for (const Transform& t : s.transforms) value = ApplyTransform(t, std::move(value), s.column_name);
      std::string* target = Target(e, s.target, lat, lon);
      *target = std::move(value);
    }
    if (kind_ == "merchant") {
      // "552 013 500 00038" is a SIRET too.
      std::string compact;
      for (char c : e.registry_key)
        if (c != ' ') compact += c;
      if (compact.size() == 14 && compact.find_first_not_of("0123456789") == std::string::npos)
        e.registry_key = compact;
    }
    if (e.registry_key.empty()) throw RowRejected("the key is empty (field 'registry_key')");
    if (kind_ == "association" && e.name.empty())
      throw RowRejected("the association has no name (field 'name')");
    if (e.registry_key.size() > 64) throw RowRejected("the key is longer than 64 characters");
    if (kind_ == "merchant" && e.registry_key.size() == 14 &&
        e.registry_key.find_first_not_of("0123456789") == std::string::npos && !IsValidSiret(e.registry_key))
      throw RowRejected(fmt::format("invalid SIRET '{}' (wrong check digit)", e.registry_key));
    if (commune_ && !filter_.communes.empty() && !filter_.communes.count(e.insee)) return false;
    if (!e.activity_code.empty()) {
      std::string naf = NormaliseNafCode(e.activity_code);
      if (!naf.empty()) {
        e.activity_code = naf;
        if (e.activity_label.empty()) e.activity_label = NafLabel(naf);
      }
    }
    if (filter_.local_shops_only && !IsLocalShopNaf(e.activity_code)) return false;
    if (!filter_.naf_codes.empty() && !filter_.naf_codes.count(e.activity_code)) return false;
    if (e.status.empty()) e.status = "active";
    if (e.status != "active" && e.status != "closed" && e.status != "dissolved")
      throw RowRejected(fmt::format("unknown status '{}' (active, closed or dissolved)", e.status));
    if (!lat.empty() || !lon.empty()) {
      double latitude = 0, longitude = 0;
      if (!ParseDecimal(lat, latitude) || !ParseDecimal(lon, longitude))
        throw RowRejected(fmt::format("invalid coordinates '{}', '{}'", lat, lon));
      if (latitude < -90 || latitude > 90 || longitude < -180 || longitude > 180)
        throw RowRejected(fmt::format("coordinates out of range: '{}', '{}'", lat, lon));
      e.lat = latitude;
      e.lon = longitude;
    }
    return true;
  }

 private:
  static std::string* Target(DirectoryEntry& e, const std::string& name, std::string& lat, std::string& lon) {
    if (name == "registry_key") return &e.registry_key;
    if (name == "name") return &e.name;
    if (name == "short_name") return &e.short_name;
    if (name == "activity_code") return &e.activity_code;
    if (name == "activity_label") return &e.activity_label;
    if (name == "description") return &e.description;
    if (name == "address") return &e.address;
    if (name == "postcode") return &e.postcode;
    if (name == "city") return &e.city;
    if (name == "insee") return &e.insee;
    if (name == "lat") return &lat;
    if (name == "lon") return &lon;
    if (name == "website") return &e.website;
    if (name == "phone") return &e.phone;
    if (name == "email") return &e.email;
    if (name == "created_on") return &e.created_on;
    if (name == "declared_on") return &e.declared_on;
    if (name == "dissolved_on") return &e.dissolved_on;
    return &e.status;
  }

  std::string kind_;
  std::vector<FieldSource> sources_;
  RowFilter filter_;
  std::optional<size_t> commune_;
};

// Reads the mapping document; yaml-cpp exceptions are turned into located errors by the caller.
std::unique_ptr<RowMapper> ReadMapping(const std::string& path, const YAML::Node& root,
                                       const std::string& kind, const std::vector<std::string>& header,
                                       const RowFilter& filter) {
  auto fail = [&](const YAML::Node& node, const std::string& message, const std::string& hint = {}) {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) throw Error(fmt::format("mapping '{}': {}", path, message), hint);
    throw Error(
        fmt::format("mapping '{}': line {}, column {}: {}", path, mark.line + 1, mark.column + 1, message),
        hint);
  };
  if (!root.IsMap()) throw Error(fmt::format("mapping '{}': expected a mapping with a 'fields' key", path));
  for (const auto& item : root) {
    std::string key = item.first.as<std::string>();
    if (key != "fields")
      fail(item.first, fmt::format("unknown key '{}'{}", key, DidYouMean(key, {"fields"})));
  }
  const YAML::Node fields = root["fields"];
  if (!fields || !fields.IsMap()) fail(root, "missing 'fields': a mapping of target field to source column");
  const HeaderIndex index(header);
  std::vector<FieldSource> sources;
  for (const auto& item : fields) {
    FieldSource source;
    source.target = item.first.as<std::string>();
    if (std::find(kTargets.begin(), kTargets.end(), source.target) == kTargets.end())
      fail(item.first,
           fmt::format("unknown field '{}'{}", source.target, DidYouMean(source.target, kTargets)),
           fmt::format("fields: {}", fmt::join(kTargets, ", ")));
    const YAML::Node spec = item.second;
    // Built, not assigned: assigning a yaml-cpp node writes through to the node it refers to.
    const YAML::Node column_node = spec.IsMap() ? spec["column"] : spec;
    if (spec.IsMap()) {
      for (const auto& part : spec) {
        std::string key = part.first.as<std::string>();
        if (key != "column" && key != "value" && key != "transform")
          fail(part.first,
               fmt::format("unknown key '{}'{}", key, DidYouMean(key, {"column", "value", "transform"})));
      }
      if (spec["value"]) {
        if (!spec["value"].IsScalar()) fail(spec["value"], "'value' must be a text value");
        source.constant = spec["value"].Scalar();
      }
      if (!column_node && !spec["value"])
        fail(spec, fmt::format("'{}' needs a 'column' or a 'value'", source.target));
      if (const YAML::Node transforms = spec["transform"]) {
        if (!transforms.IsSequence()) fail(transforms, "'transform' must be a list, e.g. [trim, upper]");
        for (const YAML::Node& t : transforms) {
          Transform transform;
          if (t.IsMap() && t["date"]) {
            transform.name = "date";
            transform.date_format = t["date"].as<std::string>();
          } else if (t.IsScalar()) {
            transform.name = t.Scalar();
          }
          if (std::find(kTransforms.begin(), kTransforms.end(), transform.name) == kTransforms.end() ||
              (transform.name == "date" && transform.date_format.empty()))
            fail(t,
                 fmt::format("unknown transformation '{}'{}", t.IsScalar() ? t.Scalar() : "",
                             DidYouMean(t.IsScalar() ? t.Scalar() : "", kTransforms)),
                 "transformations: trim, upper, lower, phone, {date: \"%d/%m/%Y\"}");
          source.transforms.push_back(transform);
        }
      }
    } else if (!spec.IsScalar()) {
      fail(spec, fmt::format("'{}' must be a column name or a mapping with 'column'", source.target));
    }
    if (column_node && column_node.IsScalar()) {
      source.column_name = column_node.Scalar();
      source.column = index.Find(source.column_name);
      if (!source.column)
        fail(column_node,
             fmt::format("column '{}' is not in the file's header{}", source.column_name,
                         DidYouMean(source.column_name, header)),
             fmt::format("the header has: {}", fmt::join(header, ", ")));
    }
    sources.push_back(std::move(source));
  }
  if (std::none_of(sources.begin(), sources.end(),
                   [](const FieldSource& s) { return s.target == "registry_key"; }))
    fail(fields, "the mapping must give 'registry_key', the column that identifies each row");
  return std::make_unique<MappingMapper>(kind, std::move(sources), filter);
}

}  // namespace

std::unique_ptr<RowMapper> MakeMappingMapper(const std::string& path, const std::string& kind,
                                             const std::vector<std::string>& header,
                                             const RowFilter& filter) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("cannot read mapping '{}'", path));
  YAML::Node root;
  try {
    root = YAML::Load(in);
  } catch (const YAML::ParserException& e) {
    throw Error(fmt::format("mapping '{}': line {}, column {}: YAML syntax error: {}", path, e.mark.line + 1,
                            e.mark.column + 1, e.msg));
  }
  try {
    return ReadMapping(path, root, kind, header, filter);
  } catch (const YAML::Exception& e) {
    throw Error(
        fmt::format("mapping '{}': line {}, column {}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

}  // namespace voisinage
