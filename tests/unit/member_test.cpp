#include <catch2/catch.hpp>

#include "lib/town/member.h"
#include "test_support.h"

using namespace voisinage;

TEST_CASE("members are found by id, #id or e-mail") {
  Db db = test::ThomeryDb();
  Member added = AddMember(db, {"Lucie Bernard", "lucie@example.fr", "merchant", "by", false});
  CHECK(FindMember(db, std::to_string(added.id)).display_name == "Lucie Bernard");
  CHECK(FindMember(db, "#" + std::to_string(added.id)).email == "lucie@example.fr");
  CHECK(FindMember(db, "LUCIE@example.fr").id == added.id);
  CHECK_THROWS_WITH(FindMember(db, "nobody@example.fr"),
                    Catch::Contains("unknown member 'nobody@example.fr'"));
  CHECK_THROWS_WITH(FindMember(db, "9999"), Catch::Contains("unknown member '#9999'"));
}

TEST_CASE("adding validates role, e-mail and uniqueness") {
  Db db = test::ThomeryDb();
  CHECK_THROWS_WITH(AddMember(db, {"A", "", "mayor", "", false}), Catch::Contains("unknown role 'mayor'"));
  CHECK_THROWS_WITH(AddMember(db, {"A", "not-an-email", "resident", "", false}),
                    Catch::Contains("invalid e-mail"));
  AddMember(db, {"A", "a@example.fr", "resident", "", false});
  CHECK_THROWS_WITH(AddMember(db, {"B", "A@example.fr", "resident", "", false}),
                    Catch::Contains("already exists"));
  CHECK_THROWS_WITH(AddMember(db, {"B", "", "resident", "nowhere", false}),
                    Catch::Contains("unknown neighbourhood"));
}

TEST_CASE("roles change, removal is soft and final") {
  Db db = test::ThomeryDb();
  Member m = AddMember(db, {"A", "a@example.fr", "resident", "", false});
  CHECK(SetMemberRole(db, "a@example.fr", "moderator").role == "moderator");
  CHECK(ListMembers(db, {"moderator", "", false}).size() == 3);
  RemoveMember(db, "a@example.fr");
  CHECK(ListMembers(db, {"moderator", "", false}).size() == 2);
  CHECK(ListMembers(db, {"moderator", "", true}).size() == 3);
  CHECK_THROWS_WITH(RemoveMember(db, "a@example.fr"), Catch::Contains("already removed"));
  CHECK_THROWS_WITH(SetMemberRole(db, "a@example.fr", "admin"), Catch::Contains("has been removed"));
}
