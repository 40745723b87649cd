#pragma once

// The town's word rules: patterns that every post passes on creation and edit.
//
// How a pattern matches a text:
// - Both sides are folded (see Fold): case and accents do not matter, "œ" is "oe" ("ARNAQUÉ" is "arnaque").
// - Words are runs of Unicode letters and digits; everything else separates them. A pattern matches whole
//   words only: "con" does not match "cone", "connard" does not match "connardise".
// - `*` stands for any number of letters or digits (even none) inside a word: "arnaque*" (prefix), "*con"
//   (suffix), "ar*que" (middle), "*nul*" (anywhere in the word). It never crosses from one word to the next.
// - A pattern of several words matches those words in a row, whatever separates them in the text: "western
//   union" matches "Western-Union" and "western, union", not "western bank union".
// - Spelling a word out letter by letter is caught: runs of single letters separated by exactly one dot,
//   space, hyphen or underscore ("c.o.n.n.a.r.d", "c o n n a r d") also count as one word. The text matches
//   when either its words as written or its words with those runs joined match, so "il y a" still reads as
//   three words. Repeated letters are not collapsed ("connnard" is not "connard"), nor digits read as
//   letters.
// - Censoring replaces each letter or digit of the matched words by one '*' (one per character, however many
//   bytes it takes) and keeps everything else byte for byte: "Quel P.U.T.A.I.N !" → "Quel *.*.*.*.*.* !".

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"

namespace voisinage {

/// One row of the `word_rule` table.
struct WordRule {
  int64_t id = 0;
  std::string pattern;
  std::string action;           ///< block | hold | flag | censor
  bool from_town_file = false;  ///< managed by the town file: the next `init --from` restores it
  std::string created_at;
};

/// A rule that fired on a text.
struct RuleHit {
  WordRule rule;
  std::string matched;  ///< the words of the text as written (their first occurrence), separators included
};

/// What the word rules say about one text.
struct RuleVerdict {
  std::vector<RuleHit> hits;  ///< every rule that fired, once each, strongest action first, then by position
  std::string action;         ///< the strongest action that fired (block > hold > flag > censor), or ""
  std::string censored;       ///< the text with every word matched by a censor rule masked; the text itself
                              ///< when no censor rule fires

  /// The first hit, or nullptr when no rule fired.
  const RuleHit* Strongest() const;
};

/// Throws Error when `pattern` cannot be a word rule: empty, longer than 200 bytes, not UTF-8, control
/// characters, no letter or digit, a `*` standing alone ("*", "western * union") or doubled ("arn**").
void ValidateWordPattern(const std::string& pattern);

/// The word rules compiled for matching: build it once, check many texts with it.
class WordRuleSet {
 public:
  /// Compiles the rules in the `word_rule` table. Throws Error naming a stored rule whose pattern is invalid.
  static WordRuleSet Load(Db& db);

  /// Compiles `rules`. Throws Error naming the first invalid pattern.
  static WordRuleSet FromRules(std::vector<WordRule> rules);

  /// Checks `text` (UTF-8; invalid bytes separate words) against every rule. Never throws.
  RuleVerdict Check(const std::string& text) const;

  /// The rules, in the order given (Load: by id).
  const std::vector<WordRule>& rules() const;

 private:
  struct Compiled;  // patterns split into folded words, indexed by their first word
  std::shared_ptr<const Compiled> compiled_;
};

/// Validates and stores a rule in its own transaction, with an audit entry "rule.add". Throws Error on an
/// invalid pattern, an unknown action, or a pattern that already exists (compared folded: "Arnaque*" is
/// "arnaque*"). Surrounding spaces are trimmed.
WordRule AddWordRule(Db& db, const std::string& pattern, const std::string& action, const std::string& actor);

/// Every rule, by id.
std::vector<WordRule> ListWordRules(Db& db);

/// Removes the rule designated by `ref` (its id, "#id", or its exact pattern) in its own transaction, with an
/// audit entry "rule.remove", and returns it. Rules from the town file may be removed too: the caller should
/// say that the next `init --from` adds them again. Throws Error when no rule matches.
WordRule RemoveWordRule(Db& db, const std::string& ref, const std::string& actor);

nlohmann::json ToJson(const WordRule& rule);
nlohmann::json ToJson(const RuleVerdict& verdict);

}  // namespace voisinage
