#include "lib/registry/import.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "lib/clock.h"
#include "lib/registry/naf.h"
#include "lib/registry/row_mapper.h"
#include "lib/registry/run_keys.h"
#include "lib/text/strings.h"
#include "lib/town/locate.h"
#include "lib/town/town.h"
#include "lib/town/validation.h"

namespace voisinage {

using nlohmann::json;

namespace {

bool SameContent(uint64_t a, uint64_t b) {
  return ((a ^ b) & ~uint64_t{3}) == 0;
}

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

// Most imports change few entries (a monthly registry file, a re-run from cron), so an import first reads:
// it compares each row with the directory in a read transaction, keeping only the rows that change, and then
// takes the write lock only to write those, in one transaction. The server and other commands keep writing
// meanwhile. When the changes would take more memory than kPendingBudget (a first import), it takes the write
// lock there and writes the rest as it reads. Before writing, it checks that no other import has written to
// the directory since it started reading; if one has, its comparisons are stale and the import starts again,
// taking the write lock from the start (standard input cannot be read twice, so it always does).
constexpr size_t kPendingBudget = 24u << 20;  // with the run's key table and SQLite's cache: < 100 MB

// A row read, mapped and located, on its way from the reading thread to the writing one.
struct MappedRow {
  PreparedEntry prepared;
  bool located = false;
};

// The rows the reading thread has prepared and the writing thread not yet taken, in batches. Bounded, so that
// memory stays bounded whatever the file's size; either side can end it: the reading side at the end of the
// file or on its error (handed over to the writing side), the writing side on its own error.
class RowQueue {
 public:
  static constexpr size_t kBatchRows = 256;

  // Reading side: waits while the queue is full. False when the writing side has given up: stop reading.
  bool Push(std::vector<MappedRow>&& batch) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return batches_.size() < kMaxBatches || abandoned_; });
    if (abandoned_) return false;
    batches_.push_back(std::move(batch));
    changed_.notify_all();
    return true;
  }

  // Reading side: no more rows, because the file ended or because of `error`.
  void Close(std::exception_ptr error = nullptr) {
    std::lock_guard lock(mutex_);
    closed_ = true;
    error_ = error;
    changed_.notify_all();
  }

  // Writing side: the next batch; false at the end. Rethrows the reading side's error once the batches read
  // before it are taken.
  bool Pop(std::vector<MappedRow>& batch) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !batches_.empty() || closed_; });
    if (batches_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return false;
    }
    batch = std::move(batches_.front());
    batches_.pop_front();
    changed_.notify_all();
    return true;
  }

  // Writing side: it has failed; the reading side stops at its next batch.
  void Abandon() {
    std::lock_guard lock(mutex_);
    abandoned_ = true;
    batches_.clear();
    changed_.notify_all();
  }

 private:
  static constexpr size_t kMaxBatches = 4;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<MappedRow>> batches_;
  bool closed_ = false;
  bool abandoned_ = false;
  std::exception_ptr error_;
};

// Another import wrote to the directory while this one was comparing: start again.
struct StaleComparison {};

class Importer {
 public:
  Importer(Db& db, const ImportRequest& request, ImportObserver& observer, bool write_from_start)
      : db_(db), request_(request), observer_(observer), write_from_start_(write_from_start) {}

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
    writer_.emplace(db_.sql());
    if (write_from_start_ && !request_.dry_run) {
      StartWriting();
    } else {
      reading_.emplace(db_.sql(), SQLite::TransactionBehavior::DEFERRED);
      directory_version_ = DirectoryVersion();
    }
    // Reading, mapping and locating rows on one thread, comparing and writing them on this one: the two
    // halves take about as long, and the machine has two cores.
    RowQueue queue;
    std::thread reading([&] { ReadRows(*reader, *mapper, locator, started, queue); });
    try {
      std::vector<MappedRow> batch;
      while (queue.Pop(batch))
        for (MappedRow& row : batch) Take(std::move(row));
    } catch (...) {
      queue.Abandon();
      reading.join();
      throw;
    }
    reading.join();
    summary_.skipped += filtered_out_ + reader->filtered();
    summary_.read += reader->filtered();
    summary_.sha256 = reader->Sha256();
    if (request_.strict && summary_.rejected > 0)
      throw Error(fmt::format("{} row(s) rejected: nothing was imported (--strict)", summary_.rejected),
                  "see the reject report, fix the file and run the import again");
    if (!request_.dry_run && !writing_.has_value()) StartWriting();
    summary_.duration_ms = Elapsed(started);
    if (!request_.dry_run) {
      writer_->Finish();
      FinishRun();
      writing_->commit();
      summary_.run_id = run_id_;
    }
    observer_.OnProgress(
        {summary_.read, reader->bytes_read(), reader->total_bytes(), summary_.duration_ms / 1000.0});
    return summary_;
  }

  int64_t rejected() const { return summary_.rejected; }
  /// Rejected rows already reported by an earlier, abandoned run over the same file: not reported again.
  void SkipReportedRejects(int64_t count) { reported_rejects_ = count; }

 private:
  enum class Outcome { kInserted, kUpdated, kClosed, kUnchanged, kSkipped };

  // What the directory, or this run, holds under a key.
  using Known = RunKeys::Stored;

  // The reading thread: reads, checks, maps and locates every row, and hands the rows to keep to `queue`.
  // Counts what it reads, rejects and leaves out (read, rejected, filtered_out_); nothing else.
  void ReadRows(CsvReader& reader, RowMapper& mapper, const Locator& locator,
                std::chrono::steady_clock::time_point started, RowQueue& queue) {
    try {
      CsvRecord record;
      DirectoryEntry entry;
      std::vector<MappedRow> batch;
      const size_t columns = reader.header().size();
      auto last_report = std::chrono::steady_clock::now();
      while (reader.Next(record)) {
        ++summary_.read;
        if ((summary_.read & 0x3FFF) == 0) {
          auto now = std::chrono::steady_clock::now();
          if (now - last_report > std::chrono::milliseconds(200)) {
            last_report = now;
            observer_.OnProgress({summary_.read + reader.filtered(), reader.bytes_read(),
                                  reader.total_bytes(),
                                  std::chrono::duration<double>(now - started).count()});
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
          if (!mapper.Map(record, entry)) {
            ++filtered_out_;
            continue;
          }
        } catch (const RowRejected& e) {
          Reject(record, e.what());
          continue;
        }
        std::optional<Point> point;
        if (entry.lat && entry.lon) point = Point{*entry.lon, *entry.lat};
        const Location location = locator.Locate(point, entry.postcode);
        entry.neighbourhood_id = location.neighbourhood_id;
        batch.push_back({Prepare(std::move(entry)), location.found()});
        if (batch.size() == RowQueue::kBatchRows) {
          if (!queue.Push(std::move(batch))) return;
          batch = {};
        }
      }
      if (!batch.empty() && !queue.Push(std::move(batch))) return;
      queue.Close();
    } catch (...) {
      queue.Close(std::current_exception());
    }
  }

  // This thread: compares a row with the directory and plans or writes it.
  void Take(MappedRow&& row) {
    if (!keys_.Insert(row.prepared.entry.registry_key)) ++summary_.duplicates;
    const bool unnamed = row.prepared.entry.name.empty();
    if (!(writing_.has_value() ? Store(row.prepared) : Plan(std::move(row.prepared)))) return;  // skipped
    if (unnamed) ++summary_.unnamed;
    if (row.located) ++summary_.located;
  }

  static int64_t Elapsed(std::chrono::steady_clock::time_point started) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
        .count();
  }

  bool WantedIfNew(const PreparedEntry& p) const {
    return p.entry.status == "active" || request_.include_inactive;
  }

  Outcome Classify(const std::optional<Known>& known, const PreparedEntry& p) const {
    if (!known) return WantedIfNew(p) ? Outcome::kInserted : Outcome::kSkipped;
    if (SameContent(known->content_hash, p.content_hash)) return Outcome::kUnchanged;
    return known->active && p.entry.status != "active" ? Outcome::kClosed : Outcome::kUpdated;
  }

  // Counts the outcome; false when the row was skipped. Remembers what the run stored under the key.
  bool Count(Outcome outcome, const PreparedEntry& p) {
    switch (outcome) {
      case Outcome::kInserted:
        ++summary_.inserted;
        break;
      case Outcome::kUpdated:
        ++summary_.updated;
        break;
      case Outcome::kClosed:
        ++summary_.closed;
        break;
      case Outcome::kUnchanged:
        ++summary_.unchanged;
        break;
      case Outcome::kSkipped:
        ++summary_.skipped;
        return false;
    }
    keys_.Set(p.entry.registry_key, p.content_hash, p.entry.status == "active");
    return true;
  }

  // Reading phase: compares the row with what the directory (or this run) holds, and keeps it when it changes
  // something. Returns false when it was skipped.
  bool Plan(PreparedEntry&& p) {
    std::optional<Known> known = keys_.Get(p.entry.registry_key);
    if (!known)
      if (auto existing = writer_->Find(p.entry.kind, p.entry.registry_key))
        known = Known{existing->content_hash, existing->status == "active"};
    const Outcome outcome = Classify(known, p);
    if (outcome == Outcome::kSkipped || outcome == Outcome::kUnchanged || request_.dry_run)
      return Count(outcome, p);
    keys_.Set(p.entry.registry_key, p.content_hash, p.entry.status == "active");
    pending_bytes_ += sizeof(PreparedEntry) + p.search_text.size() * 2 + p.entry.description.size() +
                      p.entry.name.size() + p.entry.address.size() + p.entry.activity_label.size();
    pending_.push_back(std::move(p));
    if (pending_bytes_ > kPendingBudget) StartWriting();
    return true;
  }

  // Writing phase: writes the row unless the directory already holds it as it is. Returns false when it was
  // skipped.
  bool Store(const PreparedEntry& p) {
    // Most rows of a first import are new: try the insert first, look the key up only when it is taken.
    if (WantedIfNew(p) && writer_->InsertNew(p, run_id_)) return Count(Outcome::kInserted, p);
    std::optional<DirectoryWriter::Existing> existing = writer_->Find(p.entry.kind, p.entry.registry_key);
    std::optional<Known> known;
    if (existing) known = Known{existing->content_hash, existing->status == "active"};
    const Outcome outcome = Classify(known, p);
    if (outcome == Outcome::kUpdated || outcome == Outcome::kClosed)
      writer_->Update(existing->id, p, run_id_);
    return Count(outcome, p);
  }

  // Ends the reading phase: takes the write lock, checks that the comparisons still hold, starts the run's
  // record and writes the changes kept so far.
  void StartWriting() {
    const bool was_reading = reading_.has_value();
    reading_.reset();  // ends the read transaction
    writing_.emplace(db_.Write());
    if (was_reading && DirectoryVersion() != directory_version_) {
      writing_.reset();  // frees the write turn for the next attempt
      throw StaleComparison{};
    }
    run_id_ = StartRun();
    for (const PreparedEntry& p : pending_) Store(p);
    pending_.clear();
    pending_.shrink_to_fit();
    pending_bytes_ = 0;
  }

  // Changes whenever an import writes to the directory (only imports do): the latest run's id.
  int64_t DirectoryVersion() {
    return db_.sql().execAndGet("SELECT coalesce(max(id), 0) FROM import_run").getInt64();
  }

  void Reject(const CsvRecord& record, const std::string& reason) {
    if (++summary_.rejected <= reported_rejects_) return;
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

  void FinishRun() {
    SQLite::Statement update(db_.sql(), R"sql(
      UPDATE import_run SET sha256 = ?, duration_ms = ?, read = ?, inserted = ?, updated = ?, unchanged = ?,
        closed = ?, skipped = ?, rejected = ?, duplicates = ? WHERE id = ?)sql");
    update.bind(1, summary_.sha256);
    update.bind(2, summary_.duration_ms);
    int i = 3;
    for (int64_t count : {summary_.read, summary_.inserted, summary_.updated, summary_.unchanged,
                          summary_.closed, summary_.skipped, summary_.rejected, summary_.duplicates})
      update.bind(i++, count);
    update.bind(i, run_id_);
    update.exec();
  }

  Db& db_;
  const ImportRequest& request_;
  ImportObserver& observer_;
  const bool write_from_start_;
  ImportSummary summary_;
  Encoding encoding_ = Encoding::kUtf8;
  int64_t reported_rejects_ = 0;
  int64_t filtered_out_ = 0;  // rows the mapper left out (the reading thread's count)
  RunKeys keys_;
  std::optional<DirectoryWriter> writer_;
  std::optional<SQLite::Transaction> reading_;  // the reading phase's snapshot
  int64_t directory_version_ = 0;               // DirectoryVersion() when reading began
  std::vector<PreparedEntry> pending_;          // changes found while reading, not yet written
  size_t pending_bytes_ = 0;
  std::optional<WriteTransaction> writing_;  // from StartWriting() on
  int64_t run_id_ = 0;
};

}  // namespace

ImportSummary RunImport(Db& db, const ImportRequest& request, ImportObserver& observer) {
  try {
    const bool rereadable = request.path != "-";
    Importer importer(db, request, observer, !rereadable);
    try {
      return importer.Run();
    } catch (const StaleComparison&) {
      Importer again(db, request, observer, true);
      again.SkipReportedRejects(importer.rejected());
      return again.Run();
    }
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
