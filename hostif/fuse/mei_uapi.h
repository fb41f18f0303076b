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

// The Linux watchdog API (include/uapi/linux/watchdog.h), all restricted ioctls FUSE passes through.
constexpr unsigned kWdiocGetSupport = _IOR('W', 0, char[40]);  // struct watchdog_info
constexpr unsigned kWdiocGetStatus = _IOR('W', 1, int);
constexpr unsigned kWdiocGetBootStatus = _IOR('W', 2, int);
constexpr unsigned kWdiocSetOptions = _IOR('W', 4, int);
constexpr unsigned kWdiocKeepalive = _IOR('W', 5, int);
constexpr unsigned kWdiocSetTimeout = _IOWR('W', 6, int);
constexpr unsigned kWdiocGetTimeout = _IOR('W', 7, int);
constexpr unsigned kWdiocGetTimeLeft = _IOR('W', 10, int);
static_assert(kWdiocGetSupport == 0x80285700 && kWdiocKeepalive == 0x80045705 && kWdiocSetTimeout == 0xC0045706 &&
              kWdiocGetTimeLeft == 0x8004570A);

}  // namespace mesim::fuse::uapi
