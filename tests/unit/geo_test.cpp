#include <catch2/catch.hpp>

#include "lib/error.h"
#include "lib/town/geo.h"

using namespace voisinage;
using nlohmann::json;

namespace {

json Square(double lon, double lat, double size) {
  return {{"type", "Polygon"},
          {"coordinates",
           {{{lon, lat}, {lon + size, lat}, {lon + size, lat + size}, {lon, lat + size}, {lon, lat}}}}};
}

}  // namespace

TEST_CASE("a point inside a polygon and outside its hole") {
  json polygon = Square(2.0, 48.0, 1.0);
  polygon["coordinates"].push_back({{2.4, 48.4}, {2.6, 48.4}, {2.6, 48.6}, {2.4, 48.6}, {2.4, 48.4}});
  Area area = Area::FromGeoJson(polygon);
  CHECK(area.Contains({2.1, 48.1}));
  CHECK_FALSE(area.Contains({2.5, 48.5}));  // in the hole
  CHECK_FALSE(area.Contains({3.5, 48.5}));
}

TEST_CASE("Features, FeatureCollections and MultiPolygons are accepted") {
  json feature = {{"type", "Feature"}, {"properties", json::object()}, {"geometry", Square(2, 48, 1)}};
  CHECK(Area::FromGeoJson(feature).Contains({2.5, 48.5}));
  json collection = {{"type", "FeatureCollection"}, {"features", {feature}}};
  CHECK(Area::FromGeoJson(collection).polygons.size() == 1);
  json multi = {{"type", "MultiPolygon"},
                {"coordinates", {Square(2, 48, 1)["coordinates"], Square(5, 48, 1)["coordinates"]}}};
  Area area = Area::FromGeoJson(multi);
  CHECK(area.Contains({5.5, 48.5}));
  CHECK(area.ToGeoJson()["type"] == "MultiPolygon");
  BoundingBox box = area.Bounds();
  CHECK(box.min_lon == 2);
  CHECK(box.max_lon == 6);
}

TEST_CASE("invalid polygons are refused with the reason") {
  json open = Square(2, 48, 1);
  open["coordinates"][0].erase(4);
  CHECK_THROWS_WITH(Area::FromGeoJson(open), Catch::Contains("not closed"));

  json bow_tie = {{"type", "Polygon"}, {"coordinates", {{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}}};
  CHECK_THROWS_WITH(Area::FromGeoJson(bow_tie), Catch::Contains("intersects itself"));

  json out_of_range = {{"type", "Polygon"}, {"coordinates", {{{0, 0}, {200, 0}, {1, 1}, {0, 0}}}}};
  CHECK_THROWS_WITH(Area::FromGeoJson(out_of_range), Catch::Contains("out of range"));

  CHECK_THROWS_WITH(Area::FromGeoJson(json{{"type", "Point"}, {"coordinates", {0, 0}}}),
                    Catch::Contains("unsupported GeoJSON type 'Point'"));
  CHECK_THROWS_WITH(Area::FromGeoJson(json::array()), Catch::Contains("not a GeoJSON object"));
}

TEST_CASE("points are written LAT,LON") {
  Point p = ParseLatLon("48.4085, 2.786");
  CHECK(p.lat == Approx(48.4085));
  CHECK(p.lon == Approx(2.786));
  CHECK_THROWS_WITH(ParseLatLon("48.4"), Catch::Contains("invalid point"));
  CHECK_THROWS_WITH(ParseLatLon("148.4,2"), Catch::Contains("out of range"));
}
