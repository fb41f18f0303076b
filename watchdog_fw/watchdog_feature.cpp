#include "watchdog_fw/watchdog_feature.h"

namespace mesim::watchdog {

std::unique_ptr<WatchdogFeature> WatchdogFeature::create(boost::asio::io_context& io, core::FirmwareTimerQueue& timers,
                                                         platform::PlatformModel& platform,
                                                         platform::HostPowerStateMachine* power,
                                                         events::AlertBus* alerts, const WatchdogFeatureOptions& options,
                                                         std::string& error) {
  std::unique_ptr<WatchdogFeature> f(new WatchdogFeature());
  f->platform_ = &platform;
  f->store_ = WatchdogStore::open(options.stateDir, error, platform.logContext());
  if (!f->store_) return nullptr;
  f->events_ = std::make_unique<WatchdogEvents>(io, platform, timers.clock(), power, alerts);
  WatchdogStore* store = f->store_.get();
  f->osWatchdog_ = std::make_unique<OsWatchdog>(timers, *f->events_, [store] { return store->data().actions; });
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
