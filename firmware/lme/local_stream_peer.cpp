#include "firmware/lme/local_stream_peer.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/write.hpp>

#include "common/log.h"

namespace mesim::lme {

using boost::asio::local::stream_protocol;

void LocalStreamPeer::read(std::size_t maxBytes, ReadHandler handler) {
  if (closed_) return;
  std::size_t n = std::min(maxBytes, buffer_.size());
  socket_.async_read_some(boost::asio::buffer(buffer_.data(), n),
                          [self = shared_from_this(), handler = std::move(handler)](boost::system::error_code ec,
                                                                                    std::size_t got) {
                            if (self->closed_) return;
                            if (ec || got == 0) return handler({});
                            handler(ByteView(self->buffer_.data(), got));
                          });
}

void LocalStreamPeer::write(Bytes data, WriteHandler handler) {
  if (closed_) return;
  auto owned = std::make_shared<Bytes>(std::move(data));
  boost::asio::async_write(socket_, boost::asio::buffer(*owned),
                           [self = shared_from_this(), owned, handler = std::move(handler)](
                               boost::system::error_code ec, std::size_t) {
                             if (self->closed_) return;
                             handler(!ec);
                           });
}

void LocalStreamPeer::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
}

ChannelPeerFactory makeLocalStreamFactory(boost::asio::io_context& io, LocalStreamServer server, log::Context log) {
  return [&io, server = std::move(server), device = std::move(log)](std::uint32_t port) -> std::shared_ptr<ChannelPeer> {
    auto logContext = [&device] { return device; };  // MESIM_LOG names the device
    stream_protocol::socket ours(io), theirs(io);
    boost::system::error_code ec;
    boost::asio::local::connect_pair(ours, theirs, ec);
    if (ec) {
      MESIM_LOG(Warn, "lme", "socketpair for a channel to port " << port << ": " << ec.message());
      return nullptr;
    }
    if (!server || !server(port, std::move(theirs))) return nullptr;
    return std::make_shared<LocalStreamPeer>(boost::asio::generic::stream_protocol::socket(std::move(ours)));
  };
}

}  // namespace mesim::lme
