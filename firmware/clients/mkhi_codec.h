// MKHI wire format, spec/mei.md §5: pure encoders and decoders, no I/O.
// Header (u32 LE) = group_id:8 | command:7 | is_response:1 | reserved:8 | result:8, i.e. bytes
// {group, command | 0x80 on responses, reserved, result} (Linux drivers/misc/mei/mkhi.h; intel/lms
// MEIClient/MKHIClient/Include/MKHICommand.h).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "hostif/link/hbm_wire.h"

namespace mesim::clients::mkhi {

using hbm::Bytes;
using hbm::ByteView;

constexpr std::size_t kHeaderSize = 4;
constexpr std::uint8_t kResponseBit = 0x80;

enum class Group : std::uint8_t { Cbm = 0x00, Pm = 0x01, Pwd = 0x02, FwCaps = 0x03, Gen = 0xFF };

namespace gen {
constexpr std::uint8_t kGetMkhiVersion = 0x01;
constexpr std::uint8_t kGetFwVersion = 0x02;
// u32 boot state (bit 0 End of POST sent, bit 1 Core BIOS Done) + u32 reserved; LMS's GetFWInfo asks it on ME >= 16
// (MEIClient/MKHIClient/Include/GetBootStateCommand.h).
constexpr std::uint8_t kGetBootState = 0x0A;
constexpr std::uint32_t kBootStateEndOfPost = 1u << 0;
constexpr std::uint32_t kBootStateCoreBiosDone = 1u << 1;
}  // namespace gen
namespace fwcaps {
constexpr std::uint8_t kGetRule = 0x02;
constexpr std::uint8_t kSetOsVersion = 0x06;  // MKHI_FWCAPS_SET_OS_VER_APP_RULE_CMD; the kernel expects no reply
}  // namespace fwcaps

// MKHI_STATUS (intel/lms MEIClient/MKHIClient/Include/MKHIErrorException.h).
enum class Result : std::uint8_t {
  Success = 0x00,
  InvalidState = 0x01,
  SizeError = 0x05,
  NotFound = 0x81,
  InvalidParams = 0x85,
  NotSupported = 0x89,
  InvalidCommand = 0x8D,
};

struct Header {
  std::uint8_t group = 0;
  std::uint8_t command = 0;  // 7 bits
  bool isResponse = false;
  std::uint8_t reserved = 0;
  std::uint8_t result = 0;
};
void writeHeader(const Header& header, Bytes& out);
std::optional<Header> readHeader(ByteView message);  // nullopt if shorter than 4 bytes

Bytes makeRequest(std::uint8_t group, std::uint8_t command, ByteView payload = {});
Bytes makeResponse(std::uint8_t group, std::uint8_t command, Result result, ByteView payload = {});

// GEN GET_FW_VERSION block (8 bytes, kernel struct mkhi_fw_ver_block). LMS reads the same bytes as
// u16 minor, u16 major, u16 build, u16 hotfix, which agrees while `platform` is 0.
struct FwVersionBlock {
  std::uint16_t minor = 0;
  std::uint8_t major = 0;
  std::uint8_t platform = 0;
  std::uint16_t buildNo = 0;
  std::uint16_t hotfix = 0;
  bool operator==(const FwVersionBlock&) const = default;
};
constexpr std::size_t kFwVersionBlockSize = 8;
Bytes encodeFwVersion(std::span<const FwVersionBlock> blocks);
std::optional<std::vector<FwVersionBlock>> decodeFwVersion(ByteView payload);  // >= 1 whole block

// GEN GET_MKHI_VERSION: MKHI_VERSION {u16 minor, u16 major}.
struct MkhiVersion {
  std::uint16_t minor = 0;
  std::uint16_t major = 0;
};
Bytes encode(const MkhiVersion& v);
std::optional<MkhiVersion> decodeMkhiVersion(ByteView payload);

// FWCAPS rule id {u16 rule_type, u8 feature_id, u8 reserved} as one u32 (MAKE_ME_RULE_ID).
constexpr std::uint32_t makeRuleId(std::uint8_t featureId, std::uint16_t rule) {
  return static_cast<std::uint32_t>(featureId) << 16 | rule;
}
namespace rule {
constexpr std::uint32_t kFwSku = 0;            // features the platform is capable of
constexpr std::uint32_t kFwUpdate = 7;         // 0 disabled, 1 enabled, 2 password protected
constexpr std::uint32_t kPlatformType = 29;    // MEFWCAPS_PCV_OEM_PLAT_TYPE_CFG_RULE
constexpr std::uint32_t kFeatureEnable = 32;   // features capable and enabled (bit 2 = AMT)
constexpr std::uint32_t kAvailableBitmap = 39; // capable, enabled and ready
}  // namespace rule
constexpr std::uint8_t kFeaturePtt = 0x10;     // feature id of the kernel's OS-version rule

Bytes encodeRuleId(std::uint32_t ruleId);  // GET_RULE request payload
std::optional<std::uint32_t> decodeRuleId(ByteView payload);  // exactly 4 bytes

// GET_RULE response payload: rule id, u8 data length, data (LMS checks id and length == 4).
struct RuleData {
  std::uint32_t ruleId = 0;
  Bytes data;
};
Bytes encodeRuleResponse(std::uint32_t ruleId, ByteView data);
std::optional<RuleData> decodeRuleResponse(ByteView payload);

// The kernel's OS-version message (bus-fixup.c mei_osver): rule id {0, 0x10}, u8 len = 8, then
// struct mei_os_ver {u16 build, u16 reserved, u8 os_type (2 = Linux), u8 major, u8 minor, u8 reserved}.
struct OsVersion {
  std::uint16_t build = 0;
  std::uint8_t osType = 2;
  std::uint8_t major = 0;
  std::uint8_t minor = 0;
};
constexpr std::size_t kOsVersionPayloadSize = 4 + 1 + 8;
Bytes encode(const OsVersion& v);
std::optional<OsVersion> decodeOsVersion(ByteView payload);

}  // namespace mesim::clients::mkhi
