#include "lib/server/server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <thread>
#include <vector>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/moderation/post.h"
#include "lib/server/context.h"
#include "lib/text/strings.h"
#include "lib/web/pages.h"

namespace voisinage {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// --- Rate limits -----------------------------------------------------------------------------------------

int RateLimiter::Take(const std::string& key) {
  if (rate_ <= 0) return 0;
  const auto now = Clock::now();
  const double capacity = std::max(1.0, 2 * rate_);  // at least one request, whatever the rate
  std::lock_guard lock(mutex_);
  if (buckets_.size() > 100000) buckets_.clear();  // a flood of addresses must not grow memory without bound
  auto [it, added] = buckets_.try_emplace(key, Bucket{capacity, now});
  Bucket& b = it->second;
  b.tokens = std::min(capacity, b.tokens + rate_ * std::chrono::duration<double>(now - b.at).count());
  b.at = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / rate_)));
}

// --- Responses ---------------------------------------------------------------------------------------------

void SendJson(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void SendError(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  SendJson(res, {{"error", {{"code", code}, {"message", message}}}}, status);
}

std::string BearerToken(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  // The scheme is case-insensitive (RFC 9110): "Bearer", "bearer", "BEARER".
  if (header.size() < 7 || header[6] != ' ') return "";
  std::string scheme = header.substr(0, 6);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  return scheme == "bearer" ? header.substr(7) : "";
}

std::optional<Caller> Authorise(ServerContext& context, const std::string& secret, httplib::Response& res) {
  try {
    Caller caller = Authenticate(context.db(), secret);
    if (int wait = context.per_token.Take(std::to_string(caller.token_id)); wait > 0) {
      res.set_header("Retry-After", std::to_string(wait));
      SendError(res, 429, "rate_limited", "too many requests with this token: slow down");
      return std::nullopt;
    }
    return caller;
  } catch (const AuthError& e) {
    if (!e.forbidden()) res.set_header("WWW-Authenticate", "Bearer");
    SendError(res, e.forbidden() ? 403 : 401, e.code(), e.what());
    return std::nullopt;
  }
}

void Guarded(httplib::Response& res, ErrorSender send_error, const std::function<void()>& handler) {
  try {
    handler();
  } catch (const NotFoundError& e) {
    send_error(res, 404, "not_found", e.what());
  } catch (const ForbiddenError& e) {
    send_error(res, 403, "forbidden", e.what());
  } catch (const AuthError& e) {
    send_error(res, e.forbidden() ? 403 : 401, e.code(), e.what());
  } catch (const ConflictError& e) {
    send_error(res, 409, "conflict", e.what());
  } catch (const BlockedError& e) {
    send_error(res, 422, "blocked", e.what());
  } catch (const Error& e) {
    send_error(res, 422, "invalid", e.what());
  } catch (const SQLite::Exception& e) {
    // A busy database after the timeout, a full disk: the client may retry; never the SQL or a path.
    std::fprintf(stderr, "voisinage: serve: database error: %s\n", e.getErrorStr());
    send_error(res, 503, "unavailable", "the service is busy: try again in a moment");
    res.set_header("Retry-After", "1");
  }
}

// --- One database connection per thread --------------------------------------------------------------------

Db& ServerContext::db() {
  thread_local std::unique_ptr<Db> connection;
  thread_local uint64_t owner = 0;  // the id of the context it was opened for
  if (!connection || owner != id) {
    connection =
        std::make_unique<Db>(Db::Open(options.db_path, OpenMode::kExisting, options.busy_timeout_ms));
    owner = id;
  }
  return *connection;
}

// --- Threads -----------------------------------------------------------------------------------------------

namespace {

// cpp-httplib gives each connection to one thread for its whole life, keep-alive included. A fixed pool of a
// few threads lets a handful of idle or slow clients hold every thread; this queue starts threads on demand,
// up to `max`, so that idle connections cost a sleeping thread each and never block the others.
class ConnectionThreads : public httplib::TaskQueue {
 public:
  explicit ConnectionThreads(size_t max) : max_(max) {}
  ~ConnectionThreads() override { shutdown(); }

  void enqueue(std::function<void()> task) override {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    // An idle thread that has been notified counts as idle until it wakes: compare with the tasks waiting,
    // else two connections arriving together can leave one queued behind an idle keep-alive connection.
    if (tasks_.size() > idle_ && threads_.size() < max_) threads_.emplace_back([this] { Work(); });
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    ready_.notify_all();
    for (std::thread& t : threads_) t.join();  // queued connections are served before the threads end
  }

 private:
  void Work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      --idle_;
      if (tasks_.empty()) return;  // stopping
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  const size_t max_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

// Access log lines: time, client, method, path (never the query string, which may carry an api_key), status,
// milliseconds. No header, no body: no token or personal data reaches the log.
class AccessLog {
 public:
  explicit AccessLog(const std::string& target) {
    if (target.empty()) return;
    if (target == "-") {
      file_ = stdout;
    } else {
      // Client addresses are personal data: a new log is readable by its owner only, whatever the umask.
      const int fd = ::open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      if (fd >= 0) file_ = ::fdopen(fd, "a");
      if (fd >= 0 && file_ == nullptr) ::close(fd);
    }
    if (file_ == nullptr)
      throw Error(fmt::format("cannot open the access log '{}'", target), "check the path");
    owned_ = target != "-";
  }
  ~AccessLog() {
    if (owned_) std::fclose(file_);
  }
  bool enabled() const { return file_ != nullptr; }
  void Write(const httplib::Request& req, const httplib::Response& res, double ms) {
    const std::string line =
        fmt::format("{} {} {} {} {} {}\n", NowIso(), req.remote_addr.empty() ? "-" : req.remote_addr,
                    req.method.empty() ? "-" : req.method,
                    req.path.empty() ? "-" : Printable(std::string_view(req.path).substr(0, 200)), res.status,
                    ms < 0 ? "-" : fmt::format("{:.1f}ms", ms));
    std::lock_guard lock(mutex_);
    std::fputs(line.c_str(), file_);
    std::fflush(file_);
  }

 private:
  std::FILE* file_ = nullptr;
  bool owned_ = false;
  std::mutex mutex_;
};

thread_local Clock::time_point request_started;
thread_local bool request_timed = false;  // false for requests the library refused before reading them whole

// The request line and headers together; cpp-httplib only bounds each line.
constexpr size_t kMaxHeaderBytes = 32 * 1024;

void SetSecurityHeaders(httplib::Response& res) {
  if (res.has_header("X-Content-Type-Options"))
    return;  // set once: the error handler may come after pre-routing
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
}

}  // namespace

struct Server::State {
  explicit State(ServeOptions o) : context(o), log(o.access_log) {}
  ServerContext context;
  AccessLog log;
  httplib::Server http;
  std::thread listener;
  int port = 0;
  int listening = -1;  ///< the listening socket, to raise its backlog
  std::mutex mutex;
  std::condition_variable stopped;
  bool done = false;
};

Server::Server(ServeOptions options) : state_(std::make_unique<State>(std::move(options))) {}

Server::~Server() {
  Stop();
  if (state_->listener.joinable()) state_->listener.join();
}

void ConfigureServer(httplib::Server& http, ServerContext& context) {
  const ServeOptions& o = context.options;
  http.set_payload_max_length(o.body_limit);
  http.set_read_timeout(o.timeout_seconds, 0);
  http.set_write_timeout(o.timeout_seconds, 0);
  http.set_keep_alive_timeout(o.timeout_seconds);
  http.set_keep_alive_max_count(10000);
  // Runs once the headers are read, before the body is: limits that need no body are enforced here.
  http.set_pre_routing_handler([&context](const httplib::Request& req, httplib::Response& res) {
    request_started = Clock::now();
    request_timed = true;
    SetSecurityHeaders(res);
    size_t header_bytes = 0;
    for (const auto& [name, value] : req.headers) header_bytes += name.size() + value.size() + 4;
    if (header_bytes > kMaxHeaderBytes) {
      res.set_header("Connection", "close");
      SendError(res, 431, "headers_too_large", "the request headers are too large");
      return httplib::Server::HandlerResponse::Handled;
    }
    // A body must announce its length: a chunked one could grow past the limit before it is checked.
    if (req.has_header("Transfer-Encoding")) {
      res.set_header("Connection", "close");
      SendError(res, 411, "length_required", "send the body with a Content-Length, not in chunks");
      return httplib::Server::HandlerResponse::Handled;
    }
    // A body announced larger than the limit is refused at once, without waiting for it.
    if (req.has_header("Content-Length")) {
      const std::string length = req.get_header_value("Content-Length");
      if (length.size() > 18 || std::strtoull(length.c_str(), nullptr, 10) > context.options.body_limit) {
        res.set_header("Connection", "close");
        SendError(res, 413, "too_large", "the request body is too large");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (int wait = context.per_client.Take(req.remote_addr); wait > 0) {
      res.set_header("Retry-After", std::to_string(wait));
      SendError(res, 429, "rate_limited", "too many requests from this address: slow down");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Every error the library produces itself (unknown path 404, body too large 413, bad request 400) gets
  // the API's JSON shape; responses that already have a body keep it.
  http.set_error_handler(httplib::Server::HandlerWithResponse([&context](const httplib::Request& req,
                                                                         httplib::Response& res) {
    SetSecurityHeaders(res);
    // The pages answer in French HTML, also for what was refused before a page handler ran.
    if (IsPagePath(req.path) &&
        (res.body.empty() || res.get_header_value("Content-Type").starts_with("application/json"))) {
      SendPageError(context, res);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (req.path.starts_with("/open311/")) {
      // Open311's own error shape for what the library refused itself.
      const std::string message = res.status == 404   ? "no such resource"
                                  : res.status == 413 ? "the request body is too large"
                                                      : "the request could not be understood";
      res.set_content(
          nlohmann::json::array({{{"code", std::to_string(res.status)}, {"description", message}}}).dump(),
          "application/json; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    }
    const int status = res.status;
    SendError(res, status,
              status == 404   ? "not_found"
              : status == 413 ? "too_large"
              : status == 405 ? "method_not_allowed"
                              : "bad_request",
              status == 404   ? "no such resource"
              : status == 413 ? "the request body is too large"
                              : "the request could not be understood");
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                                std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "voisinage: serve: internal error on %s: %s\n", req.method.c_str(), e.what());
    } catch (...) {
      std::fprintf(stderr, "voisinage: serve: internal error on %s\n", req.method.c_str());
    }
    SendError(res, 500, "internal_error", "something went wrong on the server; the request was not applied");
  });
  RegisterApi(http, context);
  RegisterOpen311(http, context);
  RegisterPages(http, context);  // last: its catch-all answers unknown page paths in French
}

void Server::Start() {
  State& s = *state_;
  const ServeOptions& o = s.context.options;
  // Opened now: a missing or foreign file is reported before the port is taken.
  s.context.writer = std::make_unique<BatchWriter>(o.db_path, o.busy_timeout_ms);
  httplib::Server& http = s.http;
  const size_t threads = static_cast<size_t>(std::max(1, o.threads));
  http.new_task_queue = [threads] { return new ConnectionThreads(threads); };
  http.set_tcp_nodelay(true);
  ConfigureServer(http, s.context);
  if (s.log.enabled())
    http.set_logger([&s](const httplib::Request& req, const httplib::Response& res) {
      const double ms =
          request_timed ? std::chrono::duration<double, std::milli>(Clock::now() - request_started).count()
                        : -1;
      request_timed = false;
      s.log.Write(req, res, ms);
    });

  // cpp-httplib as Debian builds it listens with a backlog of 5: bursts of new connections overflow it and
  // wait a second for the SYN to be sent again. Keep the listening socket to listen again with a real
  // backlog. (These options replace the library's defaults, which also set SO_REUSEPORT: two servers on one
  // port.)
  //
  // A connection is accepted only once its client has sent something (TCP_DEFER_ACCEPT): the library gives
  // each accepted connection a thread that polls it about ninety times a second, so a thousand silent clients
  // would keep both cores busy. The kernel holds silent ones in the listen queue, then hands them over (to
  // time out as usual) after about --timeout seconds.
  http.set_socket_options([&s, defer = o.timeout_seconds](int fd) {
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
    s.listening = fd;
  });
  s.port = o.port == 0 ? http.bind_to_any_port(o.host) : (http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (s.port > 0 && s.listening >= 0) ::listen(s.listening, 4096);
  if (s.port <= 0)
    throw Error(fmt::format("cannot listen on {}:{}", o.host, o.port),
                "is another server using the port? choose another with --listen HOST:PORT");
  s.listener = std::thread([&s] {
    s.http.listen_after_bind();
    std::lock_guard lock(s.mutex);
    s.done = true;
    s.stopped.notify_all();
  });
}

int Server::port() const {
  return state_->port;
}

std::string Server::url() const {
  const std::string& host = state_->context.options.host;
  return fmt::format("http://{}:{}", host.find(':') != std::string::npos ? "[" + host + "]" : host,
                     state_->port);
}

void Server::Wait() {
  std::unique_lock lock(state_->mutex);
  state_->stopped.wait(lock, [this] { return state_->done; });
  lock.unlock();
  if (state_->listener.joinable()) state_->listener.join();
}

void Server::Stop() {
  state_->http.stop();
}

}  // namespace voisinage
