// voisinage mod: the moderator's terminal — queue, show, decisions, the audit log (and word rules, in
// cmd/mod_rules.cpp).

#include <sstream>

#include "cmd/mod.h"
#include "lib/atomic_file.h"
#include "lib/moderation/dsa_export.h"
#include "lib/moderation/moderation.h"
#include "lib/store/audit_log.h"

namespace voisinage {

namespace mod_command {

struct QueueOptions {
  QueueFilter filter;
  bool json = false;
};
struct ShowOptions {
  int64_t id = 0;
  bool json = false;
};
struct DecideOptions {
  DecisionRequest request;
  std::string where;
  bool dry_run = false;
  bool json = false;
};
struct AppealAddOptions {
  int64_t decision = 0;
  std::string by, text;
  bool json = false;
};
struct AppealListOptions {
  std::string status;
  bool json = false;
};
struct AppealDecideOptions {
  int64_t appeal = 0;
  bool uphold = false, reject = false;
  std::string as, note;
  bool json = false;
};
struct StatsOptions {
  std::string since;
  bool json = false;
};
struct ExpireOptions {
  bool json = false;
};
struct LogOptions {
  AuditFilter filter;
  bool json = false;
};
struct VerifyOptions {
  bool json = false;
};
struct ExportOptions {
  std::string since, format = "jsonl", output;
};

std::string Age(const std::string& since) {
  const auto seconds = (Now() - ParseIso(since)).count();
  if (seconds < 3600) return fmt::format("{}m", seconds / 60);
  if (seconds < 86400) return fmt::format("{}h", seconds / 3600);
  return fmt::format("{}d", seconds / 86400);
}

int RunQueue(const QueueOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  std::vector<Case> cases = ModerationQueue(db, options.filter);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Case& c : cases) out.push_back(ToJson(c));
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const Case& c : cases)
    rows.push_back({std::to_string(c.id), Age(c.opened_at), fmt::format("{:.1f}", c.score),
                    std::string(c.urgent ? "URGENT " : "") + (c.auto_hidden ? "hidden " : "") +
                        fmt::format("{}", fmt::join(c.reasons, ",")),
                    fmt::format("{}:{}", c.target_type, c.target_id), c.excerpt, c.neighbourhood});
  PrintTable({"CASE", "AGE", "SCORE", "REASONS", "TARGET", "EXCERPT", "NEIGHBOURHOOD"}, rows);
  return 0;
}

}  // namespace mod_command

void PrintCase(const nlohmann::json& c, size_t max_text, size_t max_reports) {
  auto text = [max_text](const nlohmann::json& value) {
    // max_text + 3: the cut text, then "..."
    return Shorten(Printable(value.is_string() ? value.get<std::string>() : value.dump()),
                   max_text == std::string::npos ? max_text : max_text + 3);
  };
  std::cout << fmt::format("case {} · {} · {} · score {} · {} reporter(s){}{}\n", text(c["id"]),
                           text(c["target"]), text(c["status"]), text(c["score"]), text(c["reporters"]),
                           c["urgent"].get<bool>() ? " · URGENT" : "",
                           c["auto_hidden"].get<bool>() ? " · hidden automatically" : "");
  auto post = [&](const char* heading, const nlohmann::json& p) {
    if (!p.is_object()) return;
    std::cout << heading << '\n';
    if (p.contains("body")) {
      std::cout << fmt::format("  {} by {} ({}), {}\n", text(p["kind"]), text(p["author"]["display_name"]),
                               text(p["status"]), text(p["created_at"]));
      if (!p["title"].get<std::string>().empty()) std::cout << "  " << text(p["title"]) << '\n';
      std::cout << "  " << text(p["body"]) << '\n';
    } else {
      std::cout << "  member " << text(p["display_name"]) << " (" << text(p["role"]) << ")\n";
    }
  };
  post("as reported:", c["as_reported"]);
  post("now:", c["now"]);
  std::cout << "reports:\n";
  size_t shown = 0;
  for (const auto& r : c["reports"]) {
    if (++shown > max_reports) {
      std::cout << fmt::format("  ... and {} more (mod show {})\n", c["reports"].size() - max_reports,
                               text(c["id"]));
      break;
    }
    std::cout << fmt::format("  {} {} by {} ({}): {}{}\n", text(r["created_at"]), text(r["reason"]),
                             text(r["reporter"]["display_name"]), text(r["reporter"]["role"]),
                             text(r["details"]), r.contains("legal_notice") ? " [legal notice]" : "");
  }
  const auto& history = c["author_history"];
  std::cout << fmt::format("author's history: {} other case(s), {} restriction(s)\n", history["cases"].size(),
                           history["restrictions"].size());
  for (const auto& r : history["restrictions"])
    std::cout << fmt::format("  {} since {}{}\n", text(r["kind"]), text(r["since"]),
                             r["until"].get<std::string>().empty() ? "" : " until " + text(r["until"]));
  if (!c["decisions"].empty()) std::cout << "decisions:\n";
  for (const auto& d : c["decisions"])
    std::cout << fmt::format("  {} {} ({}){}\n", text(d["created_at"]), text(d["action"]), text(d["reason"]),
                             d["automated"].get<bool>() ? ", automated" : "");
}

namespace mod_command {

int RunShow(const ShowOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  nlohmann::json c = ShowCase(db, options.id);
  options.json ? PrintJson(c) : PrintCase(c, std::string::npos, std::string::npos);
  return 0;
}

int RunDecide(const DecideOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  if (!options.where.empty()) {
    std::vector<Decision> all =
        DecideBulk(db, options.request, ParseBulkFilter(options.where), options.dry_run);
    if (options.json) {
      nlohmann::json out = nlohmann::json::array();
      for (const Decision& d : all) out.push_back(ToJson(d));
      PrintJson({{"dry_run", options.dry_run}, {"count", all.size()}, {"decisions", out}});
      return 0;
    }
    std::cout << fmt::format(
        "{} {} case(s) matching '{}'{}\n",
        options.dry_run ? "would " + options.request.action : options.request.action + ":", all.size(),
        Printable(options.where), options.dry_run ? " (dry run: nothing written)" : "");
    for (const Decision& d : all)
      std::cout << fmt::format("  case {} ({}:{})\n", d.case_id, d.target_type, d.target_id);
    return 0;
  }
  if (options.request.target.empty()) throw Error("give a case, or --where FILTER for a bulk decision");
  Decision d = Decide(db, options.request);
  if (options.json)
    PrintJson(ToJson(d));
  else
    Say(invocation, fmt::format("decision {}: {} {}:{} ({}){}", d.id, d.action, d.target_type, d.target_id,
                                d.reason, d.case_id ? fmt::format(", case {} closed", d.case_id) : ""));
  return 0;
}

int RunLog(const LogOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  std::vector<AuditEntry> entries = ListAudit(db, options.filter);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const AuditEntry& e : entries) out.push_back(ToJson(e));
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const AuditEntry& e : entries)
    rows.push_back({std::to_string(e.id), e.at, e.actor, e.action, e.target, e.reason});
  PrintTable({"ID", "AT", "ACTOR", "ACTION", "TARGET", "REASON"}, rows);
  return 0;
}

int RunVerify(const VerifyOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  int64_t checked = 0;
  std::optional<AuditBreak> broken = VerifyAudit(db, &checked);
  if (options.json)
    PrintJson({{"ok", !broken},
               {"checked", checked},
               {"broken_at", broken ? nlohmann::json(broken->id) : nlohmann::json(nullptr)},
               {"problem", broken ? nlohmann::json(broken->problem) : nlohmann::json(nullptr)}});
  if (broken)
    throw Error(fmt::format("the audit log is broken at entry {}: {}", broken->id, broken->problem),
                "the log was changed outside voisinage; restore a backup to find out what");
  if (!options.json) Say(invocation, fmt::format("ok: {} entries, every link intact", checked));
  return 0;
}

int RunExport(const ExportOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  if (options.output.empty() || options.output == "-") {
    ExportDecisions(db, options.since, options.format, std::cout);
    return 0;
  }
  AtomicFileStream file(options.output);
  int64_t count = ExportDecisions(db, options.since, options.format, file);
  file.Commit();
  if (!invocation.global.quiet)
    std::cerr << fmt::format("wrote {} statement(s) of reasons to '{}'\n", count, options.output);
  return 0;
}

int RunAppealAdd(const AppealAddOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Appeal a = AddAppeal(db, options.decision, options.by, options.text);
  options.json ? PrintJson(ToJson(a))
               : Say(invocation, fmt::format("appeal {} against decision {} recorded", a.id, a.decision_id));
  return 0;
}

int RunAppealList(const AppealListOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  std::vector<Appeal> appeals = ListAppeals(db, options.status);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Appeal& a : appeals) out.push_back(ToJson(a));
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const Appeal& a : appeals)
    rows.push_back({std::to_string(a.id), std::to_string(a.decision_id), "#" + std::to_string(a.appellant_id),
                    a.status, a.created_at, a.text.substr(0, 50)});
  PrintTable({"APPEAL", "DECISION", "BY", "STATUS", "CREATED", "TEXT"}, rows);
  return 0;
}

int RunAppealDecide(const AppealDecideOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Appeal a = DecideAppeal(db, options.appeal, options.uphold ? "uphold" : "reject", options.as, options.note);
  options.json ? PrintJson(ToJson(a))
               : Say(invocation, fmt::format("appeal {} {}{}", a.id, a.status,
                                             a.status == "upheld" ? ": the decision is reversed" : ""));
  return 0;
}

int RunStats(const StatsOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  nlohmann::json stats = ModerationStats(db, options.since);
  if (options.json) {
    PrintJson(stats);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [key, value] : stats.items())
    rows.push_back({key, value.is_string() ? value.get<std::string>() : value.dump()});
  PrintTable({"FIGURE", "VALUE"}, rows);
  return 0;
}

int RunExpire(const ExpireOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  int64_t lifted = ExpireRestrictions(db);
  options.json ? PrintJson({{"lifted", lifted}})
               : Say(invocation, fmt::format("{} expired restriction(s) lifted", lifted));
  return 0;
}

void AddDecision(CLI::App* mod, Invocation& invocation, const std::string& action,
                 const std::string& description, bool on_member) {
  auto options = std::make_shared<DecideOptions>();
  options->request.action = action;
  CLI::App* c = mod->add_subcommand(action, description);
  auto* target = c->add_option(on_member ? "member" : "case", options->request.target,
                               on_member ? "Member id or e-mail" : "Case id (or post:ID)");
  if (on_member) target->required();
  c->add_option("--reason", options->request.reason, "Ground: spam, scam, harassment, hate, ... or other")
      ->option_text("CODE")
      ->required();
  c->add_option("--note", options->request.note, "Facts, for the statement of reasons")->option_text("TEXT");
  c->add_option("--as", options->request.moderator, "The moderator deciding (default: $VOISINAGE_MODERATOR)")
      ->option_text("MODERATOR")
      ->envname("VOISINAGE_MODERATOR")
      ->required();
  if (action == "silence" || action == "suspend")
    c->add_option("--until", options->request.until, "End of the restriction: YYYY-MM-DD")
        ->option_text("DATE")
        ->required();
  if (!on_member) {
    c->add_option("--expect-version", options->request.expected_version,
                  "Refuse if the case changed since this version (as shown by mod show --json)")
        ->option_text("N");
    c->add_option("--where", options->where,
                  "Bulk: every open post case matching author=MEMBER,reason=R,neighbourhood=SLUG")
        ->option_text("FILTER")
        ->excludes(target);
    c->add_flag("--dry-run", options->dry_run, "With --where: list the cases, change nothing");
  }
  AddJsonFlag(c, options->json);
  OnRun(c, invocation, options, RunDecide);
}

}  // namespace mod_command

void SetupMod(CLI::App& app, Invocation& invocation) {
  using namespace mod_command;
  CLI::App* mod =
      app.add_subcommand("mod", "Moderate: the queue of cases, decisions, word rules, the audit log");
  mod->require_subcommand(1);

  auto queue = std::make_shared<QueueOptions>();
  CLI::App* q =
      mod->add_subcommand("queue", "Cases by priority: urgent, hidden automatically, score and age");
  q->add_option("--status", queue->filter.status, "open (default), closed or all")
      ->option_text("STATUS")
      ->check(CLI::IsMember({"open", "closed", "all"}));
  q->add_option("--reason", queue->filter.reason, "Only cases with a report for this reason")
      ->option_text("REASON");
  q->add_option("--neighbourhood", queue->filter.neighbourhood, "Only this neighbourhood")
      ->option_text("SLUG");
  q->add_option("--kind", queue->filter.kind, "post or member")
      ->option_text("post|member")
      ->check(CLI::IsMember({"post", "member"}));
  q->add_option("--since", queue->filter.since, "Only cases opened since DATE")->option_text("DATE");
  q->add_option("--assignee", queue->filter.assignee, "Only cases this moderator is triaging now")
      ->option_text("MEMBER");
  q->add_option("--limit", queue->filter.limit, "At most N cases (default 50)")->option_text("N");
  AddJsonFlag(q, queue->json);
  OnRun(q, invocation, queue, RunQueue);

  auto show = std::make_shared<ShowOptions>();
  CLI::App* s =
      mod->add_subcommand("show", "A case: the target as reported and now, reports, history, decisions");
  s->add_option("case", show->id, "Case id")->required();
  AddJsonFlag(s, show->json);
  OnRun(s, invocation, show, RunShow);

  AddDecision(mod, invocation, "dismiss", "Close a case without action (an automatic hiding is undone)",
              false);
  AddDecision(mod, invocation, "hide", "Hide the reported post and close the case", false);
  AddDecision(mod, invocation, "restore", "Show the reported post again and close the case", false);
  AddDecision(mod, invocation, "remove", "Remove the reported post and close the case", false);
  AddDecision(mod, invocation, "lock", "Close the reported post to replies and close the case", false);
  AddDecision(mod, invocation, "warn", "Warn a member (a strike that expires after 90 days)", true);
  AddDecision(mod, invocation, "silence", "Stop a member posting until a date", true);
  AddDecision(mod, invocation, "suspend", "Suspend a member's account until a date", true);
  AddDecision(mod, invocation, "ban", "Close a member's account for good", true);
  AddDecision(mod, invocation, "unsuspend", "Lift a member's silence, suspension or ban", true);

  SetupModRules(*mod, invocation);
  SetupModTriage(*mod, invocation);

  CLI::App* appeal = mod->add_subcommand("appeal", "Appeals against decisions: add, list, decide");
  appeal->require_subcommand(1);
  auto appeal_add = std::make_shared<AppealAddOptions>();
  CLI::App* aa = appeal->add_subcommand("add", "Record an appeal (six months after the decision at most)");
  aa->add_option("decision", appeal_add->decision, "Decision id")->required();
  aa->add_option("--by", appeal_add->by, "The appealing member: id or e-mail")
      ->option_text("MEMBER")
      ->required();
  aa->add_option("--text", appeal_add->text, "The member's arguments")->option_text("TEXT")->required();
  AddJsonFlag(aa, appeal_add->json);
  OnRun(aa, invocation, appeal_add, RunAppealAdd);
  auto appeal_list = std::make_shared<AppealListOptions>();
  CLI::App* al = appeal->add_subcommand("list", "List appeals");
  al->add_option("--status", appeal_list->status, "open, upheld or rejected")
      ->option_text("STATUS")
      ->check(CLI::IsMember({"open", "upheld", "rejected"}));
  AddJsonFlag(al, appeal_list->json);
  OnRun(al, invocation, appeal_list, RunAppealList);
  auto appeal_decide = std::make_shared<AppealDecideOptions>();
  CLI::App* ad = appeal->add_subcommand("decide", "Uphold (reverse the decision) or reject an appeal");
  ad->add_option("appeal", appeal_decide->appeal, "Appeal id")->required();
  auto* uphold = ad->add_flag("--uphold", appeal_decide->uphold, "The appeal is right: reverse the decision");
  auto* reject = ad->add_flag("--reject", appeal_decide->reject, "Keep the decision");
  uphold->excludes(reject);
  ad->add_option("--note", appeal_decide->note, "Reasons, for the appellant")->option_text("TEXT");
  ad->add_option("--as", appeal_decide->as, "The deciding moderator, not the one who took the decision")
      ->option_text("MODERATOR")
      ->envname("VOISINAGE_MODERATOR")
      ->required();
  AddJsonFlag(ad, appeal_decide->json);
  ad->parse_complete_callback([appeal_decide] {
    if (!appeal_decide->uphold && !appeal_decide->reject) throw CLI::RequiredError("--uphold or --reject");
  });
  OnRun(ad, invocation, appeal_decide, RunAppealDecide);

  auto stats = std::make_shared<StatsOptions>();
  CLI::App* st = mod->add_subcommand("stats", "Cases, delays, decisions, appeals and reporters' accuracy");
  st->add_option("--since", stats->since, "From DATE")->option_text("DATE");
  AddJsonFlag(st, stats->json);
  OnRun(st, invocation, stats, RunStats);

  auto expire = std::make_shared<ExpireOptions>();
  CLI::App* ex =
      mod->add_subcommand("expire", "Lift ended silences and suspensions, release stale claims (cron)");
  AddJsonFlag(ex, expire->json);
  OnRun(ex, invocation, expire, RunExpire);

  auto export_options = std::make_shared<ExportOptions>();
  CLI::App* e = mod->add_subcommand(
      "export-decisions",
      "Statements of reasons in the EU DSA Transparency Database's fields, no personal data");
  e->add_option("--since", export_options->since, "Decisions taken since DATE (YYYY-MM-DD)")
      ->option_text("DATE")
      ->required();
  e->add_option("--format", export_options->format, "jsonl (default) or csv")
      ->option_text("jsonl|csv")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  e->add_option("-o,--output", export_options->output, "Write to FILE instead of standard output")
      ->option_text("FILE");
  OnRun(e, invocation, export_options, RunExport);

  auto log = std::make_shared<LogOptions>();
  CLI::App* l = mod->add_subcommand("log", "The append-only audit log of moderation and administration");
  l->add_option("--since", log->filter.since, "Entries from DATE")->option_text("DATE");
  l->add_option("--actor", log->filter.actor, "Only this actor, e.g. member:3 or system")
      ->option_text("ACTOR");
  l->add_option("--target", log->filter.target, "Only this target, e.g. post:12")->option_text("TARGET");
  l->add_option("--limit", log->filter.limit, "At most N entries (default 100)")->option_text("N");
  AddJsonFlag(l, log->json);
  OnRun(l, invocation, log, RunLog);

  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* v = l->add_subcommand("verify", "Check the hash chain; exit 1 at the first broken link");
  AddJsonFlag(v, verify->json);
  OnRun(v, invocation, verify, RunVerify);
}

}  // namespace voisinage
