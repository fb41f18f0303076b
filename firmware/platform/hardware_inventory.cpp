#include "firmware/platform/hardware_inventory.h"

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <system_error>

#include <boost/json.hpp>

#include "common/text_codecs.h"
#include "firmware/core/atomic_file.h"

namespace mesim::platform {
namespace {

// A serial number made of UUID bytes: distinct per device, the same on every start.
std::string serialFrom(const std::array<std::uint8_t, 16>& uuid, std::size_t offset, std::size_t length = 6) {
  return text::toHex(std::span(uuid).subspan(offset, length), text::LetterCase::Upper);
}

std::vector<PciDeviceInfo> defaultPciDevices() {
  // A Comet Lake desktop's PCH functions, as lspci lists them.
  auto dev = [](std::uint8_t d, std::uint8_t f, std::uint16_t id, std::uint8_t cls, std::uint8_t sub, std::uint8_t pi,
                const char* name) {
    PciDeviceInfo p;
    p.device = d;
    p.function = f;
    p.deviceId = id;
    p.subsystemId = id;
    p.classCode = cls;
    p.subclassCode = sub;
    p.programmingInterface = pi;
    p.revisionId = 0x05;
    p.name = name;
    return p;
  };
  return {dev(0x00, 0, 0x9B33, 0x06, 0x00, 0x00, "Host bridge"),
          dev(0x02, 0, 0x9BC5, 0x03, 0x00, 0x00, "VGA compatible controller"),
          dev(0x14, 0, 0x06ED, 0x0C, 0x03, 0x30, "USB controller"),
          dev(0x16, 0, 0x06E0, 0x07, 0x80, 0x00, "Communication controller (HECI)"),
          dev(0x16, 3, 0x06E3, 0x07, 0x00, 0x02, "Serial controller (AMT SOL)"),
          dev(0x17, 0, 0x06D2, 0x01, 0x06, 0x01, "SATA controller"),
          dev(0x1F, 0, 0x0684, 0x06, 0x01, 0x00, "ISA bridge"),
          dev(0x1F, 4, 0x06A3, 0x0C, 0x05, 0x00, "SMBus"),
          dev(0x1F, 6, 0x0D4C, 0x02, 0x00, 0x00, "Ethernet controller (I219-LM)")};
}

// ---- overrides

using Setter = std::function<Result<>(const boost::json::value&)>;

Result<> applyObject(const boost::json::value& v, const std::string& where, const std::map<std::string, Setter>& fields) {
  if (!v.is_object()) return fail(where + " must be an object");
  for (const auto& [key, value] : v.as_object()) {
    auto it = fields.find(std::string(key));
    if (it == fields.end()) return fail("unknown field " + where + "." + std::string(key));
    if (auto r = it->second(value); !r) return fail(where + "." + std::string(key) + ": " + r.error().message);
  }
  return {};
}

Setter str(std::string& out) {
  return [&out](const boost::json::value& v) -> Result<> {
    if (!v.is_string()) return fail("must be a string");
    if (v.as_string().size() > 64) return fail("longer than 64 characters");
    out = std::string(v.as_string());
    return {};
  };
}

Setter date(std::string& out) {
  return [&out](const boost::json::value& v) -> Result<> {
    if (!v.is_string() || !isoDateToUnix(v.as_string())) return fail("must be a date yyyy-mm-dd");
    out = std::string(v.as_string());
    return {};
  };
}

template <typename N>
Setter num(N& out) {
  return [&out](const boost::json::value& v) -> Result<> {
    std::error_code ec;
    auto n = v.is_number() ? v.to_number<std::uint64_t>(ec) : 0;
    if (!v.is_number() || ec || n > std::numeric_limits<N>::max()) return fail("must be a number that fits its field");
    out = static_cast<N>(n);
    return {};
  };
}

Setter boolean(bool& out) {
  return [&out](const boost::json::value& v) -> Result<> {
    if (!v.is_bool()) return fail("must be true or false");
    out = v.as_bool();
    return {};
  };
}

// A list of objects; each starts from `proto` (the first generated entry) so an override names only what differs.
template <typename T>
Setter list(std::vector<T>& out, const std::string& where, std::function<std::map<std::string, Setter>(T&)> fields) {
  return [&out, where, fields](const boost::json::value& v) -> Result<> {
    if (!v.is_array()) return fail("must be a list");
    std::vector<T> items;
    for (std::size_t i = 0; i < v.as_array().size(); ++i) {
      T item = out.empty() ? T{} : out.front();
      if (auto r = applyObject(v.as_array()[i], where + "[" + std::to_string(i) + "]", fields(item)); !r) return r;
      items.push_back(std::move(item));
    }
    out = std::move(items);
    return {};
  };
}

std::map<std::string, Setter> processorFields(ProcessorInfo& p) {
  return {{"socket", str(p.socket)},           {"manufacturer", str(p.manufacturer)},
          {"version", str(p.version)},         {"family", num(p.family)},
          {"max_speed_mhz", num(p.maxSpeedMhz)}, {"current_speed_mhz", num(p.currentSpeedMhz)},
          {"external_clock_mhz", num(p.externalClockMhz)}, {"cores", num(p.cores)},
          {"threads", num(p.threads)},         {"stepping", num(p.stepping)},
          {"id", num(p.processorId)}};
}

std::map<std::string, Setter> memoryFields(MemoryModuleInfo& m) {
  return {{"device_locator", str(m.deviceLocator)}, {"bank_label", str(m.bankLabel)},
          {"size_mib", num(m.sizeMiB)},             {"speed_mts", num(m.speedMts)},
          {"type", num(m.smbiosType)},              {"form_factor", num(m.smbiosFormFactor)},
          {"manufacturer", str(m.manufacturer)},    {"serial_number", str(m.serialNumber)},
          {"part_number", str(m.partNumber)},       {"asset_tag", str(m.assetTag)}};
}

std::map<std::string, Setter> diskFields(DiskInfo& d) {
  return {{"model", str(d.model)}, {"serial_number", str(d.serialNumber)}, {"size_bytes", num(d.sizeBytes)}};
}

std::map<std::string, Setter> pciFields(PciDeviceInfo& p) {
  return {{"bus", num(p.bus)},
          {"device", num(p.device)},
          {"function", num(p.function)},
          {"vendor_id", num(p.vendorId)},
          {"device_id", num(p.deviceId)},
          {"subsystem_vendor_id", num(p.subsystemVendorId)},
          {"subsystem_id", num(p.subsystemId)},
          {"class_code", num(p.classCode)},
          {"subclass_code", num(p.subclassCode)},
          {"programming_interface", num(p.programmingInterface)},
          {"revision_id", num(p.revisionId)},
          {"name", str(p.name)}};
}

// ---- SMBIOS

class StructureWriter {
 public:
  StructureWriter(std::uint8_t type, std::uint8_t length, std::uint16_t handle) : area_(length, 0) {
    area_[0] = type;
    area_[1] = length;
    u16(2, handle);
  }
  StructureWriter& u8(std::size_t off, std::uint8_t v) {
    area_.at(off) = v;
    return *this;
  }
  StructureWriter& u16(std::size_t off, std::uint16_t v) {
    u8(off, v & 0xFF);
    return u8(off + 1, v >> 8);
  }
  StructureWriter& u32(std::size_t off, std::uint32_t v) {
    u16(off, v & 0xFFFF);
    return u16(off + 2, v >> 16);
  }
  StructureWriter& u64(std::size_t off, std::uint64_t v) {
    u32(off, v & 0xFFFFFFFFu);
    return u32(off + 4, v >> 32);
  }
  StructureWriter& bytes(std::size_t off, std::span<const std::uint8_t> b) {
    for (std::size_t i = 0; i < b.size(); ++i) u8(off + i, b[i]);
    return *this;
  }
  // A string field: its number in the string set (0 = none for an empty text).
  StructureWriter& str(std::size_t off, std::string text) {
    std::erase(text, '\0');  // an SMBIOS string ends at its NUL
    if (text.empty()) return u8(off, 0);
    strings_.push_back(std::move(text));
    return u8(off, static_cast<std::uint8_t>(strings_.size()));
  }
  SmbiosStructure done() {
    SmbiosStructure s{area_[0], static_cast<std::uint16_t>(area_[2] | area_[3] << 8), area_};
    for (const auto& t : strings_) {
      s.bytes.insert(s.bytes.end(), t.begin(), t.end());
      s.bytes.push_back(0);
    }
    if (strings_.empty()) s.bytes.push_back(0);
    s.bytes.push_back(0);
    return s;
  }

 private:
  std::vector<std::uint8_t> area_;
  std::vector<std::string> strings_;
};

// "2025-01-01" -> "01/01/2025", SMBIOS's BIOS date form.
std::string smbiosDate(const std::string& iso) {
  if (iso.size() != 10) return iso;
  return iso.substr(5, 2) + "/" + iso.substr(8, 2) + "/" + iso.substr(0, 4);
}

}  // namespace

std::optional<std::int64_t> isoDateToUnix(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  auto digits = [&](std::size_t off, std::size_t n) -> std::optional<int> {
    int v = 0;
    for (std::size_t i = off; i < off + n; ++i) {
      if (date[i] < '0' || date[i] > '9') return std::nullopt;
      v = v * 10 + (date[i] - '0');
    }
    return v;
  };
  auto y = digits(0, 4), m = digits(5, 2), d = digits(8, 2);
  if (!y || !m || !d) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{*y}, std::chrono::month(static_cast<unsigned>(*m)),
                                        std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok() || *y < 1980) return std::nullopt;
  return std::chrono::sys_days(ymd).time_since_epoch() / std::chrono::seconds(1);
}

HardwareInventory defaultHardwareInventory(const std::array<std::uint8_t, 16>& uuid, std::string_view biosVersion) {
  HardwareInventory inv;
  inv.systemSerialNumber = serialFrom(uuid, 10);
  inv.chassisSerialNumber = serialFrom(uuid, 10);
  inv.boardSerialNumber = serialFrom(uuid, 4);
  inv.biosVersion = std::string(biosVersion);
  inv.processors.push_back(ProcessorInfo{});
  // One module of 8, 16 or 32 GiB, picked by the UUID (one: consoles Get CIM_PhysicalMemory without selectors,
  // wsman-messages among them; a second module comes from hardware.json).
  const std::uint32_t sizes[] = {8192, 16384, 32768};
  for (std::uint8_t slot = 0; slot < 1; ++slot) {
    MemoryModuleInfo m;
    m.deviceLocator = slot == 0 ? "ChannelA-DIMM0" : "ChannelB-DIMM0";
    m.bankLabel = "BANK " + std::to_string(slot);
    m.sizeMiB = sizes[uuid[15] % 3];
    m.serialNumber = serialFrom(uuid, 12 - slot * 4, 4);
    m.assetTag = "987654321" + std::to_string(slot);
    inv.memory.push_back(m);
  }
  DiskInfo disk;
  disk.serialNumber = "S4EWNX0" + serialFrom(uuid, 0, 4);
  const std::uint64_t diskSizes[] = {256060514304ull, 500107862016ull, 1000204886016ull};
  disk.sizeBytes = diskSizes[uuid[14] % 3];
  inv.disks.push_back(disk);
  inv.battery.serialNumber = serialFrom(uuid, 8, 2);
  inv.pciDevices = defaultPciDevices();
  return inv;
}

Result<> applyHardwareOverrides(HardwareInventory& inventory, std::string_view json) {
  HardwareInventory inv = inventory;  // all or nothing: `inventory` changes only if every field applies
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec) return fail("not JSON: " + ec.message());
  std::map<std::string, Setter> top = {
      {"system", [&](const boost::json::value& o) {
         return applyObject(o, "system", {{"manufacturer", str(inv.systemManufacturer)},
                                          {"product_name", str(inv.systemProductName)},
                                          {"version", str(inv.systemVersion)},
                                          {"serial_number", str(inv.systemSerialNumber)},
                                          {"sku", str(inv.systemSku)},
                                          {"family", str(inv.systemFamily)}});
       }},
      {"chassis", [&](const boost::json::value& o) {
         return applyObject(o, "chassis", {{"manufacturer", str(inv.chassisManufacturer)},
                                           {"version", str(inv.chassisVersion)},
                                           {"serial_number", str(inv.chassisSerialNumber)},
                                           {"asset_tag", str(inv.chassisAssetTag)},
                                           {"type", num(inv.chassisType)}});
       }},
      {"board", [&](const boost::json::value& o) {
         return applyObject(o, "board", {{"manufacturer", str(inv.boardManufacturer)},
                                         {"product", str(inv.boardProduct)},
                                         {"version", str(inv.boardVersion)},
                                         {"serial_number", str(inv.boardSerialNumber)},
                                         {"asset_tag", str(inv.boardAssetTag)}});
       }},
      {"bios", [&](const boost::json::value& o) {
         return applyObject(o, "bios", {{"vendor", str(inv.biosVendor)},
                                        {"version", str(inv.biosVersion)},
                                        {"release_date", date(inv.biosReleaseDate)}});
       }},
      {"battery", [&](const boost::json::value& o) {
         auto& b = inv.battery;
         b.present = true;  // naming a battery makes the platform a laptop's
         return applyObject(o, "battery", {{"present", boolean(b.present)},
                                           {"location", str(b.location)},
                                           {"manufacturer", str(b.manufacturer)},
                                           {"device_name", str(b.deviceName)},
                                           {"manufacture_date", date(b.manufactureDate)},
                                           {"serial_number", str(b.serialNumber)},
                                           {"design_capacity_mwh", num(b.designCapacityMwh)},
                                           {"design_voltage_mv", num(b.designVoltageMv)},
                                           {"chemistry", num(b.chemistry)}});
       }},
      {"processors", list<ProcessorInfo>(inv.processors, "processors", processorFields)},
      {"memory", list<MemoryModuleInfo>(inv.memory, "memory", memoryFields)},
      {"disks", list<DiskInfo>(inv.disks, "disks", diskFields)},
      {"pci_devices", list<PciDeviceInfo>(inv.pciDevices, "pci_devices", pciFields)},
  };
  if (!v.is_object()) return fail("the hardware overrides must be a JSON object");
  for (const auto& [key, value] : v.as_object()) {
    auto it = top.find(std::string(key));
    if (it == top.end()) return fail("unknown field " + std::string(key));
    if (auto r = it->second(value); !r) return r;
  }
  if (inv.processors.empty()) return fail("processors: a platform has at least one processor");
  // Sockets and slots name CIM instances (their keys): two of a kind must differ.
  for (std::size_t i = 0; i < inv.processors.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (inv.processors[i].socket == inv.processors[j].socket)
        return fail("processors[" + std::to_string(i) + "].socket: " + inv.processors[i].socket + " is taken");
  for (std::size_t i = 0; i < inv.memory.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (inv.memory[i].deviceLocator == inv.memory[j].deviceLocator)
        return fail("memory[" + std::to_string(i) + "].device_locator: " + inv.memory[i].deviceLocator + " is taken");
  inventory = std::move(inv);
  return {};
}

Result<> applyHardwareOverridesFile(HardwareInventory& inventory, const std::filesystem::path& file) {
  std::error_code exists;
  if (!std::filesystem::exists(file, exists)) return {};
  std::string text;
  if (auto ec = core::readFile(file, text)) return fail(file.string() + ": " + ec.message());
  if (auto r = applyHardwareOverrides(inventory, text); !r) return fail(file.string() + ": " + r.error().message);
  return {};
}

std::vector<SmbiosStructure> buildSmbiosStructures(const HardwareInventory& inv, const std::array<std::uint8_t, 16>& uuid,
                                                   const std::array<std::uint16_t, 4>& meVersion) {
  std::vector<SmbiosStructure> out;
  std::uint16_t handle = 0;

  // Type 0, BIOS information (SMBIOS 3.x, 0x1A bytes). Characteristics (bits 7, 11, 12, 15, 16, 19, 26-30): PCI,
  // upgradeable, shadowing, boot from CD, selectable boot, EDD, print screen, 8042 keyboard, serial, printer and
  // CGA/mono video services; extension bytes: ACPI, USB legacy; BIOS boot spec, targeted content, UEFI.
  out.push_back(StructureWriter(0, 0x1A, handle++)
                    .str(4, inv.biosVendor)
                    .str(5, inv.biosVersion)
                    .u16(6, 0xF000)
                    .str(8, smbiosDate(inv.biosReleaseDate))
                    .u8(9, 0xFF)
                    .u64(0x0A, 0x000000007C099880ull)
                    .u8(0x12, 0x03)
                    .u8(0x13, 0x0D)
                    .u8(0x14, 1)
                    .u8(0x15, 0)
                    .u8(0x16, 0xFF)
                    .u8(0x17, 0xFF)
                    .u16(0x18, 32)  // 32 MiB
                    .done());

  // Type 1, system information: the UUID in SMBIOS byte order, as dmidecode and AMT's PlatformGUID print it.
  const auto smbiosUuid = text::uuidToMixedEndian(uuid);
  out.push_back(StructureWriter(1, 0x1B, handle++)
                    .str(4, inv.systemManufacturer)
                    .str(5, inv.systemProductName)
                    .str(6, inv.systemVersion)
                    .str(7, inv.systemSerialNumber)
                    .bytes(8, smbiosUuid)
                    .u8(0x18, 6)  // wake-up: power switch
                    .str(0x19, inv.systemSku)
                    .str(0x1A, inv.systemFamily)
                    .done());

  const std::uint16_t chassisHandle = 3;
  out.push_back(StructureWriter(2, 0x0F, handle++)
                    .str(4, inv.boardManufacturer)
                    .str(5, inv.boardProduct)
                    .str(6, inv.boardVersion)
                    .str(7, inv.boardSerialNumber)
                    .str(8, inv.boardAssetTag)
                    .u8(9, 0x09)  // hosting board, replaceable
                    .str(0x0A, "Default string")
                    .u16(0x0B, chassisHandle)
                    .u8(0x0D, 0x0A)  // motherboard
                    .done());

  out.push_back(StructureWriter(3, 0x16, handle++)
                    .str(4, inv.chassisManufacturer)
                    .u8(5, inv.chassisType)
                    .str(6, inv.chassisVersion)
                    .str(7, inv.chassisSerialNumber)
                    .str(8, inv.chassisAssetTag)
                    .u8(9, 3)  // boot-up, power supply, thermal states: safe; security: none
                    .u8(0x0A, 3)
                    .u8(0x0B, 3)
                    .u8(0x0C, 3)
                    .u8(0x12, 1)
                    .str(0x15, inv.systemSku)
                    .done());

  for (const auto& p : inv.processors)
    out.push_back(StructureWriter(4, 0x30, handle++)
                      .str(4, p.socket)
                      .u8(5, 3)  // central processor
                      .u8(6, p.family < 0xFE ? static_cast<std::uint8_t>(p.family) : 0xFE)
                      .str(7, p.manufacturer)
                      .u32(8, static_cast<std::uint32_t>(p.processorId >> 32))
                      .u32(0x0C, static_cast<std::uint32_t>(p.processorId))
                      .str(0x10, p.version)
                      .u8(0x11, 0x80 | 11)  // 1.1 V
                      .u16(0x12, p.externalClockMhz)
                      .u16(0x14, p.maxSpeedMhz)
                      .u16(0x16, p.currentSpeedMhz)
                      .u8(0x18, 0x41)  // socket populated, CPU enabled
                      .u8(0x19, 0x01)
                      .u16(0x1A, 0xFFFF)
                      .u16(0x1C, 0xFFFF)
                      .u16(0x1E, 0xFFFF)
                      .u8(0x23, p.cores)
                      .u8(0x24, p.cores)
                      .u8(0x25, p.threads)
                      .u16(0x26, 0x00EC)  // 64-bit, multi-core, hardware thread, execute protection, virtualization
                      .u16(0x28, p.family)
                      .u16(0x2A, p.cores)
                      .u16(0x2C, p.cores)
                      .u16(0x2E, p.threads)
                      .done());

  const std::uint16_t arrayHandle = handle++;
  std::uint64_t totalKiB = 0;
  for (const auto& m : inv.memory) totalKiB += std::uint64_t{m.sizeMiB} * 1024;
  out.push_back(StructureWriter(16, 0x17, arrayHandle)
                    .u8(4, 3)  // system board
                    .u8(5, 3)  // system memory
                    .u8(6, 3)  // no error correction
                    .u32(7, static_cast<std::uint32_t>(std::max<std::uint64_t>(totalKiB, 64ull * 1024 * 1024)))
                    .u16(0x0B, 0xFFFE)
                    .u16(0x0D, static_cast<std::uint16_t>(inv.memory.size()))
                    .done());
  for (const auto& m : inv.memory)
    out.push_back(StructureWriter(17, 0x28, handle++)
                      .u16(4, arrayHandle)
                      .u16(6, 0xFFFE)
                      .u16(8, 64)
                      .u16(0x0A, 64)
                      .u16(0x0C, m.sizeMiB < 0x7FFF ? static_cast<std::uint16_t>(m.sizeMiB) : 0x7FFF)
                      .u8(0x0E, m.smbiosFormFactor)
                      .str(0x10, m.deviceLocator)
                      .str(0x11, m.bankLabel)
                      .u8(0x12, m.smbiosType)
                      .u16(0x13, 0x0080)  // synchronous
                      .u16(0x15, m.speedMts)
                      .str(0x17, m.manufacturer)
                      .str(0x18, m.serialNumber)
                      .str(0x19, m.assetTag)
                      .str(0x1A, m.partNumber)
                      .u8(0x1B, 1)  // rank 1
                      .u32(0x1C, m.sizeMiB < 0x7FFF ? 0 : m.sizeMiB)
                      .u16(0x20, m.speedMts)
                      .u16(0x22, 1200)
                      .u16(0x24, 1200)
                      .u16(0x26, 1200)
                      .done());

  if (inv.battery.present) {
    const auto& b = inv.battery;
    out.push_back(StructureWriter(22, 0x1A, handle++)
                      .str(4, b.location)
                      .str(5, b.manufacturer)
                      .str(6, smbiosDate(b.manufactureDate))
                      .str(7, b.serialNumber)
                      .str(8, b.deviceName)
                      .u8(9, b.chemistry)
                      .u16(0x0A, b.designCapacityMwh)
                      .u16(0x0C, b.designVoltageMv)
                      .u8(0x0F, 0xFF)
                      .u8(0x15, 1)
                      .done());
  }

  // Type 130, Intel AMT: "$AMT", then AMT supported, enabled, IDE-R, SOL, network, extended data (0xA5), OEM
  // capability bytes, KVM.
  static constexpr std::uint8_t kAmtSignature[] = {'$', 'A', 'M', 'T'};
  out.push_back(StructureWriter(130, 0x14, handle++)
                    .bytes(4, kAmtSignature)
                    .u8(8, 1)
                    .u8(9, 1)
                    .u8(0x0A, 1)
                    .u8(0x0B, 1)
                    .u8(0x0C, 1)
                    .u8(0x0D, 0xA5)
                    .u8(0x0E, 0x2F)
                    .u8(0x0F, 0x02)
                    .u8(0x10, 0x00)
                    .u8(0x11, 0x00)
                    .u8(0x12, 1)
                    .done());

  // Type 131, Intel vPro: CPU capabilities (VT-x, TXT), MEBx version, PCH capabilities, ME capabilities (AMT),
  // ME firmware version, and the "vPro" signature at 0x38.
  static constexpr std::uint8_t kVproSignature[] = {'v', 'P', 'r', 'o'};
  StructureWriter vpro(131, 0x40, handle++);
  vpro.u32(4, 0x00000003);
  for (std::size_t i = 0; i < 4; ++i) vpro.u16(8 + 2 * i, meVersion[i]);
  vpro.u32(0x10, 0x00000001).u32(0x14, 0x00000001);
  for (std::size_t i = 0; i < 4; ++i) vpro.u16(0x18 + 2 * i, meVersion[i]);
  vpro.bytes(0x38, kVproSignature);
  out.push_back(vpro.done());

  out.push_back(StructureWriter(127, 4, handle++).done());
  return out;
}

}  // namespace mesim::platform
