#include "lib/registry/row_mapper.h"

#include <cmath>

namespace voisinage {

HeaderIndex::HeaderIndex(const std::vector<std::string>& header) : names_(header) {
  for (size_t i = 0; i < header.size(); ++i)
    index_.emplace(header[i], i);  // the first of duplicate names wins
}

std::optional<size_t> HeaderIndex::Find(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> HeaderIndex::Missing(const std::vector<std::string>& required) const {
  std::vector<std::string> missing;
  for (const std::string& name : required)
    if (!Has(name)) missing.push_back(name);
  return missing;
}

std::string DescribeHeader(const std::vector<std::string>& header) {
  HeaderIndex index(header);
  if (index.Has("siret") && index.Has("etatAdministratifEtablissement")) return "a SIRENE establishment file";
  if (index.Has("siren") && index.Has("denominationUniteLegale"))
    return "a SIRENE legal units file (StockUniteLegale)";
  if (index.Has("id") && index.Has("titre") && index.Has("position")) return "an RNA associations file";
  if (index.Has("observation") && index.Has("titre")) return "an RNA import file";
  return fmt::format("a CSV file with {} columns ({}{})", header.size(),
                     fmt::join(header.begin(), header.begin() + std::min<size_t>(header.size(), 4), ", "),
                     header.size() > 4 ? ", ..." : "");
}

std::string_view ExpandStreetType(std::string_view code) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {"ALL", "ALLÉE"},     {"AV", "AVENUE"},      {"BD", "BOULEVARD"},    {"CAR", "CARREFOUR"},
      {"CHE", "CHEMIN"},    {"CHS", "CHAUSSÉE"},   {"CITE", "CITÉ"},       {"COR", "CORNICHE"},
      {"CRS", "COURS"},     {"DOM", "DOMAINE"},    {"DSC", "DESCENTE"},    {"ECA", "ÉCART"},
      {"ESP", "ESPLANADE"}, {"FG", "FAUBOURG"},    {"GR", "GRANDE RUE"},   {"HAM", "HAMEAU"},
      {"HLE", "HALLE"},     {"IMP", "IMPASSE"},    {"LD", "LIEU-DIT"},     {"LOT", "LOTISSEMENT"},
      {"MAR", "MARCHÉ"},    {"MTE", "MONTÉE"},     {"PAS", "PASSAGE"},     {"PL", "PLACE"},
      {"PLN", "PLAINE"},    {"PLT", "PLATEAU"},    {"PRO", "PROMENADE"},   {"PRV", "PARVIS"},
      {"QUA", "QUARTIER"},  {"QUAI", "QUAI"},      {"RES", "RÉSIDENCE"},   {"RLE", "RUELLE"},
      {"ROC", "ROCADE"},    {"RPT", "ROND-POINT"}, {"RTE", "ROUTE"},       {"RUE", "RUE"},
      {"SEN", "SENTIER"},   {"SQ", "SQUARE"},      {"TPL", "TERRE-PLEIN"}, {"TRA", "TRAVERSE"},
      {"VLA", "VILLA"},     {"VLGE", "VILLAGE"},   {"VOIE", "VOIE"},       {"ZA", "ZA"},
      {"ZAC", "ZAC"},       {"ZI", "ZI"}};
  for (const auto& [abbreviation, full] : kTypes)
    if (abbreviation == code) return full;
  return code;
}

std::string_view ExpandRepetition(std::string_view code) {
  if (code == "B") return "BIS";
  if (code == "T") return "TER";
  if (code == "Q") return "QUATER";
  if (code == "C") return "QUINQUIES";
  return code;
}

bool IsValidSiret(std::string_view siret) {
  if (siret.size() != 14 || siret.find_first_not_of("0123456789") != std::string_view::npos) return false;
  int sum = 0;
  for (size_t i = 0; i < 14; ++i) {
    int digit = siret[i] - '0';
    if (i % 2 == 0) {  // from the right, every second digit is doubled: positions 0, 2... of 14 digits
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  if (sum % 10 == 0) return true;
  // La Poste's establishments (SIREN 356000000) use the sum of the digits, a multiple of 5.
  if (siret.starts_with("356000000")) {
    int plain = 0;
    for (char c : siret) plain += c - '0';
    return plain % 5 == 0;
  }
  return false;
}

bool IsValidRnaNumber(std::string_view id) {
  return id.size() == 10 && id[0] == 'W' && std::all_of(id.begin() + 1, id.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'Z');
         });
}

std::string NormalisePhone(std::string_view phone) {
  std::string digits;
  for (char c : phone) {
    if (std::isdigit(static_cast<unsigned char>(c)))
      digits += c;
    else if (c == '+' && digits.empty())
      digits += c;
    else if (c != ' ' && c != '.' && c != '-' && c != '(' && c != ')' && c != '\t')
      throw RowRejected(fmt::format("invalid phone number '{}'", phone));
  }
  if (digits.starts_with("0033")) digits = "+33" + digits.substr(4);
  if (digits.size() == 10 && digits[0] == '0' && digits[1] != '0') return "+33" + digits.substr(1);
  if (digits.starts_with("+33") && digits.size() == 12 && digits[3] != '0') return digits;
  if (digits.starts_with("+") && digits.size() >= 8 && digits.size() <= 16 && !digits.starts_with("+33"))
    return digits;
  throw RowRejected(fmt::format("invalid phone number '{}'", phone),
                    "expected a French number such as 01 64 70 80 90");
}

void Lambert93ToWgs84(double x, double y, double& lat, double& lon) {
  // IGN's inverse Lambert conformal conic projection for RGF93 / Lambert-93 (EPSG:2154).
  constexpr double kN = 0.7256077650532670, kC = 11754255.4260960, kXs = 700000.0, kYs = 12655612.0499;
  constexpr double kE = 0.0818191910428158, kLon0 = 3.0 * M_PI / 180.0;
  const double dx = x - kXs, dy = y - kYs;
  const double r = std::sqrt(dx * dx + dy * dy);
  const double gamma = std::atan(dx / -dy);
  const double iso = -std::log(std::fabs(r / kC)) / kN;
  double phi = 2 * std::atan(std::exp(iso)) - M_PI / 2;
  const double exp_iso = std::exp(iso);
  for (int i = 0; i < 12; ++i) {  // converges to 1e-12 rad in 3 or 4 steps
    const double s = kE * std::sin(phi);
    const double next = 2 * std::atan(std::pow((1 + s) / (1 - s), kE / 2) * exp_iso) - M_PI / 2;
    const bool converged = std::fabs(next - phi) < 1e-12;
    phi = next;
    if (converged) break;
  }
  lat = phi * 180.0 / M_PI;
  lon = (kLon0 + gamma / kN) * 180.0 / M_PI;
}

}  // namespace voisinage
