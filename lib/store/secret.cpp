#include "lib/store/secret.h"

#include <sodium.h>
#include <sqlite3.h>

#include <vector>

#include "lib/error.h"

namespace voisinage {

namespace {

void InitSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw Error("cannot initialise libsodium");
}

std::vector<unsigned char> HashKey(Db& db) {
  // A key never changes once stored; one just created is not cached, its transaction may yet roll back.
  if (!db.secret_key_cache().empty()) return db.secret_key_cache();
  SQLite::Statement query(db.sql(), "SELECT value FROM setting WHERE key = 'invitation_key'");
  std::vector<unsigned char> key(crypto_generichash_KEYBYTES);
  if (query.executeStep()) {
    std::string hex = query.getColumn(0).getString();
    size_t length = 0;
    if (sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &length, nullptr) != 0 ||
        length != key.size())
      throw Error("the database's secret key is damaged");
    // Cached only outside a transaction: inside one, the key may have been created by it and be rolled back.
    if (sqlite3_get_autocommit(db.sql().getHandle()) != 0) db.secret_key_cache() = key;
    return key;
  }
  randombytes_buf(key.data(), key.size());
  std::string hex(key.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), key.data(), key.size());
  hex.pop_back();
  // Another connection may create the key at the same moment: the first one wins, both use it.
  SQLite::Statement insert(db.sql(),
                           "INSERT OR IGNORE INTO setting (key, value) VALUES ('invitation_key', ?)");
  insert.bind(1, hex);
  if (insert.exec() == 0) return HashKey(db);
  return key;
}

}  // namespace

std::string RandomString(std::string_view alphabet, int length) {
  InitSodium();
  std::string text;
  text.reserve(static_cast<size_t>(length));
  for (int i = 0; i < length; ++i)
    text += alphabet[randombytes_uniform(static_cast<uint32_t>(alphabet.size()))];
  return text;
}

std::string KeyedHash(Db& db, std::string_view text) {
  InitSodium();
  const std::vector<unsigned char> key = HashKey(db);
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                     key.data(), key.size());
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return hex;
}

}  // namespace voisinage
