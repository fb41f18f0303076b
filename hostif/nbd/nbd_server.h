// An NBD server on a Unix socket (nbd_protocol.h speaks the protocol): each accepted connection gets an
// NbdConnection over the same source. The socket file is made at start (a stale one is replaced) and removed at
// stop. Threading: the io_context it is given.
//
//   NbdServer server(io, "/run/mesim/ider.nbd", source);
//   if (auto r = server.start(); !r) ...;
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "common/result.h"
#include "hostif/nbd/nbd_protocol.h"

namespace mesim::hostif::nbd {

class NbdServer {
 public:
  NbdServer(boost::asio::io_context& io, std::string path, NbdSource source);
  ~NbdServer();
  NbdServer(const NbdServer&) = delete;
  NbdServer& operator=(const NbdServer&) = delete;

  Result<> start();
  void stop();
  const std::string& path() const { return path_; }
  std::size_t connections() const;
  const NbdStats& stats() const { return stats_; }

 private:
  class Connection;
  void accept();

  boost::asio::io_context& io_;
  std::string path_;
  NbdSource source_;
  NbdStats stats_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::vector<std::weak_ptr<Connection>> live_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool started_ = false;
};

}  // namespace mesim::hostif::nbd
