// The wired network port as DMTF's Ethernet Port and Host LAN Network Port profiles see it (DSP1014, DSP1035):
// CIM_EthernetPort (the device) and CIM_LANEndpoint (its MAC-level access point), joined by
// CIM_DeviceSAPImplementation, and IPS_HostIPSettings, the host's IPv4 settings the port shares. Every value comes from
// the platform's wired LanInterface, the same one AMT_EthernetPortSettings "Intel(r) AMT Ethernet Port Settings 0"
// shows. The wireless port (CIM_WiFiPort, CIM_WiFiEndpoint) is its own family.
#include <algorithm>
#include <cctype>

#include "common/text_codecs.h"
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

// CIM writes a MAC as 12 hex digits without separators (PermanentAddress, MACAddress).
std::string cimMac(const platform::MacAddress& mac) {
  std::string text = text::macText(mac, '-');
  std::erase(text, '-');
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
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
  implementation.enumerate = [](CimContext&) {
    Instance i;
    i.setRef("Antecedent", ethernetPortRef()).setRef("Dependent", serviceRef(Schema::Cim, "CIM_LANEndpoint", kEndpointName));
    return std::vector<Instance>{i};
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
}

}  // namespace mesim::wsman::cim
