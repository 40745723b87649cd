#pragma once

// Sessions of the web pages: a resident who joined with an invitation code stays signed in through a cookie
// that holds a random session id. Only a keyed hash of the id is stored (lib/store/secret.h), so a copy of
// the database signs nobody in; the API token is never put in a cookie.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/store/db.h"
#include "lib/town/member.h"

namespace voisinage {

/// How long a session lasts from sign-in; it does not slide.
inline constexpr std::chrono::hours kSessionLifetime{24 * 14};

/// The name of the session cookie and of the cookie that binds anonymous forms (lib/web/csrf.h).
inline constexpr std::string_view kSessionCookie = "vsn_session";
inline constexpr std::string_view kFormCookie = "vsn_form";

struct NewSession {
  std::string secret;  ///< goes into the cookie, never stored
  std::string expires_at;
};

/// Creates a session for the member inside the caller's transaction (joining creates it together with the
/// member) and deletes the expired sessions of every member on the way.
NewSession CreateSession(Db& db, int64_t member_id, std::chrono::seconds valid_for = kSessionLifetime);

/// The member signed in by `secret`: nullopt when the id is malformed, unknown, expired, signed out, or the
/// member was removed. Never writes.
std::optional<Member> FindSession(Db& db, std::string_view secret);

/// Deletes the session (signing out); returns whether there was one.
bool DeleteSession(Db& db, std::string_view secret);

/// The value of cookie `name` in a Cookie header ("a=1; b=2"), or empty.
std::string CookieValue(std::string_view header, std::string_view name);

/// A Set-Cookie value: HttpOnly, SameSite=Lax, Path=/, Secure when `secure`; `max_age` 0 deletes the cookie.
std::string SetCookie(std::string_view name, std::string_view value, std::chrono::seconds max_age,
                      bool secure);

}  // namespace voisinage
