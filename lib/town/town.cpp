#include "lib/town/town.h"

#include <set>

#include "lib/clock.h"
#include "lib/store/audit_log.h"
#include "lib/town/validation.h"

namespace voisinage {

using nlohmann::json;

std::optional<Town> FindTown(Db& db) {
  CachedStatement query = db.Prepare(
      "SELECT name, insee, postcodes, timezone, url, auto_hide_score, auto_hide_reporters, "
      "created_at, updated_at FROM town WHERE id = 1");
  if (!query->executeStep()) return std::nullopt;
  Town town;
  town.identity.name = query->getColumn(0).getString();
  town.identity.insee = query->getColumn(1).getString();
  town.identity.postcodes = json::parse(query->getColumn(2).getString()).get<std::vector<std::string>>();
  town.identity.timezone = query->getColumn(3).getString();
  town.identity.url = query->getColumn(4).getString();
  if (!query->getColumn(5).isNull()) town.auto_hide_score = query->getColumn(5).getDouble();
  if (!query->getColumn(6).isNull()) town.auto_hide_reporters = query->getColumn(6).getInt();
  town.created_at = query->getColumn(7).getString();
  town.updated_at = query->getColumn(8).getString();
  return town;
}

Town GetTown(Db& db) {
  std::optional<Town> town = FindTown(db);
  if (!town)
    throw Error(
        fmt::format("database '{}' has no town yet", db.path()),
        "describe it with 'voisinage init --from TOWN.yaml' or 'voisinage town set --name ... --insee ... "
        "--postcode ...'");
  return *town;
}

void WriteTown(Db& db, const Town& town) {
  const std::string now = NowIso();
  SQLite::Statement upsert(db.sql(), R"sql(
    INSERT INTO town (id, name, insee, postcodes, timezone, url, auto_hide_score, auto_hide_reporters,
                      created_at, updated_at)
    VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
    ON CONFLICT (id) DO UPDATE SET name = ?1, insee = ?2, postcodes = ?3, timezone = ?4, url = ?5,
      auto_hide_score = ?6, auto_hide_reporters = ?7, updated_at = ?8)sql");
  upsert.bind(1, town.identity.name);
  upsert.bind(2, town.identity.insee);
  upsert.bind(3, json(town.identity.postcodes).dump());
  upsert.bind(4, town.identity.timezone);
  upsert.bind(5, town.identity.url);
  if (town.auto_hide_score) upsert.bind(6, *town.auto_hide_score);
  if (town.auto_hide_reporters) upsert.bind(7, *town.auto_hide_reporters);
  upsert.bind(8, now);
  upsert.exec();
}

Town SetTown(Db& db, const TownChanges& changes) {
  auto transaction = db.Write();
  std::optional<Town> existing = FindTown(db);
  if (!existing && (!changes.name || !changes.insee || !changes.postcodes))
    throw Error("the town does not exist yet: --name, --insee and --postcode are all required to create it");
  Town town = existing.value_or(Town{});
  if (changes.name) {
    ValidateName("town name", *changes.name);
    town.identity.name = *changes.name;
  }
  if (changes.insee) {
    ValidateInsee(*changes.insee);
    town.identity.insee = *changes.insee;
  }
  if (changes.timezone) {
    ValidateTimezone(*changes.timezone);
    town.identity.timezone = *changes.timezone;
  }
  if (changes.url) {
    if (!changes.url->empty()) ValidateUrl(*changes.url);
    town.identity.url = *changes.url;
  }
  if (changes.postcodes) {
    if (changes.postcodes->empty()) throw Error("the town needs at least one postcode");
    for (const auto& postcode : *changes.postcodes) ValidatePostcode(postcode);
    std::set<std::string> sorted(changes.postcodes->begin(), changes.postcodes->end());
    town.identity.postcodes.assign(sorted.begin(), sorted.end());
  }
  if (changes.auto_hide_score) {
    if (*changes.auto_hide_score <= 0) throw Error("the auto-hide score must be greater than 0");
    town.auto_hide_score = *changes.auto_hide_score;
  }
  if (changes.auto_hide_reporters) {
    if (*changes.auto_hide_reporters < 1) throw Error("the auto-hide reporter count must be at least 1");
    town.auto_hide_reporters = *changes.auto_hide_reporters;
  }
  WriteTown(db, town);
  AppendAudit(db, "cli", "town.set", "town", "", {{"before", existing ? ToJson(*existing) : json(nullptr)}});
  transaction.commit();
  return GetTown(db);
}

json ToJson(const Town& town) {
  json out = {{"name", town.identity.name},
              {"insee", town.identity.insee},
              {"postcodes", town.identity.postcodes},
              {"timezone", town.identity.timezone},
              {"url", town.identity.url},
              {"created_at", town.created_at},
              {"updated_at", town.updated_at}};
  out["auto_hide"] = {
      {"score", town.auto_hide_score ? json(*town.auto_hide_score) : json(nullptr)},
      {"reporters", town.auto_hide_reporters ? json(*town.auto_hide_reporters) : json(nullptr)}};
  return out;
}

}  // namespace voisinage
