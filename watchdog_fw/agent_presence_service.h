// Agent-presence watchdogs (spec/wsman.md §3.5): a host agent registers with AMT and sends heartbeats; if
// they stop, the watchdog expires and its actions run. States NotStarted, Running, Expired, Stopped,
// Suspended; timers run only while the host is in S0 (S3/S4 suspend and restore, S5 -> S0 starts over at
// NotStarted). Each transition that matches an action with EventOnTransition writes a 21-byte record
// (SensorType 0x12, Entity 0x26, EventData AA g0..g5 state) and raises iAMT0002..0006. Implements the
// platform::AgentPresence interface the WS-Man classes use. Single-threaded, on the firmware's loop.
#pragma once

#include <functional>
#include <map>
#include <optional>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/agent_presence.h"
#include "firmware/platform/platform_model.h"
#include "watchdog_fw/watchdog_events.h"
#include "watchdog_fw/watchdog_store.h"

namespace mesim::watchdog {

class AgentPresenceService final : public platform::AgentPresence {
 public:
  // Called on every state change (after the events are queued): guid, old, new.
  using TransitionObserver = std::function<void(const platform::AgentGuid&, std::uint16_t, std::uint16_t)>;

  AgentPresenceService(core::FirmwareTimerQueue& timers, platform::PlatformModel& platform, WatchdogStore& store,
                       WatchdogEvents& events, platform::AgentPresenceCapabilities capabilities = {});
  ~AgentPresenceService() override;
  AgentPresenceService(const AgentPresenceService&) = delete;
  AgentPresenceService& operator=(const AgentPresenceService&) = delete;

  std::vector<platform::AgentWatchdogInfo> watchdogs() const override;
  platform::AgentPresenceCapabilities capabilities() const override { return capabilities_; }
  std::uint32_t create(const platform::AgentGuid& guid, std::uint32_t startupInterval, std::uint32_t timeoutInterval,
                       const std::string& description) override;
  std::uint32_t remove(const platform::AgentGuid& guid) override;
  Registration registerAgent(const platform::AgentGuid& guid) override;
  std::uint32_t assertPresence(const platform::AgentGuid& guid, std::uint32_t sequenceNumber) override;
  std::uint32_t assertShutdown(const platform::AgentGuid& guid, std::uint32_t sequenceNumber) override;
  std::uint32_t addAction(const platform::AgentGuid& guid, platform::AgentPresenceAction& action) override;
  std::uint32_t deleteAllActions(const platform::AgentGuid& guid) override;
  platform::WatchdogActionSettings actionSettings() const override { return store_.data().actions; }
  std::uint32_t setActionSettings(const platform::WatchdogActionSettings& settings) override;

  std::optional<std::uint16_t> state(const platform::AgentGuid& guid) const;
  std::optional<core::FirmwareTimerQueue::time_point> deadline(const platform::AgentGuid& guid) const;
  void onTransition(TransitionObserver observer) { observer_ = std::move(observer); }
  // Timeouts of any agent's watchdog (each expiry, whether or not an action reports it).
  std::uint64_t expiries() const { return expiries_; }
  // The host's power changed (the service also follows the platform model by itself).
  void hostPowerChanged();

  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  void invokeSystemDefense(const platform::AgentGuid& guid);
  struct Agent {
    StoredAgent def;  // a copy of the stored definition: expiry must not search the store
    std::uint16_t state = platform::agent_state::kNotStarted;
    std::uint16_t beforeSuspend = platform::agent_state::kNotStarted;
    std::uint32_t lastSequence = 0;  // of the session; the next AssertPresence must bring lastSequence + 1
    bool session = false;            // registered since the last S0 entry or shutdown
    std::uint32_t timeOfLastExpiration = 0;
    core::FirmwareTimerQueue::TimerId timer = 0;
  };

  void transition(const platform::AgentGuid& guid, Agent& agent, std::uint16_t to);
  void arm(const platform::AgentGuid& guid, Agent& agent, std::uint32_t seconds);
  void disarm(Agent& agent);
  void expire(const platform::AgentGuid& guid);

  core::FirmwareTimerQueue& timers_;
  platform::PlatformModel& platform_;
  WatchdogStore& store_;
  WatchdogEvents& events_;
  platform::AgentPresenceCapabilities capabilities_;
  std::map<platform::AgentGuid, Agent> agents_;
  std::uint32_t lastPowerState_;
  std::size_t platformObserver_ = 0;
  TransitionObserver observer_;
  std::uint64_t expiries_ = 0;
};

// "03020100-0504-0706-0809-0A0B0C0D0E0F": the agent GUID as AMT prints it in MessageArguments (uuid_le order).
std::string agentGuidText(const platform::AgentGuid& guid);
const char* agentStateName(std::uint16_t state);

}  // namespace mesim::watchdog
