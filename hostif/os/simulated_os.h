// The operating system on the simulated host's CPU (issue 11): it boots when the platform powers on, runs a
// watchdog daemon on dev/watchdog0 through the host model (WatchdogDaemon), follows every power change the platform
// reports (WS-Man RequestPowerStateChange, the power button, a loss of power), and can be crashed, hung, shut down
// or rebooted by the control API. Boot, shutdown and resume take firmware-clock time (OsTimers).
//
// Crashed and hung look the same to the firmware (heartbeats stop without a close, so its OS watchdog expires and
// alerts). They differ as a kernel panic and a hung system do: neither answers the ACPI power button, but an NMI
// (RequestPowerStateChange 11) panics a hung kernel, as Linux does with kernel.unknown_nmi_panic to take a crash
// dump, while a crashed one is past caring. Both stay down until the platform resets or powers them off.
//
// Threading: the device's loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/log.h"
#include "common/result.h"
#include "hostif/os/host_services.h"
#include "hostif/os/watchdog_daemon.h"

namespace mesim::hostos {

struct SimulatedOsOptions {
  std::chrono::milliseconds bootTime{5000};      // power on (or reset) to user space, where the watchdog daemon starts
  std::chrono::milliseconds shutdownTime{2000};  // an orderly shutdown, from the request to power off (or reset)
  std::chrono::milliseconds resumeTime{1000};    // waking from S1/S3
  unsigned watchdogTimeout = 0;                  // seconds the watchdog daemon sets; 0 = the driver's default
};

class SimulatedOs {
 public:
  enum class State { Off, Booting, Running, ShuttingDown, Crashed, Hung, Suspended, Hibernated, Resuming };

  SimulatedOs(host::MeiWdt& wdt, OsTimers& timers, HostPower& power, SimulatedOsOptions options = {});
  ~SimulatedOs();
  SimulatedOs(const SimulatedOs&) = delete;
  SimulatedOs& operator=(const SimulatedOs&) = delete;

  // Takes up the platform's power state at daemon start: on boots (a restart of mesim is not a host event, but
  // the simulated OS's memory did not survive it), asleep stays asleep, off stays off.
  void start();
  // Every change of the platform's power state, from whatever cause (the device's power hook).
  void powerChanged(const PowerEvent& event);

  // Control API. Each fails with the reason when it makes no sense in the current state.
  Result<> crash();
  Result<> hang();
  Result<> shutdown();  // `shutdown -h now`: orderly, then the OS powers the platform off (S5, Off-Soft)
  Result<> reboot();    // `reboot`: orderly, then the platform resets; the power stays on
  // The ACPI power button's short press while the platform is on: a running OS shuts down in order and the answer
  // is "shutting down"; otherwise it is "ignored: " and why (booting, hung, ...), as nothing happens.
  std::string powerButton();

  State state() const { return state_; }
  // Told every change of state, after it (the serial console follows boots and shutdowns through it).
  void onStateChange(std::function<void(State)> observer) { observer_ = std::move(observer); }
  const WatchdogDaemon& watchdogDaemon() const { return daemon_; }
  std::uint64_t boots() const { return boots_; }
  std::uint64_t crashes() const { return crashes_; }
  const log::Context& logContext() const { return daemon_.logContext(); }

 private:
  void enter(State state);
  void cancelTimer();
  void after(std::chrono::milliseconds delay, void (SimulatedOs::*step)());
  void boot();
  void bootDone();
  void resumeDone();
  void beginOrderlyShutdown(bool thenReset);
  void shutdownDone();
  void halt(State state, const char* why);  // crash or hang
  std::string notPossible(const char* what) const;

  WatchdogDaemon daemon_;
  OsTimers& timers_;
  HostPower& power_;
  SimulatedOsOptions options_;
  State state_ = State::Off;
  std::function<void(State)> observer_;
  bool resetAfterShutdown_ = false;
  OsTimers::TimerId timer_ = 0;
  std::uint64_t boots_ = 0;
  std::uint64_t crashes_ = 0;
};

const char* toString(SimulatedOs::State state);  // "off", "booting", "running", "shutting-down", ...

}  // namespace mesim::hostos
