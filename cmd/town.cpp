// voisinage town show|set: the town's identity and moderation thresholds.

#include "lib/town/town.h"
#include "cmd/cli.h"

namespace voisinage {

namespace town_command {

struct TownShowOptions {
  bool json = false;
};

struct TownSetOptions {
  TownChanges changes;
  std::vector<std::string> postcodes;
  bool json = false;
};

void PrintTown(const Town& town) {
  const TownIdentity& t = town.identity;
  auto optional = [](const auto& value) {
    return value ? fmt::format("{}", *value) : std::string("not set");
  };
  PrintTable({"FIELD", "VALUE"}, {{"name", t.name},
                                  {"insee", t.insee},
                                  {"postcodes", fmt::format("{}", fmt::join(t.postcodes, ", "))},
                                  {"timezone", t.timezone},
                                  {"url", t.url.empty() ? "not set" : t.url},
                                  {"auto-hide score", optional(town.auto_hide_score)},
                                  {"auto-hide reporters", optional(town.auto_hide_reporters)},
                                  {"updated", town.updated_at}});
}

int RunTownShow(const TownShowOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Town town = GetTown(db);
  options.json ? PrintJson(ToJson(town)) : PrintTown(town);
  return 0;
}

int RunTownSet(const TownSetOptions& options, Invocation& invocation) {
  TownChanges changes = options.changes;
  if (!options.postcodes.empty()) changes.postcodes = options.postcodes;
  Db db = OpenDb(invocation);
  Town town = SetTown(db, changes);
  if (options.json)
    PrintJson(ToJson(town));
  else if (!invocation.global.quiet)
    PrintTown(town);
  return 0;
}

}  // namespace town_command

void SetupTown(CLI::App& app, Invocation& invocation) {
  using namespace town_command;
  CLI::App* town = app.add_subcommand("town", "Show or change the town's identity");
  town->require_subcommand(1);

  auto show_options = std::make_shared<TownShowOptions>();
  CLI::App* show = town->add_subcommand("show", "Show the town");
  AddJsonFlag(show, show_options->json);
  OnRun(show, invocation, show_options, RunTownShow);

  auto set_options = std::make_shared<TownSetOptions>();
  CLI::App* set = town->add_subcommand("set", "Change the town (or create it when the database has none)");
  TownChanges& c = set_options->changes;
  set->add_option("--name", c.name, "Town name")->option_text("NAME");
  set->add_option("--insee", c.insee, "INSEE commune code (5 characters)")->option_text("CODE");
  set->add_option("--postcode", set_options->postcodes, "Postcode; repeat for several (replaces the list)")
      ->option_text("POSTCODE");
  set->add_option("--timezone", c.timezone, "IANA time zone, e.g. Europe/Paris")->option_text("ZONE");
  set->add_option("--url", c.url, "Public address of the town's voisinage site")->option_text("URL");
  set->add_option("--auto-hide-score", c.auto_hide_score, "Report score that hides content automatically")
      ->option_text("SCORE");
  set->add_option("--auto-hide-reporters", c.auto_hide_reporters,
                  "Distinct reporters that hide content automatically")
      ->option_text("N");
  AddJsonFlag(set, set_options->json);
  set->parse_complete_callback([set_options] {
    TownChanges changes = set_options->changes;
    if (!set_options->postcodes.empty()) changes.postcodes = set_options->postcodes;
    if (changes.empty())
      throw CLI::ValidationError("nothing to change: give at least one option (see --help)");
  });
  OnRun(set, invocation, set_options, RunTownSet);
}

}  // namespace voisinage
