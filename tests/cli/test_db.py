"""voisinage db check|backup|migrate."""

import sqlite3
import subprocess
import threading
import time

import harness
import towns


class DbCheckTest(harness.VoisinageTest):
    def test_fresh_database_is_ok(self):
        self.init_thomery()
        (version,) = self.query("PRAGMA user_version")[0]
        result = self.ok("db", "check")
        self.assertIn("ok", result.out)
        self.assertIn(f"schema version {version}", result.out)
        data = self.ok("db", "check", "--json").json()
        self.assertEqual((data["ok"], data["problems"], data["schema_version"]), (True, [], version))
        self.assertEqual(data["latest_schema_version"], version)

    def test_empty_database_is_ok(self):
        self.ok("init")
        self.ok("db", "check")

    def test_broken_foreign_key(self):
        self.init_thomery()
        towns.raw_sql(self.db, "INSERT INTO member(display_name, role, neighbourhood_id, created_at, updated_at) "
                               "VALUES ('Fantôme', 'resident', 4242, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')")
        before = self.snapshot()
        result = self.fails("db", "check", message="1 problem")
        self.assertIn("'member'", result.err)
        self.assertIn("'neighbourhood'", result.err)
        data = self.run_cli("db", "check", "--json")
        self.assertEqual(data.code, 1, data)
        self.assertFalse(data.json()["ok"])
        self.assertEqual(len(data.json()["problems"]), 1)
        self.assertUnchanged(before)

    def test_misuse_and_help(self):
        self.init_thomery()
        self.fails("db", "check", "--bogus", code=2)
        self.fails("db", "check", "extra", code=2)
        self.fails("db", code=2)
        self.fails("db", "vacuumm", code=2)
        for command in ("check", "backup", "migrate"):
            with self.subTest(command):
                self.assertIn(f"db {command}", self.ok("db", command, "--help").out)
        self.assertIn("check", self.ok("db", "--help").out)


class DbBackupTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.populate)

    def populate(self):
        self.init_thomery()
        self.ok("member", "add", "--name", "Lucie", "--neighbourhood", "by")
        self.ok("invite", "create", "--neighbourhood", "by", "--count", "3")

    def test_backup_is_a_checked_copy_with_the_same_rows(self):
        result = self.ok("db", "backup", "copy.db")
        self.assertIn("copy.db", result.out)
        check = self.run_cli("--db", self.dir / "copy.db", "db", "check", db=False)
        self.assertEqual(check.code, 0, check)
        self.assertEqual(harness.rows_of(self.dir / "copy.db"), self.snapshot())
        town = self.run_cli("--db", self.dir / "copy.db", "town", "show", "--json", db=False)
        self.assertEqual(town.json()["name"], "Thomery")

    def test_refuses_an_existing_target(self):
        target = self.write("precious.db", "do not overwrite\n")
        before = self.snapshot()
        self.fails("db", "backup", "precious.db", message="'precious.db' already exists")
        self.assertEqual(target.read_text(), "do not overwrite\n")
        self.assertUnchanged(before)

    def test_refuses_a_missing_target_directory(self):
        self.fails("db", "backup", "nowhere/copy.db", message="'nowhere'")
        self.assertFalse((self.dir / "nowhere").exists())
        self.assertEqual(sorted(p.name for p in self.dir.iterdir() if "copy" in p.name), [])

    def test_backup_while_another_process_writes(self):
        stop = threading.Event()
        outcomes = []

        def writer():
            i = 0
            deadline = time.monotonic() + 60
            while not stop.is_set() and time.monotonic() < deadline:
                i += 1
                done = subprocess.run([harness.BINARY, "--db", str(self.db), "member", "add", "--name", f"W{i}"],
                                      capture_output=True, text=True, timeout=30)
                outcomes.append((done.returncode, done.stderr))

        def wait_for_writes(count):  # however slow the build (the sanitizer build is three times slower)
            deadline = time.monotonic() + 30
            while len(outcomes) < count and time.monotonic() < deadline:
                time.sleep(0.01)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            wait_for_writes(2)
            during = len(outcomes)
            result = self.run_cli("db", "backup", "live.db")
            wait_for_writes(during + 2)
        finally:
            stop.set()
            thread.join()
        self.assertEqual(result.code, 0, result)
        self.assertGreater(during, 0, "the writer never ran")
        self.assertGreater(len(outcomes), during, "the writer did not run during the backup")
        self.assertEqual([o for o in outcomes if o[0] != 0], [], "a write failed during the backup")
        check = self.run_cli("--db", self.dir / "live.db", "db", "check", db=False)
        self.assertEqual(check.code, 0, check)
        with sqlite3.connect(self.dir / "live.db") as conn:
            copied = conn.execute("SELECT count(*) FROM member WHERE display_name LIKE 'W%'").fetchone()[0]
        self.assertLessEqual(copied, self.query("SELECT count(*) FROM member WHERE display_name LIKE 'W%'")[0][0])
        self.assertGreaterEqual(copied, during)

    def test_misuse(self):
        self.fails("db", "backup", code=2)
        self.fails("db", "backup", "a.db", "b.db", code=2)
        self.assertFalse((self.dir / "a.db").exists())


class DbMigrateTest(harness.VoisinageTest):
    def test_up_to_date(self):
        self.init_thomery()
        before = self.snapshot()
        result = self.ok("db", "migrate")
        self.assertIn("up to date", result.out)
        data = self.ok("db", "migrate", "--json").json()
        (version,) = self.query("PRAGMA user_version")[0]
        self.assertEqual((data["from_version"], data["to_version"]), (version, version))
        self.assertUnchanged(before)
        self.assertEqual(self.query("SELECT version FROM schema_migration"), [(v,) for v in range(1, version + 1)])

    def test_refuses_a_newer_database(self):
        self.init_thomery()
        towns.raw_sql(self.db, "PRAGMA user_version = 999")
        digest = towns.sha256(self.db)
        self.fails("db", "migrate", message="newer")
        self.fails("db", "check", message="newer")
        self.assertEqual(towns.sha256(self.db), digest)

    def test_missing_database(self):
        result = self.fails("db", "migrate", message="no voisinage database")
        self.assertIn("init", result.err)
        self.assertFalse(self.db.exists())

    def test_misuse(self):
        self.init_thomery()
        self.fails("db", "migrate", "--to", "3", code=2)


if __name__ == "__main__":
    harness.main()
