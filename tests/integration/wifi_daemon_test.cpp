// Wireless in the real daemon (issue 14 item 6, docs/wireless-and-8021x.md): a console switches the Wi-Fi port on and
// adds a WPA2-PSK profile over WS-Man; the web UI's Wireless Settings page lists it and shows the link up; after a
// restart of the daemon the profile, the port's state and the link are still there, and the passphrase is in neither
// the WS-Man answers nor the page.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/support/daemon_process.h"
#include "tests/support/web_digest_client.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
const std::string kService = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_WiFiPortConfigurationService";
const std::string kPortSettings = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_EthernetPortSettings";
const std::string kGet = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";
const std::string kPassphrase = "Kitchen-Table-42";

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  const auto at = text.find(open);
  if (at == std::string::npos) return "<none>";
  const auto end = text.find(close, at + open.size());
  return text.substr(at + open.size(), end - at - open.size());
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class WifiDaemonTest : public ::testing::Test {
 protected:
  void start() {
    ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
    ASSERT_NE(daemon.httpPort(), 0) << daemon.log();
    wsman.emplace(daemon.httpPort());
  }
  void SetUp() override { start(); }

  std::string post(const std::string& envelope) {
    auto answer = wsman->post(envelope);
    EXPECT_EQ(answer.status, 200u) << answer.body;
    return answer.body;
  }
  std::string profile() {
    return post(wsmanEnvelope(kGet, kCim + "CIM_WiFiEndpointSettings", "", "1",
                              "<w:Selector Name=\"InstanceID\">Intel(r) AMT:WiFi Endpoint Settings home</w:Selector>"));
  }

  DaemonProcess daemon;
  std::optional<WsmanDigestClient> wsman;
};

TEST_F(WifiDaemonTest, ProfileAndPortStateSurviveARestart) {
  const std::string port = kCim + "CIM_WiFiPort";
  EXPECT_EQ(between(post(wsmanEnvelope(kGet, port)), "EnabledState>", "<"), "3");
  const auto enabled = post(wsmanEnvelope(port + "/RequestStateChange", port,
                                          "<h:RequestStateChange_INPUT xmlns:h=\"" + port +
                                              "\"><h:RequestedState>32769</h:RequestedState></h:RequestStateChange_INPUT>"));
  EXPECT_EQ(between(enabled, "ReturnValue>", "<"), "0") << enabled;

  const std::string q = "xmlns:q=\"" + kCim + "CIM_WiFiEndpointSettings\"";
  const auto added = post(wsmanEnvelope(
      kService + "/AddWiFiSettings", kService,
      "<h:AddWiFiSettings_INPUT xmlns:h=\"" + kService + "\"><h:WiFiEndpoint><a:Address>/wsman</a:Address>"
      "<a:ReferenceParameters><w:ResourceURI>" + kCim + "CIM_WiFiEndpoint</w:ResourceURI><w:SelectorSet>"
      "<w:Selector Name=\"Name\">WiFi Endpoint 0</w:Selector></w:SelectorSet></a:ReferenceParameters></h:WiFiEndpoint>"
      "<h:WiFiEndpointSettingsInput " + q + "><q:ElementName>home</q:ElementName><q:AuthenticationMethod>6"
      "</q:AuthenticationMethod><q:EncryptionMethod>4</q:EncryptionMethod><q:SSID>home-net</q:SSID><q:Priority>1"
      "</q:Priority><q:PSKPassPhrase>" + kPassphrase + "</q:PSKPassPhrase></h:WiFiEndpointSettingsInput>"
      "</h:AddWiFiSettings_INPUT>"));
  ASSERT_EQ(between(added, "ReturnValue>", "<"), "0") << added;

  auto check = [&] {
    const auto settings = profile();
    EXPECT_EQ(between(settings, "SSID>", "<"), "home-net") << settings;
    EXPECT_FALSE(contains(settings, kPassphrase)) << settings;
    EXPECT_EQ(between(post(wsmanEnvelope(kGet, port)), "EnabledState>", "<"), "32769");
    const auto wireless = post(wsmanEnvelope(kGet, kPortSettings, "", "1",
                                             "<w:Selector Name=\"InstanceID\">Intel(r) AMT Ethernet Port Settings 1</w:Selector>"));
    EXPECT_EQ(between(wireless, "LinkIsUp>", "<"), "true") << wireless;
    WebDigestClient admin(daemon.httpPort());
    const auto page = admin.get("/wlan.htm");
    EXPECT_EQ(page.status, 200u);
    EXPECT_TRUE(contains(page.body, "<td class=\"r1\">home-net</td>")) << page.body;
    EXPECT_TRUE(contains(page.body, "Enabled in S0 and in Sx on AC power")) << page.body;
    EXPECT_FALSE(contains(page.body, kPassphrase)) << page.body;
  };
  check();
  ASSERT_EQ(daemon.stop(), 0) << daemon.log();
  start();
  check();
}

// --wireless off: a new state dir's platform has the wired NIC only.
TEST(WifiDaemonWithoutNic, WirelessOffHasNoWirelessPort) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--wireless", "off", "--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
  WsmanDigestClient wsman(daemon.httpPort());
  const auto answer = wsman.post(wsmanEnvelope(kGet, kCim + "CIM_WiFiPort"));
  EXPECT_NE(answer.status, 200u) << answer.body;  // no instance to get
  const auto wired = wsman.post(wsmanEnvelope(kGet, kPortSettings, "", "1",
                                              "<w:Selector Name=\"InstanceID\">Intel(r) AMT Ethernet Port Settings 1</w:Selector>"));
  EXPECT_NE(wired.status, 200u) << wired.body;
  WebDigestClient admin(daemon.httpPort());
  EXPECT_TRUE(contains(admin.get("/wlan.htm").body, "no wireless network interface"));
}

}  // namespace
}  // namespace mesim::test
