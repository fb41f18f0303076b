#include "firmware/platform/uefi_boot_params.h"

#include <algorithm>
#include <cctype>

namespace mesim::platform {
namespace {

constexpr std::size_t kHeaderSize = 8;  // vendor, type, length

bool knownType(std::uint16_t t) {
  using namespace uefi_param;
  return t == kUri || t == kEfiDevicePath || t == kEfiDevicePathLength || t == kImageHashAlgorithm || t == kImageHash ||
         t == kImageHashVariant || t == kOptionalData || t == kSyncRootCa ||
         (t >= kServerNameFirst && t <= kServerNameLast) || t == kTimeout || t == kUsername || t == kPassword;
}

std::uint32_t le(std::span<const std::uint8_t> b, std::size_t at, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = v << 8 | b[at + i];
  return v;
}

}  // namespace

Result<std::vector<UefiBootParam>> parseUefiBootParameters(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return fail("no boot parameters");
  if (bytes.size() > kMaxUefiBootParametersSize)
    return fail("the boot parameters are " + std::to_string(bytes.size()) + " bytes, more than 1024");
  std::vector<UefiBootParam> out;
  std::size_t at = 0;
  while (at < bytes.size()) {
    const std::string where = "parameter " + std::to_string(out.size() + 1) + " (byte " + std::to_string(at) + ")";
    if (bytes.size() - at < kHeaderSize) return fail(where + ": a header needs 8 bytes");
    if (le(bytes, at, 2) != kUefiBootParamVendor) return fail(where + ": the vendor is not 0x8086");
    const auto type = static_cast<std::uint16_t>(le(bytes, at + 2, 2));
    const std::uint32_t length = le(bytes, at + 4, 4);
    if (!knownType(type)) return fail(where + ": unknown type " + std::to_string(type));
    if (length > bytes.size() - at - kHeaderSize) return fail(where + ": its length runs past the end");
    UefiBootParam p{type, {bytes.begin() + static_cast<std::ptrdiff_t>(at + kHeaderSize),
                           bytes.begin() + static_cast<std::ptrdiff_t>(at + kHeaderSize + length)}};
    using namespace uefi_param;
    if ((type == kEfiDevicePathLength || type == kTimeout) && length != 2)
      return fail(where + ": type " + std::to_string(type) + " is a 2-byte number");
    if (type == kSyncRootCa && (length != 1 || p.value[0] > 1)) return fail(where + ": type 20 is one byte, 0 or 1");
    if (type == kUri) {
      const std::string uri(p.value.begin(), p.value.end());
      std::string scheme = uri.substr(0, 8);
      std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
      if (scheme != "https://" || uri.size() == 8) return fail(where + ": the URI is not an https:// address");
      if (std::any_of(uri.begin(), uri.end(), [](unsigned char c) { return c < 0x21 || c == 0x7F; }))
        return fail(where + ": the URI holds spaces or control characters");
    }
    out.push_back(std::move(p));
    at += kHeaderSize + length;
  }
  return out;
}

std::vector<std::uint8_t> encodeUefiBootParameters(const std::vector<UefiBootParam>& params) {
  std::vector<std::uint8_t> out;
  auto put = [&](std::uint32_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  for (const auto& p : params) {
    put(kUefiBootParamVendor, 2);
    put(p.type, 2);
    put(static_cast<std::uint32_t>(p.value.size()), 4);
    out.insert(out.end(), p.value.begin(), p.value.end());
  }
  return out;
}

std::optional<std::string> uefiBootUri(const std::vector<UefiBootParam>& params) {
  for (const auto& p : params)
    if (p.type == uefi_param::kUri) return std::string(p.value.begin(), p.value.end());
  return std::nullopt;
}

}  // namespace mesim::platform
