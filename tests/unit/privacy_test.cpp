#include <catch2/catch.hpp>

#include "lib/auth/token.h"
#include "lib/grievance/grievance.h"
#include "lib/moderation/moderation.h"
#include "lib/moderation/post.h"
#include "lib/privacy/member_data.h"
#include "lib/privacy/retention.h"
#include "lib/store/audit_log.h"
#include "lib/town/member.h"
#include "test_support.h"

using namespace voisinage;
using nlohmann::json;

namespace {

// Every text of every table, to look for what an erasure must leave nowhere.
std::string EveryText(Db& db) {
  std::string all;
  SQLite::Statement tables(db.sql(),
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                           "AND name NOT LIKE 'directory_search%'");
  std::vector<std::string> names;
  while (tables.executeStep()) names.push_back(tables.getColumn(0).getString());
  for (const std::string& table : names) {
    SQLite::Statement rows(db.sql(), "SELECT * FROM \"" + table + "\"");
    while (rows.executeStep())
      for (int i = 0; i < rows.getColumnCount(); ++i)
        if (rows.getColumn(i).isText()) all += rows.getColumn(i).getString() + "\n";
  }
  return all;
}

struct Lucie {
  int64_t id = 0, post = 0, reply = 0, token = 0;
  std::string grievance;
};

// Lucie posts, is replied to by name, reports, is reported and warned, reports a grievance with her phone,
// follows another, and has an API token.
Lucie Populate(Db& db) {
  Lucie lucie;
  lucie.id = AddMember(db, {"Lucie Bernard", "lucie@example.fr", "resident", "by", false}).id;
  const int64_t paul = AddMember(db, {"Paul Girard", "paul@example.fr", "resident", "by", false}).id;
  lucie.post =
      CreatePost(db,
                 {"by", "lucie@example.fr", 0, "offer", "lend", "Perceuse", "Je prête ma perceuse.", "", ""},
                 "cli")
          .post.id;
  CreatePost(db, {"by", "paul@example.fr", lucie.post, "reply", "", "", "Merci Lucie Bernard !", "", ""},
             "cli");
  const int64_t paul_post =
      CreatePost(db,
                 {"by", "paul@example.fr", 0, "discussion", "", "Fête", "Écrivez à lucie@example.fr", "", ""},
                 "cli")
          .post.id;
  lucie.reply =
      CreatePost(db, {"by", "lucie@example.fr", paul_post, "reply", "", "", "Avec plaisir.", "", ""}, "cli")
          .post.id;
  EditPost(db, lucie.post, std::nullopt, std::string("Je prête ma perceuse, Lucie Bernard."), "cli");
  AddReport(db, {"post:" + std::to_string(paul_post), "lucie@example.fr", "illegal", "Contenu illicite",
                 "Lucie Bernard", "lucie.notices@example.fr", true});
  AddReport(db, {"member:" + std::to_string(lucie.id), std::to_string(paul), "spam", "", "", "", false});
  Decide(db, {"warn", std::to_string(lucie.id), "spam", "Lucie Bernard insiste",
              "sandrine.petit@mairie-thomery.example.fr", "", -1});
  NewGrievance grievance;
  grievance.category = "voirie";
  grievance.title = "Nid de poule";
  grievance.description = "Signalé par Lucie Bernard, 06 12 34 56 78";
  grievance.reporter = "lucie@example.fr";
  grievance.contact_name = "Lucie Bernard";
  grievance.contact_phone = "06 12 34 56 78";
  lucie.grievance = AddGrievance(db, grievance, "member:" + std::to_string(lucie.id)).grievance.reference;
  NewGrievance other = grievance;
  other.reporter = "paul@example.fr";
  other.contact_name = "";
  other.contact_phone = "";
  other.description = "Trottoir";
  const std::string others = AddGrievance(db, other, "cli").grievance.reference;
  FollowGrievance(db, others, "lucie@example.fr");
  lucie.token = CreateToken(db, "lucie@example.fr", "téléphone de Lucie Bernard", std::nullopt).token.id;
  return lucie;
}

}  // namespace

TEST_CASE("an export holds every kind of datum about the member and no secret") {
  Db db = test::ThomeryDb();
  const Lucie lucie = Populate(db);
  const json data = ExportMemberData(db, "lucie@example.fr");
  CHECK(data["export_version"] == 1);
  CHECK(data["town"]["insee"] == "77463");
  CHECK(data["member"]["email"] == "lucie@example.fr");
  REQUIRE(data["posts"].size() == 1);
  CHECK(data["posts"][0]["body"] == "Je prête ma perceuse, Lucie Bernard.");
  REQUIRE(data["replies"].size() == 1);
  CHECK(data["replies"][0]["id"] == lucie.reply);
  REQUIRE(data["reports_made"].size() == 1);
  CHECK(data["reports_made"][0]["notifier_email"] == "lucie.notices@example.fr");
  CHECK(data["reports_made"][0]["good_faith"] == true);
  CHECK(data["reports_made"][0]["details"] == "Contenu illicite");
  REQUIRE(data["grievances"].size() == 2);
  CHECK(data["grievances"][0]["reference"] == lucie.grievance);
  CHECK(data["grievances"][0]["reported"] == true);
  CHECK(data["grievances"][0]["contact_phone"] == "+33612345678");
  CHECK(data["grievances"][1]["reported"] == false);
  CHECK(data["grievances"][1]["following"] == true);
  CHECK(data["grievances"][1]["contact_name"].is_null());  // someone else's contact data
  REQUIRE(data["decisions"].size() == 1);
  CHECK(data["decisions"][0]["action"] == "warn");
  CHECK(data["decisions"][0]["statement"].is_object());
  CHECK(data["restrictions"].size() == 1);
  REQUIRE(data["api_tokens"].size() == 1);
  CHECK(data["api_tokens"][0]["label"] == "téléphone de Lucie Bernard");
  CHECK(data["sessions"].empty());
  CHECK(data["audit_log"].size() >= 4);
  const std::string text = data.dump();
  CHECK(text.find("<discarded>") == std::string::npos);  // every JSON column parsed
  const std::string hash = db.sql().execAndGet("SELECT token_hash FROM api_token").getString();
  CHECK(text.find(hash) == std::string::npos);
  CHECK(text.find("hash") == std::string::npos);
  CHECK_THROWS_AS(ExportMemberData(db, "nobody@example.fr"), NotFoundError);
}

TEST_CASE("web sessions are exported without their hash, and erased") {
  Db db = test::ThomeryDb();
  const int64_t id = AddMember(db, {"Lucie", "lucie@example.fr", "resident", "", false}).id;
  db.sql().exec(
      fmt::format("INSERT INTO web_session VALUES (1, 'abcdef', {}, '2026-01-01T00:00:00Z', "
                  "'2026-01-02T00:00:00Z')",
                  id));
  const json data = ExportMemberData(db, "lucie@example.fr");
  REQUIRE(data["sessions"].size() == 1);
  CHECK(data["sessions"][0] == json{{"id", 1},
                                    {"member_id", id},
                                    {"created_at", "2026-01-01T00:00:00Z"},
                                    {"expires_at", "2026-01-02T00:00:00Z"}});
  CHECK(EraseMember(db, "lucie@example.fr", {}).changes.back() ==
        std::pair<std::string, int64_t>{"web_session", 1});
  CHECK(test::Count(db, "SELECT count(*) FROM web_session") == 0);
}

TEST_CASE("erasure anonymises the member everywhere and keeps the audit chain whole") {
  Db db = test::ThomeryDb();
  const Lucie lucie = Populate(db);
  const bool remove_posts = GENERATE(true, false);
  ErasureOptions options;
  options.remove_posts = remove_posts;
  const ErasureSummary summary = EraseMember(db, std::to_string(lucie.id), options);
  CHECK(summary.pseudonym.starts_with("member:erased-"));
  CHECK(summary.pseudonym == ErasedMemberPseudonym(db, lucie.id));

  const std::string all = EveryText(db);
  for (const char* trace :
       {"Lucie Bernard", "lucie@example.fr", "lucie.notices@example.fr", "+33612345678", "06 12 34 56 78"})
    CHECK(all.find(trace) == std::string::npos);
  CHECK(all.find(fmt::format("\"member:{}\"", lucie.id)) == std::string::npos);
  CHECK(("\n" + all).find(fmt::format("\nmember:{}\n", lucie.id)) == std::string::npos);
  CHECK(test::Count(db, fmt::format("SELECT count(*) FROM audit_log WHERE actor = 'member:{0}' OR target = "
                                    "'member:{0}'",
                                    lucie.id)) == 0);

  const Member erased = FindMember(db, std::to_string(lucie.id));
  CHECK(erased.display_name == "Ancien membre");
  CHECK(erased.email.empty());
  CHECK_FALSE(erased.removed_at.empty());
  CHECK(test::Count(db, "SELECT count(*) FROM api_token") == 0);
  CHECK(test::Count(
            db, fmt::format("SELECT count(*) FROM grievance_follower WHERE member_id = {}", lucie.id)) == 0);
  // The grievance stays, without its reporter.
  const Grievance g = GetGrievance(db, lucie.grievance);
  CHECK(g.reporter_id == 0);
  CHECK(g.contact_name.empty());
  CHECK(g.contact_phone.empty());
  CHECK(g.description == "Signalé par Ancien membre, [effacé]");
  // Other members' words lose the name only.
  CHECK(test::Count(db, "SELECT count(*) FROM post WHERE body = 'Merci Ancien membre !'") == 1);
  const Post post = GetPost(db, lucie.post);
  CHECK(post.author_id == lucie.id);
  if (remove_posts) {
    CHECK(post.status == "removed");
    CHECK(post.body.empty());
    CHECK(all.find("perceuse") == std::string::npos);  // from the post, its edit's audit entry, snapshots
  } else {
    CHECK(post.status == "visible");
    CHECK(post.body == "Je prête ma perceuse, Ancien membre.");
  }
  CHECK(test::Count(db, "SELECT count(*) FROM report WHERE notifier_name != '' OR notifier_email != ''") ==
        0);
  CHECK_FALSE(VerifyAudit(db).has_value());
  const std::vector<AuditEntry> log = ListAudit(db, {"", "", summary.pseudonym, 100});
  REQUIRE_FALSE(log.empty());
  CHECK(log.back().action == "member.erase");
  CHECK(log.back().details["posts"] == (remove_posts ? "removed" : "kept"));
  CHECK_THROWS_WITH(EraseMember(db, std::to_string(lucie.id), {}), Catch::Contains("was already erased"));
  // The audit log is append-only again.
  CHECK_THROWS(db.sql().exec("DELETE FROM audit_log"));
}

TEST_CASE("a dry run of an erasure counts and writes nothing") {
  Db db = test::ThomeryDb();
  const Lucie lucie = Populate(db);
  const std::string before = EveryText(db);
  const ErasureSummary summary = EraseMember(db, "lucie@example.fr", {true, true});
  CHECK(summary.dry_run);
  CHECK(EveryText(db) == before);
  auto count = [&](const std::string& table) {
    for (const auto& [name, n] : summary.changes)
      if (name == table) return n;
    return int64_t(-1);
  };
  CHECK(count("member") == 1);
  CHECK(count("api_token") == 1);
  CHECK(count("post") >= 3);  // her post and reply removed, Paul's replies naming her
  CHECK(count("grievance") == 1);
  CHECK(count("grievance_follower") == 2);
  CHECK(count("audit_log") > 0);
  CHECK(count("invitation") == 0);
  CHECK(FindMember(db, "lucie@example.fr").id == lucie.id);
}

TEST_CASE("erasure refuses unknown members and the town file's staff") {
  Db db = test::ThomeryDb();
  CHECK_THROWS_AS(EraseMember(db, "nobody@example.fr", {}), NotFoundError);
  CHECK_THROWS_WITH(EraseMember(db, "sandrine.petit@mairie-thomery.example.fr", {}),
                    Catch::Contains("staff listed in the town file"));
}

TEST_CASE("retention comes from the town file, with defaults") {
  const std::string yaml =
      "town: {name: Thomery, insee: \"77463\", postcodes: [\"77810\"]}\n"
      "retention:\n  grievance_contact_months: 6\n  token_days_after_expiry: 0\n";
  Db db = Db::OpenInMemory();
  TownDiff diff = ApplyTownFile(db, ParseTownFile(yaml, "town.yaml"), false);
  CHECK(diff.Count("retention", "changed") == 2);
  RetentionPolicy policy = ReadRetention(db);
  CHECK(policy.grievance_contact_months == 6);
  CHECK(policy.invitation_days_after_expiry == 30);
  CHECK(policy.token_days_after_expiry == 0);
  // A key the file no longer gives goes back to its default.
  diff = ApplyTownFile(db, ParseTownFile(yaml.substr(0, yaml.find("  token")), "town.yaml"), false);
  CHECK(diff.Count("retention", "changed") == 1);
  CHECK(ReadRetention(db).token_days_after_expiry == 90);

  CHECK_THROWS_WITH(
      ParseTownFile(yaml + "  invitation_days_after_expiry: -1\n", "town.yaml"),
      Catch::Contains("'town.yaml': line 5, column 33: 'retention.invitation_days_after_expiry' "
                      "must be between 0 and 3650 days, not -1"));
  CHECK_THROWS_WITH(ParseTownFile(yaml + "  grievance_contact_month: 3\n", "town.yaml"),
                    Catch::Contains("did you mean 'grievance_contact_months'?"));
  CHECK_THROWS_WITH(ParseTownFile(yaml + "  invitation_days_after_expiry: soon\n", "town.yaml"),
                    Catch::Contains("must be a whole number of days, not 'soon'"));
}

TEST_CASE("purge removes exactly what is past retention") {
  Db db = test::ThomeryDb();
  const Lucie lucie = Populate(db);
  // A grievance closed 13 months ago and one closed a month ago; an old revoked token, a fresh one; an old
  // expired code, a fresh one, a used one.
  db.sql().exec(
      fmt::format("UPDATE grievance SET status = 'resolved', closed_at = strftime('%Y-%m-%dT%H:%M:%SZ', "
                  "'now', '-13 months'), contact_email = 'x@example.fr' WHERE reference = '{}'",
                  lucie.grievance));
  db.sql().exec(
      "UPDATE grievance SET status = 'resolved', closed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', "
      "'-1 months'), contact_email = 'y@example.fr' WHERE reference != '" +
      lucie.grievance + "'");
  db.sql().exec("UPDATE api_token SET revoked_at = '2020-01-01T00:00:00Z'");
  CreateToken(db, "paul@example.fr", "", std::chrono::hours(1));
  db.sql().exec(R"sql(
    INSERT INTO invitation (neighbourhood_id, code_hash, created_at, expires_at, used_at, used_by) VALUES
      (1, 'a', '2020-01-01T00:00:00Z', '2020-02-01T00:00:00Z', NULL, NULL),
      (1, 'b', '2020-01-01T00:00:00Z', '2099-02-01T00:00:00Z', NULL, NULL),
      (1, 'c', '2020-01-01T00:00:00Z', '2020-02-01T00:00:00Z', '2020-01-02T00:00:00Z', 1))sql");

  const PurgeSummary dry = PurgeExpiredData(db, true);
  CHECK((dry.grievance_contacts == 1 && dry.invitations == 1 && dry.tokens == 1));
  CHECK(test::Count(db, "SELECT count(*) FROM invitation") == 3);

  const PurgeSummary done = PurgeExpiredData(db, false);
  CHECK((done.grievance_contacts == 1 && done.invitations == 1 && done.tokens == 1));
  CHECK(GetGrievance(db, lucie.grievance).contact_email.empty());
  CHECK(test::Count(db, "SELECT count(*) FROM grievance WHERE contact_email = 'y@example.fr'") == 1);
  CHECK(db.sql()
            .execAndGet(
                "SELECT group_concat(code_hash, ',') FROM (SELECT code_hash FROM invitation ORDER BY 1)")
            .getString() == "b,c");
  CHECK(test::Count(db, "SELECT count(*) FROM api_token") == 1);
  CHECK(ListAudit(db, {"", "", "database", 10}).back().action == "db.purge");
  CHECK(PurgeExpiredData(db, false).total() == 0);
}
