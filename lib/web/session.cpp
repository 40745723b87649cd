#include "lib/web/session.h"

#include <algorithm>

#include <fmt/format.h>

#include "lib/clock.h"
#include "lib/store/secret.h"

namespace voisinage {

namespace {

constexpr std::string_view kSessionAlphabet = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ";
constexpr int kSessionLength = 40;

bool WellFormed(std::string_view secret) {
  return secret.size() == kSessionLength && std::all_of(secret.begin(), secret.end(), [](char ch) {
           return kSessionAlphabet.find(ch) != std::string_view::npos;
         });
}

// Whether the database has its hashing key yet: without one no session exists, and hashing would create it.
bool HasHashKey(Db& db) {
  SQLite::Statement key(db.sql(), "SELECT 1 FROM setting WHERE key = 'invitation_key'");
  return key.executeStep();
}

}  // namespace

NewSession CreateSession(Db& db, int64_t member_id, std::chrono::seconds valid_for) {
  const TimePoint now = Now();
  SQLite::Statement expired(db.sql(), "DELETE FROM web_session WHERE expires_at <= ?");
  expired.bind(1, FormatIso(now));
  expired.exec();
  NewSession session;
  session.secret = RandomString(kSessionAlphabet, kSessionLength);
  session.expires_at = FormatIso(now + valid_for);
  SQLite::Statement insert(db.sql(), R"sql(
    INSERT INTO web_session (session_hash, member_id, created_at, expires_at) VALUES (?, ?, ?, ?))sql");
  insert.bind(1, KeyedHash(db, session.secret));
  insert.bind(2, member_id);
  insert.bind(3, FormatIso(now));
  insert.bind(4, session.expires_at);
  insert.exec();
  return session;
}

std::optional<Member> FindSession(Db& db, std::string_view secret) {
  if (!WellFormed(secret) || !HasHashKey(db)) return std::nullopt;
  SQLite::Statement query(db.sql(), R"sql(
    SELECT s.member_id FROM web_session s JOIN member m ON m.id = s.member_id
    WHERE s.session_hash = ? AND s.expires_at > ? AND m.removed_at IS NULL)sql");
  query.bind(1, KeyedHash(db, secret));
  query.bind(2, NowIso());
  if (!query.executeStep()) return std::nullopt;
  return FindMember(db, std::to_string(query.getColumn(0).getInt64()));
}

bool DeleteSession(Db& db, std::string_view secret) {
  if (!WellFormed(secret) || !HasHashKey(db)) return false;
  SQLite::Statement remove(db.sql(), "DELETE FROM web_session WHERE session_hash = ?");
  remove.bind(1, KeyedHash(db, secret));
  return remove.exec() > 0;
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t end = std::min(header.find(';'), header.size());
    std::string_view pair = header.substr(0, end);
    header.remove_prefix(std::min(end + 1, header.size()));
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
  }
  return "";
}

std::string SetCookie(std::string_view name, std::string_view value, std::chrono::seconds max_age,
                      bool secure) {
  return fmt::format("{}={}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax{}", name, value, max_age.count(),
                     secure ? "; Secure" : "");
}

}  // namespace voisinage
