// The control API on 127.0.0.1:16990 (plain HTTP/1.1): health, status and fault injection for QA. Bounded like
// the WS-Man server: a connection cap (at the cap the longest-idle connection makes room, else 503), an idle and
// a request deadline, the descriptor reserve (common/descriptors.h), a pause after a failed accept, and an answer
// in JSON to every request it cannot read.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/result.h"

namespace mesim::app {

struct ControlResponse {
  ControlResponse() = default;
  ControlResponse(unsigned status, std::string contentType, std::string body)
      : status(status), contentType(std::move(contentType)), body(std::move(body)) {}

  unsigned status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::string allow;  // the Allow header of a 405
};

struct ControlServerOptions {
  std::size_t maxConnections = 32;              // open at once; 0 = no limit
  std::chrono::milliseconds idleTimeout{30'000};    // waiting for the first byte of a request
  std::chrono::milliseconds requestTimeout{10'000};  // from a request's first byte to its last
  std::size_t descriptorReserve = 64;           // see common/descriptors.h; 0 = none kept
};

struct ControlServerStats {
  std::uint64_t connections = 0;     // accepted and served
  std::uint64_t evicted = 0;         // idle, closed to make room
  std::uint64_t rejectedBusy = 0;    // answered 503: at the cap with nobody idle
  std::uint64_t badRequests = 0;     // answered 4xx without reaching the handler (400, 408, 413, 431)
  std::uint64_t descriptorsShort = 0;  // closed at accept: the descriptor reserve was reached
  std::uint64_t acceptErrors = 0;    // accept failed (EMFILE...): paused and went on
};

class ControlServer {
 public:
  // method, target, body -> response; runs on the io_context thread.
  using Handler = std::function<ControlResponse(const std::string& method, const std::string& target, const std::string& body)>;

  ControlServer(boost::asio::io_context& io, Handler handler, ControlServerOptions options = {});
  ~ControlServer();
  // An error says why the port could not be bound.
  Result<> start(const std::string& address, std::uint16_t port);
  void stop();
  std::uint16_t port() const;
  const ControlServerStats& stats() const { return stats_; }
  std::size_t openConnections() const { return sessions_.size(); }

 private:
  class Session;
  void accept();
  void pauseAccepting();
  void admit(boost::asio::ip::tcp::socket socket);
  bool evictIdle();
  void sessionEnded(std::uint64_t id, bool rejectBusy);

  Handler handler_;
  const ControlServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer pause_;
  ControlServerStats stats_;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions_;  // open sessions, oldest first
  std::uint64_t nextId_ = 1;
  std::size_t rejecting_ = 0;  // sessions answering 503
  // Cleared by the destructor: sessions outliving the server touch nothing of it.
  std::shared_ptr<ControlServer*> self_ = std::make_shared<ControlServer*>(this);
};

}  // namespace mesim::app
