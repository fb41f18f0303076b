// The UEFI boot parameters of a One Click Recovery boot (AMT_BootSettingData.UefiBootParametersArray, AMT 16;
// ../shared/spec/features.md §7): a run of TLVs, each u16 0x8086 (Intel), u16 type, u32 length, then `length` bytes,
// all little-endian, at most 1024 bytes in all. Consoles send it base64 with UefiBootNumberOfParams (MeshCentral:
// {1 URI, 20 sync root CA = 1, 30 timeout = 0}). Parsed strictly: input crossing the network boundary
// (tests/fuzz/fuzz_boot_tlv.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace mesim::platform {

inline constexpr std::size_t kMaxUefiBootParametersSize = 1024;
inline constexpr std::uint16_t kUefiBootParamVendor = 0x8086;

namespace uefi_param {
inline constexpr std::uint16_t kUri = 1;                // the HTTPS URI of the image to boot
inline constexpr std::uint16_t kEfiDevicePath = 2;      // a device path (PBA, WinRE)
inline constexpr std::uint16_t kEfiDevicePathLength = 3;  // u16
inline constexpr std::uint16_t kImageHashAlgorithm = 4;
inline constexpr std::uint16_t kImageHash = 5;
inline constexpr std::uint16_t kImageHashVariant = 6;
inline constexpr std::uint16_t kOptionalData = 10;
inline constexpr std::uint16_t kSyncRootCa = 20;        // u8 boolean
inline constexpr std::uint16_t kServerNameFirst = 21;   // 21..25: the server's name and certificate hash
inline constexpr std::uint16_t kServerNameLast = 25;
inline constexpr std::uint16_t kTimeout = 30;           // u16 seconds, 0 = the BIOS's default
inline constexpr std::uint16_t kUsername = 40;
inline constexpr std::uint16_t kPassword = 41;
}  // namespace uefi_param

struct UefiBootParam {
  std::uint16_t type = 0;
  std::vector<std::uint8_t> value;
  bool operator==(const UefiBootParam&) const = default;
};

// The parameters in order; an error names the first fault (its offset and what was wrong): a wrong vendor, an
// unknown type, a length past the end or of the wrong size for its type (3, 30: 2 bytes; 20: 1 byte, 0 or 1), a
// URI that is empty, not https:// or holds control bytes, more than 1024 bytes, or none at all.
Result<std::vector<UefiBootParam>> parseUefiBootParameters(std::span<const std::uint8_t> bytes);
std::vector<std::uint8_t> encodeUefiBootParameters(const std::vector<UefiBootParam>& params);
// The value of the URI parameter as text, if there is one.
std::optional<std::string> uefiBootUri(const std::vector<UefiBootParam>& params);

}  // namespace mesim::platform
