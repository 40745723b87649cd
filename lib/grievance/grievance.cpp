#include "lib/grievance/grievance.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include "lib/clock.h"
#include "lib/registry/row_mapper.h"
#include "lib/store/audit_log.h"
#include "lib/text/strings.h"
#include "lib/text/suggest.h"
#include "lib/time_zone.h"
#include "lib/town/locate.h"
#include "lib/town/member.h"
#include "lib/town/neighbourhood.h"
#include "lib/town/town.h"
#include "lib/town/validation.h"

namespace voisinage {

using nlohmann::json;

const std::vector<std::string>& GrievanceStatuses() {
  static const std::vector<std::string> statuses = {
      "new",       "open",          "in_review", "planned",     "in_progress", "resolved",
      "no_action", "not_competent", "duplicate", "transferred", "hidden"};
  return statuses;
}

const std::vector<std::string>& GrievanceChannels() {
  static const std::vector<std::string> channels = {"web", "phone", "counter", "mail", "app"};
  return channels;
}

const std::vector<std::string>& AllowedTransitions(const std::string& from) {
  // A new grievance is acknowledged (open) before work on it starts, or closed at once when it is not the
  // town's to handle; duplicate needs the grievance it duplicates.
  static const std::map<std::string, std::vector<std::string>> transitions = {
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
  static const std::vector<std::string> none;
  auto it = transitions.find(from);
  return it == transitions.end() ? none : it->second;
}

bool IsOpenStatus(std::string_view status) {
  return status == "new" || status == "open" || status == "in_review" || status == "planned" ||
         status == "in_progress";
}

bool IsClosedStatus(std::string_view status) {
  return status == "resolved" || status == "no_action" || status == "not_competent" ||
         status == "duplicate" || status == "transferred";
}

std::string StatusGroup(const std::string& status) {
  return IsOpenStatus(status) ? "open" : "closed";
}

std::string FrenchStatus(const std::string& status) {
  static const std::map<std::string, std::string> names = {
      {"new", "Nouvelle"},
      {"open", "Prise en compte"},
      {"in_review", "En cours d'examen"},
      {"planned", "Intervention programmée"},
      {"in_progress", "En cours de traitement"},
      {"resolved", "Résolue"},
      {"no_action", "Sans suite"},
      {"not_competent", "Hors compétence de la commune"},
      {"duplicate", "Doublon"},
      {"transferred", "Transmise à un autre service"},
      {"hidden", "Masquée"},
  };
  auto it = names.find(status);
  return it == names.end() ? status : it->second;
}

std::string FrenchChannel(const std::string& channel) {
  static const std::map<std::string, std::string> names = {{"web", "Site web"},
                                                           {"phone", "Téléphone"},
                                                           {"counter", "Guichet"},
                                                           {"mail", "Courrier"},
                                                           {"app", "Application"}};
  auto it = names.find(channel);
  return it == names.end() ? channel : it->second;
}

namespace {

const char* const kSelectGrievance = R"sql(
  SELECT g.id, g.reference, c.code, c.name, g.title, g.description, g.address, g.postcode, g.lat, g.lon,
         coalesce(n.slug, ''), coalesce(g.reporter_id, 0), coalesce(r.display_name, ''), g.contact_name,
         g.contact_email, g.contact_phone, g.channel, g.status, g.service, coalesce(g.assignee_id, 0),
         coalesce(a.display_name, ''), g.expected_on, coalesce(d.reference, ''), g.public, g.created_at,
         g.updated_at, coalesce(g.acknowledged_at, ''), coalesce(g.resolved_at, ''), coalesce(g.closed_at, ''),
         g.reopened
  FROM grievance g
  JOIN grievance_category c ON c.id = g.category_id
  LEFT JOIN neighbourhood n ON n.id = g.neighbourhood_id
  LEFT JOIN member r ON r.id = g.reporter_id
  LEFT JOIN member a ON a.id = g.assignee_id
  LEFT JOIN grievance d ON d.id = g.duplicate_of)sql";

Grievance ReadGrievance(SQLite::Statement& row) {
  Grievance g;
  g.id = row.getColumn(0).getInt64();
  int i = 1;
  for (std::string* field :
       {&g.reference, &g.category, &g.category_name, &g.title, &g.description, &g.address, &g.postcode})
    *field = row.getColumn(i++).getString();
  if (!row.getColumn(8).isNull()) g.lat = row.getColumn(8).getDouble();
  if (!row.getColumn(9).isNull()) g.lon = row.getColumn(9).getDouble();
  g.neighbourhood = row.getColumn(10).getString();
  g.reporter_id = row.getColumn(11).getInt64();
  i = 12;
  for (std::string* field : {&g.reporter_name, &g.contact_name, &g.contact_email, &g.contact_phone,
                             &g.channel, &g.status, &g.service})
    *field = row.getColumn(i++).getString();
  g.assignee_id = row.getColumn(19).getInt64();
  g.assignee_name = row.getColumn(20).getString();
  g.expected_on = row.getColumn(21).getString();
  g.duplicate_of = row.getColumn(22).getString();
  g.is_public = row.getColumn(23).getInt() != 0;
  i = 24;
  for (std::string* field : {&g.created_at, &g.updated_at, &g.acknowledged_at, &g.resolved_at, &g.closed_at})
    *field = row.getColumn(i++).getString();
  g.reopened = row.getColumn(29).getInt();
  return g;
}

// "DOL-2026-000042", "dol-2026-42" → year and sequence; nullopt when it is not a reference.
std::optional<std::pair<int, int64_t>> ParseReference(const std::string& text) {
  std::string upper = text;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  if (!upper.starts_with("DOL-") || upper.size() < 10 || upper[8] != '-') return std::nullopt;
  const std::string year = upper.substr(4, 4), seq = upper.substr(9);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 9 &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  if (!digits(year) || !digits(seq)) return std::nullopt;
  return std::make_pair(std::stoi(year), std::stoll(seq));
}

std::string FormatReference(int year, int64_t seq) {
  return fmt::format("DOL-{:04}-{:06}", year, seq);
}

int64_t FindGrievanceId(Db& db, const std::string& reference) {
  auto parsed = ParseReference(reference);
  if (!parsed)
    throw NotFoundError(fmt::format("invalid grievance reference '{}'", reference),
                        "references look like DOL-2026-000042 (see 'voisinage grievance list')");
  SQLite::Statement find(db.sql(), "SELECT id FROM grievance WHERE year = ? AND seq = ?");
  find.bind(1, parsed->first);
  find.bind(2, static_cast<int64_t>(parsed->second));
  if (!find.executeStep())
    throw NotFoundError(fmt::format("no grievance '{}'", FormatReference(parsed->first, parsed->second)),
                        "see 'voisinage grievance list'");
  return find.getColumn(0).getInt64();
}

Grievance ReadGrievance(Db& db, int64_t id) {
  CachedStatement query = db.Prepare(std::string(kSelectGrievance) + " WHERE g.id = ?");
  query->bind(1, id);
  if (!query->executeStep()) Fail("no grievance with id {}", id);
  return ReadGrievance(*query);
}

void ValidateStatus(const std::string& status) {
  const auto& all = GrievanceStatuses();
  if (std::find(all.begin(), all.end(), status) == all.end())
    throw Error(fmt::format("unknown status '{}'{}", status, DidYouMean(status, all)),
                fmt::format("statuses: {}", fmt::join(all, ", ")));
}

void ValidateDay(const std::string& date, const std::string& what) {
  bool ok = date.size() == 10;
  try {
    if (ok) ParseIso(date);
  } catch (const Error&) {
    ok = false;
  }
  if (!ok) throw Error(fmt::format("invalid {} '{}'", what, date), "use YYYY-MM-DD");
}

// When an event happens: now, or `at` for work entered afterwards (a bare day is midnight in the town's
// time zone), never in the future, never before the grievance's last change, so that the history stays in
// order.
std::string EventTime(Db& db, const std::string& at, const std::string& not_before) {
  if (at.empty()) return std::max(NowIso(), not_before);
  const std::string iso = FormatIso(
      at.size() == 10 ? TimeZone::Load(GetTown(db).identity.timezone).LocalMidnight(at) : ParseIso(at));
  if (iso > NowIso()) throw Error(fmt::format("'{}' is in the future", at), "give the date it happened");
  if (iso < not_before)
    throw Error(fmt::format("'{}' is before the grievance's last change ({})", at, not_before),
                "events are recorded in order");
  return iso;
}

void InsertEvent(Db& db, int64_t grievance_id, const std::string& at, const std::string& actor,
                 const std::string& kind, const std::string& old_status, const std::string& new_status,
                 const std::string& note, bool is_public) {
  CachedStatement insert = db.Prepare(R"sql(
    INSERT INTO grievance_event (grievance_id, at, actor, kind, old_status, new_status, note, public)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?))sql");
  insert->bind(1, grievance_id);
  insert->bind(2, at);
  insert->bind(3, actor);
  insert->bind(4, kind);
  insert->bind(5, old_status);
  insert->bind(6, new_status);
  insert->bind(7, note);
  insert->bind(8, is_public ? 1 : 0);
  insert->exec();
}

// Writes a status change and the dates derived from it: acknowledged when it first leaves "new"; resolved
// and closed when it reaches a closing status, cleared when it is reopened.
void WriteStatus(Db& db, const Grievance& g, const std::string& status, const std::string& at,
                 const std::string& actor, const std::string& note, bool public_note,
                 const std::string& expected_on, int64_t duplicate_of) {
  // Back to open from a closing status, or from hidden when it had been closed before being hidden.
  const bool reopening =
      status == "open" && (IsClosedStatus(g.status) || (g.status == "hidden" && !g.closed_at.empty()));
  SQLite::Statement update(db.sql(), R"sql(
    UPDATE grievance SET status = ?2, updated_at = ?3,
      acknowledged_at = CASE WHEN acknowledged_at IS NULL AND ?2 != 'hidden' THEN ?3 ELSE acknowledged_at END,
      resolved_at = CASE WHEN ?2 = 'resolved' THEN ?3 WHEN ?4 THEN NULL ELSE resolved_at END,
      closed_at = CASE WHEN ?5 THEN ?3 WHEN ?4 THEN NULL ELSE closed_at END,
      reopened = reopened + ?4,
      expected_on = CASE WHEN ?2 = 'planned' THEN ?6 ELSE '' END,
      duplicate_of = CASE WHEN ?2 = 'duplicate' THEN ?7 ELSE duplicate_of END
    WHERE id = ?1)sql");
  update.bind(1, g.id);
  update.bind(2, status);
  update.bind(3, at);
  update.bind(4, reopening ? 1 : 0);
  update.bind(5, IsClosedStatus(status) ? 1 : 0);
  update.bind(6, expected_on);
  if (duplicate_of != 0) update.bind(7, duplicate_of);
  update.exec();
  InsertEvent(db, g.id, at, actor, reopening ? "reopened" : "status", g.status, status, note, public_note);
}

void ValidateCoordinates(const NewGrievance& g, std::vector<std::string>& warnings) {
  if (g.lat.has_value() != g.lon.has_value())
    throw Error("give both the latitude and the longitude, or neither");
  if (!g.lat) return;
  const double lat = *g.lat, lon = *g.lon;
  if (!std::isfinite(lat) || !std::isfinite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180)
    throw Error(fmt::format("coordinates out of range: latitude {} longitude {}", lat, lon),
                "latitude is between -90 and 90, longitude between -180 and 180 (WGS84 degrees)");
  // Metropolitan France and Corsica; overseas towns get the warning, which is all it is.
  auto in_france = [](double la, double lo) { return la >= 41.2 && la <= 51.2 && lo >= -5.3 && lo <= 9.7; };
  if (in_france(lat, lon)) return;
  if (in_france(lon, lat))
    throw Error(
        fmt::format("latitude {} and longitude {} look swapped", lat, lon),
        fmt::format("in France the latitude is about 41 to 51 and the longitude -5 to 10: did you mean "
                    "--lat {} --lon {}?",
                    lon, lat));
  warnings.push_back(
      fmt::format("the point (latitude {}, longitude {}) is outside metropolitan France", lat, lon));
}

void ValidateText(const std::string& what, const std::string& text, size_t max_chars) {
  if (std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); }))
    throw Error(fmt::format("the {} is empty", what));
  const size_t length = Utf8Length(text);
  if (length > max_chars)
    throw Error(fmt::format("the {} has {} characters; at most {} are allowed", what, length, max_chars),
                "shorten it, or attach the rest to a follow-up answer");
}

int64_t RequireCategory(Db& db, const std::string& code) {
  CachedStatement find = db.Prepare("SELECT id, active FROM grievance_category WHERE code = ?");
  find->bind(1, code);
  if (find->executeStep()) {
    if (find->getColumn(1).getInt() == 0)
      throw Error(fmt::format("category '{}' is no longer in use", code),
                  "it was removed from the town file; see 'voisinage grievance categories'");
    return find->getColumn(0).getInt64();
  }
  std::vector<std::string> codes;
  SQLite::Statement all(db.sql(), "SELECT code FROM grievance_category WHERE active ORDER BY code");
  while (all.executeStep()) codes.push_back(all.getColumn(0).getString());
  throw Error(fmt::format("unknown category '{}'{}", code, DidYouMean(code, codes)),
              codes.empty() ? "the town file defines no grievance_categories"
                            : fmt::format("categories: {}", fmt::join(codes, ", ")));
}

}  // namespace

AddedGrievance AddGrievance(Db& db, const NewGrievance& in, const std::string& actor) {
  AddedGrievance added;
  ValidateText("title", in.title, kMaxGrievanceTitle);
  ValidateText("description", in.description, kMaxGrievanceDescription);
  if (std::find(GrievanceChannels().begin(), GrievanceChannels().end(), in.channel) ==
      GrievanceChannels().end())
    throw Error(
        fmt::format("unknown channel '{}'{}", in.channel, DidYouMean(in.channel, GrievanceChannels())),
        "channels: web, phone, counter, mail, app");
  ValidateCoordinates(in, added.warnings);
  if (!in.postcode.empty()) ValidatePostcode(in.postcode);
  if (!in.contact_email.empty()) ValidateEmail(in.contact_email);
  if (!in.contact_name.empty()) ValidateName("contact name", in.contact_name);
  const std::string phone = in.contact_phone.empty() ? "" : NormalisePhone(in.contact_phone);
  if (Utf8Length(in.address) > 300) throw Error("the address is longer than 300 characters");

  // What needs no lock is read before the write transaction: the town, its zone, the neighbourhoods'
  // polygons.
  const Town town = GetTown(db);
  const TimeZone zone = TimeZone::Load(town.identity.timezone);
  const std::string created_at = EventTime(db, in.received_at, "");
  const int year = zone.ToLocal(ParseIso(created_at)).year;
  std::optional<Point> point;
  if (in.lat) point = Point{*in.lon, *in.lat};
  Location location;
  if (!in.neighbourhood.empty()) {
    const Neighbourhood n = ResolveActiveNeighbourhood(db, in.neighbourhood);
    location.neighbourhood_id = n.id;
    location.slug = n.slug;
  } else {
    location = Locator::Load(db).Locate(point, in.postcode);
  }

  auto transaction = db.Write();
  const int64_t category_id = RequireCategory(db, in.category);
  int64_t reporter_id = 0;
  if (!in.reporter.empty()) {
    Member reporter = FindMember(db, in.reporter);
    if (!reporter.removed_at.empty()) throw Error(fmt::format("member {} was removed", reporter.id));
    reporter_id = reporter.id;
  }

  CachedStatement next = db.Prepare("SELECT coalesce(max(seq), 0) + 1 FROM grievance WHERE year = ?");
  next->bind(1, year);
  next->executeStep();
  const int64_t seq = next->getColumn(0).getInt64();

  CachedStatement insert = db.Prepare(R"sql(
    INSERT INTO grievance (reference, year, seq, category_id, title, description, address, postcode, lat, lon,
                           neighbourhood_id, reporter_id, contact_name, contact_email, contact_phone, channel,
                           service, public, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT service FROM grievance_category WHERE id = ?4),
            ?, ?, ?))sql");
  int i = 1;
  insert->bind(i++, FormatReference(year, seq));
  insert->bind(i++, year);
  insert->bind(i++, seq);
  insert->bind(i++, category_id);
  insert->bind(i++, in.title);
  insert->bind(i++, in.description);
  insert->bind(i++, in.address);
  insert->bind(i++, in.postcode);
  in.lat ? insert->bind(i++, *in.lat) : insert->bind(i++);
  in.lon ? insert->bind(i++, *in.lon) : insert->bind(i++);
  location.found() ? insert->bind(i++, location.neighbourhood_id) : insert->bind(i++);
  reporter_id ? insert->bind(i++, reporter_id) : insert->bind(i++);
  insert->bind(i++, in.contact_name);
  insert->bind(i++, in.contact_email);
  insert->bind(i++, phone);
  insert->bind(i++, in.channel);
  insert->bind(17, in.is_public ? 1 : 0);
  insert->bind(18, created_at);
  insert->bind(19, created_at);
  insert->exec();
  const int64_t id = db.sql().getLastInsertRowid();
  InsertEvent(db, id, created_at, actor, "created", "", "new", "", true);
  if (reporter_id) {
    CachedStatement follow = db.Prepare("INSERT INTO grievance_follower VALUES (?, ?, ?)");
    follow->bind(1, id);
    follow->bind(2, reporter_id);
    follow->bind(3, created_at);
    follow->exec();
  }
  added.grievance = ReadGrievance(db, id);
  transaction.commit();
  return added;
}

Grievance GetGrievance(Db& db, const std::string& reference) {
  return ReadGrievance(db, FindGrievanceId(db, reference));
}

std::vector<GrievanceEvent> GrievanceEvents(Db& db, int64_t grievance_id, bool public_only) {
  SQLite::Statement query(db.sql(), std::string(R"sql(
    SELECT id, at, actor, kind, old_status, new_status, note, public FROM grievance_event
    WHERE grievance_id = ?)sql") + (public_only ? " AND public" : "") +
                                        " ORDER BY id");
  query.bind(1, grievance_id);
  std::vector<GrievanceEvent> events;
  while (query.executeStep()) {
    GrievanceEvent e;
    e.id = query.getColumn(0).getInt64();
    int i = 1;
    for (std::string* field : {&e.at, &e.actor, &e.kind, &e.old_status, &e.new_status, &e.note})
      *field = query.getColumn(i++).getString();
    e.is_public = query.getColumn(7).getInt() != 0;
    events.push_back(std::move(e));
  }
  return events;
}

Grievance ChangeGrievanceStatus(Db& db, const StatusChange& change, const std::string& actor) {
  ValidateStatus(change.status);
  if (!change.note.empty()) ValidateText("note", change.note, kMaxGrievanceDescription);
  if (!change.expected_on.empty()) ValidateDay(change.expected_on, "expected date");
  auto transaction = db.Write();
  const Grievance g = ReadGrievance(db, FindGrievanceId(db, change.reference));
  const auto& allowed = AllowedTransitions(g.status);
  if (std::find(allowed.begin(), allowed.end(), change.status) == allowed.end())
    throw Error(fmt::format("{} cannot go from {} to {}", g.reference, g.status, change.status),
                fmt::format("from {}: {}", g.status, fmt::join(allowed, ", ")));
  if (change.status == "planned" && change.expected_on.empty())
    throw Error("a planned grievance needs the date the work is expected", "add --expected YYYY-MM-DD");
  if (change.status != "planned" && !change.expected_on.empty())
    throw Error("--expected only applies to the planned status");
  int64_t duplicate_of = 0;
  if (change.status == "duplicate") {
    if (change.duplicate_of.empty())
      throw Error("a duplicate needs the grievance it duplicates", "use 'voisinage grievance merge'");
    duplicate_of = FindGrievanceId(db, change.duplicate_of);
    if (duplicate_of == g.id) throw Error(fmt::format("{} cannot duplicate itself", g.reference));
  } else if (!change.duplicate_of.empty()) {
    throw Error("--duplicate-of only applies to the duplicate status");
  }
  const std::string at = EventTime(db, change.at, g.updated_at);
  const LocalTime day = TimeZone::Load(GetTown(db).identity.timezone).ToLocal(ParseIso(at));
  if (!change.expected_on.empty() &&
      change.expected_on < fmt::format("{:04}-{:02}-{:02}", day.year, day.month, day.day))
    throw Error(fmt::format("the expected date {} is already past", change.expected_on),
                "give the day the work is planned for");
  WriteStatus(db, g, change.status, at, actor, change.note, change.public_note, change.expected_on,
              duplicate_of);
  Grievance updated = ReadGrievance(db, g.id);
  transaction.commit();
  return updated;
}

Grievance AssignGrievance(Db& db, const std::string& reference, const std::optional<std::string>& service,
                          const std::optional<std::string>& assignee, const std::string& note,
                          const std::string& actor, const std::string& at_text) {
  if (!service && !assignee) throw Error("nothing to assign", "give --service and/or --to");
  if (!note.empty()) ValidateText("note", note, kMaxGrievanceDescription);
  if (service) ValidateName("service", *service);
  auto transaction = db.Write();
  const Grievance g = ReadGrievance(db, FindGrievanceId(db, reference));
  std::vector<std::string> changes;
  if (service) {
    SQLite::Statement update(db.sql(), "UPDATE grievance SET service = ? WHERE id = ?");
    update.bind(1, *service);
    update.bind(2, g.id);
    update.exec();
    changes.push_back(fmt::format("service: {} → {}", g.service.empty() ? "(none)" : g.service, *service));
  }
  if (assignee) {
    SQLite::Statement update(db.sql(), "UPDATE grievance SET assignee_id = ? WHERE id = ?");
    if (assignee->empty()) {
      update.bind(1);
      changes.push_back("no longer assigned to anyone");
    } else {
      Member m = FindMember(db, *assignee);
      if (!IsStaffRole(m.role) || m.role == "merchant" || m.role == "association")
        throw Error(fmt::format("member {} ({}) is not staff", m.id, m.role),
                    "grievances are assigned to townhall, moderator or admin members");
      update.bind(1, m.id);
      changes.push_back(fmt::format("assigned to {} (member {})", m.display_name, m.id));
    }
    update.bind(2, g.id);
    update.exec();
  }
  const std::string at = EventTime(db, at_text, g.updated_at);
  SQLite::Statement touch(db.sql(), "UPDATE grievance SET updated_at = ? WHERE id = ?");
  touch.bind(1, at);
  touch.bind(2, g.id);
  touch.exec();
  std::string text = fmt::format("{}", fmt::join(changes, "; "));
  if (!note.empty()) text += " — " + note;
  InsertEvent(db, g.id, at, actor, "assigned", g.status, g.status, text, false);
  Grievance updated = ReadGrievance(db, g.id);
  transaction.commit();
  return updated;
}

Grievance RespondToGrievance(Db& db, const std::string& reference, const std::string& text,
                             const std::string& actor, const std::string& at) {
  ValidateText("answer", text, kMaxGrievanceDescription);
  auto transaction = db.Write();
  const Grievance g = ReadGrievance(db, FindGrievanceId(db, reference));
  if (g.status == "hidden")
    throw Error(fmt::format("{} is hidden: nobody would see the answer", g.reference));
  const std::string when = EventTime(db, at, g.updated_at);
  if (g.status == "new") {
    // Answering is acknowledging.
    WriteStatus(db, g, "open", when, actor, text, true, "", 0);
  } else {
    InsertEvent(db, g.id, when, actor, "response", g.status, g.status, text, true);
    SQLite::Statement touch(db.sql(), "UPDATE grievance SET updated_at = ? WHERE id = ?");
    touch.bind(1, when);
    touch.bind(2, g.id);
    touch.exec();
  }
  Grievance updated = ReadGrievance(db, g.id);
  transaction.commit();
  return updated;
}

std::vector<Grievance> MergeGrievances(Db& db, const std::vector<std::string>& duplicates,
                                       const std::string& into, const std::string& actor,
                                       const std::string& at_text) {
  if (duplicates.empty()) throw Error("no grievance to merge");
  auto transaction = db.Write();
  const Grievance target = ReadGrievance(db, FindGrievanceId(db, into));
  if (target.status == "duplicate" || target.status == "hidden")
    throw Error(
        fmt::format("{} is {}: merge into the grievance it stands for", target.reference, target.status));
  std::vector<Grievance> merged;
  for (const std::string& reference : duplicates) {
    const Grievance g = ReadGrievance(db, FindGrievanceId(db, reference));
    if (g.id == target.id) throw Error(fmt::format("{} cannot be merged into itself", g.reference));
    const auto& allowed = AllowedTransitions(g.status);
    if (std::find(allowed.begin(), allowed.end(), "duplicate") == allowed.end())
      throw Error(fmt::format("{} is {}: it cannot be marked as a duplicate", g.reference, g.status),
                  g.status == "duplicate" ? "it is already merged"
                  : IsClosedStatus(g.status) || g.status == "hidden"
                      ? "reopen it first ('voisinage grievance status REF open')"
                      : fmt::format("from {}: {}", g.status, fmt::join(allowed, ", ")));
    const std::string at = EventTime(db, at_text, std::max(g.updated_at, target.updated_at));
    WriteStatus(db, g, "duplicate", at, actor,
                fmt::format("Doublon de {} : le suivi continue sur ce signalement.", target.reference), true,
                "", target.id);
    SQLite::Statement move(db.sql(), R"sql(
      INSERT OR IGNORE INTO grievance_follower (grievance_id, member_id, since)
      SELECT ?1, member_id, ?3 FROM grievance_follower WHERE grievance_id = ?2)sql");
    move.bind(1, target.id);
    move.bind(2, g.id);
    move.bind(3, at);
    const int moved = move.exec();
    SQLite::Statement drop(db.sql(), "DELETE FROM grievance_follower WHERE grievance_id = ?");
    drop.bind(1, g.id);
    drop.exec();
    SQLite::Statement touch(db.sql(), "UPDATE grievance SET updated_at = max(updated_at, ?) WHERE id = ?");
    touch.bind(1, at);
    touch.bind(2, target.id);
    touch.exec();
    InsertEvent(db, target.id, std::max(at, target.updated_at), actor, "merged", target.status, target.status,
                fmt::format("{} fusionné ici ({} abonné(s) repris)", g.reference, moved), false);
    merged.push_back(ReadGrievance(db, g.id));
  }
  transaction.commit();
  return merged;
}

bool FollowGrievance(Db& db, const std::string& reference, const std::string& member) {
  auto transaction = db.Write();
  const int64_t id = FindGrievanceId(db, reference);
  const Member m = FindMember(db, member);
  SQLite::Statement insert(db.sql(), "INSERT OR IGNORE INTO grievance_follower VALUES (?, ?, ?)");
  insert.bind(1, id);
  insert.bind(2, m.id);
  insert.bind(3, NowIso());
  const bool added = insert.exec() > 0;
  transaction.commit();
  return added;
}

std::vector<int64_t> GrievanceFollowers(Db& db, int64_t grievance_id) {
  SQLite::Statement query(
      db.sql(), "SELECT member_id FROM grievance_follower WHERE grievance_id = ? ORDER BY member_id");
  query.bind(1, grievance_id);
  std::vector<int64_t> ids;
  while (query.executeStep()) ids.push_back(query.getColumn(0).getInt64());
  return ids;
}

std::vector<GrievanceCategory> ListGrievanceCategories(Db& db) {
  SQLite::Statement query(db.sql(), R"sql(
    SELECT c.code, c.name, c.grp, c.service, c.sla_days, c.active,
           (SELECT count(*) FROM grievance g WHERE g.category_id = c.id
              AND g.status IN ('new', 'open', 'in_review', 'planned', 'in_progress'))
    FROM grievance_category c ORDER BY c.active DESC, c.grp, c.name)sql");
  std::vector<GrievanceCategory> categories;
  while (query.executeStep())
    categories.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(),
                          query.getColumn(2).getString(), query.getColumn(3).getString(),
                          query.getColumn(4).getInt(), query.getColumn(5).getInt() != 0,
                          query.getColumn(6).getInt64()});
  return categories;
}

json ToJson(const GrievanceCategory& c) {
  return {{"code", c.code},         {"name", c.name},     {"group", c.group}, {"service", c.service},
          {"sla_days", c.sla_days}, {"active", c.active}, {"open", c.open}};
}

std::string GrievanceActor(Db& db, const std::string& by) {
  if (by.empty()) return "cli";
  const Member m = FindMember(db, by);
  if (!m.removed_at.empty()) throw Error(fmt::format("member {} was removed", m.id));
  if (m.role != "townhall" && m.role != "moderator" && m.role != "admin")
    throw Error(fmt::format("member {} ({}) cannot handle grievances", m.id, m.role),
                "grievances are handled by townhall, moderator or admin members");
  return fmt::format("member:{}", m.id);
}

GrievanceQuery BuildGrievanceQuery(Db& db, const GrievanceFilter& filter) {
  GrievanceQuery q;
  std::vector<std::string> conditions;
  if (!filter.from.empty() || !filter.to.empty()) {
    const TimeZone zone = TimeZone::Load(GetTown(db).identity.timezone);
    if (!filter.from.empty()) {
      ValidateDay(filter.from, "--from date");
      q.from_utc = FormatIso(zone.LocalMidnight(filter.from));
      conditions.push_back("g.created_at >= ?");
      q.params.push_back(q.from_utc);
    }
    if (!filter.to.empty()) {
      ValidateDay(filter.to, "--to date");
      q.to_utc =
          FormatIso(zone.LocalMidnight(FormatIso(ParseIso(filter.to) + std::chrono::days{1}).substr(0, 10)));
      conditions.push_back("g.created_at < ?");
      q.params.push_back(q.to_utc);
    }
    if (!filter.from.empty() && !filter.to.empty() && filter.from > filter.to)
      throw Error(fmt::format("the period starts ({}) after it ends ({})", filter.from, filter.to),
                  "swap --from and --to");
  }
  if (!filter.since_utc.empty()) {
    conditions.push_back("g.created_at >= ?");
    q.params.push_back(FormatIso(ParseIso(filter.since_utc)));
  }
  if (!filter.until_utc.empty()) {
    conditions.push_back("g.created_at < ?");
    q.params.push_back(FormatIso(ParseIso(filter.until_utc)));
  }
  if (!filter.references.empty()) {
    std::string list;
    for (const std::string& reference : filter.references) {
      auto parsed = ParseReference(reference);
      if (!parsed) continue;  // an unknown reference matches nothing
      list += list.empty() ? "?" : ", ?";
      q.params.push_back(FormatReference(parsed->first, parsed->second));
    }
    conditions.push_back(list.empty() ? "0" : "g.reference IN (" + list + ")");
  }
  if (!filter.category.empty()) {
    SQLite::Statement find(db.sql(), "SELECT 1 FROM grievance_category WHERE code = ?");
    find.bind(1, filter.category);
    if (!find.executeStep()) RequireCategory(db, filter.category);  // throws with the list
    conditions.push_back("c.code = ?");
    q.params.push_back(filter.category);
  }
  if (!filter.neighbourhood.empty()) {
    SQLite::Statement find(db.sql(), "SELECT 1 FROM neighbourhood WHERE slug = ?");
    find.bind(1, filter.neighbourhood);
    if (!find.executeStep())
      throw Error(fmt::format("no neighbourhood '{}'", filter.neighbourhood),
                  "see 'voisinage neighbourhood list'");
    conditions.push_back("g.neighbourhood_id = (SELECT id FROM neighbourhood WHERE slug = ?)");
    q.params.push_back(filter.neighbourhood);
  }
  std::vector<std::string> statuses = filter.statuses;
  for (const std::string& s : statuses) ValidateStatus(s);
  if (filter.public_only) {
    std::erase(statuses, "hidden");
    conditions.push_back("g.public");
    if (statuses.empty() && !filter.statuses.empty()) conditions.push_back("0");  // only "hidden" was asked
  }
  if (statuses.empty()) {
    conditions.push_back("g.status != 'hidden'");
  } else {
    std::string list;
    for (const std::string& s : statuses) {
      list += list.empty() ? "?" : ", ?";
      q.params.push_back(s);
    }
    conditions.push_back("g.status IN (" + list + ")");
  }
  if (filter.overdue) {
    conditions.push_back(
        "g.status IN ('new', 'open', 'in_review', 'planned', 'in_progress') AND "
        "((g.expected_on != '' AND g.expected_on < substr(?, 1, 10)) OR "
        "(g.expected_on = '' AND julianday(?) - julianday(g.created_at) > c.sla_days))");
    const std::string now = NowIso();
    q.params.push_back(now);
    q.params.push_back(now);
  }
  q.where = conditions.empty() ? "" : "WHERE " + fmt::format("{}", fmt::join(conditions, " AND "));
  return q;
}

void ForEachGrievance(Db& db, const GrievanceQuery& q, const std::function<void(const Grievance&)>& visit) {
  SQLite::Statement query(db.sql(), fmt::format("{} {} ORDER BY g.id", kSelectGrievance, q.where));
  for (size_t i = 0; i < q.params.size(); ++i) query.bind(static_cast<int>(i + 1), q.params[i]);
  while (query.executeStep()) visit(ReadGrievance(query));
}

std::vector<Grievance> ListGrievances(Db& db, const GrievanceFilter& filter) {
  const GrievanceQuery q = BuildGrievanceQuery(db, filter);
  SQLite::Statement query(
      db.sql(),
      fmt::format("{} {} ORDER BY g.created_at DESC, g.id DESC{}", kSelectGrievance, q.where,
                  filter.limit > 0 ? fmt::format(" LIMIT {} OFFSET {}", filter.limit, filter.offset) : ""));
  for (size_t i = 0; i < q.params.size(); ++i) query.bind(static_cast<int>(i + 1), q.params[i]);
  std::vector<Grievance> list;
  while (query.executeStep()) list.push_back(ReadGrievance(query));
  return list;
}

json ToJson(const Grievance& g, bool public_only) {
  auto optional_text = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  json out = {{"reference", g.reference},
              {"category", g.category},
              {"category_name", g.category_name},
              {"title", g.title},
              {"description", g.description},
              {"address", g.address},
              {"postcode", g.postcode},
              {"lat", g.lat ? json(*g.lat) : json(nullptr)},
              {"lon", g.lon ? json(*g.lon) : json(nullptr)},
              {"neighbourhood", optional_text(g.neighbourhood)},
              {"channel", g.channel},
              {"status", g.status},
              {"status_group", StatusGroup(g.status)},
              {"service", g.service},
              {"expected_on", optional_text(g.expected_on)},
              {"duplicate_of", optional_text(g.duplicate_of)},
              {"public", g.is_public},
              {"created_at", g.created_at},
              {"updated_at", g.updated_at},
              {"acknowledged_at", optional_text(g.acknowledged_at)},
              {"resolved_at", optional_text(g.resolved_at)},
              {"closed_at", optional_text(g.closed_at)},
              {"reopened", g.reopened}};
  if (!public_only) {
    out["reporter"] =
        g.reporter_id ? json{{"member", g.reporter_id}, {"display_name", g.reporter_name}} : json(nullptr);
    out["contact"] = {{"name", g.contact_name}, {"email", g.contact_email}, {"phone", g.contact_phone}};
    out["assignee"] =
        g.assignee_id ? json{{"member", g.assignee_id}, {"display_name", g.assignee_name}} : json(nullptr);
  }
  return out;
}

json ToJson(const GrievanceEvent& e) {
  return {{"at", e.at},
          {"actor", e.actor},
          {"kind", e.kind},
          {"old_status", e.old_status},
          {"new_status", e.new_status},
          {"note", e.note},
          {"public", e.is_public}};
}

}  // namespace voisinage
