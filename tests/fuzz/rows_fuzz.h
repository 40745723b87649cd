#pragma once

// sirene_rows and rna_rows: a real header of the registry (tests/fuzz/headers/, chosen by the input's first
// byte), the rest of the input as the body, read by the CSV reader and mapped by the real mapper. A row may
// be rejected (RowRejected); any other exception escaping Map() is a finding.

#include <map>
#include <vector>

#include "lib/registry/row_mapper.h"
#include "tests/fuzz/fuzz_support.h"

namespace voisinage::fuzz {

using MapperFactory = std::unique_ptr<RowMapper> (*)(const std::vector<std::string>&, const RowFilter&);

inline void MapRows(const std::vector<std::string>& headers, MapperFactory make_mapper, const uint8_t* data,
                    size_t size) {
  if (size == 0) return;
  static std::map<std::string, std::string> cache;
  const std::string& name = headers[data[0] % headers.size()];
  if (!cache.count(name)) cache[name] = ReadSourceFile("tests/fuzz/headers/" + name);
  std::string file = cache[name];
  file.append(AsText(data + 1, size - 1));
  const std::string path = WriteScratchFile("rows.csv", file);
  CsvOptions options;
  options.max_record_bytes = 8192;
  std::unique_ptr<CsvReader> reader;
  try {
    reader = CsvReader::Open(path, options);
  } catch (const Error&) {
    return;  // the body can make the header's encoding or delimiter detection fail
  }
  RowFilter filter;
  if (data[0] & 0x10) filter.communes = {"77463"};
  if (data[0] & 0x20) filter.local_shops_only = true;
  if (data[0] & 0x40) filter.naf_codes = {"10.71C", "47.76Z"};
  std::unique_ptr<RowMapper> mapper;
  try {
    mapper = make_mapper(reader->header(), filter);
  } catch (const Error&) {
    return;  // detection read the header differently (another delimiter): not this format
  }
  CsvRecord record;
  for (;;) {
    try {
      if (!reader->Next(record)) break;
    } catch (const Error&) {
      break;  // the body ends in corrupt gzip data, say: the import stops with the message
    }
    // The import rejects these before mapping (see RowMapper::Map).
    if (!record.error.empty() || record.fields.size() != reader->header().size()) continue;
    DirectoryEntry entry;
    try {
      if (mapper->Map(record, entry)) {
        FUZZ_CHECK(!entry.registry_key.empty());
        // Fields are UTF-8 in, so must they be out: a cut inside a character would reach the database.
        for (const std::string* text :
             {&entry.registry_key, &entry.name, &entry.short_name, &entry.activity_code,
              &entry.activity_label, &entry.description, &entry.address, &entry.postcode, &entry.city,
              &entry.insee, &entry.website, &entry.phone, &entry.email})
          FUZZ_CHECK(IsValidUtf8(*text));
      }
    } catch (const RowRejected& e) {
      FUZZ_CHECK(*e.what() != '\0');  // the reject report's reason
    }
  }
}

}  // namespace voisinage::fuzz
