// The associations that tie AMT's services, access points, capabilities, settings and software together, derived
// from the class registry on each request rather than listed instance by instance: a class another family registers
// later (a service, a SAP, a "<X>Capabilities" next to its "<X>Service") is linked without an edit here. Every
// reference is built with the referenced class's own eprOf() from an instance its provider returned, so a Get of it
// finds that instance. Also the registered profiles (DSP1033) and their conformance links, the indication service
// and the admin domain.
#include <algorithm>
#include <set>
#include <string>

#include "firmware/platform/wifi_profiles.h"
#include "wsman/cim/cim_hierarchy.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;

constexpr const char* kIndicationServiceName = "Intel(r) AMT Indication Service";

// The instances one class serves itself (not its subclasses), with their references.
struct Served {
  const ClassDef* cls = nullptr;
  std::vector<Instance> instances;
  std::vector<EndpointReference> refs() const {
    std::vector<EndpointReference> out;
    for (const auto& i : instances) out.push_back(cls->eprOf(i));
    return out;
  }
};

Served served(CimContext& ctx, std::string_view className) {
  Served s;
  if (!ctx.registry) return s;
  s.cls = ctx.registry->byName(className);
  if (s.cls && s.cls->enumerate) s.instances = s.cls->enumerate(ctx);
  return s;
}

std::vector<EndpointReference> refsOf(CimContext& ctx, std::string_view className) { return served(ctx, className).refs(); }

bool hasServiceKeys(const ClassDef& c) {
  return std::set<std::string>(c.keys.begin(), c.keys.end()) ==
         std::set<std::string>(kServiceKeys.begin(), kServiceKeys.end());
}

bool endsWith(std::string_view text, std::string_view tail) { return text.ends_with(tail); }

// True if `className` is `base` or one of its subclasses in AMT's hierarchy.
bool descendsFrom(std::string_view className, std::string_view base) {
  for (std::optional<std::string_view> c = className; c && !c->empty(); c = superclassOf(*c))
    if (*c == base) return true;
  return false;
}

// Registered concrete classes keyed like a CIM_Service whose name says what they are.
std::vector<const ClassDef*> classesLike(CimContext& ctx, std::initializer_list<std::string_view> tails) {
  std::vector<const ClassDef*> out;
  if (!ctx.registry) return out;
  for (const auto& c : ctx.registry->all()) {
    if (!c->enumerate || !hasServiceKeys(*c)) continue;
    for (auto tail : tails)
      if (endsWith(c->name, tail)) {
        out.push_back(c.get());
        break;
      }
  }
  return out;
}

// Scoped by their SystemName key: a service or SAP is hosted by the system its keys name.
std::vector<Instance> hostedBy(CimContext& ctx, std::initializer_list<std::string_view> tails, const char* dependentName) {
  std::vector<Instance> out;
  for (const ClassDef* c : classesLike(ctx, tails))
    for (const auto& i : c->enumerate(ctx)) {
      Instance link;
      link.setRef("Antecedent", computerSystemRef(i.str("SystemName"))).setRef(dependentName, c->eprOf(i));
      out.push_back(std::move(link));
    }
  return out;
}

Instance link(const char* leftName, EndpointReference left, const char* rightName, EndpointReference right) {
  Instance i;
  i.setRef(leftName, std::move(left)).setRef(rightName, std::move(right));
  return i;
}

bool isNamed(const Instance& i, std::string_view name) {
  for (const char* key : {"Name", "DeviceID", "InstanceID"})
    if (i.str(key) == name) return true;
  return false;
}

// Two classes to link: every instance of `from` with every instance of `to` (only the one named `toOnly` if given).
// A pair naming a class not served yet links nothing.
struct ClassPair {
  std::string from;
  std::string to;
  std::string toOnly{};
};

std::vector<Instance> linkClasses(CimContext& ctx, const std::vector<ClassPair>& pairs, const char* fromName,
                                  const char* toName) {
  std::vector<Instance> out;
  for (const auto& pair : pairs) {
    const auto fromRefs = refsOf(ctx, pair.from);
    const Served to = served(ctx, pair.to);
    for (const auto& f : fromRefs)
      for (const auto& t : to.instances)
        if (pair.toOnly.empty() || isNamed(t, pair.toOnly)) out.push_back(link(fromName, f, toName, to.cls->eprOf(t)));
  }
  return out;
}

ClassDef association(std::string name, const char* left, const char* right,
                     std::function<std::vector<Instance>(CimContext&)> enumerate) {
  ClassDef c{.name = std::move(name), .schema = Schema::Cim, .keys = {left, right}};
  c.properties = {P(left, T::Reference), P(right, T::Reference)};
  c.enumerate = std::move(enumerate);
  return c;
}

// "<X>Capabilities" describes "<X>Service" (in any schema: AMT_, CIM_ or IPS_), plus the pairs that do not follow
// the naming.
std::vector<Instance> elementCapabilities(CimContext& ctx) {
  static const std::vector<std::pair<std::string, std::string>> kIrregular = {
      {"AMT_BootCapabilities", "CIM_BootService"},
      {"CIM_RoleBasedManagementCapabilities", "CIM_RoleBasedAuthorizationService"},
  };
  std::vector<Instance> out;
  if (!ctx.registry) return out;
  for (const auto& c : ctx.registry->all()) {
    if (!c->enumerate || !endsWith(c->name, "Capabilities")) continue;
    constexpr std::size_t kPrefix = 4, kTail = std::string_view("Capabilities").size();  // "CIM_" ... "Capabilities"
    if (c->name.size() <= kPrefix + kTail) continue;
    const std::string stem = c->name.substr(kPrefix, c->name.size() - kPrefix - kTail);
    std::vector<std::string> candidates;
    for (const auto& [caps, service] : kIrregular)
      if (caps == c->name) candidates.push_back(service);
    for (const char* prefix : {"AMT_", "CIM_", "IPS_"}) candidates.push_back(prefix + stem + "Service");
    for (const auto& candidate : candidates) {
      const auto services = refsOf(ctx, candidate);
      if (services.empty()) continue;
      for (const auto& capability : c->enumerate(ctx))
        for (const auto& service : services) out.push_back(link("Capabilities", c->eprOf(capability), "ManagedElement", service));
      break;
    }
  }
  return out;
}

// --- settings ---

constexpr const char* kIpv6SettingsClass = "IPS_IPv6PortSettings";

bool isIpv6Link(const Instance& link) {
  const Value* setting = link.get("SettingData");
  return setting && setting->isRef() && setting->refs.front().resourceUri == resourceUri(Schema::Ips, kIpv6SettingsClass);
}

// IsCurrent: 1 in use, 2 not. Only the IPv6 settings can be switched (that is how IPv6 is turned on and off).
void registerElementSettingData(ClassRegistry& r) {
  ClassDef c = association("CIM_ElementSettingData", "ManagedElement", "SettingData", [](CimContext& ctx) {
    auto links = linkClasses(ctx,
                             {{"CIM_LANEndpoint", "AMT_EthernetPortSettings", "Intel(r) AMT Ethernet Port Settings 0"},
                              {"CIM_KVMRedirectionSAP", "IPS_KVMRedirectionSettingData"},
                              {"CIM_EthernetPort", kIpv6SettingsClass},
                              {"CIM_WiFiEndpoint", "AMT_EthernetPortSettings", "Intel(r) AMT Ethernet Port Settings 1"},
                              {"CIM_WiFiEndpoint", "CIM_WiFiEndpointSettings"}},
                             "ManagedElement", "SettingData");
    // A Wi-Fi profile is current while the port is connected with it (docs/wireless-and-8021x.md).
    const platform::WifiProfile* connected = platform::connectedProfile(ctx.platform.state().wifi);
    for (auto& link : links) {
      const Value* setting = link.get("SettingData");
      const bool wifiProfile = setting && setting->isRef() &&
                               setting->refs.front().resourceUri == resourceUri(Schema::Cim, "CIM_WiFiEndpointSettings");
      if (wifiProfile) {
        const soap::Selector* id = setting->refs.front().find("InstanceID");
        link.setNum("IsCurrent", connected && id && id->value == connected->instanceId ? 1 : 2);
      } else {
        link.setNum("IsCurrent", isIpv6Link(link) && !ctx.platform.state().wiredIpv6.enabled ? 2 : 1);
      }
    }
    return links;
  });
  c.properties.push_back(W("IsCurrent", T::UInt16));
  c.put = [](CimContext& ctx, const Instance& current, const Arguments& in) -> ChangeFault {
    std::uint64_t isCurrent = 0;
    if (!in.count("IsCurrent")) return std::nullopt;
    if (!argUint(in, "IsCurrent", isCurrent) || (isCurrent != 1 && isCurrent != 2))
      return invalidParameter("IsCurrent must be 1 (in use) or 2 (not in use).");
    if (!isIpv6Link(current)) {
      if (std::to_string(isCurrent) == current.str("IsCurrent")) return std::nullopt;
      return invalidParameter("Only the IPv6 settings can be taken in or out of use.");
    }
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.wiredIpv6.enabled = isCurrent == 1; }));
  };
  r.add(std::move(c));
}

// --- registered profiles ---

struct Profile {
  const char* name;
  const char* version;
  bool dmtf;                       // RegisteredOrganization 2 DMTF, else 1 Other ("Intel")
  const char* centralClass;        // the class whose instances conform ("" none: a profile registration only)
  const char* centralName = "";    // only the instance with this Name / DeviceID / InstanceID ("" every instance)
};

// The DASH 1.1 profiles AMT implements whose classes this simulator serves, and Intel's own.
const std::vector<Profile>& profiles() {
  static const std::vector<Profile> kProfiles = {
      {"Profile Registration", "1.0.0", true, ""},
      {"Base Desktop and Mobile", "1.0.0", true, "CIM_ComputerSystem", kHostSystemName},
      {"Computer System", "1.0.0", true, "CIM_ComputerSystem", kHostSystemName},
      {"Power State Management", "1.0.0", true, "CIM_PowerManagementService"},
      {"Boot Control", "1.0.0", true, "CIM_BootService"},
      {"Software Inventory", "1.0.0", true, "CIM_SoftwareIdentity"},
      {"Role Based Authorization", "1.0.0", true, "CIM_RoleBasedAuthorizationService"},
      {"Simple Identity Management", "1.0.0", true, "CIM_AccountManagementService"},
      {"Record Log", "1.0.0", true, "AMT_MessageLog"},
      {"Indications", "1.0.0", true, "CIM_IndicationService"},
      {"KVM Redirection", "1.0.0", true, "CIM_KVMRedirectionSAP"},
      {"Ethernet Port", "1.0.0", true, "CIM_EthernetPort"},
      {"Host LAN Network Port", "1.0.0", true, "CIM_LANEndpoint"},
      {"Intel(r) AMT", "16.1.0", false, "CIM_ComputerSystem", kAmtSystemName},
  };
  return kProfiles;
}

std::string profileId(const Profile& p) { return std::string("Intel(r) AMT Profile: ") + p.name; }
EndpointReference profileRef(const Profile& p) { return instanceIdRef(Schema::Cim, "CIM_RegisteredProfile", profileId(p)); }

bool isCentral(const Profile& p, const Instance& i) { return !*p.centralName || isNamed(i, p.centralName); }

void registerProfiles(ClassRegistry& r) {
  ClassDef profile{.name = "CIM_RegisteredProfile", .schema = Schema::Cim, .keys = {"InstanceID"}};
  profile.properties = {A("AdvertiseTypes", T::UInt16), P("ElementName"), P("InstanceID"),
                        P("OtherRegisteredOrganization"), P("RegisteredName"), P("RegisteredOrganization", T::UInt16),
                        P("RegisteredVersion")};
  profile.enumerate = [](CimContext&) {
    std::vector<Instance> out;
    for (const auto& p : profiles()) {
      Instance i;
      i.set("AdvertiseTypes", Value::numbers({2}))  // Not Advertised: AMT answers no SLP
          .set("ElementName", p.name)
          .set("InstanceID", profileId(p));
      if (!p.dmtf) i.set("OtherRegisteredOrganization", "Intel");
      i.set("RegisteredName", p.name).setNum("RegisteredOrganization", p.dmtf ? 2 : 1).set("RegisteredVersion", p.version);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(profile));

  r.add(association("CIM_ElementConformsToProfile", "ConformantStandard", "ManagedElement", [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& p : profiles()) {
      if (!*p.centralClass) continue;
      const Served central = served(ctx, p.centralClass);
      for (const auto& i : central.instances)
        if (isCentral(p, i)) out.push_back(link("ConformantStandard", profileRef(p), "ManagedElement", central.cls->eprOf(i)));
    }
    return out;
  }));

  // The component profiles the autonomous "Base Desktop and Mobile" profile references.
  r.add(association("CIM_ReferencedProfile", "Antecedent", "Dependent", [](CimContext&) {
    std::vector<Instance> out;
    const Profile& base = profiles()[1];
    for (const auto& p : profiles())
      if (p.dmtf && &p != &base) out.push_back(link("Antecedent", profileRef(p), "Dependent", profileRef(base)));
    return out;
  }));
}

}  // namespace

void registerGenericAssociations(ClassRegistry& r) {
  registerProfiles(r);

  r.add(association("CIM_HostedService", "Antecedent", "Dependent",
                    [](CimContext& ctx) { return hostedBy(ctx, {"Service"}, "Dependent"); }));
  r.add(association("CIM_HostedAccessPoint", "Antecedent", "Dependent",
                    [](CimContext& ctx) { return hostedBy(ctx, {"SAP", "Endpoint", "ServiceAccessPoint"}, "Dependent"); }));
  r.add(association("CIM_ElementCapabilities", "Capabilities", "ManagedElement", elementCapabilities));
  registerElementSettingData(r);
  r.add(association("CIM_ServiceAffectsElement", "AffectedElement", "AffectingElement", [](CimContext& ctx) {
    return linkClasses(ctx,
                       {{"CIM_Account", "CIM_AccountManagementService"},
                        {"CIM_Role", "CIM_RoleBasedAuthorizationService"},
                        {"CIM_Privilege", "CIM_PrivilegeManagementService"},
                        {"CIM_FilterCollection", "CIM_IndicationService"},
                        {"CIM_ListenerDestinationWSManagement", "CIM_IndicationService"}},
                       "AffectedElement", "AffectingElement");
  }));
  r.add(association("CIM_SAPAvailableForElement", "AvailableSAP", "ManagedElement", [](CimContext& ctx) {
    // Redirection and the shared LAN port serve the host.
    return linkClasses(ctx,
                       {{"CIM_KVMRedirectionSAP", "CIM_ComputerSystem", kHostSystemName},
                        {"CIM_LANEndpoint", "CIM_ComputerSystem", kHostSystemName}},
                       "AvailableSAP", "ManagedElement");
  }));
  r.add(association("CIM_ServiceAccessBySAP", "Antecedent", "Dependent", [](CimContext& ctx) {
    return linkClasses(ctx,
                       {{"AMT_RedirectionService", "CIM_KVMRedirectionSAP"},
                        {"AMT_RemoteAccessService", "AMT_ManagementPresenceRemoteSAP"}},
                       "Antecedent", "Dependent");
  }));
  r.add(association("CIM_ServiceServiceDependency", "Antecedent", "Dependent", [](CimContext& ctx) {
    // The account, role and privilege services act on AMT_AuthorizationService's ACL.
    return linkClasses(ctx,
                       {{"AMT_AuthorizationService", "CIM_AccountManagementService"},
                        {"AMT_AuthorizationService", "CIM_RoleBasedAuthorizationService"},
                        {"AMT_AuthorizationService", "CIM_PrivilegeManagementService"}},
                       "Antecedent", "Dependent");
  }));
  // The firmware's code versions are the AMT subsystem's software.
  r.add(association("CIM_ElementSoftwareIdentity", "Antecedent", "Dependent", [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& s : refsOf(ctx, "CIM_SoftwareIdentity"))
      out.push_back(link("Antecedent", s, "Dependent", computerSystemRef(kAmtSystemName)));
    return out;
  }));
  r.add(association("CIM_InstalledSoftwareIdentity", "InstalledSoftware", "System", [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& s : refsOf(ctx, "CIM_SoftwareIdentity"))
      out.push_back(link("InstalledSoftware", s, "System", computerSystemRef(kAmtSystemName)));
    return out;
  }));

  // Every policy rule (AMT_AuditPolicyRule, AMT_RemoteAccessPolicyRule, any CIM_PolicyRule a family adds) lives in
  // the system its SystemName key names.
  r.add(association("CIM_PolicyRuleInSystem", "Antecedent", "Dependent", [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!ctx.registry) return out;
    for (const auto& c : ctx.registry->all()) {
      if (!c->enumerate || !descendsFrom(c->name, "CIM_PolicyRule")) continue;
      for (const auto& i : c->enumerate(ctx)) {
        const std::string system = i.str("SystemName");
        out.push_back(link("Antecedent", computerSystemRef(system.empty() ? kAmtSystemName : system), "Dependent",
                           c->eprOf(i)));
      }
    }
    return out;
  }));
  // AMT keeps statistics only for heuristic packet filtering, which left it after release 11.6
  // (AMT_HeuristicPacketFilterStatistics, amt_service_settings.cpp), and runs no CIM_ConcreteJob: every method is
  // done when it answers. These associations are answered, and empty.
  r.add(association("CIM_ElementStatisticalData", "ManagedElement", "Stats",
                    [](CimContext&) { return std::vector<Instance>{}; }));
  r.add(association("CIM_OwningJobElement", "OwningElement", "OwnedElement",
                    [](CimContext&) { return std::vector<Instance>{}; }));

  // WS-Eventing subscriptions (event_subscriptions.cpp) are this service's; AMT creates no CIM_IndicationFilter.
  ClassDef indications{.name = "CIM_IndicationService", .schema = Schema::Cim, .keys = kServiceKeys};
  indications.properties = {P("CreationClassName"), P("DeliveryRetryAttempts", T::UInt16), P("ElementName"),
                            P("EnabledState", T::UInt16), P("FilterCreationEnabled", T::Boolean), P("Name"),
                            P("RequestedState", T::UInt16), P("SubscriptionRemovalAction", T::UInt16),
                            P("SystemCreationClassName"), P("SystemName")};
  indications.enumerate = [](CimContext& ctx) {
    Instance i;
    setServiceKeys(i, "CIM_IndicationService", kIndicationServiceName)
        .setNum("DeliveryRetryAttempts", 3)
        .set("ElementName", kIndicationServiceName)
        .setNum("EnabledState", ctx.events ? 2 : 3)
        .setBool("FilterCreationEnabled", false)
        .setNum("RequestedState", 12)
        .setNum("SubscriptionRemovalAction", 2);  // Remove
    return std::vector<Instance>{i};
  };
  r.add(std::move(indications));

  // The management domain AMT's two systems belong to.
  ClassDef domain{.name = "CIM_AdminDomain", .schema = Schema::Cim, .keys = {"CreationClassName", "Name"}};
  domain.properties = {P("CreationClassName"), P("ElementName"), P("Name"), P("NameFormat")};
  domain.enumerate = [](CimContext&) {
    Instance i;
    i.set("CreationClassName", "CIM_AdminDomain")
        .set("ElementName", "Intel(r) AMT Admin Domain")
        .set("Name", "Intel(r) AMT Admin Domain")
        .set("NameFormat", "Other");
    return std::vector<Instance>{i};
  };
  r.add(std::move(domain));
}

}  // namespace mesim::wsman::cim
