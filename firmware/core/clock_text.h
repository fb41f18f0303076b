// The clock's texts that cross a boundary (the command line, the control API): ISO-8601 UTC instants, spans of
// seconds with a fraction, and the --clock mode. Strict: what does not parse whole is refused with a message that
// says what is expected (tests/fuzz/fuzz_clock_text.cpp).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "firmware/core/firmware_clock.h"

namespace mesim::core {

// Instants a clock may be set to: from the epoch to the end of 2099 (AMT keeps time as 32-bit Unix seconds).
inline constexpr FirmwareClock::time_point kEarliestClockTime{};
inline constexpr FirmwareClock::time_point kLatestClockTime{std::chrono::seconds(4'102'444'799)};  // 2099-12-31T23:59:59Z
// The longest single move of a manual clock: ten years of 365.25 days.
inline constexpr std::chrono::seconds kLongestAdvance{315'576'000};

// "2025-01-02T03:04:05.250000Z": UTC, always six fraction digits.
std::string formatUtc(FirmwareClock::time_point t);
// "YYYY-MM-DDThh:mm:ss[.f...]Z" (up to nine fraction digits; lower-case t and z too), a date that exists,
// within kEarliestClockTime..kLatestClockTime.
Result<FirmwareClock::time_point> parseUtc(std::string_view text);
// "120", "0.25", "1.5": decimal seconds (up to nine fraction digits), more than 0 and at most kLongestAdvance.
Result<FirmwareClock::duration> parseSeconds(std::string_view text);
// "real", "scaled:N" (N decimal, ScaledFirmwareClock::kMinScale..kMaxScale) or "manual"; the start is not set.
Result<ClockSetting> parseClockMode(std::string_view text);

}  // namespace mesim::core
