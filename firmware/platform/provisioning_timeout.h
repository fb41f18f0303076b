// The time AMT gives an unfinished configuration: once provisioning is "in" (AMTHI StartConfigurationHBased), the
// console must complete it (Setup/AdminSetup) within `period` of firmware time, else the firmware abandons it and
// goes back to pre-provisioning, as AMTHI StopConfiguration would. The period restarts with the firmware (a device
// started in-provisioning gets a whole period), as AMT's provisioning period counts from power-on.
// Single-threaded, on the timer queue's loop; unsubscribes and cancels its timer when destroyed.
#pragma once

#include <cstdint>
#include <optional>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/platform_model.h"

namespace mesim::platform {

class ProvisioningTimeout {
 public:
  ProvisioningTimeout(core::FirmwareTimerQueue& timers, PlatformModel& platform, core::FirmwareClock::duration period);
  ~ProvisioningTimeout();
  ProvisioningTimeout(const ProvisioningTimeout&) = delete;
  ProvisioningTimeout& operator=(const ProvisioningTimeout&) = delete;

  core::FirmwareClock::duration period() const { return period_; }
  // When the unfinished configuration will be abandoned; nothing when provisioning is not "in".
  std::optional<core::FirmwareClock::time_point> deadline() const;
  // AMT_SetupAndConfigurationService.ExtendProvisioningPeriod: the unfinished configuration's deadline moves `by`
  // later. False when provisioning is not "in" (there is no period running to extend).
  bool extend(core::FirmwareClock::duration by);
  // Configurations abandoned since start.
  std::uint64_t expired() const { return expired_; }
  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  void follow();  // arms or cancels the timer to match the provisioning state
  void expire();

  core::FirmwareTimerQueue& timers_;
  PlatformModel& platform_;
  core::FirmwareClock::duration period_;
  std::size_t subscription_ = 0;
  core::FirmwareTimerQueue::TimerId timer_ = 0;
  std::uint64_t expired_ = 0;
};

}  // namespace mesim::platform
