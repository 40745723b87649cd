#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <functional>

#include "lib/registry/directory.h"
#include "lib/registry/import.h"
#include "lib/registry/naf.h"
#include "lib/registry/row_mapper.h"
#include "lib/registry/run_keys.h"
#include "lib/store/schema.h"
#include "lib/text/fold.h"
#include "test_support.h"

using namespace voisinage;

namespace {

const std::string kSamples = std::string(VOISINAGE_SOURCE_DIR) + "/../shared/data/registries/";

class Collect final : public ImportObserver {
 public:
  void OnReject(const RejectedRow& row) override { rejected.push_back(row); }
  std::vector<RejectedRow> rejected;
};

ImportSummary Import(Db& db, const std::string& kind, const std::string& path,
                     std::vector<std::string> communes = {"all"}, Collect* collect = nullptr) {
  ImportRequest request;
  request.kind = kind;
  request.path = path;
  request.communes = std::move(communes);
  Collect ignore;
  return RunImport(db, request, collect ? *collect : ignore);
}

}  // namespace

TEST_CASE("identifiers: SIRET Luhn, RNA numbers, phones") {
  CHECK(IsValidSiret("55201350000038"));
  CHECK_FALSE(IsValidSiret("55201350000039"));
  CHECK_FALSE(IsValidSiret("5520135000003"));
  CHECK(IsValidSiret("35600000000048"));  // La Poste: digits add up to a multiple of 5
  CHECK(IsValidRnaNumber("W9T1002867"));
  CHECK_FALSE(IsValidRnaNumber("751P00085568"));
  CHECK(NormalisePhone("01 64 70 80 90") == "+33164708090");
  CHECK(NormalisePhone("+33 6 12 34 56 78") == "+33612345678");
  CHECK(NormalisePhone("0033164708090") == "+33164708090");
  CHECK_THROWS_AS(NormalisePhone("12 34"), RowRejected);
}

TEST_CASE("Lambert-93 to WGS84") {
  double lat = 0, lon = 0;
  Lambert93ToWgs84(700000, 6600000, lat, lon);  // the projection's origin
  CHECK(lat == Approx(46.5).margin(1e-6));
  CHECK(lon == Approx(3.0).margin(1e-6));
  Lambert93ToWgs84(652469, 6862035, lat, lon);  // Paris, as IGN gives it
  CHECK(lat == Approx(48.8566).margin(0.0005));
  CHECK(lon == Approx(2.3522).margin(0.0005));
}

TEST_CASE("folding for search and sorting") {
  CHECK(Fold("ÉPICERIE du Cœur") == "epicerie du coeur");
  CHECK(Fold("L’Œuf à la Coque") == "l'oeuf a la coque");
  CHECK(Fold("Straße") == "strasse");
}

TEST_CASE("NAF codes and the local-shop list") {
  CHECK(NormaliseNafCode("4722z") == "47.22Z");
  CHECK(NafLabel("47.22Z").find("viande") != std::string::npos);
  CHECK(IsLocalShopNaf("10.71C"));
  CHECK_FALSE(IsLocalShopNaf("68.20B"));
}

TEST_CASE("the real SIRENE sample imports, and re-imports unchanged") {
  Db db = test::ThomeryDb();
  ImportSummary first = Import(db, "merchant", kSamples + "sirene_geo_2024_sample.csv");
  CHECK(first.read == 40);
  CHECK(first.rejected == 0);
  CHECK(first.inserted + first.skipped == 40);
  CHECK(first.encoding == "utf-8");
  ImportSummary second = Import(db, "merchant", kSamples + "sirene_geo_2024_sample.csv");
  CHECK(second.unchanged == first.inserted);
  CHECK(second.inserted == 0);
  DirectoryEntry doras = GetDirectoryEntry(db, "01585179300917");
  CHECK(doras.name == "DORAS MENEO");
  CHECK(doras.activity_code == "46.73A");
  CHECK(doras.lat.has_value());
  CHECK(SearchDirectory(db, {"doras", "", "", "", false, 10}).size() == 2);
}

TEST_CASE("the RNA samples never import personal data") {
  Db db = test::ThomeryDb();
  ImportSummary waldec = Import(db, "association", kSamples + "rna_waldec_2015_sample.csv");
  CHECK(waldec.inserted == 2);  // the dissolved one is skipped
  CHECK(waldec.skipped == 1);
  ImportSummary import = Import(db, "association", kSamples + "rna_import_2015_sample.csv");
  CHECK(import.format == "rna-import");
  CHECK(import.inserted == 3);
  DirectoryEntry indigo = GetDirectoryEntry(db, "W751085568");
  CHECK(indigo.name == "INDIGO");
  CHECK(indigo.declared_on.empty());  // 0001-01-01
  CHECK(
      db.sql().execAndGet("SELECT count(*) FROM directory_entry WHERE phone != '' OR email != ''").getInt() ==
      0);
}

TEST_CASE("rows are rejected with their line, the rest committed; --strict writes nothing") {
  test::TempDir dir;
  const std::string header =
      "siret,etatAdministratifEtablissement,codeCommuneEtablissement,codePostalEtablissement,"
      "libelleCommuneEtablissement,activitePrincipaleEtablissement,enseigne1Etablissement,"
      "denominationUsuelleEtablissement,numeroVoieEtablissement,typeVoieEtablissement,"
      "libelleVoieEtablissement\n";
  dir.Write("s.csv", header + "55201350000038,A,77463,77810,THOMERY,47.22Z,BOUCHERIE,,3,RUE,DE BY\n" +
                         "55201350000039,A,77463,77810,THOMERY,47.22Z,BAD LUHN,,3,RUE,DE BY\n" +
                         "55201350000038,A,77463,77810,THOMERY\n");
  Db db = test::ThomeryDb();
  Collect collect;
  ImportSummary summary = Import(db, "merchant", dir.File("s.csv"), {}, &collect);
  CHECK(summary.inserted == 1);
  REQUIRE(collect.rejected.size() == 2);
  CHECK(collect.rejected[0].line == 3);
  CHECK_THAT(collect.rejected[0].reason, Catch::Contains("invalid SIRET"));
  CHECK(collect.rejected[1].line == 4);
  CHECK_THAT(collect.rejected[1].reason, Catch::Contains("5 fields, the header has 11"));

  Db strict_db = test::ThomeryDb();
  ImportRequest strict;
  strict.kind = "merchant";
  strict.path = dir.File("s.csv");
  strict.strict = true;
  CHECK_THROWS_WITH(RunImport(strict_db, strict, collect), Catch::Contains("nothing was imported"));
  CHECK(strict_db.sql().execAndGet("SELECT count(*) FROM directory_entry").getInt() == 0);
  CHECK(strict_db.sql().execAndGet("SELECT count(*) FROM import_run").getInt() == 0);
}

namespace {

const std::string kShopHeader =
    "siret,etatAdministratifEtablissement,codeCommuneEtablissement,codePostalEtablissement,"
    "libelleCommuneEtablissement,activitePrincipaleEtablissement,enseigne1Etablissement,"
    "denominationUsuelleEtablissement,numeroVoieEtablissement,typeVoieEtablissement,"
    "libelleVoieEtablissement\n";

// Runs `during` when the import rejects a row: while it is still reading, before it writes.
class WhileReading final : public ImportObserver {
 public:
  explicit WhileReading(std::function<void()> during) : during_(std::move(during)) {}
  void OnReject(const RejectedRow& row) override {
    rejected.push_back(row);
    during_();
  }
  std::vector<RejectedRow> rejected;

 private:
  std::function<void()> during_;
};

}  // namespace

TEST_CASE(
    "an import reads without the write lock: other writers go on, a concurrent import makes it start again") {
  test::TempDir dir;
  const std::string path = dir.File("town.db");
  {
    Db db = Db::Open(path, OpenMode::kCreate);
    ApplyTownFile(db, LoadTownFile(test::SourcePath("examples/thomery.yaml")), false);
  }
  dir.Write("first.csv", kShopHeader +
                             "55201350000038,A,77463,77810,THOMERY,47.22Z,BOUCHERIE,,3,RUE,DE BY\n" +
                             "35600000000048,A,77463,77810,THOMERY,47.11C,EPICERIE,,5,RUE,DE BY\n");
  // The same butcher, a bad row, the grocery renamed.
  dir.Write("second.csv", kShopHeader +
                              "55201350000038,A,77463,77810,THOMERY,47.22Z,BOUCHERIE,,3,RUE,DE BY\n" +
                              "55201350000039,A,77463,77810,THOMERY,47.22Z,BAD LUHN,,3,RUE,DE BY\n" +
                              "35600000000048,A,77463,77810,THOMERY,47.11C,EPICERIE FINE,,5,RUE,DE BY\n");
  dir.Write("other.csv", kShopHeader + "73282932000074,A,77463,77810,THOMERY,47.76Z,FLEURS,,1,RUE,DE BY\n");
  Db db = Db::Open(path, OpenMode::kExisting);
  REQUIRE(Import(db, "merchant", dir.File("first.csv")).inserted == 2);
  Db other = Db::Open(path, OpenMode::kExisting);
  ImportRequest second;
  second.kind = "merchant";
  second.path = dir.File("second.csv");
  second.communes = {"all"};

  SECTION("another connection writes while it reads") {
    WhileReading observer([&] {
      auto transaction = other.Write();
      other.sql().exec("INSERT INTO setting (key, value) VALUES ('written meanwhile', 'x')");
      transaction.commit();
    });
    const ImportSummary summary = RunImport(db, second, observer);
    CHECK(summary.unchanged == 1);
    CHECK(summary.updated == 1);
    CHECK(summary.rejected == 1);
  }
  SECTION("another import writes to the directory while it reads") {
    WhileReading observer([&] { Import(other, "merchant", dir.File("other.csv")); });
    const ImportSummary summary = RunImport(db, second, observer);
    CHECK(summary.unchanged == 1);
    CHECK(summary.updated == 1);
    CHECK(summary.rejected == 1);
    CHECK(observer.rejected.size() == 1);  // reported once, though the file was read twice
    CHECK(db.sql().execAndGet("SELECT count(*) FROM directory_entry").getInt() == 3);
    CHECK(db.sql().execAndGet("SELECT count(*) FROM import_run").getInt() == 3);
  }
  CHECK(db.sql()
            .execAndGet("SELECT name FROM directory_entry WHERE registry_key = '35600000000048'")
            .getString() == "EPICERIE FINE");
}

namespace {

// Writes entries as an import does, keyed "K1", "K2"... in the order given (the order of their ids).
void WriteEntries(Db& db, const std::vector<DirectoryEntry>& entries) {
  auto transaction = db.Write();
  db.sql().exec(
      "INSERT INTO import_run (kind, format, file_name, sha256, encoding, delimiter, started_at) "
      "VALUES ('merchant', 'csv', 'test.csv', '', 'UTF-8', ',', '2026-11-29T00:00:00Z')");
  const int64_t import_id = db.sql().getLastInsertRowid();
  DirectoryWriter writer(db.sql());
  int key = 0;
  for (DirectoryEntry entry : entries) {
    entry.registry_key = "K" + std::to_string(++key);
    if (entry.source.empty()) entry.source = "csv";
    if (auto existing = writer.Find(entry.kind, entry.registry_key))
      writer.Update(existing->id, Prepare(entry), import_id);
    else
      writer.InsertNew(Prepare(entry), import_id);
  }
  writer.Finish();
  transaction.commit();
}

DirectoryEntry Entry(const std::string& name, const std::string& status = "active",
                     const std::string& kind = "merchant") {
  DirectoryEntry e;
  e.kind = kind;
  e.name = name;
  e.status = status;
  e.activity_label = "Commerce";
  return e;
}

std::vector<std::string> Names(Db& db, const DirectoryQuery& query) {
  std::vector<std::string> names;
  for (const DirectoryEntry& e : SearchDirectory(db, query)) names.push_back(e.name.empty() ? "-" : e.name);
  return names;
}

DirectoryQuery Search(const std::string& text, bool include_closed = false) {
  DirectoryQuery query;
  query.text = text;
  query.include_closed = include_closed;
  return query;
}

}  // namespace

TEST_CASE("import keys past the memory bound go to disk, and are found there as in memory") {
  // 16 slots a part: 256 parts hold 12 keys each at most, 3,072 in all; the rest go to the temporary
  // database.
  RunKeys keys(16);
  const auto key = [](int i) { return fmt::format("W{:09}", i); };
  for (int i = 0; i < 20000; ++i) REQUIRE(keys.Insert(key(i)));
  CHECK(keys.spilled() >= 20000 - 256 * 12);
  CHECK(keys.spilled() < 20000);
  for (int i = 0; i < 20000; i += 7) CHECK_FALSE(keys.Insert(key(i)));  // duplicates, wherever the key is
  for (int i = 0; i < 20000; ++i) CHECK_FALSE(keys.Get(key(i)).has_value());  // inserted, nothing stored yet
  for (int i = 0; i < 20000; ++i) keys.Set(key(i), uint64_t(i) << 8, i % 3 == 0);
  int wrong = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::optional<RunKeys::Stored> stored = keys.Get(key(i));
    if (!stored || stored->content_hash >> 8 != uint64_t(i) || stored->active != (i % 3 == 0)) ++wrong;
  }
  CHECK(wrong == 0);
  keys.Set("W999999999", 1 << 8, true);  // never inserted: nothing stored
  CHECK_FALSE(keys.Get("W999999999").has_value());
  CHECK(keys.Insert("W999999999"));
}

TEST_CASE("a full temporary disk is an error about the temporary file, not about the database") {
  // A file-size limit stands for the full disk; SIGXFSZ ignored, as the binary does, makes writes fail with
  // EFBIG. The keys are written to the file only past the temporary database's 8 MiB cache.
  struct Limit {
    rlimit before{};
    void (*handler)(int) = nullptr;
    Limit() {
      handler = std::signal(SIGXFSZ, SIG_IGN);
      getrlimit(RLIMIT_FSIZE, &before);
      rlimit small = before;
      small.rlim_cur = 64 * 1024;
      setrlimit(RLIMIT_FSIZE, &small);
    }
    ~Limit() {
      setrlimit(RLIMIT_FSIZE, &before);
      std::signal(SIGXFSZ, handler);
    }
  };
  RunKeys keys(16);
  Limit limit;
  const auto insert_many = [&keys] {
    for (int i = 0; i < 2000000; ++i) keys.Insert(fmt::format("{:014}", i));
  };
  REQUIRE_THROWS_WITH(insert_many(), Catch::Contains("cannot keep the file's keys in a temporary file"));
}

TEST_CASE("a million keys stay in memory") {
  RunKeys keys;
  int refused = 0;
  for (int i = 0; i < 1000000; ++i) refused += !keys.Insert(fmt::format("{:014}", i));
  CHECK(refused == 0);
  CHECK(keys.spilled() == 0);
  CHECK_FALSE(keys.Insert(fmt::format("{:014}", 123456)));
}

TEST_CASE("search ranks from the index: name matches, active, shorter names, by name, nameless last") {
  Db db = test::ThomeryDb();
  DirectoryEntry nameless = Entry("");
  nameless.activity_label = "Pharmacie";
  DirectoryEntry bakery = Entry("BOULANGERIE");
  bakery.description = "Ancienne pharmacie";
  DirectoryEntry father_and_son = Entry("ROUX PÈRE ET FILS");
  father_and_son.activity_label = "Pharmacie vétérinaire";
  // Ids in an order that is not the ranking's: ties within a length are settled by name, not by id.
  WriteEntries(db,
               {nameless, Entry("PHARMACIE ROUX"), bakery, Entry("GRANDE PHARMACIE DU CENTRE DE LA VILLE"),
                Entry("PHARMACIE BLANC"), Entry("PHARMACIE ROUX", "closed"), Entry("PHARMACIE ABEL"),
                Entry("PHARMA CLUB", "active", "association"), father_and_son, Entry("Pharmacie Abel")});

  const std::vector<std::string> active = {
      "PHARMA CLUB",    "PHARMACIE ABEL",    "Pharmacie Abel",
      "PHARMACIE ROUX", "PHARMACIE BLANC",   "GRANDE PHARMACIE DU CENTRE DE LA VILLE",
      "BOULANGERIE",    "ROUX PÈRE ET FILS", "-"};
  CHECK(Names(db, Search("pharm")) == active);
  CHECK(Names(db, Search("PHARMACIE")) == std::vector<std::string>(active.begin() + 1, active.end()));

  SECTION("every page agrees with the whole list") {
    for (int limit : {1, 2, 3, 4}) {
      std::vector<std::string> paged;
      for (int offset = 0; offset < 12; offset += limit) {
        DirectoryQuery page = Search("pharm");
        page.limit = limit;
        page.offset = offset;
        for (std::string& name : Names(db, page)) paged.push_back(std::move(name));
      }
      CHECK(paged == active);
    }
  }
  SECTION("closed entries come after the active ones that match as well") {
    std::vector<std::string> all = active;
    all.insert(all.begin() + 6, "PHARMACIE ROUX");
    CHECK(Names(db, Search("pharm", true)) == all);
  }
  SECTION("more of the words in the name come first") {
    CHECK(Names(db, Search("pharmacie roux")) ==
          std::vector<std::string>{"PHARMACIE ROUX", "ROUX PÈRE ET FILS"});
    CHECK(Names(db, Search("roux")) == std::vector<std::string>{"PHARMACIE ROUX", "ROUX PÈRE ET FILS"});
  }
  SECTION("the kind filters from the index") {
    DirectoryQuery associations = Search("pharm");
    associations.kind = "association";
    CHECK(Names(db, associations) == std::vector<std::string>{"PHARMA CLUB"});
    DirectoryQuery merchants = Search("pharm");
    merchants.kind = "merchant";
    CHECK(Names(db, merchants).size() == active.size() - 1);
  }
  SECTION("a renamed, closed or reopened entry moves in the index and leaves nothing behind") {
    // Same keys K1..K10, in the same order: K2 renamed longer, K5 closed, K6 reopened.
    WriteEntries(
        db,
        {nameless, Entry("PHARMACIE ROUX ET FILLES"), bakery, Entry("GRANDE PHARMACIE DU CENTRE DE LA VILLE"),
         Entry("PHARMACIE BLANC", "closed"), Entry("PHARMACIE ROUX"), Entry("PHARMACIE ABEL"),
         Entry("PHARMA CLUB", "active", "association"), father_and_son, Entry("Pharmacie Abel")});
    CHECK(Names(db, Search("pharm")) ==
          std::vector<std::string>{"PHARMA CLUB", "PHARMACIE ABEL", "Pharmacie Abel", "PHARMACIE ROUX",
                                   "PHARMACIE ROUX ET FILLES", "GRANDE PHARMACIE DU CENTRE DE LA VILLE",
                                   "BOULANGERIE", "ROUX PÈRE ET FILS", "-"});
    CHECK(Names(db, Search("blanc", true)) == std::vector<std::string>{"PHARMACIE BLANC"});
    CHECK(Names(db, Search("blanc")).empty());
    // One row per entry, whether the word is in the name (marked with U+E000) or elsewhere.
    CHECK(test::Count(db,
                      "SELECT count(*) FROM directory_search WHERE directory_search MATCH "
                      "'\"pharm\"* OR \"' || char(57344) || 'pharm\"*'") == 10);
    db.sql().exec("INSERT INTO directory_search (directory_search) VALUES ('integrity-check')");
  }
}

TEST_CASE("the migration to version 7 rebuilds the search index of an older database") {
  test::TempDir dir;
  const std::string path = dir.File("v6.db");
  {
    SQLite::Database sql(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const Migration& migration : Migrations())
      if (migration.version <= 6) sql.exec(migration.sql);
    sql.exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
    sql.exec("PRAGMA user_version = 6");
    sql.exec(
        "INSERT INTO directory_entry (kind, registry_key, source, name, sort_key, activity_label, status, "
        "content_hash, created_at, updated_at) VALUES "
        "('merchant', 'K1', 'csv', 'ÉPICERIE DU CŒUR', 'epicerie du coeur', 'Épicerie', 'active', 1, '', "
        "''), "
        "('merchant', 'K2', 'csv', 'CAFÉ', 'cafe', 'Débit de boissons', 'closed', 2, '', '')");
    // The index as version 6 kept it: rowid = id.
    sql.exec(
        "INSERT INTO directory_search (rowid, text) VALUES (1, 'epicerie coeur epicerie'), (2, 'cafe "
        "debit')");
  }
  Db db = Db::Open(path, OpenMode::kExisting);
  CHECK(test::Count(db, "PRAGMA user_version") == LatestSchemaVersion());
  CHECK(Names(db, Search("coeur")) == std::vector<std::string>{"ÉPICERIE DU CŒUR"});
  CHECK(Names(db, Search("cafe")).empty());
  CHECK(Names(db, Search("boissons", true)) == std::vector<std::string>{"CAFÉ"});
}
