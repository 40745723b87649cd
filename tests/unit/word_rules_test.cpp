#include <set>

#include <catch2/catch.hpp>

#include "lib/moderation/word_rules.h"
#include "test_support.h"

using namespace voisinage;

namespace {

WordRuleSet Rules(const std::vector<std::pair<std::string, std::string>>& patterns) {
  std::vector<WordRule> rules;
  int64_t id = 0;
  for (const auto& [pattern, action] : patterns) rules.push_back({++id, pattern, action, false, ""});
  return WordRuleSet::FromRules(rules);
}

bool Fires(const std::string& pattern, const std::string& text) {
  return !Rules({{pattern, "flag"}}).Check(text).hits.empty();
}

std::string Matched(const std::string& pattern, const std::string& text) {
  RuleVerdict verdict = Rules({{pattern, "flag"}}).Check(text);
  return verdict.hits.empty() ? "<none>" : verdict.hits.front().matched;
}

std::string Censored(const std::string& pattern, const std::string& text) {
  return Rules({{pattern, "censor"}}).Check(text).censored;
}

}  // namespace

TEST_CASE("word rules ignore case and accents on both sides") {
  CHECK(Fires("arnaque*", "C'est une ARNAQUÉ !"));
  CHECK(Matched("arnaque*", "C'est une ARNAQUÉ !") == "ARNAQUÉ");
  CHECK(Fires("arnaqué", "quelle arnaque"));
  CHECK(Fires("coeur", "de tout mon Cœur"));
  CHECK(Fires("Éléphant", "un ELEPHANT rose"));
  // "é" written as "e" followed by a combining acute accent
  CHECK(Matched("elephant", "un e\xcc\x81le\xcc\x81phant") == "e\xcc\x81le\xcc\x81phant");
}

TEST_CASE("word rules match whole words only") {
  CHECK(Fires("con", "quel con."));
  CHECK_FALSE(Fires("con", "un cone de glace"));
  CHECK_FALSE(Fires("con", "une conférence"));
  CHECK_FALSE(Fires("con", "les flacons"));
  CHECK_FALSE(Fires("connard", "de la connardise"));
  CHECK(Fires("connard*", "de la connardise"));
  CHECK(Fires("con", "(con)"));
  CHECK(Fires("con", "l'con"));
  CHECK(Fires("2cv", "vends 2CV"));
  CHECK_FALSE(Fires("2cv", "vends 2CVs"));
}

TEST_CASE("a star stands for any letters inside one word, wherever it is") {
  SECTION("prefix") {
    CHECK(Fires("arnaque*", "arnaque"));
    CHECK(Fires("arnaque*", "des arnaqueurs"));
    CHECK_FALSE(Fires("arnaque*", "une arnaq"));
  }
  SECTION("suffix") {
    CHECK(Fires("*con", "gros con"));
    CHECK(Fires("*con", "un flacon"));
    CHECK_FALSE(Fires("*con", "un cone"));
  }
  SECTION("middle") {
    CHECK(Fires("ar*que", "arnaque"));
    CHECK(Fires("ar*que", "arque"));
    CHECK(Fires("ar*que", "ARNÂQUE"));
    CHECK_FALSE(Fires("ar*que", "arnaques"));
    CHECK(Fires("a*n*e", "arnaque"));
    CHECK_FALSE(Fires("a*n*e", "arbre"));
  }
  SECTION("both ends") {
    CHECK(Fires("*nul*", "nul"));
    CHECK(Fires("*nul*", "annulation"));
    CHECK_FALSE(Fires("*nul*", "nu l"));
  }
  SECTION("a star never crosses words") {
    CHECK_FALSE(Fires("arn*que", "arn que"));
    CHECK_FALSE(Fires("arnaque*", "arna que"));
  }
}

TEST_CASE("a pattern of several words matches them in a row, whatever separates them") {
  CHECK(Fires("western union", "par Western Union"));
  CHECK(Fires("western union", "par western-union."));
  CHECK(Fires("western union", "western,\n  union"));
  CHECK(Matched("western union", "payez par WESTERN -- UNION svp") == "WESTERN -- UNION");
  CHECK_FALSE(Fires("western union", "western bank union"));
  CHECK_FALSE(Fires("western union", "union western"));
  CHECK_FALSE(Fires("western union", "western"));
  CHECK(Fires("carte* cadeau*", "des cartes-cadeaux"));
}

TEST_CASE("words spelt out letter by letter are caught") {
  CHECK(Matched("connard", "quel c.o.n.n.a.r.d !") == "c.o.n.n.a.r.d");
  CHECK(Matched("connard", "quel C O N N A R D") == "C O N N A R D");
  CHECK(Fires("connard", "c-o-n-n-a-r-d"));
  CHECK(Fires("connard", "c_o_n_n_a_r_d"));
  CHECK(Fires("arnaque*", "A.R.N.A.Q.U.É.E.S"));
  CHECK(Fires("western union", "w.e.s.t.e.r.n union"));
  CHECK(Matched("western union", "par western u n i o n") == "western u n i o n");
  // only single separators join letters; words as written still match
  CHECK_FALSE(Fires("connard", "c. o. n. n. a. r. d"));
  CHECK(Fires("y", "il y a"));
  CHECK_FALSE(Fires("connard", "c o n n a r d e"));  // whole words after joining, too
  // repeated letters are not collapsed
  CHECK_FALSE(Fires("connard", "connnnard"));
}

TEST_CASE("rules checked together fire exactly as when checked one by one") {
  const std::vector<std::string> patterns = {"con", "*con", "*nul*", "arnaque*",      "ar*que", "a*n*e",
                                             "nul", "*que", "ar*",   "western union", "union",  "c*n"};
  const std::vector<std::string> texts = {"quel con", "un flacon",         "annulation", "arnaqueurs",
                                          "arque",    "western u.n.i.o.n", "c.o.n",      "cone",
                                          "nul",      "une conférence"};
  std::vector<std::pair<std::string, std::string>> all;
  for (const std::string& pattern : patterns) all.push_back({pattern, "flag"});
  const WordRuleSet together = Rules(all);
  size_t texts_with_hits = 0;
  for (const std::string& text : texts) {
    std::set<std::string> fired_together, fired_alone;
    for (const RuleHit& hit : together.Check(text).hits) fired_together.insert(hit.rule.pattern);
    for (const std::string& pattern : patterns)
      if (Fires(pattern, text)) fired_alone.insert(pattern);
    INFO(text);
    CHECK(fired_together == fired_alone);
    texts_with_hits += !fired_alone.empty();
  }
  CHECK(texts_with_hits == texts.size() - 2);  // all but "cone" and "une conférence"
}

TEST_CASE("censoring masks the matched letters and keeps every other byte") {
  const std::string text = "Ah, PUTAIN !\t« Putain » de\nputains de ponts… putain.";
  CHECK(Censored("putain", text) == "Ah, ****** !\t« ****** » de\nputains de ponts… ******.");
  CHECK(Censored("putain*", "putains\r\n") == "*******\r\n");
  // accented and non-Latin letters count one '*' each, whatever their bytes
  CHECK(Censored("pétasse", "Pétasse!") == "*******!");
  CHECK(Censored("coeur", "mon cœur") == "mon ****");
  CHECK(Censored("elephant", "l'e\xcc\x81le\xcc\x81phant") == "l'********");
  CHECK(Censored("спам", "это спам!") == "это ****!");
  // spelt-out words keep their separators; multi-word matches keep theirs
  CHECK(Censored("putain", "P.U.T.A.I.N de pont") == "*.*.*.*.*.* de pont");
  CHECK(Censored("western union", "par Western - Union ?") == "par ******* - ***** ?");
  // nothing to censor: the text itself, invalid UTF-8 included
  const std::string invalid = "caf\xe9 \xff putain";
  CHECK(Rules({{"putain", "flag"}}).Check(invalid).censored == invalid);
  CHECK(Censored("putain", invalid) == "caf\xe9 \xff ******");
}

TEST_CASE("the verdict is the strongest action; hits come strongest first") {
  WordRuleSet rules = Rules({{"putain", "censor"},
                             {"arnaque*", "flag"},
                             {"paypal", "hold"},
                             {"connard", "block"},
                             {"urgent*", "flag"}});
  RuleVerdict none = rules.Check("Bonjour, je prête ma tondeuse.");
  CHECK(none.action.empty());
  CHECK(none.Strongest() == nullptr);
  CHECK(none.censored == "Bonjour, je prête ma tondeuse.");

  RuleVerdict verdict = rules.Check("URGENT putain, payez par PayPal, cette arnaque de connard");
  REQUIRE(verdict.hits.size() == 5);
  CHECK(verdict.action == "block");
  REQUIRE(verdict.Strongest() != nullptr);
  CHECK(verdict.Strongest()->rule.pattern == "connard");
  CHECK(verdict.hits[1].rule.action == "hold");
  CHECK(verdict.hits[2].rule.pattern == "urgent*");  // two flags: in the order they appear in the text
  CHECK(verdict.hits[2].matched == "URGENT");
  CHECK(verdict.hits[3].rule.pattern == "arnaque*");
  CHECK(verdict.hits[4].rule.action == "censor");
  CHECK(verdict.censored == "URGENT ******, payez par PayPal, cette arnaque de connard");

  CHECK(rules.Check("arnaque putain").action == "flag");  // flag beats censor
  CHECK(rules.Check("putain").action == "censor");
  // a rule firing twice is one hit, on its first occurrence
  RuleVerdict twice = rules.Check("Putain, putain");
  REQUIRE(twice.hits.size() == 1);
  CHECK(twice.hits[0].matched == "Putain");
  CHECK(twice.censored == "******, ******");

  nlohmann::json json = ToJson(verdict);
  CHECK(json["action"] == "block");
  CHECK(json["hits"][0]["rule"]["pattern"] == "connard");
  CHECK(json["hits"][0]["matched"] == "connard");
  CHECK(ToJson(none)["action"].is_null());
}

TEST_CASE("invalid patterns are refused with a reason") {
  CHECK_THROWS_WITH(ValidateWordPattern(""), Catch::Contains("the word pattern is empty"));
  CHECK_THROWS_WITH(ValidateWordPattern("   "), Catch::Contains("the word pattern is empty"));
  CHECK_THROWS_WITH(ValidateWordPattern(std::string(201, 'a')), Catch::Contains("longer than 200 bytes"));
  CHECK_NOTHROW(ValidateWordPattern(std::string(200, 'a')));
  CHECK_THROWS_WITH(ValidateWordPattern("*"), Catch::Contains("no letter or digit"));
  CHECK_THROWS_WITH(ValidateWordPattern("* *"), Catch::Contains("no letter or digit"));
  CHECK_THROWS_WITH(ValidateWordPattern("?!"), Catch::Contains("no letter or digit"));
  CHECK_THROWS_WITH(ValidateWordPattern("arn**"), Catch::Contains("'**'"));
  CHECK_THROWS_WITH(ValidateWordPattern("western * union"), Catch::Contains("a '*' stands alone"));
  CHECK_THROWS_WITH(ValidateWordPattern("arnaque *"), Catch::Contains("a '*' stands alone"));
  CHECK_THROWS_WITH(ValidateWordPattern("con\nnard"), Catch::Contains("control character"));
  CHECK_THROWS_WITH(ValidateWordPattern("con\x1b[31m"), Catch::Contains("control character"));
  CHECK_THROWS_WITH(ValidateWordPattern("caf\xe9"), Catch::Contains("not valid UTF-8"));
  CHECK_THROWS_WITH(ValidateWordPattern("*"), Catch::Contains("invalid word pattern '*'"));
  for (const char* valid : {"ar*que", "*nul*", "arnaque*", "*con", "western union", "l'arnaque", "Éléphant"})
    CHECK_NOTHROW(ValidateWordPattern(valid));
  CHECK_THROWS_WITH(Rules({{"**", "flag"}}), Catch::Contains("word rule #1"));
  CHECK_THROWS_WITH(Rules({{"ok", "delete"}}), Catch::Contains("unknown action 'delete'"));
}

TEST_CASE("rules are added, listed and removed, each change in the audit log") {
  Db db = test::ThomeryDb();
  const size_t from_town = ListWordRules(db).size();
  const int64_t audit_before = test::Count(db, "SELECT count(*) FROM audit_log");

  WordRule added = AddWordRule(db, "  pétasse  ", "block", "cli");
  CHECK(added.pattern == "pétasse");
  CHECK_FALSE(added.from_town_file);
  CHECK_FALSE(added.created_at.empty());
  std::vector<WordRule> rules = ListWordRules(db);
  REQUIRE(rules.size() == from_town + 1);
  CHECK(rules.back().id == added.id);
  CHECK(test::Count(
            db,
            "SELECT count(*) FROM audit_log WHERE action = 'rule.add' AND actor = 'cli' AND target = 'rule:" +
                std::to_string(added.id) + "' AND details LIKE '%block%'") == 1);

  CHECK(WordRuleSet::Load(db).Check("PETASSE").action == "block");

  SECTION("bad input changes nothing") {
    CHECK_THROWS_WITH(AddWordRule(db, "pétasse", "hold", "cli"), Catch::Contains("already exists (#"));
    CHECK_THROWS_WITH(AddWordRule(db, "PÉTASSE", "hold", "cli"),
                      Catch::Contains("already exists as 'pétasse'"));
    CHECK_THROWS_WITH(AddWordRule(db, "Arnaque*", "hold", "cli"),
                      Catch::Contains("already exists as 'arnaque*'"));
    CHECK_THROWS_WITH(AddWordRule(db, "escroc", "blok", "cli"),
                      Catch::Contains("unknown action 'blok'") && Catch::Contains("did you mean 'block'"));
    CHECK_THROWS_WITH(AddWordRule(db, "escr**", "block", "cli"), Catch::Contains("invalid word pattern"));
    CHECK_THROWS_WITH(RemoveWordRule(db, "9999", "cli"), Catch::Contains("unknown word rule '9999'"));
    CHECK_THROWS_WITH(RemoveWordRule(db, "#9999", "cli"), Catch::Contains("unknown word rule '#9999'"));
    CHECK_THROWS_WITH(RemoveWordRule(db, "petasse", "cli"), Catch::Contains("did you mean 'pétasse'"));
    CHECK(ListWordRules(db).size() == from_town + 1);
    CHECK(test::Count(db, "SELECT count(*) FROM audit_log") == audit_before + 1);
  }

  SECTION("by id") {
    WordRule removed = RemoveWordRule(db, "#" + std::to_string(added.id), "cli");
    CHECK(removed.pattern == "pétasse");
    CHECK(ListWordRules(db).size() == from_town);
    CHECK(test::Count(db, "SELECT count(*) FROM audit_log WHERE action = 'rule.remove' AND target = 'rule:" +
                              std::to_string(added.id) + "'") == 1);
    CHECK(WordRuleSet::Load(db).Check("PETASSE").hits.empty());
  }

  SECTION("by exact pattern, a town file rule included") {
    RemoveWordRule(db, "pétasse", "cli");
    WordRule town_rule = RemoveWordRule(db, "western union", "moderator:3");
    CHECK(town_rule.from_town_file);
    CHECK(town_rule.action == "hold");
    CHECK(ListWordRules(db).size() == from_town - 1);
    CHECK(test::Count(db,
                      "SELECT count(*) FROM audit_log WHERE action = 'rule.remove' AND actor = 'moderator:3' "
                      "AND details LIKE '%western union%'") == 1);
  }
}

TEST_CASE("the example town's rules load and fire") {
  Db db = test::ThomeryDb();
  std::vector<WordRule> stored = ListWordRules(db);
  REQUIRE(stored.size() == 7);
  CHECK(std::all_of(stored.begin(), stored.end(), [](const WordRule& r) { return r.from_town_file; }));
  WordRuleSet rules = WordRuleSet::Load(db);
  CHECK(rules.rules().size() == 7);
  CHECK(rules.Check("Quel C.O.N.N.A.R.D").action == "block");
  CHECK(rules.Check("Payez par Western Union").action == "hold");
  CHECK(rules.Check("Arnaques en série").action == "flag");
  RuleVerdict censored = rules.Check("Putain de pont !");
  CHECK(censored.action == "censor");
  CHECK(censored.censored == "****** de pont !");
  CHECK(rules.Check("Je prête ma tondeuse, rue de la Paix.").hits.empty());
}
