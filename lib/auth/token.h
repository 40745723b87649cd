#pragma once

// API tokens: bearer tokens for /api/v1 and the api_key of Open311. A token is shown once, when created;
// the database keeps only its keyed hash (lib/store/secret.h).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"
#include "lib/town/member.h"

namespace voisinage {

/// "vsn_" and 32 characters of a 54-letter alphabet without look-alikes (about 184 bits).
inline constexpr std::string_view kTokenPrefix = "vsn_";

struct ApiToken {
  int64_t id = 0;
  int64_t member_id = 0;
  std::string member_name, member_role;
  std::string label;
  std::string created_at;
  std::string expires_at;  ///< empty: never
  std::string revoked_at;
  std::string status;  ///< active | expired | revoked | member_removed
};

struct NewToken {
  ApiToken token;
  std::string secret;  ///< the token itself: shown once
};

/// Creates a token for an active member. `valid_for` empty: the token does not expire.
NewToken CreateToken(Db& db, const std::string& member, const std::string& label,
                     std::optional<std::chrono::seconds> valid_for);

/// CreateToken inside the caller's transaction (joining with an invitation code creates member and token
/// together).
NewToken InsertToken(Db& db, int64_t member_id, const std::string& label,
                     std::optional<std::chrono::seconds> valid_for, const std::string& actor = "cli");

/// Every token, or a member's, newest first.
std::vector<ApiToken> ListTokens(Db& db, const std::string& member);

/// Revokes a token at once. Throws NotFoundError when unknown, Error when already revoked.
ApiToken RevokeToken(Db& db, int64_t id);

/// Why a request is refused: code is a stable identifier for clients ("missing_token", "invalid_token",
/// "token_revoked", "token_expired", "member_removed", "account_suspended").
class AuthError : public Error {
 public:
  AuthError(std::string code, const std::string& message, bool forbidden = false)
      : Error(message), code_(std::move(code)), forbidden_(forbidden) {}
  const std::string& code() const { return code_; }
  /// True when the caller is known but may not act (403), false when not authenticated (401).
  bool forbidden() const { return forbidden_; }

 private:
  std::string code_;
  bool forbidden_;
};

/// The member behind a token, with the restriction that limits them ("silence"; empty when none).
struct Caller {
  Member member;
  int64_t token_id = 0;
  std::string restriction;
};

/// Checks a token. Throws AuthError when it is unknown, revoked or expired, or its member removed, suspended
/// or banned. The lookup is by keyed hash: the comparison never touches the secret itself.
Caller Authenticate(Db& db, const std::string& secret);

nlohmann::json ToJson(const ApiToken& token);

}  // namespace voisinage
