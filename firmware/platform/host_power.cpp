#include "firmware/platform/host_power.h"

#include <algorithm>

#include "common/log.h"

namespace mesim::platform {
namespace {

bool isOn(std::uint32_t s) { return s == power::kOn; }
bool isAsleep(std::uint32_t s) { return s == power::kSleepLight || s == power::kSleepDeep || s == power::kHibernate; }
bool isOff(std::uint32_t s) { return s == power::kOffHard || s == power::kOffSoft; }

// ACPI S-state for the message log's System ACPI Power State sensor (offset = S-state; 5 = S5/G2).
std::uint8_t acpiState(std::uint32_t s) {
  switch (s) {
    case power::kOn: return 0;
    case power::kSleepLight: return 1;
    case power::kSleepDeep: return 3;
    case power::kHibernate: return 4;
    default: return 5;
  }
}

std::uint16_t auditEvent(std::uint32_t requested, std::uint32_t newState) {
  switch (requested) {
    case power::kPowerCycleSoft:
    case power::kPowerCycleHard:
    case power::kPowerCycleSoftGraceful:
    case power::kPowerCycleHardGraceful: return audit::kRemotePowerCycle;
    case power::kMasterBusReset:
    case power::kBusResetGraceful:
    case power::kNmi: return audit::kRemoteReset;
    default: return isOn(newState) ? audit::kRemotePowerUp : audit::kRemotePowerDown;
  }
}

// IPS_HostBootReason.PreviousSxState of a CIM power state: 2..7 = S0..S5. Off-hard (G3) is reported as S5, as
// DMTF's PowerState text pairs them.
std::uint32_t bootSxState(std::uint32_t s) {
  switch (s) {
    case power::kOn: return 2;
    case power::kSleepLight: return 3;
    case power::kSleepDeep: return 5;
    case power::kHibernate: return 6;
    default: return 7;
  }
}

bool isPowerCycle(std::uint32_t requested) {
  return requested == power::kPowerCycleSoft || requested == power::kPowerCycleHard ||
         requested == power::kPowerCycleSoftGraceful || requested == power::kPowerCycleHardGraceful;
}

// Records a boot of the host: from S4/S5 (not a wake from S1/S3), or a reset or power cycle while on. The OS admin
// account's password is renewed with it.
void recordBoot(PlatformState& s, std::int64_t now, std::uint32_t reason, std::string details,
                std::uint32_t previousSxState) {
  renewOsAdminPasswordOnBoot(s.localSystemAccount, now);
  auto& hp = s.hostPower;
  hp.bootReason = reason;
  hp.bootReasonDetails = std::move(details);
  hp.bootPreviousSxState = previousSxState;
}

// States AMT offers only once the host's OS agent has registered them (CIM_PowerManagementCapabilities): the OS
// carries them out (sleep, hibernate) or is asked first (the graceful ones).
bool needsOsAgent(std::uint32_t requested) {
  return requested == power::kSleepDeep || requested == power::kHibernate || requested >= power::kOffSoftGraceful;
}

// The message log's record of the new state: System ACPI Power State sensor, event data 1 = what was requested
// (0: the host itself).
std::vector<std::uint8_t> powerStateRecord(std::uint32_t to, std::uint32_t requested, std::uint32_t now) {
  MessageLogEvent e;
  e.sensorType = 0x22;  // System ACPI Power State
  e.offset = acpiState(to);
  e.entity = 0x17;      // system chassis
  e.eventData[0] = static_cast<std::uint8_t>(requested);
  return makeMessageLogRecord(e, now);
}

}  // namespace

std::uint32_t HostPowerStateMachine::target(std::uint32_t from, std::uint32_t requested) {
  switch (requested) {
    case power::kOn: return isOn(from) ? 0 : power::kOn;
    case power::kSleepLight:
    case power::kSleepDeep:
    case power::kHibernate: return isOn(from) ? requested : 0;
    case power::kOffHard:
    case power::kOffHardGraceful: return isOff(from) ? 0 : power::kOffHard;
    case power::kOffSoft:
    case power::kOffSoftGraceful: return isOff(from) ? 0 : power::kOffSoft;
    case power::kPowerCycleSoft:
    case power::kPowerCycleHard:
    case power::kPowerCycleSoftGraceful:
    case power::kPowerCycleHardGraceful:
    case power::kMasterBusReset:
    case power::kBusResetGraceful:
    case power::kNmi: return isOn(from) ? power::kOn : 0;  // the host comes back on (or stays on for NMI)
    default: return 0;
  }
}

std::vector<std::uint32_t> HostPowerStateMachine::availableRequests() const {
  const auto s = state();
  std::vector<std::uint32_t> codes;
  if (isOn(s)) codes = {10, 8, 5, 11, 4, 7, 14, 12};  // real AMT's list (spec/wsman.md §3.4)
  else if (isAsleep(s)) codes = {2, 8, 6};
  else codes = {2};
  const auto& supported = platform_.state().hostPower.powerStatesSupported;
  std::erase_if(codes, [&](std::uint32_t c) {
    return needsOsAgent(c) && std::find(supported.begin(), supported.end(), c) == supported.end();
  });
  return codes;
}

PowerChangeStatus HostPowerStateMachine::request(std::uint32_t requested, const AuditInitiator& who) {
  if (requested < power::kOn || requested > power::kPowerCycleHardGraceful) return PowerChangeStatus::NotSupported;
  const std::uint32_t from = state();
  const std::uint32_t to = target(from, requested);
  if (to == 0) return PowerChangeStatus::InvalidState;

  const auto now = core::unixSeconds(clock_.now());
  auto result = platform_.update([&](PlatformState& s) {
    s.hostPower.powerState = to;
    s.hostPower.requestedPowerState = requested;
    if (requested != power::kNmi && (to == power::kOn) && from == power::kOn) {
      s.lastHostResetReason = 0;  // remote control
      s.lastHostResetTimestamp = now;
      if (isPowerCycle(requested)) recordBoot(s, now, 2, "Power Cycle", bootSxState(power::kOffSoft));
      else recordBoot(s, now, 2, "Reset", bootSxState(power::kOn));
    } else if (to == power::kOn && (isOff(from) || from == power::kHibernate)) {
      recordBoot(s, now, 2, "Power Up", bootSxState(from));
    }
    appendAuditRecord(s, makeAuditRecord(audit::kRemoteControl, auditEvent(requested, to), who, now));
    appendMessageLogRecord(s, powerStateRecord(to, requested, now));
  });
  if (result != ChangeResult::Ok) return PowerChangeStatus::Failed;
  if (hook_) hook_(PowerChange{from, to, requested});
  if (to == power::kOn && (from == power::kOn ? requested != power::kNmi : isOff(from) || from == power::kHibernate))
    consumeBootOptions();
  return PowerChangeStatus::Completed;
}

PowerChangeStatus HostPowerStateMachine::hostChange(std::uint32_t newState) {
  if (newState != power::kOn && newState != power::kOffSoft && newState != power::kOffHard)
    return PowerChangeStatus::NotSupported;
  const std::uint32_t from = state();
  if (from == newState) return PowerChangeStatus::InvalidState;
  const auto now = core::unixSeconds(clock_.now());
  auto result = platform_.update([&](PlatformState& s) {
    s.hostPower.powerState = newState;
    if (newState == power::kOn) recordBoot(s, now, 1, "", bootSxState(from));  // its own power button
    appendMessageLogRecord(s, powerStateRecord(newState, 0, now));
  });
  if (result != ChangeResult::Ok) return PowerChangeStatus::Failed;
  if (hook_) hook_(PowerChange{from, newState, 0});
  if (newState == power::kOn) consumeBootOptions();
  return PowerChangeStatus::Completed;
}

PowerChangeStatus HostPowerStateMachine::firmwareWake(std::uint32_t bootReason) {
  const std::uint32_t from = state();
  if (isOn(from)) return PowerChangeStatus::InvalidState;
  const auto now = core::unixSeconds(clock_.now());
  auto result = platform_.update([&](PlatformState& s) {
    s.hostPower.powerState = power::kOn;
    // A wake from S1/S3 resumes the OS: not a boot.
    if (isOff(from) || from == power::kHibernate) recordBoot(s, now, bootReason, "", bootSxState(from));
    appendMessageLogRecord(s, powerStateRecord(power::kOn, 0, now));
  });
  if (result != ChangeResult::Ok) return PowerChangeStatus::Failed;
  if (hook_) hook_(PowerChange{from, power::kOn, 0});
  if (isOff(from) || from == power::kHibernate) consumeBootOptions();
  return PowerChangeStatus::Completed;
}

void HostPowerStateMachine::consumeBootOptions() {
  if (!platform_.state().boot.bootConfigActive) return;
  // The BIOS has read them (the hook saw them: the IDE-R boot decides there); AMT clears them for the boot after.
  if (platform_.update([](PlatformState& s) { s.boot = BootSettings{}; }) != ChangeResult::Ok)
    MESIM_LOG(Error, "power", "cannot clear the one-time boot options: " << platform_.lastError());
}

}  // namespace mesim::platform
