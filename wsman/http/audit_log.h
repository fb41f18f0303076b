// AMT_AuditLog records (spec/wsman.md §3.6) as the platform keeps them (PlatformState::logs.auditLog, raw
// bytes, oldest first), and the login events the HTTP layer writes. The codec is pure; appendAuditRecord
// goes through PlatformModel::update, so the record is persisted before anyone can read it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "firmware/platform/platform_model.h"

namespace mesim::wsman::http {

enum class AuditInitiator : std::uint8_t { Digest = 0, Kerberos = 1, Local = 2, KvmDefaultPort = 3 };
// MCLocationType: how NetAddress is to be read. 0/1 follow the record layout MeshCentral decodes; "none" (2)
// is this simulator's choice for the in-process local channel, which has no network address.
enum class AuditAddressType : std::uint8_t { Ipv4 = 0, Ipv6 = 1, None = 2 };

struct AuditRecord {
  std::uint16_t appId = 0;
  std::uint16_t eventId = 0;
  AuditInitiator initiatorType = AuditInitiator::Digest;
  std::string initiator;        // Digest user name (Digest) or SID bytes (Kerberos); at most 255 bytes are kept
  std::uint32_t timestamp = 0;  // Unix seconds (firmware clock)
  AuditAddressType addressType = AuditAddressType::None;
  std::string netAddress;       // at most 255 bytes are kept
  std::vector<std::uint8_t> extendedData;  // at most 255 bytes are kept
  bool operator==(const AuditRecord&) const = default;
};

// App and event ids (MeshCentral amt.js _AmtAuditStringTable; Intel AMT SDK "Security Admin Events").
inline constexpr std::uint16_t kAuditAppSecurityAdmin = 16;
// 1605 "ACL Access with Invalid Credentials"; extended data [0] = 0 "Invalid ME access", 1 "Invalid MEBx access".
inline constexpr std::uint16_t kEventAclAccessInvalidCredentials = 5;
// Real AMT audits no successful login. mesim records one per Digest login session (first use of a nonce) with
// this id, chosen outside the range Intel documents for app 16 (0..19) so it can never collide with a real event.
inline constexpr std::uint16_t kEventMesimDigestLogin = 100;

// Wire layout (big-endian): AuditAppID u16, EventID u16, InitiatorType u8, initiator (Digest: len u8 + name;
// Kerberos: u32 in-domain flag + len u8 + SID; Local/KVM: nothing), TimeStamp u32, MCLocationType u8,
// NetAddress len u8 + bytes, ExtendedData len u8 + bytes.
std::vector<std::uint8_t> encodeAuditRecord(const AuditRecord& record);
std::optional<AuditRecord> decodeAuditRecord(std::span<const std::uint8_t> bytes);

// Appends `record`, dropping the oldest records beyond EventLogs::kMaxAuditLogRecords (AMT_AuditLog
// OverwritePolicy 2, "wraps when full").
platform::ChangeResult appendAuditRecord(platform::PlatformModel& platform, const AuditRecord& record);

}  // namespace mesim::wsman::http
