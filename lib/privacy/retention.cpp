#include "lib/privacy/retention.h"

#include "lib/clock.h"
#include "lib/privacy/scrub.h"
#include "lib/store/audit_log.h"

namespace voisinage {

using nlohmann::json;

namespace {

constexpr std::string_view kSettingPrefix = "retention.";

// The instant `amount` months or days before `now`, as stored timestamps are written. Months are calendar
// months (SQLite's date arithmetic): 12 months before 2026-03-31 is 2025-03-31.
std::string Before(Db& db, const std::string& now, int amount, const std::string& unit) {
  SQLite::Statement query(db.sql(), "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ?, ?)");
  query.bind(1, now);
  query.bind(2, fmt::format("-{} {}", amount, unit));
  query.executeStep();
  return query.getColumn(0).getString();
}

int64_t Execute(Db& db, const char* sql, const std::string& cutoff) {
  SQLite::Statement statement(db.sql(), sql);
  statement.bind(1, cutoff);
  return statement.exec();
}

}  // namespace

const std::vector<RetentionKey>& RetentionKeys() {
  static const std::vector<RetentionKey> keys = {
      {"grievance_contact_months", &RetentionPolicy::grievance_contact_months, "months", 1, 120},
      {"invitation_days_after_expiry", &RetentionPolicy::invitation_days_after_expiry, "days", 0, 3650},
      {"token_days_after_expiry", &RetentionPolicy::token_days_after_expiry, "days", 0, 3650},
  };
  return keys;
}

std::map<std::string, int> StoredRetention(Db& db) {
  std::map<std::string, int> values;
  SQLite::Statement query(db.sql(), "SELECT key, value FROM setting WHERE key LIKE 'retention.%'");
  while (query.executeStep()) {
    const std::string key = query.getColumn(0).getString().substr(kSettingPrefix.size());
    values[key] = query.getColumn(1).getInt();
  }
  return values;
}

RetentionPolicy ReadRetention(Db& db) {
  RetentionPolicy policy;
  const std::map<std::string, int> stored = StoredRetention(db);
  for (const RetentionKey& key : RetentionKeys())
    if (auto it = stored.find(key.name); it != stored.end()) policy.*key.field = it->second;
  return policy;
}

void WriteRetention(Db& db, const std::map<std::string, int>& values) {
  SQLite::Statement upsert(db.sql(), "INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)");
  SQLite::Statement remove(db.sql(), "DELETE FROM setting WHERE key = ?");
  for (const RetentionKey& key : RetentionKeys()) {
    const std::string setting = std::string(kSettingPrefix) + key.name;
    if (auto it = values.find(key.name); it != values.end()) {
      upsert.bind(1, setting);
      upsert.bind(2, std::to_string(it->second));
      upsert.exec();
      upsert.reset();
    } else {
      remove.bind(1, setting);
      remove.exec();
      remove.reset();
    }
  }
}

PurgeSummary PurgeExpiredData(Db& db, bool dry_run) {
  PurgeSummary summary;
  summary.dry_run = dry_run;
  {
    SecureDelete secure(db);
    auto transaction = db.Write();
    summary.policy = ReadRetention(db);
    const RetentionPolicy& policy = summary.policy;
    const std::string now = NowIso();
    // Closed grievances stay for the statistics; only the way to reach their reporter goes.
    summary.grievance_contacts = Execute(db, R"sql(
      UPDATE grievance SET contact_name = '', contact_email = '', contact_phone = ''
      WHERE closed_at IS NOT NULL AND closed_at <= ?
        AND (contact_name != '' OR contact_email != '' OR contact_phone != ''))sql",
                                         Before(db, now, policy.grievance_contact_months, "months"));
    // A used code stays: it records how its member joined.
    summary.invitations = Execute(db, R"sql(
      DELETE FROM invitation
      WHERE used_at IS NULL AND (expires_at <= ?1 OR (revoked_at IS NOT NULL AND revoked_at <= ?1)))sql",
                                  Before(db, now, policy.invitation_days_after_expiry, "days"));
    summary.tokens = Execute(db, R"sql(
      DELETE FROM api_token
      WHERE (expires_at IS NOT NULL AND expires_at <= ?1) OR (revoked_at IS NOT NULL AND revoked_at <= ?1))sql",
                             Before(db, now, policy.token_days_after_expiry, "days"));
    // A session is of no use once expired (signing out deletes it at once).
    summary.sessions = Execute(db, "DELETE FROM web_session WHERE expires_at <= ?", now);
    if (summary.total() > 0)
      AppendAudit(db, "cli", "db.purge", "database", "retention",
                  {{"grievance_contacts", summary.grievance_contacts},
                   {"invitations", summary.invitations},
                   {"tokens", summary.tokens},
                   {"sessions", summary.sessions},
                   {"policy", ToJson(policy)}});
    if (dry_run) return summary;  // rolled back
    transaction.commit();
  }
  summary.wal_checkpointed = summary.total() == 0 || TruncateWal(db);
  return summary;
}

json ToJson(const RetentionPolicy& policy) {
  json out = json::object();
  for (const RetentionKey& key : RetentionKeys()) out[key.name] = policy.*key.field;
  return out;
}

json ToJson(const PurgeSummary& summary) {
  return {{"dry_run", summary.dry_run},
          {"policy", ToJson(summary.policy)},
          {"removed",
           {{"grievance_contacts", summary.grievance_contacts},
            {"invitations", summary.invitations},
            {"tokens", summary.tokens},
            {"sessions", summary.sessions}}},
          {"total", summary.total()}};
}

}  // namespace voisinage
