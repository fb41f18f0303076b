// IPS_HTTPProxyService.AddProxyAccessPoint and the IPS_HTTPProxyAccessPoint instances it creates; their Priority is
// their place in the list (1 first), which UpdatePriority changes.
#include <algorithm>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kApClass = "IPS_HTTPProxyAccessPoint";
constexpr std::size_t kMaxProxies = 8;

MethodResult addProxy(CimContext& ctx, const Instance&, const Arguments& in) {
  platform::HttpProxy p;
  std::uint64_t format = 0, port = 0;
  if (!argString(in, "AccessInfo", p.accessInfo) || p.accessInfo.empty() || !argUint(in, "InfoFormat", format) ||
      (format != 3 && format != 4 && format != 201) || !argUint(in, "Port", port) || port == 0 || port > 65535)
    return MethodResult::status(status::kInvalidParameter);
  argString(in, "NetworkDnsSuffix", p.networkDnsSuffix);
  const auto& known = ctx.platform.state().httpProxies;
  if (std::any_of(known.begin(), known.end(), [&](const auto& x) { return x.accessInfo == p.accessInfo && x.port == port; }))
    return MethodResult::status(status::kDuplicate);
  if (known.size() >= kMaxProxies) return MethodResult::status(status::kMaxLimitReached);
  p.infoFormat = static_cast<std::uint32_t>(format);
  p.port = static_cast<std::uint32_t>(port);
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    std::uint32_t n = 1;
    for (bool taken = true; taken; ++n) {
      p.name = "Intel(r) ME:HTTP Proxy Access Point " + std::to_string(n);
      taken = std::any_of(s.httpProxies.begin(), s.httpProxies.end(), [&](const auto& x) { return x.name == p.name; });
    }
    s.httpProxies.push_back(p);
  });
  if (result != platform::ChangeResult::Ok) return MethodResult::status(status::kInternalError);
  MethodResult r;
  r.outputs["ProxyAccessPoint"] = Value::ref(serviceRef(Schema::Ips, kApClass, p.name));
  return r;
}

// The proxy moves to place `Priority` (1 = tried first); the ones between shift by one. Kept in platform.json's order.
MethodResult updatePriority(CimContext& ctx, const Instance& target, const Arguments& in) {
  std::uint64_t priority = 0;
  const auto& proxies = ctx.platform.state().httpProxies;
  if (!argUint(in, "Priority", priority) || priority == 0 || priority > proxies.size())
    return MethodResult::status(status::kInvalidParameter);
  const std::string name = target.str("Name");
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    auto& list = s.httpProxies;
    auto at = std::find_if(list.begin(), list.end(), [&](const auto& p) { return p.name == name; });
    if (at == list.end()) return;
    platform::HttpProxy moved = std::move(*at);
    list.erase(at);
    list.insert(list.begin() + static_cast<std::ptrdiff_t>(priority - 1), std::move(moved));
  });
  return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
}

}  // namespace

void registerHttpProxy(ClassRegistry& r) {
  constexpr const char* kName = "Intel(r) AMT HTTP Proxy Service";
  ClassDef svc{.name = "IPS_HTTPProxyService", .schema = Schema::Ips, .keys = kServiceKeys};
  svc.properties = {P("CreationClassName"), P("ElementName"), P("Name"), P("SystemCreationClassName"), P("SystemName")};
  svc.methods = {{"AddProxyAccessPoint",
                  {In("AccessInfo"), In("InfoFormat", T::UInt8), In("Port", T::UInt16), In("NetworkDnsSuffix")},
                  {Out("ProxyAccessPoint", T::Reference)},
                  addProxy}};
  svc.enumerate = [](CimContext&) {
    Instance i;
    setServiceKeys(i, "IPS_HTTPProxyService", kName).set("ElementName", kName);
    return std::vector<Instance>{i};
  };
  r.add(std::move(svc));

  ClassDef ap{.name = kApClass, .schema = Schema::Ips, .keys = kServiceKeys};
  ap.properties = {P("AccessInfo"), P("CreationClassName"), P("ElementName"), P("InfoFormat", T::UInt16), P("Name"),
                   P("NetworkDnsSuffix"), P("Port", T::UInt16), P("Priority", T::UInt32), P("SystemCreationClassName"),
                   P("SystemName")};
  ap.methods = {{"UpdatePriority", {In("Priority", T::UInt32)}, {}, updatePriority}};
  ap.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    std::uint32_t priority = 1;
    for (const auto& p : ctx.platform.state().httpProxies) {
      Instance i;
      setServiceKeys(i, kApClass, p.name)
          .set("AccessInfo", p.accessInfo)
          .set("ElementName", "Intel(r) ME:HTTP Proxy Access Point")
          .setNum("InfoFormat", p.infoFormat)
          .set("NetworkDnsSuffix", p.networkDnsSuffix)
          .setNum("Port", p.port)
          .setNum("Priority", priority++);
      out.push_back(std::move(i));
    }
    return out;
  };
  ap.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string name = target.str("Name");
    return changeFault(ctx.platform.update(
        [&](platform::PlatformState& s) { std::erase_if(s.httpProxies, [&](const auto& p) { return p.name == name; }); }));
  };
  r.add(std::move(ap));
}

}  // namespace mesim::wsman::cim
