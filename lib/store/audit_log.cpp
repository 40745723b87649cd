#include "lib/store/audit_log.h"

#include <sodium.h>

#include "lib/clock.h"
#include "lib/error.h"

namespace voisinage {

using nlohmann::json;

namespace {

constexpr const char* kGenesis = "0000000000000000000000000000000000000000000000000000000000000000";

// The hash covers the previous hash and every field, each length-prefixed so no two entries can collide by
// moving text from one field to the next.
std::string Hash(const std::string& prev_hash, const AuditEntry& e, const std::string& details) {
  if (sodium_init() < 0) throw Error("cannot initialise libsodium");
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  for (const std::string* field : {&prev_hash, &e.at, &e.actor, &e.action, &e.target, &e.reason, &details}) {
    const std::string length = std::to_string(field->size()) + ":";
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(length.data()), length.size());
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(field->data()), field->size());
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

// Every field but the details, which are left as stored text in `details`: hashing needs them as stored,
// and a million entries verify in seconds without parsing them.
AuditEntry ReadUnparsed(SQLite::Statement& row, std::string& details) {
  AuditEntry e;
  e.id = row.getColumn(0).getInt64();
  e.at = row.getColumn(1).getString();
  e.actor = row.getColumn(2).getString();
  e.action = row.getColumn(3).getString();
  e.target = row.getColumn(4).getString();
  e.reason = row.getColumn(5).getString();
  details = row.getColumn(6).getString();
  e.prev_hash = row.getColumn(7).getString();
  e.hash = row.getColumn(8).getString();
  return e;
}

AuditEntry ReadAuditEntry(SQLite::Statement& row) {
  std::string details;
  AuditEntry e = ReadUnparsed(row, details);
  e.details = json::parse(details, nullptr, false);
  return e;
}

const char* const kSelectAuditEntry =
    "SELECT id, at, actor, action, target, reason, details, prev_hash, hash FROM audit_log";

}  // namespace

AuditEntry AppendAudit(Db& db, const std::string& actor, const std::string& action, const std::string& target,
                       const std::string& reason, const json& details) {
  AuditEntry entry;
  entry.at = NowIso();
  entry.actor = actor;
  entry.action = action;
  entry.target = target;
  entry.reason = reason;
  entry.details = details.is_null() ? json::object() : details;
  SQLite::Statement last(db.sql(), "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1");
  entry.prev_hash = last.executeStep() ? last.getColumn(0).getString() : kGenesis;
  const std::string details_text = entry.details.dump();
  entry.hash = Hash(entry.prev_hash, entry, details_text);
  SQLite::Statement insert(
      db.sql(),
      "INSERT INTO audit_log (at, actor, action, target, reason, details, prev_hash, hash) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  int i = 1;
  for (const std::string* field : {&entry.at, &entry.actor, &entry.action, &entry.target, &entry.reason})
    insert.bind(i++, *field);
  insert.bind(i++, details_text);
  insert.bind(i++, entry.prev_hash);
  insert.bind(i++, entry.hash);
  insert.exec();
  entry.id = db.sql().getLastInsertRowid();
  return entry;
}

std::vector<AuditEntry> ListAudit(Db& db, const AuditFilter& filter) {
  // The newest `limit` entries, shown oldest first.
  std::string sql = "SELECT * FROM (" + std::string(kSelectAuditEntry) + " WHERE 1";
  if (!filter.since.empty()) sql += " AND at >= :since";
  if (!filter.actor.empty()) sql += " AND actor = :actor";
  if (!filter.target.empty()) sql += " AND target = :target";
  sql += " ORDER BY id DESC LIMIT :limit) ORDER BY id";
  SQLite::Statement query(db.sql(), sql);
  if (!filter.since.empty()) query.bind(":since", FormatIso(ParseIso(filter.since)));
  if (!filter.actor.empty()) query.bind(":actor", filter.actor);
  if (!filter.target.empty()) query.bind(":target", filter.target);
  query.bind(":limit", filter.limit);
  std::vector<AuditEntry> entries;
  while (query.executeStep()) entries.push_back(ReadAuditEntry(query));
  return entries;
}

std::optional<AuditBreak> VerifyAudit(Db& db, int64_t* checked) {
  SQLite::Statement query(db.sql(), std::string(kSelectAuditEntry) + " ORDER BY id");
  std::string expected_prev = kGenesis;
  int64_t count = 0;
  std::string details;
  while (query.executeStep()) {
    const AuditEntry e = ReadUnparsed(query, details);
    ++count;
    if (checked) *checked = count;
    if (e.prev_hash != expected_prev)
      return AuditBreak{e.id, "its link to the previous entry is broken (an entry was removed or inserted)"};
    if (Hash(e.prev_hash, e, details) != e.hash)
      return AuditBreak{e.id, "its content does not match its hash (the entry was altered)"};
    expected_prev = e.hash;
  }
  if (checked) *checked = count;
  return std::nullopt;
}

int64_t RewriteAuditEntries(Db& db, const std::vector<int64_t>& ids,
                            const std::function<bool(AuditEntry&)>& rewrite) {
  // The triggers that make the log append-only are dropped and recreated from their own text, inside the
  // caller's transaction: other connections never see the log without them.
  std::vector<std::pair<std::string, std::string>> triggers;
  SQLite::Statement list(
      db.sql(), "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'");
  while (list.executeStep())
    triggers.emplace_back(list.getColumn(0).getString(), list.getColumn(1).getString());
  for (const auto& [name, sql] : triggers) db.sql().exec(fmt::format("DROP TRIGGER \"{}\"", name));

  int64_t changed = 0, first = 0;
  SQLite::Statement read(db.sql(), std::string(kSelectAuditEntry) + " WHERE id = ?");
  SQLite::Statement update(
      db.sql(), "UPDATE audit_log SET actor = ?, target = ?, reason = ?, details = ? WHERE id = ?");
  for (int64_t id : ids) {
    read.bind(1, id);
    if (!read.executeStep()) {
      read.reset();
      continue;
    }
    AuditEntry entry = ReadAuditEntry(read);
    read.reset();
    if (!rewrite(entry)) continue;
    update.bind(1, entry.actor);
    update.bind(2, entry.target);
    update.bind(3, entry.reason);
    update.bind(4, entry.details.dump());
    update.bind(5, id);
    update.exec();
    update.reset();
    ++changed;
    if (first == 0 || id < first) first = id;
  }

  if (changed > 0) {
    // Re-seal: every entry from the first one changed gets the hash of its new content and its new
    // predecessor. Read in pages by id, so the rows being updated are never those being read.
    SQLite::Statement previous(db.sql(), "SELECT hash FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT 1");
    previous.bind(1, first);
    std::string prev_hash = previous.executeStep() ? previous.getColumn(0).getString() : kGenesis;
    SQLite::Statement page(db.sql(),
                           std::string(kSelectAuditEntry) + " WHERE id >= ? ORDER BY id LIMIT 1000");
    SQLite::Statement seal(db.sql(), "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?");
    for (int64_t from = first;;) {
      std::vector<std::pair<AuditEntry, std::string>> entries;  // with the details as stored
      page.bind(1, from);
      while (page.executeStep()) {
        std::string details;
        AuditEntry e = ReadUnparsed(page, details);
        entries.emplace_back(std::move(e), std::move(details));
      }
      page.reset();
      if (entries.empty()) break;
      for (auto& [e, details] : entries) {
        const std::string hash = Hash(prev_hash, e, details);
        if (e.prev_hash != prev_hash || e.hash != hash) {
          seal.bind(1, prev_hash);
          seal.bind(2, hash);
          seal.bind(3, e.id);
          seal.exec();
          seal.reset();
        }
        prev_hash = hash;
        from = e.id + 1;
      }
    }
  }
  for (const auto& [name, sql] : triggers) db.sql().exec(sql);
  return changed;
}

json ToJson(const AuditEntry& e) {
  return {{"id", e.id},           {"at", e.at},         {"actor", e.actor},
          {"action", e.action},   {"target", e.target}, {"reason", e.reason},
          {"details", e.details}, {"hash", e.hash},     {"prev_hash", e.prev_hash}};
}

}  // namespace voisinage
