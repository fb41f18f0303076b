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

// When a periodic rule calls: its ExtendedData, big-endian 32-bit numbers. Kind 0 and N: every N seconds; kind 1,
// hour and minute: every day at that time of AMT's clock (UTC), as MeshCommander's policy dialog writes it.
struct PeriodicSchedule {
  enum class Kind : std::uint32_t { Interval = 0, Daily = 1 };
  Kind kind = Kind::Interval;
  std::uint32_t intervalSeconds = 0;  // Interval (0 is taken as 1)
  std::uint32_t hour = 0;             // Daily: 0-23
  std::uint32_t minute = 0;           // Daily: 0-59
};

// The schedule in a periodic rule's base64 ExtendedData, or nothing if it is not one of the two forms.
std::optional<PeriodicSchedule> parsePeriodicSchedule(const std::string& extendedDataBase64);

struct CiraPolicy {
  CiraTrigger trigger = CiraTrigger::UserInitiated;
  std::uint32_t tunnelLifeTime = 0;                 // seconds; 0: until closed
  std::optional<PeriodicSchedule> periodic;         // Periodic with a valid ExtendedData
  std::vector<CiraServer> servers;                  // in OrderOfAccess
};

// The policies of `state`; servers a rule names that no longer exist are left out. Pointers into `state`.
std::vector<CiraPolicy> ciraPolicies(const PlatformState& state);

}  // namespace mesim::platform
