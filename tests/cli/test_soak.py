"""Concurrency soak: for VOISINAGE_SOAK_SECONDS (60 by default) the server takes posts, reports and grievances
from 32 client threads (API tokens of eight residents, rate limits off) while the CLI imports a registry file
(two files in turn, so that every import writes), takes a bulk moderation decision and exports the grievances to
a file, in a loop. Afterwards every write the server accepted (2xx) is in the database, no request failed (no
status other than 2xx, no connection error), every CLI command exited 0, and "database is locked" or "is busy"
appeared nowhere: not on the server's or the commands' standard error, not in a response body.

Run alone (it keeps both cores busy): cd build && ctest -R cli.test_soak; VOISINAGE_SOAK_SECONDS=10 to shorten it."""

import http.client
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
import unittest

import harness
from test_crash import write_sirene
from test_serve import Server, _clean_env

SECONDS = float(os.environ.get("VOISINAGE_SOAK_SECONDS", "60"))
CLIENTS = 32
RESIDENTS = 8
MODERATOR = "sandrine.petit@mairie-thomery.example.fr"  # examples/thomery.yaml
NEIGHBOURHOODS = ["centre-bourg", "by", "effondre", "bord-de-seine"]
CATEGORIES = ["voirie", "eclairage_public", "proprete", "depots_sauvages", "espaces_verts"]
ALARMS = ("database is locked", "is busy", "internal error", "database error", "terminate", "Assertion")


class Client(threading.Thread):
    """One resident's client: posts, reports other residents' posts, and submits grievances until `deadline`."""

    def __init__(self, number, server, token, member, deadline, shared):
        super().__init__(name=f"client-{number}", daemon=True)
        self.rng = random.Random(number)
        self.server, self.token, self.member, self.deadline, self.shared = server, token, member, deadline, shared
        self.posts, self.reports, self.grievances = [], [], []
        self.requests = 0
        self.failures = []  # (what, detail)

    def call(self, path, body):
        self.requests += 1
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        try:
            conn.request("POST", path, body=json.dumps(body).encode(), headers={
                "Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                "Connection": "close"})
            answer = conn.getresponse()
            status, data = answer.status, answer.read()
        except (OSError, http.client.HTTPException) as e:
            self.failures.append((f"POST {path}", f"connection error: {e!r}"))
            return None
        finally:
            conn.close()
        text = data.decode("utf-8", errors="replace")
        if any(alarm in text for alarm in ALARMS):
            self.failures.append((f"POST {path}", f"{status}: {text[:300]}"))
        if not 200 <= status < 300:
            self.failures.append((f"POST {path}", f"{status}: {text[:300]}"))
            return None
        return json.loads(data)

    def run(self):
        n = 0
        while time.monotonic() < self.deadline:
            n += 1
            choice = self.rng.random()
            if choice < 0.45:
                answer = self.call("/api/v1/posts", {"body": f"Message {n} de {self.name} : qui a vu mon chat ?"})
                if answer:
                    self.posts.append(answer["post"]["id"])
                    with self.shared["lock"]:
                        self.shared["posts"].append((answer["post"]["id"], self.member))
            elif choice < 0.75:
                # Each post is reported once: three reports would hide it (and the API then answers 404).
                with self.shared["lock"]:
                    others = [p for p in self.shared["posts"][-200:] if p[1] != self.member
                              and p[0] not in self.shared["reported"]]
                    target = self.rng.choice(others) if others else None
                    if target:
                        self.shared["reported"].add(target[0])
                if target is None:
                    continue
                answer = self.call("/api/v1/reports", {"target": f"post:{target[0]}", "reason": "spam",
                                                       "details": f"signalé par {self.name}"})
                if answer:
                    self.reports.append(answer["report"])
            else:
                answer = self.call("/api/v1/grievances", {
                    "category": self.rng.choice(CATEGORIES), "title": f"Signalement {n} de {self.name}",
                    "description": "Un lampadaire éteint depuis trois jours, rue de la République.",
                    "address": "14 rue de la République", "postcode": "77810"})
                if answer:
                    self.grievances.append(answer["grievance"]["reference"])


class SoakTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.init_thomery()
        self.residents = []
        for number in range(RESIDENTS):
            member = self.ok("member", "add", "--name", f"Résident {number}", "--neighbourhood",
                             NEIGHBOURHOODS[number % len(NEIGHBOURHOODS)], "--json").json()["id"]
            token = self.ok("token", "create", "--member", member, "--label", "soak").out.strip()
            self.residents.append((member, token))
        self.registries = [self.dir / "sirene-a.csv", self.dir / "sirene-b.csv"]
        for seed, path in enumerate(self.registries):
            write_sirene(path, 4000, seed=seed)  # the same establishments, named differently: each import writes

    def cli_loop(self, deadline, commands):
        """Runs the import, the bulk decision and the export in turn until `deadline`."""
        round_number = 0
        while time.monotonic() < deadline:
            for args in (["import", "merchants", self.registries[round_number % 2]],
                         ["mod", "dismiss", "--where", "reason=spam", "--reason", "spam", "--as", MODERATOR],
                         ["grievance", "export", "--format", "csv", "-o", "export.csv"]):
                started = time.monotonic()
                result = self.run_cli(*args, timeout=120)
                commands.append((args[0] + " " + args[1], result, time.monotonic() - started))
            round_number += 1

    def test_soak(self):
        server = Server(self, ["--client-rate", "0", "--token-rate", "0"])
        started = time.monotonic()
        deadline = started + SECONDS
        shared = {"lock": threading.Lock(), "posts": [], "reported": set()}
        clients = [Client(n, server, self.residents[n % RESIDENTS][1], self.residents[n % RESIDENTS][0], deadline,
                          shared) for n in range(CLIENTS)]
        commands = []
        cli = threading.Thread(target=self.cli_loop, args=(deadline, commands), daemon=True)
        for thread in clients + [cli]:
            thread.start()
        for thread in clients + [cli]:
            thread.join(SECONDS + 180)
            self.assertFalse(thread.is_alive(), f"{thread.name} did not finish")
        elapsed = time.monotonic() - started
        code = server.stop()
        server_err = server.stderr()

        failures = [f for c in clients for f in c.failures]
        requests = sum(c.requests for c in clients)
        posts = [p for c in clients for p in c.posts]
        reports = [r for c in clients for r in c.reports]
        grievances = [g for c in clients for g in c.grievances]
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as conn:
            post_ids = {r[0] for r in conn.execute("SELECT id FROM post")}
            report_ids = {r[0] for r in conn.execute("SELECT id FROM report")}
            references = {r[0] for r in conn.execute("SELECT reference FROM grievance")}
            dismissed = conn.execute("SELECT count(*) FROM decision WHERE action = 'dismiss'").fetchone()[0]
            imports = conn.execute("SELECT count(*) FROM import_run WHERE inserted + updated > 0").fetchone()[0]
        conn.close()
        missing = ([f"post {p}" for p in posts if p not in post_ids] + [f"report {r}" for r in reports
                                                                        if r not in report_ids]
                   + [f"grievance {g}" for g in grievances if g not in references])
        failed_commands = [(name, result) for name, result, _ in commands if result.code != 0]
        alarmed_commands = [(name, result) for name, result, _ in commands
                            if any(alarm in result.err for alarm in ALARMS)]
        per_command = {}
        for name, _, seconds in commands:
            runs, total, longest = per_command.get(name, (0, 0.0, 0.0))
            per_command[name] = (runs + 1, total + seconds, max(longest, seconds))
        print(f"\nsoak: {elapsed:.0f} s, {CLIENTS} clients: {requests} requests served "
              f"({requests / elapsed:.0f}/s), {len(posts) + len(reports) + len(grievances)} writes verified "
              f"({len(posts)} posts, {len(reports)} reports, {len(grievances)} grievances), "
              f"{len(failures)} request errors, {len(missing)} missing writes; CLI: " +
              ", ".join(f"{name} x{runs} (mean {total / runs:.2f} s, max {longest:.2f} s)"
                        for name, (runs, total, longest) in per_command.items()) +
              f", {len(failed_commands)} failed; {dismissed} cases dismissed, {imports} imports that wrote",
              file=sys.stderr, flush=True)

        self.assertEqual(code, 0, server_err)
        for alarm in ALARMS:
            self.assertNotIn(alarm, server_err)
        self.assertEqual(failures[:10], [], f"{len(failures)} requests failed")
        self.assertEqual(missing[:10], [], f"{len(missing)} accepted writes are missing")
        self.assertEqual(failed_commands[:3], [])
        self.assertEqual(alarmed_commands[:3], [])
        for name in ("import merchants", "mod dismiss", "grievance export"):
            self.assertIn(name, per_command, "the CLI loop did not run every command")
        self.assertGreater(len(posts), 0)
        self.assertGreater(len(reports), 0)
        self.assertGreater(len(grievances), 0)
        self.assertGreater(dismissed, 0, "the bulk decisions found no case")
        self.assertGreater(imports, 1, "the imports did not write")
        self.ok("db", "check")


if __name__ == "__main__":
    harness.main()
