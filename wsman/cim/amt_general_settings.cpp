// AMT_GeneralSettings (spec/wsman.md §3.4): host/domain names, realm, DDNS and ping settings.
#include <cctype>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

constexpr const char* kInstanceId = "Intel(r) AMT: General Settings";
using T = PropType;

Instance generalSettings(CimContext& ctx) {
  const auto& s = ctx.platform.state();
  const auto& g = s.general;
  Instance i;
  i.setNum("AMTNetworkEnabled", g.amtNetworkEnabled)
      .setNum("DDNSPeriodicUpdateInterval", s.ddnsUpdateInterval ? s.ddnsUpdateInterval : 1440)
      .setNum("DDNSTTL", s.ddnsTtl)
      .setBool("DDNSUpdateByDHCPServerEnabled", g.ddnsUpdateByDhcpServerEnabled)
      .setBool("DDNSUpdateEnabled", s.ddnsUpdateEnabled)
      .setNum("DHCPSyncRequiresHostname", g.dhcpSyncRequiresHostname)
      .setNum("DHCPv6ConfigurationTimeout", 0)
      .set("DigestRealm", s.digestRealm)
      .set("DomainName", s.domainName)
      .set("ElementName", kInstanceId)
      .set("HostName", s.hostName)
      .set("HostOSFQDN", s.hostFqdn)
      .setNum("IdleWakeTimeout", g.idleWakeTimeout)
      .set("InstanceID", kInstanceId)
      .setBool("NetworkInterfaceEnabled", s.wired.enabled)
      .setBool("PingResponseEnabled", g.pingResponseEnabled)
      .setNum("PowerSource", 0)
      .setNum("PreferredAddressFamily", g.preferredAddressFamily)
      .setNum("PresenceNotificationInterval", 0)
      .setNum("PrivacyLevel", g.privacyLevel)
      .setBool("RmcpPingResponseEnabled", g.rmcpPingResponseEnabled)
      .setBool("SharedFQDN", s.sharedFqdn)
      .setNum("ThunderboltDockEnabled", 0)
      .setBool("WsmanOnlyMode", g.wsmanOnlyMode);
  return i;
}

bool validHostLabel(const std::string& name) {
  if (name.size() > 63) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
  return true;
}

ChangeFault putGeneralSettings(CimContext& ctx, const Instance&, const Arguments& in) {
  std::string host = ctx.platform.state().hostName, domain = ctx.platform.state().domainName;
  argString(in, "HostName", host);
  argString(in, "DomainName", domain);
  if (!validHostLabel(host) || domain.size() > 191) return invalidParameter("HostName or DomainName is not valid.");
  std::uint64_t n = 0;
  bool b = false;
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    s.hostName = host;
    s.domainName = domain;
    if (argBool(in, "SharedFQDN", b)) s.sharedFqdn = b;
    if (argBool(in, "DDNSUpdateEnabled", b)) s.ddnsUpdateEnabled = b;
    if (argUint(in, "DDNSPeriodicUpdateInterval", n)) s.ddnsUpdateInterval = static_cast<std::uint32_t>(n);
    if (argUint(in, "DDNSTTL", n)) s.ddnsTtl = static_cast<std::uint32_t>(n);
    if (argBool(in, "DDNSUpdateByDHCPServerEnabled", b)) s.general.ddnsUpdateByDhcpServerEnabled = b;
    if (argUint(in, "AMTNetworkEnabled", n)) s.general.amtNetworkEnabled = static_cast<std::uint32_t>(n);
    if (argBool(in, "PingResponseEnabled", b)) s.general.pingResponseEnabled = b;
    if (argBool(in, "RmcpPingResponseEnabled", b)) s.general.rmcpPingResponseEnabled = b;
    if (argBool(in, "WsmanOnlyMode", b)) s.general.wsmanOnlyMode = b;
    if (argUint(in, "IdleWakeTimeout", n)) s.general.idleWakeTimeout = static_cast<std::uint32_t>(n);
    if (argUint(in, "PreferredAddressFamily", n)) s.general.preferredAddressFamily = static_cast<std::uint32_t>(n);
    if (argUint(in, "DHCPSyncRequiresHostname", n)) s.general.dhcpSyncRequiresHostname = static_cast<std::uint32_t>(n);
  });
  return changeFault(result);
}

}  // namespace

void registerGeneralSettings(ClassRegistry& r) {
  ClassDef c;
  c.name = "AMT_GeneralSettings";
  c.schema = Schema::Amt;
  c.keys = {"InstanceID"};
  c.properties = {W("AMTNetworkEnabled", T::UInt32), W("DDNSPeriodicUpdateInterval", T::UInt32),
                  W("DDNSTTL", T::UInt32), W("DDNSUpdateByDHCPServerEnabled", T::Boolean),
                  W("DDNSUpdateEnabled", T::Boolean), W("DHCPSyncRequiresHostname", T::UInt32),
                  P("DHCPv6ConfigurationTimeout", T::UInt32), P("DigestRealm"), W("DomainName"), P("ElementName"),
                  W("HostName"), P("HostOSFQDN"), W("IdleWakeTimeout", T::UInt32), P("InstanceID"),
                  P("NetworkInterfaceEnabled", T::Boolean), W("PingResponseEnabled", T::Boolean),
                  P("PowerSource", T::UInt32), W("PreferredAddressFamily", T::UInt32),
                  P("PresenceNotificationInterval", T::UInt32), P("PrivacyLevel", T::UInt32),
                  W("RmcpPingResponseEnabled", T::Boolean), W("SharedFQDN", T::Boolean),
                  P("ThunderboltDockEnabled", T::UInt32), W("WsmanOnlyMode", T::Boolean)};
  c.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;  // not {generalSettings(ctx)}: an initializer list would copy the instance
    out.push_back(generalSettings(ctx));
    return out;
  };
  c.put = putGeneralSettings;
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
