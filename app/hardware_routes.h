// The hardware control routes (docs/hardware.md, docs/control-api.md "Hardware"): the inventory summary and the
// live state of sensors, fans and power supplies, which QA changes to make AMT log and raise sensor events.
#pragma once

#include "app/control_routes.h"

namespace mesim::app {

void addHardwareRoutes(ControlRoutes& routes);

}  // namespace mesim::app
