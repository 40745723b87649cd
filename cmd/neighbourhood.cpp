// voisinage neighbourhood create|list|show|rename|archive|merge|locate.

#include <fstream>

#include "cmd/cli.h"
#include "lib/town/locate.h"
#include "lib/town/neighbourhood.h"

namespace voisinage {

namespace neighbourhood_command {

struct CreateOptions {
  std::string slug, name, polygon;
  std::vector<std::string> postcodes;
  bool json = false;
};
struct ListOptions {
  bool all = false, json = false;
};
struct ShowOptions {
  std::string slug;
  bool json = false;
};
struct RenameOptions {
  std::string slug, name;
  bool json = false;
};
struct ArchiveOptions {
  std::string slug;
};
struct MergeOptions {
  std::string from, into;
  bool json = false;
};
struct LocateOptions {
  std::string postcode, point;
  bool json = false;
};

std::string Status(const Neighbourhood& n) {
  if (!n.merged_into.empty()) return "merged into " + n.merged_into;
  return n.archived_at.empty() ? "active" : "archived";
}

void PrintNeighbourhood(const Neighbourhood& n) {
  std::string area = "none";
  if (n.area) {
    BoundingBox box = n.area->Bounds();
    area = fmt::format("{} polygon(s), lat {:.5f}..{:.5f}, lon {:.5f}..{:.5f}", n.area->polygons.size(),
                       box.min_lat, box.max_lat, box.min_lon, box.max_lon);
  }
  PrintTable({"FIELD", "VALUE"}, {{"slug", n.slug},
                                  {"name", n.name},
                                  {"postcodes", fmt::format("{}", fmt::join(n.postcodes, ", "))},
                                  {"area", area},
                                  {"status", Status(n)},
                                  {"members", std::to_string(n.members)},
                                  {"open invitations", std::to_string(n.open_invitations)},
                                  {"managed by", n.from_town_file ? "town file" : "command line"},
                                  {"created", n.created_at},
                                  {"updated", n.updated_at}});
}

void Print(const Neighbourhood& n, bool json) {
  json ? PrintJson(ToJson(n)) : PrintNeighbourhood(n);
}

int RunCreate(const CreateOptions& options, Invocation& invocation) {
  NeighbourhoodInput input{options.slug, options.name, options.postcodes, std::nullopt, false};
  if (!options.polygon.empty()) {
    std::ifstream in(options.polygon);
    if (!in) throw Error(fmt::format("cannot read polygon file '{}'", options.polygon));
    try {
      input.area = Area::FromGeoJson(nlohmann::json::parse(in));
    } catch (const nlohmann::json::parse_error& e) {
      throw Error(fmt::format("'{}': not valid JSON (byte {})", options.polygon, e.byte));
    } catch (const Error& e) {
      throw e.WithContext(fmt::format("'{}'", options.polygon));
    }
  }
  Db db = OpenDb(invocation);
  Neighbourhood n = CreateNeighbourhood(db, input);
  if (options.json)
    PrintJson(ToJson(n));
  else
    Say(invocation, fmt::format("created neighbourhood '{}' ({})", n.slug, Printable(n.name)));
  return 0;
}

int RunList(const ListOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  std::vector<Neighbourhood> all = ListNeighbourhoods(db, options.all);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Neighbourhood& n : all) out.push_back(ToJson(n));
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const Neighbourhood& n : all)
    rows.push_back({n.slug, n.name, fmt::format("{}", fmt::join(n.postcodes, ",")), n.area ? "yes" : "no",
                    std::to_string(n.members), Status(n)});
  PrintTable({"SLUG", "NAME", "POSTCODES", "POLYGON", "MEMBERS", "STATUS"}, rows);
  return 0;
}

int RunShow(const ShowOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Print(ResolveNeighbourhood(db, options.slug), options.json);
  return 0;
}

int RunRename(const RenameOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Neighbourhood n = RenameNeighbourhood(db, options.slug, options.name);
  if (options.json)
    PrintJson(ToJson(n));
  else
    Say(invocation, fmt::format("renamed '{}' to '{}'", n.slug, Printable(n.name)));
  return 0;
}

int RunArchive(const ArchiveOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Neighbourhood n = ArchiveNeighbourhood(db, options.slug);
  Say(invocation, fmt::format("archived '{}': its members stay, no one new can join it", n.slug));
  return 0;
}

int RunMerge(const MergeOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  MergeResult result = MergeNeighbourhoods(db, options.from, options.into);
  if (options.json) {
    nlohmann::json moved = nlohmann::json::object();
    for (const auto& [table, rows] : result.moved) moved[table] = rows;
    PrintJson({{"from", ToJson(result.from)}, {"into", ToJson(result.into)}, {"moved", moved}});
    return 0;
  }
  Say(invocation, fmt::format("merged '{}' into '{}'; '{}' is now an alias of '{}'", result.from.slug,
                              result.into.slug, result.from.slug, result.into.slug));
  for (const auto& [table, rows] : result.moved) Say(invocation, fmt::format("  {}: {} moved", table, rows));
  return 0;
}

int RunLocate(const LocateOptions& options, Invocation& invocation) {
  std::optional<Point> point;
  if (!options.point.empty()) point = ParseLatLon(options.point);
  Db db = OpenDb(invocation);
  Location location = Locator::Load(db).Locate(point, options.postcode);
  if (options.json) {
    PrintJson({{"found", location.found()},
               {"neighbourhood", location.found() ? nlohmann::json(location.slug) : nlohmann::json(nullptr)},
               {"method", location.found() ? nlohmann::json(location.method) : nlohmann::json(nullptr)},
               {"candidates", location.candidates}});
    return location.found() ? 0 : 1;
  }
  if (location.found()) {
    std::cout << location.slug << '\n';
    if (!invocation.global.quiet) std::cerr << "found by " << location.method << '\n';
    return 0;
  }
  if (!location.candidates.empty())
    throw Error(fmt::format("postcode '{}' belongs to several neighbourhoods: {}", options.postcode,
                            fmt::join(location.candidates, ", ")),
                "give a point inside one of their polygons with --point LAT,LON");
  throw Error("no neighbourhood contains this location",
              "check the point (LAT,LON) and the postcode, or add a polygon or postcode to a neighbourhood");
}

}  // namespace neighbourhood_command

void SetupNeighbourhood(CLI::App& app, Invocation& invocation) {
  using namespace neighbourhood_command;
  CLI::App* group = app.add_subcommand("neighbourhood", "Create and manage neighbourhoods (quartiers)");
  group->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* c = group->add_subcommand("create", "Create a neighbourhood");
  c->add_option("slug", create->slug, "Short identifier used in links, e.g. centre-bourg")->required();
  c->add_option("--name", create->name, "Display name")->option_text("NAME")->required();
  c->add_option("--postcode", create->postcodes, "Postcode; repeat for several")->option_text("POSTCODE");
  c->add_option("--polygon", create->polygon, "GeoJSON file with the neighbourhood's Polygon or MultiPolygon")
      ->option_text("FILE");
  AddJsonFlag(c, create->json);
  OnRun(c, invocation, create, RunCreate);

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = group->add_subcommand("list", "List neighbourhoods");
  l->add_flag("--all", list->all, "Include archived and merged neighbourhoods");
  AddJsonFlag(l, list->json);
  OnRun(l, invocation, list, RunList);

  auto show = std::make_shared<ShowOptions>();
  CLI::App* s = group->add_subcommand("show", "Show one neighbourhood");
  s->add_option("slug", show->slug, "Neighbourhood slug (or the alias left by a merge)")->required();
  AddJsonFlag(s, show->json);
  OnRun(s, invocation, show, RunShow);

  auto rename = std::make_shared<RenameOptions>();
  CLI::App* r = group->add_subcommand("rename", "Change a neighbourhood's display name (the slug stays)");
  r->add_option("slug", rename->slug, "Neighbourhood slug")->required();
  r->add_option("name", rename->name, "New display name")->required();
  AddJsonFlag(r, rename->json);
  OnRun(r, invocation, rename, RunRename);

  auto archive = std::make_shared<ArchiveOptions>();
  CLI::App* a = group->add_subcommand("archive", "Archive a neighbourhood (members and history stay)");
  a->add_option("slug", archive->slug, "Neighbourhood slug")->required();
  OnRun(a, invocation, archive, RunArchive);

  auto merge = std::make_shared<MergeOptions>();
  CLI::App* m = group->add_subcommand("merge", "Move everything from one neighbourhood into another");
  m->add_option("from", merge->from, "Neighbourhood that disappears (its slug becomes an alias)")->required();
  m->add_option("into", merge->into, "Neighbourhood that receives its members, posts and grievances")
      ->required();
  AddJsonFlag(m, merge->json);
  OnRun(m, invocation, merge, RunMerge);

  auto locate = std::make_shared<LocateOptions>();
  CLI::App* lo = group->add_subcommand("locate", "Say which neighbourhood a postcode or point belongs to");
  lo->add_option("--postcode", locate->postcode, "Postcode of the address")->option_text("POSTCODE");
  lo->add_option("--point", locate->point, "Position as LAT,LON in decimal degrees")->option_text("LAT,LON");
  AddJsonFlag(lo, locate->json);
  lo->parse_complete_callback([locate] {
    if (locate->postcode.empty() && locate->point.empty()) throw CLI::RequiredError("--postcode or --point");
  });
  OnRun(lo, invocation, locate, RunLocate);
}

}  // namespace voisinage
