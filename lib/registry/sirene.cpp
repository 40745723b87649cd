// SIRENE StockEtablissement: INSEE's establishments file, comma-separated UTF-8, 48 to 54 columns depending
// on the year plus 9 in the geolocated variant. Columns are found by name, never by position.

#include <charconv>

#include "lib/registry/naf.h"
#include "lib/registry/row_mapper.h"

namespace voisinage {

namespace {

const std::vector<std::string> kRequired = {"siret",
                                            "etatAdministratifEtablissement",
                                            "codeCommuneEtablissement",
                                            "codePostalEtablissement",
                                            "libelleCommuneEtablissement",
                                            "activitePrincipaleEtablissement",
                                            "enseigne1Etablissement",
                                            "denominationUsuelleEtablissement",
                                            "numeroVoieEtablissement",
                                            "typeVoieEtablissement",
                                            "libelleVoieEtablissement"};

void AppendWord(std::string& text, std::string_view word) {
  if (word.empty()) return;
  if (!text.empty()) text += ' ';
  text += word;
}

bool ParseNumber(const std::string& text, double& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

class SireneMapper final : public RowMapper {
 public:
  SireneMapper(const HeaderIndex& index, const RowFilter& filter) : filter_(filter) {
    auto column = [&](const char* name) { return index.Find(name); };
    siret_ = *column("siret");
    state_ = *column("etatAdministratifEtablissement");
    commune_ = *column("codeCommuneEtablissement");
    postcode_ = *column("codePostalEtablissement");
    city_ = *column("libelleCommuneEtablissement");
    naf_ = *column("activitePrincipaleEtablissement");
    sign_ = *column("enseigne1Etablissement");
    usual_name_ = *column("denominationUsuelleEtablissement");
    number_ = *column("numeroVoieEtablissement");
    street_type_ = *column("typeVoieEtablissement");
    street_ = *column("libelleVoieEtablissement");
    repetition_ = column("indiceRepetitionEtablissement");
    complement_ = column("complementAdresseEtablissement");
    diffusion_ = column("statutDiffusionEtablissement");
    nomenclature_ = column("nomenclatureActivitePrincipaleEtablissement");
    created_ = column("dateCreationEtablissement");
    longitude_ = column("longitude");
    latitude_ = column("latitude");
    lambert_x_ = column("coordonneeLambertAbscisseEtablissement");
    lambert_y_ = column("coordonneeLambertOrdonneeEtablissement");
  }

  std::string format() const override { return "sirene"; }
  std::optional<size_t> commune_column() const override { return commune_; }

  bool Map(const CsvRecord& record, DirectoryEntry& e) override {
    const auto& f = record.fields;
    // Partially diffused establishments ("P") carry "[ND]" in place of the masked fields.
    auto get = [&](std::optional<size_t> i) -> std::string_view {
      if (!i) return {};
      std::string_view value = f[*i];
      return value == "[ND]" ? std::string_view() : value;
    };
    const std::string& commune = f[commune_];
    if (!filter_.communes.empty() && !filter_.communes.count(commune)) return false;

    std::string naf(get(naf_));
    bool rev2 = !nomenclature_ || get(nomenclature_).empty() || get(nomenclature_) == "NAFRev2";
    if (rev2 && !naf.empty()) {
      std::string normalised = NormaliseNafCode(naf);
      if (normalised.empty())
        throw RowRejected(
            fmt::format("invalid NAF code '{}' in column 'activitePrincipaleEtablissement'", naf));
      naf = normalised;
    }
    if (filter_.local_shops_only && !(rev2 && IsLocalShopNaf(naf))) return false;
    if (!filter_.naf_codes.empty() && !filter_.naf_codes.count(naf)) return false;

    e = DirectoryEntry{};
    e.kind = "merchant";
    e.source = "sirene";
    e.registry_key = f[siret_];
    if (!IsValidSiret(e.registry_key))
      throw RowRejected(fmt::format(
          "invalid SIRET '{}' in column 'siret' (14 digits with a valid check digit)", e.registry_key));
    const std::string& state = f[state_];
    if (state == "A")
      e.status = "active";
    else if (state == "F")
      e.status = "closed";
    else
      throw RowRejected(
          fmt::format("unknown state '{}' in column 'etatAdministratifEtablissement' (A or F)", state));

    e.name = get(sign_);
    if (e.name.empty()) e.name = get(usual_name_);
    e.activity_code = naf;
    if (rev2) e.activity_label = NafLabel(naf);

    std::string address;
    std::string number(get(number_));
    if (repetition_ && !get(repetition_).empty())
      number += " " + std::string(ExpandRepetition(get(repetition_)));
    AppendWord(address, number);
    AppendWord(address, ExpandStreetType(get(street_type_)));
    AppendWord(address, get(street_));
    if (complement_ && !get(complement_).empty()) {
      if (!address.empty()) address += ", ";
      address += get(complement_);
    }
    e.address = address;
    e.postcode = get(postcode_);
    e.city = get(city_);
    e.insee = commune;
    if (created_) e.created_on = get(created_);

    const bool masked = diffusion_ && f[*diffusion_] == "P";
    double lat = 0, lon = 0;
    if (masked) {
      // no coordinates: INSEE does not publish them for these establishments
    } else if (longitude_ && latitude_ && ParseNumber(f[*longitude_], lon) &&
               ParseNumber(f[*latitude_], lat)) {
      if (lat < -90 || lat > 90 || lon < -180 || lon > 180)
        throw RowRejected(fmt::format("coordinates out of range: longitude '{}', latitude '{}'",
                                      f[*longitude_], f[*latitude_]));
      e.lat = lat;
      e.lon = lon;
    } else if (lambert_x_ && lambert_y_ && !commune.starts_with("97")) {
      double x = 0, y = 0;
      if (ParseNumber(std::string(get(lambert_x_)), x) && ParseNumber(std::string(get(lambert_y_)), y)) {
        Lambert93ToWgs84(x, y, lat, lon);
        e.lat = lat;
        e.lon = lon;
      }
    }
    return true;
  }

 private:
  RowFilter filter_;
  size_t siret_, state_, commune_, postcode_, city_, naf_, sign_, usual_name_, number_, street_type_, street_;
  std::optional<size_t> repetition_, complement_, diffusion_, nomenclature_, created_, longitude_, latitude_,
      lambert_x_, lambert_y_;
};

}  // namespace

std::unique_ptr<RowMapper> MakeSireneMapper(const std::vector<std::string>& header, const RowFilter& filter) {
  HeaderIndex index(header);
  std::vector<std::string> missing = index.Missing(kRequired);
  if (!missing.empty())
    throw Error(fmt::format("not a SIRENE establishment file: missing column(s) {}; it looks like {}",
                            fmt::join(missing, ", "), DescribeHeader(header)),
                "check --format (sirene for StockEtablissement, csv with --mapping for other files)");
  return std::make_unique<SireneMapper>(index, filter);
}

}  // namespace voisinage
