// Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) under /open311/v2: the town's grievance
// categories are the services, grievances are the service requests. JSON and XML, chosen by the extension.

#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

#include <utf8proc.h>

#include "lib/clock.h"
#include "lib/grievance/grievance.h"
#include "lib/render/template.h"
#include "lib/server/context.h"
#include "lib/text/strings.h"
#include "lib/time_zone.h"
#include "lib/town/town.h"

namespace voisinage {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

namespace {

constexpr int kDefaultWindowDays = 90;
constexpr int kMaxResults = 1000;
constexpr const char* kXml = "text/xml; charset=utf-8";

/// A request Open311 answers with 400 and a description.
class Invalid311 : public Error {
 public:
  using Error::Error;
};

// The element name of an array's items in the XML form ("services" → "service").
std::string ItemName(const std::string& list) {
  if (list == "service_requests") return "request";
  if (list == "services") return "service";
  if (list == "errors") return "error";
  if (list == "endpoints") return "endpoint";
  if (list == "formats") return "format";
  if (list == "attributes") return "attribute";
  return "item";
}

// Text as XML 1.0 accepts it: escaped, with every byte that is not UTF-8 and every control character XML
// forbids (all but tab, newline and carriage return) replaced by U+FFFD. Error messages quote what the client
// sent, which may be anything.
std::string XmlText(const std::string& text) {
  std::string valid;
  valid.reserve(text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    utf8proc_int32_t codepoint = 0;
    utf8proc_ssize_t length = utf8proc_iterate(p, end - p, &codepoint);
    const bool allowed = length > 0 &&
                         (codepoint >= 0x20 || codepoint == '\t' || codepoint == '\n' || codepoint == '\r') &&
                         codepoint != 0xFFFE && codepoint != 0xFFFF;
    if (allowed)
      valid.append(reinterpret_cast<const char*>(p), length);
    else
      valid += "\xEF\xBF\xBD";
    p += length > 0 ? length : 1;
  }
  return EscapeHtml(valid);
}

void AppendXml(std::string& out, const std::string& name, const json& value) {
  out += "<" + name + ">";
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) AppendXml(out, key, item);
  } else if (value.is_array()) {
    for (const json& item : value) AppendXml(out, ItemName(name), item);
  } else if (value.is_string()) {
    out += XmlText(value.get<std::string>());
  } else if (!value.is_null()) {
    out += value.dump();
  }
  out += "</" + name + ">";
}

std::string ToXml(const std::string& root, const json& value) {
  std::string out = R"(<?xml version="1.0" encoding="utf-8"?>)";
  AppendXml(out, root, value);
  return out + "\n";
}

bool WantsXml(const Request& req) {
  return req.matches.size() > 1 && req.matches[req.matches.size() - 1] == "xml";
}

void Send(const Request& req, Response& res, const std::string& root, const json& value, int status = 200) {
  if (WantsXml(req)) {
    res.status = status;
    res.set_content(ToXml(root, value), kXml);
  } else {
    SendJson(res, value, status);
  }
}

// Open311's error shape: [{"code": "400", "description": "..."}], in XML <errors><error>...</error></errors>.
void SendOpen311Error(Response& res, bool xml, int status, const std::string& message) {
  const json errors = json::array({{{"code", std::to_string(status)}, {"description", message}}});
  res.status = status;
  if (xml)
    res.set_content(ToXml("errors", errors), kXml);
  else
    // The message may quote what the client sent, which need not be UTF-8: replaced, never thrown on (500).
    res.set_content(errors.dump(-1, ' ', false, json::error_handler_t::replace),
                    "application/json; charset=utf-8");
}

void Handle(const Request& req, Response& res, const std::function<void()>& handler) {
  const bool xml = WantsXml(req);
  Guarded(
      res,
      [xml](Response& r, int status, const std::string&, const std::string& message) {
        SendOpen311Error(r, xml, status, message);
      },
      [&] {
        try {
          handler();
        } catch (const Invalid311& e) {
          SendOpen311Error(res, xml, 400, e.what());
        }
      });
}

// A datetime parameter: ISO 8601 with a zone ("2026-11-01T00:00:00+01:00", "...Z") or a bare date (UTC).
TimePoint ParseDateTime(const std::string& name, const std::string& text) {
  auto fail = [&] {
    return Invalid311(
        fmt::format("'{}' must be an ISO 8601 date-time with a zone, e.g. 2026-11-01T00:00:00+01:00", name));
  };
  if (text.size() == 10) {
    try {
      return ParseIso(text);
    } catch (const Error&) {
      throw fail();
    }
  }
  if (text.size() < 20) throw fail();
  TimePoint base;
  try {
    base = ParseIso(text.substr(0, 19) + "Z");
  } catch (const Error&) {
    throw fail();
  }
  std::string zone = text.substr(19);
  if (!zone.empty() && zone[0] == '.') {  // fractions of a second are ignored
    const size_t end = zone.find_first_not_of("0123456789", 1);
    zone = end == std::string::npos ? "" : zone.substr(end);
  }
  if (zone == "Z") return base;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':') throw fail();
  int hours = 0, minutes = 0;
  if (std::from_chars(zone.data() + 1, zone.data() + 3, hours).ec != std::errc() ||
      std::from_chars(zone.data() + 4, zone.data() + 6, minutes).ec != std::errc() || hours > 14 ||
      minutes > 59)
    throw fail();
  const std::chrono::minutes offset{hours * 60 + minutes};
  return zone[0] == '+' ? base - offset : base + offset;
}

int IntParam(const Request& req, const char* name, int fallback, int min, int max) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    throw Invalid311(fmt::format("'{}' must be a whole number from {} to {}", name, min, max));
  return value;
}

json Service(const SQLite::Statement& row) {
  return {{"service_code", row.getColumn(0).getString()},
          {"service_name", row.getColumn(1).getString()},
          {"description", fmt::format("{} (délai de traitement visé : {} jours)",
                                      row.getColumn(1).getString(), row.getColumn(4).getInt())},
          {"metadata", false},
          {"type", "realtime"},
          {"keywords", ""},
          {"group", row.getColumn(2).getString()}};
}

json ServiceRequest(Db& db, const Grievance& g, const TimeZone& zone) {
  std::string notes;
  for (const GrievanceEvent& e : GrievanceEvents(db, g.id, true))
    if (!e.note.empty()) notes = e.note;  // the latest public answer
  auto when = [&zone](const std::string& iso) {
    return iso.empty() ? json(nullptr) : json(zone.FormatIsoLocal(ParseIso(iso)));
  };
  return {
      {"service_request_id", g.reference},
      {"status", StatusGroup(g.status)},
      {"status_notes", notes},
      {"service_name", g.category_name},
      {"service_code", g.category},
      {"description", g.description},
      {"agency_responsible", g.service},
      {"service_notice", ""},
      {"requested_datetime", when(g.created_at)},
      {"updated_datetime", when(g.updated_at)},
      {"expected_datetime",
       g.expected_on.empty() ? json(nullptr) : json(zone.FormatIsoLocal(zone.LocalMidnight(g.expected_on)))},
      {"address", g.address},
      {"address_id", ""},
      {"zipcode", g.postcode},
      {"lat", g.lat ? json(*g.lat) : json(nullptr)},
      {"long", g.lon ? json(*g.lon) : json(nullptr)},
      {"media_url", ""}};
}

std::optional<double> Coordinate(const std::string& text, const char* name) {
  if (text.empty()) return std::nullopt;
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size() && std::isfinite(value)) return value;
  } catch (const std::exception&) {
  }
  throw Invalid311(fmt::format("'{}' must be a number in WGS84 degrees", name));
}

// An application/x-www-form-urlencoded body. Read by the handler itself: the Debian build of cpp-httplib
// refuses forms over 8 KiB, less than a 4000-character description with accents once encoded.
std::multimap<std::string, std::string> ParseForm(const std::string& body) {
  auto decode = [](std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '+') {
        out += ' ';
      } else if (text[i] == '%' && i + 2 < text.size() &&
                 std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
        out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += text[i];
      }
    }
    return out;
  };
  std::multimap<std::string, std::string> form;
  for (const std::string& pair : Split(body, '&')) {
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    form.emplace(decode(std::string_view(pair).substr(0, eq)),
                 eq == std::string::npos ? "" : decode(std::string_view(pair).substr(eq + 1)));
  }
  return form;
}

}  // namespace

void RegisterOpen311(httplib::Server& http, ServerContext& context) {
  ServerContext* c = &context;
  const std::string base = "/open311/v2";

  http.Get(base + R"(/discovery\.(json|xml))", [c, base](const Request& req, Response& res) {
    Handle(req, res, [&] {
      const Town town = GetTown(c->db());
      // The town's public address when it has one, else the address the client reached the server at.
      std::string root = town.identity.url;
      if (root.empty() && req.has_header("Host"))
        root = "http://" + Printable(std::string_view(req.get_header_value("Host")).substr(0, 255));
      while (!root.empty() && root.back() == '/') root.pop_back();
      // The last change to what the endpoint offers: its services.
      const std::string changeset =
          c->db()
              .sql()
              .execAndGet(
                  "SELECT coalesce(max(updated_at), (SELECT created_at FROM town)) FROM grievance_category")
              .getString();
      Send(req, res, "discovery",
           {{"changeset", changeset},
            {"contact", fmt::format("Mairie de {}", town.identity.name)},
            {"key_service", "Demandez une clé (api_key) à la mairie : voisinage token create"},
            {"endpoints", json::array({{{"specification", "http://wiki.open311.org/GeoReport_v2"},
                                        {"url", root + base},
                                        {"changeset", changeset},
                                        {"type", "production"},
                                        {"formats", json::array({"application/json", "text/xml"})}}})}});
    });
  });

  http.Get(base + R"(/services\.(json|xml))", [c](const Request& req, Response& res) {
    Handle(req, res, [&] {
      SQLite::Statement rows(c->db().sql(),
                             "SELECT code, name, grp, service, sla_days FROM grievance_category WHERE active "
                             "ORDER BY grp, name");
      json services = json::array();
      while (rows.executeStep()) services.push_back(Service(rows));
      Send(req, res, "services", services);
    });
  });

  http.Get(base + R"(/services/([A-Za-z0-9_-]{1,60})\.(json|xml))", [c](const Request& req, Response& res) {
    Handle(req, res, [&] {
      SQLite::Statement row(c->db().sql(), "SELECT code FROM grievance_category WHERE active AND code = ?");
      row.bind(1, std::string(req.matches[1]));
      if (!row.executeStep())
        throw NotFoundError(fmt::format("no service '{}'", std::string(req.matches[1])));
      // Services have no extra attributes (metadata false): the definition lists none.
      Send(req, res, "service_definition",
           {{"service_code", row.getColumn(0).getString()}, {"attributes", json::array()}});
    });
  });

  http.Post(base + R"(/requests\.(json|xml))", [c](const Request& req, Response& res,
                                                   const httplib::ContentReader& read_body) {
    Handle(req, res, [&] {
      const std::string type = req.get_header_value("Content-Type");
      if (!type.starts_with("application/x-www-form-urlencoded"))
        throw Invalid311("send the request form-encoded (application/x-www-form-urlencoded)");
      std::string body;
      read_body([&](const char* data, size_t length) {
        body.append(data, length);
        return body.size() <= c->options.body_limit;
      });
      if (body.size() > c->options.body_limit) throw Invalid311("the request body is too large");
      const std::multimap<std::string, std::string> form = ParseForm(body);
      auto param = [&form](const char* name) {
        auto it = form.find(name);
        return it == form.end() ? std::string() : it->second;
      };
      const std::string key = param("api_key");
      if (key.empty()) throw AuthError("invalid_token", "api_key is required", true);
      std::optional<Caller> caller;
      try {
        caller = Authenticate(c->db(), key);
      } catch (const AuthError& e) {
        throw AuthError(e.code(), "invalid api_key: " + std::string(e.what()), true);  // Open311 says 403
      }
      if (int wait = c->per_token.Take(std::to_string(caller->token_id)); wait > 0) {
        res.set_header("Retry-After", std::to_string(wait));
        SendOpen311Error(res, WantsXml(req), 429, "too many requests with this api_key: slow down");
        return;
      }
      NewGrievance g;
      g.category = param("service_code");
      if (g.category.empty()) throw Invalid311("service_code is required");
      {
        SQLite::Statement row(c->db().sql(), "SELECT name FROM grievance_category WHERE active AND code = ?");
        row.bind(1, g.category);
        if (!row.executeStep()) throw NotFoundError(fmt::format("no service '{}'", Shorten(g.category, 60)));
        g.title = row.getColumn(0).getString();
      }
      g.lat = Coordinate(param("lat"), "lat");
      g.lon = Coordinate(param("long"), "long");
      g.address = param("address_string");
      if (g.address.empty() && !param("address_id").empty()) g.address = "address_id " + param("address_id");
      if (!g.lat && !g.lon && g.address.empty() && param("address_id").empty())
        throw Invalid311("a location is required: lat and long, or address_string");
      if (g.lat.has_value() != g.lon.has_value()) throw Invalid311("give both lat and long");
      g.description = param("description");
      if (Utf8Length(g.description) > kMaxGrievanceDescription)
        throw Invalid311(fmt::format("description is longer than {} characters", kMaxGrievanceDescription));
      if (g.description.empty()) g.description = g.title;
      const std::string first_line = g.description.substr(0, g.description.find('\n'));
      g.title = Shorten(first_line, 120);
      std::string name = param("first_name");
      if (const std::string last = param("last_name"); !last.empty())
        name += (name.empty() ? "" : " ") + last;
      g.contact_name = name;
      g.contact_email = param("email");
      g.contact_phone = param("phone");
      // A client acting for residents gives their contact; without it, the key's member is the reporter.
      if (g.contact_name.empty() && g.contact_email.empty() && g.contact_phone.empty())
        g.reporter = std::to_string(caller->member.id);
      g.channel = "app";
      AddedGrievance result;
      try {
        const std::string actor = fmt::format("member:{}", caller->member.id);
        result = c->Write([&](Db& db) { return AddGrievance(db, g, actor); });
      } catch (const NotFoundError&) {
        throw;
      } catch (const Error& e) {
        throw Invalid311(e.what());
      }
      Send(req, res, "service_requests",
           json::array({{{"service_request_id", result.grievance.reference},
                         {"service_notice", "Votre demande a été enregistrée par la mairie."},
                         {"account_id", nullptr}}}),
           201);
    });
  });

  auto list = [c](const Request& req, Response& res, const std::string& one) {
    Handle(req, res, [&] {
      Db& db = c->db();
      const TimeZone zone = TimeZone::Load(GetTown(db).identity.timezone);
      GrievanceFilter filter;
      filter.public_only = true;
      if (!one.empty()) {
        filter.references = {one};
      } else if (req.has_param("service_request_id")) {
        for (std::string id : Split(req.get_param_value("service_request_id"), ',')) {
          id.erase(0, id.find_first_not_of(' '));
          id.erase(id.find_last_not_of(' ') + 1);
          filter.references.push_back(id);
        }
        if (filter.references.size() > kMaxResults) throw Invalid311("at most 1000 service_request_id");
      } else {
        const TimePoint now = Now();
        const TimePoint end =
            req.has_param("end_date") ? ParseDateTime("end_date", req.get_param_value("end_date")) : now;
        const TimePoint start = req.has_param("start_date")
                                    ? ParseDateTime("start_date", req.get_param_value("start_date"))
                                    : end - std::chrono::days{kDefaultWindowDays};
        if (start > end) throw Invalid311("start_date is after end_date");
        if (end - start > std::chrono::days{kDefaultWindowDays})
          throw Invalid311(fmt::format("the date range is limited to {} days", kDefaultWindowDays));
        filter.since_utc = FormatIso(start);
        filter.until_utc = FormatIso(end + std::chrono::seconds{1});
        if (const std::string code = req.get_param_value("service_code"); !code.empty()) {
          SQLite::Statement row(db.sql(), "SELECT 1 FROM grievance_category WHERE code = ?");
          row.bind(1, code);
          if (!row.executeStep())
            throw Invalid311(fmt::format("unknown service_code '{}'", Shorten(code, 60)));
          filter.category = code;
        }
        if (const std::string status = req.get_param_value("status"); !status.empty()) {
          for (const std::string& group : Split(status, ',')) {
            if (group != "open" && group != "closed") throw Invalid311("status is open, closed or both");
            for (const std::string& s : GrievanceStatuses())
              if (s != "hidden" && StatusGroup(s) == group) filter.statuses.push_back(s);
          }
        }
        const int page_size = IntParam(req, "page_size", kMaxResults, 1, kMaxResults);
        const int page = IntParam(req, "page", 1, 1, 1000000);
        filter.limit = page_size;
        filter.offset = (page - 1) * page_size;
      }
      if (filter.limit == 0) filter.limit = kMaxResults;
      json requests = json::array();
      for (const Grievance& g : ListGrievances(db, filter)) requests.push_back(ServiceRequest(db, g, zone));
      if (!one.empty() && requests.empty())
        throw NotFoundError(fmt::format("no service request '{}'", Shorten(one, 40)));
      Send(req, res, "service_requests", requests);
    });
  };
  http.Get(base + R"(/requests\.(json|xml))",
           [list](const Request& req, Response& res) { list(req, res, ""); });
  http.Get(base + R"(/requests/([A-Za-z0-9-]{1,24})\.(json|xml))",
           [list](const Request& req, Response& res) { list(req, res, req.matches[1]); });
}

}  // namespace voisinage
