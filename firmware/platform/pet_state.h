// PET over SNMP (AMT <= 17; docs/pet.md): the SNMP trap subscribers consoles add (AMT_SNMPEventSubscriber), the
// PET filters AMT ships and consoles tune (AMT_PETFilterSetting) and AMT_EventManagerService's default community.
// Plain data, persisted in platform.json ("pet", pet_json.cpp). pet_filters.h decides what a message-log record
// does with them; the trap itself is pet_trap.h's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mesim::platform {

// One AMT_PETFilterSetting. The nine match bytes are compared with the record's PET fields; 0xFF matches any.
struct PetFilter {
  std::string instanceId;   // "Intel(r) AMT:PET Filter 1"
  std::string elementName;  // "Temperature"
  bool enabled = true;      // EnableFilter
  bool oemFilter = false;   // OEMFilter: fixed by the manufacturer, Put cannot change it ("AMT Diagnostic")
  bool logOnEvent = true;   // LogOnEvent: a matching event is written to the message log
  bool sendAlert = true;    // SendAlert: a matching event is sent as a trap to the filter's subscribers
  std::uint8_t deviceAddress = 0xFF;
  std::uint8_t sensorType = 0xFF;
  std::uint8_t eventType = 0xFF;
  std::uint8_t offset = 0xFF;
  std::uint8_t sourceType = 0xFF;
  std::uint8_t severity = 0xFF;
  std::uint8_t sensorNumber = 0xFF;
  std::uint8_t entity = 0xFF;
  std::uint8_t entityInstance = 0xFF;
  std::uint8_t policyId = 1;  // PolicyID: the subscribers with the same PolicyID get its traps
  bool operator==(const PetFilter&) const = default;
};

// One AMT_SNMPEventSubscriber: where traps of its PolicyID go.
struct SnmpSubscriber {
  std::string name;             // Name (key)
  std::string accessInfo;       // AccessInfo: the trap receiver's IPv4 or IPv6 address
  std::uint16_t infoFormat = 3; // InfoFormat: 3 IPv4 address, 4 IPv6 address
  std::uint16_t port = 162;     // PortInfo (mesim's choice: AMT always sends to 162, docs/pet.md)
  std::string communityString;  // empty: AMT_EventManagerService.DefaultCommunityString
  std::uint8_t policyId = 1;
  bool operator==(const SnmpSubscriber&) const = default;
};

struct PetSettings {
  // The limits of AMT's PET tables (features.md §6).
  static constexpr std::size_t kMaxSubscribers = 14;
  static constexpr std::size_t kMaxFilters = 17;
  static constexpr std::uint8_t kDiagnosticPolicyId = 134;  // the fixed "AMT Diagnostic" filter's

  std::string defaultCommunityString = "public";
  std::vector<PetFilter> filters = defaultFilters();
  std::vector<SnmpSubscriber> subscribers;
  std::uint32_t nextSubscriberNumber = 1;  // names "Intel(r) AMT:SNMP Subscriber N" of subscribers created without one

  // The 17 filters as a new AMT has them: 1-3 Temperature, Voltage, Fan and the other platform sensors, then the
  // fixed "AMT Diagnostic" (PolicyID 134).
  static std::vector<PetFilter> defaultFilters();
  bool operator==(const PetSettings&) const = default;
};

// A message-log event that filters selected for a trap: the record and the PolicyIDs whose subscribers get it.
struct PetAlert {
  std::uint64_t sequence = 0;                // 1, 2, ... since the firmware started (the trap's sequence number)
  std::vector<std::uint8_t> record;          // the 21-byte message-log record (event_records.h)
  std::vector<std::uint8_t> policyIds;
};

// What the firmware raised for PET, for the trap sender (an observer of PlatformModel) to pick up after the change
// that raised it. Not persisted: traps not sent before a restart are lost, as on AMT.
struct PetOutbox {
  static constexpr std::size_t kKept = 64;  // more alerts in one change than this lose the oldest
  std::uint64_t raised = 0;                 // alerts raised so far; the newest has sequence `raised`
  std::vector<PetAlert> recent;             // the newest alerts, oldest first
};

}  // namespace mesim::platform
