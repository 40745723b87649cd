"""voisinage report add: reports, the cases they open, their score and urgency, and automatic hiding at the
town's threshold (examples/thomery.yaml: a score of 12 or 3 distinct reporters)."""

import json

import harness

SANDRINE = "sandrine.petit@mairie-thomery.example.fr"  # moderator
KARIM = "karim.benali@mairie-thomery.example.fr"  # moderator
MARIE = "marie.lefevre@mairie-thomery.example.fr"  # townhall
THOMAS = "thomas.garnier@mairie-thomery.example.fr"  # admin

# What a resident's report weighs, by reason (lib/moderation/moderation.cpp, ReasonSeverity).
SEVERITY = {"spam": 1, "scam": 2, "harassment": 2, "hate": 3, "defamation": 2, "privacy": 2, "danger": 5,
            "minors": 5, "off_topic": 0.5, "other": 1}
NOTICE = ["--notifier-name", "Maître Durand", "--notifier-email", "durand@avocats.example.fr",
          "--details", "Contrefaçon de la marque X", "--good-faith"]


class ReportTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.populate, "lucie", "residents", "post")

    def populate(self):
        self.init_thomery()
        self.lucie = self.member("Lucie Bernard")
        self.residents = [self.member(name) for name in ("Paul Martin", "Zoé Petit", "Alain Roux", "Béa Lenoir")]
        self.post = self.add_post(self.lucie, "Je vends des montres de luxe à 20 euros")

    def member(self, name, role="resident", neighbourhood="by"):
        return self.ok("member", "add", "--name", name, "--role", role, "--neighbourhood", neighbourhood,
                       "--json").json()["id"]

    def add_post(self, author, body, *args):
        return self.ok("post", "add", "--as", author, "--body", body, *args, "--json").json()["post"]["id"]

    def report(self, target, reason, by, *args):
        return self.ok("report", "add", target, "--reason", reason, "--by", by, *args, "--json").json()

    def status(self, post_id):
        return self.query("SELECT status FROM post WHERE id = ?", post_id)[0][0]

    def case_of(self, target):
        kind, target_id = target.split(":")
        return self.query("SELECT id, status, score, urgent, reporters, auto_hidden FROM moderation_case "
                          "WHERE target_type = ? AND target_id = ?", kind, int(target_id))[0]

    # ---- each reason

    def test_each_reason(self):
        for reason, severity in SEVERITY.items():
            with self.subTest(reason=reason):
                post_id = self.add_post(self.lucie, f"Publication pour {reason}")
                result = self.ok("report", "add", post_id, "--reason", reason, "--by", self.residents[0],
                                 "--details", f"c'est du {reason}")
                case_id, status, score, urgent, reporters, hidden = self.case_of(f"post:{post_id}")
                report_id = self.query("SELECT max(id) FROM report")[0][0]
                urgent_text = ", urgent" if reason in ("danger", "minors") else ""
                self.assertEqual(result.out, f"report {report_id} added to case {case_id} "
                                             f"(score {severity:.1f}, 1 reporter(s){urgent_text})\n")
                self.assertEqual((status, score, urgent, reporters, hidden),
                                 ("open", severity, int(reason in ("danger", "minors")), 1, 0))
                self.assertEqual(self.query("SELECT reporter_id, reason, details, weight, outcome FROM report "
                                            "WHERE id = ?", report_id),
                                 [(self.residents[0], reason, f"c'est du {reason}", severity, "")])
                self.assertEqual(self.status(post_id), "visible")

    def test_json(self):
        data = self.report(f"post:{self.post}", "scam", self.residents[0])
        self.assertEqual(data["auto_hidden"], False)
        self.assertEqual(data["report"], self.query("SELECT id FROM report")[0][0])
        case = data["case"]
        self.assertEqual((case["target"], case["status"], case["score"], case["reporters"], case["reasons"],
                          case["urgent"], case["neighbourhood"]),
                         (f"post:{self.post}", "open", 2.0, 1, ["scam"], False, "by"))
        self.assertEqual(case["excerpt"], "Je vends des montres de luxe à 20 euros")

    def test_report_a_member(self):
        data = self.report(f"member:{self.lucie}", "harassment", self.residents[0], "--details", "insultes")
        self.assertEqual((data["case"]["target"], data["case"]["excerpt"]), (f"member:{self.lucie}", "Lucie Bernard"))
        snapshot = json.loads(self.query("SELECT snapshot FROM report")[0][0])
        self.assertEqual((snapshot["id"], snapshot["display_name"]), (self.lucie, "Lucie Bernard"))
        self.assertEqual(self.query("SELECT removed_at FROM member WHERE id = ?", self.lucie), [(None,)])

    def test_report_keeps_a_snapshot(self):
        self.report(self.post, "scam", self.residents[0])
        self.ok("post", "edit", self.post, "--body", "Texte tout à fait anodin")
        snapshot = json.loads(self.query("SELECT snapshot FROM report")[0][0])
        self.assertEqual(snapshot["body"], "Je vends des montres de luxe à 20 euros")

    # ---- legal notices

    def test_illegal_is_a_legal_notice(self):
        before = self.snapshot()
        for missing in ("--notifier-name", "--notifier-email", "--details", "--good-faith"):
            with self.subTest(missing=missing):
                args = list(NOTICE)
                i = args.index(missing)
                del args[i:i + (1 if missing == "--good-faith" else 2)]
                self.fails("report", "add", self.post, "--reason", "illegal", "--by", self.residents[0], *args,
                           message="a report of illegal content is a legal notice")
        args = list(NOTICE)
        args[args.index("--notifier-email") + 1] = "pas-une-adresse"
        self.fails("report", "add", self.post, "--reason", "illegal", "--by", self.residents[0], *args,
                   message="invalid e-mail address 'pas-une-adresse'")
        self.assertUnchanged(before)

        data = self.report(self.post, "illegal", self.residents[0], *NOTICE)
        self.assertEqual(data["case"]["score"], 2.0)
        self.assertEqual(self.query("SELECT reason, details, notifier_name, notifier_email, good_faith FROM report"),
                         [("illegal", "Contrefaçon de la marque X", "Maître Durand", "durand@avocats.example.fr", 1)])
        shown = self.ok("mod", "show", data["case"]["id"], "--json").json()
        self.assertEqual(shown["reports"][0]["legal_notice"],
                         {"name": "Maître Durand", "email": "durand@avocats.example.fr", "good_faith": True})
        self.assertIn("[legal notice]", self.ok("mod", "show", data["case"]["id"]).out)

    # ---- refused reports

    def test_own_post_and_oneself_refused(self):
        before = self.snapshot()
        self.fails("report", "add", self.post, "--reason", "spam", "--by", self.lucie,
                   message="members cannot report their own posts")
        self.fails("report", "add", f"member:{self.lucie}", "--reason", "spam", "--by", self.lucie,
                   message="members cannot report themselves")
        self.assertUnchanged(before)

    def test_duplicate_refused(self):
        self.report(self.post, "spam", self.residents[0])
        before = self.snapshot()
        for target, reason in ((self.post, "spam"), (f"post:{self.post}", "scam")):
            with self.subTest(target=target):
                self.fails("report", "add", target, "--reason", reason, "--by", self.residents[0],
                           message=f"member '#{self.residents[0]}' has already reported post {self.post}")
        self.assertUnchanged(before)

    def test_unknown_target_member_or_reason(self):
        gone = self.member("Parti")
        self.ok("member", "remove", gone)
        before = self.snapshot()
        cases = [
            (["999", "--by", self.residents[0]], "unknown post '999'"),
            (["post:999", "--by", self.residents[0]], "unknown post '999'"),
            (["member:999", "--by", self.residents[0]], "unknown member '#999'"),
            (["post:abc", "--by", self.residents[0]], "invalid target 'abc'"),
            (["poste:1", "--by", self.residents[0]], "invalid target"),
            ([self.post, "--by", "999"], "unknown member '#999'"),
            ([self.post, "--by", "personne@example.fr"], "unknown member 'personne@example.fr'"),
            ([self.post, "--by", gone], f"member '#{gone}' has been removed"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.fails("report", "add", *args, "--reason", "spam", message=message)
        self.fails("report", "add", self.post, "--reason", "spamm", "--by", self.residents[0],
                   message="unknown reason 'spamm' (did you mean 'spam'?)")
        self.fails("report", "add", self.post, "--reason", "spam", "--by", self.residents[0], "--details", "x" * 2001,
                   message="the details are longer than 2000 bytes")
        self.assertUnchanged(before)

    # ---- score

    def test_score_adds_weights_by_role(self):
        self.report(self.post, "scam", MARIE)  # townhall: 2 x 2
        self.assertEqual(self.case_of(f"post:{self.post}")[2], 4.0)
        self.report(self.post, "off_topic", self.residents[0])  # resident: 1 x 0.5
        self.assertEqual(self.case_of(f"post:{self.post}")[2], 4.5)
        other = self.add_post(self.lucie, "Autre publication")
        data = self.report(other, "hate", KARIM)  # moderator: 3 x 3
        self.assertEqual(data["case"]["score"], 9.0)
        self.assertEqual(self.query("SELECT weight FROM report ORDER BY id"), [(4.0,), (0.5,), (9.0,)])

    def test_score_follows_the_reporters_accuracy(self):
        accurate, wrong = self.residents[0], self.residents[1]
        for i in range(3):
            post_id = self.add_post(self.lucie, f"Publication {i}")
            self.report(post_id, "spam", accurate)
            case_id = self.case_of(f"post:{post_id}")[0]
            self.ok("mod", "hide", case_id, "--reason", "spam", "--as", SANDRINE)
            post_id = self.add_post(self.lucie, f"Autre publication {i}")
            self.report(post_id, "spam", wrong)
            case_id = self.case_of(f"post:{post_id}")[0]
            self.ok("mod", "dismiss", case_id, "--reason", "spam", "--as", SANDRINE)
        self.assertEqual(self.query("SELECT outcome, count(*) FROM report GROUP BY outcome ORDER BY outcome"),
                         [("dismissed", 3), ("upheld", 3)])
        self.assertEqual(self.report(self.post, "scam", accurate)["case"]["score"], 3.0)  # 2 x 1.5
        self.assertEqual(self.report(self.post, "scam", wrong)["case"]["score"], 4.0)  # + 2 x 0.5

    def test_danger_and_minors_are_urgent(self):
        for reason in ("danger", "minors"):
            with self.subTest(reason=reason):
                post_id = self.add_post(self.lucie, f"Publication {reason}")
                self.report(post_id, "spam", self.residents[0])
                self.assertEqual(self.case_of(f"post:{post_id}")[3], 0)
                result = self.ok("report", "add", post_id, "--reason", reason, "--by", self.residents[1])
                self.assertIn(", urgent)", result.out)
                self.assertEqual(self.case_of(f"post:{post_id}")[3], 1)

    # ---- automatic hiding

    def test_auto_hide_at_three_reporters(self):
        for by in self.residents[:2]:
            self.assertFalse(self.report(self.post, "spam", by)["auto_hidden"])
        self.assertEqual(self.status(self.post), "visible")
        result = self.ok("report", "add", self.post, "--reason", "spam", "--by", self.residents[2])
        self.assertRegex(result.out, r"\(score 3\.0, 3 reporter\(s\)\): the post is now hidden until a moderator "
                                     r"decides\n$")
        self.assertEqual(self.status(self.post), "hidden")
        case_id, status, _, _, reporters, hidden = self.case_of(f"post:{self.post}")
        self.assertEqual((status, reporters, hidden), ("open", 3, 1))  # waiting for a moderator
        self.assertEqual(self.query("SELECT case_id, action, reason, moderator_id, automated FROM decision"),
                         [(case_id, "hide", "spam", None, 1)])
        self.assertEqual(self.query("SELECT actor, target FROM audit_log WHERE action = 'post.hide'"),
                         [("system", f"post:{self.post}")])
        # A fourth report does not hide it twice.
        self.assertFalse(self.report(self.post, "spam", self.residents[3])["auto_hidden"])
        self.assertEqual(self.query("SELECT count(*) FROM decision")[0][0], 1)

    def test_auto_hide_statement_of_reasons(self):
        for by in self.residents[:3]:
            self.report(self.post, "spam", by)
        statement = json.loads(self.query("SELECT statement FROM decision")[0][0])
        self.assertEqual((statement["restriction"], statement["automated_detection"], statement["automated_decision"]),
                         ("contenu masqué", True, True))
        self.assertEqual(statement["ground"], "règles de la communauté de la commune : spam")
        self.assertIn("six mois", statement["appeal"])
        # The facts count the reports (three), not their distinct reasons (one).
        self.assertTrue(statement["facts"].startswith("3 signalement(s) de 3 membre(s)"), statement["facts"])

    def test_auto_hide_at_the_score_threshold(self):
        self.report(self.post, "danger", MARIE)  # 2 x 5 = 10
        self.assertEqual(self.status(self.post), "visible")
        data = self.report(self.post, "hate", self.residents[0])  # + 3 = 13 >= 12, with 2 reporters
        self.assertTrue(data["auto_hidden"])
        self.assertEqual((data["case"]["score"], data["case"]["reporters"], data["case"]["auto_hidden"]),
                         (13.0, 2, True))
        self.assertEqual(self.status(self.post), "hidden")

    def test_below_the_threshold_nothing_is_hidden(self):
        self.report(self.post, "danger", self.residents[0])
        data = self.report(self.post, "danger", self.residents[1])  # 10 < 12, 2 < 3
        self.assertEqual((data["auto_hidden"], data["case"]["score"]), (False, 10.0))
        self.assertEqual(self.status(self.post), "visible")
        self.assertEqual(self.query("SELECT count(*) FROM decision")[0][0], 0)

    def test_threshold_comes_from_the_town(self):
        self.ok("town", "set", "--auto-hide-reporters", "2")
        self.report(self.post, "spam", self.residents[0])
        self.assertTrue(self.report(self.post, "spam", self.residents[1])["auto_hidden"])
        self.assertEqual(self.status(self.post), "hidden")

    def test_never_for_townhall_or_moderator_posts(self):
        for author in (MARIE, SANDRINE, THOMAS):
            with self.subTest(author=author):
                post_id = self.add_post(author, "Communiqué officiel", "--neighbourhood", "by")
                for by in self.residents[:3]:
                    self.assertFalse(self.report(post_id, "spam", by)["auto_hidden"])
                data = self.report(post_id, "danger", KARIM if author != KARIM else SANDRINE)
                self.assertFalse(data["auto_hidden"])
                self.assertEqual((data["case"]["status"], data["case"]["urgent"]), ("open", True))
                self.assertGreaterEqual(data["case"]["score"], 12)
                self.assertEqual(self.status(post_id), "visible")
        self.assertEqual(self.query("SELECT count(*) FROM decision")[0][0], 0)

    def test_never_for_legal_notices_alone(self):
        for by in self.residents[:3]:
            self.assertFalse(self.report(self.post, "illegal", by, *NOTICE)["auto_hidden"])
        self.assertEqual(self.status(self.post), "visible")
        self.assertEqual(self.case_of(f"post:{self.post}")[4], 3)
        # Another reason, and the threshold already reached, hides it.
        self.assertTrue(self.report(self.post, "spam", self.residents[3])["auto_hidden"])
        self.assertEqual(self.status(self.post), "hidden")

    def test_automatic_hiding_is_not_on_the_ground_of_illegal_content(self):
        # A machine does not decide that content is illegal: the automated decision rests on the town's rules.
        self.report(self.post, "illegal", self.residents[0], *NOTICE)
        self.report(self.post, "spam", self.residents[1])
        self.assertTrue(self.report(self.post, "spam", self.residents[2])["auto_hidden"])
        reason, statement = self.query("SELECT reason, statement FROM decision WHERE automated = 1")[0]
        self.assertEqual(reason, "spam")
        self.assertNotIn("illicite", json.loads(statement)["ground"])

    def test_members_are_never_hidden_automatically(self):
        for by in self.residents[:3]:
            self.assertFalse(self.report(f"member:{self.lucie}", "harassment", by)["auto_hidden"])
        self.assertEqual(self.query("SELECT count(*) FROM decision")[0][0], 0)
        self.assertEqual(self.query("SELECT count(*) FROM restriction")[0][0], 0)

    def test_the_log_records_the_report_before_the_hiding_it_caused(self):
        for by in self.residents[:3]:
            self.report(self.post, "spam", by)
        actions = [(actor, action) for actor, action in
                   self.query("SELECT actor, action FROM audit_log WHERE target = ? ORDER BY id", f"post:{self.post}")]
        self.assertEqual(actions[-2:], [(f"member:{self.residents[2]}", "report.add"), ("system", "post.hide")])

    def test_a_report_reopens_a_closed_case(self):
        self.report(self.post, "spam", self.residents[0])
        case_id = self.case_of(f"post:{self.post}")[0]
        self.ok("mod", "dismiss", case_id, "--reason", "spam", "--as", SANDRINE)
        self.assertEqual(self.case_of(f"post:{self.post}")[1], "closed")
        data = self.report(self.post, "scam", self.residents[1])
        self.assertEqual((data["case"]["id"], data["case"]["status"]), (case_id, "open"))
        self.assertEqual([c["id"] for c in self.ok("mod", "queue", "--json").json()], [case_id])

    # ---- usage

    def test_misuse(self):
        before = self.snapshot()
        for args in (["add"], ["add", self.post], ["add", self.post, "--reason", "spam"],
                     ["add", self.post, "--by", self.residents[0]],
                     ["add", self.post, "--reason", "spam", "--by", self.residents[0], "--bogus"],
                     ["add", self.post, "--reason", "spam", "--by", self.residents[0], "--good-faith=maybe"],
                     ["frobnicate"], []):
            with self.subTest(args=args):
                self.fails("report", *args, code=2)
        self.assertUnchanged(before)

    def test_help(self):
        result = self.ok("report", "add", "--help")
        self.assertIn("report add", result.out)
        for option in ("--reason", "--by", "--details", "--notifier-name", "--notifier-email", "--good-faith"):
            self.assertIn(option, result.out)
        self.assertIn("add", self.ok("report", "--help").out)


if __name__ == "__main__":
    harness.main()
