// Services that each hold a few settings (docs/object-model.md): AMT_WebUIService, AMT_KerberosSettingData,
// AMT_SystemPowerScheme, IPS_SecIOService, IPS_ScreenSettingData, CIM_RedirectionService and
// AMT_EndpointAccessControlService (a feature AMT 16 no longer has). Their state is platform::ServiceSettings.
#include <array>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;

// CIM's RequestStateChange return values (CIM_EnabledLogicalElement): 0 done, 5 invalid parameter.
constexpr std::uint32_t kStateChangeInvalid = 5;

MethodResult changeState(CimContext& ctx, const Arguments& in, const std::function<void(platform::PlatformState&, bool)>& apply) {
  std::uint64_t requested = 0;
  if (!argUint(in, "RequestedState", requested) || (requested != 2 && requested != 3))
    return MethodResult::status(kStateChangeInvalid);
  auto result = ctx.platform.update([&](platform::PlatformState& s) { apply(s, requested == 2); });
  return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
}

std::vector<PropertyDef> serviceProperties() {
  return {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
          P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
}

Instance serviceInstance(const char* cls, const char* name, bool enabled) {
  Instance i;
  setServiceKeys(i, cls, name);
  i.set("ElementName", name).setNum("EnabledState", enabled ? 2 : 3).setNum("RequestedState", enabled ? 2 : 3);
  return i;
}

// AMT's power packages for a desktop platform (the AMTHI GetCurrentPowerPolicy strings): where the ME is powered.
struct PowerScheme {
  const char* instanceId;
  const char* description;
  std::array<std::uint8_t, 16> guid;
};
constexpr std::array<PowerScheme, 2> kPowerSchemes = {{
    {"Intel(r) AMT:Power Scheme 0", "Desktop: ON in S0",
     {0x39, 0x8e, 0x9c, 0x4e, 0x1b, 0x12, 0x43, 0x4b, 0x93, 0x9b, 0x07, 0x5e, 0x41, 0x97, 0x01, 0x46}},
    {"Intel(r) AMT:Power Scheme 1", "Desktop: ON in S0, ME Wake in S3, S4-5",
     {0x67, 0x74, 0x41, 0x59, 0x98, 0xd0, 0x4a, 0x04, 0x81, 0x28, 0x03, 0x5a, 0x3c, 0x56, 0x4d, 0x19}},
}};

void registerWebUi(ClassRegistry& r) {
  constexpr const char* kName = "Intel(r) AMT Web UI Service";
  ClassDef c{.name = "AMT_WebUIService", .schema = Schema::Amt, .keys = kServiceKeys};
  c.properties = serviceProperties();
  c.methods = {{"RequestStateChange", {In("RequestedState", T::UInt16), In("TimeoutPeriod", T::DateTime)}, {},
                [](CimContext& ctx, const Instance&, const Arguments& in) {
                  return changeState(ctx, in, [](platform::PlatformState& s, bool on) { s.features.webUiEnabled = on; });
                }}};
  c.enumerate = [](CimContext& ctx) {
    return std::vector<Instance>{serviceInstance("AMT_WebUIService", kName, ctx.platform.state().features.webUiEnabled)};
  };
  r.add(std::move(c));
}

// Kerberos: AMT 16 still has the class; mesim has no KDC, so Kerberos is off and only the credential cache switch
// (a console's Set/GetCredentialCacheState) is state.
void registerKerberos(ClassRegistry& r) {
  constexpr const char* kId = "Intel (r) AMT: Kerberos Settings";
  ClassDef c{.name = "AMT_KerberosSettingData", .schema = Schema::Amt, .keys = {"InstanceID"}};
  c.properties = {A("ConfiguredEncryptionAlgorithms", T::UInt16), P("ElementName"), P("InstanceID"),
                  P("KeyVersion", T::UInt32), P("KrbEnabled", T::Boolean), P("MaximumClockTolerance", T::UInt32),
                  P("RealmName"), A("SupportedEncryptionAlgorithms", T::UInt16)};
  c.methods = {
      {"GetCredentialCacheState", {}, {Out("Enabled", T::Boolean)},
       [](CimContext& ctx, const Instance&, const Arguments&) {
         MethodResult out;
         out.outputs["Enabled"] = Value::boolean(ctx.platform.state().services.kerberosCredentialCache);
         return out;
       }},
      {"SetCredentialCacheState", {In("Enable", T::Boolean)}, {},
       [](CimContext& ctx, const Instance&, const Arguments& in) {
         bool enable = false;
         if (!argBool(in, "Enable", enable)) return MethodResult::status(status::kInvalidParameter);
         auto result = ctx.platform.update([&](platform::PlatformState& s) { s.services.kerberosCredentialCache = enable; });
         return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
       }},
  };
  c.enumerate = [](CimContext&) {
    Instance i;
    i.set("ConfiguredEncryptionAlgorithms", Value::numbers({1, 2}))  // AES128, AES256 (0 would be RC4)
        .set("ElementName", kId)
        .set("InstanceID", kId)
        .setNum("KeyVersion", 0)
        .setBool("KrbEnabled", false)
        .setNum("MaximumClockTolerance", 5)
        .set("RealmName", "")
        .set("SupportedEncryptionAlgorithms", Value::numbers({0, 1, 2}));
    return std::vector<Instance>{i};
  };
  r.add(std::move(c));
}

// The power package AMT runs in. SetPowerScheme on an instance makes it the host's power policy, the one AMTHI
// GetCurrentPowerPolicy reports.
void registerPowerScheme(ClassRegistry& r) {
  ClassDef c{.name = "AMT_SystemPowerScheme", .schema = Schema::Amt, .keys = {"InstanceID"}};
  c.properties = {P("Description"), P("ElementName"), P("InstanceID"), P("SchemeGUID")};
  c.methods = {{"SetPowerScheme", {}, {},
                [](CimContext& ctx, const Instance& target, const Arguments&) {
                  const std::string id = target.str("InstanceID");
                  for (const auto& scheme : kPowerSchemes)
                    if (id == scheme.instanceId) {
                      auto result = ctx.platform.update([&](platform::PlatformState& s) {
                        s.services.activePowerScheme = scheme.instanceId;
                        s.powerPolicy = scheme.description;
                      });
                      return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess
                                                                                       : status::kInternalError);
                    }
                  return MethodResult::status(status::kInvalidParameter);
                }}};
  c.enumerate = [](CimContext&) {
    std::vector<Instance> out;
    for (const auto& scheme : kPowerSchemes) {
      Instance i;
      i.set("Description", scheme.description)
          .set("ElementName", scheme.description)
          .set("InstanceID", scheme.instanceId)
          .set("SchemeGUID", base64Encode({scheme.guid.begin(), scheme.guid.end()}));
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(c));
}

// Secure I/O (AMT 11+: the consent code shown through the ME's own display path). Its enabled state is all a
// console changes; the screens are the KVM's (IPS_KVMRedirectionSettingData.DefaultScreen).
void registerSecureIo(ClassRegistry& r) {
  constexpr const char* kName = "Intel(r) AMT Secure IO Service";
  ClassDef c{.name = "IPS_SecIOService", .schema = Schema::Ips, .keys = kServiceKeys};
  c.properties = serviceProperties();
  c.properties.push_back(P("DefaultScreen", T::UInt8));
  c.properties.push_back(P("NumberOfScreens", T::UInt8));
  c.properties.push_back(P("RequestedLanguage", T::UInt16));
  c.methods = {{"RequestStateChange", {In("RequestedState", T::UInt16), In("TimeoutPeriod", T::DateTime)}, {},
                [](CimContext& ctx, const Instance&, const Arguments& in) {
                  return changeState(ctx, in, [](platform::PlatformState& s, bool on) { s.services.secureIoEnabled = on; });
                }}};
  c.enumerate = [](CimContext& ctx) {
    const auto& s = ctx.platform.state();
    Instance i = serviceInstance("IPS_SecIOService", kName, s.services.secureIoEnabled);
    i.setNum("DefaultScreen", s.redirection.defaultScreen).setNum("NumberOfScreens", 1).setNum("RequestedLanguage", 0);
    return std::vector<Instance>{i};
  };
  r.add(std::move(c));
}

// The host's screens as the KVM sees them: one, the simulated console.
void registerScreenSettings(ClassRegistry& r) {
  constexpr const char* kId = "Intel(r) Screen Settings";
  ClassDef c{.name = "IPS_ScreenSettingData", .schema = Schema::Ips, .keys = {"InstanceID"}};
  c.properties = {P("ElementName"), P("InstanceID"), A("IsActive", T::Boolean), P("PrimaryIndex", T::UInt8),
                  A("ResolutionX", T::UInt32), A("ResolutionY", T::UInt32), A("UpperLeftX", T::SInt32),
                  A("UpperLeftY", T::SInt32)};
  c.enumerate = [](CimContext& ctx) {
    Instance i;
    i.set("ElementName", kId)
        .set("InstanceID", kId)
        .set("IsActive", Value::list({"true"}))
        .setNum("PrimaryIndex", ctx.platform.state().redirection.defaultScreen)
        .set("ResolutionX", Value::numbers({720}))  // 80 columns of 9 pixels (docs/kvm.md)
        .set("ResolutionY", Value::numbers({400}))  // 25 rows of 16
        .set("UpperLeftX", Value::numbers({0}))
        .set("UpperLeftY", Value::numbers({0}));
    return std::vector<Instance>{i};
  };
  r.add(std::move(c));
}

// The service behind KVM redirection (DSP1076's CIM_RedirectionService of type KVM). Its state is the KVM SAP's:
// RequestStateChange here does what CIM_KVMRedirectionSAP.RequestStateChange does.
void registerKvmRedirectionService(ClassRegistry& r) {
  constexpr const char* kName = "Intel(r) AMT KVM Redirection Service";
  ClassDef c{.name = "CIM_RedirectionService", .schema = Schema::Cim, .keys = kServiceKeys};
  c.properties = serviceProperties();
  c.properties.push_back(P("MaxCurrentEnabledSAPs", T::UInt16));
  c.properties.push_back(A("RedirectionServiceType", T::UInt16));
  c.properties.push_back(P("SharingMode", T::UInt16));
  c.methods = {{"RequestStateChange", {In("RequestedState", T::UInt16), In("TimeoutPeriod", T::DateTime)}, {},
                [](CimContext& ctx, const Instance&, const Arguments& in) {
                  return changeState(ctx, in, [](platform::PlatformState& s, bool on) {
                    s.redirection.kvmEnabledState = on ? 6 : 3;
                    s.redirection.kvmRequestedState = on ? 2 : 3;
                    s.features.kvmEnabled = on;
                  });
                }}};
  c.enumerate = [](CimContext& ctx) {
    Instance i = serviceInstance("CIM_RedirectionService", kName, ctx.platform.state().features.kvmEnabled);
    i.setNum("MaxCurrentEnabledSAPs", 1)
        .set("RedirectionServiceType", Value::numbers({3}))  // 3 KVM
        .setNum("SharingMode", 2);                           // 2 exclusive: one viewer drives the host at a time
    return std::vector<Instance>{i};
  };
  r.add(std::move(c));
}

// Endpoint Access Control (802.1X posture reporting to a NAC server) left AMT before release 16: the class is
// still answered, disabled, so a full-state save passes, and its methods report the feature unsupported.
void registerEndpointAccessControl(ClassRegistry& r) {
  constexpr const char* kName = "Intel(r) AMT Endpoint Access Control Service";
  ClassDef c{.name = "AMT_EndpointAccessControlService", .schema = Schema::Amt, .keys = kServiceKeys};
  c.properties = serviceProperties();
  auto unsupported = [](CimContext&, const Instance&, const Arguments&) {
    return MethodResult::status(status::kUnsupported);
  };
  for (const char* m : {"GetEacOptions", "SetEacOptions", "GetPosture", "GetPostureHash", "UpdatePostureState",
                        "RequestStateChange"})
    c.methods.push_back({m, {}, {}, unsupported});
  c.enumerate = [](CimContext&) {
    return std::vector<Instance>{serviceInstance("AMT_EndpointAccessControlService", kName, false)};
  };
  r.add(std::move(c));
  // Its credentials (the posture signing key's context): none, the feature being gone.
  r.add(ClassDef{.name = "AMT_EACCredentialContext", .schema = Schema::Amt, .keys = {"ElementInContext", "ElementProvidingContext"},
                 .enumerate = [](CimContext&) { return std::vector<Instance>{}; }});
}

// Heuristic packet filtering (worm detection that isolated a host by its outbound traffic) was System Defense's
// third source in AMT 3–11.6 and is gone from AMT 16: the classes are answered with no instance, so a full-state
// save passes, and resetting statistics that do not exist reports the feature unsupported.
void registerHeuristics(ClassRegistry& r) {
  auto none = [](CimContext&) { return std::vector<Instance>{}; };
  r.add(ClassDef{.name = "AMT_HeuristicPacketFilterSettings", .schema = Schema::Amt, .keys = {"InstanceID"}, .enumerate = none});
  r.add(ClassDef{.name = "AMT_HeuristicPacketFilterInterfacePolicy", .schema = Schema::Amt,
                 .keys = {"Antecedent", "Dependent"}, .enumerate = none});
  ClassDef stats{.name = "AMT_HeuristicPacketFilterStatistics", .schema = Schema::Amt, .keys = {"InstanceID"}};
  stats.methods = {{"ResetSelectedStats", {In("SelectedStatistics", T::String, true)}, {},
                    [](CimContext&, const Instance&, const Arguments&) { return MethodResult::status(status::kUnsupported); }}};
  stats.enumerate = none;
  r.add(std::move(stats));
}

}  // namespace

void registerServiceSettings(ClassRegistry& r) {
  registerHeuristics(r);
  registerWebUi(r);
  registerKerberos(r);
  registerPowerScheme(r);
  registerSecureIo(r);
  registerScreenSettings(r);
  registerKvmRedirectionService(r);
  registerEndpointAccessControl(r);
}

}  // namespace mesim::wsman::cim
