// voisinage grievance add|list|show|status|assign|respond|merge|stats|export: the town hall's grievances.

#include <iostream>

#include "cmd/cli.h"
#include "lib/atomic_file.h"
#include "lib/grievance/export.h"
#include "lib/grievance/grievance.h"
#include "lib/grievance/stats.h"
#include "lib/time_zone.h"
#include "lib/town/town.h"

namespace voisinage {

namespace grievance_command {

struct AddOptions {
  NewGrievance grievance;
  bool is_private = false;
  bool json = false;
};
struct ListOptions {
  GrievanceFilter filter;
  std::string statuses;
  bool json = false;
};
struct ShowOptions {
  std::string reference;
  bool json = false;
};
struct StatusOptions {
  StatusChange change;
  std::string by;
  bool json = false;
};
struct AssignOptions {
  std::string reference, note, by, at;
  std::optional<std::string> service, assignee;
  bool json = false;
};
struct RespondOptions {
  std::string reference, text, by, at;
  bool json = false;
};
struct MergeOptions {
  std::vector<std::string> duplicates;
  std::string into, by, at;
  bool json = false;
};
struct CategoriesOptions {
  bool json = false;
};
struct StatsOptions {
  GrievanceFilter filter;
  std::string statuses;
  bool json = false;
};
struct ExportOptions {
  GrievanceExport request;
  std::string statuses, output;
};

void Warn(const std::string& message) {
  std::cerr << "voisinage: warning: " << message << "\n";
}

// The comma-separated statuses of --status, spaces allowed ("open, new").
std::vector<std::string> Statuses(const std::string& list) {
  std::vector<std::string> statuses;
  for (std::string s : Split(list, ',')) {
    s.erase(0, s.find_first_not_of(' '));
    s.erase(s.find_last_not_of(' ') + 1);
    if (!s.empty()) statuses.push_back(s);
  }
  return statuses;
}

std::string Place(const Grievance& g) {
  std::string place = g.address;
  if (!g.neighbourhood.empty()) place += (place.empty() ? "" : " ") + fmt::format("({})", g.neighbourhood);
  return place;
}

void PrintLine(const Invocation& invocation, const Grievance& g, const std::string& what) {
  Say(invocation, fmt::format("{} {}: {}", g.reference, what, g.status));
}

int RunAdd(const AddOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  NewGrievance grievance = options.grievance;
  grievance.is_public = !options.is_private;
  AddedGrievance added = AddGrievance(db, grievance, "cli");
  for (const std::string& warning : added.warnings) Warn(warning);
  const Grievance& g = added.grievance;
  if (options.json) {
    PrintJson({{"grievance", ToJson(g)}, {"warnings", added.warnings}});
    return 0;
  }
  Say(invocation,
      fmt::format("grievance {} recorded ({}, {}{})", g.reference, g.category,
                  g.neighbourhood.empty() ? "no neighbourhood" : "neighbourhood " + g.neighbourhood,
                  g.service.empty() ? "" : ", service: " + g.service));
  return 0;
}

int RunList(const ListOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  GrievanceFilter filter = options.filter;
  filter.statuses = Statuses(options.statuses);
  std::vector<Grievance> list = ListGrievances(db, filter);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Grievance& g : list) out.push_back(ToJson(g));
    PrintJson(out);
    return 0;
  }
  if (list.empty()) {
    Say(invocation, "no grievance matches");
    return 0;
  }
  const TimeZone zone = TimeZone::Load(GetTown(db).identity.timezone);
  std::vector<std::vector<std::string>> rows;
  for (const Grievance& g : list)
    rows.push_back({g.reference, zone.FormatIsoLocal(ParseIso(g.created_at)).substr(0, 10), g.status,
                    g.category, Printable(Shorten(g.title, 40)), Printable(Shorten(Place(g), 30))});
  PrintTable({"REFERENCE", "RECEIVED", "STATUS", "CATEGORY", "TITLE", "WHERE"}, rows);
  return 0;
}

int RunShow(const ShowOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  const Grievance g = GetGrievance(db, options.reference);
  const std::vector<GrievanceEvent> events = GrievanceEvents(db, g.id, false);
  if (options.json) {
    nlohmann::json out = ToJson(g);
    out["events"] = nlohmann::json::array();
    for (const GrievanceEvent& e : events) out["events"].push_back(ToJson(e));
    out["followers"] = GrievanceFollowers(db, g.id);
    PrintJson(out);
    return 0;
  }
  std::cout << fmt::format("{}  {}\n", g.reference, Printable(g.title));
  std::cout << fmt::format("status:      {}{}{}\n", g.status,
                           g.expected_on.empty() ? "" : " (expected " + g.expected_on + ")",
                           g.duplicate_of.empty() ? "" : " (duplicate of " + g.duplicate_of + ")");
  std::cout << fmt::format("category:    {} ({})\n", g.category, Printable(g.category_name));
  std::cout << fmt::format(
      "service:     {}{}\n", Printable(g.service),
      g.assignee_id ? fmt::format(", assigned to {} (member {})", Printable(g.assignee_name), g.assignee_id)
                    : "");
  std::cout << fmt::format("where:       {}{}\n", Printable(Place(g)),
                           g.lat ? fmt::format(" [{:.6f}, {:.6f}]", *g.lat, *g.lon) : "");
  std::string reporter =
      g.reporter_id ? fmt::format("{} (member {})", Printable(g.reporter_name), g.reporter_id) : "anonymous";
  for (const std::string* contact : {&g.contact_name, &g.contact_email, &g.contact_phone})
    if (!contact->empty()) reporter += ", " + Printable(*contact);
  std::cout << fmt::format("reporter:    {} via {}\n", reporter, g.channel);
  std::cout << fmt::format("received:    {}\n", g.created_at);
  if (!g.acknowledged_at.empty()) std::cout << fmt::format("acknowledged: {}\n", g.acknowledged_at);
  if (!g.resolved_at.empty()) std::cout << fmt::format("resolved:    {}\n", g.resolved_at);
  if (!g.closed_at.empty()) std::cout << fmt::format("closed:      {}\n", g.closed_at);
  if (!g.is_public) std::cout << "public:      no\n";
  std::cout << "\n" << Printable(g.description) << "\n\nhistory:\n";
  for (const GrievanceEvent& e : events) {
    std::string change =
        e.old_status != e.new_status && !e.new_status.empty()
            ? fmt::format(" {} → {}", e.old_status.empty() ? "·" : e.old_status, e.new_status)
            : "";
    std::cout << fmt::format("  {}  {:<9} {}{}{}\n", e.at, e.kind, e.actor, change,
                             e.is_public ? " [public]" : "");
    if (!e.note.empty()) std::cout << "      " << Printable(e.note) << "\n";
  }
  return 0;
}

int RunStatus(const StatusOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  const Grievance g = ChangeGrievanceStatus(db, options.change, GrievanceActor(db, options.by));
  options.json ? PrintJson(ToJson(g)) : PrintLine(invocation, g, "is now");
  return 0;
}

int RunAssign(const AssignOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  const Grievance g = AssignGrievance(db, options.reference, options.service, options.assignee, options.note,
                                      GrievanceActor(db, options.by), options.at);
  if (options.json) {
    PrintJson(ToJson(g));
    return 0;
  }
  Say(invocation,
      fmt::format("{} assigned to {}{}", g.reference, g.service.empty() ? "no service" : g.service,
                  g.assignee_id ? fmt::format(" (member {})", g.assignee_id) : ""));
  return 0;
}

int RunRespond(const RespondOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  const Grievance g =
      RespondToGrievance(db, options.reference, options.text, GrievanceActor(db, options.by), options.at);
  options.json ? PrintJson(ToJson(g)) : PrintLine(invocation, g, "answered publicly; status");
  return 0;
}

int RunMerge(const MergeOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  const std::vector<Grievance> merged =
      MergeGrievances(db, options.duplicates, options.into, GrievanceActor(db, options.by), options.at);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Grievance& g : merged) out.push_back(ToJson(g));
    PrintJson(out);
    return 0;
  }
  for (const Grievance& g : merged)
    Say(invocation, fmt::format("{} merged into {}", g.reference, g.duplicate_of));
  return 0;
}

int RunCategories(const CategoriesOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  const std::vector<GrievanceCategory> categories = ListGrievanceCategories(db);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const GrievanceCategory& c : categories) out.push_back(ToJson(c));
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const GrievanceCategory& c : categories)
    rows.push_back({c.code, Printable(c.name), Printable(c.group), Printable(c.service),
                    fmt::format("{}d", c.sla_days), std::to_string(c.open), c.active ? "active" : "retired"});
  PrintTable({"CODE", "NAME", "GROUP", "SERVICE", "DELAY", "OPEN", "STATUS"}, rows);
  return 0;
}

std::string Figure(const nlohmann::json& value, const char* unit = "") {
  if (value.is_null()) return "-";
  if (value.is_number_float()) return fmt::format("{:.1f}{}", value.get<double>(), unit);
  return value.dump() + unit;
}

void PrintStats(const nlohmann::json& s) {
  const nlohmann::json& from = s["period"]["from"];
  const nlohmann::json& to = s["period"]["to"];
  std::cout << fmt::format("{}: grievances {} (as of {})\n", s["town"].get<std::string>(),
                           from.is_null() && to.is_null() ? "of all time"
                           : from.is_null()               ? "up to " + to.get<std::string>()
                           : to.is_null()
                               ? "since " + from.get<std::string>()
                               : fmt::format("from {} to {}", from.get<std::string>(), to.get<std::string>()),
                           s["period"]["as_of"].get<std::string>());
  std::cout << fmt::format("received {}: {} open, {} resolved, {} closed otherwise; backlog at the end: {}\n",
                           Figure(s["received"]), Figure(s["open"]), Figure(s["resolved"]),
                           Figure(s["closed"]), Figure(s["backlog_at_end"]));
  std::cout << fmt::format(
      "open at the end: {} under 4 weeks, {} older, {} without update for 8 weeks; overdue: {}\n",
      Figure(s["open_age"]["under_4_weeks"]), Figure(s["open_age"]["over_4_weeks"]),
      Figure(s["open_age"]["no_update_8_weeks"]), Figure(s["overdue_count"]));
  std::cout << fmt::format("resolved within the category's delay: {}\n",
                           Figure(s["within_sla"]["share"], "%"));
  std::cout << fmt::format("unique reporters {}, anonymous {}; reopened {} ({}), duplicates {} ({})\n\n",
                           Figure(s["unique_reporters"]), Figure(s["anonymous"]), Figure(s["reopened"]),
                           Figure(s["reopened_rate"], "%"), Figure(s["duplicates"]),
                           Figure(s["duplicate_rate"], "%"));
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : s["categories"])
    rows.push_back({c["code"], Figure(c["received"]), Figure(c["open_at_end"]),
                    Figure(c["acknowledge"]["median_days"], "d"), Figure(c["acknowledge"]["p90_days"], "d"),
                    Figure(c["resolve"]["median_days"], "d"), Figure(c["resolve"]["p90_days"], "d"),
                    Figure(c["sla_days"], "d"), Figure(c["within_sla"]["share"], "%")});
  if (!rows.empty())
    PrintTable({"CATEGORY", "RECEIVED", "OPEN", "ACK MEDIAN", "ACK P90", "RESOLVE MEDIAN", "RESOLVE P90",
                "SLA", "WITHIN SLA"},
               rows);
  if (!s["streets"].empty()) {
    std::vector<std::string> streets;
    for (const auto& street : s["streets"])
      streets.push_back(
          fmt::format("{} ({})", Printable(street["street"].get<std::string>()), Figure(street["received"])));
    std::cout << fmt::format("\nbusiest streets: {}\n", fmt::join(streets, "; "));
  }
  if (!s["overdue"].empty()) {
    rows.clear();
    for (const auto& o : s["overdue"])
      rows.push_back({o["reference"], o["category"], Figure(o["days_overdue"], "d"),
                      Printable(Shorten(o["title"].get<std::string>(), 40))});
    std::cout << "\n";
    PrintTable({"OVERDUE", "CATEGORY", "LATE BY", "TITLE"}, rows);
  }
}

int RunStats(const StatsOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  GrievanceFilter filter = options.filter;
  filter.statuses = Statuses(options.statuses);
  const nlohmann::json stats = GrievanceStats(db, filter);
  options.json ? PrintJson(stats) : PrintStats(stats);
  return 0;
}

int RunExport(const ExportOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  GrievanceExport request = options.request;
  request.filter.statuses = Statuses(options.statuses);
  ExportCount count;
  if (options.output.empty() || options.output == "-") {
    count = ExportGrievances(db, request, std::cout);
    std::cout.flush();
    if (!std::cout) throw Error("could not write the export to standard output");
  } else {
    AtomicFileStream file(options.output);
    count = ExportGrievances(db, request, file);
    file.Commit();
  }
  if (count.without_coordinates > 0)
    Warn(fmt::format("{} grievance(s) without coordinates left out of the GeoJSON",
                     count.without_coordinates));
  if (!options.output.empty() && options.output != "-" && !invocation.global.quiet)
    std::cerr << fmt::format("wrote {} grievance(s) to '{}'\n", count.written, options.output);
  return 0;
}

std::string& Optional(std::optional<std::string>& field) {
  return field.emplace();
}

void AddPeriodOptions(CLI::App* app, GrievanceFilter& filter, std::string& statuses) {
  app->add_option("--from", filter.from, "First day of the period (YYYY-MM-DD, town time)")
      ->option_text("DATE");
  app->add_option("--to", filter.to, "Last day of the period, included")->option_text("DATE");
  app->add_option("--neighbourhood", filter.neighbourhood, "Only this neighbourhood (slug)")
      ->option_text("SLUG");
  app->add_option("--category", filter.category, "Only this category (code)")->option_text("CODE");
  app->add_option("--status", statuses, "Only these statuses, comma-separated (default: all but hidden)")
      ->option_text("STATUS,...");
}

void AddActorOption(CLI::App* app, std::string& by) {
  app->add_option("--by", by, "The staff member acting (id or e-mail); recorded in the history")
      ->option_text("MEMBER");
}

}  // namespace grievance_command

void SetupGrievance(CLI::App& app, Invocation& invocation) {
  using namespace grievance_command;
  CLI::App* group =
      app.add_subcommand("grievance", "Residents' grievances (doléances): record, follow, report");
  group->require_subcommand(1);

  auto add = std::make_shared<AddOptions>();
  CLI::App* a =
      group->add_subcommand("add", "Record a grievance received at the counter, by phone or by mail");
  NewGrievance& g = add->grievance;
  g.channel = "counter";
  a->add_option("--category", g.category, "Category code from the town file")
      ->option_text("CODE")
      ->required();
  a->add_option("--title", g.title, "What is wrong, in a few words")->option_text("TEXT")->required();
  a->add_option("--description", g.description, "The details (at most 4000 characters)")
      ->option_text("TEXT")
      ->required();
  a->add_option("--address", g.address, "Where: number and street")->option_text("TEXT");
  a->add_option("--postcode", g.postcode, "Postcode of the address")->option_text("CODE");
  a->add_option("--neighbourhood", g.neighbourhood,
                "The neighbourhood, when the clerk knows it (default: located)")
      ->option_text("SLUG");
  a->add_option("--lat", g.lat, "Latitude (WGS84 degrees)")->option_text("DEG");
  a->add_option("--lon", g.lon, "Longitude (WGS84 degrees)")->option_text("DEG");
  a->add_option("--reporter", g.reporter, "The member who reports it (id or e-mail)")->option_text("MEMBER");
  a->add_option("--contact-name", g.contact_name, "A resident who is not a member: name")
      ->option_text("NAME");
  a->add_option("--contact-email", g.contact_email, "... e-mail")->option_text("EMAIL");
  a->add_option("--contact-phone", g.contact_phone, "... phone")->option_text("PHONE");
  a->add_option("--channel", g.channel, "web, phone, counter, mail or app")
      ->option_text("CHANNEL")
      ->capture_default_str();
  a->add_option("--received", g.received_at, "When it was received, if earlier (YYYY-MM-DD[THH:MM:SSZ])")
      ->option_text("DATE");
  a->add_flag("--private", add->is_private, "Never show it in public lists and exports");
  AddJsonFlag(a, add->json);
  OnRun(a, invocation, add, RunAdd);

  auto list = std::make_shared<ListOptions>();
  list->filter.limit = 50;
  CLI::App* l = group->add_subcommand("list", "List grievances, newest first");
  AddPeriodOptions(l, list->filter, list->statuses);
  l->add_flag("--overdue", list->filter.overdue,
              "Only open ones past their category's delay or expected date");
  l->add_option("--limit", list->filter.limit, "At most N (0: all)")
      ->option_text("N")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  AddJsonFlag(l, list->json);
  OnRun(l, invocation, list, RunList);

  auto show = std::make_shared<ShowOptions>();
  CLI::App* s = group->add_subcommand("show", "Show a grievance and its history");
  s->add_option("reference", show->reference, "DOL-YYYY-NNNNNN")->required();
  AddJsonFlag(s, show->json);
  OnRun(s, invocation, show, RunShow);

  auto status = std::make_shared<StatusOptions>();
  CLI::App* st = group->add_subcommand("status", "Move a grievance along the workflow");
  st->add_option("reference", status->change.reference, "DOL-YYYY-NNNNNN")->required();
  st->add_option("status", status->change.status,
                 "open, in_review, planned, in_progress, resolved, no_action, not_competent, duplicate, "
                 "transferred or hidden")
      ->required();
  st->add_option("--note", status->change.note, "Why, or what was done")->option_text("TEXT");
  st->add_flag("--public", status->change.public_note, "The note is an answer the resident sees");
  st->add_option("--expected", status->change.expected_on, "planned: the day the work is expected")
      ->option_text("DATE");
  st->add_option("--duplicate-of", status->change.duplicate_of, "duplicate: the grievance it duplicates")
      ->option_text("REF");
  st->add_option("--at", status->change.at, "When it happened, if earlier (YYYY-MM-DD[THH:MM:SSZ])")
      ->option_text("DATE");
  AddActorOption(st, status->by);
  AddJsonFlag(st, status->json);
  OnRun(st, invocation, status, RunStatus);

  auto assign = std::make_shared<AssignOptions>();
  CLI::App* as =
      group->add_subcommand("assign", "Set the service in charge and/or the staff member following it");
  as->add_option("reference", assign->reference, "DOL-YYYY-NNNNNN")->required();
  as->add_option_function<std::string>(
        "--service", [assign](const std::string& v) { Optional(assign->service) = v; },
        "The service in charge")
      ->option_text("NAME");
  as->add_option_function<std::string>(
        "--to", [assign](const std::string& v) { Optional(assign->assignee) = v; },
        "The staff member following it (id or e-mail; \"\" for nobody)")
      ->option_text("MEMBER");
  as->add_option("--note", assign->note, "An internal note")->option_text("TEXT");
  as->add_option("--at", assign->at, "When it happened, if earlier (YYYY-MM-DD[THH:MM:SSZ])")
      ->option_text("DATE");
  AddActorOption(as, assign->by);
  AddJsonFlag(as, assign->json);
  OnRun(as, invocation, assign, RunAssign);

  auto respond = std::make_shared<RespondOptions>();
  CLI::App* r = group->add_subcommand("respond", "Add a public answer (a new grievance becomes open)");
  r->add_option("reference", respond->reference, "DOL-YYYY-NNNNNN")->required();
  r->add_option("text", respond->text, "The answer, in French, as the resident will read it")->required();
  r->add_option("--at", respond->at, "When it was answered, if earlier (YYYY-MM-DD[THH:MM:SSZ])")
      ->option_text("DATE");
  AddActorOption(r, respond->by);
  AddJsonFlag(r, respond->json);
  OnRun(r, invocation, respond, RunRespond);

  auto merge = std::make_shared<MergeOptions>();
  CLI::App* m =
      group->add_subcommand("merge", "Mark grievances as duplicates of another and move their followers");
  m->add_option("duplicates", merge->duplicates, "The duplicates (DOL-YYYY-NNNNNN...)")->required();
  m->add_option("--into", merge->into, "The grievance they duplicate")->option_text("REF")->required();
  m->add_option("--at", merge->at, "When it happened, if earlier (YYYY-MM-DD[THH:MM:SSZ])")
      ->option_text("DATE");
  AddActorOption(m, merge->by);
  AddJsonFlag(m, merge->json);
  OnRun(m, invocation, merge, RunMerge);

  auto categories = std::make_shared<CategoriesOptions>();
  CLI::App* cat =
      group->add_subcommand("categories", "The town's grievance categories, their delays and open counts");
  AddJsonFlag(cat, categories->json);
  OnRun(cat, invocation, categories, RunCategories);

  auto stats = std::make_shared<StatsOptions>();
  CLI::App* sa = group->add_subcommand("stats", "The council's figures: volumes, delays, overdue, places");
  AddPeriodOptions(sa, stats->filter, stats->statuses);
  AddJsonFlag(sa, stats->json);
  OnRun(sa, invocation, stats, RunStats);

  auto exp = std::make_shared<ExportOptions>();
  CLI::App* e = group->add_subcommand("export", "Export grievances, or the council's report");
  e->add_option("--format", exp->request.format, "csv, csv-fr, json, jsonl, geojson, html or md")
      ->option_text("FORMAT")
      ->check(CLI::IsMember(GrievanceExportFormats()))
      ->required();
  e->add_option("--template", exp->request.template_path, "html, md: render this mustache template instead")
      ->option_text("FILE");
  e->add_option("-o,--output", exp->output,
                "Write to FILE (complete or not at all) instead of standard output")
      ->option_text("FILE");
  AddPeriodOptions(e, exp->request.filter, exp->statuses);
  e->add_flag("--public", exp->request.filter.public_only, "Only public grievances and public answers");
  OnRun(e, invocation, exp, RunExport);
}

}  // namespace voisinage
