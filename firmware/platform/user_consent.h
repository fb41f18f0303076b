// User consent (IPS_OptInService; ../shared/spec/features.md §1.4 "User consent", docs/user-consent.md): the state
// machine that stands between a remote operator and the host's user. StartOptIn shows a 6-digit code on the host's
// screen for at most OptInDisplayTimeout seconds; the operator reads it from the user and sends it back
// (SendOptInCode); then a redirection session or a boot that needs consent must start within OptInCodeTimeout
// seconds. While such a session is open the state is "in session"; when the last one closes, consent stays valid for
// another OptInCodeTimeout (a KVM console reconnects after the host reboots) and then ends. Three wrong codes end
// the attempt. What needs consent comes from the policy (OptInRequired, and client control mode, where everything
// does). Timers are on the firmware clock. Only the policy is persisted (platform.json), as in AMT; the running
// code and state are RAM and a restart begins at "not started".
//
// The one gate for redirection: a session that is about to start calls openSession(use, onWithdrawn) and refuses
// when it answers nothing; it calls closeSession(id) when it ends. `onWithdrawn` runs if CancelOptIn takes the
// consent back while the session is open (the session should then close).
//
// Single-threaded, on the timer queue's loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_model.h"

namespace mesim::platform {

// IPS_OptInService.OptInState.
enum class ConsentState : std::uint32_t { NotStarted = 0, Requested = 1, Displayed = 2, Received = 3, InSession = 4 };
const char* toString(ConsentState state);

// What asks for consent.
enum class ConsentUse { Kvm, Sol, Ider, Boot };
const char* toString(ConsentUse use);

// ReturnValue of StartOptIn, SendOptInCode and CancelOptIn.
enum class ConsentResult : std::uint32_t {
  Ok = 0,
  InternalError = 1,  // the audit record could not be written
  InvalidState = 2,   // not in a state the method applies to
  InvalidCode = 2066, // SendOptInCode: not the code shown
};

struct UserConsentOptions {
  unsigned maxWrongCodes = 3;  // wrong codes that end an attempt (AMT audits "failed 3 times", event 3001)
};

struct UserConsentStats {
  std::uint64_t started = 0;         // StartOptIn accepted
  std::uint64_t granted = 0;         // right codes
  std::uint64_t wrongCodes = 0;      // wrong codes, all attempts
  std::uint64_t attemptsFailed = 0;  // attempts ended by wrong codes
  std::uint64_t displayTimeouts = 0; // codes that were shown and never sent
  std::uint64_t codeTimeouts = 0;    // consents that ended unused
  std::uint64_t cancelled = 0;
  std::uint64_t refused = 0;         // sessions or boots refused for want of consent
};

// User Opt-In audit events (app 30, MeshCentral's audit string table).
namespace audit {
inline constexpr std::uint16_t kUserOptIn = 30;
inline constexpr std::uint16_t kOptInPolicyChange = 0;      // 3000, extended data: previous, new (0 none, 1 KVM, 0xFF all)
inline constexpr std::uint16_t kSendConsentCode = 1;        // 3001, extended data: 0 success, 1 failed (3 times)
}  // namespace audit
// Whether a requested power change (RequestPowerStateChange code) carries out a boot with options the console set
// (SetBootConfigRole IsNext), which is what consent guards among power actions; a plain power-on or reset does not.
bool powerChangeBootsWithOptions(const PlatformState& state, std::uint32_t powerState);
// ReturnValue of a boot refused for want of consent: AMT's USER_CONSENT_REQUIRED (features.md §1.4, 0x0821).
inline constexpr std::uint32_t kUserConsentRequired = 0x821;

// The one-byte form of OptInRequired in record 3000.
std::uint8_t optInPolicyByte(std::uint32_t optInRequired);

class UserConsent {
 public:
  using time_point = core::FirmwareClock::time_point;
  using SessionId = std::uint64_t;

  UserConsent(PlatformModel& platform, core::FirmwareTimerQueue& timers, UserConsentOptions options = {});
  ~UserConsent();
  UserConsent(const UserConsent&) = delete;
  UserConsent& operator=(const UserConsent&) = delete;

  ConsentState state() const { return state_; }
  // The six digits shown on the host's screen, while they are (state Displayed).
  std::optional<std::string> code() const;
  std::optional<time_point> displayDeadline() const;  // when the shown code goes away
  std::optional<time_point> codeDeadline() const;     // when a received consent that no session uses ends
  unsigned wrongCodes() const { return wrongCodes_; }  // in the current attempt
  std::size_t sessions() const { return sessions_.size(); }
  const UserConsentStats& stats() const { return stats_; }

  // The policy: whether `use` needs consent (client control mode: always; admin: OptInRequired 1 = KVM only,
  // 4294967295 = everything; not provisioned: never).
  bool required(ConsentUse use) const;
  // Whether `use` may start now: not required, or consent received (or in use).
  bool allows(ConsentUse use) const;

  ConsentResult start(const AuditInitiator& who);
  ConsentResult sendCode(std::uint64_t code, const AuditInitiator& who);
  ConsentResult cancel(const AuditInitiator& who);

  // A session of `use` starts: nothing (and counted as refused) when it needs consent that is not there; else an
  // id for closeSession(). A session that needed consent holds it (state InSession) until it closes.
  std::optional<SessionId> openSession(ConsentUse use, std::function<void()> onWithdrawn = {});
  void closeSession(SessionId id);
  // A one-shot operation (a boot with options) that needs consent but holds no session: false (counted) when not
  // allowed. It leaves the state as it is: consent stays until OptInCodeTimeout passes without a session.
  bool authorize(ConsentUse use);

  // Runs after every change of state or code (the KVM screen draws the code from this). Returns a token.
  std::size_t subscribe(std::function<void()> observer);
  void unsubscribe(std::size_t token);

  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  struct Session {
    ConsentUse use;
    bool holdsConsent;
    std::function<void()> onWithdrawn;
  };
  void setState(ConsentState state);
  void endConsent(const char* why);  // back to NotStarted: timers, code and count cleared
  void armCodeTimeout();
  void cancelTimers();
  bool record(std::uint16_t event, const AuditInitiator& who, std::vector<std::uint8_t> extended);

  PlatformModel& platform_;
  core::FirmwareTimerQueue& timers_;
  UserConsentOptions options_;
  ConsentState state_ = ConsentState::NotStarted;
  std::string code_;
  unsigned wrongCodes_ = 0;
  core::FirmwareTimerQueue::TimerId displayTimer_ = 0;
  core::FirmwareTimerQueue::TimerId codeTimer_ = 0;
  std::map<SessionId, Session> sessions_;
  SessionId nextSession_ = 1;
  std::map<std::size_t, std::function<void()>> observers_;
  std::size_t nextObserver_ = 1;
  std::size_t platformSubscription_ = 0;
  UserConsentStats stats_;
};

}  // namespace mesim::platform
