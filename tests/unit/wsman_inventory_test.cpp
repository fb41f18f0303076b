// The hardware inventory, sensors and asset table (docs/hardware.md): the CIM classes read from one
// HardwareInventory, the SMBIOS structures of AMT_AssetTable read back by Debian's dmidecode (a third-party
// parser) and agreeing with the CIM values, overrides, and sensor changes logged as AMT logs PET events.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "common/text_codecs.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/hardware_model.h"
#include "firmware/platform/platform_model.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using platform::HardwareInventory;
using platform::SensorHealth;

class InventoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    hardware = std::make_unique<platform::HardwareModel>(
        *model, clock, platform::defaultHardwareInventory(model->uuid(), model->firmware().biosVersion));
  }

  CimContext context() {
    CimContext ctx{*model, clock, *power, runtime, "admin", false};
    ctx.hardware = hardware.get();
    return ctx;
  }

  std::vector<ServedInstance> instances(const std::string& className) {
    auto ctx = context();
    const ClassDef* cls = registry.byName(className);
    EXPECT_NE(cls, nullptr) << className;
    return cls ? instancesOf(registry, *cls, ctx) : std::vector<ServedInstance>{};
  }

  static std::string text(const ServedInstance& s, const std::string& property) {
    const Value* v = s.instance.get(property);
    return v ? v->first() : "<none>";
  }

  test::TempDir dir{"inventory"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<platform::HardwareModel> hardware;
  CimRuntime runtime;
  ClassRegistry registry = makeAmtClassRegistry();
};

// A dmidecode --dump-bin file: the SMBIOS 3.0 entry point at 0 with the table at offset 32.
std::vector<std::uint8_t> smbiosDump(const std::vector<platform::SmbiosStructure>& structures) {
  std::vector<std::uint8_t> table;
  for (const auto& s : structures) table.insert(table.end(), s.bytes.begin(), s.bytes.end());
  std::vector<std::uint8_t> dump(32, 0);
  const char anchor[] = "_SM3_";
  std::copy(anchor, anchor + 5, dump.begin());
  dump[6] = 0x18;  // entry point length
  dump[7] = 3;     // SMBIOS 3.2
  dump[8] = 2;
  dump[10] = 1;    // entry point revision
  const auto size = static_cast<std::uint32_t>(table.size());
  for (int i = 0; i < 4; ++i) dump[12 + i] = static_cast<std::uint8_t>(size >> (8 * i));
  dump[16] = 32;   // table address (little-endian u64)
  std::uint8_t sum = 0;
  for (int i = 0; i < 0x18; ++i) sum = static_cast<std::uint8_t>(sum + dump[i]);
  dump[5] = static_cast<std::uint8_t>(0x100 - sum);
  dump.insert(dump.end(), table.begin(), table.end());
  return dump;
}

platform::SensorChange readingOf(std::int64_t reading) {
  platform::SensorChange c;
  c.reading = reading;
  return c;
}
platform::SensorChange stateOf(SensorHealth health) {
  platform::SensorChange c;
  c.health = health;
  return c;
}
platform::SensorChange withThresholds(std::optional<std::int64_t> reading, platform::Thresholds t) {
  platform::SensorChange c;
  c.reading = reading;
  c.thresholds = t;
  return c;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST_F(InventoryTest, ClassesReadTheInventoryAsMeshCommanderShowsIt) {
  const auto& inv = hardware->inventory();
  auto chassis = instances("CIM_Chassis");
  ASSERT_EQ(chassis.size(), 1u);
  EXPECT_EQ(text(chassis[0], "SerialNumber"), inv.chassisSerialNumber);
  EXPECT_EQ(text(chassis[0], "Model"), inv.systemProductName);

  // MeshCommander reads CIM_PhysicalPackage[i + 1] as disk i's package: the board first, then the disks.
  auto packages = instances("CIM_PhysicalPackage");
  ASSERT_GE(packages.size(), 2u + inv.disks.size() - 1);
  EXPECT_EQ(packages[0].cls->name, "CIM_Card");
  auto media = instances("CIM_MediaAccessDevice");
  ASSERT_EQ(media.size(), inv.disks.size());
  for (std::size_t i = 0; i < media.size(); ++i) {
    EXPECT_EQ(text(packages[i + 1], "Model"), inv.disks[i].model);
    EXPECT_EQ(text(packages[i + 1], "SerialNumber"), inv.disks[i].serialNumber);
    EXPECT_EQ(text(media[i], "MaxMediaSize"), std::to_string(inv.disks[i].sizeBytes / 1000));
  }
  // Chips and processors pair by index; CIM_Chip includes the memory modules.
  auto cpus = instances("CIM_Processor");
  ASSERT_EQ(cpus.size(), inv.processors.size());
  EXPECT_EQ(text(cpus[0], "MaxClockSpeed"), std::to_string(inv.processors[0].maxSpeedMhz));
  EXPECT_EQ(text(instances("CIM_Chip")[0], "Version"), inv.processors[0].version);
  auto memory = instances("CIM_PhysicalMemory");
  ASSERT_EQ(memory.size(), inv.memory.size());
  EXPECT_EQ(text(memory[0], "Capacity"), std::to_string(std::uint64_t{inv.memory[0].sizeMiB} << 20));
  EXPECT_EQ(instances("CIM_Chip").size(), inv.processors.size() + inv.memory.size());
  EXPECT_EQ(instances("CIM_PhysicalElement").size(), 1 + 1 + inv.disks.size() + inv.processors.size() + inv.memory.size());
  // A desktop's battery is the RTC cell: no package of type 11 for MeshCommander's battery section.
  ASSERT_EQ(instances("CIM_Battery").size(), 1u);
  EXPECT_EQ(text(instances("CIM_Battery")[0], "DeviceID"), "CMOS BATTERY");
  for (const auto& p : packages) EXPECT_NE(text(p, "PackageType"), "11");
  EXPECT_EQ(instances("AMT_PCIDevice").size(), inv.pciDevices.size());
  EXPECT_EQ(instances("CIM_PCIController").size(), inv.pciDevices.size());
  // Every realized physical element and every device linked to ManagedSystem.
  EXPECT_EQ(instances("CIM_Realizes").size(), inv.processors.size() + inv.memory.size() + inv.disks.size());
  EXPECT_EQ(instances("CIM_SystemDevice").size(),
            inv.processors.size() + 1 + inv.disks.size() + 1 + inv.pciDevices.size() + hardware->sensors().size() +
                hardware->fans().size() + hardware->powerSupplies().size());
  // CIM_SystemComponent: the devices, CIM_SystemBIOS, and the accounts' CIM_AccountOnSystem (not hardware).
  std::size_t hardwareComponents = 0;
  for (const auto& c : instances("CIM_SystemComponent")) hardwareComponents += c.cls->name != "CIM_AccountOnSystem";
  EXPECT_EQ(hardwareComponents, instances("CIM_SystemDevice").size() + 1);
  EXPECT_EQ(instances("CIM_Location").size(), instances("CIM_PhysicalElementLocation").size());
  EXPECT_EQ(text(instances("CIM_BIOSElement")[0], "Version"), model->firmware().biosVersion);
  EXPECT_EQ(instances("CIM_SoftwareFeatureSoftwareElements").size(), 1u);
}

TEST_F(InventoryTest, TheInventoryIsTheDevicesOwn) {
  auto a = platform::defaultHardwareInventory(model->uuid(), "BIOS 1");
  auto again = platform::defaultHardwareInventory(model->uuid(), "BIOS 1");
  auto other = model->uuid();
  other[10] ^= 0xFF;
  auto b = platform::defaultHardwareInventory(other, "BIOS 1");
  EXPECT_EQ(a.chassisSerialNumber, again.chassisSerialNumber);
  EXPECT_EQ(a.memory[0].serialNumber, again.memory[0].serialNumber);
  EXPECT_NE(a.chassisSerialNumber, b.chassisSerialNumber);
}

TEST_F(InventoryTest, OverridesReplaceFieldsAndNameWhatIsWrong) {
  auto inv = platform::defaultHardwareInventory(model->uuid(), "X");
  auto r = platform::applyHardwareOverrides(inv, R"({"system": {"manufacturer": "ACME", "product_name": "Brick 3"},
      "memory": [{"size_mib": 32768}], "battery": {"manufacturer": "Cells Inc", "design_capacity_mwh": 42000},
      "disks": [{"model": "WD Blue 1TB"}, {"model": "WD Red 4TB", "size_bytes": 4000787030016}]})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(inv.systemManufacturer, "ACME");
  ASSERT_EQ(inv.memory.size(), 1u);
  EXPECT_EQ(inv.memory[0].sizeMiB, 32768u);
  EXPECT_EQ(inv.memory[0].deviceLocator, "ChannelA-DIMM0");  // the rest from the generated module
  EXPECT_TRUE(inv.battery.present);
  EXPECT_EQ(inv.disks.size(), 2u);

  auto bad = platform::applyHardwareOverrides(inv, R"({"memory": [{"size": 1}]})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("memory[0].size"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(platform::applyHardwareOverrides(inv, R"({"bios": {"release_date": "yesterday"}})"));
  EXPECT_FALSE(platform::applyHardwareOverrides(inv, R"({"chassis": {"type": 300}})"));
  EXPECT_FALSE(platform::applyHardwareOverrides(inv, R"({"processors": []})"));
  EXPECT_FALSE(platform::applyHardwareOverrides(inv, "[1]"));
  auto twice = platform::applyHardwareOverrides(inv, R"({"processors": [{}, {}]})");
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("processors[1].socket"), std::string::npos) << twice.error().message;

  // A laptop: CIM_Battery and its package, which MeshCommander finds by PackageType 11.
  hardware = std::make_unique<platform::HardwareModel>(*model, clock, inv);
  auto battery = instances("CIM_Battery");
  ASSERT_EQ(battery.size(), 1u);
  EXPECT_EQ(text(battery[0], "DesignCapacity"), "42000");
  bool found = false;
  for (const auto& p : instances("CIM_PhysicalPackage"))
    if (text(p, "PackageType") == "11") found = text(p, "Manufacturer") == "Cells Inc";
  EXPECT_TRUE(found);
}

TEST_F(InventoryTest, DmidecodeReadsTheAssetTablesAsTheClassesTellThem) {
  if (run("command -v dmidecode").empty()) GTEST_FAIL() << "dmidecode is not installed (scripts/common.sh lists it)";
  // The tables as a console gets them: AMT_AssetTable's base64 TableData, in order.
  auto tables = instances("AMT_AssetTable");
  ASSERT_GE(tables.size(), 8u);
  std::vector<platform::SmbiosStructure> structures;
  for (const auto& t : tables) {
    std::vector<std::uint8_t> bytes;
    ASSERT_TRUE(base64Decode(text(t, "TableData"), bytes));
    ASSERT_GE(bytes.size(), 4u);
    EXPECT_EQ(std::to_string(bytes[0]), text(t, "TableType"));
    structures.push_back({bytes[0], 0, bytes});
  }
  structures.push_back({127, 0, {127, 4, 0xFF, 0xFE, 0, 0}});
  const auto dumpPath = dir.path() / "smbios.bin";
  {
    auto dump = smbiosDump(structures);
    std::ofstream(dumpPath, std::ios::binary).write(reinterpret_cast<const char*>(dump.data()), dump.size());
  }
  const std::string out = run("dmidecode --from-dump " + dumpPath.string() + " 2>&1");
  const auto& inv = hardware->inventory();
  auto has = [&](const std::string& s) { return out.find(s) != std::string::npos; };
  EXPECT_TRUE(has("SMBIOS 3.2")) << out;
  EXPECT_FALSE(has("Invalid entry")) << out;
  EXPECT_FALSE(has("<OUT OF SPEC>")) << out;
  EXPECT_FALSE(has("Wrong DMI structures")) << out;
  // dmidecode prints the UUID in RFC 4122 order from the SMBIOS (mixed-endian) bytes: the device's UUID.
  EXPECT_TRUE(has("UUID: " + text::uuidText(model->uuid()))) << out;
  // CIM_ComputerSystemPackage.PlatformGUID is the same 16 bytes as SMBIOS stores them.
  std::string guid = text(instances("CIM_ComputerSystemPackage")[0], "PlatformGUID");
  EXPECT_EQ(guid, text::toHex(text::uuidToMixedEndian(model->uuid()), text::LetterCase::Upper));
  EXPECT_TRUE(has("Serial Number: " + text(instances("CIM_Chassis")[0], "SerialNumber"))) << out;
  EXPECT_TRUE(has("Serial Number: " + text(instances("CIM_Card")[0], "SerialNumber"))) << out;
  EXPECT_TRUE(has("Version: " + text(instances("CIM_BIOSElement")[0], "Version"))) << out;
  EXPECT_TRUE(has("Release Date: 01/01/2025")) << out;
  EXPECT_TRUE(has("Max Speed: " + text(instances("CIM_Processor")[0], "MaxClockSpeed") + " MHz")) << out;
  EXPECT_TRUE(has("Version: " + inv.processors[0].version)) << out;
  EXPECT_TRUE(has("Core Count: " + std::to_string(inv.processors[0].cores))) << out;
  for (const auto& m : instances("CIM_PhysicalMemory")) {
    EXPECT_TRUE(has("Size: " + std::to_string(std::stoull(text(m, "Capacity")) >> 30) + " GB")) << out;
    EXPECT_TRUE(has("Serial Number: " + text(m, "SerialNumber"))) << out;
    EXPECT_TRUE(has("Part Number: " + text(m, "PartNumber"))) << out;
    EXPECT_TRUE(has("Bank Locator: " + text(m, "BankLabel"))) << out;
  }
  EXPECT_TRUE(has("Type: DDR4")) << out;
  EXPECT_TRUE(has("Form Factor: DIMM")) << out;
  EXPECT_TRUE(has("Type: Desktop")) << out;
  EXPECT_TRUE(has("OEM-specific Type\n\tHeader and Data:\n\t\t82 14")) << out;  // type 130, 20 bytes
  EXPECT_TRUE(has("24 41 4D 54")) << out;                                     // "$AMT"
  EXPECT_TRUE(has("OEM-specific Type\n\tHeader and Data:\n\t\t83 40")) << out;  // type 131, 64 bytes
  EXPECT_TRUE(has("End Of Table")) << out;
  EXPECT_TRUE(has("UEFI is supported")) << out;
  EXPECT_FALSE(has("floppy")) << out;
}

TEST_F(InventoryTest, SensorChangesAreLoggedAsPetEventsAndShownByTheClasses) {
  std::vector<platform::HardwareEvent> heard;
  hardware->setListener([&](const platform::HardwareEvent& e) { heard.push_back(e); });
  const auto logged = model->state().logs.messageLog.size();

  // Warm but under the non-critical threshold: nothing happens.
  ASSERT_TRUE(hardware->changeSensor("cpu_temperature", readingOf(70)));
  EXPECT_TRUE(heard.empty());
  // Over the critical threshold: threshold event 01h, offset 09h (upper critical going high), critical.
  auto events = hardware->changeSensor("cpu_temperature", readingOf(104));
  ASSERT_TRUE(events);
  ASSERT_EQ(heard.size(), 1u);
  auto record = platform::decodeMessageLogRecord(model->state().logs.messageLog.back());
  ASSERT_TRUE(record);
  EXPECT_EQ(record->timestamp, 1700000000u);
  EXPECT_EQ(record->event.sensorType, 0x01);
  EXPECT_EQ(record->event.eventType, 0x01);
  EXPECT_EQ(record->event.offset, 0x09);
  EXPECT_EQ(record->event.severity, 0x10);
  EXPECT_EQ(record->event.eventData[0], 0x59);
  EXPECT_EQ(record->event.eventData[1], 104);  // the reading
  EXPECT_EQ(record->event.eventData[2], 100);  // the threshold it crossed
  EXPECT_EQ(heard[0].messageId, "PLAT0004");
  EXPECT_EQ(heard[0].arguments, (std::vector<std::string>{"Sensor 0", "Bad", "104"}));
  auto sensors = instances("CIM_Sensor");
  EXPECT_EQ(text(sensors[0], "CurrentState"), "Bad");
  EXPECT_EQ(text(sensors[0], "SensorType"), "2");

  // Back to normal: the same offset deasserted, severity OK.
  ASSERT_TRUE(hardware->changeSensor("cpu_temperature", stateOf(SensorHealth::Good)));
  record = platform::decodeMessageLogRecord(model->state().logs.messageLog.back());
  EXPECT_EQ(record->event.offset, 0x89);
  EXPECT_EQ(record->event.severity, 0x04);
  EXPECT_EQ(text(instances("CIM_Sensor")[0], "CurrentState"), "Good");

  // A fan failure: its tachometer reads 0 RPM, lower critical going low (02h) on sensor type 04h.
  ASSERT_TRUE(hardware->setFanFailed("cpu_fan", true));
  record = platform::decodeMessageLogRecord(model->state().logs.messageLog.back());
  EXPECT_EQ(record->event.sensorType, 0x04);
  EXPECT_EQ(record->event.offset, 0x02);
  EXPECT_EQ(record->event.entity, 29);
  auto fans = instances("CIM_Fan");
  ASSERT_EQ(fans.size(), 1u);
  EXPECT_EQ(text(fans[0], "HealthState"), "25");
  EXPECT_EQ(instances("CIM_CoolingDevice").size(), 1u);

  // Intrusion (05h, sensor-specific 6Fh, offset 00h) and a power supply failure (08h, offset 01h).
  ASSERT_TRUE(hardware->changeSensor("chassis_intrusion", stateOf(SensorHealth::Bad)));
  record = platform::decodeMessageLogRecord(model->state().logs.messageLog.back());
  EXPECT_EQ(record->event.sensorType, 0x05);
  EXPECT_EQ(record->event.eventType, 0x6F);
  ASSERT_TRUE(hardware->setPowerSupplyFailed("psu0", true));
  record = platform::decodeMessageLogRecord(model->state().logs.messageLog.back());
  EXPECT_EQ(record->event.sensorType, 0x08);
  EXPECT_EQ(record->event.offset, 0x01);
  EXPECT_EQ(text(instances("CIM_PowerSupply")[0], "OperationalStatus"), "6");
  EXPECT_EQ(model->state().logs.messageLog.size(), logged + 5);
  EXPECT_EQ(heard.size(), 5u);

  // Lowered thresholds put a normal reading into the warning band: non-critical, upper going high (07h).
  platform::Thresholds t{std::nullopt, std::nullopt, 40, 60};
  ASSERT_TRUE(hardware->changeSensor("cpu_temperature", withThresholds(50, t)));
  record = platform::decodeMessageLogRecord(model->state().logs.messageLog.back());
  EXPECT_EQ(record->event.offset, 0x07);
  EXPECT_EQ(record->event.severity, 0x08);
  EXPECT_EQ(text(instances("CIM_Sensor")[0], "HealthState"), "10");

  EXPECT_FALSE(hardware->changeSensor("nothing", readingOf(1)));
  EXPECT_FALSE(hardware->changeSensor("chassis_intrusion", readingOf(1)));
  EXPECT_FALSE(hardware->changeSensor("cpu_temperature", withThresholds(std::nullopt, platform::Thresholds{std::nullopt, std::nullopt, 90, 80})));
  EXPECT_FALSE(hardware->setFanFailed("nothing", true));
}

}  // namespace
}  // namespace mesim::wsman::cim
