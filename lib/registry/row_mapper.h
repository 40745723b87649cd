#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lib/error.h"
#include "lib/registry/csv_reader.h"
#include "lib/registry/directory.h"

namespace voisinage {

/// Thrown by a RowMapper for a row that cannot be imported; the message is the reject report's reason.
class RowRejected : public Error {
 public:
  using Error::Error;
};

/// Which rows an import keeps; empty sets keep everything.
struct RowFilter {
  std::unordered_set<std::string> communes;   ///< INSEE codes
  bool local_shops_only = false;              ///< --naf local
  std::unordered_set<std::string> naf_codes;  ///< --naf CODE,...
};

/// Turns the records of one file format into directory entries.
class RowMapper {
 public:
  virtual ~RowMapper() = default;
  /// "sirene", "rna", "rna-import" or "csv".
  virtual std::string format() const = 0;
  /// The column holding the commune's INSEE code, for the reader's cheap pre-filter.
  virtual std::optional<size_t> commune_column() const = 0;
  /// Fills `entry` (kind, key, fields, status) from `record`; false when the filter leaves the row out.
  /// Throws RowRejected with the reason when the row is invalid. `record` must be well formed (no `error`)
  /// and have as many fields as the header the mapper was made for: the import rejects other records
  /// before mapping them.
  virtual bool Map(const CsvRecord& record, DirectoryEntry& entry) = 0;
};

/// Finds columns by header name.
class HeaderIndex {
 public:
  explicit HeaderIndex(const std::vector<std::string>& header);
  std::optional<size_t> Find(const std::string& name) const;
  bool Has(const std::string& name) const { return Find(name).has_value(); }
  /// The names among `required` that the header lacks.
  std::vector<std::string> Missing(const std::vector<std::string>& required) const;
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, size_t> index_;
};

/// What a header looks like, for "wrong format" messages: "a SIRENE establishment file", "an RNA file"...
std::string DescribeHeader(const std::vector<std::string>& header);

/// SIRENE StockEtablissement (with or without the geolocation columns). Throws Error naming the missing
/// columns when the header is not one.
std::unique_ptr<RowMapper> MakeSireneMapper(const std::vector<std::string>& header, const RowFilter& filter);

/// RNA waldec (39 or 41 columns) and RNA import files. Throws Error naming the missing columns.
std::unique_ptr<RowMapper> MakeRnaMapper(const std::vector<std::string>& header, const RowFilter& filter);

/// A town hall's CSV described by a YAML mapping file (see voisinage-import(1)). Throws Error with the
/// mapping's file and line when it names an unknown field, transformation or a column the header lacks.
std::unique_ptr<RowMapper> MakeMappingMapper(const std::string& mapping_path, const std::string& kind,
                                             const std::vector<std::string>& header, const RowFilter& filter);

/// The Luhn check of a 14-digit SIRET (with La Poste's own rule for its establishments).
bool IsValidSiret(std::string_view siret);

/// "W" then 9 letters or digits, e.g. W9T1002867.
bool IsValidRnaNumber(std::string_view id);

/// A French phone number in E.164 ("01 64 70 80 90" → "+33164708090"). Throws RowRejected otherwise.
std::string NormalisePhone(std::string_view phone);

/// The registries' street-type abbreviations spelt out ("AV" → "AVENUE"); other text is returned as is.
std::string_view ExpandStreetType(std::string_view code);

/// The registries' repetition index spelt out ("B" → "BIS", "T" → "TER").
std::string_view ExpandRepetition(std::string_view code);

/// Converts Lambert-93 coordinates (metres, as in SIRENE) to WGS84.
void Lambert93ToWgs84(double x, double y, double& lat, double& lon);

}  // namespace voisinage
