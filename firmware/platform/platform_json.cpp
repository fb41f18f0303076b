#include "firmware/platform/platform_json.h"

#include <boost/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <utility>

#include "common/json_text.h"
#include "common/text_codecs.h"
#include "firmware/platform/alarm_clock_json.h"
#include "firmware/platform/system_defense_json.h"
#include "firmware/platform/third_party_storage_json.h"
#include "firmware/platform/ipv6_json.h"
#include "firmware/platform/pet_json.h"
#include "firmware/platform/wifi_json.h"

namespace mesim::platform {
namespace json = boost::json;
namespace {

// ---------------------------------------------------------------------------------------------
// The field lists: the only place that names a persisted field. Each runs with a Writer or a Reader.
// ---------------------------------------------------------------------------------------------

// How a value is spelled when its type alone does not say.
enum class Format { Plain, Uuid, HexWord, Ipv4 };
enum class Need { Optional, Required };

template <class S, class T>
concept Is = std::same_as<std::remove_const_t<S>, T>;

template <class V, Is<CodeVersion> S>
void fields(V& v, S& s) {
  v("description", s.description, Format::Plain, Need::Required);
  v("version", s.version, Format::Plain, Need::Required);
}

template <class V, Is<FirmwareInfo> S>
void fields(V& v, S& s) {
  v("code", s.code);
  v("recovery", s.recovery);
  v("fitc", s.fitc);
  v("biosVersion", s.biosVersion);
  v("codeVersions", s.codeVersions);
  v("capabilities", s.capabilities, Format::HexWord);
  v("fwUpdateState", s.fwUpdateState);
  v("platformType", s.platformType, Format::HexWord);
  v("featuresEnabled", s.featuresEnabled, Format::HexWord);
  v("featuresAvailable", s.featuresAvailable, Format::HexWord);
}

template <class V, Is<LanInterface> S>
void fields(V& v, S& s) {
  v("present", s.present);
  v("enabled", s.enabled);
  v("linkUp", s.linkUp);
  v("dhcpEnabled", s.dhcpEnabled);
  v("dhcpMode", s.dhcpMode);
  v("mac", s.mac);
  v("ipv4", s.ipv4, Format::Ipv4);
  v("subnetMask", s.subnetMask, Format::Ipv4);
  v("gateway", s.gateway, Format::Ipv4);
  v("primaryDns", s.primaryDns, Format::Ipv4);
  v("secondaryDns", s.secondaryDns, Format::Ipv4);
  v("linkPolicy", s.linkPolicy);
}

template <class V, Is<FeatureStates> S>
void fields(V& v, S& s) {
  v("solEnabled", s.solEnabled);
  v("iderEnabled", s.iderEnabled);
  v("kvmEnabled", s.kvmEnabled);
  v("webUiEnabled", s.webUiEnabled);
  v("systemDefenseActive", s.systemDefenseActive);
  v("eacEnabled", s.eacEnabled);
  v("solSessionOpen", s.solSessionOpen);
  v("iderSessionOpen", s.iderSessionOpen);
  v("kvmSessionActive", s.kvmSessionActive);
}

template <class V, Is<RemoteAccessStatus> S>
void fields(V& v, S& s) {
  v("networkStatus", s.networkStatus);
  v("connectionStatus", s.connectionStatus);
  v("trigger", s.trigger);
  v("mpsHostname", s.mpsHostname);
  v("userInitiatedConnectionRequested", s.userInitiatedConnectionRequested);
}

template <class V, Is<CertHashEntry> S>
void fields(V& v, S& s) {
  v("handle", s.handle, Format::Plain, Need::Required);
  v("name", s.name);
  v("algorithm", s.algorithm);
  v("hash", s.hash, Format::Plain, Need::Required);
  v("isDefault", s.isDefault);
  v("isActive", s.isActive);
}

template <class V, Is<EnterpriseAccess> S>
void fields(V& v, S& s) {
  v("flags", s.flags);
  v("hostIp", s.hostIp);
  v("access", s.access);
}

template <class V, Is<HostBasedSetup> S>
void fields(V& v, S& s) {
  v("serverHashAlgorithm", s.serverHashAlgorithm);
  v("serverCertHash", s.serverCertHash);
  v("hostVpnEnabled", s.hostVpnEnabled);
  v("dnsSuffixes", s.dnsSuffixes);
}

template <class V, Is<LocalSystemAccount> S>
void fields(V& v, S& s) {
  v("user", s.user, Format::Plain, Need::Required);
  v("password", s.password, Format::Plain, Need::Required);
  v("passwordSetAt", s.passwordSetAt);
}

template <class V, Is<AdminAccount> S>
void fields(V& v, S& s) {
  v("user", s.user);
  v("ha1", s.ha1, Format::Plain, Need::Required);
  v("setByProvisioning", s.setByProvisioning);
}

template <class V, Is<AclUser> S>
void fields(V& v, S& s) {
  v("handle", s.handle);
  v("user", s.user, Format::Plain, Need::Required);
  v("ha1", s.ha1, Format::Plain, Need::Required);
  v("access", s.access);
  v("realms", s.realms);
  v("enabled", s.enabled);
}

template <class V, Is<HostPower> S>
void fields(V& v, S& s) {
  v("powerState", s.powerState);
  v("requestedPowerState", s.requestedPowerState);
  v("osPowerSavingState", s.osPowerSavingState);
  v("powerStatesSupported", s.powerStatesSupported);
  v("bootReason", s.bootReason);
  v("bootReasonDetails", s.bootReasonDetails);
  v("bootPreviousSxState", s.bootPreviousSxState);
}

template <class V, Is<BootSettings> S>
void fields(V& v, S& s) {
  v("biosPause", s.biosPause);
  v("biosSetup", s.biosSetup);
  v("useSol", s.useSol);
  v("useIder", s.useIder);
  v("useSafeMode", s.useSafeMode);
  v("reflashBios", s.reflashBios);
  v("lockKeyboard", s.lockKeyboard);
  v("lockPowerButton", s.lockPowerButton);
  v("lockResetButton", s.lockResetButton);
  v("lockSleepButton", s.lockSleepButton);
  v("userPasswordBypass", s.userPasswordBypass);
  v("forcedProgressEvents", s.forcedProgressEvents);
  v("enforceSecureBoot", s.enforceSecureBoot);
  v("bootMediaIndex", s.bootMediaIndex);
  v("iderBootDevice", s.iderBootDevice);
  v("firmwareVerbosity", s.firmwareVerbosity);
  v("configurationRole", s.configurationRole);
  v("bootConfigActive", s.bootConfigActive);
  v("optionsCleared", s.optionsCleared);
  v("uefiBootParameters", s.uefiBootParameters);
  v("uefiBootNumberOfParams", s.uefiBootNumberOfParams);
  v("bootOrder", s.bootOrder);
}

template <class V, Is<OptInSettings> S>
void fields(V& v, S& s) {
  v("optInRequired", s.optInRequired);
  v("optInCodeTimeout", s.optInCodeTimeout);
  v("optInDisplayTimeout", s.optInDisplayTimeout);
  v("canModifyOptInPolicy", s.canModifyOptInPolicy);
}

template <class V, Is<RedirectionSettings> S>
void fields(V& v, S& s) {
  v("enabledState", s.enabledState);
  v("listenerEnabled", s.listenerEnabled);
  v("kvmEnabledState", s.kvmEnabledState);
  v("kvmRequestedState", s.kvmRequestedState);
  v("is5900PortEnabled", s.is5900PortEnabled);
  v("rfbPassword", s.rfbPassword);
  v("optInPolicy", s.optInPolicy);
  v("sessionTimeout", s.sessionTimeout);
  v("defaultScreen", s.defaultScreen);
}

template <class V, Is<GeneralSettingsExtra> S>
void fields(V& v, S& s) {
  v("amtNetworkEnabled", s.amtNetworkEnabled);
  v("pingResponseEnabled", s.pingResponseEnabled);
  v("rmcpPingResponseEnabled", s.rmcpPingResponseEnabled);
  v("wsmanOnlyMode", s.wsmanOnlyMode);
  v("idleWakeTimeout", s.idleWakeTimeout);
  v("preferredAddressFamily", s.preferredAddressFamily);
  v("privacyLevel", s.privacyLevel);
  v("dhcpSyncRequiresHostname", s.dhcpSyncRequiresHostname);
  v("ddnsUpdateByDhcpServerEnabled", s.ddnsUpdateByDhcpServerEnabled);
}

template <class V, Is<TlsSettings> S>
void fields(V& v, S& s) {
  v("enabled", s.enabled);
  v("mutualAuthentication", s.mutualAuthentication);
  v("acceptNonSecureConnections", s.acceptNonSecureConnections);
  v("trustedCn", s.trustedCn);
}

template <class V, Is<StoredCertificate> S>
void fields(V& v, S& s) {
  v("instanceId", s.instanceId, Format::Plain, Need::Required);
  v("x509", s.x509);
  v("trustedRoot", s.trustedRoot);
}

template <class V, Is<StoredKeyPair> S>
void fields(V& v, S& s) {
  v("instanceId", s.instanceId, Format::Plain, Need::Required);
  v("privateKeyPem", s.privateKeyPem, Format::Plain, Need::Required);
}

template <class V, Is<StoredCrl> S>
void fields(V& v, S& s) {
  v("instanceId", s.instanceId, Format::Plain, Need::Required);
  v("url", s.url);
  v("serialNumbers", s.serialNumbers);
}

template <class V, Is<KeyStore> S>
void fields(V& v, S& s) {
  v("keyPairs", s.keyPairs);
  v("nextKeyPairHandle", s.nextKeyPairHandle);
  v("crls", s.crls);
  v("nextCrlHandle", s.nextCrlHandle);
  v("tlsCertificateId", s.tlsCertificateId);
  v("tlsCommitted", s.tlsCommitted);
  v("committedTlsEnabled", s.committedTlsEnabled);
  v("committedMutualAuthentication", s.committedMutualAuthentication);
  v("committedTrustedCn", s.committedTrustedCn);
  v("committedTlsCertificateId", s.committedTlsCertificateId);
}

template <class V, Is<MpsServer> S>
void fields(V& v, S& s) {
  v("name", s.name, Format::Plain, Need::Required);
  v("accessInfo", s.accessInfo);
  v("infoFormat", s.infoFormat);
  v("port", s.port);
  v("authMethod", s.authMethod);
  v("username", s.username);
  v("commonName", s.commonName);
  v("password", s.password);
  v("certificateId", s.certificateId);
}

template <class V, Is<RemoteAccessPolicyRule> S>
void fields(V& v, S& s) {
  v("policyRuleName", s.policyRuleName, Format::Plain, Need::Required);
  v("trigger", s.trigger);
  v("tunnelLifeTime", s.tunnelLifeTime);
  v("extendedData", s.extendedData);
  v("mpsNames", s.mpsNames);
  v("mpsTypes", s.mpsTypes);
}

template <class V, Is<HttpProxy> S>
void fields(V& v, S& s) {
  v("name", s.name, Format::Plain, Need::Required);
  v("accessInfo", s.accessInfo);
  v("infoFormat", s.infoFormat);
  v("port", s.port);
  v("networkDnsSuffix", s.networkDnsSuffix);
}

template <class V, Is<ServiceSettings> S>
void fields(V& v, S& s) {
  v("messageLogFrozen", s.messageLogFrozen);
  v("messageLogEnabled", s.messageLogEnabled);
  v("auditLogEnabled", s.auditLogEnabled);
  v("auditDisabledEvents", s.auditDisabledEvents);
  v("auditCriticalEvents", s.auditCriticalEvents);
  v("kerberosCredentialCache", s.kerberosCredentialCache);
  v("activePowerScheme", s.activePowerScheme);
  v("secureIoEnabled", s.secureIoEnabled);
  v("provisioningRecordLogEnabled", s.provisioningRecordLogEnabled);
  v("provisioningRecordsClearedAt", s.provisioningRecordsClearedAt);
  v("auditLockHandle", s.auditLockHandle);
  v("auditLockExpiresAt", s.auditLockExpiresAt);
  v("auditLockUnprovisioning", s.auditLockUnprovisioning);
  v("lastAuditLockHandle", s.lastAuditLockHandle);
  v("auditSigningKey", s.auditSigningKey);
  v("auditSigningCertificates", s.auditSigningCertificates);
  v("tlsPskId", s.tlsPskId);
  v("tlsPskValue", s.tlsPskValue);
  v("virtualApplianceWatchdogs", s.virtualApplianceWatchdogs);
}

template <class V, Is<EventLogs> S>
void fields(V& v, S& s) {
  v("messageLog", s.messageLog);
  v("auditLog", s.auditLog);
}

// platform.json groups PlatformState's own fields by topic. The logs are not here: they have their own files.
template <class V, Is<PlatformState> S>
void fields(V& v, S& s) {
  v.group("identity", Need::Required, [&](V& g) {
    g("uuid", s.uuid, Format::Uuid, Need::Required);
    g("digestRealm", s.digestRealm, Format::Plain, Need::Required);
  });
  v("firmware", s.firmware);
  v.group("provisioning", Need::Optional, [&](V& g) {
    g("state", s.provisioningState);
    g("controlMode", s.controlMode);
    g("ztcEnabled", s.ztcEnabled);
    g("tlsEnabled", s.tlsEnabled);
    g("hostBasedSetup", s.hostBasedSetup);
    g("amtCertHashAlgorithm", s.amtCertHashAlgorithm);
    g("amtCertHash", s.amtCertHash);
    g("mebxHa1", s.mebxHa1);
  });
  v.group("accounts", Need::Required, [&](V& g) {
    g("admin", s.admin, Format::Plain, Need::Required);
    g("localSystem", s.localSystemAccount, Format::Plain, Need::Required);
    g("aclUsers", s.aclUsers);
  });
  v.group("network", Need::Optional, [&](V& g) {
    g("hostName", s.hostName);
    g("domainName", s.domainName);
    g("pkiDnsSuffix", s.pkiDnsSuffix);
    g("dnsSuffixList", s.dnsSuffixList);
    g("sharedFqdn", s.sharedFqdn);
    g("ddnsUpdateEnabled", s.ddnsUpdateEnabled);
    g("ddnsUpdateInterval", s.ddnsUpdateInterval);
    g("ddnsTtl", s.ddnsTtl);
    g("hostFqdn", s.hostFqdn);
    g("wired", s.wired);
    g("wireless", s.wireless);
    g("wiredIpv6", s.wiredIpv6);
    g("hostVpnEnabled", s.hostVpnEnabled);
    g("enterpriseAccess", s.enterpriseAccess);
  });
  v("features", s.features);
  v("remoteAccess", s.remoteAccess);
  v.group("host", Need::Optional, [&](V& g) {
    g("lastResetReason", s.lastHostResetReason);
    g("lastResetTimestamp", s.lastHostResetTimestamp);
    g("powerPolicy", s.powerPolicy);
    g("lastMeResetType", s.lastMeResetType);
  });
  v("certHashes", s.certHashes);
  v("hostPower", s.hostPower);
  v("boot", s.boot);
  v("optIn", s.optIn);
  v("redirection", s.redirection);
  v("generalSettings", s.general);
  v.group("tls", Need::Optional, [&](V& g) {
    g("remote", s.tls[0]);
    g("local", s.tls[1]);
  });
  v.group("certificates", Need::Optional, [&](V& g) {
    g("nextHandle", s.nextCertificateHandle);
    g("items", s.certificates);
  });
  v("keyStore", s.keyStore);
  v.group("remoteAccessConfig", Need::Optional, [&](V& g) {
    g("mpsServers", s.mpsServers);
    g("policies", s.remoteAccessPolicies);
    g("userInitiatedConnectionState", s.userInitiatedConnectionState);
  });
  v("httpProxies", s.httpProxies);
  v("services", s.services);
  v.group("time", Need::Optional, [&](V& g) { g("amtClockOffset", s.amtClockOffset); });
  v("alarmClock", s.alarmClock);
  v("pet", s.pet);
  v("wifi", s.wifi);
  v("wired8021x", s.wired8021x);
}

// ---------------------------------------------------------------------------------------------
// Names of the enumerations
// ---------------------------------------------------------------------------------------------

template <class E>
struct EnumName {
  E value;
  const char* name;
};
constexpr EnumName<ProvisioningState> kProvisioningNames[] = {
    {ProvisioningState::Pre, "pre"}, {ProvisioningState::In, "in"}, {ProvisioningState::Post, "post"}};
constexpr EnumName<ControlMode> kControlModeNames[] = {
    {ControlMode::None, "none"}, {ControlMode::Client, "client"}, {ControlMode::Admin, "admin"}};
constexpr EnumName<HashAlgorithm> kHashNames[] = {{HashAlgorithm::Md5, "md5"},
                                                  {HashAlgorithm::Sha1, "sha1"},
                                                  {HashAlgorithm::Sha256, "sha256"},
                                                  {HashAlgorithm::Sha384, "sha384"}};
constexpr EnumName<AclAccess> kAclAccessNames[] = {{AclAccess::LocalOnly, "local"},
                                                   {AclAccess::NetworkOnly, "network"},
                                                   {AclAccess::LocalAndNetwork, "localAndNetwork"}};

const auto& namesOf(ProvisioningState) { return kProvisioningNames; }
const auto& namesOf(ControlMode) { return kControlModeNames; }
const auto& namesOf(HashAlgorithm) { return kHashNames; }
const auto& namesOf(AclAccess) { return kAclAccessNames; }

template <class E>
concept NamedEnum = requires(E e) { namesOf(e); };

template <NamedEnum E>
const char* enumName(E value) {
  for (const auto& n : namesOf(value))
    if (n.value == value) return n.name;
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

class Writer {
 public:
  Writer(json::object& out, std::string path) : out_(out), path_(std::move(path)) {}

  template <class T>
  void operator()(std::string_view key, const T& value, Format format = Format::Plain, Need = Need::Optional) {
    out_[key] = encode(value, format, path_ + std::string(key));
  }

  template <class F>
  void group(std::string_view key, Need, F each) {
    json::object inner;
    Writer g(inner, path_ + std::string(key) + ".");
    each(g);
    out_[key] = std::move(inner);
  }

  template <class T>
  static json::value encodeStruct(const T& value, const std::string& path) {
    json::object obj;
    Writer w(obj, path.empty() ? path : path + ".");
    fields(w, value);
    return obj;
  }

 private:
  static json::value encode(bool value, Format, const std::string&) { return value; }
  static json::value encode(std::int64_t value, Format, const std::string&) { return value; }

  template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>)
  static json::value encode(T value, Format format, const std::string&) {
    if (format == Format::Ipv4) return json::string(text::ipv4Text(static_cast<std::uint32_t>(value)));
    if (format == Format::HexWord) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%08" PRIX32, static_cast<std::uint32_t>(value));
      return json::string(buf);
    }
    return value;
  }

  static json::value encode(const std::string& value, Format, const std::string& path) {
    // Boost.JSON's serializer passes invalid UTF-8 through and its parser then refuses the whole file.
    if (!text::isValidUtf8(value)) throw std::invalid_argument(path + " is not valid UTF-8");
    return json::string(value);
  }

  template <NamedEnum E>
  static json::value encode(E value, Format, const std::string&) {
    return json::string(enumName(value));
  }

  static json::value encode(const FirmwareVersion& value, Format, const std::string&) {
    return json::string(value.toString());
  }
  static json::value encode(const MacAddress& value, Format, const std::string&) {
    return json::string(text::macText(value));
  }
  static json::value encode(const std::array<std::uint8_t, 16>& value, Format format, const std::string&) {
    return json::string(format == Format::Uuid ? text::uuidText(value) : text::toHex(value));
  }
  static json::value encode(const std::vector<std::uint8_t>& value, Format, const std::string&) {
    return json::string(text::toHex(value));
  }
  static json::value encode(const AlarmClockSettings& value, Format, const std::string&) { return alarmClockToJson(value); }
  static json::value encode(const Ipv6Settings& value, Format, const std::string&) { return ipv6ToJson(value); }
  static json::value encode(const PetSettings& value, Format, const std::string&) { return petToJson(value); }
  static json::value encode(const WifiSettings& value, Format, const std::string&) { return wifiToJson(value); }
  static json::value encode(const Wired8021xSettings& value, Format, const std::string&) { return wired8021xToJson(value); }

  template <class T>
  static json::value encode(const std::optional<T>& value, Format format, const std::string& path) {
    return value ? encode(*value, format, path) : json::value(nullptr);
  }

  template <class T>
  static json::value encode(const std::vector<T>& values, Format format, const std::string& path) {
    json::array arr;
    for (std::size_t i = 0; i < values.size(); ++i)
      arr.push_back(encode(values[i], format, path + "[" + std::to_string(i) + "]"));
    return arr;
  }

  template <PersistedStruct T>
  static json::value encode(const T& value, Format, const std::string& path) {
    return encodeStruct(value, path);
  }

  json::object& out_;
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// Reading: a missing field keeps the value already in the target (the fallback) and marks the state
// defaulted; the first error is kept with the field's path.
// ---------------------------------------------------------------------------------------------

struct ReadStatus {
  std::string error;
  bool defaulted = false;
  bool ok() const { return error.empty(); }
  void fail(const std::string& path, const std::string& what) {
    if (ok()) error = path + " " + what;
  }
};

class Reader {
 public:
  Reader(const json::object& in, std::string path, ReadStatus& status) : in_(in), path_(std::move(path)), st_(status) {}

  template <class T>
  void operator()(std::string_view key, T& out, Format format = Format::Plain, Need need = Need::Optional) {
    const std::string path = path_ + std::string(key);
    const json::value* v = member(key, path, need, IsOptional<T>::value);
    if (v) decode(*v, out, format, path);
    else if constexpr (IsOptional<T>::value) out.reset();
  }

  template <class F>
  void group(std::string_view key, Need need, F each) {
    const std::string path = path_ + std::string(key);
    const json::value* v = member(key, path, need, false);
    if (!v) return;
    if (!v->is_object()) return st_.fail(path, "must be an object");
    Reader g(v->get_object(), path + ".", st_);
    each(g);
  }

  template <class T>
  static void decodeStruct(const json::value& v, T& out, const std::string& path, ReadStatus& st) {
    if (!v.is_object()) return st.fail(path, "must be an object");
    Reader r(v.get_object(), path.empty() ? path : path + ".", st);
    fields(r, out);
  }

 private:
  template <class T>
  struct IsOptional : std::false_type {};
  template <class T>
  struct IsOptional<std::optional<T>> : std::true_type {};

  // The member `key`, or null: then the state is defaulted, or it is an error if `need` is Required. An
  // optional member may be absent or null without either.
  const json::value* member(std::string_view key, const std::string& path, Need need, bool nullable) {
    if (!st_.ok()) return nullptr;
    const json::value* v = in_.if_contains(key);
    if (v && !v->is_null()) return v;
    if (nullable) return nullptr;
    if (need == Need::Required)
      st_.fail(path, "is missing");
    else
      st_.defaulted = true;
    return nullptr;
  }

  void decode(const json::value& v, bool& out, Format, const std::string& path) {
    if (!v.is_bool()) return st_.fail(path, "must be true or false");
    out = v.get_bool();
  }

  void decode(const json::value& v, std::int64_t& out, Format, const std::string& path) {
    if (v.is_int64()) {
      out = v.get_int64();
    } else if (v.is_uint64() &&
               v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      out = static_cast<std::int64_t>(v.get_uint64());
    } else {
      st_.fail(path, "must be an integer");
    }
  }

  template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>)
  void decode(const json::value& v, T& out, Format format, const std::string& path) {
    if (format == Format::Ipv4) {
      const auto ip = v.is_string() ? text::parseIpv4(v.get_string()) : std::nullopt;
      if (!ip) return st_.fail(path, "must be a dotted IPv4 address");
      out = static_cast<T>(*ip);
      return;
    }
    std::uint64_t value = 0;
    if (v.is_uint64()) {
      value = v.get_uint64();
    } else if (v.is_int64() && v.get_int64() >= 0) {
      value = static_cast<std::uint64_t>(v.get_int64());
    } else if (v.is_string()) {  // "0x00001482" for bit fields
      std::string_view s = v.get_string();
      if (s.size() < 3 || s.size() > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return st_.fail(path, "must be a number or a 0x-prefixed hex string");
      std::string digits(s.substr(2));
      if (digits.size() % 2) digits.insert(digits.begin(), '0');
      const auto bytes = text::fromHex(digits);
      if (!bytes) return st_.fail(path, "is not valid hex");
      for (auto b : *bytes) value = value << 8 | b;
    } else {
      return st_.fail(path, "must be a non-negative integer");
    }
    if (value > std::numeric_limits<T>::max()) return st_.fail(path, "is out of range");
    out = static_cast<T>(value);
  }

  void decode(const json::value& v, std::string& out, Format, const std::string& path) {
    if (!v.is_string()) return st_.fail(path, "must be a string");
    out = std::string(v.get_string());
  }

  template <NamedEnum E>
  void decode(const json::value& v, E& out, Format, const std::string& path) {
    std::string choices;
    for (const auto& n : namesOf(out)) {
      if (v.is_string() && v.get_string() == n.name) {
        out = n.value;
        return;
      }
      choices += choices.empty() ? n.name : std::string(", ") + n.name;
    }
    st_.fail(path, "must be one of " + choices);
  }

  void decode(const json::value& v, FirmwareVersion& out, Format, const std::string& path) {
    const char* kWhat = "must be a \"major.minor.hotfix.build\" string";
    if (!v.is_string()) return st_.fail(path, kWhat);
    const std::string text(v.get_string());
    unsigned parts[4];
    char tail;
    if (std::sscanf(text.c_str(), "%u.%u.%u.%u%c", &parts[0], &parts[1], &parts[2], &parts[3], &tail) != 4)
      return st_.fail(path, kWhat);
    for (unsigned p : parts)
      if (p > 0xFFFF) return st_.fail(path, "has a part above 65535");
    out = {static_cast<std::uint16_t>(parts[0]), static_cast<std::uint16_t>(parts[1]),
           static_cast<std::uint16_t>(parts[2]), static_cast<std::uint16_t>(parts[3])};
  }

  void decode(const json::value& v, MacAddress& out, Format, const std::string& path) {
    const auto mac = v.is_string() ? text::parseMac(v.get_string()) : std::nullopt;
    if (!mac) return st_.fail(path, "must look like 02:11:22:33:44:55");
    out = *mac;
  }

  void decode(const json::value& v, std::array<std::uint8_t, 16>& out, Format format, const std::string& path) {
    if (format == Format::Uuid) {
      const auto uuid = v.is_string() ? text::parseUuid(v.get_string()) : std::nullopt;
      if (!uuid) return st_.fail(path, "must be a UUID like 8-4-4-4-12 hex digits");
      out = *uuid;
      return;
    }
    const auto bytes = v.is_string() ? text::fromHex(v.get_string()) : std::nullopt;
    if (!bytes || bytes->size() != out.size()) return st_.fail(path, "must be 16 bytes (32 hex digits)");
    std::copy(bytes->begin(), bytes->end(), out.begin());
  }

  void decode(const json::value& v, Ipv6Settings& out, Format, const std::string& path) {
    if (std::string error = ipv6FromJson(v, out); !error.empty()) st_.fail(path, error);
  }

  void decode(const json::value& v, std::vector<std::uint8_t>& out, Format, const std::string& path) {
    if (!v.is_string()) return st_.fail(path, "must be a hex string");
    auto bytes = text::fromHex(v.get_string());
    if (!bytes) return st_.fail(path, "is not valid hex");
    out = std::move(*bytes);
  }

  void decode(const json::value& v, AlarmClockSettings& out, Format, const std::string& path) {
    if (auto error = alarmClockFromJson(v, out); !error.empty()) st_.fail(path, error);
  }
  void decode(const json::value& v, PetSettings& out, Format, const std::string& path) {
    if (auto error = petFromJson(v, out); !error.empty()) st_.fail(path, error);
  }
  void decode(const json::value& v, WifiSettings& out, Format, const std::string& path) {
    if (auto error = wifiFromJson(v, out); !error.empty()) st_.fail(path, error);
  }
  void decode(const json::value& v, Wired8021xSettings& out, Format, const std::string& path) {
    if (auto error = wired8021xFromJson(v, out); !error.empty()) st_.fail(path, error);
  }

  template <class T>
  void decode(const json::value& v, std::optional<T>& out, Format format, const std::string& path) {
    T value{};
    decode(v, value, format, path);
    out = std::move(value);
  }

  // Elements start from their defaults, not from the fallback's elements.
  template <class T>
  void decode(const json::value& v, std::vector<T>& out, Format format, const std::string& path) {
    if (!v.is_array()) return st_.fail(path, "must be an array");
    std::vector<T> values;
    for (std::size_t i = 0; i < v.get_array().size() && st_.ok(); ++i) {
      T item{};
      decode(v.get_array()[i], item, format, path + "[" + std::to_string(i) + "]");
      values.push_back(std::move(item));
    }
    if (st_.ok()) out = std::move(values);
  }

  template <PersistedStruct T>
  void decode(const json::value& v, T& out, Format, const std::string& path) {
    decodeStruct(v, out, path, st_);
  }

  const json::object& in_;
  std::string path_;
  ReadStatus& st_;
};

}  // namespace

template <PersistedStruct T>
void tag_invoke(json::value_from_tag, json::value& out, const T& value) {
  out = Writer::encodeStruct(value, "");
}

template <PersistedStruct T>
T tag_invoke(json::value_to_tag<T>, const json::value& in) {
  T out{};
  ReadStatus status;
  Reader::decodeStruct(in, out, "", status);
  if (!status.ok()) throw std::invalid_argument(status.error);
  return out;
}

#define MESIM_PERSISTED(T)                                                      \
  template void tag_invoke<T>(json::value_from_tag, json::value&, const T&); \
  template T tag_invoke<T>(json::value_to_tag<T>, const json::value&);
MESIM_PERSISTED(FirmwareInfo)
MESIM_PERSISTED(CodeVersion)
MESIM_PERSISTED(LanInterface)
MESIM_PERSISTED(FeatureStates)
MESIM_PERSISTED(RemoteAccessStatus)
MESIM_PERSISTED(CertHashEntry)
MESIM_PERSISTED(EnterpriseAccess)
MESIM_PERSISTED(HostBasedSetup)
MESIM_PERSISTED(LocalSystemAccount)
MESIM_PERSISTED(AdminAccount)
MESIM_PERSISTED(AclUser)
MESIM_PERSISTED(HostPower)
MESIM_PERSISTED(BootSettings)
MESIM_PERSISTED(OptInSettings)
MESIM_PERSISTED(RedirectionSettings)
MESIM_PERSISTED(GeneralSettingsExtra)
MESIM_PERSISTED(TlsSettings)
MESIM_PERSISTED(StoredCertificate)
MESIM_PERSISTED(StoredKeyPair)
MESIM_PERSISTED(StoredCrl)
MESIM_PERSISTED(KeyStore)
MESIM_PERSISTED(MpsServer)
MESIM_PERSISTED(RemoteAccessPolicyRule)
MESIM_PERSISTED(HttpProxy)
MESIM_PERSISTED(EventLogs)
MESIM_PERSISTED(PlatformState)
#undef MESIM_PERSISTED

std::size_t hashLength(HashAlgorithm alg) {
  switch (alg) {
    case HashAlgorithm::Md5: return 16;
    case HashAlgorithm::Sha1: return 20;
    case HashAlgorithm::Sha256: return 32;
    case HashAlgorithm::Sha384: return 48;
  }
  return 0;
}

std::string FirmwareVersion::toString() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(hotfix) + "." +
         std::to_string(build);
}

Result<std::string> serializeState(const PlatformState& state) {
  json::value root;
  try {
    root = json::value_from(state);
    root.as_object()["systemDefense"] = systemDefenseToJson(state.systemDefense);
    root.as_object()["thirdPartyStorage"] = thirdPartyStorageToJson(state.thirdPartyStorage);
  } catch (const std::invalid_argument& e) {
    return fail(e.what());
  }
  // "schema" first, as a reader of the file expects it.
  json::object withSchema{{"schema", kPlatformSchema}};
  for (auto& kv : root.get_object()) withSchema.emplace(kv.key(), std::move(kv.value()));
  std::string out = json_text::indented(withSchema);
  out.push_back('\n');
  return {boost::system::in_place_value, std::move(out)};  // result<string> does not convert from a string
}

Result<ParsedState> parseState(std::string_view text, const PlatformState& fallback) {
  json::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) return fail("not valid JSON: " + ec.message());
  if (!root.is_object()) return fail("the top level must be a JSON object");
  const json::object& top = root.get_object();

  const json::value* schema = top.if_contains("schema");
  if (!schema) return fail("schema is missing");
  if (!schema->is_int64() || schema->get_int64() < 1 || schema->get_int64() > kPlatformSchema)
    return fail("schema is " + json::serialize(*schema) + ", this mesim reads 1 to " +
                std::to_string(kPlatformSchema) + " (a state written by a newer mesim?)");

  ParsedState parsed{fallback, false, false};
  parsed.state.hostBasedSetup.reset();
  ReadStatus status;
  Reader reader(top, "", status);
  fields(reader, parsed.state);
  if (const json::value* sd = top.if_contains("systemDefense"); sd && status.ok())
    if (auto r = systemDefenseFromJson(*sd, parsed.state.systemDefense); !r) return r.error();
  if (const json::value* tp = top.if_contains("thirdPartyStorage"); tp && status.ok())
    if (auto r = thirdPartyStorageFromJson(*tp, parsed.state.thirdPartyStorage); !r) return r.error();
  if (schema->get_int64() == 1 && top.contains("logs")) {
    reader("logs", parsed.state.logs);
    parsed.logsInside = true;
  }
  if (!status.ok()) return fail(status.error);
  if (auto valid = validateState(parsed.state); !valid) return valid.error();
  parsed.defaulted = status.defaulted;
  return parsed;
}

Result<> validateState(const PlatformState& s) {
  auto isHex = [](std::string_view text) { return text::fromHex(text).has_value(); };
  if (s.digestRealm.size() != 39 || s.digestRealm.rfind("Digest:", 0) != 0 || !isHex(s.digestRealm.substr(7)))
    return fail("identity.digestRealm must be \"Digest:\" followed by 32 hex digits");
  if (s.admin.user.empty()) return fail("accounts.admin.user must not be empty");
  if (s.admin.ha1.size() != 32 || !isHex(s.admin.ha1)) return fail("accounts.admin.ha1 must be 32 hex digits");
  if (!s.mebxHa1.empty() && (s.mebxHa1.size() != 32 || !isHex(s.mebxHa1)))
    return fail("provisioning.mebxHa1 must be empty or 32 hex digits");
  if (s.localSystemAccount.user.empty() || s.localSystemAccount.user.size() > 32)
    return fail("accounts.localSystem.user must have 1 to 32 characters");
  if (s.localSystemAccount.password.empty() || s.localSystemAccount.password.size() > 32)
    return fail("accounts.localSystem.password must have 1 to 32 characters");
  for (std::size_t i = 0; i < s.aclUsers.size(); ++i) {
    const auto& u = s.aclUsers[i];
    const std::string path = "accounts.aclUsers[" + std::to_string(i) + "]";
    if (u.handle == 0) return fail(path + ".handle must not be 0");
    if (u.user.empty() || u.user.size() > 32) return fail(path + ".user must have 1 to 32 characters");
    if (u.user == s.admin.user) return fail(path + ".user must not be the admin's name");
    if (u.ha1.size() != 32 || !isHex(u.ha1)) return fail(path + ".ha1 must be 32 hex digits");
    for (std::size_t j = 0; j < i; ++j) {
      if (s.aclUsers[j].handle == u.handle) return fail(path + ".handle duplicates another entry");
      if (s.aclUsers[j].user == u.user) return fail(path + ".user duplicates another entry");
    }
  }
  if (s.firmware.biosVersion.size() > 64) return fail("firmware.biosVersion is longer than 64 characters");
  if (s.firmware.codeVersions.size() > 50) return fail("firmware.codeVersions has more than 50 entries");
  for (const auto& cv : s.firmware.codeVersions) {
    if (cv.description.size() > 19 || cv.version.size() > 19)
      return fail("firmware.codeVersions entry \"" + cv.description + "\" has a string longer than 19 characters");
  }
  if ((s.provisioningState == ProvisioningState::Post) != (s.controlMode != ControlMode::None))
    return fail("provisioning.controlMode must be client or admin exactly when provisioning.state is post");
  if (s.hostFqdn.size() > 255) return fail("network.hostFqdn is longer than 255 characters");
  if (s.fqdn().size() > 255) return fail("network.hostName + domainName is longer than 255 characters");
  if (!s.amtCertHash.empty() && s.amtCertHash.size() != hashLength(s.amtCertHashAlgorithm))
    return fail("provisioning.amtCertHash length does not match its algorithm");
  if (s.hostBasedSetup && s.hostBasedSetup->serverCertHash.size() > 64)
    return fail("provisioning.hostBasedSetup.serverCertHash is longer than 64 bytes");
  if (s.certHashes.size() > 23) return fail("certHashes has more than 23 entries");
  if (s.keyStore.keyPairs.size() > 16) return fail("keyStore.keyPairs has more than 16 entries");
  if (s.logs.messageLog.size() > EventLogs::kMaxMessageLogRecords) return fail("logs.messageLog has too many records");
  for (const auto& rec : s.logs.messageLog)
    if (rec.size() != EventLogs::kMessageLogRecordSize) return fail("logs.messageLog records must be 21 bytes");
  if (s.logs.auditLog.size() > EventLogs::kMaxAuditLogRecords) return fail("logs.auditLog has too many records");
  for (std::size_t i = 0; i < s.certHashes.size(); ++i) {
    const auto& e = s.certHashes[i];
    if (e.hash.size() != hashLength(e.algorithm))
      return fail("certHashes[" + std::to_string(i) + "].hash length does not match its algorithm");
    if (e.name.size() > 255) return fail("certHashes[" + std::to_string(i) + "].name is too long");
    for (std::size_t j = 0; j < i; ++j)
      if (s.certHashes[j].handle == e.handle)
        return fail("certHashes[" + std::to_string(i) + "].handle duplicates another entry");
  }
  return {};
}

}  // namespace mesim::platform
