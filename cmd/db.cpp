// voisinage db check|backup|migrate|vacuum|purge: the operator's tools for the database file.

#include "cmd/cli.h"
#include "lib/privacy/retention.h"
#include "lib/store/schema.h"

namespace voisinage {

namespace db_command {

struct CheckOptions {
  bool json = false;
};
struct BackupOptions {
  std::string target;
};
struct MigrateOptions {
  bool json = false;
};
struct VacuumOptions {
  bool json = false;
};
struct PurgeOptions {
  bool dry_run = false;
  bool json = false;
};

int RunCheck(const CheckOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  DbCheck check = CheckDb(db);
  if (options.json) {
    PrintJson({{"database", db.path()},
               {"ok", check.ok()},
               {"schema_version", check.schema_version},
               {"latest_schema_version", check.latest_schema_version},
               {"problems", check.problems}});
  } else if (check.ok()) {
    Say(invocation, fmt::format("ok: '{}' (schema version {}, integrity and foreign keys checked)", db.path(),
                                check.schema_version));
  } else {
    for (const std::string& problem : check.problems) std::cerr << "voisinage: problem: " << problem << '\n';
  }
  if (!check.ok())
    throw Error(fmt::format("database '{}' has {} problem(s)", db.path(), check.problems.size()),
                "restore the latest backup ('voisinage db backup' makes one)");
  return 0;
}

int RunBackup(const BackupOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  BackupDb(db, options.target);
  Say(invocation, fmt::format("backed up '{}' to '{}'", db.path(), options.target));
  return 0;
}

int RunMigrate(const MigrateOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);  // opening applies the pending migrations
  const int before = db.opened_schema_version(), after = CheckDb(db).schema_version;
  if (options.json)
    PrintJson({{"database", db.path()}, {"from_version", before}, {"to_version", after}});
  else if (before == after)
    Say(invocation, fmt::format("'{}' is up to date (schema version {})", db.path(), after));
  else
    Say(invocation, fmt::format("migrated '{}' from schema version {} to {}", db.path(), before, after));
  return 0;
}

int RunVacuum(const VacuumOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  VacuumResult result = VacuumDb(db);
  if (options.json)
    PrintJson({{"database", db.path()},
               {"bytes_before", result.bytes_before},
               {"bytes_after", result.bytes_after}});
  else
    Say(invocation, fmt::format("vacuumed '{}': {} KiB → {} KiB", db.path(), result.bytes_before / 1024,
                                result.bytes_after / 1024));
  return 0;
}

int RunPurge(const PurgeOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  const PurgeSummary summary = PurgeExpiredData(db, options.dry_run);
  if (options.json) {
    PrintJson(ToJson(summary));
    return 0;
  }
  // From cron, -q keeps it silent; a dry run prints what it was asked for even then.
  Invocation loud = invocation;
  loud.global.quiet = invocation.global.quiet && !summary.dry_run;
  const RetentionPolicy& policy = summary.policy;
  const char* verb = summary.dry_run ? "would remove" : "removed";
  Say(loud, fmt::format("{} the contact data of {} grievance(s) closed more than {} months ago", verb,
                        summary.grievance_contacts, policy.grievance_contact_months));
  Say(loud, fmt::format("{} {} unused invitation code(s) expired or revoked more than {} days ago", verb,
                        summary.invitations, policy.invitation_days_after_expiry));
  Say(loud, fmt::format("{} {} API token(s) expired or revoked more than {} days ago", verb, summary.tokens,
                        policy.token_days_after_expiry));
  Say(loud, fmt::format("{} {} expired web session(s)", verb, summary.sessions));
  if (summary.dry_run) Say(loud, "dry run: nothing was written");
  return 0;
}

}  // namespace db_command

void SetupDb(CLI::App& app, Invocation& invocation) {
  using namespace db_command;
  CLI::App* group = app.add_subcommand("db", "Check, back up, vacuum, migrate and purge the database file");
  group->require_subcommand(1);

  auto check = std::make_shared<CheckOptions>();
  CLI::App* c = group->add_subcommand("check", "Check integrity, foreign keys and schema version");
  AddJsonFlag(c, check->json);
  OnRun(c, invocation, check, RunCheck);

  auto backup = std::make_shared<BackupOptions>();
  CLI::App* b = group->add_subcommand("backup", "Copy the database safely while it is in use");
  b->add_option("file", backup->target, "Backup file to create (must not exist)")->required();
  OnRun(b, invocation, backup, RunBackup);

  auto migrate = std::make_shared<MigrateOptions>();
  CLI::App* m = group->add_subcommand("migrate", "Upgrade the database to this version's schema");
  AddJsonFlag(m, migrate->json);
  OnRun(m, invocation, migrate, RunMigrate);

  auto vacuum = std::make_shared<VacuumOptions>();
  CLI::App* v = group->add_subcommand("vacuum", "Rebuild the file to reclaim the space of deleted data");
  AddJsonFlag(v, vacuum->json);
  OnRun(v, invocation, vacuum, RunVacuum);

  auto purge = std::make_shared<PurgeOptions>();
  CLI::App* p =
      group->add_subcommand("purge", "Remove personal data past the town file's retention periods (cron)");
  p->add_flag("--dry-run", purge->dry_run, "Print what would be removed; write nothing");
  AddJsonFlag(p, purge->json);
  OnRun(p, invocation, purge, RunPurge);
}

}  // namespace voisinage
