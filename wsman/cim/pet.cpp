// PET over SNMP (AMT <= 17; docs/pet.md): AMT_EventManagerService (DefaultCommunityString), AMT_PETCapabilities
// (what the platform's sensors can raise), AMT_PETFilterSetting (the filters: Put, Create, Delete),
// AMT_SNMPEventSubscriber (the trap receivers: Create, Delete) and the two associations that follow their PolicyIDs:
// AMT_PETFilterForTarget (filter -> subscriber of the same PolicyID) and AMT_TrapTargetForService. The settings are
// in the platform state (pet_state.h); the traps are sent by the device's PetTrapSender.
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "firmware/platform/hardware_model.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
using platform::PetFilter;
using platform::PetSettings;
using platform::SnmpSubscriber;

constexpr const char* kServiceClass = "AMT_EventManagerService";
constexpr const char* kServiceName = "Intel(r) AMT Event Manager Service";
constexpr const char* kCapabilitiesClass = "AMT_PETCapabilities";
constexpr const char* kFilterClass = "AMT_PETFilterSetting";
constexpr const char* kSubscriberClass = "AMT_SNMPEventSubscriber";
constexpr const char* kFilterPrefix = "Intel(r) AMT:PET Filter ";
constexpr const char* kSubscriberPrefix = "Intel(r) AMT:SNMP Subscriber ";
constexpr std::size_t kMaxCommunityLength = 16;  // AMT_EventManagerService / subscriber community strings
constexpr std::size_t kMaxNameLength = 256;

ChangeFault limitReached(const std::string& what) {
  return soap::Fault{soap::FaultCode::InvalidParameter, {}, "MAX_LIMIT_REACHED (0x17): " + what};
}

EndpointReference filterRef(const std::string& instanceId) { return instanceIdRef(Schema::Amt, kFilterClass, instanceId); }
EndpointReference subscriberRef(const std::string& name) { return serviceRef(Schema::Amt, kSubscriberClass, name); }

// A community string: printable ASCII, at most 16 characters.
bool validCommunity(const std::string& text, bool mayBeEmpty) {
  if (text.size() > kMaxCommunityLength || (!mayBeEmpty && text.empty())) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

// ---- the match bytes of a filter, for both the instance and Put/Create
struct MatchField {
  const char* property;
  std::uint8_t PetFilter::*member;
};
constexpr MatchField kMatchFields[] = {
    {"DeviceAddress", &PetFilter::deviceAddress}, {"EventSensorType", &PetFilter::sensorType},
    {"EventType", &PetFilter::eventType},         {"EventOffset", &PetFilter::offset},
    {"EventSourceType", &PetFilter::sourceType},  {"EventSeverity", &PetFilter::severity},
    {"SensorNumber", &PetFilter::sensorNumber},   {"Entity", &PetFilter::entity},
    {"EntityInstance", &PetFilter::entityInstance}, {"PolicyID", &PetFilter::policyId},
};
struct SwitchField {
  const char* property;
  bool PetFilter::*member;
};
constexpr SwitchField kSwitchFields[] = {
    {"EnableFilter", &PetFilter::enabled}, {"LogOnEvent", &PetFilter::logOnEvent}, {"SendAlert", &PetFilter::sendAlert}};

// Reads the writable properties present in `in` into `f`; a value out of range is a fault.
ChangeFault readFilter(const Arguments& in, PetFilter& f) {
  for (const auto& field : kMatchFields) {
    if (!in.count(field.property)) continue;
    std::uint64_t v = 0;
    if (!argUint(in, field.property, v) || v > 0xFF)
      return invalidParameter(std::string(field.property) + " is a byte (0-255; 255 matches any value).");
    f.*field.member = static_cast<std::uint8_t>(v);
  }
  for (const auto& field : kSwitchFields) {
    if (!in.count(field.property)) continue;
    if (!argBool(in, field.property, f.*field.member))
      return invalidParameter(std::string(field.property) + " is true or false.");
  }
  if (in.count("ElementName")) {
    argString(in, "ElementName", f.elementName);
    if (f.elementName.size() > kMaxNameLength) return invalidParameter("ElementName is too long.");
  }
  return std::nullopt;
}

Instance filterInstance(const PetFilter& f) {
  Instance i;
  i.set("ElementName", f.elementName).set("InstanceID", f.instanceId);
  i.setBool("EnableFilter", f.enabled).setBool("OEMFilter", f.oemFilter).setBool("LogOnEvent", f.logOnEvent);
  for (const auto& field : kMatchFields) i.setNum(field.property, f.*field.member);
  i.setBool("SendAlert", f.sendAlert);
  return i;
}

// The smallest free "Intel(r) AMT:PET Filter N".
std::string newFilterId(const PetSettings& pet) {
  for (std::size_t n = 1;; ++n) {
    std::string id = kFilterPrefix + std::to_string(n);
    if (std::none_of(pet.filters.begin(), pet.filters.end(), [&](const PetFilter& f) { return f.instanceId == id; }))
      return id;
  }
}

// ---- subscribers

// The address family of AccessInfo: 3 IPv4, 4 IPv6, 0 neither.
std::uint16_t addressFormat(const std::string& text) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return 3;
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return 4;
  return 0;
}

Instance subscriberInstance(const SnmpSubscriber& s) {
  Instance i;
  i.set("AccessInfo", s.accessInfo);
  if (!s.communityString.empty()) i.set("CommunityString", s.communityString);
  i.set("CreationClassName", kSubscriberClass)
      .set("ElementName", s.name)
      .setNum("InfoFormat", s.infoFormat)
      .set("Name", s.name)
      .setNum("PolicyID", s.policyId)
      .set("PortInfo", std::to_string(s.port))
      .setNum("PortProtocol", 3)  // UDP
      .set("SystemCreationClassName", "CIM_ComputerSystem")
      .set("SystemName", kAmtSystemName);
  return i;
}

ChangeFault createSubscriber(CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created) {
  const PetSettings& pet = ctx.platform.state().pet;
  SnmpSubscriber s;
  if (!argString(body, "AccessInfo", s.accessInfo) || s.accessInfo.empty())
    return invalidParameter("AccessInfo must be the trap receiver's IPv4 or IPv6 address.");
  const std::uint16_t format = addressFormat(s.accessInfo);
  if (!format) return invalidParameter("AccessInfo must be an IPv4 or IPv6 address.");
  std::uint64_t n = format;
  if (body.count("InfoFormat") && (!argUint(body, "InfoFormat", n) || n != format))
    return invalidParameter("InfoFormat is 3 (IPv4) or 4 (IPv6), as AccessInfo is.");
  s.infoFormat = format;
  if (std::string port; argString(body, "PortInfo", port) && !port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
      return invalidParameter("PortInfo must be a UDP port (1-65535).");
    s.port = static_cast<std::uint16_t>(value);
  }
  if (body.count("PortProtocol") && (!argUint(body, "PortProtocol", n) || n != 3))
    return invalidParameter("PortProtocol must be 3 (UDP).");
  if (!argUint(body, "PolicyID", n) || n > 0xFF) return invalidParameter("PolicyID must be a byte (0-255).");
  s.policyId = static_cast<std::uint8_t>(n);
  argString(body, "CommunityString", s.communityString);
  if (!validCommunity(s.communityString, true))
    return invalidParameter("CommunityString has at most 16 printable characters.");
  argString(body, "Name", s.name);
  if (s.name.size() > kMaxNameLength) return invalidParameter("Name is too long.");

  for (const auto& other : pet.subscribers) {
    if (other.accessInfo == s.accessInfo && other.port == s.port && other.policyId == s.policyId)
      return soap::Fault{soap::FaultCode::AlreadyExists, {}, "A subscriber for this address and PolicyID exists."};
    if (!s.name.empty() && other.name == s.name)
      return soap::Fault{soap::FaultCode::AlreadyExists, {}, "A subscriber of this Name exists."};
  }
  if (pet.subscribers.size() >= PetSettings::kMaxSubscribers) return limitReached("at most 14 SNMP subscribers.");
  auto result = ctx.platform.update([&](platform::PlatformState& st) {
    if (s.name.empty()) s.name = kSubscriberPrefix + std::to_string(st.pet.nextSubscriberNumber++);
    st.pet.subscribers.push_back(s);
  });
  if (auto f = changeFault(result)) return f;
  created = subscriberRef(s.name).selectors;
  return std::nullopt;
}

// ---- capabilities: what each of the platform's sensors can raise

std::vector<Instance> capabilities(CimContext& ctx) {
  std::vector<Instance> out;
  if (!ctx.hardware) return out;
  std::uint8_t index = 0;
  for (const auto& s : ctx.hardware->sensors()) {
    const bool discrete = s.kind == platform::SensorKind::Intrusion;
    Instance i;
    i.setBool("AssertionEvent", true)
        .setBool("DeassertionEvent", true)
        .setNum("DeviceAddress", 0xFF)
        .set("ElementName", s.elementName)
        .setNum("Entity", s.entity)
        .setNum("EntityInstance", 0)
        .setNum("EventOffset", 0xFF)  // any: the offset depends on the threshold crossed
        .setNum("EventSensorType", static_cast<std::uint8_t>(s.kind))
        .setNum("EventSeverity", 0xFF)
        .setNum("EventSourceType", 0x68)  // ASF
        .setNum("EventType", discrete ? 0x6F : 0x01)  // sensor-specific, threshold
        .setNum("Index", index++)
        .set("InstanceID", "Intel(r) AMT:PET Capabilities " + s.deviceId)
        .setBool("IsLegacySensor", false)
        .setNum("SensorNumber", s.number);
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace

void registerPet(ClassRegistry& r) {
  ClassDef svc{.name = kServiceClass, .schema = Schema::Amt, .keys = kServiceKeys};
  svc.properties = {P("CreationClassName"), W("DefaultCommunityString"), P("ElementName"), P("EnabledState", T::UInt16),
                    P("Name"), P("SystemCreationClassName"), P("SystemName")};
  svc.enumerate = [](CimContext& ctx) {
    Instance i;
    setServiceKeys(i, kServiceClass, kServiceName)
        .set("DefaultCommunityString", ctx.platform.state().pet.defaultCommunityString)
        .set("ElementName", kServiceName)
        .setNum("EnabledState", 5);  // not applicable: the service is always there
    return std::vector<Instance>{i};
  };
  svc.put = [](CimContext& ctx, const Instance&, const Arguments& changes) -> ChangeFault {
    std::string community;
    if (!argString(changes, "DefaultCommunityString", community)) return std::nullopt;
    if (!validCommunity(community, false))
      return invalidParameter("DefaultCommunityString has 1 to 16 printable characters.");
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.pet.defaultCommunityString = community; }));
  };
  r.add(std::move(svc));

  ClassDef caps{.name = kCapabilitiesClass, .schema = Schema::Amt, .keys = {"InstanceID"}};
  caps.properties = {P("AssertionEvent", T::Boolean), P("DeassertionEvent", T::Boolean), P("DeviceAddress", T::UInt8),
                     P("ElementName"), P("Entity", T::UInt8), P("EntityInstance", T::UInt8), P("EventOffset", T::UInt8),
                     P("EventSensorType", T::UInt8), P("EventSeverity", T::UInt8), P("EventSourceType", T::UInt8),
                     P("EventType", T::UInt8), P("Index", T::UInt8), P("InstanceID"), P("IsLegacySensor", T::Boolean),
                     P("SensorNumber", T::UInt8)};
  caps.enumerate = capabilities;
  r.add(std::move(caps));

  ClassDef filter{.name = kFilterClass, .schema = Schema::Amt, .keys = {"InstanceID"}};
  filter.properties = {W("DeviceAddress", T::UInt8), W("ElementName"), W("EnableFilter", T::Boolean),
                       W("Entity", T::UInt8), W("EntityInstance", T::UInt8), W("EventOffset", T::UInt8),
                       W("EventSensorType", T::UInt8), W("EventSeverity", T::UInt8), W("EventSourceType", T::UInt8),
                       W("EventType", T::UInt8), P("InstanceID"), W("LogOnEvent", T::Boolean), P("OEMFilter", T::Boolean),
                       W("PolicyID", T::UInt8), W("SendAlert", T::Boolean), W("SensorNumber", T::UInt8)};
  filter.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& f : ctx.platform.state().pet.filters) out.push_back(filterInstance(f));
    return out;
  };
  filter.put = [](CimContext& ctx, const Instance& current, const Arguments& changes) -> ChangeFault {
    const std::string id = current.str("InstanceID");
    const auto& filters = ctx.platform.state().pet.filters;
    auto it = std::find_if(filters.begin(), filters.end(), [&](const PetFilter& f) { return f.instanceId == id; });
    if (it == filters.end()) return invalidParameter("No such filter.");
    if (it->oemFilter) return soap::Fault{soap::FaultCode::AccessDenied, {}, "An OEM filter cannot be changed."};
    PetFilter changed = *it;
    if (auto fault = readFilter(changes, changed)) return fault;
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      for (auto& f : s.pet.filters)
        if (f.instanceId == id) f = changed;
    }));
  };
  filter.create = [](CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created) -> ChangeFault {
    const PetSettings& pet = ctx.platform.state().pet;
    if (pet.filters.size() >= PetSettings::kMaxFilters) return limitReached("at most 17 PET filters.");
    PetFilter f;
    if (auto fault = readFilter(body, f)) return fault;
    f.instanceId = newFilterId(pet);
    if (f.elementName.empty()) f.elementName = f.instanceId;
    if (auto fault = changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.pet.filters.push_back(f); })))
      return fault;
    created = filterRef(f.instanceId).selectors;
    return std::nullopt;
  };
  filter.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string id = target.str("InstanceID");
    if (target.str("OEMFilter") == "true")
      return soap::Fault{soap::FaultCode::AccessDenied, {}, "An OEM filter cannot be removed."};
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      std::erase_if(s.pet.filters, [&](const PetFilter& f) { return f.instanceId == id; });
    }));
  };
  r.add(std::move(filter));

  ClassDef sub{.name = kSubscriberClass, .schema = Schema::Amt, .keys = kServiceKeys};
  sub.properties = {P("AccessInfo"), P("CommunityString"), P("CreationClassName"), P("ElementName"),
                    P("InfoFormat", T::UInt16), P("Name"), P("PolicyID", T::UInt8), P("PortInfo"),
                    P("PortProtocol", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
  sub.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& s : ctx.platform.state().pet.subscribers) out.push_back(subscriberInstance(s));
    return out;
  };
  sub.create = createSubscriber;
  sub.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string name = target.str("Name");
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      std::erase_if(s.pet.subscribers, [&](const SnmpSubscriber& x) { return x.name == name; });
    }));
  };
  r.add(std::move(sub));

  // Filter -> subscriber: a filter's traps go to the subscribers of its PolicyID, so the links are those pairs.
  ClassDef forTarget{.name = "AMT_PETFilterForTarget", .schema = Schema::Amt, .keys = {"Antecedent", "Dependent"}};
  forTarget.properties = {P("Antecedent", T::Reference), P("Dependent", T::Reference)};
  forTarget.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const auto& pet = ctx.platform.state().pet;
    for (const auto& f : pet.filters)
      for (const auto& s : pet.subscribers)
        if (f.policyId == s.policyId) {
          Instance i;
          i.setRef("Antecedent", filterRef(f.instanceId)).setRef("Dependent", subscriberRef(s.name));
          out.push_back(std::move(i));
        }
    return out;
  };
  // Linking a subscriber to a filter gives it the filter's PolicyID.
  forTarget.create = [](CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created) -> ChangeFault {
    const EndpointReference* filterEpr = argRef(body, "Antecedent");
    const EndpointReference* subscriberEpr = argRef(body, "Dependent");
    const soap::Selector* id = filterEpr ? filterEpr->find("InstanceID") : nullptr;
    const soap::Selector* name = subscriberEpr ? subscriberEpr->find("Name") : nullptr;
    const auto& pet = ctx.platform.state().pet;
    auto f = std::find_if(pet.filters.begin(), pet.filters.end(), [&](const PetFilter& x) { return id && x.instanceId == id->value; });
    auto s = std::find_if(pet.subscribers.begin(), pet.subscribers.end(),
                          [&](const SnmpSubscriber& x) { return name && x.name == name->value; });
    if (f == pet.filters.end()) return invalidParameter("Antecedent must reference an AMT_PETFilterSetting.");
    if (s == pet.subscribers.end()) return invalidParameter("Dependent must reference an AMT_SNMPEventSubscriber.");
    if (f->policyId == s->policyId) return soap::Fault{soap::FaultCode::AlreadyExists, {}, "They are linked."};
    const std::uint8_t policy = f->policyId;
    const std::string filterId = f->instanceId, subscriberName = s->name;
    if (auto fault = changeFault(ctx.platform.update([&](platform::PlatformState& st) {
          for (auto& x : st.pet.subscribers)
            if (x.name == subscriberName) x.policyId = policy;
        })))
      return fault;
    created = {soap::eprSelector("Antecedent", filterRef(filterId)), soap::eprSelector("Dependent", subscriberRef(subscriberName))};
    return std::nullopt;
  };
  r.add(std::move(forTarget));

  ClassDef trapTarget{.name = "AMT_TrapTargetForService", .schema = Schema::Amt, .keys = {"Antecedent", "Dependent"}};
  trapTarget.properties = {P("Antecedent", T::Reference), P("Dependent", T::Reference)};
  trapTarget.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& s : ctx.platform.state().pet.subscribers) {
      Instance i;
      i.setRef("Antecedent", subscriberRef(s.name)).setRef("Dependent", serviceRef(Schema::Amt, kServiceClass, kServiceName));
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(trapTarget));
}

}  // namespace mesim::wsman::cim
