// What unmodified Intel LMS (2506) asks of the firmware by itself when it starts, replayed against the real daemon
// the way LMS does it: AMTHI GetLocalSystemAccount over the FUSE dev/mei0, then its WS-Man clients through the LMS
// path (APF over LME) with the OS admin account. PowerOperationsService registers the power states its OS carries
// out (CIM_PowerManagementCapabilities Get, then Put); StatusEventHandler reads IPS_HostBootReason to tell the user
// about a remote-control boot; the D-Bus API's GetUserInitiatedEnabled and GetIPv6NetworkSettings are AMTHI calls.
#include <gtest/gtest.h>

#include <regex>

#include "tests/support/amthi_call.h"
#include "tests/support/daemon_process.h"
#include "tests/support/os_admin_lms.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

const std::string kCapsUri = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementCapabilities";
const std::string kBootUri = "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_HostBootReason";
const std::string kAssociationUri = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kEnumeration = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/";

// The texts of every element named `name` (any prefix), in order.
std::vector<std::string> values(const std::string& body, const std::string& name) {
  std::vector<std::string> out;
  const std::regex element("<([a-zA-Z0-9]+:)?" + name + ">([^<]*)</");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), element); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[2]);
  return out;
}

std::string value(const std::string& body, const std::string& name) {
  auto v = values(body, name);
  return v.empty() ? "<none>" : v.front();
}

// The Put LMS's openwsman client writes: the instance it read, PowerStatesSupported replaced.
std::string putCapabilities(const std::vector<int>& states) {
  std::string body = "<h:CIM_PowerManagementCapabilities xmlns:h=\"" + kCapsUri +
                     "\"><h:ElementName>Power Management Capabilities</h:ElementName>"
                     "<h:InstanceID>Intel(r) AMT:PowerManagementCapabilities 0</h:InstanceID>";
  for (int c : {2, 3, 4, 7, 8}) body += "<h:PowerChangeCapabilities>" + std::to_string(c) + "</h:PowerChangeCapabilities>";
  for (int s : states) body += "<h:PowerStatesSupported>" + std::to_string(s) + "</h:PowerStatesSupported>";
  body += "</h:CIM_PowerManagementCapabilities>";
  return wsmanEnvelope(kTransfer + "Put", kCapsUri, body);
}

class LmsAgentDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/fuse here";
    ASSERT_TRUE(daemon.start({"--fuse", "on"})) << daemon.log();
  }
  void TearDown() override {
    lms.reset();
    if (HasFailure()) std::cerr << daemon.log();
  }

  // LMS's BaseWSManClient: the local system account over AMTHI, then Digest through LMS's own 16992.
  std::unique_ptr<WsmanDigestClient> lmsClientAsOsAdmin() {
    if (!lms) lms = startOsAdminThroughLms(daemon.meiDevice().string());
    return lms ? lms->client() : nullptr;
  }

  std::string pullAll(WsmanDigestClient& client, const std::string& uri) {
    auto started = client.post(wsmanEnvelope(kEnumeration + "Enumerate", uri,
                                             "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"/>"));
    EXPECT_EQ(started.status, 200u) << started.body;
    auto pulled = client.post(wsmanEnvelope(kEnumeration + "Pull", uri,
                                            "<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\">"
                                            "<EnumerationContext>" + value(started.body, "EnumerationContext") +
                                                "</EnumerationContext><MaxElements>99</MaxElements></Pull>"));
    EXPECT_EQ(pulled.status, 200u) << pulled.body;
    return pulled.body;
  }

  DaemonProcess daemon;
  std::unique_ptr<OsAdminThroughLms> lms;
};

TEST_F(LmsAgentDaemonTest, PowerOperationsServiceRegistersTheGracefulStates) {
  auto osAdmin = lmsClientAsOsAdmin();
  ASSERT_TRUE(osAdmin) << daemon.log();
  auto got = osAdmin->post(wsmanEnvelope(kTransfer + "Get", kCapsUri));
  ASSERT_EQ(got.status, 200u) << got.error << got.body;
  EXPECT_EQ(values(got.body, "PowerStatesSupported"),
            (std::vector<std::string>{"5", "8", "2", "10", "11", "4", "7", "12", "14"}));

  // A host whose OS cannot suspend: LMS keeps 12 and 14 and removes 4 and 7, as real AMT then shows.
  auto put = osAdmin->post(putCapabilities({5, 8, 2, 10, 11, 12, 14}));
  ASSERT_EQ(put.status, 200u) << put.body;
  const std::vector<std::string> expected{"5", "8", "2", "10", "11", "12", "14"};
  EXPECT_EQ(values(put.body, "PowerStatesSupported"), expected);
  EXPECT_EQ(values(put.body, "RequestedPowerStatesSupported"), expected);

  // A console on the network sees it, and is offered no sleep or hibernate; the same Put with the OS account from
  // the network is refused at login.
  WsmanDigestClient console(daemon.httpPort());
  EXPECT_EQ(values(console.post(wsmanEnvelope(kTransfer + "Get", kCapsUri)).body, "PowerStatesSupported"), expected);
  EXPECT_EQ(values(pullAll(console, kAssociationUri), "AvailableRequestedPowerStates"),
            (std::vector<std::string>{"10", "8", "5", "11", "14", "12"}));
  WsmanDigestClient osAccountFromNetwork(daemon.httpPort(), lms->user, lms->password);
  EXPECT_EQ(osAccountFromNetwork.post(putCapabilities({5, 8, 2, 10, 11, 4})).status, 401u);

  // Kept across a restart of the daemon.
  lms.reset();
  ASSERT_EQ(daemon.stop(), 0) << daemon.log();
  ASSERT_TRUE(daemon.start({"--fuse", "on"})) << daemon.log();
  WsmanDigestClient afterRestart(daemon.httpPort());
  EXPECT_EQ(values(afterRestart.post(wsmanEnvelope(kTransfer + "Get", kCapsUri)).body, "PowerStatesSupported"), expected);
}

TEST_F(LmsAgentDaemonTest, StatusEventHandlerSeesARemoteControlBoot) {
  auto osAdmin = lmsClientAsOsAdmin();
  ASSERT_TRUE(osAdmin) << daemon.log();
  std::string boot = pullAll(*osAdmin, kBootUri);
  EXPECT_EQ(value(boot, "Reason"), "1") << boot;  // an ordinary boot
  EXPECT_EQ(value(boot, "PreviousSxState"), "0");

  // A console power-cycles the host; when the host is back, LMS finds a remote-control boot from S5.
  WsmanDigestClient console(daemon.httpPort());
  auto cycled = console.post(wsmanRequestPowerStateChange(5));
  ASSERT_EQ(cycled.status, 200u) << cycled.body;
  ASSERT_EQ(value(cycled.body, "ReturnValue"), "0") << cycled.body;
  // The host rebooted, so LMS starts again and reads the account afresh (AMT may have rotated its password).
  lms.reset();
  osAdmin = lmsClientAsOsAdmin();
  ASSERT_TRUE(osAdmin) << daemon.log();
  boot = pullAll(*osAdmin, kBootUri);
  EXPECT_EQ(value(boot, "InstanceID"), "Intel(r) AMT:Host Boot Reason");
  EXPECT_EQ(value(boot, "Reason"), "2") << boot;
  EXPECT_EQ(value(boot, "ReasonDetails"), "Power Cycle");
  EXPECT_EQ(value(boot, "PreviousSxState"), "7");
}

TEST_F(LmsAgentDaemonTest, DbusNetworkQueriesAreAnsweredOverAmthi) {
  // GetUserInitiatedEnabled: no interface enabled by default (AMT_UserInitiatedConnectionService 32768).
  Bytes r = amthiRequest(daemon.meiDevice().string(), 0x0400004D);
  ASSERT_EQ(r.size(), 12u + 4u + 4u);
  EXPECT_EQ(amthiU32At(r, 4), 0x0480004Du);
  EXPECT_EQ(amthiStatus(r), 0u);
  EXPECT_EQ(amthiU32At(r, 16), 0u);
  // A console enables it for the OS agent: bit 1.
  WsmanDigestClient console(daemon.httpPort());
  const std::string uic = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_UserInitiatedConnectionService";
  auto enabled = console.post(wsmanEnvelope(uic + "/RequestStateChange", uic,
                                            "<h:RequestStateChange_INPUT xmlns:h=\"" + uic +
                                                "\"><h:RequestedState>32770</h:RequestedState></h:RequestStateChange_INPUT>"));
  ASSERT_EQ(value(enabled.body, "ReturnValue"), "0") << enabled.body;
  EXPECT_EQ(amthiU32At(amthiRequest(daemon.meiDevice().string(), 0x0400004D), 16), 2u);

  // GetIPv6NetworkSettings: IPv6 is off on both interfaces (2500), which LMS reports as IPv4-only.
  for (std::uint32_t index : {0u, 1u}) {
    r = amthiRequest(daemon.meiDevice().string(), 0x04000052, {static_cast<std::uint8_t>(index), 0, 0, 0});
    ASSERT_EQ(r.size(), 16u) << index;
    EXPECT_EQ(amthiStatus(r), 2500u) << index;
  }
}

}  // namespace
}  // namespace mesim::test
