#pragma once

#include <string>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>

namespace voisinage {

/// One step of the schema: applied in order, each in its own transaction, recorded in
/// `PRAGMA user_version` and in the `schema_migration` table.
struct Migration {
  int version;
  const char* name;
  const char* sql;
  /// What SQL alone cannot do, run after `sql` in the same transaction; may be null.
  void (*then)(SQLite::Database&) = nullptr;
};

/// All migrations, oldest first. Never edit a released one: append a new one.
const std::vector<Migration>& Migrations();

/// The version a fully migrated database has.
int LatestSchemaVersion();

/// Applies the migrations newer than the file's `user_version`; returns how many ran.
int ApplyMigrations(SQLite::Database& sql);

}  // namespace voisinage
