"""voisinage mod triage, driven through a pseudo-terminal like a moderator at an 80x24 terminal, and mod undo."""

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time

import harness

MODERATOR = "sandrine.petit@mairie-thomery.example.fr"
OTHER_MODERATOR = "karim.benali@mairie-thomery.example.fr"


class Terminal:
    """The binary on a pseudo-terminal: type keys, read the screen."""

    def __init__(self, test, *args):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {k: v for k, v in os.environ.items() if k != "VOISINAGE_DB"}
        env["TERM"] = "xterm"
        self.process = subprocess.Popen([harness.BINARY, "--db", str(test.db), *args], stdin=slave, stdout=slave,
                                        stderr=slave, cwd=test.dir, env=env, close_fds=True)
        os.close(slave)
        self.screen = ""

    def read_until(self, text, timeout=10):
        deadline = time.time() + timeout
        while text not in self.screen:
            remaining = deadline - time.time()
            if remaining <= 0:
                raise AssertionError(f"{text!r} never appeared; screen so far:\n{self.screen}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    self.screen += os.read(self.master, 4096).decode("utf-8", "replace")
                except OSError:
                    break
        return self.screen

    def type(self, keys):
        os.write(self.master, keys.encode())

    def finish(self, timeout=10):
        code = self.process.wait(timeout=timeout)
        try:
            while True:
                chunk = os.read(self.master, 4096)
                if not chunk:
                    break
                self.screen += chunk.decode("utf-8", "replace")
        except OSError:
            pass
        os.close(self.master)
        return code


class TriageTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.populate)

    def populate(self):
        self.init_thomery()
        for name in ("alice", "bob", "chloe", "david"):
            self.ok("member", "add", "--name", name.title(), "--email", f"{name}@example.fr",
                    "--neighbourhood", "centre-bourg")
        self.ok("post", "add", "--as", "alice@example.fr", "--body", "Vends scooter volé, pas cher \x1b[31m")
        self.ok("post", "add", "--as", "bob@example.fr", "--body", "Fête des voisins samedi")
        self.ok("report", "add", "1", "--reason", "scam", "--by", "chloe@example.fr")
        self.ok("report", "add", "2", "--reason", "spam", "--by", "david@example.fr")

    def test_refuses_without_a_terminal(self):
        self.fails("mod", "triage", "--as", MODERATOR, message="needs a terminal")

    def test_one_key_per_decision_then_undo(self):
        term = Terminal(self, "mod", "triage", "--as", MODERATOR)
        screen = term.read_until("[q]uit")
        self.assertIn("case 1", screen)
        self.assertNotIn("\x1b[31m", screen)  # the post's escape sequence is not sent to the terminal
        term.type("h")                        # hide
        term.read_until("reason:")
        term.type("2")                        # scam
        term.read_until("note")
        term.type("revente d'objet volé\r")
        term.read_until("case 2")
        term.type("k")                        # keep: dismiss the spam report
        term.read_until("reason:")
        term.type("\r")
        term.read_until("note")
        term.type("\r")
        term.read_until("no case left")
        self.assertEqual(term.finish(), 0)
        self.assertEqual(self.query("SELECT status FROM post ORDER BY id"), [("hidden",), ("visible",)])
        decisions = self.query("SELECT id, action, reason, note FROM decision ORDER BY id")
        self.assertEqual([d[1:] for d in decisions], [("hide", "scam", "revente d'objet volé"), ("dismiss", "spam", "")])
        # Undo the hiding: the post is back and its case open again.
        self.ok("mod", "undo", str(decisions[0][0]), "--as", MODERATOR)
        self.assertEqual(self.query("SELECT status FROM post WHERE id = 1"), [("visible",)])
        self.assertEqual(self.query("SELECT status FROM moderation_case WHERE target_id = 1"), [("open",)])
        self.fails("mod", "undo", str(decisions[0][0]), "--as", MODERATOR, message="already undone")

    def test_a_claimed_case_is_not_given_to_another_moderator(self):
        first = Terminal(self, "mod", "triage", "--as", MODERATOR)
        first.read_until("case 1")
        # Meanwhile a second moderator acting on the same case is told, and nothing changes.
        self.fails("mod", "hide", "1", "--reason", "scam", "--as", OTHER_MODERATOR, message="being triaged by")
        second = Terminal(self, "mod", "triage", "--as", OTHER_MODERATOR)
        screen = second.read_until("[q]uit")
        self.assertIn("case 2", screen)
        second.type("q")
        self.assertEqual(second.finish(), 0)
        first.type("q")
        self.assertEqual(first.finish(), 0)
        self.assertEqual(self.query("SELECT count(*) FROM decision"), [(0,)])
        self.assertEqual(self.query("SELECT count(*) FROM moderation_case WHERE claimed_by IS NOT NULL"), [(0,)])

    def test_help(self):
        self.ok("mod", "triage", "--help")
        self.ok("mod", "undo", "--help")
        self.fails("mod", "undo", code=2)


if __name__ == "__main__":
    harness.main()
