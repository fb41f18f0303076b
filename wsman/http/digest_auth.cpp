#include "wsman/http/digest_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <memory>

#include "common/log.h"
#include "common/text_codecs.h"
#include "firmware/platform/credentials.h"

namespace mesim::wsman::http {
namespace {

constexpr const char* kLog = "wsman-http";
// The back-off entry of the OS admin name tried from the network: no user name can hold a control character.
constexpr std::string_view kOsAdminNetworkThrottleKey = "\x01os-admin-from-network";

bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isSpace(char c) { return c == ' ' || c == '\t'; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool isHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string lowerCase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// For log lines: user names come from the network.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7F ? c : '?');
  if (s.size() > 64) out += "...";
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Codec
// ------------------------------------------------------------------------------------------------

std::optional<DigestCredentials> parseDigestAuthorization(std::string_view h) {
  std::size_t i = 0;
  auto skipSpace = [&] {
    while (i < h.size() && isSpace(h[i])) ++i;
  };
  auto token = [&] {
    std::size_t start = i;
    while (i < h.size() && isTokenChar(h[i])) ++i;
    return h.substr(start, i - start);
  };

  skipSpace();
  if (!equalsIgnoreCase(token(), "Digest")) return std::nullopt;
  if (i < h.size() && !isSpace(h[i])) return std::nullopt;

  DigestCredentials c;
  std::array<std::pair<std::string_view, std::string*>, 10> fields{{{"username", &c.username},
                                                                   {"realm", &c.realm},
                                                                   {"nonce", &c.nonce},
                                                                   {"uri", &c.uri},
                                                                   {"response", &c.response},
                                                                   {"qop", &c.qop},
                                                                   {"nc", &c.nc},
                                                                   {"cnonce", &c.cnonce},
                                                                   {"algorithm", &c.algorithm},
                                                                   {"opaque", &c.opaque}}};
  std::array<bool, 10> seen{};
  bool any = false;
  for (;;) {
    while (i < h.size() && (isSpace(h[i]) || h[i] == ',')) ++i;
    if (i == h.size()) break;
    const std::string_view name = token();
    if (name.empty()) return std::nullopt;
    skipSpace();
    if (i == h.size() || h[i] != '=') return std::nullopt;
    ++i;
    skipSpace();
    std::string value;
    if (i < h.size() && h[i] == '"') {
      ++i;
      bool closed = false;
      while (i < h.size()) {
        char ch = h[i++];
        if (ch == '"') {
          closed = true;
          break;
        }
        if (ch == '\\') {
          if (i == h.size()) return std::nullopt;
          ch = h[i++];
        }
        value.push_back(ch);
      }
      if (!closed) return std::nullopt;
    } else {
      // Unquoted: a token by the grammar; clients also send nonces and URIs bare, so take up to ',' or space.
      std::size_t start = i;
      while (i < h.size() && h[i] != ',' && !isSpace(h[i]) && h[i] != '"') ++i;
      value = std::string(h.substr(start, i - start));
    }
    skipSpace();
    if (i < h.size() && h[i] != ',') return std::nullopt;
    any = true;
    for (std::size_t f = 0; f < fields.size(); ++f) {
      if (equalsIgnoreCase(name, fields[f].first)) {
        if (seen[f]) return std::nullopt;
        seen[f] = true;
        *fields[f].second = std::move(value);
        break;
      }
    }
  }
  if (!any) return std::nullopt;
  return c;
}

std::string md5Hex(std::string_view data) {
  // EVP_md5() makes OpenSSL 3 look the algorithm up in its provider store (locks) on every digest, and
  // EVP_Digest allocates a context each time: fetch once, and keep one context per thread.
  static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!md5 || !ctx || EVP_DigestInit_ex(ctx.get(), md5, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) {
    MESIM_LOG(Error, kLog, "MD5 unavailable in OpenSSL; Digest authentication cannot work");
    std::abort();
  }
  return text::toHex(std::span(digest, length));
}

std::string digestResponse(std::string_view ha1, std::string_view nonce, std::string_view nc, std::string_view cnonce,
                           std::string_view qop, std::string_view method, std::string_view uri) {
  const std::string ha2 = md5Hex(std::string(method) + ":" + std::string(uri));
  std::string input;
  input.append(ha1).append(":").append(nonce).append(":").append(nc).append(":").append(cnonce).append(":");
  input.append(qop).append(":").append(ha2);
  return md5Hex(input);
}

// ------------------------------------------------------------------------------------------------
// NonceStore
// ------------------------------------------------------------------------------------------------

std::string NonceStore::issue(TimePoint now, const std::string& address) {
  std::uint8_t raw[24];
  platform::randomBytes(raw, sizeof raw);
  std::string nonce = text::base64Encode(raw);  // 24 bytes: no padding
  entries_[nonce] = Entry{now, 0, address, ++issued_};
  auto mine = byAddress_.try_emplace(address).first;
  mine->second.push_back(nonce);
  if (mine->second.size() > perAddress_) forgetOldestOf(mine);
  if (entries_.size() > capacity_) {
    auto serialOf = [this](const std::string& n) { return entries_.at(n).serial; };
    auto most = byAddress_.begin();
    for (auto it = byAddress_.begin(); it != byAddress_.end(); ++it)
      if (it->second.size() > most->second.size() ||
          (it->second.size() == most->second.size() && serialOf(it->second.front()) < serialOf(most->second.front())))
        most = it;
    forgetOldestOf(most);
  }
  return nonce;
}

void NonceStore::forgetOldestOf(std::map<std::string, std::deque<std::string>>::iterator address) {
  entries_.erase(address->second.front());
  address->second.pop_front();
  if (address->second.empty()) byAddress_.erase(address);
}

void NonceStore::forget(const std::string& nonce) {
  auto it = entries_.find(nonce);
  if (it == entries_.end()) return;
  auto address = byAddress_.find(it->second.address);
  entries_.erase(it);
  if (address == byAddress_.end()) return;
  auto& list = address->second;  // at most perAddress_ long
  list.erase(std::find(list.begin(), list.end(), nonce));
  if (list.empty()) byAddress_.erase(address);
}

NonceStore::Use NonceStore::use(std::string_view nonce, std::uint32_t nc, TimePoint now) {
  const std::string key(nonce);
  auto it = entries_.find(key);
  if (it == entries_.end()) return Use::Stale;
  if (now < it->second.issued || now - it->second.issued > lifetime_) {
    forget(key);
    return Use::Stale;
  }
  if (nc <= it->second.maxNc) return Use::Replay;
  const bool first = it->second.maxNc == 0;
  it->second.maxNc = nc;
  return first ? Use::First : Use::Again;
}

// ------------------------------------------------------------------------------------------------
// LoginThrottle
// ------------------------------------------------------------------------------------------------

bool LoginThrottle::locked(const std::string& key, TimePoint now) {
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.locked) return false;
  Entry& e = it->second;
  // A lockout never lasts longer than lockoutMax, even if the firmware clock was set back.
  if (now >= e.lockedUntil || e.lockedUntil - now > options_.lockoutMax) {
    e.locked = false;
    return false;
  }
  e.lastActivity = now;
  return true;
}

bool LoginThrottle::failure(const std::string& key, TimePoint now) {
  Entry& e = entries_[key];
  if (e.lastActivity != TimePoint{} && (now < e.lastActivity || now - e.lastActivity > options_.lockoutReset)) {
    e.failures = 0;
    e.level = 0;
  }
  e.lastActivity = now;
  if (options_.lockoutThreshold == 0) return false;  // turned off
  if (++e.failures < options_.lockoutThreshold) return false;
  auto duration = options_.lockoutInitial * (1u << std::min(e.level, 16u));
  if (duration > options_.lockoutMax) duration = options_.lockoutMax;
  e.lockedUntil = now + duration;
  e.locked = true;
  e.failures = 0;
  ++e.level;
  return true;
}

void LoginThrottle::success(const std::string& key) {
  auto it = entries_.find(key);
  if (it != entries_.end()) it->second.failures = 0;
}

std::optional<TimePoint> LoginThrottle::lockedUntil(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.locked) return std::nullopt;
  return it->second.lockedUntil;
}

// ------------------------------------------------------------------------------------------------
// DigestAuthenticator
// ------------------------------------------------------------------------------------------------

const char* toString(AuthStatus status) {
  switch (status) {
    case AuthStatus::Ok: return "ok";
    case AuthStatus::NoCredentials: return "no credentials";
    case AuthStatus::Stale: return "stale nonce";
    case AuthStatus::Replay: return "nonce-count replay";
    case AuthStatus::Denied: return "denied";
    case AuthStatus::LockedOut: return "locked out";
  }
  return "?";
}

DigestAuthenticator::DigestAuthenticator(platform::PlatformModel& platform, const core::FirmwareClock& clock,
                                         DigestOptions options)
    : platform_(platform),
      clock_(clock),
      options_(options),
      nonces_(options.nonceLifetime, std::max<std::size_t>(1, options.maxNonces), options.maxNoncesPerAddress),
      throttle_(options) {}

std::string DigestAuthenticator::challenge(bool stale, const std::string& peerAddress) {
  return "Digest realm=\"" + platform_.digestRealm() + "\", nonce=\"" + nonces_.issue(clock_.now(), peerAddress) +
         "\",stale=\"" + (stale ? "true" : "false") + "\",qop=\"auth\"";
}

std::optional<DigestAuthenticator::Account> DigestAuthenticator::findAccount(std::string_view user, bool local) const {
  if (user == platform_.admin().user) return Account{platform_.admin().ha1, true, std::string(user)};
  // The OS admin account (AMTHI GetLocalSystemAccount) logs in from the host only (LMS's own clients use it), in
  // AMT's realm. From the network it is refused; those failures count on a back-off entry of their own, so that
  // they neither lock out unknown names nor the host's logins with the account.
  const auto& os = platform_.localSystemAccount();
  if (user == os.user) {
    const std::string ha1 = md5Hex(os.user + ":" + platform_.digestRealm() + ":" + os.password);
    return local ? Account{ha1, true, os.user} : Account{ha1, false, std::string(kOsAdminNetworkThrottleKey)};
  }
  for (const auto& acl : platform_.state().aclUsers) {
    if (acl.user != user) continue;
    const bool channelAllowed = local ? acl.access != platform::AclAccess::NetworkOnly
                                      : acl.access != platform::AclAccess::LocalOnly;
    return Account{acl.ha1, acl.enabled && channelAllowed, acl.user};
  }
  return std::nullopt;
}

void DigestAuthenticator::audit(const AuthAttempt& attempt, const std::string& user, std::uint16_t eventId,
                                std::vector<std::uint8_t> extendedData) {
  platform::AuditInitiator who;
  who.user = user;  // a Digest initiator, also on the local channel
  who.local = attempt.local;
  if (!attempt.local) who.address = std::string(attempt.peerAddress);
  auto record = platform::makeAuditRecord(platform::audit::kSecurityAdmin, eventId, who,
                                          core::unixSeconds(clock_.now()), extendedData);
  const auto result =
      platform_.update([&](platform::PlatformState& s) { platform::appendAuditRecord(s, std::move(record)); });
  if (result != platform::ChangeResult::Ok)
    MESIM_LOG(Warn, kLog, "cannot record a login in the audit log: " << platform::toString(result) << " "
                                                                      << platform_.lastError());
}

AuthResult DigestAuthenticator::deny(const AuthAttempt& attempt, const std::string& user,
                                     const std::string& throttleKey, const char* why) {
  ++stats_.failures;
  MESIM_LOG(Info, kLog, "digest login failed for '" << printable(user) << "' from " << printable(attempt.peerAddress)
                                                     << ": " << why);
  audit(attempt, user, kEventAclAccessInvalidCredentials, {0x00});  // 0 = "Invalid ME access"
  if (throttle_.failure(throttleKey, clock_.now())) {
    ++stats_.lockouts;
    MESIM_LOG(Warn, kLog, "too many failed logins for '" << printable(user) << "'; further attempts refused until "
                                                          << core::unixSeconds(*throttle_.lockedUntil(throttleKey))
                                                          << " (Unix time)");
  }
  return {AuthStatus::Denied, user};
}

AuthResult DigestAuthenticator::authenticate(const AuthAttempt& attempt) {
  if (attempt.authorization.empty()) return {AuthStatus::NoCredentials, {}};
  auto creds = parseDigestAuthorization(attempt.authorization);
  if (!creds) {
    // Another scheme (Basic, Negotiate) is a request for a Digest challenge; a broken Digest header is a failure.
    std::string_view scheme = attempt.authorization.substr(0, attempt.authorization.find(' '));
    if (!equalsIgnoreCase(scheme, "Digest")) return {AuthStatus::NoCredentials, {}};
    // Counted with the unknown names: while they are locked out, a malformed header is refused unaudited too.
    if (throttle_.locked({}, clock_.now())) {
      ++stats_.lockedOutAttempts;
      return {AuthStatus::LockedOut, {}};
    }
    return deny(attempt, {}, {}, "malformed Authorization header");
  }

  return authenticateCredentials(*creds, attempt);
}

AuthResult DigestAuthenticator::authenticatePassword(std::string_view user, std::string_view password,
                                                     const AuthAttempt& attempt) {
  const TimePoint now = clock_.now();
  const auto account = findAccount(user, attempt.local);
  const std::string throttleKey = account ? account->throttleKey : std::string();
  const std::string name(user);
  if (throttle_.locked(throttleKey, now)) {
    ++stats_.lockedOutAttempts;
    MESIM_LOG(Debug, kLog, "login for '" << printable(name) << "' refused: locked out");
    return {AuthStatus::LockedOut, name};
  }
  if (name.empty()) return deny(attempt, name, throttleKey, "no user name");
  // The stored secret is HA1, so the password is checked through it, in constant time like a Digest response.
  const std::string given = md5Hex(name + ":" + platform_.digestRealm() + ":" + std::string(password));
  const std::string expected = account ? account->ha1 : md5Hex(name + ":" + platform_.digestRealm() + ":\x01");
  const bool match = expected.size() == given.size() &&
                     CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
  if (!account || !match) return deny(attempt, name, throttleKey, account ? "wrong password" : "unknown user");
  if (!account->permitted) return deny(attempt, name, throttleKey, "account disabled or not allowed on this channel");
  if (options_.auditSuccessfulLogins) audit(attempt, name, kEventMesimDigestLogin, {});
  ++stats_.successes;
  throttle_.success(throttleKey);
  return {AuthStatus::Ok, name};
}

AuthResult DigestAuthenticator::authenticateCredentials(const DigestCredentials& credentials,
                                                        const AuthAttempt& attempt) {
  const DigestCredentials* creds = &credentials;
  const TimePoint now = clock_.now();
  const auto account = findAccount(creds->username, attempt.local);
  // Unknown names share one back-off entry, so a flood of invented names cannot grow the table.
  const std::string throttleKey = account ? account->throttleKey : std::string();
  if (throttle_.locked(throttleKey, now)) {
    ++stats_.lockedOutAttempts;
    MESIM_LOG(Debug, kLog, "login for '" << printable(creds->username) << "' refused: locked out");
    return {AuthStatus::LockedOut, creds->username};
  }

  const auto& c = *creds;
  if (c.username.empty()) return deny(attempt, c.username, throttleKey, "no user name");
  // CVE-2017-5689: the whole 32-digit response is compared, never a prefix of the client's length.
  if (c.response.size() != 32 || !isHex(c.response)) return deny(attempt, c.username, throttleKey, "bad response=");
  if (c.realm != platform_.digestRealm()) return deny(attempt, c.username, throttleKey, "wrong realm");
  if (c.uri != attempt.uri) return deny(attempt, c.username, throttleKey, "uri does not match the request");
  if (c.qop != "auth") return deny(attempt, c.username, throttleKey, "qop must be auth");
  if (!c.algorithm.empty() && !equalsIgnoreCase(c.algorithm, "MD5"))
    return deny(attempt, c.username, throttleKey, "algorithm must be MD5");
  if (c.nonce.empty() || c.cnonce.empty()) return deny(attempt, c.username, throttleKey, "nonce or cnonce missing");
  if (c.nc.size() != 8 || !isHex(c.nc)) return deny(attempt, c.username, throttleKey, "nc must be 8 hex digits");
  const auto nc = static_cast<std::uint32_t>(std::strtoul(c.nc.c_str(), nullptr, 16));
  if (nc == 0) return deny(attempt, c.username, throttleKey, "nc must not be 0");

  // Unknown users are checked against a throw-away HA1, so both failures take the same path.
  const std::string ha1 = account ? account->ha1 : md5Hex(c.username + ":" + c.realm + ":");
  const std::string expected = digestResponse(ha1, c.nonce, c.nc, c.cnonce, c.qop, attempt.method, attempt.uri);
  const std::string given = lowerCase(c.response);
  const bool match = CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
  if (!account || !match) return deny(attempt, c.username, throttleKey, account ? "wrong password" : "unknown user");
  if (!account->permitted)
    return deny(attempt, c.username, throttleKey, "account disabled or not allowed on this channel");

  // The password is right; only now does the nonce decide (RFC 7616 §3.3: stale means "credentials valid").
  switch (nonces_.use(c.nonce, nc, now)) {
    case NonceStore::Use::Stale:
      ++stats_.staleNonces;
      return {AuthStatus::Stale, c.username};
    case NonceStore::Use::Replay:
      ++stats_.replays;
      MESIM_LOG(Warn, kLog, "nonce-count replay for '" << printable(c.username) << "' from "
                                                       << printable(attempt.peerAddress) << " (nc " << c.nc << ")");
      return {AuthStatus::Replay, c.username};
    case NonceStore::Use::First:
      if (options_.auditSuccessfulLogins) audit(attempt, c.username, kEventMesimDigestLogin, {});
      [[fallthrough]];
    case NonceStore::Use::Again: break;
  }
  ++stats_.successes;
  throttle_.success(throttleKey);
  return {AuthStatus::Ok, c.username};
}

}  // namespace mesim::wsman::http
