#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/store/db.h"

namespace voisinage {

/// The kinds of posts; replies have kind "reply".
const std::vector<std::string>& PostKinds();

struct Post {
  int64_t id = 0;
  std::string neighbourhood;  ///< slug
  int64_t author_id = 0;
  std::string author_name, author_role;
  int64_t parent_id = 0;  ///< the post replied to, 0 for a post
  std::string kind, subkind, title, body, event_at, event_place;
  std::string status;  ///< visible | held | hidden | removed
  bool locked = false;
  std::string created_at, updated_at;
  int64_t replies = 0;
};

struct NewPost {
  std::string neighbourhood;  ///< slug; a reply takes its parent's
  std::string author;         ///< member id or e-mail
  int64_t parent_id = 0;
  std::string kind = "discussion";
  std::string subkind, title, body, event_at, event_place;
};

/// What the word rules made of a new or edited post.
struct PostOutcome {
  Post post;
  std::string verdict;             ///< published | held | flagged | censored
  std::vector<std::string> rules;  ///< patterns of the rules that fired
  int64_t case_id = 0;             ///< the case a flag opened
};

/// Thrown when a block rule refuses a post; names the rule.
class BlockedError : public Error {
 public:
  using Error::Error;
};

/// Validates and creates a post in one transaction: the author must be an active member who is not silenced,
/// suspended or banned; announcements are for the town hall, associations and shops; the town's word rules
/// apply (block refuses with BlockedError, hold creates it pending review, flag opens a case, censor masks).
PostOutcome CreatePost(Db& db, const NewPost& post, const std::string& actor);

/// Changes the title and/or body; the word rules apply again.
PostOutcome EditPost(Db& db, int64_t id, const std::optional<std::string>& title,
                     const std::optional<std::string>& body, const std::string& actor);

/// The post; throws Error when there is none.
Post GetPost(Db& db, int64_t id);

struct PostFilter {
  std::string neighbourhood, author, status, kind;
  int64_t before_id = 0;  ///< for pagination: posts older than this one
  int limit = 50;
};

/// Posts (not replies), newest first.
std::vector<Post> ListPosts(Db& db, const PostFilter& filter);

/// The replies to a post, oldest first.
std::vector<Post> ListReplies(Db& db, int64_t post_id);

/// The member's active restriction that stops them posting ("silence", "suspension", "ban"), or empty.
std::string ActiveRestriction(Db& db, int64_t member_id);

/// Sets a post's status inside the caller's transaction (used by moderation decisions).
void WritePostStatus(Db& db, int64_t id, const std::string& status);

nlohmann::json ToJson(const Post& post);
nlohmann::json ToJson(const PostOutcome& outcome);

}  // namespace voisinage
