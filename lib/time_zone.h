#pragma once

#include <chrono>
#include <string>

#include "lib/clock.h"

namespace voisinage {

/// A wall-clock reading in the town's time zone.
struct LocalTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

/// The town's time zone (an IANA name from /usr/share/zoneinfo, such as "Europe/Paris").
///
/// g++ 12 has no std::chrono::tzdb, so conversions go through the C library, which knows one zone per
/// process (the TZ variable): Load() sets it once. A process serves one town, so loading a second, different
/// zone is a programming error and throws. Conversions are thread-safe once loaded.
class TimeZone {
 public:
  /// Throws Error when `name` is not a zone of the system's tz database.
  static TimeZone Load(const std::string& name);

  const std::string& name() const { return name_; }

  LocalTime ToLocal(TimePoint t) const;

  /// The instant of midnight starting `date` ("YYYY-MM-DD") in this zone. Throws Error on a bad date.
  TimePoint LocalMidnight(const std::string& date) const;

  /// "2026-11-29T11:00:00+01:00": the instant in this zone, with its offset (Open311, reports).
  std::string FormatIsoLocal(TimePoint t) const;

  /// "29/11/2026 11:00": how French spreadsheets and letters write a date and time.
  std::string FormatFrench(TimePoint t) const;

 private:
  explicit TimeZone(std::string name) : name_(std::move(name)) {}
  std::chrono::seconds Offset(TimePoint t) const;
  std::string name_;
};

}  // namespace voisinage
