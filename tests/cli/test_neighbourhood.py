"""voisinage neighbourhood create|list|show|rename|archive|merge|locate."""

import json

import harness
import towns

SQUARE = {"type": "Polygon",
          "coordinates": [[[2.70, 48.30], [2.71, 48.30], [2.71, 48.31], [2.70, 48.31], [2.70, 48.30]]]}
BOW_TIE = {"type": "Polygon",
           "coordinates": [[[2.70, 48.30], [2.71, 48.31], [2.71, 48.30], [2.70, 48.31], [2.70, 48.30]]]}
OPEN_RING = {"type": "Polygon", "coordinates": [[[2.70, 48.30], [2.71, 48.30], [2.71, 48.31], [2.70, 48.31]]]}


class NeighbourhoodTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.init_thomery)

    def slug_of_member(self, name):
        return self.query("SELECT n.slug FROM member m JOIN neighbourhood n ON n.id = m.neighbourhood_id "
                          "WHERE m.display_name = ?", name)

    # create

    def test_create_with_postcodes(self):
        result = self.ok("neighbourhood", "create", "la-gare", "--name", "Quartier de la gare",
                         "--postcode", "77810", "--postcode", "77811")
        self.assertIn("la-gare", result.out)
        self.assertEqual(self.query("SELECT name, polygon FROM neighbourhood WHERE slug = 'la-gare'"),
                         [("Quartier de la gare", None)])
        self.assertEqual(self.query("SELECT postcode FROM neighbourhood_postcode p JOIN neighbourhood n "
                                    "ON n.id = p.neighbourhood_id WHERE n.slug = 'la-gare' ORDER BY postcode"),
                         [("77810",), ("77811",)])

    def test_create_with_polygon_json(self):
        self.write("square.geojson", json.dumps(SQUARE))
        data = self.ok("neighbourhood", "create", "carre", "--name", "Le Carré", "--polygon", "square.geojson",
                       "--json").json()
        self.assertEqual(data["slug"], "carre")
        self.assertEqual(data["polygon"]["type"], "Polygon")
        self.assertEqual(self.query("SELECT min_lon, min_lat, max_lon, max_lat FROM neighbourhood WHERE slug='carre'"),
                         [(2.70, 48.30, 2.71, 48.31)])
        self.assertEqual(self.ok("neighbourhood", "locate", "--point", "48.305,2.705").out.strip(), "carre")

    def test_create_bad_input(self):
        self.write("bowtie.geojson", json.dumps(BOW_TIE))
        self.write("open.geojson", json.dumps(OPEN_RING))
        self.write("notgeo.geojson", json.dumps({"hello": "world"}))
        before = self.snapshot()
        cases = [
            (["by", "--name", "Autre By"], "neighbourhood 'by' already exists"),
            (["Centre Bourg", "--name", "X"], "invalid slug 'Centre Bourg'"),
            (["la-gare", "--name", "Gare", "--postcode", "7781"], "invalid postcode '7781'"),
            (["la-gare", "--name", ""], "name"),
            (["la-gare", "--name", "Gare", "--polygon", "bowtie.geojson"], "'bowtie.geojson'"),
            (["la-gare", "--name", "Gare", "--polygon", "open.geojson"], "not closed"),
            (["la-gare", "--name", "Gare", "--polygon", "notgeo.geojson"], "not a GeoJSON object"),
            (["la-gare", "--name", "Gare", "--polygon", "missing.geojson"], "'missing.geojson'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.fails("neighbourhood", "create", *args, message=message)
        self.fails("neighbourhood", "create", "la-gare", "--name", "Gare", "--polygon", "bowtie.geojson",
                   message="intersects itself")
        self.assertUnchanged(before)

    def test_slug_of_a_merged_neighbourhood_is_not_reused(self):
        self.ok("neighbourhood", "merge", "les-treilles", "effondre")
        before = self.snapshot()
        self.fails("neighbourhood", "create", "les-treilles", "--name", "Treilles", message="'les-treilles'")
        self.assertUnchanged(before)

    # list and show

    def test_list(self):
        result = self.ok("neighbourhood", "list")
        for slug in ("centre-bourg", "by", "bord-de-seine", "effondre", "les-treilles"):
            self.assertIn(slug, result.out)
        data = self.ok("neighbourhood", "list", "--json").json()
        self.assertEqual(sorted(n["slug"] for n in data),
                         ["bord-de-seine", "by", "centre-bourg", "effondre", "les-treilles"])
        by = next(n for n in data if n["slug"] == "by")
        self.assertEqual(by["name"], "By (hameau de Rosa Bonheur)")
        self.assertEqual(by["postcodes"], ["77810"])

    def test_show(self):
        result = self.ok("neighbourhood", "show", "centre-bourg")
        self.assertRegex(result.out, r"name\s+Centre-bourg")
        data = self.ok("neighbourhood", "show", "effondre", "--json").json()
        self.assertEqual((data["slug"], data["name"], data["polygon"]), ("effondre", "Effondré", None))

    def test_unknown_slug_suggests_the_closest(self):
        before = self.snapshot()
        commands = [["show", "centre-bourgg"], ["rename", "centre-bourgg", "X"], ["archive", "centre-bourgg"],
                    ["merge", "centre-bourgg", "by"], ["merge", "by", "centre-bourgg"]]
        for args in commands:
            with self.subTest(args=args):
                self.fails("neighbourhood", *args,
                           message="unknown neighbourhood 'centre-bourgg' (did you mean 'centre-bourg'?)")
        self.assertUnchanged(before)

    # rename and archive

    def test_rename(self):
        result = self.ok("neighbourhood", "rename", "by", "By-Thomery")
        self.assertIn("By-Thomery", result.out)
        self.assertEqual(self.query("SELECT name FROM neighbourhood WHERE slug = 'by'"), [("By-Thomery",)])
        self.assertEqual(self.query("SELECT count(*) FROM neighbourhood WHERE slug = 'by'"), [(1,)])

    def test_rename_to_an_empty_name(self):
        before = self.snapshot()
        self.fails("neighbourhood", "rename", "by", "", message="name")
        self.assertUnchanged(before)

    def test_archive(self):
        self.ok("member", "add", "--name", "Lucie", "--neighbourhood", "effondre")
        result = self.ok("neighbourhood", "archive", "effondre")
        self.assertIn("effondre", result.out)
        self.assertEqual(self.query("SELECT archived_at IS NOT NULL FROM neighbourhood WHERE slug = 'effondre'"), [(1,)])
        self.assertEqual(self.slug_of_member("Lucie"), [("effondre",)])
        self.assertNotIn("effondre", self.ok("neighbourhood", "list").out)
        self.assertRegex(self.ok("neighbourhood", "list", "--all").out, r"effondre.*archived")
        before = self.snapshot()
        self.fails("neighbourhood", "archive", "effondre", message="already archived")
        self.fails("member", "add", "--name", "Paul", "--neighbourhood", "effondre", message="is archived")
        self.fails("invite", "create", "--neighbourhood", "effondre", message="is archived")
        self.assertUnchanged(before)

    # merge

    def test_merge_moves_members_and_invitations_and_leaves_an_alias(self):
        self.ok("member", "add", "--name", "Lucie", "--neighbourhood", "les-treilles")
        codes = towns.codes_from_csv(self.ok("invite", "create", "--neighbourhood", "les-treilles",
                                             "--count", "2").out)
        result = self.ok("neighbourhood", "merge", "les-treilles", "effondre")
        self.assertIn("alias", result.out)
        self.assertEqual(self.slug_of_member("Lucie"), [("effondre",)])
        self.assertEqual(self.query("SELECT count(*) FROM invitation i JOIN neighbourhood n ON n.id = "
                                    "i.neighbourhood_id WHERE n.slug = 'effondre'"), [(2,)])
        # The old slug is an alias of the new one.
        self.assertEqual(self.ok("neighbourhood", "show", "les-treilles", "--json").json()["slug"], "effondre")
        self.assertIn("Effondré", self.ok("neighbourhood", "show", "les-treilles").out)
        self.ok("member", "add", "--name", "Paul", "--neighbourhood", "les-treilles")
        self.assertEqual(self.slug_of_member("Paul"), [("effondre",)])
        # Listed as merged with --all only.
        self.assertNotIn("les-treilles", self.ok("neighbourhood", "list").out)
        self.assertRegex(self.ok("neighbourhood", "list", "--all").out, r"les-treilles.*merged into effondre")
        listed = self.ok("neighbourhood", "list", "--all", "--json").json()
        self.assertEqual(next(n for n in listed if n["slug"] == "les-treilles")["merged_into"], "effondre")
        # A code printed for the old neighbourhood joins the new one.
        self.ok("invite", "redeem", codes[0], "--name", "Nadia")
        self.assertEqual(self.slug_of_member("Nadia"), [("effondre",)])

    def test_merge_json(self):
        self.ok("member", "add", "--name", "Lucie", "--neighbourhood", "les-treilles")
        data = self.ok("neighbourhood", "merge", "les-treilles", "effondre", "--json").json()
        self.assertEqual(data["from"]["merged_into"], "effondre")
        self.assertEqual(data["into"]["slug"], "effondre")
        self.assertEqual(data["moved"]["member"], 1)

    def test_merge_refusals(self):
        self.ok("neighbourhood", "merge", "les-treilles", "effondre")
        before = self.snapshot()
        self.fails("neighbourhood", "merge", "by", "by", message="cannot merge 'by' into itself")
        self.fails("neighbourhood", "merge", "les-treilles", "by", message="already merged")
        self.fails("neighbourhood", "merge", "les-treilles", "effondre", message="'les-treilles'")
        self.assertUnchanged(before)

    # locate

    def test_locate_a_point_inside_a_polygon(self):
        lat, lon = towns.centroid(harness.EXAMPLES / "thomery" / "centre-bourg.geojson")
        result = self.ok("neighbourhood", "locate", "--point", f"{lat:.6f},{lon:.6f}")
        self.assertEqual(result.out.strip(), "centre-bourg")
        data = self.ok("neighbourhood", "locate", "--point", f"{lat:.6f},{lon:.6f}", "--postcode", "77810",
                       "--json").json()
        self.assertEqual((data["found"], data["neighbourhood"], data["method"]), (True, "centre-bourg", "polygon"))
        lat, lon = towns.centroid(harness.EXAMPLES / "thomery" / "by.geojson")
        self.assertEqual(self.ok("neighbourhood", "locate", "--point", f"{lat},{lon}").out.strip(), "by")

    def test_locate_by_a_postcode_of_one_neighbourhood(self):
        self.ok("neighbourhood", "create", "hameau", "--name", "Hameau", "--postcode", "77811")
        data = self.ok("neighbourhood", "locate", "--postcode", "77811", "--json").json()
        self.assertEqual((data["neighbourhood"], data["method"]), ("hameau", "postcode"))

    def test_locate_ambiguous_far_point_with_a_shared_postcode(self):
        result = self.fails("neighbourhood", "locate", "--point", "45.0,5.0", "--postcode", "77810",
                            message="postcode '77810' belongs to several neighbourhoods")
        self.assertIn("effondre", result.err)
        self.assertIn("les-treilles", result.err)
        self.assertEqual(result.out, "")

    def test_locate_nowhere(self):
        self.fails("neighbourhood", "locate", "--point", "45.0,5.0", message="no neighbourhood contains")
        self.fails("neighbourhood", "locate", "--postcode", "99999", message="no neighbourhood contains")

    def test_locate_bad_point(self):
        self.fails("neighbourhood", "locate", "--point", "abc", message="invalid point 'abc'")
        self.fails("neighbourhood", "locate", "--point", "95,2", message="'95,2'")
        self.fails("neighbourhood", "locate", "--point", "48.4,200", message="'48.4,200'")

    def test_locate_needs_a_postcode_or_a_point(self):
        self.fails("neighbourhood", "locate", code=2, message="--postcode or --point")

    # misuse and help

    def test_misuse(self):
        before = self.snapshot()
        for args in (["create", "la-gare"], ["create", "--name", "Gare"], ["create", "la-gare", "--name"],
                     ["show"], ["rename", "by"], ["archive"], ["merge", "by"], ["list", "--bogus"],
                     ["locate", "--point"], ["frobnicate"], []):
            with self.subTest(args=args):
                self.fails("neighbourhood", *args, code=2)
        self.assertUnchanged(before)

    def test_help(self):
        for command in ("create", "list", "show", "rename", "archive", "merge", "locate"):
            with self.subTest(command):
                self.assertIn(f"neighbourhood {command}", self.ok("neighbourhood", command, "--help").out)
        self.assertIn("--polygon", self.ok("neighbourhood", "create", "--help").out)
        self.assertIn("--all", self.ok("neighbourhood", "list", "--help").out)


if __name__ == "__main__":
    harness.main()
