#include "lib/time_zone.h"

#include <time.h>

#include <cstdlib>
#include <mutex>

#include <fmt/format.h>

#include "lib/error.h"
#include "lib/town/validation.h"

namespace voisinage {

using namespace std::chrono;

namespace {

std::mutex loaded_mutex;
std::string loaded_zone;  // guarded by loaded_mutex

}  // namespace

TimeZone TimeZone::Load(const std::string& name) {
  ValidateTimezone(name);
  std::lock_guard lock(loaded_mutex);
  if (loaded_zone.empty()) {
    setenv("TZ", name.c_str(), 1);
    tzset();
    loaded_zone = name;
  } else if (loaded_zone != name) {
    throw Error(
        fmt::format("time zone '{}' requested after '{}': one process serves one town", name, loaded_zone));
  }
  return TimeZone(name);
}

seconds TimeZone::Offset(TimePoint t) const {
  // Offsets only change on the hour: remember the last hour converted (exports convert millions of times
  // that come in runs).
  thread_local int64_t cached_hour = INT64_MIN;
  thread_local seconds cached_offset{0};
  const int64_t hour = floor<hours>(t).time_since_epoch().count();
  if (hour != cached_hour) {
    time_t when = static_cast<time_t>(t.time_since_epoch().count());
    struct tm local {};
    localtime_r(&when, &local);
    cached_offset = seconds{local.tm_gmtoff};
    cached_hour = hour;
  }
  return cached_offset;
}

LocalTime TimeZone::ToLocal(TimePoint t) const {
  const sys_seconds shifted = t + Offset(t);
  const auto day = floor<days>(shifted);
  const year_month_day ymd{day};
  const hh_mm_ss hms{shifted - day};
  return {int(ymd.year()),          int(unsigned(ymd.month())), int(unsigned(ymd.day())),
          int(hms.hours().count()), int(hms.minutes().count()), int(hms.seconds().count())};
}

TimePoint TimeZone::LocalMidnight(const std::string& date) const {
  if (date.size() != 10) throw Error(fmt::format("invalid date '{}'", date), "use YYYY-MM-DD");
  const TimePoint utc_midnight = ParseIso(date);
  // The offset at midnight is that of the instant itself; try the offset of the UTC reading, then correct
  // once (no zone changes its offset twice within a day).
  TimePoint guess = utc_midnight - Offset(utc_midnight);
  return utc_midnight - Offset(guess);
}

std::string TimeZone::FormatIsoLocal(TimePoint t) const {
  const LocalTime l = ToLocal(t);
  const int64_t offset_minutes = Offset(t).count() / 60;
  const int64_t magnitude = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}", l.year, l.month, l.day, l.hour,
                     l.minute, l.second, offset_minutes < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
}

std::string TimeZone::FormatFrench(TimePoint t) const {
  const LocalTime l = ToLocal(t);
  return fmt::format("{:02}/{:02}/{:04} {:02}:{:02}", l.day, l.month, l.year, l.hour, l.minute);
}

}  // namespace voisinage
