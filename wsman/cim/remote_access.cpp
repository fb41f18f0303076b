// Remote access / CIRA (spec/wsman.md §3.1, apf.md §3): AMT_RemoteAccessService (AddMpServer,
// AddRemoteAccessPolicyRule), AMT_ManagementPresenceRemoteSAP (Delete), AMT_MPSUsernamePassword (Put),
// AMT_RemoteAccessCredentialContext, AMT_RemoteAccessPolicyRule (Put, Delete), AMT_RemoteAccessPolicyAppliesToMPS
// (Create, Put, Delete), AMT_UserInitiatedConnectionService (RequestStateChange). The CIRA side reads the same
// configuration through platform::ciraPolicies (firmware/platform/remote_access_config.h).
#include <algorithm>

#include "firmware/platform/remote_access_config.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kRasName = "Intel(r) AMT Remote Access Service";
constexpr const char* kSapClass = "AMT_ManagementPresenceRemoteSAP";
constexpr const char* kRuleClass = "AMT_RemoteAccessPolicyRule";
constexpr const char* kCredentialClass = "AMT_MPSUsernamePassword";
constexpr const char* kAppliesClass = "AMT_RemoteAccessPolicyAppliesToMPS";
constexpr const char* kServerPrefix = "Intel(r) AMT:Management Presence Server ";
constexpr std::size_t kMaxServers = 4;
// A rule names a primary and a secondary server for each reach (outside and inside the enterprise).
constexpr std::size_t kMaxServersPerPolicy = 2;
// One rule per trigger: user initiated, alert, periodic.
constexpr std::size_t kMaxPolicies = 3;
// IPS_HTTPProxyService's access points (ips_http_proxy.cpp enforces the same number).
constexpr std::size_t kMaxProxyEntryPoints = 8;
// AMT_MPSUsernamePassword's RemoteID and Secret (the MPS login of the APF USERAUTH request).
constexpr std::size_t kMaxCredentialLength = 32;

// "Intel(r) AMT:MPS Username Password N" for server "...Management Presence Server N".
std::string credentialIdOf(const std::string& serverName) {
  return "Intel(r) AMT:MPS Username Password " + serverName.substr(std::string(kServerPrefix).size());
}

// The server a reference to an AMT_ManagementPresenceRemoteSAP names, if it exists.
const platform::MpsServer* referencedServer(const platform::PlatformState& s, const EndpointReference* ref) {
  if (!ref || ref->resourceUri != resourceUri(Schema::Amt, kSapClass)) return nullptr;
  const soap::Selector* name = ref->find("Name");
  if (!name) return nullptr;
  for (const auto& m : s.mpsServers)
    if (m.name == name->value) return &m;
  return nullptr;
}

platform::RemoteAccessPolicyRule* referencedRule(platform::PlatformState& s, const EndpointReference* ref) {
  if (!ref || ref->resourceUri != resourceUri(Schema::Amt, kRuleClass)) return nullptr;
  const soap::Selector* name = ref->find("PolicyRuleName");
  if (!name) return nullptr;
  for (auto& p : s.remoteAccessPolicies)
    if (p.policyRuleName == name->value) return &p;
  return nullptr;
}

// ExtendedData of a periodic rule: every N seconds (8 bytes) or daily at a time (12 bytes), remote_access_config.h.
bool validPeriodicData(const std::string& base64) { return platform::parsePeriodicSchedule(base64).has_value(); }

EndpointReference ruleRef(const std::string& name) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Amt, kRuleClass);
  e.selectors = {soap::textSelector("CreationClassName", kRuleClass), soap::textSelector("PolicyRuleName", name),
                 soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                 soap::textSelector("SystemName", kAmtSystemName)};
  return e;
}

MethodResult addMpServer(CimContext& ctx, const Instance&, const Arguments& in) {
  platform::MpsServer m;
  std::uint64_t format = 0, port = 0, auth = 0;
  if (!argString(in, "AccessInfo", m.accessInfo) || m.accessInfo.empty() || m.accessInfo.size() > 255 ||
      !argUint(in, "InfoFormat", format) || (format != 3 && format != 4 && format != 201) || !argUint(in, "Port", port) ||
      port == 0 || port > 65535 || !argUint(in, "AuthMethod", auth) || (auth != 1 && auth != 2))
    return MethodResult::status(status::kInvalidParameter);
  argString(in, "Username", m.username);
  argString(in, "Password", m.password);
  argString(in, "CN", m.commonName);
  // Username/password authentication needs both; mutual TLS a certificate in AMT's store.
  if (m.username.size() > kMaxCredentialLength || m.password.size() > kMaxCredentialLength ||
      m.commonName.size() > 255 || (auth == 2 && (m.username.empty() || m.password.empty())))
    return MethodResult::status(status::kInvalidParameter);
  if (const EndpointReference* cert = argRef(in, "Certificate")) {
    const soap::Selector* id = cert->find("InstanceID");
    const auto& certs = ctx.platform.state().certificates;
    if (!id || std::none_of(certs.begin(), certs.end(), [&](const auto& c) { return c.instanceId == id->value; }))
      return MethodResult::status(status::kNotFound);
    m.certificateId = id->value;
  } else if (auth == 1) {
    return MethodResult::status(status::kInvalidParameter);
  }
  if (ctx.platform.state().mpsServers.size() >= kMaxServers) return MethodResult::status(status::kMaxLimitReached);
  for (const auto& s : ctx.platform.state().mpsServers)
    if (s.accessInfo == m.accessInfo && s.port == port) return MethodResult::status(status::kDuplicate);
  m.infoFormat = static_cast<std::uint32_t>(format);
  m.port = static_cast<std::uint32_t>(port);
  m.authMethod = static_cast<std::uint32_t>(auth);
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    std::uint32_t n = 0;
    for (bool taken = true; taken; ++n) {
      m.name = kServerPrefix + std::to_string(n);
      taken = std::any_of(s.mpsServers.begin(), s.mpsServers.end(), [&](const auto& x) { return x.name == m.name; });
    }
    s.mpsServers.push_back(m);
  });
  if (result != platform::ChangeResult::Ok) return MethodResult::status(status::kInternalError);
  MethodResult r;
  r.outputs["MpServer"] = Value::ref(serviceRef(Schema::Amt, kSapClass, m.name));
  return r;
}

// Trigger: 0 user initiated, 1 alert, 2 periodic.
MethodResult addPolicyRule(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t trigger = 0, lifetime = 0;
  if (!argUint(in, "Trigger", trigger) || trigger > 2 || !argUint(in, "TunnelLifeTime", lifetime))
    return MethodResult::status(status::kInvalidParameter);
  platform::RemoteAccessPolicyRule rule;
  rule.trigger = static_cast<std::uint32_t>(trigger);
  rule.tunnelLifeTime = static_cast<std::uint32_t>(lifetime);
  argString(in, "ExtendedData", rule.extendedData);
  if (trigger == 2 && !validPeriodicData(rule.extendedData)) return MethodResult::status(status::kInvalidParameter);
  // MpServer: servers reached from outside the enterprise; InternalMpServer: from inside (MpsType 0 / 1, both 2).
  const auto& state = ctx.platform.state();
  for (const auto& [argument, type] : {std::pair{"MpServer", 0u}, std::pair{"InternalMpServer", 1u}}) {
    auto servers = in.find(argument);
    if (servers == in.end()) continue;
    if (servers->second.refs.size() > kMaxServersPerPolicy) return MethodResult::status(status::kMaxLimitReached);
    for (const auto& ref : servers->second.refs) {
      const platform::MpsServer* server = referencedServer(state, &ref);
      if (!server) return MethodResult::status(status::kNotFound);
      auto at = std::find(rule.mpsNames.begin(), rule.mpsNames.end(), server->name);
      if (at == rule.mpsNames.end()) {
        rule.mpsNames.push_back(server->name);
        rule.mpsTypes.push_back(type);
      } else {
        rule.mpsTypes[static_cast<std::size_t>(at - rule.mpsNames.begin())] = 2;
      }
    }
  }
  if (rule.mpsNames.empty()) return MethodResult::status(status::kInvalidParameter);
  static const char* const kNames[] = {"User Initiated", "Alert", "Periodic"};
  rule.policyRuleName = kNames[trigger];
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    std::erase_if(s.remoteAccessPolicies, [&](const auto& p) { return p.policyRuleName == rule.policyRuleName; });
    s.remoteAccessPolicies.push_back(rule);
  });
  if (result != platform::ChangeResult::Ok) return MethodResult::status(status::kInternalError);
  MethodResult r;
  r.outputs["PolicyRule"] = Value::ref(ruleRef(rule.policyRuleName));
  return r;
}

}  // namespace

void registerRemoteAccess(ClassRegistry& r) {
  ClassDef ras{.name = "AMT_RemoteAccessService", .schema = Schema::Amt, .keys = kServiceKeys};
  ras.properties = {P("CreationClassName"), P("ElementName"), P("Name"), P("SystemCreationClassName"), P("SystemName")};
  ras.methods = {{"AddMpServer",
                  {In("AccessInfo"), In("InfoFormat", T::UInt8), In("Port", T::UInt16), In("AuthMethod", T::UInt8),
                   In("Certificate", T::Reference), In("Username"), In("Password"), In("CN")},
                  {Out("MpServer", T::Reference)},
                  addMpServer},
                 {"AddRemoteAccessPolicyRule",
                  {In("Trigger", T::UInt16), In("TunnelLifeTime", T::UInt32), In("ExtendedData", T::Base64),
                   In("MpServer", T::Reference, true), In("InternalMpServer", T::Reference, true)},
                  {Out("PolicyRule", T::Reference)},
                  addPolicyRule},
                 // Closes the CIRA tunnel the firmware holds and withdraws a user-initiated request, as the
                 // AMTHI CloseUserInitiatedConnection does; nothing open is not an error (closing is idempotent).
                 {"CloseRemoteAccessConnection", {}, {},
                  [](CimContext& ctx, const Instance&, const Arguments&) {
                    auto result = ctx.platform.update([](platform::PlatformState& s) {
                      s.remoteAccess.userInitiatedConnectionRequested = false;
                      s.remoteAccess.connectionStatus = 0;
                      s.remoteAccess.mpsHostname.clear();
                    });
                    return MethodResult::status(result == platform::ChangeResult::Ok ? 0 : status::kInternalError);
                  }}};
  ras.enumerate = [](CimContext&) {
    Instance i;
    setServiceKeys(i, "AMT_RemoteAccessService", kRasName).set("ElementName", kRasName);
    return std::vector<Instance>{i};
  };
  r.add(std::move(ras));

  ClassDef sap{.name = kSapClass, .schema = Schema::Amt, .keys = kServiceKeys};
  sap.properties = {P("AccessInfo"), P("CN"), P("CreationClassName"), P("ElementName"), P("InfoFormat", T::UInt16),
                    P("Name"), P("Port", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
  sap.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& m : ctx.platform.state().mpsServers) {
      Instance i;
      setServiceKeys(i, kSapClass, m.name)
          .set("AccessInfo", m.accessInfo)
          .set("ElementName", "Intel(r) AMT:Management Presence Server")
          .setNum("InfoFormat", m.infoFormat)
          .setNum("Port", m.port);
      if (!m.commonName.empty()) i.set("CN", m.commonName);
      out.push_back(std::move(i));
    }
    return out;
  };
  sap.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string name = target.str("Name");
    for (const auto& p : ctx.platform.state().remoteAccessPolicies)
      if (std::find(p.mpsNames.begin(), p.mpsNames.end(), name) != p.mpsNames.end())
        return invalidParameter("A remote access policy still uses this server.");
    return changeFault(ctx.platform.update(
        [&](platform::PlatformState& s) { std::erase_if(s.mpsServers, [&](const auto& m) { return m.name == name; }); }));
  };
  r.add(std::move(sap));

  ClassDef rule{.name = kRuleClass, .schema = Schema::Amt,
                .keys = {"CreationClassName", "PolicyRuleName", "SystemCreationClassName", "SystemName"}};
  rule.properties = {P("CreationClassName"), P("ElementName"), W("ExtendedData", T::Base64), P("PolicyRuleName"),
                     P("SystemCreationClassName"), P("SystemName"), P("Trigger", T::UInt16), W("TunnelLifeTime", T::UInt32)};
  rule.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& p : ctx.platform.state().remoteAccessPolicies) {
      Instance i;
      i.set("CreationClassName", kRuleClass)
          .set("ElementName", p.policyRuleName)
          .set("ExtendedData", p.extendedData)
          .set("PolicyRuleName", p.policyRuleName)
          .set("SystemCreationClassName", "CIM_ComputerSystem")
          .set("SystemName", kAmtSystemName)
          .setNum("Trigger", p.trigger)
          .setNum("TunnelLifeTime", p.tunnelLifeTime);
      out.push_back(std::move(i));
    }
    return out;
  };
  rule.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string name = target.str("PolicyRuleName");
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      std::erase_if(s.remoteAccessPolicies, [&](const auto& p) { return p.policyRuleName == name; });
    }));
  };
  rule.put = [](CimContext& ctx, const Instance& current, const Arguments& in) -> ChangeFault {
    const std::string name = current.str("PolicyRuleName");
    std::uint64_t lifetime = 0;
    std::string extended;
    const bool hasLifetime = argUint(in, "TunnelLifeTime", lifetime);
    const bool hasExtended = argString(in, "ExtendedData", extended);
    if (hasLifetime && lifetime > 0xFFFFFFFFu) return invalidParameter("TunnelLifeTime is a 32-bit number of seconds.");
    if (hasExtended && current.str("Trigger") == "2" && !validPeriodicData(extended))
      return invalidParameter(
          "ExtendedData of a periodic rule is big-endian 32-bit numbers: 0 and a period in seconds, or 1, an hour "
          "(0-23) and a minute (0-59) for a daily call.");
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      for (auto& p : s.remoteAccessPolicies) {
        if (p.policyRuleName != name) continue;
        if (hasLifetime) p.tunnelLifeTime = static_cast<std::uint32_t>(lifetime);
        if (hasExtended) p.extendedData = extended;
      }
    }));
  };
  r.add(std::move(rule));

  ClassDef credential{.name = kCredentialClass, .schema = Schema::Amt, .keys = {"InstanceID"}};
  // Secret is write-only: accepted by Put, never shown.
  credential.properties = {P("ElementName"), P("InstanceID"), W("RemoteID"), W("Secret")};
  credential.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& m : ctx.platform.state().mpsServers) {
      if (m.authMethod != 2) continue;
      Instance i;
      i.set("ElementName", "Intel(r) AMT:MPS Username Password").set("InstanceID", credentialIdOf(m.name))
          .set("RemoteID", m.username);
      out.push_back(std::move(i));
    }
    return out;
  };
  credential.put = [](CimContext& ctx, const Instance& current, const Arguments& in) -> ChangeFault {
    const std::string id = current.str("InstanceID");
    std::string user, secret;
    const bool hasUser = argString(in, "RemoteID", user), hasSecret = argString(in, "Secret", secret);
    if ((hasUser && (user.empty() || user.size() > kMaxCredentialLength)) ||
        (hasSecret && (secret.empty() || secret.size() > kMaxCredentialLength)))
      return invalidParameter("RemoteID and Secret have 1 to 32 characters.");
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      for (auto& m : s.mpsServers) {
        if (credentialIdOf(m.name) != id) continue;
        if (hasUser) m.username = user;
        if (hasSecret) m.password = secret;
      }
    }));
  };
  r.add(std::move(credential));

  // The credential each server logs on with: its username/password, or the certificate its chain must end at.
  ClassDef credentialContext{.name = "AMT_RemoteAccessCredentialContext", .schema = Schema::Amt,
                             .base = "CIM_CredentialContext", .keys = {"ElementInContext", "ElementProvidingContext"}};
  credentialContext.properties = {P("ElementInContext", T::Reference), P("ElementProvidingContext", T::Reference)};
  credentialContext.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& m : ctx.platform.state().mpsServers) {
      auto add = [&](EndpointReference credentialRef) {
        Instance i;
        i.setRef("ElementInContext", std::move(credentialRef))
            .setRef("ElementProvidingContext", serviceRef(Schema::Amt, kSapClass, m.name));
        out.push_back(std::move(i));
      };
      if (m.authMethod == 2) add(instanceIdRef(Schema::Amt, kCredentialClass, credentialIdOf(m.name)));
      if (!m.certificateId.empty()) add(instanceIdRef(Schema::Amt, "AMT_PublicKeyCertificate", m.certificateId));
    }
    return out;
  };
  r.add(std::move(credentialContext));

  ClassDef applies{.name = kAppliesClass, .schema = Schema::Amt, .keys = {"ManagedElement", "PolicySet"}};
  applies.properties = {P("ManagedElement", T::Reference), W("MpsType", T::UInt16), W("OrderOfAccess", T::UInt16),
                        P("PolicySet", T::Reference)};
  applies.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& p : ctx.platform.state().remoteAccessPolicies) {
      for (std::size_t k = 0; k < p.mpsNames.size(); ++k) {
        Instance i;
        i.setRef("ManagedElement", serviceRef(Schema::Amt, kSapClass, p.mpsNames[k]))
            .setNum("MpsType", k < p.mpsTypes.size() ? p.mpsTypes[k] : 0)
            .setNum("OrderOfAccess", k)
            .setRef("PolicySet", ruleRef(p.policyRuleName));
        out.push_back(std::move(i));
      }
    }
    return out;
  };
  // Moves server `name` of `rule` to position `order` (clamped) with `type`.
  static constexpr auto place = [](platform::RemoteAccessPolicyRule& rule, const std::string& name, std::uint64_t order,
                                   std::uint32_t type) {
    rule.mpsTypes.resize(rule.mpsNames.size(), 0);
    if (auto at = std::find(rule.mpsNames.begin(), rule.mpsNames.end(), name); at != rule.mpsNames.end()) {
      rule.mpsTypes.erase(rule.mpsTypes.begin() + (at - rule.mpsNames.begin()));
      rule.mpsNames.erase(at);
    }
    const auto k = static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(order, rule.mpsNames.size()));
    rule.mpsNames.insert(rule.mpsNames.begin() + k, name);
    rule.mpsTypes.insert(rule.mpsTypes.begin() + k, type);
  };
  applies.create = [](CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created) -> ChangeFault {
    const auto& state = ctx.platform.state();
    const platform::MpsServer* server = referencedServer(state, argRef(body, "ManagedElement"));
    if (!server) return invalidParameter("ManagedElement must reference an AMT_ManagementPresenceRemoteSAP.");
    std::uint64_t order = 0, type = 0;
    argUint(body, "OrderOfAccess", order);
    if (argUint(body, "MpsType", type) && type > 2) return invalidParameter("MpsType is 0, 1 or 2.");
    // A copy: `server` points into the state an update replaces.
    const std::string serverName = server->name;
    std::string ruleName;
    bool duplicate = false;
    auto result = ctx.platform.update([&](platform::PlatformState& s) {
      platform::RemoteAccessPolicyRule* rule = referencedRule(s, argRef(body, "PolicySet"));
      if (!rule) return;
      ruleName = rule->policyRuleName;
      duplicate = std::find(rule->mpsNames.begin(), rule->mpsNames.end(), serverName) != rule->mpsNames.end();
      if (!duplicate) place(*rule, serverName, order, static_cast<std::uint32_t>(type));
    });
    if (ruleName.empty()) return invalidParameter("PolicySet must reference an AMT_RemoteAccessPolicyRule.");
    if (duplicate) return soap::Fault{soap::FaultCode::AlreadyExists, {}, "The rule already uses this server."};
    if (auto f = changeFault(result)) return f;
    created = {soap::eprSelector("ManagedElement", serviceRef(Schema::Amt, kSapClass, serverName)),
               soap::eprSelector("PolicySet", ruleRef(ruleName))};
    return std::nullopt;
  };
  applies.put = [](CimContext& ctx, const Instance& current, const Arguments& in) -> ChangeFault {
    const Value* element = current.get("ManagedElement");
    const Value* policy = current.get("PolicySet");
    const std::string name = element->refs.front().find("Name")->value;
    std::uint64_t order = std::stoull(current.str("OrderOfAccess")), type = std::stoull(current.str("MpsType"));
    argUint(in, "OrderOfAccess", order);
    if (argUint(in, "MpsType", type) && type > 2) return invalidParameter("MpsType is 0, 1 or 2.");
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      if (platform::RemoteAccessPolicyRule* rule = referencedRule(s, &policy->refs.front()))
        place(*rule, name, order, static_cast<std::uint32_t>(type));
    }));
  };
  applies.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string name = target.get("ManagedElement")->refs.front().find("Name")->value;
    const EndpointReference policy = target.get("PolicySet")->refs.front();
    for (const auto& p : ctx.platform.state().remoteAccessPolicies)
      if (p.policyRuleName == policy.find("PolicyRuleName")->value && p.mpsNames.size() == 1)
        return invalidParameter("A rule needs a server: delete the rule instead.");
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      platform::RemoteAccessPolicyRule* rule = referencedRule(s, &policy);
      if (!rule) return;
      rule->mpsTypes.resize(rule->mpsNames.size(), 0);
      for (std::size_t k = rule->mpsNames.size(); k-- > 0;)
        if (rule->mpsNames[k] == name) {
          rule->mpsNames.erase(rule->mpsNames.begin() + static_cast<std::ptrdiff_t>(k));
          rule->mpsTypes.erase(rule->mpsTypes.begin() + static_cast<std::ptrdiff_t>(k));
        }
    }));
  };
  r.add(std::move(applies));

  constexpr const char* kUicName = "Intel(r) AMT User Initiated Connection Service";
  ClassDef uic{.name = "AMT_UserInitiatedConnectionService", .schema = Schema::Amt, .keys = kServiceKeys};
  uic.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
                    P("SystemCreationClassName"), P("SystemName")};
  // 32768 all disabled, 32769 BIOS, 32770 OS, 32771 BIOS and OS.
  uic.methods = {{"RequestStateChange", {In("RequestedState", T::UInt16)}, {},
                  [](CimContext& ctx, const Instance&, const Arguments& in) {
                    std::uint64_t s = 0;
                    if (!argUint(in, "RequestedState", s) || s < 32768 || s > 32771)
                      return MethodResult::status(status::kInvalidParameter);
                    auto result = ctx.platform.update(
                        [&](platform::PlatformState& st) { st.userInitiatedConnectionState = static_cast<std::uint32_t>(s); });
                    return MethodResult::status(result == platform::ChangeResult::Ok ? 0 : status::kInternalError);
                  }}};
  uic.enumerate = [](CimContext& ctx) {
    Instance i;
    setServiceKeys(i, "AMT_UserInitiatedConnectionService", kUicName)
        .set("ElementName", kUicName)
        .setNum("EnabledState", ctx.platform.state().userInitiatedConnectionState);
    return std::vector<Instance>{i};
  };
  r.add(std::move(uic));

  // The limits AddMpServer, AddRemoteAccessPolicyRule and AddProxyAccessPoint enforce.
  ClassDef capabilities{.name = "AMT_RemoteAccessCapabilities", .schema = Schema::Amt, .keys = {"InstanceID"}};
  capabilities.properties = {P("ElementName"), P("InstanceID"), P("MaxMpsPerPolicy", T::UInt32),
                             P("MaxTotalMpServers", T::UInt32), P("MaxTotalPolicies", T::UInt32),
                             P("MaxTotalProxyEntryPoints", T::UInt32)};
  capabilities.enumerate = [](CimContext&) {
    Instance i;
    i.set("ElementName", "Intel(r) AMT Remote Access Capabilities").set("InstanceID", "Intel(r) AMT Remote Access Capabilities")
        .setNum("MaxMpsPerPolicy", kMaxServersPerPolicy).setNum("MaxTotalMpServers", kMaxServers)
        .setNum("MaxTotalPolicies", kMaxPolicies).setNum("MaxTotalProxyEntryPoints", kMaxProxyEntryPoints);
    return std::vector<Instance>{i};
  };
  r.add(std::move(capabilities));

  // Which remote access points the firmware may use: every MPS and HTTP proxy, available to AMT itself, the MPSes
  // in the order they were added (the first is the default).
  ClassDef available{.name = "CIM_RemoteAccessAvailableToElement", .schema = Schema::Cim, .keys = {"Antecedent", "Dependent"}};
  available.properties = {P("Antecedent", T::Reference), P("Dependent", T::Reference), P("IsDefault", T::Boolean),
                          P("OrderOfAccess", T::UInt16)};
  available.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const auto& s = ctx.platform.state();
    std::uint64_t order = 0;
    for (const auto& m : s.mpsServers) {
      Instance i;
      i.setRef("Antecedent", serviceRef(Schema::Amt, kSapClass, m.name)).setRef("Dependent", computerSystemRef(kAmtSystemName))
          .setBool("IsDefault", order == 0).setNum("OrderOfAccess", order);
      ++order;
      out.push_back(std::move(i));
    }
    for (const auto& p : s.httpProxies) {
      Instance i;
      i.setRef("Antecedent", serviceRef(Schema::Ips, "IPS_HTTPProxyAccessPoint", p.name))
          .setRef("Dependent", computerSystemRef(kAmtSystemName)).setBool("IsDefault", false).setNum("OrderOfAccess", 0);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(available));
}

}  // namespace mesim::wsman::cim
