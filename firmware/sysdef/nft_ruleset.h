// The System Defense policy in force, as an nftables ruleset for the simulated host's network namespace, and the
// counters read back from `nft -j list ruleset` (docs/system-defense.md has the mapping). Pure text work: the
// host-network side (app/) runs nft. Only numbers the code formats itself reach the ruleset (handles, addresses
// from bytes, ports): a filter's name or any other client text never does, so WS-Man input cannot inject nft syntax.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"
#include "firmware/platform/system_defense_state.h"

namespace mesim::sysdef {

inline constexpr const char* kNftTable = "mesim_sd";         // family inet: IPv4 and IPv6
inline constexpr const char* kNftArpTable = "mesim_sd_arp";  // family arp: Ethernet filters on ARP (2054)

// Counter names (rule comments): "f<handle>" for a filter, and these for the policy's own rules.
inline constexpr std::uint32_t kDefaultRxHandle = 0xFFFFFFFD;  // as the 0x24 log record names them
inline constexpr std::uint32_t kDefaultTxHandle = 0xFFFFFFFC;
inline constexpr std::uint32_t kAntiSpoofHandle = 0xFFFFFFFA;

// Replaces whatever mesim's tables hold with `policy` (its filters looked up in `state`), in one transaction.
std::string nftRuleset(const platform::SystemDefenseState& state, const platform::SdPolicy& policy);
// Removes mesim's tables (nothing in force); harmless when they do not exist.
std::string nftClear();

struct NftCounter {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  bool operator==(const NftCounter&) const = default;
};
// Packets and bytes by handle (filters, kDefault*Handle, kAntiSpoofHandle), summed over the rules of each, from
// the JSON of `nft -j list ruleset`; tables not mesim's are ignored.
Result<std::map<std::uint32_t, NftCounter>> parseNftCounters(std::string_view json);

}  // namespace mesim::sysdef
