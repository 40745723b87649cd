#include <catch2/catch.hpp>

#include "lib/moderation/moderation.h"
#include "lib/moderation/post.h"
#include "lib/store/audit_log.h"
#include "lib/town/member.h"
#include "test_support.h"

using namespace voisinage;

namespace {

const std::string kModerator = "sandrine.petit@mairie-thomery.example.fr";
const std::string kOtherModerator = "karim.benali@mairie-thomery.example.fr";

struct TownWithResidents {
  Db db = test::ThomeryDb();
  TownWithResidents() {
    for (const char* name : {"alice", "bob", "chloe", "david", "emma"})
      AddMember(db, {name, std::string(name) + "@example.fr", "resident", "centre-bourg", false});
  }
  int64_t Post(const std::string& author, const std::string& body) {
    NewPost post;
    post.author = author;
    post.neighbourhood = "centre-bourg";  // staff belong to no neighbourhood
    post.body = body;
    return CreatePost(db, post, "test").post.id;
  }
  ReportOutcome Report(int64_t post, const std::string& by, const std::string& reason) {
    NewReport report;
    report.target = std::to_string(post);
    report.reporter = by;
    report.reason = reason;
    return AddReport(db, report);
  }
};

}  // namespace

TEST_CASE("word rules decide what happens to a post") {
  TownWithResidents t;
  NewPost post;
  post.author = "alice@example.fr";
  post.body = "Quel CONNARD ce voisin";
  CHECK_THROWS_AS(CreatePost(t.db, post, "test"), BlockedError);
  CHECK(t.db.sql().execAndGet("SELECT count(*) FROM post").getInt() == 0);
  post.body = "Payez par PayPal";
  CHECK(CreatePost(t.db, post, "test").verdict == "held");
  post.body = "Une arnaque évidente";
  PostOutcome flagged = CreatePost(t.db, post, "test");
  CHECK(flagged.verdict == "flagged");
  CHECK(flagged.case_id != 0);
}

TEST_CASE("reports add up to automatic hiding, except for staff and legal notices alone") {
  TownWithResidents t;
  int64_t post = t.Post("alice@example.fr", "Vends vélo");
  t.Report(post, "bob@example.fr", "spam");
  t.Report(post, "chloe@example.fr", "spam");
  ReportOutcome third = t.Report(post, "david@example.fr", "spam");  // Thomery hides at 3 reporters
  CHECK(third.auto_hidden);
  CHECK(GetPost(t.db, post).status == "hidden");
  CHECK(ListDecisions(t.db, third.moderation_case.id).front().automated);

  int64_t official = t.Post(test::kTownHall, "Travaux rue de By");
  for (const char* by : {"bob@example.fr", "chloe@example.fr", "david@example.fr", "emma@example.fr"})
    CHECK_FALSE(t.Report(official, by, "spam").auto_hidden);
  CHECK(GetPost(t.db, official).status == "visible");
}

TEST_CASE("danger and minors make a case urgent and first in the queue") {
  TownWithResidents t;
  int64_t a = t.Post("alice@example.fr", "un");
  int64_t b = t.Post("alice@example.fr", "deux");
  t.Report(a, "bob@example.fr", "spam");
  t.Report(b, "bob@example.fr", "minors");
  std::vector<Case> queue = ModerationQueue(t.db, {});
  REQUIRE(queue.size() == 2);
  CHECK(queue[0].target_id == b);
  CHECK(queue[0].urgent);
}

TEST_CASE("invalid reports are refused") {
  TownWithResidents t;
  int64_t post = t.Post("alice@example.fr", "texte");
  CHECK_THROWS_WITH(t.Report(post, "alice@example.fr", "spam"), Catch::Contains("their own posts"));
  t.Report(post, "bob@example.fr", "spam");
  CHECK_THROWS_WITH(t.Report(post, "bob@example.fr", "scam"), Catch::Contains("already reported"));
  CHECK_THROWS_WITH(t.Report(post, "chloe@example.fr", "rude"), Catch::Contains("unknown reason"));
  CHECK_THROWS_WITH(t.Report(post, "chloe@example.fr", "illegal"), Catch::Contains("legal notice"));
}

TEST_CASE("a closed case refuses a second decision; claims keep moderators apart") {
  TownWithResidents t;
  int64_t post = t.Post("alice@example.fr", "texte");
  int64_t case_id = t.Report(post, "bob@example.fr", "spam").moderation_case.id;
  Decide(t.db, {"hide", std::to_string(case_id), "spam", "", kModerator, "", -1});
  CHECK_THROWS_AS(Decide(t.db, {"remove", std::to_string(case_id), "spam", "", kOtherModerator, "", -1}),
                  ConflictError);
  CHECK(GetPost(t.db, post).status == "hidden");

  int64_t other = t.Post("alice@example.fr", "autre");
  int64_t second = t.Report(other, "bob@example.fr", "spam").moderation_case.id;
  CHECK(ClaimCase(t.db, second, FindMember(t.db, kModerator).id, 10));
  CHECK_FALSE(ClaimCase(t.db, second, FindMember(t.db, kOtherModerator).id, 10));
  CHECK_THROWS_AS(Decide(t.db, {"hide", std::to_string(second), "spam", "", kOtherModerator, "", -1}),
                  ConflictError);
}

TEST_CASE("suspensions stop posting until lifted; dates must be in the future") {
  TownWithResidents t;
  CHECK_THROWS_WITH(Decide(t.db, {"suspend", "bob@example.fr", "spam", "", kModerator, "2001-01-01", -1}),
                    Catch::Contains("in the past"));
  Decide(t.db, {"suspend", "bob@example.fr", "spam", "", kModerator, "2099-01-01", -1});
  CHECK_THROWS_WITH(t.Post("bob@example.fr", "texte"), Catch::Contains("suspension"));
  Decide(t.db, {"unsuspend", "bob@example.fr", "other", "", kModerator, "", -1});
  CHECK(t.Post("bob@example.fr", "texte") > 0);
}

TEST_CASE("appeals: by the right member, decided by another moderator, reversing the decision") {
  TownWithResidents t;
  int64_t post = t.Post("alice@example.fr", "texte");
  int64_t case_id = t.Report(post, "bob@example.fr", "spam").moderation_case.id;
  Decision hide = Decide(t.db, {"hide", std::to_string(case_id), "spam", "", kModerator, "", -1});
  CHECK_THROWS_WITH(AddAppeal(t.db, hide.id, "chloe@example.fr", "non"), Catch::Contains("cannot appeal"));
  Appeal appeal = AddAppeal(t.db, hide.id, "alice@example.fr", "ce n'est pas du spam");
  CHECK_THROWS_WITH(DecideAppeal(t.db, appeal.id, "uphold", kModerator, ""),
                    Catch::Contains("another moderator"));
  CHECK(DecideAppeal(t.db, appeal.id, "uphold", kOtherModerator, "").status == "upheld");
  CHECK(GetPost(t.db, post).status == "visible");
}

TEST_CASE("the audit log is append-only and its chain detects tampering") {
  TownWithResidents t;
  int64_t post = t.Post("alice@example.fr", "texte");
  t.Report(post, "bob@example.fr", "spam");
  CHECK_FALSE(VerifyAudit(t.db).has_value());
  CHECK_THROWS(t.db.sql().exec("UPDATE audit_log SET reason = 'x'"));
  CHECK_THROWS(t.db.sql().exec("DELETE FROM audit_log"));
  t.db.sql().exec("DROP TRIGGER audit_log_no_update");
  t.db.sql().exec("UPDATE audit_log SET reason = 'forged' WHERE id = 2");
  std::optional<AuditBreak> broken = VerifyAudit(t.db);
  REQUIRE(broken.has_value());
  CHECK(broken->id == 2);
}

TEST_CASE("hidden or removed content is a 90-day strike on its author, lifted with the decision") {
  TownWithResidents t;
  int64_t post = t.Post("alice@example.fr", "texte");
  int64_t case_id = t.Report(post, "bob@example.fr", "spam").moderation_case.id;
  Decision hide = Decide(t.db, {"hide", std::to_string(case_id), "spam", "", kModerator, "", -1});
  auto strikes = [&] {
    return t.db.sql()
        .execAndGet(
            "SELECT count(*) FROM restriction r JOIN member m ON m.id = r.member_id "
            "WHERE m.email = 'alice@example.fr' AND r.kind = 'warning' AND r.lifted_at IS NULL "
            "AND r.until > strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+89 days')")
        .getInt();
  };
  CHECK(strikes() == 1);
  UndoDecision(t.db, hide.id, kModerator);
  CHECK(strikes() == 0);
}
