// voisinage serve: the JSON API and Open311 over the database, until SIGINT or SIGTERM.

#include <pthread.h>

#include <csignal>
#include <iostream>

#include "cmd/cli.h"
#include "lib/server/server.h"
#include "lib/town/town.h"

namespace voisinage {

namespace serve_command {

struct ServeCommand {
  ServeOptions server;
  std::string listen = "127.0.0.1:8080";
  size_t body_limit_kib = 64;
};

// "127.0.0.1:8080", "0.0.0.0:80", "[::1]:8080", ":8080" (loopback).
void ParseListen(const std::string& text, ServeOptions& options) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos)
    throw Error(fmt::format("invalid --listen '{}'", text), "use HOST:PORT, e.g. 127.0.0.1:8080");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  options.host = host.empty() ? "127.0.0.1" : host;
  try {
    size_t used = 0;
    options.port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || options.port < 0 || options.port > 65535)
      throw std::out_of_range("");
  } catch (const std::exception&) {
    throw Error(fmt::format("invalid port in --listen '{}'", text),
                "a port is 1 to 65535, or 0 for any free one");
  }
}

int RunServe(const ServeCommand& command, Invocation& invocation) {
  ServeOptions options = command.server;
  ParseListen(command.listen, options);
  options.body_limit = command.body_limit_kib * 1024;
  {
    Db db = OpenDb(invocation);  // reports a missing or foreign file as every command does
    options.db_path = db.path();
    options.busy_timeout_ms = db.busy_timeout_ms();
    GetTown(db);  // a database without a town has nothing to serve
  }
  // SIGINT, SIGTERM and SIGHUP are blocked in every thread and waited for here: the stop is orderly, never
  // from a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);  // a closed terminal stops the server as gracefully as Ctrl-C
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Server server(options);
  server.Start();
  std::cout << "serving on " << server.url() << " (Ctrl-C to stop)" << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  if (!invocation.global.quiet) std::cerr << "voisinage: stopping: finishing the requests in progress\n";
  server.Stop();
  server.Wait();
  return 0;
}

}  // namespace serve_command

void SetupServe(CLI::App& app, Invocation& invocation) {
  using namespace serve_command;
  auto command = std::make_shared<ServeCommand>();
  CLI::App* s = app.add_subcommand("serve", "Serve web pages, the JSON API and Open311 over the database");
  s->add_option("--listen", command->listen,
                "Address and port (default 127.0.0.1:8080; port 0: any free one)")
      ->option_text("HOST:PORT");
  s->add_option("--threads", command->server.threads,
                "Connections served at once, a thread each (default 1024)")
      ->option_text("N")
      ->check(CLI::Range(1, 4096));
  s->add_option("--access-log", command->server.access_log,
                "Log each request to FILE, or - for standard output")
      ->option_text("FILE");
  s->add_option("--body-limit", command->body_limit_kib, "Largest request body in KiB (default 64)")
      ->option_text("KIB")
      ->check(CLI::Range(1, 65536));
  s->add_option("--timeout", command->server.timeout_seconds, "Seconds a client may stay silent (default 5)")
      ->option_text("SECONDS")
      ->check(CLI::Range(1, 300));
  s->add_option("--client-rate", command->server.client_rate,
                "Requests per second per client address, bursts of twice that (default 20; 0: no limit)")
      ->option_text("N")
      ->check(CLI::Range(0.0, 1e6));
  s->add_option("--token-rate", command->server.token_rate,
                "Requests per second per token (default 10; 0: no limit)")
      ->option_text("N")
      ->check(CLI::Range(0.0, 1e6));
  s->add_flag("--trust-proxy", command->server.trust_proxy,
              "Behind a TLS proxy: trust X-Forwarded-Proto: https and mark the session cookie Secure");
  OnRun(s, invocation, command, RunServe);
}

}  // namespace voisinage
