#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace voisinage {

/// A file written under a temporary name in the target's directory and renamed over the target only by
/// Commit(), after a flush and fsync: readers never see a partial file, and an interrupted or failed write
/// (full disk, kill -9) leaves no file under the final name. Destroying an uncommitted AtomicFile removes
/// the temporary file.
class AtomicFile {
 public:
  /// Throws Error naming the path when the directory is missing or not writable.
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Throws Error (e.g. "no space left on device") when the data cannot be written.
  void Write(std::string_view data);
  void Commit();

 private:
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
};

/// An std::ostream over an AtomicFile, for exports that stream: nothing appears under `path` until Commit().
/// A write error (full disk) throws the AtomicFile's Error out of the stream operation.
class AtomicFileStream : public std::ostream {
 public:
  explicit AtomicFileStream(std::string path);
  ~AtomicFileStream() override;
  void Commit();

 private:
  class Buffer;
  std::unique_ptr<Buffer> buffer_;
};

/// Creates a new empty file `.voisinage-XXXXXX` in `dir` (mode 0600) for a file to be renamed or linked into
/// place once complete; sets `path` and returns its open descriptor, or -1 with errno. Such files that an
/// interrupted command (kill -9, power cut) left in `dir` more than a day ago are removed first, with their
/// SQLite companions (-wal, -shm, -journal).
int CreateTemporaryFile(const std::filesystem::path& dir, std::string& path);

/// Writes `content` to `path` through an AtomicFile.
void WriteFileAtomically(const std::string& path, std::string_view content);

}  // namespace voisinage
