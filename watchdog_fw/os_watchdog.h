// The OS (HECI) watchdog of the ME (spec/mei.md §3, spec/wsman.md §3.5 "OS (HECI) watchdog"): one timer per
// platform, armed and re-armed by START_WD_TIMER (every heartbeat re-sends it), disarmed by STOP. If it runs
// out the host is presumed hung: an OS-hang record (PET sensor type 0x20 "OS stop", offset 1 run-time
// critical stop) goes to AMT_MessageLog, PLAT0322 is alerted, and IPS_WatchDogAction.HeciWatchDogExpirationAction
// decides whether the host is reset. Timers run only while the host is on; leaving S0 disarms it (the OS that
// armed it is gone).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/agent_presence.h"
#include "watchdog_fw/watchdog_events.h"

namespace mesim::watchdog {

class OsWatchdog {
 public:
  enum class State { Idle, Running, Expired };
  using SettingsSource = std::function<platform::WatchdogActionSettings()>;

  OsWatchdog(core::FirmwareTimerQueue& timers, WatchdogEvents& events, SettingsSource settings);
  ~OsWatchdog();
  OsWatchdog(const OsWatchdog&) = delete;
  OsWatchdog& operator=(const OsWatchdog&) = delete;

  // Arms (or re-arms) for `timeoutSeconds` from now; 0 is refused by the caller (wd codec).
  void start(std::uint16_t timeoutSeconds);
  void stop();
  // The host left S0: whatever was running stops without an event.
  void hostPoweredDown();

  State state() const { return state_; }
  std::uint16_t timeout() const { return timeout_; }
  std::optional<core::FirmwareTimerQueue::time_point> deadline() const;
  std::uint64_t expiries() const { return expiries_; }
  // Called right after each expiry (tests, the daemon's status).
  void onExpired(std::function<void()> callback) { onExpired_ = std::move(callback); }

  const log::Context& logContext() const { return events_.logContext(); }

 private:
  void expire();

  core::FirmwareTimerQueue& timers_;
  WatchdogEvents& events_;
  SettingsSource settings_;
  State state_ = State::Idle;
  std::uint16_t timeout_ = 0;
  core::FirmwareTimerQueue::TimerId timer_ = 0;
  std::uint64_t expiries_ = 0;
  std::function<void()> onExpired_;
};

const char* toString(OsWatchdog::State state);

}  // namespace mesim::watchdog
