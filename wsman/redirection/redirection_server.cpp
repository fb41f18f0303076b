#include "wsman/redirection/redirection_server.h"

#include <deque>
#include <optional>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "common/descriptors.h"
#include "common/log.h"
#include "wsman/http/tcp_listener.h"

namespace mesim::wsman::redirection {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
constexpr const char* kLog = "redirection";
constexpr std::chrono::milliseconds kAcceptPause{100};
}  // namespace

// One console's connection: plain, or TLS once the handshake is done. Kept alive by the server's set and by its
// pending operations; a session call never destroys it (closing is posted).
class RedirectionServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(RedirectionServer& server, tcp::socket socket, bool tls, std::string peer)
      : server_(&server),
        alive_(server.alive_),
        socket_(std::move(socket)),
        tls_(tls),
        peer_(std::move(peer)),
        timer_(socket_.get_executor()) {}

  bool tls() const { return tls_; }

  void start(std::shared_ptr<asio::ssl::context> context) {
    auto self = shared_from_this();
    if (!tls_) return begin();
    if (!context) return close();  // no certificate could be made
    stream_.emplace(std::move(socket_), *context);
    timer_.expires_after(server_->options_.handshakeTimeout);
    timer_.async_wait([self](boost::system::error_code ec) {
      boost::system::error_code ignored;
      if (!ec) self->lowest().close(ignored);  // the handshake handler then fails
    });
    stream_->async_handshake(asio::ssl::stream_base::server, [self](boost::system::error_code ec) {
      self->timer_.cancel();
      if (ec) {
        if (self->live()) ++self->server_->stats_.tlsFailures;
        return self->close();
      }
      self->begin();
    });
  }

  // The server stops: end the session and close now.
  void abort() {
    if (session_) session_->end("the listener stops");
    server_ = nullptr;
    boost::system::error_code ignored;
    lowest().close(ignored);
    timer_.cancel();
  }

 private:
  bool live() const { return server_ && *alive_; }
  tcp::socket::lowest_layer_type& lowest() { return stream_ ? stream_->lowest_layer() : socket_.lowest_layer(); }

  void begin() {
    if (!live()) return;
    std::weak_ptr<Connection> weak = shared_from_this();
    RedirectionSession::Transport transport;
    transport.write = [weak](std::vector<std::uint8_t> message) {
      if (auto self = weak.lock()) self->queue(std::move(message));
    };
    transport.close = [weak] {
      if (auto self = weak.lock()) asio::post(self->socket_.get_executor(), [self] { self->closeAfterWrites(); });
    };
    transport.resume = [weak] {
      if (auto self = weak.lock(); self && !self->closed_ && !self->reading_) self->read();
    };
    session_ = server_->service_.open(std::move(transport), peer_);
    read();
  }

  template <class Handler>
  void readSome(Handler handler) {
    if (stream_)
      stream_->async_read_some(asio::buffer(buffer_), std::move(handler));
    else
      socket_.async_read_some(asio::buffer(buffer_), std::move(handler));
  }

  void read() {
    reading_ = true;
    readSome([self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      self->reading_ = false;
      if (!self->live() || !self->session_) return;
      if (ec) return self->close();
      self->session_->receive(std::span<const std::uint8_t>(self->buffer_.data(), n));
      // Flow control: while the host's side of SOL is full the socket is left unread (TCP then holds the console
      // back); the session's transport.resume reads again.
      if (self->session_->state() != RedirectionSession::State::Ended && !self->session_->readingPaused())
        self->read();
    });
  }

  void queue(std::vector<std::uint8_t> message) {
    writes_.push_back(std::move(message));
    if (!writing_) writeNext();
  }

  void writeNext() {
    if (writes_.empty()) {
      writing_ = false;
      timer_.cancel();
      if (closeWhenWritten_) close();
      return;
    }
    writing_ = true;
    auto self = shared_from_this();
    timer_.expires_after(server_ ? server_->options_.writeTimeout : std::chrono::milliseconds(1000));
    timer_.async_wait([self](boost::system::error_code ec) {
      boost::system::error_code ignored;
      if (!ec) self->lowest().close(ignored);  // a console that reads nothing; the write then fails
    });
    auto done = [self](boost::system::error_code ec, std::size_t) {
      self->writes_.pop_front();
      if (ec) {
        self->writes_.clear();
        return self->close();
      }
      self->writeNext();
    };
    // One message per write: amtterm 1.4 takes a whole read as one 0x14, 0x21, 0x29 or 0x23.
    if (stream_)
      asio::async_write(*stream_, asio::buffer(writes_.front()), done);
    else
      asio::async_write(socket_, asio::buffer(writes_.front()), done);
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
    lowest().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close(ignored);
    timer_.cancel();
    if (live()) server_->connections_.erase(shared_from_this());
  }

  RedirectionServer* server_;
  std::shared_ptr<bool> alive_;
  tcp::socket socket_;
  std::optional<asio::ssl::stream<tcp::socket>> stream_;
  bool tls_;
  std::string peer_;
  asio::steady_timer timer_;
  std::unique_ptr<RedirectionSession> session_;
  std::array<std::uint8_t, 65536> buffer_{};  // IDE-R data comes in 8 KiB messages, many per read
  std::deque<std::vector<std::uint8_t>> writes_;
  bool writing_ = false;
  bool reading_ = false;
  bool closeWhenWritten_ = false;
  bool closed_ = false;
};

RedirectionServer::RedirectionServer(asio::io_context& io, RedirectionService& service, RedirectionServerOptions options)
    : service_(service), options_(std::move(options)), plain_(io), tls_(io), plainPause_(io), tlsPause_(io) {}

RedirectionServer::~RedirectionServer() {
  stop();
  *alive_ = false;
}

Result<> RedirectionServer::start() {
  if (!stopped_) return fail("the redirection listener is already started");
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.listenAddress, ec);
  if (ec) return fail("bad redirection listen address '" + options_.listenAddress + "'");
  if (options_.port >= 0) {
    if (auto r = http::openListener(plain_, address, options_.port, "redirection plain"); !r) return stop(), r;
  }
  if (options_.tlsPort >= 0 && options_.tlsContext) {
    if (auto r = http::openListener(tls_, address, options_.tlsPort, "redirection TLS"); !r) return stop(), r;
  }
  stopped_ = false;
  if (plain_.is_open()) accept(plain_, false);
  if (tls_.is_open()) accept(tls_, true);
  const auto p = ports();
  MESIM_LOG(Info, kLog, "redirection listening on " << options_.listenAddress
                                                    << (p.plain ? " redirection:" + std::to_string(p.plain) : "")
                                                    << (p.tls ? " redirection-tls:" + std::to_string(p.tls) : ""));
  return {};
}

void RedirectionServer::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  plain_.close(ignored);
  tls_.close(ignored);
  plainPause_.cancel();
  tlsPause_.cancel();
  auto open = std::move(connections_);
  connections_.clear();
  for (auto& connection : open) connection->abort();
}

RedirectionPorts RedirectionServer::ports() const { return {http::boundPort(plain_), http::boundPort(tls_)}; }

std::size_t RedirectionServer::countOn(bool tls) const {
  std::size_t n = 0;
  for (const auto& c : connections_) n += c->tls() == tls ? 1 : 0;
  return n;
}

void RedirectionServer::accept(tcp::acceptor& acceptor, bool tls) {
  acceptor.async_accept([this, &acceptor, tls, alive = alive_](boost::system::error_code ec, tcp::socket socket) {
    if (!*alive || stopped_ || ec == asio::error::operation_aborted) return;
    auto& pause = tls ? tlsPause_ : plainPause_;
    const bool reserve = !ec && descriptors::intoReserve(socket.native_handle(), options_.descriptorReserve);
    if (ec || reserve) {
      // Out of descriptors and the like: wait a little instead of spinning on a failing accept.
      ++stats_.acceptErrors;
      boost::system::error_code ignored;
      socket.close(ignored);
      pause.expires_after(kAcceptPause);
      pause.async_wait([this, &acceptor, tls, alive](boost::system::error_code e) {
        if (!e && *alive && !stopped_) accept(acceptor, tls);
      });
      return;
    }
    serve(std::move(socket), tls);
    accept(acceptor, tls);
  });
}

void RedirectionServer::serve(tcp::socket socket, bool tls) {
  // Before provisioning completes, and while AMT_RedirectionService.ListenerEnabled is false, the port serves no
  // one; closed before any TLS, so a factory-state device makes no key for it.
  if (!service_.accepting()) {
    ++stats_.notServed;
    return;
  }
  if (options_.maxConnections != 0 && countOn(tls) >= options_.maxConnections) {
    ++stats_.overCap;
    return;
  }
  auto peer = http::peerAddress(socket);
  if (peer.empty()) return;  // already gone
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  ++stats_.connections;
  auto connection = std::make_shared<Connection>(*this, std::move(socket), tls, std::move(peer));
  connections_.insert(connection);
  if (!tls) return connection->start(nullptr);
  std::weak_ptr<Connection> weak = connection;
  options_.tlsContext([weak, alive = alive_](std::shared_ptr<asio::ssl::context> context) {
    auto self = weak.lock();
    if (self && *alive) self->start(std::move(context));
  });
}

}  // namespace mesim::wsman::redirection
