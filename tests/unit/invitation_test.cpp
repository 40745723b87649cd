#include <catch2/catch.hpp>

#include "lib/town/invitation.h"
#include "lib/town/member.h"
#include "test_support.h"

using namespace voisinage;

namespace {

std::vector<NewInvitation> Create(Db& db, int count) {
  return CreateInvitations(db, "centre-bourg", count, std::chrono::hours(24 * 30), [](const auto&) {});
}

}  // namespace

TEST_CASE("codes are human-typable and stored only as hashes") {
  Db db = test::ThomeryDb();
  std::vector<NewInvitation> codes = Create(db, 50);
  REQUIRE(codes.size() == 50);
  for (const NewInvitation& i : codes) {
    REQUIRE(i.code.size() == 9);
    CHECK(i.code[4] == '-');
    for (char c : i.code.substr(0, 4) + i.code.substr(5))
      CHECK(kInvitationAlphabet.find(c) != std::string_view::npos);
    SQLite::Statement query(
        db.sql(), "SELECT count(*) FROM invitation WHERE code_hash LIKE ? OR length(code_hash) != 64");
    query.bind(1, "%" + NormaliseInvitationCode(i.code) + "%");
    query.executeStep();
    CHECK(query.getColumn(0).getInt() == 0);
  }
  for (char c : std::string("0O1IL")) CHECK(kInvitationAlphabet.find(c) == std::string_view::npos);
}

TEST_CASE("a failed delivery creates no code") {
  Db db = test::ThomeryDb();
  CHECK_THROWS(CreateInvitations(db, "centre-bourg", 3, std::chrono::hours(1),
                                 [](const auto&) { throw Error("disk full"); }));
  CHECK(ListInvitations(db, {}).empty());
}

TEST_CASE("a code is redeemed once, ignoring case and dashes") {
  Db db = test::ThomeryDb();
  std::string code = Create(db, 1).front().code;
  std::string typed = code.substr(0, 4) + " " + code.substr(5);
  std::transform(typed.begin(), typed.end(), typed.begin(), ::tolower);
  Member member = RedeemInvitation(db, typed, "Lucie Bernard", "");
  CHECK(member.neighbourhood == "centre-bourg");
  CHECK(member.role == "resident");
  CHECK(ListInvitations(db, {"", "used"}).size() == 1);
  CHECK_THROWS_WITH(RedeemInvitation(db, code, "Someone Else", ""), Catch::Contains("already been used"));
  CHECK_THROWS_WITH(RedeemInvitation(db, "ABCD-EFGH", "X", ""), Catch::Contains("unknown invitation code"));
}

TEST_CASE("revoked and expired codes are refused without echoing them") {
  Db db = test::ThomeryDb();
  std::vector<NewInvitation> codes = Create(db, 2);
  RevokeInvitation(db, codes[0].id);
  CHECK_THROWS_WITH(RevokeInvitation(db, codes[0].id), Catch::Contains("already revoked"));
  CHECK_THROWS_WITH(RedeemInvitation(db, codes[0].code, "X", ""), Catch::Contains("revoked"));
  db.sql().exec("UPDATE invitation SET expires_at = '2000-01-01T00:00:00Z' WHERE id = " +
                std::to_string(codes[1].id));
  try {
    RedeemInvitation(db, codes[1].code, "X", "");
    FAIL("an expired code was accepted");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("expired") && !Catch::Contains(codes[1].code));
  }
  CHECK(ListInvitations(db, {"", "expired"}).size() == 1);
  CHECK(ListMembers(db, {"resident", "", false}).empty());
}

TEST_CASE("the printable sheet is French and escapes what it prints") {
  Db db = test::ThomeryDb();
  db.sql().exec("UPDATE neighbourhood SET name = '<script>alert(1)</script>' WHERE slug = 'centre-bourg'");
  std::vector<NewInvitation> codes = Create(db, 3);
  std::string html = RenderInvitationSheet(db, codes);
  CHECK_THAT(html, Catch::Contains("lang=\"fr\"") && Catch::Contains("&lt;script&gt;"));
  CHECK_THAT(html, !Catch::Contains("<script>"));
  for (const NewInvitation& i : codes) CHECK_THAT(html, Catch::Contains(i.code));
  CHECK_THAT(InvitationsCsv(codes),
             Catch::StartsWith("code,neighbourhood,neighbourhood_name,expires_at\r\n"));
}
