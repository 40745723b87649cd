#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"
#include "lib/town/geo.h"

namespace voisinage {

struct Neighbourhood {
  int64_t id = 0;
  std::string slug;
  std::string name;
  std::vector<std::string> postcodes;
  std::optional<Area> area;
  bool from_town_file = false;
  std::string archived_at;  ///< empty while active
  std::string merged_into;  ///< slug of the neighbourhood it was merged into, else empty
  std::string created_at;
  std::string updated_at;
  int64_t members = 0;  ///< active members
  int64_t open_invitations = 0;
};

/// What a new neighbourhood is made of.
struct NeighbourhoodInput {
  std::string slug;
  std::string name;
  std::vector<std::string> postcodes;
  std::optional<Area> area;
  bool from_town_file = false;
};

/// Validates and inserts a neighbourhood (no transaction of its own). Throws Error on an invalid or taken
/// slug.
Neighbourhood InsertNeighbourhood(Db& db, const NeighbourhoodInput& input);

/// InsertNeighbourhood in its own transaction.
Neighbourhood CreateNeighbourhood(Db& db, const NeighbourhoodInput& input);

/// Active neighbourhoods by name; with `include_archived`, archived and merged ones too.
std::vector<Neighbourhood> ListNeighbourhoods(Db& db, bool include_archived);

/// The neighbourhood with this slug, or nullopt. Does not follow merges.
std::optional<Neighbourhood> FindNeighbourhoodBySlug(Db& db, const std::string& slug);

/// The neighbourhood a slug designates today: a merged neighbourhood's slug is an alias of the one it was
/// merged into. Throws Error "unknown neighbourhood 'x'" with a suggestion when there is none.
Neighbourhood ResolveNeighbourhood(Db& db, const std::string& slug);

/// Like ResolveNeighbourhood, and throws when the neighbourhood is archived.
Neighbourhood ResolveActiveNeighbourhood(Db& db, const std::string& slug);

/// The live neighbourhood a slug designates, read without its polygon and counts: for the hot paths (the
/// feed, posting). Throws NotFoundError like ResolveNeighbourhood.
struct NeighbourhoodKey {
  int64_t id = 0;
  std::string slug;
  bool archived = false;
};
NeighbourhoodKey ResolveNeighbourhoodKey(Db& db, const std::string& slug);

/// Changes the display name (the slug never changes: it is in links and printed invitations).
Neighbourhood RenameNeighbourhood(Db& db, const std::string& slug, const std::string& name);

/// Archives a neighbourhood: it is no longer offered, located or joined; its members and history stay.
Neighbourhood ArchiveNeighbourhood(Db& db, const std::string& slug);

/// What a merge moved, per table that refers to a neighbourhood.
struct MergeResult {
  Neighbourhood from, into;
  std::vector<std::pair<std::string, int64_t>> moved;  ///< table name, rows moved
};

/// Moves every row that refers to `from` (members, invitations, and whatever later tables point at a
/// neighbourhood) to `into`, adds `from`'s postcodes and polygons to `into`, archives `from` and keeps its
/// slug as an alias of `into`. One transaction.
MergeResult MergeNeighbourhoods(Db& db, const std::string& from, const std::string& into);

/// Stores the area (or clears it) and its bounding box; no transaction of its own.
void WriteNeighbourhoodArea(Db& db, int64_t id, const std::optional<Area>& area);

/// Replaces the postcodes; no transaction of its own.
void WriteNeighbourhoodPostcodes(Db& db, int64_t id, const std::vector<std::string>& postcodes);

nlohmann::json ToJson(const Neighbourhood& neighbourhood);

}  // namespace voisinage
