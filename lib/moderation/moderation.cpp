#include "lib/moderation/moderation.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <tuple>

#include "lib/clock.h"
#include "lib/moderation/post.h"
#include "lib/store/audit_log.h"
#include "lib/text/strings.h"
#include "lib/text/suggest.h"
#include "lib/town/member.h"
#include "lib/town/neighbourhood.h"
#include "lib/town/town.h"
#include "lib/town/validation.h"

namespace voisinage {

using nlohmann::json;

const std::vector<std::string>& ReportReasons() {
  static const std::vector<std::string> reasons = {"spam",       "scam",    "harassment", "hate",
                                                   "defamation", "privacy", "danger",     "minors",
                                                   "off_topic",  "illegal", "other"};
  return reasons;
}

double ReasonSeverity(const std::string& reason) {
  if (reason == "danger" || reason == "minors") return 5;
  if (reason == "hate") return 3;
  if (reason == "off_topic") return 0.5;
  if (reason == "spam" || reason == "other") return 1;
  return 2;  // scam, harassment, defamation, privacy, illegal
}

namespace {

void ValidateReason(const std::string& reason) {
  const auto& reasons = ReportReasons();
  if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end())
    throw Error(fmt::format("unknown reason '{}'{}", reason, DidYouMean(reason, reasons)),
                "reasons: spam, scam, harassment, hate, defamation, privacy, danger, minors, off_topic, "
                "illegal, other");
}

int64_t ParseId(std::string_view text, const char* what) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id <= 0)
    throw Error(fmt::format("invalid {} '{}'", what, text));
  return id;
}

// How much a member's report weighs: by role, and by how often their past reports were upheld.
double ReporterWeight(Db& db, const Member& reporter) {
  double weight = reporter.role == "moderator" || reporter.role == "admin" ? 3
                  : reporter.role == "townhall"                            ? 2
                                                                           : 1;
  SQLite::Statement history(
      db.sql(),
      "SELECT count(*) FILTER (WHERE outcome = 'upheld'), count(*) FILTER (WHERE outcome != '') "
      "FROM report WHERE reporter_id = ?");
  history.bind(1, reporter.id);
  history.executeStep();
  const int64_t upheld = history.getColumn(0).getInt64(), decided = history.getColumn(1).getInt64();
  if (decided >= 3) weight *= 0.5 + double(upheld) / double(decided);  // 0.5 (never right) to 1.5 (always)
  return weight;
}

// The case of a target: the existing one (reopened if closed) or a new one.
int64_t OpenCase(Db& db, const std::string& type, int64_t id) {
  const std::string now = NowIso();
  SQLite::Statement upsert(db.sql(), R"sql(
    INSERT INTO moderation_case (target_type, target_id, opened_at, updated_at) VALUES (?1, ?2, ?3, ?3)
    ON CONFLICT (target_type, target_id) DO UPDATE SET
      status = 'open', closed_at = NULL, updated_at = ?3, version = version + 1,
      opened_at = CASE WHEN status = 'closed' THEN ?3 ELSE opened_at END
    RETURNING id)sql");
  upsert.bind(1, type);
  upsert.bind(2, id);
  upsert.bind(3, now);
  upsert.executeStep();
  return upsert.getColumn(0).getInt64();
}

json Snapshot(Db& db, const std::string& type, int64_t id) {
  if (type == "post") return ToJson(GetPost(db, id));
  Member m = FindMember(db, std::to_string(id));
  return {
      {"id", m.id}, {"display_name", m.display_name}, {"role", m.role}, {"neighbourhood", m.neighbourhood}};
}

int64_t InsertReport(Db& db, int64_t case_id, std::optional<int64_t> reporter, const std::string& reason,
                     const std::string& details, const json& snapshot, double weight,
                     const NewReport* notice) {
  SQLite::Statement insert(db.sql(), R"sql(
    INSERT INTO report (case_id, reporter_id, reason, details, snapshot, weight, notifier_name, notifier_email,
                        good_faith, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql");
  insert.bind(1, case_id);
  if (reporter) insert.bind(2, *reporter);
  insert.bind(3, reason);
  insert.bind(4, details);
  insert.bind(5, snapshot.dump());
  insert.bind(6, weight);
  insert.bind(7, notice ? notice->notifier_name : "");
  insert.bind(8, notice ? notice->notifier_email : "");
  insert.bind(9, notice && notice->good_faith ? 1 : 0);
  insert.bind(10, NowIso());
  insert.exec();
  const int64_t id = db.sql().getLastInsertRowid();
  // The case's figures follow from its reports.
  SQLite::Statement update(db.sql(), R"sql(
    UPDATE moderation_case SET
      score = (SELECT coalesce(sum(weight), 0) FROM report WHERE case_id = ?1),
      reporters = (SELECT count(DISTINCT reporter_id) FROM report WHERE case_id = ?1),
      urgent = EXISTS (SELECT 1 FROM report WHERE case_id = ?1 AND reason IN ('danger', 'minors')),
      updated_at = ?2, version = version + 1
    WHERE id = ?1)sql");
  update.bind(1, case_id);
  update.bind(2, NowIso());
  update.exec();
  return id;
}

Case ReadCase(Db& db, int64_t id) {
  SQLite::Statement query(db.sql(), R"sql(
    SELECT c.id, c.target_type, c.target_id, c.status, c.score, c.urgent, c.auto_hidden, c.reporters, c.version,
           c.opened_at, c.updated_at, coalesce(c.closed_at, ''),
           (SELECT group_concat(DISTINCT reason) FROM report WHERE case_id = c.id),
           CASE c.target_type WHEN 'post' THEN (SELECT CASE p.title WHEN '' THEN p.body ELSE p.title END
                                                FROM post p WHERE p.id = c.target_id)
                              ELSE (SELECT display_name FROM member WHERE id = c.target_id) END,
           CASE c.target_type WHEN 'post' THEN (SELECT n.slug FROM post p JOIN neighbourhood n
                                                ON n.id = p.neighbourhood_id WHERE p.id = c.target_id)
                              ELSE (SELECT n.slug FROM member m JOIN neighbourhood n ON n.id = m.neighbourhood_id
                                    WHERE m.id = c.target_id) END
    FROM moderation_case c WHERE c.id = ?)sql");
  query.bind(1, id);
  if (!query.executeStep())
    throw Error(fmt::format("unknown case '{}'", id), "list open cases with 'voisinage mod queue'");
  Case c;
  c.id = query.getColumn(0).getInt64();
  c.target_type = query.getColumn(1).getString();
  c.target_id = query.getColumn(2).getInt64();
  c.status = query.getColumn(3).getString();
  c.score = query.getColumn(4).getDouble();
  c.urgent = query.getColumn(5).getInt() != 0;
  c.auto_hidden = query.getColumn(6).getInt() != 0;
  c.reporters = query.getColumn(7).getInt64();
  c.version = query.getColumn(8).getInt64();
  c.opened_at = query.getColumn(9).getString();
  c.updated_at = query.getColumn(10).getString();
  c.closed_at = query.getColumn(11).getString();
  c.reasons = Split(query.getColumn(12).getString(), ',');
  c.excerpt = Shorten(query.getColumn(13).getString(), 60);
  c.neighbourhood = query.getColumn(14).getString();
  return c;
}

// The statement of reasons the author receives (in French: it is for residents).
json Statement(const std::string& action, const std::string& target_type, const std::string& reason,
               const std::string& until, bool automated, const std::string& facts) {
  static const std::map<std::string, std::string> kRestriction = {{"hide", "contenu masqué"},
                                                                  {"remove", "contenu supprimé"},
                                                                  {"lock", "réponses fermées"},
                                                                  {"warn", "avertissement"},
                                                                  {"silence", "publication suspendue"},
                                                                  {"suspend", "compte suspendu"},
                                                                  {"ban", "compte fermé définitivement"},
                                                                  {"dismiss", "aucune restriction"},
                                                                  {"restore", "contenu rétabli"},
                                                                  {"unsuspend", "restrictions levées"}};
  return {{"restriction", kRestriction.count(action) ? kRestriction.at(action) : action},
          {"scope", target_type == "post" ? "la publication signalée" : "le compte du membre"},
          {"duration",
           until.empty() ? (action == "ban" ? "définitive" : "sans limite de durée") : "jusqu'au " + until},
          {"facts", facts},
          {"ground", reason == "illegal" ? "contenu illicite (signalement au titre de l'article 16 du DSA)"
                                         : "règles de la communauté de la commune : " + reason},
          {"automated_detection", automated},
          {"automated_decision", automated},
          {"appeal", "Vous pouvez contester cette décision auprès de la mairie pendant six mois."}};
}

// Hides a post automatically when its case reaches the town's threshold (never town hall or moderators'
// posts, never on legal notices alone). Returns whether it did.
bool MaybeAutoHide(Db& db, int64_t case_id) {
  Case c = ReadCase(db, case_id);
  if (c.target_type != "post" || c.auto_hidden) return false;
  std::optional<Town> town = FindTown(db);
  if (!town) return false;
  bool reached = (town->auto_hide_score && c.score >= *town->auto_hide_score) ||
                 (town->auto_hide_reporters && c.reporters >= *town->auto_hide_reporters);
  if (!reached) return false;
  if (c.reasons == std::vector<std::string>{"illegal"}) return false;  // a legal notice needs a human
  // A moderator who kept the post has the last word: new reports go to the queue, not to automatic hiding.
  SQLite::Statement kept(db.sql(), R"sql(
    SELECT 1 FROM decision WHERE case_id = ? AND automated = 0 AND undone_at IS NULL
      AND action IN ('dismiss', 'restore'))sql");
  kept.bind(1, case_id);
  if (kept.executeStep()) return false;
  Post post = GetPost(db, c.target_id);
  if (post.status != "visible" || IsStaffRole(post.author_role)) return false;
  WritePostStatus(db, post.id, "hidden");
  // The ground is the most serious reason reported, never "illegal": only a human finds content illegal.
  SQLite::Statement ground_query(db.sql(), R"sql(
    SELECT reason, count(*) FROM report WHERE case_id = ? AND reason != 'illegal' GROUP BY reason
    ORDER BY max(weight) DESC, count(*) DESC LIMIT 1)sql");
  ground_query.bind(1, case_id);
  ground_query.executeStep();
  const std::string ground = ground_query.getColumn(0).getString();
  SQLite::Statement reports(db.sql(), "SELECT count(*) FROM report WHERE case_id = ?");
  reports.bind(1, case_id);
  reports.executeStep();
  const std::string facts =
      fmt::format("{} signalement(s) de {} membre(s), score {:.1f} (seuil de la commune atteint)",
                  reports.getColumn(0).getInt64(), c.reporters, c.score);
  json statement = Statement("hide", "post", ground, "", true, facts);
  SQLite::Statement insert(db.sql(), R"sql(
    INSERT INTO decision (case_id, target_type, target_id, action, reason, automated, statement, created_at)
    VALUES (?, 'post', ?, 'hide', ?, 1, ?, ?))sql");
  insert.bind(1, case_id);
  insert.bind(2, post.id);
  insert.bind(3, ground);
  insert.bind(4, statement.dump());
  insert.bind(5, NowIso());
  insert.exec();
  SQLite::Statement mark(db.sql(),
                         "UPDATE moderation_case SET auto_hidden = 1, version = version + 1 WHERE id = ?");
  mark.bind(1, case_id);
  mark.exec();
  AppendAudit(db, "system", "post.hide", fmt::format("post:{}", post.id), ground,
              {{"automated", true}, {"case", case_id}, {"score", c.score}, {"reporters", c.reporters}});
  return true;
}

}  // namespace

ReportOutcome AddReport(Db& db, const NewReport& report) {
  ValidateReason(report.reason);
  if (report.details.size() > 2000) throw Error("the details are longer than 2000 bytes");
  if (report.reason == "illegal") {
    // A notice of illegal content must identify its author and state good faith (EU DSA art. 16).
    if (report.notifier_name.empty() || report.notifier_email.empty() || report.details.empty() ||
        !report.good_faith)
      throw Error(
          "a report of illegal content is a legal notice: it needs the notifier's name and e-mail, an "
          "explanation and a statement of good faith",
          "give --notifier-name, --notifier-email, --details and --good-faith");
    ValidateEmail(report.notifier_email);
  }
  auto transaction = db.Write();
  Member reporter = FindMember(db, report.reporter);
  if (!reporter.removed_at.empty()) throw Error(fmt::format("member '#{}' has been removed", reporter.id));
  if (std::string restriction = ActiveRestriction(db, reporter.id);
      restriction == "suspension" || restriction == "ban")
    throw ForbiddenError(
        fmt::format("member '#{}' cannot report: their account is under a {}", reporter.id, restriction));
  std::string type = "post";
  std::string_view id_text = report.target;
  if (id_text.starts_with("post:"))
    id_text.remove_prefix(5);
  else if (id_text.starts_with("member:")) {
    type = "member";
    id_text.remove_prefix(7);
  }
  const int64_t target_id = ParseId(id_text, "target");
  if (type == "post") {
    Post post = GetPost(db, target_id);
    if (post.author_id == reporter.id) throw Error("members cannot report their own posts");
  } else {
    FindMember(db, std::to_string(target_id));
    if (target_id == reporter.id) throw Error("members cannot report themselves");
  }
  const int64_t case_id = OpenCase(db, type, target_id);
  SQLite::Statement dup(db.sql(), "SELECT 1 FROM report WHERE case_id = ? AND reporter_id = ?");
  dup.bind(1, case_id);
  dup.bind(2, reporter.id);
  if (dup.executeStep())
    throw Error(fmt::format("member '#{}' has already reported {} {}", reporter.id, type, target_id),
                "a member reports a target once; add details to the case with 'voisinage mod show'");
  const double weight = ReporterWeight(db, reporter) * ReasonSeverity(report.reason);
  ReportOutcome outcome;
  outcome.report_id = InsertReport(db, case_id, reporter.id, report.reason, report.details,
                                   Snapshot(db, type, target_id), weight, &report);
  AppendAudit(db, fmt::format("member:{}", reporter.id), "report.add", fmt::format("{}:{}", type, target_id),
              report.reason, {{"case", case_id}, {"report", outcome.report_id}, {"weight", weight}});
  outcome.auto_hidden = MaybeAutoHide(db, case_id);
  transaction.commit();
  outcome.moderation_case = ReadCase(db, case_id);
  return outcome;
}

int64_t FlagPost(Db& db, int64_t post_id, const std::string& rule, const std::string& action) {
  const int64_t case_id = OpenCase(db, "post", post_id);
  // One automated report per case: a second edit firing a rule adds nothing.
  SQLite::Statement existing(db.sql(), "SELECT 1 FROM report WHERE case_id = ? AND reporter_id IS NULL");
  existing.bind(1, case_id);
  if (existing.executeStep()) return case_id;
  InsertReport(db, case_id, std::nullopt, "other", fmt::format("word rule '{}' ({})", rule, action),
               Snapshot(db, "post", post_id), ReasonSeverity("other"), nullptr);
  return case_id;
}

std::vector<Case> ModerationQueue(Db& db, const QueueFilter& filter) {
  std::string sql = "SELECT c.id FROM moderation_case c WHERE 1";
  if (!filter.status.empty() && filter.status != "all") sql += " AND c.status = :status";
  if (!filter.kind.empty()) sql += " AND c.target_type = :kind";
  if (!filter.reason.empty()) {
    ValidateReason(filter.reason);
    sql += " AND EXISTS (SELECT 1 FROM report r WHERE r.case_id = c.id AND r.reason = :reason)";
  }
  int64_t neighbourhood_id = 0;
  if (!filter.neighbourhood.empty()) {
    neighbourhood_id = ResolveNeighbourhood(db, filter.neighbourhood).id;
    sql +=
        " AND ((c.target_type = 'post' AND (SELECT neighbourhood_id FROM post WHERE id = c.target_id) = :n) "
        "OR "
        "(c.target_type = 'member' AND (SELECT neighbourhood_id FROM member WHERE id = c.target_id) = :n))";
  }
  if (!filter.since.empty()) sql += " AND c.opened_at >= :since";
  int64_t assignee = 0;
  if (!filter.assignee.empty()) {
    assignee = FindMember(db, filter.assignee).id;
    sql += " AND c.claimed_by = :assignee AND c.claimed_until > strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";
  }
  // Priority: urgent, then hidden automatically (waiting for a human), then score plus a point a day of age.
  sql +=
      " ORDER BY c.urgent DESC, c.auto_hidden DESC, c.score + (julianday('now') - julianday(c.opened_at)) "
      "DESC, "
      "c.id LIMIT :limit";
  SQLite::Statement query(db.sql(), sql);
  if (!filter.status.empty() && filter.status != "all") query.bind(":status", filter.status);
  if (!filter.kind.empty()) query.bind(":kind", filter.kind);
  if (!filter.reason.empty()) query.bind(":reason", filter.reason);
  if (neighbourhood_id) query.bind(":n", neighbourhood_id);
  if (!filter.since.empty()) query.bind(":since", FormatIso(ParseIso(filter.since)));
  if (assignee) query.bind(":assignee", assignee);
  query.bind(":limit", filter.limit);
  std::vector<int64_t> ids;
  while (query.executeStep()) ids.push_back(query.getColumn(0).getInt64());
  std::vector<Case> cases;
  for (int64_t id : ids) cases.push_back(ReadCase(db, id));
  return cases;
}

json ShowCase(Db& db, int64_t case_id) {
  Case c = ReadCase(db, case_id);
  json out = ToJson(c);
  json reports = json::array();
  SQLite::Statement query(db.sql(), R"sql(
    SELECT r.id, coalesce(r.reporter_id, 0), coalesce(m.display_name, 'word rule'), coalesce(m.role, ''), r.reason,
           r.details, r.snapshot, r.weight, r.notifier_name, r.notifier_email, r.good_faith, r.outcome, r.created_at
    FROM report r LEFT JOIN member m ON m.id = r.reporter_id WHERE r.case_id = ? ORDER BY r.id)sql");
  query.bind(1, case_id);
  json first_snapshot;
  while (query.executeStep()) {
    json snapshot = json::parse(query.getColumn(6).getString(), nullptr, false);
    if (first_snapshot.is_null()) first_snapshot = snapshot;
    json r = {{"id", query.getColumn(0).getInt64()},
              {"reporter",
               {{"id", query.getColumn(1).getInt64()},
                {"display_name", query.getColumn(2).getString()},
                {"role", query.getColumn(3).getString()}}},
              {"reason", query.getColumn(4).getString()},
              {"details", query.getColumn(5).getString()},
              {"weight", query.getColumn(7).getDouble()},
              {"outcome", query.getColumn(11).getString()},
              {"created_at", query.getColumn(12).getString()}};
    if (!query.getColumn(8).getString().empty())
      r["legal_notice"] = {{"name", query.getColumn(8).getString()},
                           {"email", query.getColumn(9).getString()},
                           {"good_faith", query.getColumn(10).getInt() != 0}};
    reports.push_back(r);
  }
  out["reports"] = reports;
  out["as_reported"] = first_snapshot;
  int64_t author_id = c.target_id;
  if (c.target_type == "post") {
    Post now = GetPost(db, c.target_id);
    out["now"] = ToJson(now);
    author_id = now.author_id;
  } else {
    out["now"] = Snapshot(db, "member", c.target_id);
  }
  // The author's history: other cases about them or their posts, and their restrictions.
  json history = {{"cases", json::array()}, {"restrictions", json::array()}};
  SQLite::Statement cases(db.sql(), R"sql(
    SELECT c.id, c.target_type, c.target_id, c.status, c.opened_at FROM moderation_case c
    WHERE c.id != ?1 AND ((c.target_type = 'member' AND c.target_id = ?2) OR
          (c.target_type = 'post' AND c.target_id IN (SELECT id FROM post WHERE author_id = ?2)))
    ORDER BY c.id DESC LIMIT 20)sql");
  cases.bind(1, case_id);
  cases.bind(2, author_id);
  while (cases.executeStep())
    history["cases"].push_back(
        {{"id", cases.getColumn(0).getInt64()},
         {"target", fmt::format("{}:{}", cases.getColumn(1).getString(), cases.getColumn(2).getInt64())},
         {"status", cases.getColumn(3).getString()},
         {"opened_at", cases.getColumn(4).getString()}});
  SQLite::Statement restrictions(db.sql(), R"sql(
    SELECT kind, starts_at, coalesce(until, ''), coalesce(lifted_at, '') FROM restriction WHERE member_id = ?
    ORDER BY id DESC)sql");
  restrictions.bind(1, author_id);
  while (restrictions.executeStep())
    history["restrictions"].push_back({{"kind", restrictions.getColumn(0).getString()},
                                       {"since", restrictions.getColumn(1).getString()},
                                       {"until", restrictions.getColumn(2).getString()},
                                       {"lifted_at", restrictions.getColumn(3).getString()}});
  out["author_history"] = history;
  json decisions = json::array();
  for (const Decision& d : ListDecisions(db, case_id)) decisions.push_back(ToJson(d));
  out["decisions"] = decisions;
  return out;
}

namespace {

Decision DecideInTransaction(Db& db, const DecisionRequest& request);

}  // namespace

Decision Decide(Db& db, const DecisionRequest& request) {
  auto transaction = db.Write();
  Decision d = DecideInTransaction(db, request);
  transaction.commit();
  return d;
}

namespace {

Decision DecideInTransaction(Db& db, const DecisionRequest& request) {
  static const std::vector<std::string> kContent = {"dismiss", "hide", "restore", "remove", "lock"};
  static const std::vector<std::string> kAccount = {"warn", "silence", "suspend", "ban", "unsuspend"};
  const bool content = std::find(kContent.begin(), kContent.end(), request.action) != kContent.end();
  const bool account = std::find(kAccount.begin(), kAccount.end(), request.action) != kAccount.end();
  if (!content && !account) throw Error(fmt::format("unknown decision '{}'", request.action));
  ValidateReason(request.reason);
  if (request.note.size() > 2000) throw Error("the note is longer than 2000 bytes");
  // One instant for the whole decision: its date, the case's closing and the 90 days of a strike.
  const TimePoint decided_at = Now();
  std::string until;
  if (request.action == "silence" || request.action == "suspend") {
    if (request.until.empty()) throw Error(fmt::format("'{}' needs --until DATE", request.action));
    TimePoint end = ParseIso(request.until);
    if (end <= decided_at)
      throw Error(fmt::format("the date '{}' is in the past", request.until), "give a future date");
    until = FormatIso(end);
  }
  Member moderator = FindMember(db, request.moderator);
  if (moderator.role != "moderator" && moderator.role != "admin")
    throw Error(fmt::format("member '#{}' is {}, not a moderator", moderator.id, moderator.role));

  Decision d;
  d.action = request.action;
  d.reason = request.reason;
  d.note = request.note;
  d.until = until;
  d.moderator_id = moderator.id;
  std::string facts;
  json before, after;
  if (content) {
    // "post:12" acts on the post's case, opened now if nobody reported it (a moderator's own initiative).
    const int64_t case_id =
        request.target.starts_with("post:")
            ? OpenCase(db, "post", GetPost(db, ParseId(request.target.substr(5), "post")).id)
            : ParseId(request.target, "case");
    Case c = ReadCase(db, case_id);
    if (c.status == "closed") {
      SQLite::Statement last(db.sql(), R"sql(
        SELECT d.action, coalesce(m.display_name, 'automated'), d.created_at FROM decision d
        LEFT JOIN member m ON m.id = d.moderator_id WHERE d.case_id = ? ORDER BY d.id DESC LIMIT 1)sql");
      last.bind(1, c.id);
      std::string by = last.executeStep()
                           ? fmt::format(" ({} by {} at {})", last.getColumn(0).getString(),
                                         last.getColumn(1).getString(), last.getColumn(2).getString())
                           : "";
      throw ConflictError(fmt::format("case {} is already closed{}", c.id, by), "nothing was changed");
    }
    SQLite::Statement claimed(db.sql(), R"sql(
      SELECT m.display_name FROM moderation_case c JOIN member m ON m.id = c.claimed_by
      WHERE c.id = ? AND c.claimed_by != ? AND c.claimed_until > ?)sql");
    claimed.bind(1, c.id);
    claimed.bind(2, moderator.id);
    claimed.bind(3, FormatIso(decided_at));
    if (claimed.executeStep())
      throw ConflictError(
          fmt::format("case {} is being triaged by {}", c.id, claimed.getColumn(0).getString()),
          "wait for their decision, or take another case; nothing was changed");
    if (request.expected_version >= 0 && request.expected_version != c.version)
      throw ConflictError(
          fmt::format("case {} changed while you were looking at it (another moderator or a new "
                      "report)",
                      c.id),
          "look at it again with 'voisinage mod show'; nothing was changed");
    if (c.target_type != "post" && request.action != "dismiss")
      throw Error(
          fmt::format("case {} is about a member: use warn, silence, suspend or ban on the member", c.id));
    d.case_id = c.id;
    d.target_type = c.target_type;
    d.target_id = c.target_id;
    facts = fmt::format("{} signalement(s) : {}", c.reporters, fmt::join(c.reasons, ", "));
    if (c.target_type == "post") {
      Post post = GetPost(db, c.target_id);
      before = {{"status", post.status}, {"locked", post.locked}};
      if (request.action == "hide") WritePostStatus(db, post.id, "hidden");
      if (request.action == "remove") WritePostStatus(db, post.id, "removed");
      // Keeping a post publishes it again when it was hidden automatically or held by a word rule.
      if (request.action == "restore" ||
          (request.action == "dismiss" && (c.auto_hidden || post.status == "held")))
        WritePostStatus(db, post.id, "visible");
      if (request.action == "lock") {
        SQLite::Statement lock(db.sql(), "UPDATE post SET locked = 1 WHERE id = ?");
        lock.bind(1, post.id);
        lock.exec();
      }
      Post now = GetPost(db, post.id);
      after = {{"status", now.status}, {"locked", now.locked}};
    }
    SQLite::Statement close(db.sql(), R"sql(
      UPDATE moderation_case SET status = 'closed', closed_at = ?1, updated_at = ?1, version = version + 1,
        claimed_by = NULL, claimed_until = NULL,
        auto_hidden = CASE WHEN ?3 IN ('dismiss', 'restore') THEN 0 ELSE auto_hidden END
      WHERE id = ?2)sql");
    close.bind(1, FormatIso(decided_at));
    close.bind(2, c.id);
    close.bind(3, request.action);
    close.exec();
    // Reporters' accuracy: their reports were upheld unless the case was dismissed or restored.
    SQLite::Statement outcome(db.sql(), "UPDATE report SET outcome = ? WHERE case_id = ? AND outcome = ''");
    outcome.bind(1, request.action == "dismiss" || request.action == "restore" ? "dismissed" : "upheld");
    outcome.bind(2, c.id);
    outcome.exec();
  } else {
    Member member = FindMember(db, request.target);
    if (member.id == moderator.id) throw Error("moderators cannot decide about their own account");
    if (request.action != "unsuspend" && IsStaffRole(member.role) && moderator.role != "admin")
      throw Error(
          fmt::format("member '#{}' is {}: only an admin can restrict staff", member.id, member.role));
    d.target_type = "member";
    d.target_id = member.id;
    before = {{"restriction", ActiveRestriction(db, member.id)}};
    facts = request.note;
  }
  d.automated = false;
  const std::string strike_until = FormatIso(decided_at + std::chrono::days(90));
  d.statement =
      Statement(d.action, d.target_type, d.reason, d.action == "warn" ? strike_until : d.until, false, facts);
  d.created_at = FormatIso(decided_at);
  SQLite::Statement insert(db.sql(), R"sql(
    INSERT INTO decision (case_id, target_type, target_id, action, reason, note, moderator_id, automated, until,
                          statement, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?))sql");
  if (d.case_id) insert.bind(1, d.case_id);
  insert.bind(2, d.target_type);
  insert.bind(3, d.target_id);
  insert.bind(4, d.action);
  insert.bind(5, d.reason);
  insert.bind(6, d.note);
  insert.bind(7, d.moderator_id);
  if (!d.until.empty()) insert.bind(8, d.until);
  insert.bind(9, d.statement.dump());
  insert.bind(10, d.created_at);
  insert.exec();
  d.id = db.sql().getLastInsertRowid();
  if (content && d.target_type == "post" && (d.action == "hide" || d.action == "remove")) {
    // Hidden or removed content is a strike against its author, for 90 days.
    SQLite::Statement strike(db.sql(), R"sql(
      INSERT INTO restriction (member_id, kind, decision_id, starts_at, until)
      SELECT author_id, 'warning', ?, ?, ? FROM post WHERE id = ?)sql");
    strike.bind(1, d.id);
    strike.bind(2, d.created_at);
    strike.bind(3, strike_until);
    strike.bind(4, d.target_id);
    strike.exec();
  }
  if (account) {
    if (request.action == "unsuspend") {
      SQLite::Statement lift(db.sql(), R"sql(
        UPDATE restriction SET lifted_at = ?1 WHERE member_id = ?2 AND lifted_at IS NULL AND kind != 'warning')sql");
      lift.bind(1, d.created_at);
      lift.bind(2, d.target_id);
      if (lift.exec() == 0) throw Error(fmt::format("member '#{}' has no restriction to lift", d.target_id));
    } else {
      const char* kind = request.action == "warn"      ? "warning"
                         : request.action == "silence" ? "silence"
                         : request.action == "suspend" ? "suspension"
                                                       : "ban";
      // A warning is a strike that expires after 90 days.
      std::string expiry = request.action == "warn" ? strike_until : d.until;
      SQLite::Statement restrict(db.sql(), R"sql(
        INSERT INTO restriction (member_id, kind, decision_id, starts_at, until) VALUES (?, ?, ?, ?, ?))sql");
      restrict.bind(1, d.target_id);
      restrict.bind(2, kind);
      restrict.bind(3, d.id);
      restrict.bind(4, d.created_at);
      if (!expiry.empty()) restrict.bind(5, expiry);
      restrict.exec();
    }
    after = {{"restriction", ActiveRestriction(db, d.target_id)}};
  }
  AppendAudit(db, fmt::format("member:{}", moderator.id), fmt::format("{}.{}", d.target_type, d.action),
              fmt::format("{}:{}", d.target_type, d.target_id), d.reason,
              {{"decision", d.id},
               {"case", d.case_id},
               {"note", d.note},
               {"until", d.until},
               {"before", before},
               {"after", after}});
  return d;
}

}  // namespace

BulkFilter ParseBulkFilter(const std::string& where) {
  BulkFilter filter;
  for (const std::string& part : Split(where, ',')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string key = part.substr(0, eq), value = eq == std::string::npos ? "" : part.substr(eq + 1);
    if (value.empty())
      throw Error(fmt::format("invalid filter '{}'", part), "write KEY=VALUE, e.g. author=12");
    if (key == "author")
      filter.author = value;
    else if (key == "reason")
      filter.reason = value;
    else if (key == "neighbourhood")
      filter.neighbourhood = value;
    else
      throw Error(
          fmt::format("unknown filter '{}'{}", key, DidYouMean(key, {"author", "reason", "neighbourhood"})),
          "filters: author=MEMBER, reason=REASON, neighbourhood=SLUG");
  }
  if (filter.author.empty() && filter.reason.empty() && filter.neighbourhood.empty())
    throw Error("an empty filter would select every open case", "give author=, reason= or neighbourhood=");
  return filter;
}

std::vector<Decision> DecideBulk(Db& db, const DecisionRequest& request, const BulkFilter& filter,
                                 bool dry_run) {
  auto transaction = db.Write();
  std::string sql = "SELECT c.id FROM moderation_case c WHERE c.status = 'open' AND c.target_type = 'post'";
  int64_t author = 0, neighbourhood = 0;
  if (!filter.author.empty()) {
    author = FindMember(db, filter.author).id;
    sql += " AND (SELECT author_id FROM post WHERE id = c.target_id) = :author";
  }
  if (!filter.reason.empty()) {
    ValidateReason(filter.reason);
    sql += " AND EXISTS (SELECT 1 FROM report r WHERE r.case_id = c.id AND r.reason = :reason)";
  }
  if (!filter.neighbourhood.empty()) {
    neighbourhood = ResolveNeighbourhood(db, filter.neighbourhood).id;
    sql += " AND (SELECT neighbourhood_id FROM post WHERE id = c.target_id) = :neighbourhood";
  }
  sql += " ORDER BY c.id";
  SQLite::Statement query(db.sql(), sql);
  if (author) query.bind(":author", author);
  if (!filter.reason.empty()) query.bind(":reason", filter.reason);
  if (neighbourhood) query.bind(":neighbourhood", neighbourhood);
  std::vector<int64_t> ids;
  while (query.executeStep()) ids.push_back(query.getColumn(0).getInt64());
  std::vector<Decision> decisions;
  for (int64_t id : ids) {
    if (dry_run) {
      Decision d;
      d.case_id = id;
      d.action = request.action;
      Case c = ReadCase(db, id);
      d.target_type = c.target_type;
      d.target_id = c.target_id;
      decisions.push_back(d);
      continue;
    }
    DecisionRequest one = request;
    one.target = std::to_string(id);
    decisions.push_back(DecideInTransaction(db, one));
  }
  if (!dry_run) transaction.commit();
  return decisions;
}

namespace {

void UndoInTransaction(Db& db, int64_t decision_id, const Member& moderator, const std::string& why);

}  // namespace

Decision UndoDecision(Db& db, int64_t decision_id, const std::string& moderator_ref) {
  auto transaction = db.Write();
  Member moderator = FindMember(db, moderator_ref);
  UndoInTransaction(db, decision_id, moderator, "undo");
  transaction.commit();
  return ReadDecision(db, decision_id);
}

namespace {

void UndoInTransaction(Db& db, int64_t decision_id, const Member& moderator, const std::string& why) {
  if (moderator.role != "moderator" && moderator.role != "admin")
    throw Error(fmt::format("member '#{}' is {}, not a moderator", moderator.id, moderator.role));
  SQLite::Statement query(db.sql(), R"sql(
    SELECT coalesce(case_id, 0), target_type, target_id, action, undone_at IS NOT NULL FROM decision WHERE id = ?)sql");
  query.bind(1, decision_id);
  if (!query.executeStep()) throw Error(fmt::format("unknown decision '{}'", decision_id));
  const int64_t case_id = query.getColumn(0).getInt64();
  const std::string type = query.getColumn(1).getString(), action = query.getColumn(3).getString();
  const int64_t target = query.getColumn(2).getInt64();
  if (query.getColumn(4).getInt()) throw Error(fmt::format("decision {} was already undone", decision_id));
  if (action == "unsuspend") throw Error("an unsuspension cannot be undone: suspend the member again");
  if (type == "post") {
    if (action == "hide" || action == "remove") WritePostStatus(db, target, "visible");
    if (action == "lock") {
      SQLite::Statement unlock(db.sql(), "UPDATE post SET locked = 0 WHERE id = ?");
      unlock.bind(1, target);
      unlock.exec();
    }
    if (action == "dismiss" || action == "restore") {
      // The case had auto-hidden the post: undoing the dismissal hides it again.
      SQLite::Statement hidden(db.sql(), "SELECT auto_hidden FROM moderation_case WHERE id = ?");
      hidden.bind(1, case_id);
      if (hidden.executeStep() && hidden.getColumn(0).getInt()) WritePostStatus(db, target, "hidden");
    }
  }
  // Restrictions and strikes the decision imposed go with it.
  SQLite::Statement lift(db.sql(),
                         "UPDATE restriction SET lifted_at = ? WHERE decision_id = ? AND lifted_at IS NULL");
  lift.bind(1, NowIso());
  lift.bind(2, decision_id);
  lift.exec();
  if (case_id) {
    SQLite::Statement reopen(db.sql(), R"sql(
      UPDATE moderation_case SET status = 'open', closed_at = NULL, updated_at = ?1, version = version + 1
      WHERE id = ?2)sql");
    reopen.bind(1, NowIso());
    reopen.bind(2, case_id);
    reopen.exec();
    SQLite::Statement outcome(db.sql(), "UPDATE report SET outcome = '' WHERE case_id = ?");
    outcome.bind(1, case_id);
    outcome.exec();
  }
  SQLite::Statement mark(db.sql(), "UPDATE decision SET undone_at = ? WHERE id = ?");
  mark.bind(1, NowIso());
  mark.bind(2, decision_id);
  mark.exec();
  AppendAudit(db, fmt::format("member:{}", moderator.id), "decision." + why,
              fmt::format("decision:{}", decision_id), "",
              {{"action", action}, {"target", fmt::format("{}:{}", type, target)}, {"case", case_id}});
}

}  // namespace

bool ClaimCase(Db& db, int64_t case_id, int64_t moderator_id, int minutes) {
  auto transaction = db.Write();
  SQLite::Statement claim(db.sql(), R"sql(
    UPDATE moderation_case SET claimed_by = ?1, claimed_until = ?2
    WHERE id = ?3 AND status = 'open' AND (claimed_by IS NULL OR claimed_by = ?1 OR claimed_until <= ?4))sql");
  const TimePoint now = Now();
  claim.bind(1, moderator_id);
  claim.bind(2, FormatIso(now + std::chrono::minutes(minutes)));
  claim.bind(3, case_id);
  claim.bind(4, FormatIso(now));
  const bool claimed = claim.exec() == 1;
  transaction.commit();
  return claimed;
}

void ReleaseCase(Db& db, int64_t case_id, int64_t moderator_id) {
  auto transaction = db.Write();
  SQLite::Statement release(db.sql(), R"sql(
    UPDATE moderation_case SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?)sql");
  release.bind(1, case_id);
  release.bind(2, moderator_id);
  release.exec();
  transaction.commit();
}

namespace {

std::vector<Decision> QueryDecisions(Db& db, const char* where, int64_t id) {
  SQLite::Statement query(db.sql(), fmt::format(R"sql(
    SELECT id, coalesce(case_id, 0), target_type, target_id, action, reason, note, coalesce(moderator_id, 0),
           automated, coalesce(until, ''), statement, created_at
    FROM decision WHERE {} = ? ORDER BY id DESC)sql",
                                                where));
  query.bind(1, id);
  std::vector<Decision> decisions;
  while (query.executeStep()) {
    Decision d;
    d.id = query.getColumn(0).getInt64();
    d.case_id = query.getColumn(1).getInt64();
    d.target_type = query.getColumn(2).getString();
    d.target_id = query.getColumn(3).getInt64();
    d.action = query.getColumn(4).getString();
    d.reason = query.getColumn(5).getString();
    d.note = query.getColumn(6).getString();
    d.moderator_id = query.getColumn(7).getInt64();
    d.automated = query.getColumn(8).getInt() != 0;
    d.until = query.getColumn(9).getString();
    d.statement = json::parse(query.getColumn(10).getString(), nullptr, false);
    d.created_at = query.getColumn(11).getString();
    decisions.push_back(d);
  }
  return decisions;
}

}  // namespace

std::vector<Decision> ListDecisions(Db& db, int64_t case_id) {
  return QueryDecisions(db, "case_id", case_id);
}

Decision ReadDecision(Db& db, int64_t decision_id) {
  std::vector<Decision> found = QueryDecisions(db, "id", decision_id);
  if (found.empty()) throw Error(fmt::format("unknown decision '{}'", decision_id));
  return found.front();
}

namespace {

Appeal ReadAppeal(Db& db, int64_t id) {
  SQLite::Statement query(db.sql(), R"sql(
    SELECT id, decision_id, appellant_id, coalesce(decided_by, 0), text, status, decision_note, created_at,
           coalesce(decided_at, '') FROM appeal WHERE id = ?)sql");
  query.bind(1, id);
  if (!query.executeStep())
    throw Error(fmt::format("unknown appeal '{}'", id), "list them with 'voisinage mod appeal list'");
  Appeal a;
  a.id = query.getColumn(0).getInt64();
  a.decision_id = query.getColumn(1).getInt64();
  a.appellant_id = query.getColumn(2).getInt64();
  a.decided_by = query.getColumn(3).getInt64();
  a.text = query.getColumn(4).getString();
  a.status = query.getColumn(5).getString();
  a.decision_note = query.getColumn(6).getString();
  a.created_at = query.getColumn(7).getString();
  a.decided_at = query.getColumn(8).getString();
  return a;
}

}  // namespace

Appeal AddAppeal(Db& db, int64_t decision_id, const std::string& appellant_ref, const std::string& text) {
  if (text.empty() || text.size() > 4000) throw Error("an appeal needs a text of 1 to 4000 bytes");
  auto transaction = db.Write();
  Member appellant = FindMember(db, appellant_ref);
  SQLite::Statement query(db.sql(), R"sql(
    SELECT d.action, d.target_type, d.target_id, d.created_at, coalesce(d.case_id, 0), d.undone_at IS NOT NULL,
           CASE d.target_type WHEN 'post' THEN (SELECT author_id FROM post WHERE id = d.target_id) ELSE d.target_id END
    FROM decision d WHERE d.id = ?)sql");
  query.bind(1, decision_id);
  if (!query.executeStep()) throw Error(fmt::format("unknown decision '{}'", decision_id));
  const std::string action = query.getColumn(0).getString();
  if (query.getColumn(5).getInt()) throw Error(fmt::format("decision {} was already undone", decision_id));
  if (Now() - ParseIso(query.getColumn(3).getString()) > std::chrono::days(183))
    throw Error(
        fmt::format("decision {} is more than six months old: it can no longer be appealed", decision_id));
  const int64_t affected = query.getColumn(6).getInt64(), case_id = query.getColumn(4).getInt64();
  bool allowed = false;
  if (action == "dismiss" || action == "restore") {
    SQLite::Statement reporter(db.sql(), "SELECT 1 FROM report WHERE case_id = ? AND reporter_id = ?");
    reporter.bind(1, case_id);
    reporter.bind(2, appellant.id);
    allowed = reporter.executeStep();
  } else {
    allowed = affected == appellant.id;
  }
  if (!allowed)
    throw Error(fmt::format("member '#{}' cannot appeal decision {}", appellant.id, decision_id),
                "the member a decision restricted may appeal it, and a reporter may appeal a dismissal");
  SQLite::Statement insert(
      db.sql(), "INSERT INTO appeal (decision_id, appellant_id, text, created_at) VALUES (?, ?, ?, ?)");
  insert.bind(1, decision_id);
  insert.bind(2, appellant.id);
  insert.bind(3, text);
  insert.bind(4, NowIso());
  try {
    insert.exec();
  } catch (const SQLite::Exception&) {
    throw Error(fmt::format("member '#{}' has already appealed decision {}", appellant.id, decision_id));
  }
  const int64_t id = db.sql().getLastInsertRowid();
  AppendAudit(db, fmt::format("member:{}", appellant.id), "appeal.add",
              fmt::format("decision:{}", decision_id), "", {{"appeal", id}});
  transaction.commit();
  return ReadAppeal(db, id);
}

std::vector<Appeal> ListAppeals(Db& db, const std::string& status) {
  SQLite::Statement query(db.sql(), "SELECT id FROM appeal WHERE ? = '' OR status = ? ORDER BY id");
  query.bind(1, status);
  query.bind(2, status);
  std::vector<int64_t> ids;
  while (query.executeStep()) ids.push_back(query.getColumn(0).getInt64());
  std::vector<Appeal> appeals;
  for (int64_t id : ids) appeals.push_back(ReadAppeal(db, id));
  return appeals;
}

Appeal DecideAppeal(Db& db, int64_t appeal_id, const std::string& outcome, const std::string& moderator_ref,
                    const std::string& note) {
  if (outcome != "uphold" && outcome != "reject") throw Error(fmt::format("unknown outcome '{}'", outcome));
  auto transaction = db.Write();
  Appeal appeal = ReadAppeal(db, appeal_id);
  if (appeal.status != "open")
    throw ConflictError(fmt::format("appeal {} was already {}", appeal_id, appeal.status));
  Member moderator = FindMember(db, moderator_ref);
  if (moderator.role != "moderator" && moderator.role != "admin")
    throw Error(fmt::format("member '#{}' is {}, not a moderator", moderator.id, moderator.role));
  SQLite::Statement original(db.sql(), "SELECT coalesce(moderator_id, 0) FROM decision WHERE id = ?");
  original.bind(1, appeal.decision_id);
  original.executeStep();
  if (original.getColumn(0).getInt64() == moderator.id)
    throw Error("an appeal is decided by another moderator than the one who took the decision");
  if (outcome == "uphold") UndoInTransaction(db, appeal.decision_id, moderator, "reversed_on_appeal");
  SQLite::Statement update(db.sql(), R"sql(
    UPDATE appeal SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? WHERE id = ?)sql");
  update.bind(1, outcome == "uphold" ? "upheld" : "rejected");
  update.bind(2, moderator.id);
  update.bind(3, NowIso());
  update.bind(4, note);
  update.bind(5, appeal_id);
  update.exec();
  AppendAudit(db, fmt::format("member:{}", moderator.id), "appeal." + outcome,
              fmt::format("appeal:{}", appeal_id), "", {{"decision", appeal.decision_id}, {"note", note}});
  transaction.commit();
  return ReadAppeal(db, appeal_id);
}

int64_t ExpireRestrictions(Db& db) {
  auto transaction = db.Write();
  const std::string now = NowIso();
  SQLite::Statement expired(db.sql(), R"sql(
    SELECT id, member_id, kind FROM restriction WHERE lifted_at IS NULL AND until IS NOT NULL AND until <= ?)sql");
  expired.bind(1, now);
  std::vector<std::tuple<int64_t, int64_t, std::string>> rows;
  while (expired.executeStep())
    rows.emplace_back(expired.getColumn(0).getInt64(), expired.getColumn(1).getInt64(),
                      expired.getColumn(2).getString());
  SQLite::Statement lift(db.sql(), "UPDATE restriction SET lifted_at = ? WHERE id = ?");
  for (const auto& [id, member, kind] : rows) {
    lift.bind(1, now);
    lift.bind(2, id);
    lift.exec();
    lift.reset();
    AppendAudit(db, "system", "restriction.expire", fmt::format("member:{}", member), "", {{"kind", kind}});
  }
  SQLite::Statement claims(
      db.sql(),
      "UPDATE moderation_case SET claimed_by = NULL, claimed_until = NULL WHERE claimed_until <= ?");
  claims.bind(1, now);
  claims.exec();
  transaction.commit();
  return static_cast<int64_t>(rows.size());
}

json ModerationStats(Db& db, const std::string& since) {
  const std::string from = since.empty() ? "0000" : FormatIso(ParseIso(since));
  auto count = [&](const std::string& sql) {  // `?` in `sql`, if any, is the start of the period
    SQLite::Statement q(db.sql(), sql);
    if (sql.find('?') != std::string::npos) q.bind(1, from);
    q.executeStep();
    return q.getColumn(0).getInt64();
  };
  json out;
  out["since"] = since.empty() ? json(nullptr) : json(from);
  out["cases_opened"] = count("SELECT count(*) FROM moderation_case WHERE opened_at >= ?");
  out["cases_closed"] = count("SELECT count(*) FROM moderation_case WHERE closed_at >= ?");
  out["cases_open_now"] = count("SELECT count(*) FROM moderation_case WHERE status = 'open'");
  // Median hours from a case's opening to its first human decision.
  SQLite::Statement delays(db.sql(), R"sql(
    SELECT (julianday(min(d.created_at)) - julianday(c.opened_at)) * 24 FROM moderation_case c
    JOIN decision d ON d.case_id = c.id AND d.automated = 0 WHERE d.created_at >= ? GROUP BY c.id ORDER BY 1)sql");
  delays.bind(1, from);
  std::vector<double> hours;
  while (delays.executeStep()) hours.push_back(delays.getColumn(0).getDouble());
  out["median_hours_to_decision"] = hours.empty() ? json(nullptr) : json(hours[hours.size() / 2]);
  json by_action = json::object(), by_reason = json::object();
  SQLite::Statement decisions(
      db.sql(), "SELECT action, reason, count(*) FROM decision WHERE created_at >= ? GROUP BY 1, 2");
  decisions.bind(1, from);
  while (decisions.executeStep()) {
    const std::string action = decisions.getColumn(0).getString(),
                      reason = decisions.getColumn(1).getString();
    const int64_t n = decisions.getColumn(2).getInt64();
    by_action[action] = by_action.value(action, int64_t{0}) + n;
    by_reason[reason] = by_reason.value(reason, int64_t{0}) + n;
  }
  out["decisions_by_action"] = by_action;
  out["decisions_by_reason"] = by_reason;
  out["automated_decisions"] = count("SELECT count(*) FROM decision WHERE automated = 1 AND created_at >= ?");
  out["reversed_on_appeal"] =
      count("SELECT count(*) FROM appeal WHERE status = 'upheld' AND decided_at >= ?");
  out["appeals_open"] = count("SELECT count(*) FROM appeal WHERE status = 'open'");
  const int64_t upheld = count("SELECT count(*) FROM report WHERE outcome = 'upheld' AND created_at >= ?");
  const int64_t decided = count("SELECT count(*) FROM report WHERE outcome != '' AND created_at >= ?");
  out["reporter_accuracy"] = decided ? json(double(upheld) / double(decided)) : json(nullptr);
  out["reports"] = count("SELECT count(*) FROM report WHERE created_at >= ?");
  return out;
}

json ToJson(const Appeal& a) {
  return {{"id", a.id},
          {"decision", a.decision_id},
          {"appellant", a.appellant_id},
          {"text", a.text},
          {"status", a.status},
          {"decided_by", a.decided_by ? json(a.decided_by) : json(nullptr)},
          {"decided_at", a.decided_at.empty() ? json(nullptr) : json(a.decided_at)},
          {"note", a.decision_note},
          {"created_at", a.created_at}};
}

json ToJson(const Case& c) {
  return {{"id", c.id},
          {"target", fmt::format("{}:{}", c.target_type, c.target_id)},
          {"status", c.status},
          {"score", c.score},
          {"urgent", c.urgent},
          {"auto_hidden", c.auto_hidden},
          {"reporters", c.reporters},
          {"reasons", c.reasons},
          {"excerpt", c.excerpt},
          {"neighbourhood", c.neighbourhood.empty() ? json(nullptr) : json(c.neighbourhood)},
          {"version", c.version},
          {"opened_at", c.opened_at},
          {"updated_at", c.updated_at},
          {"closed_at", c.closed_at.empty() ? json(nullptr) : json(c.closed_at)}};
}

json ToJson(const Decision& d) {
  return {{"id", d.id},
          {"case", d.case_id ? json(d.case_id) : json(nullptr)},
          {"target", fmt::format("{}:{}", d.target_type, d.target_id)},
          {"action", d.action},
          {"reason", d.reason},
          {"note", d.note},
          {"moderator", d.moderator_id ? json(d.moderator_id) : json(nullptr)},
          {"automated", d.automated},
          {"until", d.until.empty() ? json(nullptr) : json(d.until)},
          {"statement", d.statement},
          {"created_at", d.created_at}};
}

}  // namespace voisinage
