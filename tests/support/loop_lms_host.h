// An LMS-like APF host that runs on the firmware's own loop: host::MeiHost's asynchronous calls instead of
// blocking reads and writes, and Asio sockets instead of a thread per client. Its protocol behaviour is
// LmsHost's (spec/apf.md §2): it answers the ME's handshake, listens on loopback for each tcpip-forward,
// opens a forwarded-tcpip channel with window 1024 per accepted client, reads at most
// min(window, max_msg_length - 9) from the socket, sends WINDOW_ADJUST after each socket write completes,
// drops CHANNEL_DATA over 4095 bytes, and closes channels both ways. ME-opened channels are refused.
//
// Why it exists: with LMS's thread model every MEI call is a thread hand-off, which on a loaded machine
// costs more than the whole WS-Man request. Through this host a benchmark measures what mesim's own ME side
// (HBM, LME, APF windows, the bridge to WS-Man) adds to a request.
//
// Every member runs on `io`; tests call in through InProcessMachine::run.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "firmware/lme/apf_codec.h"
#include "firmware/lme/lme_client.h"
#include "hostif/host/mei_host.h"

namespace mesim::test {

class LoopLmsHost : public std::enable_shared_from_this<LoopLmsHost> {
 public:
  struct Stats {
    std::uint64_t windowViolations = 0;  // CHANNEL_DATA beyond the window this host granted
    std::uint64_t oversizedData = 0;     // CHANNEL_DATA over 4095 bytes (dropped, as LMS does)
    std::uint64_t openFailures = 0;
    std::size_t channels = 0;
    std::optional<std::uint32_t> disconnectReason;
    bool down = false;  // the MEI connection failed or the ME disconnected
  };

  LoopLmsHost(boost::asio::io_context& io, host::MeiHost& host, std::uint32_t window = 1024)
      : io_(io), host_(host), window_(window) {}

  // Opens dev/mei0's file, connects to the LME client and starts reading; `ready(err)` once connected.
  void start(std::function<void(int err)> ready) {
    if (int err = host_.open(file_)) return ready(err);
    opened_ = true;
    host_.connect(file_, lme::kLmeGuid,
                  [self = shared_from_this(), ready = std::move(ready)](int err, const hbm::ClientProperties& props) {
                    if (err) return ready(err);
                    self->maxMsgLength_ = props.maxMsgLength;
                    self->readMei();
                    ready(0);
                  });
  }

  // Closes listeners, sockets and the MEI file (LMS's de-init).
  void stop() {
    stopped_ = true;
    boost::system::error_code ignored;
    for (auto& [port, listener] : listeners_) listener->acceptor.close(ignored);
    listeners_.clear();
    for (auto& [id, channel] : channels_) channel->socket.close(ignored);
    channels_.clear();
    if (opened_) host_.close(file_, [] {});
    opened_ = false;
  }

  // The local port forwarding AMT `amtPort`, 0 while the ME has not asked for it.
  std::uint16_t localPort(std::uint32_t amtPort) const {
    auto it = listeners_.find(amtPort);
    return it == listeners_.end() ? 0 : it->second->localPort;
  }
  Stats stats() const {
    Stats s = stats_;
    s.channels = channels_.size();
    return s;
  }

 private:
  using tcp = boost::asio::ip::tcp;
  enum class State { Opening, Open, WaitingClose };
  struct Channel {
    explicit Channel(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::uint32_t hostId = 0;
    std::uint32_t meId = 0;
    std::uint32_t txWindow = 0;       // what the ME lets this host send
    std::uint32_t rxOutstanding = 0;  // received, not yet adjusted
    State state = State::Opening;
    bool reading = false;
    std::deque<hbm::Bytes> toSocket;  // CHANNEL_DATA payloads waiting for the socket, in order
    hbm::Bytes readBuffer;
  };
  struct Listener {
    explicit Listener(boost::asio::io_context& io) : acceptor(io) {}
    tcp::acceptor acceptor;
    std::uint16_t localPort = 0;
  };

  void writeMei(hbm::Bytes message) {
    if (!opened_) return;
    host_.write(file_, std::move(message), false, [](ssize_t) {});
  }

  void readMei() {
    host_.read(file_, maxMsgLength_, false, [self = shared_from_this()](int err, hbm::Bytes data) {
      if (self->stopped_) return;
      if (err || !self->handle(data)) {
        self->stats_.down = true;
        self->stop();
        return;
      }
      self->readMei();
    });
  }

  bool handle(const hbm::Bytes& raw) {
    namespace apf = lme::apf;
    apf::Decoded d = apf::decode(hbm::ByteView(raw.data(), raw.size()));
    if (d.error == apf::DecodeError::UnknownType) return true;  // LMS drops unknown types
    if (!d.message) {
      writeMei(apf::encode(apf::Disconnect{2}));
      return false;
    }
    return std::visit([this](auto& m) { return on(m); }, *d.message);
  }

  bool on(const lme::apf::ProtocolVersion&) {
    if (!versionSent_) writeMei(lme::apf::encode(lme::apf::ProtocolVersion{1, 0, 254, {}}));
    versionSent_ = true;
    return true;
  }
  bool on(const lme::apf::ServiceRequest& m) {
    writeMei(lme::apf::encode(lme::apf::ServiceAccept{m.service}));
    return true;
  }
  bool on(const lme::apf::UserauthRequest&) {
    writeMei(lme::apf::encode(lme::apf::UserauthSuccess{}));
    return true;
  }
  bool on(const lme::apf::GlobalRequest& m) {
    if (m.name != lme::apf::kTcpipForward) return true;
    auto port = std::get<lme::apf::TcpipForward>(m.data).port;
    auto listener = std::make_shared<Listener>(io_);
    boost::system::error_code ec;
    listener->acceptor.open(tcp::v4(), ec);
    if (!ec) listener->acceptor.bind({boost::asio::ip::address_v4::loopback(), 0}, ec);
    if (!ec) listener->acceptor.listen(16, ec);
    if (ec || listeners_.count(port)) {
      writeMei(lme::apf::encode(lme::apf::RequestFailure{}));
      return true;
    }
    listener->localPort = listener->acceptor.local_endpoint().port();
    listeners_[port] = listener;
    accept(listener, port);
    writeMei(lme::apf::encode(lme::apf::RequestSuccess{port}));
    return true;
  }
  bool on(const lme::apf::ChannelOpenConfirmation& m) {
    auto c = find(m.recipientChannel);
    if (!c || c->state != State::Opening) return true;
    c->meId = m.senderChannel;
    c->txWindow = m.initialWindow;
    c->state = State::Open;
    readSocket(c);
    return true;
  }
  bool on(const lme::apf::ChannelOpenFailure& m) {
    ++stats_.openFailures;
    if (auto c = find(m.recipientChannel)) drop(c);
    return true;
  }
  bool on(const lme::apf::ChannelWindowAdjust& m) {
    auto c = find(m.recipientChannel);
    if (!c || c->state == State::Opening) return true;
    c->txWindow += m.bytesToAdd;
    readSocket(c);
    return true;
  }
  bool on(lme::apf::ChannelData& m) {
    auto c = find(m.recipientChannel);
    if (!c || c->state == State::Opening) return true;
    if (m.data.size() > lme::apf::kLmsMaxDataPayload) {
      ++stats_.oversizedData;
      return true;
    }
    c->rxOutstanding += static_cast<std::uint32_t>(m.data.size());
    if (c->rxOutstanding > window_) ++stats_.windowViolations;
    c->toSocket.push_back(std::move(m.data));
    if (c->toSocket.size() == 1) writeSocket(c);
    return true;
  }
  bool on(const lme::apf::ChannelClose& m) {
    auto c = find(m.recipientChannel);
    if (!c || c->state == State::Opening) return true;
    if (c->state == State::Open) writeMei(lme::apf::encode(lme::apf::ChannelClose{c->meId}));
    drop(c);
    return true;
  }
  bool on(const lme::apf::ChannelOpen& m) {
    writeMei(lme::apf::encode(lme::apf::ChannelOpenFailure{m.senderChannel, 1}));
    return true;
  }
  bool on(const lme::apf::Disconnect& m) {
    stats_.disconnectReason = m.reason;
    return false;
  }
  template <class T>
  bool on(const T&) {
    return true;
  }

  std::shared_ptr<Channel> find(std::uint32_t hostId) {
    auto it = channels_.find(hostId);
    return it == channels_.end() ? nullptr : it->second;
  }
  void drop(const std::shared_ptr<Channel>& c) {
    boost::system::error_code ignored;
    c->socket.close(ignored);
    channels_.erase(c->hostId);
  }

  void accept(std::shared_ptr<Listener> listener, std::uint32_t amtPort) {
    listener->acceptor.async_accept(
        [self = shared_from_this(), listener, amtPort](boost::system::error_code ec, tcp::socket socket) {
          if (ec || self->stopped_) return;
          socket.set_option(tcp::no_delay(true), ec);
          auto peer = socket.remote_endpoint(ec);
          auto c = std::make_shared<Channel>(std::move(socket));
          c->hostId = self->nextHostId_++;
          self->channels_[c->hostId] = c;
          self->writeMei(lme::apf::encode(lme::apf::ChannelOpen{std::string(lme::apf::kForwardedTcpip), c->hostId,
                                                                self->window_, 0xFFFFFFFF, "127.0.0.1", amtPort,
                                                                "127.0.0.1", peer.port()}));
          self->accept(listener, amtPort);
        });
  }

  // Socket -> ME while the ME's window is open.
  void readSocket(const std::shared_ptr<Channel>& c) {
    if (c->reading || c->state != State::Open || c->txWindow == 0) return;
    c->reading = true;
    c->readBuffer.resize(std::min<std::size_t>(c->txWindow, maxMsgLength_ - lme::apf::kChannelDataHeaderSize));
    c->socket.async_read_some(boost::asio::buffer(c->readBuffer),
                              [self = shared_from_this(), c](boost::system::error_code ec, std::size_t n) {
                                c->reading = false;
                                if (self->stopped_ || c->state != State::Open) return;
                                if (ec) {  // client EOF: close, then wait for the ME's close (§2.6)
                                  self->writeMei(lme::apf::encode(lme::apf::ChannelClose{c->meId}));
                                  c->state = State::WaitingClose;
                                  return;
                                }
                                c->txWindow -= static_cast<std::uint32_t>(n);
                                self->writeMei(
                                    lme::apf::encodeChannelData(c->meId, hbm::ByteView(c->readBuffer.data(), n)));
                                self->readSocket(c);
                              });
  }

  // ME -> socket, one payload at a time; the adjust follows each completed write.
  void writeSocket(const std::shared_ptr<Channel>& c) {
    boost::asio::async_write(c->socket, boost::asio::buffer(c->toSocket.front()),
                             [self = shared_from_this(), c](boost::system::error_code ec, std::size_t n) {
                               if (self->stopped_ || ec) return;  // the client went away; its read sends the close
                               c->toSocket.pop_front();
                               c->rxOutstanding -= static_cast<std::uint32_t>(n);
                               if (c->state == State::Open)
                                 self->writeMei(lme::apf::encode(
                                     lme::apf::ChannelWindowAdjust{c->meId, static_cast<std::uint32_t>(n)}));
                               if (!c->toSocket.empty()) self->writeSocket(c);
                             });
  }

  boost::asio::io_context& io_;
  host::MeiHost& host_;
  const std::uint32_t window_;
  host::FileId file_{};
  bool opened_ = false;
  bool stopped_ = false;
  bool versionSent_ = false;
  std::uint32_t maxMsgLength_ = 0;
  std::uint32_t nextHostId_ = 3;  // LMS's ids are fd numbers, so small integers
  std::map<std::uint32_t, std::shared_ptr<Listener>> listeners_;  // by AMT port
  std::map<std::uint32_t, std::shared_ptr<Channel>> channels_;    // by host id
  Stats stats_;
};

}  // namespace mesim::test
