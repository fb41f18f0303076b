#include "hostif/os/host_machine.h"

namespace mesim::hostos {

HostMachine::HostMachine(HostPower& power, SimulatedOs* os, const host::MeiWdt* watchdog)
    : power_(power), os_(os), watchdog_(watchdog) {}

Result<std::string> HostMachine::pressPowerButton() {
  const std::uint32_t now = power_.state();
  if (power::isOff(now) || power::isAsleep(now)) {
    if (auto changed = power_.change(power::kOn); !changed) return changed.error();
    return effect(power::isOff(now) ? "powered on" : "woke up");
  }
  if (!os_)
    return fail("no simulated OS (--host-os none) answers the ACPI power button of a host that is on; hold it "
                "(?hold=1) to force the power off");
  return effect(os_->powerButton());
}

Result<std::string> HostMachine::holdPowerButton() {
  if (power::isOff(power_.state())) return fail("the host is already off; a short press powers it on");
  if (auto changed = power_.change(power::kOffSoft); !changed) return changed.error();
  return effect("forced off");
}

Result<std::string> HostMachine::losePower() {
  if (power::isOff(power_.state())) return fail("the host is already off");
  if (auto changed = power_.change(power::kOffHard); !changed) return changed.error();
  return effect("power lost");
}

}  // namespace mesim::hostos
