// voisinage mod rules add|list|remove|test: the word rules every post passes.

#include <sstream>

#include "cmd/mod.h"
#include "lib/moderation/word_rules.h"

namespace voisinage {

namespace mod_rules_command {

constexpr const char* kActor = "cli";

struct AddOptions {
  std::string pattern, action;
  bool json = false;
};
struct ListOptions {
  bool json = false;
};
struct RemoveOptions {
  std::string rule;
};
struct TestOptions {
  std::string text;
  bool json = false;
};

std::string Describe(const WordRule& rule) {
  return fmt::format("#{} '{}' ({})", rule.id, Printable(rule.pattern), rule.action);
}

// What happens to a post with this verdict, as `post add` would apply it.
std::string Outcome(const RuleVerdict& verdict) {
  if (verdict.action == "block") return "refused (block)";
  if (verdict.action == "hold") return "held for review";
  if (verdict.action == "flag") return "flagged";
  if (verdict.action == "censor") return "censored";
  return "no rule fires";
}

// Prints `text` line by line, the first after `label`, the others aligned under it.
void PrintIndented(const std::string& label, const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  for (bool first = true; std::getline(lines, line); first = false)
    std::cout << (first ? label : std::string(label.size(), ' ')) << Printable(line) << '\n';
}

int RunAdd(const AddOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  WordRule rule = AddWordRule(db, options.pattern, options.action, kActor);
  if (options.json)
    PrintJson(ToJson(rule));
  else
    Say(invocation, "added word rule " + Describe(rule));
  return 0;
}

int RunList(const ListOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  std::vector<WordRule> rules = ListWordRules(db);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const WordRule& rule : rules) out.push_back(ToJson(rule));
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const WordRule& rule : rules)
    rows.push_back({"#" + std::to_string(rule.id), rule.pattern, rule.action,
                    rule.from_town_file ? "town file" : "command line", rule.created_at});
  PrintTable({"ID", "PATTERN", "ACTION", "SOURCE", "CREATED"}, rows);
  return 0;
}

int RunRemove(const RemoveOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  WordRule rule = RemoveWordRule(db, options.rule, kActor);
  Say(invocation, "removed word rule " + Describe(rule));
  if (rule.from_town_file && !invocation.global.quiet)
    std::cerr
        << "hint: the town file lists this rule: the next 'voisinage init --from' adds it again unless you "
           "remove it from the file's moderation.word_rules too\n";
  return 0;
}

int RunTest(const TestOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  RuleVerdict verdict = WordRuleSet::Load(db).Check(options.text);
  if (options.json) {
    nlohmann::json out = ToJson(verdict);
    out["outcome"] = Outcome(verdict);
    PrintJson(out);
    return 0;
  }
  if (!verdict.hits.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const RuleHit& hit : verdict.hits)
      rows.push_back({"#" + std::to_string(hit.rule.id), hit.rule.pattern, hit.rule.action, hit.matched});
    PrintTable({"RULE", "PATTERN", "ACTION", "MATCHED"}, rows);
  }
  // A post that passes (held, flagged or censored) is stored censored: show how it would read.
  const bool censored = verdict.censored != options.text && verdict.action != "block";
  if (verdict.action == "censor") {
    PrintIndented("verdict: censored: ", verdict.censored);
  } else {
    std::cout << "verdict: " << Outcome(verdict) << '\n';
    if (censored) PrintIndented("censored: ", verdict.censored);
  }
  return 0;
}

}  // namespace mod_rules_command

void SetupModRules(CLI::App& mod, Invocation& invocation) {
  using namespace mod_rules_command;
  CLI::App* rules = mod.add_subcommand("rules", "Manage the word rules every post passes");
  rules->require_subcommand(1);

  auto add = std::make_shared<AddOptions>();
  CLI::App* a = rules->add_subcommand("add", "Add a word rule");
  a->add_option("pattern", add->pattern, "Words to match, '*' for any letters: 'arnaque*', 'western union'")
      ->required();
  a->add_option("--action", add->action, "What a post that matches gets: block, hold, flag or censor")
      ->option_text("block|hold|flag|censor")
      ->required();
  AddJsonFlag(a, add->json);
  OnRun(a, invocation, add, RunAdd);

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = rules->add_subcommand("list", "List the word rules");
  AddJsonFlag(l, list->json);
  OnRun(l, invocation, list, RunList);

  auto remove = std::make_shared<RemoveOptions>();
  CLI::App* r = rules->add_subcommand("remove", "Remove a word rule");
  r->add_option("rule", remove->rule, "Rule id (3 or #3) or exact pattern")->required();
  OnRun(r, invocation, remove, RunRemove);

  auto test = std::make_shared<TestOptions>();
  CLI::App* t = rules->add_subcommand("test", "Say which word rules fire on a text, and why");
  t->add_option("text", test->text, "Text to check")->required();
  AddJsonFlag(t, test->json);
  OnRun(t, invocation, test, RunTest);
}

}  // namespace voisinage
