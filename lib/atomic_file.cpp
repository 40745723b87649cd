#include "lib/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "lib/error.h"

namespace voisinage {

namespace {

constexpr std::string_view kTemporaryPrefix = ".voisinage-";

// ".voisinage-" and six characters of mkstemp, perhaps followed by a SQLite companion's suffix.
bool IsTemporaryName(std::string_view name) {
  if (!name.starts_with(kTemporaryPrefix) || name.size() < kTemporaryPrefix.size() + 6) return false;
  const std::string_view rest = name.substr(kTemporaryPrefix.size() + 6);
  return rest.empty() || rest == "-wal" || rest == "-shm" || rest == "-journal";
}

void RemoveStaleTemporaryFiles(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto stale_before = fs::file_time_type::clock::now() - std::chrono::hours(24);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ignored;
    if (IsTemporaryName(it->path().filename().string()) && it->is_regular_file(ignored) &&
        fs::last_write_time(it->path(), ignored) < stale_before)
      fs::remove(it->path(), ignored);
  }
}

}  // namespace

int CreateTemporaryFile(const std::filesystem::path& dir, std::string& path) {
  RemoveStaleTemporaryFiles(dir);
  path = (dir / (std::string(kTemporaryPrefix) + "XXXXXX")).string();
  return ::mkstemp(path.data());
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  const std::filesystem::path target(path_);
  // Renaming over a device, a pipe or a directory would replace it with a plain file.
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(target, ec);
  if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw Error(fmt::format("cannot write '{}': it is not a regular file", path_),
                "give the path of a file (or '-' for standard output where the command allows it)");
  int fd = CreateTemporaryFile(target.has_parent_path() ? target.parent_path() : ".", temp_path_);
  if (fd < 0) throw Error(fmt::format("cannot write '{}': {}", path_, std::strerror(errno)));
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    ::close(fd);
    ::unlink(temp_path_.c_str());
    throw Error(fmt::format("cannot write '{}': {}", path_, std::strerror(errno)));
  }
}

AtomicFile::~AtomicFile() {
  if (file_ == nullptr) return;
  std::fclose(file_);
  ::unlink(temp_path_.c_str());
}

void AtomicFile::Write(std::string_view data) {
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size())
    throw Error(fmt::format("cannot write '{}': {}", path_, std::strerror(errno)));
}

void AtomicFile::Commit() {
  if (file_ == nullptr) throw Error(fmt::format("'{}' was already written", path_));
  bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  int error = errno;
  ok = std::fclose(file_) == 0 && ok;
  file_ = nullptr;
  if (!ok || ::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    if (ok) error = errno;
    ::unlink(temp_path_.c_str());
    throw Error(fmt::format("cannot write '{}': {}", path_, std::strerror(error)));
  }
}

class AtomicFileStream::Buffer : public std::streambuf {
 public:
  explicit Buffer(std::string path) : file(std::move(path)) {}
  AtomicFile file;

 protected:
  std::streamsize xsputn(const char* data, std::streamsize size) override {
    file.Write(std::string_view(data, static_cast<size_t>(size)));
    return size;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char one = traits_type::to_char_type(c);
    file.Write(std::string_view(&one, 1));
    return c;
  }
};

AtomicFileStream::AtomicFileStream(std::string path)
    : std::ostream(nullptr), buffer_(std::make_unique<Buffer>(std::move(path))) {
  rdbuf(buffer_.get());
  exceptions(std::ios::badbit);  // the Buffer's Error reaches the caller instead of a silent bad stream
}

AtomicFileStream::~AtomicFileStream() = default;

void AtomicFileStream::Commit() {
  buffer_->file.Commit();
}

void WriteFileAtomically(const std::string& path, std::string_view content) {
  AtomicFile file(path);
  file.Write(content);
  file.Commit();
}

}  // namespace voisinage
