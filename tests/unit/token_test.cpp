// API tokens (lib/auth/token.h) and the secrets behind them (lib/store/secret.h).

#include <catch2/catch.hpp>

#include "lib/auth/token.h"
#include "lib/moderation/moderation.h"
#include "lib/store/secret.h"
#include "lib/town/member.h"
#include "tests/unit/test_support.h"

namespace voisinage {
namespace {

Member Resident(Db& db, const std::string& email) {
  return AddMember(db, {"Résidente " + email, email, "resident", "centre-bourg", false});
}

TEST_CASE("a token is shown once and stored only as a keyed hash", "[token]") {
  Db db = test::ThomeryDb();
  const Member m = Resident(db, "lucie@example.fr");
  const NewToken created = CreateToken(db, "lucie@example.fr", "app", std::nullopt);
  CHECK(created.secret.starts_with("vsn_"));
  CHECK(created.secret.size() == 36);
  CHECK(created.token.member_id == m.id);
  CHECK(created.token.status == "active");
  CHECK(created.token.expires_at.empty());
  SQLite::Statement stored(db.sql(), "SELECT token_hash FROM api_token");
  REQUIRE(stored.executeStep());
  const std::string hash = stored.getColumn(0).getString();
  CHECK(hash.size() == 64);
  CHECK(hash.find(created.secret.substr(4)) == std::string::npos);
  CHECK(hash == KeyedHash(db, created.secret));
  CHECK(test::Count(db, "SELECT count(*) FROM audit_log WHERE action = 'token.create'") == 1);

  // Two tokens never look alike.
  const NewToken other = CreateToken(db, std::to_string(m.id), "", std::nullopt);
  CHECK(other.secret != created.secret);
}

TEST_CASE("the keyed hash depends on the database's own key", "[token]") {
  Db one = test::ThomeryDb();
  Db two = test::ThomeryDb();
  CHECK(KeyedHash(one, "vsn_same") == KeyedHash(one, "vsn_same"));
  CHECK(KeyedHash(one, "vsn_same") != KeyedHash(two, "vsn_same"));
  CHECK(RandomString("ab", 64).find_first_not_of("ab") == std::string::npos);
}

TEST_CASE("authenticating a token", "[token]") {
  Db db = test::ThomeryDb();
  const Member m = Resident(db, "paul@example.fr");
  const NewToken created = CreateToken(db, "paul@example.fr", "", std::chrono::hours{1});
  CHECK_FALSE(created.token.expires_at.empty());

  const Caller caller = Authenticate(db, created.secret);
  CHECK(caller.member.id == m.id);
  CHECK(caller.token_id == created.token.id);
  CHECK(caller.restriction.empty());

  auto code_of = [&db](const std::string& secret) {
    try {
      Authenticate(db, secret);
    } catch (const AuthError& e) {
      return e.code() + (e.forbidden() ? "/403" : "/401");
    }
    return std::string("accepted");
  };
  CHECK(code_of("") == "missing_token/401");
  CHECK(code_of("not-a-token") == "invalid_token/401");
  CHECK(code_of("vsn_" + std::string(32, 'x')) == "invalid_token/401");
  CHECK(code_of(created.secret + "x") == "invalid_token/401");

  SECTION("a revoked token is refused at once") {
    const ApiToken revoked = RevokeToken(db, created.token.id);
    CHECK(revoked.status == "revoked");
    CHECK(code_of(created.secret) == "token_revoked/401");
    CHECK_THROWS_WITH(RevokeToken(db, created.token.id), Catch::Contains("already revoked"));
  }
  SECTION("an expired token is refused") {
    db.sql().exec("UPDATE api_token SET expires_at = '2020-01-01T00:00:00Z'");
    CHECK(code_of(created.secret) == "token_expired/401");
    CHECK(ListTokens(db, "paul@example.fr").front().status == "expired");
  }
  SECTION("a removed member's token is refused") {
    RemoveMember(db, "paul@example.fr");
    CHECK(code_of(created.secret) == "member_removed/403");
  }
  SECTION("a suspended member's token is refused; a silenced member may still read") {
    const std::string moderator =
        db.sql().execAndGet("SELECT email FROM member WHERE role = 'moderator' LIMIT 1").getString();
    DecisionRequest silence{"silence", "paul@example.fr", "spam", "", moderator, "2099-01-01", -1};
    Decide(db, silence);
    CHECK(Authenticate(db, created.secret).restriction == "silence");
    DecisionRequest suspend{"suspend", "paul@example.fr", "spam", "", moderator, "2099-01-01", -1};
    Decide(db, suspend);
    CHECK(code_of(created.secret) == "account_suspended/403");
  }
}

TEST_CASE("listing and revoking tokens", "[token]") {
  Db db = test::ThomeryDb();
  Resident(db, "a@example.fr");
  Resident(db, "b@example.fr");
  CreateToken(db, "a@example.fr", "one", std::nullopt);
  CreateToken(db, "b@example.fr", "two", std::nullopt);
  CreateToken(db, "a@example.fr", "three", std::nullopt);
  CHECK(ListTokens(db, "").size() == 3);
  const std::vector<ApiToken> mine = ListTokens(db, "a@example.fr");
  REQUIRE(mine.size() == 2);
  CHECK(mine[0].label == "three");  // newest first
  CHECK_THROWS_AS(RevokeToken(db, 999), NotFoundError);
  CHECK_THROWS_AS(CreateToken(db, "nobody@example.fr", "", std::nullopt), NotFoundError);
  CHECK_THROWS_WITH(CreateToken(db, "a@example.fr", std::string(121, 'x'), std::nullopt),
                    Catch::Contains("label"));
  RemoveMember(db, "b@example.fr");
  CHECK_THROWS_WITH(CreateToken(db, "b@example.fr", "", std::nullopt), Catch::Contains("removed"));
}

}  // namespace
}  // namespace voisinage
