// One AMTHI (PTHI) command over a dev/mei0 (FUSE) on its own connection, as rpc-go opens one per call, for daemon
// tests. The whole response message (12-byte header, status, payload), or empty on any failure.
#pragma once

#include <fcntl.h>
#include <linux/mei.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace mesim::test {

// AMTHI 12F80028-B4B7-4B2D-ACA8-46E0FF65814C in uuid_le order.
inline constexpr std::uint8_t kAmthiClientGuid[16] = {0x28, 0x00, 0xf8, 0x12, 0xb7, 0xb4, 0x2d, 0x4b,
                                                      0xac, 0xa8, 0x46, 0xe0, 0xff, 0x65, 0x81, 0x4c};

inline std::uint32_t amthiU32At(const std::vector<std::uint8_t>& b, std::size_t off) {
  if (b.size() < off + 4) return 0xFFFFFFFF;
  return b[off] | b[off + 1] << 8 | b[off + 2] << 16 | std::uint32_t{b[off + 3]} << 24;
}

inline std::vector<std::uint8_t> amthiRequest(const std::string& device, std::uint32_t command,
                                              const std::vector<std::uint8_t>& payload = {}, int timeoutMs = 10000) {
  int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return {};
  std::uint8_t guid[16];
  std::memcpy(guid, kAmthiClientGuid, 16);
  std::vector<std::uint8_t> reply;
  if (::ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, guid) == 0) {
    std::vector<std::uint8_t> request{1, 1, 0, 0};
    for (int i = 0; i < 4; ++i) request.push_back(static_cast<std::uint8_t>(command >> (8 * i)));
    const auto length = static_cast<std::uint32_t>(payload.size());
    for (int i = 0; i < 4; ++i) request.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
    request.insert(request.end(), payload.begin(), payload.end());
    pollfd p{fd, POLLIN, 0};
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()) &&
        ::poll(&p, 1, timeoutMs) == 1) {
      reply.resize(4096);
      const ssize_t n = ::read(fd, reply.data(), reply.size());
      reply.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    }
  }
  ::close(fd);
  return reply;
}

// The status of a response (AMT_STATUS), 0xFFFFFFFF if there was none.
inline std::uint32_t amthiStatus(const std::vector<std::uint8_t>& response) { return amthiU32At(response, 12); }

}  // namespace mesim::test
