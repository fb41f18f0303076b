// The LME firmware client (spec/apf.md §2): GUID 6733A4DB-0476-4E7B-B3AF-BCFC29BEE7A7. Each host connection
// gets its own ApfSession; the ME speaks first on connect. forwarded-tcpip channels reach whatever the
// ChannelPeerFactory opens (the daemon: a local WS-Man connection). Single-threaded, on the engine's loop.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "firmware/hbm/firmware_client.h"
#include "firmware/lme/apf_session.h"
#include "firmware/platform/platform_model.h"

namespace mesim::lme {

extern const hbm::Guid kLmeGuid;

struct LmeOptions {
  // LMS holds one connection, but its probe connects (§2.1) and a second APF host may overlap it.
  std::uint8_t maxConnections = 4;
  std::uint32_t maxMessageLength = 4096;  // GWM and rpc-go use 4096; an unmodified LMS worked with it (§2.1)
  std::uint32_t channelWindow = 4096;
  std::size_t maxChannels = 8;
};

// An AMT user notification as LMS parses it from an event channel (§2.7).
struct UserNotification {
  std::string messageId = "iAMT0005";  // exactly "iAMT" + 4 characters
  std::string messageArguments;       // at most 2 characters for LMS
  std::string message;                // free text
  std::string indicationTime;         // CIM datetime; empty: omitted
};

class LmeClient final : public firmware::FirmwareClient {
 public:
  struct Stats {
    std::size_t sessions = 0;         // connected now
    std::size_t established = 0;      // of those, past the handshake
    std::size_t channels = 0;         // open now, all sessions
    std::uint64_t sessionsStarted = 0;
    std::uint64_t channelsOpened = 0;
    std::uint64_t channelsClosed = 0;
    std::uint64_t protocolErrors = 0;
    std::uint64_t eventsSent = 0;
    std::uint64_t bytesToHost = 0;    // channel data, all channels
    std::uint64_t bytesFromHost = 0;
  };

  LmeClient(platform::PlatformModel& platform, ChannelPeerFactory forwarded, LmeOptions options = {});

  hbm::ClientProperties properties() const override;
  const char* name() const override { return "LME"; }
  void onConnect(const std::shared_ptr<firmware::ClientConnection>& connection) override;
  void onMessage(const std::shared_ptr<firmware::ClientConnection>& connection, hbm::ByteView message) override;
  void onDisconnect(const std::shared_ptr<firmware::ClientConnection>& connection) override;

  // Delivers a local alert over every established session as LMS expects it (a direct-tcpip channel to
  // port 0 carrying one HTTP POST, §2.7). Returns the number of sessions it went to.
  std::size_t sendUserNotification(const UserNotification& notification);

  Stats stats() const;

  const log::Context& logContext() const { return platform_.logContext(); }

 private:
  ApfSessionOptions sessionOptions() const;

  platform::PlatformModel& platform_;
  ChannelPeerFactory forwarded_;
  LmeOptions options_;
  std::map<std::uint64_t, std::shared_ptr<ApfSession>> sessions_;  // by connection id
  std::uint64_t sessionsStarted_ = 0;
  std::uint64_t eventsSent_ = 0;
  ApfSession::Stats endedSessions_;  // totals of the sessions already gone
};

}  // namespace mesim::lme
