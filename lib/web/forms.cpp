#include "lib/web/forms.h"

#include <algorithm>
#include <regex>

#include "lib/error.h"
#include "lib/registry/row_mapper.h"
#include "lib/text/strings.h"
#include "lib/town/invitation.h"
#include "lib/town/validation.h"

namespace voisinage {

using nlohmann::json;

namespace {

const std::map<std::string, std::string> kPostKinds = {
    {"offer", "Offre"},          {"request", "Demande"},       {"event", "Événement"},
    {"announcement", "Annonce"}, {"discussion", "Discussion"}, {"lost_found", "Objets perdus et trouvés"},
    {"reply", "Réponse"}};
const std::map<std::string, std::string> kSubkinds = {
    {"lend", "Prêt"}, {"give", "Don"}, {"swap", "Échange"}, {"help", "Coup de main"}};
const std::map<std::string, std::string> kReasons = {{"spam", "Publicité abusive (spam)"},
                                                     {"scam", "Arnaque"},
                                                     {"harassment", "Harcèlement"},
                                                     {"hate", "Propos haineux"},
                                                     {"defamation", "Diffamation"},
                                                     {"privacy", "Atteinte à la vie privée"},
                                                     {"danger", "Danger pour une personne"},
                                                     {"minors", "Mise en danger de mineurs"},
                                                     {"off_topic", "Hors sujet"},
                                                     {"illegal", "Contenu illégal (notification légale)"},
                                                     {"other", "Autre raison"}};

std::string Label(const std::map<std::string, std::string>& labels, const std::string& code) {
  auto it = labels.find(code);
  return it == labels.end() ? code : it->second;
}

bool Blank(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char ch) { return std::isspace(ch); });
}

// A required text of at most `max` characters.
void CheckText(Form& form, const std::string& field, size_t max, bool required) {
  const std::string& value = form.Get(field);
  if (required && Blank(value))
    form.Fail(field, "Ce champ est obligatoire.");
  else if (Utf8Length(value) > max)
    form.Fail(field, fmt::format("Ce texte est trop long : {} caractères au plus (il en compte {}).", max,
                                 Utf8Length(value)));
}

// Runs a library validator and turns its refusal into `message` on `field`.
template <typename Check>
void Validate(Form& form, const std::string& field, const std::string& message, Check check) {
  if (form.Get(field).empty()) return;
  try {
    check(form.Get(field));
  } catch (const Error&) {
    form.Fail(field, message);
  }
}

}  // namespace

const std::string& Form::Get(const std::string& field) const {
  static const std::string empty;
  auto it = values.find(field);
  return it == values.end() ? empty : it->second;
}

void Form::Fail(const std::string& field, const std::string& message) {
  errors.emplace(field, message);
}

json Form::ToJson() const {
  json list = json::array();
  for (const auto& [field, message] : errors) list.push_back({{"field", field}, {"message", message}});
  return {{"values", values}, {"errors", errors}, {"error_list", list}, {"has_errors", !errors.empty()}};
}

Form ReadForm(const std::multimap<std::string, std::string>& params, const std::vector<std::string>& fields,
              size_t max_bytes) {
  Form form;
  for (const std::string& field : fields) {
    auto it = params.find(field);
    std::string value = it == params.end() ? "" : it->second.substr(0, max_bytes);
    value.erase(std::remove(value.begin(), value.end(), '\r'), value.end());
    form.values[field] = std::move(value);
  }
  return form;
}

std::string FrenchPostKind(const std::string& kind) {
  return Label(kPostKinds, kind);
}
std::string FrenchSubkind(const std::string& subkind) {
  return Label(kSubkinds, subkind);
}
std::string FrenchReportReason(const std::string& reason) {
  return Label(kReasons, reason);
}
std::string FrenchDirectoryKind(const std::string& kind) {
  return kind == "merchant" ? "Commerce" : kind == "association" ? "Association" : kind;
}

NewPost PostFromForm(Form& form, bool reply) {
  NewPost post;
  // The library counts bytes: 4000 bytes are at least 1000 characters of any script.
  CheckText(form, "body", 4000, true);
  if (form.Get("body").size() > 4000 && !form.errors.contains("body"))
    form.Fail("body", "Ce texte est trop long : 4000 octets au plus (environ 4000 caractères sans accents).");
  post.body = form.Get("body");
  if (reply) return post;
  post.kind = form.Get("kind");
  if (post.kind.empty() || !kPostKinds.contains(post.kind) || post.kind == "reply")
    form.Fail("kind", "Choisissez le type de message.");
  post.subkind = form.Get("subkind");
  if (!post.subkind.empty() &&
      (!kSubkinds.contains(post.subkind) || (post.kind != "offer" && post.kind != "request")))
    form.Fail("subkind",
              "La précision « prêt, don, échange, coup de main » vaut pour une offre ou une demande.");
  CheckText(form, "title", 120, post.kind == "event");
  post.title = form.Get("title");
  CheckText(form, "event_place", 200, false);
  post.event_place = form.Get("event_place");
  const std::string& date = form.Get("event_date");
  static const std::regex iso_date(R"(\d{4}-\d{2}-\d{2})");
  if (post.kind == "event" && date.empty())
    form.Fail("event_date", "Un événement a besoin d’une date.");
  else if (!date.empty() && !std::regex_match(date, iso_date))
    form.Fail("event_date", "Indiquez la date au format AAAA-MM-JJ, par exemple 2027-06-05.");
  post.event_at = date;
  return post;
}

NewReport ReportFromForm(Form& form) {
  NewReport report;
  report.reason = form.Get("reason");
  if (!kReasons.contains(report.reason)) form.Fail("reason", "Choisissez une raison dans la liste.");
  const bool legal = report.reason == "illegal";
  CheckText(form, "details", 1000, legal);
  report.details = form.Get("details");
  if (legal) {
    CheckText(form, "notifier_name", 120, true);
    CheckText(form, "notifier_email", 200, true);
    Validate(form, "notifier_email",
             "Cette adresse électronique n’est pas valide (exemple : nom@exemple.fr).", ValidateEmail);
    if (!form.Checked("good_faith"))
      form.Fail("good_faith",
                "Une notification de contenu illégal doit être faite de bonne foi : cochez la case.");
    report.notifier_name = form.Get("notifier_name");
    report.notifier_email = form.Get("notifier_email");
    report.good_faith = form.Checked("good_faith");
  }
  return report;
}

NewGrievance GrievanceFromForm(Form& form, const std::vector<GrievanceCategory>& categories) {
  NewGrievance g;
  g.channel = "web";
  g.category = form.Get("category");
  if (std::none_of(categories.begin(), categories.end(),
                   [&](const GrievanceCategory& c) { return c.active && c.code == g.category; }))
    form.Fail("category", "Choisissez une catégorie dans la liste.");
  CheckText(form, "title", kMaxGrievanceTitle, true);
  CheckText(form, "description", kMaxGrievanceDescription, true);
  CheckText(form, "address", 300, false);
  g.title = form.Get("title");
  g.description = form.Get("description");
  g.address = form.Get("address");
  g.postcode = form.Get("postcode");
  Validate(form, "postcode", "Un code postal a 5 chiffres, par exemple 77810.", ValidatePostcode);
  if (form.Checked("anonymous")) return g;
  CheckText(form, "contact_name", 120, false);
  Validate(form, "contact_email", "Cette adresse électronique n’est pas valide (exemple : nom@exemple.fr).",
           ValidateEmail);
  Validate(form, "contact_phone", "Ce numéro de téléphone n’est pas valide (exemple : 01 23 45 67 89).",
           [](const std::string& phone) { NormalisePhone(phone); });
  g.contact_name = form.Get("contact_name");
  g.contact_email = form.Get("contact_email");
  g.contact_phone = form.Get("contact_phone");
  return g;
}

void CheckJoinForm(Form& form) {
  const std::string code = NormaliseInvitationCode(form.Get("code"));
  if (form.Get("code").empty())
    form.Fail("code", "Saisissez le code d’invitation reçu de la mairie.");
  else if (code.size() != 8 || code.find_first_not_of(kInvitationAlphabet) != std::string::npos)
    form.Fail("code", "Un code d’invitation a 8 caractères, par exemple ABCD-EFGH.");
  CheckText(form, "display_name", 60, true);
}

bool SubmissionLimit::Allow(const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (recent_.size() > 100000) recent_.clear();  // a flood of addresses must not grow memory without bound
  auto& times = recent_[key];
  std::erase_if(times, [&](auto at) { return now - at >= window_; });
  if (static_cast<int>(times.size()) >= count_) return false;
  times.push_back(now);
  return true;
}

}  // namespace voisinage
