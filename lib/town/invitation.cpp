#include "lib/town/invitation.h"

#include "lib/clock.h"
#include "lib/render/template.h"
#include "lib/store/audit_log.h"
#include "lib/store/secret.h"
#include "lib/text/csv_writer.h"
#include "lib/town/neighbourhood.h"
#include "lib/town/town.h"
#include "lib/town/validation.h"

namespace voisinage {

using nlohmann::json;

namespace {

std::string RandomCode() {
  const std::string letters = RandomString(kInvitationAlphabet, 8);
  return letters.substr(0, 4) + "-" + letters.substr(4);
}

const char* const kSelectInvitation = R"sql(
  SELECT i.id, n.slug, i.created_at, i.expires_at,
         CASE WHEN i.used_at IS NOT NULL THEN 'used' WHEN i.revoked_at IS NOT NULL THEN 'revoked'
              WHEN i.expires_at <= :now THEN 'expired' ELSE 'unused' END AS status,
         coalesce(i.used_at, ''), coalesce(i.used_by, 0)
  FROM invitation i JOIN neighbourhood n ON n.id = i.neighbourhood_id)sql";

Invitation ReadInvitation(SQLite::Statement& row) {
  return {row.getColumn(0).getInt64(),  row.getColumn(1).getString(), row.getColumn(2).getString(),
          row.getColumn(3).getString(), row.getColumn(4).getString(), row.getColumn(5).getString(),
          row.getColumn(6).getInt64()};
}

}  // namespace

std::string NormaliseInvitationCode(const std::string& code) {
  std::string out;
  for (char c : code) {
    if (c == ' ' || c == '-' || c == '\t') continue;
    out += (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c;
  }
  return out;
}

std::vector<NewInvitation> CreateInvitations(
    Db& db, const std::string& neighbourhood, int count, std::chrono::seconds valid_for,
    const std::function<void(const std::vector<NewInvitation>&)>& deliver) {
  if (count < 1 || count > 1000)
    throw Error(fmt::format("cannot create {} invitations: give 1 to 1000", count));
  auto transaction = db.Write();
  Neighbourhood n = ResolveActiveNeighbourhood(db, neighbourhood);
  const TimePoint now = Now();
  const std::string expires_at = FormatIso(now + valid_for);
  SQLite::Statement insert(
      db.sql(),
      "INSERT OR IGNORE INTO invitation (neighbourhood_id, code_hash, created_at, expires_at) "
      "VALUES (?, ?, ?, ?)");
  std::vector<NewInvitation> created;
  while (static_cast<int>(created.size()) < count) {
    std::string code = RandomCode();
    insert.bind(1, n.id);
    insert.bind(2, KeyedHash(db, NormaliseInvitationCode(code)));
    insert.bind(3, FormatIso(now));
    insert.bind(4, expires_at);
    bool inserted = insert.exec() == 1;  // a collision with an existing code is simply drawn again
    insert.reset();
    if (inserted) created.push_back({db.sql().getLastInsertRowid(), code, n.slug, n.name, expires_at});
  }
  deliver(created);
  transaction.commit();
  return created;
}

std::vector<Invitation> ListInvitations(Db& db, const InvitationFilter& filter) {
  std::string sql = std::string("SELECT * FROM (") + kSelectInvitation + ") WHERE 1";
  if (!filter.neighbourhood.empty()) sql += " AND slug = :slug";
  if (!filter.status.empty()) {
    if (filter.status != "unused" && filter.status != "used" && filter.status != "expired" &&
        filter.status != "revoked")
      throw Error(fmt::format("unknown invitation status '{}'", filter.status),
                  "statuses: unused, used, expired, revoked");
    sql += " AND status = :status";
  }
  sql += " ORDER BY id";
  std::string slug;
  if (!filter.neighbourhood.empty()) slug = ResolveNeighbourhood(db, filter.neighbourhood).slug;
  SQLite::Statement query(db.sql(), sql);
  query.bind(":now", NowIso());
  if (!slug.empty()) query.bind(":slug", slug);
  if (!filter.status.empty()) query.bind(":status", filter.status);
  std::vector<Invitation> all;
  while (query.executeStep()) all.push_back(ReadInvitation(query));
  return all;
}

Invitation RevokeInvitation(Db& db, int64_t id) {
  auto transaction = db.Write();
  SQLite::Statement query(db.sql(), std::string(kSelectInvitation) + " WHERE i.id = :id");
  query.bind(":now", NowIso());
  query.bind(":id", id);
  if (!query.executeStep())
    throw Error(fmt::format("unknown invitation '{}'", id), "list them with 'voisinage invite list'");
  Invitation invitation = ReadInvitation(query);
  if (invitation.status == "used" || invitation.status == "revoked")
    throw Error(fmt::format("invitation '{}' is already {}", id, invitation.status));
  SQLite::Statement revoke(db.sql(), "UPDATE invitation SET revoked_at = ? WHERE id = ?");
  revoke.bind(1, NowIso());
  revoke.bind(2, id);
  revoke.exec();
  AppendAudit(db, "cli", "invitation.revoke", fmt::format("invitation:{}", id), "", {});
  transaction.commit();
  invitation.status = "revoked";
  return invitation;
}

Member RedeemInvitation(Db& db, const std::string& code, const std::string& display_name,
                        const std::string& email, const std::function<void(const Member&)>& before_commit) {
  ValidateName("display name", display_name);
  auto transaction = db.Write();
  std::string hash = KeyedHash(db, NormaliseInvitationCode(code));
  SQLite::Statement query(
      db.sql(),
      "SELECT i.id, i.used_at IS NOT NULL, i.revoked_at IS NOT NULL, i.expires_at <= ?, n.slug "
      "FROM invitation i JOIN neighbourhood n ON n.id = i.neighbourhood_id WHERE i.code_hash = ?");
  query.bind(1, NowIso());
  query.bind(2, hash);
  if (!query.executeStep())
    throw Error("unknown invitation code",
                "check the code on the invitation (letters and digits, no O, I, L, 0 or 1)");
  const int64_t id = query.getColumn(0).getInt64();
  if (query.getColumn(1).getInt())
    throw Error("this invitation code has already been used", "ask the town hall for a new one");
  if (query.getColumn(2).getInt())
    throw Error("this invitation code has been revoked", "ask the town hall for a new one");
  if (query.getColumn(3).getInt())
    throw Error("this invitation code has expired", "ask the town hall for a new one");
  Member member = InsertMember(db, {display_name, email, "resident", query.getColumn(4).getString(), false});
  SQLite::Statement use(db.sql(), "UPDATE invitation SET used_at = ?, used_by = ? WHERE id = ?");
  use.bind(1, NowIso());
  use.bind(2, member.id);
  use.bind(3, id);
  use.exec();
  if (before_commit) before_commit(member);
  transaction.commit();
  return member;
}

std::string RenderInvitationSheet(Db& db, const std::vector<NewInvitation>& invitations) {
  if (invitations.empty()) throw Error("no invitation to print");
  const Town town = GetTown(db);
  const std::string expires_on = FrenchDate(ParseIso(invitations.front().expires_at));
  json codes = json::array();
  for (size_t i = 0; i < invitations.size(); ++i)
    codes.push_back({{"code", invitations[i].code}, {"position", i + 1}});
  json data = {{"town_name", town.identity.name},
               {"neighbourhood_name", invitations.front().neighbourhood_name},
               {"url", town.identity.url.empty() ? json(nullptr) : json(town.identity.url)},
               {"expires_on", expires_on},
               {"count", invitations.size()},
               {"codes", codes}};
  return RenderTemplate("invitations.html.mustache", data);
}

std::string InvitationsCsv(const std::vector<NewInvitation>& invitations) {
  std::string out = "code,neighbourhood,neighbourhood_name,expires_at\r\n";
  for (const NewInvitation& i : invitations)
    out += CsvLine({i.code, i.neighbourhood_slug, i.neighbourhood_name, i.expires_at}) + "\r\n";
  return out;
}

json ToJson(const Invitation& i) {
  return {{"id", i.id},
          {"neighbourhood", i.neighbourhood},
          {"created_at", i.created_at},
          {"expires_at", i.expires_at},
          {"status", i.status},
          {"used_at", i.used_at.empty() ? json(nullptr) : json(i.used_at)},
          {"used_by", i.used_by == 0 ? json(nullptr) : json(i.used_by)}};
}

json ToJson(const NewInvitation& i) {
  return {{"id", i.id},
          {"code", i.code},
          {"neighbourhood", i.neighbourhood_slug},
          {"neighbourhood_name", i.neighbourhood_name},
          {"expires_at", i.expires_at}};
}

}  // namespace voisinage
