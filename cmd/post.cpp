// voisinage post add|list|show|edit|remove: posts for staff and scripts (residents post through the server).

#include "lib/moderation/post.h"
#include "cmd/cli.h"
#include "lib/moderation/moderation.h"

namespace voisinage {

namespace post_command {

struct AddOptions {
  NewPost post;
  bool json = false;
};
struct ListOptions {
  PostFilter filter;
  bool json = false;
};
struct ShowOptions {
  int64_t id = 0;
  bool json = false;
};
struct EditOptions {
  int64_t id = 0;
  std::optional<std::string> title, body;
  bool json = false;
};
struct RemoveOptions {
  int64_t id = 0;
  std::string reason = "other", note, as;
};

void PrintOutcome(const PostOutcome& o, const Invocation& invocation) {
  std::string what = o.verdict == "held" ? "held for review"
                     : o.verdict == "flagged"
                         ? fmt::format("published and flagged for review (case {})", o.case_id)
                     : o.verdict == "censored" ? "published with words masked"
                                               : "published";
  Say(invocation,
      fmt::format("post {} {}{}", o.post.id, what,
                  o.rules.empty() ? "" : fmt::format(" (word rules: {})", fmt::join(o.rules, ", "))));
}

int RunAdd(const AddOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  PostOutcome outcome = CreatePost(db, options.post, "cli");
  options.json ? PrintJson(ToJson(outcome)) : PrintOutcome(outcome, invocation);
  return 0;
}

int RunList(const ListOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  std::vector<Post> posts = ListPosts(db, options.filter);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Post& p : posts) out.push_back(ToJson(p));
    PrintJson(out);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const Post& p : posts)
    rows.push_back({std::to_string(p.id), p.created_at.substr(0, 10), p.neighbourhood, p.kind, p.author_name,
                    Shorten(p.title.empty() ? p.body : p.title, 43), p.status, std::to_string(p.replies)});
  PrintTable({"ID", "DATE", "NEIGHBOURHOOD", "KIND", "AUTHOR", "TITLE", "STATUS", "REPLIES"}, rows);
  return 0;
}

int RunShow(const ShowOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Post p = GetPost(db, options.id);
  std::vector<Post> replies = ListReplies(db, p.id);
  if (options.json) {
    nlohmann::json out = ToJson(p);
    out["replies"] = nlohmann::json::array();
    for (const Post& r : replies) out["replies"].push_back(ToJson(r));
    PrintJson(out);
    return 0;
  }
  std::cout << fmt::format("post {} · {} · {} · {} by {} (#{}, {}) on {}\n", p.id, p.neighbourhood, p.kind,
                           p.status, Printable(p.author_name), p.author_id, p.author_role, p.created_at);
  if (!p.title.empty()) std::cout << Printable(p.title) << '\n';
  if (!p.event_at.empty()) std::cout << "event: " << p.event_at << ' ' << Printable(p.event_place) << '\n';
  std::cout << Printable(p.body) << '\n';
  for (const Post& r : replies)
    std::cout << fmt::format("  ↳ reply {} by {} ({}): {}\n", r.id, Printable(r.author_name), r.status,
                             Printable(r.body));
  return 0;
}

int RunRemove(const RemoveOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  Decision d = Decide(
      db, {"remove", fmt::format("post:{}", options.id), options.reason, options.note, options.as, "", -1});
  Say(invocation, fmt::format("removed post {} (decision {}, case {})", options.id, d.id, d.case_id));
  return 0;
}

int RunEdit(const EditOptions& options, Invocation& invocation) {
  Db db = OpenDb(invocation);
  PostOutcome outcome = EditPost(db, options.id, options.title, options.body, "cli");
  options.json ? PrintJson(ToJson(outcome)) : PrintOutcome(outcome, invocation);
  return 0;
}

}  // namespace post_command

void SetupPost(CLI::App& app, Invocation& invocation) {
  using namespace post_command;
  CLI::App* group = app.add_subcommand("post", "Add, list, show and edit posts");
  group->require_subcommand(1);

  auto add = std::make_shared<AddOptions>();
  CLI::App* a = group->add_subcommand("add", "Publish a post (word rules apply)");
  a->add_option("--as", add->post.author, "Author: member id or e-mail")->option_text("MEMBER")->required();
  a->add_option("--neighbourhood", add->post.neighbourhood, "Neighbourhood (default: the author's)")
      ->option_text("SLUG");
  a->add_option("--kind", add->post.kind, "offer, request, event, announcement, discussion or lost_found")
      ->option_text("KIND");
  a->add_option("--subkind", add->post.subkind, "For offers and requests: lend, give, swap or help")
      ->option_text("SUBKIND");
  a->add_option("--title", add->post.title, "Title")->option_text("TEXT");
  a->add_option("--body", add->post.body, "Text of the post (up to 4000 bytes)")
      ->option_text("TEXT")
      ->required();
  a->add_option("--event-at", add->post.event_at, "Date of an event: YYYY-MM-DD or ISO timestamp")
      ->option_text("DATE");
  a->add_option("--event-place", add->post.event_place, "Place of an event")->option_text("TEXT");
  a->add_option("--reply-to", add->post.parent_id, "Post this replies to")->option_text("POST");
  AddJsonFlag(a, add->json);
  OnRun(a, invocation, add, RunAdd);

  auto list = std::make_shared<ListOptions>();
  CLI::App* l = group->add_subcommand("list", "List posts, newest first");
  l->add_option("--neighbourhood", list->filter.neighbourhood, "Only this neighbourhood")
      ->option_text("SLUG");
  l->add_option("--author", list->filter.author, "Only this author")->option_text("MEMBER");
  l->add_option("--status", list->filter.status, "visible, held, hidden or removed")->option_text("STATUS");
  l->add_option("--kind", list->filter.kind, "Only this kind")->option_text("KIND");
  l->add_option("--before", list->filter.before_id, "Only posts older than this one (paging)")
      ->option_text("POST");
  l->add_option("--limit", list->filter.limit, "At most N posts (default 50)")->option_text("N");
  AddJsonFlag(l, list->json);
  OnRun(l, invocation, list, RunList);

  auto show = std::make_shared<ShowOptions>();
  CLI::App* s = group->add_subcommand("show", "Show a post and its replies");
  s->add_option("post", show->id, "Post id")->required();
  AddJsonFlag(s, show->json);
  OnRun(s, invocation, show, RunShow);

  auto edit = std::make_shared<EditOptions>();
  CLI::App* e = group->add_subcommand("edit", "Change a post's title or text (word rules apply again)");
  e->add_option("post", edit->id, "Post id")->required();
  e->add_option("--title", edit->title, "New title")->option_text("TEXT");
  e->add_option("--body", edit->body, "New text")->option_text("TEXT");
  AddJsonFlag(e, edit->json);
  OnRun(e, invocation, edit, RunEdit);

  auto remove = std::make_shared<RemoveOptions>();
  CLI::App* r =
      group->add_subcommand("remove", "Remove a post (a moderation decision, with its statement of reasons)");
  r->add_option("post", remove->id, "Post id")->required();
  r->add_option("--reason", remove->reason, "Ground: spam, scam, harassment, hate, ... or other")
      ->option_text("CODE");
  r->add_option("--note", remove->note, "Facts, for the statement of reasons")->option_text("TEXT");
  r->add_option("--as", remove->as, "The moderator deciding (default: $VOISINAGE_MODERATOR)")
      ->option_text("MODERATOR")
      ->envname("VOISINAGE_MODERATOR")
      ->required();
  OnRun(r, invocation, remove, RunRemove);
}

}  // namespace voisinage
