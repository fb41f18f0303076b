#include "watchdog_fw/agent_presence_service.h"

#include <algorithm>

#include "common/text_codecs.h"
#include "firmware/platform/credentials.h"
#include "firmware/platform/host_power.h"
#include "common/log.h"

namespace mesim::watchdog {

namespace st = platform::agent_state;
using platform::AgentGuid;

namespace {
constexpr const char* kLog = "agent-presence";
// PT_STATUS (spec/wsman.md §3.6).
constexpr std::uint32_t kSuccess = 0;
constexpr std::uint32_t kInternalError = 1;
constexpr std::uint32_t kNotReady = 2;
constexpr std::uint32_t kNotPermitted = 0x10;
constexpr std::uint32_t kMaxLimitReached = 0x17;
constexpr std::uint32_t kInvalidParameter = 0x24;
constexpr std::uint32_t kDuplicate = 0x80A;
constexpr std::uint32_t kNotFound = 0x814;

bool isOff(std::uint32_t power) { return power == platform::power::kOffSoft || power == platform::power::kOffHard; }

const char* messageIdFor(std::uint16_t state) {
  switch (state) {
    case st::kNotStarted: return "iAMT0002";
    case st::kStopped: return "iAMT0003";
    case st::kRunning: return "iAMT0004";
    case st::kExpired: return "iAMT0005";
    case st::kSuspended: return "iAMT0006";
  }
  return "";
}

bool validMask(std::uint16_t mask) { return mask != 0 && (mask & ~st::kAny) == 0; }
}  // namespace

std::string agentGuidText(const AgentGuid& g) {
  return text::uuidText(text::uuidToMixedEndian(g), text::LetterCase::Upper);
}

const char* agentStateName(std::uint16_t state) {
  switch (state) {
    case st::kNotStarted: return "NotStarted";
    case st::kStopped: return "Stopped";
    case st::kRunning: return "Running";
    case st::kExpired: return "Expired";
    case st::kSuspended: return "Suspended";
  }
  return "?";
}

AgentPresenceService::AgentPresenceService(core::FirmwareTimerQueue& timers, platform::PlatformModel& platform,
                                           WatchdogStore& store, WatchdogEvents& events,
                                           platform::AgentPresenceCapabilities capabilities)
    : timers_(timers), platform_(platform), store_(store), events_(events), capabilities_(capabilities),
      lastPowerState_(platform.state().hostPower.powerState) {
  // After a restart every stored watchdog is NotStarted, as after S5 -> S0.
  for (const auto& def : store_.data().agents) {
    Agent& agent = agents_[def.guid];
    agent.def = def;
    if (lastPowerState_ == platform::power::kOn) arm(def.guid, agent, def.startupInterval);
    else agent.state = agent.beforeSuspend = st::kSuspended;
  }
  platformObserver_ = platform_.subscribe([this] { hostPowerChanged(); });
}

AgentPresenceService::~AgentPresenceService() {
  platform_.unsubscribe(platformObserver_);
  for (auto& [guid, agent] : agents_) disarm(agent);
}

std::vector<platform::AgentWatchdogInfo> AgentPresenceService::watchdogs() const {
  std::vector<platform::AgentWatchdogInfo> out;
  for (const auto& def : store_.data().agents) {
    platform::AgentWatchdogInfo info;
    info.guid = def.guid;
    info.startupInterval = def.startupInterval;
    info.timeoutInterval = def.timeoutInterval;
    info.description = def.description;
    info.actions = def.actions;
    if (auto it = agents_.find(def.guid); it != agents_.end()) {
      info.currentState = it->second.state;
      info.timeOfLastExpiration = it->second.timeOfLastExpiration;
    }
    out.push_back(std::move(info));
  }
  return out;
}

std::optional<std::uint16_t> AgentPresenceService::state(const AgentGuid& guid) const {
  auto it = agents_.find(guid);
  if (it == agents_.end()) return std::nullopt;
  return it->second.state;
}

std::optional<core::FirmwareTimerQueue::time_point> AgentPresenceService::deadline(const AgentGuid& guid) const {
  auto it = agents_.find(guid);
  if (it == agents_.end() || !it->second.timer) return std::nullopt;
  return timers_.deadline(it->second.timer);
}

std::uint32_t AgentPresenceService::create(const AgentGuid& guid, std::uint32_t startupInterval,
                                           std::uint32_t timeoutInterval, const std::string& description) {
  if (guid == AgentGuid{}) return kInvalidParameter;  // the all-zero GUID is not an agent
  if (startupInterval == 0 || startupInterval > 0xFFFF || timeoutInterval == 0 || timeoutInterval > 0xFFFF)
    return kInvalidParameter;
  if (agents_.count(guid)) return kDuplicate;
  if (agents_.size() >= capabilities_.maxTotalAgents) return kMaxLimitReached;
  StoredAgent def{guid, startupInterval, timeoutInterval, description.substr(0, 255), {}};
  if (!store_.update([&](WatchdogStoreData& d) { d.agents.push_back(def); })) return kInternalError;
  Agent& agent = agents_[guid];
  agent.def = def;
  if (platform_.state().hostPower.powerState == platform::power::kOn) arm(guid, agent, startupInterval);
  else agent.state = agent.beforeSuspend = st::kSuspended;
  MESIM_LOG(Info, kLog, "watchdog " << agentGuidText(guid) << " created (startup " << startupInterval << " s, timeout "
                                    << timeoutInterval << " s)");
  return kSuccess;
}

std::uint32_t AgentPresenceService::remove(const AgentGuid& guid) {
  auto it = agents_.find(guid);
  if (it == agents_.end()) return kNotFound;
  if (!store_.update([&](WatchdogStoreData& d) { std::erase_if(d.agents, [&](const StoredAgent& a) { return a.guid == guid; }); }))
    return kInternalError;
  disarm(it->second);
  agents_.erase(it);
  MESIM_LOG(Info, kLog, "watchdog " << agentGuidText(guid) << " deleted");
  return kSuccess;
}

AgentPresenceService::Registration AgentPresenceService::registerAgent(const AgentGuid& guid) {
  auto it = agents_.find(guid);
  if (it == agents_.end()) return {kNotFound, 0, 0};
  const StoredAgent* def = &it->second.def;
  Agent& agent = it->second;
  if (agent.state == st::kSuspended) return {kNotReady, 0, 0};  // the host is not in S0
  std::uint8_t random[4];
  platform::randomBytes(random, sizeof random);
  agent.lastSequence = std::uint32_t{random[0]} | random[1] << 8 | random[2] << 16 | std::uint32_t{random[3]} << 24;
  agent.session = true;
  arm(guid, agent, def->timeoutInterval);
  transition(guid, agent, st::kRunning);
  return {kSuccess, agent.lastSequence, def->timeoutInterval};
}

std::uint32_t AgentPresenceService::assertPresence(const AgentGuid& guid, std::uint32_t sequenceNumber) {
  auto it = agents_.find(guid);
  if (it == agents_.end()) return kNotFound;
  const StoredAgent* def = &it->second.def;
  Agent& agent = it->second;
  if (!agent.session || (agent.state != st::kRunning && agent.state != st::kExpired)) return kNotPermitted;
  if (sequenceNumber != agent.lastSequence + 1) {
    MESIM_LOG(Info, kLog, "watchdog " << agentGuidText(guid) << ": heartbeat " << sequenceNumber << " ignored (expected "
                                      << agent.lastSequence + 1 << ")");
    return kSuccess;  // AMT ignores it silently
  }
  agent.lastSequence = sequenceNumber;
  arm(guid, agent, def->timeoutInterval);
  transition(guid, agent, st::kRunning);
  return kSuccess;
}

std::uint32_t AgentPresenceService::assertShutdown(const AgentGuid& guid, std::uint32_t sequenceNumber) {
  auto it = agents_.find(guid);
  if (it == agents_.end()) return kNotFound;
  Agent& agent = it->second;
  if (!agent.session || (agent.state != st::kRunning && agent.state != st::kExpired)) return kNotPermitted;
  if (sequenceNumber != agent.lastSequence + 1) {
    MESIM_LOG(Info, kLog, "watchdog " << agentGuidText(guid) << ": shutdown " << sequenceNumber << " ignored");
    return kSuccess;
  }
  agent.lastSequence = sequenceNumber;
  agent.session = false;
  disarm(agent);
  transition(guid, agent, st::kStopped);
  return kSuccess;
}

std::uint32_t AgentPresenceService::addAction(const AgentGuid& guid, platform::AgentPresenceAction& action) {
  auto it = agents_.find(guid);
  if (it == agents_.end()) return kNotFound;
  if (!validMask(action.oldStates) || !validMask(action.newStates) || action.actionSd > 1 || action.actionEac > 1)
    return kInvalidParameter;
  std::size_t total = 0;
  for (const auto& a : store_.data().agents) total += a.actions.size();
  if (total >= capabilities_.maxTotalActions) return kMaxLimitReached;
  action.id = store_.data().nextActionId;
  if (!store_.update([&](WatchdogStoreData& d) {
        ++d.nextActionId;
        for (auto& a : d.agents)
          if (a.guid == guid) a.actions.push_back(action);
      }))
    return kInternalError;
  it->second.def.actions.push_back(action);
  return kSuccess;
}

std::uint32_t AgentPresenceService::deleteAllActions(const AgentGuid& guid) {
  auto it = agents_.find(guid);
  if (it == agents_.end()) return kNotFound;
  if (!store_.update([&](WatchdogStoreData& d) {
        for (auto& a : d.agents)
          if (a.guid == guid) a.actions.clear();
      }))
    return kInternalError;
  it->second.def.actions.clear();
  return kSuccess;
}

std::uint32_t AgentPresenceService::setActionSettings(const platform::WatchdogActionSettings& s) {
  if (s.heciExpirationAction > 1 || s.agentPresenceExpirationAction > 1 || s.timeout > 86400) return kInvalidParameter;
  return store_.update([&](WatchdogStoreData& d) { d.actions = s; }) ? kSuccess : kInternalError;
}

void AgentPresenceService::arm(const AgentGuid& guid, Agent& agent, std::uint32_t seconds) {
  disarm(agent);
  agent.timer = timers_.scheduleAfter(std::chrono::seconds(seconds), [this, guid] { expire(guid); });
}

void AgentPresenceService::disarm(Agent& agent) {
  if (agent.timer) timers_.cancel(agent.timer);
  agent.timer = 0;
}

void AgentPresenceService::expire(const AgentGuid& guid) {
  auto it = agents_.find(guid);
  if (it == agents_.end()) return;
  Agent& agent = it->second;
  agent.timer = 0;
  ++expiries_;
  agent.timeOfLastExpiration = core::unixSeconds(timers_.now());
  transition(guid, agent, st::kExpired);
  if (store_.data().actions.agentPresenceExpirationAction == 1)
    events_.resetHost("agent watchdog " + agentGuidText(guid) + " expiry");
}

void AgentPresenceService::transition(const AgentGuid& guid, Agent& agent, std::uint16_t to) {
  const std::uint16_t from = agent.state;
  if (from == to) return;
  agent.state = to;
  MESIM_LOG(Debug, kLog, "watchdog " << agentGuidText(guid) << ": " << agentStateName(from) << " -> " << agentStateName(to));
  {
    for (const auto& action : agent.def.actions) {
      if (!(action.oldStates & from) || !(action.newStates & to)) continue;
      if (action.actionSd) invokeSystemDefense(guid);
      if (!action.eventOnTransition) continue;
      platform::MessageLogEvent record;  // spec/wsman.md §3.5
      record.sensorType = 0x12;          // System Event
      record.eventType = 0x0A;
      record.offset = 0;
      record.sourceType = 0x58;
      record.severity = 0x01;
      record.sensorNumber = 0xFF;
      record.entity = 0x26;
      record.entityInstance = 0;
      record.eventData[0] = 0xAA;
      for (int i = 0; i < 6; ++i) record.eventData[1 + i] = guid[static_cast<std::size_t>(i)];
      record.eventData[7] = static_cast<std::uint8_t>(to);
      events::Alert alert;
      alert.messageId = messageIdFor(to);
      alert.messageArguments = {agentGuidText(guid)};
      alert.category = "AgentPresence";
      events_.raise(record, std::move(alert));
      break;  // one event per transition, however many actions match
    }
  }
  if (observer_) observer_(guid, from, to);
}

// ActionSd: the agent-presence System Defense policy of each NIC (AMT_AgentPresenceInterfacePolicy) goes into force
// from now; firmware/sysdef decides whether it wins over the others (docs/system-defense.md).
void AgentPresenceService::invokeSystemDefense(const AgentGuid& guid) {
  const std::int64_t now = core::unixSeconds(timers_.now());
  bool any = false;
  auto result = platform_.update([&](platform::PlatformState& s) {
    for (auto& nic : s.systemDefense.nics) {
      auto& slot = nic.slot(platform::SdSource::AgentPresence);
      if (!slot.policy) continue;
      any = true;
      if (!slot.enabled) slot = platform::SdSlot{slot.policy, true, now};
    }
  });
  MESIM_LOG(Info, kLog, "watchdog " << agentGuidText(guid) << ": System Defense action: "
                                    << (!any ? "no agent-presence policy is set"
                                             : result == platform::ChangeResult::Ok ? "agent-presence policy enabled"
                                                                                    : "could not be stored"));
}

void AgentPresenceService::hostPowerChanged() {
  const std::uint32_t power = platform_.state().hostPower.powerState;
  const std::uint32_t before = lastPowerState_;
  if (power == before) return;
  lastPowerState_ = power;
  const bool nowOn = power == platform::power::kOn, wasOn = before == platform::power::kOn;
  for (auto& [guid, agent] : agents_) {
    if (wasOn && !nowOn) {
      disarm(agent);
      agent.beforeSuspend = agent.state;
      transition(guid, agent, st::kSuspended);
    } else if (!wasOn && nowOn) {
      const StoredAgent* def = &agent.def;
      if (isOff(before) || agent.beforeSuspend == st::kNotStarted || agent.beforeSuspend == st::kSuspended) {
        agent.session = false;  // S5 -> S0: the agent has to register again
        arm(guid, agent, def->startupInterval);
        transition(guid, agent, st::kNotStarted);
      } else {
        if (agent.beforeSuspend == st::kRunning) arm(guid, agent, def->timeoutInterval);
        transition(guid, agent, agent.beforeSuspend);
      }
    }
  }
}

}  // namespace mesim::watchdog
