// The CIRA configuration as the firmware's connection side reads it (apf.md §3; issue 15 acts on it): which
// MPS to call for which trigger, in which order, and how to log on. Built by AMT_RemoteAccessService and its
// classes (wsman/cim/remote_access.cpp); a read-only view of PlatformState.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "firmware/platform/platform_state.h"

namespace mesim::platform {

enum class CiraTrigger : std::uint32_t { UserInitiated = 0, Alert = 1, Periodic = 2 };
enum class MpsReach : std::uint32_t { External = 0, Internal = 1, Both = 2 };

struct CiraServer {
  const MpsServer* server = nullptr;  // host, port, AuthMethod 1 mutual TLS / 2 username+password, CN, credentials
  MpsReach reach = MpsReach::External;
};

struct CiraPolicy {
  CiraTrigger trigger = CiraTrigger::UserInitiated;
  std::uint32_t tunnelLifeTime = 0;                 // seconds; 0: until closed
  std::optional<std::uint32_t> periodicInterval;    // Periodic with an every-N-seconds ExtendedData
  std::vector<CiraServer> servers;                  // in OrderOfAccess
};

// The policies of `state`; servers a rule names that no longer exist are left out. Pointers into `state`.
std::vector<CiraPolicy> ciraPolicies(const PlatformState& state);

}  // namespace mesim::platform
