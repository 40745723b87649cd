// voisinage import merchants|associations|history: registries and town-hall files into the directory.

#include <unistd.h>

#include <memory>

#include "cmd/cli.h"
#include "lib/atomic_file.h"
#include "lib/registry/import.h"
#include "lib/text/csv_writer.h"

namespace voisinage {

namespace import_command {

// Exit status of an import that committed its good rows but rejected some.
constexpr int kExitRejected = 3;
constexpr int kRejectsShown = 20;

struct ImportOptions {
  ImportRequest request;
  std::string encoding, delimiter, rejects;
  bool json = false;
};
struct HistoryOptions {
  int limit = 20;
  bool json = false;
};

// Writes rejected rows to the report (or the first ones to stderr) and draws the progress bar.
class CommandLineObserver final : public ImportObserver {
 public:
  CommandLineObserver(const std::string& rejects_path, bool progress) : progress_(progress) {
    if (!rejects_path.empty()) {
      rejects_ = std::make_unique<AtomicFile>(rejects_path);
      rejects_->Write("line,reason,raw\r\n");
    }
  }

  void OnReject(const RejectedRow& row) override {
    ++count_;
    if (rejects_) {
      rejects_->Write(CsvLine({std::to_string(row.line), row.reason, row.raw}) + "\r\n");
    } else if (count_ <= kRejectsShown) {
      ClearProgress();
      std::cerr << fmt::format("voisinage: rejected line {}: {}\n", row.line, Printable(row.reason));
    }
  }

  void OnProgress(const ImportProgress& p) override {
    if (!progress_) return;
    std::string line =
        fmt::format("\r{:>10} rows  {:>8.0f} rows/s", p.rows, p.seconds > 0 ? p.rows / p.seconds : 0);
    if (p.total_bytes > 0 && p.bytes > 0) {
      double share = double(p.bytes) / double(p.total_bytes);
      double left = share > 0 ? p.seconds * (1 - share) / share : 0;
      line += fmt::format("  {:5.1f}%  ETA {}:{:02}", 100 * share, int(left) / 60, int(left) % 60);
    }
    std::cerr << line << std::flush;
    drawn_ = true;
  }

  void Finish() {
    ClearProgress();
    if (rejects_)
      rejects_->Commit();
    else if (count_ > kRejectsShown)
      std::cerr << fmt::format(
          "voisinage: ... and {} more rejected rows (write them all with --rejects FILE)\n",
          count_ - kRejectsShown);
  }

 private:
  void ClearProgress() {
    if (drawn_) std::cerr << "\r" << std::string(60, ' ') << "\r";
    drawn_ = false;
  }

  bool progress_;
  bool drawn_ = false;
  int64_t count_ = 0;
  std::unique_ptr<AtomicFile> rejects_;
};

void PrintSummary(const ImportSummary& s, const Invocation& invocation) {
  auto detected = [](bool yes) { return yes ? " (detected)" : ""; };
  Say(invocation, fmt::format("{}{} '{}': {} {}, {}{}, delimiter '{}'{}; {}",
                              s.dry_run ? "dry run: would import " : "imported ",
                              s.kind == "merchant" ? "merchants from" : "associations from", s.file, "format",
                              s.format, s.encoding, detected(s.encoding_detected), s.delimiter,
                              detected(s.delimiter_detected), s.filters));
  Say(invocation,
      fmt::format("  read {}  inserted {}  updated {}  unchanged {}  closed {}  skipped {}  rejected {}",
                  s.read, s.inserted, s.updated, s.unchanged, s.closed, s.skipped, s.rejected));
  if (s.duplicates)
    Say(invocation,
        fmt::format("  {} key(s) appear more than once in the file: the last row of each was kept",
                    s.duplicates));
  if (s.unnamed)
    Say(invocation,
        fmt::format("  {} entr{} kept without a public name", s.unnamed, s.unnamed > 1 ? "ies" : "y"));
  if (s.dry_run) Say(invocation, "  nothing was written (--dry-run)");
}

int RunImportCommand(const ImportOptions& options, Invocation& invocation) {
  ImportRequest request = options.request;
  if (!options.encoding.empty()) request.csv.encoding = ParseEncoding(options.encoding);
  if (!options.delimiter.empty()) request.csv.delimiter = ParseDelimiter(options.delimiter);
  Db db = OpenDb(invocation);
  CommandLineObserver observer(options.rejects,
                               ::isatty(STDERR_FILENO) && !invocation.global.quiet && !options.json);
  ImportSummary summary;
  try {
    summary = RunImport(db, request, observer);
  } catch (...) {
    observer.Finish();  // the reject report explains a --strict failure
    throw;
  }
  observer.Finish();
  options.json ? PrintJson(ToJson(summary)) : PrintSummary(summary, invocation);
  return summary.rejected > 0 ? kExitRejected : 0;
}

int RunHistory(const HistoryOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  std::vector<ImportSummary> runs = ImportHistory(db, options.limit);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const ImportSummary& run : runs) out.push_back(ToJson(run));
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const ImportSummary& r : runs)
    rows.push_back({std::to_string(r.run_id), r.started_at, r.kind, r.format, r.file, r.sha256.substr(0, 12),
                    r.encoding, std::to_string(r.read), std::to_string(r.inserted), std::to_string(r.updated),
                    std::to_string(r.unchanged), std::to_string(r.closed), std::to_string(r.skipped),
                    std::to_string(r.rejected), fmt::format("{:.1f}s", r.duration_ms / 1000.0)});
  PrintTable({"RUN", "STARTED", "KIND", "FORMAT", "FILE", "SHA-256", "ENCODING", "READ", "INS", "UPD", "SAME",
              "CLOSED", "SKIP", "REJ", "TIME"},
             rows);
  return 0;
}

CLI::App* AddImportCommand(CLI::App* group, Invocation& invocation, const std::string& kind) {
  auto options = std::make_shared<ImportOptions>();
  options->request.kind = kind;
  const bool merchant = kind == "merchant";
  CLI::App* c = group->add_subcommand(merchant ? "merchants" : "associations",
                                      merchant ? "Import shops from SIRENE or a town-hall CSV"
                                               : "Import associations from the RNA or a town-hall CSV");
  c->add_option("file", options->request.path, "The file (.gz accepted), or - for standard input")
      ->required();
  c->add_option("--format", options->request.format,
                merchant ? "sirene (default) or csv" : "rna (default) or csv")
      ->option_text(merchant ? "sirene|csv" : "rna|csv")
      ->check(CLI::IsMember(merchant ? std::vector<std::string>{"sirene", "csv"}
                                     : std::vector<std::string>{"rna", "csv"}));
  c->add_option("--mapping", options->request.mapping, "YAML mapping of a csv file's columns")
      ->option_text("FILE");
  c->add_option("--commune", options->request.communes,
                "INSEE code to keep; repeat for several; 'all' for every commune (default: the town's)")
      ->option_text("INSEE");
  if (merchant) {
    c->add_option("--naf", options->request.naf,
                  "Activities to keep: 'local' shops, or codes like 47.22Z,56.10A")
        ->option_text("local|CODES");
    c->add_flag("--include-closed", options->request.include_inactive,
                "Also import closed establishments the directory does not list yet");
  } else {
    c->add_flag("--include-dissolved", options->request.include_inactive,
                "Also import dissolved and deleted associations the directory does not list yet");
  }
  c->add_option("--encoding", options->encoding, "Override detection: utf-8 or windows-1252")
      ->option_text("ENCODING");
  c->add_option("--delimiter", options->delimiter, "Override detection: ',' ';' '$' '|' or tab")
      ->option_text("CHAR");
  c->add_flag("--dry-run", options->request.dry_run, "Validate and count, write nothing");
  c->add_flag("--strict", options->request.strict, "Write nothing and fail if any row is rejected");
  c->add_option("--rejects", options->rejects,
                "Write rejected rows to this CSV report (line, reason, raw row)")
      ->option_text("FILE");
  AddJsonFlag(c, options->json);
  OnRun(c, invocation, options, RunImportCommand);
  return c;
}

}  // namespace import_command

void SetupImport(CLI::App& app, Invocation& invocation) {
  using namespace import_command;
  CLI::App* group = app.add_subcommand("import", "Import shops and associations into the directory");
  group->require_subcommand(1);
  AddImportCommand(group, invocation, "merchant");
  AddImportCommand(group, invocation, "association");

  auto history = std::make_shared<HistoryOptions>();
  CLI::App* h = group->add_subcommand("history", "List past imports");
  h->add_option("--limit", history->limit, "How many runs, newest first (default 20)")->option_text("N");
  AddJsonFlag(h, history->json);
  OnRun(h, invocation, history, RunHistory);
}

}  // namespace voisinage
