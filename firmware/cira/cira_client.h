// CIRA, the firmware's side of Client Initiated Remote Access (spec/apf.md §3, docs/cira.md): when a remote-access
// policy says so (user-initiated, alert, periodic), the ME opens TLS to a Management Presence Server, checks the
// server's certificate against AMT's trusted roots and the configured CN, and speaks APF as the client: PROTOCOLVERSION,
// USERAUTH, tcpip-forward for the ports it serves, keep-alives. Channels the MPS opens are carried to the same
// servers as the network ports (the factory the daemon passes). Lost or refused tunnels are retried with back-off.
//
// Single-threaded, on the device's loop; every timer is on the firmware clock, so periodic triggers, keep-alives
// and back-off follow a manual clock in tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "common/log.h"
#include "common/result.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/lme/apf_session.h"
#include "firmware/lme/channel_peer.h"
#include "firmware/platform/platform_model.h"
#include "firmware/platform/remote_access_config.h"

namespace mesim::cira {

enum class TunnelState { Disconnected, Connecting, Connected };

// The APF session of a tunnel as far as it does not depend on the device: the ME speaks as an MPS's client
// (no PROTOCOLVERSION awaited, USERAUTH, `forwardPorts` forwarded and served), sized for TLS rather than MEI.
lme::ApfSessionOptions tunnelSessionOptions(const std::vector<std::uint32_t>& forwardPorts, std::uint32_t channelWindow);
const char* tunnelStateName(TunnelState state);
const char* triggerName(platform::CiraTrigger trigger);

struct CiraStatus {
  TunnelState state = TunnelState::Disconnected;
  std::string mps;                  // host:port being called or connected
  std::optional<platform::CiraTrigger> trigger;  // what the tunnel is (or is being) opened for
  std::string lastError;            // why the last attempt failed or the last tunnel ended unasked; "" after a clean end
  bool insideEnterprise = false;    // environment detection (AMT_EnvironmentDetectionSettingData)
  std::uint64_t attempts = 0;       // connections begun
  std::uint64_t connects = 0;       // tunnels established (USERAUTH accepted, pfwd granted)
  std::uint64_t failures = 0;       // attempts that ended before the tunnel was up
  std::uint64_t drops = 0;          // tunnels that ended without being asked to (lost, keep-alive timeout, DISCONNECT)
  std::uint64_t keepalivesSent = 0;
  std::uint64_t keepalivesAnswered = 0;
  std::uint32_t keepaliveIntervalSeconds = 0;  // in force on the current tunnel
  std::optional<core::FirmwareClock::time_point> connectedSince;
  std::optional<core::FirmwareClock::time_point> nextAttempt;  // back-off or the next periodic connection
  std::vector<std::uint32_t> forwardedPorts;   // tcpip-forwards the MPS granted
  std::size_t openChannels = 0;
  std::uint64_t channelsOpened = 0;            // over every tunnel
};

// A client TLS context that trusts exactly `trustedRoots` (base64 DER, AMT's trusted root certificates).
using TlsContextFactory =
    std::function<Result<std::shared_ptr<boost::asio::ssl::context>>(const std::vector<std::string>& trustedRoots)>;

struct CiraClientOptions {
  std::vector<std::uint32_t> forwardPorts = {16993, 16992, 16995, 16994, 5900};  // real AMT's order, 623/664 left out
  std::string localAddress;                       // the address to connect from ("" the system's choice)
  std::chrono::seconds keepaliveInterval{30};     // unless the MPS asks for another (KEEPALIVE_OPTIONS_REQUEST)
  std::chrono::seconds handshakeTimeout{15};      // connect + TLS + APF until the tunnel is up
  std::chrono::seconds backoffFirst{2};           // after a failure; doubles up to backoffMax
  std::chrono::seconds backoffMax{120};
  std::uint32_t channelWindow = 32 * 1024;        // the ME's window per channel
  log::Context log;
};

class CiraClient {
 public:
  CiraClient(boost::asio::io_context& io, core::FirmwareTimerQueue& timers, platform::PlatformModel& platform,
             lme::ChannelPeerFactory channels, TlsContextFactory tls, CiraClientOptions options = {});
  ~CiraClient();
  CiraClient(const CiraClient&) = delete;
  CiraClient& operator=(const CiraClient&) = delete;

  // Follows the platform's remote-access configuration from now on. The live status starts disconnected.
  void start();
  // Closes the tunnel and stops every timer; nothing happens afterwards.
  void stop();
  // An alert was raised: with an Alert policy, a tunnel is opened for its lifetime.
  void alertRaised();

  const CiraStatus& status() const { return status_; }
  const log::Context& logContext() const { return options_.log; }

 private:
  class Tunnel;
  struct Want {
    platform::CiraTrigger trigger;
    std::uint32_t tunnelLifeTime = 0;
    std::vector<platform::CiraServer> servers;
  };

  void reconsiderSoon();
  void reconsider();
  std::optional<Want> wanted(const platform::PlatformState& s) const;
  void schedulePeriodic(const platform::PlatformState& s);
  void connect(const Want& want);
  void onTunnelProgress();
  void onTunnelEnded(const std::string& why, bool asked);
  void closeTunnel(const std::string& why);
  void scheduleRetry();
  void keepaliveTick();
  void publish();
  void cancel(core::FirmwareTimerQueue::TimerId& id);

  boost::asio::io_context& io_;
  core::FirmwareTimerQueue& timers_;
  platform::PlatformModel& platform_;
  lme::ChannelPeerFactory channels_;
  TlsContextFactory tls_;
  CiraClientOptions options_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::size_t subscription_ = 0;
  bool started_ = false;
  bool reconsiderPosted_ = false;

  std::shared_ptr<Tunnel> tunnel_;
  std::string tunnelServer_;        // the MpsServer name the tunnel is to
  std::uint32_t tunnelLifeTime_ = 0;
  std::size_t serverIndex_ = 0;     // which of the wanted servers the next attempt calls
  unsigned failuresInRow_ = 0;
  std::uint32_t keepaliveCookie_ = 0;
  std::uint64_t channelsBefore_ = 0;  // channels opened on earlier tunnels
  std::optional<std::uint32_t> keepaliveOutstanding_;
  core::FirmwareClock::time_point lastHeard_{};

  core::FirmwareTimerQueue::TimerId retryTimer_ = 0;
  core::FirmwareTimerQueue::TimerId keepaliveTimer_ = 0;
  core::FirmwareTimerQueue::TimerId lifetimeTimer_ = 0;
  core::FirmwareTimerQueue::TimerId handshakeTimer_ = 0;
  core::FirmwareTimerQueue::TimerId periodicTimer_ = 0;
  bool retryDue_ = true;            // no back-off pending
  // Periodic: the rule's tunnel is wanted until this time (max: indefinitely); set when its time comes.
  std::optional<core::FirmwareClock::time_point> periodicUntil_;
  std::string periodicKey_;         // the periodic rule the schedule was made for (interval/lifetime)
  std::shared_ptr<std::function<void()>> periodicDue_;  // the recurring callback the timer holds a copy of
  std::optional<core::FirmwareClock::time_point> alertUntil_;
  std::optional<core::FirmwareClock::time_point> userUntil_;  // a user-initiated tunnel's lifetime
  CiraStatus status_;
};

}  // namespace mesim::cira
