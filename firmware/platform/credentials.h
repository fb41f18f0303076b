// Secrets of the simulated platform: HTTP Digest HA1 and generation of random identities.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mesim::platform {

// hex(MD5(user ":" realm ":" password)), lower case (RFC 2617 H(A1)).
std::string digestHa1(std::string_view user, std::string_view realm, std::string_view password);

// Cryptographically random values (OpenSSL RAND_bytes). They abort on RNG failure: without
// randomness the platform cannot have an identity.
void randomBytes(std::uint8_t* out, std::size_t size);
std::array<std::uint8_t, 16> randomUuid();  // RFC 4122 version 4
std::string randomDigestRealm();            // "Digest:" + 32 upper-case hex digits
std::string randomLocalSystemUser();        // "$$OsAdmin" + 23 random letters/digits (32 characters)
std::string randomPassword(std::size_t length);  // letters, digits and symbols, at least one of each kind

}  // namespace mesim::platform
