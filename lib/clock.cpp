#include "lib/clock.h"

#include <charconv>

#include <fmt/format.h>

#include "lib/error.h"

namespace voisinage {

using namespace std::chrono;

TimePoint Now() {
  return floor<seconds>(system_clock::now());
}

std::string FormatIso(TimePoint t) {
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", int(ymd.year()), unsigned(ymd.month()),
                     unsigned(ymd.day()), hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

std::string NowIso() {
  return FormatIso(Now());
}

namespace {

bool ReadInt(std::string_view text, size_t pos, size_t len, int& out) {
  if (pos + len > text.size()) return false;
  const char* begin = text.data() + pos;
  auto [end, ec] = std::from_chars(begin, begin + len, out);
  return ec == std::errc() && end == begin + len;
}

}  // namespace

TimePoint ParseIso(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  bool ok = (text.size() == 10 || (text.size() == 20 && text[10] == 'T' && text[19] == 'Z' &&
                                   text[13] == ':' && text[16] == ':')) &&
            text[4] == '-' && text[7] == '-' && ReadInt(text, 0, 4, y) && ReadInt(text, 5, 2, mo) &&
            ReadInt(text, 8, 2, d);
  if (ok && text.size() == 20)
    ok = ReadInt(text, 11, 2, h) && ReadInt(text, 14, 2, mi) && ReadInt(text, 17, 2, s);
  const year_month_day ymd{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
  if (!ok || !ymd.ok() || h > 23 || mi > 59 || s > 59)
    throw Error(fmt::format("invalid date '{}'", text), "use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

seconds ParseDuration(const std::string& text) {
  long long n = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  auto [unit, ec] = std::from_chars(begin, end, n);
  if (ec != std::errc() || n <= 0 || unit + 1 != end)
    throw Error(fmt::format("invalid duration '{}'", text),
                "write a positive number and a unit: 90m, 12h, 30d, 2w");
  switch (*unit) {
    case 'm':
      return minutes{n};
    case 'h':
      return hours{n};
    case 'd':
      return days{n};
    case 'w':
      return weeks{n};
  }
  throw Error(fmt::format("invalid duration '{}'", text),
              "write a positive number and a unit: 90m, 12h, 30d, 2w");
}

}  // namespace voisinage

namespace voisinage {

std::string FrenchDate(TimePoint t) {
  static const char* const kMonths[] = {"janvier", "février", "mars",      "avril",   "mai",      "juin",
                                        "juillet", "août",    "septembre", "octobre", "novembre", "décembre"};
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  unsigned day = unsigned(ymd.day());
  return fmt::format("{}{} {} {}", day, day == 1 ? "er" : "", kMonths[unsigned(ymd.month()) - 1],
                     int(ymd.year()));
}

}  // namespace voisinage
