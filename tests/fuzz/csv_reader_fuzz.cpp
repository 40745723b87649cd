// The CSV reader on any file: the bytes opened with delimiter and encoding detected, then again with the
// delimiter and encoding chosen by the first byte. Every record is read; the header's promises are checked.

#include "lib/error.h"
#include "lib/registry/csv_reader.h"
#include "tests/fuzz/fuzz_support.h"

namespace voisinage {
namespace {

constexpr size_t kMaxRecordBytes = 4096;  // small, so that the fuzzer reaches the too-long record

void ReadAll(const std::string& path, CsvOptions options) {
  options.max_record_bytes = kMaxRecordBytes;
  std::unique_ptr<CsvReader> reader;
  try {
    reader = CsvReader::Open(path, options);
  } catch (const Error&) {
    return;  // empty, binary, or a malformed header: refused with a message
  }
  for (const std::string& name : reader->header()) FUZZ_CHECK(IsValidUtf8(name));
  CsvRecord record;
  int64_t previous_line = 0;
  for (;;) {
    try {
      if (!reader->Next(record)) break;
    } catch (const Error& e) {
      FUZZ_CHECK(*e.what() != '\0');  // unreadable from here on (corrupt or truncated gzip data)
      return;
    }
    FUZZ_CHECK(record.raw.size() <= 4096);
    FUZZ_CHECK(record.line > previous_line);
    previous_line = record.line;
    if (record.error.empty())
      for (const std::string& field : record.fields) FUZZ_CHECK(IsValidUtf8(field));
  }
  FUZZ_CHECK(reader->Sha256().size() == 64);
}

}  // namespace
}  // namespace voisinage

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace voisinage;
  const std::string path = fuzz::WriteScratchFile("input.csv", fuzz::AsText(data, size));
  ReadAll(path, {});
  if (size > 0) {
    static const char kDelimiters[] = {',', ';', '$', '|', '\t'};
    static const Encoding kEncodings[] = {Encoding::kUtf8, Encoding::kUtf8Bom, Encoding::kWindows1252};
    CsvOptions forced;
    forced.delimiter = kDelimiters[data[0] % 5];
    forced.encoding = kEncodings[(data[0] / 5) % 3];
    ReadAll(path, forced);
  }
  return 0;
}
