// Remote access / CIRA (spec/wsman.md §3.1): AMT_RemoteAccessService (AddMpServer,
// AddRemoteAccessPolicyRule), AMT_ManagementPresenceRemoteSAP and AMT_RemoteAccessPolicyRule (Delete),
// AMT_UserInitiatedConnectionService (RequestStateChange).
#include <algorithm>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kRasName = "Intel(r) AMT Remote Access Service";
constexpr const char* kSapClass = "AMT_ManagementPresenceRemoteSAP";
constexpr const char* kRuleClass = "AMT_RemoteAccessPolicyRule";
constexpr std::size_t kMaxServers = 4;

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
  argString(in, "CN", m.commonName);
  if (ctx.platform.state().mpsServers.size() >= kMaxServers) return MethodResult::status(status::kMaxLimitReached);
  for (const auto& s : ctx.platform.state().mpsServers)
    if (s.accessInfo == m.accessInfo && s.port == port) return MethodResult::status(status::kDuplicate);
  m.infoFormat = static_cast<std::uint32_t>(format);
  m.port = static_cast<std::uint32_t>(port);
  m.authMethod = static_cast<std::uint32_t>(auth);
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    std::uint32_t n = 0;
    for (bool taken = true; taken; ++n) {
      m.name = "Intel(r) AMT:Management Presence Server " + std::to_string(n);
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
  auto servers = in.find("MpServer");
  if (servers == in.end() || servers->second.refs.empty()) return MethodResult::status(status::kInvalidParameter);
  for (const auto& ref : servers->second.refs) {
    const auto* name = ref.find("Name");
    const auto& known = ctx.platform.state().mpsServers;
    if (!name || std::none_of(known.begin(), known.end(), [&](const auto& m) { return m.name == name->value; }))
      return MethodResult::status(status::kNotFound);
    rule.mpsNames.push_back(name->value);
  }
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
                  addPolicyRule}};
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
  rule.properties = {P("CreationClassName"), P("ElementName"), P("ExtendedData", T::Base64), P("PolicyRuleName"),
                     P("SystemCreationClassName"), P("SystemName"), P("Trigger", T::UInt16), P("TunnelLifeTime", T::UInt32)};
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
  r.add(std::move(rule));

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
}

}  // namespace mesim::wsman::cim
