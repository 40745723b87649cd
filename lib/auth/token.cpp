#include "lib/auth/token.h"

#include "lib/clock.h"
#include "lib/moderation/post.h"
#include "lib/store/audit_log.h"
#include "lib/store/secret.h"

namespace voisinage {

using nlohmann::json;

namespace {

constexpr std::string_view kTokenAlphabet = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ";

const char* const kSelectToken = R"sql(
  SELECT t.id, t.member_id, m.display_name, m.role, t.label, t.created_at, coalesce(t.expires_at, ''),
         coalesce(t.revoked_at, ''),
         CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked'
              WHEN m.removed_at IS NOT NULL THEN 'member_removed'
              WHEN t.expires_at IS NOT NULL AND t.expires_at <= ? THEN 'expired' ELSE 'active' END
  FROM api_token t JOIN member m ON m.id = t.member_id)sql";

ApiToken ReadToken(SQLite::Statement& row) {
  ApiToken t;
  t.id = row.getColumn(0).getInt64();
  t.member_id = row.getColumn(1).getInt64();
  int i = 2;
  for (std::string* field :
       {&t.member_name, &t.member_role, &t.label, &t.created_at, &t.expires_at, &t.revoked_at, &t.status})
    *field = row.getColumn(i++).getString();
  return t;
}

ApiToken ReadToken(Db& db, int64_t id) {
  SQLite::Statement query(db.sql(), std::string(kSelectToken) + " WHERE t.id = ?");
  query.bind(1, NowIso());
  query.bind(2, id);
  if (!query.executeStep())
    throw NotFoundError(fmt::format("unknown token {}", id), "see 'voisinage token list'");
  return ReadToken(query);
}

}  // namespace

NewToken InsertToken(Db& db, int64_t member_id, const std::string& label,
                     std::optional<std::chrono::seconds> valid_for, const std::string& actor) {
  if (label.size() > 120) throw Error("the label is longer than 120 bytes");
  NewToken created;
  created.secret = std::string(kTokenPrefix) + RandomString(kTokenAlphabet, 32);
  const TimePoint now = Now();
  SQLite::Statement insert(db.sql(), R"sql(
    INSERT INTO api_token (member_id, label, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?))sql");
  insert.bind(1, member_id);
  insert.bind(2, label);
  insert.bind(3, KeyedHash(db, created.secret));
  insert.bind(4, FormatIso(now));
  valid_for ? insert.bind(5, FormatIso(now + *valid_for)) : insert.bind(5);
  insert.exec();
  created.token = ReadToken(db, db.sql().getLastInsertRowid());
  AppendAudit(db, actor, "token.create", fmt::format("member:{}", member_id), "",
              {{"token", created.token.id}, {"label", label}, {"expires_at", created.token.expires_at}});
  return created;
}

NewToken CreateToken(Db& db, const std::string& member, const std::string& label,
                     std::optional<std::chrono::seconds> valid_for) {
  auto transaction = db.Write();
  const Member m = FindMember(db, member);
  if (!m.removed_at.empty()) throw Error(fmt::format("member '#{}' has been removed", m.id));
  NewToken created = InsertToken(db, m.id, label, valid_for);
  transaction.commit();
  return created;
}

std::vector<ApiToken> ListTokens(Db& db, const std::string& member) {
  std::optional<int64_t> member_id;
  if (!member.empty()) member_id = FindMember(db, member).id;
  SQLite::Statement query(db.sql(), std::string(kSelectToken) + (member_id ? " WHERE t.member_id = ?" : "") +
                                        " ORDER BY t.id DESC");
  query.bind(1, NowIso());
  if (member_id) query.bind(2, *member_id);
  std::vector<ApiToken> tokens;
  while (query.executeStep()) tokens.push_back(ReadToken(query));
  return tokens;
}

ApiToken RevokeToken(Db& db, int64_t id) {
  auto transaction = db.Write();
  const ApiToken before = ReadToken(db, id);
  if (before.status == "revoked") throw Error(fmt::format("token {} is already revoked", id));
  SQLite::Statement revoke(db.sql(), "UPDATE api_token SET revoked_at = ? WHERE id = ?");
  revoke.bind(1, NowIso());
  revoke.bind(2, id);
  revoke.exec();
  AppendAudit(db, "cli", "token.revoke", fmt::format("member:{}", before.member_id), "", {{"token", id}});
  ApiToken after = ReadToken(db, id);
  transaction.commit();
  return after;
}

Caller Authenticate(Db& db, const std::string& secret) {
  if (secret.empty())
    throw AuthError("missing_token", "this needs a token: send 'Authorization: Bearer <token>'");
  if (!secret.starts_with(kTokenPrefix) || secret.size() > 64)
    throw AuthError("invalid_token", "the token is not valid");
  CachedStatement query = db.Prepare(R"sql(
    SELECT t.id, t.member_id, t.revoked_at IS NOT NULL, t.expires_at IS NOT NULL AND t.expires_at <= ?
    FROM api_token t WHERE t.token_hash = ?)sql");
  query->bind(1, NowIso());
  query->bind(2, KeyedHash(db, secret));
  if (!query->executeStep()) throw AuthError("invalid_token", "the token is not valid");
  if (query->getColumn(2).getInt()) throw AuthError("token_revoked", "the token has been revoked");
  if (query->getColumn(3).getInt()) throw AuthError("token_expired", "the token has expired");
  Caller caller;
  caller.token_id = query->getColumn(0).getInt64();
  caller.member = FindMember(db, std::to_string(query->getColumn(1).getInt64()));
  if (!caller.member.removed_at.empty())
    throw AuthError("member_removed", "this member's account has been removed", true);
  caller.restriction = ActiveRestriction(db, caller.member.id);
  if (caller.restriction == "suspension" || caller.restriction == "ban")
    throw AuthError("account_suspended",
                    fmt::format("this account is under a {}: it cannot use the platform", caller.restriction),
                    true);
  return caller;
}

json ToJson(const ApiToken& t) {
  return {{"id", t.id},
          {"member", t.member_id},
          {"member_name", t.member_name},
          {"member_role", t.member_role},
          {"label", t.label},
          {"created_at", t.created_at},
          {"expires_at", t.expires_at.empty() ? json(nullptr) : json(t.expires_at)},
          {"revoked_at", t.revoked_at.empty() ? json(nullptr) : json(t.revoked_at)},
          {"status", t.status}};
}

}  // namespace voisinage
