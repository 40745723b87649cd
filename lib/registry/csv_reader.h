#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace voisinage {

enum class Encoding { kUtf8, kUtf8Bom, kWindows1252 };

/// "utf-8", "utf-8 with BOM", "windows-1252".
std::string EncodingName(Encoding encoding);

/// Parses what a user may type: utf-8, utf8, windows-1252, cp1252, latin1, iso-8859-1 (case-insensitive;
/// ISO-8859-1 is read as Windows-1252, its superset for printable characters). Throws Error otherwise.
Encoding ParseEncoding(const std::string& name);

/// Parses a delimiter option: ",", ";", "$", "tab" or "\t". Throws Error otherwise.
char ParseDelimiter(const std::string& text);

/// How to read a CSV file; unset fields are detected from the beginning of the file.
struct CsvOptions {
  std::optional<char> delimiter;
  std::optional<Encoding> encoding;
  size_t max_record_bytes = 1 << 20;  ///< a longer record is rejected, and memory stays bounded
};

/// One record: fields converted to UTF-8. `error` is set (and `fields` may be incomplete) when the record is
/// malformed: unterminated quote, too long, invalid UTF-8.
struct CsvRecord {
  int64_t line = 0;                 ///< physical line where the record starts (1-based)
  std::vector<std::string> fields;  ///< UTF-8
  std::string_view raw;             ///< the record as in the file (at most 4 KiB), valid until the next read
  std::string error;
};

/// Streams records out of a CSV file in constant memory: RFC 4180 quoting (delimiters, quotes and newlines
/// inside quoted fields), CRLF or LF, UTF-8 with or without BOM or Windows-1252, gzip-compressed or not,
/// a file or standard input ("-"). The first record is the header.
class CsvReader {
 public:
  /// Opens and reads the header. Throws Error naming the file when it cannot be read, is empty, looks
  /// binary, or its header is malformed.
  static std::unique_ptr<CsvReader> Open(const std::string& path, const CsvOptions& options);
  virtual ~CsvReader() = default;

  const std::vector<std::string>& header() const { return header_; }
  char delimiter() const { return delimiter_; }
  Encoding encoding() const { return encoding_; }
  bool delimiter_detected() const { return delimiter_detected_; }
  bool encoding_detected() const { return encoding_detected_; }
  bool compressed() const { return compressed_; }

  /// Reads the next record; false at the end of the file. A malformed record is returned with its `error`
  /// set; throws Error naming the file when the rest of it cannot be read (a read error, corrupt or
  /// truncated gzip data).
  virtual bool Next(CsvRecord& record) = 0;

  /// Skips, without converting them, the records whose field `column` is not one of `values` (a cheap
  /// pre-filter for `--commune`); skipped records are counted by filtered().
  void SetFilter(size_t column, std::unordered_set<std::string> values);
  int64_t filtered() const { return filtered_; }

  /// Bytes of the file read so far, and its size when known (0 for standard input).
  virtual uint64_t bytes_read() const = 0;
  virtual uint64_t total_bytes() const = 0;

  /// SHA-256 of the file's bytes as stored (hex); complete once Next() returned false.
  virtual std::string Sha256() = 0;

 protected:
  std::vector<std::string> header_;
  char delimiter_ = ',';
  Encoding encoding_ = Encoding::kUtf8;
  bool delimiter_detected_ = false;
  bool encoding_detected_ = false;
  bool compressed_ = false;
  std::optional<size_t> filter_column_;
  std::unordered_set<std::string> filter_values_;
  int64_t filtered_ = 0;
};

/// True when `text` is valid UTF-8.
bool IsValidUtf8(std::string_view text);

/// Appends `bytes` (Windows-1252) to `out` as UTF-8.
void AppendWindows1252AsUtf8(std::string_view bytes, std::string& out);

}  // namespace voisinage
