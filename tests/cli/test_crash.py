"""Crash safety: `kill -9` at random moments during an import, `init --from`, a bulk moderation decision and a
grievance export to a file. After each kill `db check` passes and the data is exactly the state before or the
state after the operation, never between; an export leaves either no file or a complete one under the final name.

Each operation is prepared once (a database large enough for the operation to take a moment), timed once to
completion, then run KILLS times on its own copy of the prepared database and killed after a delay drawn from a
seeded random generator over the measured duration (and a little past it). The counts of kills that landed
before and after are printed on standard error.

Run alone: cd build && ctest -R cli.test_crash --output-on-failure -V (for the counts)."""

import hashlib
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import importlib.util
from pathlib import Path

import harness

# 5 in the sanitizer build (VOISINAGE_CRASH_KILLS), where the operations are three times slower and the point
# is memory errors rather than the moments of the kills.
KILLS = int(os.environ.get("VOISINAGE_CRASH_KILLS", "20"))
SEED = 8  # issue 8
MODERATOR = "sandrine.petit@mairie-thomery.example.fr"  # examples/thomery.yaml

# Values that differ between two runs of the same operation: times, hashes of the audit log chained over times.
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?")
_HASH = re.compile(r"\b[0-9a-f]{64}\b")
_VOLATILE_COLUMNS = {"import_run": {"duration_ms"}}


def _clean_env():
    return {k: v for k, v in os.environ.items() if k not in ("VOISINAGE_DB", "VOISINAGE_MODERATOR")}


def cli(db, *args, cwd=None, check=True, **kwargs):
    completed = subprocess.run([harness.BINARY, "--db", str(db)] + [str(a) for a in args], capture_output=True,
                               text=True, env=_clean_env(), timeout=120, cwd=cwd, **kwargs)
    if check and completed.returncode != 0:
        raise AssertionError(f"voisinage {' '.join(map(str, args))}: {harness.Result(completed)}")
    return completed


def checkpoint(db):
    """Moves the WAL into the main file, so that copying the main file copies the whole database."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.close()


def copy_db(source, target):
    checkpoint(source)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, target)


def _mask(value):
    if isinstance(value, str):
        return _HASH.sub("<hash>", _TIME.sub("<time>", value))
    return value


def digest(db, tables=None):
    """A digest of the rows of `tables` (every table when None), with times and hashes masked: two runs of the same
    operation on the same data give the same digest."""
    conn = sqlite3.connect(db)
    try:
        names = tables or [t for t in harness.table_names(conn) if not t.startswith("sqlite_")]
        h = hashlib.sha256()
        for table in names:
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')
                       if r[1] not in _VOLATILE_COLUMNS.get(table, ())]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = sorted(repr(tuple(_mask(v) for v in row))
                          for row in conn.execute(f'SELECT {select} FROM "{table}"'))
            h.update(f"{table}:{len(rows)}\n".encode())
            for row in rows:
                h.update(row.encode() + b"\n")
        return h.hexdigest()
    finally:
        conn.close()


def file_digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_registries",
                                                  harness.SOURCE_DIR / "bench" / "generate_registries.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_sirene(path, rows, seed):
    """A SIRENE establishment file of `rows` rows, every one in Thomery (bench/generate_registries.py's rows, which
    otherwise put 1 % there): most rows become directory entries."""
    generator = load_generator()
    generator.COMMUNES = [generator.COMMUNES[0]] * 2
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(generator.SIRENE_HEADER + "\n")
        out.writelines(generator.sirene_row(i, rnd) + "\n" for i in range(rows))


def add_reported_posts(db, author, reporter, count):
    """`count` posts by `author`, each with an open case and a spam report by `reporter`, written directly (as
    bench/moderation does): through the CLI it would take a minute."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            hood = conn.execute("SELECT neighbourhood_id FROM member WHERE id = ?", (author,)).fetchone()[0]
            first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM post").fetchone()[0]
            conn.execute("""
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
                INSERT INTO post (id, neighbourhood_id, author_id, kind, title, body, status, created_at, updated_at)
                SELECT ? + i, ?, ?, 'discussion', 'Annonce ' || i, 'Achetez ' || i, 'visible',
                       '2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z' FROM n""", (count, first, hood, author))
            conn.execute("""
                INSERT INTO moderation_case (target_type, target_id, status, score, reporters, opened_at, updated_at)
                SELECT 'post', id, 'open', 1, 1, '2026-01-02T10:00:00Z', '2026-01-02T10:00:00Z'
                FROM post WHERE id >= ?""", (first,))
            conn.execute("""
                INSERT INTO report (case_id, reporter_id, reason, snapshot, weight, created_at)
                SELECT c.id, ?, 'spam', json_object('body', p.body), 1, '2026-01-02T10:00:00Z'
                FROM moderation_case c JOIN post p ON c.target_type = 'post' AND p.id = c.target_id
                WHERE p.id >= ?""", (reporter, first))
    finally:
        conn.close()


def add_grievance_copies(db, count):
    """Copies the database's first grievance and its events `count` times (new ids, references and sequence
    numbers), as a town hall would accumulate them over years."""
    conn = sqlite3.connect(db)
    try:
        with conn:
            columns = [r[1] for r in conn.execute("PRAGMA table_info(grievance)")]
            year, last = conn.execute("SELECT year, max(seq) FROM grievance").fetchone()
            copied = [c for c in columns if c not in ("id", "reference", "seq")]
            conn.execute(f"""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                INSERT INTO grievance (reference, seq, {", ".join(copied)})
                SELECT printf('DOL-%04d-%06d', {year}, {last} + i), {last} + i, {", ".join("g." + c for c in copied)}
                FROM n, (SELECT * FROM grievance ORDER BY id LIMIT 1) g""", (count,))
            event_columns = [r[1] for r in conn.execute("PRAGMA table_info(grievance_event)")
                             if r[1] not in ("id", "grievance_id")]
            conn.execute(f"""
                INSERT INTO grievance_event (grievance_id, {", ".join(event_columns)})
                SELECT g.id, {", ".join("e." + c for c in event_columns)}
                FROM grievance g, grievance_event e
                WHERE g.id > (SELECT min(id) FROM grievance)
                  AND e.grievance_id = (SELECT min(id) FROM grievance)
                ORDER BY g.id, e.id""")
    finally:
        conn.close()


class Trial:
    """One run of an operation on its own copy of the prepared database, killed after `delay` seconds."""

    def __init__(self, argv, cwd, delay):
        started = time.monotonic()
        proc = subprocess.Popen([harness.BINARY] + [str(a) for a in argv], cwd=cwd, env=_clean_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            proc.wait(delay)
            self.finished = True  # ran to its end before the kill was due
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.finished = proc.returncode != -signal.SIGKILL
        self.code = proc.returncode
        self.err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        self.elapsed = time.monotonic() - started


class CrashTest(unittest.TestCase):
    """The prepared databases live in one temporary directory for the class; every trial has its own directory."""

    @classmethod
    def setUpClass(cls):
        cls.root = Path(tempfile.mkdtemp(prefix="voisinage-crash-"))
        cls.rng = random.Random(SEED)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def trial_dir(self, name):
        path = self.root / name
        if path.exists():
            shutil.rmtree(path)
        path.mkdir()
        return path

    def measure(self, argv, cwd):
        """Runs the operation to completion once and returns its wall time."""
        started = time.monotonic()
        completed = subprocess.run([harness.BINARY] + [str(a) for a in argv], cwd=cwd, env=_clean_env(),
                                   capture_output=True, text=True, timeout=120)
        elapsed = time.monotonic() - started
        self.assertEqual(completed.returncode, 0, harness.Result(completed))
        return elapsed

    def delays(self, duration):
        """KILLS delays spread over the operation's duration (its start-up included) and a little past it."""
        return [self.rng.uniform(0.0, 1.15 * duration) for _ in range(KILLS)]

    def assertDbCheck(self, db, context):
        result = cli(db, "db", "check", check=False)
        self.assertEqual(result.returncode, 0, f"{context}: {harness.Result(result)}")

    def report(self, operation, duration, counts):
        print(f"\n{operation}: {KILLS} kills over {duration:.2f} s: " +
              ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr, flush=True)

    def kill_loop(self, operation, prepared, argv, tables):
        """Kills `voisinage --db DB argv...` KILLS times; after each, `db check` passes and the digest of `tables`
        is the one before or the one after. Returns the counts."""
        reference = self.trial_dir(f"{operation}-reference")
        db = reference / "town.db"
        copy_db(prepared, db)
        before = digest(db, tables)
        duration = self.measure(["--db", db] + argv, reference)
        self.assertDbCheck(db, f"{operation} run to completion")
        after = digest(db, tables)
        self.assertNotEqual(before, after, f"{operation} changed nothing: the test could not fail")

        counts = {"before": 0, "after": 0, "finished before the kill": 0}
        for number, delay in enumerate(self.delays(duration)):
            work = self.trial_dir(f"{operation}-{number}")
            db = work / "town.db"
            copy_db(prepared, db)
            trial = Trial(["--db", db] + argv, work, delay)
            context = f"{operation}, kill {number} after {delay:.3f} s (exit {trial.code}): {trial.err}"
            if trial.finished:
                self.assertEqual(trial.code, 0, context)
            self.assertDbCheck(db, context)
            state = digest(db, tables)
            self.assertIn(state, (before, after), f"{context}: the data is neither the state before nor after")
            if trial.finished:
                counts["finished before the kill"] += 1
            else:
                counts["before" if state == before else "after"] += 1
            shutil.rmtree(work)
        self.report(operation, duration, counts)
        self.assertGreater(counts["before"], 0, f"{operation}: no kill landed before the end: {counts}")
        return counts

    # ---- the operations

    def thomery(self, name):
        db = self.root / name
        cli(db, "init", "--from", harness.EXAMPLES / "thomery.yaml")
        return db

    def test_import_merchants(self):
        prepared = self.thomery("import.db")
        sirene = self.root / "sirene.csv"
        write_sirene(sirene, 25000, seed=1)
        self.kill_loop("import merchants", prepared, ["import", "merchants", sirene],
                       ["directory_entry", "import_run"])

    def test_init_from_on_a_new_file(self):
        """Before: no database at all (init builds the new file under a temporary name). After: the town."""
        town = harness.EXAMPLES / "thomery.yaml"
        reference = self.trial_dir("init-new-reference")
        duration = self.measure(["--db", reference / "town.db", "init", "--from", town], reference)
        after = digest(reference / "town.db")
        counts = {"before": 0, "after": 0, "finished before the kill": 0, "temporary files left": 0}
        for number, delay in enumerate(self.delays(duration)):
            work = self.trial_dir(f"init-new-{number}")
            db = work / "town.db"
            trial = Trial(["--db", db, "init", "--from", town], work, delay)
            context = f"init --from (new file), kill {number} after {delay:.3f} s (exit {trial.code}): {trial.err}"
            if trial.finished:
                self.assertEqual(trial.code, 0, context)
            if db.exists():
                self.assertDbCheck(db, context)
                self.assertEqual(digest(db), after, f"{context}: the database is neither absent nor complete")
                counts["finished before the kill" if trial.finished else "after"] += 1
            else:
                self.assertFalse(trial.finished, context)
                counts["before"] += 1
                self.assertFalse(Path(str(db) + "-wal").exists(), context)
            others = {p.name for p in work.iterdir()} - {"town.db", "town.db-wal", "town.db-shm"}
            for name in others:  # what a kill leaves: the temporary database, never under the final name
                self.assertRegex(name, r"^\.voisinage-[A-Za-z0-9]{6}(-wal|-shm|-journal)?$", context)
            counts["temporary files left"] += len(others)
            shutil.rmtree(work)
        self.report("init --from (new file)", duration, counts)

    def test_init_from_on_an_existing_file(self):
        """A town file that changes an existing town (another town's file applied over it changes every section)."""
        prepared = self.thomery("init-existing.db")
        self.kill_loop("init --from (existing file)", prepared,
                       ["init", "--from", harness.EXAMPLES / "dinan.yaml"], None)

    def test_bulk_moderation(self):
        prepared = self.thomery("mod.db")
        author = cli(prepared, "member", "add", "--name", "Spammeur", "--neighbourhood", "by", "--json").stdout
        author = int(re.search(r'"id":\s*(\d+)', author)[1])
        reporter = cli(prepared, "member", "add", "--name", "Zoé", "--neighbourhood", "by", "--json").stdout
        reporter = int(re.search(r'"id":\s*(\d+)', reporter)[1])
        add_reported_posts(prepared, author, reporter, 3000)
        self.assertDbCheck(prepared, "the prepared moderation database")
        self.kill_loop("mod hide --where", prepared,
                       ["mod", "hide", "--where", f"author={author}", "--reason", "spam", "--as", MODERATOR],
                       ["post", "moderation_case", "report", "decision", "restriction", "audit_log"])

    def test_grievance_export_to_a_file(self):
        prepared = self.thomery("grievances.db")
        cli(prepared, "grievance", "add", "--category", "voirie", "--title", "Nid-de-poule, « profond »",
            "--description", "Un trou devant le 14, rue de la République", "--address", "14 rue de la République",
            "--contact-name", "Jean Dupont", "--contact-email", "jean.dupont@example.fr")
        add_grievance_copies(prepared, 100000)
        self.assertDbCheck(prepared, "the prepared grievance database")

        reference = self.trial_dir("export-reference")
        db = reference / "town.db"
        copy_db(prepared, db)
        before = file_digest(db)  # the export writes nothing (and digest() would take seconds here)
        argv = ["--db", db, "grievance", "export", "--format", "csv", "-o", "out/export.csv"]
        (reference / "out").mkdir()
        duration = self.measure(argv, reference)
        expected = (reference / "out" / "export.csv").read_bytes()
        self.assertGreater(expected.count(b"\n"), 100000)
        self.assertEqual(sorted(p.name for p in (reference / "out").iterdir()), ["export.csv"])

        counts = {"no file": 0, "complete file": 0, "temporary files left": 0, "finished before the kill": 0}
        for number, delay in enumerate(self.delays(duration)):
            work = self.trial_dir(f"export-{number}")
            db = work / "town.db"
            copy_db(prepared, db)
            (work / "out").mkdir()
            trial = Trial(["--db", db, "grievance", "export", "--format", "csv", "-o", "out/export.csv"], work, delay)
            context = f"grievance export, kill {number} after {delay:.3f} s (exit {trial.code}): {trial.err}"
            final = work / "out" / "export.csv"
            if final.exists():
                self.assertEqual(final.read_bytes(), expected, f"{context}: a partial export under the final name")
                counts["finished before the kill" if trial.finished else "complete file"] += 1
            else:
                self.assertFalse(trial.finished, context)
                counts["no file"] += 1
            others = [p.name for p in (work / "out").iterdir() if p.name != "export.csv"]
            for name in others:  # what a kill leaves: the temporary file, never under the final name
                self.assertRegex(name, r"^\.voisinage-[A-Za-z0-9]{6}$", context)
            self.assertLessEqual(len(others), 1, context)
            counts["temporary files left"] += len(others)
            self.assertDbCheck(db, context)
            checkpoint(db)
            self.assertEqual(file_digest(db), before, f"{context}: an export changed the database")
            shutil.rmtree(work)
        self.report("grievance export -o", duration, counts)
        self.assertGreater(counts["no file"], 0, counts)


if __name__ == "__main__":
    unittest.main(verbosity=2)
