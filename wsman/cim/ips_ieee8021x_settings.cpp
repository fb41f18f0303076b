// The wired port's 802.1X (docs/wireless-and-8021x.md): IPS_IEEE8021xSettings (rpc-go's amtinfo reads it; Put and
// SetCertificates change it) and AMT_8021XProfile, the older class MeshCommander-style consoles Put, are two views of
// one platform::Wired8021xSettings. SetCertificates links AMT_PublicKeyCertificate instances to it; the links are
// IPS_8021xCredentialContext (to the settings) and AMT_8021xCredentialContext (to the profile).
// CIM_IEEE8021xCapabilities lists the EAP methods AMT takes.
#include <algorithm>
#include <array>

#include "firmware/platform/wifi_profiles.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"
#include "wsman/cim/pki_crypto.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kSettingsClass = "IPS_IEEE8021xSettings";
constexpr const char* kSettingsId = "Intel(r) AMT: 8021X Settings";
constexpr const char* kProfileClass = "AMT_8021XProfile";
constexpr const char* kProfileId = "Intel(r) AMT: 8021X Profile";
constexpr const char* kCertificateClass = "AMT_PublicKeyCertificate";
constexpr std::uint32_t kMaxPxeTimeout = 86400;  // seconds (the SDK's range for PxeTimeout)

// The EAP methods AMT takes, in the CIM numbering; AMT_8021XProfile numbers EAP-FAST/TLS 6 instead of 10.
constexpr std::array<std::uint32_t, 7> kEapMethods = {0, 1, 2, 3, 4, 5, 10};
std::uint32_t toAmtProtocol(std::uint32_t cim) { return cim == 10 ? 6 : cim; }
std::uint32_t fromAmtProtocol(std::uint32_t amt) { return amt == 6 ? 10 : amt; }

const platform::StoredCertificate* findCertificate(const platform::PlatformState& s, const std::string& id) {
  for (const auto& c : s.certificates)
    if (c.instanceId == id) return &c;
  return nullptr;
}

// An 802.1X profile a Put leaves: a known EAP method, a user name for the password-based ones, a comparison AMT
// knows. EAP-TLS's client certificate may follow in SetCertificates.
ChangeFault checkWiredProfile(const platform::Wired8021xSettings& w) {
  const auto& p = w.profile;
  if (std::find(kEapMethods.begin(), kEapMethods.end(), p.authenticationProtocol) == kEapMethods.end())
    return invalidParameter("AuthenticationProtocol names an EAP method AMT does not take.");
  const bool certificateBased = p.authenticationProtocol == 0 || p.authenticationProtocol == 10;
  if (w.enabled != 3 && !certificateBased && p.username.empty())
    return invalidParameter("A password-based EAP method needs a Username.");
  if (p.serverCertificateNameComparison != 2 && p.serverCertificateNameComparison != 3)
    return invalidParameter("ServerCertificateNameComparison must name a full name or a domain suffix.");
  if (w.pxeTimeout > kMaxPxeTimeout) return invalidParameter("PxeTimeout must be 0 to 86400 seconds.");
  return std::nullopt;
}

// Reads a text property of a Put into `field` when present.
void putText(const Arguments& in, const char* name, std::string& field) {
  if (in.count(name) && !argString(in, name, field)) field.clear();
}

// A number of a Put, if present: false if present but not a number no greater than `max`.
bool putNumber(const Arguments& in, const char* name, std::uint32_t max, std::uint32_t& field) {
  if (!in.count(name)) return true;
  std::uint64_t n = 0;
  if (!argUint(in, name, n) || n > max) return false;
  field = static_cast<std::uint32_t>(n);
  return true;
}

void putCredentials(const Arguments& in, platform::Ieee8021xProfile& p) {
  putText(in, "RoamingIdentity", p.roamingIdentity);
  putText(in, "ServerCertificateName", p.serverCertificateName);
  putText(in, "Username", p.username);
  putText(in, "Password", p.password);
  putText(in, "Domain", p.domain);
}

void setCommonProperties(Instance& i, const platform::Ieee8021xProfile& p) {
  if (!p.domain.empty()) i.set("Domain", p.domain);
  if (!p.roamingIdentity.empty()) i.set("RoamingIdentity", p.roamingIdentity);
  if (!p.serverCertificateName.empty()) i.set("ServerCertificateName", p.serverCertificateName);
  if (!p.username.empty()) i.set("Username", p.username);
}

Instance settingsInstance(const platform::Wired8021xSettings& w) {
  Instance i;
  i.setNum("AuthenticationProtocol", w.profile.authenticationProtocol)
      .setBool("AvailableInS0", w.availableInS0)
      .set("ElementName", kSettingsId)
      .setNum("Enabled", w.enabled)
      .set("InstanceID", kSettingsId)
      .setNum("PxeTimeout", w.pxeTimeout)
      .setNum("ServerCertificateNameComparison", w.profile.serverCertificateNameComparison);
  setCommonProperties(i, w.profile);
  return i;
}

ChangeFault putSettings(CimContext& ctx, const Instance&, const Arguments& in) {
  auto next = ctx.platform.state().wired8021x;
  if (!putNumber(in, "Enabled", 0xFFFF, next.enabled) || (next.enabled != 2 && next.enabled != 3 && next.enabled != 6))
    return invalidParameter("Enabled must be 2 (enabled), 3 (disabled) or 6 (enabled without certificates).");
  if (in.count("AvailableInS0") && !argBool(in, "AvailableInS0", next.availableInS0))
    return invalidParameter("AvailableInS0 must be true or false.");
  if (!putNumber(in, "PxeTimeout", kMaxPxeTimeout, next.pxeTimeout)) return invalidParameter("PxeTimeout must be 0 to 86400 seconds.");
  if (!putNumber(in, "AuthenticationProtocol", 0xFFFF, next.profile.authenticationProtocol) ||
      !putNumber(in, "ServerCertificateNameComparison", 0xFFFF, next.profile.serverCertificateNameComparison))
    return invalidParameter("AuthenticationProtocol and ServerCertificateNameComparison are numbers.");
  putCredentials(in, next.profile);
  if (auto f = checkWiredProfile(next)) return f;
  return changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.wired8021x = next; }));
}

Instance profileInstance(const platform::Wired8021xSettings& w) {
  Instance i;
  i.setBool("ActiveInS0", w.availableInS0)
      .setNum("AuthenticationProtocol", toAmtProtocol(w.profile.authenticationProtocol))
      .set("ElementName", "Intel(r) AMT 802.1x Profile")
      .setBool("Enabled", w.enabled != 3)
      .set("InstanceID", kProfileId)
      .setNum("PxeTimeout", w.pxeTimeout)
      .setNum("ServerCertificateNameComparison", w.profile.serverCertificateNameComparison == 3 ? 1 : 0);
  setCommonProperties(i, w.profile);
  return i;
}

// AMT_8021XProfile's Put, as MeshCommander-style consoles send the whole instance: its numbering mapped to the CIM's.
ChangeFault putProfile(CimContext& ctx, const Instance&, const Arguments& in) {
  auto next = ctx.platform.state().wired8021x;
  if (in.count("Enabled")) {
    bool enabled = false;
    if (!argBool(in, "Enabled", enabled)) return invalidParameter("Enabled must be true or false.");
    if (!enabled) next.enabled = 3;
    else if (next.enabled == 3) next.enabled = 2;
  }
  if (in.count("ActiveInS0") && !argBool(in, "ActiveInS0", next.availableInS0))
    return invalidParameter("ActiveInS0 must be true or false.");
  if (!putNumber(in, "PxeTimeout", kMaxPxeTimeout, next.pxeTimeout)) return invalidParameter("PxeTimeout must be 0 to 86400 seconds.");
  std::uint32_t protocol = toAmtProtocol(next.profile.authenticationProtocol);
  if (!putNumber(in, "AuthenticationProtocol", 6, protocol))
    return invalidParameter("AuthenticationProtocol must be 0 to 6 (TLS ... EAP-FAST/TLS).");
  next.profile.authenticationProtocol = fromAmtProtocol(protocol);
  std::uint32_t comparison = next.profile.serverCertificateNameComparison == 3 ? 1 : 0;
  if (!putNumber(in, "ServerCertificateNameComparison", 1, comparison))
    return invalidParameter("ServerCertificateNameComparison must be 0 (full name) or 1 (domain suffix).");
  next.profile.serverCertificateNameComparison = comparison ? 3 : 2;
  putCredentials(in, next.profile);
  if (auto f = checkWiredProfile(next)) return f;
  return changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.wired8021x = next; }));
}

// SetCertificates' reference argument: "" absent; nullopt when it is not a reference to an AMT_PublicKeyCertificate.
std::optional<std::string> certificateReference(const Arguments& in, const char* name) {
  if (!in.count(name)) return std::string{};
  const EndpointReference* ref = argRef(in, name);
  if (!ref || ref->resourceUri != resourceUri(Schema::Amt, kCertificateClass)) return std::nullopt;
  const soap::Selector* id = ref->find("InstanceID");
  if (!id || id->isEpr() || id->value.empty()) return std::nullopt;
  return id->value;
}

bool hasKeyPair(const platform::PlatformState& s, const platform::StoredCertificate& cert) {
  std::vector<std::uint8_t> der;
  if (!base64Decode(cert.x509, der)) return false;
  return std::any_of(s.keyStore.keyPairs.begin(), s.keyStore.keyPairs.end(),
                     [&](const auto& k) { return certificateMatchesKey(der, k.privateKeyPem); });
}

// ServerCertificateIssuer: the trusted root the authentication server's certificate must chain to; ClientCertificate:
// AMT's own certificate for EAP-TLS, whose private key AMT must hold. PT_STATUS return values.
MethodResult setCertificates(CimContext& ctx, const Instance&, const Arguments& in) {
  const auto issuer = certificateReference(in, "ServerCertificateIssuer");
  const auto client = certificateReference(in, "ClientCertificate");
  if (!issuer || !client || (issuer->empty() && client->empty())) return MethodResult::status(status::kInvalidParameter);
  const auto& s = ctx.platform.state();
  const platform::StoredCertificate* issuerCert = issuer->empty() ? nullptr : findCertificate(s, *issuer);
  const platform::StoredCertificate* clientCert = client->empty() ? nullptr : findCertificate(s, *client);
  if ((!issuer->empty() && !issuerCert) || (!client->empty() && !clientCert)) return MethodResult::status(status::kNotFound);
  if ((issuerCert && !issuerCert->trustedRoot) || (clientCert && (clientCert->trustedRoot || !hasKeyPair(s, *clientCert))))
    return MethodResult::status(status::kInvalidCert);
  auto result = ctx.platform.update([&](platform::PlatformState& st) {
    st.wired8021x.profile.caCertificateId = *issuer;
    st.wired8021x.profile.clientCertificateId = *client;
  });
  return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
}

// The certificates SetCertificates linked that are still stored, each as {ElementInContext, ElementProvidingContext}.
std::vector<Instance> credentialContexts(CimContext& ctx, const EndpointReference& provider) {
  std::vector<Instance> out;
  const auto& s = ctx.platform.state();
  const auto& p = s.wired8021x.profile;
  for (const std::string* id : {&p.caCertificateId, &p.clientCertificateId}) {
    if (id->empty() || !findCertificate(s, *id)) continue;
    Instance i;
    i.setRef("ElementInContext", instanceIdRef(Schema::Amt, kCertificateClass, *id)).setRef("ElementProvidingContext", provider);
    out.push_back(std::move(i));
  }
  return out;
}

ClassDef credentialContextClass(const char* name, Schema schema) {
  ClassDef c{.name = name, .schema = schema, .base = "CIM_CredentialContext",
             .keys = {"ElementInContext", "ElementProvidingContext"}};
  c.properties = {P("ElementInContext", T::Reference), P("ElementProvidingContext", T::Reference)};
  return c;
}

}  // namespace

void registerIeee8021x(ClassRegistry& r) {
  ClassDef settings{.name = kSettingsClass, .schema = Schema::Ips, .keys = {"InstanceID"}};
  settings.properties = {W("AuthenticationProtocol", T::UInt16), W("AvailableInS0", T::Boolean), W("Domain"),
                         P("ElementName"), W("Enabled", T::UInt32), P("InstanceID"), W("Password"),
                         W("PxeTimeout", T::UInt32), W("RoamingIdentity"), W("ServerCertificateName"),
                         W("ServerCertificateNameComparison", T::UInt16), W("Username")};
  settings.methods = {{"SetCertificates",
                       {In("ServerCertificateIssuer", T::Reference), In("ClientCertificate", T::Reference)},
                       {},
                       setCertificates}};
  settings.enumerate = [](CimContext& ctx) { return std::vector<Instance>{settingsInstance(ctx.platform.state().wired8021x)}; };
  settings.put = putSettings;
  r.add(std::move(settings));

  ClassDef profile{.name = kProfileClass, .schema = Schema::Amt, .keys = {"InstanceID"}};
  profile.properties = {W("ActiveInS0", T::Boolean), W("AuthenticationProtocol", T::UInt32), W("Domain"), P("ElementName"),
                        W("Enabled", T::Boolean), P("InstanceID"), W("Password"), W("PxeTimeout", T::UInt32),
                        W("RoamingIdentity"), W("ServerCertificateName"), W("ServerCertificateNameComparison", T::UInt32),
                        W("Username")};
  profile.enumerate = [](CimContext& ctx) { return std::vector<Instance>{profileInstance(ctx.platform.state().wired8021x)}; };
  profile.put = putProfile;
  r.add(std::move(profile));

  ClassDef ipsContext = credentialContextClass("IPS_8021xCredentialContext", Schema::Ips);
  ipsContext.enumerate = [](CimContext& ctx) {
    return credentialContexts(ctx, instanceIdRef(Schema::Ips, kSettingsClass, kSettingsId));
  };
  r.add(std::move(ipsContext));

  ClassDef amtContext = credentialContextClass("AMT_8021xCredentialContext", Schema::Amt);
  amtContext.enumerate = [](CimContext& ctx) {
    return credentialContexts(ctx, instanceIdRef(Schema::Amt, kProfileClass, kProfileId));
  };
  r.add(std::move(amtContext));

  ClassDef caps{.name = "CIM_IEEE8021xCapabilities", .schema = Schema::Cim, .keys = {"InstanceID"}};
  caps.properties = {P("ElementName"), P("InstanceID"), A("SupportedAuthenticationProtocols", T::UInt16)};
  caps.enumerate = [](CimContext&) {
    Instance i;
    i.set("ElementName", "Intel(r) AMT IEEE 802.1x Capabilities")
        .set("InstanceID", "Intel(r) AMT: 8021X Capabilities")
        .set("SupportedAuthenticationProtocols", Value::numbers(std::vector<std::uint32_t>(kEapMethods.begin(), kEapMethods.end())));
    return std::vector<Instance>{i};
  };
  r.add(std::move(caps));
}

}  // namespace mesim::wsman::cim
