#include "lib/registry/run_keys.h"

#include <fmt/format.h>

#include "lib/error.h"

namespace voisinage {

namespace {

uint64_t KeyHash(std::string_view key) {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a, then MurmurHash3's finaliser to mix every bit
  for (unsigned char c : key) hash = (hash ^ c) * 1099511628211ull;
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdull;
  hash ^= hash >> 33;
  return hash | 1;  // never 0, which marks an empty slot
}

uint64_t StoredValue(uint64_t content_hash, bool active) {
  return (content_hash & ~uint64_t{3}) | 2 | (active ? 1 : 0);
}

std::optional<RunKeys::Stored> FromValue(uint64_t value) {
  if (value == 0) return std::nullopt;
  return RunKeys::Stored{value, (value & 1) != 0};
}

SQLite::Database OpenSpill() {
  // An empty name: a private temporary file (in SQLITE_TMPDIR, TMPDIR or /var/tmp), deleted when closed.
  SQLite::Database db("", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  // One transaction for the whole run, nothing to recover: pages reach the file only when the cache is full.
  db.exec(R"sql(
    PRAGMA journal_mode = OFF;
    PRAGMA synchronous = OFF;
    PRAGMA cache_size = -8192;
    CREATE TABLE seen (key BLOB PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    BEGIN;)sql");
  return db;
}

// The temporary file's errors, told apart from the database's (a full /var/tmp is not a full database disk).
template <typename Step>
auto InTemporaryFile(Step&& step) {
  try {
    return step();
  } catch (const SQLite::Exception& e) {
    throw Error(fmt::format("cannot keep the file's keys in a temporary file: {}", e.what()),
                "make room in $SQLITE_TMPDIR, $TMPDIR or /var/tmp, or point TMPDIR at a disk with space");
  }
}

}  // namespace

// The keys whose part of memory is full. Keyed by the key itself rather than its hash: registry files come
// sorted by key, so that their inserts append to the end of the table and its cache stays warm.
class RunKeys::Spill {
 public:
  bool Insert(std::string_view key) {
    return InTemporaryFile([&] {
      Bind(insert_, 1, key);
      insert_.exec();
      insert_.reset();
      return db_.getChanges() == 1;
    });
  }
  uint64_t Get(std::string_view key) {
    return InTemporaryFile([&] {
      Bind(get_, 1, key);
      const uint64_t value = get_.executeStep() ? static_cast<uint64_t>(get_.getColumn(0).getInt64()) : 0;
      get_.reset();
      return value;
    });
  }
  void Set(std::string_view key, uint64_t value) {
    InTemporaryFile([&] {
      set_.bind(1, static_cast<int64_t>(value));
      Bind(set_, 2, key);
      set_.exec();
      set_.reset();
    });
  }

 private:
  static void Bind(SQLite::Statement& statement, int index, std::string_view key) {
    statement.bindNoCopy(index, key.data(), static_cast<int>(key.size()));
  }

  SQLite::Database db_ = OpenSpill();
  SQLite::Statement insert_{db_, "INSERT OR IGNORE INTO seen (key, value) VALUES (?, 0)"};
  SQLite::Statement get_{db_, "SELECT value FROM seen WHERE key = ?"};
  SQLite::Statement set_{db_, "UPDATE seen SET value = ? WHERE key = ?"};
};

RunKeys::RunKeys(size_t max_part_slots) : max_part_slots_(max_part_slots) {}

RunKeys::~RunKeys() = default;

RunKeys::Slot* RunKeys::Find(std::string_view key) {
  hash_ = KeyHash(key);
  part_ = &parts_[hash_ >> 56];
  Part& part = *part_;
  if (part.slots.empty()) part.slots.resize(16);
  const size_t mask = part.slots.size() - 1;
  size_t i = hash_ & mask;
  while (part.slots[i].key != hash_ && part.slots[i].key != 0) i = (i + 1) & mask;
  if (part.slots[i].key == 0 && part.slots.size() >= max_part_slots_ &&
      part.size * 4 >= part.slots.size() * 3)
    return nullptr;  // a part at its largest takes keys until three quarters full; later ones go to disk
  return &part.slots[i];
}

void RunKeys::Grow(Part& part) {
  std::vector<Slot> old = std::move(part.slots);
  part.slots.assign(old.size() * 2, Slot{});
  const size_t mask = part.slots.size() - 1;
  for (const Slot& slot : old) {
    if (slot.key == 0) continue;
    size_t i = slot.key & mask;
    while (part.slots[i].key != 0) i = (i + 1) & mask;
    part.slots[i] = slot;
  }
}

RunKeys::Spill& RunKeys::spill() {
  if (!spill_) spill_ = InTemporaryFile([] { return std::make_unique<Spill>(); });
  return *spill_;
}

bool RunKeys::Insert(std::string_view key) {
  Slot* slot = Find(key);
  if (slot == nullptr) {
    if (!spill().Insert(key)) return false;
    ++spilled_;
    return true;
  }
  if (slot->key != 0) return false;
  slot->key = hash_;
  if (++part_->size * 2 > part_->slots.size() && part_->slots.size() < max_part_slots_) Grow(*part_);
  return true;
}

std::optional<RunKeys::Stored> RunKeys::Get(std::string_view key) {
  const Slot* slot = Find(key);
  return FromValue(slot == nullptr ? spill().Get(key) : slot->value);
}

void RunKeys::Set(std::string_view key, uint64_t content_hash, bool active) {
  Slot* slot = Find(key);
  if (slot == nullptr)
    spill().Set(key, StoredValue(content_hash, active));
  else if (slot->key != 0)
    slot->value = StoredValue(content_hash, active);
}

}  // namespace voisinage
