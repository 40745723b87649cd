// The mapping loader (import --mapping) on any YAML text, for the header of the town hall's spreadsheet in
// tests/data/registries/mairie_commerces.csv; when the mapping loads, that spreadsheet's rows are mapped
// with it. Refusing the mapping with an Error and a row with RowRejected are expected outcomes.

#include "lib/error.h"
#include "lib/registry/row_mapper.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace voisinage;
  static const std::string spreadsheet = fuzz::SourcePath("tests/data/registries/mairie_commerces.csv");
  const std::string mapping = fuzz::WriteScratchFile("mapping.yaml", fuzz::AsText(data, size));
  std::unique_ptr<CsvReader> reader = CsvReader::Open(spreadsheet, {});
  const char* kind = size > 0 && (data[0] & 1) ? "association" : "merchant";
  std::unique_ptr<RowMapper> mapper;
  try {
    mapper = MakeMappingMapper(mapping, kind, reader->header(), {});
  } catch (const Error& e) {
    FUZZ_CHECK(*e.what() != '\0');
    return 0;
  }
  CsvRecord record;
  while (reader->Next(record)) {
    DirectoryEntry entry;
    try {
      if (mapper->Map(record, entry)) FUZZ_CHECK(entry.kind == kind);
    } catch (const RowRejected&) {
    }
  }
  return 0;
}
