#include "firmware/platform/user_consent.h"

#include <chrono>
#include <cstdio>
#include <vector>

#include "common/log.h"
#include "firmware/platform/credentials.h"

namespace mesim::platform {

namespace {
constexpr const char* kLog = "consent";
}  // namespace

const char* toString(ConsentState state) {
  switch (state) {
    case ConsentState::NotStarted: return "not-started";
    case ConsentState::Requested: return "requested";
    case ConsentState::Displayed: return "displayed";
    case ConsentState::Received: return "received";
    case ConsentState::InSession: return "in-session";
  }
  return "?";
}

const char* toString(ConsentUse use) {
  switch (use) {
    case ConsentUse::Kvm: return "kvm";
    case ConsentUse::Sol: return "sol";
    case ConsentUse::Ider: return "ider";
    case ConsentUse::Boot: return "boot";
  }
  return "?";
}

bool powerChangeBootsWithOptions(const PlatformState& state, std::uint32_t powerState) {
  if (!state.boot.bootConfigActive) return false;
  switch (powerState) {
    case 2:   // on
    case 5:   // power cycle (off soft)
    case 9:   // power cycle (off hard)
    case 10:  // master bus reset
    case 14:  // bus reset graceful
    case 15:  // power cycle soft graceful
    case 16:  // power cycle hard graceful
      return true;
    default:
      return false;
  }
}

std::uint8_t optInPolicyByte(std::uint32_t optInRequired) {
  return optInRequired == kOptInRequiredAll ? 0xFF : static_cast<std::uint8_t>(optInRequired);
}

UserConsent::UserConsent(PlatformModel& platform, core::FirmwareTimerQueue& timers, UserConsentOptions options)
    : platform_(platform), timers_(timers), options_(options) {
  // An unprovision ends a consent under way: what it was given for is gone.
  platformSubscription_ = platform_.subscribe([this] {
    if (state_ != ConsentState::NotStarted && platform_.provisioningState() != ProvisioningState::Post)
      endConsent("the device is no longer provisioned");
  });
}

UserConsent::~UserConsent() {
  platform_.unsubscribe(platformSubscription_);
  cancelTimers();
}

std::optional<std::string> UserConsent::code() const {
  if (state_ != ConsentState::Displayed) return std::nullopt;
  return code_;
}

std::optional<UserConsent::time_point> UserConsent::displayDeadline() const {
  return displayTimer_ ? timers_.deadline(displayTimer_) : std::nullopt;
}

std::optional<UserConsent::time_point> UserConsent::codeDeadline() const {
  return codeTimer_ ? timers_.deadline(codeTimer_) : std::nullopt;
}

bool UserConsent::required(ConsentUse use) const {
  if (platform_.provisioningState() != ProvisioningState::Post) return false;
  if (platform_.controlMode() == ControlMode::Client) return true;
  const auto policy = platform_.state().optIn.optInRequired;
  if (policy == kOptInRequiredAll) return true;
  return policy == 1 && use == ConsentUse::Kvm;
}

bool UserConsent::allows(ConsentUse use) const {
  return !required(use) || state_ == ConsentState::Received || state_ == ConsentState::InSession;
}

ConsentResult UserConsent::start(const AuditInitiator& who) {
  if (state_ != ConsentState::NotStarted) return ConsentResult::InvalidState;
  std::uint8_t bytes[4];
  randomBytes(bytes, sizeof bytes);
  const std::uint32_t n =
      (std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 | std::uint32_t{bytes[2]} << 8 | bytes[3]) %
      1000000;
  char digits[8];
  std::snprintf(digits, sizeof digits, "%06u", static_cast<unsigned>(n));
  code_ = digits;
  wrongCodes_ = 0;
  ++stats_.started;
  // The host's screen is always there to show it: "requested" (1) is passed through at once.
  const auto display = platform_.state().optIn.optInDisplayTimeout;
  if (display > 0)
    displayTimer_ = timers_.scheduleAfter(std::chrono::seconds(display), [this] {
      displayTimer_ = 0;
      ++stats_.displayTimeouts;
      endConsent("the code was shown for OptInDisplayTimeout and never sent");
    });
  MESIM_LOG(Info, kLog, "user consent requested by '" << who.user << "': code " << code_
                                                       << " shown on the host's screen");
  setState(ConsentState::Displayed);
  return ConsentResult::Ok;
}

ConsentResult UserConsent::sendCode(std::uint64_t code, const AuditInitiator& who) {
  if (state_ != ConsentState::Displayed) return ConsentResult::InvalidState;
  if (code != std::stoull(code_)) {
    ++stats_.wrongCodes;
    if (++wrongCodes_ < options_.maxWrongCodes) {
      MESIM_LOG(Info, kLog, "wrong consent code from '" << who.user << "' (" << wrongCodes_ << " of "
                                                        << options_.maxWrongCodes << ")");
      return ConsentResult::InvalidCode;
    }
    ++stats_.attemptsFailed;
    record(audit::kSendConsentCode, who, {1});
    endConsent("too many wrong codes");
    return ConsentResult::InvalidCode;
  }
  if (!record(audit::kSendConsentCode, who, {0})) return ConsentResult::InternalError;
  ++stats_.granted;
  if (displayTimer_) timers_.cancel(displayTimer_);
  displayTimer_ = 0;
  code_.clear();
  wrongCodes_ = 0;
  MESIM_LOG(Info, kLog, "user consent received from '" << who.user << "'");
  armCodeTimeout();
  setState(ConsentState::Received);
  return ConsentResult::Ok;
}

ConsentResult UserConsent::cancel(const AuditInitiator& who) {
  if (state_ == ConsentState::NotStarted) return ConsentResult::Ok;  // nothing to cancel: AMT answers success
  ++stats_.cancelled;
  MESIM_LOG(Info, kLog, "user consent cancelled by '" << who.user << "'");
  endConsent("cancelled");
  return ConsentResult::Ok;
}

std::optional<UserConsent::SessionId> UserConsent::openSession(ConsentUse use, std::function<void()> onWithdrawn) {
  if (!allows(use)) {
    ++stats_.refused;
    MESIM_LOG(Info, kLog, toString(use) << " refused: user consent is required (state " << toString(state_) << ")");
    return std::nullopt;
  }
  const bool holds = required(use);
  const SessionId id = nextSession_++;
  sessions_.emplace(id, Session{use, holds, std::move(onWithdrawn)});
  if (holds && state_ != ConsentState::InSession) {
    if (codeTimer_) timers_.cancel(codeTimer_);
    codeTimer_ = 0;
    setState(ConsentState::InSession);
  }
  return id;
}

void UserConsent::closeSession(SessionId id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  const bool held = it->second.holdsConsent;
  sessions_.erase(it);
  if (!held || state_ != ConsentState::InSession) return;
  for (const auto& [other, session] : sessions_)
    if (session.holdsConsent) return;
  // The last session that used consent: it stays valid for OptInCodeTimeout (a console that reconnects after the
  // host reboots needs no new code), then ends.
  armCodeTimeout();
  setState(ConsentState::Received);
}

bool UserConsent::authorize(ConsentUse use) {
  if (allows(use)) return true;
  ++stats_.refused;
  MESIM_LOG(Info, kLog, toString(use) << " refused: user consent is required (state " << toString(state_) << ")");
  return false;
}

std::size_t UserConsent::subscribe(std::function<void()> observer) {
  const auto token = nextObserver_++;
  observers_.emplace(token, std::move(observer));
  return token;
}

void UserConsent::unsubscribe(std::size_t token) { observers_.erase(token); }

void UserConsent::setState(ConsentState state) {
  state_ = state;
  const auto observers = observers_;  // an observer may unsubscribe
  for (const auto& [token, observer] : observers) observer();
}

void UserConsent::endConsent(const char* why) {
  cancelTimers();
  code_.clear();
  wrongCodes_ = 0;
  // Sessions that held the consent lose it; they are told after the state is final, since they may close.
  std::vector<SessionId> withdrawn;
  for (auto& [id, session] : sessions_) {
    if (!session.holdsConsent) continue;
    session.holdsConsent = false;
    withdrawn.push_back(id);
  }
  const bool changed = state_ != ConsentState::NotStarted;
  if (changed) MESIM_LOG(Info, kLog, "user consent ends: " << why);
  state_ = ConsentState::NotStarted;
  if (changed) setState(ConsentState::NotStarted);
  for (auto id : withdrawn) {
    auto it = sessions_.find(id);  // a callback may close other sessions too
    if (it == sessions_.end() || !it->second.onWithdrawn) continue;
    auto callback = it->second.onWithdrawn;  // it may close its session, destroying the original
    callback();
  }
}

void UserConsent::armCodeTimeout() {
  if (codeTimer_) timers_.cancel(codeTimer_);
  codeTimer_ = 0;
  const auto limit = platform_.state().optIn.optInCodeTimeout;
  if (limit == 0) return;  // no limit
  codeTimer_ = timers_.scheduleAfter(std::chrono::seconds(limit), [this] {
    codeTimer_ = 0;
    ++stats_.codeTimeouts;
    endConsent("no session started within OptInCodeTimeout");
  });
}

void UserConsent::cancelTimers() {
  if (displayTimer_) timers_.cancel(displayTimer_);
  if (codeTimer_) timers_.cancel(codeTimer_);
  displayTimer_ = codeTimer_ = 0;
}

bool UserConsent::record(std::uint16_t event, const AuditInitiator& who, std::vector<std::uint8_t> extended) {
  auto entry = makeAuditRecord(audit::kUserOptIn, event, who, core::unixSeconds(timers_.now()), extended);
  const auto result = platform_.update([&](PlatformState& s) { appendAuditRecord(s, std::move(entry)); });
  if (result == ChangeResult::Ok) return true;
  MESIM_LOG(Warn, kLog, "cannot write a user-consent audit record: " << toString(result) << " "
                                                                      << platform_.lastError());
  return false;
}

}  // namespace mesim::platform
