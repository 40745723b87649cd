// voisinage init: create the database, or apply a town file to it.

#include <filesystem>

#include "cmd/cli.h"
#include "lib/store/schema.h"
#include "lib/town/town_apply.h"

namespace voisinage {

namespace {

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
      Say(invocation, fmt::format("  {} {}{}", mark, Printable(change.key),
                                  change.details.empty() ? "" : ": " + Printable(fmt::format("{}", fmt::join(change.details, "; ")))));
    }
  }
  if (diff.dry_run) Say(invocation, "dry run: nothing was written");
}

int RunInit(const InitOptions& options, Invocation& invocation) {
  std::optional<TownFile> file;
  if (!options.from.empty()) file = LoadTownFile(options.from);  // a bad file is refused before any file is created

  const std::string path = ResolveDbPath(invocation.global.db);
  std::error_code ec;
  if (options.dry_run && !std::filesystem::exists(path, ec)) {
    if (!file) {
      Say(invocation, fmt::format("dry run: '{}' would be created", path));
      return 0;
    }
    // Nothing may be created: compare against an empty database in memory.
    Db scratch = Db::OpenInMemory();
    TownDiff diff = ApplyTownFile(scratch, *file, true);
    options.json ? PrintJson(ToJson(diff)) : PrintDiff(diff, invocation);
    if (!options.json) Say(invocation, fmt::format("'{}' does not exist yet: it would be created", path));
    return 0;
  }
  Db db = OpenDb(invocation, OpenMode::kCreate);
  if (!file) {
    if (options.json)
      PrintJson({{"database", db.path()}, {"created", db.created()}, {"schema_version", LatestSchemaVersion()}});
    else
      Say(invocation, fmt::format("{} '{}' (schema version {})", db.created() ? "created" : "up to date:", db.path(),
                                  LatestSchemaVersion()));
    return 0;
  }
  TownDiff diff = ApplyTownFile(db, *file, options.dry_run);
  if (options.json) {
    nlohmann::json out = ToJson(diff);
    out["database"] = db.path();
    PrintJson(out);
  } else {
    if (db.created()) Say(invocation, fmt::format("created '{}'", db.path()));
    PrintDiff(diff, invocation);
  }
  return 0;
}

}  // namespace

void SetupInit(CLI::App& app, Invocation& invocation) {
  auto options = std::make_shared<InitOptions>();
  CLI::App* init = app.add_subcommand("init", "Create the database, or apply a town file to it");
  init->add_option("--from", options->from, "Town file (YAML) to apply; see voisinage-town-file(5)")
      ->option_text("FILE");
  init->add_flag("--dry-run", options->dry_run, "Print the difference without writing anything");
  AddJsonFlag(init, options->json);
  OnRun(init, invocation, options, RunInit);
}

}  // namespace voisinage
