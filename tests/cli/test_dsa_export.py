"""voisinage mod export-decisions: statements of reasons in the DSA Transparency Database's fields."""

import csv
import io
import json

import harness

MODERATOR = "sandrine.petit@mairie-thomery.example.fr"


class ExportDecisionsTest(harness.VoisinageTest):
    def setUp(self):
        super().setUp()
        self.fixture(self.populate)

    def populate(self):
        self.init_thomery()
        for name in ("alice", "bob"):
            self.ok("member", "add", "--name", f"{name.title()} Secret-Name", "--email", f"{name}@example.fr",
                    "--neighbourhood", "centre-bourg")
        self.ok("post", "add", "--as", "alice@example.fr", "--body", "Texte privé d'Alice")
        self.ok("report", "add", "1", "--reason", "scam", "--by", "bob@example.fr")
        self.ok("mod", "hide", "1", "--reason", "scam", "--as", MODERATOR)
        self.ok("mod", "suspend", "bob@example.fr", "--reason", "harassment", "--until", "2099-01-01",
                "--as", MODERATOR)
        self.ok("mod", "warn", "alice@example.fr", "--reason", "spam", "--as", MODERATOR)  # not a restriction

    def test_jsonl_fields_and_values(self):
        lines = self.ok("mod", "export-decisions", "--since", "2000-01-01").out.splitlines()
        statements = [json.loads(line) for line in lines]
        self.assertEqual(len(statements), 2)
        hide, suspend = statements
        self.assertEqual(hide["decision_visibility"], ["DECISION_VISIBILITY_CONTENT_DISABLED"])
        self.assertEqual(hide["category"], "STATEMENT_CATEGORY_SCAMS_AND_FRAUD")
        self.assertEqual(hide["decision_ground"], "DECISION_GROUND_INCOMPATIBLE_CONTENT")
        self.assertEqual(hide["automated_decision"], "AUTOMATED_DECISION_NOT_AUTOMATED")
        self.assertEqual(hide["territorial_scope"], ["FR"])
        self.assertEqual(suspend["decision_account"], "DECISION_ACCOUNT_SUSPENDED")
        self.assertEqual(suspend["end_date_account_restriction"], "2099-01-01")
        for statement in statements:
            text = json.dumps(statement, ensure_ascii=False)
            for personal in ("Secret-Name", "example.fr", "Texte privé", "sandrine"):
                self.assertNotIn(personal, text)

    def test_csv_and_since(self):
        out = self.ok("mod", "export-decisions", "--since", "2000-01-01", "--format", "csv").out
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual([r["category"] for r in rows],
                         ["STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_CYBER_VIOLENCE"])
        self.assertEqual(self.ok("mod", "export-decisions", "--since", "2999-01-01").out, "")

    def test_undone_decisions_are_not_exported(self):
        (decision,) = self.query("SELECT id FROM decision WHERE action = 'hide'")[0]
        self.ok("mod", "undo", str(decision), "--as", MODERATOR)
        lines = self.ok("mod", "export-decisions", "--since", "2000-01-01").out.splitlines()
        self.assertEqual([json.loads(l).get("decision_account") for l in lines], ["DECISION_ACCOUNT_SUSPENDED"])

    def test_bad_input(self):
        self.fails("mod", "export-decisions", "--since", "yesterday", message="invalid date")
        self.fails("mod", "export-decisions", "--since", "2000-01-01", "--format", "xml", code=2)
        self.fails("mod", "export-decisions", code=2)
        self.ok("mod", "export-decisions", "--help")


if __name__ == "__main__":
    harness.main()
