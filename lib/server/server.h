#pragma once

// voisinage serve: the JSON API (/api/v1) and Open311 GeoReport v2 (/open311/v2) over the town's database,
// while the CLI keeps working on the same file.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace voisinage {

struct ServeOptions {
  std::string db_path;
  int busy_timeout_ms = 10000;
  std::string host = "127.0.0.1";  ///< loopback unless told otherwise
  int port = 8080;                 ///< 0: any free port (tests)
  int threads = 1024;              ///< connections served at once (a thread each); more wait for a free one
  size_t body_limit = 64 * 1024;   ///< bytes; larger requests get 413
  int timeout_seconds = 5;         ///< per read or write on a connection, and keep-alive idle time
  double client_rate = 20;         ///< requests per second per client address (bursts of 2 s); 0: no limit
  double token_rate = 10;          ///< requests per second per token (bursts of 2 s); 0: no limit
  std::string access_log;          ///< "" none, "-" standard output, else a file appended to
  bool trust_proxy = false;        ///< behind a TLS proxy: "X-Forwarded-Proto: https" makes cookies Secure
};

/// A running server. Start() binds and serves on background threads; Stop() (or a signal handled by the
/// caller) stops accepting, lets in-flight requests finish and returns once every thread has ended.
class Server {
 public:
  explicit Server(ServeOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts serving. Throws Error when the address cannot be bound or the database opened.
  void Start();
  /// The port bound (the chosen one when options.port was 0).
  int port() const;
  /// "http://127.0.0.1:8080".
  std::string url() const;
  /// Blocks until Stop() is called and serving has ended.
  void Wait();
  /// Asks the server to stop; safe from any thread (not from a signal handler).
  void Stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace voisinage
