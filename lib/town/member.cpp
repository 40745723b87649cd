#include "lib/town/member.h"

#include <charconv>

#include "lib/clock.h"
#include "lib/store/audit_log.h"
#include "lib/town/neighbourhood.h"
#include "lib/town/validation.h"

namespace voisinage {

using nlohmann::json;

namespace {

const char* const kSelectMember = R"sql(
  SELECT m.id, m.display_name, coalesce(m.email, ''), m.role, coalesce(n.slug, ''), m.from_town_file,
         m.created_at, m.updated_at, coalesce(m.removed_at, '')
  FROM member m LEFT JOIN neighbourhood n ON n.id = m.neighbourhood_id)sql";

Member ReadMember(SQLite::Statement& row) {
  Member m;
  m.id = row.getColumn(0).getInt64();
  m.display_name = row.getColumn(1).getString();
  m.email = row.getColumn(2).getString();
  m.role = row.getColumn(3).getString();
  m.neighbourhood = row.getColumn(4).getString();
  m.from_town_file = row.getColumn(5).getInt() != 0;
  m.created_at = row.getColumn(6).getString();
  m.updated_at = row.getColumn(7).getString();
  m.removed_at = row.getColumn(8).getString();
  return m;
}

Member FindById(Db& db, int64_t id) {
  CachedStatement query = db.Prepare(std::string(kSelectMember) + " WHERE m.id = ?");
  query->bind(1, id);
  if (!query->executeStep())
    throw NotFoundError(fmt::format("unknown member '#{}'", id), "list them with 'voisinage member list'");
  return ReadMember(*query);
}

}  // namespace

Member InsertMember(Db& db, const NewMember& member) {
  ValidateName("display name", member.display_name);
  ValidateRole(member.role);
  if (!member.email.empty()) {
    ValidateEmail(member.email);
    SQLite::Statement taken(db.sql(), "SELECT id FROM member WHERE email = ? COLLATE NOCASE");
    taken.bind(1, member.email);
    if (taken.executeStep())
      throw Error(fmt::format("a member with e-mail '{}' already exists (#{})", member.email,
                              taken.getColumn(0).getInt64()));
  }
  std::optional<int64_t> neighbourhood_id;
  if (!member.neighbourhood.empty())
    neighbourhood_id = ResolveActiveNeighbourhood(db, member.neighbourhood).id;
  const std::string now = NowIso();
  SQLite::Statement insert(db.sql(), R"sql(
    INSERT INTO member (display_name, email, role, neighbourhood_id, from_town_file, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?))sql");
  insert.bind(1, member.display_name);
  if (!member.email.empty()) insert.bind(2, member.email);
  insert.bind(3, member.role);
  if (neighbourhood_id) insert.bind(4, *neighbourhood_id);
  insert.bind(5, member.from_town_file ? 1 : 0);
  insert.bind(6, now);
  insert.bind(7, now);
  insert.exec();
  return FindById(db, db.sql().getLastInsertRowid());
}

Member AddMember(Db& db, const NewMember& member) {
  auto transaction = db.Write();
  Member added = InsertMember(db, member);
  transaction.commit();
  return added;
}

std::vector<Member> ListMembers(Db& db, const MemberFilter& filter) {
  std::string sql = std::string(kSelectMember) + " WHERE 1";
  if (!filter.include_removed) sql += " AND m.removed_at IS NULL";
  if (!filter.role.empty()) {
    ValidateRole(filter.role);
    sql += " AND m.role = :role";
  }
  std::optional<int64_t> neighbourhood_id;
  if (!filter.neighbourhood.empty()) {
    neighbourhood_id = ResolveNeighbourhood(db, filter.neighbourhood).id;
    sql += " AND m.neighbourhood_id = :neighbourhood";
  }
  sql += " ORDER BY m.id";
  SQLite::Statement query(db.sql(), sql);
  if (!filter.role.empty()) query.bind(":role", filter.role);
  if (neighbourhood_id) query.bind(":neighbourhood", *neighbourhood_id);
  std::vector<Member> members;
  while (query.executeStep()) members.push_back(ReadMember(query));
  return members;
}

Member FindMember(Db& db, const std::string& ref) {
  std::string_view digits = ref;
  if (digits.starts_with('#')) digits.remove_prefix(1);
  int64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size()) return FindById(db, id);
  CachedStatement query = db.Prepare(std::string(kSelectMember) + " WHERE m.email = ? COLLATE NOCASE");
  query->bind(1, ref);
  if (!query->executeStep())
    throw NotFoundError(fmt::format("unknown member '{}'", ref),
                        "give a member id or e-mail; see 'voisinage member list'");
  return ReadMember(*query);
}

Member SetMemberRole(Db& db, const std::string& ref, const std::string& role) {
  ValidateRole(role);
  auto transaction = db.Write();
  Member member = FindMember(db, ref);
  if (!member.removed_at.empty()) throw Error(fmt::format("member '#{}' has been removed", member.id));
  SQLite::Statement update(db.sql(), "UPDATE member SET role = ?, updated_at = ? WHERE id = ?");
  update.bind(1, role);
  update.bind(2, NowIso());
  update.bind(3, member.id);
  update.exec();
  AppendAudit(db, "cli", "member.role", fmt::format("member:{}", member.id), "",
              {{"before", member.role}, {"after", role}});
  transaction.commit();
  return FindById(db, member.id);
}

Member RemoveMember(Db& db, const std::string& ref) {
  auto transaction = db.Write();
  Member member = FindMember(db, ref);
  if (!member.removed_at.empty())
    throw Error(fmt::format("member '#{}' was already removed on {}", member.id, member.removed_at));
  SQLite::Statement update(db.sql(), "UPDATE member SET removed_at = ?1, updated_at = ?1 WHERE id = ?2");
  update.bind(1, NowIso());
  update.bind(2, member.id);
  update.exec();
  AppendAudit(db, "cli", "member.remove", fmt::format("member:{}", member.id), "", {});
  transaction.commit();
  return FindById(db, member.id);
}

json ToJson(const Member& m) {
  auto optional = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  return {{"id", m.id},
          {"display_name", m.display_name},
          {"email", optional(m.email)},
          {"role", m.role},
          {"neighbourhood", optional(m.neighbourhood)},
          {"from_town_file", m.from_town_file},
          {"created_at", m.created_at},
          {"updated_at", m.updated_at},
          {"removed_at", optional(m.removed_at)}};
}

}  // namespace voisinage
