#pragma once

// Shared plumbing of the subcommand files: options every command has, opening the database, printing.
// Adding a subcommand:
//   1. cmd/<group>.cpp: an options struct, Setup<Group>(CLI::App&, Invocation&), Run... functions; all but
//      Setup<Group> in `namespace <group>_command` (the files are compiled together in unity batches, so
//      their private names must not meet), which Setup<Group> brings in with `using namespace`;
//   2. an entry in kCommands in cmd/main.cpp;
//   3. the work itself in lib/ (a function taking Db&), with a unit test in tests/unit/;
//   4. an end-to-end test in tests/cli/ (normal path, bad input, misuse, --help);
//   5. man/voisinage-<group>.1 (its SYNOPSIS is checked against --help) and a line in README.md.

#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "lib/store/db.h"
#include "lib/text/strings.h"

namespace voisinage {

/// Options that apply to every command (declared on the top-level app, accepted anywhere).
struct GlobalOptions {
  std::string db;
  bool quiet = false;
  int busy_timeout_ms = kDefaultBusyTimeoutMs;
};

/// What the parsed command line asks for: the global options and the command to run.
struct Invocation {
  GlobalOptions global;
  std::function<int()> run;
  std::string db_path;  ///< resolved when the database is opened, for error messages
};

/// Makes `app` run `run(options)` when it is the command selected on the command line.
template <typename Options>
void OnRun(CLI::App* app, Invocation& invocation, std::shared_ptr<Options> options,
           int (*run)(const Options&, Invocation&)) {
  app->callback([app, &invocation, options, run] {
    // A group's callback also fires for its subcommands: only the innermost selected command runs.
    if (!app->get_subcommands().empty()) return;
    invocation.run = [&invocation, options, run] { return run(*options, invocation); };
  });
}

/// Opens the database named by --db, $VOISINAGE_DB or ./voisinage.db.
Db OpenDb(Invocation& invocation, OpenMode mode = OpenMode::kExisting);

/// Prints `value` as pretty JSON on stdout.
void PrintJson(const nlohmann::json& value);

/// Prints `line` on stdout unless --quiet.
void Say(const Invocation& invocation, const std::string& line);

/// Prints aligned columns: a header row then the rows.
void PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

/// Adds `--json` to `app`.
void AddJsonFlag(CLI::App* app, bool& json);

}  // namespace voisinage
