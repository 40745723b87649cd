"""Shared fixture of the end-to-end tests: each test runs the real `voisinage` binary in a fresh temporary
directory with its own database, and asserts on exit code, stdout, stderr and the database afterwards."""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parents[2]
EXAMPLES = SOURCE_DIR / "examples"
DATA = SOURCE_DIR / "tests" / "data"
BINARY = os.environ.get("VOISINAGE_BIN") or str(SOURCE_DIR / "build" / "cmd" / "voisinage")


def rows_of(path):
    """Every row of every table of the database at `path`, as sorted reprs by table name."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"').fetchall())) for t in table_names(conn)}


def table_names(conn):
    """The tables that hold the data: a virtual table's rows are in its shadow tables (the search index's
    cannot even be read)."""
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                       "sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name")]


class Result:
    def __init__(self, completed):
        self.code = completed.returncode
        self.out = completed.stdout
        self.err = completed.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


class VoisinageTest(unittest.TestCase):
    """A temporary directory as cwd, `self.db` inside it, and helpers to run the binary."""

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="voisinage-test-"))
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.db = self.dir / "town.db"

    def run_cli(self, *args, input=None, env=None, db=True, timeout=60):
        """Runs `voisinage [--db self.db] args...`; never hides the exit code."""
        full_env = {k: v for k, v in os.environ.items() if k != "VOISINAGE_DB"}
        full_env.update(env or {})
        argv = [BINARY] + (["--db", str(self.db)] if db else []) + [str(a) for a in args]
        completed = subprocess.run(argv, cwd=self.dir, input=input, capture_output=True, text=True,
                                   env=full_env, timeout=timeout)
        return Result(completed)

    def ok(self, *args, **kwargs):
        """Runs and asserts exit 0 with nothing alarming on stderr."""
        result = self.run_cli(*args, **kwargs)
        self.assertEqual(result.code, 0, result)
        self.assertNotIn("error", result.err, result)
        return result

    def fails(self, *args, code=1, message=None, **kwargs):
        """Runs and asserts the exit code, a 'voisinage: error:' line (for code 1 and 2) and `message`."""
        result = self.run_cli(*args, **kwargs)
        self.assertEqual(result.code, code, result)
        if code in (1, 2):
            self.assertIn("voisinage: error: ", result.err, result)
        if message is not None:
            self.assertIn(message, result.err, result)
        return result

    def init_thomery(self):
        return self.ok("init", "--from", EXAMPLES / "thomery.yaml")

    def fixture(self, build, *attributes):
        """Runs `build()` for the first test of the class, then keeps a copy of the database it made and of the
        named attributes; every later test of the class starts from that copy instead of running the binary
        again (a process costs ten times more in the sanitizer build)."""
        cache = type(self).__dict__.get("_fixture")
        if cache is not None:
            self.db.write_bytes(cache["db"])
            vars(self).update(cache["attributes"])
            return
        build()
        source = sqlite3.connect(self.db)
        image = source.serialize()  # the file as it would be with its WAL checkpointed
        source.close()
        type(self)._fixture = {"db": image, "attributes": {n: getattr(self, n) for n in attributes}}

    def write(self, name, text):
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def query(self, sql, *params):
        """Rows of a read-only query on the test database."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as conn:
            return conn.execute(sql, params).fetchall()

    def snapshot(self):
        """Every row of every table: compare before and after a command that must change nothing."""
        return rows_of(self.db) if self.db.exists() else None

    def assertUnchanged(self, before):
        self.assertEqual(before, self.snapshot(), "the database changed")


def main():
    unittest.main(verbosity=2)
