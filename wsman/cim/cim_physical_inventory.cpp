// The host's hardware inventory MeshCentral reads (spec/wsman.md §3.3): CIM_PhysicalPackage (base of
// CIM_Chassis and CIM_Card), CIM_Chip (base of CIM_PhysicalMemory), CIM_Processor, CIM_BIOSElement,
// CIM_MediaAccessDevice, CIM_SystemPackaging (base of CIM_ComputerSystemPackage). A tight family:
// fixed values of one simulated desktop, with identity taken from the platform model.
#include "common/text_codecs.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kManufacturer = "mesim";
constexpr const char* kModel = "Simulated AMT Desktop";

std::string serialOf(CimContext& ctx, std::size_t offset) {
  const auto& u = ctx.platform.uuid();
  return text::toHex(std::span(u).subspan(offset, 6), text::LetterCase::Upper);
}

// AMT reports PlatformGUID in SMBIOS byte order (MeshCentral's guidToStr swaps it back).
std::string platformGuid(CimContext& ctx) {
  const auto& u = ctx.platform.uuid();
  return text::toHex(text::uuidToMixedEndian(u), text::LetterCase::Upper);
}

std::vector<std::string> physicalKeys() { return {"CreationClassName", "Tag"}; }
std::vector<std::string> deviceKeys() { return {"CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"}; }

Instance& hostDeviceKeys(Instance& i, const char* cls, const char* id) {
  return i.set("CreationClassName", cls)
      .set("DeviceID", id)
      .set("SystemCreationClassName", "CIM_ComputerSystem")
      .set("SystemName", kHostSystemName);
}

EndpointReference chassisRef() {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Cim, "CIM_Chassis");
  e.selectors = {soap::textSelector("CreationClassName", "CIM_Chassis"), soap::textSelector("Tag", "CIM_Chassis")};
  return e;
}

}  // namespace

void registerPhysicalInventory(ClassRegistry& r) {
  const std::vector<PropertyDef> packageProps = {
      P("CanBeFRUed", T::Boolean), P("ChassisPackageType", T::UInt16), P("CreationClassName"), P("ElementName"),
      P("HostingBoard", T::Boolean), P("Manufacturer"), P("Model"), A("OperationalStatus", T::UInt16),
      P("PackageType", T::UInt16), P("SerialNumber"), P("Tag"), P("Version")};

  ClassDef package{.name = "CIM_PhysicalPackage", .schema = Schema::Cim, .keys = physicalKeys(), .properties = packageProps};
  r.add(std::move(package));  // abstract here: AMT answers with its Chassis and Card

  ClassDef chassis{.name = "CIM_Chassis", .schema = Schema::Cim, .base = "CIM_PhysicalPackage", .keys = physicalKeys(),
                   .properties = packageProps};
  chassis.enumerate = [](CimContext& ctx) {
    Instance i;
    i.setNum("ChassisPackageType", 3)
        .set("CreationClassName", "CIM_Chassis")
        .set("ElementName", "Managed System Chassis")
        .set("Manufacturer", kManufacturer)
        .set("Model", kModel)
        .set("OperationalStatus", Value::numbers({0}))
        .setNum("PackageType", 3)
        .set("SerialNumber", serialOf(ctx, 10))
        .set("Tag", "CIM_Chassis")
        .set("Version", "1.0");
    return std::vector<Instance>{i};
  };
  r.add(std::move(chassis));

  ClassDef card{.name = "CIM_Card", .schema = Schema::Cim, .base = "CIM_PhysicalPackage", .keys = physicalKeys(),
                .properties = packageProps};
  card.enumerate = [](CimContext& ctx) {
    Instance i;
    i.setBool("CanBeFRUed", true)
        .set("CreationClassName", "CIM_Card")
        .set("ElementName", "Managed System Base Board")
        .setBool("HostingBoard", true)
        .set("Manufacturer", kManufacturer)
        .set("Model", "MESIM-BOARD")
        .set("OperationalStatus", Value::numbers({0}))
        .setNum("PackageType", 9)
        .set("SerialNumber", serialOf(ctx, 4))
        .set("Tag", "CIM_Card")
        .set("Version", "1.0");
    return std::vector<Instance>{i};
  };
  r.add(std::move(card));

  ClassDef bios{.name = "CIM_BIOSElement", .schema = Schema::Cim,
                .keys = {"Manufacturer", "Name", "SoftwareElementID", "SoftwareElementState", "TargetOperatingSystem",
                         "Version"}};
  bios.properties = {P("ElementName"), P("Manufacturer"), P("Name"), A("OperationalStatus", T::UInt16),
                     P("PrimaryBIOS", T::Boolean), P("ReleaseDate", T::DateTime), P("SoftwareElementID"),
                     P("SoftwareElementState", T::UInt16), P("TargetOperatingSystem", T::UInt16), P("Version")};
  bios.enumerate = [](CimContext& ctx) {
    const auto& version = ctx.platform.firmware().biosVersion;
    Instance i;
    i.set("ElementName", "Primary BIOS")
        .set("Manufacturer", kManufacturer)
        .set("Name", "Primary BIOS")
        .set("OperationalStatus", Value::numbers({0}))
        .setBool("PrimaryBIOS", true)
        .set("ReleaseDate", Value::dateTime("2025-01-01T00:00:00Z"))
        .set("SoftwareElementID", version)
        .setNum("SoftwareElementState", 2)
        .setNum("TargetOperatingSystem", 66)
        .set("Version", version);
    return std::vector<Instance>{i};
  };
  r.add(std::move(bios));

  const std::vector<PropertyDef> chipProps = {
      P("BankLabel"), P("Capacity", T::UInt64), P("CanBeFRUed", T::Boolean), P("CreationClassName"), P("ElementName"),
      P("FormFactor", T::UInt16), P("IsSpeedInMhz", T::Boolean), P("Manufacturer"), P("MaxMemorySpeed", T::UInt32),
      P("MemoryType", T::UInt16), A("OperationalStatus", T::UInt16), P("PartNumber"), P("SerialNumber"),
      P("Speed", T::UInt32), P("Tag"), P("Version")};
  ClassDef chip{.name = "CIM_Chip", .schema = Schema::Cim, .keys = physicalKeys(), .properties = chipProps};
  chip.enumerate = [](CimContext&) {
    Instance i;
    i.setBool("CanBeFRUed", true)
        .set("CreationClassName", "CIM_Chip")
        .set("ElementName", "Managed System Processor Chip")
        .set("Manufacturer", "Intel(R) Corporation")
        .set("OperationalStatus", Value::numbers({0}))
        .set("Tag", "CPU 0")
        .set("Version", "Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz");
    return std::vector<Instance>{i};
  };
  r.add(std::move(chip));

  ClassDef memory{.name = "CIM_PhysicalMemory", .schema = Schema::Cim, .base = "CIM_Chip", .keys = physicalKeys(),
                  .properties = chipProps};
  memory.enumerate = [](CimContext& ctx) {
    Instance i;
    i.set("BankLabel", "BANK 0")
        .setNum("Capacity", 17179869184ull)
        .set("CreationClassName", "CIM_PhysicalMemory")
        .set("ElementName", "Managed System Memory Chip")
        .setNum("FormFactor", 13)
        .setBool("IsSpeedInMhz", true)
        .set("Manufacturer", "Simulated DRAM")
        .setNum("MaxMemorySpeed", 2933)
        .setNum("MemoryType", 26)
        .set("OperationalStatus", Value::numbers({0}))
        .set("PartNumber", "MESIM-16G-DDR4")
        .set("SerialNumber", serialOf(ctx, 0))
        .setNum("Speed", 0)
        .set("Tag", "9876543210");
    return std::vector<Instance>{i};
  };
  r.add(std::move(memory));

  ClassDef cpu{.name = "CIM_Processor", .schema = Schema::Cim, .keys = deviceKeys()};
  cpu.properties = {P("CPUStatus", T::UInt16), P("CreationClassName"), P("CurrentClockSpeed", T::UInt32),
                    P("DeviceID"), P("ElementName"), P("EnabledState", T::UInt16),
                    P("ExternalBusClockSpeed", T::UInt32), P("Family", T::UInt16), P("HealthState", T::UInt16),
                    P("MaxClockSpeed", T::UInt32), A("OperationalStatus", T::UInt16), P("RequestedState", T::UInt16),
                    P("Role"), P("Stepping"), P("SystemCreationClassName"), P("SystemName"),
                    P("UpgradeMethod", T::UInt16)};
  cpu.enumerate = [](CimContext&) {
    Instance i;
    hostDeviceKeys(i, "CIM_Processor", "CPU 0")
        .setNum("CPUStatus", 1)
        .setNum("CurrentClockSpeed", 2900)
        .set("ElementName", "Managed System CPU")
        .setNum("EnabledState", 2)
        .setNum("ExternalBusClockSpeed", 100)
        .setNum("Family", 198)
        .setNum("HealthState", 0)
        .setNum("MaxClockSpeed", 8300)
        .set("OperationalStatus", Value::numbers({0}))
        .setNum("RequestedState", 12)
        .set("Role", "Central Processor")
        .set("Stepping", "5")
        .setNum("UpgradeMethod", 1);
    return std::vector<Instance>{i};
  };
  r.add(std::move(cpu));

  ClassDef media{.name = "CIM_MediaAccessDevice", .schema = Schema::Cim, .keys = deviceKeys()};
  media.properties = {A("Capabilities", T::UInt16), P("CreationClassName"), P("DeviceID"), P("ElementName"),
                      P("EnabledDefault", T::UInt16), P("EnabledState", T::UInt16), P("MaxMediaSize", T::UInt64),
                      A("OperationalStatus", T::UInt16), P("RequestedState", T::UInt16), P("Security", T::UInt16),
                      P("SystemCreationClassName"), P("SystemName")};
  media.enumerate = [](CimContext&) {
    Instance i;
    hostDeviceKeys(i, "CIM_MediaAccessDevice", "MEDIA DEV 0")
        .set("Capabilities", Value::numbers({4, 10}))
        .set("ElementName", "Managed System Media Access Device")
        .setNum("EnabledDefault", 2)
        .setNum("EnabledState", 0)
        .setNum("MaxMediaSize", 500107862)
        .set("OperationalStatus", Value::numbers({0}))
        .setNum("RequestedState", 12)
        .setNum("Security", 2);
    return std::vector<Instance>{i};
  };
  r.add(std::move(media));

  const std::vector<PropertyDef> packagingProps = {P("Antecedent", T::Reference), P("Dependent", T::Reference),
                                                   P("PlatformGUID")};
  ClassDef packaging{.name = "CIM_SystemPackaging", .schema = Schema::Cim, .keys = {"Antecedent", "Dependent"},
                     .properties = packagingProps};
  r.add(std::move(packaging));  // its instances are CIM_ComputerSystemPackage

  ClassDef csp{.name = "CIM_ComputerSystemPackage", .schema = Schema::Cim, .base = "CIM_SystemPackaging",
               .keys = {"Antecedent", "Dependent"}, .properties = packagingProps};
  csp.enumerate = [](CimContext& ctx) {
    Instance i;
    i.setRef("Antecedent", chassisRef()).setRef("Dependent", computerSystemRef()).set("PlatformGUID", platformGuid(ctx));
    return std::vector<Instance>{i};
  };
  r.add(std::move(csp));
}

}  // namespace mesim::wsman::cim
