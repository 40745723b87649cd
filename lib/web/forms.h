#pragma once

// The forms of the web pages: what a resident typed, checked on the server before any library call, with
// a French message next to each field that is wrong, and the values kept to fill the form again.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/grievance/grievance.h"
#include "lib/moderation/moderation.h"
#include "lib/moderation/post.h"

namespace voisinage {

/// The fields of one submitted form and the errors found in them.
struct Form {
  std::map<std::string, std::string> values;  ///< field name → value as typed (CR LF made LF)
  std::map<std::string, std::string> errors;  ///< field name → French message

  /// The value of `field`, empty when absent.
  const std::string& Get(const std::string& field) const;
  bool Checked(const std::string& field) const { return !Get(field).empty(); }
  bool ok() const { return errors.empty(); }
  /// Records `message` for `field` unless the field already has one.
  void Fail(const std::string& field, const std::string& message);
  /// {"values": {...}, "errors": {field: message}, "error_list": [{"field", "message"}...], "has_errors"}:
  /// what the templates show.
  nlohmann::json ToJson() const;
};

/// Reads `fields` from the request's parameters; other parameters are ignored. A value longer than
/// `max_bytes` is cut there (the field's own limit reports it).
Form ReadForm(const std::multimap<std::string, std::string>& params, const std::vector<std::string>& fields,
              size_t max_bytes = 16 * 1024);

/// French labels of the library's codes, for lists and select boxes.
std::string FrenchPostKind(const std::string& kind);
std::string FrenchSubkind(const std::string& subkind);
std::string FrenchReportReason(const std::string& reason);
std::string FrenchDirectoryKind(const std::string& kind);

/// The post described by the post form (kind, subkind, title, body, event_date, event_place); errors in
/// `form` when a field is wrong. A reply only reads `body`.
NewPost PostFromForm(Form& form, bool reply);

/// The report described by the report form (reason, details; for "illegal" notifier_name, notifier_email and
/// good_faith).
NewReport ReportFromForm(Form& form);

/// The grievance described by the grievance form (category among `categories`, title, description, address,
/// postcode, contact_name, contact_email, contact_phone, anonymous). With `anonymous` checked the contact is
/// dropped.
NewGrievance GrievanceFromForm(Form& form, const std::vector<GrievanceCategory>& categories);

/// Checks the join form (code, display_name).
void CheckJoinForm(Form& form);

/// At most `count` submissions per `window` for each key (a client address, a member): what keeps one
/// client from flooding the town hall with grievances. Thread-safe.
class SubmissionLimit {
 public:
  SubmissionLimit(int count, std::chrono::seconds window) : count_(count), window_(window) {}
  /// Counts a submission for `key` and returns true, or returns false when the key has used its count.
  bool Allow(const std::string& key);

 private:
  int count_;
  std::chrono::seconds window_;
  std::mutex mutex_;
  std::map<std::string, std::vector<std::chrono::steady_clock::time_point>> recent_;
};

}  // namespace voisinage
