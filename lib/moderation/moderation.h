#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"

namespace voisinage {

/// Why something is reported (and the ground of a decision): spam, scam, harassment, hate, defamation,
/// privacy, danger, minors, off_topic, illegal, other.
const std::vector<std::string>& ReportReasons();

/// How much a report for `reason` weighs: danger and minors most.
double ReasonSeverity(const std::string& reason);

struct NewReport {
  std::string target;  ///< "post:12", "member:7", or a post id
  std::string reporter;
  std::string reason;
  std::string details;
  // A legal notice (reason "illegal", EU DSA art. 16) requires these.
  std::string notifier_name, notifier_email;
  bool good_faith = false;
};

struct Case {
  int64_t id = 0;
  std::string target_type;  ///< post | member
  int64_t target_id = 0;
  std::string status;  ///< open | closed
  double score = 0;
  bool urgent = false, auto_hidden = false;
  int64_t reporters = 0;
  int64_t version = 0;
  std::vector<std::string> reasons;
  std::string excerpt, neighbourhood;
  std::string opened_at, updated_at, closed_at;
};

struct ReportOutcome {
  int64_t report_id = 0;
  Case moderation_case;
  bool auto_hidden = false;  ///< this report made the case reach the town's threshold
};

/// Records a report and adds it to the target's case (opened or reopened), in one transaction. The report
/// keeps a snapshot of the target; its weight depends on the reporter's role and past accuracy and on the
/// reason. Hides the post automatically when the case reaches the town's threshold, except posts of the town
/// hall and moderators and cases reported only as illegal. Throws Error for an unknown target or reporter, a
/// report of one's own post, a second report by the same member, or a legal notice missing its details.
ReportOutcome AddReport(Db& db, const NewReport& report);

/// Adds the automated report of a word rule ("flag" or "hold") to a post's case, inside the caller's
/// transaction; returns the case.
int64_t FlagPost(Db& db, int64_t post_id, const std::string& rule, const std::string& action);

struct QueueFilter {
  std::string status = "open";
  std::string reason, neighbourhood, kind;  ///< kind: post | member
  std::string assignee;                     ///< member claiming the case (triaging it now)
  std::string since;
  int limit = 50;
};

/// Cases by priority: urgent first, then automatically hidden ones, then by score and age.
std::vector<Case> ModerationQueue(Db& db, const QueueFilter& filter);

/// A case and everything a moderator needs to decide: the target as reported and as it is now, every report,
/// the author's history, the earlier decisions.
nlohmann::json ShowCase(Db& db, int64_t case_id);

struct DecisionRequest {
  std::string
      action;  ///< dismiss | hide | restore | remove | lock | warn | silence | suspend | ban | unsuspend
  std::string target;  ///< content actions: a case id, or "post:ID"; account actions: a member (id or e-mail)
  std::string reason;  ///< a ReportReasons() code
  std::string note;
  std::string moderator;          ///< member id or e-mail; must be a moderator or admin
  std::string until;              ///< silence and suspend: YYYY-MM-DD or an ISO timestamp, in the future
  int64_t expected_version = -1;  ///< when set, the case must not have changed since (concurrent moderators)
};

struct Decision {
  int64_t id = 0;
  int64_t case_id = 0;
  std::string target_type;
  int64_t target_id = 0;
  std::string action, reason, note, until, created_at;
  int64_t moderator_id = 0;
  bool automated = false;
  nlohmann::json statement;  ///< the statement of reasons sent to the author
};

/// Applies a decision in one transaction with its statement of reasons and an audit entry. Content actions
/// close the case; acting on a closed case (another moderator was first) throws ConflictError.
Decision Decide(Db& db, const DecisionRequest& request);

/// Which open cases a bulk decision applies to; empty fields do not filter.
struct BulkFilter {
  std::string author;  ///< member id or e-mail: cases about their posts or them
  std::string reason, neighbourhood;
};

/// Parses "author=M,reason=R,neighbourhood=S" (the --where of bulk decisions). Throws Error naming the key.
BulkFilter ParseBulkFilter(const std::string& where);

/// Applies `request` (its target ignored) to every open case matching `filter`, all in one transaction;
/// with `dry_run` nothing is written and the returned decisions only name their cases.
std::vector<Decision> DecideBulk(Db& db, const DecisionRequest& request, const BulkFilter& filter,
                                 bool dry_run);

/// Reverses a decision by a moderator (the post is shown again, the restriction lifted, the case reopened),
/// in one transaction, logged. Throws Error when the decision is unknown, already undone, or automated and
/// already superseded.
Decision UndoDecision(Db& db, int64_t decision_id, const std::string& moderator);

/// Claims an open case for `moderator` for `minutes`, so that two moderators triaging never get the same
/// case; false when another moderator holds an unexpired claim or the case is closed.
bool ClaimCase(Db& db, int64_t case_id, int64_t moderator_id, int minutes);

/// Releases the moderator's claim on a case.
void ReleaseCase(Db& db, int64_t case_id, int64_t moderator_id);

struct Appeal {
  int64_t id = 0, decision_id = 0, appellant_id = 0, decided_by = 0;
  std::string text, status, decision_note, created_at, decided_at;
};

/// Records an appeal against a decision, within six months of it: by the member it restricted (or whose post
/// it restricted) against a restriction, or by a reporter against a dismissal. Logged.
Appeal AddAppeal(Db& db, int64_t decision_id, const std::string& appellant, const std::string& text);

std::vector<Appeal> ListAppeals(Db& db, const std::string& status);

/// Decides an appeal ("uphold" reverses the decision, "reject" keeps it) by a moderator other than the one
/// who took the decision. One transaction, logged.
Appeal DecideAppeal(Db& db, int64_t appeal_id, const std::string& outcome, const std::string& moderator,
                    const std::string& note);

/// Lifts restrictions whose end has passed and releases expired claims (for cron); returns how many.
int64_t ExpireRestrictions(Db& db);

/// Moderation figures: cases opened and closed, median time to decision, decisions by action and reason,
/// decisions reversed on appeal, reporters' accuracy.
nlohmann::json ModerationStats(Db& db, const std::string& since);

nlohmann::json ToJson(const Appeal& appeal);

/// The decisions taken on a case, newest first.
std::vector<Decision> ListDecisions(Db& db, int64_t case_id);

/// One decision; throws Error when there is none.
Decision ReadDecision(Db& db, int64_t decision_id);

nlohmann::json ToJson(const Case& c);
nlohmann::json ToJson(const Decision& d);

}  // namespace voisinage
