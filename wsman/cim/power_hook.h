// The daemon's --power-hook: runs a shell command on every host power change without blocking the
// event loop; the command sees MESIM_POWER_OLD, MESIM_POWER_NEW and MESIM_POWER_REQUEST (CIM codes).
#pragma once

#include <string>

#include "common/log.h"
#include "firmware/platform/host_power.h"

namespace mesim::wsman::cim {

// A hook for HostPowerStateMachine::setHook that starts `/bin/sh -c command` (posix_spawn) and reaps it
// on a detached thread; failures are logged (naming `log`'s device), never reported to the WS-Man client.
platform::HostPowerStateMachine::Hook makeCommandPowerHook(std::string command, log::Context log = {});

}  // namespace mesim::wsman::cim
