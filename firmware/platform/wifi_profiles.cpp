#include "firmware/platform/wifi_profiles.h"

#include <algorithm>

namespace mesim::platform {
namespace {

bool printableAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

bool isPsk(std::uint32_t auth) { return auth == wifi_auth::kWpaPsk || auth == wifi_auth::kWpa2Psk; }
bool is8021x(std::uint32_t auth) { return auth == wifi_auth::kWpaIeee8021x || auth == wifi_auth::kWpa2Ieee8021x; }

// Name, SSID, priority and the passphrase's length: the same for IT and user profiles.
WifiProfileCheck checkCommon(const WifiProfile& p) {
  if (p.elementName.empty() || p.elementName.size() > 32 || !printableAscii(p.elementName))
    return WifiProfileCheck::InvalidName;
  if (p.ssid.empty() || p.ssid.size() > 32) return WifiProfileCheck::InvalidSsid;
  if (p.priority < 1 || p.priority > 255) return WifiProfileCheck::InvalidPriority;
  if (isPsk(p.authenticationMethod) &&
      (p.pskPassPhrase.size() < 8 || p.pskPassPhrase.size() > 63 || !printableAscii(p.pskPassPhrase)))
    return WifiProfileCheck::InvalidPassphrase;
  if (!isPsk(p.authenticationMethod) && !p.pskPassPhrase.empty()) return WifiProfileCheck::InvalidPassphrase;
  return WifiProfileCheck::Ok;
}

bool sameName(const WifiProfile& a, const WifiProfile& b) {
  return a.elementName == b.elementName || (!a.instanceId.empty() && a.instanceId == b.instanceId);
}

}  // namespace

std::string_view describe(WifiProfileCheck check) {
  switch (check) {
    case WifiProfileCheck::Ok: return "accepted";
    case WifiProfileCheck::InvalidName: return "the profile name must be 1 to 32 printable ASCII characters";
    case WifiProfileCheck::InvalidSsid: return "the SSID must be 1 to 32 octets";
    case WifiProfileCheck::InvalidPriority: return "the priority must be 1 to 255";
    case WifiProfileCheck::InvalidSecurity:
      return "IT profiles take WPA or WPA2 (PSK or IEEE 802.1X) with TKIP or CCMP only";
    case WifiProfileCheck::InvalidPassphrase:
      return "a PSK profile needs a passphrase of 8 to 63 printable ASCII characters, other profiles none";
    case WifiProfileCheck::Invalid8021x:
      return "802.1X authentication needs an 802.1X profile with a known EAP method and its credentials";
    case WifiProfileCheck::DuplicateName: return "a profile of that name exists";
    case WifiProfileCheck::DuplicatePriority: return "an IT profile has that priority";
    case WifiProfileCheck::TooManyProfiles: return "AMT holds 16 profiles, 8 of them user profiles";
  }
  return "unknown";
}

WifiProfileCheck check8021x(const Ieee8021xProfile& x) {
  switch (static_cast<EapMethod>(x.authenticationProtocol)) {
    case EapMethod::Tls:
    case EapMethod::FastTls:
      if (x.clientCertificateId.empty()) return WifiProfileCheck::Invalid8021x;
      break;
    case EapMethod::TtlsMschapv2:
    case EapMethod::PeapMschapv2:
    case EapMethod::PeapGtc:
    case EapMethod::FastMschapv2:
    case EapMethod::FastGtc:
      if (x.username.empty()) return WifiProfileCheck::Invalid8021x;
      break;
    default: return WifiProfileCheck::Invalid8021x;  // EAP-MD5, -PSK, -SIM, -AKA: not in AMT
  }
  if (x.serverCertificateNameComparison != 2 && x.serverCertificateNameComparison != 3)
    return WifiProfileCheck::Invalid8021x;
  return WifiProfileCheck::Ok;
}

WifiProfileCheck checkItProfile(const WifiSettings& settings, const WifiProfile& p) {
  if (auto c = checkCommon(p); c != WifiProfileCheck::Ok) return c;
  // "Admin profiles must be TKIP or CCMP with Wi-Fi Protected Access (WPA) or higher security" (Developer Guide).
  const bool wpa = isPsk(p.authenticationMethod) || is8021x(p.authenticationMethod);
  if (!wpa || (p.encryptionMethod != wifi_encryption::kTkip && p.encryptionMethod != wifi_encryption::kCcmp))
    return WifiProfileCheck::InvalidSecurity;
  if (is8021x(p.authenticationMethod) != p.ieee8021x.has_value()) return WifiProfileCheck::Invalid8021x;
  if (p.ieee8021x)
    if (auto c = check8021x(*p.ieee8021x); c != WifiProfileCheck::Ok) return c;
  for (const auto& other : settings.profiles) {
    if (sameName(other, p)) return WifiProfileCheck::DuplicateName;
    if (!other.userProfile && other.priority == p.priority) return WifiProfileCheck::DuplicatePriority;
  }
  if (settings.profiles.size() >= WifiSettings::kMaxProfiles) return WifiProfileCheck::TooManyProfiles;
  return WifiProfileCheck::Ok;
}

void addProfile(WifiSettings& settings, WifiProfile profile) {
  profile.addedSequence = settings.nextSequence++;
  settings.profiles.push_back(std::move(profile));
}

WifiProfileCheck addUserProfile(WifiSettings& settings, WifiProfile p) {
  p.userProfile = true;
  if (auto c = checkCommon(p); c != WifiProfileCheck::Ok) return c;
  // User profiles: open, shared-key (WEP) or PSK; "802.1x profiles are not automatically synchronized".
  const bool openOrWep = p.authenticationMethod == wifi_auth::kOpenSystem || p.authenticationMethod == wifi_auth::kSharedKey;
  if (openOrWep ? (p.encryptionMethod != wifi_encryption::kNone && p.encryptionMethod != wifi_encryption::kWep)
                : (!isPsk(p.authenticationMethod) ||
                   (p.encryptionMethod != wifi_encryption::kTkip && p.encryptionMethod != wifi_encryption::kCcmp)))
    return WifiProfileCheck::InvalidSecurity;
  if (p.ieee8021x) return WifiProfileCheck::Invalid8021x;
  auto list = settings.profiles;  // changed only if the profile is taken
  std::erase_if(list, [&](const WifiProfile& o) { return o.userProfile && o.ssid == p.ssid; });
  for (const auto& o : list)
    if (sameName(o, p)) return WifiProfileCheck::DuplicateName;
  const auto users = std::count_if(list.begin(), list.end(), [](const WifiProfile& o) { return o.userProfile; });
  if (static_cast<std::size_t>(users) >= WifiSettings::kMaxUserProfiles) {
    // "With the ninth user profile, the oldest user profile is overwritten."
    auto oldest = std::min_element(list.begin(), list.end(), [](const WifiProfile& a, const WifiProfile& b) {
      if (a.userProfile != b.userProfile) return a.userProfile;
      return a.addedSequence < b.addedSequence;
    });
    list.erase(oldest);
  } else if (list.size() >= WifiSettings::kMaxProfiles) {
    return WifiProfileCheck::TooManyProfiles;
  }
  if (p.instanceId.empty()) p.instanceId = "Intel(r) AMT:WiFi Endpoint User Settings " + std::to_string(settings.nextSequence);
  settings.profiles = std::move(list);
  addProfile(settings, std::move(p));
  return WifiProfileCheck::Ok;
}

const WifiProfile* connectedProfile(const WifiSettings& settings) {
  if (settings.portState == wifi_port_state::kDisabled) return nullptr;
  const WifiProfile* best = nullptr;
  for (const auto& p : settings.profiles) {
    if (!best) best = &p;
    else if (best->userProfile != p.userProfile) best = p.userProfile ? best : &p;
    else if (p.userProfile ? p.addedSequence > best->addedSequence : p.priority < best->priority) best = &p;
  }
  return best;
}

void updateWirelessLink(PlatformState& s) {
  auto& lan = s.wireless;
  const bool connected = lan.present && connectedProfile(s.wifi) != nullptr;
  lan.enabled = lan.present && s.wifi.portState != wifi_port_state::kDisabled;
  lan.linkUp = connected;
  lan.dhcpEnabled = true;  // AMT's wireless interface takes DHCP only
  lan.ipv4 = connected ? kWirelessLease : 0;
}

std::string itProfileInstanceId(std::string_view name) {
  return "Intel(r) AMT:WiFi Endpoint Settings " + std::string(name);
}

}  // namespace mesim::platform
