#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"
#include "lib/town/town_file.h"

namespace voisinage {

/// The town row: identity plus the moderation thresholds.
struct Town {
  TownIdentity identity;
  std::optional<double> auto_hide_score;
  std::optional<int> auto_hide_reporters;
  std::string created_at;
  std::string updated_at;
};

/// The town, or nullopt when the database has none yet.
std::optional<Town> FindTown(Db& db);

/// The town; throws Error with a hint to run `init --from` when there is none.
Town GetTown(Db& db);

/// Changes to apply with SetTown; unset fields stay as they are.
struct TownChanges {
  std::optional<std::string> name, insee, timezone, url;
  std::optional<std::vector<std::string>> postcodes;
  std::optional<double> auto_hide_score;
  std::optional<int> auto_hide_reporters;
  bool empty() const {
    return !name && !insee && !timezone && !url && !postcodes && !auto_hide_score && !auto_hide_reporters;
  }
};

/// Validates and applies `changes` in one transaction, creating the town when there is none (then name, INSEE
/// code and postcodes are required). Returns the town as stored.
Town SetTown(Db& db, const TownChanges& changes);

/// Inserts or updates the town row without a transaction of its own (used by SetTown and ApplyTownFile).
void WriteTown(Db& db, const Town& town);

nlohmann::json ToJson(const Town& town);

}  // namespace voisinage
