#pragma once

// How long personal data is kept once it has served (RGPD art. 5(1)(e)): the `retention` section of the
// town file, stored in the `setting` table when the file is applied, and `voisinage db purge`, which applies
// it from cron.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"

namespace voisinage {

/// The retention periods in force.
struct RetentionPolicy {
  int grievance_contact_months = 12;      ///< contact data of grievances closed longer ago is removed
  int invitation_days_after_expiry = 30;  ///< unused codes expired or revoked longer ago are deleted
  int token_days_after_expiry = 90;       ///< API tokens expired or revoked longer ago are deleted
};

/// One key of the `retention` section: its name, its field in RetentionPolicy, its unit and its bounds.
struct RetentionKey {
  std::string name;  ///< "grievance_contact_months"
  int RetentionPolicy::*field;
  std::string unit;  ///< "months" | "days"
  int min = 0, max = 0;
  int default_value() const { return RetentionPolicy{}.*field; }
};

/// Every key of the `retention` section, in the order the town file's manual lists them.
const std::vector<RetentionKey>& RetentionKeys();

/// The policy stored in the database: the town file's values, the defaults for the keys it does not give.
RetentionPolicy ReadRetention(Db& db);

/// The values a town file gave (key → value), as stored; keys it left out are absent.
std::map<std::string, int> StoredRetention(Db& db);

/// Stores the values a town file gives, inside the caller's transaction; keys absent from `values` go back to
/// their defaults.
void WriteRetention(Db& db, const std::map<std::string, int>& values);

/// What `db purge` removed (or would remove), per kind of data.
struct PurgeSummary {
  RetentionPolicy policy;
  int64_t grievance_contacts = 0;  ///< grievances whose contact name, e-mail and phone were emptied
  int64_t invitations = 0;         ///< unused invitation codes deleted
  int64_t tokens = 0;              ///< API tokens deleted
  int64_t sessions = 0;            ///< expired web sessions deleted
  bool dry_run = false;
  bool wal_checkpointed = false;  ///< the write-ahead log was emptied after the purge (see EraseMember)
  int64_t total() const { return grievance_contacts + invitations + tokens + sessions; }
};

/// Applies the retention policy in one transaction: empties the contact fields of grievances closed more
/// than `grievance_contact_months` ago, deletes unused invitations expired or revoked more than
/// `invitation_days_after_expiry` days ago and API tokens expired or revoked more than
/// `token_days_after_expiry` days ago and expired web sessions, and logs what it removed in the audit log.
/// Deleted data is overwritten in the file (secure_delete) and the write-ahead log emptied when no reader
/// holds it. With `dry_run`, counts the same and writes nothing.
PurgeSummary PurgeExpiredData(Db& db, bool dry_run);

nlohmann::json ToJson(const RetentionPolicy& policy);
nlohmann::json ToJson(const PurgeSummary& summary);

}  // namespace voisinage
