// What WS-Man reads of System Defense besides the persisted policies: the statistics of the filters in force
// (AMT_ActiveFilterStatistics, AMT_SystemDefensePolicy.UpdateStatistics). Declared here, in the layer wsman/ and
// firmware/sysdef both depend on, and implemented by firmware/sysdef's SystemDefenseEngine. Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mesim::platform {

struct SdFilterStatistics {
  std::uint32_t filter = 0;          // filter handle
  std::uint64_t matched = 0;         // packets since activation or the last reset
  std::int64_t activationTime = 0;   // firmware Unix seconds the policy came into force
  std::int64_t lastResetTime = 0;    // firmware Unix seconds of the last ResetOnRead (activation if none)
  std::uint32_t readCount = 0;       // UpdateStatistics calls since activation
};

class SystemDefenseMonitor {
 public:
  virtual ~SystemDefenseMonitor() = default;
  // The counting filters (profiles 0-2) of the policy in force on `nic`; empty when none is.
  virtual std::vector<SdFilterStatistics> statistics(std::size_t nic) const = 0;
  // UpdateStatistics: counts a read, lets match events fire again, and with `resetOnRead` starts counting from 0.
  // False when no policy is in force on `nic`.
  virtual bool updateStatistics(std::size_t nic, bool resetOnRead) = 0;
};

}  // namespace mesim::platform
