// CIRA in the real daemon (docs/cira.md), against a scripted MPS on loopback TLS: `--cira-*` configures it at start;
// the tunnel comes up; /status, the metrics and AMTHI GetRemoteAccessConnectionStatus (over FUSE dev/mei0, when
// /dev/fuse is usable) say so; a channel to 16992 reaches the real WS-Man server and one to 16994 the real SOL server;
// the MPS going away is reported with its reason and the daemon goes on.
#include <gtest/gtest.h>

#include <fstream>

#include <boost/json.hpp>

#include "tests/support/amthi_call.h"
#include "tests/support/daemon_process.h"
#include "tests/support/fake_mps.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

namespace apf = lme::apf;
using hbm::Bytes;

constexpr std::uint32_t kGetRemoteAccessConnectionStatus = 0x04000046;

class CiraDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rootPem = makeTempDir("cira") / "mps-root.pem";
    std::ofstream(rootPem) << pemOf(mpsPki().root);
  }

  bool startDaemon(std::uint16_t mpsPort) {
    std::vector<std::string> args = {"--provisioning", "acm", "--preload", "off", "--admin-password", "P@ssw0rd",
                                     "--cira-mps", "127.0.0.1:" + std::to_string(mpsPort),
                                     "--cira-user", "0123456789abcdef", "--cira-password", "P@ssw0rd",
                                     "--cira-root", rootPem.string(), "--cira-cn", "mps.mesim.test"};
    fuse = ::access("/dev/fuse", R_OK | W_OK) == 0;
    args.push_back("--fuse");
    args.push_back(fuse ? "on" : "off");
    return daemon.start(args);
  }

  boost::json::object cira() {
    auto answer = httpRequest(daemon.controlPort(), "GET", "/status");
    auto body = answer.substr(answer.find(' ') + 1);
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("cira")) return {};
    return v.as_object()["cira"].as_object();
  }
  std::string ciraState() {
    auto c = cira();
    return c.contains("state") ? std::string(c["state"].as_string()) : "";
  }

  // WS-Man on the network port: the CIRA session as AMT lists it (IPS_RasSessionUsingPort, present while connected).
  std::string rasSessions() {
    WsmanDigestClient client(daemon.httpPort());
    auto r = client.post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
                                       "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_RasSessionUsingPort",
                                       "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\">"
                                       "<w:OptimizeEnumeration/><w:MaxElements>10</w:MaxElements></Enumerate>"));
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.body;
  }

  // Runs the MPS's loop until `done`, or about 10 s.
  bool runUntil(const std::function<bool()>& done) {
    for (int i = 0; i < 200 && !done(); ++i) {
      io.run_for(std::chrono::milliseconds(50));
      io.restart();
    }
    return done();
  }

  std::filesystem::path rootPem;
  boost::asio::io_context io;
  FakeMps mps{io};
  DaemonProcess daemon;
  bool fuse = false;
};

TEST_F(CiraDaemonTest, TheTunnelCarriesWsmanAndSolAndIsVisibleEverywhere) {
  ASSERT_TRUE(startDaemon(mps.port())) << daemon.log();
  ASSERT_TRUE(runUntil([&] { return mps.forwards.size() == 5 && ciraState() == "connected"; })) << daemon.log();
  EXPECT_EQ(mps.forwards, (std::vector<std::uint32_t>{16993, 16992, 16995, 16994, 5900}));
  auto c = cira();
  EXPECT_EQ(c["mps"].as_string(), "127.0.0.1:" + std::to_string(mps.port()));
  EXPECT_EQ(c["trigger"].as_string(), "periodic");
  EXPECT_EQ(c["connects"].as_int64(), 1);
  EXPECT_TRUE(daemon.waitForLog("CIRA tunnel to 127.0.0.1:" + std::to_string(mps.port()) + " is up (periodic)"));
  EXPECT_NE(rasSessions().find("AMT_RemoteAccessService"), std::string::npos);
  const auto metrics = httpRequest(daemon.controlPort(), "GET", "/metrics");
  EXPECT_NE(metrics.find("mesim_cira_connected{device=\"default\"} 1"), std::string::npos);

  if (fuse) {
    // AMTHI as LMS asks it: connected (2), periodic (3), the MPS's host name.
    auto r = amthiRequest(daemon.meiDevice().string(), kGetRemoteAccessConnectionStatus);
    ASSERT_EQ(amthiStatus(r), 0u);
    EXPECT_EQ(amthiU32At(r, 16), 0u) << "network status: at home (no environment detection; the preset calls the MPS from both)";
    EXPECT_EQ(amthiU32At(r, 20), 2u) << "connection status: connected";
    EXPECT_EQ(amthiU32At(r, 24), 3u) << "trigger: periodic";
    const std::string host(r.begin() + 30, r.begin() + 30 + std::min<std::size_t>(9, r.size() - 30));
    EXPECT_EQ(host, "127.0.0.1");
  }

  // WS-Man through the tunnel: the real server answers an unauthenticated request with a Digest challenge.
  mps.send(apf::ChannelOpen{"forwarded-tcpip", 4, 32768, apf::kReservedMaxPacket, "", 16992, "1.2.3.4", 1024});
  ASSERT_TRUE(runUntil([&] { return mps.count<apf::ChannelOpenConfirmation>() == 1; }));
  const auto wsmanChannel = mps.last<apf::ChannelOpenConfirmation>()->senderChannel;
  const std::string request = "POST /wsman HTTP/1.1\r\nHost: node:16992\r\nContent-Length: 0\r\n\r\n";
  mps.send(apf::ChannelData{wsmanChannel, Bytes(request.begin(), request.end())});
  ASSERT_TRUE(runUntil([&] { return mps.dataByChannel[4].find("\r\n\r\n") != std::string::npos; }));
  EXPECT_EQ(mps.dataByChannel[4].rfind("HTTP/1.1 401", 0), 0u) << mps.dataByChannel[4];
  EXPECT_NE(mps.dataByChannel[4].find("WWW-Authenticate: Digest"), std::string::npos);
  EXPECT_NE(mps.dataByChannel[4].find("Server: Intel(R) Active Management Technology"), std::string::npos);

  // Serial-over-LAN through the tunnel: the redirection server answers StartRedirectionSession("SOL ").
  mps.send(apf::ChannelOpen{"forwarded-tcpip", 5, 32768, apf::kReservedMaxPacket, "", 16994, "1.2.3.4", 1025});
  ASSERT_TRUE(runUntil([&] { return mps.count<apf::ChannelOpenConfirmation>() == 2; }));
  const auto solChannel = mps.last<apf::ChannelOpenConfirmation>()->senderChannel;
  mps.send(apf::ChannelData{solChannel, Bytes{0x10, 0, 0, 0, 'S', 'O', 'L', ' '}});
  ASSERT_TRUE(runUntil([&] { return mps.dataByChannel[5].size() >= 2; })) << daemon.log();
  EXPECT_EQ(std::uint8_t(mps.dataByChannel[5][0]), 0x11) << "StartRedirectionSessionReply";
  EXPECT_EQ(std::uint8_t(mps.dataByChannel[5][1]), 0x00) << "status: success";
  EXPECT_EQ(cira()["channels"].as_int64(), 2);

  // The MPS goes away: the tunnel is reported lost, then each call is refused; the daemon goes on answering.
  mps.close();
  ASSERT_TRUE(runUntil([&] { return ciraState() != "connected"; }));
  EXPECT_TRUE(daemon.waitForLog("CIRA tunnel to 127.0.0.1:" + std::to_string(mps.port()) + " lost"));
  EXPECT_TRUE(daemon.waitForLog("Connection refused", std::chrono::seconds(10))) << cira();
  c = cira();
  EXPECT_EQ(c["drops"].as_int64(), 1);
  EXPECT_NE(std::string(c["last_error"].as_string()).find("refused"), std::string::npos) << c;
  EXPECT_TRUE(c.contains("next_attempt"));
  EXPECT_EQ(rasSessions().find("AMT_RemoteAccessService"), std::string::npos);
  EXPECT_EQ(httpRequest(daemon.controlPort(), "GET", "/healthz").rfind("200", 0), 0u);
}

TEST_F(CiraDaemonTest, AWrongPasswordIsReportedWithItsReason) {
  mps.password = "not the one configured";
  ASSERT_TRUE(startDaemon(mps.port())) << daemon.log();
  ASSERT_TRUE(runUntil([&] { return cira()["failures"].is_int64() && cira()["failures"].as_int64() >= 1; }));
  auto c = cira();
  EXPECT_EQ(c["state"].as_string(), "disconnected");
  EXPECT_NE(std::string(c["last_error"].as_string()).find("USERAUTH_FAILURE"), std::string::npos) << c;
  EXPECT_TRUE(daemon.waitForLog("the MPS refused the user name or password"));
}

}  // namespace
}  // namespace mesim::test
