// The legacy EOI SOAP services of AMT's first releases (spec/wsman.md §2.2), as Debian's amttool speaks them:
// SecurityAdministration GetCoreVersion; NetworkAdministration GetHostName, GetDomainName, EnumerateInterfaces,
// GetInterfaceSettings, SetInterfaceSettings; RemoteControl GetSystemPowerState, GetRemoteControlCapabilities,
// RemoteControl; GeneralInfo GetCoreVersion, GetCodeVersions, GetHostName, GetProvisioningState; EventManager
// GetEventLogStatus. Over the same platform model, power state machine and boot settings as WS-Man: a RemoteControl
// power-down is CIM RequestPowerStateChange(8) underneath, its PXE special command the same next boot as
// ChangeBootOrder(Force PXE Boot) + SetBootConfigRole(1). The HTTP layer has done Digest; each operation is checked
// against the caller's realms (wsman/cim/realms.h) and answers PT_STATUS_NOT_PERMITTED without one. Runs on the
// device's loop, like the rest of the firmware.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "firmware/core/firmware_clock.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_model.h"

namespace mesim::wsman::eoi {

// PT_STATUS codes (AMT SDK; the ones amttool names).
namespace pt_status {
inline constexpr std::uint32_t kSuccess = 0x0;
inline constexpr std::uint32_t kInternalError = 0x1;
inline constexpr std::uint32_t kNotPermitted = 0x10;
inline constexpr std::uint32_t kInvalidIpAddress = 0x1B;
inline constexpr std::uint32_t kInvalidParameter = 0x24;
inline constexpr std::uint32_t kInvalidNetmask = 0x25;
inline constexpr std::uint32_t kUnsupportedOemNumber = 0x801;
inline constexpr std::uint32_t kUnsupportedBootOption = 0x802;
inline constexpr std::uint32_t kInvalidCommand = 0x803;
inline constexpr std::uint32_t kInvalidSpecialCommand = 0x804;
inline constexpr std::uint32_t kInvalidHandle = 0x805;
inline constexpr std::uint32_t kUserConsentRequired = 0x821;  // as WS-Man's 2081 for a boot without consent
}  // namespace pt_status

// RemoteControl's inputs (AMT SDK RemoteControlService; ASF 2.0 remote control commands).
namespace remote_control {
inline constexpr std::uint32_t kReset = 16;
inline constexpr std::uint32_t kPowerUp = 17;
inline constexpr std::uint32_t kPowerDown = 18;
inline constexpr std::uint32_t kPowerCycle = 19;
inline constexpr std::uint32_t kIntelIana = 343;  // Intel's IANA enterprise number
inline constexpr std::uint32_t kAsfIana = 4542;   // ASF's, for the standard special commands
inline constexpr std::uint32_t kNop = 0;
inline constexpr std::uint32_t kPxe = 1;
inline constexpr std::uint32_t kHardDrive = 2;
inline constexpr std::uint32_t kHardDriveSafeMode = 3;
inline constexpr std::uint32_t kDiagnostics = 4;
inline constexpr std::uint32_t kCdDvd = 5;
inline constexpr std::uint32_t kIntelBiosSetup = 0xC1;  // Intel OEM special command, with IanaOemNumber 343
inline constexpr std::uint32_t kOemUseSol = 0x1;          // OEMparameters bit 0: redirect the boot's console to SOL
}  // namespace remote_control

struct EoiCaller {
  std::string user;         // the Digest user
  bool local = false;       // came through LMS
  std::string peerAddress;  // for audit records (network callers)
};

struct EoiAnswer {
  unsigned httpStatus = 200;  // 500 with a SOAP Fault
  std::string body;
};

// What a RemoteControl asks for, as the consent check sees it.
struct RemoteControlCommand {
  std::uint32_t command = 0;         // remote_control::kReset..kPowerCycle
  std::uint32_t specialCommand = 0;  // remote_control::kNop when none
  std::uint32_t oemParameters = 0;
  const EoiCaller* caller = nullptr;
};

struct EoiStats {
  std::uint64_t calls = 0;         // operations answered (any status)
  std::uint64_t faults = 0;        // SOAP Faults: malformed XML, wrong envelope, unknown operations
  std::uint64_t notPermitted = 0;  // answered PT_STATUS_NOT_PERMITTED for want of a realm
  std::uint64_t remoteControls = 0;  // RemoteControl commands carried out
  std::map<std::string, std::uint64_t, std::less<>> byOperation;  // "RemoteControl.RemoteControl" -> answered
};

class LegacySoapService {
 public:
  LegacySoapService(platform::PlatformModel& platform, const core::FirmwareClock& clock,
                    platform::HostPowerStateMachine& power);

  // One authenticated POST to one of the services' paths (eoiServices()).
  EoiAnswer handle(std::string_view path, std::string_view body, const EoiCaller& caller);

  // User consent for RemoteControl (not built yet, issue 13): when set, it is asked before a command runs and
  // its nonzero PT status (e.g. kNotPermitted) is answered instead. The one place that check belongs.
  using RemoteControlConsent = std::function<std::uint32_t(const RemoteControlCommand&)>;
  void setRemoteControlConsent(RemoteControlConsent consent) { consent_ = std::move(consent); }

  const EoiStats& stats() const { return stats_; }
  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  platform::PlatformModel& platform_;
  const core::FirmwareClock& clock_;
  platform::HostPowerStateMachine& power_;
  RemoteControlConsent consent_;
  EoiStats stats_;
};

}  // namespace mesim::wsman::eoi
