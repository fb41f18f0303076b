// The watchdog feature as WS-Man sees it (spec/wsman.md §3.5): agent-presence watchdogs and the expiration
// actions of IPS_WatchDogAction. Declared here, in the layer wsman/ and watchdog_fw/ both depend on, and
// implemented by watchdog_fw (AgentPresenceService), so neither feature includes the other
// (ARCHITECTURE.md "Directions"). Return values are PT_STATUS codes (spec/wsman.md §3.6).
// Single-threaded: call it on the firmware's io_context.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mesim::platform {

using AgentGuid = std::array<std::uint8_t, 16>;

// AMT_AgentPresenceWatchdog.CurrentState; actions match on OR-ed masks of these (31 = any).
namespace agent_state {
inline constexpr std::uint16_t kNotStarted = 1;
inline constexpr std::uint16_t kStopped = 2;
inline constexpr std::uint16_t kRunning = 4;
inline constexpr std::uint16_t kExpired = 8;
inline constexpr std::uint16_t kSuspended = 16;
inline constexpr std::uint16_t kAny = 31;
}  // namespace agent_state

// One AddAction: a CIM_ConcreteDependency chain watchdog -> AMT_StateTransitionCondition -> action.
struct AgentPresenceAction {
  std::uint32_t id = 0;        // unique per platform; names the condition and action instances
  std::uint16_t oldStates = 0; // mask
  std::uint16_t newStates = 0; // mask
  bool eventOnTransition = false;
  std::uint16_t actionSd = 0;  // 1: put the agent-presence System Defense policy in force (docs/system-defense.md)
  std::uint16_t actionEac = 0;
};

struct AgentWatchdogInfo {
  AgentGuid guid{};
  std::uint32_t startupInterval = 0;  // seconds to the first registration after S0
  std::uint32_t timeoutInterval = 0;  // seconds between heartbeats
  std::string description;            // MonitoredEntityDescription
  std::uint16_t currentState = agent_state::kNotStarted;
  std::uint32_t timeOfLastExpiration = 0;  // Unix seconds, 0 = never
  std::vector<AgentPresenceAction> actions;
};

// IPS_WatchDogAction.
struct WatchdogActionSettings {
  std::uint32_t heciExpirationAction = 0;           // OS (HECI) watchdog: 0 none, 1 host reset
  std::uint32_t agentPresenceExpirationAction = 0;  // agent watchdog expired: 0 none, 1 host reset
  std::uint32_t timeout = 30;                       // 0..86400 s
  bool reArmReset = false;
  bool operator==(const WatchdogActionSettings&) const = default;
};

// AMT_AgentPresenceCapabilities.
struct AgentPresenceCapabilities {
  std::uint32_t maxTotalAgents = 16;
  std::uint32_t maxTotalActions = 64;
  std::uint32_t minGuaranteedActionListSize = 4;
  std::uint32_t maxEacAgents = 1;
};

class AgentPresence {
 public:
  struct Registration {
    std::uint32_t status = 0;
    std::uint32_t sessionSequenceNumber = 0;
    std::uint32_t timeoutInterval = 0;
  };

  virtual ~AgentPresence() = default;

  virtual std::vector<AgentWatchdogInfo> watchdogs() const = 0;
  virtual AgentPresenceCapabilities capabilities() const = 0;

  virtual std::uint32_t create(const AgentGuid& guid, std::uint32_t startupInterval, std::uint32_t timeoutInterval,
                               const std::string& description) = 0;
  virtual std::uint32_t remove(const AgentGuid& guid) = 0;
  virtual Registration registerAgent(const AgentGuid& guid) = 0;
  // A wrong sequence number is ignored (status 0, nothing changes), as AMT does.
  virtual std::uint32_t assertPresence(const AgentGuid& guid, std::uint32_t sequenceNumber) = 0;
  virtual std::uint32_t assertShutdown(const AgentGuid& guid, std::uint32_t sequenceNumber) = 0;
  // On success `action.id` is set.
  virtual std::uint32_t addAction(const AgentGuid& guid, AgentPresenceAction& action) = 0;
  virtual std::uint32_t deleteAllActions(const AgentGuid& guid) = 0;

  virtual WatchdogActionSettings actionSettings() const = 0;
  virtual std::uint32_t setActionSettings(const WatchdogActionSettings& settings) = 0;
};

}  // namespace mesim::platform
