#pragma once

// Secrets handed to people (invitation codes, API tokens, session ids): random, shown once, and stored only
// as a keyed hash, so that a copy of the database does not give them away.

#include <string>
#include <string_view>

#include "lib/store/db.h"

namespace voisinage {

/// `length` characters drawn uniformly from `alphabet` by libsodium's CSPRNG.
std::string RandomString(std::string_view alphabet, int length);

/// The hex keyed BLAKE2b-256 of `text`. The key is random per database (setting 'invitation_key', created on
/// first use inside the caller's transaction), so a leaked table cannot be matched against secrets computed
/// elsewhere. Lookups by this hash compare hashes, never the secrets themselves.
std::string KeyedHash(Db& db, std::string_view text);

}  // namespace voisinage
