// The firmware's notion of wall-clock time (ARCHITECTURE.md "Directions": no direct
// std::chrono::system_clock in firmware code), so tests and QA scenarios can run time by hand.
#pragma once

#include <chrono>
#include <cstdint>

namespace mesim::core {

class FirmwareClock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  using duration = std::chrono::system_clock::duration;

  virtual ~FirmwareClock() = default;
  virtual time_point now() const = 0;
};

// Real time.
class SystemFirmwareClock final : public FirmwareClock {
 public:
  time_point now() const override;
};

// Time that moves only when told to (tests, scenarios).
class ManualFirmwareClock final : public FirmwareClock {
 public:
  explicit ManualFirmwareClock(time_point start = time_point{}) : now_(start) {}
  time_point now() const override { return now_; }
  void set(time_point t) { now_ = t; }
  void advance(duration d) { now_ += d; }

 private:
  time_point now_;
};

// Seconds since the Unix epoch, the unit AMT uses in its timestamps.
inline std::uint32_t unixSeconds(FirmwareClock::time_point t) {
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace mesim::core
