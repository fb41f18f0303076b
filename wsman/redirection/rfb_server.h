// The RFB listener of port 5900 (standard VNC, plain TCP, never TLS; features.md §1.4): accepts viewers and hands
// each to a KvmService session in Standard mode. It listens whatever the settings say, and closes at accept what
// AMT would not serve: before provisioning completes, with KVM disabled (CIM_KVMRedirectionSAP) or with
// IPS_KVMRedirectionSettingData.Is5900PortEnabled false. Network limits (a write) are real time.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/result.h"
#include "wsman/redirection/rfb_session.h"

namespace mesim::wsman::redirection {

struct RfbServerOptions {
  std::string listenAddress = "127.0.0.1";
  int port = 5900;  // 0: any free port; negative: no listener
  std::size_t maxConnections = 8;
  std::size_t descriptorReserve = 64;  // common/descriptors.h
  std::chrono::milliseconds writeTimeout{30'000};
};

struct RfbServerStats {
  std::uint64_t connections = 0;
  std::uint64_t notServed = 0;  // closed at accept: not provisioned, KVM or port 5900 off
  std::uint64_t overCap = 0;
  std::uint64_t acceptErrors = 0;
};

class RfbServer {
 public:
  RfbServer(boost::asio::io_context& io, KvmService& service, RfbServerOptions options);
  ~RfbServer();
  RfbServer(const RfbServer&) = delete;
  RfbServer& operator=(const RfbServer&) = delete;

  Result<> start();
  void stop();  // closes the listener and every connection; idempotent
  std::uint16_t port() const;
  const RfbServerStats& stats() const { return stats_; }
  std::size_t connectionCount() const { return connections_.size(); }
  const log::Context& logContext() const { return service_.logContext(); }

  class Connection;  // internal

 private:
  void accept();
  void serve(boost::asio::ip::tcp::socket socket);

  KvmService& service_;
  RfbServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer pause_;
  std::set<std::shared_ptr<Connection>> connections_;
  RfbServerStats stats_;
  bool stopped_ = true;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mesim::wsman::redirection
