// What the hardware class files (cim_physical_inventory.cpp, hardware_sensors.cpp, asset_table.cpp) share: the
// inventory a request sees and the references between their instances.
#pragma once

#include <string>
#include <vector>

#include "firmware/platform/hardware_inventory.h"
#include "wsman/cim/class_def.h"

namespace mesim::wsman::cim {

// The device's inventory; without a hardware model (unit tests of other classes), the one generated from the
// platform's identity.
platform::HardwareInventory inventoryOf(CimContext& ctx);

// {CreationClassName, DeviceID, SystemCreationClassName CIM_ComputerSystem, SystemName ManagedSystem}.
Instance& setHostDeviceKeys(Instance& i, const std::string& className, const std::string& deviceId);
EndpointReference hostDeviceRef(Schema schema, const std::string& className, const std::string& deviceId);
// {CreationClassName, Tag}.
EndpointReference physicalElementRef(const std::string& className, const std::string& tag);

// The logical devices hardware_sensors.cpp serves (CIM_Sensor, CIM_Fan, CIM_PowerSupply), for CIM_SystemDevice.
std::vector<EndpointReference> sensorDeviceRefs(CimContext& ctx);

}  // namespace mesim::wsman::cim
