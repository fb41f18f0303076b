// The user-consent control route (docs/user-consent.md, docs/control-api.md "User consent"): the consent machine's
// state, the code while it is shown on the host's screen (so a scenario can "read" it as the host's user would),
// the time left and the policy.
#pragma once

#include "app/control_routes.h"

namespace mesim::app {

void addConsentRoutes(ControlRoutes& routes);

}  // namespace mesim::app
