#include "hostif/nbd/nbd_server.h"

#include <array>
#include <deque>
#include <filesystem>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "common/log.h"

namespace mesim::hostif::nbd {

namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

class NbdServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(stream::socket socket, NbdSource& source, NbdStats& stats)
      : socket_(std::move(socket)),
        protocol_(source, {[this](std::vector<std::uint8_t> bytes) { write(std::move(bytes)); },
                           [this](const std::string&) { closeAfterWrites(); }},
                  &stats) {}

  void start() {
    protocol_.start();
    read();
  }
  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void read() {
    if (closed_) return;
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (ec || self->closed_) return self->close();
      self->protocol_.receive(std::span<const std::uint8_t>(self->buffer_.data(), n));
      self->read();
    });
  }
  void write(std::vector<std::uint8_t> bytes) {
    if (closed_) return;
    queue_.push_back(std::move(bytes));
    if (!writing_) writeNext();
  }
  void writeNext() {
    if (queue_.empty() || closed_) {
      writing_ = false;
      if (closeWhenWritten_) close();
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(queue_.front()), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->queue_.pop_front();
      self->writeNext();
    });
  }
  void closeAfterWrites() {
    closeWhenWritten_ = true;
    if (!writing_) close();
  }

  stream::socket socket_;
  NbdConnection protocol_;
  std::array<std::uint8_t, 64 * 1024> buffer_{};
  std::deque<std::vector<std::uint8_t>> queue_;
  bool writing_ = false;
  bool closeWhenWritten_ = false;
  bool closed_ = false;
};

NbdServer::NbdServer(asio::io_context& io, std::string path, NbdSource source)
    : io_(io), path_(std::move(path)), source_(std::move(source)), acceptor_(io) {}

NbdServer::~NbdServer() {
  *alive_ = false;
  stop();
}

Result<> NbdServer::start() {
  std::error_code fsError;
  std::filesystem::remove(path_, fsError);  // a stale socket of an earlier run
  boost::system::error_code ec;
  acceptor_.open(stream(), ec);
  if (!ec) acceptor_.bind(stream::endpoint(path_), ec);
  if (!ec) acceptor_.listen(16, ec);
  if (ec) return fail("NBD socket " + path_ + ": " + ec.message());
  started_ = true;
  accept();
  return {};
}

void NbdServer::stop() {
  boost::system::error_code ignored;
  if (acceptor_.is_open()) acceptor_.close(ignored);
  for (auto& weak : live_)
    if (auto c = weak.lock()) c->close();
  live_.clear();
  if (started_) {
    std::error_code fsError;
    std::filesystem::remove(path_, fsError);
    started_ = false;
  }
}

std::size_t NbdServer::connections() const {
  std::size_t n = 0;
  for (const auto& weak : live_) n += weak.expired() ? 0 : 1;
  return n;
}

void NbdServer::accept() {
  acceptor_.async_accept([this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec, stream::socket socket) {
    auto live = alive.lock();
    if (!live || !*live || !acceptor_.is_open()) return;
    if (!ec) {
      std::erase_if(live_, [](const auto& weak) { return weak.expired(); });
      auto connection = std::make_shared<Connection>(std::move(socket), source_, stats_);
      live_.push_back(connection);
      connection->start();
    }
    accept();
  });
}

}  // namespace mesim::hostif::nbd
