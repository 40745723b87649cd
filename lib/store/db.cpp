#include "lib/store/db.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <SQLiteCpp/Backup.h>

#include "lib/atomic_file.h"
#include "lib/store/schema.h"

namespace voisinage {

namespace fs = std::filesystem;

std::string ResolveDbPath(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* env = std::getenv("VOISINAGE_DB"); env != nullptr && *env != '\0') return env;
  return "voisinage.db";
}

namespace {

enum class FileKind { kMissing, kEmpty, kSqlite, kOther };

// The files this process has open through SQLite, by device and inode. Opening and closing such a file by
// any other means releases every POSIX lock the process holds on it (SQLite's "How To Corrupt", 2.2): another
// process closing the database would then believe it is the last user and delete the WAL under our
// connections. The server opens one connection per thread, so Inspect() must not read a file already open.
using FileKey = std::pair<dev_t, ino_t>;
std::mutex open_files_mutex;
std::map<FileKey, std::weak_ptr<OpenFile>> open_files;  // guarded by the mutex

bool AlreadyOpenHere(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  std::lock_guard lock(open_files_mutex);
  auto it = open_files.find({st.st_dev, st.st_ino});
  return it != open_files.end() && !it->second.expired();
}

}  // namespace

/// What the connections of this process to one file share: the file counts as open here while one of them
/// holds it, and they take their write turns one at a time.
struct OpenFile {
  explicit OpenFile(FileKey k) : key(k) {}
  ~OpenFile() {
    std::lock_guard lock(open_files_mutex);
    auto it = open_files.find(key);
    if (it != open_files.end() && it->second.expired()) open_files.erase(it);
  }
  FileKey key;
  std::timed_mutex write_turn;
};

namespace {

std::shared_ptr<OpenFile> MarkOpen(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::make_shared<OpenFile>(FileKey{});
  const FileKey key{st.st_dev, st.st_ino};
  std::lock_guard lock(open_files_mutex);
  std::weak_ptr<OpenFile>& slot = open_files[key];
  std::shared_ptr<OpenFile> file = slot.lock();
  if (!file) {
    file = std::make_shared<OpenFile>(key);
    slot = file;
  }
  return file;
}

// SQLite's own busy handler sleeps longer and longer, up to 100 ms between attempts, so that a writer often
// sleeps through the moment the lock is free; this one tries again every millisecond until the timeout.
int BusyWait(void* timeout_ms, int attempts) {
  thread_local std::chrono::steady_clock::time_point started;
  const auto now = std::chrono::steady_clock::now();
  if (attempts == 0) started = now;
  if (now - started >= std::chrono::milliseconds(reinterpret_cast<intptr_t>(timeout_ms))) return 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return 1;
}

void SetBusyTimeout(SQLite::Database& sql, int busy_timeout_ms) {
  sqlite3_busy_handler(sql.getHandle(), BusyWait,
                       reinterpret_cast<void*>(static_cast<intptr_t>(busy_timeout_ms)));
}

FileKind Inspect(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return FileKind::kMissing;
  if (fs::is_directory(path, ec)) return FileKind::kOther;
  if (AlreadyOpenHere(path)) return FileKind::kSqlite;  // checked when first opened; never reopen it
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  char header[16] = {};
  in.read(header, sizeof header);
  if (in.gcount() == 0) return FileKind::kEmpty;
  return std::memcmp(header, "SQLite format 3", 16) == 0 ? FileKind::kSqlite : FileKind::kOther;
}

// Creates the file with owner-only permissions before SQLite opens it: residents' data is personal.
void CreateEmptyFile(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw Error(
        fmt::format("cannot create database '{}': directory '{}' does not exist", path, parent.string()));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(fmt::format("cannot create database '{}': {}", path, std::strerror(errno)));
  ::close(fd);
}

void Configure(SQLite::Database& sql, int busy_timeout_ms) {
  SetBusyTimeout(sql, busy_timeout_ms);
  sql.exec("PRAGMA foreign_keys = ON");
  sql.exec("PRAGMA synchronous = NORMAL");  // safe in WAL mode: a crash never corrupts, at worst loses the
                                            // last commit
}

}  // namespace

namespace {

// Refuses, without writing to it, a file that is not a voisinage database this binary can use. Returns its
// schema version, or -1 for a blank SQLite file.
int CheckIdentity(SQLite::Database& sql, const std::string& path, OpenMode mode) {
  int application_id = sql.execAndGet("PRAGMA application_id").getInt();
  int version = sql.execAndGet("PRAGMA user_version").getInt();
  bool blank = application_id == 0 && version == 0 &&
               sql.execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 0;
  if (!blank && application_id != kApplicationId)
    throw Error(fmt::format("'{}' is a SQLite database but not a voisinage one", path),
                "check --db or $VOISINAGE_DB; the file was not modified");
  if (blank && mode != OpenMode::kCreate)
    throw Error(fmt::format("'{}' is an empty SQLite file, not a voisinage database", path),
                "initialise it with 'voisinage init'");
  if (version > LatestSchemaVersion())
    throw Error(fmt::format("'{}' has schema version {}, newer than this voisinage (version {}) knows", path,
                            version, LatestSchemaVersion()),
                "upgrade voisinage; the file was not modified");
  return blank ? -1 : version;
}

void RequireVoisinageFile(const std::string& path, FileKind kind) {
  if (kind == FileKind::kOther)
    throw Error(fmt::format("'{}' is not a voisinage database (not a SQLite file)", path),
                "check --db or $VOISINAGE_DB; the file was not modified");
  if (kind == FileKind::kMissing || kind == FileKind::kEmpty)
    throw Error(fmt::format("no voisinage database at '{}'", path),
                "create one with 'voisinage init --from TOWN.yaml', or point --db or $VOISINAGE_DB at it");
}

}  // namespace

Db Db::Open(const std::string& path, OpenMode mode, int busy_timeout_ms) {
  // SQLite counts its memory under a global mutex by default: the server's threads would queue on it.
  static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)configured;
  FileKind kind = Inspect(path);
  if (mode != OpenMode::kCreate || kind == FileKind::kOther) RequireVoisinageFile(path, kind);
  if (kind == FileKind::kMissing) CreateEmptyFile(path);

  // A connection is only ever used by one thread at a time: SQLite's own mutexes would only cost time.
  auto sql = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX);
  SetBusyTimeout(*sql, busy_timeout_ms);
  const int version = CheckIdentity(*sql, path, mode);  // before anything writes to the file
  const bool blank = version < 0;

  // 8 KiB pages: bulk imports run about 10 % faster than with the 4 KiB default, small writes stay cheap.
  if (blank) sql->exec("PRAGMA page_size = 8192");
  if (sql->execAndGet("PRAGMA journal_mode").getString() != "wal")
    sql->execAndGet("PRAGMA journal_mode = WAL");
  Configure(*sql, busy_timeout_ms);
  ApplyMigrations(*sql);
  Db db(std::move(sql), path, blank, busy_timeout_ms, std::max(version, 0));
  db.file_ = MarkOpen(path);
  return db;
}

Db Db::CreateAtomically(const std::string& path, const std::function<void(Db&)>& fill, int busy_timeout_ms) {
  fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw Error(
        fmt::format("cannot create database '{}': directory '{}' does not exist", path, parent.string()));
  std::string temp;
  int fd = CreateTemporaryFile(parent.empty() ? fs::path(".") : parent, temp);
  if (fd < 0) throw Error(fmt::format("cannot create database '{}': {}", path, std::strerror(errno)));
  ::fchmod(fd, 0600);
  ::close(fd);
  auto remove_temp = [&temp] {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(temp + suffix, ignored);
  };
  try {
    {
      Db db = Open(temp, OpenMode::kCreate, busy_timeout_ms);
      fill(db);
      // Everything into the main file (synced), which alone is linked under the final name.
      db.sql().exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    // link() rather than rename(): it never replaces a database another command created meanwhile.
    if (::link(temp.c_str(), path.c_str()) != 0)
      throw Error(fmt::format("cannot create database '{}': {}", path, std::strerror(errno)),
                  errno == EEXIST ? "another command created it meanwhile: run the command again" : "");
  } catch (const SQLite::Exception& e) {
    remove_temp();
    throw DescribeSqliteError(e, path, busy_timeout_ms);
  } catch (...) {
    remove_temp();
    throw;
  }
  remove_temp();
  Db db = Open(path, OpenMode::kExisting, busy_timeout_ms);
  db.created_ = true;
  return db;
}

Db Db::OpenCopyInMemory(const std::string& path, int busy_timeout_ms) {
  RequireVoisinageFile(path, Inspect(path));
  SQLite::Database disk(path, SQLite::OPEN_READONLY);
  SetBusyTimeout(disk, busy_timeout_ms);
  const int version = CheckIdentity(disk, path, OpenMode::kExisting);
  auto sql = std::make_unique<SQLite::Database>(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  SQLite::Backup(*sql, disk).executeStep(-1);
  Configure(*sql, busy_timeout_ms);
  ApplyMigrations(*sql);
  Db db(std::move(sql), path, false, busy_timeout_ms, version);
  db.file_ = std::make_shared<OpenFile>(FileKey{});
  return db;
}

Db Db::OpenInMemory() {
  auto sql = std::make_unique<SQLite::Database>(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  Configure(*sql, kDefaultBusyTimeoutMs);
  ApplyMigrations(*sql);
  Db db(std::move(sql), ":memory:", true, kDefaultBusyTimeoutMs, 0);
  db.file_ = std::make_shared<OpenFile>(FileKey{});
  return db;
}

WriteTransaction::WriteTransaction(Db& db, std::unique_lock<std::timed_mutex> turn)
    : turn_(std::move(turn)), db_(&db), depth_(db.write_depth_ + 1) {
  db.sql().exec(depth_ == 1 ? std::string("BEGIN IMMEDIATE") : fmt::format("SAVEPOINT w{}", depth_));
  ++db.write_depth_;
}

WriteTransaction::~WriteTransaction() {
  if (db_ == nullptr) return;
  --db_->write_depth_;
  try {
    db_->sql().exec(depth_ == 1 ? std::string("ROLLBACK")
                                : fmt::format("ROLLBACK TO w{0}; RELEASE w{0}", depth_));
  } catch (const SQLite::Exception&) {  // SQLite has already rolled back (a full disk, an I/O error)
  }
}

void WriteTransaction::commit() {
  if (db_ == nullptr) throw SQLite::Exception("the transaction has already ended", SQLITE_MISUSE);
  db_->sql().exec(depth_ == 1 ? std::string("COMMIT") : fmt::format("RELEASE w{}", depth_));
  --db_->write_depth_;
  db_ = nullptr;
}

CachedStatement::~CachedStatement() {
  if (in_use_ == nullptr) return;
  try {
    statement_->reset();
  } catch (const SQLite::Exception&) {  // reset repeats the last step's error, already reported
  }
  statement_->clearBindings();
  *in_use_ = false;
}

CachedStatement Db::Prepare(const std::string& sql) {
  CacheSlot& slot = statements_[sql];
  if (slot.in_use) return CachedStatement(std::make_unique<SQLite::Statement>(*sql_, sql));
  if (!slot.statement) slot.statement = std::make_unique<SQLite::Statement>(*sql_, sql);
  slot.in_use = true;
  return CachedStatement(*slot.statement, slot.in_use);
}

WriteTransaction Db::Write() {
  if (write_depth_ > 0) return WriteTransaction(*this, {});
  std::unique_lock turn(file_->write_turn, std::chrono::milliseconds(busy_timeout_ms_));
  if (!turn.owns_lock()) throw SQLite::Exception("database is locked", SQLITE_BUSY);
  return WriteTransaction(*this, std::move(turn));
}

Error DescribeSqliteError(const SQLite::Exception& e, const std::string& db_path, int busy_timeout_ms) {
  switch (e.getErrorCode()) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error(
          fmt::format("database '{}' is busy: another process kept it locked for more than {}", db_path,
                      busy_timeout_ms % 1000 ? fmt::format("{} ms", busy_timeout_ms)
                                             : fmt::format("{} s", busy_timeout_ms / 1000)),
          "retry when the other command has finished, or wait longer with --busy-timeout");
    case SQLITE_FULL:
      return Error(fmt::format("database '{}': the disk is full; nothing was changed", db_path),
                   "free some space and run the command again");
    case SQLITE_IOERR:
      // A write refused by the system: a full disk or the file-size limit (EFBIG) gives a short write.
      if (e.getExtendedErrorCode() == SQLITE_IOERR_WRITE || e.getExtendedErrorCode() == SQLITE_IOERR_SHMSIZE)
        return Error(fmt::format("database '{}': cannot write to the disk (full, or over the file-size "
                                 "limit); nothing was changed",
                                 db_path),
                     "free some space and run the command again");
      return Error(fmt::format("database '{}': {}", db_path, e.what()));
    case SQLITE_READONLY:
      return Error(fmt::format("database '{}' is read-only", db_path),
                   "check the permissions of the file and of its directory");
    case SQLITE_CANTOPEN:
      return Error(fmt::format("cannot open database '{}'", db_path),
                   "check that the directory exists and is writable");
    case SQLITE_NOTADB:
      return Error(fmt::format("'{}' is not a voisinage database (not a SQLite file)", db_path));
    case SQLITE_CORRUPT:
      return Error(fmt::format("database '{}' is damaged: {}", db_path, e.what()),
                   "run 'voisinage db check' and restore the latest backup");
    default:
      return Error(fmt::format("database '{}': {}", db_path, e.what()));
  }
}

DbCheck CheckDb(Db& db) {
  DbCheck check;
  check.latest_schema_version = LatestSchemaVersion();
  check.schema_version = db.sql().execAndGet("PRAGMA user_version").getInt();
  if (check.schema_version != check.latest_schema_version)
    check.problems.push_back(fmt::format("schema version {} differs from the expected {}",
                                         check.schema_version, check.latest_schema_version));
  SQLite::Statement integrity(db.sql(), "PRAGMA integrity_check");
  while (integrity.executeStep()) {
    std::string line = integrity.getColumn(0).getString();
    if (line != "ok") check.problems.push_back("integrity: " + line);
  }
  SQLite::Statement keys(db.sql(), "PRAGMA foreign_key_check");
  while (keys.executeStep())
    check.problems.push_back(fmt::format("foreign key: row {} of '{}' points to a missing row of '{}'",
                                         keys.getColumn(1).getInt64(), keys.getColumn(0).getString(),
                                         keys.getColumn(2).getString()));
  return check;
}

void BackupDb(Db& db, const std::string& target) {
  std::error_code ec;
  if (fs::exists(target, ec))
    throw Error(fmt::format("backup target '{}' already exists", target), "choose a new file name");
  const std::string partial = target + ".partial";
  fs::path parent = fs::path(target).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw Error(
        fmt::format("cannot write backup '{}': directory '{}' does not exist", target, parent.string()));
  fs::remove(partial, ec);
  try {
    CreateEmptyFile(partial);
  } catch (const Error&) {
    throw Error(fmt::format("cannot write backup '{}': {}", target, std::strerror(errno)),
                "check that the directory is writable");
  }
  try {
    SQLite::Database copy(partial, SQLite::OPEN_READWRITE);
    SQLite::Backup backup(copy, db.sql());
    // Copy in steps so writers are never blocked for long; a write by another connection restarts it.
    for (;;) {
      int rc = backup.executeStep(256);
      if (rc == SQLITE_DONE) break;
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
    }
    copy.exec("PRAGMA journal_mode = DELETE");  // a backup is one self-contained file
  } catch (const SQLite::Exception& e) {
    fs::remove(partial, ec);
    // The copy is what fails to be written, not the database.
    const int code = e.getErrorCode() & 0xff;  // sqlite3_backup_step() returns extended codes
    if (code == SQLITE_IOERR || code == SQLITE_FULL)
      throw Error(
          fmt::format("cannot write backup '{}': the disk is full or over the file-size limit", target),
          "free some space and run the command again; the database was not changed");
    throw;
  } catch (...) {
    fs::remove(partial, ec);
    throw;
  }
  fs::rename(partial, target, ec);
  if (ec) {
    fs::remove(partial, ec);
    throw Error(fmt::format("cannot write backup '{}': {}", target, ec.message()));
  }
}

VacuumResult VacuumDb(Db& db) {
  auto size = [&db] {
    return db.sql()
        .execAndGet("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
        .getInt64();
  };
  VacuumResult result;
  result.bytes_before = size();
  db.sql().exec("VACUUM");
  db.sql().exec("PRAGMA wal_checkpoint(TRUNCATE)");
  result.bytes_after = size();
  return result;
}

}  // namespace voisinage
