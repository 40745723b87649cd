#include "lib/moderation/word_rules.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <unordered_map>

#include <utf8proc.h>

#include "lib/clock.h"
#include "lib/store/audit_log.h"
#include "lib/text/fold.h"
#include "lib/text/strings.h"
#include "lib/text/suggest.h"
#include "lib/town/town_file.h"

namespace voisinage {

using nlohmann::json;

namespace {

constexpr size_t kMaxPatternBytes = 200;
constexpr size_t kNone = std::string::npos;

// block > hold > flag > censor: a flag puts the post in front of a moderator, a censor only masks a word.
int Severity(const std::string& action) {
  if (action == "block") return 4;
  if (action == "hold") return 3;
  if (action == "flag") return 2;
  if (action == "censor") return 1;
  return 0;
}

void ValidateAction(const std::string& action) {
  if (Severity(action) == 0)
    throw Error(fmt::format("unknown action '{}'{}", action, DidYouMean(action, WordRuleActions())),
                "actions: block, hold, flag, censor");
}

enum class Kind { kSeparator, kLetter, kDigit, kStar };

Kind Classify(utf8proc_int32_t codepoint) {
  if (codepoint < 0x80) {
    if ((codepoint >= 'a' && codepoint <= 'z') || (codepoint >= 'A' && codepoint <= 'Z'))
      return Kind::kLetter;
    if (codepoint >= '0' && codepoint <= '9') return Kind::kDigit;
    return codepoint == '*' ? Kind::kStar : Kind::kSeparator;
  }
  const utf8proc_category_t category = utf8proc_category(codepoint);
  if (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) return Kind::kLetter;
  if (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO) return Kind::kDigit;
  return Kind::kSeparator;
}

// Calls f(begin, end, folded) for each character of `text`: its bytes in the text and its folded form, which
// is empty for a combining mark (Fold strips it) and " " for a byte that is not UTF-8.
template <typename F>
void ForEachCharacter(std::string_view text, F&& f) {
  const auto* start = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  const auto* end = start + text.size();
  const auto* p = start;
  std::string folded;
  while (p < end) {
    const size_t begin = p - start;
    if (*p < 0x80) {
      char c = static_cast<char>(*p++);
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      f(begin, begin + 1, std::string_view(&c, 1));
      continue;
    }
    utf8proc_int32_t codepoint = 0;
    const utf8proc_ssize_t length = utf8proc_iterate(p, end - p, &codepoint);
    if (length <= 0) {
      ++p;
      f(begin, begin + 1, std::string_view(" "));
      continue;
    }
    folded = Fold(std::string_view(reinterpret_cast<const char*>(p), length));
    p += length;
    f(begin, static_cast<size_t>(p - start), std::string_view(folded));
  }
}

// Calls f(bytes, kind) for each code point of folded text.
template <typename F>
void ForEachCodepoint(std::string_view folded, F&& f) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(folded.data());
  const auto* end = p + folded.size();
  while (p < end) {
    utf8proc_int32_t codepoint = 0;
    utf8proc_ssize_t length = utf8proc_iterate(p, end - p, &codepoint);
    if (length <= 0) {
      codepoint = ' ';
      length = 1;
    }
    f(std::string_view(reinterpret_cast<const char*>(p), length), Classify(codepoint));
    p += length;
  }
}

// A word of a text or pattern: folded, with the bytes it spans in the original.
struct TextWord {
  std::string folded;
  size_t begin = 0, end = 0;
  int characters = 0;  // characters of the original text that make it up
  size_t last_character = kNone;
  bool has_digit = false;
  bool has_star = false;
  bool joined = false;  // letters spelt out, joined by JoinSpelledOut

  bool SingleLetter() const { return characters == 1 && !has_digit && !has_star; }
};

// Words are runs of letters and digits (and `*` in patterns); combining marks belong to the word they follow.
std::vector<TextWord> Tokenize(std::string_view text, bool is_pattern) {
  std::vector<TextWord> words;
  TextWord word;
  bool in_word = false;
  auto flush = [&] {
    if (!in_word) return;
    words.push_back(std::move(word));
    word = TextWord();
    in_word = false;
  };
  ForEachCharacter(text, [&](size_t begin, size_t end, std::string_view folded) {
    if (folded.empty()) {
      if (in_word) word.end = end;
      return;
    }
    ForEachCodepoint(folded, [&](std::string_view bytes, Kind kind) {
      if (kind == Kind::kSeparator || (kind == Kind::kStar && !is_pattern)) {
        flush();
        return;
      }
      if (!in_word) {
        in_word = true;
        word.begin = begin;
      }
      word.folded += bytes;
      word.end = end;
      if (word.last_character != begin) {
        ++word.characters;
        word.last_character = begin;
      }
      word.has_digit |= kind == Kind::kDigit;
      word.has_star |= kind == Kind::kStar;
    });
  });
  flush();
  return words;
}

// Joins runs of single letters separated by exactly one '.', '-', '_' or ' ', the same one all along
// ("c.o.n" → "con"; in "c.o.n à" the space ends the run, so the French "à" stays a word). Returns false,
// leaving `joined` alone, when there is no such run.
bool JoinSpelledOut(const std::vector<TextWord>& words, std::string_view text,
                    std::vector<TextWord>& joined) {
  auto single_separator = [&](const TextWord& left, const TextWord& right) {
    return right.begin == left.end + 1 && std::strchr(".-_ ", text[left.end]) != nullptr;
  };
  bool any = false;
  for (size_t i = 0; i < words.size();) {
    size_t last = i;
    while (last + 1 < words.size() && words[last].SingleLetter() && words[last + 1].SingleLetter() &&
           single_separator(words[last], words[last + 1]) &&
           (last == i || text[words[last].end] == text[words[i].end]))
      ++last;
    TextWord word = words[i];
    for (size_t k = i + 1; k <= last; ++k) word.folded += words[k].folded;
    word.end = words[last].end;
    word.characters = static_cast<int>(last - i + 1);
    word.joined = last > i;
    joined.push_back(std::move(word));
    any |= last > i;
    i = last + 1;
  }
  if (!any) joined.clear();
  return any;
}

// Where a rule matched: bytes of the original text.
struct Span {
  size_t begin = kNone, end = kNone;
};

// Masks each letter or digit inside `spans` with one '*'; the combining marks that follow a masked letter go
// with it. Every other byte is kept.
std::string Mask(const std::string& text, const std::vector<Span>& spans) {
  std::vector<bool> masked(text.size(), false);
  for (const Span& span : spans) std::fill(masked.begin() + span.begin, masked.begin() + span.end, true);
  std::string out;
  out.reserve(text.size());
  bool after_mask = false;
  ForEachCharacter(text, [&](size_t begin, size_t end, std::string_view folded) {
    bool word_character = false;
    ForEachCodepoint(folded, [&](std::string_view, Kind kind) {
      word_character |= kind == Kind::kLetter || kind == Kind::kDigit;
    });
    if (masked[begin] && word_character) {
      out += '*';
      after_mask = true;
    } else if (!(masked[begin] && folded.empty() && after_mask)) {  // a masked letter takes its accents
      out.append(text, begin, end - begin);
      after_mask = false;
    }
  });
  return out;
}

// The pattern's words joined by one space: two patterns with the same key match the same texts.
std::string PatternKey(const std::string& pattern) {
  std::string key;
  for (const TextWord& word : Tokenize(pattern, true)) key += (key.empty() ? "" : " ") + word.folded;
  return key;
}

std::string Trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == kNone) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

void ValidateWordPattern(const std::string& pattern) {
  auto invalid = [&](const std::string& problem, const std::string& hint) {
    throw Error(fmt::format("invalid word pattern '{}': {}", pattern, problem), hint);
  };
  const std::string examples = "'arnaque*', '*con', 'ar*que', 'western union'";
  if (Trim(pattern).empty())
    throw Error("the word pattern is empty", "give one or more words, with '*' for any letters: " + examples);
  if (pattern.size() > kMaxPatternBytes)
    throw Error(fmt::format("invalid word pattern '{}': longer than {} bytes ({})", Shorten(pattern, 43),
                            kMaxPatternBytes, pattern.size()));
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(pattern.data());
  const auto* end = p + pattern.size();
  while (p < end) {
    utf8proc_int32_t codepoint = 0;
    const utf8proc_ssize_t length = utf8proc_iterate(p, end - p, &codepoint);
    if (length <= 0) throw Error("the word pattern is not valid UTF-8", "write it in UTF-8");
    if (utf8proc_category(codepoint) == UTF8PROC_CATEGORY_CC)
      invalid("it contains a control character", "a pattern is one line of words");
    p += length;
  }
  const std::vector<TextWord> words = Tokenize(pattern, true);
  auto has_letters = [](const TextWord& word) { return word.folded.find_first_not_of('*') != kNone; };
  if (std::none_of(words.begin(), words.end(), has_letters))
    invalid("it has no letter or digit", "a rule matches words: " + examples);
  if (pattern.find("**") != kNone)
    invalid("'**' is one '*' too many", "a single '*' already stands for any number of letters");
  for (const TextWord& word : words)
    if (!has_letters(word))
      invalid("a '*' stands alone", "'*' stands for letters inside a word: " + examples);
}

struct WordRuleSet::Compiled {
  struct PatternWord {
    std::string literal;              // when the word has no `*`
    std::vector<std::string> pieces;  // when it has: before the first `*`, between them, after the last
    size_t min_size = 0;              // bytes of the pieces: a shorter word cannot match

    bool Matches(std::string_view word) const {
      if (pieces.empty()) return word == literal;
      if (word.size() < min_size) return false;
      const std::string& front = pieces.front();
      const std::string& back = pieces.back();
      if (!word.starts_with(front) || !word.ends_with(back)) return false;
      size_t position = front.size();
      const std::string_view middle = word.substr(0, word.size() - back.size());
      for (size_t i = 1; i + 1 < pieces.size(); ++i) {
        const size_t found = middle.find(pieces[i], position);
        if (found == kNone) return false;
        position = found + pieces[i].size();
      }
      return true;
    }
  };

  struct Rule {
    int severity = 0;
    bool censor = false;
    std::vector<PatternWord> words;
  };

  std::vector<WordRule> rules;
  std::vector<Rule> compiled;  // parallel to rules
  size_t max_words = 0;        // of the longest pattern
  // Indexes of the rules by their first word, so that a text word is only tried against the rules that can
  // match it: without `*`; with a prefix, by its first byte; starting with `*`, by the last byte of its
  // suffix; starting and ending with `*`.
  std::unordered_map<std::string, std::vector<size_t>> by_first_word;
  std::array<std::vector<size_t>, 256> by_first_byte;
  std::array<std::vector<size_t>, 256> by_last_byte;
  std::vector<size_t> starred_ends;

  void Add(const WordRule& rule) {
    Rule compiled_rule;
    compiled_rule.severity = Severity(rule.action);
    compiled_rule.censor = rule.action == "censor";
    for (const TextWord& word : Tokenize(rule.pattern, true)) {
      PatternWord pattern_word;
      if (!word.has_star) {
        pattern_word.literal = word.folded;
      } else {
        size_t start = 0;
        for (size_t star; (star = word.folded.find('*', start)) != kNone; start = star + 1)
          pattern_word.pieces.push_back(word.folded.substr(start, star - start));
        pattern_word.pieces.push_back(word.folded.substr(start));
        for (const std::string& piece : pattern_word.pieces) pattern_word.min_size += piece.size();
      }
      compiled_rule.words.push_back(std::move(pattern_word));
    }
    const size_t index = rules.size();
    const PatternWord& first = compiled_rule.words.front();
    if (first.pieces.empty())
      by_first_word[first.literal].push_back(index);
    else if (!first.pieces.front().empty())
      by_first_byte[static_cast<unsigned char>(first.pieces.front()[0])].push_back(index);
    else if (!first.pieces.back().empty())
      by_last_byte[static_cast<unsigned char>(first.pieces.back().back())].push_back(index);
    else
      starred_ends.push_back(index);
    max_words = std::max(max_words, compiled_rule.words.size());
    rules.push_back(rule);
    compiled.push_back(std::move(compiled_rule));
  }

  // Records, for each rule, its first occurrence in `words`, and every occurrence of the censor rules. With
  // `only_joined`, only the occurrences that include a joined word: the others were found on the words as
  // written.
  void Match(const std::vector<TextWord>& words, bool only_joined, std::vector<Span>& first,
             std::vector<Span>& censor) const {
    size_t next_joined = 0;  // index of the first joined word at or after i
    for (size_t i = 0; i < words.size(); ++i) {
      if (only_joined) {
        if (next_joined < i) next_joined = i;
        while (next_joined < words.size() && !words[next_joined].joined) ++next_joined;
        if (next_joined == words.size()) break;
        if (next_joined - i >= max_words) continue;
      }
      auto attempt = [&](size_t r, size_t checked) {
        const Rule& rule = compiled[r];
        if (i + rule.words.size() > words.size()) return;
        for (size_t k = checked; k < rule.words.size(); ++k)
          if (!rule.words[k].Matches(words[i + k].folded)) return;
        const Span span{words[i].begin, words[i + rule.words.size() - 1].end};
        if (first[r].begin == kNone || span.begin < first[r].begin) first[r] = span;
        if (rule.censor) censor.push_back(span);
      };
      const std::string& word = words[i].folded;
      if (auto it = by_first_word.find(word); it != by_first_word.end())
        for (size_t r : it->second) attempt(r, 1);
      for (size_t r : by_first_byte[static_cast<unsigned char>(word[0])]) attempt(r, 0);
      for (size_t r : by_last_byte[static_cast<unsigned char>(word.back())]) attempt(r, 0);
      for (size_t r : starred_ends) attempt(r, 0);
    }
  }
};

WordRuleSet WordRuleSet::FromRules(std::vector<WordRule> rules) {
  auto compiled = std::make_shared<Compiled>();
  for (const WordRule& rule : rules) {
    try {
      ValidateWordPattern(rule.pattern);
      ValidateAction(rule.action);
    } catch (const Error& e) {
      throw Error(
          fmt::format("word rule #{}: {}", rule.id, e.what()),
          fmt::format("remove it with 'voisinage mod rules remove {}', or fix it in the town file", rule.id));
    }
    compiled->Add(rule);
  }
  WordRuleSet set;
  set.compiled_ = std::move(compiled);
  return set;
}

WordRuleSet WordRuleSet::Load(Db& db) {
  return FromRules(ListWordRules(db));
}

const std::vector<WordRule>& WordRuleSet::rules() const {
  static const std::vector<WordRule> kNoRules;
  return compiled_ ? compiled_->rules : kNoRules;
}

RuleVerdict WordRuleSet::Check(const std::string& text) const {
  RuleVerdict verdict;
  verdict.censored = text;
  if (!compiled_ || compiled_->rules.empty()) return verdict;
  const Compiled& c = *compiled_;
  std::vector<Span> first(c.rules.size()), censor;
  const std::vector<TextWord> words = Tokenize(text, false);
  c.Match(words, false, first, censor);
  if (std::vector<TextWord> joined; JoinSpelledOut(words, text, joined)) c.Match(joined, true, first, censor);

  std::vector<size_t> fired;
  for (size_t r = 0; r < first.size(); ++r)
    if (first[r].begin != kNone) fired.push_back(r);
  std::sort(fired.begin(), fired.end(), [&](size_t a, size_t b) {
    if (c.compiled[a].severity != c.compiled[b].severity)
      return c.compiled[a].severity > c.compiled[b].severity;
    if (first[a].begin != first[b].begin) return first[a].begin < first[b].begin;
    return a < b;
  });
  for (size_t r : fired)
    verdict.hits.push_back({c.rules[r], text.substr(first[r].begin, first[r].end - first[r].begin)});
  if (!verdict.hits.empty()) verdict.action = verdict.hits.front().rule.action;
  if (!censor.empty()) verdict.censored = Mask(text, censor);
  return verdict;
}

const RuleHit* RuleVerdict::Strongest() const {
  return hits.empty() ? nullptr : &hits.front();
}

namespace {

const char* const kSelectWordRule = "SELECT id, pattern, action, from_town_file, created_at FROM word_rule";

WordRule ReadWordRule(SQLite::Statement& row) {
  WordRule rule;
  rule.id = row.getColumn(0).getInt64();
  rule.pattern = row.getColumn(1).getString();
  rule.action = row.getColumn(2).getString();
  rule.from_town_file = row.getColumn(3).getInt() != 0;
  rule.created_at = row.getColumn(4).getString();
  return rule;
}

std::optional<WordRule> FindById(Db& db, int64_t id) {
  SQLite::Statement query(db.sql(), std::string(kSelectWordRule) + " WHERE id = ?");
  query.bind(1, id);
  if (!query.executeStep()) return std::nullopt;
  return ReadWordRule(query);
}

// The rule designated by its id ("3", "#3") or its exact pattern.
WordRule FindWordRule(Db& db, const std::string& ref) {
  std::string_view digits = ref;
  const bool hash = digits.starts_with('#');
  if (hash) digits.remove_prefix(1);
  int64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  const bool numeric = !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
  if (numeric)
    if (std::optional<WordRule> rule = FindById(db, id)) return *rule;
  if (hash && numeric)
    throw Error(fmt::format("unknown word rule '#{}'", id), "list them with 'voisinage mod rules list'");
  SQLite::Statement query(db.sql(), std::string(kSelectWordRule) + " WHERE pattern = ?");
  query.bind(1, ref);
  if (query.executeStep()) return ReadWordRule(query);
  std::vector<std::string> patterns;
  for (const WordRule& rule : ListWordRules(db)) patterns.push_back(rule.pattern);
  throw Error(fmt::format("unknown word rule '{}'{}", ref, DidYouMean(ref, patterns)),
              "give its id or its exact pattern; see 'voisinage mod rules list'");
}

}  // namespace

WordRule AddWordRule(Db& db, const std::string& pattern_as_given, const std::string& action,
                     const std::string& actor) {
  const std::string pattern = Trim(pattern_as_given);
  ValidateWordPattern(pattern);
  ValidateAction(action);
  auto transaction = db.Write();
  const std::string key = PatternKey(pattern);
  for (const WordRule& rule : ListWordRules(db)) {
    if (rule.pattern != pattern && PatternKey(rule.pattern) != key) continue;
    const std::string same = rule.pattern == pattern ? "" : fmt::format(" as '{}'", rule.pattern);
    throw Error(
        fmt::format("word rule '{}' already exists{} (#{}, {})", pattern, same, rule.id, rule.action),
        rule.from_town_file
            ? "it comes from the town file: change it there and run 'voisinage init --from FILE'"
            : fmt::format("to change its action, remove it first: 'voisinage mod rules remove {}'", rule.id));
  }
  SQLite::Statement insert(
      db.sql(), "INSERT INTO word_rule (pattern, action, from_town_file, created_at) VALUES (?, ?, 0, ?)");
  insert.bind(1, pattern);
  insert.bind(2, action);
  insert.bind(3, NowIso());
  insert.exec();
  const int64_t id = db.sql().getLastInsertRowid();
  AppendAudit(db, actor, "rule.add", fmt::format("rule:{}", id), "",
              {{"pattern", pattern}, {"action", action}});
  WordRule added = *FindById(db, id);
  transaction.commit();
  return added;
}

std::vector<WordRule> ListWordRules(Db& db) {
  SQLite::Statement query(db.sql(), std::string(kSelectWordRule) + " ORDER BY id");
  std::vector<WordRule> rules;
  while (query.executeStep()) rules.push_back(ReadWordRule(query));
  return rules;
}

WordRule RemoveWordRule(Db& db, const std::string& ref, const std::string& actor) {
  auto transaction = db.Write();
  WordRule rule = FindWordRule(db, ref);
  SQLite::Statement remove(db.sql(), "DELETE FROM word_rule WHERE id = ?");
  remove.bind(1, rule.id);
  remove.exec();
  AppendAudit(db, actor, "rule.remove", fmt::format("rule:{}", rule.id), "",
              {{"pattern", rule.pattern}, {"action", rule.action}, {"from_town_file", rule.from_town_file}});
  transaction.commit();
  return rule;
}

json ToJson(const WordRule& rule) {
  return {{"id", rule.id},
          {"pattern", rule.pattern},
          {"action", rule.action},
          {"from_town_file", rule.from_town_file},
          {"created_at", rule.created_at}};
}

json ToJson(const RuleVerdict& verdict) {
  json hits = json::array();
  for (const RuleHit& hit : verdict.hits)
    hits.push_back({{"rule", ToJson(hit.rule)}, {"matched", hit.matched}});
  return {{"action", verdict.action.empty() ? json(nullptr) : json(verdict.action)},
          {"hits", hits},
          {"censored", verdict.censored}};
}

}  // namespace voisinage
