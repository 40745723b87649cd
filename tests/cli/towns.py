"""Helpers shared by the CLI tests on top of harness.py: town files, polygons, invitation codes, raw SQLite
access to the test database, and running the binary as an unprivileged user."""

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import harness

# The smallest valid town file; the lines that tests append start at line 5.
MINIMAL_TOWN = 'town:\n  name: Thomery\n  insee: "77463"\n  postcodes: ["77810"]\n'

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}$")
CODE_IN_TEXT_RE = re.compile(rf"\b[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}\b")

NOBODY = 65534


def copy_thomery(directory):
    """Copies examples/thomery.yaml and its polygon folder into `directory`; returns the YAML's path."""
    shutil.copytree(harness.EXAMPLES / "thomery", Path(directory) / "thomery")
    target = Path(directory) / "thomery.yaml"
    shutil.copyfile(harness.EXAMPLES / "thomery.yaml", target)
    return target


def edit(path, old, new):
    """Replaces exactly one occurrence of `old` in the file at `path`."""
    text = Path(path).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    Path(path).write_text(text.replace(old, new), encoding="utf-8")


def centroid(geojson_path):
    """(lat, lon) of the vertex average of the first ring of a Polygon file: inside any convex-ish example."""
    geometry = json.loads(Path(geojson_path).read_text(encoding="utf-8"))
    if geometry.get("type") == "Feature":
        geometry = geometry["geometry"]
    ring = geometry["coordinates"][0][:-1]
    lon = sum(p[0] for p in ring) / len(ring)
    lat = sum(p[1] for p in ring) / len(ring)
    return lat, lon


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def codes_from_csv(text):
    """The codes of `invite create --format csv` output (header skipped)."""
    return [line.split(",")[0] for line in text.splitlines()[1:] if line]


def raw_sql(db, *statements):
    """Runs statements on the test database behind the binary's back (foreign keys off), then commits."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


@contextlib.contextmanager
def write_lock(db):
    """Holds the database's write lock (BEGIN IMMEDIATE) for the duration of the block, like a long writer."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=0)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def run_as_nobody(*args, cwd):
    """Runs the binary as user 'nobody' (root ignores file permissions, so read-only needs another user)."""

    def drop_privileges():
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    env = {k: v for k, v in os.environ.items() if k != "VOISINAGE_DB"}
    completed = subprocess.run([harness.BINARY] + [str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                               text=True, preexec_fn=drop_privileges, timeout=60)
    return harness.Result(completed)
