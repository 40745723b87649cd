#include "lib/moderation/post.h"

#include <algorithm>

#include "lib/clock.h"
#include "lib/moderation/moderation.h"
#include "lib/moderation/word_rules.h"
#include "lib/store/audit_log.h"
#include "lib/text/suggest.h"
#include "lib/town/member.h"
#include "lib/town/neighbourhood.h"
#include "lib/town/validation.h"

namespace voisinage {

using nlohmann::json;

const std::vector<std::string>& PostKinds() {
  static const std::vector<std::string> kinds = {"offer",        "request",    "event",
                                                 "announcement", "discussion", "lost_found"};
  return kinds;
}

namespace {

constexpr size_t kMaxTitle = 200;
constexpr size_t kMaxBody = 4000;

const char* const kSelectPost = R"sql(
  SELECT p.id, n.slug, p.author_id, m.display_name, m.role, coalesce(p.parent_id, 0), p.kind, p.subkind, p.title,
         p.body, p.event_at, p.event_place, p.status, p.locked, p.created_at, p.updated_at,
         (SELECT count(*) FROM post r WHERE r.parent_id = p.id AND r.status = 'visible')
  FROM post p JOIN neighbourhood n ON n.id = p.neighbourhood_id JOIN member m ON m.id = p.author_id)sql";

Post ReadPost(SQLite::Statement& row) {
  Post p;
  p.id = row.getColumn(0).getInt64();
  p.neighbourhood = row.getColumn(1).getString();
  p.author_id = row.getColumn(2).getInt64();
  p.author_name = row.getColumn(3).getString();
  p.author_role = row.getColumn(4).getString();
  p.parent_id = row.getColumn(5).getInt64();
  int i = 6;
  for (std::string* field : {&p.kind, &p.subkind, &p.title, &p.body, &p.event_at, &p.event_place, &p.status})
    *field = row.getColumn(i++).getString();
  p.locked = row.getColumn(13).getInt() != 0;
  p.created_at = row.getColumn(14).getString();
  p.updated_at = row.getColumn(15).getString();
  p.replies = row.getColumn(16).getInt64();
  return p;
}

void ValidateText(const std::string& title, const std::string& body) {
  if (title.size() > kMaxTitle) throw Error(fmt::format("the title is longer than {} bytes", kMaxTitle));
  if (body.empty() ||
      std::all_of(body.begin(), body.end(), [](char c) { return c == ' ' || c == '\n' || c == '\t'; }))
    throw Error("the text of the post is empty");
  if (body.size() > kMaxBody) throw Error(fmt::format("the text is longer than {} bytes", kMaxBody));
}

// Runs the word rules on title and body; fills the outcome and returns the status to store.
std::string ApplyWordRules(Db& db, std::string& title, std::string& body, PostOutcome& outcome) {
  const WordRuleSet rules = WordRuleSet::Load(db);
  RuleVerdict on_title = rules.Check(title), on_body = rules.Check(body);
  std::vector<RuleHit> hits = on_title.hits;
  hits.insert(hits.end(), on_body.hits.begin(), on_body.hits.end());
  for (const RuleHit& hit : hits)
    if (hit.rule.action == "block")
      throw BlockedError(fmt::format("the post is refused by the word rule '{}' (block)", hit.rule.pattern),
                         "rephrase it; 'voisinage mod rules test TEXT' shows which rules fire");
  for (const RuleHit& hit : hits)
    if (std::find(outcome.rules.begin(), outcome.rules.end(), hit.rule.pattern) == outcome.rules.end())
      outcome.rules.push_back(hit.rule.pattern);
  title = on_title.censored;
  body = on_body.censored;
  auto fired = [&](const char* action) {
    return std::any_of(hits.begin(), hits.end(), [&](const RuleHit& h) { return h.rule.action == action; });
  };
  outcome.verdict = fired("hold")     ? "held"
                    : fired("flag")   ? "flagged"
                    : fired("censor") ? "censored"
                                      : "published";
  return fired("hold") ? "held" : "visible";
}

}  // namespace

std::string ActiveRestriction(Db& db, int64_t member_id) {
  CachedStatement query = db.Prepare(R"sql(
    SELECT kind FROM restriction WHERE member_id = ? AND lifted_at IS NULL AND kind != 'warning'
      AND (until IS NULL OR until > ?) ORDER BY kind = 'ban' DESC, kind = 'suspension' DESC LIMIT 1)sql");
  query->bind(1, member_id);
  query->bind(2, NowIso());
  return query->executeStep() ? query->getColumn(0).getString() : "";
}

void WritePostStatus(Db& db, int64_t id, const std::string& status) {
  SQLite::Statement update(db.sql(), "UPDATE post SET status = ?, updated_at = ? WHERE id = ?");
  update.bind(1, status);
  update.bind(2, NowIso());
  update.bind(3, id);
  update.exec();
}

PostOutcome CreatePost(Db& db, const NewPost& input, const std::string& actor) {
  NewPost post = input;
  auto transaction = db.Write();
  Member author = FindMember(db, post.author);
  if (!author.removed_at.empty()) throw Error(fmt::format("member '#{}' has been removed", author.id));
  if (std::string restriction = ActiveRestriction(db, author.id); !restriction.empty())
    throw ForbiddenError(
        fmt::format("member '#{}' cannot post: their account is under a {}", author.id, restriction),
        "see 'voisinage mod show' for the decision and how to appeal");
  int64_t neighbourhood_id = 0;
  if (post.parent_id != 0) {
    Post parent = GetPost(db, post.parent_id);
    if (parent.parent_id != 0)
      throw Error(fmt::format("post {} is a reply: reply to post {}", parent.id, parent.parent_id));
    if (parent.status != "visible")
      throw Error(fmt::format("post {} is {}: it takes no replies", parent.id, parent.status));
    if (parent.locked) throw Error(fmt::format("post {} is locked: it takes no more replies", parent.id));
    post.kind = "reply";
    post.title.clear();
    neighbourhood_id = ResolveNeighbourhoodKey(db, parent.neighbourhood).id;
  } else {
    const auto& kinds = PostKinds();
    if (std::find(kinds.begin(), kinds.end(), post.kind) == kinds.end())
      throw Error(fmt::format("unknown kind of post '{}'{}", post.kind, DidYouMean(post.kind, kinds)),
                  "kinds: offer, request, event, announcement, discussion, lost_found");
    if ((post.kind == "offer" || post.kind == "request") && !post.subkind.empty() && post.subkind != "lend" &&
        post.subkind != "give" && post.subkind != "swap" && post.subkind != "help")
      throw Error(fmt::format("unknown kind of {} '{}'", post.kind, post.subkind),
                  "lend, give, swap or help");
    if (post.kind == "announcement" && author.role == "resident")
      throw Error("announcements are for the town hall, associations and shops",
                  "post a discussion instead, or give the member the right role");
    if (post.kind == "event" && post.event_at.empty()) throw Error("an event needs a date (--event-at)");
    if (!post.event_at.empty()) post.event_at = FormatIso(ParseIso(post.event_at));
    if (post.neighbourhood.empty()) post.neighbourhood = author.neighbourhood;
    if (post.neighbourhood.empty())
      throw Error(fmt::format("member '#{}' belongs to no neighbourhood", author.id),
                  "give --neighbourhood SLUG");
    const NeighbourhoodKey n = ResolveNeighbourhoodKey(db, post.neighbourhood);
    if (n.archived) ResolveActiveNeighbourhood(db, post.neighbourhood);  // throws the archived message
    neighbourhood_id = n.id;
  }
  ValidateText(post.title, post.body);
  PostOutcome outcome;
  const std::string status = ApplyWordRules(db, post.title, post.body, outcome);
  const std::string now = NowIso();
  SQLite::Statement insert(db.sql(), R"sql(
    INSERT INTO post (neighbourhood_id, author_id, parent_id, kind, subkind, title, body, event_at, event_place,
                      status, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql");
  insert.bind(1, neighbourhood_id);
  insert.bind(2, author.id);
  if (post.parent_id) insert.bind(3, post.parent_id);
  int i = 4;
  for (const std::string* field :
       std::initializer_list<const std::string*>{&post.kind, &post.subkind, &post.title, &post.body,
                                                 &post.event_at, &post.event_place, &status, &now, &now})
    insert.bind(i++, *field);
  insert.exec();
  const int64_t id = db.sql().getLastInsertRowid();
  // A held post waits in the moderators' queue, like a flagged one.
  if (outcome.verdict == "flagged" || outcome.verdict == "held")
    outcome.case_id = FlagPost(db, id, outcome.rules.front(), outcome.verdict == "held" ? "hold" : "flag");
  AppendAudit(db, actor, "post.create", fmt::format("post:{}", id), "",
              {{"verdict", outcome.verdict}, {"rules", outcome.rules}, {"author", author.id}});
  transaction.commit();
  outcome.post = GetPost(db, id);
  return outcome;
}

PostOutcome EditPost(Db& db, int64_t id, const std::optional<std::string>& title,
                     const std::optional<std::string>& body, const std::string& actor) {
  auto transaction = db.Write();
  Post before = GetPost(db, id);
  if (before.status == "removed") throw Error(fmt::format("post {} has been removed", id));
  std::string new_title = title.value_or(before.title), new_body = body.value_or(before.body);
  ValidateText(new_title, new_body);
  PostOutcome outcome;
  std::string status = ApplyWordRules(db, new_title, new_body, outcome);
  // An edit neither undoes a moderator's decision nor releases a post held for review.
  if (before.status == "hidden" || before.status == "held") status = before.status;
  SQLite::Statement update(db.sql(),
                           "UPDATE post SET title = ?, body = ?, status = ?, updated_at = ? WHERE id = ?");
  update.bind(1, new_title);
  update.bind(2, new_body);
  update.bind(3, status);
  update.bind(4, NowIso());
  update.bind(5, id);
  update.exec();
  if (outcome.verdict == "flagged" || outcome.verdict == "held")
    outcome.case_id = FlagPost(db, id, outcome.rules.front(), outcome.verdict == "held" ? "hold" : "flag");
  AppendAudit(db, actor, "post.edit", fmt::format("post:{}", id), "",
              {{"before", {{"title", before.title}, {"body", before.body}, {"status", before.status}}},
               {"after", {{"title", new_title}, {"body", new_body}, {"status", status}}},
               {"verdict", outcome.verdict}});
  transaction.commit();
  outcome.post = GetPost(db, id);
  return outcome;
}

Post GetPost(Db& db, int64_t id) {
  SQLite::Statement query(db.sql(), std::string(kSelectPost) + " WHERE p.id = ?");
  query.bind(1, id);
  if (!query.executeStep())
    throw NotFoundError(fmt::format("unknown post '{}'", id), "list them with 'voisinage post list'");
  return ReadPost(query);
}

std::vector<Post> ListPosts(Db& db, const PostFilter& filter) {
  std::string sql = std::string(kSelectPost) + " WHERE p.parent_id IS NULL";
  int64_t neighbourhood_id = 0, author_id = 0;
  if (!filter.neighbourhood.empty()) {
    neighbourhood_id = ResolveNeighbourhoodKey(db, filter.neighbourhood).id;
    sql += " AND p.neighbourhood_id = :neighbourhood";
  }
  if (!filter.author.empty()) {
    author_id = FindMember(db, filter.author).id;
    sql += " AND p.author_id = :author";
  }
  if (!filter.status.empty()) {
    static const std::vector<std::string> statuses = {"visible", "held", "hidden", "removed"};
    if (std::find(statuses.begin(), statuses.end(), filter.status) == statuses.end())
      throw Error(fmt::format("unknown status '{}'{}", filter.status, DidYouMean(filter.status, statuses)),
                  "statuses: visible, held, hidden, removed");
    sql += " AND p.status = :status";
  }
  if (!filter.kind.empty()) {
    if (std::find(PostKinds().begin(), PostKinds().end(), filter.kind) == PostKinds().end())
      throw Error(
          fmt::format("unknown kind of post '{}'{}", filter.kind, DidYouMean(filter.kind, PostKinds())));
    sql += " AND p.kind = :kind";
  }
  if (filter.before_id) sql += " AND p.id < :before";
  sql += " ORDER BY p.id DESC LIMIT :limit";
  CachedStatement query = db.Prepare(sql);
  if (neighbourhood_id) query->bind(":neighbourhood", neighbourhood_id);
  if (author_id) query->bind(":author", author_id);
  if (!filter.status.empty()) query->bind(":status", filter.status);
  if (!filter.kind.empty()) query->bind(":kind", filter.kind);
  if (filter.before_id) query->bind(":before", filter.before_id);
  query->bind(":limit", filter.limit);
  std::vector<Post> posts;
  while (query->executeStep()) posts.push_back(ReadPost(*query));
  return posts;
}

std::vector<Post> ListReplies(Db& db, int64_t post_id) {
  SQLite::Statement query(db.sql(), std::string(kSelectPost) + " WHERE p.parent_id = ? ORDER BY p.id");
  query.bind(1, post_id);
  std::vector<Post> replies;
  while (query.executeStep()) replies.push_back(ReadPost(query));
  return replies;
}

json ToJson(const Post& p) {
  json out = {{"id", p.id},
              {"neighbourhood", p.neighbourhood},
              {"author", {{"id", p.author_id}, {"display_name", p.author_name}, {"role", p.author_role}}},
              {"kind", p.kind},
              {"title", p.title},
              {"body", p.body},
              {"status", p.status},
              {"locked", p.locked},
              {"replies", p.replies},
              {"created_at", p.created_at},
              {"updated_at", p.updated_at}};
  if (p.parent_id) out["parent_id"] = p.parent_id;
  if (!p.subkind.empty()) out["subkind"] = p.subkind;
  if (!p.event_at.empty()) out["event"] = {{"at", p.event_at}, {"place", p.event_place}};
  return out;
}

json ToJson(const PostOutcome& o) {
  return {{"post", ToJson(o.post)},
          {"verdict", o.verdict},
          {"rules", o.rules},
          {"case_id", o.case_id ? json(o.case_id) : json(nullptr)}};
}

}  // namespace voisinage
