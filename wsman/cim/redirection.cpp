// Redirection (spec/wsman.md §3.4): AMT_RedirectionService (SOL/IDER enable, RequestStateChange, TerminateSession),
// CIM_KVMRedirectionSAP (RequestStateChange) and IPS_KVMRedirectionSettingData (Put, TerminateSession).
#include <cctype>
#include <optional>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {

namespace {
// IPS_KVMRedirectionSettingData.RFBPassword (features.md §1.4): exactly 8 characters mixing upper case, lower case,
// a digit and a special character, none of `"`, `,` or `:`.
std::optional<std::string> rfbPasswordProblem(const std::string& p) {
  if (p.size() != 8) return "RFBPassword must have 8 characters.";
  bool upper = false, lower = false, digit = false, special = false;
  for (unsigned char c : p) {
    if (c < 0x21 || c > 0x7E || c == '"' || c == ',' || c == ':')
      return "RFBPassword may not contain spaces, controls, '\"', ',' or ':'.";
    upper |= std::isupper(c) != 0;
    lower |= std::islower(c) != 0;
    digit |= std::isdigit(c) != 0;
    special |= std::isalnum(c) == 0;
  }
  if (!upper || !lower || !digit || !special)
    return "RFBPassword must mix upper case, lower case, a digit and a special character.";
  return std::nullopt;
}
}  // namespace
namespace {

using T = PropType;
constexpr const char* kRedirName = "Intel(r) AMT Redirection Service";
constexpr const char* kKvmName = "KVM Redirection Service Access Point";
constexpr const char* kKvmSettingsId = "Intel(r) KVM Redirection Settings";

MethodResult setState(CimContext& ctx, bool valid, const std::function<void(platform::PlatformState&)>& change) {
  if (!valid) return MethodResult::status(status::kInvalidParameter);
  return MethodResult::status(ctx.platform.update(change) == platform::ChangeResult::Ok ? 0 : status::kInternalError);
}

// TerminateSession's return values, as Intel LMS reads them (AMTRedirectionServiceWSManClient): 2 invalid
// parameter, 3 invalid state = no such session open.
constexpr std::uint32_t kTerminateInvalidParameter = 2;
constexpr std::uint32_t kTerminateNoSession = 3;

MethodResult terminateSessionsOf(CimContext& ctx, RedirectionSessionKind kind) {
  const std::size_t closed = ctx.terminateSessions ? (*ctx.terminateSessions)(kind) : 0;
  return MethodResult::status(closed ? status::kSuccess : kTerminateNoSession);
}

// SessionType 0 IDE-R, 1 SOL.
MethodResult terminateRedirection(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t type = 0;
  if (!argUint(in, "SessionType", type) || type > 1) return MethodResult::status(kTerminateInvalidParameter);
  return terminateSessionsOf(ctx, type == 0 ? RedirectionSessionKind::Ider : RedirectionSessionKind::Sol);
}

}  // namespace

void registerRedirection(ClassRegistry& r) {
  ClassDef redir{.name = "AMT_RedirectionService", .schema = Schema::Amt, .keys = kServiceKeys};
  redir.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16),
                      W("ListenerEnabled", T::Boolean), P("Name"), P("SystemCreationClassName"), P("SystemName")};
  // 32768 none, +1 IDER, +2 SOL.
  redir.methods = {{"RequestStateChange", {In("RequestedState", T::UInt16)}, {},
                    [](CimContext& ctx, const Instance&, const Arguments& in) {
                      std::uint64_t s = 0;
                      bool ok = argUint(in, "RequestedState", s) && s >= 32768 && s <= 32771;
                      return setState(ctx, ok, [&](platform::PlatformState& st) {
                        st.redirection.enabledState = static_cast<std::uint32_t>(s);
                        st.features.iderEnabled = s & 1;
                        st.features.solEnabled = s & 2;
                      });
                    }},
                   {"TerminateSession", {In("SessionType", T::UInt32)}, {}, terminateRedirection}};
  redir.enumerate = [](CimContext& ctx) {
    const auto& rs = ctx.platform.state().redirection;
    Instance i;
    setServiceKeys(i, "AMT_RedirectionService", kRedirName)
        .set("ElementName", kRedirName)
        .setNum("EnabledState", rs.enabledState)
        .setBool("ListenerEnabled", rs.listenerEnabled);
    return std::vector<Instance>{i};
  };
  redir.put = [](CimContext& ctx, const Instance&, const Arguments& in) -> ChangeFault {
    bool enabled = false;
    if (!argBool(in, "ListenerEnabled", enabled)) return std::nullopt;
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.redirection.listenerEnabled = enabled; }));
  };
  r.add(std::move(redir));

  ClassDef kvm{.name = "CIM_KVMRedirectionSAP", .schema = Schema::Cim, .keys = kServiceKeys};
  kvm.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("KVMProtocol", T::UInt16),
                    P("Name"), P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
  // 2 enable, 3 disable (6 = enabled but offline is reported, not requested).
  kvm.methods = {{"RequestStateChange", {In("RequestedState", T::UInt16), In("TimeoutPeriod", T::DateTime)}, {},
                  [](CimContext& ctx, const Instance&, const Arguments& in) {
                    std::uint64_t s = 0;
                    bool ok = argUint(in, "RequestedState", s) && (s == 2 || s == 3);
                    return setState(ctx, ok, [&](platform::PlatformState& st) {
                      st.redirection.kvmEnabledState = static_cast<std::uint32_t>(s == 2 ? 6 : 3);
                      st.redirection.kvmRequestedState = static_cast<std::uint32_t>(s);
                      st.features.kvmEnabled = s == 2;
                    });
                  }}};
  kvm.enumerate = [](CimContext& ctx) {
    const auto& rs = ctx.platform.state().redirection;
    Instance i;
    i.set("CreationClassName", "CIM_KVMRedirectionSAP")
        .set("ElementName", kKvmName)
        .setNum("EnabledState", rs.kvmEnabledState)
        .setNum("KVMProtocol", 4)
        .set("Name", kKvmName)
        .setNum("RequestedState", rs.kvmRequestedState)
        .set("SystemCreationClassName", "CIM_ComputerSystem")
        .set("SystemName", "ManagedSystem");
    return std::vector<Instance>{i};
  };
  r.add(std::move(kvm));

  ClassDef settings{.name = "IPS_KVMRedirectionSettingData", .schema = Schema::Ips, .keys = {"InstanceID"}};
  settings.properties = {W("DefaultScreen", T::UInt8), P("ElementName"), P("EnabledByMEBx", T::Boolean), P("InstanceID"),
                         W("Is5900PortEnabled", T::Boolean), W("OptInPolicy", T::Boolean), W("RFBPassword"),
                         W("SessionTimeout", T::UInt16)};
  settings.methods = {{"TerminateSession", {}, {}, [](CimContext& ctx, const Instance&, const Arguments&) {
                         return terminateSessionsOf(ctx, RedirectionSessionKind::Kvm);
                       }}};
  settings.enumerate = [](CimContext& ctx) {
    const auto& rs = ctx.platform.state().redirection;
    Instance i;
    i.setNum("DefaultScreen", rs.defaultScreen)
        .set("ElementName", kKvmSettingsId)
        .setBool("EnabledByMEBx", true)
        .set("InstanceID", kKvmSettingsId)
        .setBool("Is5900PortEnabled", rs.is5900PortEnabled)
        .setBool("OptInPolicy", rs.optInPolicy)
        .setNum("SessionTimeout", rs.sessionTimeout);
    return std::vector<Instance>{i};
  };
  settings.put = [](CimContext& ctx, const Instance&, const Arguments& in) -> ChangeFault {
    std::string rfb;
    const bool hasRfb = argString(in, "RFBPassword", rfb);
    if (hasRfb) {
      if (auto why = rfbPasswordProblem(rfb)) return invalidParameter(*why);
    }
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      bool b = false;
      std::uint64_t n = 0;
      if (argBool(in, "Is5900PortEnabled", b)) s.redirection.is5900PortEnabled = b;
      if (hasRfb) s.redirection.rfbPassword = rfb;
      if (argBool(in, "OptInPolicy", b)) s.redirection.optInPolicy = b;
      if (argUint(in, "SessionTimeout", n)) s.redirection.sessionTimeout = static_cast<std::uint32_t>(n);
      if (argUint(in, "DefaultScreen", n)) s.redirection.defaultScreen = static_cast<std::uint32_t>(n);
    }));
  };
  r.add(std::move(settings));
}

}  // namespace mesim::wsman::cim
