#include "lib/privacy/member_data.h"

#include <algorithm>
#include <map>
#include <set>

#include "lib/clock.h"
#include "lib/privacy/scrub.h"
#include "lib/store/audit_log.h"
#include "lib/store/secret.h"
#include "lib/town/member.h"

namespace voisinage {

using nlohmann::json;

namespace {

// The web pages' sessions (migration 6): metadata exported, rows erased.
constexpr const char* kSessionTable = "web_session";

// Integer columns holding booleans in the exported rows.
const std::set<std::string> kBoolColumns = {"locked", "good_faith", "automated", "reported", "following"};

bool TableHasColumn(Db& db, const std::string& table, const std::string& column) {
  SQLite::Statement query(db.sql(), "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
  query.bind(1, table);
  query.bind(2, column);
  return query.executeStep();
}

// Binds ?1 to the member's id and, when the query has it, ?2 to their e-mail address.
void BindMember(SQLite::Statement& query, int64_t member_id, const std::string& email) {
  query.bind(1, member_id);
  if (query.getBindParameterCount() >= 2) query.bind(2, email);
}

// The rows of `sql` as objects keyed by column name; `json_column` holds JSON text, exported as JSON.
json Rows(Db& db, const std::string& sql, int64_t member_id, const std::string& email = "",
          const std::string& json_column = "") {
  SQLite::Statement query(db.sql(), sql);
  BindMember(query, member_id, email);
  json rows = json::array();
  while (query.executeStep()) {
    json row = json::object();
    for (int i = 0; i < query.getColumnCount(); ++i) {
      const SQLite::Column column = query.getColumn(i);
      const std::string name = query.getColumnName(i);
      if (column.isNull())
        row[name] = nullptr;
      else if (column.isInteger())
        row[name] = kBoolColumns.count(name) ? json(column.getInt64() != 0) : json(column.getInt64());
      else if (column.isFloat())
        row[name] = column.getDouble();
      else if (name == json_column)
        row[name] = json::parse(column.getString(), nullptr, false);
      else
        row[name] = column.getString();
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// Every column of a table that may not exist yet, but those that hold a secret or its hash.
json MetadataRows(Db& db, const std::string& table, int64_t member_id) {
  if (!TableHasColumn(db, table, "member_id")) return json::array();
  std::vector<std::string> columns;
  SQLite::Statement info(db.sql(), "SELECT name FROM pragma_table_info(?) ORDER BY cid");
  info.bind(1, table);
  while (info.executeStep()) {
    std::string name = info.getColumn(0).getString();
    if (name.find("hash") == std::string::npos && name.find("secret") == std::string::npos && name != "token")
      columns.push_back("\"" + name + "\"");
  }
  return Rows(db,
              fmt::format("SELECT {} FROM \"{}\" WHERE member_id = ?1 ORDER BY rowid",
                          fmt::join(columns, ", "), table),
              member_id);
}

}  // namespace

json ExportMemberData(Db& db, const std::string& ref) {
  const Member member = FindMember(db, ref);
  const int64_t id = member.id;
  const std::string& email = member.email;
  json out = {{"export_version", kMemberExportVersion}, {"generated_at", NowIso()}};
  SQLite::Statement town(db.sql(), "SELECT name, insee FROM town");
  out["town"] = town.executeStep()
                    ? json{{"name", town.getColumn(0).getString()}, {"insee", town.getColumn(1).getString()}}
                    : json(nullptr);
  out["member"] = ToJson(member);
  json invitation = Rows(db, R"sql(
    SELECT i.id, n.slug AS neighbourhood, i.created_at, i.expires_at, i.used_at
    FROM invitation i JOIN neighbourhood n ON n.id = i.neighbourhood_id WHERE i.used_by = ?1)sql",
                         id);
  out["invitation"] = invitation.empty() ? json(nullptr) : invitation[0];
  const char* const posts = R"sql(
    SELECT p.id, n.slug AS neighbourhood, p.parent_id, p.kind, p.subkind, p.title, p.body, p.event_at,
           p.event_place, p.status, p.locked, p.created_at, p.updated_at
    FROM post p JOIN neighbourhood n ON n.id = p.neighbourhood_id
    WHERE p.author_id = ?1 AND p.parent_id IS {} NULL ORDER BY p.id)sql";
  out["posts"] = Rows(db, fmt::format(fmt::runtime(posts), ""), id);
  out["replies"] = Rows(db, fmt::format(fmt::runtime(posts), "NOT"), id);
  out["reports_made"] = Rows(db, R"sql(
    SELECT r.id, c.target_type, c.target_id, r.reason, r.details, r.notifier_name, r.notifier_email,
           r.good_faith, r.outcome, r.created_at
    FROM report r JOIN moderation_case c ON c.id = r.case_id WHERE r.reporter_id = ?1 ORDER BY r.id)sql",
                             id);
  // Contact data is the member's own only on the grievances they reported or gave their e-mail for.
  out["grievances"] = Rows(db, R"sql(
    WITH mine AS (
      SELECT g.*, (g.reporter_id IS ?1 OR (?2 != '' AND g.contact_email = ?2 COLLATE NOCASE)) AS own
      FROM grievance g
      WHERE g.reporter_id = ?1 OR (?2 != '' AND g.contact_email = ?2 COLLATE NOCASE)
         OR g.id IN (SELECT grievance_id FROM grievance_follower WHERE member_id = ?1))
    SELECT g.reference, c.code AS category, g.title, g.description, g.address, g.postcode, g.lat, g.lon,
           n.slug AS neighbourhood, g.channel, g.status, g.own AS reported,
           EXISTS (SELECT 1 FROM grievance_follower f WHERE f.grievance_id = g.id AND f.member_id = ?1)
             AS following,
           CASE WHEN g.own THEN g.contact_name END AS contact_name,
           CASE WHEN g.own THEN g.contact_email END AS contact_email,
           CASE WHEN g.own THEN g.contact_phone END AS contact_phone,
           g.created_at, g.acknowledged_at, g.resolved_at, g.closed_at
    FROM mine g JOIN grievance_category c ON c.id = g.category_id
    LEFT JOIN neighbourhood n ON n.id = g.neighbourhood_id ORDER BY g.id)sql",
                           id, email);
  out["decisions"] = Rows(db, R"sql(
    SELECT d.id, d.target_type, d.target_id, d.action, d.reason, d.note, d.automated, d.until, d.statement,
           d.undone_at, d.created_at
    FROM decision d
    WHERE (d.target_type = 'member' AND d.target_id = ?1)
       OR (d.target_type = 'post' AND d.target_id IN (SELECT id FROM post WHERE author_id = ?1))
    ORDER BY d.id)sql",
                          id, "", "statement");
  out["restrictions"] = Rows(db, R"sql(
    SELECT kind, decision_id, starts_at, until, lifted_at FROM restriction WHERE member_id = ?1 ORDER BY id)sql",
                             id);
  out["appeals"] = Rows(db, R"sql(
    SELECT id, decision_id, text, status, decided_at, decision_note, created_at
    FROM appeal WHERE appellant_id = ?1 ORDER BY id)sql",
                        id);
  out["api_tokens"] = Rows(db, R"sql(
    SELECT id, label, created_at, expires_at, revoked_at FROM api_token WHERE member_id = ?1 ORDER BY id)sql",
                           id);
  out["sessions"] = MetadataRows(db, kSessionTable, id);
  out["audit_log"] = Rows(db, R"sql(
    SELECT id, at, actor, action, target, reason, details FROM audit_log
    WHERE actor = 'member:' || ?1 OR target = 'member:' || ?1 ORDER BY id)sql",
                          id, "", "details");
  return out;
}

namespace {

// Replaces whole-word occurrences of personal data (a name, an e-mail address, a phone number) in free text,
// ignoring ASCII case: "Lucie Bernard" goes from "Merci Lucie Bernard !" but "Marc" stays in "Marche".
class Redactor {
 public:
  // Needles of fewer than 3 bytes would match ordinary words.
  void Add(const std::string& needle, const std::string& replacement) {
    if (needle.size() < 3) return;
    const std::string lower = Lower(needle);
    for (const auto& n : needles_)
      if (n.lower == lower) return;
    needles_.push_back({needle, lower, replacement});
    std::sort(needles_.begin(), needles_.end(),
              [](const Needle& a, const Needle& b) { return a.lower.size() > b.lower.size(); });
  }

  std::vector<std::string> LowerNeedles() const {
    std::vector<std::string> out;
    for (const auto& n : needles_) out.push_back(n.lower);
    return out;
  }

  std::string Text(const std::string& text) const {
    std::string out = text;
    for (const Needle& n : needles_) out = Replace(out, n);
    return out;
  }

  json Json(const json& value) const {
    if (value.is_string()) return Text(value.get<std::string>());
    if (!value.is_structured()) return value;
    json out = value;
    for (auto& item : out.items()) item.value() = Json(item.value());
    return out;
  }

 private:
  struct Needle {
    std::string text, lower, replacement;
  };

  static std::string Lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return c < 0x80 ? char(std::tolower(c)) : char(c); });
    return text;
  }

  // Letters, digits and every byte of a multibyte UTF-8 character.
  static bool WordByte(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || std::isalnum(u);
  }

  static std::string Replace(const std::string& text, const Needle& n) {
    const std::string lower = Lower(text);
    std::string out;
    size_t from = 0;
    for (size_t at = lower.find(n.lower); at != std::string::npos; at = lower.find(n.lower, at + 1)) {
      const size_t end = at + n.lower.size();
      const bool starts_word = at == 0 || !WordByte(n.lower.front()) || !WordByte(text[at - 1]);
      const bool ends_word = end == text.size() || !WordByte(n.lower.back()) || !WordByte(text[end]);
      if (!starts_word || !ends_word || at < from) continue;
      out.append(text, from, at - from).append(n.replacement);
      from = end;
    }
    return from == 0 ? text : out.append(text, from);
  }

  std::vector<Needle> needles_;
};

// Free text where a member's name, e-mail or phone may be written by anyone; JSON columns are redacted value
// by value. Grievance contact fields are not here: they are emptied when they are the member's.
struct FreeTextColumns {
  const char* table;
  std::vector<const char*> columns;
};
const FreeTextColumns kFreeText[] = {
    {"post", {"title", "body", "event_place"}},
    {"report", {"details", "snapshot"}},
    {"decision", {"note", "statement"}},
    {"appeal", {"text", "decision_note"}},
    {"grievance", {"title", "description"}},
    {"grievance_event", {"note"}},
    {"api_token", {"label"}},
};
const std::set<std::string> kJsonTextColumns = {"snapshot", "statement"};

// The tables an erasure looks at, in the order its summary lists them.
const std::vector<std::string> kErasureTables = {
    "member",          "api_token",          "invitation",  "post",       "report",
    "moderation_case", "decision",           "restriction", "appeal",     "grievance",
    "grievance_event", "grievance_follower", "audit_log",   kSessionTable};

class Erasure {
 public:
  Erasure(Db& db, const Member& member, const ErasureOptions& options)
      : db_(db), member_(member), options_(options), ref_(fmt::format("member:{}", member.id)) {}

  ErasureSummary Run() {
    ErasureSummary summary;
    summary.member_id = member_.id;
    summary.pseudonym = ErasedMemberPseudonym(db_, member_.id);
    summary.posts_removed = options_.remove_posts;
    summary.dry_run = options_.dry_run;
    pseudonym_ = summary.pseudonym;
    CollectPersonalData();
    AnonymiseRows();
    RedactFreeText();
    RewriteAudit();
    for (const std::string& table : kErasureTables)
      summary.changes.emplace_back(table, changed_[table].size());
    json counts = json::object();
    for (const auto& [table, count] : summary.changes) counts[table] = count;
    AppendAudit(db_, "cli", "member.erase", pseudonym_, "rgpd",
                {{"posts", options_.remove_posts ? "removed" : "kept"}, {"changes", counts}});
    return summary;
  }

 private:
  // Runs a statement that RETURNs the ids of the rows it changed, and counts them for `table`.
  void Change(const std::string& table, const std::string& sql, const std::vector<std::string>& params = {}) {
    SQLite::Statement statement(db_.sql(), sql);
    statement.bind(1, member_.id);
    for (size_t i = 0; i < params.size(); ++i) statement.bind(static_cast<int>(i + 2), params[i]);
    while (statement.executeStep()) changed_[table].insert(statement.getColumn(0).getInt64());
  }

  std::vector<std::string> Strings(const std::string& sql) {
    SQLite::Statement query(db_.sql(), sql);
    query.bind(1, member_.id);
    if (query.getBindParameterCount() >= 2) query.bind(2, Json(emails_));
    if (query.getBindParameterCount() >= 3) query.bind(3, Json(phones_));
    std::vector<std::string> out;
    while (query.executeStep())
      for (int i = 0; i < query.getColumnCount(); ++i) out.push_back(query.getColumn(i).getString());
    return out;
  }

  static std::string Json(const std::set<std::string>& values) { return json(values).dump(); }

  // A phone number as stored ("+33612345678") and as people write a French one in text: "0612345678",
  // "06 12 34 56 78", "06.12.34.56.78".
  static std::vector<std::string> PhoneSpellings(const std::string& phone) {
    std::vector<std::string> spellings = {phone};
    if (!phone.starts_with("+33") || phone.size() != 12) return spellings;
    const std::string national = "0" + phone.substr(3);
    spellings.push_back(national);
    for (const char* separator : {" ", ".", "-"}) {
      std::string spaced;
      for (size_t i = 0; i < national.size(); i += 2) spaced += (i ? separator : "") + national.substr(i, 2);
      spellings.push_back(spaced);
    }
    return spellings;
  }

  // The member's name, e-mail addresses and phone numbers: from their profile, the grievances they
  // reported (or gave their e-mail or phone for) and the legal notices they signed.
  void CollectPersonalData() {
    names_.insert(member_.display_name);
    if (!member_.email.empty()) emails_.insert(member_.email);
    const char* const own_grievances = R"sql(
      SELECT contact_name, contact_email, contact_phone FROM grievance
      WHERE reporter_id = ?1
         OR lower(contact_email) IN (SELECT lower(value) FROM json_each(?2) WHERE value != '')
         OR contact_phone IN (SELECT value FROM json_each(?3) WHERE value != ''))sql";
    for (int pass = 0; pass < 2; ++pass) {  // an e-mail found on one grievance leads to the next
      std::vector<std::string> fields = Strings(own_grievances);
      for (size_t i = 0; i + 2 < fields.size(); i += 3) {
        names_.insert(fields[i]);
        emails_.insert(fields[i + 1]);
        phones_.insert(fields[i + 2]);
      }
    }
    std::vector<std::string> notices =
        Strings("SELECT notifier_name, notifier_email FROM report WHERE reporter_id = ?1");
    for (size_t i = 0; i + 1 < notices.size(); i += 2) {
      names_.insert(notices[i]);
      emails_.insert(notices[i + 1]);
    }
    for (std::string id : Strings("SELECT id FROM post WHERE author_id = ?1"))
      post_targets_.insert("post:" + id);
    for (const std::string& name : names_) redactor_.Add(name, std::string(kErasedMemberName));
    for (const std::string& email : emails_) redactor_.Add(email, "[effacé]");
    for (const std::string& phone : phones_)
      for (const std::string& spelling : PhoneSpellings(phone)) redactor_.Add(spelling, "[effacé]");
  }

  void AnonymiseRows() {
    const std::string now = NowIso();
    Change("member", R"sql(
      UPDATE member SET display_name = ?2, email = NULL, neighbourhood_id = NULL, from_town_file = 0,
                        removed_at = coalesce(removed_at, ?3), updated_at = ?3
      WHERE id = ?1 RETURNING id)sql",
           {std::string(kErasedMemberName), now});
    Change("api_token", "DELETE FROM api_token WHERE member_id = ?1 RETURNING id");
    Change(kSessionTable, "DELETE FROM web_session WHERE member_id = ?1 RETURNING id");
    Change("grievance_follower",
           "DELETE FROM grievance_follower WHERE member_id = ?1 RETURNING grievance_id");
    Change("grievance", R"sql(
      UPDATE grievance SET reporter_id = NULL, contact_name = '', contact_email = '', contact_phone = ''
      WHERE reporter_id = ?1
         OR lower(contact_email) IN (SELECT lower(value) FROM json_each(?2) WHERE value != '')
         OR contact_phone IN (SELECT value FROM json_each(?3) WHERE value != '')
      RETURNING id)sql",
           {Json(emails_), Json(phones_)});
    Change("report", R"sql(
      UPDATE report SET notifier_name = '', notifier_email = ''
      WHERE reporter_id = ?1 AND (notifier_name != '' OR notifier_email != '') RETURNING id)sql");
    Change("moderation_case", R"sql(
      UPDATE moderation_case SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?1 RETURNING id)sql");
    Change("grievance_event", "UPDATE grievance_event SET actor = ?2 WHERE actor = ?3 RETURNING id",
           {pseudonym_, ref_});
    if (!options_.remove_posts) return;
    Change("post", R"sql(
      UPDATE post SET status = 'removed', title = '', body = '', event_place = '', updated_at = ?2
      WHERE author_id = ?1 AND (status != 'removed' OR title != '' OR body != '' OR event_place != '')
      RETURNING id)sql",
           {now});
    // What reporters saw of the removed posts goes with them.
    SQLite::Statement snapshots(db_.sql(), R"sql(
      SELECT r.id, r.snapshot FROM report r JOIN moderation_case c ON c.id = r.case_id
      WHERE c.target_type = 'post' AND c.target_id IN (SELECT id FROM post WHERE author_id = ?))sql");
    snapshots.bind(1, member_.id);
    std::vector<std::pair<int64_t, std::string>> rewritten;
    while (snapshots.executeStep()) {
      json snapshot = WipePostText(json::parse(snapshots.getColumn(1).getString(), nullptr, false));
      rewritten.emplace_back(snapshots.getColumn(0).getInt64(), snapshot.dump());
    }
    SQLite::Statement update(db_.sql(), "UPDATE report SET snapshot = ? WHERE id = ?");
    for (const auto& [id, snapshot] : rewritten) {
      update.bind(1, snapshot);
      update.bind(2, id);
      update.exec();
      update.reset();
      changed_["report"].insert(id);
    }
  }

  // A post's text fields emptied, wherever they are in a snapshot or an audit entry's details.
  static json WipePostText(json value) {
    if (!value.is_structured()) return value;
    for (auto& item : value.items()) {
      const std::string& key = item.key();
      if (value.is_object() && item.value().is_string() &&
          (key == "title" || key == "body" || key == "place" || key == "event_place"))
        item.value() = "";
      else
        item.value() = WipePostText(item.value());
    }
    return value;
  }

  void RedactFreeText() {
    for (const FreeTextColumns& free_text : kFreeText) {
      for (const char* column : free_text.columns) {
        std::map<int64_t, std::string> rewritten;
        for (const std::string& needle : redactor_.LowerNeedles()) {
          SQLite::Statement query(
              db_.sql(), fmt::format("SELECT rowid, {0} FROM {1} WHERE instr(lower({0}), ?) > 0", column,
                                     free_text.table));
          query.bind(1, needle);
          while (query.executeStep()) {
            const int64_t id = query.getColumn(0).getInt64();
            if (rewritten.count(id)) continue;
            const std::string text = query.getColumn(1).getString();
            const std::string redacted = kJsonTextColumns.count(column)
                                             ? redactor_.Json(json::parse(text, nullptr, false)).dump()
                                             : redactor_.Text(text);
            if (redacted != text) rewritten[id] = redacted;
          }
        }
        SQLite::Statement update(
            db_.sql(), fmt::format("UPDATE {} SET {} = ? WHERE rowid = ?", free_text.table, column));
        for (const auto& [id, text] : rewritten) {
          update.bind(1, text);
          update.bind(2, id);
          update.exec();
          update.reset();
          changed_[free_text.table].insert(id);
        }
      }
    }
  }

  // "member:ID" becomes the pseudonym in the audit log; entries about the member's posts lose the author's
  // id (and the posts' text when they are removed); the member's name, e-mail and phones are redacted.
  void RewriteAudit() {
    std::set<int64_t> ids;
    auto select = [&](const std::string& where, const std::string& param) {
      SQLite::Statement query(db_.sql(), "SELECT id FROM audit_log WHERE " + where);
      query.bind(1, param);
      while (query.executeStep()) ids.insert(query.getColumn(0).getInt64());
    };
    select("actor = ?1 OR target = ?1", ref_);
    select("instr(details, ?1) > 0", json(ref_).dump());
    select("target IN (SELECT 'post:' || id FROM post WHERE author_id = ?1)", std::to_string(member_.id));
    for (const std::string& needle : redactor_.LowerNeedles())
      select("instr(lower(actor || ' ' || target || ' ' || reason || ' ' || details), ?1) > 0", needle);
    const int64_t member_id = member_.id;
    const json pseudonym = pseudonym_;
    std::function<json(const json&)> replace_ref = [&](const json& value) -> json {
      if (value.is_string())
        return value.get<std::string>() == ref_ ? pseudonym : json(redactor_.Text(value.get<std::string>()));
      if (!value.is_structured()) return value;
      json out = value;
      for (auto& item : out.items()) {
        if (value.is_object() && (item.key() == "author" || item.key() == "member") &&
            item.value() == member_id)
          item.value() = pseudonym;
        else
          item.value() = replace_ref(item.value());
      }
      return out;
    };
    const std::vector<int64_t> list(ids.begin(), ids.end());
    RewriteAuditEntries(db_, list, [&](AuditEntry& entry) {
      const AuditEntry before = entry;
      for (std::string* field : {&entry.actor, &entry.target})
        *field = *field == ref_ ? pseudonym_ : redactor_.Text(*field);
      entry.reason = redactor_.Text(entry.reason);
      entry.details = replace_ref(entry.details);
      if (options_.remove_posts && post_targets_.count(entry.target))
        entry.details = WipePostText(entry.details);
      const bool changed = entry.actor != before.actor || entry.target != before.target ||
                           entry.reason != before.reason || entry.details != before.details;
      if (changed) changed_["audit_log"].insert(entry.id);
      return changed;
    });
  }

  Db& db_;
  const Member& member_;
  const ErasureOptions& options_;
  const std::string ref_;  // "member:ID"
  std::string pseudonym_;
  std::set<std::string> names_, emails_, phones_, post_targets_;
  Redactor redactor_;
  std::map<std::string, std::set<int64_t>> changed_;
};

}  // namespace

std::string ErasedMemberPseudonym(Db& db, int64_t member_id) {
  return "member:erased-" + KeyedHash(db, fmt::format("member:{}", member_id)).substr(0, 16);
}

int64_t ErasureSummary::total() const {
  int64_t sum = 0;
  for (const auto& [table, count] : changes) sum += count;
  return sum;
}

ErasureSummary EraseMember(Db& db, const std::string& ref, const ErasureOptions& options) {
  ErasureSummary summary;
  {
    SecureDelete secure(db);
    auto transaction = db.Write();
    const Member member = FindMember(db, ref);
    if (member.from_town_file)
      throw Error(
          fmt::format("member '#{}' is staff listed in the town file", member.id),
          "remove them from its 'staff' section and apply it with 'voisinage init --from FILE' first");
    SQLite::Statement erased(db.sql(),
                             "SELECT at FROM audit_log WHERE action = 'member.erase' AND target = ? LIMIT 1");
    erased.bind(1, ErasedMemberPseudonym(db, member.id));
    if (erased.executeStep())
      throw Error(
          fmt::format("member '#{}' was already erased on {}", member.id, erased.getColumn(0).getString()));
    summary = Erasure(db, member, options).Run();
    if (options.dry_run) return summary;  // rolled back
    transaction.commit();
  }
  summary.wal_checkpointed = TruncateWal(db);
  return summary;
}

json ToJson(const ErasureSummary& summary) {
  json changes = json::object();
  for (const auto& [table, count] : summary.changes) changes[table] = count;
  return {{"member", summary.member_id},
          {"pseudonym", summary.pseudonym},
          {"posts", summary.posts_removed ? "removed" : "kept"},
          {"dry_run", summary.dry_run},
          {"changes", changes},
          {"total", summary.total()},
          {"wal_checkpointed", summary.wal_checkpointed}};
}

}  // namespace voisinage
