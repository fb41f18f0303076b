#include "watchdog_fw/os_watchdog.h"

#include "common/log.h"

namespace mesim::watchdog {

namespace {
constexpr const char* kLog = "watchdog";
}

const char* toString(OsWatchdog::State state) {
  switch (state) {
    case OsWatchdog::State::Idle: return "idle";
    case OsWatchdog::State::Running: return "running";
    case OsWatchdog::State::Expired: return "expired";
  }
  return "?";
}

OsWatchdog::OsWatchdog(core::FirmwareTimerQueue& timers, WatchdogEvents& events, SettingsSource settings)
    : timers_(timers), events_(events), settings_(std::move(settings)) {}

OsWatchdog::~OsWatchdog() {
  if (timer_) timers_.cancel(timer_);
}

void OsWatchdog::start(std::uint16_t timeoutSeconds) {
  if (timer_) timers_.cancel(timer_);
  if (state_ != State::Running) MESIM_LOG(Info, kLog, "OS watchdog armed for " << timeoutSeconds << " s");
  timeout_ = timeoutSeconds;
  state_ = State::Running;
  timer_ = timers_.scheduleAfter(std::chrono::seconds(timeoutSeconds), [this] {
    timer_ = 0;
    expire();
  });
}

void OsWatchdog::stop() {
  if (timer_) timers_.cancel(timer_);
  timer_ = 0;
  if (state_ == State::Running) MESIM_LOG(Info, kLog, "OS watchdog stopped");
  state_ = State::Idle;
}

void OsWatchdog::hostPoweredDown() {
  if (state_ == State::Running) MESIM_LOG(Info, kLog, "OS watchdog disarmed: the host left S0");
  stop();
}

std::optional<core::FirmwareTimerQueue::time_point> OsWatchdog::deadline() const {
  return timer_ ? timers_.deadline(timer_) : std::nullopt;
}

void OsWatchdog::expire() {
  state_ = State::Expired;
  ++expiries_;
  MESIM_LOG(Warn, kLog, "OS watchdog expired after " << timeout_ << " s without a heartbeat: host presumed hung");
  platform::MessageLogEvent record;
  record.sensorType = 0x20;  // OS Stop / Shutdown (MeshCentral: "Operating system lockup or power interrupt")
  record.eventType = 0x6F;   // sensor-specific
  record.offset = 0x01;      // run-time critical stop
  record.severity = 0x10;    // critical
  record.entity = 0x23;      // operating system
  events::Alert alert;
  alert.messageId = "PLAT0322";  // "Run-time critical stop on system %1s."
  alert.messageArguments = {"ManagedSystem"};
  alert.perceivedSeverity = 6;   // critical
  alert.category = "Watchdog";
  events_.raise(record, std::move(alert));
  if (settings_().heciExpirationAction == 1) events_.resetHost("OS watchdog expiry");
  if (onExpired_) onExpired_();
}

}  // namespace mesim::watchdog
