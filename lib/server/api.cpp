// The JSON API under /api/v1: the same library functions as the CLI, behind bearer tokens.

#include <algorithm>
#include <charconv>

#include "lib/clock.h"
#include "lib/grievance/grievance.h"
#include "lib/moderation/moderation.h"
#include "lib/moderation/post.h"
#include "lib/registry/directory.h"
#include "lib/server/context.h"
#include "lib/store/schema.h"
#include "lib/town/invitation.h"
#include "lib/town/neighbourhood.h"
#include "lib/town/town.h"
#include "lib/town/validation.h"

namespace voisinage {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

namespace {

constexpr int kDefaultPage = 20;
constexpr int kMaxPage = 100;

/// A request the client got wrong in form (not in content): 400.
class BadRequest : public Error {
 public:
  BadRequest(std::string code, const std::string& message) : Error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// The handler's body as a JSON object; throws BadRequest (415 is reported as such by the caller).
json JsonBody(const Request& req) {
  const std::string type = req.get_header_value("Content-Type");
  if (!type.starts_with("application/json"))
    throw BadRequest("unsupported_media_type", "send the body as JSON with 'Content-Type: application/json'");
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw BadRequest("malformed_json", "the body is not valid JSON");
  if (!body.is_object()) throw BadRequest("malformed_json", "the body must be a JSON object");
  return body;
}

std::string Text(const json& body, const char* key, bool required = false) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) throw BadRequest("missing_field", fmt::format("'{}' is required", key));
    return "";
  }
  if (!it->is_string()) throw BadRequest("invalid_field", fmt::format("'{}' must be a string", key));
  return it->get<std::string>();
}

std::optional<double> Number(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw BadRequest("invalid_field", fmt::format("'{}' must be a number", key));
  return it->get<double>();
}

bool Flag(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return false;
  if (!it->is_boolean()) throw BadRequest("invalid_field", fmt::format("'{}' must be true or false", key));
  return it->get<bool>();
}

int64_t Id(const std::string& text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0)
    throw NotFoundError(fmt::format("no such id '{}'", text.substr(0, 40)));
  return id;
}

int PageSize(const Request& req) {
  if (!req.has_param("limit")) return kDefaultPage;
  const std::string text = req.get_param_value("limit");
  int limit = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > kMaxPage)
    throw BadRequest("invalid_parameter", fmt::format("'limit' must be between 1 and {}", kMaxPage));
  return limit;
}

bool IsStaff(const Member& m) {
  return m.role == "townhall" || m.role == "moderator" || m.role == "admin";
}

// The route's handler run with the API's error shape; BadRequest becomes 400 (415 for a wrong content type).
void Api(Response& res, const std::function<void()>& handler) {
  Guarded(res, SendError, [&] {
    try {
      handler();
    } catch (const BadRequest& e) {
      SendError(res, e.code() == "unsupported_media_type" ? 415 : 400, e.code(), e.what());
    }
  });
}

json PostWithReplies(Db& db, const Post& post) {
  json out = ToJson(post);
  out["replies"] = json::array();
  for (const Post& reply : ListReplies(db, post.id))
    if (reply.status == "visible") out["replies"].push_back(ToJson(reply));
  return out;
}

}  // namespace

void RegisterApi(httplib::Server& http, ServerContext& context) {
  ServerContext* c = &context;

  http.Get("/api/v1/health", [c](const Request&, Response& res) {
    Api(res, [&] {
      Db& db = c->db();
      SendJson(res, {{"status", "ok"},
                     {"schema_version", db.sql().execAndGet("PRAGMA user_version").getInt()},
                     {"time", NowIso()}});
    });
  });

  http.Get("/api/v1/town", [c](const Request&, Response& res) {
    Api(res, [&] {
      const Town town = GetTown(c->db());
      SendJson(res, {{"name", town.identity.name},
                     {"insee", town.identity.insee},
                     {"postcodes", town.identity.postcodes},
                     {"timezone", town.identity.timezone},
                     {"url", town.identity.url}});
    });
  });

  http.Get("/api/v1/neighbourhoods", [c](const Request&, Response& res) {
    Api(res, [&] {
      json list = json::array();
      for (const Neighbourhood& n : ListNeighbourhoods(c->db(), false))
        list.push_back(
            {{"slug", n.slug}, {"name", n.name}, {"postcodes", n.postcodes}, {"members", n.members}});
      SendJson(res, {{"neighbourhoods", list}});
    });
  });

  // The feed: visible posts, newest first, 20 a page; `cursor` is the last id of the previous page.
  http.Get(R"(/api/v1/neighbourhoods/([a-z0-9-]{1,60})/posts)", [c](const Request& req, Response& res) {
    Api(res, [&] {
      if (!Authorise(*c, BearerToken(req), res)) return;
      Db& db = c->db();
      const NeighbourhoodKey n = ResolveNeighbourhoodKey(db, req.matches[1]);
      PostFilter filter;
      filter.neighbourhood = n.slug;
      filter.status = "visible";
      filter.limit = PageSize(req) + 1;
      if (req.has_param("cursor")) {
        const std::string cursor = req.get_param_value("cursor");
        auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), filter.before_id);
        if (ec != std::errc() || end != cursor.data() + cursor.size() || filter.before_id <= 0)
          throw BadRequest("invalid_parameter", "'cursor' is the next_cursor of the previous page");
      }
      std::vector<Post> posts = ListPosts(db, filter);
      const bool more = static_cast<int>(posts.size()) == filter.limit;
      if (more) posts.pop_back();
      json items = json::array();
      for (const Post& p : posts) items.push_back(ToJson(p));
      SendJson(res, {{"neighbourhood", n.slug},
                     {"posts", items},
                     {"next_cursor", more ? json(std::to_string(posts.back().id)) : json(nullptr)}});
    });
  });

  http.Get(R"(/api/v1/posts/(\d{1,18}))", [c](const Request& req, Response& res) {
    Api(res, [&] {
      const std::optional<Caller> caller = Authorise(*c, BearerToken(req), res);
      if (!caller) return;
      Db& db = c->db();
      const Post post = GetPost(db, Id(req.matches[1]));
      if (post.status != "visible" && !IsStaff(caller->member) && post.author_id != caller->member.id)
        throw NotFoundError(fmt::format("unknown post '{}'", post.id));
      SendJson(res, PostWithReplies(db, post));
    });
  });

  auto create_post = [c](const Request& req, Response& res, int64_t parent_id) {
    Api(res, [&] {
      const std::optional<Caller> caller = Authorise(*c, BearerToken(req), res);
      if (!caller) return;
      const json body = JsonBody(req);
      if (parent_id != 0) {
        // A post the caller cannot see does not exist for them, for replying as for reading.
        const Post parent = GetPost(c->db(), parent_id);
        if (parent.status != "visible" && !IsStaff(caller->member) && parent.author_id != caller->member.id)
          throw NotFoundError(fmt::format("unknown post '{}'", parent_id));
      }
      NewPost post;
      post.author = std::to_string(caller->member.id);
      post.parent_id = parent_id;
      post.body = Text(body, "body", true);
      if (parent_id == 0) {
        post.neighbourhood = Text(body, "neighbourhood");
        // Residents post in their own neighbourhood; the town hall, associations and shops anywhere.
        if (!post.neighbourhood.empty() && caller->member.role == "resident" &&
            ResolveNeighbourhoodKey(c->db(), post.neighbourhood).slug != caller->member.neighbourhood)
          throw ForbiddenError("residents post in their own neighbourhood");
        post.kind = Text(body, "kind");
        if (post.kind.empty()) post.kind = "discussion";
        post.subkind = Text(body, "subkind");
        post.title = Text(body, "title");
        post.event_at = Text(body, "event_at");
        post.event_place = Text(body, "event_place");
      }
      const std::string actor = fmt::format("member:{}", caller->member.id);
      const PostOutcome outcome = c->Write([&](Db& db) { return CreatePost(db, post, actor); });
      json out = ToJson(outcome);
      if (outcome.verdict == "held") {
        out["message"] = "en attente de modération";
        SendJson(res, out, 202);
      } else {
        SendJson(res, out, 201);
      }
    });
  };
  http.Post("/api/v1/posts", [create_post](const Request& req, Response& res) { create_post(req, res, 0); });
  http.Post(R"(/api/v1/posts/(\d{1,18})/replies)", [create_post](const Request& req, Response& res) {
    Api(res, [&] { create_post(req, res, Id(req.matches[1])); });
  });

  http.Post("/api/v1/reports", [c](const Request& req, Response& res) {
    Api(res, [&] {
      const std::optional<Caller> caller = Authorise(*c, BearerToken(req), res);
      if (!caller) return;
      const json body = JsonBody(req);
      NewReport report;
      report.reporter = std::to_string(caller->member.id);
      report.target = Text(body, "target", true);
      report.reason = Text(body, "reason", true);
      report.details = Text(body, "details");
      report.notifier_name = Text(body, "notifier_name");
      report.notifier_email = Text(body, "notifier_email");
      report.good_faith = Flag(body, "good_faith");
      // Residents report what they can see: a post they cannot read does not exist for them.
      if (!IsStaff(caller->member)) {
        std::string_view id = report.target;
        if (id.starts_with("post:")) id.remove_prefix(5);
        if (!id.empty() &&
            std::all_of(id.begin(), id.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
          const Post post = GetPost(c->db(), Id(std::string(id)));
          if (post.status != "visible" && post.author_id != caller->member.id)
            throw NotFoundError(fmt::format("unknown post '{}'", post.id));
        }
      }
      const ReportOutcome outcome = c->Write([&](Db& db) { return AddReport(db, report); });
      // The reporter learns that the report was received, not how the case stands.
      SendJson(res, {{"report", outcome.report_id}, {"status", "received"}}, 201);
    });
  });

  http.Get("/api/v1/directory", [c](const Request& req, Response& res) {
    Api(res, [&] {
      DirectoryQuery query;
      query.text = req.get_param_value("q");
      query.kind = req.get_param_value("kind");
      query.neighbourhood = req.get_param_value("neighbourhood");
      query.limit = PageSize(req) + 1;  // one more tells whether there is a next page
      if (req.has_param("offset")) {
        const std::string text = req.get_param_value("offset");
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), query.offset);
        if (ec != std::errc() || end != text.data() + text.size() || query.offset < 0 ||
            query.offset > 1000000)
          throw BadRequest("invalid_parameter", "'offset' is the next_offset of the previous page");
      }
      if (query.text.size() > 200) throw BadRequest("invalid_parameter", "'q' is longer than 200 bytes");
      if (!query.kind.empty() && query.kind != "merchant" && query.kind != "association")
        throw BadRequest("invalid_parameter", "'kind' is merchant or association");
      std::vector<DirectoryEntry> entries = SearchDirectory(c->db(), query);
      const bool more = static_cast<int>(entries.size()) == query.limit;
      if (more) entries.pop_back();
      json items = json::array();
      for (const DirectoryEntry& e : entries) items.push_back(ToJson(e));
      SendJson(res, {{"entries", items},
                     {"next_offset",
                      more ? json(query.offset + static_cast<int>(entries.size())) : json(nullptr)}});
    });
  });

  http.Post("/api/v1/grievances", [c](const Request& req, Response& res) {
    Api(res, [&] {
      const std::optional<Caller> caller = Authorise(*c, BearerToken(req), res);
      if (!caller) return;
      const json body = JsonBody(req);
      NewGrievance g;
      g.reporter = std::to_string(caller->member.id);
      g.channel = "app";
      g.category = Text(body, "category", true);
      g.title = Text(body, "title", true);
      g.description = Text(body, "description", true);
      g.address = Text(body, "address");
      g.postcode = Text(body, "postcode");
      g.lat = Number(body, "lat");
      g.lon = Number(body, "lon");
      const std::string actor = fmt::format("member:{}", caller->member.id);
      const AddedGrievance added = c->Write([&](Db& db) { return AddGrievance(db, g, actor); });
      SendJson(res, {{"grievance", ToJson(added.grievance, true)}, {"warnings", added.warnings}}, 201);
    });
  });

  // A grievance's status by reference: public fields and public answers for anyone; everything for staff.
  http.Get(R"(/api/v1/grievances/([A-Za-z0-9-]{1,24}))", [c](const Request& req, Response& res) {
    Api(res, [&] {
      std::optional<Caller> caller;
      if (const std::string token = BearerToken(req); !token.empty()) {
        caller = Authorise(*c, token, res);
        if (!caller) return;
      }
      Db& db = c->db();
      const Grievance g = GetGrievance(db, req.matches[1]);
      const bool staff = caller && IsStaff(caller->member);
      const bool own = caller && g.reporter_id == caller->member.id;
      if (!staff && (g.status == "hidden" || (!g.is_public && !own)))
        throw NotFoundError(fmt::format("no grievance '{}'", g.reference));
      json out = ToJson(g, !staff);
      out["status_label"] = FrenchStatus(g.status);
      out["events"] = json::array();
      for (const GrievanceEvent& e : GrievanceEvents(db, g.id, !staff)) {
        json event = ToJson(e);
        if (!staff) event.erase("actor");
        out["events"].push_back(std::move(event));
      }
      SendJson(res, out);
    });
  });

  // Joining with an invitation code: the member and their token are created together.
  http.Post("/api/v1/join", [c](const Request& req, Response& res) {
    Api(res, [&] {
      const json body = JsonBody(req);
      const std::string code = Text(body, "code", true);
      const std::string name = Text(body, "display_name", true);
      const std::string email = Text(body, "email");
      NewToken token;
      const Member member = c->Write([&](Db& db) {
        if (!email.empty()) {
          // Never tell an anonymous caller who is a member.
          SQLite::Statement taken(db.sql(), "SELECT 1 FROM member WHERE email = ? COLLATE NOCASE");
          taken.bind(1, email);
          if (taken.executeStep())
            throw Error("this e-mail address cannot be used to join", "join without it, or give another one");
        }
        return RedeemInvitation(db, code, name, email, [&](const Member& m) {
          token = InsertToken(db, m.id, "join", std::nullopt, fmt::format("member:{}", m.id));
        });
      });
      SendJson(res,
               {{"member",
                 {{"id", member.id},
                  {"display_name", member.display_name},
                  {"neighbourhood", member.neighbourhood}}},
                {"token", token.secret}},
               201);
    });
  });
}

}  // namespace voisinage
