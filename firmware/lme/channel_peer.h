// What an APF channel carries its bytes to inside the firmware: a local WS-Man connection for forwarded-tcpip
// channels from LMS (local_stream_peer.h), an in-memory request for the ME's own event channels, or a test
// double. Asio-style: one read and one write outstanding at a time; handlers run on the loop, either later
// (sockets) or inside read()/write() (in-memory peers), and never after close().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "hostif/link/hbm_wire.h"

namespace mesim::lme {

using hbm::Bytes;
using hbm::ByteView;

class ChannelPeer {
 public:
  using ReadHandler = std::function<void(ByteView data)>;  // empty: end of stream or an error
  using WriteHandler = std::function<void(bool ok)>;

  virtual ~ChannelPeer() = default;
  // Bytes for the host, at most `maxBytes`; `data` is valid only during the handler.
  virtual void read(std::size_t maxBytes, ReadHandler handler) = 0;
  // Bytes from the host, all of them; ok=false when the peer can take no more (it went away).
  virtual void write(Bytes data, WriteHandler handler) = 0;
  // Ends the stream both ways (APF has no half-close, spec/apf.md §2.6). Idempotent.
  virtual void close() = 0;
};

// Opens the firmware end of a forwarded-tcpip channel to `port` (16992/16993), or nullptr to refuse it
// (CHANNEL_OPEN_FAILURE CONNECT_FAILED).
using ChannelPeerFactory = std::function<std::shared_ptr<ChannelPeer>(std::uint32_t port)>;

}  // namespace mesim::lme
