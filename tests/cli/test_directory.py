"""voisinage directory list|search|show: the town's shops and associations, searched ignoring case and accents."""

import harness
import registries
from registries import FIXTURES, GEO_COLUMNS, SIRENE_HEADER, csv_text, siret, sirene_row

BAKERY = siret("4123456780001")     # BOULANGERIE DU CHASSELAS, 10.71C
BUTCHER = siret("4234567890001")    # BOUCHERIE MARTIN, 47.22Z
OLD_CAFE = siret("4567890120001")   # ANCIEN CAFÉ DU PORT, closed
MASKED = siret("4678901230001")     # hairdresser without a public name
GREENGROCER = siret("7100000000001")  # PRIMEUR DU BOURG, in centre-bourg
BY_BAKERY = siret("7100000000002")    # BOULANGERIE DE BY, in by

ENTRY_KEYS = {"id", "kind", "registry_key", "source", "name", "short_name", "activity_code", "activity_label",
              "description", "address", "postcode", "city", "insee", "lat", "lon", "website", "phone", "email",
              "created_on", "declared_on", "dissolved_on", "status", "neighbourhood", "created_at", "updated_at"}

# Search text that means something to SQLite or FTS5, and must be read as plain words.
HOSTILE_QUERIES = ['boul*', 'boulangerie"', '"boulangerie', '(boulangerie)', 'boulangerie^', 'NEAR(boulangerie',
                   'NEAR(boulangerie chasselas, 2)', 'boulangerie OR', 'OR boulangerie', 'boulangerie AND chasselas',
                   'NOT boulangerie', 'boulangerie NOT chasselas', 'text:boulangerie', 'boulangerie -chasselas',
                   'boulangerie + chasselas', "boulangerie'; DROP TABLE directory_entry; --",
                   "' OR 1=1 --", "l'épicerie", 'épicerie "fine', '{boulangerie}', 'boulangerie\\', '%_%boul']


class DirectoryTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.populate)

    def populate(self):
        self.init_thomery()
        self.ok("import", "merchants", FIXTURES / "sirene_2025_thomery.csv", "--include-closed")
        self.ok("import", "associations", FIXTURES / "rna_waldec_2025_thomery_cp1252.csv", "--include-dissolved")
        header = SIRENE_HEADER + GEO_COLUMNS
        rows = []
        for key, name, naf, area in ((GREENGROCER, "PRIMEUR DU BOURG", "47.21Z", "centre-bourg"),
                                     (BY_BAKERY, "BOULANGERIE DE BY", "10.71C", "by")):
            lon, lat = registries.centroid(harness.EXAMPLES / "thomery" / f"{area}.geojson")
            rows.append(sirene_row(header, siret=key, enseigne1Etablissement=name, activitePrincipaleEtablissement=naf,
                                   longitude=f"{lon:.6f}", latitude=f"{lat:.6f}"))
        self.ok("import", "merchants", self.write("sirene_geo.csv", csv_text(header, rows)))

    def names(self, *args):
        """Names listed by `directory ARGS --json`, in order."""
        return [e["name"] for e in self.ok("directory", *args, "--json").json()]

    def id_of(self, key):
        return self.query("SELECT id FROM directory_entry WHERE registry_key = ?", key)[0][0]

    # search

    def test_search_ignores_case_and_accents(self):
        for query in ("epicerie", "EPICERIE", "Épicerie", "épicerie fine", "ePiCeRiE"):
            with self.subTest(query=query):
                self.assertEqual(self.names("search", query), ["ÉPICERIE FINE LES TREILLES"])
        self.assertEqual(self.names("search", "fetes"), ["COMITÉ DES FÊTES DE THOMERY"])
        self.assertIn("ÉPICERIE FINE LES TREILLES", self.ok("directory", "search", "epicerie").out)

    def test_search_reads_ligatures_as_two_letters(self):
        expected = {"RESTAURANT LE CŒUR DE THOMERY", "ASSOCIATION CŒUR DE THOMERY"}
        for query in ("coeur", "cœur", "CŒUR", "Coeur"):
            with self.subTest(query=query):
                self.assertEqual(set(self.names("search", query)), expected)
        self.assertEqual(self.names("search", "oeuvrer"), ["COMITÉ DES FÊTES DE THOMERY"])

    def test_search_matches_word_prefixes(self):
        self.assertEqual(set(self.names("search", "boul")), {"BOULANGERIE DU CHASSELAS", "BOULANGERIE DE BY"})
        self.assertEqual(self.names("search", "oulangerie"), [])  # the start of a word, not any substring
        self.assertEqual(self.names("search", "boulangerie by"), ["BOULANGERIE DE BY"])  # every word must match

    def test_search_finds_activity_address_and_object(self):
        self.assertEqual(self.names("search", "coiffure"), [None])  # the NAF label of the hairdresser without a name
        self.assertEqual(self.names("search", "vignes"), [None])    # 8 IMPASSE DES VIGNES
        self.assertEqual(self.names("search", "brocante"), ["COMITÉ DES FÊTES DE THOMERY"])

    def test_search_ranks_the_best_match_first(self):
        # "chasselas" in the bakery's short text, and once in the long object of an association.
        found = self.names("search", "chasselas")
        self.assertEqual(set(found), {"BOULANGERIE DU CHASSELAS", "ASSOCIATION CŒUR DE THOMERY"})
        self.assertEqual(found[0], "BOULANGERIE DU CHASSELAS")

    def test_search_only_punctuation(self):
        before = self.snapshot()
        for query in ("!!! ...", '"', "*", "'", "()", " ", "—", "« »", "…"):
            with self.subTest(query=query):
                self.fails("directory", "search", query, message="nothing to search")
        self.assertUnchanged(before)

    def test_search_syntax_is_read_as_words(self):
        before = self.snapshot()
        for query in HOSTILE_QUERIES:
            with self.subTest(query=query):
                result = self.ok("directory", "search", query, "--json")
                self.assertIsInstance(result.json(), list)
        for query in ('boul*', '"boulangerie', '(boulangerie)', 'boulangerie^', 'boulangerie"', '{boulangerie}',
                      "« boulangerie »"):
            with self.subTest(query=query):
                self.assertEqual(set(self.names("search", query)), {"BOULANGERIE DU CHASSELAS", "BOULANGERIE DE BY"})
        self.assertEqual(self.names("search", 'épicerie "fine'), ["ÉPICERIE FINE LES TREILLES"])
        self.assertUnchanged(before)

    # filters

    def test_kind(self):
        merchants = self.ok("directory", "search", "thomery", "--kind", "merchant", "--json").json()
        associations = self.ok("directory", "search", "thomery", "--kind", "association", "--json").json()
        self.assertEqual({e["kind"] for e in merchants}, {"merchant"})
        self.assertEqual({e["kind"] for e in associations}, {"association"})
        self.assertEqual({e["name"] for e in associations},
                         {"COMITÉ DES FÊTES DE THOMERY", "ASSOCIATION CŒUR DE THOMERY"})
        self.assertEqual(set(self.names("list", "--kind", "association", "--all")),
                         {"COMITÉ DES FÊTES DE THOMERY", "ASSOCIATION CŒUR DE THOMERY",
                          "AMICALE DES PÊCHEURS DE THOMERY", "CLUB SUPPRIMÉ DE THOMERY"})

    def test_neighbourhood(self):
        self.assertEqual(self.names("list", "--neighbourhood", "centre-bourg"), ["PRIMEUR DU BOURG"])
        self.assertEqual(self.names("list", "--neighbourhood", "by"), ["BOULANGERIE DE BY"])
        self.assertEqual(self.names("search", "boulangerie", "--neighbourhood", "by"), ["BOULANGERIE DE BY"])
        self.assertEqual(self.names("list", "--neighbourhood", "effondre"), [])
        self.fails("directory", "list", "--neighbourhood", "bx", message="unknown neighbourhood 'bx'")

    def test_naf(self):
        self.assertEqual(self.names("list", "--naf", "47.22Z"), ["BOUCHERIE MARTIN"])
        self.assertEqual(set(self.names("list", "--naf", "10.71C")), {"BOULANGERIE DU CHASSELAS", "BOULANGERIE DE BY"})
        self.assertEqual(self.names("search", "boulangerie", "--naf", "47.22Z"), [])

    def test_closed_and_dissolved_hidden_unless_all(self):
        listed = self.names("list")
        for hidden in ("ANCIEN CAFÉ DU PORT", "AMICALE DES PÊCHEURS DE THOMERY", "CLUB SUPPRIMÉ DE THOMERY"):
            self.assertNotIn(hidden, listed)
            self.assertIn(hidden, self.names("list", "--all"))
        self.assertEqual(self.names("search", "port"), ["GARAGE DU PORT"])
        self.assertEqual(set(self.names("search", "port", "--all")),
                         {"GARAGE DU PORT", "ANCIEN CAFÉ DU PORT", "AMICALE DES PÊCHEURS DE THOMERY"})
        statuses = {e["name"]: e["status"] for e in self.ok("directory", "list", "--all", "--json").json()}
        self.assertEqual((statuses["ANCIEN CAFÉ DU PORT"], statuses["AMICALE DES PÊCHEURS DE THOMERY"],
                          statuses["CLUB SUPPRIMÉ DE THOMERY"]), ("closed", "dissolved", "deleted"))
        self.assertEqual({e["status"] for e in self.ok("directory", "list", "--json").json()}, {"active"})

    def test_list_and_limit(self):
        listed = self.ok("directory", "list", "--json").json()
        self.assertEqual(len(listed), 13)  # 11 active shops (2 of them unnamed) and 2 active associations
        self.assertEqual(len(self.ok("directory", "list", "--limit", "3", "--json").json()), 3)
        out = self.ok("directory", "list").out
        self.assertIn("BOULANGERIE DU CHASSELAS", out)
        self.assertIn("(no public name)", out)

    # show

    def test_show_by_id_siret_and_rna_number(self):
        by_siret = self.ok("directory", "show", BAKERY).out
        for text in ("BOULANGERIE DU CHASSELAS", BAKERY, "10.71C", "Boulangerie et boulangerie-pâtisserie",
                     "12 BIS RUE DE LA REPUBLIQUE", "77810", "active"):
            self.assertIn(text, by_siret)
        self.assertEqual(self.ok("directory", "show", str(self.id_of(BAKERY))).out, by_siret)
        by_rna = self.ok("directory", "show", "W772001234").out
        for text in ("COMITÉ DES FÊTES DE THOMERY", "W772001234", "brocante", "1976-05-12"):
            self.assertIn(text, by_rna)
        centre = self.ok("directory", "show", GREENGROCER).out
        self.assertIn("centre-bourg", centre)
        self.assertIn("closed", self.ok("directory", "show", OLD_CAFE).out)

    def test_show_an_entry_without_a_public_name(self):
        out = self.ok("directory", "show", MASKED).out
        self.assertIn("no public name", out)
        self.assertIn("Coiffure", out)
        self.assertIsNone(self.ok("directory", "show", MASKED, "--json").json()["name"])

    def test_show_unknown_entry(self):
        before = self.snapshot()
        for ref in ("99999", "W000000000", siret("9990000000001"), "boulangerie"):
            with self.subTest(ref=ref):
                self.fails("directory", "show", ref, message=f"no directory entry '{ref}'")
        self.assertUnchanged(before)

    # output

    def test_json_shape(self):
        (entry,) = self.ok("directory", "search", "primeur", "--json").json()
        self.assertEqual(set(entry), ENTRY_KEYS)
        self.assertEqual((entry["kind"], entry["registry_key"], entry["source"], entry["name"], entry["activity_code"],
                          entry["neighbourhood"], entry["status"], entry["website"]),
                         ("merchant", GREENGROCER, "sirene", "PRIMEUR DU BOURG", "47.21Z", "centre-bourg", "active",
                          None))
        self.assertIsInstance(entry["lat"], float)
        self.assertIsInstance(entry["id"], int)
        shown = self.ok("directory", "show", "W772001237", "--json").json()
        self.assertEqual(set(shown), ENTRY_KEYS)
        self.assertEqual((shown["kind"], shown["name"], shown["short_name"], shown["website"], shown["declared_on"]),
                         ("association", "ASSOCIATION CŒUR DE THOMERY", "CŒUR", "https://coeur-thomery.example.fr",
                          None))
        self.assertEqual(self.ok("directory", "search", "introuvable", "--json").json(), [])

    def test_empty_directory(self):
        self.db = self.dir / "vide.db"
        self.init_thomery()
        self.assertEqual(self.ok("directory", "list", "--json").json(), [])
        self.assertEqual(self.ok("directory", "search", "boulangerie", "--json").json(), [])

    def test_misuse(self):
        before = self.snapshot()
        for args in ([], ["search"], ["show"], ["list", "--kind", "shop"], ["list", "--limit", "0"],
                     ["list", "--limit", "many"], ["list", "extra"], ["search", "boul", "--bogus"],
                     ["show", "1", "2"], ["find", "boul"]):
            with self.subTest(args=args):
                self.fails("directory", *args, code=2)
        self.assertUnchanged(before)

    def test_help(self):
        for command in (["directory"], ["directory", "list"], ["directory", "search"], ["directory", "show"]):
            with self.subTest(command=command):
                result = self.ok(*command, "--help")
                self.assertIn("Usage: voisinage " + " ".join(command), result.out)


if __name__ == "__main__":
    harness.main()
