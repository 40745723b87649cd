#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"

namespace voisinage {

/// A shop or association of the town's directory.
struct DirectoryEntry {
  int64_t id = 0;
  std::string kind;          ///< merchant | association
  std::string registry_key;  ///< SIRET, RNA number (W...), or the town hall's own key
  std::string source;        ///< sirene | rna | csv
  std::string name, short_name;
  std::string activity_code, activity_label;  ///< NAF code and label; RNA object codes
  std::string description;
  std::string address, postcode, city, insee;
  std::optional<double> lat, lon;
  std::string website, phone, email;
  std::string created_on, declared_on, dissolved_on;  ///< YYYY-MM-DD or empty
  std::string status = "active";                      ///< active | closed | dissolved | deleted
  int64_t neighbourhood_id = 0;
  std::string neighbourhood;  ///< slug, when read back
  std::string created_at, updated_at;

  /// A stable hash of the imported fields: equal hashes mean a re-import has nothing to change.
  uint64_t ContentHash() const;
  /// The folded words the search index holds for this entry, its name's words marked as such.
  std::string SearchText() const;
};

/// An entry with what is derived from it, computed once before writing (on the import's parsing thread).
struct PreparedEntry {
  DirectoryEntry entry;
  uint64_t content_hash = 0;
  std::string sort_key;     ///< Fold(name)
  std::string search_text;  ///< entry.SearchText()
};

PreparedEntry Prepare(DirectoryEntry entry);

/// What `directory list|search` asks for; empty fields do not filter.
struct DirectoryQuery {
  std::string text;  ///< words to search (accent- and case-insensitive, prefixes match); empty lists all
  std::string kind;
  std::string neighbourhood;
  std::string naf;  ///< activity code, e.g. 47.22Z
  bool include_closed = false;
  int limit = 50;
  int offset = 0;  ///< entries to skip (the pages before)
};

/// Entries matching the query, best match first: more of the words in the name, then active before closed,
/// then shorter names, then by name; entries without a public name come last. Sorted by name when there is
/// no text. Throws Error for an unknown kind or neighbourhood, or a text with nothing to search.
std::vector<DirectoryEntry> SearchDirectory(Db& db, const DirectoryQuery& query);

/// The entry with this id, SIRET or RNA number. Throws Error when there is none.
DirectoryEntry GetDirectoryEntry(Db& db, const std::string& ref);

nlohmann::json ToJson(const DirectoryEntry& entry);

/// Prepared statements for writing entries, their search text and their rank codes, inside the caller's
/// transaction. Rank codes are packed by blocks of ids and held in memory until Finish(), which must run
/// before the transaction commits.
class DirectoryWriter {
 public:
  explicit DirectoryWriter(SQLite::Database& sql);

  struct Existing {
    int64_t id;
    uint64_t content_hash;
    std::string status;
  };
  std::optional<Existing> Find(const std::string& kind, const std::string& key);
  /// Inserts the entry unless its key is already there; returns whether it did.
  bool InsertNew(const PreparedEntry& entry, int64_t import_id);
  void Update(int64_t id, const PreparedEntry& entry, int64_t import_id);
  /// Writes the rank codes held in memory.
  void Finish();

  /// Fills the empty search index and rank table from the entries: the migration that created them runs it.
  static void IndexAll(SQLite::Database& sql);

 private:
  void Bind(SQLite::Statement& statement, const PreparedEntry& entry, int64_t import_id);
  void Index(int64_t id, uint8_t rank_code, const std::string& text);
  void SetRankCode(int64_t id, uint8_t code);

  SQLite::Database& sql_;
  SQLite::Statement find_, insert_, update_, indexed_, unindex_, index_, read_ranks_, write_ranks_;
  std::map<int64_t, std::string> rank_blocks_;  ///< directory_rank rows being changed, by block
  std::string now_;
};

}  // namespace voisinage
