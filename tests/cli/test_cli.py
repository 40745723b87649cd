"""The program as a whole: --version, --help, usage errors and --quiet."""

import harness
import towns

COMMANDS = [
    ["init"], ["town"], ["town", "show"], ["town", "set"],
    ["neighbourhood"], ["neighbourhood", "create"], ["neighbourhood", "list"], ["neighbourhood", "show"],
    ["neighbourhood", "rename"], ["neighbourhood", "archive"], ["neighbourhood", "merge"], ["neighbourhood", "locate"],
    ["member"], ["member", "add"], ["member", "list"], ["member", "show"], ["member", "role"], ["member", "remove"],
    ["invite"], ["invite", "create"], ["invite", "list"], ["invite", "revoke"], ["invite", "redeem"],
    ["db"], ["db", "check"], ["db", "backup"], ["db", "migrate"],
]


class ProgramTest(harness.VoisinageTest):
    def test_version(self):
        result = self.ok("--version", db=False)
        self.assertRegex(result.out, r"^voisinage \d+\.\d+\.\d+\n$")

    def test_help_lists_every_group_and_global_option(self):
        result = self.ok("--help", db=False)
        for word in ("init", "town", "neighbourhood", "member", "invite", "db", "--db", "--quiet", "--busy-timeout",
                     "VOISINAGE_DB"):
            self.assertIn(word, result.out)

    def test_every_command_has_help(self):
        for command in COMMANDS:
            with self.subTest(command=command):
                result = self.ok(*command, "--help")
                self.assertIn("Usage: voisinage " + " ".join(command), result.out)
        self.assertEqual(list(self.dir.iterdir()), [])

    def test_no_command(self):
        self.fails(code=2, db=False)
        self.assertEqual(list(self.dir.iterdir()), [])

    def test_unknown_command_is_named(self):
        result = self.fails("frobnicate", code=2)
        self.assertIn("'frobnicate'", result.err)
        self.assertEqual(list(self.dir.iterdir()), [])

    def test_unknown_global_option(self):
        self.fails("--verbose", "db", "check", code=2, message="--verbose")

    def test_db_option_without_value(self):
        self.fails("--db", code=2, db=False)


class QuietTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.init_thomery)

    def test_quiet_silences_confirmations(self):
        for args in (["neighbourhood", "rename", "by", "By"], ["neighbourhood", "create", "gare", "--name", "Gare"],
                     ["neighbourhood", "archive", "gare"], ["member", "role", "1", "admin"],
                     ["member", "remove", "2"], ["db", "check"], ["db", "migrate"], ["db", "backup", "copy.db"]):
            with self.subTest(args=args):
                result = self.ok("--quiet", *args)
                self.assertEqual((result.out, result.err), ("", ""))
        self.assertEqual(self.query("SELECT name FROM neighbourhood WHERE slug = 'by'"), [("By",)])
        self.assertTrue((self.dir / "copy.db").exists())

    def test_quiet_keeps_the_data(self):
        self.assertIn("Thomery", self.ok("-q", "town", "show").out)
        self.assertIn("centre-bourg", self.ok("-q", "neighbourhood", "list").out)
        self.assertIn("Marie Lefèvre", self.ok("-q", "member", "list").out)
        self.assertEqual(self.ok("-q", "member", "add", "--name", "Lucie", "--json").json()["display_name"], "Lucie")
        codes = towns.codes_from_csv(self.ok("-q", "invite", "create", "--neighbourhood", "by", "--count", "2").out)
        self.assertEqual(len(codes), 2)
        lat, lon = towns.centroid(harness.EXAMPLES / "thomery" / "centre-bourg.geojson")
        self.assertEqual(self.ok("-q", "neighbourhood", "locate", "--point", f"{lat},{lon}").out.strip(),
                         "centre-bourg")

    def test_quiet_keeps_errors(self):
        self.fails("-q", "neighbourhood", "show", "centre-bourgg", message="did you mean 'centre-bourg'?")


if __name__ == "__main__":
    harness.main()
