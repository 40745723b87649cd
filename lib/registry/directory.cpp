#include "lib/registry/directory.h"

#include <charconv>

#include <utf8proc.h>

#include "lib/clock.h"
#include "lib/registry/naf.h"
#include "lib/text/fold.h"
#include "lib/town/neighbourhood.h"

namespace voisinage {

using nlohmann::json;

uint64_t DirectoryEntry::ContentHash() const {
  // FNV-1a over the imported fields, each followed by a separator byte.
  uint64_t hash = 1469598103934665603ull;
  auto add = [&hash](std::string_view bytes) {
    for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ull;
    hash = (hash ^ 0x1f) * 1099511628211ull;
  };
  for (const std::string* field :
       {&kind, &registry_key, &source, &name, &short_name, &activity_code, &activity_label, &description,
        &address, &postcode, &city, &insee, &website, &phone, &email, &created_on, &declared_on,
        &dissolved_on, &status})
    add(*field);
  const double position[2] = {lat.value_or(1000), lon.value_or(1000)};
  add(std::string_view(reinterpret_cast<const char*>(position), sizeof position));
  add(std::string_view(reinterpret_cast<const char*>(&neighbourhood_id), sizeof neighbourhood_id));
  return hash;
}

namespace {

// French words too common to search for: left out of the index (a third of an address or an object's
// words) and out of queries.
bool IsStopWord(std::string_view word) {
  static constexpr std::string_view kStopWords[] = {"a",    "au",  "aux", "d",   "de",  "des", "du", "en",
                                                    "et",   "l",   "la",  "le",  "les", "n",   "ou", "par",
                                                    "pour", "sur", "un",  "une", "s",   "the", "of", "and"};
  for (std::string_view stop : kStopWords)
    if (word == stop) return true;
  return false;
}

// Appends the words of folded `text` that are not stop words, separated by spaces.
void AppendIndexWords(std::string_view text, std::string& out) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = start;
    // ASCII punctuation and spaces separate words; other bytes belong to them (the tokenizer decides).
    while (end < text.size() && (static_cast<unsigned char>(text[end]) >= 0x80 ||
                                 std::isalnum(static_cast<unsigned char>(text[end]))))
      ++end;
    std::string_view word = text.substr(start, end - start);
    if (!word.empty() && !IsStopWord(word)) {
      if (!out.empty()) out += ' ';
      out += word;
    }
    start = end + 1;
  }
}

}  // namespace

std::string DirectoryEntry::SearchText() const {
  std::string text;
  for (const std::string* field : {&name, &short_name, &activity_label, &description, &address, &city})
    if (!field->empty()) AppendIndexWords(Fold(*field), text);
  return text;
}

PreparedEntry Prepare(DirectoryEntry entry) {
  PreparedEntry prepared;
  prepared.content_hash = entry.ContentHash();
  prepared.sort_key = Fold(entry.name);
  prepared.search_text = entry.SearchText();
  prepared.entry = std::move(entry);
  return prepared;
}

namespace {

const char* const kColumns =
    "e.id, e.kind, e.registry_key, e.source, e.name, e.short_name, e.activity_code, e.activity_label, "
    "e.description, e.address, e.postcode, e.city, e.insee, e.lat, e.lon, e.website, e.phone, e.email, "
    "e.created_on, e.declared_on, e.dissolved_on, e.status, coalesce(e.neighbourhood_id, 0), "
    "coalesce(n.slug, ''), "
    "e.created_at, e.updated_at";

DirectoryEntry ReadDirectoryEntry(SQLite::Statement& row) {
  DirectoryEntry e;
  int i = 0;
  e.id = row.getColumn(i++).getInt64();
  for (std::string* field : {&e.kind, &e.registry_key, &e.source, &e.name, &e.short_name, &e.activity_code,
                             &e.activity_label, &e.description, &e.address, &e.postcode, &e.city, &e.insee})
    *field = row.getColumn(i++).getString();
  if (!row.getColumn(i).isNull()) e.lat = row.getColumn(i).getDouble();
  ++i;
  if (!row.getColumn(i).isNull()) e.lon = row.getColumn(i).getDouble();
  ++i;
  for (std::string* field :
       {&e.website, &e.phone, &e.email, &e.created_on, &e.declared_on, &e.dissolved_on, &e.status})
    *field = row.getColumn(i++).getString();
  e.neighbourhood_id = row.getColumn(i++).getInt64();
  e.neighbourhood = row.getColumn(i++).getString();
  e.created_at = row.getColumn(i++).getString();
  e.updated_at = row.getColumn(i++).getString();
  return e;
}

// The words of a query, folded: "L'Épicerie fine" → {"l", "epicerie", "fine"}.
std::vector<std::string> QueryWords(const std::string& text) {
  std::string folded = Fold(text), word;
  std::vector<std::string> words;
  auto flush = [&] {
    if (!word.empty() && !IsStopWord(word)) words.push_back(word);
    word.clear();
  };
  // Words are runs of letters and digits; everything else (quotes, operators, punctuation) separates them, so
  // no user text reaches FTS5's query syntax.
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(folded.data());
  const auto* end = p + folded.size();
  while (p < end) {
    utf8proc_int32_t codepoint = 0;
    utf8proc_ssize_t length = utf8proc_iterate(p, end - p, &codepoint);
    if (length <= 0) {
      ++p;
      flush();
      continue;
    }
    utf8proc_category_t category = utf8proc_category(codepoint);
    bool letter = (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) ||
                  (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO);
    if (letter)
      word.append(reinterpret_cast<const char*>(p), length);
    else
      flush();
    p += length;
  }
  flush();
  return words;  // a query of stop words only ("de la") searches nothing
}

}  // namespace

std::vector<DirectoryEntry> SearchDirectory(Db& db, const DirectoryQuery& query) {
  std::string sql = fmt::format(
      "SELECT {} FROM directory_entry e LEFT JOIN neighbourhood n ON n.id = e.neighbourhood_id", kColumns);
  // Every word must start a word of the entry's text ("boul" finds BOULANGERIE). Matches whose name has more
  // of the words come first, then shorter names.
  std::string match, rank;
  std::vector<std::string> words;
  if (!query.text.empty()) {
    words = QueryWords(query.text);
    if (words.empty())
      throw Error(fmt::format("nothing to search in '{}'", query.text),
                  "give at least one word; very common words such as 'de' or 'la' are not searched");
    for (size_t i = 0; i < words.size(); ++i) {
      match += fmt::format("{}\"{}\"*", i ? " " : "", words[i]);  // only letters and digits: no FTS5 syntax
      rank += fmt::format("{}((' ' || e.sort_key) LIKE :word{})", i ? " + " : "", i);
    }
    sql += " JOIN directory_search s ON s.rowid = e.id AND directory_search MATCH :match";
  }
  sql += " WHERE 1";
  if (!query.kind.empty()) {
    if (query.kind != "merchant" && query.kind != "association")
      throw Error(fmt::format("unknown kind '{}'", query.kind), "kinds: merchant, association");
    sql += " AND e.kind = :kind";
  }
  int64_t neighbourhood_id = 0;
  if (!query.neighbourhood.empty()) {
    neighbourhood_id = ResolveNeighbourhood(db, query.neighbourhood).id;
    sql += " AND e.neighbourhood_id = :neighbourhood";
  }
  std::string naf = query.naf;
  if (!naf.empty()) {
    if (std::string normalised = NormaliseNafCode(naf); !normalised.empty()) naf = normalised;
    sql += " AND e.activity_code = :naf";
  }
  if (!query.include_closed) sql += " AND e.status = 'active'";
  sql += match.empty() ? " ORDER BY e.sort_key = '', e.sort_key, e.id"
                       : " ORDER BY " + rank + " DESC, length(e.sort_key), e.sort_key, e.id";
  sql += " LIMIT :limit OFFSET :offset";
  SQLite::Statement statement(db.sql(), sql);
  if (!match.empty()) statement.bind(":match", match);
  for (size_t i = 0; i < words.size(); ++i) statement.bind(fmt::format(":word{}", i), "% " + words[i] + "%");
  if (!query.kind.empty()) statement.bind(":kind", query.kind);
  if (neighbourhood_id) statement.bind(":neighbourhood", neighbourhood_id);
  if (!naf.empty()) statement.bind(":naf", naf);
  statement.bind(":limit", query.limit);
  statement.bind(":offset", query.offset);
  std::vector<DirectoryEntry> entries;
  while (statement.executeStep()) entries.push_back(ReadDirectoryEntry(statement));
  return entries;
}

DirectoryEntry GetDirectoryEntry(Db& db, const std::string& ref) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
  bool numeric_id = ec == std::errc() && end == ref.data() + ref.size() && ref.size() < 14;
  SQLite::Statement statement(
      db.sql(),
      fmt::format("SELECT {} FROM directory_entry e LEFT JOIN neighbourhood n ON n.id = e.neighbourhood_id "
                  "WHERE {} ORDER BY e.kind LIMIT 1",
                  kColumns, numeric_id ? "e.id = ?" : "e.registry_key = ?"));
  if (numeric_id)
    statement.bind(1, id);
  else
    statement.bind(1, ref);
  if (!statement.executeStep())
    throw Error(fmt::format("no directory entry '{}'", ref), "give an id, a SIRET or an RNA number (W...)");
  return ReadDirectoryEntry(statement);
}

json ToJson(const DirectoryEntry& e) {
  auto optional = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return {{"id", e.id},
          {"kind", e.kind},
          {"registry_key", e.registry_key},
          {"source", e.source},
          {"name", optional(e.name)},
          {"short_name", optional(e.short_name)},
          {"activity_code", optional(e.activity_code)},
          {"activity_label", optional(e.activity_label)},
          {"description", optional(e.description)},
          {"address", optional(e.address)},
          {"postcode", optional(e.postcode)},
          {"city", optional(e.city)},
          {"insee", optional(e.insee)},
          {"lat", e.lat ? json(*e.lat) : json(nullptr)},
          {"lon", e.lon ? json(*e.lon) : json(nullptr)},
          {"website", optional(e.website)},
          {"phone", optional(e.phone)},
          {"email", optional(e.email)},
          {"created_on", optional(e.created_on)},
          {"declared_on", optional(e.declared_on)},
          {"dissolved_on", optional(e.dissolved_on)},
          {"status", e.status},
          {"neighbourhood", optional(e.neighbourhood)},
          {"created_at", e.created_at},
          {"updated_at", e.updated_at}};
}

namespace {

const char* const kFields =
    "kind, registry_key, source, name, sort_key, short_name, activity_code, activity_label, description, "
    "address, postcode, "
    "city, insee, lat, lon, website, phone, email, created_on, declared_on, dissolved_on, status, "
    "neighbourhood_id, "
    "content_hash, last_import_id, updated_at";

}  // namespace

DirectoryWriter::DirectoryWriter(Db& db)
    : db_(db),
      find_(db.sql(),
            "SELECT id, content_hash, status FROM directory_entry WHERE kind = ? AND registry_key = ?"),
      insert_(db.sql(),
              fmt::format("INSERT INTO directory_entry ({}, first_import_id, created_at) VALUES "
                          "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,"
                          "?23,?24,?25,?26,?25,?26) ON CONFLICT (kind, registry_key) DO NOTHING",
                          kFields)),
      update_(db.sql(),
              fmt::format("UPDATE directory_entry SET ({}) = (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
                          "?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26) WHERE id = ?27",
                          kFields)),
      indexed_(db.sql(),
               "SELECT name, short_name, activity_label, description, address, city FROM directory_entry "
               "WHERE id = ?"),
      unindex_(db.sql(),
               "INSERT INTO directory_search (directory_search, rowid, text) VALUES ('delete', ?, ?)"),
      index_(db.sql(), "INSERT INTO directory_search (rowid, text) VALUES (?, ?)"),
      now_(NowIso()) {}

std::optional<DirectoryWriter::Existing> DirectoryWriter::Find(const std::string& kind,
                                                               const std::string& key) {
  find_.reset();
  find_.bindNoCopy(1, kind);
  find_.bindNoCopy(2, key);
  if (!find_.executeStep()) return std::nullopt;
  Existing existing{find_.getColumn(0).getInt64(), static_cast<uint64_t>(find_.getColumn(1).getInt64()),
                    find_.getColumn(2).getString()};
  find_.reset();  // a statement left on a row would keep the import's read snapshot open
  return existing;
}

void DirectoryWriter::Bind(SQLite::Statement& s, const PreparedEntry& prepared, int64_t import_id) {
  const DirectoryEntry& e = prepared.entry;
  int i = 1;
  // The entry outlives the statement's execution: bind without copying.
  for (const std::string* field :
       {&e.kind, &e.registry_key, &e.source, &e.name, &prepared.sort_key, &e.short_name, &e.activity_code,
        &e.activity_label, &e.description, &e.address, &e.postcode, &e.city, &e.insee})
    s.bindNoCopy(i++, *field);
  if (e.lat)
    s.bind(i, *e.lat);
  else
    s.bind(i);
  ++i;
  if (e.lon)
    s.bind(i, *e.lon);
  else
    s.bind(i);
  ++i;
  for (const std::string* field :
       {&e.website, &e.phone, &e.email, &e.created_on, &e.declared_on, &e.dissolved_on, &e.status})
    s.bindNoCopy(i++, *field);
  if (e.neighbourhood_id)
    s.bind(i, e.neighbourhood_id);
  else
    s.bind(i);
  ++i;
  s.bind(i++, static_cast<int64_t>(prepared.content_hash));
  s.bind(i++, import_id);
  s.bindNoCopy(i++, now_);
}

bool DirectoryWriter::InsertNew(const PreparedEntry& entry, int64_t import_id) {
  insert_.reset();
  Bind(insert_, entry, import_id);
  if (insert_.exec() == 0) return false;
  Index(db_.sql().getLastInsertRowid(), entry);
  return true;
}

void DirectoryWriter::Update(int64_t id, const PreparedEntry& entry, int64_t import_id) {
  // The contentless index removes a row given the text it indexed: recompute it from the row as stored.
  indexed_.reset();
  indexed_.bind(1, id);
  if (!indexed_.executeStep()) throw Error(fmt::format("directory entry {} vanished during the import", id));
  DirectoryEntry old;
  int i = 0;
  for (std::string* field :
       {&old.name, &old.short_name, &old.activity_label, &old.description, &old.address, &old.city})
    *field = indexed_.getColumn(i++).getString();
  indexed_.reset();
  unindex_.reset();
  unindex_.bind(1, id);
  unindex_.bind(2, old.SearchText());
  unindex_.exec();

  update_.reset();
  Bind(update_, entry, import_id);
  update_.bind(27, id);
  update_.exec();
  Index(id, entry);
}

void DirectoryWriter::Index(int64_t id, const PreparedEntry& entry) {
  index_.reset();
  index_.bind(1, id);
  index_.bindNoCopy(2, entry.search_text);
  index_.exec();
}

}  // namespace voisinage
