// System Defense (network isolation, spec/features.md §2, docs/system-defense.md): the policies and filters a
// console creates, and which policy each NIC has enabled by each of the features that may enable one (System
// Defense itself, agent presence, environment detection, the default). Persisted in platform.json
// ("systemDefense", system_defense_json.cpp). Which policy is in effect is computed here from the state and the
// firmware time, so every reader (WS-Man, the host-network enforcer) agrees.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mesim::platform {

// AMT_GeneralSystemDefenseCapabilities (AMT 16).
inline constexpr std::size_t kSdMaxPolicies = 8;
inline constexpr std::size_t kSdMaxFilters = 80;
inline constexpr std::size_t kSdMaxFiltersPerPolicy = 62;  // FilterCreationHandles holds at most 62
inline constexpr std::size_t kSdMaxNameLength = 16;
inline constexpr std::size_t kSdNics = 2;  // 0 wired, 1 wireless

enum class SdFilterKind : std::uint8_t { Ethernet = 0, IpHeaders = 1 };

// FilterProfile: what a matching packet gets.
namespace sd_profile {
inline constexpr std::uint8_t kStatisticsPass = 0;
inline constexpr std::uint8_t kStatisticsDrop = 1;
inline constexpr std::uint8_t kRateLimit = 2;  // FilterProfileData = packets per second
inline constexpr std::uint8_t kPass = 3;
inline constexpr std::uint8_t kDrop = 4;
}  // namespace sd_profile

inline constexpr std::uint8_t kSdTx = 0;  // FilterDirection
inline constexpr std::uint8_t kSdRx = 1;

// One AMT_Hdr8021Filter or AMT_IPHeadersFilter. Addresses are raw bytes (4 or 16; empty = any).
struct SdFilter {
  std::uint32_t handle = 0;  // InstanceID and the number in FilterCreationHandles
  std::string name;
  SdFilterKind kind = SdFilterKind::IpHeaders;
  bool negated = false;
  std::uint8_t direction = kSdTx;
  std::uint8_t profile = sd_profile::kDrop;
  std::uint32_t profileData = 0;
  bool eventOnMatch = false;
  // Hdr8021Filter
  std::uint16_t etherType = 0;  // HdrProtocolID8021 (2048 IPv4, 2054 ARP, 34525 IPv6)
  // IPHeadersFilter
  std::uint8_t ipVersion = 4;
  std::vector<std::uint8_t> srcAddress, srcMask, srcEndOfRange;
  std::vector<std::uint8_t> destAddress, destMask, destEndOfRange;
  std::optional<std::uint8_t> protocol;  // HdrProtocolID (6 TCP, 17 UDP, 1 ICMP, ...)
  std::uint16_t srcPortStart = 0, srcPortEnd = 0, destPortStart = 0, destPortEnd = 0;  // 0..0 = any
  std::optional<std::uint8_t> dscp;
  std::optional<std::uint32_t> flowLabel;
  std::uint8_t tcpFlagsOn = 0, tcpFlagsOff = 0;
  bool operator==(const SdFilter&) const = default;
};

// One AMT_SystemDefensePolicy.
struct SdPolicy {
  std::uint32_t handle = 0;
  std::string name;
  std::uint32_t precedence = 0;  // the highest enabled precedence wins on a NIC
  std::uint32_t antiSpoofing = 0;  // AntiSpoofingSupport: 0 off, otherwise the host may send only from its own addresses
  std::vector<std::uint32_t> filters;  // FilterCreationHandles
  bool txDefaultDrop = false, txDefaultMatchEvent = false, txDefaultCount = false;
  bool rxDefaultDrop = false, rxDefaultMatchEvent = false, rxDefaultCount = false;
  std::uint32_t timeoutMinutes = 0;  // SetTimeout: 0 = none
  bool operator==(const SdPolicy&) const = default;
};

// Who enabled a policy on a NIC, in the order of AMT's own precedence among equal PolicyPrecedence.
enum class SdSource : std::uint8_t { SystemDefense = 0, AgentPresence = 1, EnvironmentDetection = 2, Default = 3 };
const char* toString(SdSource source);

// A policy one source set on a NIC. `enabled`: in force (for agent presence: invoked by a watchdog action).
struct SdSlot {
  std::uint32_t policy = 0;  // 0 = none
  bool enabled = false;
  std::int64_t since = 0;     // firmware Unix seconds it was enabled; its Timeout counts from here
  bool operator==(const SdSlot&) const = default;
};

struct SdNic {
  std::array<SdSlot, 4> slots{};  // by SdSource
  SdSlot& slot(SdSource s) { return slots[static_cast<std::size_t>(s)]; }
  const SdSlot& slot(SdSource s) const { return slots[static_cast<std::size_t>(s)]; }
  bool operator==(const SdNic&) const = default;
};

// AMT_EnvironmentDetectionSettingData.
struct SdEnvironmentDetection {
  std::vector<std::string> detectionStrings;  // the enterprise's DNS suffixes; outside = the domain is none of them
  // EnableVpnRouting: outside the enterprise, AMT's own traffic may go through the host's VPN (the CIRA side reads it).
  bool vpnRoutingEnabled = false;
  bool operator==(const SdEnvironmentDetection&) const = default;
};

struct SystemDefenseState {
  std::vector<SdPolicy> policies;
  std::vector<SdFilter> filters;
  std::uint32_t nextHandle = 1;
  std::array<SdNic, kSdNics> nics{};
  SdEnvironmentDetection environment;
  bool operator==(const SystemDefenseState&) const = default;

  const SdPolicy* policy(std::uint32_t handle) const;
  SdPolicy* policy(std::uint32_t handle);
  const SdFilter* filter(std::uint32_t handle) const;
  std::uint32_t takeHandle() { return nextHandle++; }
};

// The policy in force on `nic` at `now`: the highest PolicyPrecedence among the enabled, unexpired slots (a tie
// goes to the lower SdSource). `domain` is AMT's DNS domain, which environment detection compares.
struct SdActive {
  std::uint32_t policy = 0;
  SdSource source = SdSource::SystemDefense;
  std::int64_t since = 0;
  bool operator==(const SdActive&) const = default;
};
bool sdSlotExpired(const SystemDefenseState& s, const SdSlot& slot, std::int64_t now);
bool sdOutsideEnterprise(const SystemDefenseState& s, const std::string& domain);
std::optional<SdActive> sdActivePolicy(const SystemDefenseState& s, std::size_t nic, std::int64_t now,
                                       const std::string& domain);
// The firmware second at which the next enabled slot's Timeout ends (after `now`), if any.
std::optional<std::int64_t> sdNextExpiry(const SystemDefenseState& s, std::int64_t now);

}  // namespace mesim::platform
