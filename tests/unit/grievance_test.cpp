#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "lib/atomic_file.h"
#include "lib/clock.h"
#include "lib/error.h"
#include "lib/grievance/export.h"
#include "lib/grievance/grievance.h"
#include "lib/grievance/stats.h"
#include "lib/time_zone.h"
#include "lib/town/member.h"
#include "lib/town/neighbourhood.h"
#include "test_support.h"

using namespace voisinage;
using nlohmann::json;

namespace {

const std::string kExpected = "2030-06-15";  // the planned date of the work, still to come

// Inside the polygons of examples/thomery.yaml.
constexpr double kCentreBourgLat = 48.4085, kCentreBourgLon = 2.786;
constexpr double kByLat = 48.4125, kByLon = 2.769;

// The Error `call` throws, to look at its message and hint.
Error ErrorOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no voisinage::Error was thrown");
  return Error("");
}

struct Town {
  Db db = test::ThomeryDb();
  Town() {
    for (const char* name : {"alice", "bob", "chloe"})
      AddMember(db, {name, std::string(name) + "@example.fr", "resident", "centre-bourg", false});
  }

  static NewGrievance Draft(const std::string& category, const std::string& title) {
    NewGrievance g;
    g.category = category;
    g.title = title;
    g.description = "Description de « " + title + " »";
    return g;
  }

  // A grievance received at `received` (empty: now), after `adjust` filled in the rest.
  Grievance Add(const std::string& category, const std::string& title, const std::string& received = "",
                const std::function<void(NewGrievance&)>& adjust = {}) {
    NewGrievance g = Draft(category, title);
    g.received_at = received;
    if (adjust) adjust(g);
    return AddGrievance(db, g, "cli").grievance;
  }

  // Moves `reference` to `status` at `at` (empty: now); planned gets an expected date.
  Grievance Move(const std::string& reference, const std::string& status, const std::string& at = "",
                 const std::string& duplicate_of = "", const std::string& note = "",
                 bool public_note = false) {
    StatusChange change;
    change.reference = reference;
    change.status = status;
    change.at = at;
    change.duplicate_of = duplicate_of;
    change.note = note;
    change.public_note = public_note;
    if (status == "planned") change.expected_on = kExpected;
    return ChangeGrievanceStatus(db, change, "cli");
  }

  int64_t MemberId(const std::string& email) { return FindMember(db, email).id; }
  int Count(const std::string& table) {
    return db.sql().execAndGet("SELECT count(*) FROM " + table).getInt();
  }
};

// The status changes that take a new grievance to each status.
const std::map<std::string, std::vector<std::string>> kPathFrom = {
    {"new", {}},
    {"open", {"open"}},
    {"in_review", {"open", "in_review"}},
    {"planned", {"open", "planned"}},
    {"in_progress", {"open", "in_progress"}},
    {"resolved", {"open", "resolved"}},
    {"no_action", {"no_action"}},
    {"not_competent", {"not_competent"}},
    {"duplicate", {"duplicate"}},
    {"transferred", {"transferred"}},
    {"hidden", {"hidden"}},
};

std::string Local(const TimeZone& zone, const std::string& iso) {
  const LocalTime l = zone.ToLocal(ParseIso(iso));
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", l.year, l.month, l.day, l.hour, l.minute,
                     l.second);
}

std::string Export(Db& db, const std::string& format, GrievanceFilter filter = {},
                   const std::string& template_path = "") {
  std::ostringstream out;
  ExportGrievances(db, {format, template_path, filter}, out);
  return out.str();
}

}  // namespace

TEST_CASE("the transition table is the documented workflow", "[grievance]") {
  const std::map<std::string, std::vector<std::string>> documented = {
      {"new", {"open", "no_action", "not_competent", "duplicate", "transferred", "hidden"}},
      {"open",
       {"in_review", "planned", "in_progress", "resolved", "no_action", "not_competent", "duplicate",
        "transferred", "hidden"}},
      {"in_review",
       {"open", "planned", "in_progress", "resolved", "no_action", "not_competent", "duplicate",
        "transferred", "hidden"}},
      {"planned", {"in_review", "planned", "in_progress", "resolved", "no_action", "transferred", "hidden"}},
      {"in_progress", {"planned", "resolved", "no_action", "transferred", "hidden"}},
      {"resolved", {"open", "hidden"}},
      {"no_action", {"open", "hidden"}},
      {"not_competent", {"open", "hidden"}},
      {"duplicate", {"open", "hidden"}},
      {"transferred", {"open", "hidden"}},
      {"hidden", {"open"}},
  };
  REQUIRE(GrievanceStatuses().size() == documented.size());
  for (const std::string& status : GrievanceStatuses()) {
    CAPTURE(status);
    CHECK(AllowedTransitions(status) == documented.at(status));
  }
  CHECK(AllowedTransitions("nonsense").empty());
}

TEST_CASE("every allowed transition is accepted and recorded", "[grievance]") {
  Town t;
  const std::string target = t.Add("voirie", "Le signalement d'origine").reference;
  int accepted = 0;
  for (const std::string& from : GrievanceStatuses()) {
    for (const std::string& to : AllowedTransitions(from)) {
      CAPTURE(from, to);
      const std::string ref = t.Add("voirie", from + " vers " + to).reference;
      for (const std::string& step : kPathFrom.at(from))
        t.Move(ref, step, "", step == "duplicate" ? target : "");
      REQUIRE(GetGrievance(t.db, ref).status == from);
      const Grievance after = t.Move(ref, to, "", to == "duplicate" ? target : "", "note " + to);
      CHECK(after.status == to);
      const GrievanceEvent last = GrievanceEvents(t.db, after.id, false).back();
      CHECK(last.old_status == from);
      CHECK(last.new_status == to);
      CHECK(last.note == "note " + to);
      CHECK(last.actor == "cli");
      if (IsClosedStatus(from) && to == "open") {
        CHECK(last.kind == "reopened");
        CHECK(after.reopened == 1);
      } else {
        CHECK(last.kind == "status");  // unhiding is not a reopening: it was never closed
        CHECK(after.reopened == 0);
      }
      if (to == "planned") CHECK(after.expected_on == kExpected);
      if (to != "planned") CHECK(after.expected_on.empty());
      if (to == "duplicate") CHECK(after.duplicate_of == target);
      ++accepted;
    }
  }
  CHECK(accepted == 47);
}

TEST_CASE("every other transition is refused with the allowed ones listed", "[grievance]") {
  Town t;
  const std::string target = t.Add("voirie", "Le signalement d'origine").reference;
  int refused = 0;
  for (const std::string& from : GrievanceStatuses()) {
    const Grievance g = t.Add("voirie", "depuis " + from);
    for (const std::string& step : kPathFrom.at(from))
      t.Move(g.reference, step, "", step == "duplicate" ? target : "");
    const int events = static_cast<int>(GrievanceEvents(t.db, g.id, false).size());
    const auto& allowed = AllowedTransitions(from);
    for (const std::string& to : GrievanceStatuses()) {
      if (std::find(allowed.begin(), allowed.end(), to) != allowed.end()) continue;
      CAPTURE(from, to);
      const Error e = ErrorOf([&] { t.Move(g.reference, to, "", to == "duplicate" ? target : ""); });
      CHECK(std::string(e.what()) == fmt::format("{} cannot go from {} to {}", g.reference, from, to));
      CHECK(e.hint() == fmt::format("from {}: {}", from, fmt::join(allowed, ", ")));
      ++refused;
    }
    CHECK(GetGrievance(t.db, g.reference).status == from);
    CHECK(static_cast<int>(GrievanceEvents(t.db, g.id, false).size()) == events);
  }
  CHECK(refused == 11 * 11 - 47);

  const Error e = ErrorOf([&] { t.Move(target, "resolved"); });
  CHECK(e.hint() == "from new: open, no_action, not_competent, duplicate, transferred, hidden");
}

TEST_CASE("planned needs a date, duplicate needs its original, statuses are checked", "[grievance]") {
  Town t;
  const std::string original = t.Add("voirie", "Original").reference;
  const std::string ref = t.Add("voirie", "Copie").reference;
  t.Move(ref, "open");
  StatusChange change;
  change.reference = ref;
  change.status = "planned";
  CHECK_THROWS_WITH(ChangeGrievanceStatus(t.db, change, "cli"), Catch::Contains("expected"));
  change.expected_on = "2026-02-30";
  CHECK_THROWS_WITH(ChangeGrievanceStatus(t.db, change, "cli"),
                    Catch::Contains("invalid expected date '2026-02-30'"));
  change.status = "in_review";
  change.expected_on = "2026-12-01";
  CHECK_THROWS_WITH(ChangeGrievanceStatus(t.db, change, "cli"),
                    Catch::Contains("only applies to the planned"));
  change.expected_on.clear();
  change.status = "duplicate";
  CHECK_THROWS_WITH(ChangeGrievanceStatus(t.db, change, "cli"),
                    Catch::Contains("needs the grievance it duplicates"));
  change.duplicate_of = ref;
  CHECK_THROWS_WITH(ChangeGrievanceStatus(t.db, change, "cli"), Catch::Contains("cannot duplicate itself"));
  change.duplicate_of = "DOL-2026-999";
  CHECK_THROWS_WITH(ChangeGrievanceStatus(t.db, change, "cli"),
                    Catch::Contains("no grievance 'DOL-2026-000999'"));
  change.status = "resolu";
  change.duplicate_of.clear();
  CHECK_THROWS_WITH(ChangeGrievanceStatus(t.db, change, "cli"), Catch::Contains("unknown status 'resolu'"));
  change.status = "in_review";
  change.duplicate_of = original;
  CHECK_THROWS_WITH(ChangeGrievanceStatus(t.db, change, "cli"),
                    Catch::Contains("only applies to the duplicate"));
  change.duplicate_of.clear();
  change.note = std::string(4001, 'n');
  CHECK_THROWS_WITH(ChangeGrievanceStatus(t.db, change, "cli"),
                    Catch::Contains("the note has 4001 characters"));
  CHECK(GetGrievance(t.db, ref).status == "open");
}

TEST_CASE("statuses fall in two groups", "[grievance]") {
  for (const char* s : {"new", "open", "in_review", "planned", "in_progress"}) {
    CAPTURE(s);
    CHECK(IsOpenStatus(s));
    CHECK_FALSE(IsClosedStatus(s));
    CHECK(StatusGroup(s) == "open");
  }
  for (const char* s : {"resolved", "no_action", "not_competent", "duplicate", "transferred"}) {
    CAPTURE(s);
    CHECK(IsClosedStatus(s));
    CHECK_FALSE(IsOpenStatus(s));
    CHECK(StatusGroup(s) == "closed");
  }
  CHECK_FALSE(IsOpenStatus("hidden"));
  CHECK_FALSE(IsClosedStatus("hidden"));
  CHECK(StatusGroup("hidden") == "closed");
  CHECK(FrenchStatus("resolved") == "Résolue");
  CHECK(FrenchChannel("counter") == "Guichet");
}

TEST_CASE("a grievance is refused, and nothing written, on bad input", "[grievance]") {
  Town t;
  auto refused = [&](const std::function<void(NewGrievance&)>& adjust) {
    NewGrievance g = Town::Draft("voirie", "Nid-de-poule");
    adjust(g);
    return ErrorOf([&] { AddGrievance(t.db, g, "cli"); });
  };
  Error e = refused([](NewGrievance& g) { g.category = "voiri"; });
  CHECK_THAT(e.what(), Catch::Contains("unknown category 'voiri'") && Catch::Contains("voirie"));
  CHECK_THAT(e.hint(), Catch::Contains("eclairage_public"));
  CHECK_THAT(refused([](NewGrievance& g) { g.category = "encombrants_rdv"; }).what(),
             Catch::Contains("category 'encombrants_rdv' is no longer in use"));
  CHECK_THAT(refused([](NewGrievance& g) { g.title = " \t "; }).what(),
             Catch::Contains("the title is empty"));
  CHECK_THAT(refused([](NewGrievance& g) { g.title = std::string(201, 'x'); }).what(),
             Catch::Contains("the title has 201 characters; at most 200"));
  CHECK_THAT(refused([](NewGrievance& g) { g.description.clear(); }).what(),
             Catch::Contains("the description is empty"));
  CHECK_THAT(refused([](NewGrievance& g) { g.channel = "fax"; }).what(),
             Catch::Contains("unknown channel 'fax'"));
  CHECK_THAT(refused([](NewGrievance& g) { g.reporter = "personne@example.fr"; }).what(),
             Catch::Contains("unknown member 'personne@example.fr'"));
  CHECK_THAT(refused([](NewGrievance& g) { g.lat = 48.4; }).what(),
             Catch::Contains("give both the latitude and the longitude"));
  CHECK_THAT(refused([](NewGrievance& g) {
               g.lat = 91;
               g.lon = 2.7;
             }).what(),
             Catch::Contains("coordinates out of range"));
  CHECK_THAT(refused([](NewGrievance& g) {
               g.lat = 48.4;
               g.lon = -181;
             }).what(),
             Catch::Contains("coordinates out of range"));
  CHECK_THAT(refused([](NewGrievance& g) {
               g.lat = 48.4;
               g.lon = std::nan("");
             }).what(),
             Catch::Contains("coordinates out of range"));
  e = refused([](NewGrievance& g) {
    g.lat = kCentreBourgLon;
    g.lon = kCentreBourgLat;
  });
  CHECK_THAT(e.what(), Catch::Contains("look swapped"));
  CHECK_THAT(e.hint(), Catch::Contains("did you mean --lat 48.4085 --lon 2.786?"));
  CHECK_THAT(refused([](NewGrievance& g) { g.received_at = "2099-01-01T00:00:00Z"; }).what(),
             Catch::Contains("is in the future"));
  CHECK_THAT(refused([](NewGrievance& g) { g.received_at = "hier"; }).what(),
             Catch::Contains("invalid date 'hier'"));
  CHECK_THAT(refused([](NewGrievance& g) { g.postcode = "7781"; }).what(),
             Catch::Contains("invalid postcode '7781'"));
  CHECK_THAT(refused([](NewGrievance& g) { g.contact_email = "pas un courriel"; }).what(),
             Catch::Contains("invalid e-mail address 'pas un courriel'"));
  CHECK_THAT(refused([](NewGrievance& g) { g.contact_phone = "appelez-moi"; }).what(),
             Catch::Contains("invalid phone number"));
  CHECK_THAT(refused([](NewGrievance& g) { g.address = std::string(301, 'a'); }).what(),
             Catch::Contains("address is longer than 300"));
  CHECK(t.Count("grievance") == 0);
  CHECK(t.Count("grievance_event") == 0);
  CHECK(t.Count("grievance_follower") == 0);
}

TEST_CASE("descriptions and titles are measured in characters, not bytes", "[grievance]") {
  Town t;
  std::string description, title;
  for (int i = 0; i < 4000; ++i) description += "é";
  for (int i = 0; i < 200; ++i) title += "é";
  REQUIRE(description.size() == 8000);
  const Grievance g = t.Add("voirie", title, "", [&](NewGrievance& n) { n.description = description; });
  CHECK(g.description == description);
  CHECK(g.title == title);
  CHECK_THROWS_WITH(
      t.Add("voirie", "trop long", "", [&](NewGrievance& n) { n.description = description + "é"; }),
      Catch::Contains("the description has 4001 characters; at most 4000"));
  CHECK_THROWS_WITH(t.Add("voirie", title + "é"), Catch::Contains("the title has 201 characters"));
  CHECK(t.Count("grievance") == 1);
}

TEST_CASE("references are sequential per year of reception in the town's time zone", "[grievance]") {
  Town t;
  CHECK(t.Add("voirie", "a", "2026-03-01T10:00:00Z").reference == "DOL-2026-000001");
  CHECK(t.Add("voirie", "b", "2025-06-01T10:00:00Z").reference == "DOL-2025-000001");
  CHECK(t.Add("voirie", "c", "2026-03-02T10:00:00Z").reference == "DOL-2026-000002");
  // 23:30 on 31 December in Paris.
  CHECK(t.Add("voirie", "d", "2025-12-31T22:30:00Z").reference == "DOL-2025-000002");
  // Already 00:30 on 1 January 2026 in Paris, although still 2025 in UTC.
  const Grievance new_year = t.Add("voirie", "e", "2025-12-31T23:30:00Z");
  CHECK(new_year.reference == "DOL-2026-000003");
  CHECK(new_year.created_at == "2025-12-31T23:30:00Z");
  CHECK(new_year.updated_at == "2025-12-31T23:30:00Z");

  // A bare day is midnight in Paris.
  const Grievance letter = t.Add("voirie", "f", "2026-01-01");
  CHECK(letter.created_at == "2025-12-31T23:00:00Z");
  CHECK(letter.reference == "DOL-2026-000004");
  CHECK(t.Add("voirie", "g", "2026-07-14").created_at == "2026-07-13T22:00:00Z");

  CHECK(GetGrievance(t.db, "dol-2026-3").title == "e");
  CHECK(GetGrievance(t.db, "DOL-2025-000002").title == "d");
  CHECK_THROWS_WITH(GetGrievance(t.db, "DOL-2026-000099"), Catch::Contains("no grievance 'DOL-2026-000099'"));
  CHECK_THROWS_WITH(GetGrievance(t.db, "2026-3"), Catch::Contains("invalid grievance reference '2026-3'"));
}

TEST_CASE("a new grievance is located, gets its category's service and its reporter follows it",
          "[grievance]") {
  Town t;
  const Grievance centre = t.Add("voirie", "Centre", "", [](NewGrievance& g) {
    g.lat = kCentreBourgLat;
    g.lon = kCentreBourgLon;
    g.postcode = "77810";
    g.reporter = "alice@example.fr";
  });
  CHECK(centre.neighbourhood == "centre-bourg");
  CHECK(centre.lat == kCentreBourgLat);
  CHECK(centre.lon == kCentreBourgLon);
  CHECK(centre.status == "new");
  CHECK(centre.channel == "web");
  CHECK(centre.service == "Services techniques");
  CHECK(centre.reporter_id == t.MemberId("alice@example.fr"));
  CHECK(GrievanceFollowers(t.db, centre.id) == std::vector<int64_t>{t.MemberId("alice@example.fr")});
  const std::vector<GrievanceEvent> events = GrievanceEvents(t.db, centre.id, false);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == "created");
  CHECK(events[0].new_status == "new");
  CHECK(events[0].at == centre.created_at);

  const Grievance by = t.Add("stationnement", "By", "", [](NewGrievance& g) {
    g.lat = kByLat;
    g.lon = kByLon;
  });
  CHECK(by.neighbourhood == "by");
  CHECK(by.service == "Police municipale");

  // Every Thomery neighbourhood lists 77810: a postcode alone designates none of them.
  CHECK(
      t.Add("voirie", "Sans point", "", [](NewGrievance& g) { g.postcode = "77810"; }).neighbourhood.empty());
  // A postcode that one neighbourhood alone lists designates it.
  CreateNeighbourhood(t.db, {"avon", "Avon", {"77210"}, std::nullopt, false});
  CHECK(t.Add("voirie", "Avon", "", [](NewGrievance& g) { g.postcode = "77210"; }).neighbourhood == "avon");

  const Grievance anonymous = t.Add("bruit", "Musique", "", [](NewGrievance& g) {
    g.contact_name = "Jean Dupont";
    g.contact_email = "jean@example.fr";
    g.contact_phone = "01 64 70 80 90";
    g.channel = "phone";
  });
  CHECK(anonymous.contact_phone == "+33164708090");
  CHECK(anonymous.reporter_id == 0);
  CHECK(GrievanceFollowers(t.db, anonymous.id).empty());
}

TEST_CASE("a point outside metropolitan France is accepted with a warning", "[grievance]") {
  Town t;
  NewGrievance g = Town::Draft("voirie", "La Réunion");
  g.lat = -21.115;
  g.lon = 55.536;
  const AddedGrievance added = AddGrievance(t.db, g, "cli");
  REQUIRE(added.warnings.size() == 1);
  CHECK_THAT(added.warnings[0], Catch::Contains("outside metropolitan France"));
  CHECK(added.grievance.lat == -21.115);
  CHECK(added.grievance.neighbourhood.empty());

  g.lat = kCentreBourgLat;
  g.lon = kCentreBourgLon;
  CHECK(AddGrievance(t.db, g, "cli").warnings.empty());
}

TEST_CASE("acknowledged, resolved and closed dates follow the status changes", "[grievance]") {
  Town t;
  const std::string ref = t.Add("voirie", "Trou", "2026-02-01T08:00:00Z").reference;
  Grievance g = t.Move(ref, "open", "2026-02-02T09:00:00Z");
  CHECK(g.acknowledged_at == "2026-02-02T09:00:00Z");
  CHECK(g.resolved_at.empty());
  CHECK(g.closed_at.empty());
  CHECK(g.updated_at == "2026-02-02T09:00:00Z");

  StatusChange late;
  late.reference = ref;
  late.status = "planned";
  late.expected_on = "2026-02-02";
  late.at = "2026-02-03T09:00:00Z";
  CHECK_THROWS_WITH(ChangeGrievanceStatus(t.db, late, "cli"),
                    Catch::Contains("the expected date 2026-02-02 is already past"));
  g = t.Move(ref, "planned", "2026-02-03T09:00:00Z");
  CHECK(g.expected_on == kExpected);
  CHECK(g.acknowledged_at == "2026-02-02T09:00:00Z");

  g = t.Move(ref, "resolved", "2026-02-10T10:00:00Z", "", "Rebouché", true);
  CHECK(g.resolved_at == "2026-02-10T10:00:00Z");
  CHECK(g.closed_at == "2026-02-10T10:00:00Z");
  CHECK(g.expected_on.empty());  // the date belonged to the plan
  CHECK(g.acknowledged_at == "2026-02-02T09:00:00Z");

  g = t.Move(ref, "open", "2026-02-15T10:00:00Z", "", "Le trou est revenu");
  CHECK(g.reopened == 1);
  CHECK(g.resolved_at.empty());
  CHECK(g.closed_at.empty());
  CHECK(g.acknowledged_at == "2026-02-02T09:00:00Z");
  CHECK(GrievanceEvents(t.db, g.id, false).back().kind == "reopened");

  g = t.Move(ref, "no_action", "2026-02-16T10:00:00Z");
  CHECK(g.closed_at == "2026-02-16T10:00:00Z");
  CHECK(g.resolved_at.empty());

  g = t.Move(ref, "open", "2026-02-17T10:00:00Z");
  g = t.Move(ref, "resolved", "2026-02-18T10:00:00Z");
  CHECK(g.reopened == 1 + 1);
  CHECK(g.resolved_at == "2026-02-18T10:00:00Z");

  // History stays in order, and in the past.
  CHECK_THROWS_WITH(t.Move(ref, "open", "2026-02-17T00:00:00Z"),
                    Catch::Contains("before the grievance's last change (2026-02-18T10:00:00Z)"));
  CHECK_THROWS_WITH(t.Move(ref, "open", "2099-01-01T00:00:00Z"), Catch::Contains("is in the future"));
  CHECK(GetGrievance(t.db, ref).status == "resolved");

  const std::vector<GrievanceEvent> events = GrievanceEvents(t.db, g.id, false);
  CHECK(events.size() == 8);
  const std::vector<GrievanceEvent> public_events = GrievanceEvents(t.db, g.id, true);
  REQUIRE(public_events.size() == 2);  // created, and the public answer
  CHECK(public_events[1].note == "Rebouché");
}

TEST_CASE("hiding a new grievance does not acknowledge it", "[grievance]") {
  Town t;
  const std::string ref = t.Add("voirie", "Insultes", "2026-03-01T08:00:00Z").reference;
  Grievance g = t.Move(ref, "hidden", "2026-03-01T09:00:00Z");
  CHECK(g.acknowledged_at.empty());
  CHECK(g.closed_at.empty());
  CHECK(ListGrievances(t.db, {}).empty());  // hidden ones are left out unless asked for
  GrievanceFilter hidden;
  hidden.statuses = {"hidden"};
  CHECK(ListGrievances(t.db, hidden).size() == 1);
  hidden.public_only = true;
  CHECK(ListGrievances(t.db, hidden).empty());
  g = t.Move(ref, "open", "2026-03-02T09:00:00Z");
  CHECK(g.acknowledged_at == "2026-03-02T09:00:00Z");
  CHECK(g.reopened == 0);  // it was never closed
  CHECK(GrievanceEvents(t.db, g.id, false).back().kind == "status");
}

TEST_CASE("answering a new grievance acknowledges it", "[grievance]") {
  Town t;
  const std::string ref = t.Add("voirie", "Trou", "2026-02-01T08:00:00Z").reference;
  Grievance g = RespondToGrievance(t.db, ref, "Nous passons demain.", "cli", "2026-02-01T10:00:00Z");
  CHECK(g.status == "open");
  CHECK(g.acknowledged_at == "2026-02-01T10:00:00Z");
  GrievanceEvent last = GrievanceEvents(t.db, g.id, false).back();
  CHECK(last.note == "Nous passons demain.");
  CHECK(last.is_public);
  CHECK(last.new_status == "open");

  g = RespondToGrievance(t.db, ref, "C'est fait.", "cli", "2026-02-02T10:00:00Z");
  CHECK(g.status == "open");
  CHECK(g.acknowledged_at == "2026-02-01T10:00:00Z");
  CHECK(g.updated_at == "2026-02-02T10:00:00Z");
  last = GrievanceEvents(t.db, g.id, false).back();
  CHECK(last.kind == "response");
  CHECK(last.is_public);

  CHECK_THROWS_WITH(RespondToGrievance(t.db, ref, "  ", "cli"), Catch::Contains("the answer is empty"));
  t.Move(ref, "hidden");
  CHECK_THROWS_WITH(RespondToGrievance(t.db, ref, "Bonjour", "cli"), Catch::Contains("is hidden"));
}

TEST_CASE("merging marks duplicates and moves their followers", "[grievance]") {
  Town t;
  const Grievance a = t.Add("eclairage_public", "Lampadaire éteint", "",
                            [](NewGrievance& g) { g.reporter = "alice@example.fr"; });
  const Grievance b =
      t.Add("eclairage_public", "Rue noire", "", [](NewGrievance& g) { g.reporter = "bob@example.fr"; });
  const Grievance c = t.Add("eclairage_public", "Plus de lumière", "",
                            [](NewGrievance& g) { g.contact_email = "voisin@example.fr"; });
  CHECK(FollowGrievance(t.db, c.reference, "chloe@example.fr"));
  CHECK_FALSE(FollowGrievance(t.db, c.reference, "chloe@example.fr"));
  CHECK(FollowGrievance(t.db, c.reference, "alice@example.fr"));  // already follows a
  CHECK_THROWS_WITH(FollowGrievance(t.db, c.reference, "nobody@example.fr"),
                    Catch::Contains("nobody@example.fr"));
  t.Move(b.reference, "open");

  const std::vector<Grievance> merged = MergeGrievances(t.db, {b.reference, c.reference}, a.reference, "cli");
  REQUIRE(merged.size() == 2);
  for (const Grievance& d : merged) {
    CHECK(d.status == "duplicate");
    CHECK(d.duplicate_of == a.reference);
    CHECK_FALSE(d.closed_at.empty());
    CHECK(GrievanceFollowers(t.db, d.id).empty());
    const GrievanceEvent last = GrievanceEvents(t.db, d.id, true).back();
    CHECK(last.new_status == "duplicate");
    CHECK_THAT(last.note, Catch::Contains(a.reference));
  }
  std::vector<int64_t> expected = {t.MemberId("alice@example.fr"), t.MemberId("bob@example.fr"),
                                   t.MemberId("chloe@example.fr")};
  std::sort(expected.begin(), expected.end());
  CHECK(GrievanceFollowers(t.db, a.id) == expected);
  const std::vector<GrievanceEvent> target_events = GrievanceEvents(t.db, a.id, false);
  CHECK(std::count_if(target_events.begin(), target_events.end(),
                      [](const GrievanceEvent& e) { return e.kind == "merged"; }) == 2);
  CHECK(GetGrievance(t.db, a.reference).status == "new");

  CHECK_THROWS_WITH(MergeGrievances(t.db, {a.reference}, b.reference, "cli"),
                    Catch::Contains("is duplicate: merge into the grievance it stands for"));
  CHECK_THROWS_WITH(MergeGrievances(t.db, {a.reference}, a.reference, "cli"),
                    Catch::Contains("cannot be merged into itself"));
  const Error again = ErrorOf([&] { MergeGrievances(t.db, {b.reference}, a.reference, "cli"); });
  CHECK_THAT(again.what(), Catch::Contains("cannot be marked as a duplicate"));
  CHECK(again.hint() == "it is already merged");
  CHECK_THROWS_WITH(MergeGrievances(t.db, {}, a.reference, "cli"), Catch::Contains("no grievance to merge"));
  const std::string working = t.Add("eclairage_public", "En cours").reference;
  t.Move(working, "open");
  t.Move(working, "in_progress");
  CHECK(ErrorOf([&] { MergeGrievances(t.db, {working}, a.reference, "cli"); }).hint() ==
        "from in_progress: planned, resolved, no_action, transferred, hidden");
  t.Move(working, "resolved");
  CHECK_THAT(ErrorOf([&] { MergeGrievances(t.db, {working}, a.reference, "cli"); }).hint(),
             Catch::Contains("reopen it first"));

  // One bad reference in the list: nothing is merged.
  const Grievance d =
      t.Add("eclairage_public", "Encore", "", [](NewGrievance& g) { g.reporter = "chloe@example.fr"; });
  CHECK_THROWS(MergeGrievances(t.db, {d.reference, "DOL-2026-999999"}, a.reference, "cli"));
  CHECK(GetGrievance(t.db, d.reference).status == "new");
  CHECK(GrievanceFollowers(t.db, d.id) == std::vector<int64_t>{t.MemberId("chloe@example.fr")});
}

TEST_CASE("only staff handle and are assigned grievances", "[grievance]") {
  Town t;
  CHECK(GrievanceActor(t.db, "") == "cli");
  CHECK(GrievanceActor(t.db, test::kTownHall) == fmt::format("member:{}", t.MemberId(test::kTownHall)));
  CHECK_THROWS_WITH(GrievanceActor(t.db, "alice@example.fr"), Catch::Contains("cannot handle grievances"));
  const std::string ref = t.Add("voirie", "Trou").reference;
  const Grievance g =
      AssignGrievance(t.db, ref, std::string("Voirie communale"), test::kTownHall, "urgent", "cli");
  CHECK(g.service == "Voirie communale");
  CHECK(g.assignee_id == t.MemberId(test::kTownHall));
  CHECK(GrievanceEvents(t.db, g.id, false).back().kind == "assigned");
  CHECK_THROWS_WITH(AssignGrievance(t.db, ref, std::nullopt, std::string("alice@example.fr"), "", "cli"),
                    Catch::Contains("is not staff"));
  CHECK_THROWS_WITH(AssignGrievance(t.db, ref, std::nullopt, std::nullopt, "", "cli"),
                    Catch::Contains("nothing to assign"));
}

TEST_CASE("filters are checked", "[grievance]") {
  Town t;
  GrievanceFilter f;
  f.from = "2026-07-02";
  f.to = "2026-07-01";
  const Error swapped = ErrorOf([&] { BuildGrievanceQuery(t.db, f); });
  CHECK_THAT(swapped.what(), Catch::Contains("the period starts (2026-07-02) after it ends (2026-07-01)"));
  CHECK(swapped.hint() == "swap --from and --to");

  f = {};
  f.from = "2026-13-01";
  CHECK_THROWS_WITH(BuildGrievanceQuery(t.db, f), Catch::Contains("invalid --from date '2026-13-01'"));
  f = {};
  f.to = "1/7/2026";
  CHECK_THROWS_WITH(BuildGrievanceQuery(t.db, f), Catch::Contains("invalid --to date '1/7/2026'"));
  f = {};
  f.category = "eclairage";
  const Error category = ErrorOf([&] { BuildGrievanceQuery(t.db, f); });
  CHECK_THAT(category.what(), Catch::Contains("unknown category 'eclairage'"));
  CHECK_THAT(category.hint(), Catch::Contains("eclairage_public"));
  f = {};
  f.neighbourhood = "centre";
  CHECK_THROWS_WITH(BuildGrievanceQuery(t.db, f), Catch::Contains("no neighbourhood 'centre'"));
  f = {};
  f.statuses = {"open", "closed"};
  CHECK_THROWS_WITH(BuildGrievanceQuery(t.db, f), Catch::Contains("unknown status 'closed'"));
  f = {};
  f.category = "encombrants_rdv";  // retired, but its old grievances can still be looked at
  CHECK_NOTHROW(BuildGrievanceQuery(t.db, f));
}

TEST_CASE("filter days are days in the town's time zone", "[grievance][time_zone]") {
  Town t;
  GrievanceFilter summer;
  summer.from = "2026-07-01";
  summer.to = "2026-07-31";
  GrievanceQuery q = BuildGrievanceQuery(t.db, summer);
  CHECK(q.from_utc == "2026-06-30T22:00:00Z");
  CHECK(q.to_utc == "2026-07-31T22:00:00Z");

  GrievanceFilter winter;
  winter.from = "2026-01-01";
  winter.to = "2026-03-28";  // the day before summer time
  q = BuildGrievanceQuery(t.db, winter);
  CHECK(q.from_utc == "2025-12-31T23:00:00Z");
  CHECK(q.to_utc == "2026-03-28T23:00:00Z");

  GrievanceFilter autumn;
  autumn.from = "2026-10-25";  // back to winter time at 03:00
  autumn.to = "2026-10-25";
  q = BuildGrievanceQuery(t.db, autumn);
  CHECK(q.from_utc == "2026-10-24T22:00:00Z");
  CHECK(q.to_utc == "2026-10-25T23:00:00Z");

  // 23:30 on 30 June, 00:30 on 1 July, 23:30 on 31 July and 00:30 on 1 August, Paris time.
  t.Add("voirie", "juin", "2026-06-30T21:30:00Z");
  t.Add("voirie", "debut juillet", "2026-06-30T22:30:00Z");
  t.Add("voirie", "fin juillet", "2026-07-31T21:30:00Z");
  t.Add("voirie", "aout", "2026-07-31T22:30:00Z");
  std::vector<std::string> titles;
  for (const Grievance& g : ListGrievances(t.db, summer)) titles.push_back(g.title);
  CHECK(titles == std::vector<std::string>{"fin juillet", "debut juillet"});
}

TEST_CASE("percentiles interpolate between ranks", "[grievance]") {
  std::vector<double> none;
  CHECK(Percentile(none, 0.5) == 0);
  std::vector<double> one = {5};
  CHECK(Percentile(one, 0.9) == 5);
  std::vector<double> four = {4, 1, 3, 2};
  CHECK(Percentile(four, 0.5) == Approx(2.5));
  CHECK(Percentile(four, 0) == 1);
  CHECK(Percentile(four, 1) == 4);
  std::vector<double> delays = {40, 2, 8, 6, 4};
  CHECK(Percentile(delays, 0.5) == Approx(6));
  CHECK(Percentile(delays, 0.9) == Approx(27.2));
  std::vector<double> two = {10, 0};
  CHECK(Percentile(two, 0.9) == Approx(9));
}

TEST_CASE("the street of an address", "[grievance]") {
  CHECK(StreetOf("12 bis rue de la Paix, Thomery") == "rue de la Paix");
  CHECK(StreetOf("12 rue de la Paix") == "rue de la Paix");
  CHECK(StreetOf("  3 ter  Grande Rue ") == "Grande Rue");
  CHECK(StreetOf("4 B avenue de Fontainebleau") == "avenue de Fontainebleau");
  CHECK(StreetOf("5 boulevard Victor Hugo") == "boulevard Victor Hugo");
  CHECK(StreetOf("1 terrasse des Lilas") == "terrasse des Lilas");
  CHECK(StreetOf("Place de la Mairie") == "Place de la Mairie");
  CHECK(StreetOf("rue de By, 77810 Thomery") == "rue de By");
  CHECK(StreetOf("") == "");
  CHECK(StreetOf("12") == "");
  // Capitalised repetition indexes are as common as lower-case ones on letters.
  CHECK(StreetOf("12 Bis rue de la Paix") == "rue de la Paix");
  CHECK(StreetOf("7 Ter chemin des Vignes") == "chemin des Vignes");
}

namespace {

// A half-year of grievances whose figures are worked out by hand in the test below. Times are 09:00 UTC
// (10:00 or 11:00 in Paris: the same day).
struct StatsTown : Town {
  std::string p1, v1, e3, s1;
  StatsTown() {
    auto day = [](const std::string& date) { return date + "T09:00:00Z"; };
    auto life = [&](const std::string& ref, const std::vector<std::pair<std::string, std::string>>& steps) {
      for (const auto& [status, date] : steps) Move(ref, status, day(date), status == "duplicate" ? v1 : "");
    };
    // Received before the period, never touched.
    p1 = Add("voirie", "Avant la période", "2025-12-15T10:00:00Z").reference;
    // Voirie (30 days): resolved in 2, 4, 6, 8 and 40 days, acknowledged after 1 day; one still open.
    v1 = Add("voirie", "V1", day("2026-01-05"), [](NewGrievance& g) {
           g.address = "12 bis rue de la Paix, Thomery";
           g.reporter = "alice@example.fr";
           g.lat = kCentreBourgLat;
           g.lon = kCentreBourgLon;
         }).reference;
    life(v1, {{"open", "2026-01-06"}, {"resolved", "2026-01-07"}});
    const std::string v2 = Add("voirie", "V2", day("2026-01-06"), [](NewGrievance& g) {
                             g.address = "3 rue de la Paix";
                             g.reporter = "alice@example.fr";
                           }).reference;
    life(v2, {{"open", "2026-01-07"}, {"resolved", "2026-01-10"}});
    const std::string d1 = Add("voirie", "D1", day("2026-01-07")).reference;
    life(d1, {{"duplicate", "2026-01-08"}});
    const std::string v3 = Add("voirie", "V3", day("2026-02-02"), [](NewGrievance& g) {
                             g.address = "Rue de la Paix";
                             g.contact_email = "Bob@Example.fr";
                           }).reference;
    life(v3, {{"open", "2026-02-03"}, {"resolved", "2026-02-08"}});
    const std::string v4 = Add("voirie", "V4", day("2026-02-03"), [](NewGrievance& g) {
                             g.address = "5 Grande Rue";
                             g.contact_email = "bob@example.fr";
                           }).reference;
    life(v4, {{"open", "2026-02-04"}, {"resolved", "2026-02-11"}});
    const std::string v5 = Add("voirie", "V5", day("2026-03-02"), [](NewGrievance& g) {
                             g.address = "7 grande rue";
                             g.contact_phone = "06 12 34 56 78";
                           }).reference;
    life(v5, {{"open", "2026-03-03"}, {"resolved", "2026-04-11"}});
    const std::string v6 = Add("voirie", "V6", day("2026-06-10"), [](NewGrievance& g) {
                             g.address = "1 chemin des Vignes";
                           }).reference;
    life(v6, {{"open", "2026-06-11"}});
    // Éclairage public (14 days): resolved in 6 days after a reopening, in 20 days; one never touched.
    const std::string e1 = Add("eclairage_public", "E1", day("2026-01-10")).reference;
    life(e1, {{"open", "2026-01-11"},
              {"resolved", "2026-01-13"},
              {"open", "2026-01-15"},
              {"resolved", "2026-01-16"}});
    const std::string e2 = Add("eclairage_public", "E2", day("2026-01-12")).reference;
    life(e2, {{"open", "2026-01-13"}, {"resolved", "2026-02-01"}});
    e3 = Add("eclairage_public", "E3", day("2026-03-01"), [](NewGrievance& g) {
           g.address = "Place de la Mairie";
         }).reference;
    // Signalisation: planned for a day that passed before the end of the period.
    s1 = Add("signalisation", "S1", day("2026-06-20")).reference;
    life(s1, {{"open", "2026-06-21"}});
    StatusChange planned;
    planned.reference = s1;
    planned.status = "planned";
    planned.expected_on = "2026-06-25";
    planned.at = day("2026-06-22");
    ChangeGrievanceStatus(db, planned, "cli");
    // Hidden: never counted.
    const std::string h1 = Add("voirie", "H1", day("2026-04-01")).reference;
    life(h1, {{"hidden", "2026-04-02"}});
  }
};

}  // namespace

TEST_CASE("statistics over a half-year worked out by hand", "[grievance]") {
  StatsTown t;
  GrievanceFilter f;
  f.from = "2026-01-01";
  f.to = "2026-06-30";
  const json s = GrievanceStats(t.db, f);
  INFO(s.dump(2));
  CHECK(s["town"] == "Thomery");
  CHECK(s["period"] == json{{"from", "2026-01-01"}, {"to", "2026-06-30"}, {"as_of", "2026-06-30T22:00:00Z"}});
  CHECK(s["received"] == 11);
  CHECK(s["open"] == 3);
  CHECK(s["resolved"] == 7);
  CHECK(s["closed"] == 1);
  CHECK(s["backlog_at_end"] == 4);
  CHECK(s["open_age"] == json{{"under_4_weeks", 2}, {"over_4_weeks", 2}, {"no_update_8_weeks", 2}});
  CHECK(s["within_sla"] == json{{"resolved", 7}, {"within", 5}, {"share", 71.4}});

  REQUIRE(s["categories"].size() == 3);
  const json& voirie = s["categories"][0];
  CHECK(voirie["code"] == "voirie");
  CHECK(voirie["name"] == "Voirie et trottoirs");
  CHECK(voirie["sla_days"] == 30);
  CHECK(voirie["received"] == 7);
  CHECK(voirie["share"] == 63.6);
  CHECK(voirie["open_at_end"] == 2);
  CHECK(voirie["resolved"] == 5);
  CHECK(voirie["acknowledge"] == json{{"count", 7}, {"median_days", 1.0}, {"p90_days", 1.0}});
  CHECK(voirie["resolve"] == json{{"count", 5}, {"median_days", 6.0}, {"p90_days", 27.2}});
  CHECK(voirie["within_sla"] == json{{"count", 4}, {"share", 80.0}});

  const json& lighting = s["categories"][1];
  CHECK(lighting["code"] == "eclairage_public");
  CHECK(lighting["received"] == 3);
  CHECK(lighting["open_at_end"] == 1);
  CHECK(lighting["resolved"] == 2);
  // Under five grievances: counted, but no median or 90th percentile.
  CHECK(lighting["acknowledge"] == json{{"count", 2}, {"median_days", nullptr}, {"p90_days", nullptr}});
  CHECK(lighting["resolve"] == json{{"count", 2}, {"median_days", nullptr}, {"p90_days", nullptr}});
  CHECK(lighting["within_sla"] == json{{"count", 1}, {"share", nullptr}});

  const json& signs = s["categories"][2];
  CHECK(signs["code"] == "signalisation");
  CHECK(signs["received"] == 1);
  CHECK(signs["within_sla"]["share"].is_null());

  REQUIRE(s["top_categories"].size() == 3);
  CHECK(s["top_categories"][0] ==
        json{{"code", "voirie"}, {"name", "Voirie et trottoirs"}, {"received", 7}, {"share", 63.6}});

  REQUIRE(s["streets"].size() == 4);
  CHECK(s["streets"][0] == json{{"street", "rue de la Paix"}, {"received", 3}});
  CHECK(s["streets"][1] == json{{"street", "Grande Rue"}, {"received", 2}});
  CHECK(s["neighbourhoods"] ==
        json::array({{{"name", nullptr}, {"received", 10}}, {{"name", "Centre-bourg"}, {"received", 1}}}));

  CHECK(s["unique_reporters"] == 3);  // alice, bob by e-mail (whatever its case), a phone number
  CHECK(s["anonymous"] == 6);
  CHECK(s["reopened"] == 1);
  CHECK(s["reopened_rate"] == 9.1);
  CHECK(s["duplicates"] == 1);
  CHECK(s["duplicate_rate"] == 9.1);

  CHECK(s["months"] == json::array({
                           {{"month", "2026-01"}, {"received", 5}, {"resolved", 3}},
                           {{"month", "2026-02"}, {"received", 2}, {"resolved", 3}},
                           {{"month", "2026-03"}, {"received", 2}, {"resolved", 0}},
                           {{"month", "2026-04"}, {"received", 0}, {"resolved", 1}},
                           {{"month", "2026-05"}, {"received", 0}, {"resolved", 0}},  // no gaps
                           {{"month", "2026-06"}, {"received", 2}, {"resolved", 0}},
                       }));

  CHECK(s["overdue_count"] == 3);
  REQUIRE(s["overdue"].size() == 3);
  CHECK(s["overdue"][0]["reference"] == t.p1);
  CHECK(s["overdue"][0]["category"] == "voirie");
  CHECK(s["overdue"][0]["category_name"] == "Voirie et trottoirs");
  CHECK(s["overdue"][0]["status"] == "new");
  CHECK(s["overdue"][0]["days_open"] == 197.5);
  CHECK(s["overdue"][0]["days_overdue"] == 167.5);
  CHECK(s["overdue"][1]["reference"] == t.e3);
  CHECK(s["overdue"][1]["days_overdue"] == 107.5);
  CHECK(s["overdue"][1]["address"] == "Place de la Mairie");
  CHECK(s["overdue"][2]["reference"] == t.s1);
  CHECK(s["overdue"][2]["expected_on"] == "2026-06-25");
  CHECK(s["overdue"][2]["status"] == "planned");
  CHECK(s["overdue"][2]["days_overdue"] == 4.9);
}

TEST_CASE("the overdue list: past the category's delay, or past the planned date", "[grievance]") {
  StatsTown t;
  GrievanceFilter f;
  f.overdue = true;
  std::vector<std::string> titles;
  for (const Grievance& g : ListGrievances(t.db, f)) titles.push_back(g.title);
  // Today (late 2026) every open one is late: V6 was received in June with 30 days to be handled.
  CHECK(titles == std::vector<std::string>{"S1", "V6", "E3", "Avant la période"});
  f.category = "signalisation";
  CHECK(ListGrievances(t.db, f).size() == 1);
  f = {};
  f.limit = 2;
  CHECK(ListGrievances(t.db, f).size() == 2);
}

TEST_CASE("a past period's open ages and overdue list are those at its end", "[grievance]") {
  StatsTown t;
  GrievanceFilter f;
  f.from = "2026-01-01";
  f.to = "2026-01-31";
  const json s = GrievanceStats(t.db, f);
  INFO(s.dump(2));
  // At the end of January two grievances were waiting: P1 (received in December) and E2 (received on 12
  // January, 14 days to be handled, resolved on 1 February only).
  REQUIRE(s["backlog_at_end"] == 2);
  CHECK(s["open_age"]["under_4_weeks"].get<int>() + s["open_age"]["over_4_weeks"].get<int>() == 2);
  CHECK(s["overdue_count"] == 2);
  std::vector<std::string> late;
  for (const json& o : s["overdue"]) late.push_back(o["title"]);
  CHECK(late == std::vector<std::string>{"Avant la période", "E2"});
}

TEST_CASE("statistics follow the category and status filters", "[grievance]") {
  StatsTown t;
  GrievanceFilter f;
  f.from = "2026-01-01";
  f.to = "2026-06-30";
  f.category = "eclairage_public";
  json s = GrievanceStats(t.db, f);
  CHECK(s["received"] == 3);
  REQUIRE(s["categories"].size() == 1);
  CHECK(s["filters"]["category"] == "eclairage_public");
  CHECK(s["overdue_count"] == 1);

  f.category.clear();
  f.statuses = {"resolved"};
  s = GrievanceStats(t.db, f);
  CHECK(s["received"] == 7);
  CHECK(s["open"] == 0);
  CHECK(s["within_sla"]["within"] == 5);

  f.statuses = {"hidden"};
  s = GrievanceStats(t.db, f);
  CHECK(s["received"] == 1);

  // January: E2, resolved on 1 February, was still waiting at the end of the month, like P1.
  f = {};
  f.from = "2026-01-01";
  f.to = "2026-01-31";
  s = GrievanceStats(t.db, f);
  CHECK(s["period"]["as_of"] == "2026-01-31T23:00:00Z");
  CHECK(s["received"] == 5);
  CHECK(s["backlog_at_end"] == 2);
  CHECK(s["months"] == json::array({{{"month", "2026-01"}, {"received", 5}, {"resolved", 3}}}));

  // The report says when the overdue ones were counted: the last day of the period.
  CHECK_THAT(Export(t.db, "html", f), Catch::Contains("En retard au 31/01/2026"));

  // Nothing in the period: zeros and nulls, no division by zero.
  f = {};
  f.from = "2020-01-01";
  f.to = "2020-12-31";
  s = GrievanceStats(t.db, f);
  CHECK(s["received"] == 0);
  CHECK(s["within_sla"]["share"].is_null());
  CHECK(s["reopened_rate"].is_null());
  CHECK(s["categories"].empty());
  CHECK(s["months"].empty());
}

namespace {

struct ExportTown : Town {
  std::string g1, g2, g3;
  ExportTown() {
    g1 = Add("voirie", "=HYPERLINK(\"http://evil.example\",\"clic\")", "2026-07-01T08:00:00Z",
             [](NewGrievance& g) {
               g.description = "ligne 1\nligne 2, avec \"guillemets\"";
               g.address = "12 rue de la Paix, Thomery";
               g.postcode = "77810";
               g.lat = kCentreBourgLat;
               g.lon = kCentreBourgLon;
               g.reporter = "alice@example.fr";
             })
             .reference;
    g2 = Add("eclairage_public", "Abri \u202Eevil\u202C", "2026-02-10T10:15:00Z", [](NewGrievance& g) {
           g.description = "<script>alert('x')</script>";
           g.channel = "counter";
           g.contact_name = "Jean Secret";
           g.contact_email = "jean.secret@example.fr";
           g.contact_phone = "01 64 70 80 90";
         }).reference;
    Move(g2, "open", "2026-02-11T10:15:00Z", "", "appel interne du service", false);
    Move(g2, "resolved", "2026-02-12T10:15:00Z", "", "Lampe changée", true);
    g3 = Add("proprete", "<script>alert(1)</script>\u202Eplus", "2026-03-01T08:00:00Z", [](NewGrievance& g) {
           g.description = "@SUM(A1:A2)";
           g.address = "5 rue du Moulin <img src=x onerror=alert(2)>";
         }).reference;
  }
};

const char* const kCsvHeader =
    "reference,category,title,description,status,created_at,acknowledged_at,resolved_at,closed_at,delay_days,"
    "address,postcode,neighbourhood,latitude,longitude,service,channel,expected_on,duplicate_of,reopened,"
    "public,"
    "updated_at\r\n";

void CheckNoContactData(const std::string& out) {
  for (const char* secret : {"Secret", "secret@", "+33164708090", "alice@example.fr"}) {
    CAPTURE(secret);
    CHECK(out.find(secret) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("csv export: header, ISO dates, quoting, no formulas, no bidi controls", "[grievance][export]") {
  ExportTown t;
  const std::string csv = Export(t.db, "csv");
  REQUIRE(csv.starts_with(kCsvHeader));
  CHECK_THAT(
      csv, Catch::Contains(
               "\nDOL-2026-000001,voirie,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"clic\"\")\","
               "\"ligne 1\nligne 2, avec \"\"guillemets\"\"\",new,2026-07-01T08:00:00Z,,,,,"
               "\"12 rue de la Paix, Thomery\",77810,centre-bourg,48.408500,2.786000,Services techniques,web,"
               ",,0,true,2026-07-01T08:00:00Z\r\n"));
  CHECK_THAT(csv,
             Catch::Contains("\nDOL-2026-000002,eclairage_public,Abri \xEF\xBF\xBD"
                             "evil\xEF\xBF\xBD,<script>alert('x')</script>,resolved,2026-02-10T10:15:00Z,"
                             "2026-02-11T10:15:00Z,2026-02-12T10:15:00Z,2026-02-12T10:15:00Z,2.0,,,,,,"
                             "Services techniques,counter,,,0,true,2026-02-12T10:15:00Z\r\n"));
  CHECK_THAT(csv, Catch::Contains("\nDOL-2026-000003,proprete,<script>alert(1)</script>\xEF\xBF\xBDplus,"
                                  "'@SUM(A1:A2),new,"));
  CHECK(csv.find("\xE2\x80\xAE") == std::string::npos);
  CHECK(csv.find(",=") == std::string::npos);
  CheckNoContactData(csv);

  // A service typed by a clerk is user text too.
  AssignGrievance(t.db, t.g3, std::string("-Service (à voir)"), std::nullopt, "", "cli");
  CHECK_THAT(Export(t.db, "csv"), Catch::Contains(",'-Service (à voir),web,"));
  CHECK_THAT(Export(t.db, "csv-fr"), Catch::Contains(";'-Service (à voir);Site web;"));
}

TEST_CASE("csv-fr export: BOM, semicolons, CRLF, French labels, local dates, decimal comma",
          "[grievance][export]") {
  ExportTown t;
  const std::string csv = Export(t.db, "csv-fr");
  REQUIRE(csv.starts_with(
      "\xEF\xBB\xBFRéférence;Catégorie;Titre;Description;Statut;Créée le;Prise en compte le;Résolue le;"
      "Close le;Délai (jours);Adresse;Code postal;Quartier;Latitude;Longitude;Service;Canal;Date prévue;"
      "Doublon de;Réouvertures;Publique;Mise à jour le\r\n"));
  CHECK_THAT(
      csv,
      Catch::Contains(
          "\r\nDOL-2026-000001;Voirie et trottoirs;\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"clic\"\")\";"
          "\"ligne 1\nligne 2, avec \"\"guillemets\"\"\";Nouvelle;01/07/2026 10:00;;;;;"
          "12 rue de la Paix, Thomery;77810;Centre-bourg;48,408500;2,786000;Services techniques;"
          "Site web;;;0;Oui;01/07/2026 10:00\r\n"));
  CHECK_THAT(csv, Catch::Contains("\r\nDOL-2026-000002;Éclairage public;Abri \xEF\xBF\xBD"
                                  "evil\xEF\xBF\xBD;<script>alert('x')</script>;Résolue;10/02/2026 11:15;"
                                  "11/02/2026 11:15;12/02/2026 11:15;12/02/2026 11:15;2,0;;;;;;"
                                  "Services techniques;Guichet;;;0;Oui;12/02/2026 11:15\r\n"));
  CHECK_THAT(csv, Catch::Contains(";'@SUM(A1:A2);"));
  CHECK(csv.find("\xE2\x80\xAE") == std::string::npos);
  CheckNoContactData(csv);
}

TEST_CASE("csv-fr writes planned dates, duplicates and private grievances the French way",
          "[grievance][export]") {
  Town t;
  const std::string original = t.Add("voirie", "Original", "2026-05-01T08:00:00Z").reference;
  const std::string copy = t.Add("voirie", "Copie", "2026-05-02T08:00:00Z", [](NewGrievance& g) {
                              g.is_public = false;
                            }).reference;
  t.Move(copy, "duplicate", "2026-05-03T08:00:00Z", original);
  t.Move(original, "open", "2026-05-04T08:00:00Z");
  StatusChange planned;
  planned.reference = original;
  planned.status = "planned";
  planned.expected_on = "2026-12-01";
  planned.at = "2026-05-05T08:00:00Z";
  ChangeGrievanceStatus(t.db, planned, "cli");
  const std::string csv = Export(t.db, "csv-fr");
  CHECK_THAT(csv, Catch::Contains(";Intervention programmée;") && Catch::Contains(";01/12/2026;;0;Oui;"));
  CHECK_THAT(csv, Catch::Contains(";Doublon;") && Catch::Contains(";1,0;") &&
                      Catch::Contains(";DOL-2026-000001;0;Non;"));
  const std::string plain = Export(t.db, "csv");
  CHECK_THAT(plain, Catch::Contains(",2026-12-01,,0,true,") && Catch::Contains(",DOL-2026-000001,0,false,"));
  GrievanceFilter public_only;
  public_only.public_only = true;
  CHECK(Export(t.db, "csv", public_only).find("DOL-2026-000002") == std::string::npos);
}

TEST_CASE("json and jsonl exports carry the events, never contact data", "[grievance][export]") {
  ExportTown t;
  const std::string text = Export(t.db, "json");
  CheckNoContactData(text);
  const json all = json::parse(text);
  REQUIRE(all.is_array());
  REQUIRE(all.size() == 3);
  const json& g2 = all[1];
  CHECK(g2["reference"] == t.g2);
  CHECK(g2["export_version"] == kGrievanceExportVersion);
  CHECK(g2["status"] == "resolved");
  CHECK(g2["status_group"] == "closed");
  CHECK(g2["title"] == "Abri \u202Eevil\u202C");  // JSON keeps the text as written
  CHECK(g2["lat"].is_null());
  CHECK_FALSE(g2.contains("contact"));
  CHECK_FALSE(g2.contains("reporter"));
  CHECK_FALSE(g2.contains("assignee"));
  REQUIRE(g2["events"].size() == 3);
  CHECK(g2["events"][0]["kind"] == "created");
  CHECK(g2["events"][1]["note"] == "appel interne du service");
  CHECK(g2["events"][1]["public"] == false);
  CHECK(g2["events"][1]["actor"] == "cli");
  CHECK(g2["events"][2]["new_status"] == "resolved");
  CHECK(all[0]["lat"] == kCentreBourgLat);
  CHECK(all[0]["neighbourhood"] == "centre-bourg");
  CHECK(all[0]["events"].size() == 1);

  GrievanceFilter public_only;
  public_only.public_only = true;
  const json published = json::parse(Export(t.db, "json", public_only));
  REQUIRE(published.size() == 3);
  REQUIRE(published[1]["events"].size() == 2);
  for (const json& event : published[1]["events"]) {
    CHECK(event["public"] == true);
    CHECK_FALSE(event.contains("actor"));
  }
  CHECK(Export(t.db, "json", public_only).find("appel interne") == std::string::npos);

  const std::string lines = Export(t.db, "jsonl");
  CheckNoContactData(lines);
  std::istringstream in(lines);
  std::string line;
  std::vector<std::string> references;
  while (std::getline(in, line)) {
    const json item = json::parse(line);
    REQUIRE(item.is_object());
    CHECK(item["export_version"] == kGrievanceExportVersion);
    CHECK(item["events"].is_array());
    references.push_back(item["reference"]);
  }
  CHECK(references == std::vector<std::string>{t.g1, t.g2, t.g3});

  GrievanceFilter none;
  none.from = "2020-01-01";
  none.to = "2020-01-31";
  CHECK(json::parse(Export(t.db, "json", none)) == json::array());
  CHECK(Export(t.db, "jsonl", none).empty());
}

TEST_CASE("geojson export: points as [lon, lat], the others counted", "[grievance][export]") {
  ExportTown t;
  std::ostringstream out;
  const ExportCount count = ExportGrievances(t.db, {"geojson", "", {}}, out);
  CHECK(count.written == 1);
  CHECK(count.without_coordinates == 2);
  CheckNoContactData(out.str());
  const json collection = json::parse(out.str());
  CHECK(collection["type"] == "FeatureCollection");
  CHECK(collection["export_version"] == kGrievanceExportVersion);
  REQUIRE(collection["features"].size() == 1);
  const json& feature = collection["features"][0];
  CHECK(feature["type"] == "Feature");
  CHECK(feature["id"] == t.g1);
  CHECK(feature["geometry"] == json{{"type", "Point"}, {"coordinates", {kCentreBourgLon, kCentreBourgLat}}});
  CHECK(feature["properties"]["reference"] == t.g1);
  CHECK(feature["properties"]["neighbourhood"] == "centre-bourg");
  CHECK_FALSE(feature["properties"].contains("lat"));
  CHECK_FALSE(feature["properties"].contains("contact"));

  GrievanceFilter none;
  none.from = "2020-01-01";
  none.to = "2020-01-31";
  CHECK(json::parse(Export(t.db, "geojson", none))["features"] == json::array());
}

TEST_CASE("html report: escaped user text, inline charts, nothing executable", "[grievance][export]") {
  ExportTown t;
  const std::string html = Export(t.db, "html");
  CHECK(html.starts_with("<!DOCTYPE html>"));
  CHECK_THAT(html, Catch::Contains("<html lang=\"fr\">") && Catch::Contains("</html>"));
  CHECK_THAT(html, Catch::Contains("Doléances — Thomery"));
  CHECK_THAT(html, Catch::Contains("&lt;script&gt;alert(1)&lt;/script&gt;\xEF\xBF\xBDplus"));
  CHECK_THAT(html, Catch::Contains("&lt;img src=x onerror=alert(2)&gt;"));
  // The overdue list names the neighbourhood in brackets after the address, when there is one.
  CHECK_THAT(html, Catch::Contains("12 rue de la Paix, Thomery (Centre-bourg)</td>"));
  CHECK_THAT(html, Catch::Contains("5 rue du Moulin &lt;img src=x onerror=alert(2)&gt;</td>"));
  CHECK_THAT(html, !Catch::Contains(" ()"));
  CHECK_THAT(html, !Catch::Contains("<script", Catch::CaseSensitive::No));
  CHECK_THAT(html, !Catch::Contains("<img"));
  CHECK(html.find("\xE2\x80\xAE") == std::string::npos);
  CHECK_THAT(html, !Catch::Contains("<link") && !Catch::Contains("@import"));  // nothing from the network
  size_t charts = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1)) ++charts;
  CHECK(charts == 4);
  CheckNoContactData(html);
}

TEST_CASE("markdown report: every string escaped", "[grievance][export]") {
  ExportTown t;
  const std::string md = Export(t.db, "md");
  CHECK(md.starts_with("# Doléances des habitants — Thomery"));
  CHECK_THAT(md, Catch::Contains("\\<script\\>alert(1)\\</script\\>\xEF\xBF\xBDplus"));
  CHECK_THAT(md, Catch::Contains("rue du Moulin \\<img src=x onerror=alert(2)\\>"));
  for (size_t at = md.find('<'); at != std::string::npos; at = md.find('<', at + 1)) {
    CAPTURE(md.substr(at, 20));
    CHECK(md[at - 1] == '\\');  // every < of user text is escaped, and the template has none
  }
  CHECK_THAT(md, !Catch::Contains("<svg"));
  CHECK(md.find("\xE2\x80\xAE") == std::string::npos);
  CheckNoContactData(md);
}

TEST_CASE("a report over a period without grievances", "[grievance][export]") {
  ExportTown t;
  GrievanceFilter none;
  none.from = "2020-01-01";
  none.to = "2020-12-31";
  const std::string html = Export(t.db, "html", none);
  CHECK_THAT(html, Catch::Contains("du 1er janvier 2020 au 31 décembre 2020"));
  CHECK_THAT(html, Catch::Contains("</html>"));
  const std::string md = Export(t.db, "md", none);
  CHECK_THAT(md, Catch::Contains("Aucune doléance sur la période."));
  CHECK_THAT(md, Catch::Contains("Aucune doléance en retard."));
}

TEST_CASE("an export written to a file appears whole or not at all", "[grievance][export]") {
  ExportTown t;
  test::TempDir dir;
  const std::string path = dir.File("doleances.csv");
  {
    AtomicFileStream out(path);
    CHECK(ExportGrievances(t.db, {"csv-fr", "", {}}, out).written == 3);
    CHECK_FALSE(std::filesystem::exists(path));
    out.Commit();
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream written;
  written << in.rdbuf();
  CHECK(written.str() == Export(t.db, "csv-fr"));
  {
    AtomicFileStream out(dir.File("rapport.html"));
    CHECK_THROWS_WITH(ExportGrievances(t.db, {"html", dir.File("absent.mustache"), {}}, out),
                      Catch::Contains("cannot read template"));
  }
  CHECK_FALSE(std::filesystem::exists(dir.File("rapport.html")));
}

TEST_CASE("a town's own template gets the same data, and its mistakes are reported", "[grievance][export]") {
  ExportTown t;
  test::TempDir dir;
  dir.Write("ok.mustache",
            "{{town}} : {{received}} reçues, {{overdue_count}} en retard.\n"
            "{{#overdue}}- {{title}}\n{{/overdue}}");
  const std::string out = Export(t.db, "html", {}, dir.File("ok.mustache"));
  CHECK_THAT(out, Catch::StartsWith("Thomery : 3 reçues, 2 en retard.\n"));
  CHECK_THAT(out, Catch::Contains("- &lt;script&gt;alert(1)&lt;/script&gt;"));

  dir.Write("unknown.mustache", "{{town}}\n\n{{maire}}\n");
  CHECK_THROWS_WITH(Export(t.db, "html", {}, dir.File("unknown.mustache")),
                    Catch::Contains("template '" + dir.File("unknown.mustache") + "'") &&
                        Catch::Contains("line 3: unknown field 'maire'"));
  dir.Write("syntax.mustache", "{{town}}\n{{#overdue}}\n{{title}}\n");
  CHECK_THROWS_WITH(Export(t.db, "md", {}, dir.File("syntax.mustache")),
                    Catch::Contains("template '" + dir.File("syntax.mustache") + "': line"));
  CHECK_THROWS_WITH(Export(t.db, "html", {}, dir.File("missing.mustache")),
                    Catch::Contains("cannot read template"));
  CHECK_THROWS_WITH(Export(t.db, "csv", {}, dir.File("ok.mustache")),
                    Catch::Contains("--template applies to the html and md formats only"));
  CHECK_THROWS_WITH(Export(t.db, "xlsx"), Catch::Contains("unknown export format 'xlsx'"));
  GrievanceFilter backwards;
  backwards.from = "2026-12-01";
  backwards.to = "2026-01-01";
  CHECK_THROWS_WITH(Export(t.db, "csv", backwards), Catch::Contains("the period starts"));
}

TEST_CASE("the town file's zone is the one the unit tests load", "[time_zone]") {
  CHECK(LoadTownFile(test::SourcePath("examples/thomery.yaml")).town.timezone == "Europe/Paris");
}

TEST_CASE("local time across the changes to and from summer time", "[time_zone]") {
  const TimeZone paris = TimeZone::Load("Europe/Paris");
  CHECK(paris.name() == "Europe/Paris");
  CHECK(Local(paris, "2026-03-29T00:59:59Z") == "2026-03-29 01:59:59");
  CHECK(Local(paris, "2026-03-29T01:00:00Z") == "2026-03-29 03:00:00");
  CHECK(Local(paris, "2026-10-25T00:59:59Z") == "2026-10-25 02:59:59");
  CHECK(Local(paris, "2026-10-25T01:00:00Z") == "2026-10-25 02:00:00");
  CHECK(Local(paris, "2025-12-31T23:30:00Z") == "2026-01-01 00:30:00");
  CHECK(Local(paris, "2026-02-28T23:00:00Z") == "2026-03-01 00:00:00");

  auto midnight = [&](const std::string& day) { return FormatIso(paris.LocalMidnight(day)); };
  CHECK(midnight("2026-01-01") == "2025-12-31T23:00:00Z");
  CHECK(midnight("2026-03-29") == "2026-03-28T23:00:00Z");
  CHECK(midnight("2026-03-30") == "2026-03-29T22:00:00Z");
  CHECK(midnight("2026-07-01") == "2026-06-30T22:00:00Z");
  CHECK(midnight("2026-10-25") == "2026-10-24T22:00:00Z");
  CHECK(midnight("2026-10-26") == "2026-10-25T23:00:00Z");
  CHECK_THROWS_WITH(paris.LocalMidnight("2026-02-30"), Catch::Contains("invalid date"));
  CHECK_THROWS_WITH(paris.LocalMidnight("2026-1-1"), Catch::Contains("invalid date"));

  CHECK(paris.FormatIsoLocal(ParseIso("2026-11-29T10:00:00Z")) == "2026-11-29T11:00:00+01:00");
  CHECK(paris.FormatIsoLocal(ParseIso("2026-07-14T10:00:00Z")) == "2026-07-14T12:00:00+02:00");
  // 02:30 happens twice on 25 October: the offset tells them apart.
  CHECK(paris.FormatIsoLocal(ParseIso("2026-10-25T00:30:00Z")) == "2026-10-25T02:30:00+02:00");
  CHECK(paris.FormatIsoLocal(ParseIso("2026-10-25T01:30:00Z")) == "2026-10-25T02:30:00+01:00");
  CHECK(paris.FormatIsoLocal(ParseIso("2026-03-29T01:00:00Z")) == "2026-03-29T03:00:00+02:00");

  CHECK(paris.FormatFrench(ParseIso("2026-11-29T10:00:00Z")) == "29/11/2026 11:00");
  CHECK(paris.FormatFrench(ParseIso("2026-07-01T22:05:00Z")) == "02/07/2026 00:05");
  CHECK(paris.FormatFrench(ParseIso("2025-12-31T23:30:00Z")) == "01/01/2026 00:30");
}

TEST_CASE("one process serves one time zone", "[time_zone]") {
  CHECK_THROWS_WITH(TimeZone::Load("Europe/Pariss"), Catch::Contains("unknown time zone 'Europe/Pariss'"));
  CHECK_THROWS_WITH(TimeZone::Load("../../etc/passwd"), Catch::Contains("unknown time zone"));
  const TimeZone paris = TimeZone::Load("Europe/Paris");
  CHECK_THROWS_WITH(TimeZone::Load("America/New_York"),
                    Catch::Contains("time zone 'America/New_York' requested after 'Europe/Paris'"));
  // Paris is still the zone in force.
  CHECK(TimeZone::Load("Europe/Paris").FormatIsoLocal(ParseIso("2026-01-15T12:00:00Z")) ==
        "2026-01-15T13:00:00+01:00");
  CHECK(paris.FormatFrench(ParseIso("2026-08-15T12:00:00Z")) == "15/08/2026 14:00");
}
