// The host's hardware inventory (spec/features.md §4, wsman.md §3.3), from the device's HardwareInventory (the
// same one the SMBIOS tables of AMT_AssetTable are made of):
//  physical: CIM_PhysicalElement > CIM_PhysicalPackage > {CIM_Card, CIM_PhysicalFrame > CIM_Chassis} and the disk
//    and battery packages; CIM_PhysicalElement > CIM_PhysicalComponent > CIM_Chip > CIM_PhysicalMemory.
//  logical: CIM_Processor, CIM_MediaAccessDevice, CIM_Battery, CIM_StorageExtent > CIM_Memory,
//    CIM_Controller > CIM_PCIController > AMT_PCIDevice.
//  software: CIM_SoftwareElement > CIM_BIOSElement, CIM_SoftwareFeature > CIM_BIOSFeature.
//  associations: CIM_SystemPackaging > CIM_ComputerSystemPackage, CIM_Realizes, CIM_ElementLocation >
//    CIM_PhysicalElementLocation (with CIM_Location), CIM_SystemComponent > {CIM_SystemDevice, CIM_SystemBIOS},
//    CIM_SoftwareFeatureSoftwareElements > CIM_BIOSFeatureBIOSElements.
// MeshCommander's hardware page reads CIM_PhysicalPackage[i + 1] as the package of disk i: the base board comes
// first (ClassDef::leadingSubclasses), then the disks, then the battery.
#include <cstdio>

#include "common/text_codecs.h"
#include "firmware/platform/hardware_model.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"
#include "wsman/cim/hardware_common.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
using platform::HardwareInventory;

const std::vector<std::string> kPhysicalKeys = {"CreationClassName", "Tag"};
const std::vector<std::string> kDeviceKeys = {"CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"};

std::string mediaDeviceId(std::size_t i) { return "MEDIA DEV " + std::to_string(i); }
std::string diskPackageTag(std::size_t i) { return "MEDIA PKG " + std::to_string(i); }
constexpr const char* kBatteryPackageTag = "BATTERY PKG 0";
constexpr const char* kMemoryDeviceId = "MEMORY 0";
constexpr const char* kCmosBatteryId = "CMOS BATTERY";

// The Tag of each memory module: its asset tag, or its slot when that is empty or taken.
std::vector<std::string> memoryTags(const HardwareInventory& inv) {
  std::vector<std::string> tags;
  for (const auto& m : inv.memory) {
    std::string tag = m.assetTag.empty() ? m.deviceLocator : m.assetTag;
    if (std::find(tags.begin(), tags.end(), tag) != tags.end()) tag = m.deviceLocator + " " + std::to_string(tags.size());
    tags.push_back(tag);
  }
  return tags;
}

std::string pciDeviceId(const platform::PciDeviceInfo& p) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "PCI %02x:%02x.%x", p.bus, p.device, p.function);
  return buf;
}

std::string isoToCim(const std::string& isoDate) {
  auto t = platform::isoDateToUnix(isoDate);
  return cimDatetime(t.value_or(0));
}

// AMT reports PlatformGUID in SMBIOS byte order (MeshCentral's guidToStr swaps it back).
std::string platformGuid(CimContext& ctx) {
  return text::toHex(text::uuidToMixedEndian(ctx.platform.uuid()), text::LetterCase::Upper);
}

// SMBIOS memory form factor -> CIM_PhysicalMemory.FormFactor (CIM_Chip's list: 8 DIMM, 12 SODIMM, 0 unknown).
std::uint16_t cimFormFactor(std::uint8_t smbios) {
  switch (smbios) {
    case 9: return 8;    // DIMM
    case 13: return 12;  // SODIMM
    default: return 0;
  }
}

const std::vector<PropertyDef> kPackageProps = {
    P("CanBeFRUed", T::Boolean), P("ChassisPackageType", T::UInt16), P("CreationClassName"), P("ElementName"),
    P("HostingBoard", T::Boolean), P("ManufactureDate", T::DateTime), P("Manufacturer"), P("Model"),
    A("OperationalStatus", T::UInt16), P("OtherIdentifyingInfo"), P("PackageType", T::UInt16), P("PartNumber"),
    P("SerialNumber"), P("Tag"), P("Version")};

const std::vector<PropertyDef> kChipProps = {
    P("BankLabel"), P("Capacity", T::UInt64), P("CanBeFRUed", T::Boolean), P("ConfiguredMemoryClockSpeed", T::UInt32),
    P("CreationClassName"), P("ElementName"), P("FormFactor", T::UInt16), P("IsSpeedInMhz", T::Boolean),
    P("Manufacturer"), P("MaxMemorySpeed", T::UInt32), P("MemoryType", T::UInt16), A("OperationalStatus", T::UInt16),
    P("PartNumber"), P("SerialNumber"), P("Speed", T::UInt32), P("Tag"), P("Version")};

const std::vector<PropertyDef> associationProps(const char* a, const char* b) {
  return {P(a, T::Reference), P(b, T::Reference)};
}

void registerPhysical(ClassRegistry& r) {
  r.add(ClassDef{.name = "CIM_PhysicalElement", .schema = Schema::Cim, .keys = kPhysicalKeys, .properties = kPackageProps});

  ClassDef package{.name = "CIM_PhysicalPackage", .schema = Schema::Cim, .base = "CIM_PhysicalElement",
                   .keys = kPhysicalKeys, .properties = kPackageProps};
  package.leadingSubclasses = {"CIM_Card"};
  package.enumerate = [](CimContext& ctx) {
    const auto inv = inventoryOf(ctx);
    std::vector<Instance> out;
    for (std::size_t i = 0; i < inv.disks.size(); ++i) {
      const auto& d = inv.disks[i];
      Instance p;
      p.setBool("CanBeFRUed", true)
          .set("CreationClassName", "CIM_PhysicalPackage")
          .set("ElementName", "Managed System Storage Media Package")
          .set("Manufacturer", d.model.substr(0, d.model.find(' ')))
          .set("Model", d.model)
          .set("OperationalStatus", Value::numbers({0}))
          .setNum("PackageType", 15)  // storage media package
          .set("SerialNumber", d.serialNumber)
          .set("Tag", diskPackageTag(i));
      out.push_back(std::move(p));
    }
    if (inv.battery.present) {
      const auto& b = inv.battery;
      Instance p;
      p.setBool("CanBeFRUed", true)
          .set("CreationClassName", "CIM_PhysicalPackage")
          .set("ElementName", "Managed System Battery Package")
          .set("ManufactureDate", Value::dateTime(isoToCim(b.manufactureDate)))
          .set("Manufacturer", b.manufacturer)
          .set("Model", b.deviceName)
          .set("OperationalStatus", Value::numbers({0}))
          .set("OtherIdentifyingInfo", "Location: " + b.location)
          .setNum("PackageType", 11)  // battery
          .set("SerialNumber", b.serialNumber)
          .set("Tag", kBatteryPackageTag);
      out.push_back(std::move(p));
    }
    return out;
  };
  r.add(std::move(package));

  r.add(ClassDef{.name = "CIM_PhysicalFrame", .schema = Schema::Cim, .base = "CIM_PhysicalPackage",
                 .keys = kPhysicalKeys, .properties = kPackageProps});

  ClassDef chassis{.name = "CIM_Chassis", .schema = Schema::Cim, .base = "CIM_PhysicalFrame", .keys = kPhysicalKeys,
                   .properties = kPackageProps};
  chassis.enumerate = [](CimContext& ctx) {
    const auto inv = inventoryOf(ctx);
    Instance i;
    i.setNum("ChassisPackageType", inv.chassisType)
        .set("CreationClassName", "CIM_Chassis")
        .set("ElementName", "Managed System Chassis")
        .set("Manufacturer", inv.chassisManufacturer)
        .set("Model", inv.systemProductName)
        .set("OperationalStatus", Value::numbers({0}))
        .setNum("PackageType", 3)
        .set("SerialNumber", inv.chassisSerialNumber)
        .set("Tag", "CIM_Chassis")
        .set("Version", inv.chassisVersion);
    return std::vector<Instance>{i};
  };
  r.add(std::move(chassis));

  ClassDef card{.name = "CIM_Card", .schema = Schema::Cim, .base = "CIM_PhysicalPackage", .keys = kPhysicalKeys,
                .properties = kPackageProps};
  card.enumerate = [](CimContext& ctx) {
    const auto inv = inventoryOf(ctx);
    Instance i;
    i.setBool("CanBeFRUed", true)
        .set("CreationClassName", "CIM_Card")
        .set("ElementName", "Managed System Base Board")
        .setBool("HostingBoard", true)
        .set("Manufacturer", inv.boardManufacturer)
        .set("Model", inv.boardProduct)
        .set("OperationalStatus", Value::numbers({0}))
        .setNum("PackageType", 9)
        .set("SerialNumber", inv.boardSerialNumber)
        .set("Tag", "CIM_Card")
        .set("Version", inv.boardVersion);
    return std::vector<Instance>{i};
  };
  r.add(std::move(card));

  r.add(ClassDef{.name = "CIM_PhysicalComponent", .schema = Schema::Cim, .base = "CIM_PhysicalElement",
                 .keys = kPhysicalKeys, .properties = kChipProps});

  ClassDef chip{.name = "CIM_Chip", .schema = Schema::Cim, .base = "CIM_PhysicalComponent", .keys = kPhysicalKeys,
                .properties = kChipProps};
  chip.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& p : inventoryOf(ctx).processors) {
      Instance i;
      i.setBool("CanBeFRUed", true)
          .set("CreationClassName", "CIM_Chip")
          .set("ElementName", "Managed System Processor Chip")
          .set("Manufacturer", p.manufacturer)
          .set("OperationalStatus", Value::numbers({0}))
          .set("Tag", p.socket)
          .set("Version", p.version);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(chip));

  ClassDef memory{.name = "CIM_PhysicalMemory", .schema = Schema::Cim, .base = "CIM_Chip", .keys = kPhysicalKeys,
                  .properties = kChipProps};
  memory.enumerate = [](CimContext& ctx) {
    const auto inv = inventoryOf(ctx);
    const auto tags = memoryTags(inv);
    std::vector<Instance> out;
    for (std::size_t n = 0; n < inv.memory.size(); ++n) {
      const auto& m = inv.memory[n];
      Instance i;
      i.set("BankLabel", m.bankLabel)
          .setNum("Capacity", std::uint64_t{m.sizeMiB} * 1024 * 1024)
          .setBool("CanBeFRUed", true)
          .setNum("ConfiguredMemoryClockSpeed", m.speedMts)
          .set("CreationClassName", "CIM_PhysicalMemory")
          .set("ElementName", "Managed System Memory Chip")
          .setNum("FormFactor", cimFormFactor(m.smbiosFormFactor))
          .setBool("IsSpeedInMhz", true)
          .set("Manufacturer", m.manufacturer)
          .setNum("MaxMemorySpeed", m.speedMts)
          .setNum("MemoryType", m.smbiosType)  // CIM's MemoryType list follows SMBIOS's (26 DDR4)
          .set("OperationalStatus", Value::numbers({0}))
          .set("PartNumber", m.partNumber)
          .set("SerialNumber", m.serialNumber)
          .setNum("Speed", 0)  // in ns; 0 = see MaxMemorySpeed (MHz)
          .set("Tag", tags[n]);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(memory));
}

void registerLogical(ClassRegistry& r) {
  ClassDef cpu{.name = "CIM_Processor", .schema = Schema::Cim, .keys = kDeviceKeys};
  cpu.properties = {P("CPUStatus", T::UInt16), P("CreationClassName"), P("CurrentClockSpeed", T::UInt32),
                    P("DeviceID"), P("ElementName"), P("EnabledState", T::UInt16),
                    P("ExternalBusClockSpeed", T::UInt32), P("Family", T::UInt16), P("HealthState", T::UInt16),
                    P("MaxClockSpeed", T::UInt32), P("NumberOfEnabledCores", T::UInt16),
                    A("OperationalStatus", T::UInt16), P("RequestedState", T::UInt16), P("Role"), P("Stepping"),
                    P("SystemCreationClassName"), P("SystemName"), P("UpgradeMethod", T::UInt16)};
  cpu.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& p : inventoryOf(ctx).processors) {
      Instance i;
      setHostDeviceKeys(i, "CIM_Processor", p.socket)
          .setNum("CPUStatus", 1)  // enabled
          .setNum("CurrentClockSpeed", p.currentSpeedMhz)
          .set("ElementName", "Managed System CPU")
          .setNum("EnabledState", 2)
          .setNum("ExternalBusClockSpeed", p.externalClockMhz)
          .setNum("Family", p.family)
          .setNum("HealthState", 5)  // OK
          .setNum("MaxClockSpeed", p.maxSpeedMhz)
          .setNum("NumberOfEnabledCores", p.cores)
          .set("OperationalStatus", Value::numbers({2}))
          .setNum("RequestedState", 12)
          .set("Role", "Central Processor")
          .set("Stepping", std::to_string(p.stepping))
          .setNum("UpgradeMethod", 1);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(cpu));

  ClassDef media{.name = "CIM_MediaAccessDevice", .schema = Schema::Cim, .keys = kDeviceKeys};
  media.properties = {A("Capabilities", T::UInt16), P("CreationClassName"), P("DeviceID"), P("ElementName"),
                      P("EnabledDefault", T::UInt16), P("EnabledState", T::UInt16), P("MaxMediaSize", T::UInt64),
                      A("OperationalStatus", T::UInt16), P("RequestedState", T::UInt16), P("Security", T::UInt16),
                      P("SystemCreationClassName"), P("SystemName")};
  media.enumerate = [](CimContext& ctx) {
    const auto inv = inventoryOf(ctx);
    std::vector<Instance> out;
    for (std::size_t n = 0; n < inv.disks.size(); ++n) {
      Instance i;
      setHostDeviceKeys(i, "CIM_MediaAccessDevice", mediaDeviceId(n))
          .set("Capabilities", Value::numbers({4, 10}))  // random access, supports writing
          .set("ElementName", "Managed System Media Access Device")
          .setNum("EnabledDefault", 2)
          .setNum("EnabledState", 0)
          .setNum("MaxMediaSize", inv.disks[n].sizeBytes / 1000)  // kilobytes
          .set("OperationalStatus", Value::numbers({0}))
          .setNum("RequestedState", 12)
          .setNum("Security", 2);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(media));

  ClassDef battery{.name = "CIM_Battery", .schema = Schema::Cim, .keys = kDeviceKeys};
  battery.properties = {P("BatteryStatus", T::UInt16), P("Chemistry", T::UInt16), P("CreationClassName"),
                        P("DesignCapacity", T::UInt32), P("DesignVoltage", T::UInt64), P("DeviceID"),
                        P("ElementName"), P("EnabledState", T::UInt16), A("OperationalStatus", T::UInt16),
                        P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
  battery.enumerate = [](CimContext& ctx) {
    const auto inv = inventoryOf(ctx);
    Instance i;
    if (inv.battery.present) {
      setHostDeviceKeys(i, "CIM_Battery", inv.battery.deviceName)
          .setNum("BatteryStatus", 2)  // unknown charge state: AMT reads the battery's static data only
          .setNum("Chemistry", inv.battery.chemistry)
          .setNum("DesignCapacity", inv.battery.designCapacityMwh)
          .setNum("DesignVoltage", inv.battery.designVoltageMv)
          .set("ElementName", "Managed System Battery");
    } else {
      // A desktop's only battery is the RTC's coin cell, with no SMBIOS table and no package. It is served because
      // MeshCommander's hardware BatchEnum ends with a Get of CIM_Battery and draws nothing unless that answers
      // 200; it finds the battery section's data in a PackageType 11 package, which a desktop has not.
      setHostDeviceKeys(i, "CIM_Battery", kCmosBatteryId)
          .setNum("BatteryStatus", 2)
          .setNum("Chemistry", 1)  // other: lithium manganese dioxide
          .setNum("DesignVoltage", 3000)
          .set("ElementName", "Managed System RTC Battery");
    }
    i.setNum("EnabledState", 2).set("OperationalStatus", Value::numbers({0})).setNum("RequestedState", 12);
    return std::vector<Instance>{i};
  };
  r.add(std::move(battery));

  const std::vector<PropertyDef> extentProps = {
      P("Access", T::UInt16), P("BlockSize", T::UInt64), P("ConsumableBlocks", T::UInt64), P("CreationClassName"),
      P("DeviceID"), P("ElementName"), P("EnabledState", T::UInt16), P("NumberOfBlocks", T::UInt64),
      A("OperationalStatus", T::UInt16), P("Primordial", T::Boolean), P("RequestedState", T::UInt16),
      P("SystemCreationClassName"), P("SystemName"), P("Volatile", T::Boolean)};
  r.add(ClassDef{.name = "CIM_StorageExtent", .schema = Schema::Cim, .keys = kDeviceKeys, .properties = extentProps});
  ClassDef mem{.name = "CIM_Memory", .schema = Schema::Cim, .base = "CIM_StorageExtent", .keys = kDeviceKeys,
               .properties = extentProps};
  mem.enumerate = [](CimContext& ctx) {
    std::uint64_t bytes = 0;
    for (const auto& m : inventoryOf(ctx).memory) bytes += std::uint64_t{m.sizeMiB} * 1024 * 1024;
    Instance i;
    setHostDeviceKeys(i, "CIM_Memory", kMemoryDeviceId)
        .setNum("Access", 3)  // read/write
        .setNum("BlockSize", 1)
        .setNum("ConsumableBlocks", bytes)
        .set("ElementName", "Managed System Memory")
        .setNum("EnabledState", 2)
        .setNum("NumberOfBlocks", bytes)
        .set("OperationalStatus", Value::numbers({2}))
        .setBool("Primordial", true)
        .setNum("RequestedState", 12)
        .setBool("Volatile", true);
    return std::vector<Instance>{i};
  };
  r.add(std::move(mem));

  const std::vector<PropertyDef> pciProps = {
      A("BaseAddress", T::UInt32), P("ClassCode", T::UInt8), P("CreationClassName"), P("DeviceID"),
      P("DeviceLocation", T::UInt16), P("ElementName"), P("EnabledState", T::UInt16), P("MaxLatency", T::UInt8),
      P("MinGrantTime", T::UInt8), A("OperationalStatus", T::UInt16), P("ProgIf", T::UInt8),
      P("RevisionID", T::UInt8), P("Subclass", T::UInt8), P("SubsystemID", T::UInt16),
      P("SubsystemVendorID", T::UInt16), P("SystemCreationClassName"), P("SystemName"), P("VendorID", T::UInt16)};
  r.add(ClassDef{.name = "CIM_Controller", .schema = Schema::Cim, .keys = kDeviceKeys, .properties = pciProps});
  r.add(ClassDef{.name = "CIM_PCIController", .schema = Schema::Cim, .base = "CIM_Controller", .keys = kDeviceKeys,
                 .properties = pciProps});
  ClassDef pci{.name = "AMT_PCIDevice", .schema = Schema::Amt, .base = "CIM_PCIController", .keys = kDeviceKeys,
               .properties = pciProps};
  pci.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& p : inventoryOf(ctx).pciDevices) {
      Instance i;
      setHostDeviceKeys(i, "AMT_PCIDevice", pciDeviceId(p))
          .setNum("ClassCode", p.classCode)
          .setNum("DeviceLocation", static_cast<std::uint16_t>(p.bus << 8 | p.device << 3 | p.function))
          .set("ElementName", p.name.empty() ? "PCI Device" : p.name)
          .setNum("EnabledState", 2)
          .set("OperationalStatus", Value::numbers({2}))
          .setNum("ProgIf", p.programmingInterface)
          .setNum("RevisionID", p.revisionId)
          .setNum("Subclass", p.subclassCode)
          .setNum("SubsystemID", p.subsystemId)
          .setNum("SubsystemVendorID", p.subsystemVendorId)
          .setNum("VendorID", p.vendorId);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(pci));
}

const std::vector<std::string> kSoftwareElementKeys = {"Name", "SoftwareElementID", "SoftwareElementState",
                                                       "TargetOperatingSystem", "Version"};
const std::vector<std::string> kSoftwareFeatureKeys = {"IdentifyingNumber", "Name", "ProductName", "Vendor", "Version"};

Instance biosElement(CimContext& ctx) {
  const auto inv = inventoryOf(ctx);
  Instance i;
  i.set("ElementName", "Primary BIOS")
      .set("Manufacturer", inv.biosVendor)
      .set("Name", "Primary BIOS")
      .set("OperationalStatus", Value::numbers({0}))
      .setBool("PrimaryBIOS", true)
      .set("ReleaseDate", Value::dateTime(isoToCim(inv.biosReleaseDate)))
      .set("SoftwareElementID", inv.biosVersion)
      .setNum("SoftwareElementState", 2)  // executable
      .setNum("TargetOperatingSystem", 66)  // MS-DOS... AMT's value; the BIOS runs before any OS
      .set("Version", inv.biosVersion);
  return i;
}

EndpointReference biosElementRef(CimContext& ctx) {
  const auto i = biosElement(ctx);
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Cim, "CIM_BIOSElement");
  for (const auto& k : kSoftwareElementKeys) e.selectors.push_back(soap::textSelector(k, i.get(k)->first()));
  return e;
}

Instance biosFeature(CimContext& ctx) {
  const auto inv = inventoryOf(ctx);
  Instance i;
  // The SMBIOS type 0 characteristics bits mesim's BIOS sets (hardware_inventory.cpp), by bit number.
  i.set("Characteristics", Value::numbers({7, 11, 12, 15, 16, 19, 26, 27, 28, 29, 30}))
      .set("Description", "BIOS characteristics")
      .set("ElementName", "BIOS Features")
      .set("IdentifyingNumber", inv.biosVersion)
      .set("Name", "BIOS Features")
      .set("ProductName", "Primary BIOS")
      .set("Vendor", inv.biosVendor)
      .set("Version", inv.biosVersion);
  return i;
}

EndpointReference biosFeatureRef(CimContext& ctx) {
  const auto i = biosFeature(ctx);
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Cim, "CIM_BIOSFeature");
  for (const auto& k : kSoftwareFeatureKeys) e.selectors.push_back(soap::textSelector(k, i.get(k)->first()));
  return e;
}

void registerSoftware(ClassRegistry& r) {
  const std::vector<PropertyDef> elementProps = {
      P("ElementName"), P("Manufacturer"), P("Name"), A("OperationalStatus", T::UInt16), P("PrimaryBIOS", T::Boolean),
      P("ReleaseDate", T::DateTime), P("SoftwareElementID"), P("SoftwareElementState", T::UInt16),
      P("TargetOperatingSystem", T::UInt16), P("Version")};
  r.add(ClassDef{.name = "CIM_SoftwareElement", .schema = Schema::Cim, .keys = kSoftwareElementKeys,
                 .properties = elementProps});
  ClassDef bios{.name = "CIM_BIOSElement", .schema = Schema::Cim, .base = "CIM_SoftwareElement",
                .keys = kSoftwareElementKeys, .properties = elementProps};
  bios.enumerate = [](CimContext& ctx) { return std::vector<Instance>{biosElement(ctx)}; };
  r.add(std::move(bios));

  const std::vector<PropertyDef> featureProps = {A("Characteristics", T::UInt16), P("Description"), P("ElementName"),
                                                 P("IdentifyingNumber"), P("Name"), P("ProductName"), P("Vendor"),
                                                 P("Version")};
  r.add(ClassDef{.name = "CIM_SoftwareFeature", .schema = Schema::Cim, .keys = kSoftwareFeatureKeys,
                 .properties = featureProps});
  ClassDef feature{.name = "CIM_BIOSFeature", .schema = Schema::Cim, .base = "CIM_SoftwareFeature",
                   .keys = kSoftwareFeatureKeys, .properties = featureProps};
  feature.enumerate = [](CimContext& ctx) { return std::vector<Instance>{biosFeature(ctx)}; };
  r.add(std::move(feature));

  const auto groupPart = associationProps("GroupComponent", "PartComponent");
  r.add(ClassDef{.name = "CIM_SoftwareFeatureSoftwareElements", .schema = Schema::Cim,
                 .keys = {"GroupComponent", "PartComponent"}, .properties = groupPart});
  ClassDef link{.name = "CIM_BIOSFeatureBIOSElements", .schema = Schema::Cim,
                .base = "CIM_SoftwareFeatureSoftwareElements", .keys = {"GroupComponent", "PartComponent"},
                .properties = groupPart};
  link.enumerate = [](CimContext& ctx) {
    Instance i;
    i.setRef("GroupComponent", biosFeatureRef(ctx)).setRef("PartComponent", biosElementRef(ctx));
    return std::vector<Instance>{i};
  };
  r.add(std::move(link));
}

// Every logical device of the host: what CIM_SystemDevice links to ManagedSystem.
std::vector<EndpointReference> hostDeviceRefs(CimContext& ctx) {
  const auto inv = inventoryOf(ctx);
  std::vector<EndpointReference> out;
  for (const auto& p : inv.processors) out.push_back(hostDeviceRef(Schema::Cim, "CIM_Processor", p.socket));
  out.push_back(hostDeviceRef(Schema::Cim, "CIM_Memory", kMemoryDeviceId));
  for (std::size_t n = 0; n < inv.disks.size(); ++n)
    out.push_back(hostDeviceRef(Schema::Cim, "CIM_MediaAccessDevice", mediaDeviceId(n)));
  out.push_back(hostDeviceRef(Schema::Cim, "CIM_Battery", inv.battery.present ? inv.battery.deviceName : kCmosBatteryId));
  for (const auto& p : inv.pciDevices) out.push_back(hostDeviceRef(Schema::Amt, "AMT_PCIDevice", pciDeviceId(p)));
  for (auto& e : sensorDeviceRefs(ctx)) out.push_back(std::move(e));
  return out;
}

EndpointReference locationRef(const std::string& name, const std::string& position) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Cim, "CIM_Location");
  e.selectors = {soap::textSelector("Name", name), soap::textSelector("PhysicalPosition", position)};
  return e;
}

// Where each physical element sits: (element, location name, position).
struct Placement {
  EndpointReference element;
  std::string name, position;
};
std::vector<Placement> placements(CimContext& ctx) {
  const auto inv = inventoryOf(ctx);
  std::vector<Placement> out;
  out.push_back({physicalElementRef("CIM_Card", "CIM_Card"), "Base Board", "Chassis"});
  for (const auto& p : inv.processors) out.push_back({physicalElementRef("CIM_Chip", p.socket), p.socket, "Base Board"});
  const auto tags = memoryTags(inv);
  for (std::size_t n = 0; n < inv.memory.size(); ++n)
    out.push_back({physicalElementRef("CIM_PhysicalMemory", tags[n]), inv.memory[n].deviceLocator,
                   inv.memory[n].bankLabel});
  for (std::size_t n = 0; n < inv.disks.size(); ++n)
    out.push_back({physicalElementRef("CIM_PhysicalPackage", diskPackageTag(n)), "Drive Bay " + std::to_string(n),
                   "Chassis"});
  if (inv.battery.present)
    out.push_back({physicalElementRef("CIM_PhysicalPackage", kBatteryPackageTag), "Battery", inv.battery.location});
  return out;
}

void registerAssociations(ClassRegistry& r) {
  const std::vector<PropertyDef> packagingProps = {P("Antecedent", T::Reference), P("Dependent", T::Reference),
                                                   P("PlatformGUID")};
  r.add(ClassDef{.name = "CIM_SystemPackaging", .schema = Schema::Cim, .keys = {"Antecedent", "Dependent"},
                 .properties = packagingProps});  // its instances are CIM_ComputerSystemPackage
  ClassDef csp{.name = "CIM_ComputerSystemPackage", .schema = Schema::Cim, .base = "CIM_SystemPackaging",
               .keys = {"Antecedent", "Dependent"}, .properties = packagingProps};
  csp.enumerate = [](CimContext& ctx) {
    Instance i;
    i.setRef("Antecedent", physicalElementRef("CIM_Chassis", "CIM_Chassis"))
        .setRef("Dependent", computerSystemRef())
        .set("PlatformGUID", platformGuid(ctx));
    return std::vector<Instance>{i};
  };
  r.add(std::move(csp));

  ClassDef realizes{.name = "CIM_Realizes", .schema = Schema::Cim, .base = "CIM_Dependency",
                    .keys = {"Antecedent", "Dependent"}, .properties = associationProps("Antecedent", "Dependent")};
  realizes.enumerate = [](CimContext& ctx) {
    const auto inv = inventoryOf(ctx);
    std::vector<Instance> out;
    auto add = [&](EndpointReference physical, EndpointReference logical) {
      Instance i;
      i.setRef("Antecedent", std::move(physical)).setRef("Dependent", std::move(logical));
      out.push_back(std::move(i));
    };
    for (const auto& p : inv.processors)
      add(physicalElementRef("CIM_Chip", p.socket), hostDeviceRef(Schema::Cim, "CIM_Processor", p.socket));
    for (const auto& tag : memoryTags(inv))
      add(physicalElementRef("CIM_PhysicalMemory", tag), hostDeviceRef(Schema::Cim, "CIM_Memory", kMemoryDeviceId));
    for (std::size_t n = 0; n < inv.disks.size(); ++n)
      add(physicalElementRef("CIM_PhysicalPackage", diskPackageTag(n)),
          hostDeviceRef(Schema::Cim, "CIM_MediaAccessDevice", mediaDeviceId(n)));
    if (inv.battery.present)
      add(physicalElementRef("CIM_PhysicalPackage", kBatteryPackageTag),
          hostDeviceRef(Schema::Cim, "CIM_Battery", inv.battery.deviceName));
    return out;
  };
  r.add(std::move(realizes));

  ClassDef location{.name = "CIM_Location", .schema = Schema::Cim, .keys = {"Name", "PhysicalPosition"},
                    .properties = {P("ElementName"), P("Name"), P("PhysicalPosition")}};
  location.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& p : placements(ctx)) {
      Instance i;
      i.set("ElementName", p.name).set("Name", p.name).set("PhysicalPosition", p.position);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(location));

  const auto elementLocationProps = associationProps("Element", "PhysicalLocation");
  r.add(ClassDef{.name = "CIM_ElementLocation", .schema = Schema::Cim, .base = "CIM_Dependency",
                 .keys = {"Element", "PhysicalLocation"}, .properties = elementLocationProps});
  ClassDef physicalLocation{.name = "CIM_PhysicalElementLocation", .schema = Schema::Cim,
                            .base = "CIM_ElementLocation", .keys = {"Element", "PhysicalLocation"},
                            .properties = elementLocationProps};
  physicalLocation.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (auto& p : placements(ctx)) {
      Instance i;
      i.setRef("Element", std::move(p.element)).setRef("PhysicalLocation", locationRef(p.name, p.position));
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(physicalLocation));

  const auto groupPart = associationProps("GroupComponent", "PartComponent");
  r.add(ClassDef{.name = "CIM_SystemComponent", .schema = Schema::Cim, .base = "CIM_Component",
                 .keys = {"GroupComponent", "PartComponent"}, .properties = groupPart});
  ClassDef systemDevice{.name = "CIM_SystemDevice", .schema = Schema::Cim, .base = "CIM_SystemComponent",
                        .keys = {"GroupComponent", "PartComponent"}, .properties = groupPart};
  systemDevice.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (auto& device : hostDeviceRefs(ctx)) {
      Instance i;
      i.setRef("GroupComponent", computerSystemRef()).setRef("PartComponent", std::move(device));
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(systemDevice));
  ClassDef systemBios{.name = "CIM_SystemBIOS", .schema = Schema::Cim, .base = "CIM_SystemComponent",
                      .keys = {"GroupComponent", "PartComponent"}, .properties = groupPart};
  systemBios.enumerate = [](CimContext& ctx) {
    Instance i;
    i.setRef("GroupComponent", computerSystemRef()).setRef("PartComponent", biosElementRef(ctx));
    return std::vector<Instance>{i};
  };
  r.add(std::move(systemBios));
}

}  // namespace

platform::HardwareInventory inventoryOf(CimContext& ctx) {
  if (ctx.hardware) return ctx.hardware->inventory();
  return platform::defaultHardwareInventory(ctx.platform.uuid(), ctx.platform.firmware().biosVersion);
}

Instance& setHostDeviceKeys(Instance& i, const std::string& className, const std::string& deviceId) {
  return i.set("CreationClassName", className)
      .set("DeviceID", deviceId)
      .set("SystemCreationClassName", "CIM_ComputerSystem")
      .set("SystemName", kHostSystemName);
}

EndpointReference hostDeviceRef(Schema schema, const std::string& className, const std::string& deviceId) {
  EndpointReference e;
  e.resourceUri = resourceUri(schema, className);
  e.selectors = {soap::textSelector("CreationClassName", className), soap::textSelector("DeviceID", deviceId),
                 soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                 soap::textSelector("SystemName", kHostSystemName)};
  return e;
}

EndpointReference physicalElementRef(const std::string& className, const std::string& tag) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Cim, className);
  e.selectors = {soap::textSelector("CreationClassName", className), soap::textSelector("Tag", tag)};
  return e;
}

void registerPhysicalInventory(ClassRegistry& r) {
  registerPhysical(r);
  registerLogical(r);
  registerSoftware(r);
  registerAssociations(r);
}

}  // namespace mesim::wsman::cim
