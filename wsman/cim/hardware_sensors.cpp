// The host's sensors, fans and power supplies as AMT reports them (spec/features.md §4): CIM_Sensor (no
// CIM_NumericSensor: AMT gives a state, not a reading), CIM_CoolingDevice > CIM_Fan, CIM_PowerSupply. Their state
// is the hardware model's (firmware/platform/hardware_model.h), which QA changes through the control API; the
// changes' log records and alerts are the model's. CIM_SystemDevice (cim_physical_inventory.cpp) links them to
// ManagedSystem.
#include "firmware/platform/hardware_model.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"
#include "wsman/cim/hardware_common.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
using platform::SensorHealth;
using platform::SensorKind;

const std::vector<std::string> kDeviceKeys = {"CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"};

// CIM_Sensor.SensorType (2 temperature, 3 voltage, 5 tachometer, 1 other).
std::uint16_t cimSensorType(SensorKind kind) {
  switch (kind) {
    case SensorKind::Temperature: return 2;
    case SensorKind::Voltage: return 3;
    case SensorKind::Fan: return 5;
    default: return 1;
  }
}

// CIM_Sensor.CurrentState is one of PossibleStates (Bad, Good, Unknown): a non-critical band is still Good, and
// HealthState/OperationalStatus tell it apart (10 degraded/warning, 3 degraded).
const char* currentState(SensorHealth h) {
  switch (h) {
    case SensorHealth::Bad: return "Bad";
    case SensorHealth::Unknown: return "Unknown";
    default: return "Good";
  }
}
std::uint16_t healthState(SensorHealth h) {
  switch (h) {
    case SensorHealth::Good: return 5;      // OK
    case SensorHealth::Warning: return 10;  // degraded/warning
    case SensorHealth::Bad: return 25;      // critical failure
    default: return 0;
  }
}
std::uint32_t operationalStatus(SensorHealth h) {
  switch (h) {
    case SensorHealth::Good: return 2;     // OK
    case SensorHealth::Warning: return 3;  // degraded
    case SensorHealth::Bad: return 6;      // error
    default: return 0;
  }
}

const std::vector<PropertyDef> kCoolingProps = {
    P("ActiveCooling", T::Boolean), P("CreationClassName"), P("DesiredSpeed", T::UInt64), P("DeviceID"),
    P("ElementName"), P("EnabledState", T::UInt16), P("HealthState", T::UInt16), A("OperationalStatus", T::UInt16),
    P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName"), P("VariableSpeed", T::Boolean)};

}  // namespace

std::vector<EndpointReference> sensorDeviceRefs(CimContext& ctx) {
  std::vector<EndpointReference> out;
  if (!ctx.hardware) return out;
  for (const auto& s : ctx.hardware->sensors()) out.push_back(hostDeviceRef(Schema::Cim, "CIM_Sensor", s.deviceId));
  for (const auto& f : ctx.hardware->fans()) out.push_back(hostDeviceRef(Schema::Cim, "CIM_Fan", f.deviceId));
  for (const auto& p : ctx.hardware->powerSupplies())
    out.push_back(hostDeviceRef(Schema::Cim, "CIM_PowerSupply", p.deviceId));
  return out;
}

void registerHardwareSensors(ClassRegistry& r) {
  ClassDef sensor{.name = "CIM_Sensor", .schema = Schema::Cim, .keys = kDeviceKeys};
  sensor.properties = {P("CreationClassName"), P("CurrentState"), P("DeviceID"), P("ElementName"),
                       P("EnabledState", T::UInt16), P("HealthState", T::UInt16), A("OperationalStatus", T::UInt16),
                       P("OtherSensorTypeDescription"), A("PossibleStates"), P("RequestedState", T::UInt16),
                       P("SensorType", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
  sensor.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!ctx.hardware) return out;
    for (const auto& s : ctx.hardware->sensors()) {
      Instance i;
      setHostDeviceKeys(i, "CIM_Sensor", s.deviceId)
          .set("CurrentState", currentState(s.health))
          .set("ElementName", s.elementName)
          .setNum("EnabledState", 2)
          .setNum("HealthState", healthState(s.health))
          .set("OperationalStatus", Value::numbers({operationalStatus(s.health)}))
          .set("PossibleStates", Value::list({"Bad", "Good", "Unknown"}))
          .setNum("RequestedState", 12)
          .setNum("SensorType", cimSensorType(s.kind));
      if (cimSensorType(s.kind) == 1) i.set("OtherSensorTypeDescription", s.elementName);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(sensor));

  r.add(ClassDef{.name = "CIM_CoolingDevice", .schema = Schema::Cim, .keys = kDeviceKeys, .properties = kCoolingProps});
  ClassDef fan{.name = "CIM_Fan", .schema = Schema::Cim, .base = "CIM_CoolingDevice", .keys = kDeviceKeys,
               .properties = kCoolingProps};
  fan.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!ctx.hardware) return out;
    for (const auto& f : ctx.hardware->fans()) {
      const auto* tach = ctx.hardware->sensor(f.sensorId);
      const auto health = f.failed ? SensorHealth::Bad : tach ? tach->health : SensorHealth::Unknown;
      Instance i;
      setHostDeviceKeys(i, "CIM_Fan", f.deviceId)
          .setBool("ActiveCooling", true)
          .setNum("DesiredSpeed", platform::kNominalFanRpm)
          .set("ElementName", "Managed System Fan")
          .setNum("EnabledState", 2)
          .setNum("HealthState", healthState(health))
          .set("OperationalStatus", Value::numbers({operationalStatus(health)}))
          .setNum("RequestedState", 12)
          .setBool("VariableSpeed", false);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(fan));

  ClassDef psu{.name = "CIM_PowerSupply", .schema = Schema::Cim, .keys = kDeviceKeys};
  psu.properties = {P("CreationClassName"), P("DeviceID"), P("ElementName"), P("EnabledState", T::UInt16),
                    P("HealthState", T::UInt16), P("IsSwitchingSupply", T::Boolean),
                    A("OperationalStatus", T::UInt16), P("RequestedState", T::UInt16), P("SystemCreationClassName"),
                    P("SystemName"), P("TotalOutputPower", T::UInt32)};
  psu.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    if (!ctx.hardware) return out;
    for (const auto& p : ctx.hardware->powerSupplies()) {
      const auto health = p.failed ? SensorHealth::Bad : SensorHealth::Good;
      Instance i;
      setHostDeviceKeys(i, "CIM_PowerSupply", p.deviceId)
          .set("ElementName", "Managed System Power Supply")
          .setNum("EnabledState", 2)
          .setNum("HealthState", healthState(health))
          .setBool("IsSwitchingSupply", true)
          .set("OperationalStatus", Value::numbers({operationalStatus(health)}))
          .setNum("RequestedState", 12)
          .setNum("TotalOutputPower", p.totalOutputPowerMw);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(psu));
}

}  // namespace mesim::wsman::cim
