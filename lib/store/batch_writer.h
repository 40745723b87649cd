#pragma once

// Group commit: one thread writes the work of many others, several requests to a transaction.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>

#include "lib/store/db.h"

namespace voisinage {

/// Runs write work submitted by many threads on one connection, several pieces of work to a transaction.
/// Each piece runs in its own savepoint (a library function's own Write() nests one more): when it throws,
/// only its writes are undone and the exception reaches the thread that submitted it; the others are
/// committed. Run() returns once the transaction holding the work is committed, so a write it reports is on
/// disk (as far as `PRAGMA synchronous` says). One transaction for many requests writes each touched page to
/// the WAL once instead of once a request: the server's writes go from about a thousand to many thousands a
/// second.
///
/// Between two transactions the writer leaves the lock free for `pause` (2 ms by default), so that another
/// process's writer, which tries every millisecond (db.cpp), always gets its turn under heavy traffic.
class BatchWriter {
 public:
  BatchWriter(const std::string& db_path, int busy_timeout_ms,
              std::chrono::microseconds pause = std::chrono::milliseconds(2));
  ~BatchWriter();  ///< finishes the work already submitted
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  /// Runs `work(db)` on the writer's connection, inside its transaction; returns what it returns, or throws
  /// what it throws (SQLite::Exception when the transaction could not be committed: a busy or full disk).
  template <typename Work>
  auto Run(Work&& work) -> std::invoke_result_t<Work, Db&> {
    using Result = std::invoke_result_t<Work, Db&>;
    if constexpr (std::is_void_v<Result>) {
      Submit([&work](Db& db) { work(db); });
    } else {
      std::optional<Result> result;
      Submit([&work, &result](Db& db) { result.emplace(work(db)); });
      return std::move(*result);
    }
  }

  /// Transactions committed so far (tests, benchmarks).
  int64_t batches() const;

 private:
  struct Task {
    std::function<void(Db&)> work;
    std::exception_ptr error;
    bool done = false;
  };
  void Submit(std::function<void(Db&)> work);
  void Loop();
  void Commit(std::deque<Task*>& batch);

  Db db_;
  const std::chrono::microseconds pause_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  std::deque<Task*> queue_;  // guarded by mutex_
  bool stopping_ = false;    // guarded by mutex_
  int64_t batches_ = 0;      // guarded by mutex_
  std::thread thread_;       // last: started once the rest exists
};

}  // namespace voisinage
