// The persisted state of the wireless port and of 802.1X (docs/wireless-and-8021x.md): the Wi-Fi profiles
// AMT_WiFiPortConfigurationService adds, the port's enabled state, profile synchronisation, and the wired port's
// 802.1X profile with its certificates. Plain data; the rules are wifi_profiles.h's, the JSON wifi_json.cpp's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mesim::platform {

// CIM_IEEE8021xSettings.AuthenticationProtocol (the CIM numbering; AMT_8021XProfile numbers EAP-FAST/TLS 6).
enum class EapMethod : std::uint32_t {
  Tls = 0,
  TtlsMschapv2 = 1,
  PeapMschapv2 = 2,
  PeapGtc = 3,
  FastMschapv2 = 4,
  FastGtc = 5,
  FastTls = 10,
};

// An 802.1X profile: the one of a Wi-Fi profile (CIM_IEEE8021xSettings) or the wired port's (IPS_IEEE8021xSettings
// and AMT_8021XProfile show the same one).
struct Ieee8021xProfile {
  std::string instanceId;
  std::string elementName;
  std::uint32_t authenticationProtocol = 0;  // EapMethod
  std::string roamingIdentity;
  std::string serverCertificateName;
  std::uint32_t serverCertificateNameComparison = 2;  // CIM: 2 full name, 3 domain suffix
  std::string username;
  std::string password;  // write-only: never shown over WS-Man
  std::string domain;
  // AMT_PublicKeyCertificate InstanceIDs: the client's certificate and the CA its server's certificate comes from.
  std::string clientCertificateId;
  std::string caCertificateId;
  bool operator==(const Ieee8021xProfile&) const = default;
};

// CIM_WiFiEndpointSettings.AuthenticationMethod / EncryptionMethod.
namespace wifi_auth {
inline constexpr std::uint32_t kOpenSystem = 2;
inline constexpr std::uint32_t kSharedKey = 3;
inline constexpr std::uint32_t kWpaPsk = 4;
inline constexpr std::uint32_t kWpaIeee8021x = 5;
inline constexpr std::uint32_t kWpa2Psk = 6;
inline constexpr std::uint32_t kWpa2Ieee8021x = 7;
inline constexpr std::uint32_t kWpa3Sae = 32768;
inline constexpr std::uint32_t kWpa3Owe = 32769;
}  // namespace wifi_auth
namespace wifi_encryption {
inline constexpr std::uint32_t kWep = 2;
inline constexpr std::uint32_t kTkip = 3;
inline constexpr std::uint32_t kCcmp = 4;
inline constexpr std::uint32_t kNone = 5;
}  // namespace wifi_encryption

// One CIM_WiFiEndpointSettings.
struct WifiProfile {
  std::string instanceId;   // "Intel(r) AMT:WiFi Endpoint Settings <name>" (IT) or "... User Settings <n>" (user)
  std::string elementName;  // the profile's name
  std::string ssid;
  std::uint32_t priority = 1;
  std::uint32_t authenticationMethod = wifi_auth::kWpa2Psk;
  std::uint32_t encryptionMethod = wifi_encryption::kCcmp;
  std::string pskPassPhrase;  // write-only, as in AMT
  bool userProfile = false;   // synchronised from the host OS (LMS), not added by IT
  std::uint64_t addedSequence = 0;  // order of addition: the oldest user profile is the one a ninth overwrites
  std::optional<Ieee8021xProfile> ieee8021x;
  bool operator==(const WifiProfile&) const = default;
};

// CIM_WiFiPort.EnabledState / RequestStateChange values that AMT uses for the wireless port.
namespace wifi_port_state {
inline constexpr std::uint32_t kDisabled = 3;
inline constexpr std::uint32_t kEnabledInS0 = 32768;
inline constexpr std::uint32_t kEnabledInS0AndSxAc = 32769;
}  // namespace wifi_port_state

struct WifiSettings {
  // "The Intel AMT firmware holds a maximum of 16 total profiles, of which a maximum of 8 can be user profiles"
  // (Intel AMT Developer Guide, Wireless Configuration Concepts).
  static constexpr std::size_t kMaxProfiles = 16;
  static constexpr std::size_t kMaxUserProfiles = 8;

  std::uint32_t portState = wifi_port_state::kDisabled;   // CIM_WiFiPort.EnabledState
  std::uint32_t localProfileSynchronization = 0;          // 0 disabled, 1 user profiles, 3 unrestricted
  bool uefiProfileShareEnabled = false;
  std::uint32_t noHostCsmeSoftwarePolicy = 0;             // 0 relaxed, 1 aggressive
  std::vector<WifiProfile> profiles;                      // in the order they were added
  std::uint64_t nextSequence = 1;
  bool operator==(const WifiSettings&) const = default;
};

// The wired port's 802.1X (IPS_IEEE8021xSettings, AMT_8021XProfile).
struct Wired8021xSettings {
  std::uint32_t enabled = 3;  // IPS_IEEE8021xSettings.Enabled: 2 enabled, 3 disabled, 6 enabled without certificates
  bool availableInS0 = true;
  std::uint32_t pxeTimeout = 120;  // seconds; 0..86400
  Ieee8021xProfile profile;        // its certificates are SetCertificates'
  bool operator==(const Wired8021xSettings&) const = default;
};

}  // namespace mesim::platform
