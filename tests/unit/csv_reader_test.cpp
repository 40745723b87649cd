#include <catch2/catch.hpp>

#include <zlib.h>

#include "lib/error.h"
#include "lib/registry/csv_reader.h"
#include "test_support.h"

using namespace voisinage;

namespace {

struct Read {
  std::unique_ptr<CsvReader> reader;
  std::vector<CsvRecord> records;
};

Read ReadAll(const std::string& content, CsvOptions options = {}) {
  static test::TempDir dir;
  static int n = 0;
  std::string name = "f" + std::to_string(++n) + ".csv";
  dir.Write(name, content);
  Read read;
  read.reader = CsvReader::Open(dir.File(name), options);
  CsvRecord record;
  while (read.reader->Next(record)) {
    CsvRecord copy = record;
    read.records.push_back(copy);
  }
  return read;
}

}  // namespace

TEST_CASE("RFC 4180 quoting, CRLF and blank lines") {
  Read r = ReadAll("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n2,\"two\nlines\",z\r\n3,,\n");
  CHECK(r.reader->header() == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(r.records.size() == 3);
  CHECK(r.records[0].fields == std::vector<std::string>{"1", "x, y", "say \"hi\""});
  CHECK(r.records[1].fields == std::vector<std::string>{"2", "two\nlines", "z"});
  CHECK(r.records[1].line == 4);
  CHECK(r.records[2].fields == std::vector<std::string>{"3", "", ""});
  CHECK(r.records[2].line == 6);
}

TEST_CASE("delimiter and encoding are detected and reported") {
  SECTION("semicolons, Windows-1252") {
    Read r = ReadAll("nom;ville\n\xC9picerie C\x9Cur;Thomery\n");
    CHECK(r.reader->delimiter() == ';');
    CHECK(r.reader->encoding() == Encoding::kWindows1252);
    CHECK(r.records[0].fields[0] == "Épicerie Cœur");
  }
  SECTION("tabs, UTF-8 with BOM") {
    Read r = ReadAll("\xEF\xBB\xBFnom\tville\nÉpicerie\tThomery\n");
    CHECK(r.reader->delimiter() == '\t');
    CHECK(r.reader->encoding() == Encoding::kUtf8Bom);
    CHECK(r.reader->header()[0] == "nom");
  }
  SECTION("dollars, overridden") {
    CsvOptions options;
    options.delimiter = '$';
    options.encoding = Encoding::kUtf8;
    Read r = ReadAll("a$b\n1$2\n", options);
    CHECK(r.records[0].fields == std::vector<std::string>{"1", "2"});
    CHECK_FALSE(r.reader->delimiter_detected());
  }
}

TEST_CASE("malformed records are returned with an error, the rest is read") {
  CsvOptions utf8;
  utf8.encoding = Encoding::kUtf8;
  Read bad_utf8 = ReadAll("a,b\n1,\xE9t\xE9\n2,ok\n", utf8);
  REQUIRE(bad_utf8.records.size() == 2);
  CHECK(bad_utf8.records[0].error == "invalid UTF-8 in column 'b'");
  CHECK(bad_utf8.records[1].error.empty());

  Read unterminated = ReadAll("a,b\n1,ok\n2,\"never closed\n3,x\n");
  REQUIRE(unterminated.records.size() == 2);
  CHECK_THAT(unterminated.records[1].error,
             Catch::Contains("unterminated quote") && Catch::Contains("line 3"));

  CsvOptions small;
  small.max_record_bytes = 64;
  Read overlong = ReadAll("a,b\n1," + std::string(5000, 'x') + "\n2,y\n", small);
  REQUIRE(overlong.records.size() == 2);
  CHECK_THAT(overlong.records[0].error, Catch::Contains("longer than 64 bytes"));
  CHECK(overlong.records[1].fields == std::vector<std::string>{"2", "y"});
  CHECK(overlong.records[1].line == 3);
}

TEST_CASE("empty, binary and UTF-16 files are refused") {
  CHECK_THROWS_WITH(ReadAll(""), Catch::Contains("is empty"));
  CHECK_THROWS_WITH(ReadAll(std::string("PK\x03\x04\0\0binary", 12)), Catch::Contains("binary file"));
  CHECK_THROWS_WITH(ReadAll(std::string("\xFF\xFE"
                                        "a\0,\0b\0",
                                        8)),
                    Catch::Contains("UTF-16"));
}

TEST_CASE("the pre-filter skips rows cheaply, quoted or not") {
  test::TempDir dir;
  dir.Write("f.csv", "id,commune\n1,77463\n2,01053\n\"3\",\"77463\"\n\"4\",\"22050\"\n");
  auto reader = CsvReader::Open(dir.File("f.csv"), {});
  reader->SetFilter(1, {"77463"});
  CsvRecord record;
  std::vector<std::string> ids;
  while (reader->Next(record)) ids.push_back(record.fields[0]);
  CHECK(ids == std::vector<std::string>{"1", "3"});
  CHECK(reader->filtered() == 2);
}

TEST_CASE("gzip files are read transparently and hashed as stored") {
  test::TempDir dir;
  const std::string content = "a,b\n1,2\n";
  gzFile gz = gzopen(dir.File("f.csv.gz").c_str(), "wb");
  gzwrite(gz, content.data(), content.size());
  gzclose(gz);
  auto reader = CsvReader::Open(dir.File("f.csv.gz"), {});
  CHECK(reader->compressed());
  CsvRecord record;
  REQUIRE(reader->Next(record));
  CHECK(record.fields == std::vector<std::string>{"1", "2"});
  CHECK_FALSE(reader->Next(record));
  CHECK(reader->Sha256().size() == 64);

  dir.Write("plain.csv", content);
  auto plain = CsvReader::Open(dir.File("plain.csv"), {});
  while (plain->Next(record)) {
  }
  // sha256("a,b\n1,2\n")
  CHECK(plain->Sha256() == "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470");
}
