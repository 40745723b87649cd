"""voisinage mod: the queue, a case, decisions and their statements of reasons, restrictions, word rules and the
audit log with its hash chain."""

import hashlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone

import harness

SANDRINE = "sandrine.petit@mairie-thomery.example.fr"  # moderator in examples/thomery.yaml
KARIM = "karim.benali@mairie-thomery.example.fr"  # moderator
MARIE = "marie.lefevre@mairie-thomery.example.fr"  # townhall
THOMAS = "thomas.garnier@mairie-thomery.example.fr"  # admin
FUTURE = "2031-01-01"
CONTROLS = ("\x1b", "\x07", "\u009b", "\u202e")  # ESC, BEL, the one-character CSI, a bidi override
UNSAFE = "<script>alert('x')</script> '; DELETE FROM post;-- \x1b[2J\x1b]0;pwned\x07 \u009b1m \u202eesrever\nsuite"
STATEMENT_KEYS = {"restriction", "scope", "duration", "facts", "ground", "automated_detection", "automated_decision",
                  "appeal"}


class ModTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.populate, "lucie", "paul", "zoe", "alain", "bea", "yves")
        self.sandrine = self.member_id(SANDRINE)
        self.karim = self.member_id(KARIM)

    def populate(self):
        self.init_thomery()
        self.lucie = self.member("Lucie Bernard")
        self.paul = self.member("Paul Martin", neighbourhood="effondre")
        self.zoe, self.alain, self.bea, self.yves = (self.member(n) for n in ("Zoé", "Alain", "Béa", "Yves"))

    # ---- helpers

    def member(self, name, role="resident", neighbourhood="by"):
        return self.ok("member", "add", "--name", name, "--role", role, "--neighbourhood", neighbourhood,
                       "--json").json()["id"]

    def member_id(self, email):
        return self.query("SELECT id FROM member WHERE email = ?", email)[0][0]

    def post(self, body, author=None, *args):
        return self.ok("post", "add", "--as", author or self.lucie, "--body", body, *args,
                       "--json").json()["post"]["id"]

    def report(self, target, reason, by, *args):
        return self.ok("report", "add", target, "--reason", reason, "--by", by, *args, "--json").json()

    def reported_case(self, body="Publication signalée", reason="spam", by=None, author=None):
        """(post id, case id) of a new post reported once."""
        post_id = self.post(body, author)
        return post_id, self.report(post_id, reason, by or self.zoe)["case"]["id"]

    def decide(self, action, target, *args, reason="spam", moderator=SANDRINE):
        return self.ok("mod", action, target, "--reason", reason, "--as", moderator, *args)

    def post_state(self, post_id):
        return self.query("SELECT status, locked FROM post WHERE id = ?", post_id)[0]

    def case_state(self, case_id):
        return self.query("SELECT status, closed_at IS NOT NULL FROM moderation_case WHERE id = ?", case_id)[0]

    def can_post(self, member):
        return self.run_cli("post", "add", "--as", member, "--body", "Bonjour").code == 0

    def writable(self):
        """A read-write connection, as someone tampering with the file would open it."""
        conn = sqlite3.connect(self.db)
        self.addCleanup(conn.close)
        return conn

    # ---- queue

    def test_queue_order(self):
        _, spam = self.reported_case("Pub", "spam")
        _, hate = self.reported_case("Haine", "hate")
        _, minors = self.reported_case("Mineurs", "minors")
        hidden_post, hidden = self.reported_case("Pub trois fois", "spam")
        self.report(hidden_post, "spam", self.alain)
        self.assertTrue(self.report(hidden_post, "spam", self.bea)["auto_hidden"])
        order = [minors, hidden, hate, spam]  # urgent, hidden automatically, then by score
        queue = self.ok("mod", "queue", "--json").json()
        self.assertEqual([c["id"] for c in queue], order)
        self.assertEqual([(c["score"], c["urgent"], c["auto_hidden"]) for c in queue],
                         [(5.0, True, False), (3.0, False, True), (3.0, False, False), (1.0, False, False)])
        lines = self.ok("mod", "queue").out.splitlines()
        self.assertEqual(lines[0].split(), ["CASE", "AGE", "SCORE", "REASONS", "TARGET", "EXCERPT", "NEIGHBOURHOOD"])
        self.assertEqual([int(line.split()[0]) for line in lines[1:]], order)
        self.assertRegex(lines[1], rf"^{minors}\s+\d+m\s+5\.0\s+URGENT minors\s+post:\d+\s+Mineurs\s+by$")
        self.assertRegex(lines[2], r"\s3\.0\s+hidden spam\s")

    def test_queue_filters(self):
        _, by_case = self.reported_case("Pub", "spam")
        paul_post = self.post("Pub d'Effondré", self.paul)
        effondre_case = self.report(paul_post, "scam", self.zoe)["case"]["id"]
        member_case = self.report(f"member:{self.paul}", "harassment", self.zoe)["case"]["id"]
        _, closed_case = self.reported_case("Déjà vu", "off_topic")
        self.decide("dismiss", closed_case, reason="off_topic")

        def ids(*args):
            return sorted(c["id"] for c in self.ok("mod", "queue", *args, "--json").json())

        self.assertEqual(ids(), sorted([by_case, effondre_case, member_case]))
        self.assertEqual(ids("--reason", "scam"), [effondre_case])
        self.assertEqual(ids("--neighbourhood", "effondre"), sorted([effondre_case, member_case]))
        self.assertEqual(ids("--kind", "member"), [member_case])
        self.assertEqual(ids("--kind", "post"), sorted([by_case, effondre_case]))
        self.assertEqual(ids("--status", "closed"), [closed_case])
        self.assertEqual(ids("--status", "all"), sorted([by_case, effondre_case, member_case, closed_case]))
        self.assertEqual(ids("--since", "2000-01-01"), ids())
        self.assertEqual(ids("--since", "2999-01-01"), [])
        self.assertEqual(len(ids("--limit", 1)), 1)
        self.assertEqual(self.ok("mod", "queue", "--status", "closed").out.count("off_topic"), 1)

    def test_queue_bad_filters(self):
        self.fails("mod", "queue", "--reason", "spamm", message="unknown reason 'spamm' (did you mean 'spam'?)")
        self.fails("mod", "queue", "--neighbourhood", "bx", message="unknown neighbourhood 'bx'")
        self.fails("mod", "queue", "--since", "hier", message="invalid date 'hier'")
        for args in (["--kind", "comment"], ["--status", "pending"], ["--limit", "tous"]):
            with self.subTest(args=args):
                self.fails("mod", "queue", *args, code=2)

    def test_a_dismissed_automatic_hiding_no_longer_counts_as_hidden(self):
        post_id, case_id = self.reported_case("Pub", "spam")
        self.report(post_id, "spam", self.alain)
        self.report(post_id, "spam", self.bea)
        self.decide("dismiss", case_id)
        self.assertEqual(self.post_state(post_id)[0], "visible")
        self.report(post_id, "scam", self.yves)  # reopens the case; the post is visible
        queued = self.ok("mod", "queue", "--json").json()[0]
        self.assertEqual((queued["id"], queued["status"]), (case_id, "open"))
        self.assertFalse(queued["auto_hidden"], "the queue says the post is hidden while it is visible")
        self.assertNotIn("hidden", self.ok("mod", "queue").out)
        self.assertNotIn("hidden automatically", self.ok("mod", "show", case_id).out)

    # ---- show

    def test_show_as_reported_and_now(self):
        post_id = self.post("Vends vélo 50 euros", None, "--title", "Vélo")
        case_id = self.report(post_id, "spam", self.zoe, "--details", "c'est une pub")["case"]["id"]
        self.ok("post", "edit", post_id, "--body", "Vélo vendu, merci")
        self.report(post_id, "scam", self.alain, "--details", "arnaque probable")
        data = self.ok("mod", "show", case_id, "--json").json()
        self.assertEqual((data["id"], data["target"], data["status"], data["score"], data["reporters"]),
                         (case_id, f"post:{post_id}", "open", 3.0, 2))
        self.assertEqual(data["as_reported"]["body"], "Vends vélo 50 euros")
        self.assertEqual(data["now"]["body"], "Vélo vendu, merci")
        self.assertEqual([(r["reason"], r["reporter"]["id"], r["details"]) for r in data["reports"]],
                         [("spam", self.zoe, "c'est une pub"), ("scam", self.alain, "arnaque probable")])
        self.assertEqual(data["decisions"], [])

        out = self.ok("mod", "show", case_id).out
        self.assertTrue(out.startswith(f"case {case_id} · post:{post_id} · open · score 3"), out)
        as_reported, now = out.index("as reported:"), out.index("now:")
        self.assertLess(as_reported, out.index("Vends vélo 50 euros"))
        self.assertLess(out.index("Vends vélo 50 euros"), now)
        self.assertLess(now, out.index("Vélo vendu, merci"))
        self.assertIn("spam by Zoé (resident): c'est une pub", out)
        self.assertIn("scam by Alain (resident): arnaque probable", out)

        self.decide("hide", case_id, "--note", "publicité déguisée")
        data = self.ok("mod", "show", case_id, "--json").json()
        self.assertEqual(data["status"], "closed")
        self.assertEqual([(d["action"], d["reason"], d["moderator"], d["note"], d["automated"])
                          for d in data["decisions"]], [("hide", "spam", self.sandrine, "publicité déguisée", False)])
        self.assertEqual(set(data["decisions"][0]["statement"]), STATEMENT_KEYS)
        self.assertRegex(self.ok("mod", "show", case_id).out, r"decisions:\n  \S+ hide \(spam\)\n")

    def test_show_the_authors_history(self):
        _, old_case = self.reported_case("Ancienne pub", "spam")
        self.decide("remove", old_case)
        self.decide("warn", self.lucie, "--note", "pubs répétées")
        _, case_id = self.reported_case("Nouvelle pub", "spam", self.alain)
        history = self.ok("mod", "show", case_id, "--json").json()["author_history"]
        self.assertEqual([(c["id"], c["status"]) for c in history["cases"]], [(old_case, "closed")])
        # Two strikes: the removed post, and the warning.
        self.assertEqual([(r["kind"], r["lifted_at"]) for r in history["restrictions"]],
                         [("warning", ""), ("warning", "")])
        out = self.ok("mod", "show", case_id).out
        self.assertIn("author's history: 1 other case(s), 2 restriction(s)\n", out)
        self.assertRegex(out, r"\n  warning since \S+ until \S+\n")

    def test_show_a_member_case(self):
        case_id = self.report(f"member:{self.lucie}", "harassment", self.zoe, "--details", "messages insultants")[
            "case"]["id"]
        data = self.ok("mod", "show", case_id, "--json").json()
        self.assertEqual((data["target"], data["as_reported"]["display_name"], data["now"]["role"]),
                         (f"member:{self.lucie}", "Lucie Bernard", "resident"))
        self.assertIn("member Lucie Bernard (resident)", self.ok("mod", "show", case_id).out)

    def test_show_prints_hostile_text_safely(self):
        post_id = self.post(UNSAFE, None, "--title", "Titre \x1b[31mrouge")
        case_id = self.report(post_id, "spam", self.zoe, "--details", UNSAFE)["case"]["id"]
        self.assertEqual(self.query("SELECT body FROM post WHERE id = ?", post_id), [(UNSAFE,)])
        self.assertEqual(self.query("SELECT details FROM report"), [(UNSAFE,)])
        data = self.ok("mod", "show", case_id, "--json").json()
        self.assertEqual((data["now"]["body"], data["reports"][0]["details"]), (UNSAFE, UNSAFE))
        for args in (["mod", "show", case_id], ["mod", "queue"], ["mod", "log"]):
            with self.subTest(args=args):
                out = self.ok(*args).out
                for control in CONTROLS:
                    self.assertNotIn(control, out)
        out = self.ok("mod", "show", case_id).out
        self.assertIn("<script>alert('x')</script> '; DELETE FROM post;--", out)
        self.assertEqual(self.query("SELECT count(*) FROM post"), [(1,)])

    def test_show_unknown_case(self):
        self.fails("mod", "show", 999, message="unknown case '999'")
        self.fails("mod", "show", "abc", code=2)

    # ---- decisions on content

    def test_content_decisions(self):
        expected = {  # action: (post status, locked, reports' outcome)
            "hide": ("hidden", 0, "upheld"),
            "remove": ("removed", 0, "upheld"),
            "lock": ("visible", 1, "upheld"),
            "dismiss": ("visible", 0, "dismissed"),
            "restore": ("visible", 0, "dismissed"),
        }
        for action, (status, locked, outcome) in expected.items():
            with self.subTest(action=action):
                post_id, case_id = self.reported_case(f"À {action}")
                result = self.decide(action, case_id, "--note", "vu")
                decision_id = self.query("SELECT max(id) FROM decision")[0][0]
                self.assertEqual(result.out, f"decision {decision_id}: {action} post:{post_id} (spam), "
                                             f"case {case_id} closed\n")
                self.assertEqual(self.post_state(post_id), (status, locked))
                self.assertEqual(self.case_state(case_id), ("closed", 1))
                self.assertEqual(self.query("SELECT outcome FROM report WHERE case_id = ?", case_id), [(outcome,)])
                self.assertEqual(self.query("SELECT case_id, action, reason, note, moderator_id, automated "
                                            "FROM decision WHERE id = ?", decision_id),
                                 [(case_id, action, "spam", "vu", self.sandrine, 0)])
        locked_post = self.query("SELECT id FROM post WHERE locked = 1")[0][0]
        self.fails("post", "add", "--as", self.zoe, "--reply-to", locked_post, "--body", "Et moi ?",
                   message="is locked")

    def test_decision_json(self):
        post_id, case_id = self.reported_case()
        data = self.decide("remove", case_id, "--json").json()
        self.assertEqual((data["action"], data["case"], data["target"], data["moderator"], data["automated"]),
                         ("remove", case_id, f"post:{post_id}", self.sandrine, False))
        self.assertEqual(json.loads(self.query("SELECT statement FROM decision")[0][0]), data["statement"])

    def test_dismiss_undoes_an_automatic_hiding(self):
        post_id, case_id = self.reported_case()
        self.report(post_id, "spam", self.alain)
        self.report(post_id, "spam", self.bea)
        self.assertEqual(self.post_state(post_id)[0], "hidden")
        self.decide("dismiss", case_id, "--note", "simple annonce")
        self.assertEqual(self.post_state(post_id)[0], "visible")
        self.assertEqual(self.query("SELECT action, automated FROM decision ORDER BY id"),
                         [("hide", 1), ("dismiss", 0)])

    def test_a_post_nobody_reported(self):
        post_id = self.post("Hors sujet")
        result = self.decide("hide", f"post:{post_id}", reason="off_topic")
        case_id = self.query("SELECT id FROM moderation_case WHERE target_id = ?", post_id)[0][0]
        self.assertIn(f"hide post:{post_id} (off_topic), case {case_id} closed", result.out)
        self.assertEqual(self.post_state(post_id)[0], "hidden")
        self.decide("restore", f"post:{post_id}", reason="off_topic")  # reopens its case to restore it
        self.assertEqual(self.post_state(post_id)[0], "visible")
        self.assertEqual(self.query("SELECT action FROM decision ORDER BY id"), [("hide",), ("restore",)])

    def test_second_moderator_gets_a_conflict(self):
        post_id, case_id = self.reported_case()
        self.decide("hide", case_id)
        before = self.snapshot()
        result = self.fails("mod", "remove", case_id, "--reason", "spam", "--as", KARIM,
                            message=f"case {case_id} is already closed (hide by Sandrine Petit at ")
        self.assertIn("nothing was changed", result.err)
        self.fails("mod", "dismiss", case_id, "--reason", "spam", "--as", SANDRINE, message="already closed")
        self.assertUnchanged(before)
        self.assertEqual(self.post_state(post_id)[0], "hidden")

    def test_expect_version(self):
        post_id, case_id = self.reported_case()
        seen = self.ok("mod", "show", case_id, "--json").json()["version"]
        self.report(post_id, "scam", self.alain)  # the case changes meanwhile
        before = self.snapshot()
        self.fails("mod", "hide", case_id, "--reason", "spam", "--as", SANDRINE, "--expect-version", seen,
                   message=f"case {case_id} changed while you were looking at it")
        self.assertUnchanged(before)
        current = self.ok("mod", "show", case_id, "--json").json()["version"]
        self.assertNotEqual(seen, current)
        self.decide("hide", case_id, "--expect-version", current)
        self.assertEqual(self.post_state(post_id)[0], "hidden")

    def test_only_moderators_and_admins_decide(self):
        post_id, case_id = self.reported_case()
        before = self.snapshot()
        for who in (self.alain, MARIE):
            with self.subTest(who=who):
                self.fails("mod", "hide", case_id, "--reason", "spam", "--as", who, message="not a moderator")
                self.fails("mod", "warn", self.lucie, "--reason", "spam", "--as", who, message="not a moderator")
        self.fails("mod", "hide", case_id, "--reason", "spam", "--as", "999", message="unknown member '#999'")
        self.assertUnchanged(before)
        self.decide("hide", case_id, moderator=THOMAS)
        self.assertEqual(self.post_state(post_id)[0], "hidden")

    def test_moderator_from_the_environment(self):
        _, case_id = self.reported_case()
        self.ok("mod", "hide", case_id, "--reason", "spam", env={"VOISINAGE_MODERATOR": KARIM})
        self.assertEqual(self.query("SELECT moderator_id FROM decision"), [(self.karim,)])
        _, other = self.reported_case("Autre")
        self.fails("mod", "hide", other, "--reason", "spam", code=2, env={"VOISINAGE_MODERATOR": ""})

    def test_bad_decisions(self):
        _, case_id = self.reported_case()
        member_case = self.report(f"member:{self.lucie}", "harassment", self.zoe)["case"]["id"]
        before = self.snapshot()
        cases = [
            (["hide", 999], "unknown case '999'"),
            (["hide", "abc"], "invalid case 'abc'"),
            (["hide", "post:999"], "unknown post '999'"),
            (["hide", member_case], f"case {member_case} is about a member"),
            (["warn", 999], "unknown member '#999'"),
            (["warn", "personne@example.fr"], "unknown member 'personne@example.fr'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.fails("mod", *args, "--reason", "spam", "--as", SANDRINE, message=message)
        self.fails("mod", "hide", case_id, "--reason", "spamm", "--as", SANDRINE,
                   message="unknown reason 'spamm' (did you mean 'spam'?)")
        self.fails("mod", "hide", case_id, "--reason", "spam", "--as", SANDRINE, "--note", "x" * 2001,
                   message="the note is longer than 2000 bytes")
        self.assertUnchanged(before)
        self.decide("dismiss", member_case, reason="harassment")  # a member case can be dismissed
        self.assertEqual(self.case_state(member_case)[0], "closed")

    # ---- decisions on accounts

    def test_a_date_in_the_past_is_refused(self):
        before = self.snapshot()
        for action in ("suspend", "silence"):
            with self.subTest(action=action):
                self.fails("mod", action, self.lucie, "--reason", "spam", "--as", SANDRINE, "--until", "2020-01-01",
                           message="the date '2020-01-01' is in the past")
                self.fails("mod", action, self.lucie, "--reason", "spam", "--as", SANDRINE, "--until", "demain",
                           message="invalid date 'demain'")
                self.fails("mod", action, self.lucie, "--reason", "spam", "--as", SANDRINE, code=2)
        self.assertUnchanged(before)

    def test_silence_and_suspension_stop_posting_until_lifted(self):
        parent = self.post("Sujet ouvert", self.zoe)
        for action, kind in (("silence", "silence"), ("suspend", "suspension"), ("ban", "ban")):
            with self.subTest(action=action):
                args = ["--until", FUTURE] if action != "ban" else []
                result = self.decide(action, self.lucie, *args, reason="harassment")
                self.assertRegex(result.out, rf"^decision \d+: {action} member:{self.lucie} \(harassment\)\n$")
                self.assertEqual(self.query("SELECT kind, until, lifted_at FROM restriction WHERE member_id = ? "
                                            "AND lifted_at IS NULL", self.lucie),
                                 [(kind, f"{FUTURE}T00:00:00Z" if args else None, None)])
                before = self.snapshot()
                self.fails("post", "add", "--as", self.lucie, "--body", "Bonjour",
                           message=f"member '#{self.lucie}' cannot post: their account is under a {kind}")
                self.fails("post", "add", "--as", self.lucie, "--reply-to", parent, "--body", "Bonjour",
                           message="cannot post")
                self.assertUnchanged(before)
                self.decide("unsuspend", self.lucie, reason="other")
                self.assertEqual(self.query("SELECT count(*) FROM restriction WHERE member_id = ? AND "
                                            "lifted_at IS NULL", self.lucie), [(0,)])
                self.assertTrue(self.can_post(self.lucie))
        before = self.snapshot()
        self.fails("mod", "unsuspend", self.lucie, "--reason", "other", "--as", SANDRINE,
                   message=f"member '#{self.lucie}' has no restriction to lift")
        self.assertUnchanged(before)

    def test_restrictions_expire_on_their_own(self):
        self.decide("silence", self.lucie, "--until", FUTURE)
        self.assertFalse(self.can_post(self.lucie))
        with self.writable() as conn:
            conn.execute("UPDATE restriction SET until = '2020-01-01T00:00:00Z'")
        self.assertTrue(self.can_post(self.lucie))

    def test_warn_is_a_strike_for_90_days(self):
        data = self.decide("warn", self.lucie, "--note", "langage", "--json").json()
        starts, until = self.query("SELECT starts_at, until FROM restriction WHERE kind = 'warning' AND "
                                   "member_id = ?", self.lucie)[0]
        parse = lambda text: datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        self.assertEqual(parse(until) - parse(starts), timedelta(days=90))
        self.assertTrue(self.can_post(self.lucie))  # a warning restricts nothing
        self.assertEqual(data["statement"]["restriction"], "avertissement")
        # The statement of reasons says how long the strike counts.
        self.assertIn(until[:10], data["statement"]["duration"])

    def test_ban(self):
        data = self.decide("ban", self.lucie, "--json", reason="hate").json()
        self.assertEqual(self.query("SELECT kind, until FROM restriction WHERE member_id = ?", self.lucie),
                         [("ban", None)])
        self.assertEqual((data["statement"]["restriction"], data["statement"]["duration"]),
                         ("compte fermé définitivement", "définitive"))
        self.assertFalse(self.can_post(self.lucie))

    def test_staff_are_restricted_by_admins_only(self):
        before = self.snapshot()
        for who in (MARIE, KARIM):
            with self.subTest(who=who):
                self.fails("mod", "warn", who, "--reason", "other", "--as", SANDRINE,
                           message="only an admin can restrict staff")
        self.fails("mod", "warn", SANDRINE, "--reason", "other", "--as", SANDRINE,
                   message="moderators cannot decide about their own account")
        self.assertUnchanged(before)
        self.decide("warn", MARIE, reason="other", moderator=THOMAS)
        self.assertEqual(self.query("SELECT kind FROM restriction WHERE member_id = ?", self.member_id(MARIE)),
                         [("warning",)])

    def test_statement_of_reasons(self):
        _, hide_case = self.reported_case("Haine", "hate")
        _, illegal_case = self.reported_case("Contrefaçon", "spam")
        cases = [
            (["hide", hide_case], "hate", {"restriction": "contenu masqué", "scope": "la publication signalée",
                                           "duration": "sans limite de durée"}),
            (["remove", illegal_case], "illegal", {"restriction": "contenu supprimé"}),
            (["suspend", self.lucie, "--until", FUTURE, "--note", "insultes répétées"], "harassment",
             {"restriction": "compte suspendu", "scope": "le compte du membre",
              "duration": f"jusqu'au {FUTURE}T00:00:00Z", "facts": "insultes répétées"}),
        ]
        for args, reason, expected in cases:
            with self.subTest(args=args):
                self.decide(*args, reason=reason)
                statement = json.loads(self.query("SELECT statement FROM decision ORDER BY id DESC LIMIT 1")[0][0])
                self.assertEqual(set(statement), STATEMENT_KEYS)
                self.assertEqual({k: statement[k] for k in expected}, expected)
                self.assertEqual((statement["automated_detection"], statement["automated_decision"]),
                                 (False, False))
                self.assertIn("six mois", statement["appeal"])
                if reason == "illegal":
                    self.assertIn("contenu illicite", statement["ground"])
                else:
                    self.assertEqual(statement["ground"], f"règles de la communauté de la commune : {reason}")

    # ---- undo, bulk decisions, appeals, expiry, export

    def test_undo(self):
        post_id, case_id = self.reported_case()
        self.decide("hide", case_id)
        decision_id = self.query("SELECT id FROM decision")[0][0]
        self.assertEqual(self.ok("mod", "undo", decision_id, "--as", KARIM).out,
                         f"undid decision {decision_id} (hide post:{post_id})\n")
        self.assertEqual(self.post_state(post_id)[0], "visible")
        self.assertEqual(self.case_state(case_id), ("open", 0))
        self.assertEqual(self.query("SELECT outcome FROM report"), [("",)])
        self.assertEqual(self.query("SELECT actor, action, target FROM audit_log WHERE action = 'decision.undo'"),
                         [(f"member:{self.karim}", "decision.undo", f"decision:{decision_id}")])
        before = self.snapshot()
        self.fails("mod", "undo", decision_id, "--as", KARIM, message=f"decision {decision_id} was already undone")
        self.fails("mod", "undo", 999, "--as", KARIM, message="unknown decision '999'")
        self.fails("mod", "undo", decision_id, "--as", self.zoe, message="not a moderator")
        self.assertUnchanged(before)

    def test_undo_lifts_a_restriction(self):
        data = self.decide("suspend", self.lucie, "--until", FUTURE, "--json").json()
        self.assertFalse(self.can_post(self.lucie))
        self.assertEqual(self.ok("mod", "undo", data["id"], "--as", SANDRINE).out,
                         f"undid decision {data['id']} (suspend member:{self.lucie})\n")
        self.assertTrue(self.can_post(self.lucie))

    def test_bulk_decision(self):
        cases = [self.reported_case(f"Pub {i}", "spam")[1] for i in range(3)]
        other_post, other_case = self.reported_case("Pub de Paul", "spam", author=self.paul)
        before = self.snapshot()
        result = self.ok("mod", "hide", "--where", f"author={self.lucie},reason=spam", "--dry-run", "--reason", "spam",
                         "--as", SANDRINE)
        self.assertEqual(result.out.splitlines()[0],
                         f"would hide 3 case(s) matching 'author={self.lucie},reason=spam' (dry run: nothing written)")
        self.assertEqual(sorted(int(line.split()[1]) for line in result.out.splitlines()[1:]), cases)
        self.assertUnchanged(before)
        data = self.ok("mod", "hide", "--where", f"author={self.lucie}", "--reason", "spam", "--as", SANDRINE,
                       "--json").json()
        self.assertEqual((data["dry_run"], data["count"]), (False, 3))
        self.assertEqual(self.query("SELECT status FROM post WHERE author_id = ?", self.lucie), [("hidden",)] * 3)
        self.assertEqual(self.post_state(other_post)[0], "visible")
        self.assertEqual(self.case_state(other_case)[0], "open")
        before = self.snapshot()
        self.fails("mod", "hide", "--where", "auteur=12", "--reason", "spam", "--as", SANDRINE,
                   message="unknown filter 'auteur'")
        self.fails("mod", "hide", other_case, "--where", f"author={self.paul}", "--reason", "spam", "--as", SANDRINE,
                   code=2)
        self.assertUnchanged(before)

    def test_appeals(self):
        post_id, case_id = self.reported_case()
        decision = self.decide("hide", case_id, "--json").json()["id"]
        before = self.snapshot()
        self.fails("mod", "appeal", "add", decision, "--by", self.alain, "--text", "Injuste",
                   message=f"member '#{self.alain}' cannot appeal decision {decision}")
        self.assertUnchanged(before)
        self.assertEqual(self.ok("mod", "appeal", "add", decision, "--by", self.lucie, "--text", "Ce n'était pas une "
                                 "pub").out, f"appeal 1 against decision {decision} recorded\n")
        before = self.snapshot()
        self.fails("mod", "appeal", "add", decision, "--by", self.lucie, "--text", "Encore",
                   message="has already appealed")
        self.fails("mod", "appeal", "decide", 1, "--uphold", "--as", SANDRINE,
                   message="decided by another moderator than the one who took the decision")
        self.fails("mod", "appeal", "decide", 1, "--as", KARIM, code=2)  # neither --uphold nor --reject
        self.assertUnchanged(before)
        self.assertEqual(self.ok("mod", "appeal", "decide", 1, "--uphold", "--as", KARIM).out,
                         "appeal 1 upheld: the decision is reversed\n")
        self.assertEqual(self.post_state(post_id)[0], "visible")
        listed = self.ok("mod", "appeal", "list", "--json").json()
        self.assertEqual([(a["decision"], a["appellant"], a["status"], a["decided_by"]) for a in listed],
                         [(decision, self.lucie, "upheld", self.karim)])
        self.fails("mod", "appeal", "decide", 1, "--reject", "--as", THOMAS, message="appeal 1 was already upheld")

    def test_appeal_after_six_months_refused(self):
        _, case_id = self.reported_case()
        decision = self.decide("remove", case_id, "--json").json()["id"]
        with self.writable() as conn:
            conn.execute("UPDATE decision SET created_at = '2020-01-01T00:00:00Z'")
        before = self.snapshot()
        self.fails("mod", "appeal", "add", decision, "--by", self.lucie, "--text", "Trop tard ?",
                   message="more than six months old")
        self.assertUnchanged(before)

    def test_a_reporter_appeals_a_dismissal(self):
        _, case_id = self.reported_case(by=self.zoe)
        decision = self.decide("dismiss", case_id, "--json").json()["id"]
        self.ok("mod", "appeal", "add", decision, "--by", self.zoe, "--text", "C'est bien une pub")
        self.fails("mod", "appeal", "add", decision, "--by", self.lucie, "--text", "Moi aussi",
                   message="cannot appeal")

    def test_expire(self):
        self.decide("silence", self.lucie, "--until", FUTURE)
        self.assertEqual(self.ok("mod", "expire").out, "0 expired restriction(s) lifted\n")
        with self.writable() as conn:
            conn.execute("UPDATE restriction SET until = '2020-01-01T00:00:00Z'")
        self.assertEqual(self.ok("mod", "expire", "--json").json(), {"lifted": 1})
        self.assertEqual(self.query("SELECT lifted_at IS NOT NULL FROM restriction"), [(1,)])
        self.assertEqual(self.query("SELECT actor, target FROM audit_log WHERE action = 'restriction.expire'"),
                         [("system", f"member:{self.lucie}")])

    def test_export_decisions_to_a_file(self):
        # Complements test_dsa_export.py: the illegal-content ground, a ban, and -o.
        _, case_id = self.reported_case("Contrefaçon", "scam")
        self.decide("remove", case_id, reason="illegal")
        self.decide("ban", self.paul, reason="hate")
        result = self.ok("mod", "export-decisions", "--since", "2000-01-01", "-o", "dsa.jsonl")
        self.assertEqual((result.out, result.err), ("", "wrote 2 statement(s) of reasons to 'dsa.jsonl'\n"))
        removal, ban = [json.loads(line) for line in (self.dir / "dsa.jsonl").read_text().splitlines()]
        self.assertEqual((removal["decision_visibility"], removal["decision_ground"], removal["category"]),
                         (["DECISION_VISIBILITY_CONTENT_REMOVED"], "DECISION_GROUND_ILLEGAL_CONTENT",
                          "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"))
        self.assertEqual((ban["decision_account"], ban["category"]),
                         ("DECISION_ACCOUNT_TERMINATED", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"))

    def test_stats(self):
        _, case_id = self.reported_case()
        self.decide("hide", case_id)
        stats = self.ok("mod", "stats", "--json").json()
        self.assertEqual((stats["cases_opened"], stats["cases_closed"], stats["decisions_by_action"],
                          stats["reports"], stats["reporter_accuracy"]), (1, 1, {"hide": 1}, 1, 1.0))
        self.assertRegex(self.ok("mod", "stats").out, r"\ncases_opened\s+1\n")

    # ---- word rules

    def test_rules_from_the_town_file(self):
        rules = self.ok("mod", "rules", "list", "--json").json()
        self.assertEqual([(r["pattern"], r["action"], r["from_town_file"]) for r in rules],
                         [("connard", "block", True), ("salope", "block", True), ("paypal", "hold", True),
                          ("western union", "hold", True), ("arnaque*", "flag", True), ("urgent*", "flag", True),
                          ("putain", "censor", True)])
        lines = self.ok("mod", "rules", "list").out.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "PATTERN", "ACTION", "SOURCE", "CREATED"])
        self.assertRegex(lines[1], r"^#1\s+connard\s+block\s+town file\s")

    def test_rules_add_and_remove(self):
        result = self.ok("mod", "rules", "add", "  escroc*  ", "--action", "hold")
        self.assertEqual(result.out, "added word rule #8 'escroc*' (hold)\n")
        self.assertEqual(self.query("SELECT pattern, action, from_town_file FROM word_rule WHERE id = 8"),
                         [("escroc*", "hold", 0)])
        self.assertRegex(self.ok("mod", "rules", "list").out, r"\n#8\s+escroc\*\s+hold\s+command line\s")
        data = self.ok("mod", "rules", "add", "vol de vélo", "--action", "flag", "--json").json()
        self.assertEqual((data["pattern"], data["action"], data["from_town_file"]), ("vol de vélo", "flag", False))
        self.assertEqual(self.ok("mod", "rules", "remove", "escroc*").out, "removed word rule #8 'escroc*' (hold)\n")
        self.assertEqual(self.ok("mod", "rules", "remove", f"#{data['id']}").out,
                         f"removed word rule #{data['id']} 'vol de vélo' (flag)\n")
        result = self.ok("mod", "rules", "remove", "1")
        self.assertEqual(result.out, "removed word rule #1 'connard' (block)\n")
        self.assertIn("hint: the town file lists this rule", result.err)
        self.assertEqual(self.query("SELECT count(*) FROM word_rule"), [(6,)])

    def test_rules_bad_input(self):
        before = self.snapshot()
        cases = [
            (["add", "arn**", "--action", "flag"], "invalid word pattern 'arn**'"),
            (["add", "*", "--action", "flag"], "invalid word pattern '*'"),
            (["add", "western * union", "--action", "flag"], "a '*' stands alone"),
            (["add", "  ", "--action", "flag"], "the word pattern is empty"),
            (["add", "voyou", "--action", "bloc"], "unknown action 'bloc' (did you mean 'block'?)"),
            (["add", "Arnaque*", "--action", "block"], "word rule 'Arnaque*' already exists as 'arnaque*'"),
            (["remove", "#99"], "unknown word rule '#99'"),
            (["remove", "conard"], "unknown word rule 'conard'"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.fails("mod", "rules", *args, message=message)
        self.assertUnchanged(before)

    def test_rules_test(self):
        before = self.snapshot()
        result = self.ok("mod", "rules", "test", "Quel putain d'arnaqueur, payez par Western-Union")
        lines = result.out.splitlines()
        self.assertEqual(lines[0].split(), ["RULE", "PATTERN", "ACTION", "MATCHED"])
        self.assertRegex(lines[1], r"^#4\s+western union\s+hold\s+Western-Union$")
        self.assertRegex(lines[2], r"^#5\s+arnaque\*\s+flag\s+arnaqueur$")
        self.assertRegex(lines[3], r"^#7\s+putain\s+censor\s+putain$")
        self.assertEqual(lines[4:], ["verdict: held for review",
                                     "censored: Quel ****** d'arnaqueur, payez par Western-Union"])
        self.assertEqual(self.ok("mod", "rules", "test", "Une connardise").out, "verdict: no rule fires\n")
        data = self.ok("mod", "rules", "test", "C.O.N.N.A.R.D", "--json").json()
        self.assertEqual((data["action"], data["outcome"], data["hits"][0]["matched"]),
                         ("block", "refused (block)", "C.O.N.N.A.R.D"))
        self.assertUnchanged(before)

    # ---- audit log

    def test_every_action_is_logged(self):
        self.ok("mod", "rules", "add", "escroc*", "--action", "hold")
        post_id = self.post("Des escrocs ? Arnaque !")
        self.ok("post", "edit", post_id, "--body", "Rien à signaler")
        for by in (self.zoe, self.alain, self.bea):
            self.report(post_id, "spam", by)
        case_id = self.query("SELECT id FROM moderation_case WHERE target_id = ?", post_id)[0][0]
        self.decide("remove", case_id)
        self.decide("warn", self.lucie, moderator=KARIM)
        self.decide("suspend", self.lucie, "--until", FUTURE)
        self.decide("unsuspend", self.lucie, reason="other")
        self.ok("mod", "rules", "remove", "escroc*")
        entries = [e for e in self.ok("mod", "log", "--json").json() if e["action"] != "town.apply"]  # the init
        rows = [(e["actor"], e["action"], e["target"], e["reason"]) for e in entries]
        target, lucie = f"post:{post_id}", f"member:{self.lucie}"
        self.assertEqual(rows[:3], [("cli", "rule.add", "rule:8", ""), ("cli", "post.create", target, ""),
                                    ("cli", "post.edit", target, "")])
        # The held post waits for review, so the reports do not hide it automatically.
        self.assertEqual(sorted(rows[3:6]), sorted([
            (f"member:{self.zoe}", "report.add", target, "spam"), (f"member:{self.alain}", "report.add", target, "spam"),
            (f"member:{self.bea}", "report.add", target, "spam")]))
        self.assertEqual(rows[6:], [
            (f"member:{self.sandrine}", "post.remove", target, "spam"),
            (f"member:{self.karim}", "member.warn", lucie, "spam"),
            (f"member:{self.sandrine}", "member.suspend", lucie, "spam"),
            (f"member:{self.sandrine}", "member.unsuspend", lucie, "other"),
            ("cli", "rule.remove", "rule:8", ""),
        ])
        removal = next(e for e in entries if e["action"] == "post.remove")
        self.assertEqual((removal["details"]["before"]["status"], removal["details"]["after"]["status"]),
                         ("held", "removed"))
        self.assertEqual(set(entries[0]), {"id", "at", "actor", "action", "target", "reason", "details", "hash",
                                           "prev_hash"})
        lines = self.ok("mod", "log").out.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "AT", "ACTOR", "ACTION", "TARGET", "REASON"])
        self.assertEqual(len(lines), 2 + len(entries))  # the header, and the town file's entry

    def test_log_filters(self):
        post_id, case_id = self.reported_case()
        self.decide("hide", case_id)
        self.decide("warn", self.paul, moderator=KARIM)

        def entries(*args):
            return [(e["actor"], e["action"], e["target"]) for e in self.ok("mod", "log", *args, "--json").json()]

        self.assertEqual(entries("--actor", f"member:{self.karim}"),
                         [(f"member:{self.karim}", "member.warn", f"member:{self.paul}")])
        self.assertEqual(entries("--target", f"post:{post_id}"),
                         [("cli", "post.create", f"post:{post_id}"), (f"member:{self.zoe}", "report.add",
                                                                      f"post:{post_id}"),
                          (f"member:{self.sandrine}", "post.hide", f"post:{post_id}")])
        self.assertEqual(entries("--since", "2999-01-01"), [])
        self.assertEqual(len(entries("--since", "2000-01-01")), 5)  # with the town file applied by init
        self.assertEqual(entries("--actor", "system"), [])
        self.assertEqual(len(entries("--limit", 2)), 2)
        self.fails("mod", "log", "--since", "hier", message="invalid date 'hier'")
        self.fails("mod", "log", "--limit", "tout", code=2)

    def test_log_limit_keeps_the_latest_entries(self):
        for i in range(3):
            self.post(f"Publication {i}")
        _, case_id = self.reported_case("Dernière")
        self.decide("hide", case_id)
        latest = self.ok("mod", "log", "--limit", 2, "--json").json()
        self.assertIn("post.hide", [e["action"] for e in latest], "'mod log --limit' hides the latest actions")

    def test_administrative_actions_are_logged(self):
        self.ok("member", "role", self.paul, "moderator")
        entries = self.ok("mod", "log", "--target", f"member:{self.paul}", "--json").json()
        self.assertEqual(len(entries), 1, "a member made moderator is not in the audit log")

    def test_verify(self):
        _, case_id = self.reported_case()
        self.decide("hide", case_id)
        count = self.query("SELECT count(*) FROM audit_log")[0][0]
        self.assertEqual(self.ok("mod", "log", "verify").out, f"ok: {count} entries, every link intact\n")
        self.assertEqual(self.ok("mod", "log", "verify", "--json").json(),
                         {"ok": True, "checked": count, "broken_at": None, "problem": None})
        self.assertEqual(self.ok("-q", "mod", "log", "verify").out, "")

    def test_the_database_refuses_to_change_the_log(self):
        _, case_id = self.reported_case()
        self.decide("hide", case_id)
        before = self.snapshot()
        conn = self.writable()
        with self.assertRaisesRegex(sqlite3.IntegrityError, "the audit log is append-only"):
            with conn:
                conn.execute("UPDATE audit_log SET reason = 'other' WHERE id = 2")
        with self.assertRaisesRegex(sqlite3.IntegrityError, "the audit log is append-only"):
            with conn:
                conn.execute("DELETE FROM audit_log WHERE id = 2")
        conn.close()
        self.assertUnchanged(before)
        self.ok("mod", "log", "verify")

    def tampered(self, sql, *params):
        """Runs `sql` on the log after dropping its protective triggers, as someone with the file could."""
        with self.writable() as conn:
            conn.execute("DROP TRIGGER audit_log_no_update")
            conn.execute("DROP TRIGGER audit_log_no_delete")
            conn.execute(sql, params)

    def logged_case(self):
        """A log of several entries: the town file, a post, two reports, a decision."""
        post_id, case_id = self.reported_case()
        self.report(post_id, "scam", self.alain)
        self.decide("hide", case_id)
        self.assertEqual(self.query("SELECT count(*) FROM audit_log")[0][0], 5)

    def test_verify_finds_an_altered_entry(self):
        self.logged_case()
        self.tampered("UPDATE audit_log SET reason = 'other' WHERE id = 3")
        self.fails("mod", "log", "verify", message="the audit log is broken at entry 3: its content does not match "
                                                   "its hash")
        result = self.fails("mod", "log", "verify", "--json")
        self.assertEqual((json.loads(result.out)["ok"], json.loads(result.out)["broken_at"]), (False, 3))

    def test_verify_finds_an_entry_rewritten_with_its_hash(self):
        self.logged_case()
        at, actor, action, target, details, prev = self.query(
            "SELECT at, actor, action, target, details, prev_hash FROM audit_log WHERE id = 3")[0]
        digest = hashlib.sha256()
        for field in (prev, at, actor, action, target, "other", details):
            data = field.encode()
            digest.update(f"{len(data)}:".encode() + data)
        self.tampered("UPDATE audit_log SET reason = 'other', hash = ? WHERE id = 3", digest.hexdigest())
        self.fails("mod", "log", "verify", message="the audit log is broken at entry 4: its link to the previous "
                                                   "entry is broken")

    def test_verify_finds_a_deleted_entry(self):
        self.logged_case()
        self.tampered("DELETE FROM audit_log WHERE id = 3")
        self.fails("mod", "log", "verify", message="the audit log is broken at entry 4: its link to the previous "
                                                   "entry is broken (an entry was removed or inserted)")

    # ---- usage

    def test_misuse(self):
        _, case_id = self.reported_case()
        before = self.snapshot()
        for args in ([], ["frobnicate"], ["show"], ["show", case_id, "--bogus"], ["hide"], ["hide", case_id],
                     ["hide", case_id, "--reason"], ["hide", case_id, "--reason", "spam", "--as", SANDRINE,
                                                     "--expect-version", "x"],
                     ["warn", self.lucie, "--reason", "spam", "--as", SANDRINE, "--expect-version", "1"],
                     ["ban", "--reason", "spam", "--as", SANDRINE], ["rules"], ["rules", "add", "x"],
                     ["rules", "remove"], ["rules", "test"], ["log", "verify", "--bogus"], ["queue", "extra"]):
            with self.subTest(args=args):
                self.fails("mod", *args, code=2, env={"VOISINAGE_MODERATOR": ""})
        self.assertUnchanged(before)

    def test_help(self):
        commands = ["queue", "show", "dismiss", "hide", "restore", "remove", "lock", "warn", "silence", "suspend",
                    "ban", "unsuspend", "undo", "triage", "appeal", "expire", "stats", "export-decisions", "log",
                    "rules"]
        for command in commands:
            with self.subTest(command=command):
                self.assertIn(f"mod {command}", self.ok("mod", command, "--help").out)
        for words in (["rules", "add"], ["rules", "list"], ["rules", "remove"], ["rules", "test"], ["log", "verify"],
                      ["appeal", "add"], ["appeal", "list"], ["appeal", "decide"]):
            with self.subTest(words=words):
                self.assertIn(f"mod {' '.join(words)}", self.ok("mod", *words, "--help").out)
        self.assertIn("--until", self.ok("mod", "suspend", "--help").out)
        self.assertIn("--expect-version", self.ok("mod", "hide", "--help").out)


if __name__ == "__main__":
    harness.main()
