#include "firmware/platform/ipv6_addresses.h"

#include <algorithm>
#include <cstdio>

#include "common/text_codecs.h"
#include "firmware/platform/ipv6_json.h"

namespace mesim::platform {

std::array<std::uint8_t, 8> ipv6InterfaceId(const Ipv6Settings& v6, const MacAddress& mac) {
  std::array<std::uint8_t, 8> id{};
  if (v6.interfaceIdType == Ipv6InterfaceIdType::Manual) {
    if (auto bytes = text::fromHex(v6.manualInterfaceId); bytes && bytes->size() == id.size())
      std::copy(bytes->begin(), bytes->end(), id.begin());
  } else if (v6.interfaceIdType == Ipv6InterfaceIdType::IntelMacBased) {
    std::copy(mac.begin(), mac.end(), id.begin());  // the MAC with 0x8086 appended
    id[6] = 0x80;
    id[7] = 0x86;
  } else {
    // RFC 3041 wants it random; a hash of the MAC (FNV-1a) keeps it random-looking yet the same on each start.
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (auto b : mac) h = (h ^ b) * 0x100000001b3ull;
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::uint8_t>(h >> (8 * i));
    id[0] &= 0xFD;  // the universal/local bit says "local"
  }
  return id;
}

std::string ipv6LinkLocal(const std::array<std::uint8_t, 8>& id) {
  std::string text = "fe80::";
  for (std::size_t i = 0; i < id.size(); i += 2) {
    char group[8];
    std::snprintf(group, sizeof group, "%x", (id[i] << 8) | id[i + 1]);
    text += std::string(i ? ":" : "") + group;
  }
  return canonicalIpv6(text);
}

bool ipv6Active(const Ipv6Settings& v6, const LanInterface& lan) { return v6.enabled && lan.enabled && lan.linkUp; }

std::vector<Ipv6CurrentAddress> ipv6CurrentAddresses(const Ipv6Settings& v6, const LanInterface& lan) {
  std::vector<Ipv6CurrentAddress> out;
  if (!ipv6Active(v6, lan)) return out;
  out.push_back({ipv6LinkLocal(ipv6InterfaceId(v6, lan.mac)), ipv6_address::kTypeLinkLocal, ipv6_address::kStatePreferred});
  if (!v6.address.empty()) out.push_back({v6.address, ipv6_address::kTypeManual, ipv6_address::kStatePreferred});
  return out;
}

}  // namespace mesim::platform
