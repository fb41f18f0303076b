// The InstanceIDs of AMT's CIM_BootSourceSetting instances, as platform BootSettings::bootOrder holds them: shared by
// CIM_BootConfigSetting.ChangeBootOrder (boot_configuration.cpp) and the legacy SOAP RemoteControl's special
// commands (wsman/eoi), so both set the same next boot.
#pragma once

namespace mesim::wsman::cim {

inline constexpr const char* kForceHardDriveBootId = "Intel(r) AMT: Force Hard-drive Boot";
inline constexpr const char* kForcePxeBootId = "Intel(r) AMT: Force PXE Boot";
inline constexpr const char* kForceCdDvdBootId = "Intel(r) AMT: Force CD/DVD Boot";

}  // namespace mesim::wsman::cim
