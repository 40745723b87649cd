"""voisinage member add|list|show|role|remove."""

import harness

ROLES = ("resident", "merchant", "association", "townhall", "moderator", "admin")


class MemberTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.init_thomery)

    def add(self, *args):
        return self.ok("member", "add", *args, "--json").json()["id"]

    def test_add(self):
        result = self.ok("member", "add", "--name", "Jean Dupont", "--email", "jean@example.fr",
                         "--neighbourhood", "by")
        self.assertIn("Jean Dupont", result.out)
        self.assertEqual(self.query("SELECT m.display_name, m.email, m.role, n.slug, m.removed_at FROM member m "
                                    "JOIN neighbourhood n ON n.id = m.neighbourhood_id WHERE m.email = ?",
                                    "jean@example.fr"),
                         [("Jean Dupont", "jean@example.fr", "resident", "by", None)])

    def test_add_json_and_every_role(self):
        for role in ROLES:
            with self.subTest(role):
                data = self.ok("member", "add", "--name", f"Un {role}", "--role", role, "--json").json()
                self.assertEqual((data["display_name"], data["role"]), (f"Un {role}", role))
                self.assertEqual(self.query("SELECT role FROM member WHERE id = ?", data["id"]), [(role,)])

    def test_add_keeps_names_verbatim(self):
        name = "Robert'); DROP TABLE member;-- <b>Zoé</b>"
        member = self.add("--name", name)
        self.assertEqual(self.query("SELECT display_name FROM member WHERE id = ?", member), [(name,)])
        self.assertIn(name, self.ok("member", "show", member).out)

    def test_add_bad_input(self):
        self.add("--name", "Jean", "--email", "jean@example.fr")
        self.ok("neighbourhood", "archive", "effondre")
        before = self.snapshot()
        cases = [
            (["--name", "X", "--role", "moderateur"], "unknown role 'moderateur' (did you mean 'moderator'?)"),
            (["--name", "X", "--neighbourhood", "centre-bourgg"],
             "unknown neighbourhood 'centre-bourgg' (did you mean 'centre-bourg'?)"),
            (["--name", "X", "--neighbourhood", "effondre"], "neighbourhood 'effondre' is archived"),
            (["--name", "X", "--email", "jean@example.fr"], "e-mail 'jean@example.fr' already exists"),
            (["--name", "X", "--email", "pas-une-adresse"], "invalid e-mail address 'pas-une-adresse'"),
            (["--name", ""], "name is empty"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.fails("member", "add", *args, message=message)
        self.assertUnchanged(before)

    def test_list_and_filters(self):
        lucie = self.add("--name", "Lucie", "--neighbourhood", "by")
        self.add("--name", "Paul", "--neighbourhood", "effondre", "--role", "merchant")
        gone = self.add("--name", "Parti", "--neighbourhood", "by")
        self.ok("member", "remove", gone)
        result = self.ok("member", "list")
        for name in ("Marie Lefèvre", "Lucie", "Paul"):
            self.assertIn(name, result.out)
        self.assertNotIn("Parti", result.out)
        self.assertEqual([m["display_name"] for m in self.ok("member", "list", "--neighbourhood", "by",
                                                                 "--json").json()], ["Lucie"])
        self.assertEqual(sorted(m["display_name"] for m in self.ok("member", "list", "--role", "moderator",
                                                                   "--json").json()),
                         ["Karim Benali", "Sandrine Petit"])
        everyone = self.ok("member", "list", "--all", "--neighbourhood", "by", "--json").json()
        self.assertEqual(sorted(m["id"] for m in everyone), sorted([lucie, gone]))
        self.assertIsNotNone(next(m for m in everyone if m["id"] == gone)["removed_at"])

    def test_list_bad_filters(self):
        self.fails("member", "list", "--role", "moderatr", message="did you mean 'moderator'?")
        self.fails("member", "list", "--neighbourhood", "bx", message="unknown neighbourhood 'bx'")

    def test_show_by_id_hash_id_and_email(self):
        member = self.add("--name", "Lucie", "--email", "lucie@example.fr", "--neighbourhood", "by")
        for ref in (str(member), f"#{member}", "lucie@example.fr"):
            with self.subTest(ref):
                result = self.ok("member", "show", ref)
                self.assertRegex(result.out, r"name\s+Lucie")
                self.assertRegex(result.out, r"neighbourhood\s+by")
        data = self.ok("member", "show", "lucie@example.fr", "--json").json()
        self.assertEqual((data["id"], data["role"], data["neighbourhood"]), (member, "resident", "by"))

    def test_unknown_member(self):
        before = self.snapshot()
        for args in (["show", "999"], ["show", "nobody@example.fr"], ["role", "999", "admin"], ["remove", "#999"]):
            with self.subTest(args=args):
                self.fails("member", *args, message="unknown member")
        self.assertUnchanged(before)

    def test_role(self):
        member = self.add("--name", "Lucie")
        result = self.ok("member", "role", member, "moderator")
        self.assertIn("moderator", result.out)
        self.assertEqual(self.query("SELECT role FROM member WHERE id = ?", member), [("moderator",)])
        self.ok("member", "role", "sandrine.petit@mairie-thomery.example.fr", "resident")
        self.assertEqual(self.query("SELECT role FROM member WHERE email = ?",
                                    "sandrine.petit@mairie-thomery.example.fr"), [("resident",)])

    def test_unknown_role(self):
        member = self.add("--name", "Lucie")
        before = self.snapshot()
        self.fails("member", "role", member, "moderateur", message="unknown role 'moderateur' (did you mean "
                                                                   "'moderator'?)")
        self.fails("member", "role", member, "mayor", message="unknown role 'mayor'")
        self.assertUnchanged(before)

    def test_remove(self):
        member = self.add("--name", "Lucie", "--neighbourhood", "by")
        result = self.ok("member", "remove", member)
        self.assertIn(f"#{member}", result.out)
        rows = self.query("SELECT display_name, removed_at IS NOT NULL FROM member WHERE id = ?", member)
        self.assertEqual(rows, [("Lucie", 1)])  # kept, so what they wrote stays attributed
        self.assertRegex(self.ok("member", "show", member).out, r"status\s+removed")
        before = self.snapshot()
        self.fails("member", "remove", member, message="already removed")
        self.assertUnchanged(before)

    def test_misuse(self):
        before = self.snapshot()
        for args in (["add"], ["add", "--name"], ["add", "--name", "X", "--bogus"], ["show"], ["role", "1"],
                     ["remove"], ["list", "--role"], ["frobnicate"], []):
            with self.subTest(args=args):
                self.fails("member", *args, code=2)
        self.assertUnchanged(before)

    def test_help(self):
        for command in ("add", "list", "show", "role", "remove"):
            with self.subTest(command):
                self.assertIn(f"member {command}", self.ok("member", command, "--help").out)
        self.assertIn("--role", self.ok("member", "add", "--help").out)
        self.assertIn("--all", self.ok("member", "list", "--help").out)


if __name__ == "__main__":
    harness.main()
