#pragma once

#include <string>
#include <vector>

namespace voisinage {

/// The roles a member can hold, least privileged first.
const std::vector<std::string>& Roles();

/// Roles that act for the town or moderate: their posts are never hidden automatically.
bool IsStaffRole(const std::string& role);

/// Each Validate* throws Error naming the value and the rule when the value is invalid.
void ValidateSlug(const std::string& slug);          ///< 2..40 of a-z 0-9 '-', starting with a letter
void ValidateCategoryCode(const std::string& code);  ///< 2..40 of a-z 0-9 '_' '-', starting with a letter
void ValidateInsee(const std::string& insee);        ///< 5 digits, or 2A/2B and 3 digits (Corsica)
void ValidatePostcode(const std::string& postcode);  ///< 5 digits, département 01..98
void ValidateEmail(const std::string& email);        ///< one '@', a dot in the domain, no spaces
void ValidateRole(const std::string& role);          ///< one of Roles(), with a suggestion otherwise
void ValidateTimezone(const std::string& timezone);  ///< an IANA zone known to the system (tzdata)
void ValidateName(const std::string& what, const std::string& name);  ///< 1..120 characters, no control chars
void ValidateUrl(const std::string& url);  ///< http:// or https://, a host, no spaces

}  // namespace voisinage
