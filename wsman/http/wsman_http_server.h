// The WS-Man HTTP(S) server of the simulated AMT (spec/wsman.md §2.1): POST /wsman on 16992 (plain) and
// 16993 (TLS 1.2/1.3), Digest authentication against the platform model, AMT's headers, chunked answers,
// keep-alive, per-connection deadlines, a connection cap and a request-size cap. Authenticated requests (and
// anonymous ones the SOAP layer allows, i.e. Identify) go to the WsmanHandler. Runs on one io_context thread.
//
//   WsmanHttpServer server(io, platform, options);
//   server.setHandler(...);                  // the SOAP layer (wsman/soap, wsman/ops)
//   server.setAnonymousPredicate(...);       // true for <wsmid:Identify/>
//   if (auto err = server.start(); !err.empty()) fail(err);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "firmware/platform/platform_model.h"
#include "wsman/http/http_session.h"
#include "wsman/http/server_core.h"
#include "wsman/http/tls_identity.h"
#include "wsman/http/wsman_http_options.h"
#include "wsman/http/wsman_request.h"

namespace mesim::wsman::http {

struct WsmanHttpPorts {
  std::uint16_t http = 0;   // 0: not listening
  std::uint16_t https = 0;  // 0: not listening
};

class WsmanHttpServer {
 public:
  WsmanHttpServer(boost::asio::io_context& io, platform::PlatformModel& platform, WsmanHttpOptions options);
  ~WsmanHttpServer();
  WsmanHttpServer(const WsmanHttpServer&) = delete;
  WsmanHttpServer& operator=(const WsmanHttpServer&) = delete;

  // Set before start(). Without a handler every authenticated request gets 500.
  void setHandler(WsmanHandler handler);
  void setAnonymousPredicate(AnonymousPredicate predicate);

  // Opens the listeners and makes or loads the TLS certificate (https enabled). "" on success, else why not.
  // With options.runBlocking the certificate is made off the loop: the TLS listener is open at once but accepts
  // only once it exists; whenTlsReady() tells when.
  std::string start();
  // `done` runs on the loop once the TLS identity is in place ("" ) or could not be made (why); at once (posted)
  // if it already is, or if there is no TLS listener.
  void whenTlsReady(std::function<void(const std::string& error)> done);
  // Closes the listeners and every open connection. Idempotent; also done by the destructor.
  void stop();
  WsmanHttpPorts ports() const;

  // Serves one already-connected stream (anything Beast can read and write; the session runs on its
  // executor). For the APF/LMS bridge: `local` requests, e.g. serveLocal(std::move(channelStream), "lms").
  // Counts against maxConnections like a socket.
  template <class AsyncStream>
  void serveLocal(AsyncStream stream, std::string name = "local") {
    detail::ConnectionInfo info;
    info.peerAddress = std::move(name);
    info.local = true;
    serveStream(std::move(stream), std::move(info));
  }

  // The same over TLS with the server's certificate, for LMS channels to 16993 ("TLS on local ports").
  // False when no TLS listener is configured (there is no certificate to serve).
  template <class AsyncStream>
  bool serveLocalTls(AsyncStream stream, std::string name = "local") {
    if (!core_->tls) return false;
    detail::ConnectionInfo info;
    info.peerAddress = std::move(name);
    info.local = true;
    info.tls = true;
    serveStream(boost::asio::ssl::stream<AsyncStream>(std::move(stream), *core_->tls), std::move(info));
    return true;
  }

  // Same, with the connection described by the caller (tests, fuzzing).
  template <class AsyncStream>
  void serveStream(AsyncStream stream, detail::ConnectionInfo info) {
    const auto admission = core_->admit();
    if (admission == detail::Admission::Drop) return;  // `stream` closes as it goes out of scope
    std::make_shared<detail::HttpSession<AsyncStream>>(core_, std::move(stream), std::move(info), admission)->start();
  }

  const WsmanHttpStats& stats() const { return core_->stats; }
  const DigestStats& digestStats() const { return core_->auth.stats(); }
  std::size_t activeConnections() const { return core_->serving(); }

  const log::Context& logContext() const { return core_->platform.logContext(); }

 private:
  std::string listen(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::ip::address& address, int port,
                     const char* what);
  TlsIdentitySource tlsSource() const;
  std::string useTlsIdentity(const std::optional<TlsIdentity>& identity, const std::string& error);
  void tlsSettled(const std::string& error);
  void accept(boost::asio::ip::tcp::acceptor& acceptor, bool tls);
  void startSession(boost::asio::ip::tcp::socket socket, bool tls);

  std::shared_ptr<detail::ServerCore> core_;
  boost::asio::ip::tcp::acceptor http_;
  boost::asio::ip::tcp::acceptor https_;
  boost::asio::steady_timer retry_;
  bool started_ = false;
  std::optional<std::string> tlsOutcome_;  // set once the TLS identity is settled: "" or why it failed
  std::vector<std::function<void(const std::string&)>> tlsWaiters_;
  // Cleared by the destructor: a key made off the loop after the server is gone is dropped.
  std::shared_ptr<WsmanHttpServer*> self_ = std::make_shared<WsmanHttpServer*>(this);
};

}  // namespace mesim::wsman::http
