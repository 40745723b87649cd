#include "lib/town/geo.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "lib/error.h"

namespace voisinage {

using nlohmann::json;

Point ParseLatLon(const std::string& text) {
  auto comma = text.find(',');
  double lat = NAN, lon = NAN;
  bool ok = comma != std::string::npos;
  if (ok) {
    auto parse = [](std::string_view s, double& out) {
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      return ec == std::errc() && end == s.data() + s.size();
    };
    ok = parse(std::string_view(text).substr(0, comma), lat) &&
         parse(std::string_view(text).substr(comma + 1), lon);
  }
  if (!ok)
    throw Error(fmt::format("invalid point '{}'", text),
                "write LAT,LON in decimal degrees, e.g. 48.4085,2.7860");
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180)
    throw Error(fmt::format("point '{}' is out of range", text),
                "latitude is within ±90 and longitude within ±180");
  return {lon, lat};
}

namespace {

double Cross(Point o, Point a, Point b) {
  return (a.lon - o.lon) * (b.lat - o.lat) - (a.lat - o.lat) * (b.lon - o.lon);
}

bool OnSegment(Point p, Point a, Point b) {
  return std::min(a.lon, b.lon) <= p.lon && p.lon <= std::max(a.lon, b.lon) &&
         std::min(a.lat, b.lat) <= p.lat && p.lat <= std::max(a.lat, b.lat);
}

bool SegmentsIntersect(Point a, Point b, Point c, Point d) {
  double d1 = Cross(c, d, a), d2 = Cross(c, d, b), d3 = Cross(a, b, c), d4 = Cross(a, b, d);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  return (d1 == 0 && OnSegment(a, c, d)) || (d2 == 0 && OnSegment(b, c, d)) ||
         (d3 == 0 && OnSegment(c, a, b)) || (d4 == 0 && OnSegment(d, a, b));
}

std::vector<Point> ParseRing(const json& ring, const std::string& where) {
  if (!ring.is_array()) throw Error(where + ": a ring must be an array of positions");
  std::vector<Point> points;
  for (size_t i = 0; i < ring.size(); ++i) {
    const json& pos = ring[i];
    if (!pos.is_array() || pos.size() < 2 || !pos[0].is_number() || !pos[1].is_number())
      throw Error(fmt::format("{}, position {}: expected [longitude, latitude]", where, i + 1));
    Point p{pos[0].get<double>(), pos[1].get<double>()};
    if (p.lon < -180 || p.lon > 180 || p.lat < -90 || p.lat > 90)
      throw Error(fmt::format("{}, position {}: [{}, {}] is out of range", where, i + 1, p.lon, p.lat),
                  "GeoJSON positions are [longitude, latitude]");
    points.push_back(p);
  }
  if (points.size() < 4)
    throw Error(where + ": a ring needs at least four positions (the first repeated last)");
  if (points.front().lon != points.back().lon || points.front().lat != points.back().lat)
    throw Error(where + ": the ring is not closed", "repeat the first position at the end of the ring");
  // Every pair of non-adjacent edges must be disjoint.
  const size_t n = points.size() - 1;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      if (j == i + 1 || (i == 0 && j == n - 1)) continue;
      if (SegmentsIntersect(points[i], points[i + 1], points[j], points[j + 1]))
        throw Error(fmt::format("{}: the ring intersects itself (edges {} and {})", where, i + 1, j + 1));
    }
  return points;
}

Polygon ParsePolygon(const json& coordinates, const std::string& where) {
  if (!coordinates.is_array() || coordinates.empty())
    throw Error(where + ": 'coordinates' must be a non-empty array of rings");
  Polygon polygon;
  for (size_t r = 0; r < coordinates.size(); ++r)
    polygon.rings.push_back(ParseRing(coordinates[r], fmt::format("{}, ring {}", where, r + 1)));
  return polygon;
}

bool RingContains(const std::vector<Point>& ring, Point p) {
  bool inside = false;
  for (size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
    const Point& a = ring[i];
    const Point& b = ring[j];
    if ((a.lat > p.lat) != (b.lat > p.lat) &&
        p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon)
      inside = !inside;
  }
  return inside;
}

}  // namespace

Area Area::FromGeoJson(const json& geojson) {
  if (!geojson.is_object() || !geojson.contains("type") || !geojson["type"].is_string())
    throw Error("not a GeoJSON object (no \"type\")",
                "give a Polygon or MultiPolygon geometry, or a Feature");
  const std::string type = geojson["type"];
  if (type == "FeatureCollection") {
    const json& features = geojson.value("features", json::array());
    if (!features.is_array() || features.size() != 1)
      throw Error("a FeatureCollection must hold exactly one Feature here");
    return FromGeoJson(features[0]);
  }
  if (type == "Feature") {
    if (!geojson.contains("geometry")) throw Error("the Feature has no geometry");
    return FromGeoJson(geojson["geometry"]);
  }
  if (!geojson.contains("coordinates")) throw Error(fmt::format("the {} has no 'coordinates'", type));
  Area area;
  if (type == "Polygon") {
    area.polygons.push_back(ParsePolygon(geojson["coordinates"], "polygon"));
  } else if (type == "MultiPolygon") {
    const json& polygons = geojson["coordinates"];
    if (!polygons.is_array() || polygons.empty())
      throw Error("MultiPolygon: 'coordinates' must be a non-empty array");
    for (size_t i = 0; i < polygons.size(); ++i)
      area.polygons.push_back(ParsePolygon(polygons[i], fmt::format("polygon {}", i + 1)));
  } else {
    throw Error(fmt::format("unsupported GeoJSON type '{}'", type),
                "a neighbourhood's area is a Polygon or MultiPolygon");
  }
  return area;
}

json Area::ToGeoJson() const {
  auto polygon_json = [](const Polygon& polygon) {
    json rings = json::array();
    for (const auto& ring : polygon.rings) {
      json positions = json::array();
      for (const Point& p : ring) positions.push_back({p.lon, p.lat});
      rings.push_back(positions);
    }
    return rings;
  };
  if (polygons.size() == 1) return {{"type", "Polygon"}, {"coordinates", polygon_json(polygons[0])}};
  json all = json::array();
  for (const Polygon& polygon : polygons) all.push_back(polygon_json(polygon));
  return {{"type", "MultiPolygon"}, {"coordinates", all}};
}

BoundingBox Area::Bounds() const {
  BoundingBox box{180, 90, -180, -90};
  for (const Polygon& polygon : polygons)
    for (const Point& p : polygon.rings.front()) {
      box.min_lon = std::min(box.min_lon, p.lon);
      box.min_lat = std::min(box.min_lat, p.lat);
      box.max_lon = std::max(box.max_lon, p.lon);
      box.max_lat = std::max(box.max_lat, p.lat);
    }
  return box;
}

bool Area::Contains(Point p) const {
  for (const Polygon& polygon : polygons) {
    if (!RingContains(polygon.rings.front(), p)) continue;
    bool in_hole = std::any_of(polygon.rings.begin() + 1, polygon.rings.end(),
                               [&](const auto& hole) { return RingContains(hole, p); });
    if (!in_hole) return true;
  }
  return false;
}

}  // namespace voisinage
