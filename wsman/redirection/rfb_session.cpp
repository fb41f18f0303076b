#include "wsman/redirection/rfb_session.h"

#include <algorithm>

#include "firmware/platform/event_records.h"

namespace mesim::wsman::redirection {

namespace {
constexpr const char* kLog = "kvm";
constexpr std::uint8_t kSecurityNone = 1;
constexpr std::uint8_t kSecurityVnc = 2;
// Redirection Manager audit events (event_records.cpp's table): KVM Session Started / Ended.
constexpr std::uint16_t kAuditKvmSessionStarted = 8;
constexpr std::uint16_t kAuditKvmSessionEnded = 9;
constexpr unsigned kBlankWidth = 640, kBlankHeight = 400;

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
std::vector<std::uint8_t> reasonBytes(const std::string& reason) {
  std::vector<std::uint8_t> out;
  put32(out, static_cast<std::uint32_t>(reason.size()));
  out.insert(out.end(), reason.begin(), reason.end());
  return out;
}
}  // namespace

const char* toString(RfbSession::State state) {
  switch (state) {
    case RfbSession::State::AwaitVersion: return "await-version";
    case RfbSession::State::AwaitSecurityType: return "await-security-type";
    case RfbSession::State::AwaitAuthResponse: return "await-auth-response";
    case RfbSession::State::AwaitClientInit: return "await-client-init";
    case RfbSession::State::Normal: return "normal";
    case RfbSession::State::Ended: return "ended";
  }
  return "?";
}

// ------------------------------------------------------------------------------------------------
// RfbSession
// ------------------------------------------------------------------------------------------------

RfbSession::RfbSession(KvmService& service, Mode mode, Transport transport, std::string peerAddress, std::string user)
    : service_(&service),
      mode_(mode),
      transport_(std::move(transport)),
      peer_(std::move(peerAddress)),
      user_(std::move(user)),
      format_(mode == Mode::Redirection ? rfb::PixelFormat::rgb565() : rfb::PixelFormat::rgb888()) {}

RfbSession::~RfbSession() { end("closed"); }

const log::Context& RfbSession::logContext() const {
  static const log::Context none;
  return service_ ? service_->logContext() : none;
}

void RfbSession::start() {
  if (!service_) return;
  handshakeTimer_ = service_->timers_.scheduleAfter(service_->options_.handshakeTimeout, [this] {
    handshakeTimer_ = 0;
    close("the viewer did not finish the RFB handshake in time");
  });
  const std::string version = "RFB 003.008\n";
  send(std::vector<std::uint8_t>(version.begin(), version.end()));
}

void RfbSession::receive(std::span<const std::uint8_t> bytes) {
  if (state_ == State::Ended) return;
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  std::size_t at = 0;
  while (state_ != State::Ended && at < buffer_.size()) {
    const std::size_t used = consume(std::span(buffer_).subspan(at));
    if (used == 0) break;
    at += used;
  }
  if (state_ == State::Ended) return buffer_.clear();
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(at));
}

std::size_t RfbSession::consume(std::span<const std::uint8_t> in) {
  switch (state_) {
    case State::AwaitVersion: {
      if (in.size() < 12) return 0;
      auto minor = rfb::parseVersion(in.first<12>());
      if (!minor) return protocolError(minor.error().message), 12;
      onVersion(*minor);
      return 12;
    }
    case State::AwaitSecurityType:
      onSecurityType(in[0]);
      return 1;
    case State::AwaitAuthResponse: {
      if (in.size() < 16) return 0;
      VncChallenge response;
      std::copy_n(in.begin(), 16, response.begin());
      onAuthResponse(response);
      return 16;
    }
    case State::AwaitClientInit:
      onClientInit();  // the shared flag: one viewer at a time either way
      return 1;
    case State::Normal: {
      auto decoded = rfb::decodeClientMessage(in);
      if (!decoded) return protocolError(decoded.error().message), in.size();
      if (!*decoded) return 0;
      const std::size_t length = (*decoded)->length;
      handle((*decoded)->message);
      return length;
    }
    case State::Ended: return in.size();
  }
  return in.size();
}

void RfbSession::onVersion(unsigned minor) {
  minor_ = minor;
  auto& service = *service_;
  if (mode_ == Mode::Standard) {
    if (!service.port5900Enabled()) {
      ++service.stats_.refused;
      return refuse("KVM on port 5900 is disabled");
    }
    if (service.platform_.state().redirection.rfbPassword.empty()) {
      ++service.stats_.refused;
      return refuse("no RFBPassword is set (IPS_KVMRedirectionSettingData)");
    }
    if (service.busy()) {
      ++service.stats_.busy;
      return refuse("another KVM session is active");
    }
  }
  if (service.consent_ && !consentSession_) {
    // The user-consent gate (docs/user-consent.md): refused with the reason until the code was sent back.
    consentSession_ = service.consent_->openSession(platform::ConsentUse::Kvm,
                                                    [this] { close("user consent was withdrawn (CancelOptIn)"); });
    if (!consentSession_) {
      ++service.stats_.consentRequired;
      return refuse("user consent is required (IPS_OptInService)");
    }
  }
  state_ = State::AwaitSecurityType;
  const std::uint8_t type = mode_ == Mode::Standard ? kSecurityVnc : kSecurityNone;
  if (minor_ == 3) {
    // 3.3: the server picks.
    std::vector<std::uint8_t> out;
    put32(out, type);
    send(std::move(out));
    return onSecurityType(type);
  }
  send({1, type});
}

void RfbSession::onSecurityType(std::uint8_t type) {
  const std::uint8_t offered = mode_ == Mode::Standard ? kSecurityVnc : kSecurityNone;
  if (type != offered) return protocolError("security type " + std::to_string(type) + " was not offered");
  if (type == kSecurityNone) return securityPassed();
  challenge_ = vncNewChallenge();
  state_ = State::AwaitAuthResponse;
  send(std::vector<std::uint8_t>(challenge_.begin(), challenge_.end()));
}

void RfbSession::onAuthResponse(const VncChallenge& response) {
  auto& service = *service_;
  if (vncAuthMatches(challenge_, response, service.platform_.state().redirection.rfbPassword)) return securityPassed();
  ++service.stats_.authFailures;
  MESIM_LOG(Info, kLog, "VNC authentication from " << peer_ << " failed");
  std::vector<std::uint8_t> out;
  put32(out, 1);
  if (minor_ == 8) {
    const auto reason = reasonBytes("authentication failed");
    out.insert(out.end(), reason.begin(), reason.end());
  }
  send(std::move(out));
  close("wrong VNC password");
}

void RfbSession::securityPassed() {
  // SecurityResult follows VNC authentication in every version, None only in 3.8.
  if (mode_ == Mode::Standard || minor_ == 8) send({0, 0, 0, 0});
  state_ = State::AwaitClientInit;
}

void RfbSession::refuse(const std::string& reason) {
  MESIM_LOG(Info, kLog, "KVM viewer from " << peer_ << " refused: " << reason);
  std::vector<std::uint8_t> out;
  if (minor_ == 3)
    put32(out, 0);  // security type 0: failed, a reason follows
  else
    out.push_back(0);  // no security types, a reason follows
  const auto text = reasonBytes(reason);
  out.insert(out.end(), text.begin(), text.end());
  send(std::move(out));
  close(reason);
}

void RfbSession::onClientInit() {
  auto& service = *service_;
  if (!service.takeScreen(*this)) {
    ++service.stats_.busy;
    return close("another KVM session is active");
  }
  onScreen_ = true;
  if (handshakeTimer_) service.timers_.cancel(handshakeTimer_);
  handshakeTimer_ = 0;
  state_ = State::Normal;
  // The viewer has no picture yet, so its first request gets the whole screen even when incremental:
  // MeshCentral's amt-desktop only ever asks incrementally (RFB 3, incremental 1), from its very first request.
  dirty_ = {0, 0, service.width(), service.height()};
  viewerWidth_ = service.width();
  viewerHeight_ = service.height();
  ++service.stats_.sessions;
  ++(mode_ == Mode::Standard ? service.stats_.port5900Sessions : service.stats_.redirectionSessions);
  send(rfb::encodeServerInit(static_cast<std::uint16_t>(service.width()), static_cast<std::uint16_t>(service.height()),
                             format_, service.options_.desktopName));
  MESIM_LOG(Info, kLog, "KVM session from " << peer_ << " started ("
                                            << (mode_ == Mode::Standard ? "port 5900, RFB 3." : "redirection, RFB 3.")
                                            << minor_ << ")");
  service.record(*this, true);
}

void RfbSession::handle(const rfb::ClientMessage& message) {
  auto& service = *service_;
  if (const auto* m = std::get_if<rfb::SetPixelFormat>(&message)) {
    format_ = m->format;
    dirty_ = {0, 0, service.width(), service.height()};  // what the viewer has is in the old format
    return;
  }
  if (const auto* m = std::get_if<rfb::SetEncodings>(&message)) {
    // The first of the encodings we have, in the viewer's order of preference.
    zrle_ = false;
    desktopSize_ = std::find(m->encodings.begin(), m->encodings.end(), rfb::kEncodingDesktopSize) != m->encodings.end();
    for (auto e : m->encodings) {
      if (e == rfb::kEncodingZrle) zrle_ = true;
      if (e == rfb::kEncodingZrle || e == rfb::kEncodingRaw) break;
    }
    if (zrle_ && !zrleEncoder_) zrleEncoder_ = std::make_unique<rfb::ZrleEncoder>();
    return;
  }
  if (const auto* m = std::get_if<rfb::FramebufferUpdateRequest>(&message)) {
    const unsigned w = service.width(), h = service.height();
    const unsigned x = std::min<unsigned>(m->x, w), y = std::min<unsigned>(m->y, h);
    const ScreenRect wanted{x, y, std::min<unsigned>(m->width, w - x), std::min<unsigned>(m->height, h - y)};
    if (!m->incremental) dirty_ = dirty_.united(wanted);
    updateWanted_ = true;
    return flush();
  }
  if (const auto* m = std::get_if<rfb::KeyEvent>(&message)) {
    ++service.stats_.keyEvents;
    if (service.screen_) service.screen_->keyEvent(m->down, m->keysym);
    return;
  }
  if (const auto* m = std::get_if<rfb::PointerEvent>(&message)) {
    ++service.stats_.pointerEvents;
    if (service.screen_) service.screen_->pointerEvent(m->buttons, m->x, m->y);
    return;
  }
  // ClientCutText, and Intel's data channel that rides on it: nothing to paste into, nothing to answer.
}

void RfbSession::screenChanged(const ScreenRect& rect) {
  dirty_ = dirty_.united(rect);
  flush();
}

void RfbSession::screenResized() {
  auto& service = *service_;
  const unsigned width = service.width(), height = service.height();
  if ((width != viewerWidth_ || height != viewerHeight_) && !desktopSize_) {
    ++service.stats_.resizeClosed;
    return close("the screen is now " + std::to_string(width) + "x" + std::to_string(height) +
                 " and the viewer does not take DesktopSize");
  }
  dirty_ = {0, 0, width, height};  // the picture is new as a whole; the change that follows sends it
}

void RfbSession::flush() {
  if (state_ != State::Normal || !updateWanted_ || dirty_.empty()) return;
  auto& service = *service_;
  const auto& pixels = service.pixels();
  const unsigned stride = service.width(), height = service.height();
  const bool resized = stride != viewerWidth_ || height != viewerHeight_;
  if (resized) dirty_ = {0, 0, stride, height};
  // Changes told while the screen had another size may reach past this one: only what lies inside is sent.
  const unsigned right = std::min(dirty_.x + dirty_.width, stride), bottom = std::min(dirty_.y + dirty_.height, height);
  dirty_ = dirty_.x < right && dirty_.y < bottom ? ScreenRect{dirty_.x, dirty_.y, right - dirty_.x, bottom - dirty_.y}
                                                 : ScreenRect{};
  if (dirty_.empty()) return;
  const auto rects = rfb::tiles(dirty_);
  std::vector<std::uint8_t> out;
  rfb::encodeUpdateHeader(out, static_cast<std::uint16_t>(rects.size() + (resized ? 1 : 0)));
  if (resized) {
    // DesktopSize first (RFC 6143 §7.8.2): the viewer resizes, then the tiles of the new screen follow.
    rfb::encodeRectHeader(out, {0, 0, stride, height}, rfb::kEncodingDesktopSize);
    viewerWidth_ = stride;
    viewerHeight_ = height;
    ++service.stats_.desktopResizes;
  }
  for (const auto& rect : rects) {
    if (zrle_) {
      rfb::encodeRectHeader(out, rect, rfb::kEncodingZrle);
      if (auto r = zrleEncoder_->encode(out, pixels, stride, rect, format_); !r)
        return protocolError(r.error().message);
    } else {
      rfb::encodeRectHeader(out, rect, rfb::kEncodingRaw);
      rfb::encodeRaw(out, pixels, stride, rect, format_);
    }
  }
  updateWanted_ = false;
  dirty_ = {};
  ++service.stats_.updates;
  service.stats_.rectangles += rects.size();
  send(std::move(out));
}

void RfbSession::send(std::vector<std::uint8_t> bytes) {
  if (state_ == State::Ended || !transport_.write) return;
  transport_.write(std::move(bytes));
}

void RfbSession::protocolError(const std::string& why) {
  if (service_) ++service_->stats_.protocolErrors;
  close("RFB protocol error: " + why);
}

void RfbSession::close(const std::string& why) {
  if (state_ == State::Ended) return;
  end(why);
  if (transport_.close) transport_.close();
}

void RfbSession::end(const std::string& why) {
  if (!service_) {
    state_ = State::Ended;
    return;
  }
  auto& service = *service_;
  if (handshakeTimer_) service.timers_.cancel(handshakeTimer_);
  handshakeTimer_ = 0;
  if (consentSession_ && service.consent_) service.consent_->closeSession(*consentSession_);
  consentSession_.reset();
  if (onScreen_) {
    onScreen_ = false;
    service.releaseScreen(*this);
    service.record(*this, false);
    MESIM_LOG(Info, kLog, "KVM session from " << peer_ << " ended: " << why);
  } else if (state_ != State::Ended) {
    MESIM_LOG(Debug, kLog, "KVM viewer from " << peer_ << " leaves: " << why);
  }
  state_ = State::Ended;
  service.sessions_.erase(this);
  service_ = nullptr;
}

// ------------------------------------------------------------------------------------------------
// KvmService
// ------------------------------------------------------------------------------------------------

KvmService::KvmService(platform::PlatformModel& platform, core::FirmwareTimerQueue& timers, KvmOptions options)
    : platform_(platform), timers_(timers), options_(std::move(options)) {}

KvmService::~KvmService() { endAll("the KVM service stops"); }

bool KvmService::kvmEnabled() const {
  const auto& s = platform_.state();
  return s.features.kvmEnabled && (s.redirection.kvmEnabledState == 2 || s.redirection.kvmEnabledState == 6);
}

bool KvmService::port5900Enabled() const {
  return platform_.provisioningState() == platform::ProvisioningState::Post && kvmEnabled() &&
         platform_.state().redirection.is5900PortEnabled;
}

std::unique_ptr<RfbSession> KvmService::open(RfbSession::Mode mode, RfbSession::Transport transport,
                                             std::string peerAddress, std::string user) {
  auto session = std::make_unique<RfbSession>(*this, mode, std::move(transport), std::move(peerAddress), std::move(user));
  sessions_.insert(session.get());
  return session;
}

void KvmService::endAll(const std::string& why) {
  const std::vector<RfbSession*> open(sessions_.begin(), sessions_.end());
  for (auto* session : open) session->close(why);
}

bool KvmService::takeScreen(RfbSession& session) {
  if (owner_ && owner_ != &session) return false;
  owner_ = &session;
  if (screen_) {
    screen_->setChangeListener([this](const ScreenRect& rect) {
      if (owner_) owner_->screenChanged(rect);
    });
    screen_->setResizeListener([this] {
      if (owner_) owner_->screenResized();
    });
  }
  return true;
}

void KvmService::releaseScreen(RfbSession& session) {
  if (owner_ != &session) return;
  owner_ = nullptr;
  if (screen_) {
    screen_->setResizeListener({});
    screen_->setChangeListener({});
  }
}

unsigned KvmService::width() const { return screen_ ? screen_->width() : kBlankWidth; }
unsigned KvmService::height() const { return screen_ ? screen_->height() : kBlankHeight; }

const std::vector<std::uint32_t>& KvmService::pixels() const {
  if (screen_) return screen_->pixels();
  if (blank_.empty()) blank_.assign(static_cast<std::size_t>(kBlankWidth) * kBlankHeight, 0);
  return blank_;
}

void KvmService::record(const RfbSession& session, bool started) {
  const auto now = core::unixSeconds(timers_.now());
  platform::AuditInitiator who;
  who.user = session.user_;
  who.address = session.peerAddress();
  auto audit = platform::makeAuditRecord(platform::audit::kRedirectionManager,
                                         started ? kAuditKvmSessionStarted : kAuditKvmSessionEnded, who, now);
  const auto result = platform_.update([&](platform::PlatformState& s) {
    platform::appendAuditRecord(s, std::move(audit));
    s.features.kvmSessionActive = started;
  });
  if (result != platform::ChangeResult::Ok)
    MESIM_LOG(Warn, kLog, "cannot record a KVM session: " << platform::toString(result) << " " << platform_.lastError());
}

}  // namespace mesim::wsman::redirection
