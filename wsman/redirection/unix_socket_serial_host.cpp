#include "wsman/redirection/unix_socket_serial_host.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace mesim::wsman::redirection {

namespace {
constexpr const char* kLog = "sol-unix";
constexpr auto kReconnectEvery = std::chrono::seconds(1);
// sun_path's size less its terminating NUL.
constexpr std::size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;
using boost::asio::local::stream_protocol;
}  // namespace

Result<std::unique_ptr<UnixSocketSerialHost>> UnixSocketSerialHost::open(boost::asio::io_context& io, Role role,
                                                                        std::string path, log::Context log) {
  if (path.empty()) return fail("the Unix socket's path is empty");
  if (path.size() > kMaxPath)
    return fail("the Unix socket path " + path + " is longer than " + std::to_string(kMaxPath) + " bytes");
  std::unique_ptr<UnixSocketSerialHost> host(new UnixSocketSerialHost(io, role, std::move(path), std::move(log)));
  if (role == Role::Connect) {
    host->connect();
    return host;
  }
  struct stat st {};
  if (::lstat(host->path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return fail(host->path_ + " exists and is not a socket: not replacing it");
    ::unlink(host->path_.c_str());  // a stale socket of an earlier run
  }
  boost::system::error_code ec;
  auto acceptor = std::make_unique<stream_protocol::acceptor>(io);
  acceptor->open(stream_protocol(), ec);
  if (!ec) acceptor->bind(stream_protocol::endpoint(host->path_), ec);
  if (!ec) acceptor->listen(1, ec);
  if (ec) return fail("cannot listen on " + host->path_ + ": " + ec.message());
  host->acceptor_ = std::move(acceptor);
  host->accept();
  host->announce();
  return host;
}

UnixSocketSerialHost::UnixSocketSerialHost(boost::asio::io_context& io, Role role, std::string path, log::Context log)
    : role_(role), path_(std::move(path)), log_(std::move(log)), peer_(io), retry_(io), queue_(io.get_executor()) {}

UnixSocketSerialHost::~UnixSocketSerialHost() {
  *alive_ = false;
  boost::system::error_code ignored;
  peer_.close(ignored);
  retry_.cancel();
  if (acceptor_) {
    acceptor_->close(ignored);
    ::unlink(path_.c_str());
  }
}

std::string UnixSocketSerialHost::describe() const {
  return std::string(role_ == Role::Listen ? "unix " : "unix-connect ") + path_;
}

void UnixSocketSerialHost::announce() {
  MESIM_LOG(Info, kLog, "SOL host serial port: listening on " << path_);
}

void UnixSocketSerialHost::accept() {
  acceptor_->async_accept([this, alive = alive_](boost::system::error_code ec, stream_protocol::socket socket) {
    if (!*alive || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      MESIM_LOG(Warn, kLog, "accepting on " << path_ << " failed: " << ec.message());
    } else if (peer_.is_open()) {
      ++stats_.refused;
      MESIM_LOG(Info, kLog, "a second peer on " << path_ << " closed: the serial port has one");
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      peer_ = std::move(socket);
      attached();
    }
    accept();
  });
}

void UnixSocketSerialHost::connect() {
  peer_.async_connect(stream_protocol::endpoint(path_), [this, alive = alive_](boost::system::error_code ec) {
    if (!*alive || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      MESIM_LOG(Debug, kLog, "connecting to " << path_ << ": " << ec.message() << "; again in 1 s");
      boost::system::error_code ignored;
      peer_.close(ignored);
      retryConnect();
      return;
    }
    attached();
  });
}

void UnixSocketSerialHost::retryConnect() {
  retry_.expires_after(kReconnectEvery);
  retry_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (!*alive || ec) return;
    connect();
  });
}

void UnixSocketSerialHost::attached() {
  ++stats_.connections;
  MESIM_LOG(Info, kLog, "SOL host serial port: peer connected on " << path_);
  read();
}

void UnixSocketSerialHost::detach(const std::string& why) {
  MESIM_LOG(Info, kLog, "SOL host serial port: peer on " << path_ << " gone (" << why << ")");
  boost::system::error_code ignored;
  peer_.close(ignored);
  stats_.dropped += queue_.clear();  // a console held back for this peer goes on (its bytes are dropped: no cable)
  writing_ = false;
  if (role_ == Role::Connect) retryConnect();
}

void UnixSocketSerialHost::read() {
  peer_.async_read_some(boost::asio::buffer(readBuffer_), [this, alive = alive_](boost::system::error_code ec,
                                                                                  std::size_t n) {
    if (!*alive || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      detach(ec == boost::asio::error::eof ? "closed" : ec.message());
      return;
    }
    if (sink_) sink_(std::string_view(readBuffer_, n));
    read();
  });
}

void UnixSocketSerialHost::toHost(std::string_view bytes) {
  if (bytes.empty()) return;
  if (!peer_.is_open() || !queue_.push(bytes)) {
    stats_.dropped += bytes.size();
    return;
  }
  if (!writing_) writeNext();
}

void UnixSocketSerialHost::writeNext() {
  if (queue_.empty() || !peer_.is_open()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  const auto batch = queue_.batch();
  boost::asio::async_write(peer_, batch,
                           [this, alive = alive_, count = batch.size()](boost::system::error_code ec, std::size_t) {
                             if (!*alive || ec == boost::asio::error::operation_aborted) return;
                             if (ec) {
                               detach(ec.message());
                               return;
                             }
                             queue_.written(count);
                             writeNext();
                           });
}
}  // namespace mesim::wsman::redirection
