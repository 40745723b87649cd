#include "lib/town/validation.h"

#include <algorithm>
#include <filesystem>

#include "lib/error.h"
#include "lib/text/suggest.h"

namespace voisinage {

namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsLower(char c) {
  return c >= 'a' && c <= 'z';
}

bool AllOf(const std::string& s, auto predicate) {
  return std::all_of(s.begin(), s.end(), predicate);
}

}  // namespace

const std::vector<std::string>& Roles() {
  static const std::vector<std::string> roles = {"resident", "merchant",  "association",
                                                 "townhall", "moderator", "admin"};
  return roles;
}

bool IsStaffRole(const std::string& role) {
  return role == "townhall" || role == "moderator" || role == "admin";
}

void ValidateSlug(const std::string& slug) {
  if (slug.size() < 2 || slug.size() > 40 || !IsLower(slug[0]) ||
      !AllOf(slug, [](char c) { return IsLower(c) || IsDigit(c) || c == '-'; }))
    throw Error(
        fmt::format("invalid slug '{}'", slug),
        "a slug is 2 to 40 lowercase letters, digits and '-', starting with a letter, e.g. 'centre-bourg'");
}

void ValidateCategoryCode(const std::string& code) {
  if (code.size() < 2 || code.size() > 40 || !IsLower(code[0]) ||
      !AllOf(code, [](char c) { return IsLower(c) || IsDigit(c) || c == '-' || c == '_'; }))
    throw Error(
        fmt::format("invalid category code '{}'", code),
        "a code is 2 to 40 lowercase letters, digits, '_' and '-', starting with a letter, e.g. 'voirie'");
}

void ValidateInsee(const std::string& insee) {
  bool ok =
      insee.size() == 5 &&
      ((IsDigit(insee[0]) && IsDigit(insee[1])) || insee.starts_with("2A") || insee.starts_with("2B")) &&
      IsDigit(insee[2]) && IsDigit(insee[3]) && IsDigit(insee[4]) && insee != "00000";
  if (!ok)
    throw Error(
        fmt::format("invalid INSEE code '{}'", insee),
        "an INSEE commune code has 5 characters: digits, or 2A/2B then 3 digits in Corsica (e.g. '77463')");
}

void ValidatePostcode(const std::string& postcode) {
  bool ok = postcode.size() == 5 && AllOf(postcode, IsDigit) && postcode.substr(0, 2) != "00" &&
            postcode.substr(0, 2) != "99";
  if (!ok)
    throw Error(fmt::format("invalid postcode '{}'", postcode),
                "a French postcode has 5 digits, e.g. '77810'");
}

void ValidateEmail(const std::string& email) {
  auto at = email.find('@');
  bool ok = at != std::string::npos && at > 0 && email.find('@', at + 1) == std::string::npos &&
            email.find('.', at) != std::string::npos && email.back() != '.' && email.size() <= 254 &&
            AllOf(email, [](char c) {
              return static_cast<unsigned char>(c) > ' ' && c != 0x7f && c != '<' && c != '>' && c != ',';
            });
  if (!ok) throw Error(fmt::format("invalid e-mail address '{}'", email));
}

void ValidateRole(const std::string& role) {
  if (std::find(Roles().begin(), Roles().end(), role) == Roles().end())
    throw Error(fmt::format("unknown role '{}'{}", role, DidYouMean(role, Roles())),
                "roles: resident, merchant, association, townhall, moderator, admin");
}

void ValidateTimezone(const std::string& timezone) {
  namespace fs = std::filesystem;
  bool ok =
      !timezone.empty() && timezone.find("..") == std::string::npos && timezone[0] != '/' &&
      AllOf(timezone, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+';
      });
  std::error_code ec;
  if (!ok || !fs::is_regular_file(fs::path("/usr/share/zoneinfo") / timezone, ec))
    throw Error(fmt::format("unknown time zone '{}'", timezone), "use an IANA name such as 'Europe/Paris'");
}

void ValidateName(const std::string& what, const std::string& name) {
  bool blank = AllOf(name, [](char c) { return c == ' ' || c == '\t'; });
  if (blank) throw Error(fmt::format("{} is empty", what));
  if (name.size() > 120)
    throw Error(fmt::format("{} '{}...' is longer than 120 bytes", what, name.substr(0, 20)));
  if (!AllOf(name, [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; }))
    throw Error(fmt::format("{} contains control characters", what));
}

void ValidateUrl(const std::string& url) {
  std::string_view rest = url;
  bool ok = rest.starts_with("https://") || rest.starts_with("http://");
  if (ok) rest.remove_prefix(rest.find("://") + 3);
  ok = ok && !rest.empty() && rest.front() != '/' && url.size() <= 200 &&
       AllOf(url, [](char c) { return c > ' ' && c != 0x7f && c != '"' && c != '<' && c != '>'; });
  if (!ok)
    throw Error(fmt::format("invalid address '{}'", url),
                "give a web address such as https://voisinage.thomery.fr");
}

}  // namespace voisinage
