#pragma once

// Grievances (doléances): what residents ask the town hall to fix, and how the town hall answers.
//
// Workflow (AllowedTransitions): new → open → in_review | planned | in_progress → resolved | no_action |
// not_competent | duplicate | transferred, and hidden (abusive or personal content, never exported publicly).
// A closed grievance can be reopened. Every change is a grievance_event; the acknowledged, resolved and
// closed dates are derived from the events as they are written.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"

namespace voisinage {

inline constexpr size_t kMaxGrievanceDescription = 4000;  ///< characters (code points)
inline constexpr size_t kMaxGrievanceTitle = 200;

/// Every status, in workflow order.
const std::vector<std::string>& GrievanceStatuses();
/// web, phone, counter, mail, app.
const std::vector<std::string>& GrievanceChannels();
/// The statuses `from` may move to.
const std::vector<std::string>& AllowedTransitions(const std::string& from);
/// new, open, in_review, planned, in_progress.
bool IsOpenStatus(std::string_view status);
/// resolved, no_action, not_competent, duplicate, transferred.
bool IsClosedStatus(std::string_view status);
/// "open" or "closed" (Open311's two statuses); hidden counts as closed.
std::string StatusGroup(const std::string& status);
/// The status in French, for residents and the council ("En cours de traitement").
std::string FrenchStatus(const std::string& status);
/// The channel in French ("Guichet").
std::string FrenchChannel(const std::string& channel);

struct Grievance {
  int64_t id = 0;
  std::string reference;  ///< DOL-YYYY-NNNNNN
  std::string category;   ///< code
  std::string category_name;
  std::string title, description;
  std::string address, postcode;
  std::optional<double> lat, lon;
  std::string neighbourhood;  ///< slug, empty when none was found
  int64_t reporter_id = 0;    ///< 0: not a member
  std::string reporter_name;
  std::string contact_name, contact_email, contact_phone;
  std::string channel, status, service;
  int64_t assignee_id = 0;
  std::string assignee_name;
  std::string expected_on;   ///< YYYY-MM-DD when planned
  std::string duplicate_of;  ///< reference
  bool is_public = true;
  std::string created_at, updated_at;
  std::string acknowledged_at, resolved_at, closed_at;  ///< empty until it happens
  int reopened = 0;                                     ///< times reopened
};

struct GrievanceEvent {
  int64_t id = 0;
  std::string at;
  std::string actor;  ///< "cli", "member:12", "open311"
  std::string kind;   ///< created | status | reopened | assigned | response | note | merged | followed
  std::string old_status, new_status;
  std::string note;
  bool is_public = false;
};

struct NewGrievance {
  std::string category;  ///< code
  std::string title, description, address, postcode;
  std::optional<double> lat, lon;
  std::string neighbourhood;  ///< slug given by the clerk; empty: located from the point, then the postcode
  std::string reporter;       ///< a member (id or e-mail), or empty for an anonymous contact
  std::string contact_name, contact_email, contact_phone;
  std::string channel = "web";
  std::string received_at;  ///< when the town hall received it (a letter entered later); empty: now
  bool is_public = true;
};

struct AddedGrievance {
  Grievance grievance;
  std::vector<std::string> warnings;  ///< accepted, but worth a look (a point outside France...)
};

/// Validates and records a grievance in one transaction: reference, neighbourhood (by point, then postcode),
/// service from the category, a "created" event; a member reporter follows it. Throws Error (nothing
/// written) on an unknown or inactive category, an unknown channel or member, a title or description that is
/// empty or too long, coordinates out of range or apparently swapped, a received date in the future.
AddedGrievance AddGrievance(Db& db, const NewGrievance& grievance, const std::string& actor);

/// The grievance with this reference (case-insensitive, "DOL-2026-42" accepted). Throws Error when unknown.
Grievance GetGrievance(Db& db, const std::string& reference);

std::vector<GrievanceEvent> GrievanceEvents(Db& db, int64_t grievance_id, bool public_only);

struct StatusChange {
  std::string reference, status, note;
  bool public_note = false;  ///< the note is an answer residents see
  std::string expected_on;   ///< required for planned
  std::string duplicate_of;  ///< required for duplicate
  std::string at;            ///< when it happened; empty: now
};

/// Moves a grievance to another status, recording the event and the derived dates. An invalid transition is
/// refused with the allowed ones listed. Closed → open is a reopening.
Grievance ChangeGrievanceStatus(Db& db, const StatusChange& change, const std::string& actor);

/// Sets the service in charge and/or the staff member following it (townhall, moderator or admin).
Grievance AssignGrievance(Db& db, const std::string& reference, const std::optional<std::string>& service,
                          const std::optional<std::string>& assignee, const std::string& note,
                          const std::string& actor, const std::string& at = "");

/// Adds a public answer. A new grievance answered is acknowledged: it moves to open.
Grievance RespondToGrievance(Db& db, const std::string& reference, const std::string& text,
                             const std::string& actor, const std::string& at = "");

/// Marks each of `duplicates` as a duplicate of `into` and moves their followers to it, in one transaction.
std::vector<Grievance> MergeGrievances(Db& db, const std::vector<std::string>& duplicates,
                                       const std::string& into, const std::string& actor,
                                       const std::string& at = "");

/// The member follows the grievance (is told of its answers). Returns false when they already did.
bool FollowGrievance(Db& db, const std::string& reference, const std::string& member);
std::vector<int64_t> GrievanceFollowers(Db& db, int64_t grievance_id);

struct GrievanceCategory {
  std::string code, name, group, service;
  int sla_days = 0;
  bool active = true;
  int64_t open = 0;  ///< grievances open now
};
/// The town's categories (from the town file), active ones first.
std::vector<GrievanceCategory> ListGrievanceCategories(Db& db);
nlohmann::json ToJson(const GrievanceCategory& category);

/// The member designated by `by` when it may handle grievances (townhall, moderator, admin), as an actor
/// string "member:N"; "cli" when `by` is empty.
std::string GrievanceActor(Db& db, const std::string& by);

/// Filters shared by list, stats and export. Dates are days in the town's time zone, both included.
struct GrievanceFilter {
  std::string from, to;
  std::string neighbourhood;            ///< slug
  std::string category;                 ///< code
  std::vector<std::string> statuses;    ///< empty: every status but hidden
  bool public_only = false;             ///< only public grievances and public events, no contact data
  bool overdue = false;                 ///< only open ones past their category's delay or expected date
  int limit = 0;                        ///< 0: no limit
  int offset = 0;                       ///< list: skip the first N (paging)
  std::string since_utc, until_utc;     ///< instants (ISO 8601 UTC): received at or after / before
  std::vector<std::string> references;  ///< only these (Open311's service_request_id)
};

/// The filter validated and turned into SQL: "WHERE ..." over grievance g joined with grievance_category c,
/// and its parameters, in order. Throws Error on an unknown category, neighbourhood or status, a bad date or
/// from > to.
struct GrievanceQuery {
  std::string where;
  std::vector<std::string> params;
  std::string from_utc, to_utc;  ///< the period as UTC instants (to is exclusive); empty when open-ended
};
GrievanceQuery BuildGrievanceQuery(Db& db, const GrievanceFilter& filter);

/// Calls `visit` for each grievance matching `query`, in creation order, reading one row at a time.
void ForEachGrievance(Db& db, const GrievanceQuery& query,
                      const std::function<void(const Grievance&)>& visit);

/// Grievances matching the filter, newest first.
std::vector<Grievance> ListGrievances(Db& db, const GrievanceFilter& filter);

/// The grievance as JSON; `public_only` leaves out contact data and internal notes.
nlohmann::json ToJson(const Grievance& grievance, bool public_only = false);
nlohmann::json ToJson(const GrievanceEvent& event);

}  // namespace voisinage
