// The CIRA client against a scripted MPS on loopback TLS (spec/apf.md §3, cira.md §2): the admission sequence, the
// forwards, keep-alives on the manual firmware clock, a channel the MPS opens, and each failure with its status.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <deque>
#include <functional>
#include <memory>

#include "common/text_codecs.h"
#include "firmware/cira/cira_client.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/lme/apf_codec.h"
#include "firmware/platform/platform_model.h"
#include "tests/support/fake_mps.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/eventing/http_client.h"

namespace mesim {
namespace {

namespace asio = boost::asio;
namespace apf = lme::apf;
using asio::ip::tcp;
using hbm::Bytes;
using hbm::ByteView;

// A channel peer that answers every write with the same bytes upper-cased: what WS-Man is to the tunnel here.
class EchoPeer final : public lme::ChannelPeer {
 public:
  void read(std::size_t, ReadHandler handler) override {
    if (closed_) return;
    if (!pending_.empty()) {
      Bytes out = std::move(pending_);
      pending_.clear();
      return handler(ByteView(out.data(), out.size()));
    }
    reader_ = std::move(handler);
  }
  void write(Bytes data, WriteHandler handler) override {
    for (auto& b : data) b = static_cast<std::uint8_t>(std::toupper(b));
    pending_.insert(pending_.end(), data.begin(), data.end());
    handler(true);
    if (reader_) {
      auto r = std::move(reader_);
      reader_ = nullptr;
      Bytes out = std::move(pending_);
      pending_.clear();
      r(ByteView(out.data(), out.size()));
    }
  }
  void close() override { closed_ = true; }

 private:
  Bytes pending_;
  ReadHandler reader_;
  bool closed_ = false;
};

class CiraClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    platform::PlatformDefaults defaults;
    defaults.provisioningState = platform::ProvisioningState::Post;
    defaults.controlMode = platform::ControlMode::Admin;
    auto opened = platform::PlatformModel::open(dir.path(), defaults);
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
  }
  void TearDown() override {
    client.reset();
    mps.reset();
  }

  // AMT's CIRA set-up as a console makes it: the MPS's root trusted, the server, one rule.
  void configure(std::uint32_t trigger, std::uint32_t interval = 60, std::uint32_t lifetime = 0,
                 const test::Cert* root = nullptr, std::string cn = "mps.mesim.test", std::uint16_t port = 0) {
    const auto der = test::derOf(root ? *root : test::mpsPki().root);
    ASSERT_EQ(model->update([&](platform::PlatformState& s) {
                platform::StoredCertificate c;
                c.instanceId = "Intel(r) AMT Certificate: Handle: 0";
                c.x509 = text::base64Encode(der);
                c.trustedRoot = true;
                s.certificates = {c};
                platform::MpsServer server;
                server.name = "Intel(r) AMT:Management Presence Server 0";
                server.accessInfo = "127.0.0.1";
                server.infoFormat = 3;
                server.port = port ? port : mps->port();
                server.username = "0123456789abcdef";
                server.password = "P@ssw0rd";
                server.commonName = cn;
                s.mpsServers = {server};
                platform::RemoteAccessPolicyRule rule;
                rule.policyRuleName = trigger == 0 ? "User Initiated" : trigger == 1 ? "Alert" : "Periodic";
                rule.trigger = trigger;
                rule.tunnelLifeTime = lifetime;
                const std::uint8_t data[8] = {0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(interval >> 8),
                                              static_cast<std::uint8_t>(interval)};
                if (trigger == 2) rule.extendedData = text::base64Encode(data);
                rule.mpsNames = {server.name};  // MpServer: an external server
                s.remoteAccessPolicies = {rule};
                // Outside the enterprise, as consoles make it: a detection string AMT's domain does not match.
                s.systemDefense.environment.detectionStrings = {"0a1b2c3d4e5f"};
              }),
              platform::ChangeResult::Ok);
  }

  // Replaces the periodic rule's ExtendedData.
  void setPeriodicData(const std::vector<std::uint8_t>& data) {
    ASSERT_EQ(model->update([&](platform::PlatformState& s) {
                s.remoteAccessPolicies.at(0).extendedData = text::base64Encode(data);
              }),
              platform::ChangeResult::Ok);
  }

  void startClient() {
    cira::CiraClientOptions options;
    auto tls = [](const std::vector<std::string>& roots) {
      std::vector<std::string> pems;
      for (const auto& der : roots) pems.push_back(wsman::eventing::pemOfBase64Der(der));
      return wsman::eventing::makeVerifyingTlsClientContext(pems, false);
    };
    auto channels = [this](std::uint32_t port) -> std::shared_ptr<lme::ChannelPeer> {
      channelPorts.push_back(port);
      return std::make_shared<EchoPeer>();
    };
    client = std::make_unique<cira::CiraClient>(io, timers, *model, channels, tls, options);
    client->start();
  }

  // Runs the loop until `done` or about 5 s of real time.
  bool runUntil(const std::function<bool()>& done) {
    for (int i = 0; i < 500 && !done(); ++i) {
      io.run_for(std::chrono::milliseconds(10));
      io.restart();
    }
    return done();
  }
  // Lets whatever is in flight happen (nothing is expected to).
  void settle() {
    io.run_for(std::chrono::milliseconds(200));
    io.restart();
  }
  bool connected() const { return client->status().state == cira::TunnelState::Connected; }

  test::TempDir dir;
  asio::io_context io;
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1'800'000'000)}};
  core::FirmwareTimerQueue timers{io, clock};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<test::FakeMps> mps = std::make_unique<test::FakeMps>(io);
  std::unique_ptr<cira::CiraClient> client;
  std::vector<std::uint32_t> channelPorts;
};

TEST_F(CiraClientTest, PeriodicRuleOpensTheTunnelAndForwardsTheAmtPorts) {
  configure(2);
  startClient();
  ASSERT_TRUE(runUntil([&] { return mps->forwards.size() == 5 && connected(); })) << client->status().lastError;
  // PROTOCOLVERSION first (the MPS never answers it), then auth, USERAUTH, pfwd, the forwards in AMT's order.
  ASSERT_FALSE(mps->received.empty());
  auto* version = std::get_if<apf::ProtocolVersion>(&mps->received.front());
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(version->major, 1u);
  EXPECT_EQ(version->triggerReason, 4u);  // PERIODIC
  EXPECT_EQ(version->uuid, apf::uuidToWire(model->uuid()));
  auto* auth = mps->last<apf::UserauthRequest>();
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->user, "0123456789abcdef");
  EXPECT_EQ(auth->service, "pfwd@amt.intel.com");
  EXPECT_EQ(auth->password, std::optional<std::string>("P@ssw0rd"));
  EXPECT_EQ(mps->forwards, (std::vector<std::uint32_t>{16993, 16992, 16995, 16994, 5900}));
  const auto& st = client->status();
  EXPECT_EQ(st.mps, "127.0.0.1:" + std::to_string(mps->port()));
  EXPECT_EQ(st.connects, 1u);
  EXPECT_EQ(st.trigger, platform::CiraTrigger::Periodic);
  // AMTHI GetRemoteAccessConnectionStatus reads this: connected, periodic (3), the MPS's host.
  EXPECT_EQ(model->remoteAccess().connectionStatus, 2u);
  EXPECT_EQ(model->remoteAccess().trigger, 3u);
  EXPECT_EQ(model->remoteAccess().mpsHostname, "127.0.0.1");
  EXPECT_EQ(model->remoteAccess().networkStatus, 2u);  // outside the enterprise
}

TEST_F(CiraClientTest, KeepAlivesFollowTheIntervalTheMpsAsksOnTheFirmwareClock) {
  configure(2);
  startClient();
  ASSERT_TRUE(runUntil([&] { return mps->count<apf::KeepaliveOptionsReply>() == 1; }));
  auto* reply = mps->last<apf::KeepaliveOptionsReply>();
  EXPECT_EQ(reply->intervalSeconds, 5u);
  EXPECT_EQ(client->status().keepaliveIntervalSeconds, 5u);
  EXPECT_EQ(mps->count<apf::KeepaliveRequest>(), 0);
  clock.advance(std::chrono::seconds(5));
  ASSERT_TRUE(runUntil([&] { return client->status().keepalivesAnswered == 1; }));
  EXPECT_EQ(mps->count<apf::KeepaliveRequest>(), 1);
  clock.advance(std::chrono::seconds(5));
  ASSERT_TRUE(runUntil([&] { return client->status().keepalivesAnswered == 2; }));
}

TEST_F(CiraClientTest, AnUnansweredKeepAliveEndsTheTunnelAndItIsCalledAgain) {
  configure(2);
  startClient();
  ASSERT_TRUE(runUntil([&] { return client->status().keepaliveIntervalSeconds == 5; }));
  mps->answerKeepalives = false;  // the MPS (or the path to it) goes silent, the socket stays
  for (int i = 0; i < 2; ++i) {
    clock.advance(std::chrono::seconds(5));
    settle();
    EXPECT_TRUE(connected()) << "still within three intervals, at " << (i + 1) * 5 << " s";
  }
  // Nothing heard for three intervals with a keep-alive unanswered: the tunnel is given up ...
  mps->keepaliveOptionsAfter5900 = false;  // (the next tunnel keeps the default interval)
  clock.advance(std::chrono::seconds(5));
  ASSERT_TRUE(runUntil([&] { return client->status().drops == 1; }));
  // ... and, as it was up, called again at once.
  ASSERT_TRUE(runUntil([&] { return connected() && mps->connections == 2; }));
  EXPECT_EQ(client->status().connects, 2u);
}

TEST_F(CiraClientTest, ATunnelTheMpsClosesIsCalledAgainAtOnce) {
  configure(2);
  startClient();
  ASSERT_TRUE(runUntil([&] { return connected(); }));
  mps->dropConnection();
  ASSERT_TRUE(runUntil([&] { return client->status().drops == 1; }));
  ASSERT_TRUE(runUntil([&] { return connected() && mps->connections == 2; }));
  EXPECT_EQ(client->status().connects, 2u);
}

TEST_F(CiraClientTest, AChannelFromTheMpsReachesThePortsServerAndBack) {
  configure(2);
  startClient();
  ASSERT_TRUE(runUntil([&] { return mps->forwards.size() == 5; }));
  mps->send(apf::ChannelOpen{"forwarded-tcpip", 4, 32768, apf::kReservedMaxPacket, "", 16992, "1.2.3.4", 1025});
  ASSERT_TRUE(runUntil([&] { return mps->count<apf::ChannelOpenConfirmation>() == 1; }));
  auto* confirm = mps->last<apf::ChannelOpenConfirmation>();
  EXPECT_EQ(confirm->recipientChannel, 4u);
  const std::string request = "post /wsman http/1.1";
  mps->send(apf::ChannelData{confirm->senderChannel, Bytes(request.begin(), request.end())});
  ASSERT_TRUE(runUntil([&] { return mps->channelData.size() == request.size(); }));
  EXPECT_EQ(mps->channelData, "POST /WSMAN HTTP/1.1");
  EXPECT_EQ(channelPorts, std::vector<std::uint32_t>{16992});
  // KVM's port is served too; an unknown one is refused.
  mps->send(apf::ChannelOpen{"forwarded-tcpip", 5, 32768, apf::kReservedMaxPacket, "", 5900, "1.2.3.4", 1026});
  mps->send(apf::ChannelOpen{"forwarded-tcpip", 6, 32768, apf::kReservedMaxPacket, "", 22, "1.2.3.4", 1027});
  ASSERT_TRUE(runUntil([&] { return mps->count<apf::ChannelOpenFailure>() == 1; }));
  EXPECT_EQ(mps->count<apf::ChannelOpenConfirmation>(), 2);
  EXPECT_EQ(client->status().openChannels, 2u);
  mps->send(apf::ChannelClose{confirm->senderChannel});
  ASSERT_TRUE(runUntil([&] { return client->status().openChannels == 1; }));
}

TEST_F(CiraClientTest, AChannelOpenedRightAfterTheLoginIsServed) {
  mps->openChannelAtLogin = true;
  configure(2);
  startClient();
  ASSERT_TRUE(runUntil([&] { return mps->count<apf::ChannelOpenConfirmation>() == 1 && connected(); }));
  EXPECT_EQ(mps->count<apf::Disconnect>(), 0);
  EXPECT_EQ(client->status().openChannels, 1u);
}

TEST_F(CiraClientTest, AWrongPasswordIsReportedAndRetriedWithBackOff) {
  configure(2);
  mps->password = "something else";
  startClient();
  ASSERT_TRUE(runUntil([&] { return client->status().failures == 1; }));
  const auto& st = client->status();
  EXPECT_EQ(st.state, cira::TunnelState::Disconnected);
  EXPECT_NE(st.lastError.find("USERAUTH_FAILURE"), std::string::npos) << st.lastError;
  ASSERT_TRUE(st.nextAttempt.has_value());
  EXPECT_GE(*st.nextAttempt - clock.now(), std::chrono::seconds(2));
  EXPECT_EQ(model->remoteAccess().connectionStatus, 0u);
  // No second call before the back-off is over; one after.
  settle();
  EXPECT_EQ(mps->connections, 1);
  mps->password = "P@ssw0rd";
  clock.advance(std::chrono::seconds(4));
  ASSERT_TRUE(runUntil([&] { return connected(); }));
  EXPECT_EQ(mps->connections, 2);
  EXPECT_EQ(client->status().lastError, "");
}

TEST_F(CiraClientTest, AnMpsCertificateOffTheTrustedRootsIsRefused) {
  configure(2, 60, 0, &test::mpsPki().otherRoot);
  startClient();
  ASSERT_TRUE(runUntil([&] { return client->status().failures == 1; }));
  EXPECT_NE(client->status().lastError.find("not trusted"), std::string::npos) << client->status().lastError;
  EXPECT_EQ(mps->count<apf::ProtocolVersion>(), 0);
}

TEST_F(CiraClientTest, AnMpsCertificateForAnotherNameIsRefused) {
  configure(2, 60, 0, nullptr, "other.mesim.test");
  startClient();
  ASSERT_TRUE(runUntil([&] { return client->status().failures == 1; }));
  EXPECT_NE(client->status().lastError.find("hostname mismatch"), std::string::npos) << client->status().lastError;
}

TEST_F(CiraClientTest, AnMpsThatIsDownIsReportedAsRefused) {
  const auto port = mps->port();
  mps->close();
  configure(2, 60, 0, nullptr, "mps.mesim.test", port);
  startClient();
  ASSERT_TRUE(runUntil([&] { return client->status().failures == 1; }));
  EXPECT_NE(client->status().lastError.find("refused"), std::string::npos) << client->status().lastError;
  // The back-off doubles: 2 s (+ up to 1 s) after the first failure, 4 s after the second.
  auto first = *client->status().nextAttempt - clock.now();
  clock.advance(first);
  ASSERT_TRUE(runUntil([&] { return client->status().failures == 2; }));
  auto second = *client->status().nextAttempt - clock.now();
  EXPECT_EQ(second - first, std::chrono::seconds(2));
}

TEST_F(CiraClientTest, AUserInitiatedTunnelOpensOnTheHostsRequestAndClosesOnItsWithdrawal) {
  configure(0);
  startClient();
  settle();
  EXPECT_EQ(mps->connections, 0);
  ASSERT_EQ(model->setUserInitiatedConnection(true), platform::ChangeResult::Ok);
  ASSERT_TRUE(runUntil([&] { return connected(); }));
  EXPECT_EQ(std::get<apf::ProtocolVersion>(mps->received.front()).triggerReason, 1u);  // USER_INITIATED
  EXPECT_EQ(model->remoteAccess().trigger, 0u);
  ASSERT_EQ(model->setUserInitiatedConnection(false), platform::ChangeResult::Ok);
  ASSERT_TRUE(runUntil([&] { return mps->count<apf::Disconnect>() == 1; }));
  EXPECT_EQ(mps->last<apf::Disconnect>()->reason, 11u);  // BY_APPLICATION
  EXPECT_EQ(client->status().state, cira::TunnelState::Disconnected);
  EXPECT_EQ(client->status().lastError, "");
}

TEST_F(CiraClientTest, ATunnelLifetimeEndsAUserInitiatedTunnel) {
  // Lifetime 20 s, keep-alives at the default 30 s: the lifetime is what ends the tunnel, not a keep-alive that the
  // manual clock's jump leaves no time to answer.
  mps->keepaliveOptionsAfter5900 = false;
  configure(0, 0, 20);
  startClient();
  ASSERT_EQ(model->setUserInitiatedConnection(true), platform::ChangeResult::Ok);
  ASSERT_TRUE(runUntil([&] { return connected(); }));
  clock.advance(std::chrono::seconds(19));
  settle();
  EXPECT_TRUE(connected());
  clock.advance(std::chrono::seconds(1));
  ASSERT_TRUE(runUntil([&] { return !connected(); }));
  settle();
  EXPECT_EQ(mps->connections, 1) << "not called again while the request stands past its lifetime";
  EXPECT_EQ(client->status().drops, 0u);
  EXPECT_EQ(mps->last<apf::Disconnect>()->reason, 11u);  // BY_APPLICATION
}

TEST_F(CiraClientTest, AnAlertOpensTheTunnelOfAnAlertRule) {
  mps->keepaliveOptionsAfter5900 = false;  // keep-alives every 30 s: the lifetime ends the tunnel
  configure(1, 0, 20);
  startClient();
  settle();
  EXPECT_EQ(mps->connections, 0);
  client->alertRaised();
  ASSERT_TRUE(runUntil([&] { return connected(); }));
  EXPECT_EQ(std::get<apf::ProtocolVersion>(mps->received.front()).triggerReason, 2u);  // ALERT
  clock.advance(std::chrono::seconds(20));
  ASSERT_TRUE(runUntil([&] { return !connected(); }));
  EXPECT_EQ(client->status().drops, 0u);
}

// A periodic rule with a lifetime: a tunnel at once, closed when the lifetime is over, and again a period later.
TEST_F(CiraClientTest, APeriodicRuleWithALifetimeCallsAgainEveryPeriod) {
  mps->keepaliveOptionsAfter5900 = false;  // keep-alives every 30 s: the lifetime ends the tunnel
  configure(2, 3600, 20);
  startClient();
  ASSERT_TRUE(runUntil([&] { return connected(); }));
  clock.advance(std::chrono::seconds(20));
  ASSERT_TRUE(runUntil([&] { return !connected(); }));
  clock.advance(std::chrono::seconds(3579));  // 1 s before the next period
  settle();
  EXPECT_EQ(mps->connections, 1);
  clock.advance(std::chrono::seconds(1));
  ASSERT_TRUE(runUntil([&] { return connected() && mps->connections == 2; }));
  EXPECT_EQ(client->status().drops, 0u);
}

// MeshCommander's "time of day" periodic rule: ExtendedData 1, hour, minute. The tunnel opens at that time of
// AMT's clock for the rule's lifetime, and again the next day.
TEST_F(CiraClientTest, ADailyRuleCallsAtItsTimeOfDayOnAmtsClock) {
  mps->keepaliveOptionsAfter5900 = false;
  configure(2, 0, 20);
  setPeriodicData({0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 30});  // daily at 09:30
  startClient();  // the test clock reads 08:00:00 UTC
  settle();
  EXPECT_EQ(mps->connections, 0) << "a daily rule waits for its time";
  clock.advance(std::chrono::minutes(89) + std::chrono::seconds(59));
  settle();
  EXPECT_EQ(mps->connections, 0);
  clock.advance(std::chrono::seconds(1));  // 09:30:00
  ASSERT_TRUE(runUntil([&] { return connected(); })) << client->status().lastError;
  EXPECT_EQ(client->status().trigger, platform::CiraTrigger::Periodic);
  EXPECT_EQ(std::get<apf::ProtocolVersion>(mps->received.front()).triggerReason, 4u);  // PERIODIC
  clock.advance(std::chrono::seconds(20));
  ASSERT_TRUE(runUntil([&] { return !connected(); }));
  clock.advance(std::chrono::hours(24) - std::chrono::seconds(21));
  settle();
  EXPECT_EQ(mps->connections, 1) << "not before the next day's 09:30";
  clock.advance(std::chrono::seconds(1));
  ASSERT_TRUE(runUntil([&] { return connected() && mps->connections == 2; }));
}

// A console's time sync (SetHighAccuracyTimeSynch) sets AMT's clock an hour ahead of the firmware clock: 09:30 on
// AMT's clock comes an hour sooner.
TEST_F(CiraClientTest, ADailyRuleFollowsAmtsClockAfterATimeSync) {
  mps->keepaliveOptionsAfter5900 = false;
  configure(2, 0, 20);
  setPeriodicData({0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 30});
  startClient();
  clock.advance(std::chrono::minutes(20));  // 08:20
  settle();
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.amtClockOffset = 3600; }), platform::ChangeResult::Ok);
  settle();
  EXPECT_EQ(mps->connections, 0);
  clock.advance(std::chrono::minutes(10));  // 08:30 here, 09:30 on AMT's clock
  ASSERT_TRUE(runUntil([&] { return connected(); })) << client->status().lastError;
}

TEST_F(CiraClientTest, AnExternalMpsIsNotCalledInsideTheEnterprise) {
  configure(2);
  // No detection strings: AMT is at home (MeshCentral clears them to turn CIRA off).
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.systemDefense.environment.detectionStrings.clear(); }),
            platform::ChangeResult::Ok);
  startClient();
  settle();
  EXPECT_EQ(mps->connections, 0);
  EXPECT_TRUE(client->status().insideEnterprise);
  EXPECT_EQ(model->remoteAccess().networkStatus, 0u);
  // A server for both environments is called wherever AMT is.
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.remoteAccessPolicies[0].mpsTypes = {2}; }),
            platform::ChangeResult::Ok);
  ASSERT_TRUE(runUntil([&] { return connected(); }));
}

TEST_F(CiraClientTest, NothingIsCalledBeforeProvisioningOrInsideTheEnterprise) {
  configure(2);
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
              s.domainName = "corp.example.com";
              s.systemDefense.environment.detectionStrings = {"example.com"};
            }),
            platform::ChangeResult::Ok);
  startClient();
  settle();
  EXPECT_EQ(mps->connections, 0) << "inside the enterprise an external-only MPS is not called";
  EXPECT_TRUE(client->status().insideEnterprise);
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.systemDefense.environment.detectionStrings = {"other.org"}; }),
            platform::ChangeResult::Ok);
  ASSERT_TRUE(runUntil([&] { return connected(); }));
  // Unprovisioning wipes the configuration: the tunnel closes.
  ASSERT_EQ(model->unprovision(platform::UnprovisionScope::Full), platform::ChangeResult::Ok);
  ASSERT_TRUE(runUntil([&] { return !connected(); }));
}

}  // namespace
}  // namespace mesim
