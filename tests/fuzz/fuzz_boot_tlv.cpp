// Arbitrary bytes into the One Click Recovery boot parameter parser (firmware/platform/uefi_boot_params.h), which
// reads AMT_BootSettingData.UefiBootParametersArray from a console: it either refuses with a message or returns
// parameters that encode back to exactly the input, within 1024 bytes, each of a known type. The same bytes as a
// downloaded recovery image (firmware/platform/ocr_boot.h: its manifest and hash check) too. Never a crash.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <span>

#include "firmware/platform/ocr_boot.h"
#include "firmware/platform/uefi_boot_params.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mesim::platform;
  const std::span<const std::uint8_t> bytes(data, size);
  const std::string image(reinterpret_cast<const char*>(data), size);
  const auto id = ocrImageIdentity(image);
  if (id.name.size() > 4096 || id.version.size() > 4096) std::abort();
  const std::vector<std::uint8_t> hash(data, data + std::min<std::size_t>(size, 32));
  (void)checkOcrImage(hash, image);  // any length of hash: refused or compared, never read past
  auto params = parseUefiBootParameters(bytes);
  if (!params) {
    if (params.error().message.empty()) std::abort();
    return 0;
  }
  if (size == 0 || size > kMaxUefiBootParametersSize || params->empty()) std::abort();
  const auto again = encodeUefiBootParameters(*params);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  if (auto uri = uefiBootUri(*params)) {  // an https:// address in any case
    if (uri->size() <= 8) std::abort();
    for (std::size_t i = 0; i < 8; ++i)
      if (std::tolower(static_cast<unsigned char>((*uri)[i])) != "https://"[i]) std::abort();
  }
  return 0;
}
