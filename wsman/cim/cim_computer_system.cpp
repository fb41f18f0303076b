// CIM_ComputerSystem: the managed host ("ManagedSystem") and the AMT subsystem ("Intel(r) AMT").
#include "firmware/platform/host_power.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {

void registerComputerSystem(ClassRegistry& r) {
  using T = PropType;
  ClassDef c;
  c.name = "CIM_ComputerSystem";
  c.schema = Schema::Cim;
  c.keys = {"CreationClassName", "Name"};
  c.properties = {P("CreationClassName"), A("Dedicated", T::UInt16), P("ElementName"), P("EnabledState", T::UInt16),
                  P("HealthState", T::UInt16), P("Name"), P("NameFormat"), A("OperationalStatus", T::UInt16),
                  P("RequestedState", T::UInt16)};
  c.enumerate = [](CimContext& ctx) {
    const bool on = ctx.platform.state().hostPower.powerState == platform::power::kOn;
    Instance host;
    host.set("CreationClassName", "CIM_ComputerSystem")
        .set("ElementName", "Managed System")
        .setNum("EnabledState", on ? 2 : 3)
        .setNum("HealthState", 5)
        .set("Name", kHostSystemName)
        .set("NameFormat", "Other")
        .set("OperationalStatus", Value::numbers({on ? 2u : 10u}))
        .setNum("RequestedState", 12);
    Instance amt;
    amt.set("CreationClassName", "CIM_ComputerSystem")
        .set("Dedicated", Value::numbers({14}))
        .set("ElementName", "Intel(r) AMT Subsystem")
        .setNum("EnabledState", 2)
        .setNum("HealthState", 5)
        .set("Name", kAmtSystemName)
        .set("NameFormat", "Other")
        .set("OperationalStatus", Value::numbers({2}))
        .setNum("RequestedState", 12);
    return std::vector<Instance>{host, amt};
  };
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
