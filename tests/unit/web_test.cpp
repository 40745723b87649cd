// Pieces of lib/web/ that need no socket: CSRF tokens, sessions, cookies, the forms' validation.

#include <catch2/catch.hpp>

#include "lib/grievance/grievance.h"
#include "lib/town/invitation.h"
#include "lib/web/csrf.h"
#include "lib/web/forms.h"
#include "lib/web/session.h"
#include "test_support.h"

namespace voisinage {
namespace {

Member JoinedResident(Db& db) {
  const auto codes = CreateInvitations(db, "centre-bourg", 1, std::chrono::hours(24), [](const auto&) {});
  return RedeemInvitation(db, codes[0].code, "Lucie B.", "");
}

std::string Repeat(const std::string& text, size_t times) {
  std::string out;
  for (size_t i = 0; i < times; ++i) out += text;
  return out;
}

Form FormOf(std::map<std::string, std::string> values) {
  Form form;
  form.values = std::move(values);
  return form;
}

TEST_CASE("a CSRF token is accepted only for its own binding and key", "[web]") {
  CsrfGuard guard;
  const std::string token = guard.Token("s:session-one");
  CHECK(token.size() == 64);
  CHECK(guard.Check("s:session-one", token));
  CHECK_FALSE(guard.Check("s:session-two", token));
  CHECK_FALSE(guard.Check("s:session-one", token.substr(0, 63)));
  CHECK_FALSE(guard.Check("s:session-one", ""));
  CHECK_FALSE(guard.Check("", guard.Token("")));
  std::string forged = token;
  forged[10] = forged[10] == 'a' ? 'b' : 'a';
  CHECK_FALSE(guard.Check("s:session-one", forged));
  // Another server run (another key) refuses the tokens of this one.
  CsrfGuard restarted;
  CHECK_FALSE(restarted.Check("s:session-one", token));
  CHECK(CsrfGuard::NewBinding() != CsrfGuard::NewBinding());
}

TEST_CASE("a session signs its member in until it expires or is deleted, and only its hash is stored",
          "[web]") {
  Db db = test::ThomeryDb();
  const Member lucie = JoinedResident(db);
  const NewSession session = CreateSession(db, lucie.id);
  CHECK(session.secret.size() == 40);
  const std::optional<Member> found = FindSession(db, session.secret);
  REQUIRE(found);
  CHECK(found->id == lucie.id);
  SQLite::Statement stored(db.sql(), "SELECT count(*) FROM web_session WHERE session_hash = ?");
  stored.bind(1, session.secret);
  stored.executeStep();
  CHECK(stored.getColumn(0).getInt() == 0);

  CHECK_FALSE(FindSession(db, "not-a-session"));
  CHECK_FALSE(FindSession(db, std::string(40, 'a')));
  CHECK(DeleteSession(db, session.secret));
  CHECK_FALSE(FindSession(db, session.secret));  // replayed after signing out
  CHECK_FALSE(DeleteSession(db, session.secret));

  const NewSession expired = CreateSession(db, lucie.id, std::chrono::seconds(-1));
  CHECK_FALSE(FindSession(db, expired.secret));
  CreateSession(db, lucie.id);  // cleans up the expired one
  CHECK(db.sql().execAndGet("SELECT count(*) FROM web_session").getInt() == 1);
}

TEST_CASE("a removed member's session no longer signs in", "[web]") {
  Db db = test::ThomeryDb();
  const Member lucie = JoinedResident(db);
  const NewSession session = CreateSession(db, lucie.id);
  RemoveMember(db, std::to_string(lucie.id));
  CHECK_FALSE(FindSession(db, session.secret));
}

TEST_CASE("cookies are read by name and set HttpOnly, SameSite=Lax, Secure only over TLS", "[web]") {
  CHECK(CookieValue("a=1; vsn_session=abc; b=2", "vsn_session") == "abc");
  CHECK(CookieValue("xvsn_session=abc", "vsn_session").empty());
  CHECK(CookieValue("", "vsn_session").empty());
  CHECK(SetCookie("vsn_session", "abc", std::chrono::seconds(60), false) ==
        "vsn_session=abc; Max-Age=60; Path=/; HttpOnly; SameSite=Lax");
  CHECK(SetCookie("vsn_session", "", std::chrono::seconds(0), true) ==
        "vsn_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure");
}

TEST_CASE("the post form requires a text, a kind, and a date for an event", "[web]") {
  Form empty = FormOf({{"kind", ""}, {"body", "  "}});
  PostFromForm(empty, false);
  CHECK(empty.errors.at("body") == "Ce champ est obligatoire.");
  CHECK(empty.errors.contains("kind"));

  Form event = FormOf({{"kind", "event"}, {"title", "Fête"}, {"body", "Venez !"}, {"event_date", "5 juin"}});
  PostFromForm(event, false);
  CHECK(event.errors.at("event_date").find("AAAA-MM-JJ") != std::string::npos);

  Form good = FormOf({{"kind", "offer"}, {"subkind", "lend"}, {"title", "Perceuse"}, {"body", "Je prête."}});
  const NewPost post = PostFromForm(good, false);
  CHECK(good.ok());
  CHECK(post.kind == "offer");
  CHECK(post.subkind == "lend");

  Form reply = FormOf({{"body", std::string(4001, 'x')}});
  PostFromForm(reply, true);
  CHECK(reply.errors.at("body").find("trop long") != std::string::npos);
}

TEST_CASE("a report of illegal content needs the legal notice's fields", "[web]") {
  Form illegal = FormOf({{"reason", "illegal"}, {"notifier_email", "pas-une-adresse"}});
  ReportFromForm(illegal);
  CHECK(illegal.errors.contains("details"));
  CHECK(illegal.errors.contains("notifier_name"));
  CHECK(illegal.errors.at("notifier_email").find("n’est pas valide") != std::string::npos);
  CHECK(illegal.errors.contains("good_faith"));

  Form spam = FormOf({{"reason", "spam"}});
  const NewReport report = ReportFromForm(spam);
  CHECK(spam.ok());
  CHECK(report.reason == "spam");

  Form unknown = FormOf({{"reason", "<script>"}});
  ReportFromForm(unknown);
  CHECK(unknown.errors.at("reason") == "Choisissez une raison dans la liste.");
}

TEST_CASE("the grievance form checks the category, the lengths and drops the contact when anonymous",
          "[web]") {
  Db db = test::ThomeryDb();
  const std::vector<GrievanceCategory> categories = ListGrievanceCategories(db);
  Form bad = FormOf({{"category", "encombrants_rdv"},  // inactive in examples/thomery.yaml
                     {"title", ""},
                     {"description", std::string(4001, 'e')},
                     {"postcode", "7781"},
                     {"contact_email", "x@"}});
  GrievanceFromForm(bad, categories);
  CHECK(bad.errors.contains("category"));
  CHECK(bad.errors.contains("title"));
  CHECK(bad.errors.at("description").find("4000 caractères au plus") != std::string::npos);
  CHECK(bad.errors.contains("postcode"));
  CHECK(bad.errors.contains("contact_email"));

  // 4000 characters with accents are within the limit (characters, not bytes).
  Form anonymous = FormOf({{"category", "eclairage_public"},
                           {"title", "Lampadaire éteint"},
                           {"description", Repeat("é", kMaxGrievanceDescription)},
                           {"anonymous", "1"},
                           {"contact_name", "Jean Dupont"},
                           {"contact_email", "jean@example.fr"}});
  const NewGrievance g = GrievanceFromForm(anonymous, categories);
  CHECK(anonymous.ok());
  CHECK(g.contact_name.empty());
  CHECK(g.contact_email.empty());
  CHECK(g.channel == "web");
}

TEST_CASE("the join form wants an 8-character code and a display name", "[web]") {
  Form bad = FormOf({{"code", "ABC"}, {"display_name", ""}});
  CheckJoinForm(bad);
  CHECK(bad.errors.contains("code"));
  CHECK(bad.errors.contains("display_name"));
  Form good = FormOf({{"code", "abcd-efgh"}, {"display_name", "Lucie B."}});
  CheckJoinForm(good);
  CHECK(good.ok());
}

TEST_CASE("forms keep only their fields, without carriage returns, cut at a bound", "[web]") {
  const std::multimap<std::string, std::string> params = {
      {"body", "ligne 1\r\nligne 2"}, {"other", "ignored"}, {"title", std::string(50, 't')}};
  const Form form = ReadForm(params, {"body", "title", "kind"}, 20);
  CHECK(form.Get("body") == "ligne 1\nligne 2");
  CHECK(form.Get("title").size() == 20);
  CHECK(form.Get("kind").empty());
  CHECK_FALSE(form.values.contains("other"));
  CHECK(form.ToJson()["has_errors"] == false);
}

TEST_CASE("a submission limit allows a count per key and window", "[web]") {
  SubmissionLimit limit(2, std::chrono::hours(1));
  CHECK(limit.Allow("10.0.0.1"));
  CHECK(limit.Allow("10.0.0.1"));
  CHECK_FALSE(limit.Allow("10.0.0.1"));
  CHECK(limit.Allow("10.0.0.2"));
  SubmissionLimit instant(1, std::chrono::seconds(0));
  CHECK(instant.Allow("x"));
  CHECK(instant.Allow("x"));  // the window has passed
}

}  // namespace
}  // namespace voisinage
