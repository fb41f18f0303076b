// Packets between libmesim-preload.so (in a host program) and PreloadServer (in the daemon).
//
// One SOCK_SEQPACKET connection = one open file of /dev/mei0. Each packet is a PacketHeader plus
// payload (payload length = packet length - header); host byte order, both ends are on one machine.
// The client gives every request a fresh `seq`; the daemon answers each request with exactly one
// reply of the same op and seq (result >= 0 value, < 0 -errno as the kernel would return it),
// except Cancel, which has no reply. PollArm is answered at once with the current revents; if those
// were 0 the daemon sends at most one PollEvent with the arm's seq when the file becomes ready.
// A reply with a seq nobody waits for any more (an old PollEvent) is dropped by the client.
// The first request must be Open; after Close's reply the daemon ends the session.
#pragma once

#include <linux/mei.h>

#include <cstddef>
#include <cstdint>

namespace mesim::preload {

constexpr std::uint32_t kProtocolVersion = 1;
constexpr std::size_t kMaxData = 64 * 1024;  // largest payload; bigger reads are served in chunks

enum class Op : std::uint16_t {
  Open = 1,         // arg: kProtocolVersion. result 0, -ENODEV or -EMFILE
  Close = 2,        // answered once the host closed the file (disconnect done)
  Connect = 3,      // payload: 16-byte GUID. reply payload: mei_client
  ConnectVtag = 4,  // payload: mei_connect_client_vtag. reply payload: mei_client
  NotifySet = 5,    // arg: enable (0/1)
  NotifyGet = 6,    // flags: kNonBlocking. reply arg: the event (1)
  Write = 7,        // flags: kNonBlocking; payload: one message. result: bytes accepted
  Read = 8,         // flags: kNonBlocking; arg: buffer length. reply payload: one message chunk
  Fsync = 9,        // waits until queued writes are sent
  Cancel = 10,      // arg: seq of a waiting request (signal → EINTR) or of a PollArm to drop
  PollArm = 11,     // arg: requested poll events. result: current revents
  PollEvent = 12,   // daemon → client only; seq of the arm, result: revents
};

enum : std::uint16_t { kNonBlocking = 1 };

struct PacketHeader {
  std::uint16_t op = 0;
  std::uint16_t flags = 0;
  std::uint32_t seq = 0;
  std::int32_t result = 0;  // replies only
  std::uint32_t arg = 0;
};
static_assert(sizeof(PacketHeader) == 16);

constexpr std::size_t kMaxPacket = sizeof(PacketHeader) + kMaxData;

// Connect and ConnectVtag carry the kernel's own structs (<linux/mei.h>, spec/mei.md §1.1): the GUID of
// struct mei_connect_client_data, or struct mei_connect_client_vtag; their reply payload is struct mei_client.
static_assert(sizeof(mei_client) == 8 && sizeof(mei_connect_client_vtag) == 20);

}  // namespace mesim::preload
