// The bridge from a forwarded-tcpip channel to the WS-Man server inside the process: a connected pair of
// Unix stream sockets, one end served by the WS-Man HTTP server as a *local* connection
// (WsmanHttpServer::serveLocal), the other pumped by the channel. firmware/lme knows nothing of wsman: the
// daemon passes the LocalStreamServer that hands the socket over.
#pragma once

#include <array>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "common/log.h"
#include "firmware/lme/channel_peer.h"

namespace mesim::lme {

// Takes the server end of a channel to `port`; false if nothing serves that port (the channel is refused).
using LocalStreamServer = std::function<bool(std::uint32_t port, boost::asio::local::stream_protocol::socket socket)>;

// A channel's bytes to and from a connected stream socket: one end of a Unix socket pair, or a TCP connection (the
// CIRA tunnel reaches the device's own redirection and KVM listeners so, firmware/cira).
class LocalStreamPeer final : public ChannelPeer, public std::enable_shared_from_this<LocalStreamPeer> {
 public:
  explicit LocalStreamPeer(boost::asio::generic::stream_protocol::socket socket) : socket_(std::move(socket)) {}
  ~LocalStreamPeer() override { close(); }

  void read(std::size_t maxBytes, ReadHandler handler) override;
  void write(Bytes data, WriteHandler handler) override;
  void close() override;

 private:
  boost::asio::generic::stream_protocol::socket socket_;
  std::array<std::uint8_t, 16 * 1024> buffer_{};
  bool closed_ = false;
};

// `log` is the device its log lines name.
ChannelPeerFactory makeLocalStreamFactory(boost::asio::io_context& io, LocalStreamServer server, log::Context log = {});

}  // namespace mesim::lme
