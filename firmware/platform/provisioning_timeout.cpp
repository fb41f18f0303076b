#include "firmware/platform/provisioning_timeout.h"

#include "common/log.h"

namespace mesim::platform {

ProvisioningTimeout::ProvisioningTimeout(core::FirmwareTimerQueue& timers, PlatformModel& platform,
                                         core::FirmwareClock::duration period)
    : timers_(timers), platform_(platform), period_(period) {
  subscription_ = platform_.subscribe([this] { follow(); });
  follow();
}

ProvisioningTimeout::~ProvisioningTimeout() {
  platform_.unsubscribe(subscription_);
  if (timer_) timers_.cancel(timer_);
}

std::optional<core::FirmwareClock::time_point> ProvisioningTimeout::deadline() const {
  return timer_ ? timers_.deadline(timer_) : std::nullopt;
}

bool ProvisioningTimeout::extend(core::FirmwareClock::duration by) {
  const auto current = deadline();
  if (!current) return false;
  timers_.cancel(timer_);
  timer_ = timers_.schedule(*current + by, [this] { expire(); });
  return true;
}

void ProvisioningTimeout::follow() {
  const bool inProvisioning = platform_.provisioningState() == ProvisioningState::In;
  if (inProvisioning && !timer_) {
    timer_ = timers_.scheduleAfter(period_, [this] { expire(); });
  } else if (!inProvisioning && timer_) {
    timers_.cancel(timer_);
    timer_ = 0;
  }
}

void ProvisioningTimeout::expire() {
  timer_ = 0;
  auto result = platform_.stopConfiguration();
  if (result == ChangeResult::Ok) {
    ++expired_;
    MESIM_LOG(Info, "platform", "host-based configuration not completed in time: back to pre-provisioning");
  } else if (result == ChangeResult::StorageError) {
    // The state stays "in": try again a period later rather than never.
    MESIM_LOG(Error, "platform", "provisioning timeout: " << platform_.lastError());
    follow();
  }
}

}  // namespace mesim::platform
