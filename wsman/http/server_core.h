// State shared by the WS-Man HTTP listeners and their sessions (internal to wsman/http; the sessions keep
// it alive, so a session that outlives its server never touches freed memory).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/platform/platform_model.h"
#include "wsman/http/digest_auth.h"
#include "wsman/http/web_service.h"
#include "wsman/http/websocket_service.h"
#include "wsman/http/wsman_http_options.h"
#include "wsman/http/wsman_request.h"

namespace mesim::wsman::http::detail {

// The listener a connection counts against: each has its own cap, so a flood on one port leaves the others alone.
enum class Listener { Http, Https, Local };

// Where a connection came from.
struct ConnectionInfo {
  std::string peerAddress;  // client IP, or a local channel's name
  bool local = false;
  bool tls = false;

  Listener listener() const { return local ? Listener::Local : tls ? Listener::Https : Listener::Http; }
};

// What a new connection may do: be served, be told 503 (over a cap), or be closed at once (over twice the cap:
// not even a 503 is worth the memory).
enum class Admission { Serve, RejectBusy, Drop };

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void abort() = 0;  // close now; used by WsmanHttpServer::stop() and to evict
  // Waiting for a request: in its TLS handshake or reading a request header (an idle keep-alive connection, or a
  // client sending its header slowly). Such a connection may be closed to make room (ServerCore::admit).
  virtual bool waitingForRequest() const = 0;
  virtual std::chrono::steady_clock::time_point waitingSince() const = 0;
};

class ServerCore {
  core::SystemFirmwareClock systemClock_;  // first: `clock` may refer to it

 public:
  ServerCore(boost::asio::io_context& io, platform::PlatformModel& platform, WsmanHttpOptions options);

  boost::asio::io_context& io;
  platform::PlatformModel& platform;
  const WsmanHttpOptions options;
  const core::FirmwareClock& clock;
  DigestAuthenticator auth;
  WsmanHandler handler;
  AnonymousPredicate allowsAnonymous;
  // POST paths served besides /wsman (the legacy EOI SOAP services, wsman/eoi): authenticated alike, never anonymous.
  std::vector<std::string> extraPaths;
  // GET paths upgraded to a WebSocket after the same Digest login (/ws-redirection), and their services.
  std::map<std::string, WebSocketService, std::less<>> webSockets;
  // Every other path, when set: the web UI and /amt-storage/ (web_service.h); unset, GET / answers 303 and the
  // rest 404.
  WebService web;
  std::shared_ptr<boost::asio::ssl::context> tls;
  WsmanHttpStats stats;
  bool stopped = false;

  std::string serverHeader() const;
  bool serves(std::string_view path) const {
    return path == "/wsman" || std::find(extraPaths.begin(), extraPaths.end(), path) != extraPaths.end();
  }
  const WebSocketService* webSocketAt(std::string_view path) const {
    auto it = webSockets.find(path);
    return it == webSockets.end() ? nullptr : &it->second;
  }
  std::size_t headerLimit() const;

  // Whether a new connection from `info` is served (see WsmanHttpOptions::maxConnections): under its listener's
  // cap and its address's cap it is; at the listener's cap the oldest connection still waiting for a request
  // from the address that holds the most is closed to make room, if that address holds more than the newcomer's
  // would with it.
  Admission admit(const ConnectionInfo& info);
  // Counts a session admitted a moment ago (admit() then attach(), with nothing in between).
  std::uint64_t attach(std::weak_ptr<SessionBase> session, const ConnectionInfo& info, Admission admission);
  // Uncounts it; a second call (after eviction, then from the destructor) does nothing.
  void detach(std::uint64_t id);
  void abortAll();
  // Connections being served, on every listener.
  std::size_t serving() const;

 private:
  struct Entry {
    std::weak_ptr<SessionBase> session;
    Listener listener;
    std::string address;  // empty for local connections: they are all the same peer
    Admission admission;
  };
  struct Load {
    std::size_t serving = 0;
    std::size_t rejecting = 0;
    std::map<std::string, std::size_t, std::less<>> servingFrom;  // address -> connections served
  };
  Load& loadOf(Listener listener) { return load_[static_cast<std::size_t>(listener)]; }
  std::size_t servingFrom(const Load& load, std::string_view address) const;
  bool evictFor(Listener listener, std::string_view address);

  std::array<Load, 3> load_;
  std::map<std::uint64_t, Entry> sessions_;
  std::uint64_t nextId_ = 1;
};

}  // namespace mesim::wsman::http::detail
