"""voisinage init --from: town files that must be refused, each with a message naming the file and the line, exit
1, and nothing written (neither to an existing database nor by creating a new one)."""

import json

import harness
import towns

T = towns.MINIMAL_TOWN  # lines 1-4; what follows starts at line 5

BOW_TIE = ('{"type": "Polygon", "coordinates": [[[2.78, 48.40], [2.79, 48.41], [2.79, 48.40], [2.78, 48.41], '
           '[2.78, 48.40]]]}')
NOT_CLOSED = ('{"type": "Polygon", "coordinates": [[[2.78, 48.40], [2.79, 48.40], [2.79, 48.41], '
              '[2.78, 48.41]]]}')


def neighbourhood(extra):
    return T + "neighbourhoods:\n  - slug: ab\n    name: Quartier AB\n" + extra


def inline_polygon(ring):
    lines = "".join(f"          - [{lon}, {lat}]\n" for lon, lat in ring)
    return neighbourhood("    polygon:\n      type: Polygon\n      coordinates:\n        -\n" + lines)


# name -> (town file text, fragments the error message must contain)
BAD_TOWN_FILES = {
    "yaml syntax error": (
        T + "neighbourhoods:\n  - slug: ab\n     name: Centre\n",
        ["'bad.yaml': line 7, column 10", "YAML syntax error"]),
    "unclosed flow sequence": (
        T + "neighbourhoods:\n  - slug: ab\n    postcodes: [77810\n  - slug: cd\n    name: x\n",
        ["'bad.yaml': line 8, column", "YAML syntax error"]),
    "unknown top-level key": (
        T + "neighborhoods:\n  - slug: ab\n    name: A\n",
        ["'bad.yaml': line 5, column 1", "unknown key 'neighborhoods'", "did you mean 'neighbourhoods'?"]),
    "unknown key in a neighbourhood": (
        T + "neighbourhoods:\n  - slug: ab\n    nmae: A\n",
        ["'bad.yaml': line 7, column 5", "unknown key 'nmae'", "did you mean 'name'?"]),
    "unknown key in the town": (
        T + "  timezon: Europe/Paris\n",
        ["'bad.yaml': line 5", "unknown key 'timezon'", "did you mean 'timezone'?"]),
    "missing insee": (
        'town:\n  name: Thomery\n  postcodes: ["77810"]\n',
        ["'bad.yaml': line 2", "missing required key 'insee'"]),
    "missing neighbourhood name": (
        T + "neighbourhoods:\n  - slug: ab\n    postcodes: [\"77810\"]\n",
        ["'bad.yaml': line 6", "missing required key 'name'"]),
    "duplicate slug": (
        T + "neighbourhoods:\n  - slug: ab\n    name: A\n  - slug: ab\n    name: B\n",
        ["'bad.yaml': line 8", "duplicate slug 'ab'"]),
    "duplicate category code": (
        T + "grievance_categories:\n  - code: voirie\n    name: Voirie\n    sla_days: 30\n"
            "  - code: voirie\n    name: Routes\n    sla_days: 30\n",
        ["'bad.yaml': line 9", "duplicate code 'voirie'"]),
    "INSEE code with 4 digits": (
        T.replace('"77463"', '"7746"'), ["'bad.yaml': line 3", "invalid INSEE code '7746'"]),
    "INSEE code of a Corsica that does not exist": (
        T.replace('"77463"', '"2C123"'), ["'bad.yaml': line 3", "invalid INSEE code '2C123'"]),
    "town postcode with 4 digits": (
        T.replace('"77810"', '"7781"'), ["'bad.yaml': line 4", "invalid postcode '7781'"]),
    "neighbourhood postcode with letters": (
        neighbourhood('    postcodes: ["ABCDE"]\n'), ["'bad.yaml': line 8", "invalid postcode 'ABCDE'"]),
    "polygon not closed": (
        inline_polygon([(2.78, 48.40), (2.79, 48.40), (2.79, 48.41), (2.78, 48.41)]),
        ["'bad.yaml': line 9", "not closed"]),
    "self-intersecting polygon": (
        inline_polygon([(2.78, 48.40), (2.79, 48.41), (2.79, 48.40), (2.78, 48.41), (2.78, 48.40)]),
        ["'bad.yaml': line 9", "intersects itself"]),
    "polygon file not closed": (
        neighbourhood("    polygon: open.geojson\n"), ["'bad.yaml': line 8", "not closed"]),
    "polygon file self-intersecting": (
        neighbourhood("    polygon: bowtie.geojson\n"), ["'bad.yaml': line 8", "intersects itself"]),
    "polygon file that is JSON but not GeoJSON": (
        neighbourhood("    polygon: notgeo.geojson\n"), ["'bad.yaml': line 8", "not a GeoJSON object"]),
    "polygon file that is not JSON": (
        neighbourhood("    polygon: notjson.geojson\n"), ["'bad.yaml': line 8", "'notjson.geojson'", "not valid JSON"]),
    "polygon file missing": (
        neighbourhood("    polygon: nowhere.geojson\n"), ["'bad.yaml': line 8", "'nowhere.geojson'"]),
    "a point instead of a polygon": (
        neighbourhood("    polygon:\n      type: Point\n      coordinates: [2.78, 48.40]\n"),
        ["'bad.yaml': line 9", "'Point'"]),
    "unknown time zone": (
        T + "  timezone: Europe/Thomery\n", ["'bad.yaml': line 5", "unknown time zone 'Europe/Thomery'"]),
    "unknown role": (
        T + "staff:\n  - name: Sandrine Petit\n    email: s@mairie.example.fr\n    role: moderateur\n",
        ["'bad.yaml': line 8", "unknown role 'moderateur'", "did you mean 'moderator'?"]),
    "unknown word rule action": (
        T + "moderation:\n  word_rules:\n    - pattern: arnaque\n      action: blok\n",
        ["'bad.yaml': line 8", "unknown action 'blok'", "did you mean 'block'?"]),
    "sla of zero days": (
        T + "grievance_categories:\n  - code: voirie\n    name: Voirie\n    sla_days: 0\n",
        ["'bad.yaml': line 8", "sla_days"]),
    "duplicate staff e-mail": (
        T + "staff:\n  - name: A\n    email: a@mairie.example.fr\n    role: admin\n"
            "  - name: B\n    email: a@mairie.example.fr\n    role: townhall\n",
        ["'bad.yaml': line 9", "duplicate e-mail 'a@mairie.example.fr'"]),
    "invalid slug": (
        T + "neighbourhoods:\n  - slug: Centre Bourg\n    name: A\n", ["'bad.yaml': line 6", "invalid slug"]),
    "town that is a list": (
        "town: [Thomery, 77463]\n", ["'bad.yaml': line 1", "'town' must be a mapping"]),
}


class BadTownFileTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.write("open.geojson", NOT_CLOSED)
        self.write("bowtie.geojson", BOW_TIE)
        self.write("notgeo.geojson", json.dumps({"hello": "world"}))
        self.write("notjson.geojson", "this is not JSON\n")

    def assertRefused(self, text, fragments):
        self.write("bad.yaml", text)
        # On a database that does not exist yet: no file is left behind.
        new_db = self.dir / "new.db"
        result = self.run_cli("--db", new_db, "init", "--from", "bad.yaml", db=False)
        self.assertEqual(result.code, 1, result)
        self.assertTrue(result.err.startswith("voisinage: error: "), result)
        for fragment in fragments:
            self.assertIn(fragment, result.err)
        self.assertEqual([p.name for p in self.dir.iterdir() if p.name.startswith("new.db")], [])
        # On an existing database: nothing changes, dry run or not.
        before = self.snapshot()
        for extra in ([], ["--dry-run"]):
            again = self.fails("init", "--from", "bad.yaml", *extra)
            for fragment in fragments:
                self.assertIn(fragment, again.err)
        self.assertUnchanged(before)

    def test_each_bad_town_file_is_refused(self):
        self.init_thomery()
        for name, (text, fragments) in BAD_TOWN_FILES.items():
            with self.subTest(name):
                self.assertRefused(text, fragments)

    def test_unterminated_quote_is_a_syntax_error(self):
        # A forgotten closing quote must not silently swallow the rest of the file into one name.
        self.init_thomery()
        self.assertRefused(T + 'neighbourhoods:\n  - slug: ab\n    name: "Centre\n  - slug: cd\n    name: Gare\n',
                           ["'bad.yaml': line ", "YAML syntax error"])
        self.assertRefused(T + 'neighbourhoods:\n  - slug: ab\n    name: "Centre\n', ["'bad.yaml': line ", "YAML syntax error"])

    def test_empty_town_file(self):
        self.init_thomery()
        self.assertRefused("", ["'bad.yaml'", "empty"])

    def test_corsican_insee_code_is_accepted(self):
        path = self.write("ajaccio.yaml", 'town:\n  name: Ajaccio\n  insee: "2A004"\n  postcodes: ["20000"]\n')
        self.ok("init", "--from", path)
        self.assertEqual(self.query("SELECT name, insee FROM town"), [("Ajaccio", "2A004")])

    def test_polygon_in_a_geojson_feature_file_is_accepted(self):
        feature = {"type": "Feature", "properties": {},
                   "geometry": {"type": "Polygon", "coordinates": [[[2.78, 48.40], [2.79, 48.40], [2.79, 48.41],
                                                                      [2.78, 48.41], [2.78, 48.40]]]}}
        self.write("feature.geojson", json.dumps(feature))
        self.write("ok.yaml", neighbourhood("    polygon: feature.geojson\n"))
        self.ok("init", "--from", "ok.yaml")
        self.assertEqual(self.query("SELECT min_lon, max_lat FROM neighbourhood WHERE slug = 'ab'"), [(2.78, 48.41)])


if __name__ == "__main__":
    harness.main()
