// The control API's /kvm routes (docs/kvm.md): KVM's state, the screen's text as a viewer sees it, and the
// overlay line (the place of the user-consent code).
#pragma once

#include "app/control_routes.h"

namespace mesim::app {

void addKvmRoutes(ControlRoutes& routes);

}  // namespace mesim::app
