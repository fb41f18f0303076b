// The simulated host as a machine: its power button and power supply, and the OS on its CPU when mesim plays one
// (--host-os simulated) or none (--host-os none: the user's programs are the host). What the control API's
// /host routes drive; the composer forwards every platform power change here.
//
// Threading: the device's loop.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "hostif/host/mei_wdt.h"
#include "hostif/os/host_services.h"
#include "hostif/os/simulated_os.h"

namespace mesim::hostos {

// What an action did, in words (a Result<std::string> does not convert from a string: Error would too).
inline Result<std::string> effect(std::string text) { return {boost::system::in_place_value, std::move(text)}; }

class HostMachine {
 public:
  // `os` null: no simulated OS. `watchdog` null: no iamt_wdt (no built-in host model).
  HostMachine(HostPower& power, SimulatedOs* os, const host::MeiWdt* watchdog);

  void powerChanged(const PowerEvent& event) {
    if (os_) os_->powerChanged(event);
  }

  // Each answers what happened, or fails (the control API's 409) when the action makes no sense now.
  // Short press: powers an off host on, wakes a sleeping one, and asks a running OS to shut down (ACPI).
  Result<std::string> pressPowerButton();
  // Held for 4 s: the power button override forces the platform off (S5, Off-Soft) whatever the OS does.
  Result<std::string> holdPowerButton();
  // The host's power is cut: off at once (Off-Hard), no shutdown.
  Result<std::string> losePower();

  std::uint32_t powerState() const { return power_.state(); }
  SimulatedOs* os() { return os_; }
  const SimulatedOs* os() const { return os_; }
  // A program (not the simulated OS) has dev/watchdog0 open.
  bool programHoldsWatchdog() const { return watchdog_ && watchdog_->heldByProgram(); }
  bool hasWatchdog() const { return watchdog_ != nullptr; }
  bool watchdogRegistered() const { return watchdog_ && watchdog_->registered(); }

 private:
  HostPower& power_;
  SimulatedOs* os_;
  const host::MeiWdt* watchdog_;
};

}  // namespace mesim::hostos
