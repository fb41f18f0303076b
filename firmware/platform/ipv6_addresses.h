// The IPv6 addresses AMT's wired interface holds while IPv6 is on (IPS_IPv6PortSettings.CurrentAddressInfo and the
// AMTHI GetIPv6LanInterfaceStatus answer both read them here, so the two never disagree).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "firmware/platform/ipv6_state.h"
#include "firmware/platform/platform_state.h"

namespace mesim::platform {

// AMTHI CFG_IPv6_ADDR_TYPE / _STATE values (intel/lms GetIPv6LanInterfaceStatusCommand.h), the same numbers
// CurrentAddressInfo's "%address%,%type%,%state%" uses.
namespace ipv6_address {
inline constexpr std::uint32_t kTypeLinkLocal = 0;
inline constexpr std::uint32_t kTypeManual = 3;
inline constexpr std::uint32_t kStatePreferred = 1;
}  // namespace ipv6_address

struct Ipv6CurrentAddress {
  std::string address;  // canonical text
  std::uint32_t type = 0;
  std::uint32_t state = 0;
};

// The 8-byte interface ID the auto-configured addresses end in (IPS_IPv6PortSettings.InterfaceIDType).
std::array<std::uint8_t, 8> ipv6InterfaceId(const Ipv6Settings& v6, const MacAddress& mac);
// fe80:: and the interface ID.
std::string ipv6LinkLocal(const std::array<std::uint8_t, 8>& id);
// Whether IPv6 is in use on `lan`: switched on, and the interface enabled with its link up.
bool ipv6Active(const Ipv6Settings& v6, const LanInterface& lan);
// The link-local address, then the static one if set; none unless ipv6Active.
std::vector<Ipv6CurrentAddress> ipv6CurrentAddresses(const Ipv6Settings& v6, const LanInterface& lan);

}  // namespace mesim::platform
