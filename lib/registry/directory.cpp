#include "lib/registry/directory.h"

#include <algorithm>
#include <charconv>
#include <tuple>

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

// The name's words are indexed behind this private-use character (U+E000), so that a search tells a match in
// the name from one elsewhere without reading the entry. Query words are letters and digits only
// (QueryWords): they never meet a marked word by accident.
constexpr std::string_view kNameMark = "\xEE\x80\x80";

// Appends the words of folded `text` that are not stop words, each after `mark`, separated by spaces.
void AppendIndexWords(std::string_view text, std::string& out, std::string_view mark = {}) {
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
      out += mark;
      out += word;
    }
    start = end + 1;
  }
}

// What ranking needs of an entry, in a byte: directory_rank holds it for every id, packed, so that a search
// ranks thousands of matches by reading a hundred pages (SearchDirectory).
constexpr uint8_t kClosedBit = 1 << 7;       // any status but active
constexpr uint8_t kAssociationBit = 1 << 6;  // a filter, not part of the order
constexpr uint8_t kNameLengthMask = 0x3f;    // bytes of the folded name, at most 62; 63 for no name
constexpr int kRankBlockBits = 10;           // directory_rank.block = id >> 10, one byte per id

uint8_t RankCode(std::string_view kind, std::string_view status, std::string_view sort_key) {
  const size_t length =
      sort_key.empty() ? kNameLengthMask : std::min<size_t>(sort_key.size(), kNameLengthMask - 1);
  return (status == "active" ? 0 : kClosedBit) | (kind == "association" ? kAssociationBit : 0) | length;
}

// The columns of directory_entry that make an entry's search text and rank code (ReadSearchRow).
const char* const kSearchColumns =
    "id, kind, status, sort_key, name, short_name, activity_label, description, address, city";

struct SearchRow {
  int64_t id;
  uint8_t rank_code;
  std::string text;
};

SearchRow ReadSearchRow(SQLite::Statement& row) {
  DirectoryEntry e;
  e.id = row.getColumn(0).getInt64();
  e.kind = row.getColumn(1).getString();
  e.status = row.getColumn(2).getString();
  std::string sort_key = row.getColumn(3).getString();
  int i = 4;
  for (std::string* field : {&e.name, &e.short_name, &e.activity_label, &e.description, &e.address, &e.city})
    *field = row.getColumn(i++).getString();
  return {e.id, RankCode(e.kind, e.status, sort_key), e.SearchText()};
}

}  // namespace

std::string DirectoryEntry::SearchText() const {
  std::string text;
  AppendIndexWords(Fold(name), text, kNameMark);
  for (const std::string* field : {&short_name, &activity_label, &description, &address, &city})
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

namespace {

// A query's filters other than its text, as SQL conditions on `e` (directory_entry) and their values.
class EntryFilter {
 public:
  EntryFilter(Db& db, const DirectoryQuery& query) : kind_(query.kind), naf_(query.naf) {
    if (!kind_.empty()) {
      if (kind_ != "merchant" && kind_ != "association")
        throw Error(fmt::format("unknown kind '{}'", kind_), "kinds: merchant, association");
      sql_ += " AND e.kind = :kind";
    }
    if (!query.neighbourhood.empty()) {
      neighbourhood_id_ = ResolveNeighbourhood(db, query.neighbourhood).id;
      sql_ += " AND e.neighbourhood_id = :neighbourhood";
    }
    if (!naf_.empty()) {
      if (std::string normalised = NormaliseNafCode(naf_); !normalised.empty()) naf_ = normalised;
      sql_ += " AND e.activity_code = :naf";
    }
    if (!query.include_closed) sql_ += " AND e.status = 'active'";
  }

  const std::string& sql() const { return sql_; }
  void Bind(SQLite::Statement& statement) const {
    if (!kind_.empty()) statement.bind(":kind", kind_);
    if (neighbourhood_id_) statement.bind(":neighbourhood", neighbourhood_id_);
    if (!naf_.empty()) statement.bind(":naf", naf_);
  }

 private:
  std::string kind_, naf_, sql_;
  int64_t neighbourhood_id_ = 0;
};

// An entry (ReadDirectoryEntry), then its sort key, in column kSortKeyColumn.
constexpr int kSortKeyColumn = 26;
const std::string kSelectEntry = fmt::format(
    "SELECT {}, e.sort_key FROM directory_entry e LEFT JOIN neighbourhood n ON n.id = e.neighbourhood_id",
    kColumns);

std::vector<DirectoryEntry> ListDirectory(Db& db, const DirectoryQuery& query, const EntryFilter& filter) {
  SQLite::Statement statement(db.sql(), fmt::format("{} WHERE 1{} ORDER BY e.sort_key = '', e.sort_key, e.id "
                                                    "LIMIT :limit OFFSET :offset",
                                                    kSelectEntry, filter.sql()));
  filter.Bind(statement);
  statement.bind(":limit", query.limit);
  statement.bind(":offset", query.offset);
  std::vector<DirectoryEntry> entries;
  while (statement.executeStep()) entries.push_back(ReadDirectoryEntry(statement));
  return entries;
}

// The ids of the entries that match an FTS5 query, in ascending order (the index's rowids are the ids).
std::vector<int64_t> MatchingIds(Db& db, const std::string& match) {
  SQLite::Statement statement(
      db.sql(), "SELECT rowid FROM directory_search WHERE directory_search MATCH ? ORDER BY rowid");
  statement.bind(1, match);
  std::vector<int64_t> ids;
  while (statement.executeStep()) ids.push_back(statement.getColumn(0).getInt64());
  return ids;
}

// A match of a search, as the index and directory_rank know it.
struct Candidate {
  int64_t id = 0;
  uint8_t rank_code = 0;  // RankCode()
  int name_words = 0;     // query words that start a word of the name

  // The order known before reading the entry: more words in the name, active before closed, shorter names.
  std::tuple<int, int, int> Rank() const {
    return {-name_words, rank_code & kClosedBit, rank_code & kNameLengthMask};
  }
};

// The entries that match an FTS5 query, each with its rank code, in the order of their ids.
std::vector<Candidate> Candidates(Db& db, const std::string& match) {
  std::vector<Candidate> candidates;
  for (int64_t id : MatchingIds(db, match)) candidates.push_back({id});
  if (candidates.empty()) return candidates;
  // One pass over the blocks that hold them: thousands of matches read a hundred pages.
  SQLite::Statement blocks(
      db.sql(), "SELECT block, codes FROM directory_rank WHERE block BETWEEN ? AND ? ORDER BY block");
  blocks.bind(1, candidates.front().id >> kRankBlockBits);
  blocks.bind(2, candidates.back().id >> kRankBlockBits);
  bool more = blocks.executeStep();
  for (Candidate& candidate : candidates) {
    const int64_t block = candidate.id >> kRankBlockBits;
    while (more && blocks.getColumn(0).getInt64() < block) more = blocks.executeStep();
    if (!more || blocks.getColumn(0).getInt64() != block) continue;
    const SQLite::Column codes = blocks.getColumn(1);
    if (size_t offset = candidate.id & ((1 << kRankBlockBits) - 1);
        offset < static_cast<size_t>(codes.getBytes()))
      candidate.rank_code = static_cast<const uint8_t*>(codes.getBlob())[offset];
  }
  return candidates;
}

struct RankedEntry {
  Candidate candidate;
  std::string sort_key;
  DirectoryEntry entry;
};

// Ranks every match from the index, then reads only the entries that can be on the requested page: those
// ranked before it, and all of the page's last rank, whose order needs their names.
std::vector<DirectoryEntry> RankedSearch(Db& db, const DirectoryQuery& query, const EntryFilter& filter,
                                         const std::vector<std::string>& words) {
  // Each word begins a word of the name or of the rest of the text. Words are letters and digits only.
  std::string match;
  for (const std::string& word : words)
    match += fmt::format("{}(\"{}\"* OR \"{}{}\"*)", match.empty() ? "" : " AND ", word, kNameMark, word);
  std::vector<Candidate> candidates = Candidates(db, match);
  // What the rank byte tells is filtered here, before any entry is read; reading checks every filter again.
  std::erase_if(candidates, [&](const Candidate& c) {
    return (!query.include_closed && (c.rank_code & kClosedBit)) ||
           (!query.kind.empty() && ((c.rank_code & kAssociationBit) != 0) != (query.kind == "association"));
  });
  for (const std::string& word : words) {
    std::vector<int64_t> in_name = MatchingIds(db, fmt::format("\"{}{}\"*", kNameMark, word));
    auto next = in_name.begin();
    for (Candidate& candidate : candidates) {  // both in the order of ids
      while (next != in_name.end() && *next < candidate.id) ++next;
      if (next != in_name.end() && *next == candidate.id) ++candidate.name_words;
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::pair(a.Rank(), a.id) < std::pair(b.Rank(), b.id);
  });

  const size_t wanted = static_cast<size_t>(std::max(query.offset, 0)) + std::max(query.limit, 0);
  SQLite::Statement read(db.sql(), fmt::format("{} WHERE e.id = :id{}", kSelectEntry, filter.sql()));
  filter.Bind(read);
  std::vector<RankedEntry> found;
  for (const Candidate& candidate : candidates) {
    if (found.size() >= wanted && (wanted == 0 || candidate.Rank() != found[wanted - 1].candidate.Rank()))
      break;
    read.reset();
    read.bind(":id", candidate.id);
    if (!read.executeStep()) continue;  // filtered out
    std::string sort_key = read.getColumn(kSortKeyColumn).getString();
    found.push_back({candidate, std::move(sort_key), ReadDirectoryEntry(read)});
  }
  std::sort(found.begin(), found.end(), [](const RankedEntry& a, const RankedEntry& b) {
    return std::forward_as_tuple(a.candidate.Rank(), a.sort_key.size(), a.sort_key, a.entry.id) <
           std::forward_as_tuple(b.candidate.Rank(), b.sort_key.size(), b.sort_key, b.entry.id);
  });
  std::vector<DirectoryEntry> entries;
  for (size_t i = std::max(query.offset, 0); i < found.size() && i < wanted; ++i)
    entries.push_back(std::move(found[i].entry));
  return entries;
}

}  // namespace

std::vector<DirectoryEntry> SearchDirectory(Db& db, const DirectoryQuery& query) {
  EntryFilter filter(db, query);
  if (query.text.empty()) return ListDirectory(db, query, filter);
  std::vector<std::string> words = QueryWords(query.text);
  if (words.empty())
    throw Error(fmt::format("nothing to search in '{}'", query.text),
                "give at least one word; very common words such as 'de' or 'la' are not searched");
  return RankedSearch(db, query, filter, words);
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

DirectoryWriter::DirectoryWriter(SQLite::Database& sql)
    : sql_(sql),
      find_(sql, "SELECT id, content_hash, status FROM directory_entry WHERE kind = ? AND registry_key = ?"),
      insert_(sql,
              fmt::format("INSERT INTO directory_entry ({}, first_import_id, created_at) VALUES "
                          "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,"
                          "?23,?24,?25,?26,?25,?26) ON CONFLICT (kind, registry_key) DO NOTHING",
                          kFields)),
      update_(sql,
              fmt::format("UPDATE directory_entry SET ({}) = (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
                          "?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26) WHERE id = ?27",
                          kFields)),
      indexed_(sql, fmt::format("SELECT {} FROM directory_entry WHERE id = ?", kSearchColumns)),
      unindex_(sql, "INSERT INTO directory_search (directory_search, rowid, text) VALUES ('delete', ?, ?)"),
      index_(sql, "INSERT INTO directory_search (rowid, text) VALUES (?, ?)"),
      read_ranks_(sql, "SELECT codes FROM directory_rank WHERE block = ?"),
      write_ranks_(sql, "INSERT OR REPLACE INTO directory_rank (block, codes) VALUES (?, ?)"),
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
  const DirectoryEntry& e = entry.entry;
  Index(sql_.getLastInsertRowid(), RankCode(e.kind, e.status, entry.sort_key), entry.search_text);
  return true;
}

void DirectoryWriter::Update(int64_t id, const PreparedEntry& entry, int64_t import_id) {
  // The contentless index removes a row given the text it indexed: recompute it from the row as stored.
  indexed_.reset();
  indexed_.bind(1, id);
  if (!indexed_.executeStep()) throw Error(fmt::format("directory entry {} vanished during the import", id));
  const std::string old_text = ReadSearchRow(indexed_).text;
  indexed_.reset();
  unindex_.reset();
  unindex_.bind(1, id);
  unindex_.bind(2, old_text);
  unindex_.exec();

  update_.reset();
  Bind(update_, entry, import_id);
  update_.bind(27, id);
  update_.exec();
  const DirectoryEntry& e = entry.entry;
  Index(id, RankCode(e.kind, e.status, entry.sort_key), entry.search_text);
}

void DirectoryWriter::Index(int64_t id, uint8_t rank_code, const std::string& text) {
  index_.reset();
  index_.bind(1, id);
  index_.bindNoCopy(2, text);
  index_.exec();
  SetRankCode(id, rank_code);
}

void DirectoryWriter::SetRankCode(int64_t id, uint8_t code) {
  const int64_t block = id >> kRankBlockBits;
  auto it = rank_blocks_.find(block);
  if (it == rank_blocks_.end()) {
    if (rank_blocks_.size() >= 1024) Finish();  // 1 MB at most
    read_ranks_.reset();
    read_ranks_.bind(1, block);
    std::string codes = read_ranks_.executeStep() ? read_ranks_.getColumn(0).getString() : std::string();
    read_ranks_.reset();
    codes.resize(1 << kRankBlockBits);
    it = rank_blocks_.emplace(block, std::move(codes)).first;
  }
  it->second[id & ((1 << kRankBlockBits) - 1)] = static_cast<char>(code);
}

void DirectoryWriter::Finish() {
  for (const auto& [block, codes] : rank_blocks_) {
    write_ranks_.reset();
    write_ranks_.bind(1, block);
    write_ranks_.bindNoCopy(2, codes.data(), static_cast<int>(codes.size()));
    write_ranks_.exec();
  }
  rank_blocks_.clear();
}

void DirectoryWriter::IndexAll(SQLite::Database& sql) {
  DirectoryWriter writer(sql);
  SQLite::Statement entries(sql, fmt::format("SELECT {} FROM directory_entry ORDER BY id", kSearchColumns));
  while (entries.executeStep()) {
    SearchRow row = ReadSearchRow(entries);
    writer.Index(row.id, row.rank_code, row.text);
  }
  writer.Finish();
}

}  // namespace voisinage
