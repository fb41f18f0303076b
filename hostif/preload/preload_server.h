// The daemon's end of libmesim-preload.so: a Unix SOCK_SEQPACKET listener where each accepted
// connection is one open file of the host model (packets in preload_protocol.h).
//
// Threading: like MeiHost, everything runs on the io_context; start()/stop() are called there too.
#pragma once

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/seq_packet_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "common/file_access.h"
#include "common/result.h"
#include "hostif/host/mei_host.h"

namespace mesim::preload {

class PreloadServer {
 public:
  // `access`: who may connect, as for dev/mei0 (0600 by default: every session can read the OS admin account).
  PreloadServer(boost::asio::io_context& io, host::MeiHost& host, std::filesystem::path socketPath,
                FileAccess access = {});
  ~PreloadServer();
  PreloadServer(const PreloadServer&) = delete;
  PreloadServer& operator=(const PreloadServer&) = delete;

  // Binds, gives the socket file its mode and group, then listens (a stale socket file is replaced); an error
  // says what went wrong.
  Result<> start();
  // Stops listening, ends every session (their files are closed on the host) and removes the socket file.
  void stop();

  const std::filesystem::path& socketPath() const { return path_; }
  // Live sessions (accepted connections whose host file is not yet released).
  std::size_t sessionCount() const { return sessions_.size(); }
  // Serves one host's device: log lines name it.
  const log::Context& logContext() const { return host_.logContext(); }

 private:
  class Session;
  using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::generic::seq_packet_protocol>;

  void accept();
  void forget(const std::shared_ptr<Session>& session);

  boost::asio::io_context& io_;
  host::MeiHost& host_;
  std::filesystem::path path_;
  const FileAccess access_;
  Acceptor acceptor_;
  boost::asio::steady_timer retryTimer_;  // after a failed accept (EMFILE)
  std::set<std::shared_ptr<Session>> sessions_;
  std::uint64_t nextSessionId_ = 1;
  bool listening_ = false;
};

}  // namespace mesim::preload
