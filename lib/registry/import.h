#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/registry/csv_reader.h"
#include "lib/store/db.h"

namespace voisinage {

/// What `import merchants|associations` was asked to do.
struct ImportRequest {
  std::string kind;     ///< merchant | association
  std::string format;   ///< sirene | rna | csv; empty: sirene for merchants, rna for associations
  std::string path;     ///< a file, "-" for standard input; .gz files are decompressed
  std::string mapping;  ///< YAML mapping file, required by the csv format
  std::vector<std::string> communes;  ///< INSEE codes; empty: the town's; {"all"}: no filter
  std::string naf;                    ///< "local", or comma-separated codes; empty: no filter (merchants)
  bool include_inactive = false;      ///< import new closed/dissolved entries too (--include-dissolved)
  bool dry_run = false;               ///< validate and count, write nothing
  bool strict = false;                ///< any rejected row: write nothing and fail
  CsvOptions csv;
};

/// A row that was not imported, for the reject report.
struct RejectedRow {
  int64_t line = 0;
  std::string reason;
  std::string raw;
};

struct ImportSummary {
  std::string file, kind, format, encoding, delimiter, sha256, filters;
  bool encoding_detected = false, delimiter_detected = false, dry_run = false;
  int64_t read = 0, inserted = 0, updated = 0, unchanged = 0, closed = 0, skipped = 0, rejected = 0;
  int64_t duplicates = 0;  ///< keys seen more than once in the file (the last row wins)
  int64_t unnamed = 0;     ///< entries kept without a public name
  int64_t located = 0;     ///< entries assigned to a neighbourhood
  int64_t duration_ms = 0;
  int64_t run_id = 0;      ///< import_run row, 0 for a dry run
  std::string started_at;  ///< set for runs read back by ImportHistory
};

/// Progress of a running import, for a progress bar.
struct ImportProgress {
  int64_t rows = 0;
  uint64_t bytes = 0, total_bytes = 0;
  double seconds = 0;
};

/// Receives rejected rows and progress while an import runs (the command line prints them).
class ImportObserver {
 public:
  virtual ~ImportObserver() = default;
  virtual void OnReject(const RejectedRow& /*row*/) {}
  virtual void OnProgress(const ImportProgress& /*progress*/) {}
};

/// Imports a registry file into the directory: upsert on the registry key (SIRET, RNA number, or the
/// mapping's key), each entry assigned to a neighbourhood (coordinates, then postcode), recorded in
/// import_run. The accepted rows are committed in one transaction; rejected rows are reported to `observer`.
/// Entries never disappear: an entry missing from a later file stays, a closed one is marked closed.
/// Throws Error (nothing written) for a file or mapping that cannot be used, or with `strict` when any row
/// is rejected.
ImportSummary RunImport(Db& db, const ImportRequest& request, ImportObserver& observer);

/// Every recorded import run, newest first.
std::vector<ImportSummary> ImportHistory(Db& db, int limit);

nlohmann::json ToJson(const ImportSummary& summary);

}  // namespace voisinage
