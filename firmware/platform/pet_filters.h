// What AMT's PET filters do with a message-log record (docs/pet.md): which enabled filters match it (each of the
// nine match bytes equal to the record's PET field, or 0xFF), whether it is logged, and the PolicyIDs whose SNMP
// subscribers get a trap for it.
#pragma once

#include <cstdint>
#include <vector>

#include "firmware/platform/pet_state.h"

namespace mesim::platform {

// Whether `filter`'s match bytes select the 21-byte record (its enabled switch is not looked at).
bool petFilterMatches(const PetFilter& filter, const std::vector<std::uint8_t>& record);

struct PetDecision {
  bool log = true;                    // false: an enabled filter matched and none of the matching ones logs
  std::vector<std::uint8_t> alerts;   // PolicyIDs of the enabled matching filters that SendAlert (no repeats)
};
// An event no enabled filter matches is logged and sends nothing (AMT's own records are not filter-driven).
PetDecision decidePetEvent(const PetSettings& pet, const std::vector<std::uint8_t>& record);

// Records `record` in the outbox for the trap sender when `decision` asks for alerts.
void raisePetAlert(PetOutbox& outbox, const std::vector<std::uint8_t>& record, const PetDecision& decision);

}  // namespace mesim::platform
