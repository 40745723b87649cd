#include "lib/town/town_apply.h"

#include <algorithm>
#include <map>
#include <set>

#include "lib/clock.h"
#include "lib/privacy/retention.h"
#include "lib/store/audit_log.h"
#include "lib/town/member.h"
#include "lib/town/neighbourhood.h"
#include "lib/town/town.h"

namespace voisinage {

using nlohmann::json;

const std::vector<std::string>& TownFileSections() {
  static const std::vector<std::string> sections = {"town",       "neighbourhoods", "grievance_categories",
                                                    "moderation", "staff",          "retention"};
  return sections;
}

size_t TownDiff::Count(const std::string& section, const std::string& kind) const {
  return std::count_if(changes.begin(), changes.end(),
                       [&](const TownChange& c) { return c.section == section && c.kind == kind; });
}

namespace {

std::string Quote(const std::string& s) {
  return "'" + s + "'";
}
std::string Quote(const std::vector<std::string>& list) {
  return "[" + fmt::format("{}", fmt::join(list, ", ")) + "]";
}
std::string Quote(double value) {
  return fmt::format("{}", value);
}
std::string Quote(int value) {
  return fmt::format("{}", value);
}
std::string Quote(bool value) {
  return value ? "true" : "false";
}

// Collects "field: old → new" for each field that differs.
class FieldDiff {
 public:
  template <typename T>
  FieldDiff& Field(const std::string& name, const T& before, const T& after) {
    if (!(before == after)) details_.push_back(fmt::format("{}: {} → {}", name, Quote(before), Quote(after)));
    return *this;
  }
  template <typename T>
  FieldDiff& Field(const std::string& name, const std::optional<T>& before, const std::optional<T>& after) {
    if (before != after)
      details_.push_back(
          fmt::format("{}: {} → {}", name, before ? Quote(*before) : "none", after ? Quote(*after) : "none"));
    return *this;
  }
  FieldDiff& Note(const std::string& note) {
    details_.push_back(note);
    return *this;
  }
  std::vector<std::string> details() const { return details_; }
  bool empty() const { return details_.empty(); }

 private:
  std::vector<std::string> details_;
};

class TownFileApplier {
 public:
  TownFileApplier(Db& db, const TownFile& file) : db_(db), file_(file) {}

  TownDiff Apply() {
    ApplyTown();
    ApplyNeighbourhoods();
    ApplyCategories();
    ApplyWordRules();
    ApplyStaff();
    ApplyRetention();
    return diff_;
  }

 private:
  void Record(const std::string& section, const std::string& kind, const std::string& key,
              std::vector<std::string> details = {}) {
    diff_.changes.push_back({section, kind, key, std::move(details)});
  }

  void ApplyTown() {
    std::optional<Town> current = FindTown(db_);
    Town wanted = current.value_or(Town{});
    wanted.identity = file_.town;
    wanted.auto_hide_score = file_.auto_hide_score;
    wanted.auto_hide_reporters = file_.auto_hide_reporters;
    if (!current) {
      Record("town", "added", file_.town.name,
             {fmt::format("INSEE {}, {}", file_.town.insee, file_.town.timezone)});
      if (wanted.auto_hide_score || wanted.auto_hide_reporters)
        Record("moderation", "added", "auto_hide",
               {fmt::format("score {}, reporters {}",
                            wanted.auto_hide_score ? Quote(*wanted.auto_hide_score) : "none",
                            wanted.auto_hide_reporters ? Quote(*wanted.auto_hide_reporters) : "none")});
      WriteTown(db_, wanted);
      return;
    }
    const TownIdentity& was = current->identity;
    FieldDiff town;
    town.Field("name", was.name, wanted.identity.name)
        .Field("insee", was.insee, wanted.identity.insee)
        .Field("postcodes", was.postcodes, wanted.identity.postcodes)
        .Field("timezone", was.timezone, wanted.identity.timezone)
        .Field("url", was.url, wanted.identity.url);
    if (!town.empty()) Record("town", "changed", file_.town.name, town.details());
    FieldDiff moderation;
    moderation.Field("auto_hide.score", current->auto_hide_score, wanted.auto_hide_score)
        .Field("auto_hide.reporters", current->auto_hide_reporters, wanted.auto_hide_reporters);
    if (!moderation.empty()) Record("moderation", "changed", "auto_hide", moderation.details());
    if (!town.empty() || !moderation.empty()) WriteTown(db_, wanted);
  }

  void ApplyNeighbourhoods() {
    std::set<std::string> listed;
    for (const NeighbourhoodSpec& spec : file_.neighbourhoods) {
      listed.insert(spec.slug);
      std::optional<Neighbourhood> current = FindNeighbourhoodBySlug(db_, spec.slug);
      if (!current) {
        InsertNeighbourhood(db_, {spec.slug, spec.name, spec.postcodes, spec.area, true});
        Record("neighbourhoods", "added", spec.slug, {spec.name});
        continue;
      }
      if (!current->merged_into.empty())
        throw Error(fmt::format("'{}': line {}: neighbourhood '{}' was merged into '{}'", file_.path,
                                spec.line, spec.slug, current->merged_into),
                    "remove it from the town file (its slug is kept as an alias)");
      FieldDiff fields;
      fields.Field("name", current->name, spec.name).Field("postcodes", current->postcodes, spec.postcodes);
      const std::string polygon_before = current->area ? current->area->ToGeoJson().dump() : "";
      const std::string polygon_after = spec.area ? spec.area->ToGeoJson().dump() : "";
      if (polygon_before != polygon_after)
        fields.Note(polygon_before.empty()  ? "polygon added"
                    : polygon_after.empty() ? "polygon removed"
                                            : "polygon changed");
      if (!current->archived_at.empty()) fields.Note("restored from the archive");
      if (!current->from_town_file) fields.Note("now managed by the town file");
      if (fields.empty()) continue;
      SQLite::Statement update(db_.sql(),
                               "UPDATE neighbourhood SET name = ?, archived_at = NULL, from_town_file = 1, "
                               "updated_at = ? WHERE id = ?");
      update.bind(1, spec.name);
      update.bind(2, NowIso());
      update.bind(3, current->id);
      update.exec();
      WriteNeighbourhoodPostcodes(db_, current->id, spec.postcodes);
      if (polygon_before != polygon_after) WriteNeighbourhoodArea(db_, current->id, spec.area);
      Record("neighbourhoods", "changed", spec.slug, fields.details());
    }
    for (const Neighbourhood& n : ListNeighbourhoods(db_, false)) {
      if (!n.from_town_file || listed.count(n.slug)) continue;
      SQLite::Statement archive(db_.sql(),
                                "UPDATE neighbourhood SET archived_at = ?1, updated_at = ?1 WHERE id = ?2");
      archive.bind(1, NowIso());
      archive.bind(2, n.id);
      archive.exec();
      Record("neighbourhoods", "archived", n.slug, {"no longer in the town file"});
    }
  }

  void ApplyCategories() {
    struct Current {
      int64_t id;
      CategorySpec spec;
    };
    std::map<std::string, Current> current;
    SQLite::Statement query(db_.sql(),
                            "SELECT id, code, name, grp, service, sla_days, active FROM grievance_category");
    while (query.executeStep())
      current[query.getColumn(1).getString()] = {
          query.getColumn(0).getInt64(),
          {query.getColumn(1).getString(), query.getColumn(2).getString(), query.getColumn(3).getString(),
           query.getColumn(4).getString(), query.getColumn(5).getInt(), query.getColumn(6).getInt() != 0, 0}};
    const std::string now = NowIso();
    SQLite::Statement upsert(db_.sql(), R"sql(
      INSERT INTO grievance_category (code, name, grp, service, sla_days, active, created_at, updated_at)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
      ON CONFLICT (code) DO UPDATE SET name = ?2, grp = ?3, service = ?4, sla_days = ?5, active = ?6,
        updated_at = ?7)sql");
    auto write = [&](const CategorySpec& spec) {
      upsert.bind(1, spec.code);
      upsert.bind(2, spec.name);
      upsert.bind(3, spec.group);
      upsert.bind(4, spec.service);
      upsert.bind(5, spec.sla_days);
      upsert.bind(6, spec.active ? 1 : 0);
      upsert.bind(7, now);
      upsert.exec();
      upsert.reset();
    };
    for (const CategorySpec& spec : file_.categories) {
      auto it = current.find(spec.code);
      if (it == current.end()) {
        write(spec);
        Record("grievance_categories", "added", spec.code, {spec.name});
        continue;
      }
      const CategorySpec& was = it->second.spec;
      FieldDiff fields;
      fields.Field("name", was.name, spec.name)
          .Field("group", was.group, spec.group)
          .Field("service", was.service, spec.service)
          .Field("sla_days", was.sla_days, spec.sla_days)
          .Field("active", was.active, spec.active);
      current.erase(it);
      if (fields.empty()) continue;
      write(spec);
      Record("grievance_categories", "changed", spec.code, fields.details());
    }
    // Categories are never deleted: grievances keep pointing at them.
    for (auto& [code, left] : current) {
      if (!left.spec.active) continue;
      left.spec.active = false;
      write(left.spec);
      Record("grievance_categories", "archived", code, {"no longer in the town file: deactivated"});
    }
  }

  void ApplyWordRules() {
    std::map<std::string, std::pair<std::string, bool>> current;  // pattern → action, from town file
    SQLite::Statement query(db_.sql(), "SELECT pattern, action, from_town_file FROM word_rule");
    while (query.executeStep())
      current[query.getColumn(0).getString()] = {query.getColumn(1).getString(),
                                                 query.getColumn(2).getInt() != 0};
    SQLite::Statement upsert(db_.sql(), R"sql(
      INSERT INTO word_rule (pattern, action, from_town_file, created_at) VALUES (?1, ?2, 1, ?3)
      ON CONFLICT (pattern) DO UPDATE SET action = ?2, from_town_file = 1)sql");
    for (const WordRuleSpec& spec : file_.word_rules) {
      auto it = current.find(spec.pattern);
      std::vector<std::string> details;
      if (it != current.end()) {
        FieldDiff fields;
        fields.Field("action", it->second.first, spec.action);
        if (!it->second.second) fields.Note("now managed by the town file");
        details = fields.details();
        current.erase(it);
        if (details.empty()) continue;
      }
      upsert.bind(1, spec.pattern);
      upsert.bind(2, spec.action);
      upsert.bind(3, NowIso());
      upsert.exec();
      upsert.reset();
      if (details.empty())
        Record("moderation", "added", "word rule " + Quote(spec.pattern), {spec.action});
      else
        Record("moderation", "changed", "word rule " + Quote(spec.pattern), details);
    }
    SQLite::Statement remove(db_.sql(), "DELETE FROM word_rule WHERE pattern = ?");
    for (const auto& [pattern, state] : current) {
      if (!state.second) continue;
      remove.bind(1, pattern);
      remove.exec();
      remove.reset();
      Record("moderation", "removed", "word rule " + Quote(pattern), {"no longer in the town file"});
    }
  }

  void ApplyStaff() {
    std::set<std::string> listed;
    for (const StaffSpec& spec : file_.staff) {
      std::string key = spec.email;
      std::transform(key.begin(), key.end(), key.begin(), ::tolower);
      listed.insert(key);
      SQLite::Statement find(db_.sql(), "SELECT id FROM member WHERE email = ? COLLATE NOCASE");
      find.bind(1, spec.email);
      if (!find.executeStep()) {
        InsertMember(db_, {spec.name, spec.email, spec.role, "", true});
        Record("staff", "added", spec.email, {fmt::format("{} ({})", spec.name, spec.role)});
        continue;
      }
      Member member = FindMember(db_, std::to_string(find.getColumn(0).getInt64()));
      FieldDiff fields;
      fields.Field("name", member.display_name, spec.name).Field("role", member.role, spec.role);
      if (!member.removed_at.empty()) fields.Note("restored");
      if (!member.from_town_file) fields.Note("now managed by the town file");
      if (fields.empty()) continue;
      SQLite::Statement update(
          db_.sql(),
          "UPDATE member SET display_name = ?, role = ?, from_town_file = 1, removed_at = NULL, "
          "updated_at = ? WHERE id = ?");
      update.bind(1, spec.name);
      update.bind(2, spec.role);
      update.bind(3, NowIso());
      update.bind(4, member.id);
      update.exec();
      Record("staff", "changed", spec.email, fields.details());
    }
    for (const Member& member : ListMembers(db_, {})) {
      std::string key = member.email;
      std::transform(key.begin(), key.end(), key.begin(), ::tolower);
      if (!member.from_town_file || listed.count(key)) continue;
      SQLite::Statement demote(
          db_.sql(), "UPDATE member SET role = 'resident', from_town_file = 0, updated_at = ? WHERE id = ?");
      demote.bind(1, NowIso());
      demote.bind(2, member.id);
      demote.exec();
      Record("staff", "archived", member.email,
             {fmt::format("no longer in the town file: role {} → resident", member.role)});
    }
  }

  // Each key the file gives is stored; a key it no longer gives goes back to its default.
  void ApplyRetention() {
    const std::map<std::string, int> stored = StoredRetention(db_);
    auto describe = [](const std::map<std::string, int>& values, const RetentionKey& key) {
      auto it = values.find(key.name);
      return it == values.end() ? fmt::format("{} {} (default)", key.default_value(), key.unit)
                                : fmt::format("{} {}", it->second, key.unit);
    };
    bool changed = false;
    for (const RetentionKey& key : RetentionKeys()) {
      const std::string before = describe(stored, key), after = describe(file_.retention, key);
      if (before == after) continue;
      Record("retention", "changed", key.name, {fmt::format("{} → {}", before, after)});
      changed = true;
    }
    if (changed) WriteRetention(db_, file_.retention);
  }

  Db& db_;
  const TownFile& file_;
  TownDiff diff_;
};

}  // namespace

TownDiff ApplyTownFile(Db& db, const TownFile& file, bool dry_run) {
  auto transaction = db.Write();
  TownDiff diff = TownFileApplier(db, file).Apply();
  diff.dry_run = dry_run;
  if (!diff.empty())
    AppendAudit(db, "cli", "town.apply", "town", "",
                {{"file", file.path}, {"changes", ToJson(diff)["summary"]}});
  if (!dry_run) transaction.commit();  // a dry run rolls back exactly what a real run would have written
  std::stable_sort(diff.changes.begin(), diff.changes.end(), [](const TownChange& a, const TownChange& b) {
    const auto& order = TownFileSections();
    return std::find(order.begin(), order.end(), a.section) <
           std::find(order.begin(), order.end(), b.section);
  });
  return diff;
}

json ToJson(const TownDiff& diff) {
  json changes = json::array();
  for (const TownChange& c : diff.changes)
    changes.push_back({{"section", c.section}, {"kind", c.kind}, {"key", c.key}, {"details", c.details}});
  json summary = json::object();
  for (const std::string& section : TownFileSections())
    summary[section] = {{"added", diff.Count(section, "added")},
                        {"changed", diff.Count(section, "changed")},
                        {"archived", diff.Count(section, "archived") + diff.Count(section, "removed")}};
  return {{"dry_run", diff.dry_run}, {"changed", !diff.empty()}, {"summary", summary}, {"changes", changes}};
}

}  // namespace voisinage
