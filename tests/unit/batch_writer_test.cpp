#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "lib/error.h"
#include "lib/store/batch_writer.h"
#include "lib/store/db.h"
#include "test_support.h"

using namespace voisinage;

namespace {

void AddSetting(Db& db, const std::string& key) {
  auto transaction = db.Write();
  db.sql().exec("INSERT INTO setting (key, value) VALUES ('" + key + "', 'x')");
  transaction.commit();
}

}  // namespace

TEST_CASE("a write begun inside another is a savepoint: undone alone, committed with the outer one") {
  Db db = Db::OpenInMemory();
  {
    auto outer = db.Write();
    AddSetting(db, "kept");
    try {
      auto inner = db.Write();
      db.sql().exec("INSERT INTO setting (key, value) VALUES ('undone', 'x')");
      throw Error("the inner work fails");
    } catch (const Error&) {
    }
    CHECK(db.writing());
    outer.commit();
  }
  CHECK_FALSE(db.writing());
  CHECK(test::Count(db, "SELECT count(*) FROM setting WHERE key = 'kept'") == 1);
  CHECK(test::Count(db, "SELECT count(*) FROM setting WHERE key = 'undone'") == 0);
  {
    auto outer = db.Write();
    AddSetting(db, "rolled back with the outer one");
  }
  CHECK(test::Count(db, "SELECT count(*) FROM setting WHERE key = 'rolled back with the outer one'") == 0);
}

TEST_CASE("a cached statement is reused, never shared by two uses at once, and holds no snapshot") {
  test::TempDir dir;
  Db db = Db::Open(dir.File("t.db"), OpenMode::kCreate);
  Db other = Db::Open(dir.File("t.db"), OpenMode::kExisting);
  const std::string sql = "SELECT count(*) FROM setting";
  SQLite::Statement* first = nullptr;
  {
    CachedStatement a = db.Prepare(sql);
    first = &*a;
    CHECK(a->executeStep());
    CachedStatement b = db.Prepare(sql);  // in use: a fresh one
    CHECK(&*b != first);
    CHECK(b->executeStep());
  }
  int64_t before = 0;
  {
    CachedStatement again = db.Prepare(sql);
    CHECK(&*again == first);
    REQUIRE(again->executeStep());
    before = again->getColumn(0).getInt64();
  }
  // Released after one step, it must not keep the connection reading an old snapshot.
  AddSetting(other, "written by another connection");
  CachedStatement after = db.Prepare(sql);
  REQUIRE(after->executeStep());
  CHECK(after->getColumn(0).getInt64() == before + 1);
}

TEST_CASE("the batch writer commits many threads' work in few transactions, failures alone") {
  test::TempDir dir;
  const std::string path = dir.File("t.db");
  { Db::Open(path, OpenMode::kCreate); }
  constexpr int kThreads = 8, kEach = 40;
  std::atomic<int> failed{0};
  int64_t batches = 0;
  {
    BatchWriter writer(path, 10000);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const std::string key = "k" + std::to_string(t) + "-" + std::to_string(i);
          try {
            writer.Run([&](Db& db) {
              AddSetting(db, key);
              if (i % 10 == 0) {
                AddSetting(db, key + "-then-fails");  // written, then undone with its own failure
                throw Error("this request is refused");
              }
            });
          } catch (const Error&) {
            ++failed;
          }
        }
      });
    for (std::thread& thread : threads) thread.join();
    CHECK(writer.Run([](Db& db) {
      return test::Count(db, "SELECT count(*) FROM setting WHERE key LIKE 'k%'");
    }) > 0);
    batches = writer.batches();
  }
  Db db = Db::Open(path, OpenMode::kExisting);
  CHECK(failed == kThreads * kEach / 10);
  CHECK(test::Count(db, "SELECT count(*) FROM setting WHERE key LIKE 'k%-then-fails'") == 0);
  CHECK(test::Count(db, "SELECT count(*) FROM setting WHERE key LIKE 'k%'") == kThreads * kEach - failed);
  CHECK(batches < kThreads * kEach / 2);  // grouped, not one transaction per piece of work
}
