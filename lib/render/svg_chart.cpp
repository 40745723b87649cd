#include "lib/render/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

#include "lib/render/template.h"
#include "lib/text/strings.h"

namespace voisinage {

namespace {

constexpr int kWidth = 640;
constexpr int kPlotLeft = 48, kPlotRight = 12, kPlotTop = 34, kPlotHeight = 180;

// A round axis maximum at or above `value`: four grid steps of 1, 2 or 5 × 10^n, so that counts get whole
// numbers on the axis (0, 5, 10, 15, 20 rather than 0, 12.5, 25...).
double NiceMax(double value) {
  if (value <= 0) return 4;
  const double step = value / 4;
  const double magnitude = std::pow(10.0, std::floor(std::log10(step)));
  for (double nice : {1.0, 2.0, 5.0, 10.0})
    if (step <= nice * magnitude) return 4 * nice * magnitude;
  return 40 * magnitude;
}

std::string Number(double value) {
  std::string text = value == std::floor(value) ? fmt::format("{:.0f}", value) : fmt::format("{:.1f}", value);
  std::replace(text.begin(), text.end(), '.', ',');  // French decimal comma
  return text;
}

std::string Open(const std::string& title, int height, const std::string& description) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" width=\"100%\" role=\"img\" "
      "font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"11\">"
      "<title>{2}</title><desc>{3}</desc>"
      "<text x=\"0\" y=\"16\" font-size=\"13\" font-weight=\"bold\" fill=\"#1a1a1a\">{2}</text>",
      kWidth, height, EscapeHtml(title), EscapeHtml(description));
}

// Horizontal grid lines and their values, for column and line charts.
std::string Grid(double max) {
  std::string svg;
  for (int i = 0; i <= 4; ++i) {
    const double y = kPlotTop + kPlotHeight - kPlotHeight * i / 4.0;
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#d0d0d0\"/>"
        "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#3a3a3a\">{}</text>",
        kPlotLeft, y, kWidth - kPlotRight, y, kPlotLeft - 6, y + 4, Number(max * i / 4.0));
  }
  return svg;
}

// Labels under the plot, thinned out so that they do not overlap.
std::string XLabels(const std::vector<std::string>& labels, double slot) {
  std::string svg;
  const size_t every = std::max<size_t>(1, static_cast<size_t>(std::ceil(64.0 / std::max(slot, 1.0))));
  for (size_t i = 0; i < labels.size(); i += every)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\" fill=\"#3a3a3a\">{}</text>",
                       kPlotLeft + slot * (static_cast<double>(i) + 0.5), kPlotTop + kPlotHeight + 16,
                       EscapeHtml(labels[i]));
  return svg;
}

std::string Legend(const std::vector<ChartSeries>& series, int y) {
  if (series.size() < 2) return "";
  std::string svg;
  int x = kPlotLeft;
  for (const ChartSeries& s : series) {
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\" fill=\"#1a1a1a\">{}</text>",
        x, y, EscapeHtml(s.colour), x + 16, y + 10, EscapeHtml(s.name));
    x += 24 + static_cast<int>(s.name.size()) * 7;
  }
  return svg;
}

double MaxOf(const std::vector<ChartSeries>& series) {
  double max = 0;
  for (const ChartSeries& s : series)
    for (double v : s.values) max = std::max(max, v);
  return NiceMax(max);
}

std::string Describe(const std::vector<std::string>& labels, const std::vector<ChartSeries>& series) {
  std::string text;
  for (const ChartSeries& s : series) {
    text += s.name + " : ";
    for (size_t i = 0; i < labels.size() && i < s.values.size(); ++i)
      text += fmt::format("{}{} {}", i ? ", " : "", labels[i], Number(s.values[i]));
    text += ". ";
  }
  return text;
}

}  // namespace

namespace {

// Column and line charts share their frame: title, grid, the labels below, the legend. `draw` adds the
// marks, given the axis maximum and the width of one label's slot.
std::string PlotChart(const std::string& title, const std::vector<std::string>& labels,
                      const std::vector<ChartSeries>& series,
                      const std::function<std::string(double max, double slot)>& draw) {
  const int height = kPlotTop + kPlotHeight + 44;
  std::string svg = Open(title, height, Describe(labels, series));
  const double max = MaxOf(series);
  svg += Grid(max);
  const double slot =
      (kWidth - kPlotLeft - kPlotRight) / std::max<double>(1, static_cast<double>(labels.size()));
  svg += draw(max, slot);
  svg += XLabels(labels, slot);
  svg += Legend(series, kPlotTop + kPlotHeight + 26);
  return svg + "</svg>";
}

}  // namespace

std::string ColumnChart(const std::string& title, const std::vector<std::string>& labels,
                        const std::vector<ChartSeries>& series) {
  return PlotChart(title, labels, series, [&](double max, double slot) {
    std::string marks;
    const double bar = slot * 0.8 / std::max<double>(1, static_cast<double>(series.size()));
    for (size_t s = 0; s < series.size(); ++s)
      for (size_t i = 0; i < labels.size() && i < series[s].values.size(); ++i) {
        const double h = kPlotHeight * series[s].values[i] / max;
        marks +=
            fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"/>",
                        kPlotLeft + slot * static_cast<double>(i) + slot * 0.1 + bar * static_cast<double>(s),
                        kPlotTop + kPlotHeight - h, bar, h, EscapeHtml(series[s].colour));
      }
    return marks;
  });
}

std::string LineChart(const std::string& title, const std::vector<std::string>& labels,
                      const std::vector<ChartSeries>& series) {
  return PlotChart(title, labels, series, [&](double max, double slot) {
    std::string marks;
    for (const ChartSeries& s : series) {
      std::string points;
      for (size_t i = 0; i < labels.size() && i < s.values.size(); ++i)
        points += fmt::format("{:.1f},{:.1f} ", kPlotLeft + slot * (static_cast<double>(i) + 0.5),
                              kPlotTop + kPlotHeight - kPlotHeight * s.values[i] / max);
      marks += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"/>",
                           points, EscapeHtml(s.colour));
    }
    return marks;
  });
}

std::string BarChart(const std::string& title, const std::vector<std::string>& labels,
                     const std::vector<double>& values, const std::string& unit, const std::string& colour) {
  constexpr int kRow = 22, kLabelWidth = 280;
  const int height = kPlotTop + kRow * static_cast<int>(labels.size()) + 8;
  std::string svg = Open(title, height, Describe(labels, {{unit, values, colour}}));
  double max = 0;
  for (double v : values) max = std::max(max, v);
  max = NiceMax(max);
  const double span = kWidth - kLabelWidth - 60;
  for (size_t i = 0; i < labels.size() && i < values.size(); ++i) {
    const double y = kPlotTop + kRow * static_cast<double>(i);
    const double w = span * values[i] / max;
    const std::string label = Shorten(labels[i], 44);
    svg += fmt::format(
        "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#1a1a1a\">{}</text>"
        "<rect x=\"{}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#1a1a1a\">{} {}</text>",
        kLabelWidth - 6, y + 14, EscapeHtml(label), kLabelWidth, y + 3, w, kRow - 6, EscapeHtml(colour),
        kLabelWidth + w + 4, y + 14, Number(values[i]), EscapeHtml(unit));
  }
  return svg + "</svg>";
}

}  // namespace voisinage
