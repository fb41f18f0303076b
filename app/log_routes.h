// The control API's reads of what the firmware recorded (issue 11, item 4): the event (message) log, the audit log
// and each WS-Eventing subscription's delivery state (docs/control-api.md "Logs and subscriptions").
#pragma once

#include "app/control_routes.h"

namespace mesim::app {

void addLogRoutes(ControlRoutes& routes);

}  // namespace mesim::app
