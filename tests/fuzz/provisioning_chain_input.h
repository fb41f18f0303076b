// The input layout of fuzz_provisioning_chain, shared with the program that writes its seeds: byte 0 the
// SigningAlgorithm (its low 2 bits), then parts of a 2-byte big-endian length and that many bytes; the last part is
// DigitalSignature, the ones before it the chain as AddNextCertInChain hands it over (DER, leaf first, root last).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mesim::fuzz {

// What the harness signs and checks against: fixed nonces, the firmware clock, the suffix the leaf must be under.
inline const std::vector<std::uint8_t> kConfigurationNonce(20, 0xC0);
inline const std::vector<std::uint8_t> kMcNonce(20, 0x4D);
inline constexpr std::int64_t kNow = 1900000000;
inline constexpr const char* kSuffix = "example.com";

inline std::vector<std::uint8_t> encodeChainInput(std::uint8_t signingAlgorithm,
                                                  const std::vector<std::vector<std::uint8_t>>& chain,
                                                  const std::vector<std::uint8_t>& signature) {
  std::vector<std::uint8_t> out{signingAlgorithm};
  auto part = [&](const std::vector<std::uint8_t>& bytes) {
    out.push_back(static_cast<std::uint8_t>(bytes.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(bytes.size()));
    out.insert(out.end(), bytes.begin(), bytes.end());
  };
  for (const auto& der : chain) part(der);
  part(signature);
  return out;
}

// The parts of an input (at most `maxParts`); a cut-short last part keeps what there is.
inline std::vector<std::vector<std::uint8_t>> decodeParts(const std::uint8_t* data, std::size_t size,
                                                          std::size_t maxParts) {
  std::vector<std::vector<std::uint8_t>> parts;
  std::size_t at = 0;
  while (at + 2 <= size && parts.size() < maxParts) {
    std::size_t length = std::size_t{data[at]} << 8 | data[at + 1];
    at += 2;
    if (length > size - at) length = size - at;
    parts.emplace_back(data + at, data + at + length);
    at += length;
  }
  return parts;
}

}  // namespace mesim::fuzz
