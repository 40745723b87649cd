"""voisinage town show|set: the town's identity."""

import json

import harness


class TownShowTest(harness.VoisinageTest):
    def test_show_text(self):
        self.init_thomery()
        result = self.ok("town", "show")
        self.assertRegex(result.out, r"name\s+Thomery")
        self.assertRegex(result.out, r"insee\s+77463")
        self.assertRegex(result.out, r"postcodes\s+77810")
        self.assertRegex(result.out, r"timezone\s+Europe/Paris")

    def test_show_json(self):
        self.init_thomery()
        data = self.ok("town", "show", "--json").json()
        self.assertEqual(data["name"], "Thomery")
        self.assertEqual(data["insee"], "77463")
        self.assertEqual(data["postcodes"], ["77810"])
        self.assertEqual(data["timezone"], "Europe/Paris")
        self.assertEqual(data["auto_hide"], {"score": 12.0, "reporters": 3})

    def test_show_on_a_database_without_town(self):
        self.ok("init")
        before = self.snapshot()
        result = self.fails("town", "show", message="has no town yet")
        self.assertIn("init --from", result.err)
        self.assertUnchanged(before)

    def test_show_misuse(self):
        self.init_thomery()
        self.fails("town", "show", "--bogus", code=2, message="--bogus")
        self.fails("town", "show", "extra", code=2)
        self.fails("town", code=2)

    def test_help(self):
        self.assertIn("show", self.ok("town", "--help").out)
        self.assertIn("--json", self.ok("town", "show", "--help").out)
        result = self.ok("town", "set", "--help")
        for flag in ("--name", "--insee", "--postcode", "--timezone", "--url", "--auto-hide-score",
                     "--auto-hide-reporters", "--json"):
            self.assertIn(flag, result.out)
        self.assertFalse(self.db.exists())


class TownSetTest(harness.VoisinageTest):
    def test_set_creates_the_town_on_an_empty_database(self):
        self.ok("init")
        self.ok("town", "set", "--name", "Thomery", "--insee", "77463", "--postcode", "77810", "--postcode", "77811")
        self.assertEqual(self.query("SELECT name, insee, postcodes, timezone FROM town"),
                         [("Thomery", "77463", '["77810","77811"]', "Europe/Paris")])

    def test_creating_needs_name_insee_and_postcode(self):
        self.ok("init")
        before = self.snapshot()
        self.fails("town", "set", "--name", "Thomery", message="--insee")
        self.assertUnchanged(before)

    def test_set_changes_only_the_given_fields(self):
        self.init_thomery()
        data = self.ok("town", "set", "--url", "https://voisins.thomery.fr", "--timezone", "Europe/Brussels",
                       "--auto-hide-score", "10", "--auto-hide-reporters", "4", "--json").json()
        self.assertEqual(data["url"], "https://voisins.thomery.fr")
        self.assertEqual(data["timezone"], "Europe/Brussels")
        self.assertEqual(self.query("SELECT name, insee, url, timezone, auto_hide_score, auto_hide_reporters FROM town"),
                         [("Thomery", "77463", "https://voisins.thomery.fr", "Europe/Brussels", 10.0, 4)])
        self.assertRegex(self.ok("town", "show").out, r"url\s+https://voisins.thomery.fr")

    def test_postcodes_replace_the_list(self):
        self.init_thomery()
        self.ok("town", "set", "--postcode", "77811")
        self.assertEqual(json.loads(self.query("SELECT postcodes FROM town")[0][0]), ["77811"])

    def test_corsican_insee_code_is_accepted(self):
        self.init_thomery()
        self.ok("town", "set", "--insee", "2A004")
        self.assertEqual(self.query("SELECT insee FROM town"), [("2A004",)])

    def test_bad_values_change_nothing(self):
        self.init_thomery()
        before = self.snapshot()
        cases = [
            (["--insee", "7746"], "invalid INSEE code '7746'"),
            (["--insee", "2C123"], "invalid INSEE code '2C123'"),
            (["--postcode", "778"], "invalid postcode '778'"),
            (["--postcode", "77810", "--postcode", "7781A"], "invalid postcode '7781A'"),
            (["--timezone", "Europe/Thomery"], "unknown time zone 'Europe/Thomery'"),
            (["--auto-hide-score", "-3"], "auto-hide score"),
            (["--auto-hide-reporters", "0"], "auto-hide reporter"),
            (["--name", ""], "name"),
            # Valid fields given with an invalid one are not applied either.
            (["--name", "Fontainebleau", "--insee", "ABCDE"], "invalid INSEE code 'ABCDE'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.fails("town", "set", *args, message=message)
        self.assertUnchanged(before)

    def test_url_must_be_a_web_address(self):
        # The URL is printed on invitation sheets: a typo must not reach paper.
        self.init_thomery()
        before = self.snapshot()
        self.fails("town", "set", "--url", "not a url", message="'not a url'")
        self.fails("town", "set", "--url", "voisins.thomery.fr", message="'voisins.thomery.fr'")
        self.assertUnchanged(before)

    def test_set_without_town_database(self):
        self.fails("town", "set", "--name", "Thomery", message="no voisinage database")
        self.assertFalse(self.db.exists())

    def test_misuse(self):
        self.init_thomery()
        before = self.snapshot()
        for args in (["--bogus"], ["--name"], ["--auto-hide-reporters", "abc"], ["--auto-hide-score", "lots"],
                     ["Thomery"]):
            with self.subTest(args=args):
                self.fails("town", "set", *args, code=2)
        self.assertUnchanged(before)


if __name__ == "__main__":
    harness.main()
