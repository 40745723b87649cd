#include "lib/moderation/dsa_export.h"

#include <nlohmann/json.hpp>

#include "lib/clock.h"
#include "lib/error.h"
#include "lib/text/csv_writer.h"

namespace voisinage {

using nlohmann::json;

std::string DsaCategory(const std::string& reason) {
  if (reason == "scam") return "STATEMENT_CATEGORY_SCAMS_AND_FRAUD";
  if (reason == "harassment") return "STATEMENT_CATEGORY_CYBER_VIOLENCE";
  if (reason == "hate" || reason == "defamation") return "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH";
  if (reason == "privacy") return "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS";
  if (reason == "danger") return "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY";
  if (reason == "minors") return "STATEMENT_CATEGORY_PROTECTION_OF_MINORS";
  if (reason == "spam" || reason == "off_topic") return "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE";
  return "STATEMENT_CATEGORY_OTHER_VIOLATION_TC";  // illegal (by its legal ground) and other
}

namespace {

const std::vector<std::string> kColumns = {"puid",
                                           "decision_visibility",
                                           "end_date_visibility_restriction",
                                           "decision_account",
                                           "end_date_account_restriction",
                                           "account_type",
                                           "decision_ground",
                                           "illegal_content_legal_ground",
                                           "illegal_content_explanation",
                                           "incompatible_content_ground",
                                           "incompatible_content_explanation",
                                           "category",
                                           "content_type",
                                           "content_date",
                                           "application_date",
                                           "decision_facts",
                                           "source_type",
                                           "automated_detection",
                                           "automated_decision",
                                           "territorial_scope",
                                           "content_language"};

std::string Day(const std::string& iso) {
  return iso.size() >= 10 ? iso.substr(0, 10) : iso;
}

}  // namespace

int64_t ExportDecisions(Db& db, const std::string& since, const std::string& format, std::ostream& out) {
  if (format != "jsonl" && format != "csv")
    throw Error(fmt::format("unknown format '{}'", format), "jsonl or csv");
  const std::string from = FormatIso(ParseIso(since));
  SQLite::Statement query(db.sql(), R"sql(
    SELECT d.id, d.target_type, d.target_id, d.action, d.reason, d.automated, coalesce(d.until, ''), d.created_at,
           coalesce((SELECT p.created_at FROM post p WHERE d.target_type = 'post' AND p.id = d.target_id), ''),
           EXISTS (SELECT 1 FROM report r WHERE r.case_id = d.case_id AND r.reason = 'illegal'),
           EXISTS (SELECT 1 FROM report r WHERE r.case_id = d.case_id AND r.reporter_id IS NULL),
           EXISTS (SELECT 1 FROM report r WHERE r.case_id = d.case_id)
    FROM decision d
    WHERE d.created_at >= ? AND d.undone_at IS NULL
      AND d.action IN ('hide', 'remove', 'lock', 'silence', 'suspend', 'ban')
    ORDER BY d.id)sql");
  query.bind(1, from);
  if (format == "csv") out << CsvLine(kColumns) << "\r\n";
  int64_t count = 0;
  while (query.executeStep()) {
    const std::string type = query.getColumn(1).getString(), action = query.getColumn(3).getString();
    const std::string reason = query.getColumn(4).getString(), until = query.getColumn(6).getString();
    const bool automated = query.getColumn(5).getInt() != 0, illegal = reason == "illegal";
    const bool legal_notice = query.getColumn(9).getInt() != 0, flagged = query.getColumn(10).getInt() != 0;
    const bool reported = query.getColumn(11).getInt() != 0;
    json s = json::object();
    // No personal data: the platform's own id of the decision and of the content, nothing about people.
    s["puid"] = fmt::format("voisinage-decision-{}-{}-{}", query.getColumn(0).getInt64(), type,
                            query.getColumn(2).getInt64());
    if (type == "post") {
      s["decision_visibility"] = {action == "remove" ? "DECISION_VISIBILITY_CONTENT_REMOVED"
                                  : action == "hide" ? "DECISION_VISIBILITY_CONTENT_DISABLED"
                                                     : "DECISION_VISIBILITY_OTHER"};
      if (action == "lock") s["decision_visibility_other"] = "replies closed";
      s["content_type"] = {"CONTENT_TYPE_TEXT"};
      s["content_date"] = Day(query.getColumn(8).getString());
    } else {
      s["decision_account"] = action == "ban" ? "DECISION_ACCOUNT_TERMINATED" : "DECISION_ACCOUNT_SUSPENDED";
      if (!until.empty()) s["end_date_account_restriction"] = Day(until);
      s["account_type"] = "ACCOUNT_TYPE_PRIVATE";
      s["content_type"] = {"CONTENT_TYPE_OTHER"};
      s["content_type_other"] = "member account";
      s["content_date"] = Day(query.getColumn(7).getString());
    }
    if (illegal) {
      s["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT";
      s["illegal_content_legal_ground"] = "French law, as stated in the legal notice received";
      s["illegal_content_explanation"] =
          "Content reported by a legal notice and found illegal by a moderator.";
    } else {
      s["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT";
      s["incompatible_content_ground"] = "Community rules of the town's neighbourhood platform: " + reason;
      s["incompatible_content_explanation"] = "The content breaks the community rule on " + reason + ".";
    }
    s["category"] = DsaCategory(reason);
    s["application_date"] = Day(query.getColumn(7).getString());
    s["decision_facts"] = fmt::format("Decision '{}' on ground '{}'.", action, reason);
    s["source_type"] = legal_notice ? "SOURCE_ARTICLE_16"
                       : reported   ? "SOURCE_TYPE_OTHER_NOTIFICATION"
                                    : "SOURCE_VOLUNTARY";
    s["automated_detection"] = automated || flagged ? "Yes" : "No";
    s["automated_decision"] = automated ? "AUTOMATED_DECISION_FULLY" : "AUTOMATED_DECISION_NOT_AUTOMATED";
    s["territorial_scope"] = {"FR"};
    s["content_language"] = "FR";
    if (format == "jsonl") {
      out << s.dump() << '\n';
    } else {
      std::vector<std::string> row;
      for (const std::string& column : kColumns) {
        const json& v = s.value(column, json());
        row.push_back(v.is_null() ? "" : v.is_string() ? v.get<std::string>() : v.dump());
      }
      out << CsvLine(row) << "\r\n";
    }
    ++count;
  }
  return count;
}

}  // namespace voisinage
