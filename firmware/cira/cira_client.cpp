#include "firmware/cira/cira_client.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <deque>
#include <limits>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include "firmware/cira/apf_stream.h"
#include "firmware/lme/apf_codec.h"

namespace mesim::cira {

namespace asio = boost::asio;
using asio::ip::tcp;
using platform::CiraTrigger;
using time_point = core::FirmwareClock::time_point;
using hbm::Bytes;

namespace {

constexpr const char* kLog = "cira";
constexpr time_point kForever = time_point::max();

// The first firmware-clock instant at or after `after` when AMT's clock (firmware clock + `amtOffset` seconds, UTC)
// reads hour:minute.
time_point nextDailyCall(time_point after, std::int64_t amtOffset, std::uint32_t hour, std::uint32_t minute) {
  using std::chrono::seconds;
  constexpr std::int64_t kDay = 24 * 3600;
  const std::int64_t amtNow =
      std::chrono::duration_cast<seconds>(after.time_since_epoch()).count() + amtOffset +
      (after.time_since_epoch() % seconds(1) != time_point::duration::zero() ? 1 : 0);  // the next whole second
  const std::int64_t midnight = amtNow - ((amtNow % kDay) + kDay) % kDay;
  std::int64_t at = midnight + hour * 3600 + minute * 60;
  if (at < amtNow) at += kDay;
  return time_point(seconds(at - amtOffset));
}

// AMTHI GetRemoteAccessConnectionStatus's trigger codes (0 user, 1 alert, 2 provisioning, 3 periodic) and the APF
// PROTOCOLVERSION trigger reasons (spec/apf.md §1.2).
std::uint32_t amthiTrigger(CiraTrigger t) {
  switch (t) {
    case CiraTrigger::UserInitiated: return 0;
    case CiraTrigger::Alert: return 1;
    case CiraTrigger::Periodic: return 3;
  }
  return 0;
}
lme::apf::TriggerReason apfTrigger(CiraTrigger t) {
  switch (t) {
    case CiraTrigger::UserInitiated: return lme::apf::TriggerReason::UserInitiated;
    case CiraTrigger::Alert: return lme::apf::TriggerReason::Alert;
    case CiraTrigger::Periodic: return lme::apf::TriggerReason::Periodic;
  }
  return lme::apf::TriggerReason::UserInitiated;
}

std::string disconnectReasonName(std::uint32_t reason) {
  static const char* const names[] = {"",
                                      "HOST_NOT_ALLOWED_TO_CONNECT",
                                      "PROTOCOL_ERROR",
                                      "KEY_EXCHANGE_FAILED",
                                      "RESERVED",
                                      "MAC_ERROR",
                                      "COMPRESSION_ERROR",
                                      "SERVICE_NOT_AVAILABLE",
                                      "PROTOCOL_VERSION_NOT_SUPPORTED",
                                      "HOST_KEY_NOT_VERIFIABLE",
                                      "CONNECTION_LOST",
                                      "BY_APPLICATION",
                                      "TOO_MANY_CONNECTIONS",
                                      "AUTH_CANCELLED_BY_USER",
                                      "NO_MORE_AUTH_METHODS_AVAILABLE",
                                      "INVALID_CREDENTIALS",
                                      "CONNECTION_TIMED_OUT",
                                      "BY_POLICY",
                                      "TEMPORARILY_UNAVAILABLE"};
  if (reason < std::size(names) && reason != 0) return std::string(names[reason]) + " (" + std::to_string(reason) + ")";
  return std::to_string(reason);
}

// Environment detection (AMT_EnvironmentDetectionSettingData, the same reading System Defense makes): outside the
// enterprise when detection strings are set and AMT's domain matches none of them. With no strings AMT is at home,
// which is why consoles set a random string to have CIRA used (MeshCentral's AMT manager does).
bool insideEnterprise(const platform::PlatformState& s) {
  return !platform::sdOutsideEnterprise(s.systemDefense, s.domainName);
}

}  // namespace

lme::ApfSessionOptions tunnelSessionOptions(const std::vector<std::uint32_t>& forwardPorts, std::uint32_t channelWindow) {
  lme::ApfSessionOptions apf;
  apf.awaitHostVersion = false;  // an MPS never answers PROTOCOLVERSION (cira.md §2)
  apf.authenticate = true;
  apf.channelsBeforePfwd = true;
  apf.forwardPorts = forwardPorts;
  for (auto port : forwardPorts)
    if (port != lme::kPortHttp && port != lme::kPortHttps) apf.extraChannelPorts.push_back(port);
  apf.maxMessageLength = channelWindow + static_cast<std::uint32_t>(lme::apf::kChannelDataHeaderSize);
  apf.maxDataPayload = 16 * 1024;  // no MEI message limit here; MeshCentral's window is 32 KiB
  apf.channelWindow = channelWindow;
  apf.maxChannels = 32;
  apf.maxBufferedFromHost = 1024 * 1024;
  apf.logTag = kLog;
  return apf;
}

const char* tunnelStateName(TunnelState state) {
  switch (state) {
    case TunnelState::Disconnected: return "disconnected";
    case TunnelState::Connecting: return "connecting";
    case TunnelState::Connected: return "connected";
  }
  return "?";
}

const char* triggerName(CiraTrigger trigger) {
  switch (trigger) {
    case CiraTrigger::UserInitiated: return "user-initiated";
    case CiraTrigger::Alert: return "alert";
    case CiraTrigger::Periodic: return "periodic";
  }
  return "?";
}

// One TLS connection to an MPS and the APF session over it. The session sees a ClientConnection (Link) whose
// messages are written to the stream in order; bytes from the MPS are cut into messages (ApfStreamReader).
class CiraClient::Tunnel final : public std::enable_shared_from_this<Tunnel> {
 public:
  // What the session holds of the tunnel: a weak reference, so the tunnel (which holds the session) and the
  // session never keep each other alive.
  class Link final : public firmware::ClientConnection {
   public:
    Link(std::weak_ptr<Tunnel> tunnel, std::uint64_t id) : tunnel_(std::move(tunnel)), id_(id) {}
    void send(Bytes message) override {
      if (auto t = tunnel_.lock()) t->send(std::move(message));
    }
    void notify() override {}
    void disconnect() override {
      if (auto t = tunnel_.lock()) t->closeAfterWrites();
    }
    void pauseReceive() override {
      if (auto t = tunnel_.lock()) t->paused_ = true;
    }
    void resumeReceive() override {
      if (auto t = tunnel_.lock()) t->resume();
    }
    bool isOpen() const override {
      auto t = tunnel_.lock();
      return t && t->stage_ != Stage::Ended;
    }
    std::uint8_t hostAddress() const override { return 0; }
    std::uint64_t id() const override { return id_; }

   private:
    std::weak_ptr<Tunnel> tunnel_;
    std::uint64_t id_;
  };

  enum class Stage { Resolving, Connecting, Handshaking, Apf, Ended };

  Tunnel(CiraClient& owner, std::shared_ptr<asio::ssl::context> tls, std::uint64_t id)
      : owner_(owner), io_(owner.io_), alive_(owner.alive_), tls_(std::move(tls)), resolver_(owner.io_),
        stream_(owner.io_, *tls_), id_(id) {}

  void send(Bytes message) {
    if (stage_ == Stage::Ended) return;
    writes_.push_back(std::move(message));
    pumpWrites();
  }
  void resume() {
    if (!paused_) return;
    paused_ = false;
    readMore();
  }

  const log::Context& logContext() const { return owner_.options_.log; }
  Stage stage() const { return stage_; }
  lme::ApfSession* session() const { return session_.get(); }

  void begin(const platform::MpsServer& server, lme::ApfSessionOptions apf) {
    host_ = server.accessInfo;
    port_ = std::to_string(server.port);
    // The name the certificate must carry: the CN AddMpServer was given, else the host AMT calls.
    expectedName_ = server.commonName.empty() ? server.accessInfo : server.commonName;
    apfOptions_ = std::move(apf);
    stage_ = Stage::Resolving;
    resolver_.async_resolve(host_, port_, [self = shared_from_this()](boost::system::error_code ec,
                                                                      tcp::resolver::results_type results) {
      if (!self->live()) return;
      if (ec) return self->fail("cannot resolve " + self->host_ + ": " + ec.message());
      self->stage_ = Stage::Connecting;
      auto& socket = self->stream_.next_layer();
      if (!self->owner_.options_.localAddress.empty()) {
        boost::system::error_code bindEc;
        auto local = asio::ip::make_address(self->owner_.options_.localAddress, bindEc);
        if (!bindEc) socket.open(local.is_v4() ? tcp::v4() : tcp::v6(), bindEc);
        if (!bindEc) socket.bind(tcp::endpoint(local, 0), bindEc);
        if (bindEc) return self->fail("cannot connect from " + self->owner_.options_.localAddress + ": " + bindEc.message());
      }
      asio::async_connect(socket, results, [self](boost::system::error_code ec, const tcp::endpoint&) {
        if (!self->live()) return;
        if (ec) return self->fail("connect to " + self->where() + ": " + ec.message());
        boost::system::error_code ignored;
        self->stream_.next_layer().set_option(tcp::no_delay(true), ignored);
        self->handshake();
      });
    });
  }

  // Ends the connection now; no callback to the owner.
  void abandon() {
    stage_ = Stage::Ended;
    boost::system::error_code ignored;
    resolver_.cancel();
    stream_.next_layer().close(ignored);
    releaseSession();
  }

  // The DISCONNECT (if any) goes out first, then TLS is closed.
  void closeAfterWrites() {
    closing_ = true;
    if (!writing_) shutdown();
  }

  std::string where() const { return host_ + ":" + port_; }

 private:
  bool live() const { return *alive_ && stage_ != Stage::Ended; }

  // Once the tunnel ended the session goes, later (it may be on the stack that got here).
  void releaseSession() {
    if (!session_) return;
    session_->end();
    asio::post(io_, [session = std::move(session_)] {});
  }
  // A tunnel the client already let go of (closed, timed out) reports nothing more.
  bool current() const { return *alive_ && owner_.tunnel_.get() == this; }

  void handshake() {
    stage_ = Stage::Handshaking;
    SSL* ssl = stream_.native_handle();
    // SNI with the expected name, and OpenSSL's own host check against it (verify result HOSTNAME_MISMATCH).
    if (!expectedName_.empty()) {
      SSL_set_tlsext_host_name(ssl, expectedName_.c_str());
      X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), expectedName_.c_str(), expectedName_.size());
    }
    stream_.set_verify_mode(asio::ssl::verify_peer);
    stream_.async_handshake(asio::ssl::stream_base::client, [self = shared_from_this()](boost::system::error_code ec) {
      if (!self->live()) return;
      if (ec) {
        const long verify = SSL_get_verify_result(self->stream_.native_handle());
        std::string why = verify != X509_V_OK ? std::string("the MPS certificate is not trusted: ") +
                                                    X509_verify_cert_error_string(verify) + " (expected " +
                                                    self->expectedName_ + ", chained to an AMT trusted root)"
                                              : ec.message();
        return self->fail("TLS handshake with " + self->where() + ": " + why);
      }
      self->startApf();
    });
  }

  void startApf() {
    stage_ = Stage::Apf;
    session_ = std::make_shared<lme::ApfSession>(std::make_shared<Link>(weak_from_this(), id_), apfOptions_,
                                                 owner_.channels_);
    session_->start();
    readMore();
    if (current()) owner_.onTunnelProgress();
  }

  void readMore() {
    if (reading_ || paused_ || stage_ != Stage::Apf || closing_) return;
    reading_ = true;
    stream_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      self->reading_ = false;
      if (!self->live()) return;
      if (ec) {
        const bool eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
        return self->fail(eof ? "the MPS closed the connection" : "connection to the MPS lost: " + ec.message());
      }
      self->owner_.lastHeard_ = self->owner_.timers_.now();
      self->inbox_.append(hbm::ByteView(self->buffer_.data(), n));
      if (!self->deliver()) return;
      self->readMore();
    });
  }

  // Hands every whole message read so far to the session; false once the tunnel ended.
  bool deliver() {
    while (stage_ == Stage::Apf && !closing_ && session_->state() != lme::ApfSession::State::Closed) {
      hbm::ByteView message;
      const auto outcome = inbox_.next(message);
      if (outcome == ApfStreamReader::Outcome::NeedMore) break;
      if (outcome != ApfStreamReader::Outcome::Message) {
        // Every MPS closes on a type it does not know (cira.md §2); the stream cannot be resynchronised.
        fail(inbox_.error());
        return false;
      }
      session_->onHostMessage(message);
      if (current()) owner_.onTunnelProgress();
      if (!live()) return false;
    }
    return live();
  }

  void pumpWrites() {
    if (writing_ || writes_.empty() || stage_ != Stage::Apf) return;
    writing_ = true;
    auto message = std::make_shared<Bytes>(std::move(writes_.front()));
    writes_.pop_front();
    asio::async_write(stream_, asio::buffer(*message),
                      [self = shared_from_this(), message](boost::system::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (!self->live()) return;
                        if (ec) return self->fail("connection to the MPS lost: " + ec.message());
                        if (!self->writes_.empty()) return self->pumpWrites();
                        if (self->closing_) self->shutdown();
                      });
  }

  void shutdown() {
    if (stage_ == Stage::Ended) return;
    stage_ = Stage::Ended;
    releaseSession();
    // A TLS close_notify, then the socket; the MPS may not answer it, so no waiting for one.
    stream_.async_shutdown([self = shared_from_this()](boost::system::error_code) {
      boost::system::error_code ignored;
      self->stream_.next_layer().close(ignored);
    });
    auto self = shared_from_this();
    asio::post(io_, [self] {
      boost::system::error_code ignored;
      self->stream_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  void fail(const std::string& why) {
    if (stage_ == Stage::Ended) return;
    stage_ = Stage::Ended;
    boost::system::error_code ignored;
    stream_.next_layer().close(ignored);
    releaseSession();
    if (*alive_ && current()) owner_.onTunnelEnded(why, false);
  }

  CiraClient& owner_;
  asio::io_context& io_;
  std::shared_ptr<bool> alive_;
  std::shared_ptr<asio::ssl::context> tls_;
  tcp::resolver resolver_;
  asio::ssl::stream<tcp::socket> stream_;
  std::uint64_t id_;
  Stage stage_ = Stage::Resolving;
  std::string host_, port_, expectedName_;
  lme::ApfSessionOptions apfOptions_;
  std::shared_ptr<lme::ApfSession> session_;
  std::deque<Bytes> writes_;
  bool writing_ = false;
  bool closing_ = false;
  bool reading_ = false;
  bool paused_ = false;
  std::array<std::uint8_t, 16 * 1024> buffer_{};
  ApfStreamReader inbox_;
};

CiraClient::CiraClient(asio::io_context& io, core::FirmwareTimerQueue& timers, platform::PlatformModel& platform,
                       lme::ChannelPeerFactory channels, TlsContextFactory tls, CiraClientOptions options)
    : io_(io), timers_(timers), platform_(platform), channels_(std::move(channels)), tls_(std::move(tls)),
      options_(std::move(options)) {}

CiraClient::~CiraClient() { stop(); }

void CiraClient::start() {
  if (started_) return;
  started_ = true;
  // A tunnel does not outlive the process: whatever the state file says, there is none now.
  publish();
  subscription_ = platform_.subscribe([this] { reconsiderSoon(); });
  reconsiderSoon();
}

void CiraClient::stop() {
  if (!started_) return;
  started_ = false;
  *alive_ = false;
  platform_.unsubscribe(subscription_);
  if (tunnel_) tunnel_->abandon();
  tunnel_.reset();
  for (auto* id : {&retryTimer_, &keepaliveTimer_, &lifetimeTimer_, &handshakeTimer_, &periodicTimer_}) cancel(*id);
}

void CiraClient::cancel(core::FirmwareTimerQueue::TimerId& id) {
  if (id) timers_.cancel(id);
  id = 0;
}

void CiraClient::alertRaised() {
  if (!started_) return;
  for (const auto& policy : platform::ciraPolicies(platform_.state())) {
    if (policy.trigger != CiraTrigger::Alert) continue;
    alertUntil_ = policy.tunnelLifeTime ? timers_.now() + std::chrono::seconds(policy.tunnelLifeTime) : kForever;
    MESIM_LOG(Info, kLog, "an alert triggers the CIRA tunnel");
    reconsiderSoon();
  }
}

// Platform observers run inside a change; reconsidering may make one (a user-initiated tunnel's lifetime ends), so
// it runs from the loop, once per batch of changes.
void CiraClient::reconsiderSoon() {
  if (reconsiderPosted_ || !started_) return;
  reconsiderPosted_ = true;
  asio::post(io_, [this, alive = alive_] {
    if (!*alive) return;
    reconsiderPosted_ = false;
    reconsider();
  });
}

void CiraClient::schedulePeriodic(const platform::PlatformState& s) {
  std::optional<platform::CiraPolicy> periodic;
  for (auto& policy : platform::ciraPolicies(s))
    if (policy.trigger == CiraTrigger::Periodic && policy.periodic) periodic = std::move(policy);
  using Kind = platform::PeriodicSchedule::Kind;
  std::string key;
  if (periodic) {
    const auto& when = *periodic->periodic;
    key = when.kind == Kind::Interval
              ? "every " + std::to_string(when.intervalSeconds)
              // AMT's clock moving (a console's time sync) moves the daily call with it.
              : "daily " + std::to_string(when.hour) + ":" + std::to_string(when.minute) + " offset " +
                    std::to_string(s.amtClockOffset);
    key += " for " + std::to_string(periodic->tunnelLifeTime);
  }
  if (key == periodicKey_) return;  // the same schedule goes on
  periodicKey_ = key;
  cancel(periodicTimer_);
  periodicUntil_.reset();
  periodicDue_.reset();
  if (!periodic) return;
  // At each call a tunnel for the rule's lifetime (0: for as long as the rule stands, so there is no next call).
  const platform::PeriodicSchedule when = *periodic->periodic;
  const std::uint32_t lifetime = periodic->tunnelLifeTime;
  const std::int64_t amtOffset = s.amtClockOffset;
  auto nextCall = [when, amtOffset](time_point now) {
    if (when.kind == Kind::Interval) return now + std::chrono::seconds(std::max<std::uint32_t>(1, when.intervalSeconds));
    return nextDailyCall(now + std::chrono::seconds(1), amtOffset, when.hour, when.minute);  // tomorrow's, not now
  };
  auto due = std::make_shared<std::function<void()>>();
  *due = [this, lifetime, nextCall, due = std::weak_ptr<std::function<void()>>(due)] {
    periodicTimer_ = 0;
    const auto now = timers_.now();
    periodicUntil_ = lifetime ? now + std::chrono::seconds(lifetime) : kForever;
    if (lifetime)
      if (auto next = due.lock()) periodicTimer_ = timers_.schedule(nextCall(now), *next);
    reconsiderSoon();
  };
  periodicDue_ = due;  // keeps the recurring callback alive
  // Every N seconds calls at once; a daily rule waits for its time.
  if (when.kind == Kind::Interval)
    (*due)();
  else
    periodicTimer_ = timers_.schedule(nextDailyCall(timers_.now(), amtOffset, when.hour, when.minute), *due);
}

std::optional<CiraClient::Want> CiraClient::wanted(const platform::PlatformState& s) const {
  if (s.provisioningState != platform::ProvisioningState::Post) return std::nullopt;
  const bool inside = insideEnterprise(s);
  const auto now = timers_.now();
  std::optional<Want> best;
  auto consider = [&](const platform::CiraPolicy& policy) {
    Want want{policy.trigger, policy.tunnelLifeTime, {}};
    for (const auto& server : policy.servers) {
      const bool reachable = server.reach == platform::MpsReach::Both ||
                             (inside ? server.reach == platform::MpsReach::Internal
                                     : server.reach == platform::MpsReach::External);
      if (reachable) want.servers.push_back(server);
    }
    if (!want.servers.empty() && !best) best = std::move(want);
  };
  const auto policies = platform::ciraPolicies(s);
  // A user's request first, then an alert, then the periodic schedule.
  for (const auto& p : policies)
    if (p.trigger == CiraTrigger::UserInitiated && s.remoteAccess.userInitiatedConnectionRequested &&
        (!userUntil_ || now < *userUntil_))
      consider(p);
  for (const auto& p : policies)
    if (p.trigger == CiraTrigger::Alert && alertUntil_ && now < *alertUntil_) consider(p);
  for (const auto& p : policies)
    if (p.trigger == CiraTrigger::Periodic && periodicUntil_ && now < *periodicUntil_) consider(p);
  return best;
}

void CiraClient::reconsider() {
  if (!started_) return;
  const auto& s = platform_.state();
  if (const bool inside = insideEnterprise(s); inside != status_.insideEnterprise) {
    status_.insideEnterprise = inside;
    publish();  // AMTHI's networkStatus
  }
  schedulePeriodic(s);
  if (!s.remoteAccess.userInitiatedConnectionRequested) userUntil_.reset();
  auto want = wanted(s);

  if (tunnel_) {
    bool keep = false;
    if (want)
      for (const auto& server : want->servers) keep = keep || server.server->name == tunnelServer_;
    if (keep) {
      // The trigger may change under a standing tunnel (a user's request while the periodic one is up).
      if (status_.trigger != want->trigger) {
        status_.trigger = want->trigger;
        publish();
      }
      return;
    }
    MESIM_LOG(Info, kLog, "no policy wants the tunnel to " << status_.mps << " any more; closing it");
    closeTunnel("");
  }
  if (!want) {
    if (status_.nextAttempt && !retryTimer_) status_.nextAttempt.reset();
    return;
  }
  if (!retryDue_) return;  // backing off; the retry timer reconsiders
  connect(*want);
}

void CiraClient::connect(const Want& want) {
  const auto& candidate = want.servers[serverIndex_ % want.servers.size()];
  const platform::MpsServer& server = *candidate.server;
  ++status_.attempts;
  status_.state = TunnelState::Connecting;
  status_.trigger = want.trigger;
  status_.mps = server.accessInfo + ":" + std::to_string(server.port);
  status_.nextAttempt.reset();
  tunnelServer_ = server.name;
  tunnelLifeTime_ = want.tunnelLifeTime;
  publish();

  std::vector<std::string> roots;
  for (const auto& c : platform_.state().certificates)
    if (c.trustedRoot) roots.push_back(c.x509);
  auto context = tls_ ? tls_(roots) : Result<std::shared_ptr<asio::ssl::context>>(fail("no TLS"));
  if (!context) return onTunnelEnded("no TLS context for the MPS: " + context.error().message, false);
  if (server.authMethod != 2) {
    // Mutual TLS would need a client certificate AMT holds for the MPS; mesim calls with username/password only.
    return onTunnelEnded("AuthMethod " + std::to_string(server.authMethod) +
                             " (mutual TLS) is not supported by mesim's CIRA; configure username/password (2)",
                         false);
  }

  lme::ApfSessionOptions apf = tunnelSessionOptions(options_.forwardPorts, options_.channelWindow);
  apf.uuid = lme::apf::uuidToWire(platform_.uuid());
  apf.triggerReason = static_cast<std::uint32_t>(apfTrigger(want.trigger));
  apf.authUser = server.username;
  apf.authPassword = server.password;
  apf.forwardAddress = platform_.fqdn();
  apf.log = options_.log;
  apf.onKeepaliveOptions = [this](std::uint32_t interval, std::uint32_t timeout) {
    // The MPS's wish wins over the default (MeshCentral asks 30 s after the 5900 forward, cira.md §2).
    if (interval > 0) {
      status_.keepaliveIntervalSeconds = interval;
      cancel(keepaliveTimer_);
      keepaliveTimer_ = timers_.scheduleAfter(std::chrono::seconds(interval), [this] { keepaliveTick(); });
    }
    return std::make_pair(interval, timeout);
  };
  apf.onKeepaliveReply = [this](std::uint32_t cookie) {
    if (keepaliveOutstanding_ && *keepaliveOutstanding_ == cookie) {
      keepaliveOutstanding_.reset();
      ++status_.keepalivesAnswered;
    }
  };

  MESIM_LOG(Info, kLog, "calling MPS " << status_.mps << " (" << triggerName(want.trigger) << ")");
  tunnel_ = std::make_shared<Tunnel>(*this, std::move(*context), status_.attempts);
  cancel(handshakeTimer_);
  handshakeTimer_ = timers_.scheduleAfter(options_.handshakeTimeout, [this] {
    handshakeTimer_ = 0;
    if (tunnel_ && status_.state == TunnelState::Connecting) {
      auto tunnel = std::move(tunnel_);
      const bool inApf = tunnel->session() != nullptr;
      tunnel->abandon();
      onTunnelEnded("no tunnel within " + std::to_string(options_.handshakeTimeout.count()) + " s (" +
                        (inApf ? "the APF handshake did not finish" : "connect or TLS did not finish") + ")",
                    false);
    }
  });
  tunnel_->begin(server, std::move(apf));
}

void CiraClient::onTunnelProgress() {
  if (!tunnel_ || !tunnel_->session()) return;
  auto* session = tunnel_->session();
  status_.openChannels = session->openChannels();
  status_.forwardedPorts = session->forwardedPorts();
  status_.channelsOpened = channelsBefore_ + session->stats().channelsOpened;
  if (session->state() == lme::ApfSession::State::Established && status_.state != TunnelState::Connected) {
    cancel(handshakeTimer_);
    status_.state = TunnelState::Connected;
    status_.connectedSince = timers_.now();
    status_.lastError.clear();
    ++status_.connects;
    failuresInRow_ = 0;
    lastHeard_ = timers_.now();
    keepaliveOutstanding_.reset();
    status_.keepaliveIntervalSeconds = static_cast<std::uint32_t>(options_.keepaliveInterval.count());
    cancel(keepaliveTimer_);
    keepaliveTimer_ = timers_.scheduleAfter(options_.keepaliveInterval, [this] { keepaliveTick(); });
    if (tunnelLifeTime_) {
      cancel(lifetimeTimer_);
      lifetimeTimer_ = timers_.scheduleAfter(std::chrono::seconds(tunnelLifeTime_), [this] {
        lifetimeTimer_ = 0;
        MESIM_LOG(Info, kLog, "the tunnel's lifetime of " << tunnelLifeTime_ << " s is over");
        if (status_.trigger == CiraTrigger::UserInitiated) userUntil_ = timers_.now();
        if (status_.trigger == CiraTrigger::Alert) alertUntil_.reset();
        closeTunnel("");
        reconsiderSoon();
      });
    }
    MESIM_LOG(Info, kLog, "CIRA tunnel to " << status_.mps << " is up (" << triggerName(*status_.trigger) << ")");
    publish();
    return;
  }
  if (session->state() == lme::ApfSession::State::Closed) {
    std::string why;
    if (session->authRefused())
      why = "the MPS refused the user name or password (USERAUTH_FAILURE)";
    else if (session->disconnectedByHost())
      why = "the MPS sent DISCONNECT " + disconnectReasonName(session->disconnectReason().value_or(0));
    else
      why = "APF protocol error with the MPS (DISCONNECT " + disconnectReasonName(session->disconnectReason().value_or(0)) + ")";
    auto tunnel = tunnel_;
    tunnel->closeAfterWrites();
    onTunnelEnded(why, false);
  }
}

void CiraClient::keepaliveTick() {
  keepaliveTimer_ = 0;
  if (!tunnel_ || status_.state != TunnelState::Connected) return;
  const auto interval = std::chrono::seconds(status_.keepaliveIntervalSeconds ? status_.keepaliveIntervalSeconds : 30);
  // Nothing heard for three intervals while a keep-alive is unanswered: the MPS or the path is gone.
  if (keepaliveOutstanding_ && timers_.now() - lastHeard_ >= 3 * interval) {
    auto tunnel = tunnel_;
    tunnel->abandon();
    return onTunnelEnded("no keep-alive reply from the MPS for " + std::to_string((3 * interval).count()) + " s", false);
  }
  if (!keepaliveOutstanding_) {
    keepaliveOutstanding_ = ++keepaliveCookie_;
    if (auto* session = tunnel_->session(); session && session->sendKeepalive(*keepaliveOutstanding_)) ++status_.keepalivesSent;
  }
  keepaliveTimer_ = timers_.scheduleAfter(interval, [this] { keepaliveTick(); });
}

void CiraClient::closeTunnel(const std::string& why) {
  if (!tunnel_) return;
  auto tunnel = std::move(tunnel_);
  if (tunnel->session() && tunnel->session()->state() != lme::ApfSession::State::Closed)
    tunnel->session()->disconnect(lme::apf::DisconnectReason::ByApplication);
  tunnel->closeAfterWrites();
  onTunnelEnded(why, true);
}

void CiraClient::onTunnelEnded(const std::string& why, bool asked) {
  const bool wasUp = status_.state == TunnelState::Connected;
  tunnel_.reset();
  for (auto* id : {&keepaliveTimer_, &lifetimeTimer_, &handshakeTimer_}) cancel(*id);
  keepaliveOutstanding_.reset();
  channelsBefore_ = status_.channelsOpened;
  status_.state = TunnelState::Disconnected;
  status_.connectedSince.reset();
  status_.openChannels = 0;
  status_.forwardedPorts.clear();
  if (!asked) {
    status_.lastError = why;
    if (wasUp) {
      ++status_.drops;
      MESIM_LOG(Warn, kLog, "CIRA tunnel to " << status_.mps << " lost: " << why);
    } else {
      ++status_.failures;
      MESIM_LOG(Warn, kLog, "CIRA connection to " << status_.mps << " failed: " << why);
    }
    // The next attempt calls the next server of the rule, after a back-off that grows with failures in a row. A
    // tunnel that was up is called again at once.
    ++serverIndex_;
    if (!wasUp) ++failuresInRow_;
    scheduleRetry();
  } else {
    status_.trigger.reset();
    if (!why.empty()) MESIM_LOG(Info, kLog, "CIRA tunnel to " << status_.mps << " closed: " << why);
    else MESIM_LOG(Info, kLog, "CIRA tunnel to " << status_.mps << " closed");
  }
  publish();
  reconsiderSoon();
}

void CiraClient::scheduleRetry() {
  cancel(retryTimer_);
  if (failuresInRow_ == 0) {
    retryDue_ = true;
    return;
  }
  // 2, 4, 8 ... s up to the maximum, plus up to 1 s set by the device's UUID, so a fleet that lost its MPS does not
  // call back all in the same instant.
  auto delay = options_.backoffFirst;
  for (unsigned i = 1; i < failuresInRow_ && delay < options_.backoffMax; ++i) delay *= 2;
  delay = std::min(delay, options_.backoffMax);
  const auto spread = std::chrono::milliseconds(platform_.uuid()[15] * 1000 / 256);
  retryDue_ = false;
  status_.nextAttempt = timers_.now() + delay + spread;
  retryTimer_ = timers_.schedule(*status_.nextAttempt, [this] {
    retryTimer_ = 0;
    retryDue_ = true;
    status_.nextAttempt.reset();
    reconsider();
  });
}

void CiraClient::publish() {
  platform::RemoteAccessStatus live = platform_.remoteAccess();
  live.networkStatus = status_.insideEnterprise ? 0 : 2;
  live.connectionStatus = status_.state == TunnelState::Connected    ? 2
                          : status_.state == TunnelState::Connecting ? 1
                                                                     : 0;
  live.trigger = status_.trigger ? amthiTrigger(*status_.trigger) : 0;
  live.mpsHostname = status_.state == TunnelState::Disconnected ? "" : status_.mps.substr(0, status_.mps.rfind(':'));
  platform_.setTunnelStatus(live);
}

}  // namespace mesim::cira
