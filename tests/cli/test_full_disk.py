"""A full disk, simulated with a file-size limit (RLIMIT_FSIZE, `ulimit -f`): every writing command fails with
exit 1 and a clear message (no SQLite jargon, no crash), and the database is intact (`db check` passes) and
unchanged; an export or a backup leaves no file under its name.

voisinage ignores SIGXFSZ (cmd/main.cpp), so a write past the limit fails with EFBIG instead of killing the
process. The limit (8 KiB) is below the size of one WAL frame (an 8 KiB page and its header): no transaction can
be written. A connection of the test keeps the database open meanwhile, as a running server would: the WAL index
(-shm, 32 KiB) already exists, so the command can open and read the file and fails only when it writes."""

import importlib.util
import os
import random
import resource
import sqlite3
import subprocess

import harness

LIMIT = 8192
MODERATOR = "sandrine.petit@mairie-thomery.example.fr"


def _limit():
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


class FullDiskTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.populate, "lucie", "zoe", "alain", "post", "case")

    def populate(self):
        self.init_thomery()
        self.lucie = self.ok("member", "add", "--name", "Lucie Bernard", "--neighbourhood", "by",
                             "--json").json()["id"]
        self.zoe = self.ok("member", "add", "--name", "Zoé", "--neighbourhood", "by", "--json").json()["id"]
        self.alain = self.ok("member", "add", "--name", "Alain", "--neighbourhood", "by", "--json").json()["id"]
        self.post = self.ok("post", "add", "--as", self.lucie, "--body", "Vends vélo", "--json").json()["post"]["id"]
        self.case = self.ok("report", "add", self.post, "--reason", "spam", "--by", self.zoe,
                            "--json").json()["case"]["id"]
        for n in range(60):  # an export of more than LIMIT bytes
            self.ok("grievance", "add", "--category", "voirie", "--title", f"Nid-de-poule {n}",
                    "--description", "Un trou dans la chaussée, devant le numéro " + str(n) * 20)
        conn = sqlite3.connect(self.db)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        conn.close()

    def full(self, *args, files=()):
        """Runs a command under the limit while another connection holds the database open; asserts exit 1, a
        clear message, an intact and unchanged database, and none of `files`."""
        before = self.snapshot()
        holder = sqlite3.connect(self.db)
        holder.execute("SELECT count(*) FROM member").fetchall()
        try:
            result = self.run_cli(*args, preexec_fn=_limit)
        finally:
            holder.close()
        context = f"voisinage {' '.join(map(str, args))}: {result}"
        self.assertEqual(result.code, 1, context)
        self.assertIn("voisinage: error: ", result.err, context)
        for jargon in ("SQLite", "sqlite", "SQLITE", "terminate", "Aborted", "what():", "core dumped"):
            self.assertNotIn(jargon, result.err, context)
        self.assertEqual(result.out, "", context)
        self.assertRegex(result.err, "disk is full|cannot write to the disk|File too large", context)
        print(f"\n  {' '.join(map(str, args[:3]))}: {result.err.strip()!r}", flush=True)
        self.ok("db", "check")
        self.assertUnchanged(before)
        for name in files:
            self.assertFalse((self.dir / name).exists(), f"{context}: '{name}' was left")
        leftovers = [p.name for p in self.dir.iterdir() if p.name.startswith(".voisinage-")]
        self.assertEqual(leftovers, [], context)
        return result

    def run_cli(self, *args, preexec_fn=None, **kwargs):
        if preexec_fn is None:
            return super().run_cli(*args, **kwargs)
        env = {k: v for k, v in os.environ.items() if k != "VOISINAGE_DB"}
        argv = [harness.BINARY, "--db", str(self.db)] + [str(a) for a in args]
        return harness.Result(subprocess.run(argv, cwd=self.dir, capture_output=True, text=True, env=env,
                                             timeout=60, preexec_fn=preexec_fn))

    def test_every_writing_command(self):
        commands = {
            "init --from (changes)": (["init", "--from", harness.EXAMPLES / "dinan.yaml"], ()),
            "member add": (["member", "add", "--name", "Jean Dupont", "--neighbourhood", "by"], ()),
            "token create": (["token", "create", "--member", self.lucie], ()),
            "post add": (["post", "add", "--as", self.lucie, "--body", "Bonjour"], ()),
            "report add": (["report", "add", self.post, "--reason", "scam", "--by", self.alain], ()),
            "mod hide": (["mod", "hide", self.case, "--reason", "spam", "--as", MODERATOR], ()),
            "mod hide --where": (["mod", "hide", "--where", f"author={self.lucie}", "--reason", "spam", "--as",
                                  MODERATOR], ()),
            "grievance add": (["grievance", "add", "--category", "voirie", "--title", "Trou", "--description",
                               "Un trou"], ()),
            "grievance export -o": (["grievance", "export", "--format", "csv", "-o", "export.csv"],
                                    ("export.csv",)),
            "db backup": (["db", "backup", "backup.db"], ("backup.db", "backup.db.partial")),
        }
        sirene = self.write("sirene.csv", _sirene(300))
        commands["import merchants"] = (["import", "merchants", sirene], ())
        for name, (args, files) in commands.items():
            with self.subTest(command=name):
                self.full(*args, files=files)

    def test_init_from_on_a_new_file(self):
        """No database is left at all: the new file is built under a temporary name."""
        self.db = self.dir / "new.db"
        result = self.run_cli("init", "--from", harness.EXAMPLES / "thomery.yaml", preexec_fn=_limit)
        self.assertEqual(result.code, 1, result)
        self.assertIn("voisinage: error: ", result.err, result)
        for jargon in ("SQLite", "sqlite", "terminate", "what():"):
            self.assertNotIn(jargon, result.err, result)
        print(f"\n  init --from (new file): {result.err.strip()!r}", flush=True)
        self.assertEqual(sorted(p.name for p in self.dir.iterdir() if p.name.startswith(("new.db", ".voisinage-"))),
                         [])


def _sirene(rows):
    spec = importlib.util.spec_from_file_location("generate_registries",
                                                  harness.SOURCE_DIR / "bench" / "generate_registries.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    generator.COMMUNES = [generator.COMMUNES[0]] * 2
    rnd = random.Random(3)
    return generator.SIRENE_HEADER + "\n" + "".join(generator.sirene_row(i, rnd) + "\n" for i in range(rows))


if __name__ == "__main__":
    harness.main()
