"""voisinage post add|list|show|edit|remove, and the town's word rules every post passes."""

import json
import subprocess

import harness

SANDRINE = "sandrine.petit@mairie-thomery.example.fr"  # moderator in examples/thomery.yaml
MARIE = "marie.lefevre@mairie-thomery.example.fr"  # townhall, no neighbourhood
UNSAFE = "<b>gras</b> '; DROP TABLE post;-- \x1b[31mrouge\x1b[0m\x1b]0;titre\x07 \u009b31mcsi \u202eenrevni\nligne 2"


class PostTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.populate, "lucie", "paul")

    def populate(self):
        self.init_thomery()
        self.lucie = self.member("Lucie Bernard", neighbourhood="by")
        self.paul = self.member("Paul Martin", neighbourhood="effondre")

    def member(self, name, role="resident", neighbourhood=None):
        args = ["member", "add", "--name", name, "--role", role, "--json"]
        if neighbourhood:
            args += ["--neighbourhood", neighbourhood]
        return self.ok(*args).json()["id"]

    def add(self, *args, author=None):
        """`post add --json`; returns the outcome object (post, verdict, rules, case_id)."""
        return self.ok("post", "add", "--as", author or self.lucie, *args, "--json").json()

    def post_row(self, post_id):
        return self.query("SELECT kind, subkind, title, body, status, parent_id FROM post WHERE id = ?", post_id)[0]

    # ---- add

    def test_add(self):
        result = self.ok("post", "add", "--as", self.lucie, "--title", "Perceuse", "--body", "Qui me prête une "
                         "perceuse ?", "--kind", "request", "--subkind", "lend")
        post_id = self.query("SELECT max(id) FROM post")[0][0]
        self.assertEqual(result.out, f"post {post_id} published\n")
        self.assertEqual(self.query("SELECT n.slug, p.author_id, p.kind, p.subkind, p.title, p.body, p.status, "
                                    "p.locked FROM post p JOIN neighbourhood n ON n.id = p.neighbourhood_id"),
                         [("by", self.lucie, "request", "lend", "Perceuse", "Qui me prête une perceuse ?",
                           "visible", 0)])
        self.assertEqual(self.ok("-q", "post", "add", "--as", self.lucie, "--body", "Bonjour").out, "")

    def test_add_every_kind(self):
        merchant = self.member("Boulangerie du Port", "merchant", "bord-de-seine")
        association = self.member("Les Amis du Chasselas", "association", "les-treilles")
        cases = [
            (self.lucie, ["--kind", "offer", "--subkind", "give", "--body", "Je donne des pots de confiture"]),
            (self.lucie, ["--kind", "offer", "--subkind", "swap", "--body", "J'échange des boutures"]),
            (self.lucie, ["--kind", "request", "--subkind", "help", "--body", "Aide pour déménager samedi"]),
            (self.lucie, ["--kind", "discussion", "--body", "Le marché est-il maintenu ?"]),
            (self.paul, ["--kind", "lost_found", "--title", "Chat perdu", "--body", "Chat roux, rue de By"]),
            (self.lucie, ["--kind", "event", "--body", "Vide-grenier", "--event-at", "2031-06-21",
                          "--event-place", "Place de l'église"]),
            (merchant, ["--kind", "announcement", "--body", "Fermeture exceptionnelle lundi"]),
            (association, ["--kind", "announcement", "--body", "Assemblée générale"]),
            (MARIE, ["--kind", "announcement", "--neighbourhood", "centre-bourg", "--body", "Travaux rue de By"]),
            (self.lucie, ["--body", "Sans type : une discussion"]),
        ]
        for author, args in cases:
            with self.subTest(args=args):
                outcome = self.add(*args, author=author)
                self.assertEqual((outcome["verdict"], outcome["rules"], outcome["case_id"]), ("published", [], None))
                post = outcome["post"]
                kind = args[args.index("--kind") + 1] if "--kind" in args else "discussion"
                self.assertEqual((post["kind"], post["status"]), (kind, "visible"))
                self.assertEqual(self.post_row(post["id"])[0], kind)
        event = self.ok("post", "list", "--kind", "event", "--json").json()[0]
        self.assertEqual(event["event"], {"at": "2031-06-21T00:00:00Z", "place": "Place de l'église"})
        self.assertEqual(self.query("SELECT event_at, event_place FROM post WHERE kind = 'event'"),
                         [("2031-06-21T00:00:00Z", "Place de l'église")])
        announcement = self.ok("post", "list", "--author", MARIE, "--json").json()[0]
        self.assertEqual((announcement["neighbourhood"], announcement["author"]["role"]), ("centre-bourg", "townhall"))
        self.assertEqual(self.query("SELECT count(*) FROM post")[0][0], len(cases))

    def test_announcement_refused_to_a_resident(self):
        before = self.snapshot()
        self.fails("post", "add", "--as", self.lucie, "--kind", "announcement", "--body", "Réunion",
                   message="announcements are for the town hall, associations and shops")
        self.assertUnchanged(before)

    def test_event_needs_a_date(self):
        before = self.snapshot()
        self.fails("post", "add", "--as", self.lucie, "--kind", "event", "--body", "Fête des voisins",
                   message="an event needs a date (--event-at)")
        self.fails("post", "add", "--as", self.lucie, "--kind", "event", "--body", "Fête des voisins",
                   "--event-at", "samedi", message="invalid date 'samedi'")
        self.assertUnchanged(before)
        outcome = self.add("--kind", "event", "--body", "Fête des voisins", "--event-at", "2031-05-29T18:00:00Z")
        self.assertEqual(outcome["post"]["event"]["at"], "2031-05-29T18:00:00Z")

    def test_add_bad_input(self):
        self.ok("neighbourhood", "archive", "les-treilles")
        gone = self.member("Parti")
        self.ok("member", "remove", gone)
        before = self.snapshot()
        cases = [
            (["--kind", "offr"], "unknown kind of post 'offr' (did you mean 'offer'?)"),
            (["--kind", "offer", "--subkind", "steal"], "unknown kind of offer 'steal'"),
            (["--neighbourhood", "centre-bourgg"], "unknown neighbourhood 'centre-bourgg'"),
            (["--neighbourhood", "les-treilles"], "neighbourhood 'les-treilles' is archived"),
            (["--reply-to", "999"], "unknown post '999'"),
            (["--title", "t" * 201], "the title is longer than 200 bytes"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                self.fails("post", "add", "--as", self.lucie, "--body", "Bonjour", *args, message=message)
        for body, message in (("", "the text of the post is empty"), (" \n\t", "the text of the post is empty"),
                              ("x" * 4001, "the text is longer than 4000 bytes")):
            with self.subTest(body=body[:10]):
                self.fails("post", "add", "--as", self.lucie, "--body", body, message=message)
        for author, message in (("999", "unknown member '#999'"), ("nobody@example.fr", "unknown member"),
                                (gone, f"member '#{gone}' has been removed"),
                                (SANDRINE, "belongs to no neighbourhood")):
            with self.subTest(author=author):
                self.fails("post", "add", "--as", author, "--body", "Bonjour", message=message)
        self.assertUnchanged(before)

    # ---- replies

    def test_replies(self):
        parent = self.add("--title", "Perceuse", "--body", "Qui me prête une perceuse ?")["post"]["id"]
        reply = self.add("--reply-to", parent, "--body", "Moi, passez ce soir", "--title", "ignoré",
                         author=self.paul)["post"]
        self.assertEqual((reply["kind"], reply["parent_id"], reply["neighbourhood"], reply["title"]),
                         ("reply", parent, "by", ""))  # the parent's neighbourhood, not Paul's
        self.assertEqual(self.post_row(reply["id"]), ("reply", "", "", "Moi, passez ce soir", "visible", parent))
        listed = self.ok("post", "list", "--json").json()
        self.assertEqual([(p["id"], p["replies"]) for p in listed], [(parent, 1)])  # replies are not posts
        shown = self.ok("post", "show", parent)
        self.assertIn(f"reply {reply['id']} by Paul Martin (visible): Moi, passez ce soir", shown.out)
        self.assertEqual([r["id"] for r in self.ok("post", "show", parent, "--json").json()["replies"]],
                         [reply["id"]])

    def test_replies_refused(self):
        parent = self.add("--body", "Qui me prête une perceuse ?")["post"]["id"]
        reply = self.add("--reply-to", parent, "--body", "Moi", author=self.paul)["post"]["id"]
        locked = self.add("--body", "Sujet clos")["post"]["id"]
        self.ok("mod", "lock", f"post:{locked}", "--reason", "off_topic", "--as", SANDRINE)
        hidden = self.add("--body", "Sujet masqué")["post"]["id"]
        self.ok("mod", "hide", f"post:{hidden}", "--reason", "spam", "--as", SANDRINE)
        before = self.snapshot()
        for target, message in ((reply, f"post {reply} is a reply: reply to post {parent}"),
                                (locked, f"post {locked} is locked: it takes no more replies"),
                                (hidden, f"post {hidden} is hidden: it takes no replies")):
            with self.subTest(target=target):
                self.fails("post", "add", "--as", self.paul, "--reply-to", target, "--body", "Réponse",
                           message=message)
        self.assertUnchanged(before)

    # ---- word rules of examples/thomery.yaml

    def test_block_rule_refuses_and_writes_nothing(self):
        before = self.snapshot()
        for args in (["--body", "Espèce de CONNARD !"], ["--title", "Salope", "--body", "Rien à dire"],
                     ["--body", "quel c.o.n.n.a.r.d ce voisin"], ["--body", "SALOPÉ"]):
            with self.subTest(args=args):
                result = self.fails("post", "add", "--as", self.lucie, *args, message="the post is refused by the "
                                                                                      "word rule '")
                self.assertRegex(result.err, r"word rule '(connard|salope)' \(block\)")
                self.assertEqual(result.out, "")
        self.assertUnchanged(before)  # no post, no case, no audit entry
        # Whole words only.
        self.assertEqual(self.add("--body", "Une connardise de plus")["verdict"], "published")

    def test_block_rule_spelled_out_next_to_a_one_letter_word(self):
        # French puts one-letter words everywhere ("à", "a", "y", "d'", "l'"): they must not hide a spelled-out word.
        for body in ("espèce de c.o.n.n.a.r.d à la noix", "il a traité le voisin de c.o.n.n.a.r.d y compris",
                     "Quel S.A.L.O.P.E d'escroc"):
            with self.subTest(body=body):
                self.fails("post", "add", "--as", self.lucie, "--body", body, message="(block)")
                self.assertEqual(self.query("SELECT body FROM post"), [])

    def test_hold_rule(self):
        result = self.ok("post", "add", "--as", self.lucie, "--body", "Payez par PayPal, c'est plus simple")
        post_id = self.query("SELECT max(id) FROM post")[0][0]
        self.assertEqual(result.out, f"post {post_id} held for review (word rules: paypal)\n")
        self.assertEqual(self.post_row(post_id)[4], "held")
        outcome = self.add("--body", "Envoi par Western-Union uniquement")
        self.assertEqual((outcome["verdict"], outcome["rules"], outcome["post"]["status"]),
                         ("held", ["western union"], "held"))
        self.assertEqual(sorted(p["id"] for p in self.ok("post", "list", "--status", "held", "--json").json()),
                         [post_id, outcome["post"]["id"]])
        # Each held post waits in the moderators' queue; keeping it publishes it.
        self.assertEqual(self.query("SELECT r.details FROM report r JOIN moderation_case c ON c.id = r.case_id "
                                    "WHERE c.target_id = ? AND r.reporter_id IS NULL", post_id),
                         [("word rule 'paypal' (hold)",)])
        case_id = self.query("SELECT id FROM moderation_case WHERE target_id = ?", post_id)[0][0]
        self.ok("mod", "dismiss", case_id, "--reason", "other", "--as", "sandrine.petit@mairie-thomery.example.fr")
        self.assertEqual(self.post_row(post_id)[4], "visible")

    def test_flag_rule_opens_a_case(self):
        result = self.ok("post", "add", "--as", self.lucie, "--body", "Attention, ARNAQUE aux faux plombiers")
        post_id, case_id = self.query("SELECT target_id, id FROM moderation_case")[0]
        self.assertEqual(result.out, f"post {post_id} published and flagged for review (case {case_id}) "
                                     f"(word rules: arnaque*)\n")
        self.assertEqual(self.post_row(post_id)[4], "visible")
        self.assertEqual(self.query("SELECT reporter_id, reason, details FROM report WHERE case_id = ?", case_id),
                         [(None, "other", "word rule 'arnaque*' (flag)")])
        queue = self.ok("mod", "queue", "--json").json()
        self.assertEqual([(c["id"], c["target"]) for c in queue], [(case_id, f"post:{post_id}")])
        outcome = self.add("--body", "URGENT : perdu mes clés")
        self.assertEqual((outcome["verdict"], outcome["rules"]), ("flagged", ["urgent*"]))
        self.assertEqual(self.query("SELECT count(*) FROM moderation_case")[0][0], 2)

    def test_censor_rule_masks(self):
        outcome = self.add("--title", "Putain de bruit", "--body", "Ce PUTAIN de chien aboie")
        self.assertEqual((outcome["verdict"], outcome["rules"]), ("censored", ["putain"]))
        self.assertEqual(self.post_row(outcome["post"]["id"])[2:4], ("****** de bruit", "Ce ****** de chien aboie"))
        result = self.ok("post", "add", "--as", self.lucie, "--body", "putain")
        self.assertRegex(result.out, r"^post \d+ published with words masked \(word rules: putain\)\n$")

    def test_strongest_rule_wins(self):
        outcome = self.add("--body", "Arnaque ! payez par paypal, putain")
        self.assertEqual(outcome["verdict"], "held")
        self.assertEqual(outcome["post"]["body"], "Arnaque ! payez par paypal, ******")
        self.assertEqual(sorted(outcome["rules"]), ["arnaque*", "paypal", "putain"])

    def test_rules_added_later_apply(self):
        self.ok("mod", "rules", "add", "escroc*", "--action", "hold")
        self.assertEqual(self.add("--body", "Ce sont des escrocs")["verdict"], "held")
        self.ok("mod", "rules", "remove", "escroc*")
        self.assertEqual(self.add("--body", "Ce sont des escrocs")["verdict"], "published")

    # ---- edit

    def test_edit_reapplies_the_rules(self):
        post_id = self.add("--title", "Vélo", "--body", "Je vends un vélo")["post"]["id"]
        before = self.snapshot()
        self.fails("post", "edit", post_id, "--body", "Pour le connard du coin", message="word rule 'connard' (block)")
        self.assertUnchanged(before)

        self.assertEqual(self.ok("post", "edit", post_id, "--body", "Je vends un vélo, putain").out,
                         f"post {post_id} published with words masked (word rules: putain)\n")
        self.assertEqual(self.post_row(post_id)[2:5], ("Vélo", "Je vends un vélo, ******", "visible"))

        outcome = self.ok("post", "edit", post_id, "--title", "Vélo (arnaques s'abstenir)", "--json").json()
        self.assertEqual((outcome["verdict"], outcome["post"]["title"]), ("flagged", "Vélo (arnaques s'abstenir)"))
        self.assertEqual(self.query("SELECT id FROM moderation_case WHERE target_id = ?", post_id),
                         [(outcome["case_id"],)])

        outcome = self.ok("post", "edit", post_id, "--body", "Paiement PayPal", "--json").json()
        self.assertEqual((outcome["verdict"], outcome["post"]["status"]), ("held", "held"))
        self.assertEqual(self.query("SELECT action, target FROM audit_log WHERE action = 'post.edit'"),
                         [("post.edit", f"post:{post_id}")] * 3)

    def test_edit_does_not_undo_a_decision(self):
        post_id = self.add("--body", "Texte")["post"]["id"]
        self.ok("mod", "hide", f"post:{post_id}", "--reason", "spam", "--as", SANDRINE)
        self.ok("post", "edit", post_id, "--body", "Texte corrigé")
        self.assertEqual(self.post_row(post_id)[3:5], ("Texte corrigé", "hidden"))
        removed = self.add("--body", "Autre")["post"]["id"]
        self.ok("post", "remove", removed, "--as", SANDRINE)
        before = self.snapshot()
        self.fails("post", "edit", removed, "--body", "Revenu", message=f"post {removed} has been removed")
        self.fails("post", "edit", 999, "--body", "x", message="unknown post '999'")
        self.fails("post", "edit", post_id, "--body", "", message="the text of the post is empty")
        self.assertUnchanged(before)

    # ---- remove

    def test_remove_is_a_decision_with_a_statement(self):
        post_id = self.add("--body", "Achetez mes montres")["post"]["id"]
        result = self.ok("post", "remove", post_id, "--as", SANDRINE, "--reason", "spam", "--note", "publicité")
        decision_id, case_id = self.query("SELECT id, case_id FROM decision")[0]
        self.assertEqual(result.out, f"removed post {post_id} (decision {decision_id}, case {case_id})\n")
        self.assertEqual(self.post_row(post_id)[4], "removed")
        moderator = self.query("SELECT id FROM member WHERE email = ?", SANDRINE)[0][0]
        row = self.query("SELECT action, reason, note, moderator_id, automated, statement FROM decision")[0]
        self.assertEqual(row[:5], ("remove", "spam", "publicité", moderator, 0))
        statement = json.loads(row[5])
        self.assertEqual(statement["restriction"], "contenu supprimé")
        self.assertIn("spam", statement["ground"])
        self.assertEqual((statement["automated_detection"], statement["automated_decision"]), (False, False))
        self.assertIn("six mois", statement["appeal"])
        self.assertEqual(self.query("SELECT status FROM moderation_case WHERE id = ?", case_id), [("closed",)])
        self.assertEqual(self.query("SELECT actor, action, target, reason FROM audit_log WHERE action = 'post.remove'"),
                         [(f"member:{moderator}", "post.remove", f"post:{post_id}", "spam")])

    def test_remove_takes_the_moderator_from_the_environment(self):
        post_id = self.add("--body", "Texte")["post"]["id"]
        self.ok("post", "remove", post_id, env={"VOISINAGE_MODERATOR": SANDRINE})
        self.assertEqual(self.query("SELECT action, reason FROM decision"), [("remove", "other")])

    def test_remove_refused(self):
        post_id = self.add("--body", "Texte")["post"]["id"]
        before = self.snapshot()
        for moderator in (self.paul, MARIE):
            with self.subTest(moderator=moderator):
                self.fails("post", "remove", post_id, "--as", moderator, message="not a moderator")
        self.fails("post", "remove", 999, "--as", SANDRINE, message="unknown post '999'")
        self.fails("post", "remove", post_id, "--as", SANDRINE, "--reason", "spamm",
                   message="unknown reason 'spamm' (did you mean 'spam'?)")
        self.fails("post", "remove", post_id, code=2, env={"VOISINAGE_MODERATOR": ""})  # --as is required
        self.assertUnchanged(before)

    # ---- list and show

    def test_list_and_filters(self):
        a = self.add("--body", "Premier", "--kind", "offer")["post"]["id"]
        b = self.add("--body", "Deuxième", author=self.paul)["post"]["id"]
        c = self.add("--body", "Payez par paypal")["post"]["id"]
        result = self.ok("post", "list")
        self.assertEqual(result.out.splitlines()[0].split(),
                         ["ID", "DATE", "NEIGHBOURHOOD", "KIND", "AUTHOR", "TITLE", "STATUS", "REPLIES"])
        self.assertEqual([line.split()[0] for line in result.out.splitlines()[1:]], [str(c), str(b), str(a)])

        def ids(*args):
            return [p["id"] for p in self.ok("post", "list", *args, "--json").json()]

        self.assertEqual(ids(), [c, b, a])
        self.assertEqual(ids("--neighbourhood", "effondre"), [b])
        self.assertEqual(ids("--author", self.lucie), [c, a])
        self.assertEqual(ids("--status", "held"), [c])
        self.assertEqual(ids("--kind", "offer"), [a])
        self.assertEqual(ids("--before", c), [b, a])
        self.assertEqual(ids("--limit", 1), [c])

    def test_list_bad_filters(self):
        self.add("--body", "Premier")
        self.fails("post", "list", "--author", "999", message="unknown member '#999'")
        self.fails("post", "list", "--neighbourhood", "bx", message="unknown neighbourhood 'bx'")
        # A misspelt status or kind is an error, not an empty list.
        self.fails("post", "list", "--status", "hiden", message="'hiden'")
        self.fails("post", "list", "--kind", "evnt", message="'evnt'")

    def test_list_cuts_titles_on_a_character_boundary(self):
        self.add("--body", "a" + "é" * 40)  # byte 40 falls inside an 'é'
        completed = subprocess.run([harness.BINARY, "--db", str(self.db), "post", "list"], capture_output=True,
                                   cwd=self.dir, timeout=60)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        try:
            completed.stdout.decode("utf-8")
        except UnicodeDecodeError as error:
            self.fail(f"'post list' printed invalid UTF-8: {error}")

    def test_show(self):
        post_id = self.add("--kind", "event", "--title", "Fête", "--body", "Apportez un plat", "--event-at",
                           "2031-06-21", "--event-place", "Square")["post"]["id"]
        result = self.ok("post", "show", post_id)
        self.assertRegex(result.out.splitlines()[0],
                         rf"^post {post_id} · by · event · visible by Lucie Bernard \(#{self.lucie}, resident\) on ")
        self.assertIn("Fête\n", result.out)
        self.assertIn("event: 2031-06-21T00:00:00Z Square\n", result.out)
        self.assertIn("Apportez un plat\n", result.out)
        data = self.ok("post", "show", post_id, "--json").json()
        self.assertEqual((data["id"], data["author"]["id"], data["title"], data["replies"]),
                         (post_id, self.lucie, "Fête", []))
        self.fails("post", "show", 999, message="unknown post '999'")

    def test_text_is_stored_verbatim_and_printed_safely(self):
        post_id = self.add("--title", "Titre \x1b[2J", "--body", UNSAFE)["post"]["id"]
        self.assertEqual(self.post_row(post_id)[2:4], ("Titre \x1b[2J", UNSAFE))
        self.assertEqual(self.ok("post", "show", post_id, "--json").json()["body"], UNSAFE)
        for args in (["post", "show", post_id], ["post", "list"]):
            with self.subTest(args=args):
                out = self.ok(*args).out
                for control in ("\x1b", "\x07", "\u009b", "\u202e"):  # ESC, BEL, one-character CSI, bidi override
                    self.assertNotIn(control, out)
        shown = self.ok("post", "show", post_id).out
        self.assertIn("<b>gras</b> '; DROP TABLE post;--", shown)
        self.assertEqual(self.query("SELECT count(*) FROM post")[0][0], 1)

    # ---- usage

    def test_misuse(self):
        post_id = self.add("--body", "Texte")["post"]["id"]
        before = self.snapshot()
        for args in (["add"], ["add", "--as", self.lucie], ["add", "--body", "x"],
                     ["add", "--as", self.lucie, "--body", "x", "--bogus"],
                     ["add", "--as", self.lucie, "--body", "x", "--reply-to", "abc"],
                     ["list", "--limit", "beaucoup"], ["show"], ["show", "abc"], ["edit"], ["edit", "abc"],
                     ["remove"], ["remove", post_id, "--as"], ["frobnicate"], []):
            with self.subTest(args=args):
                self.fails("post", *args, code=2)
        self.assertUnchanged(before)

    def test_help(self):
        for command in ("add", "list", "show", "edit", "remove"):
            with self.subTest(command):
                self.assertIn(f"post {command}", self.ok("post", command, "--help").out)
        self.assertIn("--reply-to", self.ok("post", "add", "--help").out)
        self.assertIn("--before", self.ok("post", "list", "--help").out)
        self.assertIn("VOISINAGE_MODERATOR", self.ok("post", "remove", "--help").out)


if __name__ == "__main__":
    harness.main()
