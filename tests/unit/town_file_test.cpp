#include <catch2/catch.hpp>

#include "lib/error.h"
#include "lib/town/town_file.h"
#include "test_support.h"

using namespace voisinage;

namespace {

const std::string kMinimal = R"(town:
  name: Thomery
  insee: "77463"
  postcodes: ["77810"]
)";

TownFile Parse(const std::string& yaml) {
  return ParseTownFile(yaml, "town.yaml");
}

}  // namespace

TEST_CASE("the example towns load") {
  TownFile thomery = LoadTownFile(test::SourcePath("examples/thomery.yaml"));
  CHECK(thomery.town.insee == "77463");
  CHECK(thomery.town.timezone == "Europe/Paris");
  CHECK(thomery.neighbourhoods.size() >= 4);
  CHECK(std::count_if(thomery.neighbourhoods.begin(), thomery.neighbourhoods.end(),
                      [](const NeighbourhoodSpec& n) { return n.area.has_value(); }) >= 2);
  CHECK_FALSE(thomery.categories.empty());
  CHECK(thomery.auto_hide_score.has_value());
  TownFile dinan = LoadTownFile(test::SourcePath("examples/dinan.yaml"));
  CHECK(dinan.town.insee == "22050");
}

TEST_CASE("a minimal town file gets defaults") {
  TownFile file = Parse(kMinimal);
  CHECK(file.town.name == "Thomery");
  CHECK(file.town.timezone == "Europe/Paris");
  CHECK(file.neighbourhoods.empty());
}

TEST_CASE("errors name the file, line and column") {
  CHECK_THROWS_WITH(Parse("town:\n  name: [unclosed\n"),
                    Catch::StartsWith("'town.yaml': line 3, column 1: YAML syntax error"));
  CHECK_THROWS_WITH(Parse(kMinimal + "neighborhoods: []\n"),
                    Catch::Contains("line 5, column 1: unknown key 'neighborhoods'") &&
                        Catch::Contains("did you mean 'neighbourhoods'?"));
  CHECK_THROWS_WITH(Parse("town:\n  name: Thomery\n  postcodes: [\"77810\"]\n"),
                    Catch::Contains("missing required key 'insee' in 'town'"));
  CHECK_THROWS_WITH(Parse(kMinimal + "neighbourhoods:\n  - {slug: a-b, nmae: X}\n"),
                    Catch::Contains("unknown key 'nmae'") && Catch::Contains("did you mean 'name'?"));
}

TEST_CASE("values are validated") {
  auto with_town = [](const std::string& insee, const std::string& postcode) {
    return "town:\n  name: T\n  insee: \"" + insee + "\"\n  postcodes: [\"" + postcode + "\"]\n";
  };
  CHECK_NOTHROW(Parse(with_town("2A004", "20000")));
  CHECK_NOTHROW(Parse(with_town("01053", "01000")));
  CHECK_THROWS_WITH(Parse(with_town("7746", "77810")), Catch::Contains("invalid INSEE code '7746'"));
  CHECK_THROWS_WITH(Parse(with_town("2C123", "77810")), Catch::Contains("invalid INSEE code"));
  CHECK_THROWS_WITH(Parse(with_town("77463", "7781")),
                    Catch::Contains("line 4") && Catch::Contains("invalid postcode"));
  CHECK_THROWS_WITH(Parse(kMinimal + "  timezone: Europe/Thomery\n"), Catch::Contains("unknown time zone"));
  CHECK_THROWS_WITH(Parse(kMinimal + "staff:\n  - {name: A, email: a@b.fr, role: moderateur}\n"),
                    Catch::Contains("unknown role 'moderateur'") && Catch::Contains("'moderator'"));
  CHECK_THROWS_WITH(Parse(kMinimal + "grievance_categories:\n  - {code: voirie, name: V, sla_days: soon}\n"),
                    Catch::Contains("'sla_days' must be a whole number"));
  CHECK_THROWS_WITH(Parse(kMinimal + "moderation:\n  word_rules:\n    - {pattern: x, action: delete}\n"),
                    Catch::Contains("unknown action 'delete'"));
}

TEST_CASE("duplicates are refused at the second occurrence") {
  CHECK_THROWS_WITH(
      Parse(kMinimal + "neighbourhoods:\n  - {slug: by, name: By}\n  - {slug: by, name: By 2}\n"),
      Catch::Contains("line 7") && Catch::Contains("duplicate slug 'by'"));
  CHECK_THROWS_WITH(
      Parse(kMinimal +
            "staff:\n  - {name: A, email: a@b.fr, role: admin}\n  - {name: B, email: a@b.fr, role: admin}\n"),
      Catch::Contains("duplicate e-mail 'a@b.fr'"));
}

TEST_CASE("polygons inline or from a file relative to the town file") {
  test::TempDir dir;
  dir.Write("by.geojson", R"({"type":"Polygon","coordinates":[[[2,48],[3,48],[3,49],[2,48]]]})");
  dir.Write("town.yaml", kMinimal +
                             "neighbourhoods:\n  - slug: by\n    name: By\n    polygon: by.geojson\n"
                             "  - slug: bourg\n    name: Bourg\n    polygon:\n      type: Polygon\n"
                             "      coordinates: [[[4, 48], [5, 48], [5, 49], [4, 48]]]\n");
  TownFile file = LoadTownFile(dir.File("town.yaml"));
  REQUIRE(file.neighbourhoods.size() == 2);
  CHECK(file.neighbourhoods[0].area->Contains({2.6, 48.2}));
  CHECK(file.neighbourhoods[1].area->Contains({4.6, 48.2}));

  dir.Write("bad.yaml", kMinimal +
                            "neighbourhoods:\n  - slug: by\n    name: By\n    polygon:\n      type: Polygon\n"
                            "      coordinates: [[[4, 48], [5, 48], [5, 49]]]\n");
  CHECK_THROWS_WITH(LoadTownFile(dir.File("bad.yaml")),
                    Catch::Contains("line 9") && Catch::Contains("at least four"));
  dir.Write("missing.yaml",
            kMinimal + "neighbourhoods:\n  - {slug: by, name: By, polygon: nowhere.geojson}\n");
  CHECK_THROWS_WITH(LoadTownFile(dir.File("missing.yaml")), Catch::Contains("cannot read polygon file"));
  // Found by tests/fuzz/town_file: a directory opened as a file, and reading it threw std::ios_failure.
  std::filesystem::create_directory(dir.File("quartiers"));
  dir.Write("directory.yaml", kMinimal + "neighbourhoods:\n  - {slug: by, name: By, polygon: quartiers}\n");
  CHECK_THROWS_AS(LoadTownFile(dir.File("directory.yaml")), Error);
  CHECK_THROWS_WITH(LoadTownFile(dir.File("directory.yaml")),
                    Catch::Contains("line 6") && Catch::Contains("it is a directory"));
}
