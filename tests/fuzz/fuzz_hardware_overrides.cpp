// Arbitrary text as <state dir>/hardware.json (firmware/platform/hardware_inventory.h): the overrides either apply
// or refuse with a message that names what is wrong; an inventory they leave is one the SMBIOS builder turns into
// well-formed structures (each within its length, strings double-NUL terminated, 127 last). Never a crash.
#include <cstdlib>
#include <string_view>

#include "firmware/platform/hardware_inventory.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mesim::platform;
  const std::array<std::uint8_t, 16> uuid{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  auto inventory = defaultHardwareInventory(uuid, "BIOS 1.0");
  auto applied = applyHardwareOverrides(inventory, std::string_view(reinterpret_cast<const char*>(data), size));
  if (!applied) {
    if (applied.error().message.empty()) std::abort();
    return 0;
  }
  if (inventory.processors.empty()) std::abort();
  const auto structures = buildSmbiosStructures(inventory, uuid, {16, 1, 25, 2176});
  if (structures.empty() || structures.back().type != 127) std::abort();
  for (const auto& s : structures) {
    const auto& b = s.bytes;
    if (b.size() < 6 || b[0] != s.type || b[1] < 4 || b[1] + 2u > b.size()) std::abort();
    if (b[b.size() - 1] != 0 || b[b.size() - 2] != 0) std::abort();
    // No NUL pair inside the string set before its end: a string is never empty.
    for (std::size_t i = b[1]; i + 2 < b.size(); ++i)
      if (b[i] == 0 && b[i + 1] == 0) std::abort();
  }
  return 0;
}
