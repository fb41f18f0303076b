#include "hostif/link/socket_link.h"

#include <array>
#include <deque>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "common/log.h"

namespace mesim::link {
namespace {

using boost::asio::local::stream_protocol;

class SocketEndpoint : public Endpoint, public std::enable_shared_from_this<SocketEndpoint> {
 public:
  SocketEndpoint(stream_protocol::socket socket, log::Context log) : socket_(std::move(socket)), log_(std::move(log)) {}
  const log::Context& logContext() const { return log_; }

  void start() { readHeader(); }

  void send(hbm::Frame frame) override {
    if (down_) return;
    hbm::Bytes wire(4 + frame.payload.size());
    frame.header.length = static_cast<std::uint16_t>(frame.payload.size());
    std::uint32_t raw = frame.header.pack();
    for (int i = 0; i < 4; ++i) wire[i] = static_cast<std::uint8_t>(raw >> (8 * i));
    std::copy(frame.payload.begin(), frame.payload.end(), wire.begin() + 4);
    outbox_.push_back(std::move(wire));
    if (outbox_.size() == 1) writeNext();
  }
  void onFrame(FrameHandler handler) override { frameHandler_ = std::move(handler); }
  void onDown(DownHandler handler) override { downHandler_ = std::move(handler); }
  void close() override {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void readHeader() {
    boost::asio::async_read(socket_, boost::asio::buffer(headerBytes_),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              if (ec) return self->goDown(ec);
                              std::uint32_t raw = 0;
                              for (int i = 0; i < 4; ++i) raw |= std::uint32_t{self->headerBytes_[i]} << (8 * i);
                              self->incoming_.header = hbm::MsgHeader::unpack(raw);
                              self->incoming_.payload.resize(self->incoming_.header.length);
                              self->readPayload();
                            });
  }
  void readPayload() {
    boost::asio::async_read(socket_, boost::asio::buffer(incoming_.payload),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              if (ec) return self->goDown(ec);
                              if (self->frameHandler_) self->frameHandler_(std::move(self->incoming_));
                              self->incoming_ = {};
                              self->readHeader();
                            });
  }
  void writeNext() {
    boost::asio::async_write(socket_, boost::asio::buffer(outbox_.front()),
                             [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                               if (ec) return self->goDown(ec);
                               self->outbox_.pop_front();
                               if (!self->outbox_.empty()) self->writeNext();
                             });
  }
  void goDown(boost::system::error_code ec) {
    if (down_) return;
    down_ = true;
    outbox_.clear();
    MESIM_LOG(Info, "link", "HBM socket link down: " << ec.message());
    if (downHandler_) downHandler_();
  }

  stream_protocol::socket socket_;
  std::array<std::uint8_t, 4> headerBytes_{};
  hbm::Frame incoming_;
  std::deque<hbm::Bytes> outbox_;
  FrameHandler frameHandler_;
  DownHandler downHandler_;
  bool down_ = false;
  log::Context log_;
};

}  // namespace

std::shared_ptr<Endpoint> makeSocketEndpoint(stream_protocol::socket socket, log::Context log) {
  auto endpoint = std::make_shared<SocketEndpoint>(std::move(socket), std::move(log));
  endpoint->start();
  return endpoint;
}

}  // namespace mesim::link
