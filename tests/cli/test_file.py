"""The database file: where it is found, what is refused without being touched, and a writer holding the lock."""

import os
import sqlite3
import time
import unittest

import harness
import towns

# One command of each kind that opens an existing database.
OPENING_COMMANDS = [
    ["town", "show"], ["neighbourhood", "list"], ["member", "list"], ["invite", "list"],
    ["member", "add", "--name", "Lucie"], ["db", "check"], ["db", "migrate"], ["db", "backup", "copy.db"],
]


class DatabaseLocationTest(harness.VoisinageTest):
    def test_voisinage_db_variable_is_used_without_db_option(self):
        result = self.run_cli("init", db=False, env={"VOISINAGE_DB": str(self.db)})
        self.assertEqual(result.code, 0, result)
        self.assertTrue(self.db.exists())
        self.assertFalse((self.dir / "voisinage.db").exists())
        listed = self.run_cli("db", "check", db=False, env={"VOISINAGE_DB": str(self.db)})
        self.assertIn(str(self.db), listed.out)

    def test_db_option_wins_over_the_variable(self):
        other = self.dir / "other.db"
        result = self.run_cli("--db", other, "init", db=False, env={"VOISINAGE_DB": str(self.db)})
        self.assertEqual(result.code, 0, result)
        self.assertTrue(other.exists())
        self.assertFalse(self.db.exists())

    def test_default_is_voisinage_db_in_the_current_directory(self):
        result = self.run_cli("init", "--from", harness.EXAMPLES / "thomery.yaml", db=False)
        self.assertEqual(result.code, 0, result)
        self.assertTrue((self.dir / "voisinage.db").exists())
        shown = self.run_cli("town", "show", db=False)
        self.assertEqual(shown.code, 0, shown)
        self.assertIn("Thomery", shown.out)

    def test_missing_database_hints_at_init(self):
        for args in OPENING_COMMANDS:
            with self.subTest(args=args):
                result = self.fails(*args, message="no voisinage database")
                self.assertIn("voisinage init", result.err)
                self.assertEqual(list(self.dir.iterdir()), [])

    def test_missing_directory(self):
        path = self.dir / "nowhere" / "town.db"
        result = self.run_cli("--db", path, "init", db=False)
        self.assertEqual(result.code, 1, result)
        self.assertIn("voisinage: error: ", result.err)
        self.assertIn("'" + str(path.parent) + "' does not exist", result.err)
        self.assertFalse(path.parent.exists())

    def test_directory_that_cannot_be_written_even_by_root(self):
        result = self.run_cli("--db", "/proc/voisinage-test.db", "init", db=False)
        self.assertEqual(result.code, 1, result)
        self.assertIn("voisinage: error: cannot create database '/proc/voisinage-test.db'", result.err)

    def read_only_directory(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to run the binary as another user")
        if not os.access(harness.BINARY, os.X_OK) or (os.stat(harness.BINARY).st_mode & 0o001) == 0:
            self.skipTest("the binary is not executable by other users")
        os.chmod(self.dir, 0o755)
        folder = self.dir / "read-only"
        folder.mkdir()
        return folder

    def test_read_only_directory_for_a_new_database(self):
        folder = self.read_only_directory()
        folder.chmod(0o555)
        result = towns.run_as_nobody("--db", folder / "town.db", "init", "--from", harness.EXAMPLES / "thomery.yaml",
                                     cwd=self.dir)
        self.assertEqual(result.code, 1, result)
        self.assertIn("voisinage: error: cannot create database", result.err)
        self.assertIn("Permission denied", result.err)
        self.assertEqual(list(folder.iterdir()), [])

    def test_read_only_directory_holding_a_database(self):
        folder = self.read_only_directory()
        db = folder / "town.db"
        self.run_cli("--db", db, "init", "--from", harness.EXAMPLES / "thomery.yaml", db=False)
        os.chown(db, towns.NOBODY, towns.NOBODY)
        folder.chmod(0o555)
        digest = towns.sha256(db)
        result = towns.run_as_nobody("--db", db, "member", "add", "--name", "Lucie", cwd=self.dir)
        self.assertEqual(result.code, 1, result)
        self.assertIn("voisinage: error: database '" + str(db) + "' is read-only", result.err)
        self.assertEqual(towns.sha256(db), digest)
        self.assertEqual([p.name for p in folder.iterdir()], ["town.db"])


class ForeignFileTest(harness.VoisinageTest):
    def assertRefusedUntouched(self, message):
        digest = towns.sha256(self.db)
        for args in [["init"], ["init", "--from", harness.EXAMPLES / "thomery.yaml"]] + OPENING_COMMANDS:
            with self.subTest(args=args):
                result = self.fails(*args, message=message)
                self.assertIn(f"'{self.db}'", result.err)
                self.assertEqual(towns.sha256(self.db), digest)
                self.assertEqual(sorted(p.name for p in self.dir.iterdir()), [self.db.name])

    def test_text_file(self):
        self.db.write_bytes(os.urandom(16).hex().encode() * 200)
        self.assertRefusedUntouched("is not a voisinage database (not a SQLite file)")

    def test_other_sqlite_database(self):
        with sqlite3.connect(self.db) as conn:
            conn.execute("CREATE TABLE recipe (name TEXT)")
            conn.execute("INSERT INTO recipe VALUES ('tarte aux pommes')")
        self.assertRefusedUntouched("is a SQLite database but not a voisinage one")

    def test_newer_schema(self):
        self.init_thomery()
        towns.raw_sql(self.db, "PRAGMA user_version = 999")
        self.assertRefusedUntouched("newer")
        self.fails("town", "show", message="schema version 999")


class BusyDatabaseTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.init_thomery)

    def test_writer_waits_for_the_busy_timeout_then_fails_cleanly(self):
        before = self.snapshot()
        with towns.write_lock(self.db):
            start = time.monotonic()
            result = self.fails("--busy-timeout", "500", "member", "add", "--name", "Lucie", message="is busy")
            elapsed = time.monotonic() - start
        self.assertNotIn("database is locked", result.err)
        self.assertIn("--busy-timeout", result.err)
        self.assertGreaterEqual(elapsed, 0.4)
        self.assertLess(elapsed, 5)
        self.assertUnchanged(before)
        self.ok("--busy-timeout", "500", "member", "add", "--name", "Lucie")
        self.assertEqual(self.query("SELECT count(*) FROM member WHERE display_name = 'Lucie'"), [(1,)])

    def test_town_file_apply_under_a_lock(self):
        town = towns.copy_thomery(self.dir)
        towns.edit(town, "name: Centre-bourg", "name: Le Bourg")
        before = self.snapshot()
        with towns.write_lock(self.db):
            self.fails("--busy-timeout", "300", "init", "--from", town, message="is busy")
        self.assertUnchanged(before)
        self.ok("init", "--from", town)

    def test_busy_message_states_the_wait(self):
        with towns.write_lock(self.db):
            result = self.fails("--busy-timeout", "500", "member", "add", "--name", "Lucie", message="is busy")
        self.assertRegex(result.err, r"500 ms|0\.5 s")

    def test_readers_are_not_blocked_by_a_writer(self):
        # WAL lets readers work while another process writes: showing and backing up must not wait or fail.
        with towns.write_lock(self.db):
            for args in (["town", "show"], ["neighbourhood", "list", "--json"], ["db", "check"],
                         ["db", "backup", "copy.db"]):
                with self.subTest(args=args):
                    self.ok("--busy-timeout", "200", *args)

    def test_misuse(self):
        self.fails("--busy-timeout", "-5", "db", "check", code=2)
        self.fails("--busy-timeout", "soon", "db", "check", code=2)
        self.fails("--busy-timeout", code=2)


if __name__ == "__main__":
    harness.main()
