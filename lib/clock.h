#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace voisinage {

using TimePoint = std::chrono::sys_seconds;

/// The current time, to the second.
TimePoint Now();

/// "2026-11-29T10:00:00Z": how every timestamp is stored.
std::string FormatIso(TimePoint t);

/// FormatIso(Now()).
std::string NowIso();

/// Parses "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ". Throws Error naming the value.
TimePoint ParseIso(std::string_view text);

/// Parses a duration such as "30d", "12h", "2w", "90m". Throws Error naming the value.
std::chrono::seconds ParseDuration(const std::string& text);

}  // namespace voisinage

namespace voisinage {

/// "29 novembre 2026": a date in French for documents printed for residents.
std::string FrenchDate(TimePoint t);

}  // namespace voisinage
