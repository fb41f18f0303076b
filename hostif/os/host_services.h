// What the simulated host OS needs from the rest of the device, as interfaces the composer (app/device.cpp)
// implements: deadlines on the device's firmware clock and the platform's power. hostif/ never includes firmware/
// (docs/architecture.md, Layers), so the OS is told about power through these and HostMachine::powerChanged, not by
// reading the firmware's state.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"

namespace mesim::hostos {

// CIM PowerState values (spec/wsman.md §3.3), as CIM_AssociatedPowerManagementService reports them; app/device.cpp
// checks that they are the firmware's (firmware/platform/host_power.h).
namespace power {
inline constexpr std::uint32_t kOn = 2;
inline constexpr std::uint32_t kSleepLight = 3;
inline constexpr std::uint32_t kSleepDeep = 4;
inline constexpr std::uint32_t kPowerCycleSoft = 5;
inline constexpr std::uint32_t kOffHard = 6;
inline constexpr std::uint32_t kHibernate = 7;
inline constexpr std::uint32_t kOffSoft = 8;
inline constexpr std::uint32_t kPowerCycleHard = 9;
inline constexpr std::uint32_t kMasterBusReset = 10;
inline constexpr std::uint32_t kNmi = 11;
inline constexpr std::uint32_t kOffSoftGraceful = 12;
inline constexpr std::uint32_t kOffHardGraceful = 13;
inline constexpr std::uint32_t kBusResetGraceful = 14;
inline constexpr std::uint32_t kPowerCycleSoftGraceful = 15;
inline constexpr std::uint32_t kPowerCycleHardGraceful = 16;
inline constexpr std::uint32_t kByTheHost = 0;  // PowerEvent::requested of a change the host made itself

inline bool isOff(std::uint32_t s) { return s == kOffHard || s == kOffSoft; }
inline bool isAsleep(std::uint32_t s) { return s == kSleepLight || s == kSleepDeep || s == kHibernate; }
// The graceful requests ask the OS to shut down (or restart) in order before the power goes.
inline bool isGraceful(std::uint32_t requested) { return requested >= kOffSoftGraceful && requested <= kPowerCycleHardGraceful; }
const char* name(std::uint32_t state);  // "on", "off-soft", ...
}  // namespace power

// One change of the platform's power state, whoever made it: a RequestPowerStateChange code in `requested`, or
// power::kByTheHost for the power button, an OS shutdown or a loss of power.
struct PowerEvent {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::uint32_t requested = 0;
};

// Callbacks at deadlines on the device's firmware clock (core::FirmwareTimerQueue in the daemon), so that a manual
// clock moves the OS's boot and heartbeats along with the firmware's watchdog.
class OsTimers {
 public:
  using TimerId = std::uint64_t;  // never 0
  virtual ~OsTimers() = default;
  virtual TimerId after(std::chrono::milliseconds delay, std::function<void()> callback) = 0;
  virtual void cancel(TimerId id) = 0;  // an id that ran or was cancelled is ignored
};

// The platform's power as the host sees it (platform::HostPowerStateMachine in the daemon).
class HostPower {
 public:
  virtual ~HostPower() = default;
  virtual std::uint32_t state() const = 0;
  // A change the host makes itself (power button, the OS powering off, a loss of power): stored and announced
  // like any other (the device's power hook calls HostMachine::powerChanged with requested = kByTheHost).
  virtual Result<> change(std::uint32_t newState) = 0;
};

}  // namespace mesim::hostos
