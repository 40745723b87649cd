#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/store/db.h"
#include "lib/town/geo.h"

namespace voisinage {

/// Where Locator found a neighbourhood, or why it did not.
struct Location {
  int64_t neighbourhood_id = 0;  ///< 0 when not found
  std::string slug;
  std::string method;                   ///< "polygon" or "postcode" when found
  std::vector<std::string> candidates;  ///< when a postcode matches several neighbourhoods
  bool found() const { return neighbourhood_id != 0; }
};

/// Decides which active neighbourhood an address belongs to: the polygon containing the point first, then
/// the single neighbourhood that lists the postcode. Built once from the database, then used for any
/// number of lookups (imports locate a million rows with one Locator).
class Locator {
 public:
  static Locator Load(Db& db);

  /// A point outside every polygon only matches, by postcode, neighbourhoods that have no polygon.
  Location Locate(const std::optional<Point>& point, const std::string& postcode) const;

 private:
  struct Entry {
    int64_t id;
    std::string slug;
    Area area;
    BoundingBox box;
  };
  std::vector<Entry> with_area_;
  std::unordered_map<std::string, std::vector<std::pair<int64_t, std::string>>> by_postcode_;  // id, slug
  std::unordered_map<int64_t, bool> has_area_;
};

}  // namespace voisinage
