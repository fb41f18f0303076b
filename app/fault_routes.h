// The control API's fault routes (issue 11, item 4; docs/control-api.md "Faults").
#pragma once

#include "app/control_routes.h"

namespace mesim::app {

void addFaultRoutes(ControlRoutes& routes);

}  // namespace mesim::app
