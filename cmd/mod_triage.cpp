// voisinage mod triage (one case at a time, one key per decision) and mod undo.

#include <termios.h>
#include <unistd.h>

#include <set>

#include "cmd/mod.h"
#include "lib/moderation/moderation.h"
#include "lib/town/member.h"

namespace voisinage {

namespace mod_triage_command {

struct TriageOptions {
  std::string as;
};
struct UndoOptions {
  int64_t decision = 0;
  std::string as;
  bool json = false;
};

// Single keys without Enter while it lives; back to the terminal's own settings when it goes.
class RawTerminal {
 public:
  RawTerminal() {
    tcgetattr(STDIN_FILENO, &saved_);
    termios raw = saved_;
    raw.c_lflag &= ~(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  ~RawTerminal() { tcsetattr(STDIN_FILENO, TCSANOW, &saved_); }

  /// One key; 'q' when the input ends.
  char Key() {
    std::cout << std::flush;
    char c = 0;
    return ::read(STDIN_FILENO, &c, 1) == 1 ? c : 'q';
  }

  /// A line typed with echo, for notes.
  std::string Line(const std::string& prompt) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    std::cout << prompt << std::flush;
    std::string line;
    char c = 0;
    while (::read(STDIN_FILENO, &c, 1) == 1 && c != '\n' && c != '\r') line += c;
    termios raw = saved_;
    raw.c_lflag &= ~(ICANON | ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    return line;
  }

 private:
  termios saved_;
};

constexpr const char* kKeys =
    "[k]eep  [h]ide  [r]emove  [w]arn author  [s]uspend author  [n]ext  [u]ndo last  [q]uit  [?]help";

void Help() {
  std::cout << "k  keep: dismiss the reports (an automatic hiding is undone)\n"
               "h  hide the post           r  remove the post\n"
               "w  warn the author (a strike for 90 days)\n"
               "s  suspend the author for a number of days\n"
               "n  skip this case for now  u  undo your last decision\n"
               "q  quit (your claim on the case is released)\n"
               "After a decision: pick the reason by its number, then type an optional note.\n";
}

// Asks for a reason by number; Enter keeps `fallback`.
std::string PickReason(RawTerminal& terminal, const std::string& fallback) {
  const auto& reasons = ReportReasons();
  std::cout << "reason:";
  for (size_t i = 0; i < reasons.size(); ++i)
    std::cout << fmt::format(" {}={}", i < 9 ? char('1' + i) : "abc"[i - 9], reasons[i]);
  std::cout << fmt::format("  (Enter: {})\n", fallback);
  for (;;) {
    char key = terminal.Key();
    if (key == '\n' || key == '\r') return fallback;
    size_t index = key >= '1' && key <= '9'   ? size_t(key - '1')
                   : key >= 'a' && key <= 'c' ? size_t(9 + key - 'a')
                                              : 99;
    if (index < reasons.size()) return reasons[index];
  }
}

int RunTriage(const TriageOptions& options, Invocation& invocation) {
  if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO))
    throw Error(
        "mod triage needs a terminal",
        "scripts use the one-shot commands: voisinage mod hide|remove|dismiss CASE --reason ... --as ...");
  Db db = OpenDb(invocation);
  Member moderator = FindMember(db, options.as);
  if (moderator.role != "moderator" && moderator.role != "admin")
    throw Error(fmt::format("member '#{}' is {}, not a moderator", moderator.id, moderator.role));
  RawTerminal terminal;
  std::set<int64_t> skipped;
  std::vector<int64_t> mine;
  int decided = 0;
  for (;;) {
    int64_t case_id = 0;
    QueueFilter open_cases;
    open_cases.limit = 500;
    for (const Case& c : ModerationQueue(db, open_cases))
      if (!skipped.count(c.id) && ClaimCase(db, c.id, moderator.id, 15)) {
        case_id = c.id;
        break;
      }
    if (case_id == 0) {
      std::cout << fmt::format("no case left to triage ({} decision(s) taken)\n", decided);
      return 0;
    }
    nlohmann::json c = ShowCase(db, case_id);
    std::cout << "\x1b[2J\x1b[H";  // clear the screen: one case at a time
    PrintCase(c, 160, 5);          // fits a 80x24 terminal
    std::cout << '\n' << kKeys << '\n';
    const std::string fallback = c["reasons"].empty() ? "other" : c["reasons"][0].get<std::string>();
    const bool is_post = c["target"].get<std::string>().starts_with("post:");
    const int64_t author = is_post ? c["now"]["author"]["id"].get<int64_t>() : c["now"]["id"].get<int64_t>();
    bool next = false;
    while (!next) {
      char key = terminal.Key();
      DecisionRequest request;
      request.moderator = std::to_string(moderator.id);
      request.target = std::to_string(case_id);
      try {
        switch (key) {
          case 'k':
          case 'd':
            request.action = "dismiss";
            break;
          case 'h':
            request.action = is_post ? "hide" : "";
            break;
          case 'r':
            request.action = is_post ? "remove" : "";
            break;
          case 'w':
            request.action = "warn";
            request.target = std::to_string(author);
            break;
          case 's': {
            std::string days = terminal.Line("suspend for how many days? (Enter: 7) ");
            int n = days.empty() ? 7 : std::max(1, std::atoi(days.c_str()));
            request.action = "suspend";
            request.target = std::to_string(author);
            request.until = FormatIso(Now() + std::chrono::days(n));
            break;
          }
          case 'n':
          case ' ':
            skipped.insert(case_id);
            ReleaseCase(db, case_id, moderator.id);
            next = true;
            continue;
          case 'u':
            if (mine.empty()) {
              std::cout << "nothing to undo\n";
            } else {
              UndoDecision(db, mine.back(), std::to_string(moderator.id));
              std::cout << fmt::format("decision {} undone\n", mine.back());
              mine.pop_back();
              --decided;
              ReleaseCase(db, case_id, moderator.id);
              next = true;
            }
            continue;
          case 'q':
            ReleaseCase(db, case_id, moderator.id);
            std::cout << fmt::format("{} decision(s) taken\n", decided);
            return 0;
          case '?':
            Help();
            continue;
          default:
            continue;
        }
        if (request.action.empty()) {
          std::cout << "this case is about a member: warn (w) or suspend (s) them, or keep (k)\n";
          continue;
        }
        request.reason = PickReason(terminal, fallback);
        request.note = terminal.Line("note for the statement of reasons (Enter: none) ");
        Decision d = Decide(db, request);
        if (request.target != std::to_string(case_id))  // an account decision also settles the case
          Decide(db, {"dismiss", std::to_string(case_id), request.reason, "author " + request.action + "ed",
                      request.moderator, "", -1});
        mine.push_back(d.id);
        ++decided;
        std::cout << fmt::format("decision {}: {}\n", d.id, d.action);
        next = true;
      } catch (const Error& e) {
        std::cout << "voisinage: " << Printable(e.what()) << '\n';  // a conflict: say it and go on
        ReleaseCase(db, case_id, moderator.id);
        next = true;
      }
    }
  }
}

int RunUndo(const UndoOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Decision d = UndoDecision(db, options.decision, options.as);
  if (options.json)
    PrintJson(ToJson(d));
  else
    Say(invocation, fmt::format("undid decision {} ({} {}:{})", d.id, d.action, d.target_type, d.target_id));
  return 0;
}

}  // namespace mod_triage_command

void SetupModTriage(CLI::App& mod, Invocation& invocation) {
  using namespace mod_triage_command;
  auto triage = std::make_shared<TriageOptions>();
  CLI::App* t = mod.add_subcommand("triage", "Decide case after case with single keys (needs a terminal)");
  t->add_option("--as", triage->as, "The moderator triaging (default: $VOISINAGE_MODERATOR)")
      ->option_text("MODERATOR")
      ->envname("VOISINAGE_MODERATOR")
      ->required();
  OnRun(t, invocation, triage, RunTriage);

  auto undo = std::make_shared<UndoOptions>();
  CLI::App* u =
      mod.add_subcommand("undo", "Reverse a decision: the post is shown again, the restriction lifted");
  u->add_option("decision", undo->decision, "Decision id (from mod show or mod log)")->required();
  u->add_option("--as", undo->as, "The moderator undoing it (default: $VOISINAGE_MODERATOR)")
      ->option_text("MODERATOR")
      ->envname("VOISINAGE_MODERATOR")
      ->required();
  AddJsonFlag(u, undo->json);
  OnRun(u, invocation, undo, RunUndo);
}

}  // namespace voisinage
