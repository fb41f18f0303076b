// System Defense (network isolation; spec/features.md §2, docs/system-defense.md): AMT_SystemDefensePolicy (Create,
// Put, Delete, GetTimeout, SetTimeout, UpdateStatistics), the filters AMT_FilterEntryBase -> AMT_ComplexFilterEntryBase
// -> AMT_Hdr8021Filter / AMT_IPHeadersFilter (Create, Delete), the activations AMT_NetworkPortSystemDefensePolicy,
// AMT_NetworkPortDefaultSystemDefensePolicy, AMT_AgentPresenceInterfacePolicy and
// AMT_EnvironmentDetectionInterfacePolicy (under AMT_InterfacePolicy), AMT_EnvironmentDetectionSettingData, the
// associations, statistics, service and capabilities. State: platform::SystemDefenseState; which policy is in force
// and its counters: firmware/sysdef (CimContext::systemDefense). The heuristics classes (AMT 3 to 11.6) are not
// served: AMT 16 has no heuristics, and answers for them as for any class it lacks.
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <tuple>

#include "common/text_codecs.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
using platform::SdFilter;
using platform::SdFilterKind;
using platform::SdPolicy;
using platform::SdSource;
using platform::SystemDefenseState;

constexpr const char* kPolicyClass = "AMT_SystemDefensePolicy";
constexpr const char* kFilterBaseClass = "AMT_FilterEntryBase";
constexpr const char* kComplexFilterClass = "AMT_ComplexFilterEntryBase";
constexpr const char* kEthernetFilterClass = "AMT_Hdr8021Filter";
constexpr const char* kIpFilterClass = "AMT_IPHeadersFilter";
constexpr const char* kPortPolicyClass = "AMT_NetworkPortSystemDefensePolicy";
constexpr const char* kDefaultPolicyClass = "AMT_NetworkPortDefaultSystemDefensePolicy";
constexpr const char* kFilterInPolicyClass = "AMT_FilterInSystemDefensePolicy";
constexpr const char* kServiceClass = "AMT_SystemDefenseService";
constexpr const char* kServiceName = "Intel(r) AMT System Defense Service";
constexpr const char* kInterfacePolicyClass = "AMT_InterfacePolicy";
constexpr const char* kAgentPolicyClass = "AMT_AgentPresenceInterfacePolicy";
constexpr const char* kEnvironmentPolicyClass = "AMT_EnvironmentDetectionInterfacePolicy";
constexpr const char* kEnvironmentSettingsId = "Intel(r) AMT Environment Detection Settings";
constexpr const char* kPortPrefix = "Intel(r) AMT Ethernet Port ";
constexpr std::size_t kMaxDetectionStrings = 5;

const std::vector<std::string> kFilterKeys = {"CreationClassName", "InstanceID", "Name", "SystemCreationClassName",
                                              "SystemName"};

ChangeFault limitReached(const std::string& what) {
  return soap::Fault{soap::FaultCode::InvalidParameter, {}, "MAX_LIMIT_REACHED (0x17): " + what};
}

ChangeFault stored(CimContext&, platform::ChangeResult r) { return changeFault(r); }

// ---- references

EndpointReference ethernetPortRef(std::size_t nic) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Cim, "CIM_EthernetPort");
  e.selectors = {soap::textSelector("CreationClassName", "CIM_EthernetPort"),
                 soap::textSelector("DeviceID", kPortPrefix + std::to_string(nic)),
                 soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                 soap::textSelector("SystemName", kHostSystemName)};
  return e;
}

// The NIC a CIM_EthernetPort reference names (by its DeviceID): 0 wired, 1 wireless.
std::optional<std::size_t> nicOf(const EndpointReference* port) {
  if (!port) return std::nullopt;
  const soap::Selector* id = port->find("DeviceID");
  if (!id || id->isEpr()) return std::nullopt;
  const std::string prefix = kPortPrefix;
  if (id->value == prefix + "0") return 0;
  if (id->value == prefix + "1") return 1;
  return std::nullopt;
}

EndpointReference policyRef(std::uint32_t handle) { return instanceIdRef(Schema::Amt, kPolicyClass, std::to_string(handle)); }

// The policy a reference names (by InstanceID); 0 if none.
std::uint32_t policyOf(const SystemDefenseState& s, const EndpointReference* ref) {
  if (!ref) return 0;
  const soap::Selector* id = ref->find("InstanceID");
  if (!id || id->isEpr()) return 0;
  std::uint32_t handle = 0;
  auto [p, ec] = std::from_chars(id->value.data(), id->value.data() + id->value.size(), handle);
  if (ec != std::errc{} || p != id->value.data() + id->value.size()) return 0;
  return s.policy(handle) ? handle : 0;
}

const char* filterClass(const SdFilter& f) {
  return f.kind == SdFilterKind::Ethernet ? kEthernetFilterClass : kIpFilterClass;
}

EndpointReference filterRef(const SdFilter& f) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Amt, filterClass(f));
  e.selectors = {soap::textSelector("CreationClassName", filterClass(f)),
                 soap::textSelector("InstanceID", std::to_string(f.handle)), soap::textSelector("Name", f.name),
                 soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                 soap::textSelector("SystemName", kAmtSystemName)};
  return e;
}

EndpointReference filterInPolicyRef(const SdPolicy& p, const SdFilter& f) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Amt, kFilterInPolicyClass);
  e.selectors = {soap::eprSelector("Antecedent", policyRef(p.handle)), soap::eprSelector("Dependent", filterRef(f))};
  return e;
}

// ---- values

std::string hexOf(const std::vector<std::uint8_t>& b) { return text::toHex(b, text::LetterCase::Upper); }

// An address as a client may write it: hex (8 or 32 digits, as AMT reports it), or dotted IPv4 / IPv6 text.
// Empty text is "any". False when it is none of these or not `width` bytes.
bool parseAddress(const std::string& textValue, std::size_t width, std::vector<std::uint8_t>& out) {
  out.clear();
  if (textValue.empty()) return true;
  if (textValue.size() == width * 2) {
    if (auto b = text::fromHex(textValue)) {
      out = std::move(*b);
      return true;
    }
  }
  std::uint8_t buf[16] = {};
  if (width == 4 && inet_pton(AF_INET, textValue.c_str(), buf) == 1) {
    out.assign(buf, buf + 4);
    return true;
  }
  if (width == 16 && inet_pton(AF_INET6, textValue.c_str(), buf) == 1) {
    out.assign(buf, buf + 16);
    return true;
  }
  return false;
}

// Reads an unsigned property if present. False when present but malformed or above `max`.
template <class N>
bool optionalUint(const Arguments& in, const char* name, N& out, std::uint64_t max) {
  if (!in.count(name)) return true;
  std::uint64_t v = 0;
  if (!argUint(in, name, v) || v > max) return false;
  out = static_cast<N>(v);
  return true;
}

bool optionalBool(const Arguments& in, const char* name, bool& out) {
  return !in.count(name) || argBool(in, name, out);
}

bool validName(const std::string& name) {
  return !name.empty() && name.size() <= platform::kSdMaxNameLength && text::isValidUtf8(name) && text::isXmlText(name);
}

// ---- policies

// Applies the policy properties in `in` to `p` (Create: all of them; Put: those sent).
ChangeFault readPolicy(const Arguments& in, const SystemDefenseState& s, SdPolicy& p, bool creating) {
  if (in.count("PolicyName") || creating) {
    if (!argString(in, "PolicyName", p.name) || !validName(p.name))
      return invalidParameter("PolicyName must have 1 to 16 characters.");
  }
  if (!optionalUint(in, "PolicyPrecedence", p.precedence, 0xFFFFFFFFu)) return invalidParameter("PolicyPrecedence is a uint32.");
  if (!optionalUint(in, "AntiSpoofingSupport", p.antiSpoofing, 0xFFFFFFFFu))
    return invalidParameter("AntiSpoofingSupport is a uint32.");
  if (!optionalBool(in, "TxDefaultDrop", p.txDefaultDrop) || !optionalBool(in, "TxDefaultMatchEvent", p.txDefaultMatchEvent) ||
      !optionalBool(in, "TxDefaultCount", p.txDefaultCount) || !optionalBool(in, "RxDefaultDrop", p.rxDefaultDrop) ||
      !optionalBool(in, "RxDefaultMatchEvent", p.rxDefaultMatchEvent) || !optionalBool(in, "RxDefaultCount", p.rxDefaultCount))
    return invalidParameter("The Tx/Rx default flags are booleans.");
  if (auto it = in.find("FilterCreationHandles"); it != in.end()) {
    if (it->second.items.size() > platform::kSdMaxFiltersPerPolicy)
      return limitReached("a policy holds at most 62 filters.");
    std::vector<std::uint32_t> handles;
    for (const auto& item : it->second.items) {
      std::uint32_t h = 0;
      auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), h);
      if (ec != std::errc{} || ptr != item.data() + item.size() || !s.filter(h))
        return invalidParameter("FilterCreationHandles names no filter: " + item);
      if (std::find(handles.begin(), handles.end(), h) != handles.end())
        return invalidParameter("FilterCreationHandles names filter " + item + " twice.");
      handles.push_back(h);
    }
    p.filters = std::move(handles);
  }
  return std::nullopt;
}

const SdPolicy* policyOfInstance(CimContext& ctx, const Instance& self) {
  std::uint32_t handle = 0;
  const std::string id = self.str("InstanceID");
  auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), handle);
  if (ec != std::errc{} || p != id.data() + id.size()) return nullptr;
  return ctx.platform.state().systemDefense.policy(handle);
}

std::vector<Instance> policyInstances(CimContext& ctx) {
  std::vector<Instance> out;
  for (const auto& p : ctx.platform.state().systemDefense.policies) {
    Instance i;
    i.setNum("AntiSpoofingSupport", p.antiSpoofing)
        .set("ElementName", p.name)
        .set("FilterCreationHandles", Value::numbers(p.filters))
        .set("InstanceID", std::to_string(p.handle))
        .set("PolicyName", p.name)
        .setNum("PolicyPrecedence", p.precedence)
        .setBool("RxDefaultCount", p.rxDefaultCount)
        .setBool("RxDefaultDrop", p.rxDefaultDrop)
        .setBool("RxDefaultMatchEvent", p.rxDefaultMatchEvent)
        .setBool("TxDefaultCount", p.txDefaultCount)
        .setBool("TxDefaultDrop", p.txDefaultDrop)
        .setBool("TxDefaultMatchEvent", p.txDefaultMatchEvent);
    out.push_back(std::move(i));
  }
  return out;
}

MethodResult getTimeout(CimContext& ctx, const Instance& self, const Arguments&) {
  const SdPolicy* p = policyOfInstance(ctx, self);
  if (!p) return MethodResult::status(status::kNotFound);
  MethodResult r;
  r.outputs["Timeout"] = Value::number(p->timeoutMinutes);
  return r;
}

MethodResult setTimeout(CimContext& ctx, const Instance& self, const Arguments& in) {
  const SdPolicy* p = policyOfInstance(ctx, self);
  if (!p) return MethodResult::status(status::kNotFound);
  std::uint64_t minutes = 0;
  if (!argUint(in, "Timeout", minutes) || minutes > 0xFFFFFFFFu) return MethodResult::status(status::kInvalidParameter);
  const std::uint32_t handle = p->handle;
  auto r = ctx.platform.update([&](platform::PlatformState& s) {
    s.systemDefense.policy(handle)->timeoutMinutes = static_cast<std::uint32_t>(minutes);
  });
  return MethodResult::status(r == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
}

MethodResult updateStatistics(CimContext& ctx, const Instance& self, const Arguments& in) {
  const SdPolicy* p = policyOfInstance(ctx, self);
  if (!p) return MethodResult::status(status::kNotFound);
  auto nic = nicOf(argRef(in, "NetworkInterface"));
  bool reset = false;
  if (!nic || (in.count("ResetOnRead") && !argBool(in, "ResetOnRead", reset)))
    return MethodResult::status(status::kInvalidParameter);
  const auto& state = ctx.platform.state();
  auto active = platform::sdActivePolicy(state.systemDefense, *nic, ctx.now(), state.domainName);
  // Statistics exist for the policy in force on that NIC only.
  if (!active || active->policy != p->handle || !ctx.systemDefense) return MethodResult::status(status::kNotFound);
  return MethodResult::status(ctx.systemDefense->updateStatistics(*nic, reset) ? status::kSuccess : status::kNotFound);
}

// ---- filters

ChangeFault readFilterCommon(const Arguments& in, SdFilter& f) {
  if (!argString(in, "Name", f.name) || !validName(f.name)) return invalidParameter("Name must have 1 to 16 characters.");
  std::uint64_t direction = 0, profile = 0;
  if (!argUint(in, "FilterDirection", direction) || direction > 1) return invalidParameter("FilterDirection is 0 (Tx) or 1 (Rx).");
  if (!argUint(in, "FilterProfile", profile) || profile > 4) return invalidParameter("FilterProfile is 0 to 4.");
  f.direction = static_cast<std::uint8_t>(direction);
  f.profile = static_cast<std::uint8_t>(profile);
  if (!optionalUint(in, "FilterProfileData", f.profileData, 0xFFFFFFFFu)) return invalidParameter("FilterProfileData is a uint32.");
  if (f.profile == platform::sd_profile::kRateLimit && !in.count("FilterProfileData"))
    return invalidParameter("A rate limit (FilterProfile 2) needs FilterProfileData, packets per second.");
  if (!optionalBool(in, "ActionEventOnMatch", f.eventOnMatch) || !optionalBool(in, "IsNegated", f.negated))
    return invalidParameter("ActionEventOnMatch and IsNegated are booleans.");
  return std::nullopt;
}

ChangeFault readIpFilter(const Arguments& in, SdFilter& f) {
  std::uint64_t version = 0;
  if (!argUint(in, "HdrIPVersion", version) || (version != 4 && version != 6)) return invalidParameter("HdrIPVersion is 4 or 6.");
  f.ipVersion = static_cast<std::uint8_t>(version);
  const std::size_t width = version == 4 ? 4 : 16;
  struct Field {
    const char* name;
    std::vector<std::uint8_t>* to;
  } fields[] = {{"HdrSrcAddress", &f.srcAddress},       {"HdrSrcMask", &f.srcMask},
                {"HdrSrcAddressEndOfRange", &f.srcEndOfRange}, {"HdrDestAddress", &f.destAddress},
                {"HdrDestMask", &f.destMask},             {"HdrDestAddressEndOfRange", &f.destEndOfRange}};
  for (const auto& field : fields) {
    std::string value;
    argString(in, field.name, value);
    if (!parseAddress(value, width, *field.to))
      return invalidParameter(std::string(field.name) + " must be an IPv" + std::to_string(version) +
                              " address (hex or text).");
  }
  for (auto [address, mask, end, side] :
       {std::tuple{&f.srcAddress, &f.srcMask, &f.srcEndOfRange, "source"}, std::tuple{&f.destAddress, &f.destMask, &f.destEndOfRange, "destination"}}) {
    if (address->empty() && (!mask->empty() || !end->empty()))
      return invalidParameter(std::string("A ") + side + " mask or end of range needs the address.");
    if (!mask->empty() && !end->empty())
      return invalidParameter(std::string("The ") + side + " address takes a mask or an end of range, not both.");
    if (!end->empty() && *end < *address) return invalidParameter(std::string("The ") + side + " range ends before it starts.");
  }
  std::uint8_t protocol = 0;
  if (in.count("HdrProtocolID")) {
    if (!optionalUint(in, "HdrProtocolID", protocol, 0xFF)) return invalidParameter("HdrProtocolID is 0 to 255.");
    f.protocol = protocol;
  }
  if (!optionalUint(in, "HdrSrcPortStart", f.srcPortStart, 0xFFFF) || !optionalUint(in, "HdrSrcPortEnd", f.srcPortEnd, 0xFFFF) ||
      !optionalUint(in, "HdrDestPortStart", f.destPortStart, 0xFFFF) ||
      !optionalUint(in, "HdrDestPortEnd", f.destPortEnd, 0xFFFF))
    return invalidParameter("Ports are 0 to 65535.");
  if (f.srcPortEnd == 0) f.srcPortEnd = f.srcPortStart;
  if (f.destPortEnd == 0) f.destPortEnd = f.destPortStart;
  if (f.srcPortEnd < f.srcPortStart || f.destPortEnd < f.destPortStart) return invalidParameter("A port range ends before it starts.");
  if ((f.srcPortStart || f.destPortStart) && f.protocol && *f.protocol != 6 && *f.protocol != 17)
    return invalidParameter("Ports need HdrProtocolID 6 (TCP) or 17 (UDP).");
  std::uint8_t dscp = 0;
  std::uint32_t flowLabel = 0;
  if (in.count("HdrDSCP")) {
    if (!optionalUint(in, "HdrDSCP", dscp, 63)) return invalidParameter("HdrDSCP is 0 to 63.");
    f.dscp = dscp;
  }
  if (in.count("HdrFlowLabel")) {
    if (version != 6 || !optionalUint(in, "HdrFlowLabel", flowLabel, 0xFFFFF))
      return invalidParameter("HdrFlowLabel is an IPv6 flow label, 0 to 1048575.");
    f.flowLabel = flowLabel;
  }
  if (!optionalUint(in, "TCPFlagsOn", f.tcpFlagsOn, 0xFF) || !optionalUint(in, "TCPFlagsOff", f.tcpFlagsOff, 0xFF) ||
      (f.tcpFlagsOn & f.tcpFlagsOff))
    return invalidParameter("TCPFlagsOn and TCPFlagsOff are disjoint 8-bit masks.");
  if ((f.tcpFlagsOn || f.tcpFlagsOff) && f.protocol != std::optional<std::uint8_t>(6))
    return invalidParameter("TCP flags need HdrProtocolID 6 (TCP).");
  return std::nullopt;
}

ChangeFault createFilter(CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created, SdFilterKind kind) {
  const auto& sd = ctx.platform.state().systemDefense;
  if (sd.filters.size() >= platform::kSdMaxFilters) return limitReached("at most 80 filters.");
  SdFilter f;
  f.kind = kind;
  if (auto fault = readFilterCommon(body, f)) return fault;
  if (kind == SdFilterKind::Ethernet) {
    std::uint64_t type = 0;
    if (!argUint(body, "HdrProtocolID8021", type) || type > 0xFFFF)
      return invalidParameter("HdrProtocolID8021 is the EtherType (2048 IPv4, 2054 ARP, 34525 IPv6).");
    f.etherType = static_cast<std::uint16_t>(type);
  } else if (auto fault = readIpFilter(body, f)) {
    return fault;
  }
  auto r = ctx.platform.update([&](platform::PlatformState& s) {
    f.handle = s.systemDefense.takeHandle();  // the InstanceID a client sends is replaced by the handle
    s.systemDefense.filters.push_back(f);
  });
  if (r != platform::ChangeResult::Ok) return stored(ctx, r);
  created = filterRef(f).selectors;
  return std::nullopt;
}

ChangeFault removeFilter(CimContext& ctx, const Instance& target) {
  std::uint32_t handle = 0;
  const std::string id = target.str("InstanceID");
  if (std::from_chars(id.data(), id.data() + id.size(), handle).ec != std::errc{}) return invalidParameter("No such filter.");
  const auto& sd = ctx.platform.state().systemDefense;
  if (!sd.filter(handle)) return invalidParameter("No such filter.");
  for (const auto& p : sd.policies)
    if (std::find(p.filters.begin(), p.filters.end(), handle) != p.filters.end())
      return invalidParameter("The filter is in policy " + p.name + "; take it out of the policy first.");
  return stored(ctx, ctx.platform.update([&](platform::PlatformState& s) {
    std::erase_if(s.systemDefense.filters, [&](const SdFilter& f) { return f.handle == handle; });
  }));
}

Instance& filterCommon(Instance& i, const SdFilter& f) {
  return i.setBool("ActionEventOnMatch", f.eventOnMatch)
      .set("CreationClassName", filterClass(f))
      .set("ElementName", f.name)
      .setNum("FilterDirection", f.direction)
      .setNum("FilterProfile", f.profile)
      .setNum("FilterProfileData", f.profileData)
      .set("InstanceID", std::to_string(f.handle))
      .setBool("IsNegated", f.negated)
      .set("Name", f.name)
      .set("SystemCreationClassName", "CIM_ComputerSystem")
      .set("SystemName", kAmtSystemName);
}

std::vector<Instance> filterInstances(CimContext& ctx, SdFilterKind kind) {
  std::vector<Instance> out;
  for (const auto& f : ctx.platform.state().systemDefense.filters) {
    if (f.kind != kind) continue;
    Instance i;
    filterCommon(i, f);
    if (kind == SdFilterKind::Ethernet) {
      i.setNum("HdrProtocolID8021", f.etherType);
    } else {
      i.setNum("HdrIPVersion", f.ipVersion);
      auto address = [&](const char* name, const std::vector<std::uint8_t>& b) {
        if (!b.empty()) i.set(name, hexOf(b));
      };
      address("HdrSrcAddress", f.srcAddress);
      address("HdrSrcMask", f.srcMask);
      address("HdrSrcAddressEndOfRange", f.srcEndOfRange);
      address("HdrDestAddress", f.destAddress);
      address("HdrDestMask", f.destMask);
      address("HdrDestAddressEndOfRange", f.destEndOfRange);
      if (f.protocol) i.setNum("HdrProtocolID", *f.protocol);
      if (f.srcPortStart || f.srcPortEnd) i.setNum("HdrSrcPortStart", f.srcPortStart).setNum("HdrSrcPortEnd", f.srcPortEnd);
      if (f.destPortStart || f.destPortEnd) i.setNum("HdrDestPortStart", f.destPortStart).setNum("HdrDestPortEnd", f.destPortEnd);
      if (f.dscp) i.setNum("HdrDSCP", *f.dscp);
      if (f.flowLabel) i.setNum("HdrFlowLabel", *f.flowLabel);
      if (f.tcpFlagsOn || f.tcpFlagsOff) i.setNum("TCPFlagsOn", f.tcpFlagsOn).setNum("TCPFlagsOff", f.tcpFlagsOff);
    }
    out.push_back(std::move(i));
  }
  return out;
}

std::vector<PropertyDef> filterBaseProperties() {
  return {P("ActionEventOnMatch", T::Boolean), P("CreationClassName"), P("ElementName"), P("FilterDirection", T::UInt8),
          P("FilterProfile", T::UInt8), P("FilterProfileData", T::UInt32), P("InstanceID"), P("IsNegated", T::Boolean),
          P("Name"), P("SystemCreationClassName"), P("SystemName")};
}

// ---- NIC slots (the port associations and interface policies)

bool slotInForce(CimContext& ctx, std::size_t nic, SdSource source) {
  const auto& state = ctx.platform.state();
  auto active = platform::sdActivePolicy(state.systemDefense, nic, ctx.now(), state.domainName);
  return active && active->source == source;
}

// A slot association: Antecedent = the NIC, Dependent = the policy.
ChangeFault setSlot(CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created, SdSource source,
                    bool enabled) {
  auto nic = nicOf(argRef(body, "Antecedent"));
  if (!nic) return invalidParameter("Antecedent must be CIM_EthernetPort \"Intel(r) AMT Ethernet Port 0\" or \"... 1\".");
  const std::uint32_t policy = policyOf(ctx.platform.state().systemDefense, argRef(body, "Dependent"));
  if (!policy) return invalidParameter("Dependent must be an AMT_SystemDefensePolicy.");
  if (body.count("Enabled") && !argBool(body, "Enabled", enabled)) return invalidParameter("Enabled is a boolean.");
  const std::int64_t now = ctx.now();
  auto r = ctx.platform.update([&](platform::PlatformState& s) {
    // One policy per NIC and source: a new one replaces the one before.
    s.systemDefense.nics[*nic].slot(source) = platform::SdSlot{policy, enabled, now};
  });
  if (r != platform::ChangeResult::Ok) return stored(ctx, r);
  created = {soap::eprSelector("Antecedent", ethernetPortRef(*nic)), soap::eprSelector("Dependent", policyRef(policy))};
  return std::nullopt;
}

ChangeFault clearSlot(CimContext& ctx, const Instance& target, SdSource source) {
  const Value* port = target.get("Antecedent");
  auto nic = nicOf(port && port->isRef() ? &port->refs.front() : nullptr);
  if (!nic) return invalidParameter();
  return stored(ctx, ctx.platform.update([&](platform::PlatformState& s) {
    s.systemDefense.nics[*nic].slot(source) = platform::SdSlot{};
  }));
}

// Enabled: in force (enabled and its Timeout not over); for a slot class of a linked feature, armed.
std::vector<Instance> slotInstances(CimContext& ctx, SdSource source, const char* className) {
  std::vector<Instance> out;
  const auto& sd = ctx.platform.state().systemDefense;
  for (std::size_t nic = 0; nic < platform::kSdNics; ++nic) {
    const platform::SdSlot& slot = sd.nics[nic].slot(source);
    if (!slot.policy) continue;
    const bool expired = platform::sdSlotExpired(sd, slot, ctx.now());
    // A System Defense activation whose Timeout ran out is over: the association is gone, as after a Delete.
    if (source == SdSource::SystemDefense && (!slot.enabled || expired)) continue;
    Instance i;
    i.setRef("Antecedent", ethernetPortRef(nic)).setRef("Dependent", policyRef(slot.policy));
    if (source == SdSource::Default) i.setBool("Active", slotInForce(ctx, nic, source));
    else if (source == SdSource::SystemDefense) i.setBool("Enabled", true);
    else i.setBool("Enabled", slot.enabled && !expired).set("CreationClassName", className);
    out.push_back(std::move(i));
  }
  return out;
}

ChangeFault putSlotEnabled(CimContext& ctx, const Instance& current, const Arguments& changes, SdSource source) {
  const Value* port = current.get("Antecedent");
  auto nic = nicOf(port && port->isRef() ? &port->refs.front() : nullptr);
  bool enabled = false;
  if (!nic) return invalidParameter();
  if (!changes.count("Enabled")) return std::nullopt;
  if (!argBool(changes, "Enabled", enabled)) return invalidParameter("Enabled is a boolean.");
  const std::int64_t now = ctx.now();
  return stored(ctx, ctx.platform.update([&](platform::PlatformState& s) {
    auto& slot = s.systemDefense.nics[*nic].slot(source);
    if (enabled && !slot.enabled) slot.since = now;  // its Timeout counts from now
    slot.enabled = enabled;
  }));
}

void addSlotClass(ClassRegistry& r, const char* name, const char* base, SdSource source, bool enabledOnCreate) {
  ClassDef c{.name = name, .schema = Schema::Amt, .base = base, .keys = {"Antecedent", "Dependent"}};
  c.properties = {P("Antecedent", T::Reference), P("Dependent", T::Reference)};
  if (source == SdSource::Default) c.properties.push_back(P("Active", T::Boolean));
  else if (source == SdSource::SystemDefense) c.properties.push_back(P("Enabled", T::Boolean));
  else c.properties.insert(c.properties.end(), {P("CreationClassName"), W("Enabled", T::Boolean)});
  c.enumerate = [source, name](CimContext& ctx) { return slotInstances(ctx, source, name); };
  c.create = [source, enabledOnCreate](CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created) {
    return setSlot(ctx, body, created, source, enabledOnCreate);
  };
  c.remove = [source](CimContext& ctx, const Instance& target) { return clearSlot(ctx, target, source); };
  if (source == SdSource::AgentPresence || source == SdSource::EnvironmentDetection)
    c.put = [source](CimContext& ctx, const Instance& current, const Arguments& changes) {
      return putSlotEnabled(ctx, current, changes, source);
    };
  r.add(std::move(c));
}

// ---- environment detection

MethodResult setEnvironmentPolicy(CimContext& ctx, const Instance&, const Arguments& in) {
  const auto& sd = ctx.platform.state().systemDefense;
  const EndpointReference* ref = argRef(in, "Policy");
  const std::uint32_t policy = policyOf(sd, ref);
  if (ref && !policy) return MethodResult::status(status::kInvalidParameter);
  const std::int64_t now = ctx.now();
  // No Policy: environment detection enables none.
  auto r = ctx.platform.update([&](platform::PlatformState& s) {
    for (auto& nic : s.systemDefense.nics)
      nic.slot(SdSource::EnvironmentDetection) = policy ? platform::SdSlot{policy, true, now} : platform::SdSlot{};
  });
  return MethodResult::status(r == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
}

}  // namespace

void registerSystemDefense(ClassRegistry& r) {
  ClassDef policy{.name = kPolicyClass, .schema = Schema::Amt, .keys = {"InstanceID"}};
  policy.properties = {W("AntiSpoofingSupport", T::UInt32), P("ElementName"),
                       PropertyDef{"FilterCreationHandles", T::UInt32, true, true}, P("InstanceID"), W("PolicyName"),
                       W("PolicyPrecedence", T::UInt32), W("RxDefaultCount", T::Boolean), W("RxDefaultDrop", T::Boolean),
                       W("RxDefaultMatchEvent", T::Boolean), W("TxDefaultCount", T::Boolean), W("TxDefaultDrop", T::Boolean),
                       W("TxDefaultMatchEvent", T::Boolean)};
  policy.methods = {{"GetTimeout", {}, {Out("Timeout", T::UInt32)}, getTimeout},
                    {"SetTimeout", {In("Timeout", T::UInt32)}, {}, setTimeout},
                    {"UpdateStatistics", {In("NetworkInterface", T::Reference), In("ResetOnRead", T::Boolean)}, {}, updateStatistics}};
  policy.enumerate = policyInstances;
  policy.create = [](CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created) -> ChangeFault {
    const auto& sd = ctx.platform.state().systemDefense;
    if (sd.policies.size() >= platform::kSdMaxPolicies) return limitReached("at most 8 policies.");
    SdPolicy p;
    if (auto f = readPolicy(body, sd, p, true)) return f;
    auto result = ctx.platform.update([&](platform::PlatformState& s) {
      p.handle = s.systemDefense.takeHandle();  // the InstanceID a client sends is replaced by the handle
      s.systemDefense.policies.push_back(p);
    });
    if (result != platform::ChangeResult::Ok) return stored(ctx, result);
    created = {soap::textSelector("InstanceID", std::to_string(p.handle))};
    return std::nullopt;
  };
  policy.put = [](CimContext& ctx, const Instance& current, const Arguments& changes) -> ChangeFault {
    const SdPolicy* p = policyOfInstance(ctx, current);
    if (!p) return invalidParameter("No such policy.");
    SdPolicy next = *p;
    if (auto f = readPolicy(changes, ctx.platform.state().systemDefense, next, false)) return f;
    return stored(ctx, ctx.platform.update([&](platform::PlatformState& s) { *s.systemDefense.policy(next.handle) = next; }));
  };
  policy.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const SdPolicy* p = policyOfInstance(ctx, target);
    if (!p) return invalidParameter("No such policy.");
    const std::uint32_t handle = p->handle;
    // A policy in force goes out of force with it, whoever enabled it.
    return stored(ctx, ctx.platform.update([&](platform::PlatformState& s) {
      std::erase_if(s.systemDefense.policies, [&](const SdPolicy& x) { return x.handle == handle; });
      for (auto& nic : s.systemDefense.nics)
        for (auto& slot : nic.slots)
          if (slot.policy == handle) slot = platform::SdSlot{};
    }));
  };
  r.add(std::move(policy));

  ClassDef base{.name = kFilterBaseClass, .schema = Schema::Amt, .keys = kFilterKeys};
  base.properties = filterBaseProperties();
  base.remove = removeFilter;
  r.add(std::move(base));
  ClassDef complex{.name = kComplexFilterClass, .schema = Schema::Amt, .base = kFilterBaseClass, .keys = kFilterKeys};
  complex.properties = filterBaseProperties();
  complex.remove = removeFilter;
  r.add(std::move(complex));

  ClassDef ethernet{.name = kEthernetFilterClass, .schema = Schema::Amt, .base = kComplexFilterClass, .keys = kFilterKeys};
  ethernet.properties = filterBaseProperties();
  ethernet.properties.push_back(P("HdrProtocolID8021", T::UInt16));
  ethernet.enumerate = [](CimContext& ctx) { return filterInstances(ctx, SdFilterKind::Ethernet); };
  ethernet.create = [](CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created) {
    return createFilter(ctx, body, created, SdFilterKind::Ethernet);
  };
  ethernet.remove = removeFilter;
  r.add(std::move(ethernet));

  ClassDef ip{.name = kIpFilterClass, .schema = Schema::Amt, .base = kComplexFilterClass, .keys = kFilterKeys};
  ip.properties = filterBaseProperties();
  for (const char* name : {"HdrSrcAddress", "HdrSrcMask", "HdrSrcAddressEndOfRange", "HdrDestAddress", "HdrDestMask",
                           "HdrDestAddressEndOfRange"})
    ip.properties.push_back(P(name));
  ip.properties.insert(ip.properties.end(),
                       {P("HdrIPVersion", T::UInt8), P("HdrProtocolID", T::UInt8), P("HdrSrcPortStart", T::UInt16),
                        P("HdrSrcPortEnd", T::UInt16), P("HdrDestPortStart", T::UInt16), P("HdrDestPortEnd", T::UInt16),
                        P("HdrDSCP", T::UInt8), P("HdrFlowLabel", T::UInt32), P("TCPFlagsOn", T::UInt8), P("TCPFlagsOff", T::UInt8)});
  ip.enumerate = [](CimContext& ctx) { return filterInstances(ctx, SdFilterKind::IpHeaders); };
  ip.create = [](CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created) {
    return createFilter(ctx, body, created, SdFilterKind::IpHeaders);
  };
  ip.remove = removeFilter;
  r.add(std::move(ip));

  // A filter as a member of one policy: one instance for each filter each policy holds, OwnerID the policy's handle.
  // Read-only: filters are made through the two header classes and put into policies by FilterCreationHandles.
  ClassDef network{.name = "AMT_NetworkFilter", .schema = Schema::Amt, .base = kFilterBaseClass,
                   .keys = {"CreationClassName", "Name", "OwnerID", "SystemCreationClassName", "SystemName"}};
  network.properties = {P("CreationClassName"), P("ElementName"), P("IsNegated", T::Boolean), P("Name"),
                        P("OwnerID", T::UInt32), P("SystemCreationClassName"), P("SystemName")};
  network.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const auto& sd = ctx.platform.state().systemDefense;
    for (const auto& p : sd.policies)
      for (auto h : p.filters)
        if (const SdFilter* f = sd.filter(h)) {
          Instance i;
          i.set("CreationClassName", "AMT_NetworkFilter").set("ElementName", f->name).setBool("IsNegated", f->negated)
              .set("Name", f->name).setNum("OwnerID", p.handle).set("SystemCreationClassName", "CIM_ComputerSystem")
              .set("SystemName", kAmtSystemName);
          out.push_back(std::move(i));
        }
    return out;
  };
  r.add(std::move(network));

  addSlotClass(r, kPortPolicyClass, "", SdSource::SystemDefense, true);
  addSlotClass(r, kDefaultPolicyClass, "", SdSource::Default, true);
  ClassDef interfacePolicy{.name = kInterfacePolicyClass, .schema = Schema::Amt, .keys = {"Antecedent", "Dependent"}};
  interfacePolicy.properties = {P("Antecedent", T::Reference), P("CreationClassName"), P("Dependent", T::Reference),
                                P("Enabled", T::Boolean)};
  r.add(std::move(interfacePolicy));
  // Agent presence: armed by Create, put in force by a watchdog action with ActionSd (watchdog_fw).
  addSlotClass(r, kAgentPolicyClass, kInterfacePolicyClass, SdSource::AgentPresence, false);
  // Environment detection: in force while AMT's domain is none of the DetectionStrings.
  addSlotClass(r, kEnvironmentPolicyClass, kInterfacePolicyClass, SdSource::EnvironmentDetection, true);

  ClassDef filterIn{.name = kFilterInPolicyClass, .schema = Schema::Amt, .keys = {"Antecedent", "Dependent"}};
  filterIn.properties = {P("Antecedent", T::Reference), P("Dependent", T::Reference)};
  filterIn.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const auto& sd = ctx.platform.state().systemDefense;
    for (const auto& p : sd.policies)
      for (auto h : p.filters)
        if (const SdFilter* f = sd.filter(h)) {
          Instance i;
          i.setRef("Antecedent", policyRef(p.handle)).setRef("Dependent", filterRef(*f));
          out.push_back(std::move(i));
        }
    return out;
  };
  r.add(std::move(filterIn));

  ClassDef service{.name = kServiceClass, .schema = Schema::Amt, .keys = kServiceKeys};
  service.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
                        P("SystemCreationClassName"), P("SystemName")};
  service.enumerate = [](CimContext&) {
    Instance i;
    setServiceKeys(i, kServiceClass, kServiceName).set("ElementName", kServiceName).setNum("EnabledState", 2);
    return std::vector<Instance>{i};
  };
  r.add(std::move(service));

  ClassDef inService{.name = "AMT_SystemDefensePolicyInService", .schema = Schema::Amt, .keys = {"Antecedent", "Dependent"}};
  inService.properties = {P("Antecedent", T::Reference), P("Dependent", T::Reference)};
  inService.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& p : ctx.platform.state().systemDefense.policies) {
      Instance i;
      i.setRef("Antecedent", serviceRef(Schema::Amt, kServiceClass, kServiceName)).setRef("Dependent", policyRef(p.handle));
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(inService));

  ClassDef stats{.name = "AMT_ActiveFilterStatistics", .schema = Schema::Amt, .keys = {"Antecedent", "Dependent"}};
  stats.properties = {P("ActivationTime", T::DateTime), P("Antecedent", T::Reference), P("Dependent", T::Reference),
                      P("FilterMatched", T::UInt32), P("LastResetTime", T::DateTime), P("ReadCount", T::UInt32)};
  stats.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!ctx.systemDefense) return out;
    const auto& state = ctx.platform.state();
    const auto& sd = state.systemDefense;
    for (std::size_t nic = 0; nic < platform::kSdNics; ++nic) {
      auto active = platform::sdActivePolicy(sd, nic, ctx.now(), state.domainName);
      const SdPolicy* p = active ? sd.policy(active->policy) : nullptr;
      if (!p) continue;
      for (const auto& st : ctx.systemDefense->statistics(nic)) {
        const SdFilter* f = sd.filter(st.filter);
        if (!f) continue;
        Instance i;
        i.set("ActivationTime", Value::dateTime(cimDatetime(st.activationTime)))
            .setRef("Antecedent", ethernetPortRef(nic))
            .setRef("Dependent", filterInPolicyRef(*p, *f))
            .setNum("FilterMatched", std::min<std::uint64_t>(st.matched, 0xFFFFFFFFu))
            .set("LastResetTime", Value::dateTime(cimDatetime(st.lastResetTime)))
            .setNum("ReadCount", st.readCount);
        out.push_back(std::move(i));
      }
    }
    return out;
  };
  r.add(std::move(stats));

  ClassDef general{.name = "AMT_GeneralSystemDefenseCapabilities", .schema = Schema::Amt, .keys = {"InstanceID"}};
  general.properties = {P("ElementName"), P("GlobalMaxSupportedFilters", T::UInt32), P("GlobalMaxSupportedPolicies", T::UInt32),
                        P("InstanceID")};
  general.enumerate = [](CimContext&) {
    Instance i;
    i.set("ElementName", "Intel(r) AMT General System Defense Capabilities")
        .setNum("GlobalMaxSupportedFilters", platform::kSdMaxFilters)
        .setNum("GlobalMaxSupportedPolicies", platform::kSdMaxPolicies)
        .set("InstanceID", "Intel(r) AMT General System Defense Capabilities");
    return std::vector<Instance>{i};
  };
  r.add(std::move(general));

  ClassDef portCaps{.name = "AMT_NetworkPortSystemDefenseCapabilities", .schema = Schema::Amt, .keys = {"InstanceID"}};
  for (const char* v : {"IPv4", "IPv6"})
    for (const char* what : {"MaxTxFilters", "MaxTxCounters", "MaxRxFilters", "MaxRxCounters"})
      portCaps.properties.push_back(P(std::string(v) + what, T::UInt32));
  portCaps.properties.insert(portCaps.properties.end(), {P("ElementName"), P("InstanceID"), P("IPv4AntiSpoofingCapable", T::Boolean),
                                                         P("IPv6AntiSpoofingCapable", T::Boolean)});
  portCaps.enumerate = [](CimContext&) {
    std::vector<Instance> out;
    for (std::size_t nic = 0; nic < platform::kSdNics; ++nic) {
      Instance i;
      const std::string id = "Intel(r) AMT Network Port System Defense Capabilities " + std::to_string(nic);
      i.set("ElementName", id).set("InstanceID", id);
      for (const char* v : {"IPv4", "IPv6"})
        for (const char* what : {"MaxTxFilters", "MaxTxCounters", "MaxRxFilters", "MaxRxCounters"})
          i.setNum(std::string(v) + what, platform::kSdMaxFiltersPerPolicy);
      i.setBool("IPv4AntiSpoofingCapable", true).setBool("IPv6AntiSpoofingCapable", false);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(portCaps));

  ClassDef env{.name = "AMT_EnvironmentDetectionSettingData", .schema = Schema::Amt, .keys = {"InstanceID"}};
  env.properties = {P("DetectionAlgorithm", T::UInt8), PropertyDef{"DetectionStrings", T::String, true, true},
                    P("ElementName"), P("InstanceID")};
  env.methods = {{"SetSystemDefensePolicy", {In("Policy", T::Reference)}, {}, setEnvironmentPolicy},
                 // Enable (required): route AMT's own traffic through the host's VPN when outside the enterprise.
                 {"EnableVpnRouting", {In("Enable", T::Boolean)}, {},
                  [](CimContext& ctx, const Instance&, const Arguments& in) {
                    bool enable = false;
                    if (!argBool(in, "Enable", enable)) return MethodResult::status(status::kInvalidParameter);
                    auto result = ctx.platform.update(
                        [&](platform::PlatformState& s) { s.systemDefense.environment.vpnRoutingEnabled = enable; });
                    return MethodResult::status(result == platform::ChangeResult::Ok ? 0 : status::kInternalError);
                  }}};
  env.enumerate = [](CimContext& ctx) {
    Instance i;
    i.setNum("DetectionAlgorithm", 0)  // 0: local domains (the DNS suffix AMT is in)
        .set("ElementName", kEnvironmentSettingsId)
        .set("InstanceID", kEnvironmentSettingsId);
    const auto& strings = ctx.platform.state().systemDefense.environment.detectionStrings;
    if (!strings.empty()) i.set("DetectionStrings", Value::list(strings));
    return std::vector<Instance>{i};
  };
  env.put = [](CimContext& ctx, const Instance&, const Arguments& changes) -> ChangeFault {
    auto it = changes.find("DetectionStrings");
    if (it == changes.end()) return std::nullopt;
    if (it->second.items.size() > kMaxDetectionStrings) return limitReached("at most 5 DetectionStrings.");
    for (const auto& d : it->second.items)
      if (d.empty() || d.size() > 192 || !text::isValidUtf8(d) || !text::isXmlText(d))
        return invalidParameter("A DetectionString is a DNS suffix of 1 to 192 characters.");
    return stored(ctx, ctx.platform.update([&](platform::PlatformState& s) {
      s.systemDefense.environment.detectionStrings = it->second.items;
    }));
  };
  r.add(std::move(env));
}

}  // namespace mesim::wsman::cim
