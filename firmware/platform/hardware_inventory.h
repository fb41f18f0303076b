// The host's hardware as the BIOS reports it to the ME at boot (SMBIOS): chassis, base board, BIOS, processors,
// memory modules, disks, battery, PCI devices. Generated from the device's identity (its UUID seeds serial numbers
// and picks sizes), so every device of a fleet differs and the same device looks the same after a restart;
// `<state dir>/hardware.json` overrides any field (docs/hardware.md). The CIM inventory classes and the SMBIOS
// structures of AMT_AssetTable are both made from one HardwareInventory, so they agree.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mesim::platform {

struct ProcessorInfo {
  std::string socket = "CPU 0";            // SMBIOS socket designation; CIM_Chip Tag and CIM_Processor DeviceID
  std::string manufacturer = "Intel(R) Corporation";
  std::string version = "Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz";
  std::uint16_t family = 198;              // SMBIOS / CIM processor family (198 = Intel Core i7)
  std::uint16_t maxSpeedMhz = 4800;
  std::uint16_t currentSpeedMhz = 2900;
  std::uint16_t externalClockMhz = 100;
  std::uint8_t cores = 8;
  std::uint8_t threads = 16;
  std::uint8_t stepping = 5;
  std::uint64_t processorId = 0x000A0655BFEBFBFFull;  // CPUID 1 EAX (signature) << 32 | EDX (features)
};

struct MemoryModuleInfo {
  std::string deviceLocator = "ChannelA-DIMM0";
  std::string bankLabel = "BANK 0";
  std::uint32_t sizeMiB = 8192;
  std::uint16_t speedMts = 2933;
  std::uint8_t smbiosType = 26;            // SMBIOS memory type (26 DDR4); CIM_PhysicalMemory.MemoryType
  std::uint8_t smbiosFormFactor = 9;       // SMBIOS form factor (9 DIMM, 13 SODIMM)
  std::string manufacturer = "Kingston";
  std::string serialNumber;
  std::string partNumber = "KHX2933C17D4/8G";
  std::string assetTag;
};

struct DiskInfo {
  std::string model = "Samsung SSD 980 500GB";
  std::string serialNumber;
  std::uint64_t sizeBytes = 500107862016ull;
};

struct BatteryInfo {
  bool present = false;                    // desktops have none; laptops set "battery": {...}
  std::string location = "Front";
  std::string manufacturer = "LGC";
  std::string deviceName = "BAT0";         // CIM_Battery DeviceID
  std::string manufactureDate = "2024-03-15";  // ISO date
  std::string serialNumber;
  std::uint16_t designCapacityMwh = 50000;
  std::uint16_t designVoltageMv = 11400;
  std::uint8_t chemistry = 6;              // SMBIOS 22 and CIM_Battery.Chemistry alike (6 lithium-ion)
};

struct PciDeviceInfo {
  std::uint8_t bus = 0, device = 0, function = 0;
  std::uint16_t vendorId = 0x8086, deviceId = 0;
  std::uint16_t subsystemVendorId = 0x8086, subsystemId = 0;
  std::uint8_t classCode = 0, subclassCode = 0, programmingInterface = 0, revisionId = 0;
  std::string name;
};

struct HardwareInventory {
  // SMBIOS type 1 (system) and 3 (chassis).
  std::string systemManufacturer = "mesim";
  std::string systemProductName = "Simulated AMT Desktop";
  std::string systemVersion = "1.0";
  std::string systemSerialNumber;
  std::string systemSku = "MESIM-SKU-1";
  std::string systemFamily = "vPro";
  std::string chassisManufacturer = "mesim";
  std::string chassisVersion = "1.0";
  std::string chassisSerialNumber;
  std::string chassisAssetTag;
  std::uint8_t chassisType = 3;           // SMBIOS chassis type (3 desktop, 10 notebook); CIM ChassisPackageType
  // SMBIOS type 2 (base board).
  std::string boardManufacturer = "mesim";
  std::string boardProduct = "MESIM-BOARD";
  std::string boardVersion = "1.0";
  std::string boardSerialNumber;
  std::string boardAssetTag = "Base Board Asset Tag";
  // SMBIOS type 0 (BIOS). The version is the platform's BIOS version (firmware.biosVersion) unless overridden.
  std::string biosVendor = "mesim";
  std::string biosVersion;
  std::string biosReleaseDate = "2025-01-01";  // ISO date (SMBIOS writes mm/dd/yyyy)
  std::vector<ProcessorInfo> processors;
  std::vector<MemoryModuleInfo> memory;
  std::vector<DiskInfo> disks;
  BatteryInfo battery;
  std::vector<PciDeviceInfo> pciDevices;
};

// The inventory of the device with this UUID (RFC 4122 byte order) and BIOS version: the same input, the same
// inventory.
HardwareInventory defaultHardwareInventory(const std::array<std::uint8_t, 16>& uuid, std::string_view biosVersion);

// Applies a JSON object of overrides (keys as in docs/hardware.md: "system", "chassis", "board", "bios",
// "processors", "memory", "disks", "battery", "pci_devices"); lists replace the generated ones. The error names
// the first field that is unknown or of the wrong type; on an error `inventory` is left as it was.
Result<> applyHardwareOverrides(HardwareInventory& inventory, std::string_view json);
// The overrides file of a state dir: none is fine; a bad one is an error that names the file and the field.
Result<> applyHardwareOverridesFile(HardwareInventory& inventory, const std::filesystem::path& file);

// "2025-01-01" -> Unix seconds at 00:00 UTC; nothing if it is not such a date.
std::optional<std::int64_t> isoDateToUnix(std::string_view date);

// ---- SMBIOS

struct SmbiosStructure {
  std::uint8_t type = 0;
  std::uint16_t handle = 0;
  std::vector<std::uint8_t> bytes;  // the formatted area and its strings, double-NUL terminated
};

// SMBIOS 3.x structures of the inventory: 0 BIOS, 1 system, 2 base board, 3 chassis, 4 per processor, 16 memory
// array + 17 per module, 22 battery (if present), 130 Intel AMT ("$AMT"), 131 Intel vPro, 127 end of table.
// `meVersion` (major, minor, hotfix, build) goes into the vPro table as the ME firmware and MEBx version.
std::vector<SmbiosStructure> buildSmbiosStructures(const HardwareInventory& inventory,
                                                   const std::array<std::uint8_t, 16>& uuid,
                                                   const std::array<std::uint16_t, 4>& meVersion);

}  // namespace mesim::platform
