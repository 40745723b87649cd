#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"
#include "lib/town/town_file.h"

namespace voisinage {

/// One difference between a town file and the database.
struct TownChange {
  std::string section;  ///< town | neighbourhoods | grievance_categories | moderation | staff | retention
  std::string kind;     ///< added | changed | archived | removed
  std::string key;      ///< slug, code, pattern, e-mail...
  std::vector<std::string> details;  ///< "name: 'Old' → 'New'"
};

struct TownDiff {
  std::vector<TownChange> changes;
  bool dry_run = false;
  bool empty() const { return changes.empty(); }
  /// How many changes of `kind` in `section`.
  size_t Count(const std::string& section, const std::string& kind) const;
};

/// Compares the town file with the database and applies exactly the difference, in one transaction.
/// Entries the file manages (created from a town file) and no longer lists are archived: neighbourhoods
/// archived, categories deactivated, word rules removed, staff back to residents. Entries created from the
/// command line are left alone. With `dry_run` the difference is computed the same way and rolled back.
/// Throws Error (nothing written) when the file contradicts the database, e.g. lists a merged slug.
TownDiff ApplyTownFile(Db& db, const TownFile& file, bool dry_run);

/// The sections in the order a diff lists them.
const std::vector<std::string>& TownFileSections();

nlohmann::json ToJson(const TownDiff& diff);

}  // namespace voisinage
