#include "firmware/platform/identity_seed.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

#include "common/text_codecs.h"

namespace mesim::platform {
namespace {

// Bumping it would give every seeded fleet new identities: it names the derivation, not mesim's version.
constexpr std::string_view kDomain = "mesim identity v1";

}  // namespace

std::array<std::uint8_t, 32> IdentityDerivation::bytes(std::string_view label) const {
  // NUL separators: the subject and label are text without NULs, so ("a", "bc") and ("ab", "c") never collide.
  std::string message;
  message.append(kDomain).push_back('\0');
  message.append(seed_.subject).push_back('\0');
  message.append(label);
  std::array<std::uint8_t, 32> out{};
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), seed_.seed.data(), static_cast<int>(seed_.seed.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &length) ||
      length != out.size()) {
    std::fputs("mesim: HMAC-SHA256 unavailable in OpenSSL; cannot derive the platform's identity\n", stderr);
    std::abort();
  }
  return out;
}

std::array<std::uint8_t, 16> IdentityDerivation::uuid() const {
  auto digest = bytes("uuid");
  std::array<std::uint8_t, 16> uuid{};
  std::memcpy(uuid.data(), digest.data(), uuid.size());
  uuid[6] = static_cast<std::uint8_t>((uuid[6] & 0x0F) | 0x40);  // version 4: consoles expect the usual layout
  uuid[8] = static_cast<std::uint8_t>((uuid[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return uuid;
}

MacAddress IdentityDerivation::mac(std::string_view label) const {
  auto digest = bytes(label);
  MacAddress mac{};
  std::memcpy(mac.data(), digest.data(), mac.size());
  mac[0] = static_cast<std::uint8_t>((mac[0] & 0xFC) | 0x02);  // unicast, locally administered: never a vendor's
  return mac;
}

MacAddress IdentityDerivation::wiredMac() const { return mac("wired-mac"); }
MacAddress IdentityDerivation::wirelessMac() const { return mac("wireless-mac"); }

std::string IdentityDerivation::digestRealm() const {
  auto digest = bytes("digest-realm");
  return "Digest:" + text::toHex(std::span(digest.data(), 16), text::LetterCase::Upper);
}

}  // namespace mesim::platform
