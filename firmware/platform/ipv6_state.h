// The wired interface's IPv6 settings (IPS_IPv6PortSettings "Intel(r) IPS IPv6 Settings 0"; on or off through its
// CIM_ElementSettingData.IsCurrent, as MeshCommander's IPv6 dialog sets it). Persisted as platform.json
// "network.wiredIpv6" (ipv6_json.cpp); every field has a default, so older state files load.
#pragma once

#include <cstdint>
#include <string>

namespace mesim::platform {

// IPS_IPv6PortSettings.InterfaceIDType: how the auto-configured addresses get their interface ID.
enum class Ipv6InterfaceIdType : std::uint32_t { Randomized = 0, IntelMacBased = 1, Manual = 2 };

struct Ipv6Settings {
  bool enabled = false;  // AMT ships with IPv6 off
  Ipv6InterfaceIdType interfaceIdType = Ipv6InterfaceIdType::IntelMacBased;
  std::string manualInterfaceId;  // 16 hex digits (8 bytes), used when interfaceIdType is Manual; "" none set
  // Static values, in canonical text form (inet_ntop); "" unset (a client unsets one by writing "::").
  std::string address;
  std::string defaultRouter;
  std::string primaryDns;
  std::string secondaryDns;

  bool operator==(const Ipv6Settings&) const = default;
};

}  // namespace mesim::platform
