// Agent-presence watchdogs and the watchdog expiration actions (spec/wsman.md §3.5): AMT_AgentPresenceWatchdog
// (Create, Delete, RegisterAgent, AssertPresence, AssertShutdown, AddAction, DeleteAllActions) and its virtual
// appliance flavour AMT_AgentPresenceWatchdogVA (the same watchdogs and methods; the ones created under it are
// remembered in ServiceSettings::virtualApplianceWatchdogs and served under it only),
// AMT_AgentPresenceWatchdogAction, AMT_StateTransitionCondition, CIM_ConcreteDependency linking them,
// AMT_AgentPresenceService, AMT_AgentPresenceCapabilities and IPS_WatchDogAction. The state machine lives in
// watchdog_fw behind platform::AgentPresence (CimContext::agentPresence); without it the classes are empty.
#include <algorithm>
#include <cstdio>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
using platform::AgentGuid;
constexpr const char* kWatchdogClass = "AMT_AgentPresenceWatchdog";
constexpr const char* kVaWatchdogClass = "AMT_AgentPresenceWatchdogVA";
constexpr const char* kActionClass = "AMT_AgentPresenceWatchdogAction";
constexpr const char* kConditionClass = "AMT_StateTransitionCondition";
constexpr const char* kServiceClass = "AMT_AgentPresenceService";
constexpr const char* kServiceName = "Intel(r) AMT Agent Presence Service";
constexpr const char* kCapabilitiesId = "Intel(r) AMT:AgentPresence Capabilities";
constexpr const char* kWatchDogActionId = "Intel (r) AMT Watch Dog Action";

std::string deviceId(const AgentGuid& g) { return base64Encode(std::vector<std::uint8_t>(g.begin(), g.end())); }

bool parseDeviceId(const std::string& text, AgentGuid& out) {
  std::vector<std::uint8_t> bytes;
  if (!base64Decode(text, bytes) || bytes.size() != out.size()) return false;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return true;
}

std::string actionName(std::uint32_t id) { return "Intel(r) AMT:AgentPresence Action " + std::to_string(id); }
std::string conditionName(std::uint32_t id) { return "Intel(r) AMT:AgentPresence Condition " + std::to_string(id); }

EndpointReference policyRef(const char* cls, const char* key, const std::string& name) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Amt, cls);
  e.selectors = {soap::textSelector("CreationClassName", cls), soap::textSelector(key, name),
                 soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                 soap::textSelector("SystemName", kAmtSystemName)};
  return e;
}

bool isVirtualAppliance(const platform::PlatformState& s, const std::string& id) {
  const auto& va = s.services.virtualApplianceWatchdogs;
  return std::find(va.begin(), va.end(), id) != va.end();
}

EndpointReference watchdogRef(const AgentGuid& g, const char* cls = kWatchdogClass) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Amt, cls);
  e.selectors = {soap::textSelector("CreationClassName", cls), soap::textSelector("DeviceID", deviceId(g)),
                 soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                 soap::textSelector("SystemName", kAmtSystemName)};
  return e;
}

Instance& setSystemKeys(Instance& i, const char* cls) {
  return i.set("CreationClassName", cls).set("SystemCreationClassName", "CIM_ComputerSystem").set("SystemName", kAmtSystemName);
}

// The watchdog a method was called on; false when the service is missing or the DeviceID is not a GUID.
bool target(CimContext& ctx, const Instance& instance, AgentGuid& guid) {
  return ctx.agentPresence && parseDeviceId(instance.str("DeviceID"), guid);
}

MethodResult registerAgent(CimContext& ctx, const Instance& self, const Arguments&) {
  AgentGuid g{};
  if (!target(ctx, self, g)) return MethodResult::status(status::kNotFound);
  auto r = ctx.agentPresence->registerAgent(g);
  MethodResult out = MethodResult::status(r.status);
  if (r.status == status::kSuccess) {
    out.outputs["SessionSequenceNumber"] = Value::number(r.sessionSequenceNumber);
    out.outputs["TimeoutInterval"] = Value::number(r.timeoutInterval);
  }
  return out;
}

MethodResult assertWith(CimContext& ctx, const Instance& self, const Arguments& in, bool shutdown) {
  AgentGuid g{};
  if (!target(ctx, self, g)) return MethodResult::status(status::kNotFound);
  std::uint64_t seq = 0;
  if (!argUint(in, "SequenceNumber", seq) || seq > 0xFFFFFFFFu) return MethodResult::status(status::kInvalidParameter);
  const auto n = static_cast<std::uint32_t>(seq);
  return MethodResult::status(shutdown ? ctx.agentPresence->assertShutdown(g, n) : ctx.agentPresence->assertPresence(g, n));
}

MethodResult addAction(CimContext& ctx, const Instance& self, const Arguments& in) {
  AgentGuid g{};
  if (!target(ctx, self, g)) return MethodResult::status(status::kNotFound);
  std::uint64_t oldState = 0, newState = 0, sd = 0, eac = 0;
  bool event = false;
  if (!argUint(in, "OldState", oldState) || !argUint(in, "NewState", newState) || oldState > 0xFFFF || newState > 0xFFFF)
    return MethodResult::status(status::kInvalidParameter);
  if (in.count("EventOnTransition") && !argBool(in, "EventOnTransition", event)) return MethodResult::status(status::kInvalidParameter);
  if (in.count("ActionSd") && (!argUint(in, "ActionSd", sd) || sd > 0xFFFF)) return MethodResult::status(status::kInvalidParameter);
  if (in.count("ActionEac") && (!argUint(in, "ActionEac", eac) || eac > 0xFFFF)) return MethodResult::status(status::kInvalidParameter);
  platform::AgentPresenceAction action{0, static_cast<std::uint16_t>(oldState), static_cast<std::uint16_t>(newState), event,
                                       static_cast<std::uint16_t>(sd), static_cast<std::uint16_t>(eac)};
  MethodResult out = MethodResult::status(ctx.agentPresence->addAction(g, action));
  if (out.returnValue == status::kSuccess)
    out.outputs["Action"] = Value::ref(policyRef(kActionClass, "PolicyActionName", actionName(action.id)));
  return out;
}

MethodResult deleteAllActions(CimContext& ctx, const Instance& self, const Arguments&) {
  AgentGuid g{};
  if (!target(ctx, self, g)) return MethodResult::status(status::kNotFound);
  return MethodResult::status(ctx.agentPresence->deleteAllActions(g));
}

ChangeFault statusFault(std::uint32_t rv) {
  if (rv == status::kSuccess) return std::nullopt;
  if (rv == status::kDuplicate) return soap::Fault{soap::FaultCode::AlreadyExists, {}, "A watchdog with this DeviceID exists."};
  if (rv == status::kInternalError) return soap::Fault{soap::FaultCode::InternalError, {}, {}};
  if (rv == status::kMaxLimitReached) return invalidParameter("MaxTotalAgents reached.");
  return invalidParameter("ReturnValue " + std::to_string(rv));
}

// The watchdogs of the class: the virtual appliance's under AMT_AgentPresenceWatchdogVA, the others under the base.
std::vector<Instance> watchdogInstances(CimContext& ctx, bool virtualAppliance) {
  std::vector<Instance> out;
  if (!ctx.agentPresence) return out;
  for (const auto& w : ctx.agentPresence->watchdogs()) {
    if (isVirtualAppliance(ctx.platform.state(), deviceId(w.guid)) != virtualAppliance) continue;
    Instance i;
    setSystemKeys(i, virtualAppliance ? kVaWatchdogClass : kWatchdogClass)
        .setNum("CurrentState", w.currentState)
        .set("DeviceID", deviceId(w.guid))
        .set("ElementName", "Intel(r) AMT Agent Presence Watchdog")
        .setNum("EnabledState", 2)
        .setNum("MonitoredEntity", 2)  // CIM_Watchdog: 2 = unknown/other software agent
        .set("MonitoredEntityDescription", w.description)
        .setNum("StartupInterval", w.startupInterval)
        .setNum("TimeoutInterval", w.timeoutInterval);
    if (w.timeOfLastExpiration) i.set("TimeOfLastExpiration", Value::dateTime(cimDatetime(w.timeOfLastExpiration)));
    out.push_back(std::move(i));
  }
  return out;
}


ClassDef watchdogClass(bool virtualAppliance) {
  const char* cls = virtualAppliance ? kVaWatchdogClass : kWatchdogClass;
  ClassDef wd{.name = cls, .schema = Schema::Amt,
              .keys = {"CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"}};
  wd.properties = {P("CreationClassName"), P("CurrentState", T::UInt16), P("DeviceID"), P("ElementName"),
                   P("EnabledState", T::UInt16), P("MonitoredEntity", T::UInt16), P("MonitoredEntityDescription"),
                   P("StartupInterval", T::UInt32), P("SystemCreationClassName"), P("SystemName"),
                   P("TimeOfLastExpiration", T::DateTime), P("TimeoutInterval", T::UInt32)};
  wd.methods = {{"RegisterAgent", {}, {Out("SessionSequenceNumber", T::UInt32), Out("TimeoutInterval", T::UInt16)}, registerAgent},
                {"AssertPresence", {In("SequenceNumber", T::UInt32)}, {},
                 [](CimContext& c, const Instance& i, const Arguments& a) { return assertWith(c, i, a, false); }},
                {"AssertShutdown", {In("SequenceNumber", T::UInt32)}, {},
                 [](CimContext& c, const Instance& i, const Arguments& a) { return assertWith(c, i, a, true); }},
                {"AddAction",
                 {In("OldState", T::UInt16), In("NewState", T::UInt16), In("EventOnTransition", T::Boolean),
                  In("ActionSd", T::UInt16), In("ActionEac", T::UInt16)},
                 {Out("Action", T::Reference)},
                 addAction},
                {"DeleteAllActions", {}, {}, deleteAllActions}};
  wd.enumerate = [virtualAppliance](CimContext& ctx) { return watchdogInstances(ctx, virtualAppliance); };
  wd.create = [virtualAppliance, cls](CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created) -> ChangeFault {
    if (!ctx.agentPresence) return soap::Fault{soap::FaultCode::ActionNotSupported, {}, {}};
    std::string id, description;
    AgentGuid g{};
    std::uint64_t startup = 0, timeout = 0;
    if (!argString(body, "DeviceID", id) || !parseDeviceId(id, g))
      return invalidParameter("DeviceID must be the base64 of a 16-byte agent GUID.");
    if (!argUint(body, "StartupInterval", startup) || !argUint(body, "TimeoutInterval", timeout) ||
        startup > 0xFFFFFFFFu || timeout > 0xFFFFFFFFu)
      return invalidParameter("StartupInterval and TimeoutInterval are required (seconds).");
    argString(body, "MonitoredEntityDescription", description);
    if (auto f = statusFault(ctx.agentPresence->create(g, static_cast<std::uint32_t>(startup),
                                                       static_cast<std::uint32_t>(timeout), description)))
      return f;
    if (virtualAppliance &&
        ctx.platform.update([&](platform::PlatformState& s) { s.services.virtualApplianceWatchdogs.push_back(id); }) !=
            platform::ChangeResult::Ok) {
      ctx.agentPresence->remove(g);
      return soap::Fault{soap::FaultCode::InternalError, {}, {}};
    }
    created = watchdogRef(g, cls).selectors;  // the dummy keys of the request are replaced by the real ones
    return std::nullopt;
  };
  wd.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    AgentGuid g{};
    const std::string id = target.str("DeviceID");
    if (!ctx.agentPresence || !parseDeviceId(id, g)) return invalidParameter();
    if (auto f = statusFault(ctx.agentPresence->remove(g))) return f;
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      std::erase(s.services.virtualApplianceWatchdogs, id);
    }));
  };
  return wd;
}

}  // namespace

void registerAgentPresence(ClassRegistry& r) {
  r.add(watchdogClass(false));
  r.add(watchdogClass(true));

  ClassDef action{.name = kActionClass, .schema = Schema::Amt,
                  .keys = {"CreationClassName", "PolicyActionName", "SystemCreationClassName", "SystemName"}};
  action.properties = {P("ActionEac", T::UInt16), P("ActionSd", T::UInt16), P("CreationClassName"), P("ElementName"),
                       P("EventOnTransition", T::Boolean), P("PolicyActionName"), P("SystemCreationClassName"), P("SystemName")};
  action.methods = {{"GetActionEac", {}, {Out("ActionEac", T::UInt16)},
                     [](CimContext&, const Instance& self, const Arguments&) {
                       MethodResult out;
                       out.outputs["ActionEac"] = Value::text(self.str("ActionEac"));
                       return out;
                     }}};
  action.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!ctx.agentPresence) return out;
    for (const auto& w : ctx.agentPresence->watchdogs())
      for (const auto& a : w.actions) {
        Instance i;
        setSystemKeys(i, kActionClass)
            .setNum("ActionEac", a.actionEac)
            .setNum("ActionSd", a.actionSd)
            .set("ElementName", actionName(a.id))
            .setBool("EventOnTransition", a.eventOnTransition)
            .set("PolicyActionName", actionName(a.id));
        out.push_back(std::move(i));
      }
    return out;
  };
  r.add(std::move(action));

  ClassDef condition{.name = kConditionClass, .schema = Schema::Amt,
                     .keys = {"CreationClassName", "PolicyConditionName", "SystemCreationClassName", "SystemName"}};
  condition.properties = {P("CreationClassName"), P("ElementName"), P("NewState", T::UInt16), P("OldState", T::UInt16),
                          P("PolicyConditionName"), P("StateSpace"), P("SystemCreationClassName"), P("SystemName")};
  condition.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!ctx.agentPresence) return out;
    for (const auto& w : ctx.agentPresence->watchdogs())
      for (const auto& a : w.actions) {
        Instance i;
        setSystemKeys(i, kConditionClass)
            .set("ElementName", conditionName(a.id))
            .setNum("NewState", a.newStates)
            .setNum("OldState", a.oldStates)
            .set("PolicyConditionName", conditionName(a.id))
            .set("StateSpace", "AMT_AgentPresenceWatchdog.CurrentState");
        out.push_back(std::move(i));
      }
    return out;
  };
  r.add(std::move(condition));

  // service -> watchdog, watchdog -> condition, condition -> action.
  ClassDef dependency{.name = "CIM_ConcreteDependency", .schema = Schema::Cim, .keys = {"Antecedent", "Dependent"}};
  dependency.properties = {P("Antecedent", T::Reference), P("Dependent", T::Reference)};
  dependency.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!ctx.agentPresence) return out;
    auto link = [&](EndpointReference a, EndpointReference d) {
      Instance i;
      i.setRef("Antecedent", std::move(a)).setRef("Dependent", std::move(d));
      out.push_back(std::move(i));
    };
    for (const auto& w : ctx.agentPresence->watchdogs()) {
      const char* cls = isVirtualAppliance(ctx.platform.state(), deviceId(w.guid)) ? kVaWatchdogClass : kWatchdogClass;
      link(serviceRef(Schema::Amt, kServiceClass, kServiceName), watchdogRef(w.guid, cls));
      for (const auto& a : w.actions) {
        auto cond = policyRef(kConditionClass, "PolicyConditionName", conditionName(a.id));
        link(watchdogRef(w.guid, cls), cond);
        link(cond, policyRef(kActionClass, "PolicyActionName", actionName(a.id)));
      }
    }
    return out;
  };
  r.add(std::move(dependency));

  ClassDef service{.name = kServiceClass, .schema = Schema::Amt, .keys = kServiceKeys};
  service.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
                        P("SystemCreationClassName"), P("SystemName")};
  service.enumerate = [](CimContext&) {
    Instance i;
    setServiceKeys(i, kServiceClass, kServiceName).set("ElementName", kServiceName).setNum("EnabledState", 2);
    return std::vector<Instance>{i};
  };
  r.add(std::move(service));

  ClassDef caps{.name = "AMT_AgentPresenceCapabilities", .schema = Schema::Amt, .keys = {"InstanceID"}};
  caps.properties = {P("ElementName"), P("InstanceID"), P("MaxEacAgents", T::UInt32), P("MaxTotalActions", T::UInt32),
                     P("MaxTotalAgents", T::UInt32), P("MinGuaranteedActionListSize", T::UInt32)};
  caps.enumerate = [](CimContext& ctx) {
    const auto c = ctx.agentPresence ? ctx.agentPresence->capabilities() : platform::AgentPresenceCapabilities{};
    Instance i;
    i.set("ElementName", kCapabilitiesId)
        .set("InstanceID", kCapabilitiesId)
        .setNum("MaxEacAgents", c.maxEacAgents)
        .setNum("MaxTotalActions", c.maxTotalActions)
        .setNum("MaxTotalAgents", c.maxTotalAgents)
        .setNum("MinGuaranteedActionListSize", c.minGuaranteedActionListSize);
    return std::vector<Instance>{i};
  };
  r.add(std::move(caps));

  ClassDef wda{.name = "IPS_WatchDogAction", .schema = Schema::Ips, .keys = {"InstanceID"}};
  wda.properties = {W("AgentPresenceWatchDogExpirationAction", T::UInt32), P("ElementName"),
                    W("HeciWatchDogExpirationAction", T::UInt32), P("InstanceID"), W("ReArmReset", T::Boolean),
                    W("Timeout", T::UInt32)};
  wda.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!ctx.agentPresence) return out;
    const auto s = ctx.agentPresence->actionSettings();
    Instance i;
    i.setNum("AgentPresenceWatchDogExpirationAction", s.agentPresenceExpirationAction)
        .set("ElementName", kWatchDogActionId)
        .setNum("HeciWatchDogExpirationAction", s.heciExpirationAction)
        .set("InstanceID", kWatchDogActionId)
        .setBool("ReArmReset", s.reArmReset)
        .setNum("Timeout", s.timeout);
    out.push_back(std::move(i));
    return out;
  };
  wda.put = [](CimContext& ctx, const Instance&, const Arguments& in) -> ChangeFault {
    auto s = ctx.agentPresence->actionSettings();
    std::uint64_t n = 0;
    if (in.count("HeciWatchDogExpirationAction")) {
      if (!argUint(in, "HeciWatchDogExpirationAction", n) || n > 1) return invalidParameter("0 none or 1 reset.");
      s.heciExpirationAction = static_cast<std::uint32_t>(n);
    }
    if (in.count("AgentPresenceWatchDogExpirationAction")) {
      if (!argUint(in, "AgentPresenceWatchDogExpirationAction", n) || n > 1) return invalidParameter("0 none or 1 reset.");
      s.agentPresenceExpirationAction = static_cast<std::uint32_t>(n);
    }
    if (in.count("Timeout")) {
      if (!argUint(in, "Timeout", n) || n > 86400) return invalidParameter("Timeout is 0..86400 s.");
      s.timeout = static_cast<std::uint32_t>(n);
    }
    if (in.count("ReArmReset") && !argBool(in, "ReArmReset", s.reArmReset)) return invalidParameter();
    return statusFault(ctx.agentPresence->setActionSettings(s));
  };
  r.add(std::move(wda));
}

}  // namespace mesim::wsman::cim
