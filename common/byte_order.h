// Reading fixed-width integers out of wire bytes at an offset (the caller has checked the length): little-endian for
// AMT's redirection and IDE-R messages and PSF fonts, big-endian (network order) for RFB, ATAPI and NBD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mesim::bytes {

inline std::uint16_t le16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | b[at + 1] << 8);
}
inline std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint32_t>(le16(b, at)) | static_cast<std::uint32_t>(le16(b, at + 2)) << 16;
}
inline std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}
inline std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint32_t>(be16(b, at)) << 16 | be16(b, at + 2);
}
inline std::uint64_t be64(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint64_t>(be32(b, at)) << 32 | be32(b, at + 4);
}

}  // namespace mesim::bytes
