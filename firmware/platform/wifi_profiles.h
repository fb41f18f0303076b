// The rules AMT applies to Wi-Fi profiles (docs/wireless-and-8021x.md): what an IT profile added by
// AMT_WiFiPortConfigurationService.AddWiFiSettings must hold, and how profiles the host OS synchronises (LMS, with
// localProfileSynchronizationEnabled) replace each other. Pure functions over WifiSettings; the WS-Man class maps
// their results to the method's return values.
#pragma once

#include <string>
#include <string_view>

#include "firmware/platform/platform_state.h"
#include "firmware/platform/wifi_state.h"

namespace mesim::platform {

enum class WifiProfileCheck {
  Ok,
  InvalidName,         // ElementName: 1..32 printable ASCII characters
  InvalidSsid,         // 1..32 octets
  InvalidPriority,     // 1..255
  InvalidSecurity,     // an authentication / encryption pair AMT does not take for this kind of profile
  InvalidPassphrase,   // WPA/WPA2 PSK: 8..63 printable ASCII characters; none for an 802.1X profile
  Invalid8021x,        // 802.1X authentication without a usable 802.1X profile (or one without 802.1X authentication)
  DuplicateName,       // a profile of that name (or InstanceID) exists
  DuplicatePriority,   // an IT profile has that priority
  TooManyProfiles,     // 16 profiles, or 8 user profiles where none may be replaced
};

// A sentence for logs and faults.
std::string_view describe(WifiProfileCheck check);

// Whether `profile` may be added as an IT profile next to `settings`' profiles.
WifiProfileCheck checkItProfile(const WifiSettings& settings, const WifiProfile& profile);
// The 802.1X part of a profile (wired or wireless): a known EAP method, and its credentials (a client certificate
// for EAP-TLS, a user name otherwise).
WifiProfileCheck check8021x(const Ieee8021xProfile& profile);

// Adds a checked profile (IT or user) at the end, numbering it.
void addProfile(WifiSettings& settings, WifiProfile profile);

// A profile the host OS connected with, synchronised by LMS: refused (InvalidSecurity...) unless it is an open, WEP
// or PSK profile; taken only while local synchronisation is on (the caller checks). A ninth user profile overwrites
// the oldest one; a profile of the same SSID replaces its older self.
WifiProfileCheck addUserProfile(WifiSettings& settings, WifiProfile profile);

// The profile the port connects with while it is enabled: the IT profile of the highest priority (1 first), else the
// newest user profile; nullptr when the port is disabled or holds no profile. Every profile's network is taken to be
// in range.
const WifiProfile* connectedProfile(const WifiSettings& settings);

// The wireless LanInterface (AMT_EthernetPortSettings 1, AMTHI GetLanInterfaceSettings 1) after a change of the port
// or its profiles: enabled with the port; link up, with a DHCP lease of kWirelessLease, while connected.
inline constexpr std::uint32_t kWirelessLease = 0xC0A80264;  // 192.168.2.100, the simulated access point's network
void updateWirelessLink(PlatformState& s);

// "Intel(r) AMT:WiFi Endpoint Settings <name>", the InstanceID AMT gives an IT profile.
std::string itProfileInstanceId(std::string_view name);

}  // namespace mesim::platform
