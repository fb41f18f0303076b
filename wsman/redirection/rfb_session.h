// KVM's RFB server side without sockets (features.md §1.4, RFC 6143): an RfbSession takes a viewer's bytes and
// answers through a Transport; KvmService holds what sessions share: the platform model (is KVM on, is 5900 on, the
// RFBPassword), the screen (one session on it at a time), the firmware timers, the audit and message-log records.
//
// Two modes:
// - Standard, port 5900: versions 3.3/3.7/3.8, VNC authentication with IPS_KVMRedirectionSettingData.RFBPassword,
//   32 bpp true colour until the viewer sets its own format.
// - Redirection, KVMR on 16994/16995 after the AMT login and the 0x40/0x41 exchange (kvm_redirection.h): RFB 3.8
//   with security None (the viewer already logged in), a 16 bpp RGB565 ServerInit, as MeshCentral expects.
// Both: SetPixelFormat (8/16/32 bpp true colour), SetEncodings (ZRLE preferred when offered, else RAW),
// FramebufferUpdateRequest (incremental answered when the screen changes), KeyEvent and PointerEvent to the
// screen, ClientCutText (and Intel's data channel, which rides on it) ignored. Rectangles are at most 64x64.
// When the screen changes size (an upstream VM's, upstream_vnc_screen.h), a viewer that listed DesktopSize gets a
// DesktopSize rectangle and the whole new screen in its next update; one that did not is closed, as TigerVNC's
// server does ("the viewer cannot follow a desktop resize").
//
// Threading: the device's loop.
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
#include "wsman/redirection/kvm_screen_source.h"
#include "wsman/redirection/rfb_codec.h"
#include "wsman/redirection/vnc_auth.h"

namespace mesim::wsman::redirection {

struct KvmOptions {
  // A viewer that has not finished the handshake (version, security, ClientInit) in this long is closed (firmware
  // time).
  std::chrono::milliseconds handshakeTimeout{30'000};
  std::string desktopName = "mesim";
};

struct KvmStats {
  std::uint64_t sessions = 0;        // viewers that reached ServerInit
  std::uint64_t port5900Sessions = 0;
  std::uint64_t redirectionSessions = 0;
  std::uint64_t authFailures = 0;    // wrong VNC password
  std::uint64_t busy = 0;            // refused: another session holds the screen
  std::uint64_t refused = 0;         // refused: KVM or 5900 off, no RFBPassword
  std::uint64_t consentRequired = 0; // refused: user consent is required and not given (docs/user-consent.md)
  std::uint64_t protocolErrors = 0;
  std::uint64_t updates = 0;         // FramebufferUpdate messages sent
  std::uint64_t rectangles = 0;
  std::uint64_t keyEvents = 0;
  std::uint64_t pointerEvents = 0;
  std::uint64_t desktopResizes = 0;   // DesktopSize rectangles sent
  std::uint64_t resizeClosed = 0;     // viewers closed: the screen changed size and they do not take DesktopSize
};

class KvmService;

class RfbSession {
 public:
  enum class Mode { Standard, Redirection };
  enum class State { AwaitVersion, AwaitSecurityType, AwaitAuthResponse, AwaitClientInit, Normal, Ended };
  struct Transport {
    std::function<void(std::vector<std::uint8_t> bytes)> write;
    std::function<void()> close;  // after the writes queued so far
  };

  RfbSession(KvmService& service, Mode mode, Transport transport, std::string peerAddress, std::string user = {});
  ~RfbSession();
  RfbSession(const RfbSession&) = delete;
  RfbSession& operator=(const RfbSession&) = delete;

  // Sends the server's version line: the first thing on the wire.
  void start();
  void receive(std::span<const std::uint8_t> bytes);
  // The connection is gone or the service stops: frees the screen, records the end. Idempotent.
  void end(const std::string& why);

  State state() const { return state_; }
  Mode mode() const { return mode_; }
  unsigned version() const { return minor_; }
  const rfb::PixelFormat& pixelFormat() const { return format_; }
  bool zrle() const { return zrle_; }
  const std::string& peerAddress() const { return peer_; }

 private:
  friend class KvmService;
  std::size_t consume(std::span<const std::uint8_t> in);  // bytes used; 0 = need more
  void onVersion(unsigned minor);
  void onSecurityType(std::uint8_t type);
  void onAuthResponse(const VncChallenge& response);
  void securityPassed();
  void refuse(const std::string& reason);  // at the security step: the protocol's failure, then close
  void onClientInit();
  void handle(const rfb::ClientMessage& message);
  void screenChanged(const ScreenRect& rect);
  void screenResized();
  void flush();
  void send(std::vector<std::uint8_t> bytes);
  void protocolError(const std::string& why);
  void close(const std::string& why);
  const log::Context& logContext() const;

  KvmService* service_;  // null once ended
  Mode mode_;
  Transport transport_;
  std::string peer_;
  std::string user_;
  State state_ = State::AwaitVersion;
  std::vector<std::uint8_t> buffer_;
  unsigned minor_ = 8;
  VncChallenge challenge_{};
  std::optional<platform::UserConsent::SessionId> consentSession_;  // the viewer's hold on user consent
  bool onScreen_ = false;  // holds the service's screen
  rfb::PixelFormat format_;
  bool zrle_ = false;
  bool desktopSize_ = false;                  // the viewer listed DesktopSize
  unsigned viewerWidth_ = 0, viewerHeight_ = 0;  // the size the viewer was told
  bool updateWanted_ = false;  // a request is waiting for a change
  ScreenRect dirty_;
  std::unique_ptr<rfb::ZrleEncoder> zrleEncoder_;
  core::FirmwareTimerQueue::TimerId handshakeTimer_ = 0;
};

class KvmService {
 public:
  KvmService(platform::PlatformModel& platform, core::FirmwareTimerQueue& timers, KvmOptions options = {});
  ~KvmService();
  KvmService(const KvmService&) = delete;
  KvmService& operator=(const KvmService&) = delete;

  // What sessions show; null: a black 640x400 screen with no input. Set before sessions start.
  void setScreen(KvmScreenSource* screen) { screen_ = screen; }
  // User consent (firmware/platform/user_consent.h): a viewer is served only when it allows; null = never asked.
  void setUserConsent(platform::UserConsent* consent) { consent_ = consent; }
  KvmScreenSource* screen() const { return screen_; }

  // CIM_KVMRedirectionSAP enabled (2, or 6 enabled-but-offline) and the KVM feature on.
  bool kvmEnabled() const;
  // Port 5900 serves: provisioned, KVM enabled and IPS_KVMRedirectionSettingData.Is5900PortEnabled.
  bool port5900Enabled() const;
  // One viewer at a time: whether one holds the screen now.
  bool busy() const { return owner_ != nullptr; }

  std::unique_ptr<RfbSession> open(RfbSession::Mode mode, RfbSession::Transport transport, std::string peerAddress,
                                   std::string user = {});
  void endAll(const std::string& why);

  const RfbSession* activeSession() const { return owner_; }
  const KvmStats& stats() const { return stats_; }
  const KvmOptions& options() const { return options_; }
  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  friend class RfbSession;
  bool takeScreen(RfbSession& session);
  void releaseScreen(RfbSession& session);
  void record(const RfbSession& session, bool started);
  unsigned width() const;
  unsigned height() const;
  const std::vector<std::uint32_t>& pixels() const;

  platform::PlatformModel& platform_;
  core::FirmwareTimerQueue& timers_;
  KvmOptions options_;
  KvmScreenSource* screen_ = nullptr;
  platform::UserConsent* consent_ = nullptr;
  mutable std::vector<std::uint32_t> blank_;  // made on first use when there is no screen
  RfbSession* owner_ = nullptr;
  std::set<RfbSession*> sessions_;
  KvmStats stats_;
};

const char* toString(RfbSession::State state);

}  // namespace mesim::wsman::redirection
