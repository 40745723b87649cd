#pragma once

// Charts as inline SVG, for one-file reports that need neither the network nor JavaScript. Each chart is an
// <svg role="img"> with a <title> and <desc>, so a screen reader announces it; reports also give the figures
// as a table.

#include <string>
#include <vector>

namespace voisinage {

struct ChartSeries {
  std::string name;
  std::vector<double> values;  ///< one per label
  std::string colour;          ///< CSS colour, e.g. "#1f5f99"
};

/// Vertical columns, one group per label (months...), one column per series, with a legend when there are
/// several series.
std::string ColumnChart(const std::string& title, const std::vector<std::string>& labels,
                        const std::vector<ChartSeries>& series);

/// Lines over the labels, one per series, with a legend.
std::string LineChart(const std::string& title, const std::vector<std::string>& labels,
                      const std::vector<ChartSeries>& series);

/// Horizontal bars, one per label (categories...), the value written at the end of each bar with `unit`.
std::string BarChart(const std::string& title, const std::vector<std::string>& labels,
                     const std::vector<double>& values, const std::string& unit, const std::string& colour);

}  // namespace voisinage
