#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace voisinage {

/// What an import has stored under each registry key so far: it tells duplicates apart, and lets the planning
/// phase see the rows it has planned as if they were written. Keys are kept as 64-bit hashes in memory, 16
/// bytes a key however long, up to about 1.5 million keys (32 MB); past that, in a temporary SQLite database
/// on disk, so that an import's memory stays bounded whatever the file's size.
class RunKeys {
 public:
  struct Stored {
    uint64_t content_hash;  ///< its two low bits are not kept: compare with SameContent()
    bool active;
  };

  /// Up to about 1.5 million keys in memory.
  static constexpr size_t kMaxPartSlots = 8192;

  /// `max_part_slots` (a power of two, at least 16) bounds the memory: 256 parts of that many 16-byte slots.
  explicit RunKeys(size_t max_part_slots = kMaxPartSlots);
  ~RunKeys();

  /// Records the key; false when it was already there.
  bool Insert(std::string_view key);
  /// What the run stored under `key`, if anything.
  std::optional<Stored> Get(std::string_view key);
  /// Stores under a key already inserted (nothing happens otherwise).
  void Set(std::string_view key, uint64_t content_hash, bool active);

  /// Keys kept on disk rather than in memory.
  int64_t spilled() const { return spilled_; }

 private:
  struct Slot {
    uint64_t key = 0;    // the key's hash, never 0; 0 marks an empty slot
    uint64_t value = 0;  // content hash, bit 1 set, bit 0 "active"; 0 when nothing is stored
  };
  // The memory is split in parts that grow one at a time, so that growing never holds two copies of it all.
  struct Part {
    std::vector<Slot> slots;
    size_t size = 0;
  };
  class Spill;

  // The key's slot in memory, or the empty slot it would take; nullptr when it is not in memory and its part
  // is full. Leaves the key's hash and part in hash_ and part_.
  Slot* Find(std::string_view key);
  void Grow(Part& part);
  Spill& spill();

  const size_t max_part_slots_;
  std::array<Part, 256> parts_;
  std::unique_ptr<Spill> spill_;
  int64_t spilled_ = 0;
  uint64_t hash_ = 0;
  Part* part_ = nullptr;
};

}  // namespace voisinage
