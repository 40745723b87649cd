// voisinage: the command-line skin. Parses the command line, runs one command, turns errors into messages
// and exit codes. The work is in lib/; see cmd/cli.h for the checklist to add a subcommand.

#include <unistd.h>
#include <csignal>

#include <cerrno>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cmd/cli.h"
#include "lib/error.h"
#include "lib/text/suggest.h"

namespace voisinage {

void SetupInit(CLI::App& app, Invocation& invocation);
void SetupTown(CLI::App& app, Invocation& invocation);
void SetupNeighbourhood(CLI::App& app, Invocation& invocation);
void SetupMember(CLI::App& app, Invocation& invocation);
void SetupInvite(CLI::App& app, Invocation& invocation);
void SetupImport(CLI::App& app, Invocation& invocation);
void SetupDirectory(CLI::App& app, Invocation& invocation);
void SetupPost(CLI::App& app, Invocation& invocation);
void SetupReport(CLI::App& app, Invocation& invocation);
void SetupMod(CLI::App& app, Invocation& invocation);
void SetupGrievance(CLI::App& app, Invocation& invocation);
void SetupToken(CLI::App& app, Invocation& invocation);
void SetupServe(CLI::App& app, Invocation& invocation);
void SetupDb(CLI::App& app, Invocation& invocation);

namespace main_command {

// Exit codes, documented under EXIT STATUS in voisinage(1).
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Command {
  const char* name;
  void (*setup)(CLI::App&, Invocation&);
};

// Every subcommand, in the order `voisinage --help` lists them.
constexpr Command kCommands[] = {
    {"init", SetupInit},
    {"town", SetupTown},
    {"neighbourhood", SetupNeighbourhood},
    {"member", SetupMember},
    {"invite", SetupInvite},
    {"import", SetupImport},
    {"directory", SetupDirectory},
    {"post", SetupPost},
    {"report", SetupReport},
    {"mod", SetupMod},
    {"grievance", SetupGrievance},
    {"token", SetupToken},
    {"serve", SetupServe},
    {"db", SetupDb},
};

void PrintError(const std::string& message, const std::string& hint) {
  std::cerr << "voisinage: error: " << Printable(message) << '\n';
  if (!hint.empty()) std::cerr << "hint: " << Printable(hint) << '\n';
}

std::string Lowercased(std::string text) {
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = char(text[0] - 'A' + 'a');
  return text;
}

int Main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f), a write fails with EFBIG and gets a clear error instead of the
  // signal killing the process halfway through.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"voisinage: administration and moderation of a town's neighbourhood platform"};
  app.name("voisinage");
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", std::string("voisinage ") + VOISINAGE_VERSION);
  Invocation invocation;
  app.add_option("--db", invocation.global.db, "Database file (default: $VOISINAGE_DB, else ./voisinage.db)")
      ->option_text("FILE");
  app.add_flag("-q,--quiet", invocation.global.quiet, "Print only what was asked for (data, errors)");
  app.add_option("--busy-timeout", invocation.global.busy_timeout_ms,
                 "Milliseconds to wait for another process's write lock (default 10000)")
      ->option_text("MS")
      ->check(CLI::Range(0, 600000));
  for (const Command& command : kCommands) command.setup(app, invocation);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = Lowercased(e.what());
    // CLI11 reports an unknown command as a missing one: name it instead.
    if (app.get_subcommands().empty()) {
      std::vector<std::string> names;
      for (const Command& command : kCommands) names.push_back(command.name);
      for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.starts_with("-")) {
          if ((arg == "--db" || arg == "--busy-timeout") && i + 1 < argc) ++i;
          continue;
        }
        message = fmt::format("unknown command '{}'{}", arg, DidYouMean(arg, names));
        break;
      }
    }
    PrintError(message, "see 'voisinage --help' or 'voisinage COMMAND --help'");
    return kExitUsage;
  }

  int code = kExitFailure;
  try {
    code = invocation.run();
  } catch (const Error& e) {
    PrintError(e.what(), e.hint());
    return kExitFailure;
  } catch (const SQLite::Exception& e) {
    Error error = DescribeSqliteError(
        e, invocation.db_path.empty() ? ResolveDbPath(invocation.global.db) : invocation.db_path,
        invocation.global.busy_timeout_ms);
    PrintError(error.what(), error.hint());
    return kExitFailure;
  } catch (const std::exception& e) {
    PrintError(Lowercased(e.what()), "");
    return kExitFailure;
  }
  // Output that did not reach its destination (full disk, closed pipe) is a failure, not a success.
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0) {
    PrintError(fmt::format("cannot write to standard output: {}", std::strerror(errno ? errno : EIO)), "");
    return kExitFailure;
  }
  return code;
}

}  // namespace main_command
}  // namespace voisinage

int main(int argc, char** argv) {
  return voisinage::main_command::Main(argc, argv);
}
