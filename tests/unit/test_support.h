#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include "lib/store/db.h"
#include "lib/town/town_apply.h"

namespace voisinage::test {

inline std::string SourcePath(const std::string& relative) {
  return std::string(VOISINAGE_SOURCE_DIR) + "/" + relative;
}

/// The town-hall clerk of examples/thomery.yaml.
inline const std::string kTownHall = "marie.lefevre@mairie-thomery.example.fr";

/// An in-memory database with examples/thomery.yaml applied.
inline Db ThomeryDb() {
  Db db = Db::OpenInMemory();
  ApplyTownFile(db, LoadTownFile(SourcePath("examples/thomery.yaml")), false);
  return db;
}

/// The single integer a query returns, such as "SELECT count(*) FROM ...".
inline int64_t Count(Db& db, const std::string& sql) {
  return db.sql().execAndGet(sql).getInt64();
}

/// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "voisinage-unit-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }
  void Write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name) << content;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace voisinage::test
