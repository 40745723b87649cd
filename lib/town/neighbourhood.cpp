#include "lib/town/neighbourhood.h"

#include <algorithm>
#include <set>

#include "lib/clock.h"
#include "lib/store/audit_log.h"
#include "lib/text/strings.h"
#include "lib/text/suggest.h"
#include "lib/town/validation.h"

namespace voisinage {

using nlohmann::json;

namespace {

const char* const kSelectNeighbourhood = R"sql(
  SELECT n.id, n.slug, n.name, n.polygon, n.from_town_file, coalesce(n.archived_at, ''),
         coalesce(m.slug, ''), n.created_at, n.updated_at,
         (SELECT group_concat(postcode, ',') FROM
            (SELECT postcode FROM neighbourhood_postcode p WHERE p.neighbourhood_id = n.id ORDER BY postcode)),
         (SELECT count(*) FROM member WHERE neighbourhood_id = n.id AND removed_at IS NULL),
         (SELECT count(*) FROM invitation i WHERE i.neighbourhood_id = n.id AND used_at IS NULL
            AND revoked_at IS NULL AND expires_at > strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
  FROM neighbourhood n LEFT JOIN neighbourhood m ON m.id = n.merged_into_id)sql";

Neighbourhood ReadNeighbourhood(SQLite::Statement& row) {
  Neighbourhood n;
  n.id = row.getColumn(0).getInt64();
  n.slug = row.getColumn(1).getString();
  n.name = row.getColumn(2).getString();
  if (!row.getColumn(3).isNull()) n.area = Area::FromGeoJson(json::parse(row.getColumn(3).getString()));
  n.from_town_file = row.getColumn(4).getInt() != 0;
  n.archived_at = row.getColumn(5).getString();
  n.merged_into = row.getColumn(6).getString();
  n.created_at = row.getColumn(7).getString();
  n.updated_at = row.getColumn(8).getString();
  n.postcodes = Split(row.getColumn(9).getString(), ',');
  n.members = row.getColumn(10).getInt64();
  n.open_invitations = row.getColumn(11).getInt64();
  return n;
}

std::vector<std::string> AllSlugs(Db& db) {
  std::vector<std::string> slugs;
  SQLite::Statement query(db.sql(), "SELECT slug FROM neighbourhood");
  while (query.executeStep()) slugs.push_back(query.getColumn(0).getString());
  return slugs;
}

void Touch(Db& db, int64_t id) {
  SQLite::Statement touch(db.sql(), "UPDATE neighbourhood SET updated_at = ? WHERE id = ?");
  touch.bind(1, NowIso());
  touch.bind(2, id);
  touch.exec();
}

}  // namespace

void WriteNeighbourhoodArea(Db& db, int64_t id, const std::optional<Area>& area) {
  SQLite::Statement update(
      db.sql(),
      "UPDATE neighbourhood SET polygon = ?, min_lon = ?, min_lat = ?, max_lon = ?, max_lat = ? "
      "WHERE id = ?");
  if (area) {
    BoundingBox box = area->Bounds();
    update.bind(1, area->ToGeoJson().dump());
    update.bind(2, box.min_lon);
    update.bind(3, box.min_lat);
    update.bind(4, box.max_lon);
    update.bind(5, box.max_lat);
  }
  update.bind(6, id);
  update.exec();
}

void WriteNeighbourhoodPostcodes(Db& db, int64_t id, const std::vector<std::string>& postcodes) {
  SQLite::Statement clear(db.sql(), "DELETE FROM neighbourhood_postcode WHERE neighbourhood_id = ?");
  clear.bind(1, id);
  clear.exec();
  SQLite::Statement insert(db.sql(), "INSERT OR IGNORE INTO neighbourhood_postcode VALUES (?, ?)");
  for (const std::string& postcode : postcodes) {
    ValidatePostcode(postcode);
    insert.bind(1, id);
    insert.bind(2, postcode);
    insert.exec();
    insert.reset();
  }
}

Neighbourhood InsertNeighbourhood(Db& db, const NeighbourhoodInput& input) {
  ValidateSlug(input.slug);
  ValidateName("neighbourhood name", input.name);
  if (std::optional<Neighbourhood> existing = FindNeighbourhoodBySlug(db, input.slug)) {
    std::string state = !existing->merged_into.empty()
                            ? fmt::format(" (merged into '{}')", existing->merged_into)
                        : !existing->archived_at.empty() ? " (archived)"
                                                         : "";
    throw Error(fmt::format("neighbourhood '{}' already exists{}", input.slug, state),
                "slugs are never reused: choose another one");
  }
  const std::string now = NowIso();
  SQLite::Statement insert(db.sql(),
                           "INSERT INTO neighbourhood (slug, name, from_town_file, created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?)");
  insert.bind(1, input.slug);
  insert.bind(2, input.name);
  insert.bind(3, input.from_town_file ? 1 : 0);
  insert.bind(4, now);
  insert.bind(5, now);
  insert.exec();
  int64_t id = db.sql().getLastInsertRowid();
  WriteNeighbourhoodPostcodes(db, id, input.postcodes);
  WriteNeighbourhoodArea(db, id, input.area);
  return *FindNeighbourhoodBySlug(db, input.slug);
}

Neighbourhood CreateNeighbourhood(Db& db, const NeighbourhoodInput& input) {
  auto transaction = db.Write();
  Neighbourhood created = InsertNeighbourhood(db, input);
  transaction.commit();
  return created;
}

std::vector<Neighbourhood> ListNeighbourhoods(Db& db, bool include_archived) {
  std::string sql = kSelectNeighbourhood;
  if (!include_archived) sql += " WHERE n.archived_at IS NULL";
  sql += " ORDER BY n.archived_at IS NOT NULL, n.name COLLATE NOCASE, n.slug";
  SQLite::Statement query(db.sql(), sql);
  std::vector<Neighbourhood> all;
  while (query.executeStep()) all.push_back(ReadNeighbourhood(query));
  return all;
}

std::optional<Neighbourhood> FindNeighbourhoodBySlug(Db& db, const std::string& slug) {
  SQLite::Statement query(db.sql(), std::string(kSelectNeighbourhood) + " WHERE n.slug = ?");
  query.bind(1, slug);
  if (!query.executeStep()) return std::nullopt;
  return ReadNeighbourhood(query);
}

Neighbourhood ResolveNeighbourhood(Db& db, const std::string& slug) {
  std::optional<Neighbourhood> found = FindNeighbourhoodBySlug(db, slug);
  if (!found)
    throw NotFoundError(fmt::format("unknown neighbourhood '{}'{}", slug, DidYouMean(slug, AllSlugs(db))),
                        "list them with 'voisinage neighbourhood list'");
  // Merges are flattened (see MergeNeighbourhoods), so one step reaches the live neighbourhood.
  if (!found->merged_into.empty()) return *FindNeighbourhoodBySlug(db, found->merged_into);
  return *found;
}

NeighbourhoodKey ResolveNeighbourhoodKey(Db& db, const std::string& slug) {
  CachedStatement query = db.Prepare(R"sql(
    SELECT coalesce(m.id, n.id), coalesce(m.slug, n.slug), coalesce(m.archived_at, n.archived_at) IS NOT NULL
    FROM neighbourhood n LEFT JOIN neighbourhood m ON m.id = n.merged_into_id WHERE n.slug = ?)sql");
  query->bind(1, slug);
  if (!query->executeStep()) ResolveNeighbourhood(db, slug);  // throws the full message, with suggestions
  return {query->getColumn(0).getInt64(), query->getColumn(1).getString(), query->getColumn(2).getInt() != 0};
}

Neighbourhood ResolveActiveNeighbourhood(Db& db, const std::string& slug) {
  Neighbourhood n = ResolveNeighbourhood(db, slug);
  if (!n.archived_at.empty())
    throw Error(fmt::format("neighbourhood '{}' is archived", n.slug),
                "archived neighbourhoods take no new members; restore it by listing it in the town file");
  return n;
}

namespace {

// Changes go to a neighbourhood by its own slug: an alias would silently change the one it was merged into.
Neighbourhood ResolveForChange(Db& db, const std::string& slug) {
  Neighbourhood n = ResolveNeighbourhood(db, slug);
  if (n.slug != slug)
    throw Error(fmt::format("'{}' was merged into '{}'", slug, n.slug),
                fmt::format("to change '{}', name it", n.slug));
  return n;
}

}  // namespace

Neighbourhood RenameNeighbourhood(Db& db, const std::string& slug, const std::string& name) {
  ValidateName("neighbourhood name", name);
  auto transaction = db.Write();
  Neighbourhood n = ResolveForChange(db, slug);
  SQLite::Statement update(db.sql(), "UPDATE neighbourhood SET name = ?, updated_at = ? WHERE id = ?");
  update.bind(1, name);
  update.bind(2, NowIso());
  update.bind(3, n.id);
  update.exec();
  transaction.commit();
  return *FindNeighbourhoodBySlug(db, n.slug);
}

Neighbourhood ArchiveNeighbourhood(Db& db, const std::string& slug) {
  auto transaction = db.Write();
  Neighbourhood n = ResolveForChange(db, slug);
  if (!n.archived_at.empty()) throw Error(fmt::format("neighbourhood '{}' is already archived", n.slug));
  SQLite::Statement update(db.sql(),
                           "UPDATE neighbourhood SET archived_at = ?1, updated_at = ?1 WHERE id = ?2");
  update.bind(1, NowIso());
  update.bind(2, n.id);
  update.exec();
  AppendAudit(db, "cli", "neighbourhood.archive", "neighbourhood:" + n.slug, "", {});
  transaction.commit();
  return *FindNeighbourhoodBySlug(db, n.slug);
}

MergeResult MergeNeighbourhoods(Db& db, const std::string& from_slug, const std::string& into_slug) {
  auto transaction = db.Write();
  MergeResult result;
  result.from = ResolveNeighbourhood(db, from_slug);
  result.into = ResolveActiveNeighbourhood(db, into_slug);
  if (result.from.slug != from_slug)
    throw Error(fmt::format("neighbourhood '{}' was already merged into '{}'", from_slug, result.from.slug));
  if (result.from.id == result.into.id) throw Error(fmt::format("cannot merge '{}' into itself", from_slug));

  // Every table with a foreign key to neighbourhood(id) follows, including tables added by later migrations.
  SQLite::Statement references(db.sql(), R"sql(
    SELECT m.name, f."from" FROM sqlite_master m, pragma_foreign_key_list(m.name) f
    WHERE m.type = 'table' AND f."table" = 'neighbourhood'
      AND m.name NOT IN ('neighbourhood', 'neighbourhood_postcode') ORDER BY m.name)sql");
  while (references.executeStep()) {
    std::string table = references.getColumn(0).getString();
    std::string column = references.getColumn(1).getString();
    SQLite::Statement move(
        db.sql(), fmt::format("UPDATE \"{}\" SET \"{}\" = ? WHERE \"{}\" = ?", table, column, column));
    move.bind(1, result.into.id);
    move.bind(2, result.from.id);
    result.moved.emplace_back(table, move.exec());
  }
  // Earlier merges into `from` now point at `into`, so an alias is always one step from a live neighbourhood.
  SQLite::Statement flatten(db.sql(), "UPDATE neighbourhood SET merged_into_id = ? WHERE merged_into_id = ?");
  flatten.bind(1, result.into.id);
  flatten.bind(2, result.from.id);
  flatten.exec();

  std::set<std::string> postcodes(result.into.postcodes.begin(), result.into.postcodes.end());
  postcodes.insert(result.from.postcodes.begin(), result.from.postcodes.end());
  WriteNeighbourhoodPostcodes(db, result.into.id, {postcodes.begin(), postcodes.end()});
  if (result.from.area) {
    Area area = result.into.area.value_or(Area{});
    area.polygons.insert(area.polygons.end(), result.from.area->polygons.begin(),
                         result.from.area->polygons.end());
    WriteNeighbourhoodArea(db, result.into.id, area);
  }
  Touch(db, result.into.id);
  SQLite::Statement retire(
      db.sql(),
      "UPDATE neighbourhood SET merged_into_id = ?1, archived_at = coalesce(archived_at, ?2), "
      "updated_at = ?2 WHERE id = ?3");
  retire.bind(1, result.into.id);
  retire.bind(2, NowIso());
  retire.bind(3, result.from.id);
  retire.exec();
  nlohmann::json moved = nlohmann::json::object();
  for (const auto& [table, rows] : result.moved) moved[table] = rows;
  AppendAudit(db, "cli", "neighbourhood.merge", "neighbourhood:" + result.from.slug, "",
              {{"into", result.into.slug}, {"moved", moved}});
  transaction.commit();
  result.from = *FindNeighbourhoodBySlug(db, result.from.slug);
  result.into = *FindNeighbourhoodBySlug(db, result.into.slug);
  return result;
}

json ToJson(const Neighbourhood& n) {
  json out = {{"slug", n.slug},
              {"name", n.name},
              {"postcodes", n.postcodes},
              {"polygon", n.area ? n.area->ToGeoJson() : json(nullptr)},
              {"archived", !n.archived_at.empty()},
              {"archived_at", n.archived_at.empty() ? json(nullptr) : json(n.archived_at)},
              {"merged_into", n.merged_into.empty() ? json(nullptr) : json(n.merged_into)},
              {"from_town_file", n.from_town_file},
              {"members", n.members},
              {"open_invitations", n.open_invitations},
              {"created_at", n.created_at},
              {"updated_at", n.updated_at}};
  return out;
}

}  // namespace voisinage
