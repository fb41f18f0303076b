// The firmware clock's control routes (docs/control-api.md, "Firmware clock"): read it, and move a manual one.
#pragma once

#include "app/control_routes.h"

namespace mesim::app {

void addClockRoutes(ControlRoutes& routes);

}  // namespace mesim::app
