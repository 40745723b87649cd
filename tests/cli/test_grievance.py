"""voisinage grievance add|list|show|status|assign|respond|merge|stats|export: residents' grievances (issue 5),
their workflow, the council's figures, every export format, and the bad input the issue lists."""

import csv
import io
import json
import os
import re
import resource
import shutil
import stat
import subprocess
import unittest
import xml.etree.ElementTree as ET
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import harness
import towns

MARIE = "marie.lefevre@mairie-thomery.example.fr"  # townhall in examples/thomery.yaml
JULIEN = "julien.moreau@mairie-thomery.example.fr"  # townhall
SANDRINE = "sandrine.petit@mairie-thomery.example.fr"  # moderator

BY = towns.centroid(harness.EXAMPLES / "thomery" / "by.geojson")  # (lat, lon) inside 'by'
CENTRE_BOURG = towns.centroid(harness.EXAMPLES / "thomery" / "centre-bourg.geojson")
BORD_DE_SEINE = (48.4130, 2.7860)  # inside the inline polygon of examples/thomery.yaml
NOWHERE = (48.4200, 2.8000)  # in Thomery's area, outside every polygon

CSV_COLUMNS = ["reference", "category", "title", "description", "status", "created_at", "acknowledged_at",
               "resolved_at", "closed_at", "delay_days", "address", "postcode", "neighbourhood", "latitude",
               "longitude", "service", "channel", "expected_on", "duplicate_of", "reopened", "public", "updated_at"]
CSV_FR_COLUMNS = ["Référence", "Catégorie", "Titre", "Description", "Statut", "Créée le", "Prise en compte le",
                  "Résolue le", "Close le", "Délai (jours)", "Adresse", "Code postal", "Quartier", "Latitude",
                  "Longitude", "Service", "Canal", "Date prévue", "Doublon de", "Réouvertures", "Publique",
                  "Mise à jour le"]

# An anonymous resident's contact data: must never leave the database through an export.
CONTACT = ("Jeanne Secret-Contact", "jeanne.secret@example.org", "06 98 76 54 32")
CONTACT_TRACES = ("Secret-Contact", "jeanne.secret", "+33698765432", "98 76 54 32", "0698765432")

# Hostile titles and descriptions, all received long ago in 'proprete' (7 days) so that the council's report
# lists them as overdue: each appears in the HTML and Markdown reports.
HOSTILE = {
    "script": "<script>alert(1)</script>",
    "hyperlink": '=HYPERLINK("http://x","y")',
    "plus": "+cmd",
    "at": "@SUM(1)",
    "minus": "-2+3",
    "tab": "\tTabulé",
    "rlo": "\u202eevil.exe",
    "pipe": "a|b <c> & d",
}


def paris_year():
    return datetime.now(ZoneInfo("Europe/Paris")).year


class GrievanceTest(harness.VoisinageTest):
    """Thomery, two residents; helpers around `grievance ... --json`.

    The data set is built once per class, by the binary, for its first test (with the subclass's `build()` if it
    has one); its other tests start from a copy of that database and of the attributes named in
    `fixture_attributes`."""

    fixture_attributes = ()

    def setUp(self):
        super().setUp()
        self.fixture(self.populate, "lucie", "paul", *self.fixture_attributes)

    def populate(self):
        self.init_thomery()
        self.lucie = self.member("Lucie Bernard", neighbourhood="by")
        self.paul = self.member("Paul Martin", neighbourhood="effondre")
        if hasattr(self, "build"):
            self.build()

    def member(self, name, role="resident", neighbourhood="by"):
        return self.ok("member", "add", "--name", name, "--role", role, "--neighbourhood", neighbourhood,
                       "--json").json()["id"]

    def member_id(self, email):
        return self.query("SELECT id FROM member WHERE email = ?", email)[0][0]

    def add(self, *args, category="voirie", title="Nid-de-poule", description="Un trou dans la chaussée",
            received=None, point=None):
        """`grievance add --json`: the grievance object."""
        argv = ["grievance", "add", "--category", category, f"--title={title}", f"--description={description}"]
        if received:
            argv += ["--received", received]
        if point:
            argv += ["--lat", point[0], "--lon", point[1]]
        return self.ok(*argv, *args, "--json").json()["grievance"]

    def status(self, reference, status, *args):
        return self.ok("grievance", "status", reference, status, *args, "--json").json()

    def show(self, reference):
        return self.ok("grievance", "show", reference, "--json").json()

    def export(self, fmt, *args):
        return self.ok("grievance", "export", "--format", fmt, *args)

    def export_file(self, fmt, *args, name=None):
        """Exports with -o and returns the file's bytes."""
        path = self.dir / (name or f"export.{fmt}")
        result = self.ok("grievance", "export", "--format", fmt, "-o", path, *args)
        self.assertIn(f"to '{path}'", result.err)
        return path.read_bytes()

    def csv_rows(self, *args):
        data = self.export_file("csv", *args).decode("utf-8")
        return list(csv.DictReader(io.StringIO(data, newline="")))

    def csv_fr_rows(self, *args):
        data = self.export_file("csv-fr", *args).decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(data, newline=""), delimiter=";"))

    def references(self, *args):
        return [g["reference"] for g in self.ok("grievance", "list", "--json", *args).json()]


# ---------------------------------------------------------------------------------------------------------------
# add, show, list


class AddShowListTest(GrievanceTest):
    def test_add_with_a_member_reporter(self):
        g = self.add("--reporter", self.lucie, "--address", "12 rue de By", "--postcode", "77810", "--channel", "web",
                     point=BY)
        year = paris_year()
        self.assertEqual(g["reference"], f"DOL-{year}-000001")
        self.assertEqual(g["reporter"], {"member": self.lucie, "display_name": "Lucie Bernard"})
        self.assertEqual(g["contact"], {"name": "", "email": "", "phone": ""})
        self.assertEqual((g["category"], g["category_name"], g["service"], g["status"], g["status_group"],
                          g["channel"], g["neighbourhood"], g["public"], g["reopened"]),
                         ("voirie", "Voirie et trottoirs", "Services techniques", "new", "open", "web", "by", True, 0))
        self.assertAlmostEqual(g["lat"], BY[0], places=6)
        self.assertAlmostEqual(g["lon"], BY[1], places=6)
        self.assertEqual(g["created_at"], g["updated_at"])
        self.assertIsNone(g["acknowledged_at"])
        self.assertRegex(g["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        # The member reporter follows their grievance; the creation is a public event by the CLI.
        shown = self.show(g["reference"])
        self.assertEqual(shown["followers"], [self.lucie])
        self.assertEqual([(e["kind"], e["old_status"], e["new_status"], e["actor"], e["public"])
                          for e in shown["events"]], [("created", "", "new", "cli", True)])
        self.assertEqual(self.query("SELECT reporter_id, contact_email, channel, status FROM grievance"),
                         [(self.lucie, "", "web", "new")])
        result = self.ok("grievance", "add", "--category", "eclairage_public", "--title", "Lampadaire",
                         "--description", "Éteint depuis lundi", "--lat", BY[0], "--lon", BY[1])
        self.assertEqual(result.out, f"grievance DOL-{year}-000002 recorded (eclairage_public, neighbourhood by, "
                                     "service: Services techniques)\n")
        self.assertEqual(result.err, "")

    def test_add_with_an_anonymous_contact(self):
        g = self.add("--contact-name", CONTACT[0], "--contact-email", CONTACT[1], "--contact-phone", CONTACT[2])
        self.assertIsNone(g["reporter"])
        self.assertEqual(g["contact"], {"name": CONTACT[0], "email": CONTACT[1], "phone": "+33698765432"})
        self.assertEqual(g["channel"], "counter")  # the CLI's default: entered at the town hall
        self.assertEqual(self.show(g["reference"])["followers"], [])
        out = self.ok("grievance", "show", g["reference"]).out
        self.assertIn(f"reporter:    anonymous, {CONTACT[0]}, {CONTACT[1]}, +33698765432 via counter\n", out)
        # Fully anonymous: no contact at all.
        g = self.add()
        self.assertEqual((g["reporter"], g["contact"]), (None, {"name": "", "email": "", "phone": ""}))

    def test_references_are_sequential_per_year_in_town_time(self):
        year = paris_year()
        refs = [self.add()["reference"] for _ in range(3)]
        self.assertEqual(refs, [f"DOL-{year}-{n:06}" for n in (1, 2, 3)])
        # 23:30 UTC on 31 December is already 1 January in Paris; 22:30 UTC is still the old year.
        self.assertEqual(self.add(received="2025-12-31T23:30:00Z")["reference"],
                         f"DOL-2026-{4 if year == 2026 else 1:06}")
        self.assertEqual(self.add(received="2025-12-31T22:30:00Z")["reference"], "DOL-2025-000001")
        self.assertEqual(self.add(received="2025-06-01")["reference"], "DOL-2025-000002")
        # A bare day is midnight in Paris: 1 January 2026 began at 23:00 UTC on 31 December.
        g = self.add(received="2026-01-01")
        self.assertEqual((g["reference"], g["created_at"]),
                         (f"DOL-2026-{5 if year == 2026 else 2:06}", "2025-12-31T23:00:00Z"))
        # Lookups accept lower case and short numbers.
        for spelling in (f"DOL-{year}-000002", f"dol-{year}-2", f"Dol-{year}-02"):
            with self.subTest(spelling=spelling):
                self.assertEqual(self.show(spelling)["reference"], f"DOL-{year}-000002")
        self.fails("grievance", "show", "XYZ-1", message="invalid grievance reference 'XYZ-1'")
        self.fails("grievance", "show", f"DOL-{year}-999", message=f"no grievance 'DOL-{year}-000999'")

    def test_neighbourhood_from_a_point_inside_a_polygon(self):
        cases = [(BY, "by"), (CENTRE_BOURG, "centre-bourg"), (BORD_DE_SEINE, "bord-de-seine")]
        for point, slug in cases:
            with self.subTest(slug=slug):
                self.assertEqual(self.add("--postcode", "77810", point=point)["neighbourhood"], slug)
        # Outside every polygon, 77810 is shared by the two neighbourhoods without a polygon: no guess.
        self.assertIsNone(self.add("--postcode", "77810", point=NOWHERE)["neighbourhood"])
        self.assertIsNone(self.add("--postcode", "77810")["neighbourhood"])
        self.assertEqual(self.query("SELECT count(*) FROM grievance WHERE neighbourhood_id IS NULL")[0][0], 2)

    def test_show_text(self):
        g = self.add("--reporter", self.lucie, "--address", "12 rue de By", point=BY)
        ref = g["reference"]
        self.status(ref, "open", "--note", "Vu par les services", "--public")
        self.ok("grievance", "assign", ref, "--to", JULIEN, "--note", "à voir jeudi")
        out = self.ok("grievance", "show", ref).out
        self.assertTrue(out.startswith(f"{ref}  Nid-de-poule\nstatus:      open\n"), out)
        self.assertIn("category:    voirie (Voirie et trottoirs)\n", out)
        self.assertIn(f"service:     Services techniques, assigned to Julien Moreau (member {self.member_id(JULIEN)})",
                      out)
        self.assertIn(f"where:       12 rue de By (by) [{BY[0]:.6f}, {BY[1]:.6f}]\n", out)
        self.assertIn(f"reporter:    Lucie Bernard (member {self.lucie}) via counter\n", out)
        self.assertIn("acknowledged: ", out)
        self.assertIn("\nUn trou dans la chaussée\n\nhistory:\n", out)
        self.assertRegex(out, r"created\s+cli · → new \[public\]")
        self.assertRegex(out, r"status\s+cli new → open \[public\]\n\s+Vu par les services\n")
        self.assertRegex(out, r"assigned\s+cli\n\s+assigned to Julien Moreau .* — à voir jeudi\n")

    def test_show_json_with_events_and_followers(self):
        g = self.add("--reporter", self.lucie)
        ref = g["reference"]
        self.ok("grievance", "respond", ref, "Nous passons demain.")
        shown = self.show(ref)
        self.assertEqual(shown["status"], "open")
        self.assertEqual(shown["followers"], [self.lucie])
        self.assertEqual([(e["kind"], e["old_status"], e["new_status"], e["note"], e["public"])
                          for e in shown["events"]],
                         [("created", "", "new", "", True), ("status", "new", "open", "Nous passons demain.", True)])
        for key in ("reference", "category", "title", "description", "reporter", "contact", "assignee", "events",
                    "followers", "acknowledged_at", "resolved_at", "closed_at", "expected_on", "duplicate_of"):
            self.assertIn(key, shown)

    def test_list_filters(self):
        a = self.add("--reporter", self.lucie, received="2026-10-24T21:30:00Z", point=BY)  # 24 Oct, 23:30 Paris
        b = self.add(category="bruit", received="2026-10-24T22:30:00Z")  # 25 Oct 00:30 (summer time)
        c = self.add(category="bruit", received="2026-10-25T22:30:00Z", point=BY)  # 25 Oct 23:30 (winter time)
        d = self.add(received="2026-10-25T23:30:00Z")  # 26 Oct 00:30
        e = self.add(category="proprete", title="Tags", received="2026-10-26T10:00:00Z")
        self.status(e["reference"], "hidden", "--at", "2026-10-26T11:00:00Z")
        self.status(d["reference"], "open", "--at", "2026-10-26T00:00:00Z")
        refs = [x["reference"] for x in (a, b, c, d, e)]
        # Newest first, hidden ones left out unless asked for.
        self.assertEqual(self.references(), [refs[3], refs[2], refs[1], refs[0]])
        self.assertEqual(self.references("--status", "hidden"), [refs[4]])
        self.assertEqual(self.references("--status", "open,hidden"), [refs[4], refs[3]])
        self.assertEqual(self.references("--status", "open, hidden"), [refs[4], refs[3]])
        self.assertEqual(self.references("--status", "new"), [refs[2], refs[1], refs[0]])
        self.assertEqual(self.references("--category", "bruit"), [refs[2], refs[1]])
        self.assertEqual(self.references("--neighbourhood", "by"), [refs[2], refs[0]])
        # Days in the town's time zone, both included, across the end of summer time.
        self.assertEqual(self.references("--from", "2026-10-25", "--to", "2026-10-25"), [refs[2], refs[1]])
        self.assertEqual(self.references("--to", "2026-10-24"), [refs[0]])
        self.assertEqual(self.references("--from", "2026-10-26"), [refs[3]])
        self.assertEqual(self.references("--limit", "2"), [refs[3], refs[2]])
        self.assertEqual(self.references("--limit", "0"), [refs[3], refs[2], refs[1], refs[0]])
        # Overdue: open and older than the category's delay (all of them, a month later), or planned and late.
        fresh = self.add()
        self.assertEqual(set(self.references("--overdue")), set(refs[:4]))
        self.status(fresh["reference"], "open")
        self.assertNotIn(fresh["reference"], self.references("--overdue"))
        out = self.ok("grievance", "list", "--category", "bruit").out
        self.assertRegex(out.splitlines()[0], r"^REFERENCE\s+RECEIVED\s+STATUS\s+CATEGORY\s+TITLE\s+WHERE$")
        self.assertRegex(out.splitlines()[1], rf"^{refs[2]}\s+2026-10-25\s+new\s+bruit\s+Nid-de-poule\s+\(by\)$")
        # The day received in Paris: 22:30 UTC on 24 October was 00:30 on the 25th.
        self.assertRegex(out.splitlines()[2], rf"^{refs[1]}\s+2026-10-25\s+new\s+bruit\s+Nid-de-poule\s*$")
        self.assertEqual(self.ok("grievance", "list", "--category", "signalisation").out, "no grievance matches\n")


class NeighbourhoodByPostcodeTest(harness.VoisinageTest):
    def test_a_postcode_of_one_neighbourhood_finds_it(self):
        town = towns.copy_thomery(self.dir / "town")
        towns.edit(town, 'postcodes: ["77810"]\n  timezone', 'postcodes: ["77810", "77811"]\n  timezone')
        towns.edit(town, 'name: Effondré\n    postcodes: ["77810"]', 'name: Effondré\n    postcodes: ["77811"]')
        self.ok("init", "--from", town)

        def hood(*args):
            return self.ok("grievance", "add", "--category", "voirie", "--title", "Trou", "--description", "Trou",
                           *args, "--json").json()["grievance"]["neighbourhood"]

        self.assertEqual(hood("--postcode", "77811"), "effondre")
        self.assertIsNone(hood("--postcode", "77810"))  # shared by four neighbourhoods
        self.assertEqual(hood("--postcode", "77811", "--lat", NOWHERE[0], "--lon", NOWHERE[1]), "effondre")
        self.assertEqual(hood("--postcode", "77811", "--lat", BY[0], "--lon", BY[1]), "by")  # the polygon first


# ---------------------------------------------------------------------------------------------------------------
# status, assign, respond, merge, --by, --at


class WorkflowTest(GrievanceTest):
    def test_the_main_chain_and_its_derived_dates(self):
        ref = self.add(received="2026-09-01T08:00:00Z")["reference"]
        g = self.status(ref, "open", "--at", "2026-09-02T08:00:00Z", "--note", "Prise en compte", "--public")
        self.assertEqual((g["status"], g["acknowledged_at"], g["resolved_at"], g["closed_at"]),
                         ("open", "2026-09-02T08:00:00Z", None, None))
        g = self.status(ref, "planned", "--expected", "2026-09-20", "--at", "2026-09-03T08:00:00Z")
        self.assertEqual((g["status"], g["expected_on"], g["acknowledged_at"]),
                         ("planned", "2026-09-20", "2026-09-02T08:00:00Z"))
        g = self.status(ref, "planned", "--expected", "2026-09-25", "--at", "2026-09-04T08:00:00Z")  # re-planned
        self.assertEqual(g["expected_on"], "2026-09-25")
        g = self.status(ref, "in_progress", "--at", "2026-09-05T08:00:00Z")
        self.assertEqual((g["status"], g["resolved_at"], g["closed_at"]), ("in_progress", None, None))
        self.assertIsNone(g["expected_on"])  # only a planned grievance has an expected date
        g = self.status(ref, "resolved", "--at", "2026-09-06T08:00:00Z", "--note", "Rebouché", "--public")
        self.assertEqual((g["status"], g["status_group"], g["acknowledged_at"], g["resolved_at"], g["closed_at"],
                          g["updated_at"]),
                         ("resolved", "closed", "2026-09-02T08:00:00Z", "2026-09-06T08:00:00Z",
                          "2026-09-06T08:00:00Z", "2026-09-06T08:00:00Z"))
        # Reopening: recorded as such, counted, and the closing dates cleared (the acknowledgement stays).
        g = self.status(ref, "open", "--at", "2026-09-10T08:00:00Z", "--note", "Le trou est revenu")
        self.assertEqual((g["status"], g["reopened"], g["acknowledged_at"], g["resolved_at"], g["closed_at"]),
                         ("open", 1, "2026-09-02T08:00:00Z", None, None))
        self.assertEqual(self.query("SELECT resolved_at, closed_at, reopened FROM grievance"), [(None, None, 1)])
        events = self.show(ref)["events"]
        self.assertEqual([(e["kind"], e["old_status"], e["new_status"], e["at"]) for e in events], [
            ("created", "", "new", "2026-09-01T08:00:00Z"),
            ("status", "new", "open", "2026-09-02T08:00:00Z"),
            ("status", "open", "planned", "2026-09-03T08:00:00Z"),
            ("status", "planned", "planned", "2026-09-04T08:00:00Z"),
            ("status", "planned", "in_progress", "2026-09-05T08:00:00Z"),
            ("status", "in_progress", "resolved", "2026-09-06T08:00:00Z"),
            ("reopened", "resolved", "open", "2026-09-10T08:00:00Z"),
        ])
        self.assertEqual([e["public"] for e in events], [True, True, False, False, False, True, False])
        # Closed otherwise: closed but not resolved.
        g = self.status(ref, "no_action", "--at", "2026-09-11T08:00:00Z")
        self.assertEqual((g["resolved_at"], g["closed_at"]), (None, "2026-09-11T08:00:00Z"))
        g = self.status(ref, "open", "--at", "2026-09-12T08:00:00Z")
        self.assertEqual((g["reopened"], g["closed_at"]), (2, None))
        self.assertEqual(self.ok("grievance", "status", ref, "in_review").out, f"{ref} is now: in_review\n")

    def test_every_closing_status_can_be_reopened(self):
        target = self.add()["reference"]
        for closing in ("resolved", "no_action", "not_competent", "duplicate", "transferred"):
            with self.subTest(closing=closing):
                ref = self.add()["reference"]
                self.status(ref, "open")
                extra = ["--duplicate-of", target] if closing == "duplicate" else []
                g = self.status(ref, closing, *extra)
                self.assertIsNotNone(g["closed_at"])
                self.assertEqual(g["status_group"], "closed")
                g = self.status(ref, "open")
                self.assertEqual((g["reopened"], g["closed_at"], g["resolved_at"]), (1, None, None))
                self.assertEqual(self.show(ref)["events"][-1]["kind"], "reopened")

    def test_hiding_and_unhiding_is_not_a_reopening(self):
        # Design: "any closed status → open" is a reopening; "hidden → open" is listed apart. A new grievance
        # hidden by mistake and restored was never closed, so the council's reopened rate must not count it.
        ref = self.add()["reference"]
        g = self.status(ref, "hidden")
        self.assertEqual((g["acknowledged_at"], g["closed_at"]), (None, None))  # hiding is no acknowledgement
        g = self.status(ref, "open")
        self.assertIsNotNone(g["acknowledged_at"])
        self.assertEqual(self.show(ref)["events"][-1]["kind"], "status")
        self.assertEqual(g["reopened"], 0)

    def test_assign(self):
        ref = self.add()["reference"]
        julien = self.member_id(JULIEN)
        g = self.ok("grievance", "assign", ref, "--service", "Voirie départementale", "--to", JULIEN, "--note",
                    "urgent", "--json").json()
        self.assertEqual((g["service"], g["assignee"]), ("Voirie départementale",
                                                         {"member": julien, "display_name": "Julien Moreau"}))
        event = self.show(ref)["events"][-1]
        self.assertEqual((event["kind"], event["old_status"], event["new_status"], event["public"]),
                         ("assigned", "new", "new", False))
        self.assertEqual(event["note"], "service: Services techniques → Voirie départementale; assigned to Julien "
                                        f"Moreau (member {julien}) — urgent")
        self.assertEqual(self.ok("grievance", "assign", ref, "--to", SANDRINE).out,
                         f"{ref} assigned to Voirie départementale (member {self.member_id(SANDRINE)})\n")
        g = self.ok("grievance", "assign", ref, "--to", "", "--json").json()
        self.assertIsNone(g["assignee"])
        before = self.snapshot()
        self.fails("grievance", "assign", ref, "--to", self.lucie,
                   message=f"member {self.lucie} (resident) is not staff")
        self.fails("grievance", "assign", ref, message="nothing to assign")
        self.fails("grievance", "assign", ref, "--to", "nobody@example.fr", message="unknown member")
        self.assertUnchanged(before)

    def test_respond(self):
        ref = self.add("--reporter", self.lucie)["reference"]
        g = self.ok("grievance", "respond", ref, "Bonjour, une équipe passe jeudi.", "--json").json()
        self.assertEqual((g["status"], g["acknowledged_at"] is not None), ("open", True))  # answering acknowledges
        self.assertEqual(self.ok("grievance", "respond", ref, "C'est fait.").out,
                         f"{ref} answered publicly; status: open\n")
        events = self.show(ref)["events"]
        self.assertEqual([(e["kind"], e["old_status"], e["new_status"], e["note"], e["public"]) for e in events[1:]],
                         [("status", "new", "open", "Bonjour, une équipe passe jeudi.", True),
                          ("response", "open", "open", "C'est fait.", True)])
        self.status(ref, "hidden")
        before = self.snapshot()
        self.fails("grievance", "respond", ref, "Personne ne le lira", message="is hidden: nobody would see the answer")
        self.fails("grievance", "respond", ref, "  ", message="the answer is empty")
        self.assertUnchanged(before)

    def test_merge_marks_duplicates_and_moves_their_followers(self):
        zoe = self.member("Zoé Leroy")
        target = self.add("--reporter", self.lucie)["reference"]
        one = self.add("--reporter", self.paul)["reference"]
        two = self.add("--reporter", zoe)["reference"]
        three = self.add("--reporter", self.lucie)["reference"]  # already follows the target
        sandrine = self.member_id(SANDRINE)
        merged = self.ok("grievance", "merge", one, two.lower(), three, "--into", target, "--by", SANDRINE,
                         "--json").json()
        self.assertEqual([(g["reference"], g["status"], g["duplicate_of"]) for g in merged],
                         [(r, "duplicate", target) for r in (one, two, three)])
        self.assertEqual(self.show(target)["followers"], sorted([self.lucie, self.paul, zoe]))
        for ref in (one, two, three):
            shown = self.show(ref)
            self.assertEqual(shown["followers"], [])
            last = shown["events"][-1]
            self.assertEqual((last["kind"], last["new_status"], last["public"], last["actor"]),
                             ("status", "duplicate", True, f"member:{sandrine}"))
            self.assertIn(target, last["note"])
            self.assertIsNotNone(shown["closed_at"])
        notes = [e["note"] for e in self.show(target)["events"] if e["kind"] == "merged"]
        self.assertEqual(notes, [f"{one} fusionné ici (1 abonné(s) repris)",
                                 f"{two} fusionné ici (1 abonné(s) repris)",
                                 f"{three} fusionné ici (0 abonné(s) repris)"])
        self.assertEqual(self.show(target)["status"], "new")
        before = self.snapshot()
        self.fails("grievance", "merge", target, "--into", one, message=f"{one} is duplicate")
        self.fails("grievance", "merge", one, "--into", target, message=f"{one} is duplicate")
        self.fails("grievance", "merge", target, "--into", target, message="cannot be merged into itself")
        self.assertUnchanged(before)
        four = self.add()["reference"]
        self.assertEqual(self.ok("grievance", "merge", four, "--into", target).out, f"{four} merged into {target}\n")

    def test_duplicate_status_needs_the_original(self):
        original = self.add()["reference"]
        ref = self.add()["reference"]
        before = self.snapshot()
        self.fails("grievance", "status", ref, "duplicate", message="a duplicate needs the grievance it duplicates")
        self.fails("grievance", "status", ref, "duplicate", "--duplicate-of", ref, message="cannot duplicate itself")
        self.fails("grievance", "status", ref, "open", "--duplicate-of", original,
                   message="--duplicate-of only applies to the duplicate status")
        self.assertUnchanged(before)
        g = self.status(ref, "duplicate", "--duplicate-of", original.lower())
        self.assertEqual((g["status"], g["duplicate_of"]), ("duplicate", original))

    def test_the_actor_is_recorded_and_must_be_staff(self):
        ref = self.add()["reference"]
        marie, julien = self.member_id(MARIE), self.member_id(JULIEN)
        self.status(ref, "open", "--by", MARIE)
        self.ok("grievance", "assign", ref, "--service", "Voirie", "--by", str(julien))
        self.ok("grievance", "respond", ref, "Réponse", "--by", SANDRINE)
        actors = [e["actor"] for e in self.show(ref)["events"]]
        self.assertEqual(actors, ["cli", f"member:{marie}", f"member:{julien}", f"member:{self.member_id(SANDRINE)}"])
        self.assertEqual(self.query("SELECT actor FROM grievance_event ORDER BY id")[1:],
                         [(f"member:{marie}",), (f"member:{julien}",), (f"member:{self.member_id(SANDRINE)}",)])
        other = self.add()["reference"]
        before = self.snapshot()
        message = f"member {self.lucie} (resident) cannot handle grievances"
        self.fails("grievance", "status", ref, "in_review", "--by", self.lucie, message=message)
        self.fails("grievance", "assign", ref, "--service", "X", "--by", self.lucie, message=message)
        self.fails("grievance", "respond", ref, "Non", "--by", self.lucie, message=message)
        self.fails("grievance", "merge", other, "--into", ref, "--by", self.lucie, message=message)
        self.fails("grievance", "status", ref, "in_review", "--by", "nobody@example.fr", message="unknown member")
        self.assertUnchanged(before)

    def test_received_and_at_record_the_past_never_the_future_nor_out_of_order(self):
        before = self.snapshot()
        self.fails("grievance", "add", "--category", "voirie", "--title", "Courrier", "--description", "Lettre",
                   "--received", "2999-01-01", message="'2999-01-01' is in the future")
        self.fails("grievance", "add", "--category", "voirie", "--title", "Courrier", "--description", "Lettre",
                   "--received", "hier", message="hier")
        self.assertUnchanged(before)
        ref = self.add(received="2026-02-03T10:00:00Z", title="Courrier")["reference"]
        self.assertEqual(self.show(ref)["created_at"], "2026-02-03T10:00:00Z")
        self.status(ref, "open", "--at", "2026-02-05")  # a bare day: midnight in Paris
        self.assertEqual(self.show(ref)["acknowledged_at"], "2026-02-04T23:00:00Z")
        before = self.snapshot()
        self.fails("grievance", "status", ref, "in_review", "--at", "2999-01-01", message="is in the future")
        self.fails("grievance", "status", ref, "in_review", "--at", "2026-02-04T22:59:59Z",
                   message="'2026-02-04T22:59:59Z' is before the grievance's last change (2026-02-04T23:00:00Z)")
        self.fails("grievance", "respond", ref, "Réponse", "--at", "2026-02-01",
                   message="is before the grievance's last change")
        self.fails("grievance", "respond", ref, "Réponse", "--at", "2999-01-01", message="is in the future")
        self.assertUnchanged(before)
        self.ok("grievance", "respond", ref, "Réponse", "--at", "2026-02-04T23:00:00Z")  # same instant: in order
        g = self.status(ref, "resolved", "--at", "2026-02-07T12:00:00Z")
        self.assertEqual((g["resolved_at"], g["updated_at"]), ("2026-02-07T12:00:00Z", "2026-02-07T12:00:00Z"))
        # Summer time: a bare day starts at 22:00 UTC the day before.
        g = self.status(ref, "open", "--at", "2026-07-01")
        self.assertEqual(g["updated_at"], "2026-06-30T22:00:00Z")


# ---------------------------------------------------------------------------------------------------------------
# bad input (the list): clear message, nothing changed


class BadInputTest(GrievanceTest):
    def add_fails(self, *args, message, code=1):
        before = self.snapshot()
        argv = ["grievance", "add"]
        if "--category" not in args:
            argv += ["--category", "voirie"]
        if not any(a.startswith("--title") for a in map(str, args)):
            argv += ["--title", "Trou"]
        if not any(a.startswith("--description") for a in map(str, args)):
            argv += ["--description", "Un trou"]
        result = self.fails(*argv, *args, code=code, message=message)
        self.assertUnchanged(before)
        return result

    def test_unknown_category(self):
        result = self.add_fails("--category", "voiri", message="unknown category 'voiri' (did you mean 'voirie'?)")
        self.assertIn("hint: categories: animaux, bruit,", result.err)
        self.add_fails("--category", "encombrants_rdv", message="category 'encombrants_rdv' is no longer in use")
        self.fails("grievance", "list", "--category", "eclairage", message="unknown category 'eclairage'")
        self.fails("grievance", "stats", "--category", "voiri", message="(did you mean 'voirie'?)")
        self.fails("grievance", "export", "--format", "csv", "--category", "voiri", message="unknown category 'voiri'")

    def test_unknown_status(self):
        ref = self.add()["reference"]
        before = self.snapshot()
        result = self.fails("grievance", "status", ref, "resolvd",
                            message="unknown status 'resolvd' (did you mean 'resolved'?)")
        self.assertIn("hint: statuses: new, open, in_review, planned, in_progress, resolved, no_action, not_competent, "
                      "duplicate, transferred, hidden", result.err)
        self.fails("grievance", "list", "--status", "opn", message="unknown status 'opn' (did you mean 'open'?)")
        self.fails("grievance", "export", "--format", "csv", "--status", "new,closed",
                   message="unknown status 'closed'")
        self.assertUnchanged(before)

    def test_invalid_transitions_list_the_allowed_ones(self):
        ref = self.add()["reference"]
        before = self.snapshot()
        result = self.fails("grievance", "status", ref, "resolved", message=f"{ref} cannot go from new to resolved")
        self.assertIn("hint: from new: open, no_action, not_competent, duplicate, transferred, hidden\n", result.err)
        self.fails("grievance", "status", ref, "new", message=f"{ref} cannot go from new to new")
        self.assertUnchanged(before)
        self.status(ref, "open")
        self.status(ref, "in_progress")
        before = self.snapshot()
        result = self.fails("grievance", "status", ref, "in_review", message="cannot go from in_progress to in_review")
        self.assertIn("hint: from in_progress: planned, resolved, no_action, transferred, hidden\n", result.err)
        self.fails("grievance", "status", ref, "planned", message="a planned grievance needs the date the work is "
                                                                   "expected")
        self.fails("grievance", "status", ref, "planned", "--expected", "31/12/2026", message="invalid expected date")
        self.fails("grievance", "status", ref, "resolved", "--expected", "2026-12-31",
                   message="--expected only applies to the planned status")
        self.fails("grievance", "status", ref, "planned", "--expected", "2026-01-01",
                   message="the expected date 2026-01-01 is already past")
        self.assertUnchanged(before)
        self.status(ref, "resolved")
        before = self.snapshot()
        result = self.fails("grievance", "status", ref, "in_progress", message="cannot go from resolved to in_progress")
        self.assertIn("hint: from resolved: open, hidden\n", result.err)
        self.assertUnchanged(before)

    def test_description_length_counts_characters_not_bytes(self):
        g = self.add(description="é" * 4000)  # 8000 bytes
        self.assertEqual(len(g["description"]), 4000)
        self.assertEqual(self.query("SELECT length(description) FROM grievance"), [(4000,)])
        self.add_fails("--description=" + "é" * 4001,
                       message="the description has 4001 characters; at most 4000 are allowed")
        self.add_fails("--description=" + "a" * 4001, message="the description has 4001 characters")
        self.add_fails("--title=" + "é" * 201, message="the title has 201 characters; at most 200 are allowed")
        self.assertEqual(len(self.add(title="é" * 200)["title"]), 200)
        self.add_fails("--description= \n\t", message="the description is empty")
        self.add_fails("--title= ", message="the title is empty")

    def test_notes_and_answers_are_limited_like_descriptions(self):
        ref = self.add()["reference"]
        before = self.snapshot()
        self.fails("grievance", "status", ref, "open", "--note=" + "é" * 4001, message="the note has 4001 characters")
        self.fails("grievance", "assign", ref, "--service", "Voirie", "--note=" + "é" * 4001,
                   message="the note has 4001 characters")
        self.fails("grievance", "respond", ref, "é" * 4001, message="the answer has 4001 characters")
        self.assertUnchanged(before)
        self.status(ref, "open", "--note=" + "é" * 4000)

    def test_coordinates(self):
        self.add_fails("--lat", "91", "--lon", "2.78", message="coordinates out of range: latitude 91 longitude 2.78")
        self.add_fails("--lat", "-90.5", "--lon", "2.78", message="coordinates out of range")
        self.add_fails("--lat", "48.41", "--lon", "181",
                       message="coordinates out of range: latitude 48.41 longitude 181")
        self.add_fails("--lat", "48.41", "--lon", "-180.01", message="coordinates out of range")
        self.add_fails("--lat", "nan", "--lon", "2.78", message="coordinates out of range: latitude nan")
        result = self.add_fails("--lat", "2.78", "--lon", "48.41",
                                message="latitude 2.78 and longitude 48.41 look swapped")
        self.assertIn("did you mean --lat 48.41 --lon 2.78?", result.err)
        self.add_fails("--lat", "48.41", message="give both the latitude and the longitude, or neither")
        # Outside metropolitan France: accepted, with a warning (overseas towns exist).
        result = self.ok("grievance", "add", "--category", "voirie", "--title", "Trou", "--description", "Trou",
                         "--lat", "40.7128", "--lon", "-74.006", "--json")
        warning = "the point (latitude 40.7128, longitude -74.006) is outside metropolitan France"
        self.assertEqual(result.err, f"voisinage: warning: {warning}\n")
        self.assertEqual(result.json()["warnings"], [warning])
        self.assertEqual(self.query("SELECT lat, lon FROM grievance"), [(40.7128, -74.006)])
        result = self.ok("grievance", "add", "--category", "voirie", "--title", "Trou", "--description", "Trou",
                         "--lat", "-21.115", "--lon", "55.536")  # La Réunion
        self.assertIn("voisinage: warning: the point (latitude -21.115, longitude 55.536) is outside", result.err)

    def test_other_fields(self):
        self.add_fails("--channel", "fax", message="unknown channel 'fax'")
        self.add_fails("--postcode", "7781", message="invalid postcode '7781'")
        self.add_fails("--contact-email", "pas-un-email", message="invalid e-mail address 'pas-un-email'")
        self.add_fails("--reporter", "999", message="unknown member '#999'")
        self.fails("grievance", "add", "--title", "Trou", "--description", "Trou", code=2)  # --category required

    def test_from_after_to(self):
        for command in (["list"], ["stats"], ["stats", "--json"], ["export", "--format", "csv"],
                        ["export", "--format", "html"]):
            with self.subTest(command=command):
                result = self.fails("grievance", *command, "--from", "2026-06-01", "--to", "2026-05-31",
                                    message="the period starts (2026-06-01) after it ends (2026-05-31)")
                self.assertIn("hint: swap --from and --to", result.err)
                self.assertEqual(result.out, "")
        self.fails("grievance", "list", "--from", "2026-13-01", message="invalid --from date '2026-13-01'")
        self.fails("grievance", "stats", "--to", "demain", message="invalid --to date 'demain'")
        self.fails("grievance", "list", "--neighbourhood", "nulle-part", message="no neighbourhood 'nulle-part'")
        self.fails("grievance", "export", "--format", "xlsx", code=2, message="xlsx not in {csv,csv-fr,json,jsonl,"
                                                                              "geojson,html,md}")
        self.fails("grievance", "export", "--format", "csv", "--template", "x.mustache",
                   message="--template applies to the html and md formats only")


# ---------------------------------------------------------------------------------------------------------------
# stats on a controlled data set


class StatsTest(GrievanceTest):
    """Period 2026-03-01 to 2026-06-30 (Paris), so the end of the period is 2026-06-30T22:00:00Z.

    voirie (30 days): V0 received before the period and still new; V1..V6 acknowledged after 0.5, 1, 1, 2, 2 and
    3 days and resolved after 1, 2, 3, 4, 10 and 40 days. bruit (10 days): B1 resolved in 4 days, B2 still new.
    proprete (7 days): P1 resolved after the period ends (20 days), P2 resolved, reopened and resolved again (6
    days from reception), P3 a duplicate of P2. Out of the figures: X1 received after the period, H1 hidden."""

    fixture_attributes = ("refs",)

    def build(self):
        self.refs = {}

        def grievance(key, category, received, *args, ack=None, resolved=None, **kwargs):
            self.refs[key] = self.add(*args, category=category, received=received, title=f"Doléance {key}",
                                      **kwargs)["reference"]
            if ack:
                self.status(self.refs[key], "open", "--at", ack)
            if resolved:
                self.status(self.refs[key], "resolved", "--at", resolved)

        grievance("V0", "voirie", "2026-02-10T10:00:00Z", "--address", "2 rue de la Paix")
        grievance("V1", "voirie", "2026-03-02T09:00:00Z", "--reporter", self.lucie, "--address", "12 rue de By",
                  point=BY, ack="2026-03-02T21:00:00Z", resolved="2026-03-03T09:00:00Z")
        grievance("V2", "voirie", "2026-03-03T09:00:00Z", "--reporter", self.lucie, "--address", "3 bis rue de By",
                  point=BY, ack="2026-03-04T09:00:00Z", resolved="2026-03-05T09:00:00Z")
        grievance("V3", "voirie", "2026-03-04T09:00:00Z", "--contact-email", "Jean.Dupont@Example.fr", "--address",
                  "rue de By", ack="2026-03-05T09:00:00Z", resolved="2026-03-07T09:00:00Z")
        grievance("V4", "voirie", "2026-03-05T09:00:00Z", "--contact-email", "jean.dupont@example.fr", "--address",
                  "8 Grande Rue", ack="2026-03-07T09:00:00Z", resolved="2026-03-09T09:00:00Z")
        grievance("V5", "voirie", "2026-03-06T09:00:00Z", "--contact-phone", "06 12 34 56 78", "--address",
                  "8 GRANDE RUE", ack="2026-03-08T09:00:00Z", resolved="2026-03-16T09:00:00Z")
        grievance("V6", "voirie", "2026-03-07T09:00:00Z", "--contact-name", "Un passant",
                  ack="2026-03-10T09:00:00Z", resolved="2026-04-16T09:00:00Z")
        grievance("B1", "bruit", "2026-04-01T08:00:00Z", "--reporter", self.paul, "--address", "1 place de l'Église",
                  ack="2026-04-02T08:00:00Z", resolved="2026-04-05T08:00:00Z")
        grievance("B2", "bruit", "2026-04-10T08:00:00Z")
        grievance("P1", "proprete", "2026-06-20T10:00:00Z", "--contact-phone", "+33 6 12 34 56 78",
                  ack="2026-06-21T10:00:00Z", resolved="2026-07-10T10:00:00Z")
        grievance("P2", "proprete", "2026-05-15T10:00:00Z", ack="2026-05-16T10:00:00Z",
                  resolved="2026-05-17T10:00:00Z")
        self.status(self.refs["P2"], "open", "--at", "2026-05-19T10:00:00Z")
        self.status(self.refs["P2"], "resolved", "--at", "2026-05-21T10:00:00Z")
        grievance("P3", "proprete", "2026-05-15T11:00:00Z")
        self.status(self.refs["P3"], "duplicate", "--duplicate-of", self.refs["P2"], "--at", "2026-05-16T11:00:00Z")
        grievance("X1", "bruit", "2026-08-01T10:00:00Z")
        grievance("H1", "voirie", "2026-04-20T10:00:00Z")
        self.status(self.refs["H1"], "hidden", "--at", "2026-04-21T10:00:00Z")

    def stats(self, *args, period=("2026-03-01", "2026-06-30")):
        return self.ok("grievance", "stats", "--json", "--from", period[0], "--to", period[1], *args).json()

    def test_figures(self):
        s = self.stats()
        self.assertEqual(s["town"], "Thomery")
        self.assertEqual(s["period"], {"from": "2026-03-01", "to": "2026-06-30", "as_of": "2026-06-30T22:00:00Z"})
        self.assertEqual((s["received"], s["open"], s["resolved"], s["closed"]), (11, 1, 9, 1))
        self.assertEqual(s["backlog_at_end"], 3)  # V0 and B2 still open, P1 resolved after the end
        # Open at the end of the period (30 June): P1, resolved in July, was still open then.
        self.assertEqual(s["open_age"], {"under_4_weeks": 1, "over_4_weeks": 2, "no_update_8_weeks": 2})
        self.assertEqual(s["within_sla"], {"resolved": 9, "within": 7, "share": 77.8})
        voirie, proprete, bruit = s["categories"]
        self.assertEqual([c["code"] for c in s["categories"]], ["voirie", "proprete", "bruit"])
        self.assertEqual((voirie["name"], voirie["sla_days"], voirie["received"], voirie["share"], voirie["open_at_end"],
                          voirie["resolved"]), ("Voirie et trottoirs", 30, 6, 54.5, 1, 6))
        # Median and 90th percentile as a spreadsheet's MEDIAN() and PERCENTILE() compute them (linear
        # interpolation): acknowledgements 0.5 1 1 2 2 3, resolutions 1 2 3 4 10 40 days.
        self.assertEqual(voirie["acknowledge"], {"count": 6, "median_days": 1.5, "p90_days": 2.5})
        self.assertEqual(voirie["resolve"], {"count": 6, "median_days": 3.5, "p90_days": 25.0})
        self.assertEqual(voirie["within_sla"], {"count": 5, "share": 83.3})
        # Under 5 grievances: no figure.
        self.assertEqual((proprete["received"], proprete["open_at_end"], proprete["resolved"]), (3, 1, 2))
        self.assertEqual(proprete["acknowledge"], {"count": 3, "median_days": None, "p90_days": None})
        self.assertEqual(proprete["resolve"], {"count": 2, "median_days": None, "p90_days": None})
        self.assertEqual(proprete["within_sla"], {"count": 1, "share": None})  # P1 took 20 days, P2 6
        self.assertEqual((bruit["received"], bruit["open_at_end"], bruit["resolve"]["median_days"],
                          bruit["within_sla"]), (2, 1, None, {"count": 1, "share": None}))
        self.assertEqual([(c["code"], c["received"]) for c in s["top_categories"]],
                         [("voirie", 6), ("proprete", 3), ("bruit", 2)])
        # Streets: without the number, "bis", or the case.
        streets = [(x["street"].casefold(), x["received"]) for x in s["streets"]]
        self.assertEqual(streets, [("rue de by", 3), ("grande rue", 2), ("place de l'église", 1)])
        self.assertEqual(s["neighbourhoods"], [{"name": None, "received": 9},
                                               {"name": "By (hameau de Rosa Bonheur)", "received": 2}])
        # Lucie (twice), Paul, one e-mail in two spellings, one phone in two spellings; the rest anonymous.
        self.assertEqual((s["unique_reporters"], s["anonymous"]), (4, 4))
        self.assertEqual((s["reopened"], s["reopened_rate"], s["duplicates"], s["duplicate_rate"]), (1, 9.1, 1, 9.1))
        self.assertEqual(s["months"], [{"month": "2026-03", "received": 6, "resolved": 5},
                                       {"month": "2026-04", "received": 2, "resolved": 2},
                                       {"month": "2026-05", "received": 2, "resolved": 1},
                                       {"month": "2026-06", "received": 1, "resolved": 0}])
        # Late at the end of the period, whatever became of them since: P1 was resolved in July.
        self.assertEqual(s["overdue_count"], 3)
        self.assertEqual([(o["reference"], o["category"], o["status"], o["days_open"], o["days_overdue"])
                          for o in s["overdue"]],
                         [(self.refs["V0"], "voirie", "new", 140.5, 110.5),
                          (self.refs["B2"], "bruit", "new", 81.6, 71.6),
                          (self.refs["P1"], "proprete", "resolved", 10.5, 3.5)])
        v0 = s["overdue"][0]
        self.assertEqual((v0["category_name"], v0["title"], v0["created_at"], v0["address"], v0["service"]),
                         ("Voirie et trottoirs", "Doléance V0", "2026-02-10T10:00:00Z", "2 rue de la Paix",
                          "Services techniques"))

    def test_filters(self):
        april = self.stats(period=("2026-04-01", "2026-04-30"))
        self.assertEqual(april["period"]["as_of"], "2026-04-30T22:00:00Z")
        self.assertEqual((april["received"], april["open"], april["resolved"], april["backlog_at_end"]), (2, 1, 1, 2))
        self.assertEqual([(c["code"], c["received"]) for c in april["categories"]], [("bruit", 2), ("voirie", 0)])
        voirie = self.stats("--category", "voirie")
        self.assertEqual((voirie["received"], voirie["filters"]["category"], voirie["unique_reporters"]),
                         (6, "voirie", 3))
        by = self.stats("--neighbourhood", "by")
        self.assertEqual((by["received"], by["unique_reporters"], by["anonymous"]), (2, 1, 0))
        statuses = self.stats("--status", "resolved")
        self.assertEqual(statuses["received"], 9)
        everything = self.ok("grievance", "stats", "--json").json()
        self.assertEqual(everything["received"], 13)  # V0 and X1 too; H1 stays hidden
        # Every month from the first to the last, July (nothing received, P1 resolved) included.
        self.assertEqual([(m["month"], m["received"], m["resolved"]) for m in everything["months"]],
                         [("2026-02", 1, 0), ("2026-03", 6, 5), ("2026-04", 2, 2), ("2026-05", 2, 1), ("2026-06", 1, 0),
                          ("2026-07", 0, 1), ("2026-08", 1, 0)])
        self.assertEqual(everything["period"]["from"], None)
        hidden = self.ok("grievance", "stats", "--json", "--status", "hidden").json()
        self.assertEqual(hidden["received"], 1)
        text = self.ok("grievance", "stats", "--from", "2026-03-01", "--to", "2026-06-30").out
        self.assertIn("received 11: 1 open, 9 resolved, 1 closed otherwise; backlog at the end: 3\n", text)
        self.assertRegex(text, r"\nvoirie\s+6\s+1\s+1\.5d\s+2\.5d\s+3\.5d\s+25\.0d\s+30d\s+83\.3%\n")

    def test_the_council_report_shows_the_figures(self):
        md = self.export("md", "--from", "2026-03-01", "--to", "2026-06-30").out
        self.assertIn("Rapport au conseil municipal, du 1er mars 2026 au 30 juin 2026.", md)
        self.assertIn("| Reçues sur la période | 11 |", md)
        self.assertIn("| En attente en fin de période | 3 |", md)
        self.assertIn("| Résolues dans le délai | 77,8 % |", md)
        self.assertIn("| Voirie et trottoirs | 6 | 54,5 % | 1 | 1,5 j / 2,5 j | 3,5 j / 25,0 j | 30 j | 83,3 % |", md)
        self.assertIn("| Propreté des rues | 3 | 27,3 % | 1 | — / — | — / — | 7 j | — |", md)
        self.assertIn(f"| {self.refs['V0']} | Voirie et trottoirs | Doléance V0 | 2 rue de la Paix | Nouvelle | "
                      "10/02/2026 | 110,5 | Services techniques |", md)
        self.assertIn("| mars 2026 | 6 | 5 |", md)
        html = self.export("html", "--from", "2026-03-01", "--to", "2026-06-30").out
        self.assertIn("<dt>Reçues sur la période</dt><dd>11</dd>", html)
        self.assertIn("<th scope=\"row\">Voirie et trottoirs</th><td class=\"num\">6</td>", html)
        self.assertEqual(html.count("<svg"), 4)
        # Overdue at the end of the period: its last day, not the next one (as_of is the instant it ends, midnight
        # starting 1 July in Paris).
        self.assertIn("| En retard au 30/06/2026 | 3 |", md)
        self.assertIn("<dt>En retard au 30/06/2026</dt>", html)


# ---------------------------------------------------------------------------------------------------------------
# exports


class HtmlChecker(HTMLParser):
    """Checks that every element is closed in order (HTML5: void elements and SVG's self-closing tags aside)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> at {self.getpos()} closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def check(self, document):
        self.feed(document)
        self.close()
        return self.errors + [f"<{tag}> opened at {pos} is never closed" for tag, pos in self.stack]


class ExportTest(GrievanceTest):
    """E1 resolved in 2.5 days (member reporter, in 'by'), E2 anonymous with contact data at 48.405, E3 private with
    an internal note, E4 hidden, E5 planned without coordinates; all but E1 overdue."""

    fixture_attributes = ("e1", "e2", "e3", "e4", "e5")

    def build(self):
        self.e1 = self.add("--reporter", self.lucie, "--address", "12, rue de By", "--postcode", "77810", "--channel",
                           "web", title='Nid-de-poule, "profond"\nvers le n°12', description="Trou; 20 cm",
                           received="2026-07-15T08:00:00Z", point=BY)["reference"]
        self.status(self.e1, "open", "--at", "2026-07-15T20:00:00Z", "--note", "Équipe prévenue", "--public")
        self.status(self.e1, "resolved", "--at", "2026-07-17T20:00:00Z", "--note", "note interne E1")
        self.e2 = self.add("--contact-name", CONTACT[0], "--contact-email", CONTACT[1], "--contact-phone", CONTACT[2],
                           "--address", "Place de l'Église", category="eclairage_public", title="Lampadaire éteint",
                           description="Ça clignote, déjà signalé", received="2026-01-15T08:00:00Z",
                           point=(48.405, 2.7875))["reference"]
        self.e3 = self.add("--private", title="Affaire privée", description="Voisin",
                           received="2026-02-01T08:00:00Z", point=NOWHERE)["reference"]
        self.status(self.e3, "open", "--at", "2026-02-02T08:00:00Z", "--note", "Note interne confidentielle")
        self.ok("grievance", "respond", self.e3, "Réponse publique E3", "--at", "2026-02-03T08:00:00Z")
        self.e4 = self.add(title="Contenu masqué", received="2026-02-01T09:00:00Z", point=BY)["reference"]
        self.status(self.e4, "hidden", "--at", "2026-02-02T09:00:00Z")
        self.e5 = self.add(category="signalisation", title="Panneau tordu",
                           received="2026-03-01T08:00:00Z")["reference"]
        self.status(self.e5, "open", "--at", "2026-03-01T09:00:00Z")
        self.status(self.e5, "planned", "--expected", "2026-04-10", "--at", "2026-03-02T09:00:00Z")

    def assertNoContactData(self, text, what):
        for trace in CONTACT_TRACES + ("Lucie Bernard",):
            self.assertNotIn(trace, text, f"{what} leaks {trace!r}")

    def test_csv(self):
        data = self.export_file("csv")
        self.assertFalse(data.startswith(b"\xef\xbb\xbf"))
        text = data.decode("utf-8")
        # RFC 4180: records end with CRLF (the design notes said LF; changed deliberately in cba0775). The only
        # bare LF is the one inside E1's quoted title.
        self.assertEqual(text.split("\r\n", 1)[0], ",".join(CSV_COLUMNS))
        self.assertEqual((text.count("\r\n"), text.count("\n") - text.count("\r\n")), (5, 1))
        self.assertTrue(text.endswith("\r\n"))
        rows = list(csv.reader(io.StringIO(text, newline="")))
        self.assertEqual(rows[0], CSV_COLUMNS)
        self.assertTrue(all(len(r) == len(CSV_COLUMNS) for r in rows), rows)
        by_ref = {r[0]: dict(zip(CSV_COLUMNS, r)) for r in rows[1:]}
        self.assertEqual(list(by_ref), [self.e1, self.e2, self.e3, self.e5])  # creation order, hidden left out
        e1 = by_ref[self.e1]
        self.assertEqual(e1, {
            "reference": self.e1, "category": "voirie", "title": 'Nid-de-poule, "profond"\nvers le n°12',
            "description": "Trou; 20 cm", "status": "resolved", "created_at": "2026-07-15T08:00:00Z",
            "acknowledged_at": "2026-07-15T20:00:00Z", "resolved_at": "2026-07-17T20:00:00Z",
            "closed_at": "2026-07-17T20:00:00Z", "delay_days": "2.5", "address": "12, rue de By", "postcode": "77810",
            "neighbourhood": "by", "latitude": f"{BY[0]:.6f}", "longitude": f"{BY[1]:.6f}",
            "service": "Services techniques", "channel": "web", "expected_on": "", "duplicate_of": "", "reopened": "0",
            "public": "true", "updated_at": "2026-07-17T20:00:00Z"})
        # RFC 4180: the embedded quote doubled, the field quoted.
        self.assertIn('"Nid-de-poule, ""profond""\nvers le n°12"', text)
        self.assertEqual((by_ref[self.e2]["latitude"], by_ref[self.e2]["longitude"], by_ref[self.e2]["delay_days"]),
                         ("48.405000", "2.787500", ""))
        self.assertEqual((by_ref[self.e3]["public"], by_ref[self.e5]["expected_on"], by_ref[self.e5]["status"],
                          by_ref[self.e5]["latitude"]), ("false", "2026-04-10", "planned", ""))
        self.assertNoContactData(text, "csv")
        # Filters.
        self.assertEqual([r["reference"] for r in self.csv_rows("--status", "hidden")], [self.e4])
        self.assertEqual([r["reference"] for r in self.csv_rows("--category", "voirie")], [self.e1, self.e3])
        self.assertEqual([r["reference"] for r in self.csv_rows("--from", "2026-02-01", "--to", "2026-03-01")],
                         [self.e3, self.e5])
        self.assertEqual([r["reference"] for r in self.csv_rows("--neighbourhood", "by")], [self.e1])
        self.assertEqual(self.export_file("csv", "--category", "bruit"), (",".join(CSV_COLUMNS) + "\r\n").encode())

    def test_csv_fr(self):
        data = self.export_file("csv-fr")
        self.assertTrue(data.startswith(b"\xef\xbb\xbf"))
        text = data[3:].decode("utf-8")
        header, rest = text.split("\r\n", 1)
        self.assertEqual(header, ";".join(CSV_FR_COLUMNS))
        self.assertTrue(text.endswith("\r\n"))
        # Every record ends with CRLF; the only bare LF is the one inside E1's quoted title.
        self.assertEqual(text.count("\n") - text.count("\r\n"), 1)
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
        self.assertEqual(rows[0], CSV_FR_COLUMNS)
        by_ref = {r[0]: dict(zip(CSV_FR_COLUMNS, r)) for r in rows[1:]}
        self.assertEqual(list(by_ref), [self.e1, self.e2, self.e3, self.e5])
        self.assertEqual(by_ref[self.e1], {
            "Référence": self.e1, "Catégorie": "Voirie et trottoirs",
            "Titre": 'Nid-de-poule, "profond"\nvers le n°12',
            "Description": "Trou; 20 cm", "Statut": "Résolue", "Créée le": "15/07/2026 10:00",
            "Prise en compte le": "15/07/2026 22:00", "Résolue le": "17/07/2026 22:00", "Close le": "17/07/2026 22:00",
            "Délai (jours)": "2,5", "Adresse": "12, rue de By", "Code postal": "77810",
            "Quartier": "By (hameau de Rosa Bonheur)", "Latitude": f"{BY[0]:.6f}".replace(".", ","),
            "Longitude": f"{BY[1]:.6f}".replace(".", ","), "Service": "Services techniques", "Canal": "Site web",
            "Date prévue": "", "Doublon de": "", "Réouvertures": "0", "Publique": "Oui",
            "Mise à jour le": "17/07/2026 22:00"})
        self.assertIn('"Trou; 20 cm"', text)  # the delimiter quoted
        e2 = by_ref[self.e2]
        self.assertEqual((e2["Catégorie"], e2["Statut"], e2["Créée le"], e2["Latitude"], e2["Longitude"],
                          e2["Canal"], e2["Quartier"]),
                         ("Éclairage public", "Nouvelle", "15/01/2026 09:00", "48,405000", "2,787500", "Guichet", ""))
        e5 = by_ref[self.e5]
        self.assertEqual((e5["Statut"], e5["Date prévue"]), ("Intervention programmée", "10/04/2026"))
        self.assertEqual((by_ref[self.e3]["Publique"], by_ref[self.e3]["Statut"]), ("Non", "Prise en compte"))
        self.assertNoContactData(text, "csv-fr")

    def test_csv_fr_dates_in_paris_time_across_daylight_saving(self):
        cases = {
            "2026-03-29T00:30:00Z": "29/03/2026 01:30",  # winter time, 30 minutes before the change
            "2026-03-29T01:30:00Z": "29/03/2026 03:30",  # summer time
            "2026-10-25T00:30:00Z": "25/10/2026 02:30",  # still summer time (UTC+2)
            "2026-10-25T01:30:00Z": "25/10/2026 02:30",  # back to winter time (UTC+1): 02:30 again
        }
        refs = {instant: self.add(received=instant, category="bruit")["reference"] for instant in cases}
        rows = {r["Référence"]: r for r in self.csv_fr_rows("--category", "bruit")}
        for instant, expected in cases.items():
            with self.subTest(instant=instant):
                self.assertEqual(rows[refs[instant]]["Créée le"], expected)
        iso = {r["reference"]: r for r in self.csv_rows("--category", "bruit")}
        for instant in cases:
            self.assertEqual(iso[refs[instant]]["created_at"], instant)

    def test_json_and_jsonl(self):
        items = json.loads(self.export("json").out)
        self.assertIsInstance(items, list)
        self.assertEqual([g["reference"] for g in items], [self.e1, self.e2, self.e3, self.e5])
        lines = self.export("jsonl").out.splitlines()
        self.assertEqual([json.loads(line) for line in lines], items)
        e1 = items[0]
        self.assertEqual(e1["export_version"], 1)
        for key in ("reporter", "contact", "assignee"):
            self.assertNotIn(key, e1)
        self.assertEqual([(e["kind"], e["old_status"], e["new_status"], e["note"], e["public"], e["actor"])
                          for e in e1["events"]],
                         [("created", "", "new", "", True, "cli"),
                          ("status", "new", "open", "Équipe prévenue", True, "cli"),
                          ("status", "open", "resolved", "note interne E1", False, "cli")])
        self.assertAlmostEqual(e1["lat"], BY[0], places=6)
        self.assertEqual((e1["neighbourhood"], e1["resolved_at"]), ("by", "2026-07-17T20:00:00Z"))
        self.assertEqual(json.loads(self.export("json", "--category", "bruit").out), [])
        self.assertEqual(self.export("jsonl", "--category", "bruit").out, "")
        for fmt in ("json", "jsonl"):
            self.assertNoContactData(self.export(fmt).out, fmt)

    def test_geojson(self):
        result = self.export("geojson")
        self.assertEqual(result.err, "voisinage: warning: 1 grievance(s) without coordinates left out of the GeoJSON\n")
        collection = json.loads(result.out)
        self.assertEqual((collection["type"], collection["export_version"]), ("FeatureCollection", 1))
        features = {f["id"]: f for f in collection["features"]}
        self.assertEqual(list(features), [self.e1, self.e2, self.e3])  # E5 has no point, E4 is hidden
        e2 = features[self.e2]
        self.assertEqual(e2["type"], "Feature")
        self.assertEqual(e2["geometry"], {"type": "Point", "coordinates": [2.7875, 48.405]})  # [lon, lat]
        self.assertEqual((e2["properties"]["reference"], e2["properties"]["category"], e2["properties"]["title"]),
                         (self.e2, "eclairage_public", "Lampadaire éteint"))
        for key in ("lat", "lon", "contact", "reporter"):
            self.assertNotIn(key, e2["properties"])
        lon, lat = features[self.e1]["geometry"]["coordinates"]
        self.assertAlmostEqual(lat, BY[0], places=6)
        self.assertAlmostEqual(lon, BY[1], places=6)
        self.assertNoContactData(result.out, "geojson")
        self.assertEqual(self.export("geojson", "--status", "planned").err,
                         "voisinage: warning: 1 grievance(s) without coordinates left out of the GeoJSON\n")
        self.assertEqual(self.export("geojson", "--category", "voirie").err, "")

    def test_html_report(self):
        html = self.export("html").out
        self.assertTrue(html.startswith("<!DOCTYPE html>\n<html lang=\"fr\">"), html[:100])
        checker = HtmlChecker()
        self.assertEqual(checker.check(html), [])
        self.assertEqual(checker.tags.count("svg"), 4)  # received per month, by category, resolved vs received, delays
        self.assertIn("<meta charset=\"utf-8\">", html)
        self.assertIn("@page { size: A4", html)
        # One self-contained document: no script, no stylesheet or image to fetch.
        self.assertNotIn("<script", html.lower())
        self.assertNotRegex(html, r"(?i)<link|src=|@import|url\(|https?://(?!www\.w3\.org/2000/svg)")
        # The overdue list: E2, E3 and E5 (planned, its expected day passed); never the hidden E4.
        for title in ("Lampadaire éteint", "Affaire privée", "Panneau tordu"):
            self.assertIn(title, html)
        self.assertNotIn("Contenu masqué", html)
        self.assertNoContactData(html, "html")
        self.assertIn("Doléances des habitants — Thomery", html)

    def test_md_report(self):
        md = self.export("md").out
        self.assertTrue(md.startswith("# Doléances des habitants — Thomery\n"), md[:80])
        self.assertIn("## Doléances en retard", md)
        for title in ("Lampadaire éteint", "Affaire privée", "Panneau tordu"):
            self.assertIn(title, md)
        self.assertNotIn("Contenu masqué", md)
        self.assertNotIn("<svg", md)
        self.assertNoContactData(md, "md")

    def test_public_exports(self):
        rows = self.csv_rows("--public")
        self.assertEqual([r["reference"] for r in rows], [self.e1, self.e2, self.e5])  # no private, no hidden
        self.assertEqual([r["Référence"] for r in self.csv_fr_rows("--public")], [self.e1, self.e2, self.e5])
        self.assertEqual(self.csv_rows("--public", "--status", "hidden"), [])
        items = json.loads(self.export("json", "--public").out)
        self.assertEqual([g["reference"] for g in items], [self.e1, self.e2, self.e5])
        e1 = items[0]
        self.assertEqual([(e["kind"], e["note"]) for e in e1["events"]],
                         [("created", ""), ("status", "Équipe prévenue")])  # the internal note left out
        self.assertTrue(all("actor" not in e for g in items for e in g["events"]))
        everything = json.loads(self.export("json").out)
        self.assertIn("Note interne confidentielle", json.dumps(everything, ensure_ascii=False))
        for fmt in ("csv", "csv-fr", "json", "jsonl", "geojson", "html", "md"):
            with self.subTest(fmt=fmt):
                out = self.run_cli("grievance", "export", "--format", fmt, "--public").out
                for secret in ("Affaire privée", "Note interne confidentielle", "note interne E1", "Contenu masqué",
                               "Réponse publique E3", self.e3, self.e4):
                    self.assertNotIn(secret, out)
                self.assertNoContactData(out, fmt)
        self.assertIn("version publique", self.export("html", "--public").out)
        self.assertNotIn("version publique", self.export("html").out)
        geo = json.loads(self.export("geojson", "--public").out)
        self.assertEqual([f["id"] for f in geo["features"]], [self.e1, self.e2])

    def test_custom_template(self):
        template = self.write("mairie.mustache",
                              "Commune : {{town}}\nReçues : {{received}}\n"
                              "{{#overdue}}- {{reference}} {{title}} ({{status_label}})\n{{/overdue}}"
                              "{{#categories}}* {{name}} {{received}}\n{{/categories}}"
                              "Graphique : {{#charts.by_category}}oui{{/charts.by_category}}\n"
                              "Brut : {{stats.received}}\n")
        out = self.export("html", "--template", template).out
        self.assertTrue(out.startswith("Commune : Thomery\nReçues : 4\n"), out)
        self.assertIn(f"- {self.e3} Affaire privée (Prise en compte)\n", out)
        self.assertIn("* Voirie et trottoirs 2\n", out)
        self.assertIn("Graphique : oui\n", out)
        self.assertIn("Brut : 4\n", out)
        self.export_file("html", "--template", template, name="rapport.txt")
        self.assertEqual((self.dir / "rapport.txt").read_text(encoding="utf-8"), out)
        # The Markdown report has no charts: a template for it cannot use them.
        self.fails("grievance", "export", "--format", "md", "--template", template,
                   message="line 5: unknown field 'charts.by_category'")
        md_template = self.write("mairie.md.mustache", "# {{{town}}}\n{{#overdue}}- {{{title}}}\n{{/overdue}}")
        md = self.export("md", "--template", md_template).out
        self.assertTrue(md.startswith("# Thomery\n"), md)
        self.assertIn("- Affaire privée\n", md)

    def test_template_errors_name_the_file_and_line(self):
        (self.dir / "rapport.html").write_text("ancien rapport", encoding="utf-8")
        before = self.snapshot()
        bad = self.write("syntaxe.mustache", "Commune : {{town}}\n\n{{#overdue}}\n- {{reference}}\n")
        result = self.fails("grievance", "export", "--format", "html", "--template", bad, "-o", "rapport.html",
                            message=f"template '{bad}': line 3")
        self.assertIn("overdue", result.err)
        unknown = self.write("inconnu.mustache", "Commune : {{town}}\nReçues : {{recues}}\n")
        self.fails("grievance", "export", "--format", "html", "--template", unknown, "-o", "rapport.html",
                   message=f"template '{unknown}': line 2: unknown field 'recues'")
        nested = self.write("imbrique.mustache",
                            "{{town}}\n{{#overdue}}\n{{reference}}\n{{contact_email}}\n{{/overdue}}\n")
        self.fails("grievance", "export", "--format", "md", "--template", nested,
                   message=f"template '{nested}': line 4: unknown field 'contact_email'")
        self.fails("grievance", "export", "--format", "html", "--template", "absent.mustache",
                   message="cannot read template 'absent.mustache'")
        self.assertEqual((self.dir / "rapport.html").read_text(encoding="utf-8"), "ancien rapport")
        self.assertEqual(sorted(p.name for p in self.dir.iterdir() if p.name.startswith(".voisinage-")), [])
        self.assertUnchanged(before)

    def test_output_file(self):
        self.assertEqual(self.ok("grievance", "export", "--format", "csv", "-o", "doleances.csv").err,
                         "wrote 4 grievance(s) to 'doleances.csv'\n")
        path = self.dir / "doleances.csv"
        self.assertEqual(stat.S_IMODE(path.stat().st_mode), 0o600)
        self.assertEqual(path.read_text(encoding="utf-8"), self.export("csv").out)
        result = self.ok("-q", "grievance", "export", "--format", "csv", "-o", "doleances.csv")
        self.assertEqual((result.out, result.err), ("", ""))
        self.assertEqual(self.ok("grievance", "export", "--format", "csv", "-o", "-").out, self.export("csv").out)
        self.assertEqual(sorted(p.name for p in self.dir.iterdir() if p.name.startswith(".voisinage-")), [])


class HostileTextTest(GrievanceTest):
    """The issue's hostile strings as titles, descriptions and addresses, received long ago (overdue)."""

    fixture_attributes = ("refs",)

    def build(self):
        self.refs = {}
        for day, (key, text) in enumerate(HOSTILE.items(), start=1):
            self.refs[key] = self.add("--address=" + text, category="proprete", title=text, description=text,
                                      received=f"2026-01-{day:02}T10:00:00Z")["reference"]
        self.ok("grievance", "assign", self.refs["plus"], "--service=" + HOSTILE["hyperlink"])

    def test_the_database_keeps_the_text_as_given(self):
        stored = dict(self.query("SELECT reference, title FROM grievance"))
        for key, text in HOSTILE.items():
            self.assertEqual(stored[self.refs[key]], text)

    def expected_spreadsheet_text(self, text):
        text = text.replace("\u202e", "\ufffd")
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    def test_csv_neutralises_formulas_and_bidi_controls(self):
        for fmt, rows, keys in (("csv", self.csv_rows(), ("reference", "title", "description", "address", "service")),
                                ("csv-fr", self.csv_fr_rows(), ("Référence", "Titre", "Description", "Adresse",
                                                                "Service"))):
            by_ref = {r[keys[0]]: r for r in rows}
            for key, text in HOSTILE.items():
                with self.subTest(fmt=fmt, key=key):
                    row = by_ref[self.refs[key]]
                    expected = self.expected_spreadsheet_text(text)
                    self.assertEqual((row[keys[1]], row[keys[2]], row[keys[3]]), (expected, expected, expected))
            self.assertEqual(by_ref[self.refs["plus"]][keys[4]], "'" + HOSTILE["hyperlink"])
            raw = self.export_file(fmt).decode("utf-8-sig")
            self.assertNotIn("\u202e", raw)
            for text in ('=HYPERLINK', "+cmd", "@SUM(1)", "-2+3", "\tTabul"):
                # Never at the start of a field: after a delimiter, a line start or an opening quote.
                self.assertNotRegex(raw, r'(^|[,;"\n])' + re.escape(text), f"{fmt}: {text!r} starts a field")
            if fmt == "csv":  # the numbers the program writes stay numbers
                self.assertRegex(raw, r",0,true,")

    def test_html_escapes_everything(self):
        html = self.export("html").out
        self.assertEqual(HtmlChecker().check(html), [])
        self.assertNotIn("<script", html.lower())
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html)
        self.assertIn("a|b &lt;c&gt; &amp; d", html)
        self.assertNotIn("<c>", html)
        self.assertNotIn("\u202e", html)
        self.assertIn("\ufffdevil.exe", html)
        self.assertIn("=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)", html)
        # The escaped text reads back as the original once parsed (bidi control aside).
        checker = HtmlChecker()
        checker.check(html)
        text = "".join(checker.text)
        for key in ("script", "hyperlink", "plus", "at", "minus", "pipe"):
            self.assertIn(HOSTILE[key], text)
        self.assertEqual(html.count(self.refs["script"]), 1)

    def test_markdown_escapes_everything(self):
        md = self.export("md").out
        self.assertNotRegex(md, r"(?<!\\)<(?!-)")  # every '<' escaped (none of the template's own)
        self.assertIn("\\<script\\>alert(1)\\</script\\>", md)
        self.assertIn("a\\|b \\<c\\> \\& d", md)
        self.assertNotIn("\u202e", md)
        self.assertIn("\ufffdevil.exe", md)
        self.assertNotIn("\t", md)
        # Every row of the overdue table keeps its 8 columns: no pipe from a title or an address splits a cell.
        rows = [line for line in md.splitlines() if line.startswith("| DOL-")]
        self.assertEqual(len(rows), len(HOSTILE))
        for row in rows:
            self.assertEqual(len(re.findall(r"(?<!\\)\|", row)), 9, row)

    def test_custom_html_template_escapes_too(self):
        template = self.write("t.mustache",
                              "{{#overdue}}[{{title}}]\n{{/overdue}}{{#streets}}({{street}})\n{{/streets}}")
        out = self.export("html", "--template", template).out
        self.assertNotIn("<script", out)
        self.assertIn("[&lt;script&gt;alert(1)&lt;/script&gt;]", out)
        self.assertNotIn("\u202e", out)

    def test_json_keeps_the_data_as_data(self):
        items = {g["reference"]: g for g in json.loads(self.export("json").out)}
        self.assertEqual(items[self.refs["script"]]["title"], HOSTILE["script"])
        self.assertEqual(items[self.refs["hyperlink"]]["description"], HOSTILE["hyperlink"])


# ---------------------------------------------------------------------------------------------------------------
# writing the export: unwritable targets, full output, file-size limit


class ExportFailureTest(GrievanceTest):
    def build(self):
        for i in range(12):  # 12 × 4000 'é' = 96 KB of descriptions
            self.add(title=f"Longue {i}", description="é" * 4000, point=BY)

    def assertNoExportLeft(self, folder):
        self.assertEqual(sorted(p.name for p in folder.iterdir()), [])

    def test_unwritable_targets(self):
        before = self.snapshot()
        cases = [("missing/rapport.csv", "cannot write 'missing/rapport.csv'"),
                 ("/proc/voisinage-rapport.csv", "cannot write '/proc/voisinage-rapport.csv'")]
        (self.dir / "folder").mkdir()
        cases.append(("folder", "cannot write 'folder'"))
        for target, message in cases:
            with self.subTest(target=target):
                self.fails("grievance", "export", "--format", "csv", "-o", target, message=message)
        self.assertFalse((self.dir / "missing").exists())
        self.assertNoExportLeft(self.dir / "folder")
        self.assertUnchanged(before)

    def test_read_only_directory(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to run the binary as another user")
        if (os.stat(harness.BINARY).st_mode & 0o001) == 0:
            self.skipTest("the binary is not executable by other users")
        os.chmod(self.dir, 0o755)
        for path in [self.dir] + list(self.dir.iterdir()):
            os.chown(path, towns.NOBODY, towns.NOBODY)
        folder = self.dir / "read-only"
        folder.mkdir(mode=0o555)
        os.chown(folder, towns.NOBODY, towns.NOBODY)
        folder.chmod(0o555)
        before = self.snapshot()
        result = towns.run_as_nobody("--db", self.db, "grievance", "export", "--format", "csv", "-o",
                                     folder / "rapport.csv", cwd=self.dir)
        self.assertEqual(result.code, 1, result)
        self.assertIn("voisinage: error: cannot write", result.err)
        self.assertIn("Permission denied", result.err)
        self.assertNoExportLeft(folder)
        self.assertUnchanged(before)

    def test_standard_output_full(self):
        for fmt, message in (("csv", "could not write the export"),
                             ("json", "could not write the export"), ("html", "could not write the report")):
            with self.subTest(fmt=fmt), open("/dev/full", "w") as full:
                completed = subprocess.run([harness.BINARY, "--db", self.db, "grievance", "export", "--format", fmt],
                                           stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
                self.assertEqual(completed.returncode, 1, completed.stderr)
                self.assertIn(f"voisinage: error: {message}", completed.stderr)

    def test_file_size_limit(self):
        # The limit leaves room for SQLite's 32 KiB shared-memory index (opening the database needs it) but not
        # for the export, which is about 100 KB.
        limit = 64 * 1024

        def limited():
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        out = self.dir / "out"
        out.mkdir()
        before = self.snapshot()
        for fmt in ("csv", "csv-fr", "json", "jsonl", "geojson"):
            with self.subTest(fmt=fmt):
                target = out / f"rapport.{fmt}"
                completed = subprocess.run([harness.BINARY, "--db", self.db, "grievance", "export", "--format", fmt,
                                            "-o", target], cwd=self.dir, capture_output=True, text=True,
                                           preexec_fn=limited, timeout=60)
                problems = []
                if completed.returncode != 1:
                    problems.append(f"exit {completed.returncode}")
                if f"voisinage: error: cannot write '{target}': File too large\n" not in completed.stderr:
                    problems.append("no clear error message")
                leftovers = sorted(p.name for p in out.iterdir())  # neither the target nor a .voisinage-* file
                if leftovers:
                    problems.append(f"left {leftovers}")
                for leftover in out.iterdir():
                    leftover.unlink()
                self.assertEqual(problems, [], completed.stderr)
        self.assertUnchanged(before)
        # The same export without the limit is complete.
        self.assertGreater(len(self.export_file("csv")), limit)

    def test_a_named_pipe_is_written_to_not_replaced(self):
        # `-o /dev/stdout`, `-o /dev/full` or a pipe: the target is not a regular file, so writing it "atomically"
        # by renaming a temporary file over it would replace the device or the pipe (as root, in /dev).
        fifo = self.dir / "pipe"
        os.mkfifo(fifo)
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            result = self.run_cli("grievance", "export", "--format", "csv", "--category", "bruit", "-o", fifo)
            self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode), f"the pipe was replaced by a file ({result!r})")
            if result.code == 0:
                self.assertEqual(os.read(reader, 65536).decode(), ",".join(CSV_COLUMNS) + "\r\n")
            else:
                self.assertEqual(result.code, 1, result)
        finally:
            os.close(reader)


# ---------------------------------------------------------------------------------------------------------------
# LibreOffice Calc opens the csv-fr file with French settings


def soffice():
    return shutil.which("soffice") or shutil.which("libreoffice")


OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def fods_rows(path):
    """The first sheet of a flat ODS file: a list of rows of (value type, value, text, formula) per cell."""
    rows = []
    table = ET.parse(path).getroot().find(f".//{{{TABLE}}}table")
    for row in table.iter(f"{{{TABLE}}}table-row"):
        cells = []
        for cell in row.findall(f"{{{TABLE}}}table-cell"):
            repeat = min(int(cell.get(f"{{{TABLE}}}number-columns-repeated", "1")), 64)
            text = "\n".join("".join(p.itertext()) for p in cell.findall(f"{{{TEXT}}}p"))
            value = cell.get(f"{{{OFFICE}}}value") or cell.get(f"{{{OFFICE}}}date-value")
            cells += [(cell.get(f"{{{OFFICE}}}value-type"), value, text, cell.get(f"{{{TABLE}}}formula"))] * repeat
        rows.append(cells)
    return rows


@unittest.skipUnless(soffice(), "LibreOffice Calc is not installed (Debian: libreoffice-calc-nogui)")
class LibreOfficeTest(GrievanceTest):
    def test_csv_fr_round_trip(self):
        planned = self.add("--address", "Église Saint-Amand", title="Lampadaire éteint près de l'église",
                           description="Ça clignote ; « déjà signalé » — œuvre",
                           received="2026-07-15T08:00:00Z",
                           point=(48.405, 2.7875), category="eclairage_public")["reference"]
        self.status(planned, "open", "--at", "2026-07-15T20:00:00Z")
        self.status(planned, "planned", "--expected", "2026-12-10", "--at", "2026-07-16T08:00:00Z")
        resolved = self.add(title="Trottoir défoncé", received="2026-01-15T08:00:00Z")["reference"]
        self.status(resolved, "open", "--at", "2026-01-16T08:00:00Z")
        self.status(resolved, "resolved", "--at", "2026-01-17T20:00:00Z")
        formula = self.add(title='=HYPERLINK("http://x","y")', description="+1+1", received="2026-02-01T08:00:00Z")
        source = self.dir / "doleances.csv"
        self.ok("grievance", "export", "--format", "csv-fr", "-o", source)
        # A control file: the same import settings do evaluate formulas, so the neutralisation is what protects.
        control = self.write("controle.csv", "a;b\n=1+1;x\n")
        out = self.dir / "lo"
        # CSV filter: ';' separator, '"' quotes, UTF-8 (76), from line 1, default column formats, French (1036),
        # quoted fields not forced to text, special numbers detected, formulas evaluated.
        completed = subprocess.run(
            [soffice(), f"-env:UserInstallation=file://{self.dir}/lo-profile", "--headless", "--norestore",
             "--infilter=CSV:59,34,76,1,,1036,false,true,false,false,false,0,true", "--convert-to", "fods",
             "--outdir", out, source, control],
            cwd=self.dir, capture_output=True, text=True, timeout=120)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertTrue((out / "controle.fods").exists(), completed)
        self.assertIsNotNone(fods_rows(out / "controle.fods")[1][0][3], "the control formula was not evaluated")

        rows = fods_rows(out / "doleances.fods")
        header = [c[2] for c in rows[0][:len(CSV_FR_COLUMNS)]]
        self.assertEqual(header, CSV_FR_COLUMNS)  # accents in the BOM-marked UTF-8 header survive
        by_ref = {r[0][2]: dict(zip(CSV_FR_COLUMNS, r)) for r in rows[1:] if r and r[0][2]}
        p = by_ref[planned]
        self.assertEqual(p["Titre"][2], "Lampadaire éteint près de l'église")
        self.assertEqual(p["Description"][2], "Ça clignote ; « déjà signalé » — œuvre")
        self.assertEqual(p["Catégorie"][2], "Éclairage public")
        self.assertEqual(p["Statut"][2], "Intervention programmée")
        # Dates are dates, in Paris time; the expected day too.
        self.assertEqual(p["Créée le"][:2], ("date", "2026-07-15T10:00:00"))
        self.assertEqual(p["Prise en compte le"][:2], ("date", "2026-07-15T22:00:00"))
        self.assertEqual(p["Date prévue"][:2], ("date", "2026-12-10"))
        # Numbers with a decimal comma are numbers.
        self.assertEqual(p["Latitude"][:2], ("float", "48.405"))
        self.assertEqual(p["Longitude"][:2], ("float", "2.7875"))
        self.assertEqual(p["Réouvertures"][:2], ("float", "0"))
        r = by_ref[resolved]
        self.assertEqual(r["Créée le"][:2], ("date", "2026-01-15T09:00:00"))  # winter time
        self.assertEqual(r["Résolue le"][:2], ("date", "2026-01-17T21:00:00"))
        self.assertEqual(r["Délai (jours)"][:2], ("float", "2.5"))
        self.assertEqual(r["Statut"][2], "Résolue")
        # No cell became a formula.
        f = by_ref[formula["reference"]]
        self.assertEqual((f["Titre"][0], f["Titre"][3]), ("string", None))
        self.assertEqual((f["Description"][0], f["Description"][3]), ("string", None))
        self.assertTrue(all(cell[3] is None for row in rows for cell in row))


if __name__ == "__main__":
    harness.main()
