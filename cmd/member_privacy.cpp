// voisinage member export|erase: a member's rights over their personal data (RGPD art. 15 and 17).

#include "cmd/cli.h"
#include "lib/atomic_file.h"
#include "lib/privacy/member_data.h"

namespace voisinage {

namespace member_privacy_command {

struct ExportOptions {
  std::string member, output;
};
struct EraseOptions {
  std::string member;
  bool keep_posts = false, remove_posts = false;
  bool dry_run = false;
  bool json = false;
};

int RunExport(const ExportOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  const nlohmann::json data = ExportMemberData(db, options.member);
  const std::string text = data.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (options.output.empty() || options.output == "-") {
    std::cout << text;
    return 0;
  }
  AtomicFileStream file(options.output);  // 0600: the file holds personal data
  file << text;
  file.Commit();
  if (!invocation.global.quiet)
    std::cerr << fmt::format("wrote the personal data of member #{} to '{}'\n",
                             data["member"]["id"].get<int64_t>(), options.output);
  return 0;
}

int RunErase(const EraseOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  ErasureOptions erasure;
  erasure.remove_posts = !options.keep_posts;
  erasure.dry_run = options.dry_run;
  const ErasureSummary summary = EraseMember(db, options.member, erasure);
  if (options.json) {
    PrintJson(ToJson(summary));
    return 0;
  }
  // What a dry run would change is what it was asked for: printed even with --quiet.
  Invocation loud = invocation;
  loud.global.quiet = invocation.global.quiet && !summary.dry_run;
  Say(loud,
      fmt::format("{} member #{} (posts {}), logged as '{}':", summary.dry_run ? "would erase" : "erased",
                  summary.member_id, summary.posts_removed ? "removed" : "kept", summary.pseudonym));
  for (const auto& [table, count] : summary.changes)
    if (count > 0) Say(loud, fmt::format("  {:<20} {} row(s)", table, count));
  if (summary.dry_run)
    Say(loud, "dry run: nothing was written");
  else if (!summary.wal_checkpointed)
    std::cerr << "voisinage: warning: another process is reading the database: the old data stays in its "
                 "write-ahead log until the next checkpoint\n";
  return 0;
}

}  // namespace member_privacy_command

void SetupMemberPrivacy(CLI::App& group, Invocation& invocation) {
  using namespace member_privacy_command;
  auto exp = std::make_shared<ExportOptions>();
  CLI::App* e =
      group.add_subcommand("export", "Every personal datum held about a member, as JSON (RGPD art. 15)");
  e->add_option("member", exp->member, "Member id or e-mail")->required();
  e->add_option("-o,--output", exp->output, "Write to FILE (mode 0600, complete or not at all)")
      ->option_text("FILE");
  OnRun(e, invocation, exp, RunExport);

  auto erase = std::make_shared<EraseOptions>();
  CLI::App* r = group.add_subcommand("erase", "Anonymise a member everywhere, irreversibly (RGPD art. 17)");
  r->add_option("member", erase->member, "Member id or e-mail")->required();
  auto* keep = r->add_flag("--keep-posts", erase->keep_posts,
                           "Keep their posts and replies, signed by the anonymised member");
  auto* remove = r->add_flag("--remove-posts", erase->remove_posts,
                             "Remove their posts and replies and wipe their text (the default)");
  keep->excludes(remove);
  r->add_flag("--dry-run", erase->dry_run, "Print what would change, per table; write nothing");
  AddJsonFlag(r, erase->json);
  OnRun(r, invocation, erase, RunErase);
}

}  // namespace voisinage
