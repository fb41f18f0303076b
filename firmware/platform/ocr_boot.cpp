#include "firmware/platform/ocr_boot.h"

#include <openssl/evp.h>

#include <algorithm>

#include "firmware/platform/uefi_boot_params.h"

namespace mesim::platform {
namespace {

constexpr const char* kOcrHttpsSourceId = "Intel(r) AMT: Force OCR UEFI HTTPS Boot";
constexpr std::uint8_t kSensorTypeSystemFirmwareProgress = 0x0F;
constexpr std::uint8_t kEntityBios = 0x22;

MessageLogEvent ocrEvent(std::uint8_t offset, std::uint8_t code, std::uint8_t severity) {
  MessageLogEvent e;
  e.sensorType = kSensorTypeSystemFirmwareProgress;
  e.eventType = 0x6F;
  e.offset = offset;
  e.severity = severity;
  e.entity = kEntityBios;
  e.eventData[0] = 0xAA;
  e.eventData[1] = 0x30;
  e.eventData[2] = code;
  return e;
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

}  // namespace

std::optional<OcrHttpsBoot> armedOcrHttpsBoot(const PlatformState& state) {
  const auto& boot = state.boot;
  if (!boot.bootConfigActive || boot.bootOrder.empty() || boot.bootOrder.front() != kOcrHttpsSourceId) return std::nullopt;
  auto params = parseUefiBootParameters(boot.uefiBootParameters);
  if (!params) return std::nullopt;
  auto uri = uefiBootUri(*params);
  if (!uri) return std::nullopt;
  OcrHttpsBoot plan;
  plan.uri = std::move(*uri);
  for (const auto& p : *params) {
    const std::string text(p.value.begin(), p.value.end());
    switch (p.type) {
      case uefi_param::kSyncRootCa: plan.syncRootCa = !p.value.empty() && p.value[0] == 1; break;
      case uefi_param::kTimeout:
        if (p.value.size() == 2) plan.timeoutSeconds = static_cast<std::uint16_t>(p.value[0] | p.value[1] << 8);
        break;
      case uefi_param::kUsername: plan.username = text; break;
      case uefi_param::kPassword: plan.password = text; break;
      case uefi_param::kImageHash: plan.imageHash = p.value; break;
      default: break;
    }
  }
  if (plan.syncRootCa)
    for (const auto& c : state.certificates)
      if (c.trustedRoot) plan.trustedRootsPem.push_back(c.x509);  // base64 DER; app/ makes PEM of it
  return plan;
}

MessageLogEvent ocrProgressEvent(OcrProgress step) {
  auto e = ocrEvent(5, static_cast<std::uint8_t>(step), 0x08);
  if (step == OcrProgress::OptionAdded) e.eventData[3] = kOcrSourceHttps;
  return e;
}

MessageLogEvent ocrErrorEvent(OcrError error) { return ocrEvent(3, static_cast<std::uint8_t>(error), 0x10); }

std::optional<OcrError> checkOcrImage(const std::vector<std::uint8_t>& expectedHash, const std::string& image) {
  if (expectedHash.empty()) return std::nullopt;
  const EVP_MD* md = expectedHash.size() == 32 ? EVP_sha256()
                     : expectedHash.size() == 48 ? EVP_sha384()
                     : expectedHash.size() == 64 ? EVP_sha512()
                                                 : nullptr;
  if (!md) return OcrError::VerifiedBoot;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(image.data(), image.size(), digest, &length, md, nullptr) != 1) return OcrError::VerifiedBoot;
  if (length != expectedHash.size() || !std::equal(expectedHash.begin(), expectedHash.end(), digest))
    return OcrError::VerifiedBoot;
  return std::nullopt;
}

OcrImageIdentity ocrImageIdentity(const std::string& image) {
  OcrImageIdentity id;
  std::size_t at = 0;
  // Only the head of a real image would be text; a manifest is short.
  const std::string head = image.substr(0, 4096);
  while (at < head.size()) {
    auto end = head.find('\n', at);
    if (end == std::string::npos) end = head.size();
    const std::string line = head.substr(at, end - at);
    at = end + 1;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon));
    const std::string value = trim(line.substr(colon + 1));
    if (key == "name" && id.name.empty()) id.name = value;
    if (key == "version" && id.version.empty()) id.version = value;
  }
  return id;
}

}  // namespace mesim::platform
