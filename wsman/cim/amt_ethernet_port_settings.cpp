// AMT_EthernetPortSettings: instance 0 = the wired LAN, 1 = wireless (spec/wsman.md §3.4).
#include "common/text_codecs.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kWiredId = "Intel(r) AMT Ethernet Port Settings 0";
constexpr const char* kWirelessId = "Intel(r) AMT Ethernet Port Settings 1";

// LinkPolicy's array: the values whose bits the interface's policy holds (1 S0/AC, 14 Sx/AC, 16 S0/DC, 224 Sx/DC).
std::vector<std::uint32_t> linkPolicyValues(std::uint8_t policy) {
  std::vector<std::uint32_t> values;
  for (std::uint32_t value : {1u, 14u, 16u, 224u})
    if ((policy & value) == value) values.push_back(value);
  return values;
}

Instance port(const platform::LanInterface& lan, const char* id, bool wireless) {
  Instance i;
  i.setBool("DHCPEnabled", lan.dhcpEnabled)
      .set("ElementName", "Intel(r) AMT Ethernet Port Settings")
      .set("InstanceID", id)
      .setBool("IpSyncEnabled", true)
      .setBool("LinkIsUp", lan.linkUp)
      .set("LinkPolicy", Value::numbers(linkPolicyValues(lan.effectiveLinkPolicy(wireless))))
      .set("MACAddress", text::macText(lan.mac, '-'))
      .setNum("PhysicalConnectionType", wireless ? 3 : 0)
      .setBool("SharedDynamicIP", true)
      .setBool("SharedMAC", true)
      .setBool("SharedStaticIp", false);
  if (lan.ipv4) {
    i.set("DefaultGateway", text::ipv4Text(lan.effectiveGateway()))
        .set("IPAddress", text::ipv4Text(lan.ipv4))
        .set("PrimaryDNS", text::ipv4Text(lan.effectivePrimaryDns()));
    if (lan.secondaryDns) i.set("SecondaryDNS", text::ipv4Text(lan.secondaryDns));
    i.set("SubnetMask", text::ipv4Text(lan.effectiveSubnetMask()));
  }
  if (wireless) i.setNum("LinkControl", 2).setNum("LinkPreference", 2).setNum("WLANLinkProtectionLevel", 1);
  return i;
}

ChangeFault putPort(CimContext& ctx, const Instance& current, const Arguments& in) {
  const bool wireless = current.str("InstanceID") == kWirelessId;
  bool dhcp = false;
  std::string ip;
  std::uint32_t address = 0;
  const bool hasDhcp = argBool(in, "DHCPEnabled", dhcp);
  if (argString(in, "IPAddress", ip)) {
    const auto parsed = text::parseIpv4(ip);
    if (!parsed) return invalidParameter("IPAddress is not an IPv4 address.");
    address = *parsed;
  }
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    auto& lan = wireless ? s.wireless : s.wired;
    if (hasDhcp) lan.dhcpEnabled = dhcp;
    // A static mask, gateway and DNS servers (set over legacy SOAP) belong to a static address only.
    if (hasDhcp && dhcp) lan.subnetMask = lan.gateway = lan.primaryDns = lan.secondaryDns = 0;
    if (!ip.empty() && !lan.dhcpEnabled) lan.ipv4 = address;
  });
  return changeFault(result);
}

}  // namespace

void registerEthernetPortSettings(ClassRegistry& r) {
  ClassDef c{.name = "AMT_EthernetPortSettings", .schema = Schema::Amt, .keys = {"InstanceID"}};
  c.properties = {W("DHCPEnabled", T::Boolean), W("DefaultGateway"), P("ElementName"), W("IPAddress"), P("InstanceID"),
                  W("IpSyncEnabled", T::Boolean), P("LinkControl", T::UInt32), P("LinkIsUp", T::Boolean),
                  A("LinkPolicy", T::UInt8), P("LinkPreference", T::UInt32), P("MACAddress"),
                  P("PhysicalConnectionType", T::UInt32), W("PrimaryDNS"), W("SecondaryDNS"),
                  W("SharedDynamicIP", T::Boolean), P("SharedMAC", T::Boolean), W("SharedStaticIp", T::Boolean),
                  W("SubnetMask"), P("WLANLinkProtectionLevel", T::UInt32)};
  c.methods = {{"SetLinkPreference",
                {In("LinkPreference", T::UInt32), In("Timeout", T::UInt32)},
                {},
                [](CimContext&, const Instance& target, const Arguments& in) {
                  std::uint64_t pref = 0;
                  if (target.str("InstanceID") != kWirelessId) return MethodResult::status(status::kUnsupported);
                  if (!argUint(in, "LinkPreference", pref) || (pref != 1 && pref != 2))
                    return MethodResult::status(status::kInvalidParameter);
                  return MethodResult::status(status::kSuccess);
                }}};
  c.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out{port(ctx.platform.wired(), kWiredId, false)};
    if (ctx.platform.wireless().present) out.push_back(port(ctx.platform.wireless(), kWirelessId, true));
    return out;
  };
  c.put = putPort;
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
