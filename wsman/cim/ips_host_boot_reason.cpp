// IPS_HostBootReason: why the host last booted, as the host power state machine recorded it (Other: not through
// AMT, e.g. its power button; Remote Control with the operation in ReasonDetails). One instance; Intel LMS's
// StatusEventHandler enumerates it at start to report a remote-control boot to the user.
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {

void registerHostBootReason(ClassRegistry& r) {
  using T = PropType;
  // Names of a real AMT 16 capture (go-wsman-messages testdata).
  constexpr const char* kName = "Intel(r) AMT:Host Boot Reason";
  ClassDef c{.name = "IPS_HostBootReason", .schema = Schema::Ips, .keys = {"InstanceID"}};
  c.properties = {P("ElementName"), P("InstanceID"), P("PreviousSxState", T::UInt16), P("Reason", T::UInt16),
                  P("ReasonDetails")};
  c.enumerate = [](CimContext& ctx) {
    const auto& hp = ctx.platform.state().hostPower;
    Instance i;
    i.set("ElementName", kName)
        .set("InstanceID", kName)
        .setNum("PreviousSxState", hp.bootPreviousSxState)
        .setNum("Reason", hp.bootReason)
        .set("ReasonDetails", hp.bootReasonDetails);
    return std::vector<Instance>{i};
  };
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
