// Pieces of lib/server/ that need no socket: the rate limiter, and requests fed to ConfigureServer's
// handlers through an in-memory stream.

#include <catch2/catch.hpp>

#include "lib/auth/token.h"
#include "lib/server/context.h"
#include "lib/town/member.h"
#include "test_support.h"

namespace voisinage {
namespace {

TEST_CASE("the rate limiter allows bursts of two seconds, then asks to wait", "[server]") {
  RateLimiter limiter(5);
  for (int i = 0; i < 10; ++i) CHECK(limiter.Take("10.0.0.1") == 0);
  const int wait = limiter.Take("10.0.0.1");
  CHECK(wait >= 1);
  CHECK(wait <= 1);
  // Another client has its own bucket.
  CHECK(limiter.Take("10.0.0.2") == 0);
}

TEST_CASE("a rate of zero means no limit", "[server]") {
  RateLimiter unlimited(0);
  for (int i = 0; i < 10000; ++i) REQUIRE(unlimited.Take("client") == 0);
}

TEST_CASE("a slow rate gives a longer Retry-After", "[server]") {
  RateLimiter slow(0.1);  // one request every ten seconds; a burst is at least one request
  CHECK(slow.Take("x") == 0);
  CHECK(slow.Take("x") >= 9);
}

// The server as `voisinage serve` configures it, on a file made from examples/thomery.yaml, answering
// requests given as text.
class InProcessServer : public httplib::Server {
 public:
  explicit InProcessServer(const test::TempDir& dir) : context_(Options(dir)) {
    Db db = Db::Open(context_.options.db_path, OpenMode::kCreate);
    ApplyTownFile(db, LoadTownFile(test::SourcePath("examples/thomery.yaml")), false);
    AddMember(db, {"Lucie B.", "lucie@example.fr", "resident", "centre-bourg", false});
    token_ = CreateToken(db, "lucie@example.fr", "test", std::nullopt).secret;
    context_.writer =
        std::make_unique<BatchWriter>(context_.options.db_path, context_.options.busy_timeout_ms);
    ConfigureServer(*this, context_);
  }
  const std::string& token() const { return token_; }

  /// The response to `request` (request line, headers and body), as sent.
  std::string Serve(const std::string& request) {
    httplib::detail::BufferStream stream;  // reads what was written first, then appends the response
    stream.write(request.data(), request.size());
    bool closed = false;
    process_request(stream, /*close_connection=*/true, closed, nullptr);
    return stream.get_buffer().substr(request.size());
  }

 private:
  static ServeOptions Options(const test::TempDir& dir) {
    ServeOptions options;
    options.db_path = dir.File("town.db");
    options.client_rate = 0;
    options.token_rate = 0;
    return options;
  }
  ServerContext context_;
  std::string token_;
};

std::string FormPost(const std::string& path, const std::string& body) {
  return "POST " + path +
         " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Found by tests/fuzz/open311_form: the error message quoted the service code, and dumping it as JSON threw
// on the byte that is not UTF-8, which the server turned into a 500.
TEST_CASE("an Open311 error quoting bytes that are not UTF-8 is still sent in Open311's shape", "[server]") {
  test::TempDir dir;
  InProcessServer server(dir);
  const std::string response = server.Serve(
      FormPost("/open311/v2/requests.json",
               "api_key=" + server.token() + "&service_code=voirie%A6&description=Trou&lat=48.41&long=2.79"));
  CHECK(response.starts_with("HTTP/1.1 404 "));
  CHECK_THAT(response,
             Catch::Contains("[{\"code\":\"404\",\"description\":\"no service 'voirie\xEF\xBF\xBD'\"}]"));
}

// The XML form of the same error: U+FFFD for the byte that is not UTF-8 and for the control character XML 1.0
// forbids even as a character reference, so that any XML parser reads the reply.
TEST_CASE("an Open311 XML error quoting bytes that are not UTF-8 or control characters is well-formed",
          "[server]") {
  test::TempDir dir;
  InProcessServer server(dir);
  const std::string response = server.Serve(FormPost(
      "/open311/v2/requests.xml",
      "api_key=" + server.token() + "&service_code=voirie%A6%01%3C&description=Trou&lat=48.41&long=2.79"));
  CHECK(response.starts_with("HTTP/1.1 404 "));
  CHECK_THAT(response,
             Catch::Contains("<errors><error><code>404</code><description>no service "
                             "&#39;voirie\xEF\xBF\xBD\xEF\xBF\xBD&lt;&#39;</description></error></errors>"));
}

}  // namespace
}  // namespace voisinage
