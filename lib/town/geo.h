#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace voisinage {

/// A WGS84 position, in GeoJSON order (longitude first).
struct Point {
  double lon = 0;
  double lat = 0;
};

/// Parses "LAT,LON" (the order people write and GPS apps copy). Throws Error naming the text.
Point ParseLatLon(const std::string& text);

/// A polygon: an exterior ring then holes; every ring closed (first position repeated last).
struct Polygon {
  std::vector<std::vector<Point>> rings;
};

struct BoundingBox {
  double min_lon, min_lat, max_lon, max_lat;
  bool Contains(Point p) const {
    return p.lon >= min_lon && p.lon <= max_lon && p.lat >= min_lat && p.lat <= max_lat;
  }
};

/// A neighbourhood's area: one or more polygons (a GeoJSON Polygon or MultiPolygon).
struct Area {
  std::vector<Polygon> polygons;

  /// Accepts a GeoJSON Polygon or MultiPolygon geometry, a Feature holding one, or a FeatureCollection
  /// holding exactly one such Feature. Validates ranges, closed rings of at least four positions and the
  /// absence of self-intersections. Throws Error saying what is wrong and where (ring, position).
  static Area FromGeoJson(const nlohmann::json& geojson);

  /// The canonical geometry: a Polygon for one polygon, else a MultiPolygon.
  nlohmann::json ToGeoJson() const;

  BoundingBox Bounds() const;

  /// True when `p` lies inside a polygon's exterior ring and outside its holes.
  bool Contains(Point p) const;
};

}  // namespace voisinage
