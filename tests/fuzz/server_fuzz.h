#pragma once

// api_request and open311_form: requests fed to the real server configuration (ConfigureServer: the same
// limits, handlers and routes as `voisinage serve`) without a socket, through cpp-httplib's process_request
// on an in-memory stream, against a database made from examples/thomery.yaml with a resident and a
// moderator who hold API tokens, one post and one grievance. Hostile input must get a 4xx: any 5xx aborts.

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "lib/auth/token.h"
#include "lib/server/context.h"
#include "lib/town/member.h"
#include "lib/town/town_apply.h"
#include "tests/fuzz/fuzz_support.h"

namespace voisinage::fuzz {

/// One connection's bytes: the request read from a string, the response written to another.
class StringStream : public httplib::Stream {
 public:
  explicit StringStream(std::string_view request) : request_(request) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, request_.size() - read_);
    std::memcpy(ptr, request_.data() + read_, n);
    read_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    response_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "192.0.2.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return INVALID_SOCKET; }
  const std::string& response() const { return response_; }

 private:
  std::string_view request_;
  size_t read_ = 0;
  std::string response_;
};

class FuzzServer {
 public:
  FuzzServer() : context_(Options()) {
    {
      Db db = Db::Open(context_.options.db_path, OpenMode::kCreate);
      ApplyTownFile(db, LoadTownFile(SourcePath("examples/thomery.yaml")), false);
      AddMember(db, {"Camille Fuzz", "camille.fuzz@example.fr", "resident", "centre-bourg", false});
      resident_token_ = CreateToken(db, "camille.fuzz@example.fr", "fuzz", std::nullopt).secret;
      moderator_token_ =
          CreateToken(db, "sandrine.petit@mairie-thomery.example.fr", "fuzz", std::nullopt).secret;
    }
    // No pause for group commit: one request at a time.
    context_.writer = std::make_unique<BatchWriter>(
        context_.options.db_path, context_.options.busy_timeout_ms, std::chrono::microseconds(0));
    ConfigureServer(http_, context_);
    const std::string post = R"({"body": "Vide-grenier dimanche", "title": "Vide-grenier"})";
    FUZZ_CHECK(Status(Send(Request("POST", "/api/v1/posts", resident_token_, "application/json", post))) ==
               201);
    const std::string grievance =
        R"({"category": "voirie", "title": "Nid-de-poule", "description": "Rue de la République, devant le 12"})";
    FUZZ_CHECK(Status(Send(Request("POST", "/api/v1/grievances", resident_token_, "application/json",
                                   grievance))) == 201);
  }

  ~FuzzServer() {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(context_.options.db_path + suffix, ignored);
  }

  const std::string& resident_token() const { return resident_token_; }
  const std::string& moderator_token() const { return moderator_token_; }

  /// A request with a Content-Length body (none when `body` is empty and `type` too).
  static std::string Request(const std::string& method, const std::string& target, const std::string& token,
                             const std::string& type, std::string_view body) {
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n";
    if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
    if (!type.empty()) request += "Content-Type: " + type + "\r\n";
    if (!type.empty() || !body.empty()) request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n";
    request.append(body);
    return request;
  }

  /// Serves `request`; returns the response as written. Aborts on a 5xx.
  std::string Send(std::string_view request) {
    StringStream stream(request);
    bool closed = false;
    http_.process_request(stream, /*close_connection=*/true, closed, nullptr);
    const int status = Status(stream.response());
    if (status >= 500) {
      std::fprintf(stderr, "fuzz: %d for the request:\n%.*s\n--- response:\n%s\n", status,
                   static_cast<int>(std::min<size_t>(request.size(), 2000)), request.data(),
                   stream.response().c_str());
      std::abort();
    }
    return stream.response();
  }

  /// The status of a response ("HTTP/1.1 201 Created"), 0 when there is none.
  static int Status(const std::string& response) {
    if (response.size() < 12 || !response.starts_with("HTTP/1.1 ")) return 0;
    return std::atoi(response.substr(9, 3).c_str());
  }

  /// `text` as a query string: the bytes that cannot stand in a request line percent-encoded, the others kept
  /// (& = % + and the rest), so that the fuzzer shapes the parameters.
  static std::string QueryString(std::string_view text) {
    std::string out;
    for (unsigned char ch : text) {
      if (ch > ' ' && ch < 0x7F && ch != '#') {
        out += static_cast<char>(ch);
      } else {
        static const char kHex[] = "0123456789ABCDEF";
        out += '%';
        out += kHex[ch >> 4];
        out += kHex[ch & 15];
      }
    }
    return out;
  }

 private:
  struct Http : httplib::Server {
    using httplib::Server::process_request;
  };

  static ServeOptions Options() {
    static int created = 0;
    ServeOptions o;
    o.db_path = (ScratchDirectory() / ("town-" + std::to_string(++created) + ".db")).string();
    o.client_rate = 0;
    o.token_rate = 0;
    return o;
  }

  ServerContext context_;
  Http http_;
  std::string resident_token_, moderator_token_;
};

/// The server of a fuzz target, made anew every `kRuns` inputs: the database stays small (listings as fast
/// as at the start) and an input's outcome depends on a few hundred before it at most.
inline FuzzServer& CurrentServer() {
  static constexpr int kRuns = 1000;
  static FuzzServer* server = nullptr;
  static int runs = 0;
  if (server == nullptr || ++runs % kRuns == 0) {
    // The new one first: at another address, so that no thread's connection to the old file is reused
    // (ServerContext::db() keys them by context).
    FuzzServer* next = new FuzzServer();
    delete server;
    server = next;
  }
  return *server;
}

}  // namespace voisinage::fuzz
