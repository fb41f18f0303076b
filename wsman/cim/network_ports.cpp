// The wired network port as DMTF's Ethernet Port and Host LAN Network Port profiles see it (DSP1014, DSP1035):
// CIM_EthernetPort (the device) and CIM_LANEndpoint (its MAC-level access point), joined by
// CIM_DeviceSAPImplementation, and IPS_HostIPSettings, the host's IPv4 settings the port shares. Every value comes from
// the platform's wired LanInterface, the same one AMT_EthernetPortSettings "Intel(r) AMT Ethernet Port Settings 0"
// shows. The wireless port (CIM_WiFiPort, CIM_WiFiEndpoint) is its own family.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <optional>

#include "common/text_codecs.h"
#include "firmware/platform/ipv6_addresses.h"
#include "firmware/platform/ipv6_json.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;

constexpr const char* kPortId = "Intel(r) AMT Ethernet Port 0";
constexpr const char* kEndpointName = "Intel(r) AMT Ethernet Port 0";
constexpr const char* kHostIpId = "Intel(r) AMT Host IP Settings";

EndpointReference ethernetPortRef() {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Cim, "CIM_EthernetPort");
  e.selectors = {soap::textSelector("CreationClassName", "CIM_EthernetPort"), soap::textSelector("DeviceID", kPortId),
                 soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                 soap::textSelector("SystemName", kAmtSystemName)};
  return e;
}

constexpr const char* kIpv6Id = "Intel(r) IPS IPv6 Settings 0";

// CIM writes a MAC as 12 hex digits without separators (PermanentAddress, MACAddress).
std::string cimMac(const platform::MacAddress& mac) {
  std::string text = text::macText(mac, '-');
  std::erase(text, '-');
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

// A static IPv6 value from a Put: "" or "::" (how consoles unset one) clears it; nullopt: not an IPv6 address.
std::optional<std::string> staticIpv6(const std::string& text) {
  if (text.empty()) return std::string{};
  const std::string canonical = platform::canonicalIpv6(text);
  if (canonical.empty()) return std::nullopt;
  return canonical == "::" ? std::string{} : canonical;
}

Instance ipv6Settings(CimContext& ctx) {
  const auto& v6 = ctx.platform.state().wiredIpv6;
  const auto& lan = ctx.platform.wired();
  Instance i;
  i.set("ElementName", "Intel(r) IPS IPv6 Settings").set("InstanceID", kIpv6Id);
  i.setNum("InterfaceIDType", static_cast<std::uint32_t>(v6.interfaceIdType));
  if (!v6.manualInterfaceId.empty()) i.set("ManualInterfaceID", v6.manualInterfaceId);
  if (!v6.address.empty()) i.set("IPv6Address", v6.address);
  if (!v6.defaultRouter.empty()) i.set("DefaultRouter", v6.defaultRouter);
  if (!v6.primaryDns.empty()) i.set("PrimaryDNS", v6.primaryDns);
  if (!v6.secondaryDns.empty()) i.set("SecondaryDNS", v6.secondaryDns);
  if (platform::ipv6Active(v6, lan)) {
    // "%address%,%type%,%state%": 0 link-local from the interface ID, 3 set by the user; state 1 valid (preferred).
    std::vector<std::string> info;
    for (const auto& a : platform::ipv6CurrentAddresses(v6, lan))
      info.push_back(a.address + "," + std::to_string(a.type) + "," + std::to_string(a.state));
    i.set("CurrentAddressInfo", Value::list(info));
    if (!v6.defaultRouter.empty()) i.set("CurrentDefaultRouter", v6.defaultRouter);
    if (!v6.primaryDns.empty()) i.set("CurrentPrimaryDNS", v6.primaryDns);
    if (!v6.secondaryDns.empty()) i.set("CurrentSecondaryDNS", v6.secondaryDns);
  }
  return i;
}

ChangeFault putIpv6Settings(CimContext& ctx, const Instance&, const Arguments& in) {
  platform::Ipv6Settings next = ctx.platform.state().wiredIpv6;
  std::uint64_t type = 0;
  if (in.count("InterfaceIDType")) {
    if (!argUint(in, "InterfaceIDType", type) || type > 2)
      return invalidParameter("InterfaceIDType must be 0 (randomized), 1 (Intel MAC based) or 2 (manual).");
    next.interfaceIdType = static_cast<platform::Ipv6InterfaceIdType>(type);
  }
  std::string text;
  if (argString(in, "ManualInterfaceID", text)) {
    const auto bytes = text::fromHex(text);
    if (!bytes || bytes->size() != 8) return invalidParameter("ManualInterfaceID must be 8 bytes (16 hex digits).");
    next.manualInterfaceId = text::toHex(*bytes);
  }
  if (next.interfaceIdType == platform::Ipv6InterfaceIdType::Manual && next.manualInterfaceId.empty())
    return invalidParameter("A manual InterfaceIDType needs a ManualInterfaceID.");
  for (auto [name, field] : {std::pair{"IPv6Address", &next.address}, std::pair{"DefaultRouter", &next.defaultRouter},
                             std::pair{"PrimaryDNS", &next.primaryDns}, std::pair{"SecondaryDNS", &next.secondaryDns}}) {
    if (!in.count(name)) continue;
    if (!argString(in, name, text)) text.clear();  // present but empty: unset
    const auto value = staticIpv6(text);
    if (!value) return invalidParameter(std::string(name) + " is not an IPv6 address.");
    *field = *value;
  }
  return changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.wiredIpv6 = next; }));
}

}  // namespace

void registerNetworkPorts(ClassRegistry& r) {
  ClassDef port{.name = "CIM_EthernetPort",
                .schema = Schema::Cim,
                .keys = {"CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"}};
  port.properties = {P("CreationClassName"), P("DeviceID"), P("ElementName"), P("EnabledState", T::UInt16),
                     P("LinkTechnology", T::UInt16), A("NetworkAddresses"), A("OperationalStatus", T::UInt16),
                     P("PermanentAddress"), P("PortType", T::UInt16), P("RequestedState", T::UInt16),
                     P("SystemCreationClassName"), P("SystemName")};
  port.enumerate = [](CimContext& ctx) {
    const auto& lan = ctx.platform.wired();
    Instance i;
    i.set("CreationClassName", "CIM_EthernetPort")
        .set("DeviceID", kPortId)
        .set("ElementName", "Intel(r) AMT Ethernet Port")
        .setNum("EnabledState", lan.enabled ? 2 : 3)
        .setNum("LinkTechnology", 2)  // Ethernet
        .set("NetworkAddresses", Value::list({cimMac(lan.mac)}))
        .set("OperationalStatus", Value::numbers({lan.linkUp ? 2u : 10u}))  // OK, or Stopped without a link
        .set("PermanentAddress", cimMac(lan.mac))
        .setNum("PortType", 0)  // Unknown: the PHY's speed is not modelled
        .setNum("RequestedState", 12)
        .set("SystemCreationClassName", "CIM_ComputerSystem")
        .set("SystemName", kAmtSystemName);
    return std::vector<Instance>{i};
  };
  r.add(std::move(port));

  ClassDef endpoint{.name = "CIM_LANEndpoint", .schema = Schema::Cim, .keys = kServiceKeys};
  endpoint.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("MACAddress"),
                         P("Name"), P("NameFormat"), P("ProtocolIFType", T::UInt16), P("RequestedState", T::UInt16),
                         P("SystemCreationClassName"), P("SystemName")};
  endpoint.enumerate = [](CimContext& ctx) {
    const auto& lan = ctx.platform.wired();
    Instance i;
    setServiceKeys(i, "CIM_LANEndpoint", kEndpointName)
        .set("ElementName", "Intel(r) AMT Ethernet Port 0")
        .setNum("EnabledState", lan.enabled && lan.linkUp ? 2 : 3)
        .set("MACAddress", cimMac(lan.mac))
        .set("NameFormat", "MAC")
        .setNum("ProtocolIFType", 6)  // ethernetCsmacd
        .setNum("RequestedState", 12);
    return std::vector<Instance>{i};
  };
  r.add(std::move(endpoint));

  ClassDef implementation{.name = "CIM_DeviceSAPImplementation", .schema = Schema::Cim, .keys = {"Antecedent", "Dependent"}};
  implementation.properties = {P("Antecedent", T::Reference), P("Dependent", T::Reference)};
  implementation.enumerate = [](CimContext& ctx) {
    Instance i;
    i.setRef("Antecedent", ethernetPortRef()).setRef("Dependent", serviceRef(Schema::Cim, "CIM_LANEndpoint", kEndpointName));
    std::vector<Instance> out{i};
    if (ctx.platform.wireless().present) {  // the Wi-Fi port and its endpoint (wifi.cpp)
      EndpointReference wifiPort;
      wifiPort.resourceUri = resourceUri(Schema::Cim, "CIM_WiFiPort");
      wifiPort.selectors = {soap::textSelector("CreationClassName", "CIM_WiFiPort"), soap::textSelector("DeviceID", "WiFi Port 0"),
                            soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                            soap::textSelector("SystemName", kAmtSystemName)};
      Instance w;
      w.setRef("Antecedent", wifiPort).setRef("Dependent", serviceRef(Schema::Cim, "CIM_WiFiEndpoint", "WiFi Endpoint 0"));
      out.push_back(std::move(w));
    }
    return out;
  };
  r.add(std::move(implementation));

  // The host OS's IPv4 settings, which AMT shares on the wired port (SharedDynamicIP / SharedStaticIp).
  ClassDef hostIp{.name = "IPS_HostIPSettings", .schema = Schema::Ips, .keys = {"InstanceID"}};
  hostIp.properties = {P("DHCPEnabled", T::Boolean), P("DefaultGateway"), P("ElementName"), P("InstanceID"),
                       P("IpAddress"), P("PrimaryDNS"), P("SecondaryDNS"), P("SubnetMask")};
  hostIp.enumerate = [](CimContext& ctx) {
    const auto& lan = ctx.platform.wired();
    Instance i;
    i.setBool("DHCPEnabled", lan.dhcpEnabled).set("ElementName", "Intel(r) AMT Host IP Settings").set("InstanceID", kHostIpId);
    if (lan.ipv4) {
      i.set("DefaultGateway", text::ipv4Text(lan.effectiveGateway()))
          .set("IpAddress", text::ipv4Text(lan.ipv4))
          .set("PrimaryDNS", text::ipv4Text(lan.effectivePrimaryDns()))
          .set("SubnetMask", text::ipv4Text(lan.effectiveSubnetMask()));
      if (lan.secondaryDns) i.set("SecondaryDNS", text::ipv4Text(lan.secondaryDns));
    }
    return std::vector<Instance>{i};
  };
  r.add(std::move(hostIp));

  // On or off through the CIM_ElementSettingData between CIM_EthernetPort and these settings (IsCurrent 1 / 2).
  ClassDef ipv6{.name = "IPS_IPv6PortSettings", .schema = Schema::Ips, .keys = {"InstanceID"}};
  ipv6.properties = {A("CurrentAddressInfo"), P("CurrentDefaultRouter"), P("CurrentPrimaryDNS"),
                     P("CurrentSecondaryDNS"), W("DefaultRouter"), P("ElementName"), P("InstanceID"),
                     W("InterfaceIDType", T::UInt32), W("IPv6Address"), W("ManualInterfaceID"), W("PrimaryDNS"),
                     W("SecondaryDNS")};
  ipv6.enumerate = [](CimContext& ctx) { return std::vector<Instance>{ipv6Settings(ctx)}; };
  ipv6.put = putIpv6Settings;
  r.add(std::move(ipv6));
}

}  // namespace mesim::wsman::cim
