#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lib/grievance/grievance.h"
#include "lib/store/db.h"

namespace voisinage {

/// Below this many grievances, a category's median and 90th percentile are not shown (null): a "median" of
/// three cases says nothing and may point at one resident.
inline constexpr int kMinGrievancesForFigures = 5;
/// How many of the most overdue grievances the statistics list (all are counted).
inline constexpr int kOverdueListed = 100;

/// The council's figures for the grievances matching `filter` (its statuses filter applies; overdue and
/// limit are ignored), in one pass over the table:
///   received in the period; of those, how many are open, resolved, closed now; the backlog at the end of the
///   period; the age of the open ones; per category the median and 90th percentile days to acknowledge and
///   to resolve, and the share resolved within the category's delay; the overdue ones; top categories,
///   busiest streets and neighbourhoods; unique reporters; reopened and duplicate rates; a per-month series.
/// The JSON layout is documented in voisinage-grievance(1) (it is what `grievance stats --json` prints).
nlohmann::json GrievanceStats(Db& db, const GrievanceFilter& filter);

/// "12 bis rue de la Paix, Thomery" → "rue de la Paix": the street of an address, for the busiest streets.
std::string StreetOf(const std::string& address);

/// The value at fraction `p` (0..1) of `values`, interpolated linearly between ranks; sorts `values`.
double Percentile(std::vector<double>& values, double p);

}  // namespace voisinage
