// One Click Recovery's HTTPS boot as the simulated BIOS runs it (AMT 16; ../shared/spec/features.md §7): which boot
// the armed options ask for, and the progress and error records the BIOS writes to the message log (sensor type
// 0x0F, event data AA 30 ..., as MeshCentral's log decoder reads them). The download itself is app/'s (an HTTPS GET
// off the firmware's loop); this is the part that reads the platform state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_state.h"

namespace mesim::platform {

struct OcrHttpsBoot {
  std::string uri;                     // TLV 1
  bool syncRootCa = false;             // TLV 20: trust AMT's root certificates (else the BIOS's own store)
  std::uint16_t timeoutSeconds = 0;    // TLV 30; 0 = the BIOS's default
  std::string username, password;      // TLVs 40/41: HTTP Digest credentials
  std::vector<std::uint8_t> imageHash; // TLV 5: SHA-256/384/512 of the image, by its length; empty: not checked
  std::vector<std::string> trustedRootsPem;  // with syncRootCa: AMT's trusted roots (AddTrustedRootCertificate)
};

// The HTTPS boot the one-time boot options ask for: armed by SetBootConfigRole(1), the first boot source
// "Intel(r) AMT: Force OCR UEFI HTTPS Boot", and a URI among the UEFI boot parameters. Nothing otherwise.
std::optional<OcrHttpsBoot> armedOcrHttpsBoot(const PlatformState& state);

// Progress (offset 5) and errors (offset 3) in the order the BIOS reports them.
enum class OcrProgress : std::uint8_t {
  ParametersReceived = 0,
  OptionAdded = 1,  // event data [3]: the source, 2 HTTPS
  Resolved = 2,
  Connected = 3,
  Downloaded = 4,
  Booting = 5,
  ExitBootServices = 6,
};
enum class OcrError : std::uint8_t {
  NoNetwork = 1,
  NameResolution = 2,
  Connect = 3,
  AppNotFound = 4,  // a local OEM app (WinRE, PBA)
  TlsAuthentication = 5,
  DigestAuthentication = 6,
  VerifiedBoot = 7,  // the image's hash is not TLV 5's
  FileNotFound = 8,
};
inline constexpr std::uint8_t kOcrSourceHttps = 2;

MessageLogEvent ocrProgressEvent(OcrProgress step);
MessageLogEvent ocrErrorEvent(OcrError error);

// The download's verdict: the error a failed image check makes, or nothing if `image` matches `expectedHash`
// (or no hash was given).
std::optional<OcrError> checkOcrImage(const std::vector<std::uint8_t>& expectedHash, const std::string& image);

// What the recovery image says it is: `name:` and `version:` lines of a text manifest ("" where absent).
struct OcrImageIdentity {
  std::string name;
  std::string version;
};
OcrImageIdentity ocrImageIdentity(const std::string& image);

}  // namespace mesim::platform
