// The redirection protocol's sessions (../shared/spec/features.md §1.1-1.2) without sockets: a RedirectionSession
// takes the bytes a console sent and answers through a Transport, one message per write (amtterm 1.4 takes a whole
// read for 0x14, 0x21, 0x29 and 0x23). RedirectionService holds what sessions share: the platform model (whether
// redirection is on, the accounts), the Digest authenticator with its login back-off (shared with 16992/16993),
// the firmware timers (idle and heartbeat timeouts), the one SOL slot and the serial port's host side.
//
//   RedirectionService service(platform, timers, authenticator, options);
//   service.setSerialHost(&pty);
//   auto session = service.open({write, close}, "192.0.2.7");
//   session->receive(bytes);   // as they arrive; session->end("peer closed") when the socket closes
//
// Served: SOL, KVMR when a KvmService is set (kvm_redirection.h), and IDER (ider_session.h: after the login the
// bytes go to an IderSession). Threading: the device's loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "common/log.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/platform_model.h"
#include "firmware/platform/user_consent.h"
#include "wsman/http/digest_auth.h"
#include "wsman/redirection/ider_session.h"
#include "wsman/redirection/redirection_codec.h"
#include "wsman/redirection/serial_port_host.h"

namespace mesim::wsman::redirection {

class KvmService;
class KvmRedirection;

struct RedirectionOptions {
  // A session that sends nothing for this long is closed (firmware time): before SOL starts, and in SOL when the
  // console asked for no heartbeat. With a heartbeat H the limit is 3 H: AMT sends 0x2B every H and amtterm
  // echoes it, MeshCentral sends its own every 2 s.
  std::chrono::milliseconds idleTimeout{60'000};
  unsigned maxAuthFailures = 3;      // failed logins on one connection before it is closed
  std::size_t maxSolChunk = 0x2000;  // bytes per 0x2A at most (also the buffer 0x21 announces)
};

struct RedirectionStats {
  std::uint64_t sessions = 0;         // connections given a session
  std::uint64_t solSessions = 0;      // SOL started
  std::uint64_t authFailures = 0;
  std::uint64_t busy = 0;             // answered status 2
  std::uint64_t unsupported = 0;      // IDER (and KVMR without a KVM service) answered status 3
  std::uint64_t kvmSessions = 0;      // KVMR logged in
  std::uint64_t webSessions = 0;      // of `sessions`, over /ws-redirection (the web variant)
  std::uint64_t webLogins = 0;        // type 2 logins of the web variant's HTTP user
  std::uint64_t refused = 0;          // SOL disabled in AMT_RedirectionService: status FF
  std::uint64_t consentRequired = 0;  // StartSOL answered status FF for want of user consent
  std::uint64_t idleTimeouts = 0;
  std::uint64_t protocolErrors = 0;   // undecodable or out-of-place messages: the connection is closed
  std::uint64_t bytesToHost = 0;
  std::uint64_t bytesFromHost = 0;
  std::uint64_t pauses = 0;           // times the console was held back for a slow host (flow control)
  std::uint64_t powerNotices = 0;     // 0x29 sent to a SOL console because the host's power changed
};

class RedirectionService;

// How a session's connection came: the redirection port, or the web variant (/ws-redirection on 16992/16993).
struct RedirectionSessionOptions {
  // The web variant's user, whom HTTP Digest logged in before the WebSocket opened. Set, AuthenticateSession type 2
  // (Kerberos) with no data logs this user in (MeshCommander's firmware build sends `13 00 00 00 02 00000000`) and
  // the query answer lists type 2; unset (16994/16995) type 2 is answered "not supported" like any unknown type.
  std::optional<std::string> httpUser;
};

class RedirectionSession {
 public:
  struct Transport {
    std::function<void(std::vector<std::uint8_t> message)> write;  // one message, one write
    std::function<void()> close;                                  // after the writes queued so far
    // Flow control: the owner stops reading the connection while readingPaused() and reads again when this is
    // called. Unset: the session never pauses (a slow host's queue then drops beyond its limit).
    std::function<void()> resume = nullptr;
  };
  enum class State { AwaitStart, AwaitAuth, Authenticated, Sol, Kvm, Ider, Ended };

  RedirectionSession(RedirectionService& service, Transport transport, std::string peerAddress,
                     RedirectionSessionOptions options = {});
  ~RedirectionSession();
  RedirectionSession(const RedirectionSession&) = delete;
  RedirectionSession& operator=(const RedirectionSession&) = delete;

  // Bytes from the console, as they came (any split).
  void receive(std::span<const std::uint8_t> bytes);
  // The connection is gone or the service stops: frees the SOL slot, records the end. Idempotent.
  void end(const std::string& why);

  State state() const { return state_; }
  const std::string& user() const { return user_; }
  const std::string& peerAddress() const { return peer_; }
  std::uint8_t controlBits() const { return controlBits_; }  // last 0x29 from the console
  // True while the host's side of SOL is full (serial_port_host.h): feed no more bytes until transport.resume.
  bool readingPaused() const { return paused_; }

 private:
  friend class RedirectionService;
  void handle(const Message& message);
  void onStart(const StartSession& start);
  void onAuthenticate(const Authenticate& auth);
  void onStartSol(const StartSol& start);
  // KVMR (redirection_kvm.cpp)
  SessionStatus startKvmStatus();
  void startKvm();
  std::chrono::milliseconds kvmIdleLimit() const;
  void onEndSol();
  void fromHost(std::string_view bytes);
  bool holdBack() const;
  void hostDrained();
  void powerChanged(bool poweredOn);
  void authenticated(const std::string& user);
  void startIder();
  void authFailed(AuthType type, const std::string& why);
  void send(const Message& message);
  void protocolError(const std::string& why);
  void armSilence();
  void armHeartbeat();
  void stopSol(bool reply);
  void close(const std::string& why);
  const log::Context& logContext() const;

  RedirectionService* service_;  // null once ended
  Transport transport_;
  std::string peer_;
  RedirectionSessionOptions options_;
  State state_ = State::AwaitStart;
  std::vector<std::uint8_t> buffer_;
  std::string user_;
  unsigned authFailures_ = 0;
  SolSettings sol_;
  std::uint32_t sequence_ = 0;  // of AMT's own messages (0x2A, 0x2B, 0x29)
  std::uint8_t controlBits_ = 0;
  bool paused_ = false;  // not reading the console: the host's queue is full
  core::FirmwareTimerQueue::TimerId silenceTimer_ = 0;
  core::FirmwareTimerQueue::TimerId heartbeatTimer_ = 0;
  std::optional<platform::UserConsent::SessionId> consentSession_;  // SOL's hold on user consent
  std::string tag_;                      // of StartRedirectionSession
  std::unique_ptr<KvmRedirection> kvm_;  // KVMR, from the login on
  std::optional<platform::UserConsent::SessionId> iderConsent_;  // IDE-R's hold on user consent
  std::unique_ptr<IderSession> ider_;   // IDER, from the login on; kept until this session is destroyed
};

class RedirectionService {
 public:
  RedirectionService(platform::PlatformModel& platform, core::FirmwareTimerQueue& timers,
                     http::DigestAuthenticator& authenticator, RedirectionOptions options = {});
  ~RedirectionService();
  RedirectionService(const RedirectionService&) = delete;
  RedirectionService& operator=(const RedirectionService&) = delete;

  // The host side of SOL; null = no serial port (SOL sessions then carry nothing). Set before sessions start.
  void setSerialHost(SerialPortHost* host) { serial_ = host; }
  SerialPortHost* serialHost() const { return serial_; }
  // User consent (firmware/platform/user_consent.h): SOL starts only when it allows; null = never asked.
  void setUserConsent(platform::UserConsent* consent) { consent_ = consent; }
  // KVMR's RFB side; null: KVMR is answered status 3. Set before sessions start.
  void setKvm(KvmService* kvm) { kvm_ = kvm; }

  // Whether a connection may be served at all: AMT's network side is shut until provisioning completes, and
  // AMT_RedirectionService.ListenerEnabled false closes the listener's connections.
  bool accepting() const;
  // What AMT_RedirectionService.EnabledState and the feature switch say about SOL.
  bool solEnabled() const;

  std::unique_ptr<RedirectionSession> open(RedirectionSession::Transport transport, std::string peerAddress,
                                           RedirectionSessionOptions options = {});
  // Ends every session (the device stops).
  void endAll(const std::string& why);
  // Closes the sessions in `state` (AMT_RedirectionService.TerminateSession: Sol or Ider); how many it closed.
  std::size_t closeSessions(RedirectionSession::State state, const std::string& why);

  const RedirectionSession* solSession() const { return solOwner_; }
  // IDE-R: the one slot, the media, the BIOS's boot from it (ider_session.h).
  IderHub& ider() { return ider_; }
  const IderHub& ider() const { return ider_; }
  const RedirectionStats& stats() const { return stats_; }
  std::size_t sessionCount() const { return sessions_.size(); }
  const RedirectionOptions& options() const { return options_; }
  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  friend class RedirectionSession;
  void forget(RedirectionSession* session) { sessions_.erase(session); }
  // The one SOL slot: false when another session holds it.
  bool takeSol(RedirectionSession& session);
  void releaseSol(RedirectionSession& session);
  void record(const RedirectionSession& session, bool started);
  bool mayRedirect(const std::string& user) const;
  void watchPower();

  platform::PlatformModel& platform_;
  core::FirmwareTimerQueue& timers_;
  http::DigestAuthenticator& auth_;
  RedirectionOptions options_;
  SerialPortHost* serial_ = nullptr;
  platform::UserConsent* consent_ = nullptr;
  KvmService* kvm_ = nullptr;
  RedirectionSession* solOwner_ = nullptr;
  std::set<RedirectionSession*> sessions_;
  RedirectionStats stats_;
  std::size_t platformToken_ = 0;
  bool hostPoweredOn_ = false;  // as last told to SOL consoles (0x29 status bit 4)
  IderHub ider_;
};

const char* toString(RedirectionSession::State state);

}  // namespace mesim::wsman::redirection
