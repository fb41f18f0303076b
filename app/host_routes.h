// The control API's /host routes: the simulated host as the host would act (its OS crashing or hanging, its power
// button, a loss of power), on hostos::HostMachine. docs/control-api.md ("The host") describes them.
#pragma once

#include "app/control_routes.h"

namespace mesim::app {

void addHostRoutes(ControlRoutes& routes);

}  // namespace mesim::app
