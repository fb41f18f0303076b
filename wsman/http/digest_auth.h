// HTTP Digest as AMT does it on 16992/16993 (spec/wsman.md §2.1): RFC 7616 with MD5 and qop="auth" only,
// realm = AMT_GeneralSettings.DigestRealm, '='-free nonces that expire (stale=true), nonce-count replay
// detection, a full-length constant-time response check (CVE-2017-5689), AMT's login back-off and audit
// records of logins. Users: the admin and the enabled ACL users of the platform model (HA1 only).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "firmware/core/firmware_clock.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_model.h"

namespace mesim::wsman::http {

using TimePoint = core::FirmwareClock::time_point;

// Audit events of logins, in AMT_AuditLog app 16 "Security Admin" (platform::audit::kSecurityAdmin).
// 1605 "ACL Access with Invalid Credentials"; extended data [0] = 0 "Invalid ME access" (MeshCentral amt.js).
inline constexpr std::uint16_t kEventAclAccessInvalidCredentials = 5;
// Real AMT audits no successful login. mesim records one per Digest login session (first use of a nonce) with
// this id, outside the range Intel documents for app 16 (0..19), so it can never collide with a real event.
inline constexpr std::uint16_t kEventMesimDigestLogin = 100;

// ------------------------------------------------------------------------------------------------
// Codec (pure)
// ------------------------------------------------------------------------------------------------

struct DigestCredentials {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;
  std::string qop;
  std::string nc;
  std::string cnonce;
  std::string algorithm;
  std::string opaque;
};

// Parses an Authorization header value. nullopt unless the scheme is Digest and the auth-param list is
// well formed (names are tokens, quoted strings closed, no parameter repeated). Unknown parameters are
// ignored (RFC 7616 §3.4); a missing one is left empty for the caller to judge.
std::optional<DigestCredentials> parseDigestAuthorization(std::string_view header);

std::string md5Hex(std::string_view data);  // lower-case hex
// RFC 7616 §3.4.1 with qop: MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" MD5(method ":" uri)).
std::string digestResponse(std::string_view ha1, std::string_view nonce, std::string_view nc, std::string_view cnonce,
                           std::string_view qop, std::string_view method, std::string_view uri);

// ------------------------------------------------------------------------------------------------
// Server state
// ------------------------------------------------------------------------------------------------

struct DigestOptions {
  std::chrono::seconds nonceLifetime{300};  // then stale=true; AMT: "clients must ... process ... the nonce is reset"
  std::size_t maxNonces = 1024;             // oldest forgotten first (its client gets stale=true)
  // Nonces one client address may hold: a 401 flood from one address forgets that address's own oldest
  // nonces, never another client's. When all addresses together are over maxNonces, the address holding most
  // gives up its oldest (of several holding as many, the one with the oldest nonce).
  std::size_t maxNoncesPerAddress = 256;
  // Login back-off, after Intel's description: "if ... Intel AMT detects ten successive login failures,
  // further login attempts are disallowed for a period of time. The timeout period starts at 5 seconds and
  // reaches 80 seconds during continuous attack. After one hour of no attack the backoff mechanism is reset."
  unsigned lockoutThreshold = 10;  // 0: never locked out
  std::chrono::seconds lockoutInitial{5};
  std::chrono::seconds lockoutMax{80};
  std::chrono::seconds lockoutReset{3600};
  // Real AMT audits failed logins only; mesim also records each new login session (kEventMesimDigestLogin).
  bool auditSuccessfulLogins = true;
};

// Nonces this server issued, with the highest nonce-count seen for each.
class NonceStore {
 public:
  enum class Use { First, Again, Stale, Replay };

  NonceStore(std::chrono::seconds lifetime, std::size_t capacity, std::size_t perAddress = 0)
      : lifetime_(lifetime), capacity_(capacity), perAddress_(perAddress == 0 ? capacity : perAddress) {}
  // 24 random bytes in base64: 32 characters, never '=' (the shape of AMT's nonces), for the client at `address`.
  std::string issue(TimePoint now, const std::string& address = {});
  // First: valid, first use. Again: valid, nc above all earlier ones. Stale: unknown, forgotten or
  // expired. Replay: nc not above the highest seen.
  Use use(std::string_view nonce, std::uint32_t nc, TimePoint now);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    TimePoint issued;
    std::uint32_t maxNc = 0;
    std::string address;
    std::uint64_t serial = 0;  // issue order: among addresses holding as many, the oldest nonce goes first
  };
  void forget(const std::string& nonce);
  void forgetOldestOf(std::map<std::string, std::deque<std::string>>::iterator address);
  std::chrono::seconds lifetime_;
  std::size_t capacity_;
  std::size_t perAddress_;
  std::uint64_t issued_ = 0;
  std::unordered_map<std::string, Entry> entries_;
  std::map<std::string, std::deque<std::string>> byAddress_;  // each address's nonces in issue order
};

// The back-off per user name (all unknown names share one entry, so memory stays bounded).
class LoginThrottle {
 public:
  explicit LoginThrottle(DigestOptions options) : options_(std::move(options)) {}
  // True while `key` is locked out. An attempt in that time counts as attack activity.
  bool locked(const std::string& key, TimePoint now);
  // Records a failure; true if it started a lockout.
  bool failure(const std::string& key, TimePoint now);
  void success(const std::string& key);
  std::optional<TimePoint> lockedUntil(const std::string& key) const;

 private:
  struct Entry {
    unsigned failures = 0;  // successive, since the last success or lockout
    unsigned level = 0;     // lockouts in this attack: duration = initial * 2^level, at most max
    TimePoint lockedUntil{};
    TimePoint lastActivity{};
    bool locked = false;
  };
  DigestOptions options_;
  std::map<std::string, Entry> entries_;
};

struct AuthAttempt {
  std::string_view method;         // "POST"
  std::string_view uri;            // request-target as received
  std::string_view authorization;  // Authorization header value ("" if none)
  bool local = false;              // local channel: ACL users need local access permission
  std::string_view peerAddress;    // client IP (audit record, logs); a local channel's name is not audited
};

enum class AuthStatus {
  Ok,
  NoCredentials,  // no Authorization, or not Digest: challenge
  Stale,          // correct credentials, nonce expired or unknown: challenge with stale=true
  Replay,         // correct credentials, nonce-count not increasing: challenge with stale=true
  Denied,         // wrong or malformed credentials (counted, audited)
  LockedOut,      // the user is in a back-off period; credentials not even checked
};
const char* toString(AuthStatus status);

struct AuthResult {
  AuthStatus status = AuthStatus::NoCredentials;
  std::string user;  // the claimed user name (empty if none)
};

struct DigestStats {
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  std::uint64_t lockouts = 0;
  std::uint64_t lockedOutAttempts = 0;
  std::uint64_t staleNonces = 0;
  std::uint64_t replays = 0;
};

class DigestAuthenticator {
 public:
  DigestAuthenticator(platform::PlatformModel& platform, const core::FirmwareClock& clock, DigestOptions options);

  AuthResult authenticate(const AuthAttempt& attempt);
  // The same check for credentials that came in another wrapping than an Authorization header (the redirection
  // protocol's binary Digest, wsman/redirection): `attempt.authorization` is not read.
  AuthResult authenticateCredentials(const DigestCredentials& credentials, const AuthAttempt& attempt);
  // A user name and password in the clear (the redirection protocol's type 1, Debian amtterm 1.4): checked against
  // the same accounts, back-off and audit records as a Digest login; a password has no nonce to go stale.
  AuthResult authenticatePassword(std::string_view user, std::string_view password, const AuthAttempt& attempt);
  // A fresh nonce for `peerAddress`, as challenge() hands out (for the redirection protocol's Digest).
  std::string issueNonce(const std::string& peerAddress = {}) { return nonces_.issue(clock_.now(), peerAddress); }
  // A WWW-Authenticate value with a fresh nonce, spaced exactly like AMT's:
  // Digest realm="Digest:…", nonce="…",stale="false",qop="auth"
  // Nonces are kept per client address (DigestOptions::maxNoncesPerAddress).
  std::string challenge(bool stale, const std::string& peerAddress = {});

  const DigestStats& stats() const { return stats_; }
  const DigestOptions& options() const { return options_; }
  std::size_t nonceCount() const { return nonces_.size(); }

  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  struct Account {
    std::string ha1;
    bool permitted = false;  // enabled, and allowed on this channel (local / network)
    std::string throttleKey;  // its login back-off entry; never the one unknown names share
  };
  std::optional<Account> findAccount(std::string_view user, bool local) const;
  AuthResult deny(const AuthAttempt& attempt, const std::string& user, const std::string& throttleKey,
                  const char* why);
  void audit(const AuthAttempt& attempt, const std::string& user, std::uint16_t eventId,
             std::vector<std::uint8_t> extendedData);

  platform::PlatformModel& platform_;
  const core::FirmwareClock& clock_;
  DigestOptions options_;
  NonceStore nonces_;
  LoginThrottle throttle_;
  DigestStats stats_;
};

}  // namespace mesim::wsman::http
