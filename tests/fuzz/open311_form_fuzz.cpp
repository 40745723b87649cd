// Open311 GeoReport v2: the input's first byte picks the request, the rest is the form-encoded body POSTed
// to /open311/v2/requests (after a valid api_key, or alone) or the query string of the GET endpoints. See
// server_fuzz.h.

#include "tests/fuzz/server_fuzz.h"

namespace {
voisinage::fuzz::FuzzServer* server = nullptr;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using voisinage::fuzz::FuzzServer;
  if (size == 0) return 0;
  server = &voisinage::fuzz::CurrentServer();
  const std::string_view rest = voisinage::fuzz::AsText(data + 1, size - 1);
  const std::string form = "application/x-www-form-urlencoded";
  const std::string keyed = "api_key=" + server->resident_token() + "&" + std::string(rest);
  const std::string query = FuzzServer::QueryString(rest);
  switch (data[0] % 8) {
    case 0:
      server->Send(FuzzServer::Request("POST", "/open311/v2/requests.json", "", form, keyed));
      break;
    case 1:
      server->Send(FuzzServer::Request("POST", "/open311/v2/requests.xml", "", form, keyed));
      break;
    case 2:
      server->Send(FuzzServer::Request("POST", "/open311/v2/requests.json", "", form, rest));
      break;
    case 3:
      server->Send(FuzzServer::Request("GET", "/open311/v2/requests.json?" + query, "", "", ""));
      break;
    case 4:
      server->Send(FuzzServer::Request("GET", "/open311/v2/requests.xml?" + query, "", "", ""));
      break;
    case 5:
      server->Send(FuzzServer::Request("GET", "/open311/v2/services.xml?" + query, "", "", ""));
      server->Send(FuzzServer::Request("GET", "/open311/v2/discovery.json?" + query, "", "", ""));
      break;
    case 6:
      // Any path under Open311.
      server->Send(FuzzServer::Request("GET", "/open311/v2/" + query, "", "", ""));
      break;
    default:
      server->Send(
          FuzzServer::Request("POST", "/open311/v2/requests.json", "", "multipart/form-data", keyed));
      break;
  }
  return 0;
}
