#include "wsman/redirection/rfb_server.h"

#include <array>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "common/descriptors.h"
#include "common/log.h"
#include "wsman/http/tcp_listener.h"

namespace mesim::wsman::redirection {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr const char* kLog = "kvm";
constexpr std::chrono::milliseconds kAcceptPause{100};
}  // namespace

// One viewer's connection. Kept alive by the server's set and its pending operations; a session call never
// destroys it (closing is posted). Queued writes go out together: an update is one buffer, not one write per rect.
class RfbServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(RfbServer& server, tcp::socket socket, std::string peer)
      : server_(&server), alive_(server.alive_), socket_(std::move(socket)), peer_(std::move(peer)),
        timer_(socket_.get_executor()) {}

  void start() {
    std::weak_ptr<Connection> weak = shared_from_this();
    RfbSession::Transport transport;
    transport.write = [weak](std::vector<std::uint8_t> bytes) {
      if (auto self = weak.lock()) self->queue(std::move(bytes));
    };
    transport.close = [weak] {
      if (auto self = weak.lock()) asio::post(self->socket_.get_executor(), [self] { self->closeAfterWrites(); });
    };
    session_ = server_->service_.open(RfbSession::Mode::Standard, std::move(transport), peer_);
    session_->start();
    read();
  }

  void abort() {
    if (session_) session_->end("the listener stops");
    server_ = nullptr;
    boost::system::error_code ignored;
    socket_.close(ignored);
    timer_.cancel();
  }

 private:
  bool live() const { return server_ && *alive_; }

  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (!self->live() || !self->session_) return;
      if (ec) return self->close();
      self->session_->receive(std::span<const std::uint8_t>(self->buffer_.data(), n));
      if (self->session_->state() != RfbSession::State::Ended) self->read();
    });
  }

  void queue(std::vector<std::uint8_t> bytes) {
    if (pending_.empty()) pending_ = std::move(bytes);
    else pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    if (!writing_) writeNext();
  }

  void writeNext() {
    if (pending_.empty()) {
      writing_ = false;
      timer_.cancel();
      if (closeWhenWritten_) close();
      return;
    }
    writing_ = true;
    inFlight_ = std::move(pending_);
    pending_.clear();
    auto self = shared_from_this();
    timer_.expires_after(server_ ? server_->options_.writeTimeout : std::chrono::milliseconds(1000));
    timer_.async_wait([self](boost::system::error_code ec) {
      boost::system::error_code ignored;
      if (!ec) self->socket_.close(ignored);  // a viewer that reads nothing; the write then fails
    });
    asio::async_write(socket_, asio::buffer(inFlight_), [self](boost::system::error_code ec, std::size_t) {
      if (ec) {
        self->pending_.clear();
        return self->close();
      }
      self->writeNext();
    });
  }

  void closeAfterWrites() {
    closeWhenWritten_ = true;
    if (!writing_) close();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (session_) session_->end("the connection closed");
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
    if (live()) server_->connections_.erase(shared_from_this());
  }

  RfbServer* server_;
  std::shared_ptr<bool> alive_;
  tcp::socket socket_;
  std::string peer_;
  asio::steady_timer timer_;
  std::unique_ptr<RfbSession> session_;
  std::array<std::uint8_t, 4096> buffer_{};
  std::vector<std::uint8_t> pending_;
  std::vector<std::uint8_t> inFlight_;
  bool writing_ = false;
  bool closeWhenWritten_ = false;
  bool closed_ = false;
};

RfbServer::RfbServer(asio::io_context& io, KvmService& service, RfbServerOptions options)
    : service_(service), options_(std::move(options)), acceptor_(io), pause_(io) {}

RfbServer::~RfbServer() {
  stop();
  *alive_ = false;
}

Result<> RfbServer::start() {
  if (!stopped_) return fail("the RFB listener is already started");
  if (options_.port < 0) return {};
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.listenAddress, ec);
  if (ec) return fail("bad RFB listen address '" + options_.listenAddress + "'");
  if (auto r = http::openListener(acceptor_, address, options_.port, "RFB (KVM)"); !r) return r;
  stopped_ = false;
  accept();
  MESIM_LOG(Info, kLog, "RFB (KVM) listening on " << options_.listenAddress << ":" << port());
  return {};
}

void RfbServer::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  pause_.cancel();
  auto open = std::move(connections_);
  connections_.clear();
  for (auto& connection : open) connection->abort();
}

std::uint16_t RfbServer::port() const { return http::boundPort(acceptor_); }

void RfbServer::accept() {
  acceptor_.async_accept([this, alive = alive_](boost::system::error_code ec, tcp::socket socket) {
    if (!*alive || stopped_ || ec == asio::error::operation_aborted) return;
    const bool reserve = !ec && descriptors::intoReserve(socket.native_handle(), options_.descriptorReserve);
    if (ec || reserve) {
      ++stats_.acceptErrors;
      boost::system::error_code ignored;
      socket.close(ignored);
      pause_.expires_after(kAcceptPause);
      pause_.async_wait([this, alive](boost::system::error_code e) {
        if (!e && *alive && !stopped_) accept();
      });
      return;
    }
    serve(std::move(socket));
    accept();
  });
}

void RfbServer::serve(tcp::socket socket) {
  if (!service_.port5900Enabled()) {
    ++stats_.notServed;
    return;
  }
  if (options_.maxConnections != 0 && connections_.size() >= options_.maxConnections) {
    ++stats_.overCap;
    return;
  }
  auto peer = http::peerAddress(socket);
  if (peer.empty()) return;
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  ++stats_.connections;
  auto connection = std::make_shared<Connection>(*this, std::move(socket), std::move(peer));
  connections_.insert(connection);
  connection->start();
}

}  // namespace mesim::wsman::redirection
