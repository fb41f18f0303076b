// The LMS path in one process (LmsMachine: engine + LME client + the real WS-Man HTTP server, an LMS-like host
// over MeiFile): WS-Man through it, a stalled window and its recovery, the host vanishing mid-transfer,
// malformed input from the host, 100 reconnects without leaks, and an event delivered over a ME-opened channel.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <regex>

#include "tests/support/lms_machine.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim::test {
namespace {

std::string normalize(std::string body) {
  static const std::regex messageId("<([a-zA-Z0-9]+:)?MessageID>[^<]*</([a-zA-Z0-9]+:)?MessageID>");
  return std::regex_replace(body, messageId, "<MessageID/>");
}

class LmsInProcessTest : public ::testing::Test {
 protected:
  void startHost(LmsHostOptions options = {}) {
    host = std::make_unique<LmsHost>(machine.transports(), options);
    ASSERT_EQ(host->start(), 0);
    lmsPort = host->localPort(16992);
    ASSERT_NE(lmsPort, 0);
  }
  void TearDown() override {
    if (host) host->stop();
  }
  // Waits for the firmware side to settle at `channels` open channels and `wsman` WS-Man connections.
  bool settles(std::size_t sessions, std::size_t channels, std::size_t wsman) {
    for (int i = 0; i < 250; ++i) {
      auto s = machine.lmeStats();
      if (s.sessions == sessions && s.channels == channels && machine.wsmanConnections() == wsman) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto s = machine.lmeStats();
    ADD_FAILURE() << "sessions " << s.sessions << " channels " << s.channels << " wsman " << machine.wsmanConnections();
    return false;
  }

  LmsMachine machine;
  std::unique_ptr<LmsHost> host;
  std::uint16_t lmsPort = 0;
};

TEST_F(LmsInProcessTest, WsmanThroughLmsAnswersAsTheNetworkPort) {
  startHost();
  WsmanDigestClient viaLms(lmsPort), viaNetwork(machine.networkPort());
  for (const std::string& body : {wsmanIdentify(), wsmanGetGeneralSettings("3")}) {
    auto local = viaLms.post(body);
    auto remote = viaNetwork.post(body);
    ASSERT_EQ(local.status, 200u) << local.error;
    ASSERT_EQ(remote.status, 200u) << remote.error;
    EXPECT_EQ(normalize(local.body), normalize(remote.body));
  }
  std::lock_guard lock(host->mutex());
  EXPECT_EQ(host->windowViolations(), 0u);
  EXPECT_EQ(host->oversizedData(), 0u);
}

// The APF host on the firmware's own loop (the benchmark's LMS path) behaves as LmsHost: the same answers as
// the network port, several requests on one keep-alive channel, the window respected, and its channels freed.
TEST_F(LmsInProcessTest, LoopHostAnswersAsTheNetworkPort) {
  auto loopHost = machine.startLoopHost(1024);
  ASSERT_TRUE(loopHost);
  std::uint16_t port = machine.machine.run([&] { return loopHost->localPort(16992); });
  {
    WsmanDigestClient viaLms(port), viaNetwork(machine.networkPort());
    for (int i = 0; i < 20; ++i) {
      auto local = viaLms.post(wsmanGetGeneralSettings(std::to_string(i)));
      auto remote = viaNetwork.post(wsmanGetGeneralSettings(std::to_string(i)));
      ASSERT_EQ(local.status, 200u) << local.error;
      ASSERT_EQ(remote.status, 200u) << remote.error;
      ASSERT_GT(local.body.size(), 1024u);  // the answer needs more than one window
      EXPECT_EQ(normalize(local.body), normalize(remote.body));
    }
  }
  auto stats = machine.machine.run([&] { return loopHost->stats(); });
  EXPECT_EQ(stats.windowViolations, 0u);
  EXPECT_EQ(stats.oversizedData, 0u);
  EXPECT_FALSE(stats.down);
  EXPECT_TRUE(settles(1, 0, 0));  // both clients closed: no channel or WS-Man connection left
  machine.stopLoopHost(loopHost);
  EXPECT_TRUE(settles(0, 0, 0));
}

// With TLS on local ports the ME forwards 16993 and 664; a TLS client through LMS reaches WS-Man over TLS.
TEST_F(LmsInProcessTest, TlsOnLocalPortsServesWsmanOverTlsThroughLms) {
  ASSERT_EQ(machine.machine.run([&] {
    return machine.platform->update([](platform::PlatformState& s) { s.tls[1].enabled = true; });
  }), platform::ChangeResult::Ok);
  host = std::make_unique<LmsHost>(machine.transports());
  ASSERT_EQ(host->start(), 0);
  const std::uint16_t tlsPort = host->localPort(16993);
  ASSERT_NE(tlsPort, 0) << "16993 was not forwarded";
  const std::string request = (machine.dir.path() / "get.xml").string();
  {
    std::ofstream out(request);
    out << wsmanGetGeneralSettings("7");
  }
  std::string cmd = "curl -sk --max-time 10 --digest -u admin:P@ssw0rd -H 'Content-Type: application/soap+xml;charset=UTF-8' "
                    "--data-binary @" + request + " -w '\\n%{http_code}' https://127.0.0.1:" + std::to_string(tlsPort) +
                    "/wsman 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  EXPECT_EQ(out.substr(out.size() - 3), "200") << out;
  EXPECT_NE(out.find("AMT_GeneralSettings"), std::string::npos) << out;
}

TEST_F(LmsInProcessTest, StalledWindowRecovers) {
  LmsHostOptions options;
  options.adjustAfterWrite = false;  // the host grants nothing back until told
  startHost(options);
  auto answer = std::async(std::launch::async, [this] { return WsmanDigestClient(lmsPort).post(wsmanGetGeneralSettings()); });
  // At most the 1024-byte window arrives on each channel (the 401 closes its connection); then the ME waits.
  EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout);
  std::uint64_t stalledAt;
  {
    std::lock_guard lock(host->mutex());
    stalledAt = host->bytesFromMe();
    EXPECT_EQ(host->windowViolations(), 0u);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  {
    std::lock_guard lock(host->mutex());
    EXPECT_EQ(host->bytesFromMe(), stalledAt);  // nothing more without an adjust
  }
  while (answer.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) host->releaseWindow();
  auto result = answer.get();
  EXPECT_EQ(result.status, 200u) << result.error;
  std::lock_guard lock(host->mutex());
  EXPECT_GT(host->bytesFromMe(), stalledAt);
  EXPECT_EQ(host->windowViolations(), 0u);
}

TEST_F(LmsInProcessTest, HostDisconnectingMidTransferLeavesNothingBehind) {
  LmsHostOptions options;
  options.adjustAfterWrite = false;
  startHost(options);
  std::vector<std::future<HttpAnswer>> answers;
  for (int i = 0; i < 4; ++i)
    answers.push_back(std::async(std::launch::async, [this] { return WsmanDigestClient(lmsPort).post(wsmanGetGeneralSettings()); }));
  ASSERT_TRUE(host->waitFor([&] { return host->openChannels() == 4 && host->bytesFromMe() > 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  host->stop();  // MEI closed with responses half sent
  for (auto& a : answers) EXPECT_EQ(a.get().status, 0u);  // the clients see their connections close
  EXPECT_TRUE(settles(0, 0, 0));
  EXPECT_EQ(machine.hbmConnections(), 0u);
  // LMS re-inits: a clean new session.
  startHost();
  EXPECT_EQ(WsmanDigestClient(lmsPort).post(wsmanGetGeneralSettings()).status, 200u);
}

TEST_F(LmsInProcessTest, MalformedInputGetsProtocolErrorAndTheHostReconnects) {
  startHost();
  const std::vector<hbm::Bytes> malformed = {
      {},                                      // empty
      {94, 0, 0, 0, 0, 0, 0, 1, 0, 'x'},       // CHANNEL_DATA claiming 256 bytes
      {90, 0xFF, 0xFF, 0xFF, 0xFF},            // CHANNEL_OPEN with an impossible string length
      {192, 0, 0, 0, 1},                       // truncated PROTOCOLVERSION
      {97, 0, 0},                              // truncated CHANNEL_CLOSE
  };
  for (const auto& bytes : malformed) {
    if (bytes.empty()) continue;  // a zero-length MEI write is refused by the driver before the ME sees it
    host->sendRaw(bytes);
    ASSERT_TRUE(host->waitFor([&] { return host->disconnectReason().has_value(); }));
    EXPECT_EQ(*host->disconnectReason(), 2u);
    host->stop();
    ASSERT_EQ(host->start(), 0);
    ASSERT_NE(host->localPort(16992), 0);
  }
  // Ignored, as LMS ignores them: unknown types, unknown channel ids, duplicate PROTOCOLVERSION.
  host->sendRaw({7, 1, 2, 3});
  host->sendRaw({208, 0, 0, 0, 1});
  host->send(apf::ChannelWindowAdjust{6, 100});
  host->send(apf::ChannelData{5, {1, 2, 3}});
  host->send(apf::ChannelClose{4});
  host->send(apf::ProtocolVersion{1, 0, 254, {}});
  std::uint16_t port = host->localPort(16992);
  EXPECT_EQ(WsmanDigestClient(port).post(wsmanIdentify()).status, 200u);
  std::lock_guard lock(host->mutex());
  EXPECT_FALSE(host->disconnectReason().has_value());
}

TEST_F(LmsInProcessTest, HundredReconnectsLeakNothing) {
  for (int i = 0; i < 100; ++i) {
    host = std::make_unique<LmsHost>(machine.transports());
    ASSERT_EQ(host->start(), 0) << "reconnect " << i;
    std::uint16_t port = host->localPort(16992);
    ASSERT_NE(port, 0) << "reconnect " << i;
    if (i % 10 == 0) {
      WsmanDigestClient client(port);
      ASSERT_EQ(client.post(wsmanIdentify()).status, 200u) << "reconnect " << i;
      // Half the time the host goes away with the channel still open.
      if (i % 20 == 0) client.close();
    }
    host->stop();
  }
  host.reset();
  EXPECT_TRUE(settles(0, 0, 0));
  EXPECT_EQ(machine.hbmConnections(), 0u);
  EXPECT_EQ(machine.lmeStats().sessionsStarted, 100u);
}

TEST_F(LmsInProcessTest, UserNotificationReachesLmsAsAnEvent) {
  startHost();
  lme::UserNotification n;
  n.messageId = "iAMT0005";
  n.messageArguments = "1";
  n.message = "Test alert";
  EXPECT_EQ(machine.machine.run([&] { return machine.lme->sendUserNotification(n); }), 1u);
  ASSERT_TRUE(host->waitFor([&] { return !host->events().empty() && host->openChannels() == 0; }));
  {
    std::lock_guard lock(host->mutex());
    EXPECT_EQ(host->events()[0].messageId, "iAMT0005");
    EXPECT_EQ(host->events()[0].arguments, "1");
    EXPECT_EQ(host->events()[0].message, "Test alert");
    EXPECT_EQ(host->windowViolations(), 0u);
  }
  EXPECT_TRUE(settles(1, 0, 0));
}

}  // namespace
}  // namespace mesim::test
