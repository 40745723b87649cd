#include "lib/registry/import.h"

#include <chrono>

#include "lib/clock.h"
#include "lib/registry/naf.h"
#include "lib/registry/row_mapper.h"
#include "lib/text/strings.h"
#include "lib/town/locate.h"
#include "lib/town/town.h"
#include "lib/town/validation.h"

namespace voisinage {

using nlohmann::json;

namespace {

// Keys seen in this run, as 64-bit hashes in an open-addressing table: 8 bytes a row however long the key, so
// a million-row file costs a few megabytes.
class KeySet {
 public:
  /// Inserts; false when the key was already there.
  bool Insert(std::string_view key) {
    uint64_t hash = 1469598103934665603ull;
    for (unsigned char c : key) hash = (hash ^ c) * 1099511628211ull;
    hash |= 1;  // 0 marks an empty slot
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      if (slots_[i] == hash) return false;
      if (slots_[i] == 0) {
        slots_[i] = hash;
        ++size_;
        return true;
      }
    }
  }

 private:
  void Grow() {
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(std::max<size_t>(1024, old.size() * 2), 0);
    size_ = 0;
    size_t mask = slots_.size() - 1;
    for (uint64_t hash : old) {
      if (hash == 0) continue;
      size_t i = hash & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = hash;
      ++size_;
    }
  }

  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

std::string DelimiterName(char delimiter) {
  return delimiter == '\t' ? "tab" : std::string(1, delimiter);
}

RowFilter BuildFilter(Db& db, const ImportRequest& request, std::string& description) {
  RowFilter filter;
  std::vector<std::string> communes = request.communes;
  if (communes.empty()) {
    std::optional<Town> town = FindTown(db);
    if (!town)
      throw Error(
          "the database has no town, so there is no commune to import",
          "give --commune INSEE (or --commune all), or describe the town with 'voisinage init --from'");
    communes = {town->identity.insee};
  }
  if (!(communes.size() == 1 && communes[0] == "all")) {
    for (const std::string& insee : communes) {
      ValidateInsee(insee);
      filter.communes.insert(insee);
    }
    description = fmt::format("communes={}", fmt::join(communes, ","));
  } else {
    description = "communes=all";
  }
  if (!request.naf.empty()) {
    if (request.kind != "merchant") throw Error("--naf only applies to merchants");
    if (request.naf == "local") {
      filter.local_shops_only = true;
    } else {
      for (const std::string& code : Split(request.naf, ',')) {
        std::string normalised = NormaliseNafCode(code);
        if (normalised.empty())
          throw Error(fmt::format("invalid NAF code '{}'", code), "write codes like 47.22Z, or --naf local");
        filter.naf_codes.insert(normalised);
      }
    }
    description += "; naf=" + request.naf;
  }
  return filter;
}

std::unique_ptr<RowMapper> MakeMapper(const ImportRequest& request, const std::string& format,
                                      const std::vector<std::string>& header, const RowFilter& filter) {
  if (format == "csv") return MakeMappingMapper(request.mapping, request.kind, header, filter);
  if (format == "sirene") return MakeSireneMapper(header, filter);
  return MakeRnaMapper(header, filter);
}

class Importer {
 public:
  Importer(Db& db, const ImportRequest& request, ImportObserver& observer)
      : db_(db), request_(request), observer_(observer) {}

  ImportSummary Run() {
    const auto started = std::chrono::steady_clock::now();
    summary_.kind = request_.kind;
    summary_.dry_run = request_.dry_run;
    summary_.file = request_.path == "-" ? "(standard input)" : request_.path;
    summary_.format = request_.format;
    if (summary_.format.empty()) summary_.format = request_.kind == "merchant" ? "sirene" : "rna";
    const bool merchant = request_.kind == "merchant";
    if (!merchant && request_.kind != "association")
      throw Error(fmt::format("unknown kind '{}'", request_.kind));
    if (summary_.format != "csv" && summary_.format != (merchant ? "sirene" : "rna"))
      throw Error(
          fmt::format("format '{}' is not one for {}", summary_.format,
                      merchant ? "merchants" : "associations"),
          merchant ? "merchants come from sirene or csv files" : "associations come from rna or csv files");
    if (summary_.format == "csv" && request_.mapping.empty())
      throw Error("the csv format needs a mapping file", "give --mapping MAP.yaml (see voisinage-import(1))");
    if (summary_.format != "csv" && !request_.mapping.empty())
      throw Error("--mapping only applies to --format csv");

    RowFilter filter = BuildFilter(db_, request_, summary_.filters);
    std::unique_ptr<CsvReader> reader = CsvReader::Open(request_.path, request_.csv);
    summary_.encoding = EncodingName(reader->encoding());
    summary_.delimiter = DelimiterName(reader->delimiter());
    summary_.encoding_detected = reader->encoding_detected();
    summary_.delimiter_detected = reader->delimiter_detected();
    std::unique_ptr<RowMapper> mapper = MakeMapper(request_, summary_.format, reader->header(), filter);
    summary_.format = mapper->format();
    if (!filter.communes.empty() && mapper->commune_column())
      reader->SetFilter(*mapper->commune_column(), filter.communes);
    if (!filter.communes.empty() && !mapper->commune_column())
      summary_.filters += " (not applied: the mapping gives no 'insee' column)";
    encoding_ = reader->encoding();

    const Locator locator = Locator::Load(db_);
    auto transaction = db_.Write();
    const int64_t run_id = StartRun();
    DirectoryWriter writer(db_);
    KeySet seen;
    CsvRecord record;
    DirectoryEntry entry;
    const size_t columns = reader->header().size();
    auto last_report = std::chrono::steady_clock::now();
    while (reader->Next(record)) {
      ++summary_.read;
      if ((summary_.read & 0x3FFF) == 0) {
        auto now = std::chrono::steady_clock::now();
        if (now - last_report > std::chrono::milliseconds(200)) {
          last_report = now;
          observer_.OnProgress({summary_.read + reader->filtered(), reader->bytes_read(),
                                reader->total_bytes(), std::chrono::duration<double>(now - started).count()});
        }
      }
      if (!record.error.empty()) {
        Reject(record, record.error);
        continue;
      }
      if (record.fields.size() != columns) {
        Reject(record, fmt::format("the row has {} fields, the header has {}{}", record.fields.size(),
                                   columns, record.fields.size() < columns ? " (truncated line?)" : ""));
        continue;
      }
      try {
        if (!mapper->Map(record, entry)) {
          ++summary_.skipped;
          continue;
        }
      } catch (const RowRejected& e) {
        Reject(record, e.what());
        continue;
      }
      std::optional<Point> point;
      if (entry.lat && entry.lon) point = Point{*entry.lon, *entry.lat};
      Location location = locator.Locate(point, entry.postcode);
      entry.neighbourhood_id = location.neighbourhood_id;
      if (!seen.Insert(entry.registry_key)) ++summary_.duplicates;

      const PreparedEntry prepared = Prepare(std::move(entry));
      const bool wanted_if_new = prepared.entry.status == "active" || request_.include_inactive;
      // Most rows of a first import are new: try the insert first, look the key up only when it is taken.
      if (wanted_if_new && writer.InsertNew(prepared, run_id)) {
        ++summary_.inserted;
      } else if (std::optional<DirectoryWriter::Existing> existing =
                     writer.Find(prepared.entry.kind, prepared.entry.registry_key);
                 !existing) {
        ++summary_.skipped;  // a closed shop or dissolved association the directory never listed
        continue;
      } else if (existing->content_hash == prepared.content_hash) {
        ++summary_.unchanged;
      } else {
        writer.Update(existing->id, prepared, run_id);
        if (existing->status == "active" && prepared.entry.status != "active")
          ++summary_.closed;
        else
          ++summary_.updated;
      }
      if (prepared.entry.name.empty()) ++summary_.unnamed;
      if (location.found()) ++summary_.located;
    }
    summary_.skipped += reader->filtered();
    summary_.read += reader->filtered();
    summary_.sha256 = reader->Sha256();
    summary_.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
            .count();
    observer_.OnProgress(
        {summary_.read, reader->bytes_read(), reader->total_bytes(), summary_.duration_ms / 1000.0});
    if (request_.strict && summary_.rejected > 0)
      throw Error(fmt::format("{} row(s) rejected: nothing was imported (--strict)", summary_.rejected),
                  "see the reject report, fix the file and run the import again");
    if (request_.dry_run) return summary_;  // the transaction rolls back
    FinishRun(run_id);
    transaction.commit();
    summary_.run_id = run_id;
    return summary_;
  }

 private:
  void Reject(const CsvRecord& record, const std::string& reason) {
    ++summary_.rejected;
    // The report is UTF-8 whatever the file's encoding.
    std::string raw;
    if (encoding_ == Encoding::kWindows1252)
      AppendWindows1252AsUtf8(record.raw, raw);
    else
      raw = record.raw;
    observer_.OnReject({record.line, reason, raw});
  }

  int64_t StartRun() {
    SQLite::Statement insert(db_.sql(), R"sql(
      INSERT INTO import_run (kind, format, file_name, sha256, encoding, delimiter, filters, started_at)
      VALUES (?, ?, ?, '', ?, ?, ?, ?))sql");
    insert.bind(1, summary_.kind);
    insert.bind(2, summary_.format);
    insert.bind(3, summary_.file);
    insert.bind(4, summary_.encoding);
    insert.bind(5, summary_.delimiter);
    insert.bind(6, summary_.filters);
    insert.bind(7, NowIso());
    insert.exec();
    return db_.sql().getLastInsertRowid();
  }

  void FinishRun(int64_t run_id) {
    SQLite::Statement update(db_.sql(), R"sql(
      UPDATE import_run SET sha256 = ?, duration_ms = ?, read = ?, inserted = ?, updated = ?, unchanged = ?,
        closed = ?, skipped = ?, rejected = ?, duplicates = ? WHERE id = ?)sql");
    update.bind(1, summary_.sha256);
    update.bind(2, summary_.duration_ms);
    int i = 3;
    for (int64_t count : {summary_.read, summary_.inserted, summary_.updated, summary_.unchanged,
                          summary_.closed, summary_.skipped, summary_.rejected, summary_.duplicates})
      update.bind(i++, count);
    update.bind(i, run_id);
    update.exec();
  }

  Db& db_;
  const ImportRequest& request_;
  ImportObserver& observer_;
  ImportSummary summary_;
  Encoding encoding_ = Encoding::kUtf8;
};

}  // namespace

ImportSummary RunImport(Db& db, const ImportRequest& request, ImportObserver& observer) {
  try {
    return Importer(db, request, observer).Run();
  } catch (const Error& e) {
    throw e.WithContext(
        fmt::format("importing '{}'", request.path == "-" ? "(standard input)" : request.path));
  }
}

std::vector<ImportSummary> ImportHistory(Db& db, int limit) {
  SQLite::Statement query(db.sql(), R"sql(
    SELECT id, kind, format, file_name, sha256, encoding, delimiter, filters, duration_ms, read, inserted, updated,
           unchanged, closed, skipped, rejected, duplicates, started_at
    FROM import_run ORDER BY id DESC LIMIT ?)sql");
  query.bind(1, limit);
  std::vector<ImportSummary> runs;
  while (query.executeStep()) {
    ImportSummary s;
    s.run_id = query.getColumn(0).getInt64();
    s.kind = query.getColumn(1).getString();
    s.format = query.getColumn(2).getString();
    s.file = query.getColumn(3).getString();
    s.sha256 = query.getColumn(4).getString();
    s.encoding = query.getColumn(5).getString();
    s.delimiter = query.getColumn(6).getString();
    s.filters = query.getColumn(7).getString();
    s.duration_ms = query.getColumn(8).getInt64();
    int i = 9;
    for (int64_t* count :
         {&s.read, &s.inserted, &s.updated, &s.unchanged, &s.closed, &s.skipped, &s.rejected, &s.duplicates})
      *count = query.getColumn(i++).getInt64();
    s.started_at = query.getColumn(17).getString();
    runs.push_back(s);
  }
  return runs;
}

json ToJson(const ImportSummary& s) {
  json out = {{"file", s.file},
              {"kind", s.kind},
              {"format", s.format},
              {"encoding", s.encoding},
              {"delimiter", s.delimiter},
              {"sha256", s.sha256},
              {"filters", s.filters},
              {"dry_run", s.dry_run},
              {"read", s.read},
              {"inserted", s.inserted},
              {"updated", s.updated},
              {"unchanged", s.unchanged},
              {"closed", s.closed},
              {"skipped", s.skipped},
              {"rejected", s.rejected},
              {"duplicates", s.duplicates},
              {"duration_ms", s.duration_ms}};
  if (s.run_id) out["run_id"] = s.run_id;
  if (!s.started_at.empty())
    out["started_at"] = s.started_at;
  else {
    out["encoding_detected"] = s.encoding_detected;
    out["delimiter_detected"] = s.delimiter_detected;
    out["unnamed"] = s.unnamed;
    out["located"] = s.located;
  }
  return out;
}

}  // namespace voisinage
