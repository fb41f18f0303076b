// The wireless port as AMT 16 shows it (docs/wireless-and-8021x.md): CIM_WiFiPort (RequestStateChange switches it
// between disabled, on in S0 and on in S0 + Sx/AC), CIM_WiFiEndpoint (its MAC-level endpoint, with the network it is
// connected to), their capabilities, the profiles (CIM_WiFiEndpointSettings, and CIM_IEEE8021xSettings for their
// 802.1X part), and AMT_WiFiPortConfigurationService, which adds and deletes profiles and holds the synchronisation
// settings. The state is platform::WifiSettings; the profile rules are platform/wifi_profiles.h's. No instance when
// the platform has no wireless NIC (network.wireless.present).
#include <algorithm>
#include <cctype>

#include "common/text_codecs.h"
#include "firmware/platform/wifi_profiles.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
using platform::WifiProfile;
using platform::WifiProfileCheck;

constexpr const char* kPortClass = "CIM_WiFiPort";
constexpr const char* kPortId = "WiFi Port 0";
constexpr const char* kEndpointClass = "CIM_WiFiEndpoint";
constexpr const char* kEndpointName = "WiFi Endpoint 0";
constexpr const char* kSettingsClass = "CIM_WiFiEndpointSettings";
constexpr const char* k8021xClass = "CIM_IEEE8021xSettings";
constexpr const char* kServiceClass = "AMT_WiFiPortConfigurationService";
constexpr const char* kServiceName = "Intel(r) AMT WiFi Port Configuration Service";
constexpr const char* kCertificateClass = "AMT_PublicKeyCertificate";

// AddWiFiSettings' return values (the SDK's ValueMap, as go-wsman-messages lists them).
namespace add_status {
constexpr std::uint32_t kNotSupported = 1;
constexpr std::uint32_t kFailed = 2;
constexpr std::uint32_t kInvalidParameter = 3;
constexpr std::uint32_t kInvalidReference = 4;
}  // namespace add_status

// CIM_EnabledLogicalElement.RequestStateChange's return values.
constexpr std::uint32_t kRscInvalidParameter = 5;

bool hasWirelessNic(const CimContext& ctx) { return ctx.platform.wireless().present; }

std::string cimMac(const platform::MacAddress& mac) {
  std::string text = text::macText(mac, '-');
  std::erase(text, '-');
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

std::string ieee8021xInstanceId(const std::string& profileName) { return "Intel(r) AMT:IEEE 802.1x Settings " + profileName; }

// --- CIM_WiFiPort ---

Instance wifiPort(const CimContext& ctx) {
  const auto& w = ctx.platform.state().wifi;
  const auto& lan = ctx.platform.wireless();
  Instance i;
  i.set("AvailableRequestedStates", Value::numbers({platform::wifi_port_state::kDisabled, platform::wifi_port_state::kEnabledInS0,
                                                    platform::wifi_port_state::kEnabledInS0AndSxAc}))
      .set("CreationClassName", kPortClass)
      .set("DeviceID", kPortId)
      .set("ElementName", kPortId)
      .setNum("EnabledState", w.portState)
      .setNum("HealthState", 5)  // OK
      .setNum("LinkTechnology", 11)  // Wireless LAN
      .set("PermanentAddress", cimMac(lan.mac))
      .setNum("PortType", 0)  // Unknown: the radio's 802.11 generation is not modelled
      .setNum("RequestedState", w.portState)
      .set("SystemCreationClassName", "CIM_ComputerSystem")
      .set("SystemName", kAmtSystemName);
  return i;
}

MethodResult requestPortState(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t state = 0;
  namespace ps = platform::wifi_port_state;
  if (!argUint(in, "RequestedState", state) ||
      (state != ps::kDisabled && state != ps::kEnabledInS0 && state != ps::kEnabledInS0AndSxAc))
    return MethodResult::status(kRscInvalidParameter);
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    s.wifi.portState = static_cast<std::uint32_t>(state);
    platform::updateWirelessLink(s);
  });
  return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
}

// --- CIM_WiFiEndpoint ---

Instance wifiEndpoint(const CimContext& ctx) {
  const auto& lan = ctx.platform.wireless();
  const WifiProfile* connected = platform::connectedProfile(ctx.platform.state().wifi);
  Instance i;
  setServiceKeys(i, kEndpointClass, kEndpointName)
      .setNum("BSSType", 3)  // infrastructure
      .set("ElementName", kEndpointName)
      .setNum("EnabledState", connected ? 2 : 3)
      .setNum("HealthState", 5)
      .set("MACAddress", cimMac(lan.mac))
      .set("NameFormat", "MAC")
      .setNum("ProtocolIFType", 71)  // ieee80211
      .setNum("RequestedState", 12);
  if (connected) {
    i.set("LANID", connected->ssid)
        .setNum("AuthenticationMethod", connected->authenticationMethod)
        .setNum("EncryptionMethod", connected->encryptionMethod);
  }
  return i;
}

// --- CIM_WiFiEndpointSettings, CIM_IEEE8021xSettings ---

Instance profileInstance(const WifiProfile& p) {
  Instance i;
  i.setNum("AuthenticationMethod", p.authenticationMethod)
      .setNum("BSSType", 3)
      .set("ElementName", p.elementName)
      .setNum("EncryptionMethod", p.encryptionMethod)
      .set("InstanceID", p.instanceId)
      .setNum("Priority", p.priority)
      .set("SSID", p.ssid);
  return i;  // the passphrase stays in AMT, as there
}

Instance ieee8021xInstance(const platform::Ieee8021xProfile& x) {
  Instance i;
  i.setNum("AuthenticationProtocol", x.authenticationProtocol)
      .set("ElementName", x.elementName)
      .set("InstanceID", x.instanceId)
      .setNum("ServerCertificateNameComparison", x.serverCertificateNameComparison);
  if (!x.domain.empty()) i.set("Domain", x.domain);
  if (!x.roamingIdentity.empty()) i.set("RoamingIdentity", x.roamingIdentity);
  if (!x.serverCertificateName.empty()) i.set("ServerCertificateName", x.serverCertificateName);
  if (!x.username.empty()) i.set("Username", x.username);
  return i;
}

// --- AMT_WiFiPortConfigurationService ---

// The certificate an optional reference argument names: "" when absent; nullopt when it names no stored certificate.
std::optional<std::string> certificateArgument(const CimContext& ctx, const Arguments& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end()) return std::string{};
  const EndpointReference* ref = argRef(in, name);
  if (!ref || ref->resourceUri != resourceUri(Schema::Amt, kCertificateClass)) return std::nullopt;
  const soap::Selector* id = ref->find("InstanceID");
  if (!id || id->isEpr()) return std::nullopt;
  const auto& certs = ctx.platform.state().certificates;
  if (std::none_of(certs.begin(), certs.end(), [&](const auto& c) { return c.instanceId == id->value; })) return std::nullopt;
  return id->value;
}

std::uint32_t addStatusOf(WifiProfileCheck check) {
  return check == WifiProfileCheck::TooManyProfiles ? add_status::kFailed : add_status::kInvalidParameter;
}

MethodResult addWifiSettings(CimContext& ctx, const Instance&, const Arguments& in) {
  if (!hasWirelessNic(ctx)) return MethodResult::status(add_status::kNotSupported);
  const EndpointReference* endpoint = argRef(in, "WiFiEndpoint");
  const soap::Selector* endpointName = endpoint ? endpoint->find("Name") : nullptr;
  if (!endpoint || endpoint->resourceUri != resourceUri(Schema::Cim, kEndpointClass) || !endpointName ||
      endpointName->isEpr() || endpointName->value != kEndpointName)
    return MethodResult::status(add_status::kInvalidReference);

  const std::string s = "WiFiEndpointSettingsInput.";
  WifiProfile p;
  std::uint64_t priority = 0, auth = 0, encryption = 0;
  if (!argString(in, s + "ElementName", p.elementName) || !argString(in, s + "SSID", p.ssid) ||
      !argUint(in, s + "Priority", priority) || !argUint(in, s + "AuthenticationMethod", auth) ||
      !argUint(in, s + "EncryptionMethod", encryption) || priority > 0xFFFFFFFFu || auth > 0xFFFFu || encryption > 0xFFFFu)
    return MethodResult::status(add_status::kInvalidParameter);
  p.priority = static_cast<std::uint32_t>(priority);
  p.authenticationMethod = static_cast<std::uint32_t>(auth);
  p.encryptionMethod = static_cast<std::uint32_t>(encryption);
  argString(in, s + "PSKPassPhrase", p.pskPassPhrase);
  argString(in, s + "InstanceID", p.instanceId);
  if (p.instanceId.empty()) p.instanceId = platform::itProfileInstanceId(p.elementName);

  if (in.count("IEEE8021xSettingsInput")) {
    const std::string x = "IEEE8021xSettingsInput.";
    platform::Ieee8021xProfile dot1x;
    std::uint64_t protocol = 0, comparison = 2;
    if (!argUint(in, x + "AuthenticationProtocol", protocol) || protocol > 0xFFFFu)
      return MethodResult::status(add_status::kInvalidParameter);
    if (in.count(x + "ServerCertificateNameComparison") &&
        (!argUint(in, x + "ServerCertificateNameComparison", comparison) || comparison > 0xFFFFu))
      return MethodResult::status(add_status::kInvalidParameter);
    dot1x.authenticationProtocol = static_cast<std::uint32_t>(protocol);
    dot1x.serverCertificateNameComparison = static_cast<std::uint32_t>(comparison);
    argString(in, x + "ElementName", dot1x.elementName);
    if (dot1x.elementName.empty()) dot1x.elementName = p.elementName;
    dot1x.instanceId = ieee8021xInstanceId(p.elementName);
    argString(in, x + "RoamingIdentity", dot1x.roamingIdentity);
    argString(in, x + "ServerCertificateName", dot1x.serverCertificateName);
    argString(in, x + "Username", dot1x.username);
    argString(in, x + "Password", dot1x.password);
    argString(in, x + "Domain", dot1x.domain);
    const auto client = certificateArgument(ctx, in, "ClientCredential");
    const auto ca = certificateArgument(ctx, in, "CACredential");
    if (!client || !ca) return MethodResult::status(add_status::kInvalidReference);
    dot1x.clientCertificateId = *client;
    dot1x.caCertificateId = *ca;
    p.ieee8021x = std::move(dot1x);
  } else if (in.count("ClientCredential") || in.count("CACredential")) {
    return MethodResult::status(add_status::kInvalidParameter);  // credentials without an 802.1X profile to hold them
  }

  const auto& wifi = ctx.platform.state().wifi;
  if (auto check = platform::checkItProfile(wifi, p); check != WifiProfileCheck::Ok)
    return MethodResult::status(addStatusOf(check));
  auto result = ctx.platform.update([&](platform::PlatformState& st) {
    platform::addProfile(st.wifi, p);
    platform::updateWirelessLink(st);
  });
  return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : add_status::kFailed);
}

// DeleteAllITProfiles / DeleteAllUserProfiles: no input; 0 once the kind is gone (also when there was none).
MethodResult deleteProfiles(CimContext& ctx, bool userProfiles) {
  if (!hasWirelessNic(ctx)) return MethodResult::status(add_status::kNotSupported);
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    std::erase_if(s.wifi.profiles, [&](const WifiProfile& p) { return p.userProfile == userProfiles; });
    platform::updateWirelessLink(s);
  });
  return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : add_status::kFailed);
}

Instance configurationService(const CimContext& ctx) {
  const auto& w = ctx.platform.state().wifi;
  const WifiProfile* connected = platform::connectedProfile(w);
  Instance i;
  setServiceKeys(i, kServiceClass, kServiceName)
      .set("ElementName", "Intel(r) AMT WiFiPort Configuration Service")
      .setNum("EnabledState", 5)
      .setNum("HealthState", 5)
      .set("LastConnectedSsidUnderMeControl", connected ? connected->ssid : std::string{})
      .setNum("NoHostCsmeSoftwarePolicy", w.noHostCsmeSoftwarePolicy)
      .setNum("RequestedState", 12)
      .setBool("UEFIWiFiProfileShareEnabled", w.uefiProfileShareEnabled)
      .setNum("localProfileSynchronizationEnabled", w.localProfileSynchronization);
  return i;
}

ChangeFault putConfigurationService(CimContext& ctx, const Instance&, const Arguments& in) {
  auto next = ctx.platform.state().wifi;
  std::uint64_t n = 0;
  if (in.count("localProfileSynchronizationEnabled")) {
    if (!argUint(in, "localProfileSynchronizationEnabled", n) || (n != 0 && n != 1 && n != 3))
      return invalidParameter("localProfileSynchronizationEnabled must be 0 (disabled), 1 (user profiles) or 3 (unrestricted).");
    next.localProfileSynchronization = static_cast<std::uint32_t>(n);
  }
  if (in.count("NoHostCsmeSoftwarePolicy")) {
    if (!argUint(in, "NoHostCsmeSoftwarePolicy", n) || n > 1)
      return invalidParameter("NoHostCsmeSoftwarePolicy must be 0 (relaxed) or 1 (aggressive).");
    next.noHostCsmeSoftwarePolicy = static_cast<std::uint32_t>(n);
  }
  if (in.count("UEFIWiFiProfileShareEnabled")) {
    bool share = false;
    if (!argBool(in, "UEFIWiFiProfileShareEnabled", share))
      return invalidParameter("UEFIWiFiProfileShareEnabled must be true or false.");
    next.uefiProfileShareEnabled = share;
  }
  return changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.wifi = next; }));
}

template <class F>
std::vector<Instance> ifWireless(CimContext& ctx, F make) {
  std::vector<Instance> out;
  if (hasWirelessNic(ctx)) out.push_back(make(ctx));
  return out;
}

}  // namespace

void registerWifi(ClassRegistry& r) {
  ClassDef port{.name = kPortClass, .schema = Schema::Cim,
                .keys = {"CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"}};
  port.properties = {A("AvailableRequestedStates", T::UInt16), P("CreationClassName"), P("DeviceID"), P("ElementName"),
                     P("EnabledState", T::UInt16), P("HealthState", T::UInt16), P("LinkTechnology", T::UInt16),
                     P("PermanentAddress"), P("PortType", T::UInt16), P("RequestedState", T::UInt16),
                     P("SystemCreationClassName"), P("SystemName")};
  port.methods = {{"RequestStateChange", {In("RequestedState", T::UInt16), In("TimeoutPeriod", T::DateTime)},
                   {Out("Job", T::Reference)}, requestPortState}};
  port.enumerate = [](CimContext& ctx) { return ifWireless(ctx, wifiPort); };
  r.add(std::move(port));

  ClassDef portCaps{.name = "CIM_WiFiPortCapabilities", .schema = Schema::Cim, .keys = {"InstanceID"}};
  portCaps.properties = {P("ElementName"), P("InstanceID"), A("RequestedStatesSupported", T::UInt16)};
  portCaps.enumerate = [](CimContext& ctx) {
    return ifWireless(ctx, [](const CimContext&) {
      Instance i;
      i.set("ElementName", "Intel(r) AMT WiFi Port Capabilities")
          .set("InstanceID", "Intel(r) AMT:WiFi Port Capabilities 0")
          .set("RequestedStatesSupported", Value::numbers({platform::wifi_port_state::kDisabled,
                                                           platform::wifi_port_state::kEnabledInS0,
                                                           platform::wifi_port_state::kEnabledInS0AndSxAc}));
      return i;
    });
  };
  r.add(std::move(portCaps));

  ClassDef endpoint{.name = kEndpointClass, .schema = Schema::Cim, .keys = kServiceKeys};
  endpoint.properties = {P("AuthenticationMethod", T::UInt16), P("BSSType", T::UInt16), P("CreationClassName"),
                         P("ElementName"), P("EnabledState", T::UInt16), P("EncryptionMethod", T::UInt16),
                         P("HealthState", T::UInt16), P("LANID"), P("MACAddress"), P("Name"), P("NameFormat"),
                         P("ProtocolIFType", T::UInt16), P("RequestedState", T::UInt16), P("SystemCreationClassName"),
                         P("SystemName")};
  endpoint.enumerate = [](CimContext& ctx) { return ifWireless(ctx, wifiEndpoint); };
  r.add(std::move(endpoint));

  ClassDef endpointCaps{.name = "CIM_WiFiEndpointCapabilities", .schema = Schema::Cim, .keys = {"InstanceID"}};
  endpointCaps.properties = {P("ElementName"), P("InstanceID"), A("SupportedAuthenticationMethods", T::UInt16),
                             A("SupportedEncryptionMethods", T::UInt16)};
  endpointCaps.enumerate = [](CimContext& ctx) {
    return ifWireless(ctx, [](const CimContext&) {
      namespace a = platform::wifi_auth;
      namespace e = platform::wifi_encryption;
      Instance i;
      i.set("ElementName", "Intel(r) AMT WiFi Endpoint Capabilities")
          .set("InstanceID", "Intel(r) AMT:WiFi Endpoint Capabilities 0")
          .set("SupportedAuthenticationMethods",
               Value::numbers({a::kOpenSystem, a::kSharedKey, a::kWpaPsk, a::kWpaIeee8021x, a::kWpa2Psk, a::kWpa2Ieee8021x}))
          .set("SupportedEncryptionMethods", Value::numbers({e::kWep, e::kTkip, e::kCcmp, e::kNone}));
      return i;
    });
  };
  r.add(std::move(endpointCaps));

  ClassDef settings{.name = kSettingsClass, .schema = Schema::Cim, .keys = {"InstanceID"}};
  settings.properties = {P("AuthenticationMethod", T::UInt16), P("BSSType", T::UInt16), P("ElementName"),
                         P("EncryptionMethod", T::UInt16), P("InstanceID"), P("Priority", T::UInt8), P("SSID")};
  settings.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!hasWirelessNic(ctx)) return out;
    for (const auto& p : ctx.platform.state().wifi.profiles) out.push_back(profileInstance(p));
    return out;
  };
  settings.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string id = target.str("InstanceID");
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      std::erase_if(s.wifi.profiles, [&](const WifiProfile& p) { return p.instanceId == id; });
      platform::updateWirelessLink(s);
    }));
  };
  r.add(std::move(settings));

  // The 802.1X part of the Wi-Fi profiles (the wired port's is IPS_IEEE8021xSettings, a subclass).
  ClassDef dot1x{.name = k8021xClass, .schema = Schema::Cim, .keys = {"InstanceID"}};
  dot1x.properties = {P("AuthenticationProtocol", T::UInt16), P("Domain"), P("ElementName"), P("InstanceID"),
                      P("RoamingIdentity"), P("ServerCertificateName"), P("ServerCertificateNameComparison", T::UInt16),
                      P("Username")};
  dot1x.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!hasWirelessNic(ctx)) return out;
    for (const auto& p : ctx.platform.state().wifi.profiles)
      if (p.ieee8021x) out.push_back(ieee8021xInstance(*p.ieee8021x));
    return out;
  };
  r.add(std::move(dot1x));

  // A Wi-Fi profile holds its 802.1X part (the link AddWiFiSettings' IEEE8021xSettingsInput makes, as the SDK
  // describes it): GroupComponent the profile, PartComponent its CIM_IEEE8021xSettings.
  ClassDef concrete{.name = "CIM_ConcreteComponent", .schema = Schema::Cim, .keys = {"GroupComponent", "PartComponent"}};
  concrete.properties = {P("GroupComponent", T::Reference), P("PartComponent", T::Reference)};
  concrete.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!hasWirelessNic(ctx)) return out;
    for (const auto& p : ctx.platform.state().wifi.profiles)
      if (p.ieee8021x) {
        Instance i;
        i.setRef("GroupComponent", instanceIdRef(Schema::Cim, kSettingsClass, p.instanceId))
            .setRef("PartComponent", instanceIdRef(Schema::Cim, k8021xClass, p.ieee8021x->instanceId));
        out.push_back(std::move(i));
      }
    return out;
  };
  r.add(std::move(concrete));

  ClassDef service{.name = kServiceClass, .schema = Schema::Amt, .keys = kServiceKeys};
  service.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("HealthState", T::UInt16),
                        P("LastConnectedSsidUnderMeControl"), P("Name"), W("NoHostCsmeSoftwarePolicy", T::UInt32),
                        P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName"),
                        W("UEFIWiFiProfileShareEnabled", T::Boolean), W("localProfileSynchronizationEnabled", T::UInt32)};
  service.methods = {
      {"AddWiFiSettings",
       {In("WiFiEndpoint", T::Reference), In("WiFiEndpointSettingsInput"), In("IEEE8021xSettingsInput"),
        In("ClientCredential", T::Reference), In("CACredential", T::Reference)},
       {},
       addWifiSettings},
      {"DeleteAllITProfiles", {}, {},
       [](CimContext& ctx, const Instance&, const Arguments&) { return deleteProfiles(ctx, false); }},
      {"DeleteAllUserProfiles", {}, {},
       [](CimContext& ctx, const Instance&, const Arguments&) { return deleteProfiles(ctx, true); }}};
  service.enumerate = [](CimContext& ctx) { return ifWireless(ctx, configurationService); };
  service.put = putConfigurationService;
  r.add(std::move(service));
}

}  // namespace mesim::wsman::cim
