// The InstanceIDs of AMT's CIM_BootSourceSetting instances, as platform BootSettings::bootOrder holds them: shared by
// CIM_BootConfigSetting.ChangeBootOrder (boot_configuration.cpp) and the legacy SOAP RemoteControl's special
// commands (wsman/eoi), so both set the same next boot.
#pragma once

namespace mesim::wsman::cim {

inline constexpr const char* kForceHardDriveBootId = "Intel(r) AMT: Force Hard-drive Boot";
inline constexpr const char* kForcePxeBootId = "Intel(r) AMT: Force PXE Boot";
inline constexpr const char* kForceCdDvdBootId = "Intel(r) AMT: Force CD/DVD Boot";
// One Click Recovery (AMT 16; features.md §7).
inline constexpr const char* kForceOcrHttpsBootId = "Intel(r) AMT: Force OCR UEFI HTTPS Boot";
inline constexpr const char* kForceOcrWinReBootId = "Intel(r) AMT: Force OCR UEFI Boot Option 1";
inline constexpr const char* kForceOcrPbaBootId = "Intel(r) AMT: Force OCR UEFI Boot Option 2";

}  // namespace mesim::wsman::cim
