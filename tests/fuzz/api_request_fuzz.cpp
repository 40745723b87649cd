// The JSON API: the input's first byte picks the request, the rest is its JSON body (POSTed with a bearer
// token), its query string, or the whole request. A post the API accepts is then read back through the API
// and its web page, which show the fuzzed strings. See server_fuzz.h.

#include <nlohmann/json.hpp>

#include "tests/fuzz/server_fuzz.h"

namespace {

voisinage::fuzz::FuzzServer* server = nullptr;

void ReadBack(const std::string& response) {
  using voisinage::fuzz::FuzzServer;
  const size_t at = response.find("\r\n\r\n");
  if (at == std::string::npos) return;
  const nlohmann::json body = nlohmann::json::parse(response.substr(at + 4), nullptr, false);
  if (!body.is_object() || !body.contains("post")) return;
  const std::string id = std::to_string(body["post"]["id"].get<int64_t>());
  server->Send(FuzzServer::Request("GET", "/api/v1/posts/" + id, server->resident_token(), "", ""));
  server->Send(FuzzServer::Request("GET", "/messages/" + id, "", "", ""));
  server->Send(FuzzServer::Request("GET", "/quartiers/centre-bourg", "", "", ""));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using voisinage::fuzz::FuzzServer;
  if (size == 0) return 0;
  server = &voisinage::fuzz::CurrentServer();
  const std::string_view rest = voisinage::fuzz::AsText(data + 1, size - 1);
  const std::string& resident = server->resident_token();
  const std::string& moderator = server->moderator_token();
  const std::string json = "application/json";
  switch (data[0] % 12) {
    case 0:
      ReadBack(server->Send(FuzzServer::Request("POST", "/api/v1/posts", resident, json, rest)));
      break;
    case 1:
      ReadBack(server->Send(FuzzServer::Request("POST", "/api/v1/posts", moderator, json, rest)));
      break;
    case 2:
      ReadBack(server->Send(FuzzServer::Request("POST", "/api/v1/posts/1/replies", resident, json, rest)));
      break;
    case 3:
      server->Send(FuzzServer::Request("POST", "/api/v1/reports", resident, json, rest));
      break;
    case 4:
      server->Send(FuzzServer::Request("POST", "/api/v1/grievances", resident, json, rest));
      break;
    case 5:
      server->Send(FuzzServer::Request("POST", "/api/v1/join", "", json, rest));
      break;
    case 6:
      server->Send(FuzzServer::Request(
          "GET", "/api/v1/neighbourhoods/centre-bourg/posts?" + FuzzServer::QueryString(rest), resident, "",
          ""));
      break;
    case 7:
      server->Send(
          FuzzServer::Request("GET", "/api/v1/directory?" + FuzzServer::QueryString(rest), resident, "", ""));
      break;
    case 8:
      server->Send(
          FuzzServer::Request("GET", "/api/v1/posts/1?" + FuzzServer::QueryString(rest), moderator, "", ""));
      break;
    case 9:
      // Any token, any path under the API.
      server->Send(FuzzServer::Request("GET", "/api/v1/" + FuzzServer::QueryString(rest), "", "", ""));
      server->Send(
          FuzzServer::Request("GET", "/api/v1/town", std::string(rest.substr(0, rest.find('\n'))), "", ""));
      break;
    case 10:
      // The body with another content type, and in another method.
      server->Send(FuzzServer::Request("PUT", "/api/v1/posts", resident, json, rest));
      server->Send(FuzzServer::Request("POST", "/api/v1/grievances", resident, "text/plain", rest));
      break;
    default:
      // The whole request as sent: request line, headers and body.
      server->Send(rest);
      break;
  }
  return 0;
}
