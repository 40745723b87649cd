// The French HTML pages for residents. Each handler identifies the visitor (session cookie), reads with
// c->db(), writes with c->Write(...) through the library's functions, and renders templates/web/.

#include "lib/web/pages.h"

#include <charconv>
#include <cstdio>

#include "lib/clock.h"
#include "lib/grievance/grievance.h"
#include "lib/moderation/moderation.h"
#include "lib/moderation/post.h"
#include "lib/registry/directory.h"
#include "lib/render/template.h"
#include "lib/town/invitation.h"
#include "lib/town/neighbourhood.h"
#include "lib/town/town.h"
#include "lib/web/csrf.h"
#include "lib/web/forms.h"
#include "lib/web/session.h"

namespace voisinage {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'";
constexpr int kFeedPage = 10;
constexpr int kDirectoryPage = 50;
constexpr std::chrono::hours kFormCookieLifetime{24};

// What every page handler shares: the server's context, the CSRF key, the limits on submissions.
struct Pages {
  explicit Pages(ServerContext& context) : c(context) {}
  ServerContext& c;
  CsrfGuard csrf;
  SubmissionLimit grievances{5, std::chrono::hours(1)};  ///< per client address, members included
  SubmissionLimit joins{30, std::chrono::hours(1)};  ///< attempts per client address: codes are not guessed
};

// Who is asking: a signed-in member or an anonymous visitor, and what their forms' CSRF tokens bind to.
struct Visitor {
  std::optional<Member> member;
  std::string session;  ///< the session id of the cookie, when it is valid
  std::string binding;  ///< "s:" + session, or "f:" + the form cookie
  bool secure = false;  ///< the request came over TLS (through a trusted proxy)
};

/// A page that does not exist, or that this visitor may not see: the French 404 page.
class PageNotFound : public Error {
 public:
  PageNotFound() : Error("no such page") {}
};

/// A page or form that needs a signed-in member.
class SignInRequired : public Error {
 public:
  SignInRequired() : Error("sign in required") {}
};

bool ValidFormCookie(const std::string& value) {
  return value.size() == 32 &&
         std::all_of(value.begin(), value.end(), [](unsigned char ch) { return std::isalnum(ch); });
}

Visitor Identify(Pages& p, const Request& req, Response& res) {
  Visitor v;
  v.secure = p.c.options.trust_proxy && req.get_header_value("X-Forwarded-Proto") == "https";
  const std::string cookies = req.get_header_value("Cookie");
  if (std::string session = CookieValue(cookies, kSessionCookie); !session.empty()) {
    v.member = FindSession(p.c.db(), session);
    if (v.member) {
      v.session = session;
      v.binding = "s:" + session;
      return v;
    }
    // Expired or signed out: the browser forgets it.
    res.set_header("Set-Cookie", SetCookie(kSessionCookie, "", std::chrono::seconds(0), v.secure));
  }
  std::string form = CookieValue(cookies, kFormCookie);
  if (!ValidFormCookie(form)) {
    form = CsrfGuard::NewBinding();
    res.set_header("Set-Cookie", SetCookie(kFormCookie, form, kFormCookieLifetime, v.secure));
  }
  v.binding = "f:" + form;
  return v;
}

std::string Date(const std::string& iso) {
  if (iso.empty()) return "";
  try {
    return FrenchDate(ParseIso(iso));
  } catch (const Error&) {
    return iso;
  }
}

// Renders templates/web/NAME.html.mustache inside the layout. Partials ({{> web/_x}}) are inlined first, so
// that the fields they name are checked like the page's own.
std::string Expand(const std::string& name) {
  auto it = EmbeddedTemplates().find(name);
  if (it == EmbeddedTemplates().end()) throw Error(fmt::format("no template named '{}'", name));
  std::string source = it->second;
  for (size_t at = source.find("{{> "); at != std::string::npos; at = source.find("{{> ", at)) {
    const size_t end = source.find("}}", at);
    const std::string partial = source.substr(at + 4, end - at - 4) + ".html.mustache";
    source.replace(at, end + 2 - at, Expand(partial));
  }
  return source;
}

// The templates' data with every empty string and every false made an empty list, the one value that both
// kainjow's mustache (for which "" is true) and the field check of RenderMustache skip as a section:
// `{{#error}}...{{/error}}` shows only a message that exists.
json EmptyIsSkipped(const json& value) {
  if ((value.is_string() && value.get_ref<const std::string&>().empty()) || value == false)
    return json::array();
  if (!value.is_structured()) return value;
  json out = value;
  for (auto& item : out) item = EmptyIsSkipped(item);
  return out;
}

void SendPage(Pages& p, const Visitor& v, Response& res, int status, const std::string& page,
              const std::string& title, json data) {
  std::string town;
  try {
    town = GetTown(p.c.db()).identity.name;
  } catch (const std::exception&) {
    town = "Voisinage";
  }
  json common = {
      {"page_title", title},
      {"town", town},
      {"csrf", p.csrf.Token(v.binding)},
      {"signed_in", v.member.has_value()},
      {"member", v.member
                     ? json{{"display_name", v.member->display_name},
                            {"neighbourhood_url",
                             v.member->neighbourhood.empty() ? "/" : "/quartiers/" + v.member->neighbourhood}}
                     : json(false)}};
  data.update(common, /*merge_objects=*/false);
  data = EmptyIsSkipped(data);
  const std::string name = "web/" + page + ".html.mustache";
  data["content"] = RenderMustache(name, Expand(name), data);
  res.status = status;
  res.set_content(RenderMustache("web/layout.html.mustache", Expand("web/layout.html.mustache"), data),
                  "text/html; charset=utf-8");
}

void SetPageHeaders(Response& res) {
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("X-Frame-Options", "DENY");
  if (!res.has_header("X-Content-Type-Options")) res.set_header("X-Content-Type-Options", "nosniff");
  if (!res.has_header("Referrer-Policy")) res.set_header("Referrer-Policy", "no-referrer");
}

void SendMessage(Pages& p, const Visitor& v, Response& res, int status, const std::string& title,
                 const std::string& message, const std::string& link = "/",
                 const std::string& link_text = "Retour à l’accueil") {
  SendPage(p, v, res, status, "message", title,
           {{"heading", title}, {"message", message}, {"link", link}, {"link_text", link_text}});
}

void Redirect(Response& res, const std::string& to) {
  res.status = 303;
  res.set_header("Location", to);
}

using Handler = std::function<void(Visitor&)>;

// Runs a page handler: library and database errors become French pages, never a stack trace or SQL.
void Serve(Pages& p, const Request& req, Response& res, const Handler& handler) {
  SetPageHeaders(res);
  Visitor v;
  v.binding = "f:";
  try {
    v = Identify(p, req, res);
    handler(v);
  } catch (const PageNotFound&) {
    SendMessage(p, v, res, 404, "Page introuvable",
                "La page demandée n’existe pas ou n’est plus disponible. Vérifiez l’adresse ou repartez de "
                "l’accueil.");
  } catch (const SignInRequired&) {
    SendMessage(p, v, res, 403, "Connexion nécessaire",
                "Pour publier, répondre ou signaler, rejoignez votre quartier avec le code d’invitation "
                "remis par la mairie.",
                "/rejoindre", "Rejoindre mon quartier");
  } catch (const SQLite::Exception& e) {
    std::fprintf(stderr, "voisinage: serve: database error: %s\n", e.getErrorStr());
    res.set_header("Retry-After", "1");
    SendMessage(p, v, res, 503, "Service momentanément indisponible",
                "Le service est très sollicité. Réessayez dans un instant : rien n’a été enregistré.");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "voisinage: serve: internal error on %s %s: %s\n", req.method.c_str(),
                 req.path.c_str(), e.what());
    try {
      SendMessage(p, v, res, 500, "Erreur du serveur",
                  "Une erreur est survenue de notre côté : votre demande n’a pas été enregistrée. "
                  "Réessayez plus tard.");
    } catch (const std::exception&) {
      res.status = 500;
      res.set_content("Erreur du serveur : réessayez plus tard.", "text/plain; charset=utf-8");
    }
  }
}

// A POST form's CSRF token checked against the visitor; on failure the French 403 page and false.
bool CheckCsrf(Pages& p, const Visitor& v, const Request& req, Response& res) {
  if (p.csrf.Check(v.binding, req.get_param_value("csrf"))) return true;
  SendMessage(
      p, v, res, 403, "Formulaire expiré",
      "Ce formulaire a expiré ou ne vient pas de ce site : rien n’a été enregistré. Rechargez la page "
      "et recommencez.");
  return false;
}

int64_t IdOf(const std::string& text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) throw PageNotFound();
  return id;
}

// Runs a library lookup; its "unknown ..." error is the 404 page.
template <typename Lookup>
auto Found(Lookup lookup) {
  try {
    return lookup();
  } catch (const Error&) {
    throw PageNotFound();
  }
}

bool IsStaff(const Member& m) {
  return m.role == "townhall" || m.role == "moderator" || m.role == "admin";
}

// A post the visitor may see: visible, or their own, or any for staff.
Post VisiblePost(Db& db, const Visitor& v, int64_t id) {
  Post post = Found([&] { return GetPost(db, id); });
  const bool own = v.member && v.member->id == post.author_id;
  if (post.status != "visible" && !own && !(v.member && IsStaff(*v.member))) throw PageNotFound();
  return post;
}

std::string RoleLabel(const std::string& role) {
  if (role == "townhall") return "Mairie";
  if (role == "association") return "Association";
  if (role == "merchant") return "Commerce";
  if (role == "moderator" || role == "admin") return "Équipe de modération";
  return "";
}

json PostJson(Db& db, const Post& post, bool with_replies) {
  json out = {
      {"id", post.id},
      {"url", fmt::format("/messages/{}", post.id)},
      {"report_url", fmt::format("/messages/{}/signaler", post.id)},
      {"kind", FrenchPostKind(post.kind)},
      {"subkind", post.subkind.empty() ? "" : FrenchSubkind(post.subkind)},
      {"title", post.title.empty() ? FrenchPostKind(post.kind) : post.title},
      {"body", post.body},
      {"author", post.author_name},
      {"role", RoleLabel(post.author_role)},
      {"date", Date(post.created_at)},
      {"datetime", post.created_at},
      {"pending", post.status == "held"},
      {"event", post.event_at.empty() ? json(false)
                                      : json{{"date", Date(post.event_at)}, {"place", post.event_place}}},
      {"reply_count", post.replies},
      {"replies", json::array()}};
  if (with_replies)
    for (const Post& reply : ListReplies(db, post.id))
      if (reply.status == "visible")
        out["replies"].push_back({{"author", reply.author_name},
                                  {"role", RoleLabel(reply.author_role)},
                                  {"date", Date(reply.created_at)},
                                  {"datetime", reply.created_at},
                                  {"body", reply.body}});
  out["has_replies"] = !out["replies"].empty();
  return out;
}

// GCC 12 warns of every field a designated initializer leaves out, even those with a default: the forms
// below name only what differs from the defaults, on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

// One field of a form as the _field partial shows it: label, value kept, error next to it.
struct Field {
  std::string name, label, type = "text", hint, autocomplete;
  bool required = false;
  size_t maxlength = 0;
  std::vector<std::pair<std::string, std::string>> options;  ///< value, label (select)
};

json FieldsJson(const std::vector<Field>& fields, const Form& form) {
  json out = json::array();
  for (const Field& f : fields) {
    const std::string id = "f-" + f.name;
    const std::string& value = form.Get(f.name);
    auto error = form.errors.find(f.name);
    std::string described;
    if (error != form.errors.end()) described = id + "-erreur";
    if (!f.hint.empty()) described += (described.empty() ? "" : " ") + id + "-aide";
    json options = json::array();
    for (const auto& [option, label] : f.options)
      options.push_back({{"value", option}, {"label", label}, {"selected", option == value}});
    out.push_back({{"name", f.name},
                   {"id", id},
                   {"label", f.label},
                   {"type", f.type},
                   {"value", value},
                   {"hint", f.hint},
                   {"autocomplete", f.autocomplete},
                   {"required", f.required},
                   {"maxlength", f.maxlength == 0 ? "" : std::to_string(f.maxlength)},
                   {"error", error == form.errors.end() ? "" : error->second},
                   {"describedby", described},
                   {"is_textarea", f.type == "textarea"},
                   {"is_select", f.type == "select"},
                   {"is_checkbox", f.type == "checkbox"},
                   {"is_input", f.type != "textarea" && f.type != "select" && f.type != "checkbox"},
                   {"checked", f.type == "checkbox" && !value.empty()},
                   {"options", options}});
  }
  return out;
}

// The form's data for a template: its fields, the error summary, and `notice` (an error of the whole form).
// `more`: the fields of a second group (a fieldset), shown as "more" and summarised with the others.
json FormJson(const std::vector<Field>& fields, const Form& form, const std::string& notice = "",
              const std::vector<Field>& more = {}) {
  json out = form.ToJson();
  out["fields"] = FieldsJson(fields, form);
  out["more"] = FieldsJson(more, form);
  json summary = json::array();
  std::vector<Field> all = fields;
  all.insert(all.end(), more.begin(), more.end());
  for (const Field& f : all)
    if (auto e = form.errors.find(f.name); e != form.errors.end())
      summary.push_back({{"id", "f-" + f.name}, {"label", f.label}, {"message", e->second}});
  out["summary"] = summary;
  out["error_count"] = std::to_string(summary.size());
  out["notice"] = notice;
  out["has_problem"] = !summary.empty() || !notice.empty();
  return out;
}

std::vector<Field> PostFields() {
  std::vector<std::pair<std::string, std::string>> kinds;
  for (const std::string& kind : PostKinds()) kinds.emplace_back(kind, FrenchPostKind(kind));
  return {
      {.name = "kind", .label = "Type de message", .type = "select", .required = true, .options = kinds},
      {.name = "subkind",
       .label = "Précision (offre ou demande)",
       .type = "select",
       .options = {{"", "Aucune"},
                   {"lend", FrenchSubkind("lend")},
                   {"give", FrenchSubkind("give")},
                   {"swap", FrenchSubkind("swap")},
                   {"help", FrenchSubkind("help")}}},
      {.name = "title",
       .label = "Titre",
       .hint = "Obligatoire pour un événement ; 120 caractères au plus.",
       .maxlength = 120},
      {.name = "body", .label = "Texte", .type = "textarea", .required = true, .maxlength = 4000},
      {.name = "event_date",
       .label = "Date de l’événement",
       .type = "date",
       .hint = "Pour un événement seulement, au format AAAA-MM-JJ."},
      {.name = "event_place",
       .label = "Lieu de l’événement",
       .hint = "Pour un événement seulement.",
       .maxlength = 200},
  };
}

std::vector<Field> ReplyFields() {
  return {
      {.name = "body", .label = "Votre réponse", .type = "textarea", .required = true, .maxlength = 4000}};
}

std::vector<Field> ReportFields() {
  std::vector<std::pair<std::string, std::string>> reasons = {{"", "Choisissez une raison"}};
  for (const std::string& reason : ReportReasons()) reasons.emplace_back(reason, FrenchReportReason(reason));
  return {{.name = "reason",
           .label = "Raison du signalement",
           .type = "select",
           .required = true,
           .options = reasons},
          {.name = "details",
           .label = "Précisions",
           .type = "textarea",
           .hint = "Facultatif, sauf pour un contenu illégal : expliquez en quoi il l’est.",
           .maxlength = 1000}};
}

std::vector<Field> LegalNoticeFields() {
  return {{.name = "notifier_name", .label = "Vos nom et prénom", .autocomplete = "name", .maxlength = 120},
          {.name = "notifier_email",
           .label = "Votre adresse électronique",
           .type = "email",
           .autocomplete = "email",
           .maxlength = 200},
          {.name = "good_faith",
           .label = "Je déclare de bonne foi que les informations de cette notification sont exactes et "
                    "complètes.",
           .type = "checkbox"}};
}

std::vector<Field> GrievanceFields(Db& db) {
  std::vector<std::pair<std::string, std::string>> categories = {{"", "Choisissez une catégorie"}};
  for (const GrievanceCategory& c : ListGrievanceCategories(db))
    if (c.active) categories.emplace_back(c.code, c.group.empty() ? c.name : c.group + " — " + c.name);
  return {
      {.name = "category", .label = "Catégorie", .type = "select", .required = true, .options = categories},
      {.name = "title",
       .label = "Titre",
       .hint = "En quelques mots, par exemple « Lampadaire éteint ».",
       .required = true,
       .maxlength = kMaxGrievanceTitle},
      {.name = "description",
       .label = "Description",
       .type = "textarea",
       .required = true,
       .maxlength = kMaxGrievanceDescription},
      {.name = "address", .label = "Adresse ou lieu", .autocomplete = "street-address", .maxlength = 300},
      {.name = "postcode", .label = "Code postal", .autocomplete = "postal-code", .maxlength = 5},
  };
}

std::vector<Field> ContactFields() {
  return {
      {.name = "anonymous", .label = "Je préfère rester anonyme", .type = "checkbox"},
      {.name = "contact_name", .label = "Nom", .autocomplete = "name", .maxlength = 120},
      {.name = "contact_email",
       .label = "Adresse électronique",
       .type = "email",
       .autocomplete = "email",
       .maxlength = 200},
      {.name = "contact_phone", .label = "Téléphone", .type = "tel", .autocomplete = "tel", .maxlength = 30}};
}

std::vector<Field> JoinFields() {
  return {{.name = "code",
           .label = "Code d’invitation",
           .hint = "8 caractères, par exemple ABCD-EFGH.",
           .autocomplete = "off",
           .required = true,
           .maxlength = 20},
          {.name = "display_name",
           .label = "Nom affiché",
           .hint = "Visible par vos voisins, par exemple « Lucie B. ».",
           .autocomplete = "nickname",
           .required = true,
           .maxlength = 60}};
}

std::vector<std::string> Names(const std::vector<Field>& fields) {
  std::vector<std::string> names;
  for (const Field& f : fields) names.push_back(f.name);
  return names;
}

// The word rule named in a BlockedError message: "... the word rule 'X' (block)".
std::string BlockingRule(const std::string& message) {
  const size_t open = message.find('\'');
  const size_t close = message.rfind('\'');
  return open == std::string::npos || close <= open ? "" : message.substr(open + 1, close - open - 1);
}

// What a library refusal of a post, reply or report means for the resident, in French.
std::string FrenchRefusal(Db& db, const Member& member, const std::string& message) {
  if (const std::string restriction = ActiveRestriction(db, member.id); !restriction.empty())
    return "Votre compte fait l’objet d’une restriction décidée par la modération : vous ne pouvez pas "
           "publier pour le moment.";
  if (message.find("announcements are for") != std::string::npos)
    return "Les annonces sont réservées à la mairie, aux associations et aux commerces.";
  if (message.find("already reported") != std::string::npos)
    return "Vous avez déjà signalé ce message : la modération en est informée.";
  if (message.find("cannot report") != std::string::npos || message.find("their own") != std::string::npos)
    return "Vous ne pouvez pas signaler votre propre message.";
  if (message.find("locked") != std::string::npos) return "Ce message n’accepte plus de réponses.";
  return "Votre envoi n’a pas pu être enregistré. Vérifiez les champs et réessayez.";
}

std::string Outcome(const std::string& verdict) {
  if (verdict == "held")
    return "Votre message est en attente de modération : il sera visible de vos voisins une fois vérifié.";
  if (verdict == "censored")
    return "Votre message est publié ; certains mots ont été masqués selon les règles de la commune.";
  return "Votre message est publié.";
}

void RegisterReading(httplib::Server& http, std::shared_ptr<Pages> pages) {
  Pages* p = pages.get();
  http.Get("/static/site.css", [pages](const Request&, Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(EmbeddedTemplates().at("web/site.css"), "text/css; charset=utf-8");
  });

  http.Get("/", [p](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      Db& db = p->c.db();
      json neighbourhoods = json::array();
      for (const Neighbourhood& n : ListNeighbourhoods(db, false))
        neighbourhoods.push_back({{"name", n.name}, {"url", "/quartiers/" + n.slug}});
      PostFilter filter;
      filter.kind = "announcement";
      filter.status = "visible";
      filter.limit = 5;
      json announcements = json::array();
      for (const Post& post : ListPosts(db, filter)) announcements.push_back(PostJson(db, post, false));
      SendPage(*p, v, res, 200, "home", GetTown(db).identity.name,
               {{"neighbourhoods", neighbourhoods}, {"announcements", announcements}});
    });
  });

  http.Get(R"(/quartiers/([a-z0-9-]{1,60}))", [p](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      Db& db = p->c.db();
      const NeighbourhoodKey key = Found([&] { return ResolveNeighbourhoodKey(db, req.matches[1]); });
      if (key.slug != req.matches[1].str()) return Redirect(res, "/quartiers/" + key.slug);  // merged
      const Neighbourhood n = *FindNeighbourhoodBySlug(db, key.slug);
      PostFilter filter;
      filter.neighbourhood = key.slug;
      filter.status = "visible";
      filter.limit = kFeedPage + 1;
      if (req.has_param("avant")) filter.before_id = IdOf(req.get_param_value("avant"));
      std::vector<Post> posts = ListPosts(db, filter);
      const bool more = static_cast<int>(posts.size()) > kFeedPage;
      if (more) posts.pop_back();
      json items = json::array();
      for (const Post& post : posts) items.push_back(PostJson(db, post, true));
      const bool own = v.member && (v.member->neighbourhood == key.slug || IsStaff(*v.member) ||
                                    v.member->role != "resident");
      SendPage(*p, v, res, 200, "neighbourhood", n.name,
               {{"name", n.name},
                {"posts", items},
                {"empty", items.empty()},
                {"welcome", req.has_param("bienvenue") && v.member.has_value()},
                {"can_post", own},
                {"post_url", "/quartiers/" + key.slug + "/publier"},
                {"older_url", more ? fmt::format("/quartiers/{}?avant={}", key.slug, posts.back().id) : ""},
                {"newer_url", filter.before_id != 0 ? "/quartiers/" + key.slug : ""}});
    });
  });

  http.Get(R"(/messages/(\d{1,18}))", [p](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      Db& db = p->c.db();
      const Post post = VisiblePost(db, v, IdOf(req.matches[1]));
      if (post.parent_id != 0) return Redirect(res, fmt::format("/messages/{}", post.parent_id));
      const std::string status = req.get_param_value("statut");
      SendPage(*p, v, res, 200, "post", post.title.empty() ? FrenchPostKind(post.kind) : post.title,
               {{"post", PostJson(db, post, true)},
                {"notice", status == "attente"  ? Outcome("held")
                           : status == "masque" ? Outcome("censored")
                           : status == "publie" ? Outcome("published")
                                                : ""},
                {"neighbourhood_url", "/quartiers/" + post.neighbourhood},
                {"reply", FormJson(ReplyFields(), Form{})},
                {"action", fmt::format("/messages/{}/repondre", post.id)}});
    });
  });

  http.Get("/annuaire", [p](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      Db& db = p->c.db();
      Form form = ReadForm(req.params, {"q", "type", "quartier"}, 1000);
      DirectoryQuery query;
      query.text = form.Get("q");
      query.kind = form.Get("type");
      query.neighbourhood = form.Get("quartier");
      query.limit = kDirectoryPage;
      if (query.text.size() > 200)
        form.Fail("q", "Votre recherche est trop longue : 200 caractères au plus.");
      if (!query.kind.empty() && query.kind != "merchant" && query.kind != "association")
        form.Fail("type", "Choisissez « commerces » ou « associations ».");
      std::vector<std::pair<std::string, std::string>> quartiers = {{"", "Tous les quartiers"}};
      for (const Neighbourhood& n : ListNeighbourhoods(db, false)) quartiers.emplace_back(n.slug, n.name);
      if (!query.neighbourhood.empty() && std::none_of(quartiers.begin(), quartiers.end(), [&](auto& q) {
            return q.first == query.neighbourhood;
          }))
        form.Fail("quartier", "Choisissez un quartier dans la liste.");
      json entries = json::array();
      if (form.ok())
        for (const DirectoryEntry& e : SearchDirectory(db, query))
          entries.push_back({{"url", fmt::format("/annuaire/{}", e.id)},
                             {"name", e.name},
                             {"kind", FrenchDirectoryKind(e.kind)},
                             {"activity", e.activity_label},
                             {"address", e.address}});
      const std::vector<Field> fields = {
          {.name = "q", .label = "Nom, activité ou adresse", .type = "search", .maxlength = 200},
          {.name = "type",
           .label = "Type",
           .type = "select",
           .options = {{"", "Commerces et associations"},
                       {"merchant", "Commerces"},
                       {"association", "Associations"}}},
          {.name = "quartier", .label = "Quartier", .type = "select", .options = quartiers}};
      const size_t count = entries.size();
      SendPage(*p, v, res, form.ok() ? 200 : 400, "directory", "Annuaire des commerces et associations",
               {{"form", FormJson(fields, form)},
                {"entries", entries},
                {"searched", !query.text.empty() || !query.kind.empty() || !query.neighbourhood.empty()},
                {"count", count == 0   ? "Aucun résultat."
                          : count == 1 ? "1 résultat."
                                       : fmt::format("{} résultats{}.", count,
                                                     count == kDirectoryPage ? " (les premiers)" : "")}});
    });
  });

  http.Get(R"(/annuaire/(\d{1,18}))", [p](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      const DirectoryEntry e =
          Found([&] { return GetDirectoryEntry(p->c.db(), std::to_string(IdOf(req.matches[1]))); });
      if (e.status == "deleted") throw PageNotFound();
      const bool web_link = e.website.starts_with("https://") || e.website.starts_with("http://");
      SendPage(*p, v, res, 200, "entry", e.name,
               {{"name", e.name},
                {"kind", FrenchDirectoryKind(e.kind)},
                {"activity", e.activity_label},
                {"description", e.description},
                {"address", e.address},
                {"city", (e.postcode + " " + e.city).substr(e.postcode.empty() ? 1 : 0)},
                {"phone", e.phone},
                {"email", e.email},
                {"website", web_link ? e.website : ""},
                {"closed", e.status != "active"},
                {"registry_key", e.registry_key}});
    });
  });

  http.Get(R"(/doleances/(DOL-[A-Za-z0-9-]{1,20}))", [p](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      Db& db = p->c.db();
      const Grievance g = Found([&] { return GetGrievance(db, req.matches[1]); });
      const bool own = v.member && g.reporter_id == v.member->id;
      if (g.status == "hidden" || (!g.is_public && !own)) throw PageNotFound();
      json events = json::array();
      for (const GrievanceEvent& e : GrievanceEvents(db, g.id, true))
        events.push_back({{"date", Date(e.at)},
                          {"datetime", e.at},
                          {"status", e.new_status.empty() ? "" : FrenchStatus(e.new_status)},
                          {"note", e.note}});
      SendPage(*p, v, res, 200, "grievance", "Doléance " + g.reference,
               {{"reference", g.reference},
                {"title", g.title},
                {"category", g.category_name},
                {"status", FrenchStatus(g.status)},
                {"date", Date(g.created_at)},
                {"address", g.address},
                {"events", events},
                {"created", req.has_param("nouvelle")}});
    });
  });

  // The follow-up box of the home page: a reference typed by hand.
  http.Get("/doleances/suivi", [p](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor&) {
      std::string reference = req.get_param_value("reference").substr(0, 24);
      std::erase_if(reference, [](unsigned char ch) { return !std::isalnum(ch) && ch != '-'; });
      for (char& ch : reference) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (!reference.starts_with("DOL-")) throw PageNotFound();
      Redirect(res, "/doleances/" + reference);
    });
  });
}

void RegisterAccount(httplib::Server& http, Pages* p) {
  auto join_page = [p](Visitor& v, Response& res, int status, const Form& form, const std::string& notice) {
    SendPage(*p, v, res, status, "join", "Rejoindre mon quartier",
             {{"form", FormJson(JoinFields(), form, notice)}});
  };
  http.Get("/rejoindre", [p, join_page](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) { join_page(v, res, 200, Form{}, ""); });
  });
  http.Post("/rejoindre", [p, join_page](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      if (!CheckCsrf(*p, v, req, res)) return;
      Form form = ReadForm(req.params, Names(JoinFields()));
      if (!p->joins.Allow(req.remote_addr))
        return join_page(v, res, 429, form,
                         "Trop de tentatives depuis votre connexion : réessayez dans une heure.");
      CheckJoinForm(form);
      if (!form.ok()) return join_page(v, res, 422, form, "");
      NewSession session;
      Member member;
      try {
        member = p->c.Write([&](Db& db) {
          return RedeemInvitation(db, form.Get("code"), form.Get("display_name"), "",
                                  [&](const Member& m) { session = CreateSession(db, m.id); });
        });
      } catch (const SQLite::Exception&) {
        throw;
      } catch (const Error& e) {
        const std::string message = e.what();
        const std::string hint = " Demandez un nouveau code à la mairie.";
        if (message.find("already been used") != std::string::npos)
          form.Fail("code", "Ce code d’invitation a déjà été utilisé." + hint);
        else if (message.find("revoked") != std::string::npos)
          form.Fail("code", "Ce code d’invitation a été annulé." + hint);
        else if (message.find("expired") != std::string::npos)
          form.Fail("code", "Ce code d’invitation a expiré." + hint);
        else if (message.find("invitation code") != std::string::npos)
          form.Fail("code",
                    "Ce code d’invitation est inconnu. Vérifiez-le : il figure sur le papier remis par "
                    "la mairie.");
        else
          form.Fail("display_name",
                    "Ce nom ne peut pas être utilisé : choisissez-en un autre (60 caractères "
                    "au plus).");
        return join_page(v, res, 422, form, "");
      }
      res.set_header("Set-Cookie",
                     SetCookie(kSessionCookie, session.secret,
                               std::chrono::duration_cast<std::chrono::seconds>(kSessionLifetime), v.secure));
      Redirect(res, "/quartiers/" + member.neighbourhood + "?bienvenue=1");
    });
  });

  http.Post("/deconnexion", [p](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      if (!CheckCsrf(*p, v, req, res)) return;
      if (!v.session.empty()) p->c.Write([&](Db& db) { return DeleteSession(db, v.session); });
      res.set_header("Set-Cookie", SetCookie(kSessionCookie, "", std::chrono::seconds(0), v.secure));
      Redirect(res, "/");
    });
  });
}

void RegisterPosting(httplib::Server& http, Pages* p) {
  // The post form of a neighbourhood; residents post in their own.
  auto post_target = [p](const Request& req, const Visitor& v) {
    if (!v.member) throw SignInRequired();
    const NeighbourhoodKey key = Found([&] { return ResolveNeighbourhoodKey(p->c.db(), req.matches[1]); });
    if (v.member->role == "resident" && v.member->neighbourhood != key.slug) throw PageNotFound();
    return key;
  };
  auto post_page = [p](Visitor& v, Response& res, int status, const NeighbourhoodKey& key, const Form& form,
                       const std::string& notice) {
    SendPage(*p, v, res, status, "post_form", "Publier un message",
             {{"form", FormJson(PostFields(), form, notice)},
              {"action", "/quartiers/" + key.slug + "/publier"},
              {"neighbourhood_url", "/quartiers/" + key.slug}});
  };
  http.Get(R"(/quartiers/([a-z0-9-]{1,60})/publier)",
           [p, post_target, post_page](const Request& req, Response& res) {
             Serve(*p, req, res, [&](Visitor& v) {
               Form form;
               form.values["kind"] = "discussion";
               post_page(v, res, 200, post_target(req, v), form, "");
             });
           });

  // Creates a post or a reply and redirects to it with the word rules' verdict; on refusal, the form again.
  auto publish = [p](Visitor& v, NewPost post, Form& form) -> std::optional<PostOutcome> {
    post.author = std::to_string(v.member->id);
    try {
      return p->c.Write([&](Db& db) { return CreatePost(db, post, fmt::format("member:{}", v.member->id)); });
    } catch (const BlockedError& e) {
      form.Fail("body",
                fmt::format("Votre message a été refusé : il contient une expression interdite par les "
                            "règles de la commune (« {} »). Reformulez-le.",
                            BlockingRule(e.what())));
    } catch (const SQLite::Exception&) {
      throw;
    } catch (const Error& e) {
      form.Fail("body", FrenchRefusal(p->c.db(), *v.member, e.what()));
    }
    return std::nullopt;
  };
  auto go_to = [](Response& res, const PostOutcome& outcome) {
    const Post& post = outcome.post;
    const std::string status = outcome.verdict == "held"       ? "attente"
                               : outcome.verdict == "censored" ? "masque"
                                                               : "publie";
    Redirect(res,
             fmt::format("/messages/{}?statut={}", post.parent_id != 0 ? post.parent_id : post.id, status));
  };
  http.Post(R"(/quartiers/([a-z0-9-]{1,60})/publier)",
            [p, post_target, post_page, publish, go_to](const Request& req, Response& res) {
              Serve(*p, req, res, [&](Visitor& v) {
                if (!CheckCsrf(*p, v, req, res)) return;
                const NeighbourhoodKey key = post_target(req, v);
                Form form = ReadForm(req.params, Names(PostFields()));
                NewPost post = PostFromForm(form, false);
                post.neighbourhood = key.slug;
                if (form.ok())
                  if (std::optional<PostOutcome> outcome = publish(v, post, form))
                    return go_to(res, *outcome);
                post_page(v, res, 422, key, form, "");
              });
            });

  http.Post(R"(/messages/(\d{1,18})/repondre)", [p, publish, go_to](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      if (!CheckCsrf(*p, v, req, res)) return;
      if (!v.member) throw SignInRequired();
      Db& db = p->c.db();
      const Post parent = VisiblePost(db, v, IdOf(req.matches[1]));
      if (parent.parent_id != 0) throw PageNotFound();
      Form form = ReadForm(req.params, Names(ReplyFields()));
      NewPost reply = PostFromForm(form, true);
      reply.parent_id = parent.id;
      if (form.ok())
        if (std::optional<PostOutcome> outcome = publish(v, reply, form)) return go_to(res, *outcome);
      SendPage(*p, v, res, 422, "post", parent.title.empty() ? FrenchPostKind(parent.kind) : parent.title,
               {{"post", PostJson(db, parent, true)},
                {"notice", ""},
                {"neighbourhood_url", "/quartiers/" + parent.neighbourhood},
                {"reply", FormJson(ReplyFields(), form)},
                {"action", fmt::format("/messages/{}/repondre", parent.id)}});
    });
  });

  auto report_page = [p](Visitor& v, Response& res, int status, const Post& post, const Form& form,
                         const std::string& notice) {
    const json data = FormJson(ReportFields(), form, notice, LegalNoticeFields());
    SendPage(*p, v, res, status, "report", "Signaler un message",
             {{"form", data},
              {"post", PostJson(p->c.db(), post, false)},
              {"action", fmt::format("/messages/{}/signaler", post.id)}});
  };
  http.Get(R"(/messages/(\d{1,18})/signaler)", [p, report_page](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      if (!v.member) throw SignInRequired();
      report_page(v, res, 200, VisiblePost(p->c.db(), v, IdOf(req.matches[1])), Form{}, "");
    });
  });
  http.Post(R"(/messages/(\d{1,18})/signaler)", [p, report_page](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      if (!CheckCsrf(*p, v, req, res)) return;
      if (!v.member) throw SignInRequired();
      const Post post = VisiblePost(p->c.db(), v, IdOf(req.matches[1]));
      std::vector<std::string> names = Names(ReportFields());
      for (const Field& f : LegalNoticeFields()) names.push_back(f.name);
      Form form = ReadForm(req.params, names);
      NewReport report = ReportFromForm(form);
      report.target = fmt::format("post:{}", post.id);
      report.reporter = std::to_string(v.member->id);
      std::string notice;
      if (form.ok()) {
        try {
          p->c.Write([&](Db& db) { return AddReport(db, report); });
          return SendMessage(
              *p, v, res, 201, "Signalement reçu",
              "Merci : votre signalement a été transmis à l’équipe de modération, qui l’examinera.",
              "/quartiers/" + post.neighbourhood, "Retour au quartier");
        } catch (const SQLite::Exception&) {
          throw;
        } catch (const Error& e) {
          notice = FrenchRefusal(p->c.db(), *v.member, e.what());
        }
      }
      report_page(v, res, 422, post, form, notice);
    });
  });
}

void RegisterGrievanceForm(httplib::Server& http, Pages* p) {
  auto grievance_page = [p](Visitor& v, Response& res, int status, const Form& form,
                            const std::string& notice) {
    const json data = FormJson(GrievanceFields(p->c.db()), form, notice, ContactFields());
    SendPage(*p, v, res, status, "grievance_form", "Signaler un problème à la mairie", {{"form", data}});
  };
  http.Get("/doleances/nouvelle", [p, grievance_page](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) { grievance_page(v, res, 200, Form{}, ""); });
  });
  http.Post("/doleances/nouvelle", [p, grievance_page](const Request& req, Response& res) {
    Serve(*p, req, res, [&](Visitor& v) {
      if (!CheckCsrf(*p, v, req, res)) return;
      const std::vector<Field> fields = GrievanceFields(p->c.db());
      std::vector<std::string> names = Names(fields);
      for (const Field& f : ContactFields()) names.push_back(f.name);
      Form form = ReadForm(req.params, names);
      // The honeypot: a field hidden from people, which robots fill in.
      if (!req.get_param_value("site_web").empty())
        return SendMessage(
            *p, v, res, 400, "Envoi refusé",
            "Votre envoi n’a pas été accepté. Si vous êtes une personne, réessayez sans remplir "
            "le champ caché « site web ».");
      NewGrievance g = GrievanceFromForm(form, ListGrievanceCategories(p->c.db()));
      if (!form.ok()) return grievance_page(v, res, 422, form, "");
      if (!p->grievances.Allow(v.member ? fmt::format("member:{}", v.member->id) : req.remote_addr)) {
        res.set_header("Retry-After", "3600");
        return grievance_page(
            v, res, 429, form,
            "Vous avez envoyé beaucoup de doléances en peu de temps : réessayez dans une heure, "
            "ou contactez directement la mairie.");
      }
      const bool anonymous = form.Checked("anonymous") || !v.member;
      if (!anonymous) g.reporter = std::to_string(v.member->id);
      const std::string actor = anonymous ? "web" : fmt::format("member:{}", v.member->id);
      AddedGrievance added;
      try {
        added = p->c.Write([&](Db& db) { return AddGrievance(db, g, actor); });
      } catch (const SQLite::Exception&) {
        throw;
      } catch (const Error&) {
        return grievance_page(
            v, res, 422, form,
            "Votre doléance n’a pas pu être enregistrée. Vérifiez les champs et réessayez.");
      }
      const std::string reference = added.grievance.reference;
      SendPage(*p, v, res, 201, "grievance_sent", "Doléance enregistrée",
               {{"reference", reference}, {"url", "/doleances/" + reference}});
    });
  });
}

}  // namespace

bool IsPagePath(const std::string& path) {
  return path.starts_with("/") && !path.starts_with("/api/") && !path.starts_with("/open311/");
}

void SendPageError(ServerContext& context, Response& res) {
  Pages p(context);
  Visitor v;
  v.binding = "f:";
  SetPageHeaders(res);
  const int status = res.status;
  if (status == 429)
    SendMessage(p, v, res, status, "Trop de demandes",
                "Vous avez envoyé beaucoup de demandes en peu de temps. Patientez quelques instants, puis "
                "réessayez.");
  else if (status == 413 || status == 431)
    SendMessage(p, v, res, status, "Demande trop volumineuse",
                "Ce que vous avez envoyé est trop long. Raccourcissez votre texte, puis réessayez.");
  else if (status == 404 || status == 405)
    SendMessage(p, v, res, status, "Page introuvable",
                "La page demandée n’existe pas ou n’est plus disponible. Vérifiez l’adresse ou repartez de "
                "l’accueil.");
  else if (status >= 500)
    SendMessage(
        p, v, res, status, "Service momentanément indisponible",
        "Une erreur est survenue de notre côté : rien n’a été enregistré. Réessayez dans un instant.");
  else
    SendMessage(
        p, v, res, status, "Demande incomprise",
        "Votre navigateur a envoyé une demande que le serveur ne comprend pas. Repartez de l’accueil.");
}

void RegisterPages(httplib::Server& http, ServerContext& context) {
  auto pages = std::make_shared<Pages>(context);
  RegisterReading(http, pages);
  RegisterAccount(http, pages.get());
  RegisterPosting(http, pages.get());
  RegisterGrievanceForm(http, pages.get());
  // Every other GET outside the API and Open311: the French 404 page. The handlers above keep `pages` alive.
  http.Get(R"(/(?!api/|open311/).*)", [pages](const Request& req, Response& res) {
    Serve(*pages, req, res, [](Visitor&) { throw PageNotFound(); });
  });
}

}  // namespace voisinage
