"""voisinage init: creating the database and applying town files."""

import harness
import towns


def changed_rows(before, after):
    """{table: (rows only before, rows only after)} for the tables whose rows differ."""
    diff = {}
    for table in sorted(set(before) | set(after)):
        old, new = set(before.get(table, [])), set(after.get(table, []))
        if old != new:
            diff[table] = (old - new, new - old)
    return diff


class InitTest(harness.VoisinageTest):
    def test_init_without_town_file_creates_an_empty_database(self):
        result = self.ok("init")
        self.assertIn("created", result.out)
        self.assertTrue(self.db.exists())
        (version,) = self.query("PRAGMA user_version")[0]
        self.assertGreaterEqual(version, 1)
        self.assertEqual(self.query("SELECT max(version) FROM schema_migration"), [(version,)])
        self.assertEqual(self.query("PRAGMA journal_mode"), [("wal",)])
        self.assertEqual(self.query("SELECT count(*) FROM town"), [(0,)])
        before = self.snapshot()
        again = self.ok("init")
        self.assertIn("up to date", again.out)
        self.assertUnchanged(before)

    def test_first_apply_adds_every_section(self):
        result = self.init_thomery()
        self.assertIn("created", result.out)
        self.assertIn("neighbourhoods: 5 added, 0 changed, 0 archived", result.out)
        self.assertIn("grievance_categories: 14 added", result.out)
        self.assertIn("+ centre-bourg: Centre-bourg", result.out)
        self.assertEqual(self.query("SELECT name, insee, postcodes, timezone FROM town"),
                         [("Thomery", "77463", '["77810"]', "Europe/Paris")])
        self.assertEqual(self.query("SELECT auto_hide_score, auto_hide_reporters FROM town"), [(12.0, 3)])
        slugs = [r[0] for r in self.query("SELECT slug FROM neighbourhood WHERE archived_at IS NULL ORDER BY slug")]
        self.assertEqual(slugs, ["bord-de-seine", "by", "centre-bourg", "effondre", "les-treilles"])
        self.assertEqual(self.query("SELECT count(*) FROM neighbourhood WHERE polygon IS NOT NULL"), [(3,)])
        self.assertEqual(self.query("SELECT count(*), sum(active) FROM grievance_category"), [(14, 13)])
        self.assertEqual(self.query("SELECT action FROM word_rule WHERE pattern = 'paypal'"), [("hold",)])
        self.assertEqual(self.query("SELECT role FROM member WHERE email = 'thomas.garnier@mairie-thomery.example.fr'"),
                         [("admin",)])

    def test_dinan_example_applies(self):
        result = self.ok("init", "--from", harness.EXAMPLES / "dinan.yaml")
        self.assertIn("+ centre-historique", result.out)
        self.assertEqual(self.query("SELECT insee FROM town"), [("22050",)])

    def test_second_apply_changes_nothing(self):
        self.init_thomery()
        before = self.snapshot()
        result = self.init_thomery()
        self.assertIn("no change", result.out)
        self.assertUnchanged(before)
        data = self.run_cli("init", "--from", harness.EXAMPLES / "thomery.yaml", "--json").json()
        self.assertFalse(data["changed"])
        self.assertEqual(data["changes"], [])
        self.assertUnchanged(before)

    def test_editing_one_category_and_one_neighbourhood_changes_exactly_those(self):
        town = towns.copy_thomery(self.dir)
        self.ok("init", "--from", town)
        towns.edit(town, "name: Voirie et trottoirs", "name: Voirie, trottoirs et pistes cyclables")
        towns.edit(town, "name: Centre-bourg", "name: Le Bourg")
        before = self.snapshot()

        result = self.ok("init", "--from", town)
        change_lines = [line for line in result.out.splitlines() if line.lstrip().startswith(("+", "~", "-"))]
        self.assertEqual(len(change_lines), 2, result)
        self.assertIn("neighbourhoods: 0 added, 1 changed, 0 archived", result.out)
        self.assertIn("grievance_categories: 0 added, 1 changed, 0 archived", result.out)
        self.assertIn("'Centre-bourg' → 'Le Bourg'", result.out)

        self.assertEqual(self.query("SELECT name FROM neighbourhood WHERE slug = 'centre-bourg'"), [("Le Bourg",)])
        self.assertEqual(self.query("SELECT name FROM grievance_category WHERE code = 'voirie'"),
                         [("Voirie, trottoirs et pistes cyclables",)])
        diff = changed_rows(before, self.snapshot())
        self.assertEqual(sorted(diff), ["audit_log", "grievance_category", "neighbourhood"], diff)
        self.assertEqual(self.query("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1"), [("town.apply",)])
        self.assertEqual(len(diff.pop("audit_log")[1]), 1)  # the change is logged once
        for table, (gone, added) in diff.items():
            self.assertEqual((len(gone), len(added)), (1, 1), table)

        again = self.ok("init", "--from", town)
        self.assertIn("no change", again.out)

    def test_dry_run_prints_the_same_difference_and_writes_nothing(self):
        town = towns.copy_thomery(self.dir)
        self.ok("init", "--from", town)
        towns.edit(town, "name: Nuisances sonores", "name: Bruit")
        towns.edit(town, "name: By (hameau de Rosa Bonheur)", "name: By")
        before = self.snapshot()
        dry = self.ok("init", "--from", town, "--dry-run")
        self.assertIn("dry run", dry.out)
        self.assertUnchanged(before)
        dry_json = self.ok("init", "--from", town, "--dry-run", "--json").json()
        self.assertTrue(dry_json["dry_run"])
        self.assertEqual(sorted(c["key"] for c in dry_json["changes"]), ["bruit", "by"])
        self.assertUnchanged(before)
        real = self.ok("init", "--from", town)
        real_changes = [line for line in real.out.splitlines() if "dry run" not in line]
        dry_changes = [line for line in dry.out.splitlines() if "dry run" not in line]
        self.assertEqual(dry_changes, real_changes)

    def test_dry_run_on_a_missing_database_creates_no_file(self):
        result = self.ok("init", "--from", harness.EXAMPLES / "thomery.yaml", "--dry-run")
        self.assertIn("+ centre-bourg", result.out)
        self.assertIn("would be created", result.out)
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), [])

    def test_neighbourhood_removed_from_the_file_is_archived_and_keeps_its_members(self):
        town = towns.copy_thomery(self.dir)
        self.ok("init", "--from", town)
        self.ok("member", "add", "--name", "Lucie", "--neighbourhood", "les-treilles")
        towns.edit(town, "  - slug: les-treilles\n    name: Les Treilles (murs à chasselas)\n"
                         "    postcodes: [\"77810\"]\n", "")
        result = self.ok("init", "--from", town)
        self.assertIn("neighbourhoods: 0 added, 0 changed, 1 archived", result.out)
        self.assertIn("les-treilles", result.out)
        self.assertEqual(self.query("SELECT archived_at IS NOT NULL FROM neighbourhood WHERE slug = 'les-treilles'"),
                         [(1,)])
        self.assertEqual(self.query("SELECT count(*) FROM member m JOIN neighbourhood n ON n.id = m.neighbourhood_id "
                                    "WHERE n.slug = 'les-treilles' AND m.removed_at IS NULL"), [(1,)])
        self.assertNotIn("les-treilles", self.ok("neighbourhood", "list").out)
        self.assertIn("archived", self.ok("neighbourhood", "list", "--all").out)

    def test_staff_member_removed_from_the_file_is_demoted_to_resident(self):
        town = towns.copy_thomery(self.dir)
        self.ok("init", "--from", town)
        towns.edit(town, "  - name: Karim Benali\n    email: karim.benali@mairie-thomery.example.fr\n"
                         "    role: moderator\n", "")
        result = self.ok("init", "--from", town)
        self.assertIn("staff: 0 added, 0 changed, 1 archived", result.out)
        self.assertIn("karim.benali@mairie-thomery.example.fr", result.out)
        self.assertEqual(self.query("SELECT role, removed_at FROM member WHERE email = ?",
                                    "karim.benali@mairie-thomery.example.fr"), [("resident", None)])
        self.assertEqual(self.query("SELECT role FROM member WHERE email = ?",
                                    "sandrine.petit@mairie-thomery.example.fr"), [("moderator",)])

    def test_json_output_shape(self):
        data = self.ok("init", "--from", harness.EXAMPLES / "thomery.yaml", "--json").json()
        self.assertTrue(data["changed"])
        self.assertFalse(data["dry_run"])
        self.assertEqual(sorted(data["summary"]),
                         ["grievance_categories", "moderation", "neighbourhoods", "retention", "staff", "town"])
        for section, counts in data["summary"].items():
            self.assertEqual(sorted(counts), ["added", "archived", "changed"], section)
        self.assertEqual(data["summary"]["neighbourhoods"]["added"], 5)
        self.assertEqual(len(data["changes"]), 1 + 1 + 5 + 14 + 7 + 5)  # town, auto-hide thresholds, ...
        for change in data["changes"]:
            self.assertEqual(sorted(change), ["details", "key", "kind", "section"])
            self.assertIn(change["kind"], ("added", "changed", "archived"))
        self.assertIn({"section": "neighbourhoods", "kind": "added", "key": "centre-bourg",
                       "details": ["Centre-bourg"]}, data["changes"])

    def test_quiet_applies_without_chatter(self):
        result = self.ok("--quiet", "init", "--from", harness.EXAMPLES / "thomery.yaml")
        self.assertEqual(result.out, "")
        self.assertEqual(self.query("SELECT count(*) FROM neighbourhood"), [(5,)])

    def test_quiet_dry_run_still_prints_the_difference(self):
        # The difference is what --dry-run asks for: it is data, not chatter.
        town = towns.copy_thomery(self.dir)
        self.ok("init", "--from", town)
        towns.edit(town, "name: Centre-bourg", "name: Le Bourg")
        before = self.snapshot()
        result = self.ok("--quiet", "init", "--from", town, "--dry-run")
        self.assertIn("centre-bourg", result.out)
        self.assertIn("Le Bourg", result.out)
        self.assertUnchanged(before)

    def test_missing_town_file(self):
        self.fails("init", "--from", "nowhere.yaml", message="cannot read town file 'nowhere.yaml'")
        self.assertFalse(self.db.exists())
        self.init_thomery()
        before = self.snapshot()
        self.fails("init", "--from", "nowhere.yaml", message="'nowhere.yaml'")
        self.assertUnchanged(before)

    def test_town_file_that_is_a_directory(self):
        (self.dir / "town").mkdir()
        result = self.fails("init", "--from", "town", message="'town'")
        self.assertIn("directory", result.err)
        self.assertNotIn("empty", result.err)
        self.assertFalse(self.db.exists())

    def test_misuse(self):
        for args in (["init", "--from"], ["init", "--bogus"], ["init", "extra"]):
            with self.subTest(args=args):
                self.fails(*args, code=2)
                self.assertFalse(self.db.exists())

    def test_help(self):
        result = self.ok("init", "--help")
        for flag in ("--from", "--dry-run", "--json"):
            self.assertIn(flag, result.out)
        self.assertFalse(self.db.exists())


if __name__ == "__main__":
    harness.main()
