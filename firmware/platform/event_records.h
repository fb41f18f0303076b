// Binary records of AMT's message (event) log and audit log (spec/wsman.md §3.6), and appending them to
// the platform state with the store's caps (oldest records dropped first).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "firmware/platform/platform_state.h"

namespace mesim::platform {

// Who caused an audited action.
struct AuditInitiator {
  std::string user;    // Digest user name; empty with `local` = a local (host) initiator
  bool local = false;
  std::string address; // network address, may be empty
};

// Audit application / event ids (MeshCentral amt.js audit string table: id = app * 100 + event).
namespace audit {
inline constexpr std::uint16_t kSecurityAdmin = 16;
inline constexpr std::uint16_t kProvisioningCompleted = 1;
inline constexpr std::uint16_t kUpgradeClientToAdmin = 18;
inline constexpr std::uint16_t kUnprovisioningStarted = 19;
inline constexpr std::uint16_t kTlsTrustedRootAdded = 10;
inline constexpr std::uint16_t kRemoteControl = 17;
inline constexpr std::uint16_t kRemotePowerUp = 0;
inline constexpr std::uint16_t kRemotePowerDown = 1;
inline constexpr std::uint16_t kRemotePowerCycle = 2;
inline constexpr std::uint16_t kRemoteReset = 3;
}  // namespace audit

// AuditAppID u16 BE, EventID u16 BE, InitiatorType (0 digest + len + user, 2 local), timestamp u32 BE,
// MCLocationType, net-address (len + text), extended data (len + bytes).
std::vector<std::uint8_t> makeAuditRecord(std::uint16_t app, std::uint16_t event, const AuditInitiator& who,
                                          std::uint32_t timestamp, const std::vector<std::uint8_t>& extended = {});

// 21-byte AMT_MessageLog record: timestamp LE, DeviceAddress 0xFF, then the PET fields.
struct MessageLogEvent {
  std::uint8_t sensorType = 0;
  std::uint8_t eventType = 0x6F;
  std::uint8_t offset = 0;
  std::uint8_t sourceType = 0x68;  // ASF
  std::uint8_t severity = 0x08;    // informational
  std::uint8_t sensorNumber = 0xFF;
  std::uint8_t entity = 0;
  std::uint8_t entityInstance = 0;
  std::uint8_t eventData[8] = {};
};
std::vector<std::uint8_t> makeMessageLogRecord(const MessageLogEvent& event, std::uint32_t timestamp);

// Append with the caps of EventLogs (edits `state`; use inside PlatformModel::update).
void appendAuditRecord(PlatformState& state, std::vector<std::uint8_t> record);
void appendMessageLogRecord(PlatformState& state, std::vector<std::uint8_t> record);

}  // namespace mesim::platform
