"""voisinage invite create|list|revoke|redeem: single-use, expiring, hashed, human-typable codes."""

import csv
import io
from datetime import datetime, timedelta, timezone

import harness
import towns


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


class InviteTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.init_thomery)

    def create(self, slug="by", count=1, *extra):
        return towns.codes_from_csv(self.ok("invite", "create", "--neighbourhood", slug, "--count", count,
                                            *extra).out)

    def invitation(self, invitation_id):
        return self.query("SELECT used_at IS NOT NULL, used_by, revoked_at IS NOT NULL FROM invitation WHERE id = ?",
                          invitation_id)[0]

    # create

    def test_csv_has_a_header_and_one_row_per_code(self):
        result = self.ok("invite", "create", "--neighbourhood", "by", "--count", "5")
        rows = list(csv.DictReader(io.StringIO(result.out)))
        self.assertEqual(result.out.splitlines()[0], "code,neighbourhood,neighbourhood_name,expires_at")
        self.assertEqual(len(rows), 5)
        for row in rows:
            self.assertRegex(row["code"], towns.CODE_RE)
            self.assertEqual((row["neighbourhood"], row["neighbourhood_name"]), ("by", "By (hameau de Rosa Bonheur)"))
            expires = parse_time(row["expires_at"])
            self.assertLess(abs(expires - datetime.now(timezone.utc) - timedelta(days=30)), timedelta(minutes=5))
        self.assertEqual(len({row["code"] for row in rows}), 5)
        self.assertEqual(self.query("SELECT count(*) FROM invitation WHERE used_at IS NULL AND revoked_at IS NULL"),
                         [(5,)])

    def test_codes_use_the_unambiguous_alphabet(self):
        codes = self.create("by", 200)
        self.assertEqual(len(set(codes)), 200)
        letters = set("".join(codes).replace("-", ""))
        self.assertTrue(letters <= set(towns.CODE_ALPHABET), letters - set(towns.CODE_ALPHABET))
        self.assertFalse(letters & set("01OIL"))
        for code in codes:
            self.assertRegex(code, towns.CODE_RE)

    def test_codes_are_never_stored_nor_listed_in_clear(self):
        codes = self.create("by", 20)
        stored = b"".join(p.read_bytes() for p in self.dir.iterdir() if p.name.startswith(self.db.name))
        listing = self.ok("invite", "list").out + self.ok("invite", "list", "--json").out
        for code in codes:
            for form in (code, code.replace("-", ""), code.lower()):
                self.assertNotIn(form.encode(), stored)
                self.assertNotIn(form, listing)

    def test_expires(self):
        self.create("by", 1, "--expires", "2w")
        (expires,) = self.query("SELECT expires_at FROM invitation")[0]
        self.assertLess(abs(parse_time(expires) - datetime.now(timezone.utc) - timedelta(days=14)),
                        timedelta(minutes=5))

    def test_json_format(self):
        data = self.ok("invite", "create", "--neighbourhood", "effondre", "--count", "2", "--format", "json").json()
        self.assertEqual(len(data), 2)
        self.assertEqual({d["neighbourhood"] for d in data}, {"effondre"})
        for item in data:
            self.assertRegex(item["code"], towns.CODE_RE)

    def test_html_sheet_in_french_with_every_code(self):
        self.ok("invite", "create", "--neighbourhood", "by", "--count", "3", "--format", "html", "-o", "sheet.html")
        html = (self.dir / "sheet.html").read_text(encoding="utf-8")
        self.assertIn('lang="fr"', html)
        self.assertIn("By (hameau de Rosa Bonheur)", html)
        self.assertIn("Thomery", html)
        self.assertEqual(self.query("SELECT count(*) FROM invitation"), [(3,)])

    def test_html_sheet_lists_the_codes_that_redeem(self):
        result = self.ok("invite", "create", "--neighbourhood", "by", "--count", "2", "--format", "html")
        found = towns.CODE_IN_TEXT_RE.findall(result.out)
        self.assertEqual(len(set(found)), 2, result.out)
        for code in set(found):
            self.ok("invite", "redeem", code, "--name", f"Voisin {code}")
        self.assertEqual(self.query("SELECT count(*) FROM invitation WHERE used_at IS NOT NULL"), [(2,)])

    def test_html_escapes_the_neighbourhood_name(self):
        name = '<script>alert("x")</script> & Co'
        self.ok("neighbourhood", "create", "piege", "--name", name)
        html = self.ok("invite", "create", "--neighbourhood", "piege", "--format", "html").out
        self.assertNotIn("<script>", html)
        self.assertIn("&lt;script&gt;", html)
        self.assertIn("&amp; Co", html)

    def test_output_file_quiet(self):
        result = self.ok("--quiet", "invite", "create", "--neighbourhood", "by", "--count", "2", "-o", "codes.csv")
        self.assertEqual((result.out, result.err), ("", ""))
        self.assertEqual(len(towns.codes_from_csv((self.dir / "codes.csv").read_text())), 2)

    def test_create_bad_input(self):
        self.ok("neighbourhood", "archive", "effondre")
        before = self.snapshot()
        cases = [
            (["--neighbourhood", "bx"], "unknown neighbourhood 'bx' (did you mean 'by'?)"),
            (["--neighbourhood", "effondre"], "neighbourhood 'effondre' is archived"),
            (["--neighbourhood", "by", "--expires", "3x"], "invalid duration '3x'"),
            (["--neighbourhood", "by", "--expires", "0d"], "invalid duration '0d'"),
            (["--neighbourhood", "by", "-o", "missing-dir/codes.csv"], "'missing-dir/codes.csv'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.fails("invite", "create", *args, message=message)
        self.assertUnchanged(before)  # no codes were created that nobody will ever see

    def test_create_misuse(self):
        before = self.snapshot()
        for args in ([], ["--neighbourhood"], ["--neighbourhood", "by", "--count", "0"],
                     ["--neighbourhood", "by", "--count", "1001"], ["--neighbourhood", "by", "--count", "many"],
                     ["--neighbourhood", "by", "--format", "pdf"], ["--neighbourhood", "by", "--bogus"]):
            with self.subTest(args=args):
                self.fails("invite", "create", *args, code=2)
        self.assertUnchanged(before)

    # redeem

    def test_redeem_is_case_and_dash_insensitive(self):
        first, second, third = self.create("by", 3)
        data = self.ok("invite", "redeem", first.lower().replace("-", ""), "--name", "Léa", "--json").json()
        self.assertEqual((data["display_name"], data["neighbourhood"], data["role"]), ("Léa", "by", "resident"))
        self.ok("invite", "redeem", second.lower(), "--name", "Paul", "--email", "paul@example.fr")
        result = self.ok("invite", "redeem", f" {third[:4]} {third[5:]} ".lower(), "--name", "Nadia")
        self.assertIn("Nadia", result.out)
        self.assertEqual(self.query("SELECT m.display_name, m.email, n.slug FROM member m JOIN neighbourhood n ON "
                                    "n.id = m.neighbourhood_id WHERE m.from_town_file = 0 ORDER BY m.id"),
                         [("Léa", None, "by"), ("Paul", "paul@example.fr", "by"), ("Nadia", None, "by")])
        self.assertEqual(self.query("SELECT count(*) FROM invitation i JOIN member m ON m.id = i.used_by"), [(3,)])

    def test_code_already_used(self):
        (code,) = self.create()
        self.ok("invite", "redeem", code, "--name", "Léa")
        before = self.snapshot()
        self.fails("invite", "redeem", code, "--name", "Intrus", message="already been used")
        self.assertUnchanged(before)

    def test_code_expired(self):
        (code,) = self.create()
        towns.raw_sql(self.db, "UPDATE invitation SET expires_at = '2020-01-01T00:00:00Z'")
        before = self.snapshot()
        self.fails("invite", "redeem", code, "--name", "Léa", message="expired")
        self.assertUnchanged(before)
        self.assertIn("expired", self.ok("invite", "list", "--status", "expired").out)

    def test_code_revoked(self):
        (code,) = self.create()
        result = self.ok("invite", "revoke", "1")
        self.assertIn("revoked", result.out)
        self.assertEqual(self.invitation(1), (0, None, 1))
        before = self.snapshot()
        self.fails("invite", "redeem", code, "--name", "Léa", message="revoked")
        self.fails("invite", "revoke", "1", message="already revoked")
        self.assertUnchanged(before)

    def test_unknown_code_and_bad_details(self):
        (code,) = self.create()
        before = self.snapshot()
        self.fails("invite", "redeem", "ABCD-EFGH", "--name", "Léa", message="unknown invitation code")
        self.fails("invite", "redeem", "n'importe quoi", "--name", "Léa", message="unknown invitation code")
        self.fails("invite", "redeem", code, "--name", "", message="name")
        self.fails("invite", "redeem", code, "--name", "Léa", "--email", "nope", message="invalid e-mail")
        self.assertUnchanged(before)
        self.ok("invite", "redeem", code, "--name", "Léa")  # a failed attempt did not burn the code

    def test_redeem_misuse(self):
        self.fails("invite", "redeem", code=2)
        self.fails("invite", "redeem", "ABCD-EFGH", code=2, message="--name")

    # list and revoke

    def test_list_statuses_and_filters(self):
        self.create("by", 3)
        (code,) = self.create("effondre", 1)
        self.ok("invite", "redeem", code, "--name", "Léa")
        self.ok("invite", "revoke", "2")
        listed = self.ok("invite", "list", "--json").json()
        self.assertEqual({i["id"]: i["status"] for i in listed}, {1: "unused", 2: "revoked", 3: "unused", 4: "used"})
        self.assertEqual([i["id"] for i in self.ok("invite", "list", "--neighbourhood", "effondre", "--json").json()],
                         [4])
        self.assertEqual([i["id"] for i in self.ok("invite", "list", "--status", "unused", "--json").json()], [1, 3])
        self.assertRegex(self.ok("invite", "list", "--status", "used").out, r"\b4\s+effondre\s+used")
        self.fails("invite", "list", "--neighbourhood", "bx", message="unknown neighbourhood 'bx'")
        self.fails("invite", "list", "--status", "lost", code=2)

    def test_revoke_refusals(self):
        (code,) = self.create()
        self.ok("invite", "redeem", code, "--name", "Léa")
        before = self.snapshot()
        self.fails("invite", "revoke", "1", message="already used")
        self.fails("invite", "revoke", "99", message="unknown invitation '99'")
        self.fails("invite", "revoke", "abc", code=2)
        self.fails("invite", "revoke", code=2)
        self.assertUnchanged(before)

    def test_help(self):
        for command in ("create", "list", "revoke", "redeem"):
            with self.subTest(command):
                self.assertIn(f"invite {command}", self.ok("invite", command, "--help").out)
        self.assertIn("--expires", self.ok("invite", "create", "--help").out)
        self.fails("invite", code=2)


if __name__ == "__main__":
    harness.main()
