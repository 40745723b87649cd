#pragma once

// What the request handlers of lib/server/ share: the options, one database connection per thread, the rate
// limiters, and the helpers that turn library errors into HTTP responses.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "lib/auth/token.h"
#include "lib/server/server.h"
#include "lib/store/batch_writer.h"
#include "lib/store/db.h"

namespace voisinage {

/// Token buckets by key (a client address, a token id): `rate` requests per second, bursts of 2 s.
class RateLimiter {
 public:
  explicit RateLimiter(double rate) : rate_(rate) {}
  /// 0 when the request may go on, else the seconds to wait (for Retry-After).
  int Take(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  double rate_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

struct ServerContext {
  explicit ServerContext(const ServeOptions& o)
      : options(o), per_client(o.client_rate), per_token(o.token_rate) {}
  ServeOptions options;
  RateLimiter per_client;
  RateLimiter per_token;

  /// This thread's connection to the database (opened on first use, kept for the thread's life): for reading.
  Db& db();
  /// Every write goes through the batch writer (group commit): `Write([&](Db& db) { return AddPost(db, ...);
  /// })`.
  template <typename Work>
  auto Write(Work&& work) {
    return writer->Run(std::forward<Work>(work));
  }
  std::unique_ptr<BatchWriter> writer;  ///< set by Server::Start()
  /// Unique in the process, unlike the address (a context may be made where a destroyed one was): tells
  /// db() whether the thread's connection is this context's.
  const uint64_t id = NextId();

 private:
  static uint64_t NextId() {
    static std::atomic<uint64_t> last{0};
    return ++last;
  }
};

/// A JSON body, 200 unless told otherwise.
void SendJson(httplib::Response& res, const nlohmann::json& body, int status = 200);

/// {"error": {"code": code, "message": message}} with `status`.
void SendError(httplib::Response& res, int status, const std::string& code, const std::string& message);

/// The request's bearer token ("Authorization: Bearer vsn_..."), or empty.
std::string BearerToken(const httplib::Request& req);

/// Authenticates `secret` and applies the per-token rate limit; on failure sets the error response (401, 403
/// or 429) and returns nullopt.
std::optional<Caller> Authorise(ServerContext& context, const std::string& secret, httplib::Response& res);

/// Runs `handler`, turning the library's exceptions into responses: NotFoundError 404, ForbiddenError 403,
/// ConflictError 409, BlockedError 422 ("blocked"), other Error 422 ("invalid"), anything else 500 without
/// details. `send_error` writes the response in the API's or Open311's error shape.
using ErrorSender =
    std::function<void(httplib::Response&, int status, const std::string& code, const std::string& message)>;
void Guarded(httplib::Response& res, ErrorSender send_error, const std::function<void()>& handler);

/// Sets `http` up as `voisinage serve` answers: body limit and timeouts, security headers and the limits
/// checked before routing (header size, chunked bodies, per-client rate), the error and exception handlers,
/// and the routes of the API, Open311 and the pages. Everything but threads, sockets and the access log,
/// which Server::Start adds: a caller may feed requests to `http` without a socket (tests/fuzz/). `context`
/// must outlive `http` and have its writer set before the first request.
void ConfigureServer(httplib::Server& http, ServerContext& context);

void RegisterApi(httplib::Server& server, ServerContext& context);
void RegisterOpen311(httplib::Server& server, ServerContext& context);

}  // namespace voisinage
