#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/town/geo.h"

namespace voisinage {

/// The town's identity, as in the `town` section of a town file and the `town` table.
struct TownIdentity {
  std::string name;
  std::string insee;
  std::vector<std::string> postcodes;
  std::string timezone = "Europe/Paris";
  std::string url;  ///< public address of the town's voisinage site, optional
};

struct NeighbourhoodSpec {
  std::string slug;
  std::string name;
  std::vector<std::string> postcodes;  ///< sorted, unique
  std::optional<Area> area;
  int line = 0;
};

struct CategorySpec {
  std::string code;
  std::string name;
  std::string group;
  std::string service;
  int sla_days = 0;
  bool active = true;
  int line = 0;
};

struct WordRuleSpec {
  std::string pattern;
  std::string action;  ///< block | hold | flag | censor
  int line = 0;
};

struct StaffSpec {
  std::string name;
  std::string email;
  std::string role;
  int line = 0;
};

/// A parsed and validated town file (see voisinage-town-file(5)).
struct TownFile {
  std::string path;
  TownIdentity town;
  std::vector<NeighbourhoodSpec> neighbourhoods;
  std::vector<CategorySpec> categories;
  std::optional<double> auto_hide_score;
  std::optional<int> auto_hide_reporters;
  std::vector<WordRuleSpec> word_rules;
  std::vector<StaffSpec> staff;
  std::map<std::string, int> retention;  ///< the `retention` keys given (lib/privacy/retention.h), by name
};

/// Loads and validates a town file. Polygon paths are relative to the file. Throws Error prefixed with
/// "'PATH': line L, column C:" for a syntax error, an unknown key (with a suggestion), a missing key, a
/// value of the wrong type or an invalid value, and duplicates of a slug, code, pattern or e-mail.
TownFile LoadTownFile(const std::string& path);

/// The same, from YAML text; `path` names it in messages and anchors relative polygon paths.
TownFile ParseTownFile(const std::string& yaml_text, const std::string& path);

/// The word-rule actions: flag, censor, hold, block (lib/moderation/word_rules.h ranks them
/// block > hold > flag > censor).
const std::vector<std::string>& WordRuleActions();

}  // namespace voisinage
