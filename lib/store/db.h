#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>

#include "lib/error.h"

namespace voisinage {

/// The `PRAGMA application_id` that marks a SQLite file as a voisinage database ("VOIS").
inline constexpr int kApplicationId = 0x564F4953;
/// Default time a command waits for another process's write lock before giving up.
inline constexpr int kDefaultBusyTimeoutMs = 10000;

/// Where the database is: `explicit_path` when not empty, else $VOISINAGE_DB, else ./voisinage.db.
std::string ResolveDbPath(const std::string& explicit_path);

enum class OpenMode {
  kExisting,  ///< the file must exist and be a voisinage database
  kCreate,    ///< create the file if it does not exist (or is an empty SQLite file)
};

struct OpenFile;

class Db;

/// A write transaction: BEGIN IMMEDIATE, rolled back unless committed. It also holds this process's write
/// turn on the file, so that the threads of one process (the server's) queue on a mutex and are woken as soon
/// as the turn is free, instead of polling SQLite's lock; only one of them at a time waits for other
/// processes. Begun while the same Db already has one open, it is a savepoint inside it: the server's writer
/// runs many requests' writes in one transaction, each undone alone when it fails.
class WriteTransaction {
 public:
  WriteTransaction(WriteTransaction&& other) noexcept
      : turn_(std::move(other.turn_)), db_(std::exchange(other.db_, nullptr)), depth_(other.depth_) {}
  WriteTransaction& operator=(WriteTransaction&&) = delete;
  ~WriteTransaction();
  void commit();

 private:
  friend class Db;
  WriteTransaction(Db& db, std::unique_lock<std::timed_mutex> turn);
  std::unique_lock<std::timed_mutex> turn_;  // released after the transaction has ended; none for a savepoint
  Db* db_;                                   // null once committed or rolled back
  int depth_;                                // 1 for the transaction, 2... for savepoints
};

/// A statement from the connection's cache (Db::Prepare), to bind and step like any SQLite::Statement. It is
/// reset and unbound when released, so that it never keeps a read snapshot open.
class CachedStatement {
 public:
  CachedStatement(CachedStatement&& other) noexcept
      : statement_(other.statement_),
        in_use_(std::exchange(other.in_use_, nullptr)),
        owned_(std::move(other.owned_)) {}
  CachedStatement& operator=(CachedStatement&&) = delete;
  ~CachedStatement();
  SQLite::Statement& operator*() { return *statement_; }
  SQLite::Statement* operator->() { return statement_; }

 private:
  friend class Db;
  CachedStatement(SQLite::Statement& statement, bool& in_use) : statement_(&statement), in_use_(&in_use) {}
  explicit CachedStatement(std::unique_ptr<SQLite::Statement> owned)
      : statement_(owned.get()), in_use_(nullptr), owned_(std::move(owned)) {}
  SQLite::Statement* statement_;
  bool* in_use_;                              // the cache slot's flag, null when not from the cache
  std::unique_ptr<SQLite::Statement> owned_;  // a fresh statement when the cached one was in use
};

/// An open voisinage database: WAL, foreign keys on, a busy timeout, the schema migrated to the latest
/// version. Every write transaction starts with BEGIN IMMEDIATE (see Write()) so that concurrent writers
/// queue on the busy timeout instead of failing.
class Db {
 public:
  /// Opens `path`. Throws Error, without touching the file, when it is missing (kExisting), is not SQLite,
  /// is SQLite but not voisinage, or has a schema newer than this binary. Applies pending migrations.
  static Db Open(const std::string& path, OpenMode mode, int busy_timeout_ms = kDefaultBusyTimeoutMs);

  /// Creates the database `path`, which must not exist, with the latest schema and whatever `fill` writes,
  /// all or nothing: the file is built under a temporary name (.voisinage-XXXXXX) in the same directory and
  /// appears under `path` only when complete, so that an interrupted creation (kill -9, full disk) leaves no
  /// database at `path`. Returns it open (created() is true). Throws Error when `path` exists by then, or
  /// whatever `fill` throws (the temporary file is removed).
  static Db CreateAtomically(const std::string& path, const std::function<void(Db&)>& fill,
                             int busy_timeout_ms = kDefaultBusyTimeoutMs);

  /// Opens an in-memory database with the latest schema (unit tests).
  static Db OpenInMemory();

  /// Copies the voisinage database at `path` into memory and migrates the copy: what a dry run works on, so
  /// that it never writes to (nor locks) the file. Throws like Open.
  static Db OpenCopyInMemory(const std::string& path, int busy_timeout_ms = kDefaultBusyTimeoutMs);

  SQLite::Database& sql() { return *sql_; }
  const std::string& path() const { return path_; }
  /// True when Open created the file or found it without any schema.
  bool created() const { return created_; }
  int busy_timeout_ms() const { return busy_timeout_ms_; }
  /// The file's schema version before Open migrated it (0 for a new file).
  int opened_schema_version() const { return opened_schema_version_; }

  /// The database's secret key once read (lib/store/secret.cpp): the server reads it once per connection.
  std::vector<unsigned char>& secret_key_cache() { return secret_key_cache_; }

  /// Begins a write transaction, or a savepoint inside the open one (see WriteTransaction). Throws
  /// SQLite::Exception (SQLITE_BUSY) when the write turn is not free within the busy timeout.
  WriteTransaction Write();
  /// The statement for `sql`, prepared once per connection: parsing SQL costs more than running most of the
  /// queries of a request. Used while another use of the same text is in progress, it prepares a fresh one.
  CachedStatement Prepare(const std::string& sql);

  /// True while a WriteTransaction of this Db is open.
  bool writing() const { return write_depth_ > 0; }

 private:
  Db(std::unique_ptr<SQLite::Database> sql, std::string path, bool created, int busy_timeout_ms,
     int opened_version)
      : sql_(std::move(sql)),
        path_(std::move(path)),
        created_(created),
        busy_timeout_ms_(busy_timeout_ms),
        opened_schema_version_(opened_version) {}

  // Destroyed after sql_: the file counts as open here until the connection is closed (db.cpp).
  std::shared_ptr<OpenFile> file_;
  std::unique_ptr<SQLite::Database> sql_;
  std::string path_;
  bool created_ = false;
  int busy_timeout_ms_ = kDefaultBusyTimeoutMs;
  int opened_schema_version_ = 0;
  std::vector<unsigned char> secret_key_cache_;
  int write_depth_ = 0;  // open WriteTransactions
  struct CacheSlot {
    std::unique_ptr<SQLite::Statement> statement;
    bool in_use = false;
  };
  std::unordered_map<std::string, CacheSlot> statements_;  // finalised before sql_ is closed
  friend class WriteTransaction;
};

/// Turns a SQLite exception raised while working on `db_path` into an Error a user can act on
/// (a busy database names the timeout and says what to do; a full disk says so).
Error DescribeSqliteError(const SQLite::Exception& e, const std::string& db_path, int busy_timeout_ms);

/// Integrity, foreign keys and schema version of an open database.
struct DbCheck {
  int schema_version = 0;
  int latest_schema_version = 0;
  std::vector<std::string> problems;  ///< empty when the file is sound
  bool ok() const { return problems.empty(); }
};

/// Runs PRAGMA integrity_check and foreign_key_check and compares the schema version. Never throws for a
/// problem it finds; it lists it.
DbCheck CheckDb(Db& db);

/// Copies the database to `target` with SQLite's online backup (safe while other processes write).
/// Refuses to overwrite an existing file. The copy is written under a temporary name and renamed.
void BackupDb(Db& db, const std::string& target);

struct VacuumResult {
  int64_t bytes_before = 0;
  int64_t bytes_after = 0;
};

/// Rebuilds the file (VACUUM) to reclaim free pages; waits for, then blocks, other writers meanwhile.
VacuumResult VacuumDb(Db& db);

}  // namespace voisinage
