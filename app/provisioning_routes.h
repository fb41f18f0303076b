// The provisioning control routes (docs/control-api.md, "Provisioning"): where the device stands in AMT's
// provisioning state machine, and a return to factory state.
#pragma once

#include "app/control_routes.h"

namespace mesim::app {

void addProvisioningRoutes(ControlRoutes& routes);

}  // namespace mesim::app
