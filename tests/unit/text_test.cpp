#include <catch2/catch.hpp>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/render/template.h"
#include "lib/text/csv_writer.h"
#include "lib/text/strings.h"
#include "lib/text/suggest.h"

using namespace voisinage;

TEST_CASE("did you mean suggests close words only") {
  CHECK(ClosestMatch("neighborhoods", {"town", "neighbourhoods", "staff"}) == "neighbourhoods");
  CHECK(ClosestMatch("xyz", {"town", "neighbourhoods", "staff"}).empty());
  CHECK(DidYouMean("moderateur", {"resident", "moderator"}) == " (did you mean 'moderator'?)");
}

TEST_CASE("dates and durations") {
  CHECK(FormatIso(ParseIso("2026-02-28T23:59:59Z")) == "2026-02-28T23:59:59Z");
  CHECK(FormatIso(ParseIso("2026-03-01")) == "2026-03-01T00:00:00Z");
  CHECK_THROWS_WITH(ParseIso("2026-02-30"), Catch::Contains("invalid date"));
  CHECK(ParseDuration("30d") == std::chrono::hours(24 * 30));
  CHECK(ParseDuration("2w") == std::chrono::hours(24 * 14));
  CHECK(ParseDuration("90m") == std::chrono::minutes(90));
  CHECK_THROWS_WITH(ParseDuration("30"), Catch::Contains("invalid duration '30'"));
  CHECK_THROWS_WITH(ParseDuration("-3d"), Catch::Contains("invalid duration"));
  CHECK(FrenchDate(ParseIso("2026-08-01")) == "1er août 2026");
}

TEST_CASE("CSV fields are quoted only when needed") {
  CHECK(CsvField("plain") == "plain");
  CHECK(CsvField("a,b") == "\"a,b\"");
  CHECK(CsvField("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(CsvField("a;b", ';') == "\"a;b\"");
  CHECK(CsvLine({"x", "line\nbreak"}) == "x,\"line\nbreak\"");
}

TEST_CASE("templates escape, and refuse unknown fields and bad syntax with a line") {
  nlohmann::json data = {
      {"name", "<b>&"}, {"items", {{{"label", "un"}}, {{"label", "deux"}}}}, {"none", nullptr}};
  CHECK(RenderMustache("t", "{{name}}|{{#items}}{{label}},{{/items}}", data) == "&lt;b&gt;&amp;|un,deux,");
  CHECK(RenderMustache("t", "{{#none}}x{{/none}}{{^none}}rien{{/none}}", data) == "rien");
  CHECK_THROWS_WITH(RenderMustache("t", "a\n{{nom}}", data), Catch::Contains("line 2: unknown field 'nom'"));
  CHECK_THROWS_WITH(RenderMustache("t", "a\nb\n{{#items}}x", data), Catch::Contains("template 't': line 3"));
  CHECK_THROWS_WITH(RenderMustache("t", "{{#items}}{{nope}}{{/items}}", data),
                    Catch::Contains("unknown field 'nope'"));
}

TEST_CASE("splitting lists and shortening text") {
  CHECK(Split("a,b", ',') == std::vector<std::string>{"a", "b"});
  CHECK(Split("a,", ',') == std::vector<std::string>{"a", ""});
  CHECK(Split("", ',').empty());
  CHECK(Shorten("court", 10) == "court");
  CHECK(Shorten("abcdefghij", 8) == "abcde...");
  CHECK(Shorten("aaaaé", 8) == "aaaaé");
  CHECK(Shorten("aaaaaébbbb", 9) == "aaaaa...");  // never cuts "é" in half
}
