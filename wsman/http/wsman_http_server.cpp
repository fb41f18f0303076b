#include "wsman/http/wsman_http_server.h"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "common/descriptors.h"
#include "common/log.h"
#include "wsman/http/tcp_listener.h"
#include "wsman/http/tls_identity.h"

namespace mesim::wsman::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace {
constexpr const char* kLog = "wsman-http";
constexpr std::chrono::milliseconds kAcceptPause{100};  // after an accept error or at the descriptor reserve
}  // namespace

// ------------------------------------------------------------------------------------------------
// detail::ServerCore
// ------------------------------------------------------------------------------------------------

namespace detail {

ServerCore::ServerCore(asio::io_context& ioContext, platform::PlatformModel& model, WsmanHttpOptions opts)
    : io(ioContext),
      platform(model),
      options(std::move(opts)),
      clock(options.clock ? *options.clock : systemClock_),
      auth(model, clock, options.digest) {}

std::string ServerCore::serverHeader() const {
  return serverHeaderValue(options.amtVersion.empty() ? platform.firmware().code.toString() : options.amtVersion);
}

std::size_t ServerCore::headerLimit() const { return std::clamp<std::size_t>(options.maxRequestBytes, 1024, 16 * 1024); }

std::size_t ServerCore::servingFrom(const Load& load, std::string_view address) const {
  auto it = load.servingFrom.find(address);
  return it == load.servingFrom.end() ? 0 : it->second;
}

Admission ServerCore::admit(const ConnectionInfo& info) {
  if (stopped) return Admission::Drop;
  const Listener listener = info.listener();
  Load& load = loadOf(listener);
  const std::size_t cap = options.maxConnections;
  const std::size_t perAddress = options.maxConnectionsPerAddress;
  auto reject = [&] {
    if (cap == 0 || load.rejecting < cap) {
      ++stats.rejectedBusy;
      return Admission::RejectBusy;
    }
    ++stats.dropped;
    return Admission::Drop;
  };
  if (listener != Listener::Local && perAddress != 0 && servingFrom(load, info.peerAddress) >= perAddress) {
    ++stats.overAddressCap;
    return reject();
  }
  if (cap != 0 && load.serving >= cap && !evictFor(listener, listener == Listener::Local ? "" : info.peerAddress))
    return reject();
  ++stats.connections;
  return Admission::Serve;
}

// Closes the oldest connection waiting for a request from the address that holds the most on `listener`, if
// that is more than `address` would hold with the newcomer: a flood from a few addresses cannot keep a client of
// another out, while addresses holding their fair share are left alone.
bool ServerCore::evictFor(Listener listener, std::string_view address) {
  const Load& load = loadOf(listener);
  const std::size_t newcomerHolds = servingFrom(load, address);
  std::uint64_t victim = 0;
  std::size_t victimHolds = newcomerHolds + 2;  // more than the newcomer's address would hold: no mere swap
  std::chrono::steady_clock::time_point victimSince{};
  for (const auto& [id, entry] : sessions_) {
    if (entry.listener != listener || entry.admission != Admission::Serve) continue;
    auto session = entry.session.lock();
    if (!session || !session->waitingForRequest()) continue;
    const std::size_t holds = servingFrom(load, entry.address);
    if (holds < victimHolds) continue;
    if (holds > victimHolds || victim == 0 || session->waitingSince() < victimSince) {
      victim = id;
      victimHolds = holds;
      victimSince = session->waitingSince();
    }
  }
  if (victim == 0) return false;
  auto session = sessions_.at(victim).session.lock();
  detach(victim);
  ++stats.evicted;
  session->abort();
  return true;
}

std::uint64_t ServerCore::attach(std::weak_ptr<SessionBase> session, const ConnectionInfo& info, Admission admission) {
  const auto id = nextId_++;
  Entry entry{std::move(session), info.listener(), info.local ? std::string() : info.peerAddress, admission};
  Load& load = loadOf(entry.listener);
  if (admission == Admission::Serve) {
    ++load.serving;
    ++load.servingFrom[entry.address];
  } else if (admission == Admission::RejectBusy) {
    ++load.rejecting;
  }
  sessions_.emplace(id, std::move(entry));
  return id;
}

void ServerCore::detach(std::uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  const Entry& entry = it->second;
  Load& load = loadOf(entry.listener);
  if (entry.admission == Admission::Serve) {
    if (load.serving > 0) --load.serving;
    auto from = load.servingFrom.find(entry.address);
    if (from != load.servingFrom.end() && --from->second == 0) load.servingFrom.erase(from);
  } else if (entry.admission == Admission::RejectBusy && load.rejecting > 0) {
    --load.rejecting;
  }
  sessions_.erase(it);
}

std::size_t ServerCore::serving() const {
  std::size_t total = 0;
  for (const auto& load : load_) total += load.serving;
  return total;
}

void ServerCore::abortAll() {
  std::vector<std::shared_ptr<SessionBase>> open;  // abort() may end a session, which detaches it
  for (auto& [id, entry] : sessions_)
    if (auto s = entry.session.lock()) open.push_back(std::move(s));
  for (auto& s : open) s->abort();
}

}  // namespace detail

// ------------------------------------------------------------------------------------------------
// WsmanHttpServer
// ------------------------------------------------------------------------------------------------

WsmanHttpServer::WsmanHttpServer(asio::io_context& io, platform::PlatformModel& platform, WsmanHttpOptions options)
    : core_(std::make_shared<detail::ServerCore>(io, platform, std::move(options))), http_(io), https_(io), httpPause_(io), httpsPause_(io) {}

WsmanHttpServer::~WsmanHttpServer() {
  *self_ = nullptr;
  stop();
}

void WsmanHttpServer::setHandler(WsmanHandler handler) { core_->handler = std::move(handler); }

void WsmanHttpServer::setAnonymousPredicate(AnonymousPredicate predicate) {
  core_->allowsAnonymous = std::move(predicate);
}

void WsmanHttpServer::setExtraPaths(std::vector<std::string> paths) { core_->extraPaths = std::move(paths); }

void WsmanHttpServer::setWebSocket(std::string path, WebSocketService service) {
  core_->webSockets.insert_or_assign(std::move(path), std::move(service));
}

void WsmanHttpServer::setWebService(WebService service) { core_->web = std::move(service); }

Result<> WsmanHttpServer::start() {
  if (started_) return fail("the WS-Man server is already started");
  const auto& o = core_->options;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(o.listenAddress, ec);
  if (ec) return fail("bad WS-Man listen address '" + o.listenAddress + "'");
  const bool tlsInline = o.httpsPort >= 0 && !o.runBlocking;
  tlsState_ = TlsState::Loading;
  if (tlsInline) {
    auto loaded = loadTlsIdentity(tlsSource());
    if (!loaded) return fail("TLS certificate: " + loaded.error().message);
    if (!*loaded && !o.makeTlsIdentityOnFirstUse) {
      auto made = createTlsIdentity(tlsSource());
      if (!made) return fail("TLS certificate: " + made.error().message);
      loaded = std::optional(std::move(*made));
    }
    if (*loaded) {
      if (auto r = useTlsIdentity(**loaded); !r) return r;
    }
  }
  if (o.httpPort >= 0) {
    if (auto r = openListener(http_, address, o.httpPort, "WS-Man HTTP"); !r) return stop(), r;
  }
  if (o.httpsPort >= 0) {
    if (auto r = openListener(https_, address, o.httpsPort, "WS-Man HTTPS"); !r) return stop(), r;
  }
  started_ = true;
  core_->stopped = false;
  if (http_.is_open()) accept(http_, httpPause_, false);
  if (https_.is_open()) accept(https_, httpsPause_, true);  // handshakes wait for the certificate where need be
  if (o.httpsPort < 0) {
    tlsState_ = TlsState::Failed;
    tlsError_ = "there is no TLS listener";
  } else if (tlsInline) {
    tlsLoaded(std::optional<TlsIdentity>());  // in place or absent already
  } else {
    // Off the loop: loading is quick, but making a key is not.
    auto& io = core_->io;
    o.runBlocking([source = tlsSource(), onFirstUse = o.makeTlsIdentityOnFirstUse, self = self_, &io] {
      auto loaded = loadTlsIdentity(source);
      if (loaded && !*loaded && !onFirstUse) {
        auto made = createTlsIdentity(source);
        if (made)
          loaded = std::optional(std::move(*made));
        else
          loaded = made.error();
      }
      asio::post(io, [self, loaded = std::move(loaded)]() mutable {
        if (*self == nullptr) return;  // the server is gone
        auto& server = **self;
        if (!server.core_->stopped) server.tlsLoaded(std::move(loaded));
      });
    });
  }
  const auto p = ports();
  MESIM_LOG(Info, kLog, "WS-Man listening on " << o.listenAddress << (p.http ? " http:" + std::to_string(p.http) : "")
                                               << (p.https ? " https:" + std::to_string(p.https) : ""));
  return {};
}

void WsmanHttpServer::tlsLoaded(Result<std::optional<TlsIdentity>> loaded) {
  Result<> settled;
  if (!loaded)
    settled = fail("TLS certificate: " + loaded.error().message);
  else if (*loaded)
    settled = useTlsIdentity(**loaded);
  if (!settled) {
    MESIM_LOG(Error, kLog, settled.error().message);
    tlsState_ = TlsState::Failed;
    tlsError_ = settled.error().message;
  } else {
    tlsState_ = core_->tls ? TlsState::InPlace : TlsState::Absent;
  }
  auto waiters = std::move(settledWaiters_);
  for (auto& waiter : waiters) waiter(settled);
  if (tlsState_ == TlsState::Absent && !identityWaiters_.empty()) return makeTlsIdentity();
  if (tlsState_ != TlsState::Absent) tlsIdentityOutcome(tlsState_ == TlsState::InPlace ? Result<>() : tlsFailure());
}

void WsmanHttpServer::whenTlsSettled(TlsOutcome done) {
  if (tlsState_ == TlsState::Loading) return settledWaiters_.push_back(std::move(done));
  // Without a TLS listener there is nothing to settle.
  Result<> outcome = tlsState_ == TlsState::Failed && core_->options.httpsPort >= 0 ? tlsFailure() : Result<>();
  asio::post(core_->io, [done = std::move(done), outcome = std::move(outcome)] { done(outcome); });
}

void WsmanHttpServer::withTlsIdentity(TlsOutcome done) {
  if (tlsState_ == TlsState::InPlace || tlsState_ == TlsState::Failed) {
    asio::post(core_->io, [done = std::move(done),
                           outcome = tlsState_ == TlsState::Failed ? tlsFailure() : Result<>()] { done(outcome); });
    return;
  }
  identityWaiters_.push_back(std::move(done));
  if (tlsState_ == TlsState::Absent) makeTlsIdentity();
}

void WsmanHttpServer::makeTlsIdentity() {
  tlsState_ = TlsState::Making;
  const auto& o = core_->options;
  MESIM_LOG(Info, kLog, "making the TLS certificate on first use");
  auto finish = [this](Result<TlsIdentity> made) {
    Result<> outcome = made ? useTlsIdentity(*made) : fail("TLS certificate: " + made.error().message);
    // A full state disk (an injected fault) passes: the next use after it cleared tries again.
    const bool diskFull = core_->options.disk && core_->options.disk->full();
    tlsState_ = outcome ? TlsState::InPlace : diskFull ? TlsState::Absent : TlsState::Failed;
    tlsError_ = errorOf(outcome);
    if (!outcome) MESIM_LOG(Error, kLog, tlsError_);
    tlsIdentityOutcome(outcome);
  };
  if (!o.runBlocking) {
    auto made = createTlsIdentity(tlsSource());
    asio::post(core_->io, [this, self = self_, made = std::move(made), finish]() mutable {
      if (*self != nullptr && !core_->stopped) finish(std::move(made));
    });
    return;
  }
  auto& io = core_->io;
  o.runBlocking([source = tlsSource(), self = self_, &io, finish] {
    auto made = createTlsIdentity(source);
    asio::post(io, [self, made = std::move(made), finish]() mutable {
      if (*self != nullptr && !(*self)->core_->stopped) finish(std::move(made));
    });
  });
}

void WsmanHttpServer::tlsIdentityOutcome(const Result<>& outcome) {
  auto waiters = std::move(identityWaiters_);
  for (auto& waiter : waiters) waiter(outcome);
}

TlsIdentitySource WsmanHttpServer::tlsSource() const {
  const auto& o = core_->options;
  auto& platform = core_->platform;
  TlsIdentitySource source;
  source.stateDir = o.stateDir;
  source.certFile = o.tlsCertFile;
  source.keyFile = o.tlsKeyFile;
  source.commonName = platform.fqdn();
  source.dnsNames = {platform.fqdn(), "localhost"};
  source.ipAddresses = {"127.0.0.1", "::1"};
  source.log = platform.logContext();
  source.disk = o.disk;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(o.listenAddress, ec);
  if (!ec && !address.is_unspecified() && !address.is_loopback()) source.ipAddresses.push_back(address.to_string());
  return source;
}

Result<> WsmanHttpServer::useTlsIdentity(const TlsIdentity& identity) {
  auto& platform = core_->platform;
  auto context = makeTlsServerContext(identity);
  if (!context) return context.error();
  core_->tls = std::move(*context);
  // StartConfigurationHBased reports this hash (platform_state.h: amtCertHash).
  if (platform.state().amtCertHash != identity.sha256 ||
      platform.state().amtCertHashAlgorithm != platform::HashAlgorithm::Sha256) {
    if (auto r = platform.setAmtCertificateHash(platform::HashAlgorithm::Sha256, identity.sha256);
        r != platform::ChangeResult::Ok)
      MESIM_LOG(Warn, kLog, "cannot store the TLS certificate hash: " << platform::toString(r));
  }
  return {};
}

void WsmanHttpServer::stop() {
  core_->stopped = true;
  boost::system::error_code ignored;
  http_.close(ignored);
  https_.close(ignored);
  httpPause_.cancel();
  httpsPause_.cancel();
  core_->abortAll();
  identityWaiters_.clear();  // their sockets close; nobody is told
  heldHandshakes_ = 0;
  started_ = false;
}

WsmanHttpPorts WsmanHttpServer::ports() const { return {boundPort(http_), boundPort(https_)}; }

void WsmanHttpServer::accept(tcp::acceptor& acceptor, asio::steady_timer& pause, bool tls) {
  acceptor.async_accept([this, &acceptor, &pause, tls, core = core_](boost::system::error_code ec, tcp::socket socket) {
    if (core->stopped || ec == asio::error::operation_aborted) return;  // `this` may be gone: touch nothing
    if (ec) {
      // Out of descriptors (EMFILE, ENFILE) and the like: wait a little instead of spinning on a failing accept.
      ++core_->stats.acceptErrors;
      MESIM_LOG(Warn, kLog, "accepting a WS-Man connection failed: " << ec.message() << "; retrying shortly");
      return pauseAccepting(acceptor, pause, tls);
    }
    if (descriptors::intoReserve(socket.native_handle(), core_->options.descriptorReserve)) {
      // Closing it and pausing leaves the next clients in the listen backlog until descriptors are free again.
      ++core_->stats.descriptorsShort;
      MESIM_LOG(Warn, kLog, "closed a WS-Man connection at once: the last " << core_->options.descriptorReserve
                                << " file descriptors are kept for the firmware");
      boost::system::error_code ignored;
      socket.close(ignored);
      return pauseAccepting(acceptor, pause, tls);
    }
    startSession(std::move(socket), tls);
    accept(acceptor, pause, tls);
  });
}

void WsmanHttpServer::pauseAccepting(tcp::acceptor& acceptor, asio::steady_timer& pause, bool tls) {
  pause.expires_after(kAcceptPause);
  pause.async_wait([this, &acceptor, &pause, tls, core = core_](boost::system::error_code ec) {
    if (!ec && !core->stopped) accept(acceptor, pause, tls);
  });
}

void WsmanHttpServer::startSession(tcp::socket socket, bool tls) {
  // Before provisioning completes AMT serves only the host's local (LMS) path: its network ports are shut. Closed
  // before any TLS, so a factory-state device makes no key for it.
  if (core_->platform.provisioningState() != platform::ProvisioningState::Post) {
    ++core_->stats.notProvisioned;
    return;
  }
  detail::ConnectionInfo info;
  info.peerAddress = peerAddress(socket);
  if (info.peerAddress.empty()) return;  // already gone
  info.tls = tls;
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  if (tls && !core_->tls) {
    // No certificate yet: the handshake waits for it, up to the connection cap.
    const auto cap = core_->options.maxConnections;
    if (cap != 0 && heldHandshakes_ >= cap) return;  // closes
    ++heldHandshakes_;
    auto held = std::make_shared<tcp::socket>(std::move(socket));
    withTlsIdentity([this, held, info = std::move(info)](const Result<>& outcome) mutable {
      if (heldHandshakes_ > 0) --heldHandshakes_;
      if (outcome) serveStream(asio::ssl::stream<tcp::socket>(std::move(*held), *core_->tls), std::move(info));
    });
    return;
  }
  if (tls)
    serveStream(asio::ssl::stream<tcp::socket>(std::move(socket), *core_->tls), std::move(info));
  else
    serveStream(std::move(socket), std::move(info));
}

}  // namespace mesim::wsman::http
