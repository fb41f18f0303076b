// The alarm clock (AMT_AlarmClockService; docs/alarm-clock-and-boot.md): the host powers on when AMT's clock reaches
// an alarm's time. AlarmClock follows the alarms in the platform state (AddAlarm and the deprecated
// NextAMTAlarmTime, written by WS-Man) with one firmware-clock timer at the earliest; when it goes off the host
// boots with IPS_HostBootReason 3 (alarm clock) unless it is already on, a recurring alarm moves on by its interval
// past now, a one-shot alarm is deleted (DeleteOnCompletion) or kept as done. AMT's clock is the firmware clock plus
// the offset SetHighAccuracyTimeSynch set. Single-threaded, on the timer queue's loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_model.h"

namespace mesim::platform {

// IPS_AlarmClockOccurrence.Interval as WS-Man carries it, an xs:duration in days, hours, minutes and seconds
// ("P1DT0H0M", "PT30M", "P0DT0H0M" = none); years and months (of no fixed length), fractions and signs are refused.
// At most 49,710 days (the seconds fit 32 bits).
std::optional<std::uint32_t> parseAlarmInterval(std::string_view text);
// "P{d}DT{h}H{m}M", with "{s}S" when the seconds are not whole minutes (the form consoles send).
std::string formatAlarmInterval(std::uint32_t seconds);

inline constexpr std::uint32_t kBootReasonAlarmClock = 3;  // IPS_HostBootReason.Reason

class AlarmClock {
 public:
  AlarmClock(core::FirmwareTimerQueue& timers, PlatformModel& platform, HostPowerStateMachine& power);
  ~AlarmClock();
  AlarmClock(const AlarmClock&) = delete;
  AlarmClock& operator=(const AlarmClock&) = delete;

  // AMT's clock now, Unix seconds (what alarms' times are on).
  std::int64_t amtNow() const;
  // When the next alarm goes off, on the firmware clock; nothing when no alarm is set.
  std::optional<core::FirmwareClock::time_point> nextAlarm() const;
  std::uint64_t alarmsRung() const { return alarmsRung_; }  // times an alarm went off
  std::uint64_t wakes() const { return wakes_; }            // of which the host was off or asleep and powered on
  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  void follow();  // arms the timer for the earliest alarm
  void ring();

  core::FirmwareTimerQueue& timers_;
  PlatformModel& platform_;
  HostPowerStateMachine& power_;
  std::size_t subscription_ = 0;
  core::FirmwareTimerQueue::TimerId timer_ = 0;
  std::optional<core::FirmwareClock::time_point> armedFor_;  // the deadline the timer is armed for
  bool ringing_ = false;
  std::uint64_t alarmsRung_ = 0;
  std::uint64_t wakes_ = 0;
};

}  // namespace mesim::platform
