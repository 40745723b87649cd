#pragma once

// Protection of the forms against cross-site request forgery. A form carries a token that only this server
// can compute: an HMAC, under a key drawn when the server starts, of what binds the form to the browser — the
// session id when signed in, else the random value of an HttpOnly form cookie (a signed double-submit
// cookie). A page from another site can make the browser send the cookies, never read them nor the token.

#include <string>
#include <string_view>

namespace voisinage {

class CsrfGuard {
 public:
  /// Draws a fresh random key: tokens of an earlier run of the server are refused.
  CsrfGuard();
  /// The token for forms bound to `binding` (a session id, or the form cookie's value); hex.
  std::string Token(std::string_view binding) const;
  /// Whether `token` is the token of `binding`: constant-time; false when either is empty.
  bool Check(std::string_view binding, std::string_view token) const;
  /// A new random value for the form cookie.
  static std::string NewBinding();

 private:
  unsigned char key_[32];
};

}  // namespace voisinage
