#include "lib/registry/csv_reader.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "lib/error.h"

namespace voisinage {

std::string EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kUtf8:
      return "utf-8";
    case Encoding::kUtf8Bom:
      return "utf-8 with BOM";
    case Encoding::kWindows1252:
      return "windows-1252";
  }
  return "";
}

Encoding ParseEncoding(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), ::tolower);
  if (n == "utf-8" || n == "utf8") return Encoding::kUtf8;
  if (n == "utf-8-bom" || n == "utf-8 with bom") return Encoding::kUtf8Bom;
  if (n == "windows-1252" || n == "cp1252" || n == "latin1" || n == "latin-1" || n == "iso-8859-1" ||
      n == "iso8859-1" || n == "iso-8859-15")
    return Encoding::kWindows1252;
  throw Error(fmt::format("unknown encoding '{}'", name),
              "encodings: utf-8, windows-1252 (also read for iso-8859-1)");
}

char ParseDelimiter(const std::string& text) {
  if (text == "tab" || text == "\\t" || text == "\t") return '\t';
  if (text == "," || text == ";" || text == "$" || text == "|") return text[0];
  throw Error(fmt::format("unsupported delimiter '{}'", text), "delimiters: ',', ';', '$', '|' or 'tab'");
}

bool IsValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = s + text.size();
  while (s < end) {
    if (*s < 0x80) {
      ++s;
      continue;
    }
    int extra = (*s & 0xE0) == 0xC0 ? 1 : (*s & 0xF0) == 0xE0 ? 2 : (*s & 0xF8) == 0xF0 ? 3 : -1;
    if (extra < 0 || *s == 0xC0 || *s == 0xC1 || *s > 0xF4 || end - s <= extra) return false;
    uint32_t cp = *s & (0x3F >> extra);
    for (int i = 1; i <= extra; ++i) {
      if ((s[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i] & 0x3F);
    }
    // Overlong forms and surrogates are invalid.
    if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    s += extra + 1;
  }
  return true;
}

void AppendWindows1252AsUtf8(std::string_view bytes, std::string& out) {
  // 0x80..0x9F differ from ISO-8859-1; undefined positions keep their C1 code point, as browsers do.
  static const uint16_t kHigh[32] = {0x20AC, 0x81,   0x201A, 0x192,  0x201E, 0x2026, 0x2020, 0x2021,
                                     0x2C6,  0x2030, 0x160,  0x2039, 0x152,  0x8D,   0x17D,  0x8F,
                                     0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                     0x2DC,  0x2122, 0x161,  0x203A, 0x153,  0x9D,   0x17E,  0x178};
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out += char(c);
      continue;
    }
    uint32_t cp = c < 0xA0 ? kHigh[c - 0x80] : c;
    if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
    } else {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
    }
    out += char(0x80 | (cp & 0x3F));
  }
}

void CsvReader::SetFilter(size_t column, std::unordered_set<std::string> values) {
  filter_column_ = column;
  filter_values_ = std::move(values);
}

namespace {

constexpr size_t kChunk = 1 << 20;
constexpr size_t kRawKept = 4096;

// Bytes left uninitialised: only those read into the buffer are ever looked at, and zeroing its megabytes
// would cost more than reading a small file (a mapping's spreadsheet, a town hall's list).
class ByteBuffer {
 public:
  explicit ByteBuffer(size_t size = 0) : bytes_(std::make_unique_for_overwrite<char[]>(size)), size_(size) {}
  char* data() { return bytes_.get(); }
  size_t size() const { return size_; }
  char operator[](size_t i) const { return bytes_[i]; }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t size_;
};

// SHA-256 of the raw bytes, computed on the other core: libsodium's portable SHA-256 is slower than the
// parsing itself. The queue is bounded, so memory stays constant.
class BackgroundSha256 {
 public:
  BackgroundSha256() {
    if (sodium_init() < 0) throw Error("cannot initialise libsodium");
    crypto_hash_sha256_init(&state_);
    thread_ = std::thread([this] { Work(); });
  }
  ~BackgroundSha256() { Close(); }

  void Add(const char* data, size_t size) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [this] { return queue_.size() < kMaxQueued; });
    std::vector<char> chunk;
    if (!spare_.empty()) {
      chunk = std::move(spare_.back());
      spare_.pop_back();
    }
    chunk.assign(data, data + size);
    queue_.push_back(std::move(chunk));
    ready_.notify_one();
  }

  std::string Hex() {
    Close();
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state copy = state_;
    crypto_hash_sha256_final(&copy, digest);
    char hex[sizeof digest * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return hex;
  }

 private:
  static constexpr size_t kMaxQueued = 8;

  void Work() {
    for (;;) {
      std::vector<char> chunk;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !queue_.empty() || closed_; });
        if (queue_.empty()) return;
        chunk = std::move(queue_.front());
        queue_.pop_front();
        room_.notify_one();
      }
      crypto_hash_sha256_update(&state_, reinterpret_cast<unsigned char*>(chunk.data()), chunk.size());
      std::lock_guard lock(mutex_);
      spare_.push_back(std::move(chunk));
    }
  }

  void Close() {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      ready_.notify_one();
    }
    thread_.join();
  }

  crypto_hash_sha256_state state_;
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::deque<std::vector<char>> queue_;
  std::vector<std::vector<char>> spare_;
  bool closed_ = false;
  std::thread thread_;
};

// The file's bytes: hashed as stored, inflated when gzip-compressed.
class RawInput {
 public:
  explicit RawInput(const std::string& path) : path_(path) {
    if (path == "-") {
      fd_ = STDIN_FILENO;
    } else {
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) throw Error(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
      owns_fd_ = true;
      struct stat st;
      if (::fstat(fd_, &st) == 0) {
        if (S_ISDIR(st.st_mode)) throw Error(fmt::format("cannot read '{}': it is a directory", path));
        if (S_ISREG(st.st_mode)) total_ = st.st_size;
      }
    }
    // A small file needs no megabyte (one byte more than the file: its end is seen in one read).
    raw_ = ByteBuffer(total_ > 0 ? std::min<uint64_t>(kChunk, total_ + 1) : kChunk);
    FillRaw();
    compressed_ = raw_len_ >= 2 && static_cast<unsigned char>(raw_[0]) == 0x1f &&
                  static_cast<unsigned char>(raw_[1]) == 0x8b;
    if (compressed_) {
      std::memset(&z_, 0, sizeof z_);
      if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw Error("cannot initialise zlib");
    }
  }
  ~RawInput() {
    if (compressed_) inflateEnd(&z_);
    if (owns_fd_) ::close(fd_);
  }

  bool compressed() const { return compressed_; }
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t total() const { return total_; }

  // Up to `capacity` bytes of content; 0 at the end.
  size_t Read(char* out, size_t capacity) {
    if (!compressed_) {
      if (raw_pos_ == raw_len_ && !FillRaw()) return 0;
      size_t n = std::min(capacity, raw_len_ - raw_pos_);
      std::memcpy(out, raw_.data() + raw_pos_, n);
      raw_pos_ += n;
      return n;
    }
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = static_cast<uInt>(capacity);
    while (z_.avail_out == capacity) {
      if (raw_pos_ == raw_len_ && !FillRaw()) {
        if (!stream_ended_) throw Error(fmt::format("'{}': the gzip stream is truncated", path_));
        break;
      }
      if (stream_ended_) {  // another gzip member follows
        inflateReset(&z_);
        stream_ended_ = false;
      }
      z_.next_in = reinterpret_cast<Bytef*>(raw_.data() + raw_pos_);
      z_.avail_in = static_cast<uInt>(raw_len_ - raw_pos_);
      int rc = inflate(&z_, Z_NO_FLUSH);
      raw_pos_ = raw_len_ - z_.avail_in;
      if (rc == Z_STREAM_END)
        stream_ended_ = true;
      else if (rc != Z_OK && rc != Z_BUF_ERROR)
        throw Error(fmt::format("'{}': corrupt gzip data ({})", path_, z_.msg ? z_.msg : "inflate failed"));
    }
    return capacity - z_.avail_out;
  }

  std::string Sha256() { return sha_.Hex(); }

 private:
  bool FillRaw() {
    ssize_t n;
    do n = ::read(fd_, raw_.data(), raw_.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) throw Error(fmt::format("cannot read '{}': {}", path_, std::strerror(errno)));
    raw_pos_ = 0;
    raw_len_ = static_cast<size_t>(n);
    bytes_read_ += raw_len_;
    if (raw_len_ > 0) sha_.Add(raw_.data(), raw_len_);
    return n > 0;
  }

  std::string path_;
  int fd_ = -1;
  bool owns_fd_ = false;
  uint64_t total_ = 0;
  uint64_t bytes_read_ = 0;
  ByteBuffer raw_;
  size_t raw_pos_ = 0, raw_len_ = 0;
  bool compressed_ = false;
  bool stream_ended_ = false;
  z_stream z_;
  BackgroundSha256 sha_;
};

class StreamCsvReader final : public CsvReader {
 public:
  StreamCsvReader(const std::string& path, const CsvOptions& options)
      : path_(path), options_(options), input_(path) {
    compressed_ = input_.compressed();
    // The whole of a small file is the detection sample, as it would be in a megabyte's buffer; a compressed
    // file may inflate to more than its size.
    const uint64_t total = input_.total();
    buffer_ = ByteBuffer((total > 0 && !compressed_ ? std::min<uint64_t>(kChunk, total + 1) : kChunk) +
                         options.max_record_bytes);
    Fill();
    std::string_view sample(buffer_.data(), end_);
    if (sample.empty())
      throw Error(fmt::format("'{}' is empty", path), "expected a CSV file with a header line");
    if (sample.starts_with("\xFF\xFE") || sample.starts_with("\xFE\xFF"))
      throw Error(fmt::format("'{}' is UTF-16, which is not supported", path),
                  "save it as UTF-8 or Windows-1252 CSV");
    if (sample.find('\0') != std::string_view::npos)
      throw Error(fmt::format("'{}' looks like a binary file, not CSV", path),
                  "expected a text file with a header line");
    bool bom = sample.starts_with("\xEF\xBB\xBF");
    if (bom) pos_ = 3;
    if (options.encoding) {
      encoding_ = *options.encoding;
      if (encoding_ == Encoding::kUtf8 && bom) encoding_ = Encoding::kUtf8Bom;
    } else {
      encoding_detected_ = true;
      // A sample cut in the middle of a character is still UTF-8: drop its last 3 bytes before checking.
      std::string_view body = sample.substr(pos_, sample.size() - pos_ - (end_ == buffer_.size() ? 3 : 0));
      encoding_ = bom ? Encoding::kUtf8Bom : IsValidUtf8(body) ? Encoding::kUtf8 : Encoding::kWindows1252;
    }
    if (options.delimiter) {
      delimiter_ = *options.delimiter;
    } else {
      delimiter_detected_ = true;
      delimiter_ = DetectDelimiter(sample.substr(pos_));
    }
    CsvRecord header;
    if (!Next(header))
      throw Error(fmt::format("'{}' is empty", path), "expected a CSV file with a header line");
    if (!header.error.empty()) throw Error(fmt::format("'{}': line 1: {}", path, header.error));
    for (std::string& name : header.fields) {
      name.erase(0, name.find_first_not_of(" \t"));
      name.erase(name.find_last_not_of(" \t") + 1);
    }
    header_ = std::move(header.fields);
  }

  bool Next(CsvRecord& record) override {
    for (;;) {
      record.error.clear();
      if (pos_ == end_ && !Fill()) return false;
      const char* start = buffer_.data() + pos_;
      const char* stop = buffer_.data() + end_;
      // Blank lines between records are ignored.
      if (*start == '\n' || (*start == '\r' && start + 1 < stop && start[1] == '\n')) {
        pos_ += *start == '\n' ? 1 : 2;
        ++line_;
        continue;
      }
      const char* newline = static_cast<const char*>(std::memchr(start, '\n', stop - start));
      if (newline == nullptr && !eof_) {
        if (!MakeRoom()) return SkipOverlong(record);
        continue;
      }
      const char* line_end = newline ? newline : stop;
      if (static_cast<size_t>(line_end - start) > options_.max_record_bytes) return SkipOverlong(record);
      if (std::memchr(start, '"', line_end - start) == nullptr) {
        size_t next = (newline ? newline + 1 : stop) - buffer_.data();
        std::string_view line(start, line_end - start);
        if (line.ends_with('\r')) line.remove_suffix(1);
        record.line = line_;
        ++line_;
        pos_ = next;
        if (Filtered(line)) continue;
        SplitPlain(line, record);
        return Finish(record, line);
      }
      int outcome = ParseQuoted(record);
      if (outcome == kTooLong) return SkipOverlong(record);
      if (outcome == kNeedMore) {
        if (!MakeRoom()) return SkipOverlong(record);
        continue;
      }
      if (outcome == kFiltered) continue;
      return true;
    }
  }

  uint64_t bytes_read() const override { return input_.bytes_read(); }
  uint64_t total_bytes() const override { return input_.total(); }
  std::string Sha256() override { return input_.Sha256(); }

 private:
  static constexpr int kDone = 0, kNeedMore = 1, kFiltered = 2, kTooLong = 3;

  char DetectDelimiter(std::string_view sample) const {
    std::string_view first_line = sample.substr(0, sample.find('\n'));
    const char candidates[] = {',', ';', '\t', '$', '|'};
    char best = ',';
    size_t best_count = 0;
    for (char c : candidates) {
      size_t count = 0;
      bool quoted = false;
      for (char x : first_line) {
        if (x == '"')
          quoted = !quoted;
        else if (x == c && !quoted)
          ++count;
      }
      if (count > best_count) {
        best = c;
        best_count = count;
      }
    }
    return best;
  }

  // Moves the unread bytes to the front and reads more; false at the end of the input.
  bool Fill() {
    if (eof_) return false;
    if (pos_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    size_t n = input_.Read(buffer_.data() + end_, buffer_.size() - end_);
    if (n == 0) eof_ = true;
    end_ += n;
    return n > 0;
  }

  // Makes room for a longer record; false when the record exceeds the limit.
  bool MakeRoom() {
    if (end_ - pos_ >= options_.max_record_bytes) return false;
    if (!Fill()) eof_ = true;
    return true;
  }

  // Drops a record longer than the limit, reading on to the next newline in constant memory.
  bool SkipOverlong(CsvRecord& record) {
    record.line = line_;
    record.fields.clear();
    record.raw = std::string_view(buffer_.data() + pos_, std::min<size_t>(kRawKept, end_ - pos_));
    record.error = fmt::format("the record is longer than {} bytes", options_.max_record_bytes);
    // Resynchronise on the next newline, reading in constant memory.
    for (;;) {
      const char* start = buffer_.data() + pos_;
      const char* newline = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
      if (newline != nullptr) {
        ++line_;
        pos_ = newline + 1 - buffer_.data();
        return true;
      }
      pos_ = end_;
      if (!Fill()) return true;
    }
  }

  bool Filtered(std::string_view line) {
    if (!filter_column_) return false;
    size_t begin = 0;
    for (size_t i = 0; i < *filter_column_; ++i) {
      size_t d = line.find(delimiter_, begin);
      if (d == std::string_view::npos) return false;  // too few fields: let the caller reject it
      begin = d + 1;
    }
    size_t d = line.find(delimiter_, begin);
    std::string value(line.substr(begin, d == std::string_view::npos ? std::string_view::npos : d - begin));
    if (filter_values_.count(value)) return false;
    ++filtered_;
    return true;
  }

  void SplitPlain(std::string_view line, CsvRecord& record) {
    size_t count = 0, begin = 0;
    for (;;) {
      size_t d = line.find(delimiter_, begin);
      std::string_view field =
          line.substr(begin, d == std::string_view::npos ? std::string_view::npos : d - begin);
      if (record.fields.size() <= count) record.fields.emplace_back();
      record.fields[count++].assign(field);
      if (d == std::string_view::npos) break;
      begin = d + 1;
    }
    record.fields.resize(count);
  }

  // Parses one record with quotes from pos_. Consumes it only when complete.
  int ParseQuoted(CsvRecord& record) {
    const char* const begin = buffer_.data() + pos_;
    const char* const stop = buffer_.data() + end_;
    const char* p = begin;
    size_t count = 0;
    int64_t newlines = 0;
    bool field_open = true;
    auto field = [&]() -> std::string& {
      if (record.fields.size() <= count) record.fields.emplace_back();
      return record.fields[count];
    };
    field().clear();
    for (;;) {
      if (p == stop) {
        if (!eof_) return kNeedMore;
        break;
      }
      if (*p == '"' && field().empty() && field_open) {
        // A quoted field: up to the closing quote, "" standing for one quote.
        const char* q = p + 1;
        std::string& out = field();
        for (;;) {
          const char* quote = static_cast<const char*>(std::memchr(q, '"', stop - q));
          if (quote == nullptr) {
            if (!eof_) return kNeedMore;
            out.append(q, stop - q);
            newlines += std::count(q, stop, '\n');
            record.line = line_;
            record.error =
                fmt::format("unterminated quote (the field opened on line {} never closes)", line_);
            record.raw = std::string_view(begin, std::min<size_t>(kRawKept, stop - begin));
            line_ += newlines;
            pos_ = end_;
            return kDone;
          }
          out.append(q, quote - q);
          newlines += std::count(q, quote, '\n');
          if (quote + 1 == stop && !eof_) return kNeedMore;
          if (quote + 1 < stop && quote[1] == '"') {
            out += '"';
            q = quote + 2;
            continue;
          }
          p = quote + 1;
          break;
        }
        field_open = false;
        continue;
      }
      if (*p == delimiter_) {
        ++count;
        field().clear();
        field_open = true;
        ++p;
        continue;
      }
      if (*p == '\n' || (*p == '\r' && p + 1 < stop && p[1] == '\n') ||
          (*p == '\r' && p + 1 == stop && eof_)) {
        p += *p == '\n' ? 1 : (p + 1 < stop ? 2 : 1);
        ++newlines;
        break;
      }
      if (*p == '\r' && p + 1 == stop) return kNeedMore;
      // Lenient: text after a closing quote, or a quote inside an unquoted field, is kept as is.
      field() += *p;
      ++p;
    }
    if (static_cast<size_t>(p - begin) > options_.max_record_bytes) return kTooLong;
    record.fields.resize(count + 1);
    record.line = line_;
    std::string_view raw(begin, p - begin);
    while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r')) raw.remove_suffix(1);
    line_ += newlines;
    pos_ = p - buffer_.data();
    if (filter_column_ && record.fields.size() > *filter_column_ &&
        !filter_values_.count(record.fields[*filter_column_])) {
      ++filtered_;
      return kFiltered;
    }
    Finish(record, raw);
    return kDone;
  }

  // Converts the fields to UTF-8 (or checks they are) and keeps the raw record for reports.
  bool Finish(CsvRecord& record, std::string_view raw) {
    record.raw = raw.substr(0, kRawKept);
    for (size_t i = 0; i < record.fields.size(); ++i) {
      std::string& field = record.fields[i];
      bool ascii = std::all_of(field.begin(), field.end(),
                               [](char c) { return static_cast<unsigned char>(c) < 0x80; });
      if (ascii) continue;
      if (encoding_ == Encoding::kWindows1252) {
        scratch_.clear();
        AppendWindows1252AsUtf8(field, scratch_);
        field.swap(scratch_);
      } else if (!IsValidUtf8(field) && record.error.empty()) {
        std::string column = i < header_.size() ? header_[i] : std::to_string(i + 1);
        record.error = fmt::format("invalid UTF-8 in column '{}'", column);
      }
    }
    return true;
  }

  std::string path_;
  CsvOptions options_;
  RawInput input_;
  ByteBuffer buffer_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_ = 1;
  std::string scratch_;
};

}  // namespace

std::unique_ptr<CsvReader> CsvReader::Open(const std::string& path, const CsvOptions& options) {
  return std::make_unique<StreamCsvReader>(path, options);
}

}  // namespace voisinage
