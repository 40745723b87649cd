"""voisinage import merchants|associations|history: SIRENE, RNA and town-hall files into the directory."""

import csv
import gzip
import hashlib
import io
import json
import os
import pty
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import harness
import registries
from registries import (FIXTURES, GEO_COLUMNS, RNA_HEADER, SAMPLES, SIRENE_HEADER, SIRENE_HEADER_2019, bad_siret,
                        csv_text, rna_row, siret, sirene_row)

SIRENE_2025 = FIXTURES / "sirene_2025_thomery.csv"
SIRENE_2019 = FIXTURES / "sirene_2019_thomery.csv"
RNA_CP1252 = FIXTURES / "rna_waldec_2025_thomery_cp1252.csv"
RNA_BOM = FIXTURES / "rna_waldec_2025_thomery_bom.csv"
MAIRIE = FIXTURES / "mairie_commerces.csv"
MAIRIE_MAPPING = FIXTURES / "mairie_commerces.yaml"
MAIRIE_COLUMNS = FIXTURES / "mairie_commerces_colonnes.yaml"
SIRENE_SAMPLE = SAMPLES / "sirene_geo_2024_sample.csv"
RNA_WALDEC_SAMPLE = SAMPLES / "rna_waldec_2015_sample.csv"
RNA_IMPORT_SAMPLE = SAMPLES / "rna_import_2015_sample.csv"

# The establishments of sirene_2025_thomery.csv (and of the 2019 file for the first and the last two).
BAKERY = siret("4123456780001")      # sign BOULANGERIE DU CHASSELAS, usual name SARL DUPAIN
BUTCHER = siret("4234567890001")     # usual name only: BOUCHERIE MARTIN
UNNAMED = siret("4345678900001")     # no name at all
EPICERIE = siret("4456789010001")    # ÉPICERIE FINE LES TREILLES
OLD_CAFE = siret("4567890120001")    # closed (F)
MASKED = siret("4678901230001")      # partially diffused (P), fields "[ND]"
BOOKSHOP = siret("4789012340001")    # Fontainebleau 77186
PHARMACY = siret("4890123450001")    # Champagne-sur-Seine 77079
GARAGE = siret("4901234560001")      # 45.20A, not a local shop
RESTAURANT = siret("5012345670001")  # RESTAURANT LE CŒUR DE THOMERY, 56.10A
TABAC = siret("5123456780001")       # "CAFÉ, TABAC DE LA PLACE"
FLORIST = siret("5234567890001")     # FLEURS DE BY, the same in 2019 and 2025
HARDWARE = siret("5345678900001")    # only in the 2019 file
THOMERY_ACTIVE = {BAKERY, BUTCHER, UNNAMED, EPICERIE, MASKED, GARAGE, RESTAURANT, TABAC, FLORIST}

COLUMNS = ["kind", "registry_key", "source", "name", "short_name", "activity_code", "activity_label", "description",
           "address", "postcode", "city", "insee", "lat", "lon", "website", "phone", "email", "created_on",
           "declared_on", "dissolved_on", "status", "neighbourhood"]
COUNTS = ["read", "inserted", "updated", "unchanged", "closed", "skipped", "rejected"]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fold(text):
    """Lower case without accents, as the search index keeps text."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def sirene_lines(*rows, header=SIRENE_HEADER):
    """The CSV lines of SIRENE rows, without the header."""
    return csv_text(header, rows).split("\n", 1)[1]


class ImportTestCase(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.init_thomery)

    def run_import(self, kind, path, *args, code=0):
        """Runs `import KIND PATH ARGS --json`, asserts the exit code, returns the summary (0 and 3) or the result."""
        result = self.run_cli("import", kind, path, *args, "--json")
        self.assertEqual(result.code, code, result)
        if code == 0:
            self.assertEqual(result.err, "", result)  # no progress bar, no warning when stderr is not a terminal
        return result.json() if code in (0, 3) else result

    def merchants(self, path, *args, code=0):
        return self.run_import("merchants", path, *args, code=code)

    def associations(self, path, *args, code=0):
        return self.run_import("associations", path, *args, code=code)

    def assertCounts(self, summary, **expected):
        full = dict.fromkeys(COUNTS, 0)
        full.update(expected)
        self.assertEqual({k: summary[k] for k in COUNTS}, full, summary)

    def entry(self, key):
        rows = self.query(f"SELECT {', '.join('e.' + c for c in COLUMNS[:-1])}, n.slug FROM directory_entry e "
                          "LEFT JOIN neighbourhood n ON n.id = e.neighbourhood_id WHERE e.registry_key = ?", key)
        self.assertEqual(len(rows), 1, f"{key}: {rows}")
        return dict(zip(COLUMNS, rows[0]))

    def keys(self, where="1"):
        return {r[0] for r in self.query(f"SELECT registry_key FROM directory_entry WHERE {where}")}

    def runs(self):
        return self.query("SELECT file_name, format, encoding, delimiter, read, inserted, updated, unchanged, closed, "
                          "skipped, rejected, duplicates FROM import_run ORDER BY id")

    def all_cells(self):
        """Every text value of the directory, and every word of its search index."""
        cells = []
        for table in ("directory_entry", "import_run"):
            for row in self.query(f"SELECT * FROM {table}"):
                cells.extend(str(v) for v in row if v is not None)
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as conn:
            conn.execute("CREATE VIRTUAL TABLE temp.search_words USING fts5vocab(main, directory_search, row)")
            words = [word for (word,) in conn.execute("SELECT term FROM temp.search_words")]
        return cells + words


class SireneTest(ImportTestCase):
    def test_real_geolocated_sample(self):
        summary = self.merchants(SIRENE_SAMPLE, "--commune", "all")
        self.assertCounts(summary, read=40, inserted=24, skipped=16)  # 16 closed establishments are not listed
        self.assertEqual((summary["format"], summary["encoding"], summary["delimiter"], summary["sha256"]),
                         ("sirene", "utf-8", ",", sha256(SIRENE_SAMPLE)))
        self.assertEqual(summary["unnamed"], 21)
        doras = self.entry("01585179300917")
        self.assertEqual((doras["name"], doras["address"], doras["postcode"], doras["insee"], doras["status"]),
                         ("DORAS MENEO", "28 AVENUE DE MARBOZ", "01000", "01053", "active"))
        self.assertEqual((doras["activity_code"], doras["lat"], doras["lon"]), ("46.73A", 46.220629, 5.228282))
        self.assertTrue(doras["activity_label"].startswith("Commerce de gros"), doras)
        self.assertEqual(self.entry("01585179300743")["name"], "DORAS")  # denominationUsuelle, no sign
        self.assertEqual(self.entry("02548040100899")["name"], "BARRAULT")
        self.assertEqual(self.keys("status != 'active'"), set())
        self.assertEqual(self.query("SELECT count(*) FROM directory_entry WHERE kind = 'merchant' AND "
                                    "source = 'sirene'"), [(24,)])

    def test_real_sample_with_closed_establishments(self):
        summary = self.merchants(SIRENE_SAMPLE, "--commune", "all", "--include-closed")
        self.assertCounts(summary, read=40, inserted=40)
        self.assertEqual(len(self.keys("status = 'closed'")), 16)
        # An establishment still coded in the 1993 nomenclature keeps its code, without a wrong NAF 2 label.
        old = self.entry("01555018900094")
        self.assertEqual((old["activity_code"], old["activity_label"], old["status"]), ("45.2P", "", "closed"))

    def test_commune_defaults_to_the_towns(self):
        summary = self.merchants(SIRENE_SAMPLE)
        self.assertCounts(summary, read=40, skipped=40)
        self.assertEqual(summary["filters"], "communes=77463")
        self.assertEqual(self.keys(), set())
        summary = self.merchants(SIRENE_2025)
        self.assertCounts(summary, read=12, inserted=9, skipped=3)
        self.assertEqual(self.keys(), THOMERY_ACTIVE)
        self.assertEqual({r[0] for r in self.query("SELECT DISTINCT insee FROM directory_entry")}, {"77463"})

    def test_repeated_commune(self):
        summary = self.merchants(SIRENE_SAMPLE, "--commune", "01053", "--commune", "01004")
        with open(SIRENE_SAMPLE, encoding="utf-8", newline="") as f:
            expected = {r["siret"] for r in csv.DictReader(f) if r["etatAdministratifEtablissement"] == "A" and
                        r["codeCommuneEtablissement"] in ("01053", "01004")}
        self.assertEqual(len(expected), 9)
        self.assertCounts(summary, read=40, inserted=9, skipped=31)
        self.assertEqual(self.keys(), expected)
        summary = self.merchants(SIRENE_2025, "--commune", "77463", "--commune", "77186")
        self.assertCounts(summary, read=12, inserted=10, skipped=2)
        self.assertEqual(self.keys("insee LIKE '77%'"), THOMERY_ACTIVE | {BOOKSHOP})

    def test_commune_all(self):
        summary = self.merchants(SIRENE_2025, "--commune", "all")
        self.assertCounts(summary, read=12, inserted=11, skipped=1)
        self.assertEqual(summary["filters"], "communes=all")
        self.assertEqual(self.keys(), THOMERY_ACTIVE | {BOOKSHOP, PHARMACY})

    def test_todays_54_column_header(self):
        self.merchants(SIRENE_2025)
        bakery = self.entry(BAKERY)
        self.assertEqual({k: bakery[k] for k in ("kind", "source", "name", "activity_code", "activity_label", "address",
                                                 "postcode", "city", "insee", "created_on", "status")},
                         {"kind": "merchant", "source": "sirene", "name": "BOULANGERIE DU CHASSELAS",
                          "activity_code": "10.71C", "activity_label": "Boulangerie et boulangerie-pâtisserie",
                          "address": "12 BIS RUE DE LA REPUBLIQUE", "postcode": "77810", "city": "THOMERY",
                          "insee": "77463", "created_on": "1998-04-01", "status": "active"})
        self.assertEqual(self.entry(UNNAMED)["address"], "8 IMPASSE DES VIGNES")
        tabac = self.entry(TABAC)  # quoted fields: a comma in the sign, doubled quotes in the complement
        self.assertEqual((tabac["name"], tabac["address"]),
                         ("CAFÉ, TABAC DE LA PLACE", '6 PLACE GREFFULHE, BATIMENT "LES ARCADES"'))
        self.assertEqual(self.entry(RESTAURANT)["name"], "RESTAURANT LE CŒUR DE THOMERY")

    def test_older_48_column_header_then_todays(self):
        self.assertEqual(SIRENE_2019.read_text(encoding="utf-8").split("\n", 1)[0].split(","), SIRENE_HEADER_2019)
        self.assertEqual(SIRENE_2025.read_text(encoding="utf-8").split("\n", 1)[0].split(","), SIRENE_HEADER)
        summary = self.merchants(SIRENE_2019)
        self.assertCounts(summary, read=4, inserted=3, skipped=1)
        bakery = self.entry(BAKERY)
        self.assertEqual((bakery["name"], bakery["address"], bakery["activity_code"], bakery["insee"]),
                         ("BOULANGERIE DUPAIN", "10 RUE DE LA REPUBLIQUE", "10.71C", "77463"))
        self.assertEqual(self.entry(HARDWARE)["activity_code"], "47.52A")
        summary = self.merchants(SIRENE_2025)  # columns moved: found by name
        self.assertCounts(summary, read=12, inserted=7, updated=1, unchanged=1, skipped=3)
        bakery = self.entry(BAKERY)
        self.assertEqual((bakery["name"], bakery["address"]),
                         ("BOULANGERIE DU CHASSELAS", "12 BIS RUE DE LA REPUBLIQUE"))
        self.assertEqual(self.entry(HARDWARE)["status"], "active")  # absent from the later file: kept

    def test_name_from_sign_else_usual_name_else_none(self):
        result = self.ok("import", "merchants", SIRENE_2025)
        self.assertIn("2 entries kept without a public name", result.out)
        self.assertEqual(self.entry(BAKERY)["name"], "BOULANGERIE DU CHASSELAS")
        self.assertEqual(self.entry(BUTCHER)["name"], "BOUCHERIE MARTIN")
        self.assertEqual(self.entry(UNNAMED)["name"], "")
        shown = self.ok("directory", "show", UNNAMED).out
        self.assertIn("no public name", shown)
        self.assertIn("8 IMPASSE DES VIGNES", shown)

    def test_closed_establishment_skipped_unless_include_closed(self):
        self.merchants(SIRENE_2025)
        self.assertNotIn(OLD_CAFE, self.keys())
        summary = self.merchants(SIRENE_2025, "--include-closed")
        self.assertCounts(summary, read=12, inserted=1, unchanged=9, skipped=2)
        self.assertEqual(self.entry(OLD_CAFE)["status"], "closed")

    def test_active_entry_reimported_closed(self):
        self.merchants(SIRENE_2025)
        text = SIRENE_2025.read_text(encoding="utf-8")
        self.assertEqual(text.count(",A,BOULANGERIE DU CHASSELAS,"), 1)
        path = self.write("sirene_later.csv",
                          text.replace(",A,BOULANGERIE DU CHASSELAS,", ",F,BOULANGERIE DU CHASSELAS,"))
        summary = self.merchants(path)  # no --include-closed needed: the directory lists it
        self.assertCounts(summary, read=12, closed=1, unchanged=8, skipped=3)
        self.assertEqual(self.entry(BAKERY)["status"], "closed")
        self.assertEqual(self.runs()[-1][8], 1)
        self.assertNotIn("BOULANGERIE DU CHASSELAS", self.ok("directory", "list").out)

    def test_naf_code_and_label(self):
        self.merchants(SIRENE_2025)
        butcher = self.entry(BUTCHER)
        self.assertEqual((butcher["activity_code"], butcher["activity_label"]),
                         ("47.22Z",
                          "Commerce de détail de viandes et de produits à base de viande en magasin spécialisé"))
        self.assertEqual(self.entry(RESTAURANT)["activity_label"], "Restauration traditionnelle")

    def test_naf_local(self):
        summary = self.merchants(SIRENE_2025, "--naf", "local")
        # The garage (45.20A) and the letting agency (68.20B) are not local shops; the closed café is not listed.
        self.assertCounts(summary, read=12, inserted=7, skipped=5)
        self.assertEqual(self.keys(), THOMERY_ACTIVE - {GARAGE, UNNAMED})
        self.assertIn("naf=local", summary["filters"])

    def test_naf_codes(self):
        summary = self.merchants(SIRENE_2025, "--naf", "47.22Z,56.10A")
        self.assertCounts(summary, read=12, inserted=2, skipped=10)
        self.assertEqual(self.keys(), {BUTCHER, RESTAURANT})

    def test_partially_diffused_rows_lose_the_masked_fields(self):
        self.merchants(SIRENE_2025)
        masked = self.entry(MASKED)
        self.assertEqual({k: masked[k] for k in ("name", "address", "lat", "lon", "postcode", "insee", "activity_code",
                                                 "status")},
                         {"name": "", "address": "", "lat": None, "lon": None, "postcode": "77810", "insee": "77463",
                          "activity_code": "96.02A", "status": "active"})
        self.assertFalse([c for c in self.all_cells() if "[ND]" in c or "[nd]" in c])

    def test_neighbourhood_from_coordinates_then_postcode(self):
        self.ok("neighbourhood", "create", "gare", "--name", "Quartier de la gare", "--postcode", "77811")
        centre = registries.centroid(harness.EXAMPLES / "thomery" / "centre-bourg.geojson")
        by = registries.centroid(harness.EXAMPLES / "thomery" / "by.geojson")
        header = SIRENE_HEADER + GEO_COLUMNS

        def at(point):
            return {"longitude": f"{point[0]:.6f}", "latitude": f"{point[1]:.6f}", "geo_score": "0.97",
                    "geo_type": "housenumber"}

        rows = [
            sirene_row(header, siret=siret("7000000000001"), enseigne1Etablissement="PRIMEUR DU BOURG", **at(centre)),
            sirene_row(header, siret=siret("7000000000002"), enseigne1Etablissement="ATELIER DE BY", **at(by)),
            sirene_row(header, siret=siret("7000000000003"), enseigne1Etablissement="SANS POSITION"),
            sirene_row(header, siret=siret("7000000000004"), enseigne1Etablissement="PRES DE LA GARE",
                       codePostalEtablissement="77811"),
            sirene_row(header, siret=siret("7000000000005"), statutDiffusionEtablissement="P",
                       enseigne1Etablissement="[ND]", **at(centre)),
        ]
        path = self.write("sirene_geo.csv", csv_text(header, rows))
        summary = self.merchants(path)
        self.assertCounts(summary, read=5, inserted=5)
        self.assertEqual(summary["located"], 3)
        primeur = self.entry(siret("7000000000001"))
        self.assertEqual((primeur["neighbourhood"], round(primeur["lat"], 6), round(primeur["lon"], 6)),
                         ("centre-bourg", round(centre[1], 6), round(centre[0], 6)))
        self.assertEqual(self.entry(siret("7000000000002"))["neighbourhood"], "by")
        # 77810 is shared by five neighbourhoods: no guess. 77811 belongs to one.
        self.assertIsNone(self.entry(siret("7000000000003"))["neighbourhood"])
        self.assertEqual(self.entry(siret("7000000000004"))["neighbourhood"], "gare")
        masked = self.entry(siret("7000000000005"))
        self.assertEqual((masked["lat"], masked["lon"], masked["neighbourhood"]), (None, None, None))


class RnaTest(ImportTestCase):
    def test_real_waldec_2015_sample(self):
        summary = self.associations(RNA_WALDEC_SAMPLE, "--commune", "all")
        self.assertCounts(summary, read=3, inserted=2, skipped=1)  # BLACK OWL is dissolved
        self.assertEqual((summary["format"], summary["delimiter"], summary["sha256"]),
                         ("rna", ";", sha256(RNA_WALDEC_SAMPLE)))
        ariadne = self.entry("W012000002")
        self.assertEqual({k: ariadne[k] for k in ("kind", "source", "name", "short_name", "activity_code", "created_on",
                                                  "declared_on", "dissolved_on", "address", "postcode", "city", "insee",
                                                  "status")},
                         {"kind": "association", "source": "rna", "name": "ARIADNE", "short_name": "ARIADNE",
                          "activity_code": "006070", "created_on": "1983-10-10", "declared_on": "2004-03-11",
                          "dissolved_on": "", "address": "31 RUE Paul Lafargue", "postcode": "69100",
                          "city": "Villeurbanne", "insee": "69266", "status": "active"})
        self.assertTrue(ariadne["description"].startswith("Favoriser le d"), ariadne)
        summary = self.associations(RNA_WALDEC_SAMPLE, "--commune", "all", "--include-dissolved")
        self.assertCounts(summary, read=3, inserted=1, unchanged=2)
        owl = self.entry("W632007046")
        self.assertEqual((owl["status"], owl["dissolved_on"], owl["address"]),
                         ("dissolved", "2015-01-20", "35 RUE Pascal"))

    def test_real_import_sample(self):
        summary = self.associations(RNA_IMPORT_SAMPLE, "--commune", "all")
        self.assertCounts(summary, read=3, inserted=3)
        self.assertEqual(summary["format"], "rna-import")
        self.assertEqual(self.keys(), {"W751085568", "W751184848", "W751188854"})  # from `observation`
        indigo = self.entry("W751085568")
        self.assertEqual((indigo["name"], indigo["address"], indigo["postcode"], indigo["city"], indigo["insee"],
                          indigo["created_on"], indigo["declared_on"]),
                         ("INDIGO", "10 BD Brune", "75014", "PARIS", "75114", "1988-04-15", ""))
        self.assertEqual(self.entry("W751184848")["declared_on"], "2008-02-23")
        self.assertEqual(self.entry("W751188854")["activity_code"], "007000,005000")

    def test_todays_39_columns_in_windows_1252(self):
        summary = self.associations(RNA_CP1252)
        self.assertEqual((summary["encoding"], summary["encoding_detected"], summary["delimiter"]),
                         ("windows-1252", True, ";"))
        # Dissolved, deleted and the Fontainebleau association are left out.
        self.assertCounts(summary, read=5, inserted=2, skipped=3)
        comite = self.entry("W772001234")
        self.assertEqual((comite["name"], comite["short_name"], comite["activity_code"], comite["created_on"],
                          comite["declared_on"], comite["insee"]),
                         ("COMITÉ DES FÊTES DE THOMERY", "COMITÉ DES FÊTES", "015000,011000", "1976-05-12",
                          "2021-09-01", "77463"))
        self.assertRegex(comite["address"], r"^1 (PL|PLACE) Greffulhe$")
        self.assertEqual(comite["description"],
                         "organiser les fêtes de la commune, la brocante et le marché de Noël ; "
                         "œuvrer pour l’animation du village")
        coeur = self.entry("W772001237")
        self.assertEqual((coeur["name"], coeur["short_name"], coeur["declared_on"], coeur["website"]),
                         ("ASSOCIATION CŒUR DE THOMERY", "CŒUR", "", "https://coeur-thomery.example.fr"))
        self.assertEqual(coeur["description"], "défendre le patrimoine du bourg – murs à pêches et chasselas")

    def test_utf8_with_bom(self):
        summary = self.associations(RNA_BOM)
        self.assertEqual((summary["encoding"], summary["encoding_detected"]), ("utf-8 with BOM", True))
        self.assertCounts(summary, read=2, inserted=2)
        self.assertEqual(self.keys(), {"W772001301", "W772001302"})  # the BOM is not part of the column 'id'
        self.assertEqual(self.entry("W772001302")["name"], "SOCIÉTÉ D’HISTOIRE DE THOMERY")
        self.assertEqual(self.entry("W772001301")["description"], "faire connaître l’œuvre de Rosa Bonheur à By")

    def test_dissolved_and_deleted_with_include_dissolved(self):
        summary = self.associations(RNA_CP1252, "--include-dissolved")
        self.assertCounts(summary, read=5, inserted=4, skipped=1)
        self.assertEqual((self.entry("W772001235")["status"], self.entry("W772001235")["dissolved_on"]),
                         ("dissolved", "2019-06-30"))
        self.assertEqual(self.entry("W772001236")["status"], "deleted")

    def test_active_association_reimported_dissolved(self):
        self.associations(RNA_CP1252)
        row = rna_row(id="W772001234", titre="COMITÉ DES FÊTES DE THOMERY", position="D", date_disso="2025-01-31")
        path = self.write("rna_later.csv", csv_text(RNA_HEADER, [row], ";"))
        summary = self.associations(path)
        self.assertCounts(summary, read=1, closed=1)
        comite = self.entry("W772001234")
        self.assertEqual((comite["status"], comite["dissolved_on"]), ("dissolved", "2025-01-31"))

    def test_personal_data_is_never_imported(self):
        self.associations(RNA_CP1252, "--include-dissolved")
        self.associations(RNA_WALDEC_SAMPLE, "--commune", "all", "--include-dissolved")
        self.associations(RNA_IMPORT_SAMPLE, "--commune", "all")
        self.assertEqual(len(self.keys()), 10)
        personal = ["Véritéprivée", "Glycines secrètes", "Secrets gardés", "BP 4242", "FONTAINEBLEAU CEDEX 42",
                    "Trésorier discret",  # adrg_* of our fixture
                    "39 rue Courteline", "FONTAINE SUR SAONE", "0600000000"]  # adrg_* and telephone of the sample
        stored = registries.database_text(self.dir, self.db)
        cells = self.all_cells()
        for value in personal:
            with self.subTest(value=value):
                for form in (value, fold(value)):
                    self.assertNotIn(form, stored)
                    self.assertFalse([c for c in cells if form.lower() in fold(c)], form)
        # dir_civilite: PF in our fixture, PP and PM in the samples.
        self.assertFalse([c for c in cells if c in ("PF", "PP", "PM")])


class CityHallCsvTest(ImportTestCase):
    def mairie(self, path, mapping, *args, code=0):
        return self.merchants(path, "--format", "csv", "--mapping", mapping, *args, code=code)

    def assertMairieColumns(self):
        """What the plain mapping reads out of the town hall's rows, whatever their delimiter and line endings."""
        self.assertEqual(self.keys(), {"TH-001", "TH-002", "TH-003"})
        first = self.entry("TH-001")
        self.assertEqual((first["name"], first["address"], first["description"], first["source"]),
                         ("  Boulangerie du Chasselas ", "12 rue de la République\nBâtiment B",
                          'Pains, viennoiseries ; "fait maison"', "csv"))
        self.assertEqual((self.entry("TH-002")["name"], self.entry("TH-002")["description"]),
                         ("Crèmerie des Murs", "Fromages affinés"))
        self.assertEqual(self.entry("TH-003")["description"], "Clés minute")
        self.assertFalse([c for c in self.all_cells() if "\r" in c])

    def rows_of_mairie(self):
        with open(MAIRIE, encoding="utf-8", newline="") as f:
            return list(csv.reader(f, delimiter=";"))

    def test_semicolon_crlf_and_quoted_fields(self):
        summary = self.mairie(MAIRIE, MAIRIE_COLUMNS)
        self.assertEqual((summary["format"], summary["delimiter"], summary["delimiter_detected"], summary["encoding"]),
                         ("csv", ";", True, "utf-8"))
        self.assertCounts(summary, read=3, inserted=3)
        self.assertMairieColumns()

    def test_tab_and_dollar_delimiters_detected(self):
        rows = self.rows_of_mairie()
        for delimiter, name in (("\t", "tab"), ("$", "$")):
            with self.subTest(delimiter=name):
                out = io.StringIO()
                csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
                path = self.write(f"commerces-{name}.csv", out.getvalue())
                summary = self.mairie(path, MAIRIE_COLUMNS)
                self.assertEqual((summary["delimiter"], summary["delimiter_detected"]), (name, True))
                self.assertEqual(summary["read"], 3)
                self.assertEqual(summary["rejected"], 0)
                self.assertMairieColumns()

    def test_lf_line_endings(self):
        out = io.StringIO()
        csv.writer(out, delimiter=";", lineterminator="\n").writerows(self.rows_of_mairie())
        summary = self.mairie(self.write("commerces-lf.csv", out.getvalue()), MAIRIE_COLUMNS)
        self.assertCounts(summary, read=3, inserted=3)
        self.assertMairieColumns()

    def test_delimiter_override(self):
        # More commas than semicolons in the header: detection picks ',', the clerk knows better.
        text = ("Identifiant;Enseigne (nom, sigle, marque);Adresse (numéro, rue, complément)\n"
                "TH-101;Le Fournil, pains et gâteaux;2 rue Sadi Carnot\n")
        path = self.write("virgules.csv", text)
        mapping = self.write("virgules.yaml", "fields:\n  registry_key: Identifiant\n"
                                              "  name: Enseigne (nom, sigle, marque)\n"
                                              "  address: Adresse (numéro, rue, complément)\n")
        self.fails("import", "merchants", path, "--format", "csv", "--mapping", mapping,
                   message="column 'Identifiant' is not in the file's header")
        summary = self.mairie(path, mapping, "--delimiter", ";")
        self.assertEqual((summary["delimiter"], summary["delimiter_detected"]), (";", False))
        self.assertEqual(self.entry("TH-101")["name"], "Le Fournil, pains et gâteaux")

    def test_encoding_override(self):
        # Accents only after the first megabyte: detection reads the beginning and takes the file for UTF-8.
        lines = ["Identifiant;Enseigne;Adresse"]
        lines += [f"TH-{i:05d};Commerce numero {i};{i} rue de la Republique, zone artisanale des Sablons, Thomery"
                  for i in range(15000)]
        lines.append("TH-99999;Boulangerie Frédéric;1 place Greffulhe")
        path = self.dir / "tard.csv"
        path.write_bytes("\r\n".join(lines).encode("cp1252") + b"\r\n")
        self.assertGreater(path.stat().st_size, 1 << 20)
        mapping = self.write("tard.yaml",
                             "fields:\n  registry_key: Identifiant\n  name: Enseigne\n  address: Adresse\n")
        summary = self.mairie(path, mapping, code=3)
        self.assertEqual((summary["encoding"], summary["rejected"], summary["inserted"]), ("utf-8", 1, 15000))
        summary = self.mairie(path, mapping, "--encoding", "windows-1252")
        self.assertEqual((summary["encoding"], summary["encoding_detected"]), ("windows-1252", False))
        self.assertCounts(summary, read=15001, inserted=1, unchanged=15000)
        self.assertEqual(self.entry("TH-99999")["name"], "Boulangerie Frédéric")

    def test_transforms_and_constants(self):
        summary = self.mairie(MAIRIE, MAIRIE_MAPPING)
        self.assertCounts(summary, read=3, inserted=3)
        first = self.entry("TH-001")
        self.assertEqual({k: first[k] for k in ("name", "address", "phone", "created_on", "city", "insee",
                                                "activity_code", "activity_label", "description")},
                         {"name": "BOULANGERIE DU CHASSELAS", "address": "12 rue de la République\nBâtiment B",
                          "phone": "+33164708090", "created_on": "2019-03-15", "city": "Thomery", "insee": "77463",
                          "activity_code": "10.71C", "activity_label": "Boulangerie et boulangerie-pâtisserie",
                          "description": 'Pains, viennoiseries ; "fait maison"'})
        second, third = self.entry("TH-002"), self.entry("TH-003")
        self.assertEqual((second["name"], second["phone"], second["created_on"]),
                         ("CRÈMERIE DES MURS", "+33160701122", "2021-07-01"))
        self.assertEqual((third["name"], third["phone"], third["created_on"], third["city"]),
                         ("CORDONNERIE DUVAL", "+33612345678", "2020-02-02", "Thomery"))

    def test_transforms_reject_bad_values(self):
        text = MAIRIE.read_text(encoding="utf-8").replace("06.12.34.56.78", "12").replace("01/07/2021", "31/02/2021")
        path = self.write("commerces-fautes.csv", text)
        summary = self.mairie(path, MAIRIE_MAPPING, "--rejects", "rejets.csv", code=3)
        self.assertCounts(summary, read=3, inserted=1, rejected=2)
        with open(self.dir / "rejets.csv", encoding="utf-8", newline="") as f:
            rejects = list(csv.DictReader(f))
        self.assertEqual([r["line"] for r in rejects], ["4", "5"])  # TH-001 spans lines 2 and 3
        self.assertIn("31/02/2021", rejects[0]["reason"])
        self.assertIn("'Ouverture'", rejects[0]["reason"])
        self.assertIn("'12'", rejects[1]["reason"])
        self.assertIn("'Téléphone'", rejects[1]["reason"])
        self.assertEqual(self.keys(), {"TH-001"})

    def test_mapping_names_a_missing_column(self):
        mapping = self.write("commerces.yaml", "# colonnes de la mairie\nfields:\n  registry_key: Identifiant\n"
                                               "  name: Enseigne\n  postcode: Code postale\n")
        before = self.snapshot()
        result = self.fails("import", "merchants", MAIRIE, "--format", "csv", "--mapping", mapping,
                            message="mapping '")
        self.assertIn("commerces.yaml", result.err)
        self.assertIn("line 5", result.err)
        self.assertIn("'Code postale'", result.err)
        self.assertIn("did you mean 'Code postal'?", result.err)
        self.assertUnchanged(before)
        self.assertEqual(self.runs(), [])

    def test_mapping_names_an_unknown_field(self):
        mapping = self.write("commerces.yaml", "fields:\n  registry_key: Identifiant\n  nmae: Enseigne\n")
        before = self.snapshot()
        result = self.fails("import", "merchants", MAIRIE, "--format", "csv", "--mapping", mapping,
                            message="unknown field 'nmae' (did you mean 'name'?)")
        self.assertIn("line 3", result.err)
        self.assertUnchanged(before)

    def test_mapping_errors(self):
        cases = [
            ("fields:\n  name: Enseigne\n", "registry_key"),
            ("champs:\n  registry_key: Identifiant\n", "unknown key 'champs'"),
            ("fields:\n  registry_key: Identifiant\n  name: {column: Enseigne, transform: [capitalise]}\n",
             "unknown transformation 'capitalise'"),
            ("fields: [Identifiant\n", "YAML"),
        ]
        before = self.snapshot()
        for text, message in cases:
            with self.subTest(message=message):
                mapping = self.write("m.yaml", text)
                self.fails("import", "merchants", MAIRIE, "--format", "csv", "--mapping", mapping, message=message)
        self.fails("import", "merchants", MAIRIE, "--format", "csv", message="needs a mapping file")
        self.fails("import", "merchants", MAIRIE, "--format", "csv", "--mapping", "absent.yaml",
                   message="'absent.yaml'")
        self.assertUnchanged(before)


class UpsertTest(ImportTestCase):
    def directory(self):
        return self.query("SELECT * FROM directory_entry ORDER BY id"), self.query(
            "SELECT * FROM directory_search_data ORDER BY id")

    def test_reimport_changes_nothing(self):
        first = self.merchants(SIRENE_2025)
        before = self.directory()
        second = self.merchants(SIRENE_2025)
        self.assertCounts(second, read=12, unchanged=9, skipped=3)
        self.assertEqual(before, self.directory())
        self.assertEqual(first["sha256"], second["sha256"])
        self.assertEqual([r[4:] for r in self.runs()], [(12, 9, 0, 0, 0, 3, 0, 0), (12, 0, 0, 9, 0, 3, 0, 0)])

    def test_one_modified_row_is_one_update(self):
        self.merchants(SIRENE_2025)
        before = dict((r[0], r) for r in self.query("SELECT registry_key, updated_at, last_import_id FROM "
                                                    "directory_entry"))
        text = SIRENE_2025.read_text(encoding="utf-8").replace("ÉPICERIE FINE LES TREILLES", "ÉPICERIE DES MURS")
        summary = self.merchants(self.write("sirene_later.csv", text))
        self.assertCounts(summary, read=12, updated=1, unchanged=8, skipped=3)
        self.assertEqual(self.entry(EPICERIE)["name"], "ÉPICERIE DES MURS")
        changed = {r[0] for r in self.query("SELECT registry_key, last_import_id FROM directory_entry")
                   if r[1] != before[r[0]][2]}
        self.assertEqual(changed, {EPICERIE})
        # The search index follows the new name and forgets the old one.
        found = self.ok("directory", "search", "murs", "--json").json()
        self.assertIn("ÉPICERIE DES MURS", [e["name"] for e in found])
        gone = self.ok("directory", "search", "fine", "--json").json()  # a word only the old name had
        self.assertNotIn(EPICERIE, [e["registry_key"] for e in gone])
        self.assertNotIn("les treilles", text)

    def test_entry_missing_from_a_later_file_is_kept(self):
        self.merchants(SIRENE_2025)
        lines = SIRENE_2025.read_text(encoding="utf-8").splitlines(keepends=True)
        path = self.write("sirene_later.csv", "".join(l for l in lines if BUTCHER not in l))
        summary = self.merchants(path)
        self.assertCounts(summary, read=11, unchanged=8, skipped=3)
        self.assertEqual(self.entry(BUTCHER)["status"], "active")
        self.assertEqual(self.keys(), THOMERY_ACTIVE)

    def test_same_key_twice_last_wins(self):
        key = siret("6100000000001")
        text = csv_text(SIRENE_HEADER, [sirene_row(siret=key, enseigne1Etablissement="EPICERIE DU MATIN"),
                                        sirene_row(siret=siret("6100000000002"), enseigne1Etablissement="AUTRE"),
                                        sirene_row(siret=key, enseigne1Etablissement="EPICERIE DU SOIR")])
        path = self.write("doublons.csv", text)
        summary = self.merchants(path)
        self.assertEqual((summary["read"], summary["duplicates"], summary["rejected"]), (3, 1, 0))
        self.assertEqual(self.entry(key)["name"], "EPICERIE DU SOIR")
        self.assertEqual(len(self.keys()), 2)
        self.assertEqual(self.runs()[-1][-1], 1)
        result = self.ok("import", "merchants", path)
        self.assertIn("1 key(s) appear more than once", result.out)


class RunModesTest(ImportTestCase):
    def bad_file(self):
        """Lines 1-12: good rows, a blank line (3), a record of another commune over lines 4-5, a bad SIRET (a record
        over lines 6-7), too few fields (9), too many (10), and a truncated last line (12)."""
        good = [sirene_row(siret=siret(f"620000000000{i}"), enseigne1Etablissement=f"COMMERCE {i}") for i in range(5)]
        good[1].update(complementAdresseEtablissement="COUR\nDU FOND", codeCommuneEtablissement="77186")
        bad = sirene_row(siret=bad_siret("6200000000009"), enseigne1Etablissement="MAUVAIS SIRET",
                         complementAdresseEtablissement="ESCALIER\nB")
        extra = sirene_lines(good[3]).rstrip("\n") + ",en trop\n"
        truncated = sirene_lines(sirene_row(siret=siret("6200000000008"), enseigne1Etablissement="COUPE"))[:80]
        text = (",".join(SIRENE_HEADER) + "\n" + sirene_lines(good[0]) + "\n" + sirene_lines(good[1], bad, good[2]) +
                "1,2,3\n" + extra + sirene_lines(good[4]) + truncated)
        self.assertEqual(text.count("\n"), 11)
        return self.write("sirene_fautes.csv", text), sirene_lines(bad).rstrip("\n"), truncated

    def test_dry_run_writes_nothing(self):
        self.merchants(SIRENE_2019)
        before = self.snapshot()
        summary = self.merchants(SIRENE_2025, "--dry-run")
        self.assertTrue(summary["dry_run"])
        self.assertCounts(summary, read=12, inserted=7, updated=1, unchanged=1, skipped=3)
        self.assertNotIn("run_id", summary)
        self.assertUnchanged(before)
        result = self.ok("import", "merchants", SIRENE_2025, "--dry-run")
        self.assertIn("nothing was written", result.out)
        self.assertIn("inserted 7", result.out)
        self.assertUnchanged(before)

    def test_strict_writes_nothing_when_a_row_is_rejected(self):
        text = SIRENE_2025.read_text(encoding="utf-8") + sirene_lines(sirene_row(siret=bad_siret("6300000000001")))
        path = self.write("sirene_strict.csv", text)
        before = self.snapshot()
        result = self.fails("import", "merchants", path, "--strict", "--rejects", "rejets.csv", message="--strict")
        self.assertIn("1 row(s) rejected", result.err)
        self.assertUnchanged(before)
        with open(self.dir / "rejets.csv", encoding="utf-8", newline="") as f:
            self.assertEqual([r["line"] for r in csv.DictReader(f)], ["14"])  # the report says why

    def test_rejected_rows_go_to_the_report_and_good_rows_are_committed(self):
        path, bad_raw, truncated = self.bad_file()
        summary = self.merchants(path, "--rejects", "rejets.csv", code=3)
        self.assertCounts(summary, read=8, inserted=3, skipped=1, rejected=4)
        self.assertEqual(len(self.keys()), 3)
        self.assertEqual(self.runs()[-1][10], 4)
        report = (self.dir / "rejets.csv").read_text(encoding="utf-8")
        self.assertEqual(report.splitlines()[0], "line,reason,raw")
        rejects = list(csv.DictReader(io.StringIO(report, newline="")))
        self.assertEqual([r["line"] for r in rejects], ["6", "9", "10", "12"])
        self.assertIn("SIRET", rejects[0]["reason"])
        self.assertIn(bad_siret("6200000000009"), rejects[0]["reason"])
        self.assertEqual(rejects[0]["raw"], bad_raw)
        self.assertEqual(rejects[1]["raw"], "1,2,3")
        self.assertIn("3 fields", rejects[1]["reason"])
        self.assertIn("55 fields", rejects[2]["reason"])
        self.assertIn("fields", rejects[3]["reason"])
        self.assertEqual(rejects[3]["raw"], truncated)

    def test_rejected_rows_on_stderr_without_a_report(self):
        path, _, _ = self.bad_file()
        result = self.run_cli("import", "merchants", path)
        self.assertEqual(result.code, 3, result)
        self.assertIn("rejected 4", result.out)
        lines = [l for l in result.err.splitlines() if "rejected line" in l]
        self.assertEqual([l.split(":")[1].strip() for l in lines],
                         ["rejected line 6", "rejected line 9", "rejected line 10", "rejected line 12"])
        self.assertIn("SIRET", lines[0])

    def test_many_rejected_rows_on_stderr_are_cut_short(self):
        rows = [sirene_row(siret=bad_siret(f"64000000000{i:02d}")) for i in range(25)]
        result = self.run_cli("import", "merchants", self.write("fautes.csv", csv_text(SIRENE_HEADER, rows)))
        self.assertEqual(result.code, 3, result)
        self.assertEqual(result.err.count("rejected line"), 20)
        self.assertIn("5 more", result.err)
        self.assertIn("--rejects", result.err)

    def test_json_summary(self):
        summary = self.merchants(SIRENE_2025)
        for key in ("file", "kind", "format", "encoding", "delimiter", "sha256", "filters", "dry_run", "read",
                    "inserted", "updated", "unchanged", "closed", "skipped", "rejected", "duplicates", "duration_ms",
                    "run_id", "unnamed", "located"):
            self.assertIn(key, summary)
        self.assertEqual((summary["file"], summary["kind"], summary["sha256"], summary["dry_run"], summary["run_id"]),
                         (str(SIRENE_2025), "merchant", sha256(SIRENE_2025), False, 1))
        self.assertIsInstance(summary["duration_ms"], int)

    def test_text_summary(self):
        result = self.ok("import", "merchants", SIRENE_2025)
        self.assertIn("read 12  inserted 9  updated 0  unchanged 0  closed 0  skipped 3  rejected 0", result.out)
        self.assertIn("sirene", result.out)
        self.assertEqual(self.ok("--quiet", "import", "merchants", SIRENE_2025).out, "")

    def test_gzip_and_standard_input(self):
        compressed = gzip.compress(SIRENE_2025.read_bytes())
        path = self.dir / "StockEtablissement_utf8.csv.gz"
        path.write_bytes(compressed)
        summary = self.merchants(path)
        self.assertCounts(summary, read=12, inserted=9, skipped=3)
        self.assertEqual(summary["sha256"], hashlib.sha256(compressed).hexdigest())
        self.assertEqual(self.entry(TABAC)["name"], "CAFÉ, TABAC DE LA PLACE")
        result = self.run_cli("import", "merchants", "-", "--json", input=SIRENE_2025.read_text(encoding="utf-8"))
        self.assertEqual(result.code, 0, result)
        self.assertEqual(result.json()["file"], "(standard input)")
        self.assertCounts(result.json(), read=12, unchanged=9, skipped=3)
        completed = subprocess.run([harness.BINARY, "--db", str(self.db), "import", "merchants", "-", "--json"],
                                   input=compressed, capture_output=True, cwd=self.dir, timeout=60)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertCounts(json.loads(completed.stdout), read=12, unchanged=9, skipped=3)
        self.assertEqual([r[0] for r in self.runs()], [str(path), "(standard input)", "(standard input)"])


class BadInputTest(ImportTestCase):
    def test_wrong_header_for_the_format(self):
        self.merchants(SIRENE_2025)
        before = self.snapshot()
        legal_units = self.write("StockUniteLegale_utf8.csv",
                                 "siren,statutDiffusionUniteLegale,denominationUniteLegale,"
                                 "categorieJuridiqueUniteLegale\n552100554,O,EXEMPLE,5710\n")
        cases = [
            ("merchants", RNA_CP1252, ["missing column(s)", "etatAdministratifEtablissement", "an RNA"]),
            ("merchants", RNA_WALDEC_SAMPLE, ["missing column(s)", "etatAdministratifEtablissement", "an RNA"]),
            ("associations", SIRENE_2025, ["missing column(s) id, titre", "a SIRENE establishment file"]),
            ("merchants", legal_units, ["missing column(s) siret", "a SIRENE legal units file"]),
        ]
        for kind, path, messages in cases:
            with self.subTest(kind=kind, file=Path(path).name):
                result = self.fails("import", kind, path)
                for message in messages:
                    self.assertIn(message, result.err)
                self.assertIn("looks like", result.err)
        self.assertUnchanged(before)

    def test_invalid_siret(self):
        bad = bad_siret("6500000000001")
        text = csv_text(SIRENE_HEADER, [sirene_row(siret=siret("6500000000002")), sirene_row(siret=bad),
                                        sirene_row(siret="1234")])
        result = self.run_cli("import", "merchants", self.write("siret.csv", text))
        self.assertEqual(result.code, 3, result)
        self.assertIn(f"rejected line 3: invalid SIRET '{bad}' in column 'siret'", result.err)
        self.assertIn("rejected line 4: invalid SIRET '1234'", result.err)
        self.assertEqual(self.keys(), {siret("6500000000002")})

    def test_truncated_last_line(self):
        text = SIRENE_2025.read_text(encoding="utf-8")
        cut = text[:text.rindex(FLORIST) + 30]  # the florist's line (13) stops in the middle of its fields
        summary = self.merchants(self.write("coupe.csv", cut), "--rejects", "rejets.csv", code=3)
        self.assertCounts(summary, read=12, inserted=8, skipped=3, rejected=1)
        with open(self.dir / "rejets.csv", encoding="utf-8", newline="") as f:
            (reject,) = list(csv.DictReader(f))
        self.assertEqual(reject["line"], "13")
        self.assertIn("truncated", reject["reason"])

    def test_unterminated_quote(self):
        rows = [sirene_row(siret=siret("6600000000001")), sirene_row(siret=siret("6600000000002"))]
        text = csv_text(SIRENE_HEADER, rows).rstrip("\n")
        line = sirene_lines(sirene_row(siret=siret("6600000000003"), enseigne1Etablissement="AU COIN DU PONT"))
        text += "\n" + line.replace("AU COIN DU PONT", '"AU COIN, DU PONT')  # the quote never closes
        result = self.run_cli("import", "merchants", self.write("guillemet.csv", text))
        self.assertEqual(result.code, 3, result)
        self.assertIn("rejected line 4: unterminated quote", result.err)
        self.assertEqual(len(self.keys()), 2)

    def test_invalid_utf8_in_a_file_declared_utf8(self):
        summary = self.associations(RNA_CP1252, "--encoding", "utf-8", "--rejects", "rejets.csv", code=3)
        self.assertEqual((summary["encoding"], summary["encoding_detected"]), ("utf-8", False))
        self.assertCounts(summary, read=5, rejected=4, skipped=1)
        # The raw rows are copied as they are in the file: here, Windows-1252 bytes.
        with open(self.dir / "rejets.csv", encoding="utf-8", errors="replace", newline="") as f:
            rejects = list(csv.DictReader(f))
        self.assertEqual([r["line"] for r in rejects], ["2", "3", "4", "5"])
        for reject in rejects:
            self.assertEqual(reject["reason"], "invalid UTF-8 in column 'titre'")
        self.assertEqual(self.keys(), set())

    def test_too_many_and_too_few_fields(self):
        good = sirene_row(siret=siret("6700000000001"))
        too_many = sirene_lines(sirene_row(siret=siret("6700000000002"))).rstrip("\n") + ",1,2\n"
        too_few = sirene_lines(sirene_row(siret=siret("6700000000003"))).rstrip("\n").rsplit(",", 1)[0] + "\n"
        text = csv_text(SIRENE_HEADER, [good]) + too_many + too_few
        result = self.run_cli("import", "merchants", self.write("champs.csv", text))
        self.assertEqual(result.code, 3, result)
        self.assertIn("rejected line 3: the row has 56 fields, the header has 54", result.err)
        self.assertIn("rejected line 4: the row has 53 fields, the header has 54", result.err)
        self.assertEqual(self.keys(), {siret("6700000000001")})

    def test_empty_and_binary_files(self):
        before = self.snapshot()
        self.write("vide.csv", "")
        self.fails("import", "merchants", "vide.csv", message="'vide.csv' is empty")
        self.fails("import", "associations", "-", input="", message="empty")
        (self.dir / "photo.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
        self.fails("import", "merchants", "photo.csv", message="binary")
        (self.dir / "export.csv").write_bytes("siret,nom\n".encode("utf-16"))
        self.fails("import", "merchants", "export.csv", message="UTF-16")
        self.assertUnchanged(before)
        self.assertEqual(self.runs(), [])

    def test_truncated_gzip(self):
        rows = [sirene_row(siret=siret(f"68000000{i:05d}"), enseigne1Etablissement=f"COMMERCE {i}")
                for i in range(3000)]
        compressed = gzip.compress(csv_text(SIRENE_HEADER, rows).encode())
        path = self.dir / "sirene.csv.gz"
        path.write_bytes(compressed[:len(compressed) * 4 // 5])
        before = self.snapshot()
        self.fails("import", "merchants", path, message="truncated")
        self.assertUnchanged(before)

    def test_bad_options(self):
        before = self.snapshot()
        cases = [
            (["--commune", "7746"], "invalid INSEE code '7746'"),
            (["--naf", "47.2"], "invalid NAF code '47.2'"),
            (["--encoding", "klingon"], "unknown encoding 'klingon'"),
            (["--delimiter", "x"], "unsupported delimiter 'x'"),
            (["--mapping", str(MAIRIE_COLUMNS)], "--mapping only applies to --format csv"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.fails("import", "merchants", SIRENE_2025, *args, message=message)
        self.fails("import", "merchants", "absent.csv", message="cannot read 'absent.csv'")
        self.fails("import", "merchants", self.dir, message="directory")
        self.assertUnchanged(before)

    def test_database_without_a_town(self):
        self.db = self.dir / "sans-commune.db"
        self.ok("init")
        before = self.snapshot()
        self.fails("import", "merchants", SIRENE_2025, message="no town")
        self.assertUnchanged(before)
        self.assertCounts(self.merchants(SIRENE_2025, "--commune", "all"), read=12, inserted=11, skipped=1)

    def test_huge_line_in_bounded_memory(self):
        # A fresh interpreter, so that the peak RSS of its children is the import's own.
        script = self.write("huge_line.py", HUGE_LINE_SCRIPT)
        completed = subprocess.run([sys.executable, str(script), harness.BINARY, str(self.db),
                                    ",".join(SIRENE_HEADER), "300"], capture_output=True, text=True, cwd=self.dir,
                                   timeout=120)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        report = json.loads(completed.stdout)
        self.assertFalse(report["broken_pipe"], "the import stopped reading its input")
        self.assertEqual(report["code"], 3, report)
        summary = json.loads((self.dir / "huge.out").read_text())
        self.assertCounts(summary, read=1, rejected=1)
        err = (self.dir / "huge.err").read_text()
        self.assertIn("rejected line 2", err)
        self.assertIn("longer than", err)
        if not os.environ.get("VOISINAGE_SANITIZED"):  # AddressSanitizer's shadow memory inflates it
            self.assertLess(report["maxrss_kib"], 100 * 1024, "peak memory of the import")


HUGE_LINE_SCRIPT = '''\
import json, resource, subprocess, sys
binary, db, header, megabytes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
broken_pipe = False
with open("huge.out", "wb") as out, open("huge.err", "wb") as err:
    child = subprocess.Popen([binary, "--db", db, "import", "merchants", "-", "--json"], stdin=subprocess.PIPE,
                             stdout=out, stderr=err)
    try:
        child.stdin.write(header.encode() + b"\\n")
        chunk = b"x" * (1 << 20)
        for _ in range(megabytes):  # no newline: one 300 MB record
            child.stdin.write(chunk)
        child.stdin.close()
    except BrokenPipeError:
        broken_pipe = True
    code = child.wait()
print(json.dumps({"code": code, "broken_pipe": broken_pipe,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
'''


class LargeFileTest(ImportTestCase):
    """An import long enough to interrupt and to show a progress bar (40,000 rows, about a second)."""

    @classmethod
    def setUpClass(cls):
        cls.large_dir = Path(tempfile.mkdtemp(prefix="voisinage-large-"))
        cls.large = cls.large_dir / "sirene_large.csv"
        template = sirene_row(enseigne1Etablissement="", numeroVoieEtablissement="1", typeVoieEtablissement="RUE",
                              libelleVoieEtablissement="DE LA REPUBLIQUE", activitePrincipaleEtablissement="47.22Z")
        with open(cls.large, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(SIRENE_HEADER)
            for i in range(40000):
                key = siret(f"9{i:012d}")
                template.update(siren=key[:9], nic=key[9:], siret=key, enseigne1Etablissement=f"COMMERCE {i}, THOMERY",
                                numeroVoieEtablissement=str(i % 300))
                writer.writerow([template[c] for c in SIRENE_HEADER])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.large_dir, ignore_errors=True)

    def interrupt(self, sig, *args):
        """Starts `import merchants ARGS`, signals it once it has read half of the file and waits for it.

        Reading half the file, not a fixed delay, decides when: the import takes about 0.4 s here and would
        finish before a fixed delay on a faster machine. Half of the rows are still to be written then."""
        child = subprocess.Popen([harness.BINARY, "--db", str(self.db), "import", "merchants", *map(str, args)],
                                 cwd=self.dir, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        size = self.large.stat().st_size
        if args[0] == "-":  # stream three quarters of the file, then keep the import waiting for the rest
            data = self.large.read_bytes()
            child.stdin.write(data[:size * 3 // 4])
            child.stdin.flush()
        counters = Path(f"/proc/{child.pid}/io")
        deadline = time.monotonic() + 30
        while child.poll() is None and time.monotonic() < deadline:
            try:
                if int(re.search(r"^rchar: (\d+)", counters.read_text(), re.M).group(1)) >= size // 2:
                    break
            except OSError:  # it has just ended
                break
            time.sleep(0.001)
        self.assertIsNone(child.poll(), "the import finished before it could be interrupted")
        child.send_signal(sig)
        try:
            child.stdin.close()
        except BrokenPipeError:
            pass
        self.assertNotEqual(child.wait(timeout=30), 0)

    def test_interrupted_import_leaves_the_database_as_before(self):
        self.merchants(SIRENE_2025)
        for sig in (signal.SIGINT, signal.SIGKILL):
            for source in (self.large, "-"):
                with self.subTest(signal=sig.name, source=str(source)):
                    before = self.snapshot()
                    self.interrupt(sig, source, "--commune", "all")
                    self.assertUnchanged(before)
                    self.ok("db", "check")
        self.assertEqual(len(self.runs()), 1)

    def test_progress_bar_on_a_terminal(self):
        master, slave = pty.openpty()
        child = subprocess.Popen([harness.BINARY, "--db", str(self.db), "import", "merchants", str(self.large)],
                                 cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        terminal = b""
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            terminal += data
        out = child.stdout.read().decode()
        child.stdout.close()
        os.close(master)
        self.assertEqual(child.wait(timeout=60), 0, terminal)
        self.assertIn(b"rows/s", terminal)
        self.assertIn(b"ETA", terminal)
        self.assertIn("inserted 40000", out)
        self.assertNotIn("rows/s", out)

    def test_no_progress_bar_on_a_pipe(self):
        result = self.run_cli("import", "merchants", self.large)
        self.assertEqual(result.code, 0, result)
        self.assertIn("inserted 40000", result.out)
        self.assertNotIn("rows/s", result.err)
        self.assertEqual(result.err, "")


class HistoryTest(ImportTestCase):
    def test_lists_every_run_newest_first(self):
        self.merchants(SIRENE_2025)
        self.associations(RNA_CP1252)
        self.merchants(SIRENE_2025, "--dry-run")  # not a run: nothing was written
        out = self.ok("import", "history").out
        lines = out.splitlines()
        self.assertEqual(len(lines), 3, out)
        self.assertIn(str(RNA_CP1252), lines[1])
        self.assertIn(sha256(RNA_CP1252)[:12], lines[1])
        self.assertIn("windows-1252", lines[1])
        self.assertIn(str(SIRENE_2025), lines[2])
        self.assertIn(sha256(SIRENE_2025)[:12], lines[2])
        runs = self.ok("import", "history", "--json").json()
        self.assertEqual([(r["kind"], r["file"], r["sha256"], r["format"], r["encoding"]) for r in runs],
                         [("association", str(RNA_CP1252), sha256(RNA_CP1252), "rna", "windows-1252"),
                          ("merchant", str(SIRENE_2025), sha256(SIRENE_2025), "sirene", "utf-8")])
        self.assertEqual({k: runs[1][k] for k in COUNTS + ["duplicates"]},
                         {"read": 12, "inserted": 9, "updated": 0, "unchanged": 0, "closed": 0, "skipped": 3,
                          "rejected": 0, "duplicates": 0})
        self.assertEqual((runs[0]["read"], runs[0]["inserted"], runs[0]["skipped"]), (5, 2, 3))
        for run in runs:
            self.assertRegex(run["started_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertIsInstance(run["duration_ms"], int)
        self.assertEqual(len(self.ok("import", "history", "--limit", "1", "--json").json()), 1)

    def test_empty_history(self):
        self.assertEqual(self.ok("import", "history", "--json").json(), [])


class MisuseTest(ImportTestCase):
    def test_misuse(self):
        before = self.snapshot()
        for args in (["import"], ["import", "merchants"], ["import", "shops", SIRENE_2025],
                     ["import", "merchants", SIRENE_2025, "--format", "rna"],
                     ["import", "associations", RNA_BOM, "--format", "sirene"],
                     ["import", "associations", RNA_BOM, "--naf", "local"],
                     ["import", "merchants", SIRENE_2025, "--include-dissolved"],
                     ["import", "merchants", SIRENE_2025, "--bogus"],
                     ["import", "merchants", SIRENE_2025, "--commune"],
                     ["import", "history", "--limit", "many"], ["import", "history", "extra"]):
            with self.subTest(args=args):
                self.fails(*args, code=2)
        self.assertUnchanged(before)

    def test_help(self):
        for command in (["import"], ["import", "merchants"], ["import", "associations"], ["import", "history"]):
            with self.subTest(command=command):
                result = self.ok(*command, "--help")
                self.assertIn("Usage: voisinage " + " ".join(command), result.out)


if __name__ == "__main__":
    harness.main()
