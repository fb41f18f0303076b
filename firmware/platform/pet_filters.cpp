#include "firmware/platform/pet_filters.h"

#include <algorithm>

namespace mesim::platform {

std::vector<PetFilter> PetSettings::defaultFilters() {
  // IPMI sensor types (IPMI 2.0 table 42-3) of the platform's sensors and the firmware's own events.
  struct Row {
    const char* name;
    std::uint8_t sensorType;
  };
  static constexpr Row kRows[] = {
      {"Temperature", 0x01},       {"Voltage", 0x02},        {"Fan", 0x04},
      {"Chassis Intrusion", 0x05}, {"Processor", 0x07},      {"Power Supply", 0x08},
      {"Power Unit", 0x09},        {"Memory", 0x0C},         {"BIOS POST Progress", 0x0F},
      {"Event Logging", 0x10},     {"System Event", 0x12},   {"Boot Error", 0x1E},
      {"OS Boot", 0x1F},           {"OS Critical Stop", 0x20}, {"Watchdog", 0x23},
      {"Management Subsystem Health", 0x28},
  };
  std::vector<PetFilter> filters;
  int n = 1;
  for (const auto& row : kRows) {
    PetFilter f;
    f.instanceId = "Intel(r) AMT:PET Filter " + std::to_string(n++);
    f.elementName = row.name;
    f.sensorType = row.sensorType;
    filters.push_back(std::move(f));
  }
  // The fixed diagnostic filter: events of the management controller itself (entity 26h).
  PetFilter diagnostic;
  diagnostic.instanceId = "Intel(r) AMT:PET Filter " + std::to_string(n);
  diagnostic.elementName = "AMT Diagnostic";
  diagnostic.oemFilter = true;
  diagnostic.entity = 0x26;
  diagnostic.policyId = kDiagnosticPolicyId;
  filters.push_back(std::move(diagnostic));
  return filters;
}

bool petFilterMatches(const PetFilter& f, const std::vector<std::uint8_t>& r) {
  if (r.size() < 13) return false;
  auto same = [](std::uint8_t want, std::uint8_t have) { return want == 0xFF || want == have; };
  // Record layout (spec/wsman.md §3.6): [4] device address, [5] sensor type, [6] event type, [7] offset,
  // [8] source type, [9] severity, [10] sensor number, [11] entity, [12] entity instance.
  return same(f.deviceAddress, r[4]) && same(f.sensorType, r[5]) && same(f.eventType, r[6]) && same(f.offset, r[7]) &&
         same(f.sourceType, r[8]) && same(f.severity, r[9]) && same(f.sensorNumber, r[10]) && same(f.entity, r[11]) &&
         same(f.entityInstance, r[12]);
}

PetDecision decidePetEvent(const PetSettings& pet, const std::vector<std::uint8_t>& record) {
  PetDecision d;
  bool matched = false, logged = false;
  for (const auto& f : pet.filters) {
    if (!f.enabled || !petFilterMatches(f, record)) continue;
    matched = true;
    logged = logged || f.logOnEvent;
    if (f.sendAlert && std::find(d.alerts.begin(), d.alerts.end(), f.policyId) == d.alerts.end())
      d.alerts.push_back(f.policyId);
  }
  d.log = !matched || logged;
  return d;
}

void raisePetAlert(PetOutbox& outbox, const std::vector<std::uint8_t>& record, const PetDecision& decision) {
  if (decision.alerts.empty()) return;
  outbox.recent.push_back(PetAlert{++outbox.raised, record, decision.alerts});
  if (outbox.recent.size() > PetOutbox::kKept) outbox.recent.erase(outbox.recent.begin());
}

}  // namespace mesim::platform
