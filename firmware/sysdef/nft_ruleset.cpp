#include "firmware/sysdef/nft_ruleset.h"

#include <arpa/inet.h>

#include <boost/json.hpp>

#include <cstdio>
#include <sstream>

namespace mesim::sysdef {
namespace {

using platform::SdFilter;
using platform::SdFilterKind;
using platform::SdPolicy;
namespace profile = platform::sd_profile;

constexpr std::uint16_t kEtherArp = 2054;

std::string addressText(const std::vector<std::uint8_t>& b) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (b.size() == 4) inet_ntop(AF_INET, b.data(), buf, sizeof buf);
  else if (b.size() == 16) inet_ntop(AF_INET6, b.data(), buf, sizeof buf);
  return buf;
}

std::vector<std::uint8_t> masked(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& mask) {
  for (std::size_t i = 0; i < a.size() && i < mask.size(); ++i) a[i] &= mask[i];
  return a;
}

// "ip saddr ..." for one side of an IP filter ("" when it matches any address).
std::string addressMatch(const std::string& family, const char* field, const std::vector<std::uint8_t>& address,
                         const std::vector<std::uint8_t>& mask, const std::vector<std::uint8_t>& end) {
  const std::size_t width = family == "ip" ? 4 : 16;
  if (address.size() != width) return {};
  const std::string prefix = family + " " + field + " ";
  if (end.size() == width) return prefix + addressText(address) + "-" + addressText(end) + " ";
  if (mask.size() == width) return prefix + "& " + addressText(mask) + " == " + addressText(masked(address, mask)) + " ";
  return prefix + addressText(address) + " ";
}

std::string portMatch(const char* field, std::uint16_t start, std::uint16_t end) {
  if (start == 0 && end == 0) return {};
  if (end <= start) return std::string("th ") + field + " " + std::to_string(start) + " ";
  return std::string("th ") + field + " " + std::to_string(start) + "-" + std::to_string(end) + " ";
}

// What a filter matches, as nft expressions; the caller adds the counter and verdict.
std::string conditions(const SdFilter& f) {
  if (f.kind == SdFilterKind::Ethernet) {
    if (f.etherType == kEtherArp) return {};  // the arp table holds ARP alone
    char buf[32];
    std::snprintf(buf, sizeof buf, "meta protocol 0x%04x ", static_cast<unsigned>(f.etherType));
    return buf;
  }
  const bool v6 = f.ipVersion == 6;
  const std::string family = v6 ? "ip6" : "ip";
  std::string out = v6 ? "meta nfproto ipv6 " : "meta nfproto ipv4 ";
  out += addressMatch(family, "saddr", f.srcAddress, f.srcMask, f.srcEndOfRange);
  out += addressMatch(family, "daddr", f.destAddress, f.destMask, f.destEndOfRange);
  const bool ports = f.srcPortStart || f.srcPortEnd || f.destPortStart || f.destPortEnd;
  if (f.protocol) out += "meta l4proto " + std::to_string(*f.protocol) + " ";
  else if (ports) out += "meta l4proto { 6, 17 } ";
  out += portMatch("sport", f.srcPortStart, f.srcPortEnd);
  out += portMatch("dport", f.destPortStart, f.destPortEnd);
  if (f.dscp) out += family + " dscp " + std::to_string(*f.dscp & 0x3F) + " ";
  if (f.flowLabel && v6) out += "ip6 flowlabel " + std::to_string(*f.flowLabel & 0xFFFFF) + " ";
  if (f.tcpFlagsOn || f.tcpFlagsOff) {
    const unsigned on = f.tcpFlagsOn, both = static_cast<unsigned>(f.tcpFlagsOn | f.tcpFlagsOff);
    out += "tcp flags & " + std::to_string(both) + " == " + std::to_string(on) + " ";
  }
  return out;
}

// The rules that count a match of `name` and act on it (each line ends with a newline).
std::string verdictRules(const std::string& match, const SdFilter& f, const std::string& name) {
  // nft wants the comment last in a rule.
  const std::string comment = " comment \"" + name + "\"\n";
  switch (f.profile) {
    case profile::kStatisticsPass:
    case profile::kPass: return match + "counter accept" + comment;
    case profile::kStatisticsDrop:
    case profile::kDrop: return match + "counter drop" + comment;
    case profile::kRateLimit: {
      // Up to N packets a second pass; the rest are dropped. A rate of 0 drops them all.
      if (f.profileData == 0) return match + "counter drop" + comment;
      return match + "counter limit rate " + std::to_string(f.profileData) + "/second accept" + comment + match + "drop\n";
    }
  }
  return match + "counter drop" + comment;
}

// One filter in a chain: a plain rule, or for a negated filter a chain of its own that returns when the filter's
// conditions hold (so the verdict applies to every packet they do not match).
void addFilter(std::ostringstream& chain, std::ostringstream& extraChains, const SdFilter& f) {
  const std::string name = "f" + std::to_string(f.handle);
  const std::string match = conditions(f);
  if (!f.negated) {
    chain << "    " << verdictRules(match, f, name);
    return;
  }
  extraChains << "  chain n" << f.handle << " {\n";
  if (!match.empty()) extraChains << "    " << match << "return\n";
  else extraChains << "    return\n";  // a negated "any packet" matches nothing
  std::string rules = verdictRules("", f, name);
  std::istringstream lines(rules);
  for (std::string line; std::getline(lines, line);) extraChains << "    " << line << "\n";
  extraChains << "  }\n";
  chain << "    jump n" << f.handle << "\n";
}

std::string defaultRule(bool drop, bool count, std::uint32_t handle) {
  if (!drop && !count) return {};
  return std::string("    counter ") + (drop ? "drop" : "accept") + " comment \"d" + std::to_string(handle) + "\"\n";
}

}  // namespace

std::string nftClear() {
  // Declaring a table first makes the delete harmless when it is absent.
  return std::string("table inet ") + kNftTable + "\ndelete table inet " + kNftTable + "\ntable arp " + kNftArpTable +
         "\ndelete table arp " + kNftArpTable + "\n";
}

std::string nftRuleset(const platform::SystemDefenseState& state, const SdPolicy& policy) {
  std::ostringstream out, extra, arpOut, arpIn, tx, rx;
  for (std::uint32_t handle : policy.filters) {
    const SdFilter* f = state.filter(handle);
    if (!f) continue;
    const bool arp = f->kind == SdFilterKind::Ethernet && f->etherType == kEtherArp;
    if (arp) addFilter(f->direction == platform::kSdTx ? arpOut : arpIn, extra, *f);
    else addFilter(f->direction == platform::kSdTx ? tx : rx, extra, *f);
  }
  out << nftClear();
  out << "table inet " << kNftTable << " {\n";
  out << extra.str();
  out << "  chain tx {\n    type filter hook output priority 0; policy accept;\n    oifname \"lo\" accept\n";
  // Anti-spoofing: the host may send only from its own addresses.
  if (policy.antiSpoofing)
    out << "    fib saddr type != local counter drop comment \"d" << kAntiSpoofHandle << "\"\n";
  out << tx.str() << defaultRule(policy.txDefaultDrop, policy.txDefaultCount || policy.txDefaultMatchEvent, kDefaultTxHandle);
  out << "  }\n";
  out << "  chain rx {\n    type filter hook input priority 0; policy accept;\n    iifname \"lo\" accept\n";
  out << rx.str() << defaultRule(policy.rxDefaultDrop, policy.rxDefaultCount || policy.rxDefaultMatchEvent, kDefaultRxHandle);
  out << "  }\n}\n";
  // ARP never reaches the inet hooks; the default drop applies to it too (an isolated host resolves nothing).
  out << "table arp " << kNftArpTable << " {\n";
  out << "  chain tx {\n    type filter hook output priority 0; policy accept;\n" << arpOut.str();
  if (policy.txDefaultDrop) out << "    drop\n";
  out << "  }\n  chain rx {\n    type filter hook input priority 0; policy accept;\n" << arpIn.str();
  if (policy.rxDefaultDrop) out << "    drop\n";
  out << "  }\n}\n";
  return out.str();
}

Result<std::map<std::uint32_t, NftCounter>> parseNftCounters(std::string_view text) {
  namespace json = boost::json;
  json::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) return fail("nft output is not JSON: " + ec.message());
  const json::object* top = root.if_object();
  const json::value* items = top ? top->if_contains("nftables") : nullptr;
  if (!items || !items->is_array()) return fail("nft output has no \"nftables\" array");
  std::map<std::uint32_t, NftCounter> out;
  for (const auto& item : items->get_array()) {
    const json::object* o = item.if_object();
    const json::value* rule = o ? o->if_contains("rule") : nullptr;
    if (!rule || !rule->is_object()) continue;
    const json::object& r = rule->get_object();
    const json::value* table = r.if_contains("table");
    const json::value* comment = r.if_contains("comment");
    const json::value* expr = r.if_contains("expr");
    if (!table || !table->is_string() || !comment || !comment->is_string() || !expr || !expr->is_array()) continue;
    if (table->get_string() != kNftTable && table->get_string() != kNftArpTable) continue;
    const std::string_view name = comment->get_string();
    if (name.size() < 2 || (name[0] != 'f' && name[0] != 'd')) continue;
    std::uint64_t number = 0;
    bool ok = name.size() <= 11;
    for (char c : name.substr(1)) {
      if (c < '0' || c > '9') ok = false;
      else number = number * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (!ok || number > 0xFFFFFFFFu) continue;
    const auto handle = static_cast<std::uint32_t>(number);
    for (const auto& e : expr->get_array()) {
      const json::object* eo = e.if_object();
      const json::value* counter = eo ? eo->if_contains("counter") : nullptr;
      if (!counter || !counter->is_object()) continue;
      const json::object& c = counter->get_object();
      auto number = [&](const char* key) -> std::uint64_t {
        const json::value* v = c.if_contains(key);
        if (v && v->is_uint64()) return v->get_uint64();
        if (v && v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
        return 0;
      };
      out[handle].packets += number("packets");
      out[handle].bytes += number("bytes");
    }
  }
  return out;
}

}  // namespace mesim::sysdef
