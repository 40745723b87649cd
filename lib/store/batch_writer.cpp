#include "lib/store/batch_writer.h"

#include <sqlite3.h>

namespace voisinage {

namespace {

// Work per transaction at most: a transaction stays short even when a flood of requests is waiting.
constexpr size_t kMaxBatch = 256;

}  // namespace

BatchWriter::BatchWriter(const std::string& db_path, int busy_timeout_ms, std::chrono::microseconds pause)
    : db_(Db::Open(db_path, OpenMode::kExisting, busy_timeout_ms)),
      pause_(pause),
      thread_([this] { Loop(); }) {}

BatchWriter::~BatchWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_one();
  thread_.join();
}

int64_t BatchWriter::batches() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

void BatchWriter::Submit(std::function<void(Db&)> work) {
  Task task{std::move(work), nullptr, false};
  std::unique_lock lock(mutex_);
  queue_.push_back(&task);
  work_ready_.notify_one();
  work_done_.wait(lock, [&task] { return task.done; });
  lock.unlock();
  if (task.error) std::rethrow_exception(task.error);
}

void BatchWriter::Loop() {
  std::deque<Task*> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to write
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    Commit(batch);
    {
      std::lock_guard lock(mutex_);
      ++batches_;
      for (Task* task : batch) task->done = true;
    }
    work_done_.notify_all();
    batch.clear();
    std::this_thread::sleep_for(pause_);
  }
}

void BatchWriter::Commit(std::deque<Task*>& batch) {
  try {
    auto transaction = db_.Write();
    for (Task* task : batch) {
      try {
        auto savepoint = db_.Write();
        task->work(db_);
        savepoint.commit();
      } catch (...) {
        task->error = std::current_exception();
      }
      // Some errors (a full disk, an I/O error) make SQLite roll the whole transaction back: what the
      // earlier work wrote is gone with it.
      if (sqlite3_get_autocommit(db_.sql().getHandle()))
        throw SQLite::Exception("the transaction was rolled back", SQLITE_ABORT);
    }
    transaction.commit();
  } catch (...) {
    const std::exception_ptr error = std::current_exception();
    for (Task* task : batch)
      if (!task->error) task->error = error;
  }
}

}  // namespace voisinage
