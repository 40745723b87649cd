// voisinage init: create the database, or apply a town file to it.

#include <filesystem>

#include "cmd/cli.h"
#include "lib/store/schema.h"
#include "lib/town/town_apply.h"

namespace voisinage {

namespace init_command {

struct InitOptions {
  std::string from;
  bool dry_run = false;
  bool json = false;
};

void PrintDiff(const TownDiff& diff, const Invocation& invocation) {
  if (diff.empty()) {
    Say(invocation, "no change: the database already matches the town file");
    return;
  }
  for (const std::string& section : TownFileSections()) {
    size_t added = diff.Count(section, "added"), changed = diff.Count(section, "changed");
    size_t archived = diff.Count(section, "archived") + diff.Count(section, "removed");
    if (added + changed + archived == 0) continue;
    Say(invocation, fmt::format("{}: {} added, {} changed, {} archived", section, added, changed, archived));
    for (const TownChange& change : diff.changes) {
      if (change.section != section) continue;
      const char* mark = change.kind == "added" ? "+" : change.kind == "changed" ? "~" : "-";
      Say(invocation,
          fmt::format("  {} {}{}", mark, Printable(change.key),
                      change.details.empty()
                          ? ""
                          : ": " + Printable(fmt::format("{}", fmt::join(change.details, "; ")))));
    }
  }
  if (diff.dry_run) Say(invocation, "dry run: nothing was written");
}

int RunInit(const InitOptions& options, Invocation& invocation) {
  std::optional<TownFile> file;
  if (!options.from.empty())
    file = LoadTownFile(options.from);  // a bad file is refused before any file is created

  const std::string path = ResolveDbPath(invocation.global.db);
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (options.dry_run) {
    // A dry run works on a copy in memory (or an empty database): it never creates, migrates or locks the
    // file.
    Db scratch = exists ? Db::OpenCopyInMemory(path, invocation.global.busy_timeout_ms) : Db::OpenInMemory();
    TownDiff diff = file ? ApplyTownFile(scratch, *file, true) : TownDiff{{}, true};
    if (options.json) {
      nlohmann::json out = ToJson(diff);
      out["database"] = path;
      out["created"] = !exists;
      PrintJson(out);
      return 0;
    }
    // The difference is what a dry run is asked for: printed even with --quiet.
    Invocation loud = invocation;
    loud.global.quiet = false;
    if (!exists) Say(loud, fmt::format("'{}' does not exist yet: it would be created", path));
    PrintDiff(diff, loud);
    return 0;
  }
  // A new file is created with its town all at once: interrupted, it leaves no database (an existing file
  // gets the difference in one transaction).
  TownDiff diff;
  auto apply = [&](Db& target) {
    if (file) diff = ApplyTownFile(target, *file, false);
  };
  invocation.db_path = path;
  Db db = exists ? OpenDb(invocation, OpenMode::kCreate)
                 : Db::CreateAtomically(path, apply, invocation.global.busy_timeout_ms);
  if (exists) apply(db);
  if (options.json) {
    nlohmann::json out = ToJson(diff);
    out["database"] = db.path();
    out["created"] = db.created();
    out["schema_version"] = LatestSchemaVersion();
    PrintJson(out);
    return 0;
  }
  if (db.created())
    Say(invocation, fmt::format("created '{}' (schema version {})", db.path(), LatestSchemaVersion()));
  if (file)
    PrintDiff(diff, invocation);
  else if (!db.created())
    Say(invocation, fmt::format("'{}' is up to date (schema version {})", db.path(), LatestSchemaVersion()));
  return 0;
}

}  // namespace init_command

void SetupInit(CLI::App& app, Invocation& invocation) {
  using namespace init_command;
  auto options = std::make_shared<InitOptions>();
  CLI::App* init = app.add_subcommand("init", "Create the database, or apply a town file to it");
  init->add_option("--from", options->from, "Town file (YAML) to apply; see voisinage-town-file(5)")
      ->option_text("FILE");
  init->add_flag("--dry-run", options->dry_run, "Print the difference without writing anything");
  AddJsonFlag(init, options->json);
  OnRun(init, invocation, options, RunInit);
}

}  // namespace voisinage
