#include "lib/grievance/export.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "lib/clock.h"
#include "lib/grievance/stats.h"
#include "lib/render/svg_chart.h"
#include "lib/render/template.h"
#include "lib/text/csv_writer.h"
#include "lib/text/strings.h"
#include "lib/text/suggest.h"
#include "lib/time_zone.h"
#include "lib/town/town.h"

namespace voisinage {

using nlohmann::json;

const std::vector<std::string>& GrievanceExportFormats() {
  static const std::vector<std::string> formats = {"csv", "csv-fr", "json", "jsonl", "geojson", "html", "md"};
  return formats;
}

const std::vector<std::string>& GrievanceCsvColumns() {
  static const std::vector<std::string> columns = {
      "reference",       "category",    "title",     "description", "status",  "created_at",
      "acknowledged_at", "resolved_at", "closed_at", "delay_days",  "address", "postcode",
      "neighbourhood",   "latitude",    "longitude", "service",     "channel", "expected_on",
      "duplicate_of",    "reopened",    "public",    "updated_at"};
  return columns;
}

const std::vector<std::string>& GrievanceCsvFrColumns() {
  static const std::vector<std::string> columns = {
      "Référence",          "Catégorie",    "Titre",     "Description",   "Statut",  "Créée le",
      "Prise en compte le", "Résolue le",   "Close le",  "Délai (jours)", "Adresse", "Code postal",
      "Quartier",           "Latitude",     "Longitude", "Service",       "Canal",   "Date prévue",
      "Doublon de",         "Réouvertures", "Publique",  "Mise à jour le"};
  return columns;
}

namespace {

// The columns both CSV formats read, in GrievanceCsvColumns() order plus the French labels.
const char* const kCsvSelect = R"sql(
  SELECT g.reference, c.code, c.name, g.title, g.description, g.status, g.created_at,
         coalesce(g.acknowledged_at, ''), coalesce(g.resolved_at, ''), coalesce(g.closed_at, ''), g.address,
         g.postcode, coalesce(n.slug, ''), coalesce(n.name, ''), g.lat, g.lon, g.service, g.channel, g.expected_on,
         coalesce(d.reference, ''), g.reopened, g.public, g.updated_at
  FROM grievance g JOIN grievance_category c ON c.id = g.category_id
  LEFT JOIN neighbourhood n ON n.id = g.neighbourhood_id
  LEFT JOIN grievance d ON d.id = g.duplicate_of)sql";

void Bind(SQLite::Statement& statement, const std::vector<std::string>& params) {
  for (size_t i = 0; i < params.size(); ++i) statement.bind(static_cast<int>(i + 1), params[i]);
}

std::string WithComma(std::string text) {
  std::replace(text.begin(), text.end(), '.', ',');
  return text;
}

// Writes through a buffer: one ostream call per 64 KiB instead of per field. The writer calls Flush() at the
// end: a destructor must not throw (a full disk is reported by Flush, not during unwinding).
class Output {
 public:
  explicit Output(std::ostream& out) : out_(out) { buffer_.reserve(kSize + 4096); }
  std::string& buffer() { return buffer_; }
  void MaybeFlush() {
    if (buffer_.size() >= kSize) Flush();
  }
  void Flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
    if (!out_)
      throw Error("could not write the export", "check the free space and the permissions of the target");
  }

 private:
  static constexpr size_t kSize = 1 << 16;
  std::ostream& out_;
  std::string buffer_;
};

// "2026-12-01" → "01/12/2026"; empty stays empty.
std::string FrenchDay(std::string_view day) {
  if (day.size() != 10) return std::string(day);
  return fmt::format("{}/{}/{}", day.substr(8, 2), day.substr(5, 2), day.substr(0, 4));
}

void AppendField(std::string& line, std::string_view value, char delimiter, bool first) {
  if (!first) line += delimiter;
  line += CsvField(value, delimiter);
}

int64_t WriteCsv(Db& db, const GrievanceQuery& q, bool french, std::ostream& stream) {
  const char delimiter = french ? ';' : ',';
  const char* const eol = "\r\n";  // RFC 4180
  std::optional<TimeZone> zone;
  if (french) zone = TimeZone::Load(GetTown(db).identity.timezone);
  Output out(stream);
  std::string& buffer = out.buffer();
  if (french) buffer += "\xEF\xBB\xBF";  // BOM: spreadsheets then read UTF-8, not Windows-1252
  buffer += CsvLine(french ? GrievanceCsvFrColumns() : GrievanceCsvColumns(), delimiter) + eol;

  SQLite::Statement rows(db.sql(), fmt::format("{} {} ORDER BY g.id", kCsvSelect, q.where));
  Bind(rows, q.params);
  auto date = [&](const char* iso) -> std::string {
    if (*iso == '\0') return "";
    return french ? zone->FormatFrench(ParseIso(iso)) : std::string(iso);
  };
  auto text = [&](int column) { return SpreadsheetText(rows.getColumn(column).getText()); };
  int64_t written = 0;
  while (rows.executeStep()) {
    const std::string created = rows.getColumn(6).getText(), closed = rows.getColumn(9).getText();
    std::string delay;
    if (!closed.empty()) {
      const double days =
          std::chrono::duration<double>(ParseIso(closed) - ParseIso(created)).count() / 86400.0;
      delay = fmt::format("{:.1f}", days);
      if (french) delay = WithComma(delay);
    }
    auto coordinate = [&](int column) -> std::string {
      if (rows.getColumn(column).isNull()) return "";
      std::string value = fmt::format("{:.6f}", rows.getColumn(column).getDouble());
      return french ? WithComma(value) : value;
    };
    const std::string status = rows.getColumn(5).getText();
    const std::string channel = rows.getColumn(17).getText();
    const bool is_public = rows.getColumn(21).getInt() != 0;
    const std::string fields[] = {
        rows.getColumn(0).getText(),
        french ? text(2) : std::string(rows.getColumn(1).getText()),
        text(3),
        text(4),
        french ? FrenchStatus(status) : status,
        date(created.c_str()),
        date(rows.getColumn(7).getText()),
        date(rows.getColumn(8).getText()),
        date(closed.c_str()),
        delay,
        text(10),
        rows.getColumn(11).getText(),
        french ? text(13) : std::string(rows.getColumn(12).getText()),
        coordinate(14),
        coordinate(15),
        text(16),
        french ? FrenchChannel(channel) : channel,
        french ? FrenchDay(rows.getColumn(18).getText()) : std::string(rows.getColumn(18).getText()),
        rows.getColumn(19).getText(),
        std::to_string(rows.getColumn(20).getInt()),
        french ? (is_public ? "Oui" : "Non") : (is_public ? "true" : "false"),
        date(rows.getColumn(22).getText()),
    };
    bool first = true;
    for (const std::string& field : fields) {
      AppendField(buffer, field, delimiter, first);
      first = false;
    }
    buffer += eol;
    out.MaybeFlush();
    ++written;
  }
  out.Flush();
  return written;
}

// Walks the events of the exported grievances alongside them (both in grievance id order), so that each
// grievance gets its events without a query per grievance and without holding them all.
class EventCursor {
 public:
  EventCursor(Db& db, const GrievanceQuery& q, bool public_only)
      : events_(db.sql(), fmt::format(R"sql(
          SELECT e.grievance_id, e.at, e.actor, e.kind, e.old_status, e.new_status, e.note, e.public
          FROM grievance_event e
          WHERE e.grievance_id IN (SELECT g.id FROM grievance g JOIN grievance_category c ON c.id = g.category_id
                                   {}){}
          ORDER BY e.grievance_id, e.id)sql",
                                      q.where, public_only ? " AND e.public" : "")),
        public_only_(public_only) {
    Bind(events_, q.params);
    has_row_ = events_.executeStep();
  }

  json EventsOf(int64_t grievance_id) {
    json list = json::array();
    while (has_row_ && events_.getColumn(0).getInt64() < grievance_id) has_row_ = events_.executeStep();
    while (has_row_ && events_.getColumn(0).getInt64() == grievance_id) {
      json event = {
          {"at", events_.getColumn(1).getString()},         {"kind", events_.getColumn(3).getString()},
          {"old_status", events_.getColumn(4).getString()}, {"new_status", events_.getColumn(5).getString()},
          {"note", events_.getColumn(6).getString()},       {"public", events_.getColumn(7).getInt() != 0}};
      if (!public_only_) event["actor"] = events_.getColumn(2).getString();
      list.push_back(std::move(event));
      has_row_ = events_.executeStep();
    }
    return list;
  }

 private:
  SQLite::Statement events_;
  bool public_only_;
  bool has_row_ = false;
};

json ExportedFields(const Grievance& g) {
  json fields = ToJson(g, /*public_only=*/true);
  fields["export_version"] = kGrievanceExportVersion;
  return fields;
}

int64_t WriteJson(Db& db, const GrievanceQuery& q, bool lines, bool public_only, std::ostream& stream) {
  Output out(stream);
  EventCursor events(db, q, public_only);
  int64_t written = 0;
  if (!lines) out.buffer() += "[";
  ForEachGrievance(db, q, [&](const Grievance& g) {
    json item = ExportedFields(g);
    item["events"] = events.EventsOf(g.id);
    if (!lines) out.buffer() += written == 0 ? "\n" : ",\n";
    out.buffer() += item.dump(-1, ' ', false, json::error_handler_t::replace);
    if (lines) out.buffer() += "\n";
    out.MaybeFlush();
    ++written;
  });
  if (!lines) out.buffer() += written == 0 ? "]\n" : "\n]\n";
  out.Flush();
  return written;
}

ExportCount WriteGeoJson(Db& db, const GrievanceQuery& q, std::ostream& stream) {
  Output out(stream);
  ExportCount count;
  out.buffer() += fmt::format(R"({{"type":"FeatureCollection","export_version":{},"features":[)",
                              kGrievanceExportVersion);
  ForEachGrievance(db, q, [&](const Grievance& g) {
    if (!g.lat || !g.lon) {
      ++count.without_coordinates;
      return;
    }
    json properties = ExportedFields(g);
    properties.erase("lat");
    properties.erase("lon");
    properties.erase("export_version");
    json feature = {{"type", "Feature"},
                    {"id", g.reference},
                    {"geometry", {{"type", "Point"}, {"coordinates", {*g.lon, *g.lat}}}},
                    {"properties", properties}};
    out.buffer() += count.written == 0 ? "\n" : ",\n";
    out.buffer() += feature.dump(-1, ' ', false, json::error_handler_t::replace);
    out.MaybeFlush();
    ++count.written;
  });
  out.buffer() += "\n]}\n";
  out.Flush();
  return count;
}

// French number formatting for the council's documents.
std::string FrenchInteger(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += "\u202F";  // narrow no-break space
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string FrenchFigure(const json& value, const char* unit) {
  if (value.is_null()) return "—";
  return WithComma(fmt::format("{:.1f}", value.get<double>())) + unit;
}

std::string PeriodLabel(const std::string& from, const std::string& to) {
  auto day = [](const std::string& d) { return FrenchDate(ParseIso(d)); };
  if (!from.empty() && !to.empty()) return fmt::format("du {} au {}", day(from), day(to));
  if (!from.empty()) return fmt::format("depuis le {}", day(from));
  if (!to.empty()) return fmt::format("jusqu'au {}", day(to));
  return "depuis la première doléance enregistrée";
}

std::string MonthLabel(const std::string& month) {
  static const char* const kMonths[] = {"janv.", "févr.", "mars",  "avr.", "mai",  "juin",
                                        "juil.", "août",  "sept.", "oct.", "nov.", "déc."};
  return fmt::format("{} {}", kMonths[std::stoi(month.substr(5, 2)) - 1], month.substr(0, 4));
}

}  // namespace

json GrievanceReportData(Db& db, const GrievanceFilter& filter) {
  const json stats = GrievanceStats(db, filter);
  const TimeZone zone = TimeZone::Load(GetTown(db).identity.timezone);
  json data;
  data["town"] = stats["town"];
  const LocalTime today = zone.ToLocal(Now());
  data["generated_on"] =
      FrenchDate(ParseIso(fmt::format("{:04}-{:02}-{:02}", today.year, today.month, today.day)));
  // The last second of the period: "--to 2026-06-30" ends at midnight starting 1 July, shown as 30/06.
  data["as_of"] =
      zone.FormatFrench(ParseIso(stats["period"]["as_of"].get<std::string>()) - std::chrono::seconds{1})
          .substr(0, 10);
  data["period_label"] = PeriodLabel(filter.from, filter.to);
  std::vector<std::string> filters;
  if (!filter.neighbourhood.empty()) filters.push_back("quartier " + filter.neighbourhood);
  if (!filter.category.empty()) filters.push_back("catégorie " + filter.category);
  if (!filter.statuses.empty())
    filters.push_back("statuts " + fmt::format("{}", fmt::join(filter.statuses, ", ")));
  if (filter.public_only) filters.push_back("version publique : doléances et réponses publiques seulement");
  data["filters_label"] =
      filters.empty() ? json(nullptr) : json(fmt::format("{}", fmt::join(filters, " ; ")));
  for (const char* key : {"received", "open", "resolved", "closed", "backlog_at_end", "unique_reporters",
                          "anonymous", "reopened", "duplicates", "overdue_count"})
    data[key] = FrenchInteger(stats[key].get<int64_t>());
  data["open_age"] = {{"under_4_weeks", FrenchInteger(stats["open_age"]["under_4_weeks"])},
                      {"over_4_weeks", FrenchInteger(stats["open_age"]["over_4_weeks"])},
                      {"no_update_8_weeks", FrenchInteger(stats["open_age"]["no_update_8_weeks"])}};
  data["within_sla_share"] = FrenchFigure(stats["within_sla"]["share"], " %");
  data["reopened_rate"] = FrenchFigure(stats["reopened_rate"], " %");
  data["duplicate_rate"] = FrenchFigure(stats["duplicate_rate"], " %");
  data["min_figures"] = kMinGrievancesForFigures;

  json categories = json::array();
  std::vector<std::string> category_names, delay_names;
  std::vector<double> category_counts, delays;
  for (const json& c : stats["categories"]) {
    categories.push_back({{"code", c["code"]},
                          {"name", c["name"]},
                          {"sla_days", c["sla_days"]},
                          {"received", FrenchInteger(c["received"])},
                          {"share", FrenchFigure(c["share"], " %")},
                          {"open_at_end", FrenchInteger(c["open_at_end"])},
                          {"acknowledge_median", FrenchFigure(c["acknowledge"]["median_days"], " j")},
                          {"acknowledge_p90", FrenchFigure(c["acknowledge"]["p90_days"], " j")},
                          {"resolve_median", FrenchFigure(c["resolve"]["median_days"], " j")},
                          {"resolve_p90", FrenchFigure(c["resolve"]["p90_days"], " j")},
                          {"within_sla_share", FrenchFigure(c["within_sla"]["share"], " %")}});
    if (c["received"].get<int64_t>() > 0) {
      category_names.push_back(c["name"]);
      category_counts.push_back(c["received"].get<double>());
    }
    if (!c["resolve"]["median_days"].is_null()) {
      delay_names.push_back(c["name"]);
      delays.push_back(c["resolve"]["median_days"].get<double>());
    }
  }
  data["categories"] = categories;
  data["has_categories"] = !categories.empty();
  json top = json::array();
  for (const json& c : stats["top_categories"])
    top.push_back({{"name", c["name"]},
                   {"received", FrenchInteger(c["received"])},
                   {"share", FrenchFigure(c["share"], " %")}});
  data["top_categories"] = top;
  json streets = json::array(), hoods = json::array();
  for (const json& s : stats["streets"])
    streets.push_back({{"street", s["street"]}, {"received", FrenchInteger(s["received"])}});
  for (const json& n : stats["neighbourhoods"])
    hoods.push_back({{"name", n["name"].is_null() ? json("Hors quartier") : n["name"]},
                     {"received", FrenchInteger(n["received"])}});
  data["streets"] = streets;
  data["has_streets"] = !streets.empty();
  data["neighbourhoods"] = hoods;
  data["has_neighbourhoods"] = !hoods.empty();

  // The charts show at most the last three years of months.
  json months = json::array();
  std::vector<std::string> month_labels;
  std::vector<double> received_per_month, resolved_per_month;
  const json& all_months = stats["months"];
  const size_t first = all_months.size() > 36 ? all_months.size() - 36 : 0;
  for (size_t i = 0; i < all_months.size(); ++i) {
    const json& m = all_months[i];
    const std::string label = MonthLabel(m["month"]);
    months.push_back({{"month", m["month"]},
                      {"label", label},
                      {"received", FrenchInteger(m["received"])},
                      {"resolved", FrenchInteger(m["resolved"])}});
    if (i < first) continue;
    month_labels.push_back(label);
    received_per_month.push_back(m["received"].get<double>());
    resolved_per_month.push_back(m["resolved"].get<double>());
  }
  data["months"] = months;
  data["has_months"] = !months.empty();
  constexpr const char* kBlue = "#1f5f99";
  constexpr const char* kGreen = "#2e7d32";
  data["charts"] = {
      {"received_per_month",
       ColumnChart("Doléances reçues par mois", month_labels, {{"Reçues", received_per_month, kBlue}})},
      {"by_category", BarChart("Doléances reçues par catégorie", category_names, category_counts, "", kBlue)},
      {"resolved_vs_received",
       LineChart("Reçues et résolues par mois", month_labels,
                 {{"Reçues", received_per_month, kBlue}, {"Résolues", resolved_per_month, kGreen}})},
      {"delay_per_category",
       BarChart("Délai médian de résolution par catégorie", delay_names, delays, "j", kGreen)}};

  json overdue = json::array();
  for (const json& o : stats["overdue"])
    overdue.push_back(
        {{"reference", o["reference"]},
         {"category_name", o["category_name"]},
         {"title", o["title"]},
         {"status_label", o["expected_on"] == ""
                              ? FrenchStatus(o["status"])
                              : fmt::format("{} (prévue le {})", FrenchStatus(o["status"]),
                                            FrenchDay(o["expected_on"].get<std::string>()))},
         {"created_on", zone.FormatFrench(ParseIso(o["created_at"].get<std::string>())).substr(0, 10)},
         {"days_open", FrenchFigure(o["days_open"], "")},
         {"days_overdue", FrenchFigure(o["days_overdue"], "")},
         {"neighbourhood", o["neighbourhood"]},
         {"address", o["address"]},
         {"service", o["service"]}});
  data["overdue"] = overdue;
  data["has_overdue"] = !overdue.empty();
  const int64_t more = stats["overdue_count"].get<int64_t>() - static_cast<int64_t>(overdue.size());
  data["overdue_more"] =
      more > 0 ? json(fmt::format("… et {} autres (voir « voisinage grievance list --overdue »)",
                                  FrenchInteger(more)))
               : json(nullptr);
  data["stats"] = stats;
  return data;
}

ExportCount ExportGrievances(Db& db, const GrievanceExport& request, std::ostream& out) {
  const auto& formats = GrievanceExportFormats();
  if (std::find(formats.begin(), formats.end(), request.format) == formats.end())
    throw Error(
        fmt::format("unknown export format '{}'{}", request.format, DidYouMean(request.format, formats)),
        "formats: csv, csv-fr, json, jsonl, geojson, html, md");
  const bool report = request.format == "html" || request.format == "md";
  if (!request.template_path.empty() && !report)
    throw Error("--template applies to the html and md formats only");
  // Read everything in one snapshot: a clerk answering meanwhile does not make the export inconsistent.
  SQLite::Transaction snapshot(db.sql(), SQLite::TransactionBehavior::DEFERRED);
  const GrievanceQuery q = BuildGrievanceQuery(db, request.filter);
  ExportCount count;
  if (request.format == "csv" || request.format == "csv-fr") {
    count.written = WriteCsv(db, q, request.format == "csv-fr", out);
  } else if (request.format == "json" || request.format == "jsonl") {
    count.written = WriteJson(db, q, request.format == "jsonl", request.filter.public_only, out);
  } else if (request.format == "geojson") {
    count = WriteGeoJson(db, q, out);
  } else {
    json data = GrievanceReportData(db, request.filter);
    count.written = data["stats"]["received"].get<int64_t>();
    std::string name =
        request.format == "html" ? "grievance-report.html.mustache" : "grievance-report.md.mustache";
    std::string source;
    if (!request.template_path.empty()) {
      std::ifstream file(request.template_path, std::ios::binary);
      if (!file)
        throw Error(fmt::format("cannot read template '{}'", request.template_path), "check the path");
      std::ostringstream text;
      text << file.rdbuf();
      source = text.str();
      name = request.template_path;
    } else {
      source = EmbeddedTemplates().at(name);
    }
    if (request.format == "md") {
      data.erase("charts");
      data = MapStrings(data, EscapeMarkdown);
    } else {
      data = MapStrings(data, [](std::string_view text) { return NeutraliseBidi(text); });
      // The charts are markup this program built, with every text escaped: templates insert them with {{{
      // }}}.
    }
    const std::string document = RenderMustache(name, source, data);
    out.write(document.data(), static_cast<std::streamsize>(document.size()));
    if (!out)
      throw Error("could not write the report", "check the free space and the permissions of the target");
  }
  return count;
}

}  // namespace voisinage
