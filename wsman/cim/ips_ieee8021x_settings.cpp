// IPS_IEEE8021xSettings: wired 802.1x, reported disabled (rpc-go amtinfo reads it).
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {

void registerIeee8021x(ClassRegistry& r) {
  using T = PropType;
  constexpr const char* kId = "Intel(r) AMT: 8021X Settings";
  ClassDef c{.name = "IPS_IEEE8021xSettings", .schema = Schema::Ips, .keys = {"InstanceID"}};
  c.properties = {P("AvailableInS0", T::Boolean), P("ElementName"), P("Enabled", T::UInt32), P("InstanceID"),
                  P("PxeTimeout", T::UInt32)};
  c.enumerate = [](CimContext&) {
    Instance i;
    i.setBool("AvailableInS0", true).set("ElementName", kId).setNum("Enabled", 3).set("InstanceID", kId).setNum("PxeTimeout", 120);
    return std::vector<Instance>{i};
  };
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
