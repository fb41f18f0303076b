// The ME side of one APF session over one LME connection (spec/apf.md §2): the ME speaks first
// (PROTOCOLVERSION, SERVICE_REQUEST pfwd, tcpip-forward), then serves forwarded-tcpip channels from LMS with
// window accounting both ways, and opens its own direct-tcpip channels (event delivery, §2.7).
// Single-threaded: every call and every peer handler runs on the engine's loop.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "firmware/hbm/firmware_client.h"
#include "firmware/lme/apf_codec.h"
#include "firmware/lme/channel_peer.h"

namespace mesim::lme {

inline constexpr std::uint32_t kPortHttp = 16992;
inline constexpr std::uint32_t kPortHttps = 16993;
inline constexpr std::uint32_t kPortRedirection = 623;
inline constexpr std::uint32_t kPortRedirectionTls = 664;

struct ApfSessionOptions {
  std::array<std::uint8_t, 16> uuid{};  // wire (Microsoft GUID) order, apf::uuidToWire
  std::uint32_t triggerReason = static_cast<std::uint32_t>(apf::TriggerReason::UserInitiated);
  bool tlsOnLocalPorts = false;        // forward 16993 + 664 instead of 16992 + 623 (§2.2 step 4)
  std::uint32_t maxMessageLength = 4096;  // the LME client's max_msg_length, both directions
  std::uint32_t channelWindow = 4096;     // the ME's initial window per channel
  std::size_t maxChannels = 8;            // forwarded-tcpip pool, ids 0..7 (§2.4)
  std::size_t maxDirectChannels = 4;      // ME-opened channels, ids after the pool
  std::size_t maxBufferedFromHost = 256 * 1024;  // host bytes not yet taken by peers before MEI back-pressure
  // USERAUTH (auth@amt.intel.com) before pfwd, as CIRA does; LMS accepts any credentials (§2.2 step 3).
  bool authenticate = false;
  std::string authUser;
  std::optional<std::string> authPassword;  // method "password" if set, else "none"
  log::Context log;                         // the device its log lines name
  const char* logTag = "lme";               // the component its log lines name ("cira" for the MPS tunnel)

  // ---- what differs between LMS (the defaults) and an MPS over CIRA (spec/apf.md §3)
  // LMS answers the ME's PROTOCOLVERSION with its own; an MPS never does, so CIRA goes on at once.
  bool awaitHostVersion = true;
  // tcpip-forward requests after pfwd is accepted, in order; empty: LMS's pair (16992 + 623, or 16993 + 664).
  std::vector<std::uint32_t> forwardPorts;
  std::string forwardAddress;               // the bind address of each tcpip-forward (LMS: empty, §2.3)
  // Ports a host's forwarded-tcpip may open besides 16992/16993 (CIRA: redirection and KVM); the factory serves them.
  std::vector<std::uint32_t> extraChannelPorts;
  std::uint32_t maxDataPayload = 4095;      // per CHANNEL_DATA; LMS drops more (§2.5)
  // Channel traffic once USERAUTH succeeded but before pfwd is accepted: MeshCentral opens its first channel 300 ms
  // after USERAUTH_SUCCESS whatever else happened (cira.md §2), so a slow device may see it first. LMS: an error.
  bool channelsBeforePfwd = false;
  // KEEPALIVE_OPTIONS_REQUEST(interval, timeout) from an MPS: the reply's values (unset: ignored, as LMS does).
  std::function<std::pair<std::uint32_t, std::uint32_t>(std::uint32_t interval, std::uint32_t timeout)>
      onKeepaliveOptions;
  std::function<void(std::uint32_t cookie)> onKeepaliveReply;  // the echo of sendKeepalive()
};

class ApfSession : public std::enable_shared_from_this<ApfSession> {
 public:
  enum class State {
    AwaitingVersion,      // PROTOCOLVERSION sent, waiting for the host's
    AwaitingAuthService,  // SERVICE_REQUEST auth sent
    AwaitingAuth,         // USERAUTH_REQUEST sent
    AwaitingPfwd,         // SERVICE_REQUEST pfwd sent
    Established,          // pfwd accepted: forwards requested, channels served
    Closed,               // DISCONNECT sent or received, or the connection ended
  };

  struct Stats {
    std::uint64_t channelsOpened = 0;
    std::uint64_t channelsClosed = 0;  // of those opened, closed by either side or with the session
    std::uint64_t openFailures = 0;
    std::uint64_t protocolErrors = 0;
    std::uint64_t windowViolations = 0;  // host data beyond the window the ME granted
    std::uint64_t ignored = 0;           // unknown types, unknown channel ids, duplicates
    std::uint64_t bytesToHost = 0;
    std::uint64_t bytesFromHost = 0;
  };

  // Outcome of a ME-opened channel (true once confirmed) and of ME global requests.
  using OpenResult = std::function<void(bool confirmed)>;
  using RequestResult = std::function<void(bool success)>;

  ApfSession(std::shared_ptr<firmware::ClientConnection> connection, ApfSessionOptions options,
             ChannelPeerFactory forwarded);
  ~ApfSession();
  ApfSession(const ApfSession&) = delete;
  ApfSession& operator=(const ApfSession&) = delete;

  // The ME speaks first: PROTOCOLVERSION.
  void start();
  // One APF message from the host (one MEI message).
  void onHostMessage(ByteView message);
  // The MEI connection ended: every channel and peer is closed, nothing more is sent.
  void end();
  // Sends DISCONNECT(reason) and stops serving (the host closes the MEI connection).
  void disconnect(apf::DisconnectReason reason);

  // ---- ME-initiated (valid once Established; false otherwise)
  bool cancelForward(std::uint32_t port, RequestResult done = {});
  bool sendUdp(apf::UdpSendTo datagram);  // no reply expected (LMS sends none)
  bool sendKeepalive(std::uint32_t cookie);  // KEEPALIVE_REQUEST; the MPS echoes the cookie (§3 step 6)
  // direct-tcpip to address:port carried by `peer`; port 0 is LMS's event channel (§2.7).
  bool openDirectChannel(const std::string& address, std::uint32_t port, std::shared_ptr<ChannelPeer> peer,
                         OpenResult done = {});

  State state() const { return state_; }
  const Stats& stats() const { return stats_; }
  std::size_t openChannels() const { return channels_.size(); }
  // Ports the host accepted tcpip-forward for, in order.
  const std::vector<std::uint32_t>& forwardedPorts() const { return forwarded_; }
  std::uint32_t maxDataPayload() const;
  // Why the session closed: the DISCONNECT reason either side sent (nullopt: none, e.g. the connection ended),
  // and whether the host refused USERAUTH.
  std::optional<std::uint32_t> disconnectReason() const { return disconnectReason_; }
  bool disconnectedByHost() const { return disconnectedByHost_; }
  bool authRefused() const { return authRefused_; }

  const log::Context& logContext() const { return options_.log; }

 private:
  class Channel;
  enum class PendingKind { Forward, Cancel };
  struct PendingRequest {
    PendingKind kind;
    std::uint32_t port;
    RequestResult done;
  };

  void send(const apf::Message& message);
  void sendRaw(Bytes message);
  void protocolError(const std::string& what);
  void dispatch(apf::Message& message);
  void onProtocolVersion(const apf::ProtocolVersion& m);
  void requestFirstService();
  void onServiceAccept(const apf::ServiceAccept& m);
  void onUserauthResult(bool success);
  void onRequestResult(bool success, const apf::RequestSuccess* m);
  void onGlobalRequest(const apf::GlobalRequest& m);
  void onChannelOpen(const apf::ChannelOpen& m);
  void onOpenConfirmation(const apf::ChannelOpenConfirmation& m);
  void onOpenFailure(const apf::ChannelOpenFailure& m);
  void onWindowAdjust(const apf::ChannelWindowAdjust& m);
  void onChannelData(apf::ChannelData& m);
  void onChannelClose(const apf::ChannelClose& m);
  bool requireEstablished(const char* what);
  void requestForwards();
  std::optional<std::uint32_t> freeId(std::uint32_t first, std::size_t count) const;
  Channel* find(std::uint32_t id);
  void release(std::uint32_t id);
  void bufferedFromHost(std::ptrdiff_t delta);
  void closeAllChannels();

  std::shared_ptr<firmware::ClientConnection> connection_;
  ApfSessionOptions options_;
  ChannelPeerFactory forwardedFactory_;
  State state_ = State::AwaitingVersion;
  bool hostVersionSeen_ = false;
  std::deque<PendingRequest> pending_;
  std::vector<std::uint32_t> forwarded_;
  std::map<std::uint32_t, std::shared_ptr<Channel>> channels_;  // by ME channel id
  std::size_t bufferedFromHost_ = 0;
  bool receivePaused_ = false;
  std::optional<std::uint32_t> disconnectReason_;
  bool disconnectedByHost_ = false;
  bool authRefused_ = false;
  Stats stats_;
};

const char* sessionStateName(ApfSession::State state);

}  // namespace mesim::lme
