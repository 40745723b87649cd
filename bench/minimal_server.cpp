// The baseline of bench/serve: a minimal cpp-httplib server answering GET
// /api/v1/neighbourhoods/{slug}/posts with a fixed JSON body (a feed page captured from voisinage serve, so
// of the same size), and nothing else: no database, no authentication, no JSON encoding.
//
// Usage: minimal_server BODY_FILE [--like-voisinage]
//   Binds 127.0.0.1 on a free port and prints "serving on http://127.0.0.1:PORT" on the first line of
//   standard output (as voisinage serve does). Runs until killed. Without option the server is configured as
//   cpp-httplib configures it by default (the baseline of the benchmark): its thread pool
//   (CPPHTTPLIB_THREAD_POOL_COUNT, 8 threads on this library build), 5 requests per keep-alive connection, 5
//   s keep-alive timeout, no TCP_NODELAY.
//   --like-voisinage applies voisinage serve's connection settings (lib/server/server.cpp, Server::Start):
//   10,000 requests per keep-alive connection, 5 s timeouts, TCP_NODELAY, and 64 threads (voisinage starts
//   one per connection on demand up to --threads 64; a pool of 64 behaves the same under 64 connections).
// Built by bench/serve: g++ -O2 -std=c++20 minimal_server.cpp $(pkg-config --cflags --libs cpp-httplib)

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <httplib.h>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::strcmp(argv[2], "--like-voisinage") != 0)) {
    std::fprintf(stderr, "usage: minimal_server BODY_FILE [--like-voisinage]\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "minimal_server: cannot read %s\n", argv[1]);
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string body = text.str();

  httplib::Server http;
  if (argc == 3) {
    http.new_task_queue = [] { return new httplib::ThreadPool(64); };
    http.set_read_timeout(5, 0);
    http.set_write_timeout(5, 0);
    http.set_keep_alive_timeout(5);
    http.set_keep_alive_max_count(10000);
    http.set_tcp_nodelay(true);
  }
  http.Get(R"(/api/v1/neighbourhoods/([a-z0-9-]{1,60})/posts)",
           [&body](const httplib::Request&, httplib::Response& res) {
             res.set_content(body, "application/json; charset=utf-8");
           });
  const int port = http.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::fprintf(stderr, "minimal_server: cannot bind 127.0.0.1\n");
    return 1;
  }
  std::printf("serving on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  return http.listen_after_bind() ? 0 : 1;
}
