#include "watchdog_fw/watchdog_events.h"

#include "common/log.h"

namespace mesim::watchdog {

WatchdogEvents::WatchdogEvents(core::FirmwareTimerQueue& timers, platform::PlatformModel& platform,
                               platform::HostPowerStateMachine* power, events::AlertBus* alerts)
    : timers_(timers), platform_(platform), clock_(timers.clock()), power_(power), alerts_(alerts) {}

WatchdogEvents::~WatchdogEvents() { timers_.cancel(batch_); }

void WatchdogEvents::raise(const platform::MessageLogEvent& record, events::Alert alert) {
  const auto now = clock_.now();
  records_.push_back(platform::makeMessageLogRecord(record, core::unixSeconds(now)));
  if (!alert.messageId.empty()) {
    alert.time = now;
    pendingAlerts_.push_back(std::move(alert));
  }
  schedule();
}

void WatchdogEvents::resetHost(std::string why) {
  resets_.push_back(std::move(why));
  schedule();
}

void WatchdogEvents::schedule() {
  if (batch_) return;
  batch_ = timers_.scheduleAfter(kBatchWindow, [this] {
    batch_ = 0;
    flush();
  });
}

void WatchdogEvents::flush() {
  timers_.cancel(batch_);
  batch_ = 0;
  if (!records_.empty()) {
    auto records = std::move(records_);
    records_.clear();
    auto result = platform_.update([&](platform::PlatformState& s) {
      for (auto& r : records) platform::appendMessageLogRecord(s, std::move(r));
    });
    if (result == platform::ChangeResult::Ok) stats_.records += records.size();
    else ++stats_.writeFailures;  // the platform model logged why
  }
  auto alerts = std::move(pendingAlerts_);
  pendingAlerts_.clear();
  for (const auto& alert : alerts) {
    ++stats_.alerts;
    if (alerts_) alerts_->publish(alert);
  }
  auto resets = std::move(resets_);
  resets_.clear();
  for (const auto& why : resets) {
    if (!power_) {
      MESIM_LOG(Warn, "watchdog", "expiration action 'reset' for " << why << ": no host power control");
      continue;
    }
    auto status = power_->request(platform::power::kMasterBusReset, platform::AuditInitiator{"", true, {}});
    MESIM_LOG(Info, "watchdog", "host reset after " << why << ": " << static_cast<std::uint32_t>(status));
    if (status != platform::PowerChangeStatus::Completed) continue;
    ++stats_.resets;
    events::Alert alert;
    alert.messageId = "iAMT0070";  // Host Reset Triggered by WD Expiration Notification
    alert.category = "Watchdog";
    alert.time = clock_.now();
    ++stats_.alerts;
    if (alerts_) alerts_->publish(alert);
  }
}

}  // namespace mesim::watchdog
