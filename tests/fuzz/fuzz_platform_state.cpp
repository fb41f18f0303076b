// Arbitrary bytes as platform.json (a state dir a client or a crash could have poisoned): parsing never crashes,
// and whatever parses and validates serializes to text that parses again (the store never writes a file it could
// not read back).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "firmware/platform/platform_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mesim::platform;
  static const PlatformState fallback{};
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = parseState(text, fallback);
  if (!parsed || !validateState(parsed->state)) return 0;
  auto written = serializeState(parsed->state);
  if (!written) return 0;  // refused (e.g. not UTF-8): nothing is written
  auto again = parseState(*written, fallback);
  if (!again) std::abort();
  return 0;
}
