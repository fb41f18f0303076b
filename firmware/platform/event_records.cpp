#include "firmware/platform/event_records.h"

#include <algorithm>
#include <array>
#include <cstdio>

namespace mesim::platform {
namespace {

void putBe16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void putBe32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void putShortString(std::vector<std::uint8_t>& out, const std::string& s) {
  auto len = std::min<std::size_t>(s.size(), 255);
  out.push_back(static_cast<std::uint8_t>(len));
  out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(len));
}

}  // namespace

std::vector<std::uint8_t> makeAuditRecord(std::uint16_t app, std::uint16_t event, const AuditInitiator& who,
                                          std::uint32_t timestamp, const std::vector<std::uint8_t>& extended) {
  std::vector<std::uint8_t> out;
  putBe16(out, app);
  putBe16(out, event);
  if (who.local && who.user.empty()) {
    out.push_back(2);  // local initiator
  } else {
    out.push_back(0);  // HTTP Digest
    putShortString(out, who.user);
  }
  putBe32(out, timestamp);
  out.push_back(0);  // MCLocationType
  putShortString(out, who.address);
  auto extLen = std::min<std::size_t>(extended.size(), 255);
  out.push_back(static_cast<std::uint8_t>(extLen));
  out.insert(out.end(), extended.begin(), extended.begin() + static_cast<std::ptrdiff_t>(extLen));
  return out;
}

std::vector<std::uint8_t> makeMessageLogRecord(const MessageLogEvent& e, std::uint32_t timestamp) {
  std::vector<std::uint8_t> out(21);
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(timestamp >> (8 * i));
  out[4] = 0xFF;
  out[5] = e.sensorType;
  out[6] = e.eventType;
  out[7] = e.offset;
  out[8] = e.sourceType;
  out[9] = e.severity;
  out[10] = e.sensorNumber;
  out[11] = e.entity;
  out[12] = e.entityInstance;
  std::copy(std::begin(e.eventData), std::end(e.eventData), out.begin() + 13);
  return out;
}

std::optional<MessageLogRecord> decodeMessageLogRecord(const std::vector<std::uint8_t>& r) {
  if (r.size() != EventLogs::kMessageLogRecordSize) return std::nullopt;
  MessageLogRecord out;
  for (int i = 0; i < 4; ++i) out.timestamp |= std::uint32_t{r[static_cast<std::size_t>(i)]} << (8 * i);
  auto& e = out.event;
  e.sensorType = r[5];
  e.eventType = r[6];
  e.offset = r[7];
  e.sourceType = r[8];
  e.severity = r[9];
  e.sensorNumber = r[10];
  e.entity = r[11];
  e.entityInstance = r[12];
  std::copy(r.begin() + 13, r.end(), std::begin(e.eventData));
  return out;
}

std::string sensorTypeName(std::uint8_t type) {
  static const std::array<const char*, 0x2D> kNames = {
      "",  // 0x00 reserved
      "Temperature", "Voltage", "Current", "Fan", "Physical Security", "Platform Security Violation Attempt",
      "Processor", "Power Supply", "Power Unit", "Cooling Device", "Other Units-based Sensor", "Memory",
      "Drive Slot", "POST Memory Resize", "System Firmware Progress", "Event Logging Disabled", "Watchdog 1",
      "System Event", "Critical Interrupt", "Button / Switch", "Module / Board", "Microcontroller / Coprocessor",
      "Add-in Card", "Chassis", "Chip Set", "Other FRU", "Cable / Interconnect", "Terminator",
      "System Boot / Restart Initiated", "Boot Error", "Base OS Boot / Installation Status", "OS Stop / Shutdown",
      "Slot / Connector", "System ACPI Power State", "Watchdog 2", "Platform Alert", "Entity Presence",
      "Monitor ASIC / IC", "LAN", "Management Subsystem Health", "Battery", "Session Audit", "Version Change",
      "FRU State"};
  return type < kNames.size() ? kNames[type] : "";
}

std::string eventSeverityName(std::uint8_t severity) {
  switch (severity) {
    case 0x00: return "Unspecified";
    case 0x01: return "Monitor";
    case 0x02: return "Information";
    case 0x04: return "OK";
    case 0x08: return "Non-critical";
    case 0x10: return "Critical";
    case 0x20: return "Non-recoverable";
    default: return "";
  }
}

std::string eventTypeName(std::uint8_t type) {
  if (type == 0x01) return "Threshold";
  if (type >= 0x02 && type <= 0x0C) return "Generic discrete";
  if (type == 0x6F) return "Sensor-specific";
  if (type >= 0x70 && type <= 0x7F) return "OEM";
  return "";
}

namespace {
std::string agentStateName(std::uint8_t state) {
  switch (state) {
    case 1: return "NotStarted";
    case 2: return "Stopped";
    case 4: return "Running";
    case 8: return "Expired";
    case 16: return "Suspended";
    default: return "state " + std::to_string(state);
  }
}
}  // namespace

std::string describeMessageLogEvent(const MessageLogEvent& e) {
  const auto offset = e.offset & 0x0F;
  switch (e.sensorType) {
    case 0x0F:
      // One Click Recovery's BIOS (features.md §7), worded as MeshCentral's log decoder words it.
      if (e.eventData[0] == 0xAA && e.eventData[1] == 0x30) {
        static const char* kProgress[] = {"Boot parameters received from CSME", "CSME Boot Option added successfully",
                                          "HTTPS URI name resolved", "HTTPS connected successfully",
                                          "HTTPSBoot download is completed", "Attempt to boot", "Exit boot services"};
        static const char* kError[] = {"", "No network connection available", "Name resolution of URI failed",
                                       "Connect to URI failed", "OEM app not found at local URI", "HTTPS TLS Auth failed",
                                       "HTTPS Digest Auth failed", "Verified boot failed (bad image)",
                                       "HTTPS Boot File not found"};
        const auto code = e.eventData[2];
        if (offset == 5 && code < 7) return std::string("One Click Recovery: ") + kProgress[code];
        if (offset == 3 && code >= 1 && code < 9) return std::string("One Click Recovery: ") + kError[code];
      }
      return offset == 3 ? "System firmware error" : offset == 5 ? "System firmware progress" : "";
    case 0x12:
      if (e.eventData[0] == 0xAA) {  // agent presence (spec/wsman.md §3.5): GUID bytes 0..5, then the new state
        char guid[20];
        std::snprintf(guid, sizeof guid, "%02x%02x%02x%02x-%02x%02x", e.eventData[4], e.eventData[3], e.eventData[2],
                      e.eventData[1], e.eventData[6], e.eventData[5]);
        return std::string("Agent presence watchdog ") + guid + "... changed to " + agentStateName(e.eventData[7]);
      }
      return "System event";
    case 0x20: {
      static const char* kText[] = {"Critical stop during OS load", "Run-time critical stop (OS hang)",
                                    "OS graceful stop", "OS graceful shutdown", "Soft shutdown initiated by PEF",
                                    "Agent not responding"};
      return offset < 6 ? kText[offset] : "";
    }
    case 0x22: {
      static const char* kText[] = {"S0/G0: working", "S1: sleeping, hardware context kept",
                                    "S2: sleeping, processor context lost", "S3: sleeping, memory kept",
                                    "S4: hibernated", "S5/G2: soft off", "S4/S5: soft off", "G3: mechanical off",
                                    "Sleeping in S1, S2 or S3", "G1: sleeping", "S5 entered by override",
                                    "Legacy ON", "Legacy OFF", "", "Unknown"};
      return "Power state " + std::string(offset < 15 ? kText[offset] : "");
    }
    case 0x23: {
      static const char* kText[] = {"Watchdog timer expired", "Watchdog hard reset", "Watchdog power down",
                                    "Watchdog power cycle"};
      if (offset < 4) return kText[offset];
      return offset == 8 ? "Watchdog timer interrupt" : "";
    }
    case 0x1D: {
      static const char* kText[] = {"System restart: power up", "System restart: hard reset",
                                    "System restart: warm reset", "System restart: user requested PXE boot",
                                    "System restart: automatic boot to diagnostic",
                                    "System restart: OS initiated hard reset", "System restart: OS initiated warm reset",
                                    "System restart"};
      return offset < 8 ? kText[offset] : "";
    }
    case kSensorTypeRedirection:
      if (e.eventData[0] == 0xAA && e.eventData[1] == 0x30) {
        static const char* kText[] = {"SOL session started", "SOL session ended", "IDE-R session started",
                                      "IDE-R session ended"};
        return e.eventData[2] < 4 ? kText[e.eventData[2]] : "";
      }
      return "";
    default: return "";
  }
}

std::optional<AuditRecord> decodeAuditRecord(const std::vector<std::uint8_t>& r) {
  std::size_t at = 0;
  auto have = [&](std::size_t n) { return at + n <= r.size(); };
  auto be16 = [&] {
    std::uint16_t v = static_cast<std::uint16_t>(r[at] << 8 | r[at + 1]);
    at += 2;
    return v;
  };
  auto shortString = [&](std::string& out) {
    if (!have(1)) return false;
    const std::size_t length = r[at++];
    if (!have(length)) return false;
    out.assign(r.begin() + static_cast<std::ptrdiff_t>(at), r.begin() + static_cast<std::ptrdiff_t>(at + length));
    at += length;
    return true;
  };
  AuditRecord out;
  if (!have(5)) return std::nullopt;
  out.app = be16();
  out.event = be16();
  out.initiatorType = r[at++];
  if (out.initiatorType == 0) {
    if (!shortString(out.user)) return std::nullopt;
  } else if (out.initiatorType != 2 && out.initiatorType != 3) {
    return std::nullopt;  // Kerberos initiators (a SID) are never recorded by mesim
  }
  if (!have(5)) return std::nullopt;
  for (int i = 0; i < 4; ++i) out.timestamp = out.timestamp << 8 | r[at++];
  out.locationType = r[at++];
  if (!shortString(out.netAddress)) return std::nullopt;
  if (!have(1)) return std::nullopt;
  const std::size_t extended = r[at++];
  if (!have(extended)) return std::nullopt;
  out.extendedData.assign(r.begin() + static_cast<std::ptrdiff_t>(at), r.begin() + static_cast<std::ptrdiff_t>(at + extended));
  return out;
}

std::string auditAppName(std::uint16_t app) {
  switch (app) {
    case 16: return "Security Admin";
    case 17: return "Remote Control";
    case 18: return "Redirection Manager";
    case 19: return "Firmware Update Manager";
    case 20: return "Security Audit Log";
    case 21: return "Network Time";
    case 22: return "Network Administration";
    case 23: return "Storage Administration";
    case 24: return "Event Manager";
    case 25: return "System Defense Manager";
    case 26: return "Agent Presence Manager";
    case 27: return "Wireless Configuration";
    case 28: return "Endpoint Access Control";
    case 29: return "KVM";
    case 30: return "User Opt-In";
    case 32: return "Screen Blanking";
    case 33: return "Watchdog";
    default: return "";
  }
}

std::string auditEventName(std::uint16_t app, std::uint16_t event) {
  if (app == 16) {
    static const char* kSecurityAdmin[] = {
        "Provisioning Started", "Provisioning Completed", "ACL Entry Added", "ACL Entry Modified",
        "ACL Entry Removed", "ACL Access with Invalid Credentials", "ACL Entry State", "TLS State Changed",
        "TLS Server Certificate Set", "TLS Server Certificate Removed", "TLS Trusted Root Certificate Added",
        "TLS Trusted Root Certificate Removed", "TLS Preshared Key Set", "Kerberos Settings Modified",
        "Kerberos Master Key Modified", "Flash Wear-Out Counters Reset", "Power Package Modified",
        "Set Realm Authentication Mode", "Upgrade Client to Admin Control Mode", "Unprovisioning Started"};
    if (event < std::size(kSecurityAdmin)) return kSecurityAdmin[event];
    if (event == 100) return "Digest Login (mesim)";
    return "";
  }
  if (app == 17) {
    static const char* kRemoteControl[] = {"Performed Power Up", "Performed Power Down", "Performed Power Cycle",
                                           "Performed Reset", "Set Boot Options"};
    return event < std::size(kRemoteControl) ? kRemoteControl[event] : "";
  }
  if (app == 18) {
    static const char* kRedirectionManager[] = {"IDER Session Opened", "IDER Session Closed", "IDER Enabled",
                                                "IDER Disabled",       "SOL Session Opened",  "SOL Session Closed",
                                                "SOL Enabled",         "SOL Disabled",        "KVM Session Started",
                                                "KVM Session Ended",   "KVM Enabled",         "KVM Disabled",
                                                "VNC Password Failed 3 Times"};
    return event < std::size(kRedirectionManager) ? kRedirectionManager[event] : "";
  }
  if (app == 24) {
    static const char* kEventManager[] = {"Alert Subscribed", "Alert Unsubscribed", "Event Log Cleared",
                                          "Event Log Frozen"};
    return event < std::size(kEventManager) ? kEventManager[event] : "";
  }
  if (app == 26) {
    static const char* kAgentPresence[] = {"Agent Watchdog Added", "Agent Watchdog Removed",
                                           "Agent Watchdog Action Set"};
    return event < std::size(kAgentPresence) ? kAgentPresence[event] : "";
  }
  if (app == 30) {
    static const char* kUserOptIn[] = {"Opt-In Policy Change", "Send Consent Code Event", "Start Opt-In Blocked Event"};
    return event < std::size(kUserOptIn) ? kUserOptIn[event] : "";
  }
  return "";
}

const char* auditInitiatorTypeName(std::uint8_t type) {
  switch (type) {
    case 0: return "HTTP Digest";
    case 1: return "Kerberos";
    case 2: return "Local";
    case 3: return "KVM default port";
    default: return "unknown";
  }
}

bool isAudited(const PlatformState& state, std::uint16_t app, std::uint16_t event) {
  if (!state.services.auditLogEnabled) return false;
  if (app == audit::kSecurityAdmin) return true;  // AMT always audits its Security Admin events
  const std::uint32_t key = std::uint32_t{app} << 16 | event;
  const auto& off = state.services.auditDisabledEvents;
  return std::find(off.begin(), off.end(), key) == off.end();
}

void appendAuditRecord(PlatformState& state, std::vector<std::uint8_t> record) {
  if (record.size() >= 4 && !isAudited(state, static_cast<std::uint16_t>(record[0] << 8 | record[1]),
                                       static_cast<std::uint16_t>(record[2] << 8 | record[3])))
    return;
  // A locked audit log takes no record (AMT_AuditLog.SetAuditLock) until the lock's expiry on the firmware clock,
  // which the record's own timestamp tells.
  if (state.services.auditLockHandle != 0) {
    auto decoded = decodeAuditRecord(record);
    if (decoded && decoded->timestamp < state.services.auditLockExpiresAt) return;
  }
  auto& log = state.logs.auditLog;
  log.push_back(std::move(record));
  if (log.size() > EventLogs::kMaxAuditLogRecords)
    log.erase(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(log.size() - EventLogs::kMaxAuditLogRecords));
}

void appendMessageLogRecord(PlatformState& state, std::vector<std::uint8_t> record) {
  if (state.services.messageLogFrozen || !state.services.messageLogEnabled) return;  // FreezeLog, RequestStateChange(3)
  auto& log = state.logs.messageLog;
  log.push_back(std::move(record));
  if (log.size() > EventLogs::kMaxMessageLogRecords)
    log.erase(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(log.size() - EventLogs::kMaxMessageLogRecords));
}

}  // namespace mesim::platform
