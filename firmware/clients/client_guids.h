// GUIDs of the firmware clients in this folder, in the kernel's uuid_le byte order (spec/mei.md §1.1, §5).
#pragma once

#include <array>
#include <cstdint>

#include "hostif/link/hbm_wire.h"

namespace mesim::clients {

// UUID_LE(a, b, c, d0..d7): a, b, c little-endian, then d0..d7 as written.
constexpr hbm::Guid makeGuid(std::uint32_t a, std::uint16_t b, std::uint16_t c, std::array<std::uint8_t, 8> d) {
  return hbm::Guid{{static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a >> 16),
                    static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(b >> 8),
                    static_cast<std::uint8_t>(c), static_cast<std::uint8_t>(c >> 8), d[0], d[1], d[2], d[3], d[4], d[5],
                    d[6], d[7]}};
}

constexpr hbm::Guid kAmthiGuid = makeGuid(0x12F80028, 0xB4B7, 0x4B2D, {0xAC, 0xA8, 0x46, 0xE0, 0xFF, 0x65, 0x81, 0x4C});
constexpr hbm::Guid kMkhiGuid = makeGuid(0x8E6A6715, 0x9ABC, 0x4043, {0x88, 0xEF, 0x9E, 0x39, 0xC6, 0xF6, 0x3E, 0x0F});
// The kernel's bus fixup (drivers/misc/mei/bus-fixup.c) asks this one for fw_ver and tells it the OS version.
constexpr hbm::Guid kMkhiFixGuid = makeGuid(0x55213584, 0x9A29, 0x4916, {0xBA, 0xDF, 0x0F, 0xB7, 0xED, 0x68, 0x2A, 0xEB});

}  // namespace mesim::clients
