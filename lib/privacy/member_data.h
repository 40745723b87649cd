#pragma once

// A member's rights over their personal data (RGPD): access (art. 15), answered by ExportMemberData, and
// erasure (art. 17), done by EraseMember.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"

namespace voisinage {

/// The version of the export's JSON shape, documented in voisinage-member(1).
inline constexpr int kMemberExportVersion = 1;

/// The display name an erased member keeps: residents see it, so it is French.
inline constexpr std::string_view kErasedMemberName = "Ancien membre";

/// Every personal datum held about the member `ref` (id or e-mail) as one JSON object ("export version 1"):
/// profile, invitation used, posts, replies, reports made, grievances reported or followed, moderation
/// decisions, restrictions and appeals about them, API tokens and sessions (metadata only, never a secret
/// or its hash) and the audit log entries by or about them. Throws NotFoundError for an unknown member.
nlohmann::json ExportMemberData(Db& db, const std::string& ref);

struct ErasureOptions {
  bool remove_posts = true;  ///< false: posts and replies stay, authored by the anonymised member
  bool dry_run = false;      ///< count what would change, write nothing
};

/// What an erasure changed (or would change).
struct ErasureSummary {
  int64_t member_id = 0;
  std::string pseudonym;  ///< "member:erased-<16 hex>", what the audit log says instead of "member:ID"
  bool posts_removed = true;
  bool dry_run = false;
  bool wal_checkpointed = false;  ///< the write-ahead log was emptied after the erasure
  std::vector<std::pair<std::string, int64_t>> changes;  ///< table → rows changed or deleted, every table
  int64_t total() const;
};

/// Anonymises the member `ref` everywhere, in one transaction, irreversibly: display name
/// kErasedMemberName, e-mail and neighbourhood gone, removed; tokens deleted; grievances they reported (or
/// gave their e-mail or phone for) kept without reporter or contact data, follows deleted; posts and replies
/// removed and wiped (or kept, see ErasureOptions); notifier details of their reports emptied; their name,
/// e-mail and phone numbers replaced in every free text (posts, reports, decisions, appeals, grievances and
/// their events, token labels); "member:ID" replaced by a pseudonym (a keyed hash) in grievance events and in
/// the audit log, whose chain is re-sealed; and the erasure logged. Deleted content is overwritten in the
/// file and the write-ahead log emptied when no reader holds it. Throws NotFoundError for an unknown member,
/// Error for a member already erased or listed as staff in the town file.
ErasureSummary EraseMember(Db& db, const std::string& ref, const ErasureOptions& options);

/// The pseudonym of member `member_id` in the audit log once erased (stable: same member, same pseudonym).
std::string ErasedMemberPseudonym(Db& db, int64_t member_id);

nlohmann::json ToJson(const ErasureSummary& summary);

}  // namespace voisinage
