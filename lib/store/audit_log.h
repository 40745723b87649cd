#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"

namespace voisinage {

/// One entry of the append-only audit log.
struct AuditEntry {
  int64_t id = 0;
  std::string at;
  std::string actor;   ///< "member:12", "system"...
  std::string action;  ///< "post.hide", "case.dismiss", "report.add"...
  std::string target;  ///< "post:4", "case:2", "member:7"
  std::string reason;
  nlohmann::json details = nlohmann::json::object();
  std::string prev_hash;
  std::string hash;
};

/// Appends an entry inside the caller's transaction, chained to the last one: hash = SHA-256 of the previous
/// hash and the entry's fields. The database refuses UPDATE and DELETE on the log (triggers).
AuditEntry AppendAudit(Db& db, const std::string& actor, const std::string& action, const std::string& target,
                       const std::string& reason, const nlohmann::json& details);

struct AuditFilter {
  std::string since;  ///< ISO date or timestamp
  std::string actor;
  std::string target;
  int limit = 100;
};

/// The newest `limit` entries matching the filter, oldest first.
std::vector<AuditEntry> ListAudit(Db& db, const AuditFilter& filter);

/// The first entry whose hash does not match its content or its predecessor; nullopt when the chain is whole.
struct AuditBreak {
  int64_t id;
  std::string problem;
};
std::optional<AuditBreak> VerifyAudit(Db& db, int64_t* checked = nullptr);

/// Rewrites the entries `ids` in place, inside the caller's transaction, and re-seals the chain from the
/// first one changed: `rewrite` changes an entry's actor, target, reason or details and returns whether it
/// did. Only for the erasure of a member's personal data (lib/privacy): the append-only triggers are lifted
/// for the rewrite and restored before returning, and the caller logs the rewrite itself. Returns how many
/// entries `rewrite` changed.
int64_t RewriteAuditEntries(Db& db, const std::vector<int64_t>& ids,
                            const std::function<bool(AuditEntry&)>& rewrite);

nlohmann::json ToJson(const AuditEntry& entry);

}  // namespace voisinage
