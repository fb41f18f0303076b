#include "firmware/core/clock_text.h"

#include <charconv>
#include <cstdio>

namespace mesim::core {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

constexpr const char* kDecimal = "expected a decimal number such as 120 or 0.25 (digits, optionally '.' and up to nine digits)";

// A fixed-width run of digits.
bool digitsAt(std::string_view text, std::size_t at, std::size_t width, int& out) {
  if (at + width > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + width; ++i) {
    if (!isDigit(text[i])) return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

// "DIGITS[.DIGITS]": the whole part (at most `maxWholeDigits` digits) and the fraction in nanoseconds (at most nine
// digits). An empty optional with `why` set when it is not such a number.
struct Decimal {
  std::int64_t whole = 0;
  std::int64_t nanos = 0;
};
std::optional<Decimal> parseDecimal(std::string_view text, std::size_t maxWholeDigits, std::string& why) {
  Decimal d;
  std::size_t i = 0;
  while (i < text.size() && isDigit(text[i])) ++i;
  if (i == 0) {
    why = kDecimal;
    return std::nullopt;
  }
  if (i > maxWholeDigits) {
    why = "too large a number";
    return std::nullopt;
  }
  for (std::size_t k = 0; k < i; ++k) d.whole = d.whole * 10 + (text[k] - '0');
  if (i == text.size()) return d;
  if (text[i] != '.') {
    why = kDecimal;
    return std::nullopt;
  }
  const auto fraction = text.substr(i + 1);
  if (fraction.empty() || fraction.size() > 9) {
    why = fraction.empty() ? "expected digits after the '.'" : "at most nine digits after the '.' (nanoseconds)";
    return std::nullopt;
  }
  std::int64_t scale = 100'000'000;
  for (char c : fraction) {
    if (!isDigit(c)) {
      why = kDecimal;
      return std::nullopt;
    }
    d.nanos += (c - '0') * scale;
    scale /= 10;
  }
  return d;
}

}  // namespace

std::string formatUtc(FirmwareClock::time_point t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const auto inDay = duration_cast<microseconds>(t - day);
  const hh_mm_ss<microseconds> time{inDay};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), static_cast<long long>(time.subseconds().count()));
  return buf;
}

Result<FirmwareClock::time_point> parseUtc(std::string_view text) {
  using namespace std::chrono;
  const std::string expected = "an ISO-8601 UTC time such as 2030-01-02T03:04:05Z or 2030-01-02T03:04:05.250Z";
  int y, mo, d, h, mi, s;
  if (text.size() < 20 || !digitsAt(text, 0, 4, y) || text[4] != '-' || !digitsAt(text, 5, 2, mo) || text[7] != '-' ||
      !digitsAt(text, 8, 2, d) || (text[10] != 'T' && text[10] != 't') || !digitsAt(text, 11, 2, h) ||
      text[13] != ':' || !digitsAt(text, 14, 2, mi) || text[16] != ':' || !digitsAt(text, 17, 2, s))
    return fail("expected " + expected);
  const year_month_day date{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!date.ok() || h > 23 || mi > 59 || s > 59) return fail("no such date or time of day (expected " + expected + ")");
  auto rest = text.substr(19);
  nanoseconds fraction{0};
  if (!rest.empty() && rest[0] == '.') {
    std::size_t i = 1;
    while (i < rest.size() && isDigit(rest[i])) ++i;
    if (i == 1 || i > 10) return fail("expected one to nine digits after the '.'");
    std::string why;
    auto decimal = parseDecimal(std::string("0").append(rest.substr(0, i)), 1, why);
    if (!decimal) return fail(why);
    fraction = nanoseconds(decimal->nanos);
    rest.remove_prefix(i);
  }
  if (rest != "Z" && rest != "z") return fail("expected a UTC time ending in Z, such as 2030-01-02T03:04:05Z");
  const auto t = time_point_cast<FirmwareClock::duration>(sys_days(date) + hours(h) + minutes(mi) + seconds(s) + fraction);
  if (t < kEarliestClockTime || t > kLatestClockTime)
    return fail("must be from 1970-01-01T00:00:00Z to 2099-12-31T23:59:59Z");
  return t;
}

Result<FirmwareClock::duration> parseSeconds(std::string_view text) {
  std::string why;
  auto decimal = parseDecimal(text, 18, why);
  if (!decimal) return fail(why);
  if (decimal->whole > kLongestAdvance.count())
    return fail("must be at most " + std::to_string(kLongestAdvance.count()) + " (ten years)");
  const std::chrono::nanoseconds span = std::chrono::seconds(decimal->whole) + std::chrono::nanoseconds(decimal->nanos);
  if (span <= span.zero()) return fail("must be more than 0");
  if (span > kLongestAdvance) return fail("must be at most " + std::to_string(kLongestAdvance.count()) + " (ten years)");
  return std::chrono::duration_cast<FirmwareClock::duration>(span);
}

Result<ClockSetting> parseClockMode(std::string_view text) {
  ClockSetting setting;
  if (text == "real") return setting;
  if (text == "manual") {
    setting.mode = ClockSetting::Mode::Manual;
    return setting;
  }
  constexpr std::string_view kScaled = "scaled:";
  if (text.substr(0, kScaled.size()) != kScaled)
    return fail("'" + std::string(text) + "': takes real, scaled:N (e.g. scaled:60, scaled:0.5) or manual");
  const auto number = text.substr(kScaled.size());
  std::string why;
  if (!parseDecimal(number, 7, why)) return fail("scaled:N takes a decimal factor such as 60 or 0.5: " + why);
  double scale = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), scale);
  if (ec != std::errc{} || end != number.data() + number.size()) return fail("scaled:N takes a decimal factor such as 60 or 0.5");
  if (scale < ScaledFirmwareClock::kMinScale || scale > ScaledFirmwareClock::kMaxScale)
    return fail("scaled:N takes a factor from 0.001 to 1000000");
  setting.mode = ClockSetting::Mode::Scaled;
  setting.scale = scale;
  return setting;
}

}  // namespace mesim::core
