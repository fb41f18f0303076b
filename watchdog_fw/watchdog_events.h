// What a watchdog raises (ARCHITECTURE.md "Crash alert"): a 21-byte AMT_MessageLog record (spec/wsman.md §3.6),
// an alert on the AlertBus for every subscriber, and the IPS_WatchDogAction host reset through the host power
// state machine. Raised events are queued (time-stamped when raised) and written together after a short batch
// window, so 10,000 watchdogs expiring together cost one platform write (an fsync) rather than one per loop turn,
// and the write does not hold up the expiries still due. The window is firmware time (a timer on the device's
// queue): on a manual clock the write, the alerts and a reset action happen within the same advance as the expiry,
// 20 ms of firmware time after it, and what they cause (a reset re-arming timers) is timed from there.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/events/alert.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_model.h"

namespace mesim::watchdog {

class WatchdogEvents {
 public:
  // `power` and `alerts` may be null (no reset action possible / nobody listens).
  WatchdogEvents(core::FirmwareTimerQueue& timers, platform::PlatformModel& platform,
                 platform::HostPowerStateMachine* power, events::AlertBus* alerts);
  ~WatchdogEvents();
  WatchdogEvents(const WatchdogEvents&) = delete;
  WatchdogEvents& operator=(const WatchdogEvents&) = delete;

  void setPower(platform::HostPowerStateMachine* power) { power_ = power; }
  void setAlertBus(events::AlertBus* alerts) { alerts_ = alerts; }

  // Queues a message-log record (time-stamped now) and, if `alert.messageId` is set, an alert.
  void raise(const platform::MessageLogEvent& record, events::Alert alert);
  // Queues a host reset (CIM code 10, master bus reset) with an iAMT0070 alert; `why` goes to the log.
  void resetHost(std::string why);
  static constexpr std::chrono::milliseconds kBatchWindow{20};
  // Writes and publishes what is queued now (a firmware timer does it kBatchWindow after the first raise; tests
  // call it).
  void flush();

  struct Stats {
    std::uint64_t records = 0;
    std::uint64_t alerts = 0;
    std::uint64_t resets = 0;
    std::uint64_t writeFailures = 0;
  };
  const Stats& stats() const { return stats_; }

  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  void schedule();

  core::FirmwareTimerQueue& timers_;
  platform::PlatformModel& platform_;
  const core::FirmwareClock& clock_;
  platform::HostPowerStateMachine* power_;
  events::AlertBus* alerts_;
  std::vector<std::vector<std::uint8_t>> records_;
  std::vector<events::Alert> pendingAlerts_;
  std::vector<std::string> resets_;
  core::FirmwareTimerQueue::TimerId batch_ = 0;  // the flush, while something is queued
  Stats stats_;
};

}  // namespace mesim::watchdog
