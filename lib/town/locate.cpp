#include "lib/town/locate.h"

#include <nlohmann/json.hpp>

namespace voisinage {

Locator Locator::Load(Db& db) {
  Locator locator;
  SQLite::Statement areas(
      db.sql(), "SELECT id, slug, polygon FROM neighbourhood WHERE archived_at IS NULL ORDER BY slug");
  while (areas.executeStep()) {
    int64_t id = areas.getColumn(0).getInt64();
    bool has_area = !areas.getColumn(2).isNull();
    locator.has_area_[id] = has_area;
    if (!has_area) continue;
    Area area = Area::FromGeoJson(nlohmann::json::parse(areas.getColumn(2).getString()));
    BoundingBox box = area.Bounds();
    locator.with_area_.push_back({id, areas.getColumn(1).getString(), std::move(area), box});
  }
  SQLite::Statement postcodes(db.sql(), R"sql(
    SELECT p.postcode, n.id, n.slug FROM neighbourhood_postcode p JOIN neighbourhood n ON n.id = p.neighbourhood_id
    WHERE n.archived_at IS NULL ORDER BY n.slug)sql");
  while (postcodes.executeStep())
    locator.by_postcode_[postcodes.getColumn(0).getString()].emplace_back(postcodes.getColumn(1).getInt64(),
                                                                          postcodes.getColumn(2).getString());
  return locator;
}

Location Locator::Locate(const std::optional<Point>& point, const std::string& postcode) const {
  Location location;
  if (point) {
    for (const Entry& entry : with_area_)
      if (entry.box.Contains(*point) && entry.area.Contains(*point)) {
        location.neighbourhood_id = entry.id;
        location.slug = entry.slug;
        location.method = "polygon";
        return location;
      }
  }
  auto it = by_postcode_.find(postcode);
  if (postcode.empty() || it == by_postcode_.end()) return location;
  for (const auto& [id, slug] : it->second)
    if (!point || !has_area_.at(id)) location.candidates.push_back(slug);
  if (location.candidates.size() == 1) {
    location.slug = location.candidates.front();
    for (const auto& [id, slug] : it->second)
      if (slug == location.slug) location.neighbourhood_id = id;
    location.method = "postcode";
    location.candidates.clear();
  }
  return location;
}

}  // namespace voisinage
