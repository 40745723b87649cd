"""Man pages: each renders without a warning, has the sections a reader expects, and its SYNOPSIS says exactly
what the binary's --help says — every command, every option, every argument. A page that drifts from the
binary, or describes a command that does not exist, fails here."""

import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import harness

MAN_DIR = harness.SOURCE_DIR / "man"

REQUIRED_SECTIONS = {
    "1": ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "FILES", "EXAMPLES", "SEE ALSO"],
    "5": ["NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "EXAMPLES", "SEE ALSO"],
}

# Macros that print their arguments separated by spaces, and those that alternate fonts and join them.
SPACED_MACROS = {"B", "I", "SM", "SB"}
JOINED_MACROS = {"BR", "RB", "IR", "RI", "BI", "IB"}
# Macros that end one SYNOPSIS entry (one command) and start the next.
BREAK_MACROS = {"br", "PP", "LP", "P", "sp", "SS"}

LONG_OPTION = re.compile(r"(?<![\w-])--[A-Za-z0-9][A-Za-z0-9-]*")
SHORT_OPTION = re.compile(r"(?<![\w-])-[A-Za-z0-9](?![\w-])")


# ---- the binary's --help (CLI11)


def run_help(*words):
    """`voisinage WORDS... --help`, which must succeed."""
    completed = subprocess.run([harness.BINARY, *words, "--help"], capture_output=True, text=True, timeout=30)
    if completed.returncode != 0:
        raise AssertionError(f"'voisinage {' '.join(words)} --help' exited {completed.returncode}:\n"
                             f"{completed.stdout}{completed.stderr}")
    return completed.stdout


def help_sections(text):
    """{"Options": [entry, ...], "Positionals": [...], "Subcommands": [...]} from a CLI11 help text.
    An entry is the first line of an item (indented by two spaces); wrapped descriptions are indented more."""
    sections, current = {}, None
    for line in text.splitlines():
        heading = re.fullmatch(r"([A-Z][A-Za-z ]*):\s*", line)
        if heading:
            current = sections.setdefault(heading.group(1), [])
        elif not line.strip():
            current = None
        elif current is not None and re.match(r"  \S", line):
            current.append(line.strip())
    return sections


def first_words(entries):
    return [entry.split()[0] for entry in entries]


def help_options(entries):
    """(long options, short options) named by the "Options:" entries, --help and -h left out."""
    long_options, short_options = set(), set()
    for names in first_words(entries):
        for name in names.split(","):
            if name.startswith("--"):
                long_options.add(name)
            elif name.startswith("-"):
                short_options.add(name)
    return long_options - {"--help"}, short_options - {"-h"}


def discover_commands():
    """{("init",): help text, ("town", "show"): help text, ("mod", "rules", "add"): help text, ...}: every command
    that runs, from the binary itself, at any depth. A group whose subcommand is optional (its usage says
    "[SUBCOMMAND]", like `mod log` and `mod log verify`) runs on its own too."""
    commands = {}

    def walk(words, help_text):
        subcommands = first_words(help_sections(help_text).get("Subcommands", []))
        usage = next((line for line in help_text.splitlines() if line.startswith("Usage:")), "")
        if not subcommands or "[SUBCOMMAND]" in usage:
            commands[words] = help_text
        for subcommand in subcommands:
            walk(words + (subcommand,), run_help(*words, subcommand))

    for group in first_words(help_sections(run_help()).get("Subcommands", [])):
        walk((group,), run_help(group))
    return commands


# ---- the man pages (roff)


def roff_arguments(text):
    """Splits a macro's arguments as roff does: by spaces, "double quotes" grouping, "" a literal quote."""
    arguments, current, quoted, i = [], None, False, 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == '"' and text[i + 1:i + 2] == '"':
                current += '"'
                i += 1
            elif c == '"':
                quoted = False
            else:
                current += c
        elif c == '"' and current is None:
            current, quoted = "", True
        elif c in " \t":
            if current is not None:
                arguments.append(current)
                current = None
        else:
            current = (current or "") + c
        i += 1
    if current is not None:
        arguments.append(current)
    return arguments


def plain(text):
    """Roff escapes that matter in a SYNOPSIS turned into plain text."""
    text = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", text)  # font changes
    text = text.replace("\\-", "-").replace("\\&", "").replace("\\e", "\\").replace("\\ ", " ")
    text = re.sub(r"\\\((..)", lambda m: {"em": "--", "en": "-", "aq": "'", "dq": '"'}.get(m.group(1), "?"), text)
    return re.sub(r"\\\[[^\]]*\]", "?", text)


def roff_line(line):
    """(text, breaks): a source line as printed text, and whether it ends the current SYNOPSIS entry."""
    if line.startswith(("'", ".")):
        parts = line[1:].strip().split(None, 1)
        macro, rest = (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")
        if macro in BREAK_MACROS:
            return "", True
        if macro in SPACED_MACROS:
            return plain(" ".join(roff_arguments(rest))), False
        if macro in JOINED_MACROS:
            return plain("".join(roff_arguments(rest))), False
        return "", False  # comments and other requests print nothing here
    return plain(line), False


class ManPage:
    def __init__(self, path):
        self.path = path
        self.name = path.name
        self.section = path.suffix.lstrip(".")
        self.source = path.read_text(encoding="utf-8")
        self.sections = {}
        current = None
        for line in self.source.splitlines():
            if line.startswith(".SH"):
                current = " ".join(roff_arguments(line[3:].strip()))
                self.sections[current] = []
            elif current is not None:
                self.sections[current].append(line)

    def synopsis_entries(self):
        """[(command words, text)]: one per command of the SYNOPSIS. `voisinage neighbourhood create SLUG
        --name NAME` gives (("neighbourhood", "create"), "voisinage neighbourhood create SLUG --name NAME");
        an entry about the program as a whole gives ()."""
        entries, current = [], []
        for line in self.sections.get("SYNOPSIS", []):
            text, breaks = roff_line(line)
            if text.strip().split()[:1] == ["voisinage"] and current:
                entries.append(" ".join(current))
                current = []
            if text.strip():
                current.append(text.strip())
            if breaks and current:
                entries.append(" ".join(current))
                current = []
        if current:
            entries.append(" ".join(current))
        result = []
        for entry in entries:
            words = entry.split()
            if words[:1] != ["voisinage"]:
                continue
            command = []
            for word in words[1:]:
                if not re.fullmatch(r"[a-z][a-z0-9-]*", word):
                    break
                command.append(word)
            result.append((tuple(command), entry))
        return result


def man_pages():
    if not MAN_DIR.is_dir():
        return []
    return [ManPage(path) for path in sorted(MAN_DIR.iterdir()) if re.fullmatch(r".*\.[1-9]", path.name)]


def page_for(command):
    """The page that documents a command: init → voisinage-init.1, town show → voisinage-town.1."""
    return f"voisinage-{command[0]}.1"


def options_in(text):
    return set(LONG_OPTION.findall(text)) - {"--help"}, set(SHORT_OPTION.findall(text)) - {"-h"}


class ManPageTest(unittest.TestCase):
    longMessage = False  # the messages below say what drifted; a dump of the help texts would bury it

    @classmethod
    def setUpClass(cls):
        cls.pages = man_pages()
        cls.by_name = {page.name: page for page in cls.pages}
        cls.commands = discover_commands()

    def test_pages_exist(self):
        self.assertIn("voisinage.1", self.by_name, f"no man page voisinage.1 in {MAN_DIR}")
        self.assertIn("voisinage-town-file.5", self.by_name)
        self.assertGreater(len(self.commands), 1, "no command found in 'voisinage --help'")

    def test_mandoc_finds_nothing_to_report(self):
        mandoc = shutil.which("mandoc")
        self.assertIsNotNone(mandoc, "mandoc is needed to check the man pages (scripts/bootstrap installs it)")
        for page in self.pages:
            with self.subTest(page=page.name):
                completed = subprocess.run([mandoc, "-T", "lint", "-W", "warning", str(page.path)],
                                           capture_output=True, text=True, timeout=60)
                report = completed.stdout + completed.stderr
                self.assertEqual("", report.strip(), f"mandoc -T lint on {page.name}:\n{report}")
                self.assertEqual(0, completed.returncode, f"mandoc -T lint on {page.name}:\n{report}")

    @unittest.skipUnless(shutil.which("groff"), "groff is not installed")
    def test_groff_finds_nothing_to_report(self):
        for page in self.pages:
            with self.subTest(page=page.name):
                completed = subprocess.run(["groff", "-man", "-ww", "-z", str(page.path)],
                                           capture_output=True, text=True, timeout=60)
                self.assertEqual("", completed.stderr.strip(), f"groff -ww on {page.name}:\n{completed.stderr}")
                self.assertEqual(0, completed.returncode, f"groff on {page.name}:\n{completed.stderr}")

    def test_pages_have_the_required_sections(self):
        for page in self.pages:
            with self.subTest(page=page.name):
                required = REQUIRED_SECTIONS.get(page.section, REQUIRED_SECTIONS["1"])
                missing = [name for name in required if name not in page.sections]
                self.assertEqual([], missing, f"{page.name} lacks the section(s) {missing}")
                header = next((line for line in page.source.splitlines() if line.startswith(".TH")), "")
                self.assertRegex(plain(header), rf"^\.TH {re.escape(page.path.stem.upper())} {page.section} ",
                                 f"{page.name}: .TH should give the page's name in capitals and its section")
                name_line = plain(" ".join(line for line in page.sections["NAME"] if not line.startswith(".")))
                self.assertRegex(name_line, rf"^{re.escape(page.path.stem)} - \S",
                                 f"{page.name}: NAME should read '{page.path.stem} \\- what it is'")

    def test_every_command_has_a_synopsis_entry_that_matches_its_help(self):
        for command, help_text in self.commands.items():
            label = "voisinage " + " ".join(command)
            with self.subTest(command=label):
                sections = help_sections(help_text)
                self.assertIn("Options", sections, f"'{label} --help' has no Options: section")
                page = self.by_name.get(page_for(command))
                self.assertIsNotNone(page, f"'{label}' has no man page {page_for(command)} in {MAN_DIR}")
                entries = [text for words, text in page.synopsis_entries() if words == command]
                self.assertEqual(1, len(entries),
                                 f"{page.name}: the SYNOPSIS should have exactly one entry for '{label}', "
                                 f"found {len(entries)}")
                entry = entries[0]

                want_long, want_short = help_options(sections["Options"])
                have_long, have_short = options_in(entry)
                self.assertEqual(want_long, have_long,
                                 f"{page.name}: SYNOPSIS of '{label}' drifted from --help: "
                                 f"missing {sorted(want_long - have_long)}, extra {sorted(have_long - want_long)}")
                self.assertEqual(want_short, have_short,
                                 f"{page.name}: SYNOPSIS of '{label}' drifted from --help (short options): "
                                 f"missing {sorted(want_short - have_short)}, extra {sorted(have_short - want_short)}")

                words = entry.split()[1 + len(command):]
                bare = [re.sub(r"[\[\]|.]", "", word) for word in words]
                positionals = first_words(sections.get("Positionals", []))
                positions = []
                for positional in positionals:
                    self.assertIn(positional.upper(), bare,
                                  f"{page.name}: SYNOPSIS of '{label}' does not name the argument "
                                  f"{positional.upper()} that --help lists")
                    positions.append(bare.index(positional.upper()))
                self.assertEqual(sorted(positions), positions,
                                 f"{page.name}: SYNOPSIS of '{label}' gives the arguments in another order than "
                                 f"--help: {' '.join(name.upper() for name in positionals)}")

    def test_every_synopsis_entry_is_a_real_command(self):
        groups = {command[0] for command in self.commands}
        for page in self.pages:
            if page.section != "1":
                continue
            with self.subTest(page=page.name):
                entries = page.synopsis_entries()
                self.assertTrue(entries, f"{page.name}: no 'voisinage ...' entry in its SYNOPSIS")
                if page.name == "voisinage.1":
                    commands = [words for words, _ in entries if words]
                    self.assertEqual([], commands, "voisinage.1: its SYNOPSIS describes the program, "
                                                   "the commands have their own pages")
                    continue
                group = page.path.stem.removeprefix("voisinage-")
                self.assertIn(group, groups, f"{page.name} documents '{group}', which is not a voisinage command")
                for words, text in entries:
                    self.assertTrue(words in self.commands, f"{page.name}: SYNOPSIS entry '{text}' is not a "
                                                            f"voisinage command ('voisinage {' '.join(words)}')")
                    self.assertEqual(group, words[0], f"{page.name}: '{text}' belongs in {page_for(words)}")

    def test_global_options_are_in_voisinage_1(self):
        want_long, want_short = help_options(help_sections(run_help())["Options"])
        entries = self.by_name["voisinage.1"].synopsis_entries()
        have_long, have_short = set(), set()
        for _, text in entries:
            long_options, short_options = options_in(text)
            have_long |= long_options
            have_short |= short_options
        self.assertEqual(want_long, have_long, f"voisinage.1: SYNOPSIS drifted from 'voisinage --help': "
                                               f"missing {sorted(want_long - have_long)}, "
                                               f"extra {sorted(have_long - want_long)}")
        self.assertEqual(want_short, have_short, "voisinage.1: SYNOPSIS short options drifted from --help")
        options = "\n".join(self.by_name["voisinage.1"].sections["OPTIONS"])
        for option in sorted(want_long | want_short):
            self.assertIn(option.replace("-", "\\-"), options, f"voisinage.1: OPTIONS does not describe {option}")

    def test_cross_references_lead_to_pages(self):
        others = {page.name for page in self.pages} - {"voisinage.1"}
        see_also = "\n".join(self.by_name["voisinage.1"].sections["SEE ALSO"])
        for name in sorted(others):
            stem, section = name.rsplit(".", 1)
            self.assertIn(f"{stem.replace('-', chr(92) + '-')} ({section})", see_also,
                          f"voisinage.1: SEE ALSO does not mention {stem}({section})")
        for page in self.pages:
            for stem, section in re.findall(r"(voisinage(?:\\-[a-z]+)*) \(([1-9])\)", page.source):
                target = f"{stem.replace(chr(92), '')}.{section}"
                self.assertTrue(target in self.by_name, f"{page.name} refers to {target}, which is not in {MAN_DIR}")

    def test_town_file_examples_are_valid_town_files(self):
        """Every YAML example in voisinage-town-file(5) is accepted by 'voisinage init --from'."""
        page = self.by_name["voisinage-town-file.5"]
        rendered = subprocess.run(["mandoc", "-T", "utf8", "-O", "width=200", str(page.path)],
                                  capture_output=True, text=True, timeout=60).stdout
        lines = re.sub(r".\x08", "", rendered).splitlines()
        examples = []
        for i, line in enumerate(lines):
            if line.strip() != "town:":
                continue
            indent = len(line) - len(line.lstrip())
            block = []
            for following in lines[i:]:
                if not following.strip():
                    break
                block.append(following[indent:])
            examples.append("\n".join(block) + "\n")
        self.assertGreaterEqual(len(examples), 1, "voisinage-town-file.5 shows no town file")
        work = Path(tempfile.mkdtemp(prefix="voisinage-man-"))
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        shutil.copytree(harness.EXAMPLES / "thomery", work / "thomery")
        for number, example in enumerate(examples, 1):
            with self.subTest(example=number):
                town_file = work / f"example{number}.yaml"
                town_file.write_text(example, encoding="utf-8")
                completed = subprocess.run([harness.BINARY, "--db", str(work / "town.db"), "init", "--from",
                                            str(town_file), "--dry-run"], capture_output=True, text=True,
                                           timeout=60)
                self.assertEqual(0, completed.returncode, f"example {number} of voisinage-town-file.5 is refused:\n"
                                                          f"{completed.stderr}\n{example}")
                self.assertFalse((work / "town.db").exists(), "a dry run created the database")


if __name__ == "__main__":
    harness.main()
