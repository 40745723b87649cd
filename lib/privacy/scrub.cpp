#include "lib/privacy/scrub.h"

#include <fmt/format.h>

namespace voisinage {

SecureDelete::SecureDelete(Db& db)
    : db_(db), previous_(db.sql().execAndGet("PRAGMA secure_delete").getInt()) {
  db_.sql().exec("PRAGMA secure_delete = ON");
}

SecureDelete::~SecureDelete() {
  try {
    db_.sql().exec(fmt::format("PRAGMA secure_delete = {}", previous_));
  } catch (...) {  // the connection is closing anyway
  }
}

bool TruncateWal(Db& db) {
  SQLite::Statement checkpoint(db.sql(), "PRAGMA wal_checkpoint(TRUNCATE)");
  return checkpoint.executeStep() && checkpoint.getColumn(0).getInt() == 0;
}

}  // namespace voisinage
