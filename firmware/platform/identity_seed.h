// Reproducible identities: a device whose identity is derived from a seed gets the same UUID, MACs and Digest
// realm on every machine that starts it with the same seed and subject, so a fleet of 10,000 simulated devices can
// be built again (another state dir, another host, another shard) and consoles see the same machines. Each value
// is HMAC-SHA256(key = seed, message = domain || subject || label): independent per value, no state, and a device
// learns nothing about another's from its own. Without a seed the platform's identity is random (credentials.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "firmware/platform/platform_state.h"

namespace mesim::platform {

struct IdentitySeed {
  std::string seed;     // the fleet's secret-ish text (--fleet-seed, --identity-seed); never empty
  std::string subject;  // which device: "fleet/17" (a fleet's global device number), "device/lab2" (a named one)
};

class IdentityDerivation {
 public:
  explicit IdentityDerivation(IdentitySeed seed) : seed_(std::move(seed)) {}

  std::array<std::uint8_t, 16> uuid() const;  // RFC 4122 version 4 layout, as randomUuid()
  MacAddress wiredMac() const;                // unicast, locally administered, as the random ones
  MacAddress wirelessMac() const;
  std::string digestRealm() const;  // "Digest:" + 32 upper-case hex digits, as randomDigestRealm()

 private:
  std::array<std::uint8_t, 32> bytes(std::string_view label) const;
  MacAddress mac(std::string_view label) const;

  IdentitySeed seed_;
};

}  // namespace mesim::platform
