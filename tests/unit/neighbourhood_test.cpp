#include <catch2/catch.hpp>

#include "lib/town/invitation.h"
#include "lib/town/locate.h"
#include "lib/town/member.h"
#include "lib/town/neighbourhood.h"
#include "test_support.h"

using namespace voisinage;

namespace {

Area Square(double lon, double lat) {
  return Area::FromGeoJson(
      {{"type", "Polygon"},
       {"coordinates", {{{lon, lat}, {lon + 1, lat}, {lon + 1, lat + 1}, {lon, lat + 1}, {lon, lat}}}}});
}

}  // namespace

TEST_CASE("slugs are validated and never reused") {
  Db db = Db::OpenInMemory();
  CHECK_THROWS_WITH(CreateNeighbourhood(db, {"Centre Bourg", "X", {}, std::nullopt, false}),
                    Catch::Contains("invalid slug"));
  CreateNeighbourhood(db, {"centre", "Centre", {"77810"}, std::nullopt, false});
  CHECK_THROWS_WITH(CreateNeighbourhood(db, {"centre", "Autre", {}, std::nullopt, false}),
                    Catch::Contains("already exists"));
  CHECK_THROWS_WITH(ResolveNeighbourhood(db, "centr"), Catch::Contains("did you mean 'centre'?"));
}

TEST_CASE("rename and archive") {
  Db db = Db::OpenInMemory();
  CreateNeighbourhood(db, {"centre", "Centre", {}, std::nullopt, false});
  CHECK(RenameNeighbourhood(db, "centre", "Centre-bourg").name == "Centre-bourg");
  ArchiveNeighbourhood(db, "centre");
  CHECK(ListNeighbourhoods(db, false).empty());
  CHECK(ListNeighbourhoods(db, true).size() == 1);
  CHECK_THROWS_WITH(ArchiveNeighbourhood(db, "centre"), Catch::Contains("already archived"));
  CHECK_THROWS_WITH(AddMember(db, {"A", "", "resident", "centre", false}), Catch::Contains("is archived"));
}

TEST_CASE("merge moves members and invitations, combines areas and leaves an alias") {
  Db db = Db::OpenInMemory();
  CreateNeighbourhood(db, {"aa", "A", {"77810"}, Square(2, 48), false});
  CreateNeighbourhood(db, {"bb", "B", {"77300"}, Square(4, 48), false});
  AddMember(db, {"Ana", "", "resident", "aa", false});
  CreateInvitations(db, "aa", 2, std::chrono::hours(24), [](const auto&) {});

  MergeResult result = MergeNeighbourhoods(db, "aa", "bb");
  CHECK(result.from.merged_into == "bb");
  auto moved = [&](const std::string& table) {
    for (const auto& [name, rows] : result.moved)
      if (name == table) return rows;
    return int64_t{-1};
  };
  CHECK(moved("member") == 1);
  CHECK(moved("invitation") == 2);
  Neighbourhood into = ResolveNeighbourhood(db, "aa");
  CHECK(into.slug == "bb");
  CHECK(into.members == 1);
  CHECK(into.postcodes == std::vector<std::string>{"77300", "77810"});
  CHECK(into.area->polygons.size() == 2);
  CHECK(Locator::Load(db).Locate(Point{2.5, 48.5}, "").slug == "bb");
  CHECK_THROWS_WITH(MergeNeighbourhoods(db, "bb", "bb"), Catch::Contains("into itself"));
  CHECK_THROWS_WITH(MergeNeighbourhoods(db, "aa", "bb"), Catch::Contains("already merged"));
}

TEST_CASE("locate: polygon first, then a postcode that names one neighbourhood") {
  Db db = Db::OpenInMemory();
  CreateNeighbourhood(db, {"by", "By", {"77810"}, Square(2, 48), false});
  CreateNeighbourhood(db, {"bourg", "Bourg", {"77810"}, std::nullopt, false});
  CreateNeighbourhood(db, {"ailleurs", "Ailleurs", {"77300"}, std::nullopt, false});
  Locator locator = Locator::Load(db);

  Location in_polygon = locator.Locate(Point{2.5, 48.5}, "77300");
  CHECK(in_polygon.slug == "by");
  CHECK(in_polygon.method == "polygon");

  Location by_postcode = locator.Locate(std::nullopt, "77300");
  CHECK(by_postcode.slug == "ailleurs");
  CHECK(by_postcode.method == "postcode");

  Location ambiguous = locator.Locate(std::nullopt, "77810");
  CHECK_FALSE(ambiguous.found());
  CHECK(ambiguous.candidates == std::vector<std::string>{"bourg", "by"});

  // Outside by's polygon, so not in by: the postcode leaves only bourg.
  Location outside = locator.Locate(Point{9.0, 40.0}, "77810");
  CHECK(outside.slug == "bourg");

  CHECK_FALSE(locator.Locate(std::nullopt, "99999").found());
}

TEST_CASE("archived neighbourhoods are never located") {
  Db db = Db::OpenInMemory();
  CreateNeighbourhood(db, {"by", "By", {"77810"}, Square(2, 48), false});
  ArchiveNeighbourhood(db, "by");
  CHECK_FALSE(Locator::Load(db).Locate(Point{2.5, 48.5}, "77810").found());
}
