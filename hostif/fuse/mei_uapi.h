// The /dev/mei ioctl ABI (spec/mei.md §1.1, include/uapi/linux/mei.h). Structs are in host byte order.
#pragma once

#include <linux/ioctl.h>

#include <cstddef>
#include <cstdint>

namespace mesim::fuse::uapi {

// struct mei_client: what a successful connect writes over the first 8 bytes of the GUID.
struct MeiClient {
  std::uint32_t maxMsgLength;
  std::uint8_t protocolVersion;
  std::uint8_t reserved[3];
};
static_assert(sizeof(MeiClient) == 8);

struct ConnectClientData {  // union { uuid_le in_client_uuid; struct mei_client out_client_properties; }
  std::uint8_t bytes[16];
};
struct ConnectClientVtagData {  // struct mei_connect_client_vtag { uuid_le; u8 vtag; u8 reserved[3]; }
  std::uint8_t uuid[16];
  std::uint8_t vtag;
  std::uint8_t reserved[3];
};
static_assert(sizeof(ConnectClientData) == 16);
static_assert(sizeof(ConnectClientVtagData) == 20);

constexpr unsigned kIoctlConnectClient = 0xC0104801;
constexpr unsigned kIoctlNotifySet = 0x40044802;
constexpr unsigned kIoctlNotifyGet = 0x80044803;
constexpr unsigned kIoctlConnectClientVtag = 0xC0144804;
static_assert(kIoctlConnectClient == _IOWR('H', 0x01, ConnectClientData));
static_assert(kIoctlNotifySet == _IOW('H', 0x02, std::uint32_t));
static_assert(kIoctlNotifyGet == _IOR('H', 0x03, std::uint32_t));
static_assert(kIoctlConnectClientVtag == _IOWR('H', 0x04, ConnectClientVtagData));

}  // namespace mesim::fuse::uapi
