#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/grievance/grievance.h"
#include "lib/store/db.h"

namespace voisinage {

/// The version of the exported column sets and JSON fields (voisinage-grievance(1) lists them). Bump it,
/// and document the change, whenever a column is added, removed or changes meaning.
inline constexpr int kGrievanceExportVersion = 1;

/// csv, csv-fr, json, jsonl, geojson, html, md.
const std::vector<std::string>& GrievanceExportFormats();

/// The columns of the csv and csv-fr formats, in order (English names, then French ones).
const std::vector<std::string>& GrievanceCsvColumns();
const std::vector<std::string>& GrievanceCsvFrColumns();

struct GrievanceExport {
  std::string format;
  std::string template_path;  ///< html and md: a town's own mustache template instead of the built-in one
  GrievanceFilter filter;
};

struct ExportCount {
  int64_t written = 0;
  int64_t without_coordinates = 0;  ///< geojson: grievances left out because they have no point
};

/// Writes the grievances matching the filter to `out`, streaming row by row (constant memory whatever the
/// number of grievances; html and md hold the statistics only). Exports never contain reporters' identity
/// or contact data; user-supplied text is escaped for HTML and Markdown, and neutralised for spreadsheets
/// (formulas, bidirectional controls). Throws Error on an unknown format, a bad filter or a template error
/// (file and line, unknown field).
ExportCount ExportGrievances(Db& db, const GrievanceExport& request, std::ostream& out);

/// The data the council report templates receive (the built-in ones and --template): the statistics of
/// GrievanceStats formatted in French, the charts as inline SVG, and the overdue list.
nlohmann::json GrievanceReportData(Db& db, const GrievanceFilter& filter);

}  // namespace voisinage
