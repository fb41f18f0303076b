// State shared by the WS-Man HTTP listeners and their sessions (internal to wsman/http; the sessions keep
// it alive, so a session that outlives its server never touches freed memory).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/platform/platform_model.h"
#include "wsman/http/digest_auth.h"
#include "wsman/http/wsman_http_options.h"
#include "wsman/http/wsman_request.h"

namespace mesim::wsman::http::detail {

// Where a connection came from.
struct ConnectionInfo {
  std::string peerAddress;  // client IP, or a local channel's name
  bool local = false;
  bool tls = false;
};

// What a new connection may do: be served, be told 503 (over the connection cap), or be closed at once
// (over twice the cap: not even a 503 is worth the memory).
enum class Admission { Serve, RejectBusy, Drop };

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void abort() = 0;  // close now; used by WsmanHttpServer::stop()
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
  std::shared_ptr<boost::asio::ssl::context> tls;
  WsmanHttpStats stats;
  bool stopped = false;

  std::string serverHeader() const;
  std::size_t headerLimit() const;

  Admission admit();
  void release(Admission admission);
  std::size_t serving() const { return serving_; }

  std::uint64_t attach(std::weak_ptr<SessionBase> session);
  void detach(std::uint64_t id);
  void abortAll();

 private:
  std::size_t serving_ = 0;
  std::size_t rejecting_ = 0;
  std::map<std::uint64_t, std::weak_ptr<SessionBase>> sessions_;
  std::uint64_t nextId_ = 1;
};

}  // namespace mesim::wsman::http::detail
