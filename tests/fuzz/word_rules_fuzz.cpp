// The word-rule matcher. The input's lines up to the first empty line are patterns (actions censor, flag,
// hold, block in turn), the rest is the text. Invalid patterns are refused by ValidateWordPattern; the valid
// ones are compiled and the text checked, with what lib/moderation/word_rules.h promises asserted.

#include <algorithm>
#include <set>

#include "lib/error.h"
#include "lib/moderation/word_rules.h"
#include "lib/registry/csv_reader.h"
#include "tests/fuzz/fuzz_support.h"

namespace voisinage {
namespace {

int Rank(const std::string& action) {
  return action == "block" ? 4 : action == "hold" ? 3 : action == "flag" ? 2 : action == "censor" ? 1 : 0;
}

std::set<int64_t> Fired(const RuleVerdict& verdict) {
  std::set<int64_t> ids;
  for (const RuleHit& hit : verdict.hits) ids.insert(hit.rule.id);
  return ids;
}

void CheckVerdict(const std::string& text, const RuleVerdict& verdict) {
  FUZZ_CHECK(verdict.action.empty() == verdict.hits.empty());
  if (!verdict.hits.empty()) FUZZ_CHECK(verdict.action == verdict.hits.front().rule.action);
  bool censored = false;
  for (size_t i = 0; i < verdict.hits.size(); ++i) {
    const RuleHit& hit = verdict.hits[i];
    if (i > 0) FUZZ_CHECK(Rank(verdict.hits[i - 1].rule.action) >= Rank(hit.rule.action));
    FUZZ_CHECK(!hit.matched.empty());
    FUZZ_CHECK(text.find(hit.matched) != std::string::npos);  // the words as written
    censored |= hit.rule.action == "censor";
  }
  FUZZ_CHECK(Fired(verdict).size() == verdict.hits.size());  // once each
  if (!censored) {
    FUZZ_CHECK(verdict.censored == text);
  } else {
    // One '*' per character, everything else byte for byte.
    FUZZ_CHECK(verdict.censored.size() <= text.size());
    FUZZ_CHECK(verdict.censored != text);
    if (IsValidUtf8(text)) FUZZ_CHECK(IsValidUtf8(verdict.censored));
  }
}

}  // namespace
}  // namespace voisinage

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace voisinage;
  static const char* kActions[] = {"censor", "flag", "hold", "block"};
  const std::string_view input = fuzz::AsText(data, size);
  const size_t blank = input.find("\n\n");
  const std::string_view patterns = input.substr(0, blank);
  const std::string text(blank == std::string_view::npos ? std::string_view() : input.substr(blank + 2));

  std::vector<WordRule> rules;
  size_t start = 0;
  for (int line = 0; start <= patterns.size() && line < 64; ++line) {
    const size_t end = std::min(patterns.find('\n', start), patterns.size());
    const std::string pattern(patterns.substr(start, end - start));
    start = end + 1;
    try {
      ValidateWordPattern(pattern);
    } catch (const Error&) {
      continue;
    }
    WordRule rule;
    rule.id = static_cast<int64_t>(rules.size()) + 1;
    rule.pattern = pattern;
    rule.action = kActions[line % 4];
    rules.push_back(rule);
  }
  const WordRuleSet set = WordRuleSet::FromRules(rules);  // every pattern valid: must not throw
  const RuleVerdict verdict = set.Check(text);
  CheckVerdict(text, verdict);

  // Case does not matter: the same rules fire on the text in ASCII capitals.
  std::string upper = text;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](char ch) { return ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch; });
  FUZZ_CHECK(Fired(set.Check(upper)) == Fired(verdict));
  return 0;
}
