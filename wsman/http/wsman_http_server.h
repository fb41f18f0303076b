// The WS-Man HTTP(S) server of the simulated AMT (spec/wsman.md §2.1): POST /wsman on 16992 (plain) and
// 16993 (TLS 1.2/1.3), Digest authentication against the platform model, AMT's headers, chunked answers,
// keep-alive, per-connection deadlines, connection caps per listener and per client address, a descriptor
// reserve, and a request-size cap. Authenticated requests (and
// anonymous ones the SOAP layer allows, i.e. Identify) go to the WsmanHandler. Runs on one io_context thread.
//
//   WsmanHttpServer server(io, platform, options);
//   server.setHandler(...);                  // the SOAP layer (wsman/soap, wsman/ops)
//   server.setAnonymousPredicate(...);       // true for <wsmid:Identify/>
//   if (auto started = server.start(); !started) report(started.error().message);
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
#include "wsman/http/console_tls.h"
#include "wsman/http/http_session.h"
#include "wsman/http/server_core.h"
#include "wsman/http/tls_identity.h"
#include "wsman/http/wsman_http_options.h"
#include "wsman/http/web_service.h"
#include "wsman/http/websocket_service.h"
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
  // POST paths the handler serves besides /wsman (WsmanRequest::path tells which), behind the same Digest login;
  // anonymous requests are let through on /wsman only.
  void setExtraPaths(std::vector<std::string> paths);
  // A GET path upgraded to a WebSocket after the same Digest login (AMT's /ws-redirection; websocket_service.h).
  // May be set after start(), on the loop: later upgrades find it; before, the path answers 404 like any other.
  void setWebSocket(std::string path, WebSocketService service);
  // The service of every other path (the web UI, /amt-storage/; web_service.h): public paths without Digest, the
  // rest after the same Digest login. Set before start().
  void setWebService(WebService service);

  // Opens the listeners and loads the TLS certificate, making it unless options.makeTlsIdentityOnFirstUse
  // (https enabled), or says why it cannot. With options.runBlocking loading and making happen off the loop: the
  // TLS listener accepts at once and its handshakes wait for the certificate; whenTlsSettled() tells when
  // loading is over.
  Result<> start();
  // Told the outcome of the certificate, on the loop.
  using TlsOutcome = std::function<void(const Result<>& outcome)>;
  // `done` runs once TLS can be served: the certificate is loaded, made, or (on first use) known to be absent
  // (success), or a file could not be used (the error). At once (posted) if that is settled already or there is
  // no TLS listener.
  void whenTlsSettled(TlsOutcome done);
  // `done` runs once the certificate is in place (success), making it now if it is still to be made, or when it
  // cannot be (the error). Not run if the server stops first.
  void withTlsIdentity(TlsOutcome done);
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

  // The same over TLS with the server's certificate, for LMS channels to 16993 ("TLS on local ports"); the
  // handshake waits until the certificate is in place. False when no TLS listener is configured.
  template <class AsyncStream>
  bool serveLocalTls(AsyncStream stream, std::string name = "local") {
    if (core_->options.httpsPort < 0) return false;
    detail::ConnectionInfo info;
    info.peerAddress = std::move(name);
    info.local = true;
    info.tls = true;
    // The local interface has TLS settings of its own: the console's mutual authentication is the network's.
    if (ownTls_) {
      serveStream(boost::asio::ssl::stream<AsyncStream>(std::move(stream), *ownTls_), std::move(info));
      return true;
    }
    auto held = std::make_shared<AsyncStream>(std::move(stream));  // std::function needs a copyable capture
    withTlsIdentity([this, held, info = std::move(info)](const Result<>& outcome) mutable {
      if (outcome)
        serveStream(boost::asio::ssl::stream<AsyncStream>(std::move(*held), *ownTls_), std::move(info));
    });
    return true;
  }

  // A channel of the CIRA tunnel (firmware/cira): an MPS's console reaches AMT's network interface through it, so
  // it is served as a network connection (realms, TLS policy and Digest as 16992/16993), named by the tunnel. With
  // `tls` over 16993's certificate, once it is in place; false when there is no TLS listener.
  template <class AsyncStream>
  bool serveTunnel(AsyncStream stream, std::string name, bool tls) {
    detail::ConnectionInfo info;
    info.peerAddress = std::move(name);
    info.tls = tls;
    if (!tls) {
      serveStream(std::move(stream), std::move(info));
      return true;
    }
    if (core_->options.httpsPort < 0) return false;
    auto held = std::make_shared<AsyncStream>(std::move(stream));
    withTlsIdentity([this, held, info = std::move(info)](const Result<>& outcome) mutable {
      if (outcome && core_->tls)
        serveStream(boost::asio::ssl::stream<AsyncStream>(std::move(*held), *core_->tls), std::move(info));
    });
    return true;
  }

  // Same, with the connection described by the caller (tests, fuzzing).
  template <class AsyncStream>
  void serveStream(AsyncStream stream, detail::ConnectionInfo info) {
    const auto admission = core_->admit(info);
    if (admission == detail::Admission::Drop) return;  // `stream` closes as it goes out of scope
    std::make_shared<detail::HttpSession<AsyncStream>>(core_, std::move(stream), std::move(info), admission)->start();
  }

  const WsmanHttpStats& stats() const { return core_->stats; }
  const DigestStats& digestStats() const { return core_->auth.stats(); }
  // Its Digest accounts, nonces and login back-off, shared with the redirection listener (16994/16995), so a
  // guesser meets one back-off whichever port it tries.
  DigestAuthenticator& authenticator() { return core_->auth; }
  // The TLS context of 16993 once the certificate is in place (withTlsIdentity()), else null: 16995 serves the
  // same certificate.
  std::shared_ptr<boost::asio::ssl::context> tlsContext() const { return core_->tls; }
  std::size_t activeConnections() const { return core_->serving(); }

  const log::Context& logContext() const { return core_->platform.logContext(); }

 private:
  TlsIdentitySource tlsSource() const;
  Result<> useTlsIdentity(const TlsIdentity& identity);
  void tlsLoaded(Result<std::optional<TlsIdentity>> loaded);
  void makeTlsIdentity();
  void tlsIdentityOutcome(const Result<>& outcome);
  Result<> tlsFailure() const { return fail(tlsError_); }
  void accept(boost::asio::ip::tcp::acceptor& acceptor, boost::asio::steady_timer& pause, bool tls);
  void pauseAccepting(boost::asio::ip::tcp::acceptor& acceptor, boost::asio::steady_timer& pause, bool tls);
  void startSession(boost::asio::ip::tcp::socket socket, bool tls);

  std::shared_ptr<detail::ServerCore> core_;
  boost::asio::ip::tcp::acceptor http_;
  boost::asio::ip::tcp::acceptor https_;
  // Each listener pauses on its own after an accept error or at the descriptor reserve.
  boost::asio::steady_timer httpPause_;
  boost::asio::steady_timer httpsPause_;
  bool started_ = false;
  // The certificate's life: loading (start), absent (made on first use), making, in place, or failed.
  enum class TlsState { Loading, Absent, Making, InPlace, Failed };
  TlsState tlsState_ = TlsState::Loading;
  std::string tlsError_;                                              // why, once Failed
  std::vector<TlsOutcome> settledWaiters_;   // whenTlsSettled()
  std::vector<TlsOutcome> identityWaiters_;  // withTlsIdentity()
  std::size_t heldHandshakes_ = 0;  // accepted TLS sockets waiting for the certificate
  // Cleared by the destructor: a key made off the loop after the server is gone is dropped.
  std::shared_ptr<WsmanHttpServer*> self_ = std::make_shared<WsmanHttpServer*>(this);

  // The console's TLS configuration (console_tls.h), taken up when a commit changes it.
  void refreshConsoleTls(bool force);
  std::optional<TlsIdentity> ownIdentity_;                   // the listener's own pair, once in place
  std::shared_ptr<boost::asio::ssl::context> ownTls_;        // its context: LMS channels keep it
  std::string consoleTlsFingerprint_;                        // what the served context was built from
  std::optional<std::size_t> platformSubscription_;
};

}  // namespace mesim::wsman::http
