#include "lib/web/csrf.h"

#include <sodium.h>

#include "lib/error.h"
#include "lib/store/secret.h"

namespace voisinage {

namespace {

void InitSodium() {
  if (sodium_init() < 0) throw Error("cannot initialise libsodium");
}

}  // namespace

CsrfGuard::CsrfGuard() {
  static_assert(sizeof key_ == crypto_auth_hmacsha256_KEYBYTES);
  InitSodium();
  crypto_auth_hmacsha256_keygen(key_);
}

std::string CsrfGuard::Token(std::string_view binding) const {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(binding.data()), binding.size(), key_);
  char hex[2 * sizeof mac + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

bool CsrfGuard::Check(std::string_view binding, std::string_view token) const {
  if (binding.empty()) return false;
  const std::string expected = Token(binding);
  return token.size() == expected.size() &&
         sodium_memcmp(token.data(), expected.data(), expected.size()) == 0;
}

std::string CsrfGuard::NewBinding() {
  return RandomString("23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ", 32);
}

}  // namespace voisinage
