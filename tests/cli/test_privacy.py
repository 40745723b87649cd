"""Personal data (RGPD): member export (access), member erase (erasure), db purge (retention), and owner-only
permissions on the database, its backups and exports."""

import json
import os
import sqlite3
import stat

import harness
import towns

MODERATOR = "sandrine.petit@mairie-thomery.example.fr"
NAME, EMAIL, PHONE, NOTIFIER_EMAIL = "Lucie Bernard", "lucie@example.fr", "06 12 34 56 78", "lucie.avocat@example.fr"
TRACES = (NAME, EMAIL, NOTIFIER_EMAIL, "+33612345678", PHONE)


class PrivacyTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.init_thomery)

    def populate(self):
        """Lucie joins with a code, posts, is replied to by name, files a legal notice, is reported and warned,
        reports a grievance with her phone, follows another one and has an API token."""
        code = towns.codes_from_csv(self.ok("invite", "create", "--neighbourhood", "by").out)[0]
        self.lucie = self.ok("invite", "redeem", code, "--name", NAME, "--email", EMAIL, "--json").json()["id"]
        self.paul = self.ok("member", "add", "--name", "Paul Girard", "--email", "paul@example.fr",
                            "--neighbourhood", "by", "--json").json()["id"]
        self.post = self.ok("post", "add", "--as", EMAIL, "--kind", "offer", "--title", "Perceuse",
                            "--body", "Je prête ma perceuse.", "--json").json()["post"]["id"]
        self.ok("post", "add", "--as", "paul@example.fr", "--reply-to", self.post, "--body", f"Merci {NAME} !")
        other = self.ok("post", "add", "--as", "paul@example.fr", "--kind", "discussion", "--title", "Fête",
                        "--body", "Qui vient ?", "--json").json()["post"]["id"]
        self.reply = self.ok("post", "add", "--as", EMAIL, "--reply-to", other, "--body", "Moi !",
                             "--json").json()["post"]["id"]
        self.ok("report", "add", f"post:{other}", "--reason", "illegal", "--by", EMAIL, "--details", "Illicite",
                "--notifier-name", NAME, "--notifier-email", NOTIFIER_EMAIL, "--good-faith")
        self.ok("report", "add", f"member:{self.lucie}", "--reason", "spam", "--by", self.paul)
        self.ok("mod", "warn", self.lucie, "--reason", "spam", "--note", f"{NAME} insiste", "--as", MODERATOR)
        self.grievance = self.ok("grievance", "add", "--category", "voirie", "--title", "Nid de poule",
                                 "--description", f"Rappeler au {PHONE}", "--reporter", EMAIL,
                                 "--contact-phone", PHONE, "--json").json()["grievance"]["reference"]
        self.followed = self.ok("grievance", "add", "--category", "voirie", "--title", "Trottoir",
                                "--description", "Trottoir cassé", "--reporter", "paul@example.fr",
                                "--json").json()["grievance"]["reference"]
        towns.raw_sql(self.db, "INSERT INTO grievance_follower SELECT id, {}, '2026-01-01T00:00:00Z' FROM grievance "
                               "WHERE reference = '{}'".format(self.lucie, self.followed))
        self.secret = self.ok("token", "create", "--member", EMAIL, "--label", "appli mobile",
                              "--json").json()["token"]

    def raw_bytes(self):
        """The database file and its write-ahead log, as bytes on disk."""
        data = b""
        for suffix in ("", "-wal"):
            path = self.db.with_name(self.db.name + suffix)
            if path.exists():
                data += path.read_bytes()
        return data

    def every_text(self):
        return "\n".join(repr(rows) for rows in self.snapshot().values())

    # ---- export

    def test_export_holds_every_kind_of_datum_and_no_secret(self):
        self.populate()
        data = self.ok("member", "export", EMAIL).json()
        self.assertEqual(data["export_version"], 1)
        self.assertEqual((data["member"]["display_name"], data["member"]["email"]), (NAME, EMAIL))
        self.assertEqual(data["invitation"]["neighbourhood"], "by")
        self.assertEqual([p["id"] for p in data["posts"]], [self.post])
        self.assertEqual([p["id"] for p in data["replies"]], [self.reply])
        self.assertEqual(data["reports_made"][0]["notifier_email"], NOTIFIER_EMAIL)
        by_reference = {g["reference"]: g for g in data["grievances"]}
        self.assertEqual(by_reference[self.grievance]["contact_phone"], "+33612345678")
        self.assertTrue(by_reference[self.followed]["following"])
        self.assertIsNone(by_reference[self.followed]["contact_name"])
        self.assertEqual([d["action"] for d in data["decisions"]], ["warn"])
        self.assertEqual([r["kind"] for r in data["restrictions"]], ["warning"])
        self.assertEqual([t["label"] for t in data["api_tokens"]], ["appli mobile"])
        self.assertIn("token.create", [e["action"] for e in data["audit_log"]])
        text = json.dumps(data)
        self.assertNotIn(self.secret, text)
        (token_hash,), = self.query("SELECT token_hash FROM api_token")
        self.assertNotIn(token_hash, text)
        for (code_hash,) in self.query("SELECT code_hash FROM invitation"):
            self.assertNotIn(code_hash, text)

    def test_export_to_a_file_is_owner_only(self):
        self.populate()
        before = self.snapshot()
        result = self.ok("member", "export", self.lucie, "-o", "lucie.json")
        self.assertIn("lucie.json", result.err)
        path = self.dir / "lucie.json"
        self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o600)
        self.assertEqual(json.loads(path.read_text(encoding="utf-8"))["member"]["id"], self.lucie)
        self.assertUnchanged(before)
        self.assertEqual(self.ok("-q", "member", "export", self.lucie, "-o", "again.json").err, "")

    def test_export_refuses_an_unknown_member(self):
        self.fails("member", "export", "nobody@example.fr", message="unknown member 'nobody@example.fr'")
        self.assertIn("hint: ", self.run_cli("member", "export", "nobody@example.fr").err)
        self.assertFalse((self.dir / "out.json").exists())
        self.fails("member", "export", code=2)

    # ---- erase

    def test_erase_leaves_no_trace_in_the_file(self):
        self.populate()
        self.assertIn(NAME.encode(), self.raw_bytes())
        result = self.ok("member", "erase", EMAIL)
        self.assertIn(f"erased member #{self.lucie} (posts removed)", result.out)
        self.assertIn("member:erased-", result.out)
        for trace in TRACES:
            with self.subTest(trace=trace):
                self.assertNotIn(trace, self.every_text())
                self.assertNotIn(trace.encode(), self.raw_bytes())  # nor in free pages, nor in the WAL
        self.assertEqual(self.query("SELECT display_name, email, removed_at IS NOT NULL FROM member WHERE id = ?",
                                    self.lucie), [("Ancien membre", None, 1)])
        self.ok("db", "check")
        self.ok("mod", "log", "verify")

    def test_erase_keeps_grievances_without_reporter_and_removes_posts_by_default(self):
        self.populate()
        self.ok("member", "erase", self.lucie)
        self.assertEqual(self.query("SELECT reporter_id, contact_name, contact_email, contact_phone, description "
                                    "FROM grievance WHERE reference = ?", self.grievance),
                         [(None, "", "", "", "Rappeler au [effacé]")])
        self.assertEqual(self.query("SELECT count(*) FROM grievance_follower WHERE member_id = ?", self.lucie), [(0,)])
        self.assertEqual(self.query("SELECT count(*) FROM api_token"), [(0,)])
        self.assertEqual(self.query("SELECT status, title, body FROM post WHERE author_id = ? ORDER BY id",
                                    self.lucie), [("removed", "", ""), ("removed", "", "")])
        self.assertEqual(self.query("SELECT body FROM post WHERE parent_id = ? ", self.post),
                         [("Merci Ancien membre !",)])
        self.assertEqual(self.query("SELECT count(*) FROM report WHERE notifier_name != ''"), [(0,)])
        self.assertEqual(self.query("SELECT count(*) FROM decision"), [(1,)])
        # The token no longer works.
        self.assertEqual(self.query("SELECT count(*) FROM api_token WHERE member_id = ?", self.lucie), [(0,)])

    def test_erase_with_keep_posts(self):
        self.populate()
        self.ok("member", "erase", self.lucie, "--keep-posts")
        self.assertEqual(self.query("SELECT status, body FROM post WHERE id = ?", self.post),
                         [("visible", "Je prête ma perceuse.")])
        self.assertIn("Ancien membre", self.ok("post", "show", self.post).out)

    def test_erase_is_logged_with_a_pseudonym(self):
        self.populate()
        pseudonym = self.ok("member", "erase", self.lucie, "--json").json()["pseudonym"]
        self.assertRegex(pseudonym, r"^member:erased-[0-9a-f]{16}$")
        self.assertEqual(self.query("SELECT count(*) FROM audit_log WHERE actor = ? OR target = ?",
                                    f"member:{self.lucie}", f"member:{self.lucie}"), [(0,)])
        log = self.ok("mod", "log", "--target", pseudonym, "--json").json()
        actions = [entry["action"] for entry in log]
        self.assertEqual(actions[-1], "member.erase")
        self.assertIn("token.create", actions)
        self.assertEqual(log[-1]["details"]["posts"], "removed")
        self.ok("mod", "log", "verify")
        self.fails("member", "erase", self.lucie, message="was already erased")

    def test_erase_refuses_unknown_members_and_staff(self):
        before = self.snapshot()
        result = self.fails("member", "erase", "nobody@example.fr", message="unknown member 'nobody@example.fr'")
        self.assertIn("hint: ", result.err)
        self.fails("member", "erase", MODERATOR, message="is staff listed in the town file")
        self.assertUnchanged(before)
        self.fails("member", "erase", code=2)
        self.fails("member", "erase", "1", "--keep-posts", "--remove-posts", code=2)

    def test_erase_dry_run_writes_nothing(self):
        self.populate()
        before = self.snapshot()
        result = self.ok("member", "erase", self.lucie, "--dry-run")
        self.assertIn(f"would erase member #{self.lucie}", result.out)
        self.assertRegex(result.out, r"api_token +1 row")
        self.assertIn("dry run: nothing was written", result.out)
        self.assertUnchanged(before)
        data = self.ok("-q", "member", "erase", self.lucie, "--dry-run", "--json").json()
        self.assertTrue(data["dry_run"])
        self.assertEqual(data["changes"]["member"], 1)
        self.assertEqual(data["changes"]["grievance_follower"], 2)
        self.assertUnchanged(before)

    # ---- purge

    def past_retention(self):
        """Dates set in the past behind the binary's back: one grievance closed 13 months ago and one a month
        ago, a code expired long ago and a fresh one, a token revoked long ago and an active one."""
        self.populate()
        self.ok("grievance", "status", self.grievance, "no_action")
        self.ok("grievance", "status", self.followed, "no_action")
        self.ok("grievance", "add", "--category", "voirie", "--title", "Anonyme", "--description", "x",
                "--contact-name", "Jeanne Martin", "--contact-email", "jeanne@example.fr")
        self.ok("invite", "create", "--neighbourhood", "by", "--count", "2")
        self.ok("token", "create", "--member", "paul@example.fr")
        towns.raw_sql(self.db,
                      "UPDATE grievance SET closed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-13 months') "
                      f"WHERE reference = '{self.grievance}'",
                      "UPDATE grievance SET closed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 months'), "
                      f"contact_name = 'Paul' WHERE reference = '{self.followed}'",
                      "UPDATE invitation SET expires_at = '2020-01-01T00:00:00Z' WHERE id = "
                      "(SELECT max(id) FROM invitation)",
                      "UPDATE api_token SET revoked_at = '2020-01-01T00:00:00Z' WHERE member_id = "
                      f"{self.lucie}",
                      "INSERT INTO web_session (session_hash, member_id, created_at, expires_at) VALUES "
                      f"('expired', {self.lucie}, '2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z'), "
                      f"('current', {self.paul}, '2020-01-01T00:00:00Z', '2999-01-01T00:00:00Z')")

    def test_purge_removes_exactly_what_is_past_retention(self):
        self.past_retention()
        invitations = self.query("SELECT count(*) FROM invitation")[0][0]
        result = self.ok("db", "purge")
        self.assertIn("removed the contact data of 1 grievance(s) closed more than 12 months ago", result.out)
        self.assertIn("removed 1 unused invitation code(s)", result.out)
        self.assertIn("removed 1 API token(s)", result.out)
        self.assertIn("removed 1 expired web session(s)", result.out)
        self.assertEqual(self.query("SELECT session_hash FROM web_session"), [("current",)])
        self.assertEqual(self.query("SELECT contact_phone FROM grievance WHERE reference = ?", self.grievance),
                         [("",)])
        self.assertEqual(self.query("SELECT contact_name FROM grievance WHERE reference = ?", self.followed),
                         [("Paul",)])
        self.assertEqual(self.query("SELECT count(*) FROM grievance WHERE contact_email = 'jeanne@example.fr'"),
                         [(1,)])
        self.assertEqual(self.query("SELECT count(*) FROM invitation"), [(invitations - 1,)])
        self.assertEqual(self.query("SELECT count(*) FROM invitation WHERE used_by IS NOT NULL"), [(1,)])
        self.assertEqual(self.query("SELECT member_id FROM api_token"), [(self.paul,)])
        self.assertEqual(self.ok("mod", "log", "--target", "database", "--json").json()[-1]["action"], "db.purge")
        self.ok("mod", "log", "verify")
        # Nothing left to purge: quiet with -q, zero counts otherwise.
        self.assertEqual(self.ok("-q", "db", "purge").out, "")
        self.assertEqual(self.ok("db", "purge", "--json").json()["total"], 0)

    def test_purge_dry_run_writes_nothing(self):
        self.past_retention()
        before = self.snapshot()
        data = self.ok("db", "purge", "--dry-run", "--json").json()
        self.assertEqual(data["removed"], {"grievance_contacts": 1, "invitations": 1, "tokens": 1, "sessions": 1})
        self.assertTrue(data["dry_run"])
        self.assertIn("would remove", self.ok("-q", "db", "purge", "--dry-run").out)
        self.assertUnchanged(before)

    def test_purge_follows_the_town_file(self):
        self.past_retention()
        town_file = towns.copy_thomery(self.dir)
        with open(town_file, "a", encoding="utf-8") as out:
            out.write("\nretention:\n  grievance_contact_months: 24\n  token_days_after_expiry: 10000\n")
        result = self.fails("init", "--from", town_file)
        self.assertRegex(result.err, r"thomery\.yaml': line \d+, column 28: 'retention\.token_days_after_expiry' "
                                     r"must be between 0 and 3650 days, not 10000")
        self.assertIn("hint: 'retention.token_days_after_expiry' is a whole number of days from 0 to 3650 "
                      "(default 90)", result.err)
        towns.edit(town_file, "10000", "30")
        self.assertIn("~ grievance_contact_months: 12 months (default) → 24 months",
                      self.ok("init", "--from", town_file).out)
        data = self.ok("db", "purge", "--json").json()
        self.assertEqual(data["policy"]["grievance_contact_months"], 24)
        self.assertEqual(data["removed"], {"grievance_contacts": 0, "invitations": 1, "tokens": 1, "sessions": 1})

    def test_purge_misuse(self):
        self.fails("db", "purge", "--now", code=2)
        self.assertEqual(self.ok("db", "purge", "--help").code, 0)

    # ---- permissions

    def test_database_backups_and_exports_are_owner_only(self):
        self.populate()
        for suffix in ("", "-wal", "-shm"):
            path = self.db.with_name(self.db.name + suffix)
            if path.exists():
                self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o600, path)
        self.ok("db", "backup", "backup.db")
        self.assertEqual(stat.S_IMODE((self.dir / "backup.db").stat().st_mode), 0o600)
        self.ok("member", "export", self.lucie, "-o", "export.json")
        self.assertEqual(stat.S_IMODE((self.dir / "export.json").stat().st_mode), 0o600)
        old = os.umask(0)
        try:
            fresh = self.dir / "fresh.db"
            self.ok("--db", fresh, "init", db=False)
            self.assertEqual(stat.S_IMODE(fresh.stat().st_mode), 0o600)
        finally:
            os.umask(old)


if __name__ == "__main__":
    harness.main()
