// Local software reaching AMT through LMS (spec/apf.md §2): the real daemon, an LMS-like APF host on its FUSE
// dev/mei0 forwarding local TCP clients, and WS-Man with Digest through that path answered exactly as on the
// network port; the redirection port refused cleanly; the pool of 8 channels.
#include <gtest/gtest.h>

#include <regex>

#include "tests/support/daemon_process.h"
#include "tests/support/lms_host.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim::test {
namespace {

// The answers differ only in their own MessageID (a fresh uuid per answer) and the Date-like fields.
std::string normalize(std::string body) {
  static const std::regex messageId("<([a-zA-Z0-9]+:)?MessageID>[^<]*</([a-zA-Z0-9]+:)?MessageID>");
  return std::regex_replace(body, messageId, "<MessageID/>");
}

// Connects, sends nothing, and reports whether the host closed the socket within the timeout.
bool closedByHost(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  int fd = connectLoopback(port);
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  bool closed = false;
  if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
    char c;
    closed = ::recv(fd, &c, 1, 0) <= 0;
  }
  ::close(fd);
  return closed;
}

class LmsDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/fuse here";
    ASSERT_TRUE(daemon.start({"--fuse", "on"})) << daemon.log();
    host = std::make_unique<LmsHost>([this] { return std::make_unique<FdMeiTransport>(daemon.meiDevice().string()); });
    ASSERT_EQ(host->start(), 0);
    lmsPort = host->localPort(16992);
    ASSERT_NE(lmsPort, 0) << daemon.log();
  }
  void TearDown() override {
    if (host) host->stop();
    if (HasFailure()) std::cerr << daemon.log();
  }

  DaemonProcess daemon;
  std::unique_ptr<LmsHost> host;
  std::uint16_t lmsPort = 0;
};

TEST_F(LmsDaemonTest, HandshakeForwards16992And623) {
  EXPECT_NE(host->localPort(623), 0);
  EXPECT_EQ(host->maxMsgLength(), 4096u);
  std::lock_guard lock(host->mutex());
  EXPECT_EQ(host->forwardedPorts(), (std::vector<std::uint32_t>{623, 16992}));
  EXPECT_FALSE(host->deinitialized());
}

TEST_F(LmsDaemonTest, WsmanThroughLmsAnswersAsTheNetworkPort) {
  WsmanDigestClient viaLms(lmsPort), viaNetwork(daemon.httpPort());
  for (const std::string& body : {wsmanIdentify(), wsmanGetGeneralSettings("7")}) {
    auto local = viaLms.post(body);
    auto remote = viaNetwork.post(body);
    ASSERT_EQ(local.status, 200u) << local.error << local.body;
    ASSERT_EQ(remote.status, 200u) << remote.error << remote.body;
    EXPECT_EQ(normalize(local.body), normalize(remote.body));
  }
  // Several requests on the same keep-alive channel, and a wrong password refused the same way.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(viaLms.post(wsmanGetGeneralSettings(std::to_string(i))).status, 200u);
  WsmanDigestClient wrongLocal(lmsPort, "admin", "nope"), wrongRemote(daemon.httpPort(), "admin", "nope");
  EXPECT_EQ(wrongLocal.post(wsmanGetGeneralSettings()).status, 401u);
  EXPECT_EQ(wrongRemote.post(wsmanGetGeneralSettings()).status, 401u);
}

// /status shows the LMS session and its channels, for a QA pipeline checking that LMS attached.
TEST_F(LmsDaemonTest, StatusReportsTheLmeSession) {
  auto status = daemon.get("/status");
  EXPECT_NE(status.find("\"lme\":{\"sessions\":1,\"established\":1,\"channels\":0"), std::string::npos) << status;
  WsmanDigestClient viaLms(lmsPort);
  ASSERT_EQ(viaLms.post(wsmanGetGeneralSettings()).status, 200u);
  status = daemon.get("/status");
  EXPECT_NE(status.find("\"channels\":1,"), std::string::npos) << status;  // the keep-alive channel
  static const std::regex opened(R"("channels_opened":(\d+))");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(status, m, opened)) << status;
  EXPECT_GE(std::stoi(m[1]), 2);  // the 401's channel, then this one
}

TEST_F(LmsDaemonTest, RedirectionPortIsRefusedCleanly) {
  std::uint16_t redirection = host->localPort(623);
  ASSERT_NE(redirection, 0);
  EXPECT_TRUE(closedByHost(redirection));
  ASSERT_TRUE(host->waitFor([&] { return host->openFailures() == 1 && host->openChannels() == 0; }));
  WsmanDigestClient client(lmsPort);
  EXPECT_EQ(client.post(wsmanGetGeneralSettings()).status, 200u);  // the session carries on
}

TEST_F(LmsDaemonTest, PoolOfEightChannelsThenResourceShortage) {
  std::vector<std::unique_ptr<WsmanDigestClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<WsmanDigestClient>(lmsPort));
    ASSERT_EQ(clients.back()->post(wsmanIdentify()).status, 200u) << "channel " << i;
  }
  EXPECT_TRUE(closedByHost(lmsPort));  // the 9th: OPEN_FAILURE, LMS closes the socket
  ASSERT_TRUE(host->waitFor([&] { return host->openFailures() == 1; }));
  clients.front()->close();  // frees a slot once both CHANNEL_CLOSEs went
  ASSERT_TRUE(host->waitFor([&] { return host->openChannels() == 7; }));
  // Identify: no 401 that closes the connection and would need a 9th slot while the 8th is still closing.
  WsmanDigestClient again(lmsPort);
  EXPECT_EQ(again.post(wsmanIdentify()).status, 200u);
}

TEST_F(LmsDaemonTest, RaisedAlertReachesLmsOverAnEventChannel) {
  auto raised = daemon.post("/events/raise?messageId=iAMT0005&arg=1");
  ASSERT_EQ(raised.substr(0, 3), "200") << raised;
  ASSERT_TRUE(host->waitFor([&] { return !host->events().empty() && host->openChannels() == 0; })) << daemon.log();
  std::lock_guard lock(host->mutex());
  EXPECT_EQ(host->events()[0].messageId, "iAMT0005");
  EXPECT_EQ(host->events()[0].arguments, "1");
}

TEST_F(LmsDaemonTest, HostReconnectsGetACleanSession) {
  // Other host-side users (the host watchdog) may hold MEI connections of their own: count ours only.
  auto firmwareConnections = [this] {
    static const std::regex connections("\"connections\":(\\d+)");
    std::smatch m;
    std::string status = daemon.get("/status");
    return std::regex_search(status, m, connections) ? std::stoi(m[1]) : -1;
  };
  const int withHost = firmwareConnections();
  for (int i = 0; i < 5; ++i) {
    host->stop();
    ASSERT_EQ(host->start(), 0);
    std::uint16_t port = host->localPort(16992);
    ASSERT_NE(port, 0);
    WsmanDigestClient client(port);
    EXPECT_EQ(client.post(wsmanGetGeneralSettings()).status, 200u);
  }
  EXPECT_EQ(firmwareConnections(), withHost);
  host->stop();
  int connections = -1;
  for (int i = 0; i < 100 && (connections = firmwareConnections()) != withHost - 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(connections, withHost - 1);
}

}  // namespace
}  // namespace mesim::test
