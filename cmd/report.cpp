// voisinage report add: report a post or a member (the server calls the same library function).

#include "cmd/cli.h"
#include "lib/moderation/moderation.h"

namespace voisinage {

namespace report_command {

struct AddOptions {
  NewReport report;
  bool json = false;
};

int RunAdd(const AddOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  ReportOutcome outcome = AddReport(db, options.report);
  if (options.json) {
    PrintJson({{"report", outcome.report_id},
               {"case", ToJson(outcome.moderation_case)},
               {"auto_hidden", outcome.auto_hidden}});
    return 0;
  }
  const Case& c = outcome.moderation_case;
  Say(invocation,
      fmt::format("report {} added to case {} (score {:.1f}, {} reporter(s){}){}", outcome.report_id, c.id,
                  c.score, c.reporters, c.urgent ? ", urgent" : "",
                  outcome.auto_hidden ? ": the post is now hidden until a moderator decides" : ""));
  return 0;
}

}  // namespace report_command

void SetupReport(CLI::App& app, Invocation& invocation) {
  using namespace report_command;
  CLI::App* group = app.add_subcommand("report", "Report a post or a member to the moderators");
  group->require_subcommand(1);
  auto add = std::make_shared<AddOptions>();
  CLI::App* a = group->add_subcommand("add", "Report a post (ID or post:ID) or a member (member:ID)");
  a->add_option("target", add->report.target, "post:ID, member:ID, or a post id")->required();
  a->add_option(
       "--reason", add->report.reason,
       "spam, scam, harassment, hate, defamation, privacy, danger, minors, off_topic, illegal or other")
      ->option_text("REASON")
      ->required();
  a->add_option("--by", add->report.reporter, "The reporting member: id or e-mail")
      ->option_text("MEMBER")
      ->required();
  a->add_option("--details", add->report.details, "What is wrong, in the reporter's words")
      ->option_text("TEXT");
  a->add_option("--notifier-name", add->report.notifier_name, "Legal notice (illegal): the notifier's name")
      ->option_text("NAME");
  a->add_option("--notifier-email", add->report.notifier_email,
                "Legal notice (illegal): the notifier's e-mail")
      ->option_text("EMAIL");
  a->add_flag("--good-faith", add->report.good_faith,
              "Legal notice (illegal): the notifier states the notice is accurate and made in good faith");
  AddJsonFlag(a, add->json);
  OnRun(a, invocation, add, RunAdd);
}

}  // namespace voisinage
