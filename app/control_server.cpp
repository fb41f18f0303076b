#include "app/control_server.h"

#include <array>
#include <optional>
#include <vector>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/descriptors.h"
#include "common/log.h"
#include "common/text_codecs.h"

namespace mesim::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr const char* kLog = "control";
constexpr std::chrono::milliseconds kAcceptPause{100};  // after an accept error or at the descriptor reserve
constexpr std::chrono::milliseconds kLinger{1'000};     // reading what a refused client still sends
constexpr std::size_t kHeaderLimit = 8 * 1024;
constexpr std::size_t kBodyLimit = 64 * 1024;

bool isHttpParseError(const beast::error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category();
}

std::string seconds(std::chrono::milliseconds d) { return std::to_string((d.count() + 999) / 1000) + " s"; }
}  // namespace

// One connection: wait for a request (idle deadline), read it (request deadline), answer, and again. Every request
// it cannot read is answered in JSON and the connection closed.
class ControlServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<ControlServer*> server, std::uint64_t id, bool rejectBusy)
      : stream_(std::move(socket)), deadline_(stream_.get_executor()), server_(std::move(server)), id_(id),
        rejectBusy_(rejectBusy) {}

  ~Session() {
    if (ControlServer* s = *server_) s->sessionEnded(id_, rejectBusy_);
  }

  void start() {
    if (rejectBusy_)
      return sendError(503, "too many control connections; try again later");
    awaitRequest();
  }

  void abort() { close(); }
  bool idle() const { return idle_ && !closed_; }
  Clock::time_point idleSince() const { return idleSince_; }

 private:
  const ControlServerOptions& options() const { return (*server_)->options_; }

  // The first byte of the next request, within the idle deadline (bytes already buffered count at once).
  void awaitRequest() {
    if (closed_ || !*server_) return close();
    if (buffer_.size() > 0) return readRequest();
    idle_ = true;
    idleSince_ = Clock::now();
    armDeadline(options().idleTimeout);
    stream_.async_read_some(buffer_.prepare(1024), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->idle_ = false;
      self->deadline_.cancel();
      if (ec) return self->close();  // idle too long, gone, or evicted: nothing to answer
      self->buffer_.commit(n);
      self->readRequest();
    });
  }

  void readRequest() {
    if (closed_ || !*server_) return close();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    armDeadline(options().requestTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRequest(ec); });
  }

  // Reads have deadlines of their own (tcp_stream's would close the socket before a 408 could be written): the
  // pending read is cancelled and `timedOut_` tells why.
  void armDeadline(std::chrono::milliseconds timeout) {
    stream_.expires_never();  // a write's deadline would otherwise carry over
    timedOut_ = false;
    deadline_.expires_after(timeout);
    deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->timedOut_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }

  void onRequest(beast::error_code ec) {
    deadline_.cancel();
    if (closed_ || !*server_) return close();
    if (!ec) return respond(parser_->release());
    if (timedOut_) {
      ++(*server_)->stats_.badRequests;
      return sendError(408, "the request did not arrive within " + seconds(options().requestTimeout));
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == http::error::partial_message ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
      return close();  // the client went away
    ++(*server_)->stats_.badRequests;
    if (ec == http::error::body_limit)
      return sendError(413, "the body exceeds " + std::to_string(kBodyLimit) + " bytes");
    if (ec == http::error::header_limit)
      return sendError(431, "the header exceeds " + std::to_string(kHeaderLimit) + " bytes");
    if (isHttpParseError(ec)) return sendError(400, "not a valid HTTP/1.1 request (" + ec.message() + ")");
    close();
  }

  void respond(http::request<http::string_body> request) {
    auto result = (*server_)->handler_(std::string(request.method_string()), std::string(request.target()),
                                        request.body());
    auto response = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(result.status),
                                                                         request.version());
    response->set(http::field::server, "mesim-control");
    response->set(http::field::content_type, result.contentType);
    if (!result.allow.empty()) response->set(http::field::allow, result.allow);
    if (request.method() == http::verb::head) result.body.clear();
    response->keep_alive(request.keep_alive());
    response->body() = std::move(result.body);
    response->prepare_payload();
    stream_.expires_after(options().requestTimeout);
    http::async_write(stream_, *response, [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
      if (ec || !response->keep_alive()) return self->close();
      self->awaitRequest();
    });
  }

  // A JSON answer (never the client's raw bytes: `why` is made valid UTF-8), then the connection ends.
  void sendError(unsigned status, const std::string& why) {
    auto response = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
    response->set(http::field::server, "mesim-control");
    response->set(http::field::content_type, "application/json");
    response->set(http::field::connection, "close");
    response->body() = boost::json::serialize(boost::json::value{{"error", text::toValidUtf8(why)}}) + "\n";
    response->prepare_payload();
    stream_.expires_after(options().requestTimeout);
    http::async_write(stream_, *response, [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->linger();
    });
  }

  // Half-close, then read and drop what the client still sends for a while: closing with unread bytes would reset
  // the connection before the client has read the answer.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLinger);
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(drainBuffer_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->drain();
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    idle_ = false;
    deadline_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;  // its own deadlines bound writes and lingering
  asio::steady_timer deadline_;
  std::shared_ptr<ControlServer*> server_;
  const std::uint64_t id_;
  const bool rejectBusy_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::array<char, 1024> drainBuffer_{};
  Clock::time_point idleSince_{};
  bool idle_ = false;
  bool timedOut_ = false;
  bool closed_ = false;
};

ControlServer::ControlServer(asio::io_context& io, Handler handler, ControlServerOptions options)
    : handler_(std::move(handler)), options_(options), acceptor_(io), pause_(io) {}

ControlServer::~ControlServer() {
  stop();
  *self_ = nullptr;
}

Result<> ControlServer::start(const std::string& address, std::uint16_t port) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return fail("bad control address '" + address + "'");
  tcp::endpoint endpoint(ip, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("control API cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  accept();
  return {};
}

void ControlServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  pause_.cancel();
  std::vector<std::shared_ptr<Session>> open;  // abort() may end a session, which erases it
  for (auto& [id, weak] : sessions_)
    if (auto s = weak.lock()) open.push_back(std::move(s));
  for (auto& s : open) s->abort();
}

std::uint16_t ControlServer::port() const {
  boost::system::error_code ec;
  auto endpoint = acceptor_.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void ControlServer::accept() {
  acceptor_.async_accept([this, self = self_](boost::system::error_code ec, tcp::socket socket) {
    if (!*self || ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors (EMFILE, ENFILE) and the like: wait a little instead of spinning on a failing accept.
      ++stats_.acceptErrors;
      MESIM_LOG(Warn, kLog, "accepting a control connection failed: " << ec.message() << "; retrying shortly");
      return pauseAccepting();
    }
    if (descriptors::intoReserve(socket.native_handle(), options_.descriptorReserve)) {
      ++stats_.descriptorsShort;
      MESIM_LOG(Warn, kLog, "closed a control connection at once: the last " << options_.descriptorReserve
                                << " file descriptors are kept for the firmware");
      boost::system::error_code ignored;
      socket.close(ignored);
      return pauseAccepting();
    }
    admit(std::move(socket));
    accept();
  });
}

void ControlServer::pauseAccepting() {
  pause_.expires_after(kAcceptPause);
  pause_.async_wait([this, self = self_](boost::system::error_code ec) {
    if (!ec && *self && acceptor_.is_open()) accept();
  });
}

// Under the cap a connection is served; at the cap the longest-idle one makes room for it (an idle connection
// costs its client nothing to reopen), else it is told 503, and past twice the cap closed at once.
void ControlServer::admit(tcp::socket socket) {
  const std::size_t cap = options_.maxConnections;
  bool reject = false;
  if (cap != 0 && sessions_.size() - rejecting_ >= cap && !evictIdle()) {
    if (rejecting_ >= cap) {
      boost::system::error_code ignored;
      socket.close(ignored);
      return;
    }
    reject = true;
    ++rejecting_;
    ++stats_.rejectedBusy;
  } else {
    ++stats_.connections;
  }
  const auto id = nextId_++;
  auto session = std::make_shared<Session>(std::move(socket), self_, id, reject);
  sessions_.emplace(id, session);
  session->start();
}

bool ControlServer::evictIdle() {
  std::shared_ptr<Session> victim;
  std::uint64_t victimId = 0;
  for (auto& [id, weak] : sessions_) {
    auto s = weak.lock();
    if (s && s->idle() && (!victim || s->idleSince() < victim->idleSince())) {
      victim = std::move(s);
      victimId = id;
    }
  }
  if (!victim) return false;
  sessions_.erase(victimId);  // no longer counted; its destructor finds nothing to erase
  ++stats_.evicted;
  victim->abort();
  return true;
}

void ControlServer::sessionEnded(std::uint64_t id, bool rejectBusy) {
  if (sessions_.erase(id) != 0 && rejectBusy && rejecting_ > 0) --rejecting_;
}

}  // namespace mesim::app
