// The running parts of a device that the fault and log routes drive (app/fault_routes.cpp, log_routes.cpp), as
// references: nothing while one is missing (a start that failed half-way winds down), and the route answers 503.
#pragma once

#include <optional>

#include "app/device.h"

namespace mesim::app {

struct RunningParts {
  firmware::HbmEngine& engine;
  const platform::PlatformModel& platform;
  events::EventDelivery& eventDelivery;
  events::SubscriberOutages& subscriberOutages;
  const core::FirmwareClock& clock;
};

inline std::optional<RunningParts> runningParts(const Device& device) {
  const Device::Parts p = device.parts();
  if (!p.engine || !p.platform || !p.events || !p.subscriberOutages) return std::nullopt;
  return RunningParts{*p.engine, *p.platform, *p.events, *p.subscriberOutages, device.clock()};
}

}  // namespace mesim::app
