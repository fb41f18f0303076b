// Arbitrary text into the clock's parsers (firmware/core/clock_text.h), which read the control API's
// /clock/advance?seconds= and /clock/set?time= and the --clock / --clock-start options: each either refuses with a
// message or returns a value within its documented bounds; an instant read back from its own text is the same
// instant to the microsecond. Never a crash.
#include <cstdlib>
#include <string_view>

#include "firmware/core/clock_text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mesim::core;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto t = parseUtc(text)) {
    if (*t < kEarliestClockTime || *t > kLatestClockTime) std::abort();
    auto again = parseUtc(formatUtc(*t));
    if (!again || *again != std::chrono::floor<std::chrono::microseconds>(*t)) std::abort();
  } else if (t.error().message.empty()) {
    std::abort();
  }

  if (auto span = parseSeconds(text)) {
    if (*span <= FirmwareClock::duration::zero() || *span > kLongestAdvance) std::abort();
  } else if (span.error().message.empty()) {
    std::abort();
  }

  if (auto setting = parseClockMode(text)) {
    if (setting->mode == ClockSetting::Mode::Scaled &&
        (setting->scale < ScaledFirmwareClock::kMinScale || setting->scale > ScaledFirmwareClock::kMaxScale))
      std::abort();
    if (setting->start) std::abort();
  } else if (setting.error().message.empty()) {
    std::abort();
  }
  return 0;
}
