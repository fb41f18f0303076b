#include "firmware/platform/credentials.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <span>

#include "common/text_codecs.h"

namespace mesim::platform {
namespace {

// Uniformly random index below `bound` (rejection sampling, no modulo bias).
std::size_t randomIndex(std::size_t bound) {
  const unsigned limit = 256 - (256 % bound);
  for (;;) {
    std::uint8_t byte;
    randomBytes(&byte, 1);
    if (byte < limit) return byte % bound;
  }
}

std::string randomFrom(std::string_view alphabet, std::size_t length) {
  std::string out;
  out.reserve(length);
  for (std::size_t i = 0; i < length; ++i) out.push_back(alphabet[randomIndex(alphabet.size())]);
  return out;
}

constexpr std::string_view kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kLower = "abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kDigits = "0123456789";
// No quote, backslash, colon or XML/shell specials (& < > $ |): the password travels in JSON, Digest's
// user:realm:password and, through tools, in XML and command lines.
constexpr std::string_view kSymbols = "!#%()*+,-./;=?@[]^_{}~";

}  // namespace

std::string digestHa1(std::string_view user, std::string_view realm, std::string_view password) {
  std::string input;
  input.reserve(user.size() + realm.size() + password.size() + 2);
  input.append(user).append(":").append(realm).append(":").append(password);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &length, EVP_md5(), nullptr) != 1) {
    std::fputs("mesim: MD5 unavailable in OpenSSL; cannot hash the admin password\n", stderr);
    std::abort();
  }
  return text::toHex(std::span(digest, length));
}

void randomBytes(std::uint8_t* out, std::size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    std::fputs("mesim: OpenSSL RAND_bytes failed; the platform cannot make its identity\n", stderr);
    std::abort();
  }
}

std::array<std::uint8_t, 16> randomUuid() {
  std::array<std::uint8_t, 16> uuid{};
  randomBytes(uuid.data(), uuid.size());
  uuid[6] = static_cast<std::uint8_t>((uuid[6] & 0x0F) | 0x40);  // version 4
  uuid[8] = static_cast<std::uint8_t>((uuid[8] & 0x3F) | 0x80);  // RFC 4122 variant
  return uuid;
}

std::string randomDigestRealm() {
  std::uint8_t bytes[16];
  randomBytes(bytes, sizeof bytes);
  return "Digest:" + text::toHex(bytes, text::LetterCase::Upper);
}

std::string randomLocalSystemUser() {
  return "$$OsAdmin" + randomFrom(std::string(kUpper) + std::string(kDigits), 23);
}

std::string randomPassword(std::size_t length) {
  const std::string all = std::string(kUpper) + std::string(kLower) + std::string(kDigits) + std::string(kSymbols);
  std::string out = randomFrom(all, length);
  if (length >= 4) {
    // AMT's strong-password rule: at least one upper, lower, digit and symbol, at distinct positions.
    const std::string_view kinds[] = {kUpper, kLower, kDigits, kSymbols};
    std::string positions;
    for (std::size_t i = 0; i < length; ++i) positions.push_back(static_cast<char>(i));
    for (const auto& kind : kinds) {
      std::size_t pick = randomIndex(positions.size());
      auto pos = static_cast<std::size_t>(static_cast<unsigned char>(positions[pick]));
      positions.erase(pick, 1);
      out[pos] = kind[randomIndex(kind.size())];
    }
  }
  return out;
}

}  // namespace mesim::platform
