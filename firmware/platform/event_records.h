// Binary records of AMT's message (event) log and audit log (spec/wsman.md §3.6), and appending them to
// the platform state with the store's caps (oldest records dropped first).
#pragma once

#include <cstdint>
#include <optional>
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
// Storage Administration (app 23), the 3PDS (docs/3pds.md): 2300 carries the new MaxPartnerStorage and
// MaxNonPartnerTotalAllocationSize (u32 BE each); the others carry no extended data.
inline constexpr std::uint16_t kStorageAdministration = 23;
inline constexpr std::uint16_t kGlobalStorageAttributesSet = 0;
inline constexpr std::uint16_t kStorageEaclModified = 1;
inline constexpr std::uint16_t kStorageFpaclModified = 2;
inline constexpr std::uint16_t kStorageWriteOperation = 3;
// Redirection Manager (app 18): 1800 IDER Session Opened ... 1812, as MeshCentral's audit string table numbers them.
inline constexpr std::uint16_t kRedirectionManager = 18;
inline constexpr std::uint16_t kSolSessionOpened = 4;
inline constexpr std::uint16_t kSolSessionClosed = 5;
}  // namespace audit

// Message-log records of redirection sessions: sensor type 0xC0 (OEM), event data AA 30 NN with NN 00 SOL session
// started, 01 SOL ended, 02 IDE-R started, 03 IDE-R ended (features.md §1.3, from MeshCentral's log decoder).
inline constexpr std::uint8_t kSensorTypeRedirection = 0xC0;
inline constexpr std::uint8_t kRedirectionSolStarted = 0x00;
inline constexpr std::uint8_t kRedirectionSolEnded = 0x01;
inline constexpr std::uint8_t kRedirectionIderStarted = 0x02;
inline constexpr std::uint8_t kRedirectionIderEnded = 0x03;

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

// ---- reading records back (the control API's log reads; WS-Man hands the raw records to consoles)

struct MessageLogRecord {
  std::uint32_t timestamp = 0;  // seconds since the Unix epoch
  MessageLogEvent event;
};
// A 21-byte record; nothing if it is not one.
std::optional<MessageLogRecord> decodeMessageLogRecord(const std::vector<std::uint8_t>& record);
// IPMI sensor type names (IPMI 2.0 table 42-3), PET event severities and event/reading types; "" when unknown.
std::string sensorTypeName(std::uint8_t sensorType);
std::string eventSeverityName(std::uint8_t severity);
std::string eventTypeName(std::uint8_t eventType);
// What the record says, in a line, for the events mesim records and the common IPMI sensor offsets; "" when unknown.
std::string describeMessageLogEvent(const MessageLogEvent& event);

struct AuditRecord {
  std::uint16_t app = 0;
  std::uint16_t event = 0;
  std::uint8_t initiatorType = 0;  // 0 HTTP Digest, 1 Kerberos, 2 local, 3 KVM default port
  std::string user;                // Digest user name (initiator type 0)
  std::uint32_t timestamp = 0;
  std::uint8_t locationType = 0;
  std::string netAddress;
  std::vector<std::uint8_t> extendedData;
};
// A record of makeAuditRecord's layout; nothing if it is cut short or of an initiator type it cannot read.
std::optional<AuditRecord> decodeAuditRecord(const std::vector<std::uint8_t>& record);
// "Security Admin", "Remote Control", ...; "" when unknown.
std::string auditAppName(std::uint16_t app);
// The event's name (e.g. 1605 "ACL Access with Invalid Credentials"); "" when unknown.
std::string auditEventName(std::uint16_t app, std::uint16_t event);
const char* auditInitiatorTypeName(std::uint8_t type);

// Whether AMT_AuditPolicyRule and AMT_AuditLog's state let an event into the audit log.
bool isAudited(const PlatformState& state, std::uint16_t app, std::uint16_t event);

// Append with the caps of EventLogs (edits `state`; use inside PlatformModel::update). A frozen or disabled message
// log and an event the audit policy leaves out add nothing. A message-log record goes through the PET filters first
// (pet_filters.h): they may raise a trap (state.petOutbox) and keep it out of the log (LogOnEvent false).
void appendAuditRecord(PlatformState& state, std::vector<std::uint8_t> record);
void appendMessageLogRecord(PlatformState& state, std::vector<std::uint8_t> record);

}  // namespace mesim::platform
