#include <catch2/catch.hpp>

#include "lib/town/member.h"
#include "lib/town/neighbourhood.h"
#include "lib/town/town.h"
#include "lib/town/town_apply.h"
#include "test_support.h"

using namespace voisinage;

namespace {

TownFile Thomery() {
  return LoadTownFile(test::SourcePath("examples/thomery.yaml"));
}

}  // namespace

TEST_CASE("applying a town file to an empty database adds everything") {
  Db db = Db::OpenInMemory();
  TownFile file = Thomery();
  TownDiff diff = ApplyTownFile(db, file, false);
  CHECK(diff.Count("town", "added") == 1);
  CHECK(diff.Count("neighbourhoods", "added") == file.neighbourhoods.size());
  CHECK(diff.Count("grievance_categories", "added") == file.categories.size());
  CHECK(diff.Count("staff", "added") == file.staff.size());
  CHECK(GetTown(db).identity.name == "Thomery");
}

TEST_CASE("applying the same file twice changes nothing the second time") {
  Db db = Db::OpenInMemory();
  ApplyTownFile(db, Thomery(), false);
  CHECK(ApplyTownFile(db, Thomery(), false).empty());
}

TEST_CASE("editing one category and one neighbourhood changes exactly those") {
  Db db = Db::OpenInMemory();
  ApplyTownFile(db, Thomery(), false);
  TownFile edited = Thomery();
  edited.categories[0].name = "Voirie, trottoirs et chaussées";
  edited.neighbourhoods[1].name = "Hameau de By";
  TownDiff diff = ApplyTownFile(db, edited, false);
  REQUIRE(diff.changes.size() == 2);
  CHECK(diff.changes[0].section == "neighbourhoods");
  CHECK(diff.changes[0].details[0] == "name: 'By (hameau de Rosa Bonheur)' → 'Hameau de By'");
  CHECK(diff.changes[1].section == "grievance_categories");
  CHECK(ResolveNeighbourhood(db, edited.neighbourhoods[1].slug).name == "Hameau de By");
}

TEST_CASE("a dry run reports the difference and writes nothing") {
  Db db = Db::OpenInMemory();
  TownDiff diff = ApplyTownFile(db, Thomery(), true);
  CHECK(diff.dry_run);
  CHECK_FALSE(diff.empty());
  CHECK(test::Count(db, "SELECT count(*) FROM neighbourhood") == 0);
  CHECK_FALSE(FindTown(db).has_value());
}

TEST_CASE("what the file no longer lists is archived, what the CLI created is left alone") {
  Db db = Db::OpenInMemory();
  ApplyTownFile(db, Thomery(), false);
  CreateNeighbourhood(db, {"gare", "Quartier de la gare", {"77810"}, std::nullopt, false});
  AddMember(db, {"Paul Martin", "paul@example.fr", "moderator", "", false});
  TownFile smaller = Thomery();
  const std::string dropped_slug = smaller.neighbourhoods.back().slug;
  const std::string dropped_code = smaller.categories.front().code;
  const StaffSpec dropped_staff = smaller.staff.back();
  const std::string dropped_rule = smaller.word_rules.back().pattern;
  smaller.neighbourhoods.pop_back();
  smaller.categories.erase(smaller.categories.begin());
  smaller.staff.pop_back();
  smaller.word_rules.pop_back();

  TownDiff diff = ApplyTownFile(db, smaller, false);
  CHECK(diff.Count("neighbourhoods", "archived") == 1);
  CHECK(diff.Count("grievance_categories", "archived") == 1);
  CHECK(diff.Count("staff", "archived") == 1);
  CHECK(diff.Count("moderation", "removed") == 1);
  CHECK_FALSE(ResolveNeighbourhood(db, dropped_slug).archived_at.empty());
  CHECK(ResolveNeighbourhood(db, "gare").archived_at.empty());
  CHECK(FindMember(db, dropped_staff.email).role == "resident");
  CHECK(FindMember(db, "paul@example.fr").role == "moderator");
  CHECK(test::Count(db, "SELECT active FROM grievance_category WHERE code = '" + dropped_code + "'") == 0);
  CHECK(test::Count(db, "SELECT count(*) FROM word_rule WHERE pattern = '" + dropped_rule + "'") == 0);

  // Listing them again restores them.
  TownDiff back = ApplyTownFile(db, Thomery(), false);
  CHECK(back.Count("neighbourhoods", "changed") == 1);
  CHECK(ResolveNeighbourhood(db, dropped_slug).archived_at.empty());
  CHECK(FindMember(db, dropped_staff.email).role == dropped_staff.role);
}

TEST_CASE("a town file listing a merged slug is refused and nothing is written") {
  Db db = Db::OpenInMemory();
  TownFile file = Thomery();
  ApplyTownFile(db, file, false);
  MergeNeighbourhoods(db, file.neighbourhoods[0].slug, file.neighbourhoods[1].slug);
  file.categories[0].name = "Changed";
  CHECK_THROWS_WITH(ApplyTownFile(db, file, false), Catch::Contains("was merged into"));
  CHECK(db.sql()
            .execAndGet("SELECT name FROM grievance_category WHERE code = '" + file.categories[0].code + "'")
            .getString() != "Changed");
}
