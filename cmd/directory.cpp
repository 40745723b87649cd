// voisinage directory list|show|search: the shops and associations of the town.

#include "lib/registry/directory.h"
#include "cmd/cli.h"

namespace voisinage {

namespace directory_command {

struct ListOptions {
  DirectoryQuery query;
  bool json = false;
};
struct ShowOptions {
  std::string ref;
  bool json = false;
};

void PrintEntries(const std::vector<DirectoryEntry>& entries, bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const DirectoryEntry& e : entries) out.push_back(ToJson(e));
    PrintJson(out);
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const DirectoryEntry& e : entries)
    rows.push_back({std::to_string(e.id), e.kind == "merchant" ? "shop" : "assoc",
                    e.name.empty() ? "(no public name)" : e.name, e.activity_code, e.address, e.neighbourhood,
                    e.status});
  PrintTable({"ID", "KIND", "NAME", "ACTIVITY", "ADDRESS", "NEIGHBOURHOOD", "STATUS"}, rows);
}

int RunList(const ListOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  PrintEntries(SearchDirectory(db, options.query), options.json);
  return 0;
}

int RunShow(const ShowOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  DirectoryEntry e = GetDirectoryEntry(db, options.ref);
  if (options.json) {
    PrintJson(ToJson(e));
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"id", std::to_string(e.id)},
      {"kind", e.kind},
      {e.source == "sirene" ? "siret"
       : e.source == "rna"  ? "rna number"
                            : "key",
       e.registry_key},
      {"name", e.name.empty() ? "(no public name in the registry)" : e.name}};
  auto add = [&rows](const char* field, const std::string& value) {
    if (!value.empty()) rows.push_back({field, value});
  };
  add("short name", e.short_name);
  add("activity", e.activity_label.empty() ? e.activity_code : e.activity_code + " " + e.activity_label);
  add("object", e.description);
  add("address", e.address);
  add("postcode", e.postcode);
  add("city", e.city);
  if (e.lat) rows.push_back({"position", fmt::format("{:.6f},{:.6f}", *e.lat, *e.lon)});
  add("neighbourhood", e.neighbourhood);
  add("website", e.website);
  add("phone", e.phone);
  add("e-mail", e.email);
  add("created", e.created_on);
  add("declared", e.declared_on);
  add("dissolved", e.dissolved_on);
  rows.push_back({"status", e.status});
  rows.push_back({"source", e.source});
  rows.push_back({"updated", e.updated_at});
  PrintTable({"FIELD", "VALUE"}, rows);
  return 0;
}

void AddFilters(CLI::App* c, DirectoryQuery& q) {
  c->add_option("--kind", q.kind, "merchant or association")
      ->option_text("merchant|association")
      ->check(CLI::IsMember({"merchant", "association"}));
  c->add_option("--neighbourhood", q.neighbourhood, "Only this neighbourhood")->option_text("SLUG");
  c->add_option("--naf", q.naf, "Only this activity code, e.g. 47.22Z")->option_text("CODE");
  c->add_flag("--all", q.include_closed, "Include closed shops and dissolved associations");
  c->add_option("--limit", q.limit, "At most N entries (default 50)")
      ->option_text("N")
      ->check(CLI::Range(1, 100000));
}

}  // namespace directory_command

void SetupDirectory(CLI::App& app, Invocation& invocation) {
  using namespace directory_command;
  CLI::App* group = app.add_subcommand("directory", "List, show and search the shops and associations");
  group->require_subcommand(1);

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = group->add_subcommand("list", "List entries by name");
  AddFilters(l, list->query);
  AddJsonFlag(l, list->json);
  OnRun(l, invocation, list, RunList);

  auto search = std::make_shared<ListOptions>();
  CLI::App* s =
      group->add_subcommand("search", "Search names, activities and addresses, ignoring case and accents");
  s->add_option("query", search->query.text, "Words to find, e.g. epicerie")->required();
  AddFilters(s, search->query);
  AddJsonFlag(s, search->json);
  OnRun(s, invocation, search, RunList);

  auto show = std::make_shared<ShowOptions>();
  CLI::App* sh = group->add_subcommand("show", "Show one entry");
  sh->add_option("entry", show->ref, "Entry id, SIRET or RNA number")->required();
  AddJsonFlag(sh, show->json);
  OnRun(sh, invocation, show, RunShow);
}

}  // namespace voisinage
