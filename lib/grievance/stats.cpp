#include "lib/grievance/stats.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "lib/clock.h"
#include "lib/text/fold.h"
#include "lib/time_zone.h"
#include "lib/town/town.h"

namespace voisinage {

using nlohmann::json;
using namespace std::chrono;

std::string StreetOf(const std::string& address) {
  std::string_view s = address;
  s = s.substr(0, s.find(','));
  auto skip_spaces = [&s] {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  };
  skip_spaces();
  const size_t digits =
      std::find_if_not(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }) - s.begin();
  if (digits > 0) {
    s.remove_prefix(digits);
    skip_spaces();
    // The repetition index, in any case: "12 bis", "12 Bis", "12 B", "7 quater".
    for (std::string_view suffix : {"bis ", "ter ", "quater ", "b ", "t ", "q "}) {
      const bool match =
          s.size() > suffix.size() && std::equal(suffix.begin(), suffix.end(), s.begin(), [](char a, char b) {
            return a == std::tolower(static_cast<unsigned char>(b));
          });
      if (match) {
        s.remove_prefix(suffix.size());
        break;
      }
    }
  }
  skip_spaces();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = p * static_cast<double>(values.size() - 1);
  const size_t low = static_cast<size_t>(std::floor(rank));
  const size_t high = std::min(low + 1, values.size() - 1);
  return values[low] + (values[high] - values[low]) * (rank - static_cast<double>(low));
}

namespace {

double Round1(double x) {
  return std::round(x * 10) / 10;
}

double Days(TimePoint from, TimePoint to) {
  return duration<double>(to - from).count() / 86400.0;
}

json Share(int64_t part, int64_t whole) {
  return whole == 0 ? json(nullptr)
                    : json(Round1(100.0 * static_cast<double>(part) / static_cast<double>(whole)));
}

// Median and 90th percentile of a set of delays, or nulls when there are too few to say anything.
json Delays(std::vector<double>& days) {
  json out = {{"count", days.size()}, {"median_days", nullptr}, {"p90_days", nullptr}};
  if (static_cast<int>(days.size()) >= kMinGrievancesForFigures) {
    out["median_days"] = Round1(Percentile(days, 0.5));
    out["p90_days"] = Round1(Percentile(days, 0.9));
  }
  return out;
}

struct CategoryFigures {
  std::string code, name;
  int sla_days = 0;
  int64_t received = 0, resolved = 0, within_sla = 0, open = 0;
  std::vector<double> acknowledge, resolve;
};

struct Overdue {
  double days_overdue;
  int64_t id;
  bool operator>(const Overdue& o) const { return days_overdue > o.days_overdue; }
};

struct Counter {
  std::string label;
  int64_t count = 0;
};

json TopCounts(std::unordered_map<std::string, Counter>& counts, size_t limit, const char* label_key) {
  std::vector<Counter> list;
  for (auto& [key, c] : counts) list.push_back(c);
  std::sort(list.begin(), list.end(), [](const Counter& a, const Counter& b) {
    return a.count != b.count ? a.count > b.count : a.label < b.label;
  });
  if (list.size() > limit) list.resize(limit);
  json out = json::array();
  for (const Counter& c : list) out.push_back({{label_key, c.label}, {"received", c.count}});
  return out;
}

}  // namespace

json GrievanceStats(Db& db, const GrievanceFilter& filter) {
  const Town town = GetTown(db);
  const TimeZone zone = TimeZone::Load(town.identity.timezone);
  const GrievanceQuery period = BuildGrievanceQuery(db, filter);
  // Everything received before the end of the period: the backlog and open ages look further back.
  GrievanceFilter until_end = filter;
  until_end.from.clear();
  until_end.overdue = false;
  until_end.limit = 0;
  const GrievanceQuery q = BuildGrievanceQuery(db, until_end);

  const TimePoint now = Now();
  const TimePoint as_of = period.to_utc.empty() ? now : std::min(now, ParseIso(period.to_utc));
  const std::string as_of_iso = FormatIso(as_of);

  std::map<std::string, CategoryFigures> categories;  // by code: the output's order
  std::unordered_map<int64_t, CategoryFigures*> category_by_id;
  {
    SQLite::Statement all(db.sql(), "SELECT id, code, name, sla_days FROM grievance_category");
    while (all.executeStep()) {
      CategoryFigures& c = categories[all.getColumn(1).getString()];
      c.code = all.getColumn(1).getString();
      c.name = all.getColumn(2).getString();
      c.sla_days = all.getColumn(3).getInt();
      category_by_id[all.getColumn(0).getInt64()] = &c;
    }
  }
  // A million rows go through this loop: integer keys, no string built per row where it can be helped.
  std::unordered_map<std::string, int64_t> streets;     // as written; merged by Fold() at the end
  std::unordered_map<int64_t, int64_t> neighbourhoods;  // id (0: none) → received
  std::map<int, std::pair<int64_t, int64_t>> months;    // year * 12 + month - 1 → received, resolved
  std::unordered_set<int64_t> member_reporters;
  std::unordered_set<std::string> contact_reporters;
  std::priority_queue<Overdue, std::vector<Overdue>, std::greater<Overdue>> most_overdue;
  int64_t received = 0, open = 0, resolved = 0, closed = 0, backlog = 0, anonymous = 0, reopened = 0,
          duplicates = 0, under_4_weeks = 0, over_4_weeks = 0, stale = 0, overdue = 0, resolved_total = 0,
          within_total = 0;
  auto month_of = [&zone](TimePoint t) {
    const LocalTime l = zone.ToLocal(t);
    return l.year * 12 + l.month - 1;
  };
  const std::string_view as_of_view = as_of_iso;
  const std::string_view from_view = period.from_utc;

  SQLite::Statement rows(db.sql(), fmt::format(R"sql(
    SELECT g.id, g.category_id, coalesce(g.neighbourhood_id, 0), g.status, g.created_at,
           coalesce(g.acknowledged_at, ''), coalesce(g.resolved_at, ''), coalesce(g.closed_at, ''), g.updated_at,
           g.reopened, coalesce(g.reporter_id, 0), g.contact_email, g.contact_phone, g.address, g.expected_on
    FROM grievance g JOIN grievance_category c ON c.id = g.category_id {})sql",
                                               q.where));
  for (size_t i = 0; i < q.params.size(); ++i) rows.bind(static_cast<int>(i + 1), q.params[i]);
  auto text = [&rows](int column) { return std::string_view(rows.getColumn(column).getText()); };
  while (rows.executeStep()) {
    const std::string_view status = text(3);
    const std::string_view created_iso = text(4);
    const std::string_view closed_iso = text(7);
    const TimePoint created = ParseIso(created_iso);
    CategoryFigures& category = *category_by_id.at(rows.getColumn(1).getInt64());
    const bool is_open = IsOpenStatus(status);
    // Open at the end of the period: not closed then (closed later, or not at all). The backlog, the ages
    // and the overdue list describe that moment, so last month's report says what was late last month.
    const bool open_at_end = status != "hidden" && (closed_iso.empty() || closed_iso > as_of_view);
    if (open_at_end) {
      ++backlog;
      ++category.open;
      const double age = Days(created, as_of);
      (age < 28 ? under_4_weeks : over_4_weeks)++;
      if (is_open && Days(ParseIso(text(8)), as_of) > 56) ++stale;
      const std::string_view expected = text(14);
      const double late = expected.empty() ? age - category.sla_days : Days(ParseIso(expected), as_of) - 1;
      if (late > 0) {
        ++overdue;
        most_overdue.push({late, rows.getColumn(0).getInt64()});
        if (most_overdue.size() > static_cast<size_t>(kOverdueListed)) most_overdue.pop();
      }
    }
    const std::string_view resolved_iso = text(6);
    if (!resolved_iso.empty() && (from_view.empty() || resolved_iso >= from_view) &&
        resolved_iso < as_of_view)
      ++months[month_of(ParseIso(resolved_iso))].second;
    if (!from_view.empty() && created_iso < from_view) continue;

    // Received in the period.
    ++received;
    ++category.received;
    ++months[month_of(created)].first;
    if (is_open)
      ++open;
    else if (status == "resolved")
      ++resolved;
    else if (status != "hidden")
      ++closed;
    if (status == "duplicate") ++duplicates;
    if (rows.getColumn(9).getInt() > 0) ++reopened;
    if (const std::string_view ack = text(5); !ack.empty())
      category.acknowledge.push_back(Days(created, ParseIso(ack)));
    if (!resolved_iso.empty()) {
      const double days = Days(created, ParseIso(resolved_iso));
      category.resolve.push_back(days);
      ++category.resolved;
      ++resolved_total;
      if (days <= category.sla_days) {
        ++category.within_sla;
        ++within_total;
      }
    }
    if (const int64_t reporter = rows.getColumn(10).getInt64(); reporter != 0) {
      member_reporters.insert(reporter);
    } else if (const std::string_view email = text(11); !email.empty()) {
      contact_reporters.insert("e" + Fold(email));
    } else if (const std::string_view phone = text(12); !phone.empty()) {
      contact_reporters.insert("p" + std::string(phone));
    } else {
      ++anonymous;
    }
    if (const std::string_view address = text(13); !address.empty()) ++streets[std::string(address)];
    ++neighbourhoods[rows.getColumn(2).getInt64()];
  }

  // The busiest streets: addresses reduced to their street, spellings merged by Fold(), shown in their most
  // frequent spelling.
  std::unordered_map<std::string, Counter> street_counts;
  std::unordered_map<std::string, int64_t> spelling_counts;
  for (const auto& [address, count] : streets) spelling_counts[StreetOf(address)] += count;
  std::unordered_map<std::string, int64_t> best_spelling;
  for (const auto& [street, count] : spelling_counts) {
    if (street.empty()) continue;
    const std::string key = Fold(street);
    Counter& c = street_counts[key];
    int64_t& best = best_spelling[key];
    if (count > best || (count == best && street < c.label)) {
      c.label = street;
      best = count;
    }
    c.count += count;
  }
  std::unordered_map<std::string, Counter> neighbourhood_counts;
  {
    SQLite::Statement names(db.sql(), "SELECT id, slug, name FROM neighbourhood");
    std::unordered_map<int64_t, std::pair<std::string, std::string>> by_id;
    while (names.executeStep())
      by_id[names.getColumn(0).getInt64()] = {names.getColumn(1).getString(), names.getColumn(2).getString()};
    for (const auto& [id, count] : neighbourhoods) {
      auto it = by_id.find(id);
      Counter& c = neighbourhood_counts[it == by_id.end() ? "" : it->second.first];
      c.label = it == by_id.end() ? "" : it->second.second;
      c.count += count;
    }
  }

  json out;
  out["town"] = town.identity.name;
  out["generated_at"] = NowIso();
  out["period"] = {{"from", filter.from.empty() ? json(nullptr) : json(filter.from)},
                   {"to", filter.to.empty() ? json(nullptr) : json(filter.to)},
                   {"as_of", as_of_iso}};
  out["filters"] = {
      {"neighbourhood", filter.neighbourhood.empty() ? json(nullptr) : json(filter.neighbourhood)},
      {"category", filter.category.empty() ? json(nullptr) : json(filter.category)},
      {"statuses", filter.statuses},
      {"public_only", filter.public_only}};
  out["received"] = received;
  out["open"] = open;
  out["resolved"] = resolved;
  out["closed"] = closed;
  out["backlog_at_end"] = backlog;
  out["open_age"] = {
      {"under_4_weeks", under_4_weeks}, {"over_4_weeks", over_4_weeks}, {"no_update_8_weeks", stale}};
  out["within_sla"] = {
      {"resolved", resolved_total}, {"within", within_total}, {"share", Share(within_total, resolved_total)}};

  json per_category = json::array();
  std::vector<const CategoryFigures*> by_received;
  for (auto& [code, c] : categories) {
    if (c.received == 0 && c.open == 0) continue;
    by_received.push_back(&c);
  }
  std::stable_sort(
      by_received.begin(), by_received.end(),
      [](const CategoryFigures* a, const CategoryFigures* b) { return a->received > b->received; });
  for (const CategoryFigures* cp : by_received) {
    CategoryFigures& c = categories[cp->code];
    per_category.push_back(
        {{"code", c.code},
         {"name", c.name},
         {"sla_days", c.sla_days},
         {"received", c.received},
         {"share", Share(c.received, received)},
         {"open_at_end", c.open},
         {"resolved", c.resolved},
         {"acknowledge", Delays(c.acknowledge)},
         {"resolve", Delays(c.resolve)},
         {"within_sla",
          {{"count", c.within_sla},
           {"share",
            c.resolved >= kMinGrievancesForFigures ? Share(c.within_sla, c.resolved) : json(nullptr)}}}});
  }
  out["categories"] = per_category;
  json top = json::array();
  for (size_t i = 0; i < per_category.size() && i < 5; ++i)
    if (per_category[i]["received"].get<int64_t>() > 0)
      top.push_back({{"code", per_category[i]["code"]},
                     {"name", per_category[i]["name"]},
                     {"received", per_category[i]["received"]},
                     {"share", per_category[i]["share"]}});
  out["top_categories"] = top;
  out["streets"] = TopCounts(street_counts, 10, "street");
  json hoods = TopCounts(neighbourhood_counts, neighbourhood_counts.size(), "name");
  for (json& h : hoods)
    if (h["name"] == "") h["name"] = nullptr;  // outside every neighbourhood
  out["neighbourhoods"] = hoods;
  out["unique_reporters"] = member_reporters.size() + contact_reporters.size();
  out["anonymous"] = anonymous;
  out["reopened"] = reopened;
  out["reopened_rate"] = Share(reopened, received);
  out["duplicates"] = duplicates;
  out["duplicate_rate"] = Share(duplicates, received);

  // Every month from the first to the last, empty ones included: the charts' time axis has no gaps.
  json month_list = json::array();
  if (!months.empty()) {
    for (int key = months.begin()->first; key <= months.rbegin()->first; ++key) {
      auto it = months.find(key);
      month_list.push_back({{"month", fmt::format("{:04}-{:02}", key / 12, key % 12 + 1)},
                            {"received", it == months.end() ? 0 : it->second.first},
                            {"resolved", it == months.end() ? 0 : it->second.second}});
    }
  }
  out["months"] = month_list;

  // The most overdue first, with what a clerk needs to chase them.
  std::vector<Overdue> late;
  while (!most_overdue.empty()) {
    late.push_back(most_overdue.top());
    most_overdue.pop();
  }
  std::reverse(late.begin(), late.end());
  json overdue_list = json::array();
  SQLite::Statement detail(db.sql(), R"sql(
    SELECT g.reference, c.code, c.name, g.title, g.status, g.created_at, g.expected_on, coalesce(n.name, ''),
           g.address, g.service
    FROM grievance g JOIN grievance_category c ON c.id = g.category_id
    LEFT JOIN neighbourhood n ON n.id = g.neighbourhood_id WHERE g.id = ?)sql");
  for (const Overdue& o : late) {
    detail.reset();
    detail.bind(1, o.id);
    if (!detail.executeStep()) continue;
    overdue_list.push_back(
        {{"reference", detail.getColumn(0).getString()},
         {"category", detail.getColumn(1).getString()},
         {"category_name", detail.getColumn(2).getString()},
         {"title", detail.getColumn(3).getString()},
         {"status", detail.getColumn(4).getString()},
         {"created_at", detail.getColumn(5).getString()},
         {"expected_on", detail.getColumn(6).getString()},
         {"neighbourhood", detail.getColumn(7).isNull() || detail.getColumn(7).getString().empty()
                               ? json(nullptr)
                               : json(detail.getColumn(7).getString())},
         {"address", detail.getColumn(8).getString()},
         {"service", detail.getColumn(9).getString()},
         {"days_open", Round1(Days(ParseIso(detail.getColumn(5).getString()), as_of))},
         {"days_overdue", Round1(o.days_overdue)}});
  }
  out["overdue_count"] = overdue;
  out["overdue"] = overdue_list;
  return out;
}

}  // namespace voisinage
