#!/usr/bin/env python3
"""Extends a voisinage audit log to N entries with the hash chain of lib/moderation/audit_log.cpp:
hash = SHA-256 over "len:field" for prev_hash, at, actor, action, target, reason, details.
Usage: extend_audit_log.py DB N"""

import hashlib
import sqlite3
import sys


def entry_hash(prev_hash, at, actor, action, target, reason, details):
    h = hashlib.sha256()
    for field in (prev_hash, at, actor, action, target, reason, details):
        data = field.encode("utf-8")
        h.update(f"{len(data)}:".encode())
        h.update(data)
    return h.hexdigest()


def main():
    db, target = sys.argv[1], int(sys.argv[2])
    conn = sqlite3.connect(db)
    (count,) = conn.execute("SELECT count(*) FROM audit_log").fetchone()
    (prev,) = conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    rows = []
    for i in range(count, target):
        at = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z"
        fields = (at, f"member:{3 + i % 2}", "post.hide", f"post:{i}", "spam", '{"note":"bench"}')
        prev = entry_hash(prev, *fields)
        rows.append(fields + (rows[-1][-1] if rows else None, prev))
    # prev_hash of each row is the hash of the row before it.
    with conn:
        previous = conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()[0]
        batch = []
        for fields in rows:
            batch.append(fields[:6] + (previous, fields[7]))
            previous = fields[7]
        conn.executemany("INSERT INTO audit_log (at, actor, action, target, reason, details, prev_hash, hash) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)


if __name__ == "__main__":
    main()
