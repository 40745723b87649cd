#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "lib/atomic_file.h"
#include "lib/error.h"
#include "lib/render/svg_chart.h"
#include "lib/render/template.h"
#include "lib/text/csv_writer.h"
#include "lib/text/strings.h"
#include "test_support.h"

using namespace voisinage;
using nlohmann::json;

namespace {

// The bidirectional controls, U+202A..U+202E and U+2066..U+2069, in UTF-8.
const char* const kBidiControls[] = {"\u202A", "\u202B", "\u202C", "\u202D", "\u202E",
                                     "\u2066", "\u2067", "\u2068", "\u2069"};
const std::string kReplacement = "\xEF\xBF\xBD";

bool EntityAt(std::string_view text, size_t at) {
  for (std::string_view entity : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#39;"})
    if (text.substr(at, entity.size()) == entity) return true;
  return false;
}

// Why `xml` is not a well-formed XML element (one root, tags balanced, attribute values quoted, no '<' in
// them, '&' only starting an entity), or "" when it is.
std::string XmlProblem(std::string_view xml) {
  std::vector<std::string> open;
  size_t i = 0;
  bool root_closed = false;
  auto is_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == '_';
  };
  while (i < xml.size()) {
    const char c = xml[i];
    if (c == '&') {
      if (!EntityAt(xml, i)) return fmt::format("bare '&' at {}: {}", i, xml.substr(i, 20));
      ++i;
      continue;
    }
    if (c != '<') {
      if (open.empty()) return fmt::format("text outside the root at {}", i);
      ++i;
      continue;
    }
    if (root_closed) return fmt::format("second root at {}", i);
    if (xml.substr(i, 2) == "</") {
      const size_t end = xml.find('>', i);
      if (end == std::string_view::npos) return "unterminated end tag";
      const std::string name(xml.substr(i + 2, end - i - 2));
      if (open.empty() || open.back() != name)
        return fmt::format("</{}> closes <{}>", name, open.empty() ? "" : open.back());
      open.pop_back();
      root_closed = open.empty();
      i = end + 1;
      continue;
    }
    size_t j = i + 1;
    while (j < xml.size() && is_name(xml[j])) ++j;
    const std::string name(xml.substr(i + 1, j - i - 1));
    if (name.empty()) return fmt::format("bare '<' at {}: {}", i, xml.substr(i, 20));
    for (;;) {
      if (j >= xml.size()) return fmt::format("unterminated <{}>", name);
      if (xml[j] == '>' || xml.substr(j, 2) == "/>") break;
      if (xml[j] != ' ') return fmt::format("<{}>: unexpected '{}' at {}", name, xml[j], j);
      ++j;
      const size_t attribute = j;
      while (j < xml.size() && is_name(xml[j])) ++j;
      if (j == attribute || xml.substr(j, 2) != "=\"")
        return fmt::format("<{}>: bad attribute at {}", name, j);
      j += 2;
      const size_t end = xml.find('"', j);
      if (end == std::string_view::npos) return fmt::format("<{}>: unterminated attribute", name);
      for (size_t k = j; k < end; ++k) {
        if (xml[k] == '<') return fmt::format("<{}>: '<' in an attribute at {}", name, k);
        if (xml[k] == '&' && !EntityAt(xml, k))
          return fmt::format("<{}>: bare '&' in an attribute at {}", name, k);
      }
      j = end + 1;
    }
    if (xml[j] == '>') {
      open.push_back(name);
      i = j + 1;
    } else {
      if (open.empty()) root_closed = true;
      i = j + 2;
    }
  }
  if (!open.empty()) return fmt::format("<{}> is never closed", open.back());
  if (!root_closed) return "no root element";
  return "";
}

// The text of the first <tag>...</tag> of `xml`.
std::string Element(const std::string& xml, const std::string& tag) {
  const size_t start = xml.find("<" + tag + ">");
  const size_t end = xml.find("</" + tag + ">");
  if (start == std::string::npos || end == std::string::npos) return "(no <" + tag + ">)";
  return xml.substr(start + tag.size() + 2, end - start - tag.size() - 2);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t FilesIn(const std::string& directory) {
  return static_cast<size_t>(
      std::distance(std::filesystem::directory_iterator(directory), std::filesystem::directory_iterator()));
}

}  // namespace

TEST_CASE("the checker of these tests tells well-formed XML from the rest", "[render]") {
  CHECK(XmlProblem("<svg a=\"1\"><title>a &amp; b</title><rect x=\"0\"/></svg>") == "");
  CHECK(XmlProblem("<svg><title>a & b</title></svg>") != "");
  CHECK(XmlProblem("<svg><title>a <b> c</title></svg>") != "");
  CHECK(XmlProblem("<svg a=\"<\"></svg>") != "");
  CHECK(XmlProblem("<svg><g></svg>") != "");
  CHECK(XmlProblem("<svg></svg><svg></svg>") != "");
}

TEST_CASE("lengths are counted in characters", "[render]") {
  CHECK(Utf8Length("") == 0);
  CHECK(Utf8Length("abc") == 3);
  CHECK(Utf8Length("é") == 1);
  CHECK(Utf8Length("€") == 1);
  CHECK(Utf8Length("😀") == 1);
  CHECK(Utf8Length("aé€😀") == 4);
  CHECK(Utf8Length("Éloïse Œuvré") == 12);
}

TEST_CASE("bidirectional controls are neutralised, and nothing else", "[render]") {
  for (const char* control : kBidiControls) {
    CAPTURE(control);
    CHECK(NeutraliseBidi(control) == kReplacement);
    CHECK(NeutraliseBidi(std::string("a") + control + "b") == "a" + kReplacement + "b");
  }
  CHECK(NeutraliseBidi("\u202Eevil\u202C.exe") == kReplacement + "evil" + kReplacement + ".exe");
  CHECK(NeutraliseBidi("\u202E\u202E") == kReplacement + kReplacement);
  // Their neighbours in the same blocks stay.
  for (const char* kept : {"\u2029", "\u202F", "\u2065", "\u206A", "\u2026", "€", "é"}) {
    CAPTURE(kept);
    CHECK(NeutraliseBidi(kept) == kept);
  }
  CHECK(NeutraliseBidi("") == "");
  CHECK(NeutraliseBidi("\xE2\x80") == "\xE2\x80");  // a truncated sequence is left alone, not read past
}

TEST_CASE("spreadsheet cells never start a formula", "[render]") {
  for (const char* formula : {"=1+1", "+33 1 64", "-2+3", "@SUM(A1:A2)", "\tx", "\rx",
                              "=HYPERLINK(\"http://evil.example\",\"clic\")"}) {
    CAPTURE(formula);
    CHECK(SpreadsheetText(formula) == std::string("'") + formula);
  }
  for (const char* plain : {"", "Nid-de-poule", "a=b", "1+1", "'déjà", " =1"}) {
    CAPTURE(plain);
    CHECK(SpreadsheetText(plain) == plain);
  }
  CHECK(SpreadsheetText("Abri \u202Eevil") == "Abri " + kReplacement + "evil");
  CHECK(SpreadsheetText("\u202E=1+1") == kReplacement + "=1+1");
  // Quoting is CsvField's business, after the neutralisation.
  CHECK(CsvField(SpreadsheetText("=A1;\"B\""), ';') == "\"'=A1;\"\"B\"\"\"");
}

TEST_CASE("html escaping covers text and attribute values", "[render]") {
  CHECK(EscapeHtml("<script>alert('x')</script>") == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
  CHECK(EscapeHtml("<a href=\"x\">O'Neil & fils</a>") ==
        "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; fils&lt;/a&gt;");
  CHECK(EscapeHtml("&amp;") == "&amp;amp;");
  CHECK(EscapeHtml("Rue de l’Église — 2 €") == "Rue de l’Église — 2 €");
  CHECK(EscapeHtml("a\u202Eb") == "a" + kReplacement + "b");
  CHECK(EscapeHtml("") == "");
}

TEST_CASE("markdown escaping keeps user text literal inside a line", "[render]") {
  CHECK(EscapeMarkdown("*gras* _it_ `code` [lien](http://x) | ~barré~ <b> &amp; \\") ==
        "\\*gras\\* \\_it\\_ \\`code\\` \\[lien\\](http://x) \\| \\~barré\\~ \\<b\\> \\&amp; \\\\");
  CHECK(EscapeMarkdown("ligne 1\nligne 2\r\nfin\tx") == "ligne 1 ligne 2  fin x");
  CHECK(EscapeMarkdown("![img](x)") == "!\\[img\\](x)");
  CHECK(EscapeMarkdown("Rue de l'Église, n° 3") == "Rue de l'Église, n° 3");
  CHECK(EscapeMarkdown("a\u2066b") == "a" + kReplacement + "b");
}

TEST_CASE("MapStrings escapes every string value and keeps the keys", "[render]") {
  const json data = {{"<k>", "<v>"},
                     {"n", 3},
                     {"x", 1.5},
                     {"b", true},
                     {"z", nullptr},
                     {"list", {"a&b", 2, {{"deep", "\"q\""}}}},
                     {"empty", json::array()}};
  const json out = MapStrings(data, EscapeHtml);
  CHECK(out == json{{"<k>", "&lt;v&gt;"},
                    {"n", 3},
                    {"x", 1.5},
                    {"b", true},
                    {"z", nullptr},
                    {"list", {"a&amp;b", 2, {{"deep", "&quot;q&quot;"}}}},
                    {"empty", json::array()}});
  CHECK(MapStrings("*", EscapeMarkdown) == "\\*");
  CHECK(MapStrings(json(42), EscapeHtml) == 42);
}

TEST_CASE("column charts are well-formed SVG with their text escaped", "[render]") {
  const std::string svg =
      ColumnChart("Reçues <&> \"par\" mois", {"janv. <b>", "févr. & mars", "avr."},
                  {{"Reçues <i>", {3, 0, 12}, "#1f5f99"}, {"Résolues", {1, 2, 5.5}, "#2e7d32"}});
  CHECK(XmlProblem(svg) == "");
  CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK_THAT(svg, Catch::Contains("role=\"img\""));
  CHECK(Element(svg, "title") == "Reçues &lt;&amp;&gt; &quot;par&quot; mois");
  CHECK_THAT(Element(svg, "desc"), Catch::Contains("janv. &lt;b&gt; 3") && Catch::Contains("5,5"));
  CHECK_THAT(svg, Catch::Contains(">févr. &amp; mars</text>"));
  CHECK_THAT(svg, Catch::Contains(">Reçues &lt;i&gt;</text>"));  // the legend
  CHECK_THAT(svg, !Catch::Contains("<b>") && !Catch::Contains("<i>"));
}

TEST_CASE("line charts are well-formed SVG with their text escaped", "[render]") {
  const std::string svg = LineChart("Reçues & résolues", {"2026-01", "<script>"},
                                    {{"Reçues", {4, 8}, "#1f5f99"}, {"Résolues & co", {1, 3}, "#2e7d32"}});
  CHECK(XmlProblem(svg) == "");
  CHECK(Element(svg, "title") == "Reçues &amp; résolues");
  CHECK_THAT(svg, Catch::Contains("<polyline") && Catch::Contains(">Résolues &amp; co</text>"));
  CHECK_THAT(svg, !Catch::Contains("<script"));
}

TEST_CASE("bar charts are well-formed SVG with their text escaped", "[render]") {
  const std::string svg =
      BarChart("Délai <médian>",
               {"Voirie & trottoirs", "Mobilier urbain (bancs, abribus, barrières, panneaux d'information)"},
               {12.5, 3}, "j", "#2e7d32");
  CHECK(XmlProblem(svg) == "");
  CHECK(Element(svg, "title") == "Délai &lt;médian&gt;");
  CHECK_THAT(svg, Catch::Contains(">Voirie &amp; trottoirs</text>"));
  CHECK_THAT(svg, Catch::Contains(">12,5 j</text>"));
  // Long labels are shortened beside the bar; the description keeps them whole.
  CHECK_THAT(svg, Catch::Contains(">Mobilier urbain (bancs, abribus, barri"));
  CHECK_THAT(svg, Catch::Contains("...</text>"));
  CHECK_THAT(Element(svg, "desc"),
             Catch::Contains("Mobilier urbain (bancs, abribus, barrières, panneaux d&#39;information) 3"));
}

TEST_CASE("charts without data are still well-formed", "[render]") {
  CHECK(XmlProblem(ColumnChart("Vide", {}, {{"Reçues", {}, "#1f5f99"}})) == "");
  CHECK(XmlProblem(LineChart("Vide", {}, {})) == "");
  CHECK(XmlProblem(BarChart("Vide", {}, {}, "", "#1f5f99")) == "");
  CHECK(XmlProblem(ColumnChart("Zéros", {"a", "b"}, {{"Reçues", {0, 0}, "#1f5f99"}})) == "");
  const std::string bidi = BarChart("a\u202Eb", {"c\u2067d"}, {1}, "", "#1f5f99");
  CHECK(XmlProblem(bidi) == "");
  CHECK(bidi.find("\u202E") == std::string::npos);
  CHECK(bidi.find("\u2067") == std::string::npos);
}

TEST_CASE("an atomic file appears under its name only when committed", "[render][atomic_file]") {
  test::TempDir dir;
  const std::string path = dir.File("export.csv");
  {
    AtomicFileStream out(path);
    out << "reference,title\n" << 42 << ",x\n";
    out.flush();
    CHECK_FALSE(std::filesystem::exists(path));
    out.Commit();
    CHECK(std::filesystem::exists(path));
  }
  CHECK(ReadFile(path) == "reference,title\n42,x\n");
  CHECK(FilesIn(dir.File("")) == 1);
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);

  // Replacing a file: the old content stays until the commit.
  {
    AtomicFileStream out(path);
    out << "nouveau";
    out.flush();
    CHECK(ReadFile(path) == "reference,title\n42,x\n");
    out.Commit();
  }
  CHECK(ReadFile(path) == "nouveau");
  CHECK(FilesIn(dir.File("")) == 1);
}

TEST_CASE("temporary files left by an interrupted command are removed after a day", "[render][atomic_file]") {
  test::TempDir dir;
  namespace fs = std::filesystem;
  const auto day_ago = fs::file_time_type::clock::now() - std::chrono::hours(25);
  for (const char* name : {".voisinage-aB3dE9", ".voisinage-aB3dE9-wal", ".voisinage-Zz0000-journal"}) {
    dir.Write(name, "left by kill -9");
    fs::last_write_time(dir.File(name), day_ago);
  }
  dir.Write(".voisinage-fresh1", "another command is writing it");
  dir.Write(".voisinage-notes.txt", "not ours");
  fs::last_write_time(dir.File(".voisinage-notes.txt"), day_ago);
  dir.Write("old.csv", "a user's file");
  fs::last_write_time(dir.File("old.csv"), day_ago);
  WriteFileAtomically(dir.File("export.csv"), "x");
  CHECK_FALSE(fs::exists(dir.File(".voisinage-aB3dE9")));
  CHECK_FALSE(fs::exists(dir.File(".voisinage-aB3dE9-wal")));
  CHECK_FALSE(fs::exists(dir.File(".voisinage-Zz0000-journal")));
  CHECK(fs::exists(dir.File(".voisinage-fresh1")));
  CHECK(fs::exists(dir.File(".voisinage-notes.txt")));
  CHECK(fs::exists(dir.File("old.csv")));
  CHECK(ReadFile(dir.File("export.csv")) == "x");
}

TEST_CASE("an atomic file destroyed without a commit leaves nothing", "[render][atomic_file]") {
  test::TempDir dir;
  const std::string path = dir.File("report.html");
  {
    AtomicFileStream out(path);
    out << std::string(200000, 'x');
  }
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(FilesIn(dir.File("")) == 0);

  dir.Write("kept.txt", "ancien");
  {
    AtomicFileStream out(dir.File("kept.txt"));
    out << "moitié";
  }
  CHECK(ReadFile(dir.File("kept.txt")) == "ancien");
  CHECK(FilesIn(dir.File("")) == 1);
}

TEST_CASE("an atomic file that cannot be written says where", "[render][atomic_file]") {
  test::TempDir dir;
  const std::string missing = dir.File("absent/export.csv");
  CHECK_THROWS_WITH(AtomicFileStream(missing), Catch::Contains("cannot write '" + missing + "'"));

  // A directory in the way of the final name is refused, and nothing is left behind.
  std::filesystem::create_directory(dir.File("occupied"));
  CHECK_THROWS_WITH(
      [&] {
        AtomicFileStream out(dir.File("occupied"));
        out << "x";
        out.Commit();
      }(),
      Catch::Contains("cannot write '" + dir.File("occupied") + "'"));
  CHECK(std::filesystem::is_directory(dir.File("occupied")));
  CHECK(FilesIn(dir.File("")) == 1);
}

TEST_CASE("an atomic file over the file-size limit fails and leaves nothing", "[render][atomic_file]") {
  test::TempDir dir;
  const std::string path = dir.File("big.json");
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  rlimit small = saved;
  small.rlim_cur = 64 * 1024;
  auto* previous = std::signal(SIGXFSZ, SIG_IGN);
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string error;
  try {
    AtomicFileStream out(path);
    for (int i = 0; i < 100; ++i) out << std::string(4096, 'x');
    out.Commit();
  } catch (const Error& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous);
  CHECK_THAT(error, Catch::Contains("cannot write '" + path + "'"));
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(FilesIn(dir.File("")) == 0);
}
