// The simulated host's power: a state machine over CIM power states driven by
// CIM_PowerManagementService.RequestPowerStateChange codes 2..16 (spec/wsman.md §3.3). Each accepted
// change is persisted in the platform model, written to the audit and message logs and reported to an
// optional hook (the daemon's --power-hook). Single-threaded, like the platform model.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "firmware/core/firmware_clock.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_model.h"

namespace mesim::platform {

// CIM PowerState values the host can be in.
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
}  // namespace power

// RequestPowerStateChange return values (CIM_PowerManagementService).
enum class PowerChangeStatus : std::uint32_t {
  Completed = 0,
  NotSupported = 1,   // a code outside 2..16
  InvalidState = 2,   // "Unknown or unspecified error": not possible from the current state
  Failed = 4,         // could not be stored
};

struct PowerChange {
  std::uint32_t oldState = 0;
  std::uint32_t newState = 0;
  std::uint32_t requested = 0;  // the RequestPowerStateChange code
};

class HostPowerStateMachine {
 public:
  using Hook = std::function<void(const PowerChange&)>;

  HostPowerStateMachine(PlatformModel& platform, const core::FirmwareClock& clock) : platform_(platform), clock_(clock) {}

  std::uint32_t state() const { return platform_.state().hostPower.powerState; }
  // Codes a client may request now, in AMT's order (CIM_AssociatedPowerManagementService); sleep, hibernate and the
  // graceful codes only while hostPower.powerStatesSupported lists them (the OS agent registered them).
  std::vector<std::uint32_t> availableRequests() const;
  // The state `requested` leads to from `from`; 0 if not allowed.
  static std::uint32_t target(std::uint32_t from, std::uint32_t requested);

  PowerChangeStatus request(std::uint32_t requested, const AuditInitiator& who);
  // A change the host made itself: its power button, its OS powering off (ACPI S5), a loss of its power. Stored and
  // written to the message log like a requested change, and reported to the hook with `requested` 0; not audited,
  // because AMT's audit log records what was done through AMT (Remote Control events) and nobody did this.
  // `newState` is on, off-soft or off-hard; InvalidState if the host is in it already.
  PowerChangeStatus hostChange(std::uint32_t newState);
  // Every boot (a power-on from off or hibernation, a reset or power cycle) uses up the boot options armed by
  // SetBootConfigRole(1): see consumeBootOptions().
  // A power-on the firmware starts by itself (the alarm clock): from off, sleep or hibernation to on, with
  // IPS_HostBootReason `bootReason` (3 alarm clock). Written to the message log like the host's own changes and
  // reported to the hook with `requested` 0; not audited (no user asked). InvalidState if the host is on.
  PowerChangeStatus firmwareWake(std::uint32_t bootReason);
  void setHook(Hook hook) { hook_ = std::move(hook); }
  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  // After a boot: one-time boot options armed by SetBootConfigRole(1) are used up (BootSettings back to defaults,
  // OptionsCleared), after the hook so the host side saw them.
  void consumeBootOptions();

  PlatformModel& platform_;
  const core::FirmwareClock& clock_;
  Hook hook_;
};

}  // namespace mesim::platform
