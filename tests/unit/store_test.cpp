#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <cstdlib>

#include "lib/store/db.h"
#include "lib/store/schema.h"
#include "test_support.h"

using namespace voisinage;

TEST_CASE("a new database gets the latest schema, WAL and foreign keys") {
  test::TempDir dir;
  Db db = Db::Open(dir.File("t.db"), OpenMode::kCreate);
  CHECK(db.created());
  CHECK(db.sql().execAndGet("PRAGMA user_version").getInt() == LatestSchemaVersion());
  CHECK(db.sql().execAndGet("PRAGMA application_id").getInt() == kApplicationId);
  CHECK(db.sql().execAndGet("PRAGMA journal_mode").getString() == "wal");
  CHECK(db.sql().execAndGet("PRAGMA foreign_keys").getInt() == 1);
  CHECK(db.sql().execAndGet("SELECT count(*) FROM schema_migration").getInt() == int(Migrations().size()));
}

TEST_CASE("reopening an up-to-date database applies nothing") {
  test::TempDir dir;
  { Db::Open(dir.File("t.db"), OpenMode::kCreate); }
  Db db = Db::Open(dir.File("t.db"), OpenMode::kExisting);
  CHECK_FALSE(db.created());
  CHECK(ApplyMigrations(db.sql()) == 0);
}

TEST_CASE("files that are not voisinage databases are refused untouched") {
  test::TempDir dir;
  SECTION("missing, when not creating") {
    CHECK_THROWS_WITH(Db::Open(dir.File("none.db"), OpenMode::kExisting),
                      Catch::Contains("no voisinage database at"));
    CHECK_FALSE(std::filesystem::exists(dir.File("none.db")));
  }
  SECTION("not SQLite") {
    dir.Write("text.db", "hello, this is not a database\n");
    CHECK_THROWS_WITH(Db::Open(dir.File("text.db"), OpenMode::kCreate), Catch::Contains("not a SQLite file"));
    CHECK(std::filesystem::file_size(dir.File("text.db")) == 30);
  }
  SECTION("another application's SQLite file") {
    {
      SQLite::Database other(dir.File("other.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      other.exec("CREATE TABLE t(x)");
    }
    CHECK_THROWS_WITH(Db::Open(dir.File("other.db"), OpenMode::kCreate),
                      Catch::Contains("not a voisinage one"));
  }
  SECTION("a newer schema") {
    {
      Db db = Db::Open(dir.File("new.db"), OpenMode::kCreate);
      db.sql().exec("PRAGMA user_version = 999");
    }
    CHECK_THROWS_WITH(Db::Open(dir.File("new.db"), OpenMode::kExisting),
                      Catch::Contains("newer than this voisinage"));
  }
}

TEST_CASE("the database path comes from --db, then $VOISINAGE_DB, then ./voisinage.db") {
  ::unsetenv("VOISINAGE_DB");
  CHECK(ResolveDbPath("") == "voisinage.db");
  ::setenv("VOISINAGE_DB", "/tmp/from-env.db", 1);
  CHECK(ResolveDbPath("") == "/tmp/from-env.db");
  CHECK(ResolveDbPath("explicit.db") == "explicit.db");
  ::unsetenv("VOISINAGE_DB");
}

TEST_CASE("db check finds broken foreign keys") {
  Db db = test::ThomeryDb();
  CHECK(CheckDb(db).ok());
  db.sql().exec("PRAGMA foreign_keys = OFF");
  db.sql().exec(
      "INSERT INTO member (display_name, role, neighbourhood_id, created_at, updated_at) "
      "VALUES ('x', 'resident', 999, '', '')");
  DbCheck check = CheckDb(db);
  REQUIRE_FALSE(check.ok());
  CHECK_THAT(check.problems.front(), Catch::Contains("member"));
}

TEST_CASE("a backup is a complete, standalone copy and never overwrites") {
  test::TempDir dir;
  {
    Db db = Db::Open(dir.File("t.db"), OpenMode::kCreate);
    ApplyTownFile(db, LoadTownFile(test::SourcePath("examples/thomery.yaml")), false);
    BackupDb(db, dir.File("copy.db"));
    CHECK_THROWS_WITH(BackupDb(db, dir.File("copy.db")), Catch::Contains("already exists"));
  }
  Db copy = Db::Open(dir.File("copy.db"), OpenMode::kExisting);
  CHECK(copy.sql().execAndGet("SELECT count(*) FROM neighbourhood").getInt() == 5);
  CHECK(CheckDb(copy).ok());
}

TEST_CASE("a busy database is described without SQLite's jargon") {
  SQLite::Exception busy("database is locked", SQLITE_BUSY);
  Error error = DescribeSqliteError(busy, "t.db", 2000);
  CHECK_THAT(error.what(), Catch::Contains("'t.db' is busy") && Catch::Contains("2 s"));
  CHECK_THAT(error.what(), !Catch::Contains("database is locked"));
  CHECK_FALSE(error.hint().empty());
}
