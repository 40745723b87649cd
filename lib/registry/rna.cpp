// RNA, the national register of associations: the "waldec" file (';'-separated, 39 columns today, 41 in older
// files with telephone and email) and the older "import" file (the RNA number sits in `observation`).
// Personal data — the manager's address (adrg_*), civility (dir_civilite), telephone and e-mail — is never
// read.

#include "lib/registry/row_mapper.h"

namespace voisinage {

namespace {

const std::vector<std::string> kWaldecRequired = {"id",
                                                  "titre",
                                                  "titre_court",
                                                  "objet",
                                                  "objet_social1",
                                                  "objet_social2",
                                                  "date_creat",
                                                  "date_decla",
                                                  "date_disso",
                                                  "adrs_numvoie",
                                                  "adrs_typevoie",
                                                  "adrs_libvoie",
                                                  "adrs_codeinsee",
                                                  "adrs_codepostal",
                                                  "adrs_libcommune",
                                                  "siteweb",
                                                  "position"};
const std::vector<std::string> kImportRequired = {
    "id",     "titre",          "objet",      "objet_social1", "adr1",    "adrs_codepostal",
    "libcom", "adrs_codeinsee", "date_creat", "observation",   "position"};

// The RNA writes "no value" as empty, "_" or, for dates, 0001-01-01.
std::string_view Value(std::string_view text) {
  if (text == "_" || text == "0001-01-01") return {};
  return text;
}

void Append(std::string& text, std::string_view word, const char* separator = " ") {
  word = Value(word);
  if (word.empty()) return;
  if (!text.empty()) text += separator;
  text += word;
}

class RnaMapper final : public RowMapper {
 public:
  RnaMapper(const HeaderIndex& index, const RowFilter& filter, bool import_file)
      : filter_(filter), import_file_(import_file) {
    commune_ = *index.Find("adrs_codeinsee");
    // Resolved once: a million rows would otherwise look each name up again.
    for (const char* name : kColumns) columns_.emplace_back(name, index.Find(name));
  }

  std::string format() const override { return import_file_ ? "rna-import" : "rna"; }
  std::optional<size_t> commune_column() const override { return commune_; }

  bool Map(const CsvRecord& record, DirectoryEntry& e) override {
    auto get = [&](std::string_view name) -> std::string_view {
      for (const auto& [column, i] : columns_)
        if (column == name) return i ? Value(record.fields[*i]) : std::string_view();
      return {};
    };
    std::string insee(get("adrs_codeinsee"));
    if (!filter_.communes.empty() && !filter_.communes.count(insee)) return false;

    e = DirectoryEntry{};
    e.kind = "association";
    e.source = "rna";
    e.registry_key = std::string(import_file_ ? get("observation") : get("id"));
    if (!IsValidRnaNumber(e.registry_key))
      throw RowRejected(fmt::format("invalid RNA number '{}' in column '{}' (W then 9 letters or digits)",
                                    e.registry_key, import_file_ ? "observation" : "id"));
    std::string_view position = get("position");
    if (position == "D")
      e.status = "dissolved";
    else if (position == "S")
      e.status = "deleted";
    else
      e.status = "active";  // A, and the import file's other codes, are live associations

    e.name = get("titre");
    e.short_name = get("titre_court");
    e.description = get("objet");
    // Social-object codes; "000000" means none, and the second often repeats the first.
    std::string_view first = get("objet_social1"), second = get("objet_social2");
    if (first != "000000") Append(e.activity_code, first, ",");
    if (second != "000000" && second != first) Append(e.activity_code, second, ",");
    e.created_on = get("date_creat");
    e.declared_on = import_file_ ? get("date_publi") : get("date_decla");
    e.dissolved_on = get("date_disso");
    e.website = get("siteweb");
    e.insee = insee;
    e.postcode = get("adrs_codepostal");
    if (import_file_) {
      Append(e.address, get("adr1"));
      Append(e.address, get("adr2"), ", ");
      Append(e.address, get("adr3"), ", ");
      e.city = get("libcom");
    } else {
      Append(e.address, get("adrs_numvoie"));
      Append(e.address, ExpandRepetition(get("adrs_repetition")));
      Append(e.address, ExpandStreetType(get("adrs_typevoie")));
      Append(e.address, get("adrs_libvoie"));
      Append(e.address, get("adrs_complement"), ", ");
      Append(e.address, get("adrs_distrib"), ", ");
      e.city = get("adrs_libcommune");
    }
    // Collapse the runs of spaces of fixed-width addresses ("10        BD  Brune").
    std::string compact;
    for (char c : e.address)
      if (c != ' ' || (!compact.empty() && compact.back() != ' ')) compact += c;
    e.address = compact;
    if (e.name.empty()) throw RowRejected("the association has no title (column 'titre' is empty)");
    return true;
  }

 private:
  static constexpr const char* kColumns[] = {"adrs_codeinsee", "observation",    "id",
                                             "position",       "titre",          "titre_court",
                                             "objet",          "objet_social1",  "objet_social2",
                                             "date_creat",     "date_publi",     "date_decla",
                                             "date_disso",     "siteweb",        "adrs_codepostal",
                                             "adr1",           "adr2",           "adr3",
                                             "libcom",         "adrs_numvoie",   "adrs_repetition",
                                             "adrs_typevoie",  "adrs_libvoie",   "adrs_complement",
                                             "adrs_distrib",   "adrs_libcommune"};
  std::vector<std::pair<std::string_view, std::optional<size_t>>> columns_;
  RowFilter filter_;
  bool import_file_;
  size_t commune_;
};

}  // namespace

std::unique_ptr<RowMapper> MakeRnaMapper(const std::vector<std::string>& header, const RowFilter& filter) {
  HeaderIndex index(header);
  bool import_file = index.Has("observation") && !index.Has("titre_court");
  std::vector<std::string> missing = index.Missing(import_file ? kImportRequired : kWaldecRequired);
  if (!missing.empty())
    throw Error(fmt::format("not an RNA associations file: missing column(s) {}; it looks like {}",
                            fmt::join(missing, ", "), DescribeHeader(header)),
                "check --format (rna for the waldec and import files, csv with --mapping for other files)");
  return std::make_unique<RnaMapper>(index, filter, import_file);
}

}  // namespace voisinage
