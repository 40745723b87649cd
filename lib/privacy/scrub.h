#pragma once

// Removing personal data for good: SQLite keeps deleted content in free space and in the write-ahead log
// until they are overwritten. Used by member erasure and the retention purge.

#include "lib/store/db.h"

namespace voisinage {

/// Turns SQLite's secure_delete on while it lives: content that is deleted or overwritten is zeroed in the
/// file instead of lingering in free pages.
class SecureDelete {
 public:
  explicit SecureDelete(Db& db);
  ~SecureDelete();
  SecureDelete(const SecureDelete&) = delete;
  SecureDelete& operator=(const SecureDelete&) = delete;

 private:
  Db& db_;
  int previous_;
};

/// Copies the write-ahead log into the database and truncates it, so that the old versions of the pages it
/// held are gone. Returns false when a reader (the server, a long export) kept it from completing: the log is
/// then emptied by a later checkpoint.
bool TruncateWal(Db& db);

}  // namespace voisinage
