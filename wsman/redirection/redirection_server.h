// The redirection listeners: 16994 (plain) and 16995 (TLS, with 16993's certificate) carry the redirection
// protocol (redirection_session.h) to one RedirectionService. The socket edge only: it accepts, closes at once what
// AMT would not serve (before provisioning completes, or with AMT_RedirectionService.ListenerEnabled false, as
// 16992 does), does the TLS handshake, feeds a session the bytes and writes each of its messages with a write of
// its own. Network limits are real time (a TLS handshake, a write); a session's idle limits are firmware time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/result.h"
#include "wsman/redirection/redirection_session.h"

namespace mesim::wsman::redirection {

struct RedirectionServerOptions {
  std::string listenAddress = "127.0.0.1";
  int port = 16994;     // 0: any free port; negative: no plain listener
  int tlsPort = 16995;  // 0: any free port; negative: no TLS listener
  // Calls `done` with 16993's TLS context once its certificate is in place (made on first use), or null when there
  // is none; unset: no TLS listener.
  std::function<void(std::function<void(std::shared_ptr<boost::asio::ssl::context>)> done)> tlsContext;
  std::size_t maxConnections = 16;       // per listener; more are closed at accept
  std::size_t descriptorReserve = 64;    // common/descriptors.h
  std::chrono::milliseconds handshakeTimeout{10'000};
  std::chrono::milliseconds writeTimeout{30'000};
};

struct RedirectionServerStats {
  std::uint64_t connections = 0;
  std::uint64_t notServed = 0;      // closed at accept: not provisioned, or the listener disabled
  std::uint64_t overCap = 0;        // closed at accept: maxConnections
  std::uint64_t tlsFailures = 0;    // handshake failed or timed out
  std::uint64_t acceptErrors = 0;
};

struct RedirectionPorts {
  std::uint16_t plain = 0;  // 0: not listening
  std::uint16_t tls = 0;
};

class RedirectionServer {
 public:
  RedirectionServer(boost::asio::io_context& io, RedirectionService& service, RedirectionServerOptions options);
  ~RedirectionServer();
  RedirectionServer(const RedirectionServer&) = delete;
  RedirectionServer& operator=(const RedirectionServer&) = delete;

  Result<> start();
  void stop();  // closes the listeners and every connection; idempotent
  RedirectionPorts ports() const;
  const RedirectionServerStats& stats() const { return stats_; }
  std::size_t connectionCount() const { return connections_.size(); }
  const log::Context& logContext() const { return service_.logContext(); }

  class Connection;  // internal

 private:
  void accept(boost::asio::ip::tcp::acceptor& acceptor, bool tls);
  void serve(boost::asio::ip::tcp::socket socket, bool tls);
  std::size_t countOn(bool tls) const;

  RedirectionService& service_;
  RedirectionServerOptions options_;
  boost::asio::ip::tcp::acceptor plain_;
  boost::asio::ip::tcp::acceptor tls_;
  boost::asio::steady_timer plainPause_;
  boost::asio::steady_timer tlsPause_;
  std::set<std::shared_ptr<Connection>> connections_;
  RedirectionServerStats stats_;
  bool stopped_ = true;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mesim::wsman::redirection
