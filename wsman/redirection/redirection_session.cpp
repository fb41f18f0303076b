#include "wsman/redirection/redirection_session.h"

#include <algorithm>

#include "firmware/platform/event_records.h"
#include "firmware/platform/host_power.h"
#include "wsman/redirection/kvm_redirection.h"

namespace mesim::wsman::redirection {

namespace {
constexpr const char* kLog = "redirection";
// AMT_RedirectionService.EnabledState: 32768 + 1 (IDER) + 2 (SOL); 32768 alone = both off.
constexpr std::uint32_t kEnabledStateSolBit = 2;
// ACL realms (AMT_AuthorizationService numbering, wsman/cim/realms.h): Redirection, and PT Administration, which
// holds every realm.
constexpr std::uint32_t kRealmRedirection = 2;
constexpr std::uint32_t kRealmPtAdministration = 3;

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  return out;
}
}  // namespace

const char* toString(RedirectionSession::State state) {
  switch (state) {
    case RedirectionSession::State::AwaitStart: return "await-start";
    case RedirectionSession::State::AwaitAuth: return "await-auth";
    case RedirectionSession::State::Authenticated: return "authenticated";
    case RedirectionSession::State::Sol: return "sol";
    case RedirectionSession::State::Ider: return "ider";
    case RedirectionSession::State::Kvm: return "kvm";
    case RedirectionSession::State::Ended: return "ended";
  }
  return "?";
}

// ------------------------------------------------------------------------------------------------
// RedirectionSession
// ------------------------------------------------------------------------------------------------

RedirectionSession::RedirectionSession(RedirectionService& service, Transport transport, std::string peerAddress,
                                       RedirectionSessionOptions options)
    : service_(&service),
      transport_(std::move(transport)),
      peer_(std::move(peerAddress)),
      options_(std::move(options)) {
  armSilence();
}

RedirectionSession::~RedirectionSession() { end("closed"); }

const log::Context& RedirectionSession::logContext() const {
  static const log::Context none;
  return service_ ? service_->logContext() : none;
}

void RedirectionSession::receive(std::span<const std::uint8_t> bytes) {
  if (state_ == State::Ended) return;
  armSilence();
  if (state_ == State::Kvm) return kvm_->receive(bytes);  // raw RFB from the login on
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  std::size_t at = 0;
  while (state_ != State::Ended && state_ != State::Kvm) {
    if (state_ == State::Ider) {  // the rest is IDE-R's (ider_codec.h)
      auto rest = std::move(buffer_);
      buffer_.clear();
      return ider_->receive(std::span(rest).subspan(at));
    }
    if (holdBack()) {
      // The host's queue is full: what is left waits here, and the connection is not read, until it drains.
      paused_ = true;
      ++service_->stats_.pauses;
      armSilence();  // cancels it: the console is not silent, it is held back
      break;
    }
    auto decoded = decodeMessage(std::span(buffer_).subspan(at));
    if (!decoded) return protocolError(decoded.error().message);
    if (!*decoded) break;
    at += (*decoded)->length;
    handle((*decoded)->message);
  }
  if (state_ == State::Ended) return buffer_.clear();
  if (state_ == State::Kvm) {
    const std::vector<std::uint8_t> rest(buffer_.begin() + static_cast<std::ptrdiff_t>(at), buffer_.end());
    buffer_.clear();
    if (!rest.empty()) kvm_->receive(rest);
    return;
  }
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(at));
}

void RedirectionSession::handle(const Message& message) {
  auto outOfPlace = [&](const char* what) {
    protocolError(std::string(what) + " is out of place in state " + toString(state_));
  };
  if (const auto* start = std::get_if<StartSession>(&message)) {
    if (state_ != State::AwaitStart) return outOfPlace("StartRedirectionSession");
    return onStart(*start);
  }
  if (std::holds_alternative<EndSession>(message)) return close("the console ended the session");
  if (const auto* auth = std::get_if<Authenticate>(&message)) {
    if (state_ != State::AwaitAuth) return outOfPlace("AuthenticateSession");
    return onAuthenticate(*auth);
  }
  if (const auto* ping = std::get_if<KeepAlive>(&message)) {
    if (!ping->pong) send(KeepAlive{true, ping->sequence});
    return;
  }
  if (std::holds_alternative<SolHeartbeat>(message)) return;  // it has done its work: the silence timer is re-armed
  if (std::holds_alternative<SolUndocumented>(message)) return;  // 0x27: MeshCentral's, meaning unknown; ignored
  if (const auto* start = std::get_if<StartSol>(&message)) {
    if (state_ != State::Authenticated) return outOfPlace("StartSOL");
    return onStartSol(*start);
  }
  if (std::holds_alternative<EndSol>(message)) {
    if (state_ != State::Sol) return outOfPlace("EndSOL");
    return onEndSol();
  }
  if (const auto* data = std::get_if<SolData>(&message)) {
    if (!data->toHost || state_ != State::Sol) return outOfPlace("SOL data");
    service_->stats_.bytesToHost += data->bytes.size();
    if (service_->serial_) service_->serial_->toHost(data->bytes);
    return;
  }
  if (const auto* control = std::get_if<SolControl>(&message)) {
    if (state_ != State::Sol) return outOfPlace("SOLControl");
    controlBits_ = control->control;  // RTS/DTR/BREAK: the simulated UART has no modem lines to drive
    return;
  }
  // 0x11, 0x14, 0x21, 0x23 are AMT's own messages.
  protocolError("a console does not send " +
                std::string(messageName(std::visit(
                    [](const auto& m) -> MessageType {
                      using T = std::decay_t<decltype(m)>;
                      if constexpr (std::is_same_v<T, StartSessionReply>) return MessageType::StartRedirectionSessionReply;
                      else if constexpr (std::is_same_v<T, AuthenticateReply>) return MessageType::AuthenticateSessionReply;
                      else if constexpr (std::is_same_v<T, StartSolReply>) return MessageType::StartSolReply;
                      else return MessageType::EndSolReply;
                    },
                    message))));
}

void RedirectionSession::onStart(const StartSession& start) {
  auto& service = *service_;
  StartSessionReply reply;
  const auto& version = service.platform_.firmware().code;
  reply.firmwareMajor = static_cast<std::uint8_t>(version.major);
  reply.firmwareMinor = static_cast<std::uint8_t>(version.minor);
  if (start.tag == kTagSol) {
    if (!service.accepting() || !service.solEnabled()) {
      ++service.stats_.refused;
      reply.status = SessionStatus::Error;
      MESIM_LOG(Info, kLog, "SOL refused to " << peer_ << ": SOL is disabled (AMT_RedirectionService)");
    } else if (service.solOwner_) {
      ++service.stats_.busy;
      reply.status = SessionStatus::Busy;
      MESIM_LOG(Info, kLog, "SOL refused to " << peer_ << ": busy with " << service.solOwner_->peer_);
    } else {
      reply.status = SessionStatus::Ok;
      state_ = State::AwaitAuth;
    }
  } else if (start.tag == kTagIder) {
    if (!service.accepting() || !service.ider_.enabled()) {
      service.ider_.countRefused();
      reply.status = SessionStatus::Error;
      MESIM_LOG(Info, kLog, "IDE-R refused to " << peer_ << ": IDER is disabled (AMT_RedirectionService)");
    } else if (service.ider_.session()) {
      service.ider_.countBusy();
      reply.status = SessionStatus::Busy;
      MESIM_LOG(Info, kLog, "IDE-R refused to " << peer_ << ": busy with " << service.ider_.session()->peer());
    } else {
      reply.status = SessionStatus::Ok;
      state_ = State::AwaitAuth;
    }
  } else if (start.tag == kTagKvm && service.kvm_) {
    reply.status = startKvmStatus();
    if (reply.status == SessionStatus::Ok) state_ = State::AwaitAuth;
  } else if (start.tag == kTagKvm) {
    ++service.stats_.unsupported;
    reply.status = SessionStatus::Unsupported;  // not implemented yet (docs/redirection.md)
  } else {
    reply.status = SessionStatus::UnknownType;
  }
  tag_ = start.tag;
  send(reply);
}

void RedirectionSession::onAuthenticate(const Authenticate& auth) {
  auto& service = *service_;
  http::AuthAttempt attempt;
  attempt.method = "POST";
  attempt.uri = kDigestUri;
  attempt.peerAddress = peer_;
  switch (auth.type) {
    case AuthType::Query: {
      // Cleartext (Debian amtterm 1.4) and RFC 2617 Digest (MeshCentral, amtterm >= 1.5); on the web variant the
      // empty Kerberos login of the HTTP user too.
      std::vector<std::uint8_t> types{static_cast<std::uint8_t>(AuthType::Cleartext)};
      if (options_.httpUser) types.push_back(static_cast<std::uint8_t>(AuthType::Kerberos));
      types.push_back(static_cast<std::uint8_t>(AuthType::Digest));
      return send(AuthenticateReply{AuthStatus::Ok, AuthType::Query, std::move(types)});
    }
    case AuthType::Kerberos: {
      // Only the web variant, and only empty: the WebSocket's HTTP Digest login stands for it. No Kerberos tickets.
      if (!options_.httpUser || !auth.data.empty())
        return send(AuthenticateReply{AuthStatus::NotSupported, auth.type, {}});
      if (!service.mayRedirect(*options_.httpUser)) return authFailed(AuthType::Kerberos, "no Redirection realm");
      ++service.stats_.webLogins;
      send(AuthenticateReply{AuthStatus::Ok, AuthType::Kerberos, {}});
      return authenticated(*options_.httpUser);
    }
    case AuthType::Cleartext: {
      auto credentials = decodeCleartext(auth.data);
      if (!credentials) return authFailed(AuthType::Cleartext, credentials.error().message);
      auto result = service.auth_.authenticatePassword(credentials->user, credentials->password, attempt);
      if (result.status != http::AuthStatus::Ok)
        return authFailed(AuthType::Cleartext, http::toString(result.status));
      if (!service.mayRedirect(result.user)) return authFailed(AuthType::Cleartext, "no Redirection realm");
      send(AuthenticateReply{AuthStatus::Ok, AuthType::Cleartext, {}});
      return authenticated(result.user);
    }
    case AuthType::Digest: {
      auto fields = decodeDigest(auth.data);
      if (!fields) return authFailed(AuthType::Digest, fields.error().message);
      if (fields->response.empty()) {
        // The first step: the challenge, as a "failed" reply carrying realm, nonce and qop.
        DigestChallenge challenge{service.platform_.digestRealm(), service.auth_.issueNonce(peer_), "auth"};
        return send(AuthenticateReply{AuthStatus::Failed, AuthType::Digest, encodeDigestChallenge(challenge)});
      }
      http::DigestCredentials credentials;
      credentials.username = fields->user;
      credentials.realm = fields->realm;
      credentials.nonce = fields->nonce;
      credentials.uri = fields->uri;
      credentials.response = fields->response;
      credentials.qop = fields->qop;
      credentials.nc = fields->nc;
      credentials.cnonce = fields->cnonce;
      auto result = service.auth_.authenticateCredentials(credentials, attempt);
      if (result.status == http::AuthStatus::Stale || result.status == http::AuthStatus::Replay) {
        // Right password, used nonce: a fresh challenge, as 401 stale=true does on 16992.
        DigestChallenge challenge{service.platform_.digestRealm(), service.auth_.issueNonce(peer_), "auth"};
        return send(AuthenticateReply{AuthStatus::Failed, AuthType::Digest, encodeDigestChallenge(challenge)});
      }
      if (result.status != http::AuthStatus::Ok) return authFailed(AuthType::Digest, http::toString(result.status));
      if (!service.mayRedirect(result.user)) return authFailed(AuthType::Digest, "no Redirection realm");
      send(AuthenticateReply{AuthStatus::Ok, AuthType::Digest, {}});
      return authenticated(result.user);
    }
    default:
      return send(AuthenticateReply{AuthStatus::NotSupported, auth.type, {}});
  }
}

void RedirectionSession::authenticated(const std::string& user) {
  user_ = user;
  state_ = State::Authenticated;
  if (tag_ == kTagKvm) return startKvm();
  MESIM_LOG(Info, kLog, "'" << printable(user) << "' from " << peer_ << " logged in for " << (tag_ == kTagIder ? "IDE-R" : "SOL"));
  if (tag_ == kTagIder) startIder();
}

void RedirectionSession::startIder() {
  auto& service = *service_;
  if (service.consent_) {
    // The user-consent gate: AMT fails the IDE-R open with 0x0821 USER_CONSENT_REQUIRED; the protocol has no field
    // for it, so the console sees the connection close (docs/user-consent.md).
    iderConsent_ = service.consent_->openSession(platform::ConsentUse::Ider,
                                                 [this] { close("user consent was withdrawn (CancelOptIn)"); });
    if (!iderConsent_) {
      ++service.stats_.consentRequired;
      MESIM_LOG(Info, kLog, "IDE-R refused to " << peer_ << ": user consent is required (0x0821)");
      return close("user consent is required (0x0821 USER_CONSENT_REQUIRED)");
    }
  }
  IderSession::Transport transport{transport_.write, [this](const std::string& why) { close(why); }};
  ider_ = service_->ider_.open(std::move(transport), peer_, user_);
  if (!ider_) return close("another IDE-R session took the slot during the login");
  state_ = State::Ider;
  armSilence();  // cancels this session's own silence limit: the IDE-R session keeps its own
}

void RedirectionSession::authFailed(AuthType type, const std::string& why) {
  ++service_->stats_.authFailures;
  MESIM_LOG(Info, kLog, "redirection login from " << peer_ << " failed: " << why);
  send(AuthenticateReply{AuthStatus::Failed, type, {}});
  if (++authFailures_ >= service_->options_.maxAuthFailures) close("too many failed logins");
}

void RedirectionSession::onStartSol(const StartSol& start) {
  auto& service = *service_;
  StartSolReply reply;
  const auto& version = service.platform_.firmware().code;
  reply.firmwareMajor = static_cast<std::uint8_t>(version.major);
  reply.firmwareMinor = static_cast<std::uint8_t>(version.minor);
  reply.maxTxBuffer = static_cast<std::uint16_t>(std::min<std::size_t>(service.options_.maxSolChunk, 0xFFFF));
  if (!service.solEnabled()) {
    // Disabled between the login and now.
    ++service.stats_.refused;
    reply.status = static_cast<std::uint8_t>(SessionStatus::Error);
    return send(reply);
  }
  if (!service.takeSol(*this)) {
    ++service.stats_.busy;
    reply.status = static_cast<std::uint8_t>(SessionStatus::Busy);
    return send(reply);
  }
  if (service.consent_) {
    // The user-consent gate (docs/user-consent.md): status FF, and the console may try again once consent is given.
    consentSession_ = service.consent_->openSession(platform::ConsentUse::Sol,
                                                    [this] { close("user consent was withdrawn (CancelOptIn)"); });
    if (!consentSession_) {
      service.releaseSol(*this);
      ++service.stats_.consentRequired;
      reply.status = static_cast<std::uint8_t>(SessionStatus::Error);
      MESIM_LOG(Info, kLog, "SOL refused to " << peer_ << ": user consent is required");
      return send(reply);
    }
  }
  sol_ = start.settings;
  state_ = State::Sol;
  ++service.stats_.solSessions;
  send(reply);
  MESIM_LOG(Info, kLog, "SOL session of '" << printable(user_) << "' from " << peer_ << " started (heartbeat "
                                           << sol_.heartbeat << " ms)");
  service.record(*this, true);
  if (service.serial_) {
    service.serial_->setFromHost([this](std::string_view bytes) { fromHost(bytes); });
    service.serial_->setOnDrained([this] { hostDrained(); });
  }
  armSilence();
  armHeartbeat();
}

void RedirectionSession::onEndSol() {
  stopSol(true);
}

void RedirectionSession::stopSol(bool reply) {
  if (state_ != State::Sol) return;
  auto& service = *service_;
  if (service.serial_) {
    service.serial_->setFromHost({});
    service.serial_->setOnDrained({});
  }
  if (heartbeatTimer_) service.timers_.cancel(heartbeatTimer_);
  heartbeatTimer_ = 0;
  service.releaseSol(*this);
  if (consentSession_ && service.consent_) service.consent_->closeSession(*consentSession_);
  consentSession_.reset();
  service.record(*this, false);
  state_ = State::Authenticated;
  MESIM_LOG(Info, kLog, "SOL session of '" << printable(user_) << "' from " << peer_ << " ended");
  if (reply) send(EndSolReply{sequence_++});
}

void RedirectionSession::fromHost(std::string_view bytes) {
  if (state_ != State::Sol) return;
  service_->stats_.bytesFromHost += bytes.size();
  const std::size_t chunk = std::max<std::size_t>(1, std::min(service_->options_.maxSolChunk, kMaxSolDataBytes));
  for (std::size_t at = 0; at < bytes.size(); at += chunk)
    send(SolData{false, sequence_++, std::string(bytes.substr(at, chunk))});
}

bool RedirectionSession::holdBack() const {
  return state_ == State::Sol && transport_.resume && service_->serial_ && service_->serial_->full();
}

void RedirectionSession::hostDrained() {
  if (!paused_ || state_ == State::Ended) return;
  paused_ = false;
  receive({});  // the messages left in the buffer, which may fill the host again
  if (!paused_ && state_ != State::Ended) transport_.resume();
}

void RedirectionSession::powerChanged(bool poweredOn) {
  if (state_ != State::Sol) return;
  ++service_->stats_.powerNotices;
  send(SolControl{sequence_++, 0, static_cast<std::uint8_t>(poweredOn ? kStatusPoweredOn : 0)});
}

void RedirectionSession::send(const Message& message) {
  if (state_ == State::Ended && !std::holds_alternative<EndSolReply>(message)) return;
  if (transport_.write) transport_.write(encode(message));
}

void RedirectionSession::protocolError(const std::string& why) {
  if (service_) ++service_->stats_.protocolErrors;
  close("protocol error: " + why);
}

void RedirectionSession::armSilence() {
  if (!service_ || state_ == State::Ended) return;
  auto& timers = service_->timers_;
  if (silenceTimer_) timers.cancel(silenceTimer_);
  if (state_ == State::Ider) return;  // the IDE-R session keeps its own limits
  if (paused_) return;                // held back for the host: the limit starts again when reading does
  auto limit = service_->options_.idleTimeout;
  if (state_ == State::Kvm) limit = kvmIdleLimit();
  if (state_ == State::Sol && sol_.heartbeat > 0) limit = std::chrono::milliseconds(3 * sol_.heartbeat);
  silenceTimer_ = timers.scheduleAfter(limit, [this] {
    silenceTimer_ = 0;
    if (service_) ++service_->stats_.idleTimeouts;
    close("nothing heard from the console in time");
  });
}

void RedirectionSession::armHeartbeat() {
  if (state_ != State::Sol || sol_.heartbeat == 0) return;
  heartbeatTimer_ = service_->timers_.scheduleAfter(std::chrono::milliseconds(sol_.heartbeat), [this] {
    heartbeatTimer_ = 0;
    send(SolHeartbeat{sequence_++});
    armHeartbeat();
  });
}

void RedirectionSession::close(const std::string& why) {
  if (state_ == State::Ended) return;
  end(why);
  if (transport_.close) transport_.close();
}

void RedirectionSession::end(const std::string& why) {
  if (!service_) {
    state_ = State::Ended;
    return;
  }
  stopSol(false);
  if (ider_) ider_->end(why);
  if (iderConsent_ && service_->consent_) service_->consent_->closeSession(*iderConsent_);
  iderConsent_.reset();
  if (kvm_) kvm_->end(why);  // not destroyed here: this may run inside one of its calls
  auto& timers = service_->timers_;
  if (silenceTimer_) timers.cancel(silenceTimer_);
  if (heartbeatTimer_) timers.cancel(heartbeatTimer_);
  silenceTimer_ = heartbeatTimer_ = 0;
  if (state_ != State::Ended) MESIM_LOG(Debug, kLog, "redirection connection from " << peer_ << " ends: " << why);
  state_ = State::Ended;
  service_->forget(this);
  service_ = nullptr;
}

// ------------------------------------------------------------------------------------------------
// RedirectionService
// ------------------------------------------------------------------------------------------------

RedirectionService::RedirectionService(platform::PlatformModel& platform, core::FirmwareTimerQueue& timers,
                                       http::DigestAuthenticator& authenticator, RedirectionOptions options)
    : platform_(platform), timers_(timers), auth_(authenticator), options_(options), ider_(platform, timers) {
  hostPoweredOn_ = platform_.state().hostPower.powerState == platform::power::kOn;
  platformToken_ = platform_.subscribe([this] { watchPower(); });
}

RedirectionService::~RedirectionService() {
  endAll("the redirection service stops");
  platform_.unsubscribe(platformToken_);
}

// The SOL console hears of the host's power going on or off through 0x29 status bit 4 ("powered on"), as AMT
// tells it; sleep and hibernate count as not powered on. A power cycle that ends where it began is not seen here.
void RedirectionService::watchPower() {
  const bool on = platform_.state().hostPower.powerState == platform::power::kOn;
  if (on == hostPoweredOn_) return;
  hostPoweredOn_ = on;
  if (solOwner_) solOwner_->powerChanged(on);
}

bool RedirectionService::accepting() const {
  return platform_.provisioningState() == platform::ProvisioningState::Post &&
         platform_.state().redirection.listenerEnabled;
}

bool RedirectionService::solEnabled() const {
  return platform_.state().features.solEnabled && (platform_.state().redirection.enabledState & kEnabledStateSolBit);
}

std::unique_ptr<RedirectionSession> RedirectionService::open(RedirectionSession::Transport transport,
                                                             std::string peerAddress,
                                                             RedirectionSessionOptions options) {
  const bool web = options.httpUser.has_value();
  auto session = std::make_unique<RedirectionSession>(*this, std::move(transport), std::move(peerAddress),
                                                      std::move(options));
  sessions_.insert(session.get());
  ++stats_.sessions;
  if (web) ++stats_.webSessions;
  return session;
}

void RedirectionService::endAll(const std::string& why) {
  const std::vector<RedirectionSession*> open(sessions_.begin(), sessions_.end());
  for (auto* session : open) session->close(why);
}

std::size_t RedirectionService::closeSessions(RedirectionSession::State state, const std::string& why) {
  std::vector<RedirectionSession*> chosen;
  for (auto* session : sessions_)
    if (session->state_ == state) chosen.push_back(session);
  for (auto* session : chosen) session->close(why);
  return chosen.size();
}

bool RedirectionService::takeSol(RedirectionSession& session) {
  if (solOwner_ && solOwner_ != &session) return false;
  solOwner_ = &session;
  return true;
}

void RedirectionService::releaseSol(RedirectionSession& session) {
  if (solOwner_ == &session) solOwner_ = nullptr;
}

bool RedirectionService::mayRedirect(const std::string& user) const {
  if (user == platform_.admin().user) return true;
  for (const auto& acl : platform_.state().aclUsers) {
    if (acl.user != user) continue;
    return std::any_of(acl.realms.begin(), acl.realms.end(),
                       [](std::uint32_t r) { return r == kRealmRedirection || r == kRealmPtAdministration; });
  }
  return false;  // the OS admin account: the host's own services, not redirection
}

void RedirectionService::record(const RedirectionSession& session, bool started) {
  const auto now = core::unixSeconds(timers_.now());
  platform::AuditInitiator who;
  who.user = session.user();
  who.address = session.peerAddress();
  auto audit = platform::makeAuditRecord(platform::audit::kRedirectionManager,
                                         started ? platform::audit::kSolSessionOpened
                                                 : platform::audit::kSolSessionClosed,
                                         who, now);
  platform::MessageLogEvent event;
  event.sensorType = platform::kSensorTypeRedirection;
  event.eventData[0] = 0xAA;
  event.eventData[1] = 0x30;
  event.eventData[2] = started ? platform::kRedirectionSolStarted : platform::kRedirectionSolEnded;
  auto logRecord = platform::makeMessageLogRecord(event, now);
  const auto result = platform_.update([&](platform::PlatformState& s) {
    platform::appendAuditRecord(s, std::move(audit));
    platform::appendMessageLogRecord(s, std::move(logRecord));
  });
  if (result != platform::ChangeResult::Ok)
    MESIM_LOG(Warn, kLog, "cannot record a SOL session in the logs: " << platform::toString(result) << " "
                                                                       << platform_.lastError());
}

}  // namespace mesim::wsman::redirection
