// The watchdog feature put together for the daemon (and for tests that want all of it): the persisted
// settings, the event reporting, the OS watchdog with its HBM client, and the agent-presence watchdogs.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/events/alert.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_model.h"
#include "watchdog_fw/agent_presence_service.h"
#include "watchdog_fw/os_watchdog.h"
#include "watchdog_fw/watchdog_events.h"
#include "watchdog_fw/watchdog_store.h"
#include "watchdog_fw/wd_client.h"

namespace mesim::watchdog {

struct WatchdogFeatureOptions {
  std::filesystem::path stateDir;  // empty: nothing persisted
  WatchdogClientOptions client;
  platform::AgentPresenceCapabilities capabilities;
};

class WatchdogFeature {
 public:
  // `power` and `alerts` may be null. An error if the state file cannot be read.
  // Every timer of the feature runs on `timers` (the device's firmware clock).
  static Result<std::unique_ptr<WatchdogFeature>> create(core::FirmwareTimerQueue& timers,
                                                         platform::PlatformModel& platform,
                                                         platform::HostPowerStateMachine* power,
                                                         events::AlertBus* alerts,
                                                         const WatchdogFeatureOptions& options);
  ~WatchdogFeature();

  // For HbmEngine::addClient.
  std::shared_ptr<WatchdogClient> client() const { return client_; }
  platform::AgentPresence& agentPresence() { return *agentPresence_; }
  AgentPresenceService& agentPresenceService() { return *agentPresence_; }
  OsWatchdog& osWatchdog() { return *osWatchdog_; }
  WatchdogEvents& events() { return *events_; }
  WatchdogStore& store() { return *store_; }

 private:
  WatchdogFeature() = default;
  platform::PlatformModel* platform_ = nullptr;
  std::unique_ptr<WatchdogStore> store_;
  std::unique_ptr<WatchdogEvents> events_;
  std::unique_ptr<OsWatchdog> osWatchdog_;
  std::shared_ptr<WatchdogClient> client_;
  std::unique_ptr<AgentPresenceService> agentPresence_;
  std::size_t powerObserver_ = 0;
};

}  // namespace mesim::watchdog
