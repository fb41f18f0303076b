#include "watchdog_fw/watchdog_feature.h"

namespace mesim::watchdog {

Result<std::unique_ptr<WatchdogFeature>> WatchdogFeature::create(core::FirmwareTimerQueue& timers,
                                                                 platform::PlatformModel& platform,
                                                                 platform::HostPowerStateMachine* power,
                                                                 events::AlertBus* alerts,
                                                                 const WatchdogFeatureOptions& options) {
  auto store = WatchdogStore::open(options.stateDir, platform.logContext());
  if (!store) return store.error();
  std::unique_ptr<WatchdogFeature> f(new WatchdogFeature());
  f->platform_ = &platform;
  f->store_ = std::move(*store);
  f->events_ = std::make_unique<WatchdogEvents>(timers, platform, power, alerts);
  WatchdogStore* kept = f->store_.get();
  f->osWatchdog_ = std::make_unique<OsWatchdog>(timers, *f->events_, [kept] { return kept->data().actions; });
  f->client_ = std::make_shared<WatchdogClient>(platform, *f->store_, *f->osWatchdog_, options.client);
  f->agentPresence_ =
      std::make_unique<AgentPresenceService>(timers, platform, *f->store_, *f->events_, options.capabilities);
  OsWatchdog* os = f->osWatchdog_.get();
  f->powerObserver_ = platform.subscribe([os, &platform] {
    if (platform.state().hostPower.powerState != platform::power::kOn) os->hostPoweredDown();
  });
  return f;
}

WatchdogFeature::~WatchdogFeature() {
  if (platform_) platform_->unsubscribe(powerObserver_);
}

}  // namespace mesim::watchdog
