// The legacy EOI SOAP services in the real daemon (issue 13 items 6 and 7), driven by Debian's amttool (SOAP::Lite,
// Digest through LWP): info, the four power commands with a special boot command, netinfo and netconf; each
// result checked over WS-Man (CIM_AssociatedPowerManagementService, AMT_BootSettingData, AMT_EthernetPortSettings);
// a wrong password is amttool's 401 error, and malformed SOAP gets a Fault over the same socket path.
#include <gtest/gtest.h>

#include "tests/support/daemon_process.h"
#include "tests/support/program_run.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
constexpr char kPassword[] = "P@ssw0rd";
constexpr char kAmttool[] = "/usr/bin/amttool";

bool haveAmttool() {
  return ::access(kAmttool, X_OK) == 0 && std::system("perl -MSOAP::Lite -e 1 >/dev/null 2>&1") == 0;
}

// amttool HOST:PORT COMMAND [ARGS...], answering its [y/N] question with `answer`.
ProgramRun amttool(std::uint16_t port, std::vector<std::string> args, const std::string& password = kPassword,
                   const std::string& answer = "y") {
  std::vector<std::string> argv{"/bin/sh", "-c", "echo " + answer + " | \"$0\" \"$@\"", kAmttool,
                                "127.0.0.1:" + std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  return runProgram(argv, {"AMT_PASSWORD=" + password}, 30s, {"LD_PRELOAD=", "MESIM_", "AMT_"});
}

// The host's power state as WS-Man reports it (CIM_AssociatedPowerManagementService.PowerState).
std::string wsmanPowerState(std::uint16_t port) {
  WsmanDigestClient client(port);
  const auto answer = client.post(wsmanEnvelope(
      "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
      "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService",
      "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><OptimizeEnumeration "
      "xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"/></Enumerate>"));
  const auto at = answer.body.find(":PowerState>");
  if (at == std::string::npos) return "none in " + answer.body;
  const auto start = at + std::string_view(":PowerState>").size();
  return answer.body.substr(start, answer.body.find('<', start) - start);
}

std::string wsmanGet(std::uint16_t port, const std::string& amtClass, const std::string& selectors = "") {
  WsmanDigestClient client(port);
  return client
      .post(wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
                          "http://intel.com/wbem/wscim/1/amt-schema/1/" + amtClass, "", "1", selectors))
      .body;
}

class EoiDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveAmttool()) GTEST_SKIP() << "amttool or SOAP::Lite is not installed (scripts/test.sh installs amtterm and "
                                        "libsoap-lite-perl)";
    ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
    ASSERT_NE(daemon.httpPort(), 0);
  }
  DaemonProcess daemon;
};

TEST_F(EoiDaemon, InfoPrintsVersionHostAndPowerState) {
  const auto run = amttool(daemon.httpPort(), {"info"});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("### AMT info on machine '127.0.0.1' ###"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("AMT version:  "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Powerstate:   S0"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("IanaOemNumber                   157"), std::string::npos) << "343 in hex: " << run.output;
  EXPECT_NE(run.output.find("PXE-boot HD-boot cd-boot"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("powercycle powerdown powerup reset"), std::string::npos) << run.output;
}

TEST_F(EoiDaemon, PowerCommandsChangeWhatWsmanShows) {
  const auto port = daemon.httpPort();
  ASSERT_EQ(wsmanPowerState(port), "2");

  auto run = amttool(port, {"powerdown"});
  EXPECT_NE(run.output.find("execute: powerdown"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("result: pt_status: success"), std::string::npos) << run.output;
  EXPECT_EQ(wsmanPowerState(port), "8") << "off-soft";
  EXPECT_NE(amttool(port, {"info"}).output.find("Powerstate:   S5 (soft-off)"), std::string::npos);

  run = amttool(port, {"powerdown"});
  EXPECT_NE(run.output.find("result: pt_status: not permitted"), std::string::npos) << "already off: " << run.output;

  run = amttool(port, {"powerup", "pxe"});
  EXPECT_NE(run.output.find("result: pt_status: success"), std::string::npos) << run.output;
  EXPECT_EQ(wsmanPowerState(port), "2");
  const auto boot = wsmanGet(port, "AMT_BootSettingData");
  EXPECT_NE(boot.find("BIOSSetup>false<"), std::string::npos) << boot;

  run = amttool(port, {"reset", "bios"});
  EXPECT_NE(run.output.find("result: pt_status: success"), std::string::npos) << run.output;
  EXPECT_EQ(wsmanPowerState(port), "2");
  // The reset booted with amttool's options (BIOS setup, SOL: eoi_test checks what the boot saw) and used them up,
  // as AMT does: AMT_BootSettingData is back to its defaults with OptionsCleared.
  const auto bios = wsmanGet(port, "AMT_BootSettingData");
  EXPECT_NE(bios.find("OptionsCleared>true<"), std::string::npos) << bios;
  EXPECT_NE(bios.find("BIOSSetup>false<"), std::string::npos) << bios;

  run = amttool(port, {"powercycle"});
  EXPECT_NE(run.output.find("result: pt_status: success"), std::string::npos) << run.output;
  EXPECT_EQ(wsmanPowerState(port), "2");

  run = amttool(port, {"powerdown"}, kPassword, "n");
  EXPECT_NE(run.output.find("canceled"), std::string::npos) << run.output;
  EXPECT_EQ(wsmanPowerState(port), "2");

  // The simulated host heard of it through the state machine's hook, as it does from WS-Man.
  EXPECT_NE(daemon.get("/host").find("\"power_state\":2"), std::string::npos) << daemon.get("/host");
  ASSERT_NE(amttool(port, {"powerdown"}).output.find("pt_status: success"), std::string::npos);
  EXPECT_NE(daemon.get("/host").find("\"power_state\":8"), std::string::npos) << daemon.get("/host");
}

TEST_F(EoiDaemon, NetinfoAndNetconfAreTheEthernetPortSettings) {
  const auto port = daemon.httpPort();
  auto run = amttool(port, {"netinfo"});
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("Network Interface 0:"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("InterfaceMode                   SHARED_MAC_ADDRESS"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("LocalAddress                192.168.1.100"), std::string::npos) << run.output;

  // amttool 1.4 takes the first word after netconf as the power commands' special argument and passes on the
  // rest (hence "x"), and computes an address's second octet as n*256*246, so addresses with a zero second octet
  // go through unchanged.
  run = amttool(port, {"netconf", "x", "0", "1", "10.0.0.50", "255.0.0.0", "10.0.0.1"});
  EXPECT_NE(run.output.find("result: pt_status: success"), std::string::npos) << run.output;
  const auto ports = wsmanGet(port, "AMT_EthernetPortSettings",
                              "<w:Selector Name=\"InstanceID\">Intel(r) AMT Ethernet Port Settings 0</w:Selector>");
  for (const char* shown : {"IPAddress>10.0.0.50<", "SubnetMask>255.0.0.0<", "DefaultGateway>10.0.0.1<",
                            "PrimaryDNS>10.0.0.1<", "DHCPEnabled>false<"})
    EXPECT_NE(ports.find(shown), std::string::npos) << shown << " in " << ports;
  run = amttool(port, {"netinfo"});
  EXPECT_NE(run.output.find("InterfaceMode                   SEPARATE_MAC_ADDRESS"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("SubnetMask                  255.0.0.0"), std::string::npos) << run.output;

  // 192.168.1.10 with a /24 mask arrives as 192.161.113.10 mask 255.245.11.0: not a netmask.
  run = amttool(port, {"netconf", "x", "0", "1", "192.168.1.10", "255.255.255.0", "192.168.1.1"});
  EXPECT_NE(run.output.find("result: pt_status: invalid netmask"), std::string::npos) << run.output;

  run = amttool(port, {"netconf", "x", "0", "1"});
  EXPECT_NE(run.output.find("result: pt_status: success"), std::string::npos) << "back to DHCP: " << run.output;
  EXPECT_NE(wsmanGet(port, "AMT_EthernetPortSettings",
                     "<w:Selector Name=\"InstanceID\">Intel(r) AMT Ethernet Port Settings 0</w:Selector>")
                .find("DHCPEnabled>true<"),
            std::string::npos);
}

TEST_F(EoiDaemon, WrongPasswordIsAmttoolsError) {
  const auto run = amttool(daemon.httpPort(), {"info"}, "not-the-password");
  EXPECT_NE(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("401 Unauthorized"), std::string::npos) << run.output;
  EXPECT_EQ(wsmanPowerState(daemon.httpPort()), "2");
}

TEST_F(EoiDaemon, MalformedSoapIsAFaultAndTheDaemonGoesOn) {
  // Our Digest client posts to /wsman only; curl reaches a legacy path with Digest.
  const auto run = runProgram({"/usr/bin/curl", "-s", "-o", "-", "-w", "\\n%{http_code}", "--digest", "-u",
                               std::string("admin:") + kPassword, "-H", "Content-Type: text/xml", "--data-binary",
                               "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><Bogus "
                               "xmlns=\"http://schemas.intel.com/platform/client/RemoteControl/2004/01\"/></s:Body>",
                               "http://127.0.0.1:" + std::to_string(daemon.httpPort()) + "/RemoteControlService"},
                              {}, 10s);
  if (run.output.find("spawn failed") != std::string::npos) GTEST_SKIP() << "no curl";
  EXPECT_NE(run.output.find("faultcode>SOAP-ENV:Client<"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\n500"), std::string::npos) << run.output;
  EXPECT_EQ(wsmanPowerState(daemon.httpPort()), "2");
  const auto info = amttool(daemon.httpPort(), {"info"});
  EXPECT_NE(info.output.find("Powerstate:   S0"), std::string::npos) << info.output;
  // /status counts them: the fault, and info's five calls (GetCoreVersion, host and domain name, power state,
  // capabilities).
  const auto status = daemon.get("/status");
  EXPECT_NE(status.find("\"legacy_soap\":{\"calls\":5,\"faults\":1,\"not_permitted\":0,\"remote_controls\":0}"),
            std::string::npos)
      << status;
}

// The legacy paths are served only with a login (an Identify body, anonymous on /wsman, is not let through), only
// to POST, and only the services' own paths.
TEST_F(EoiDaemon, LegacyPathsNeedALoginAndAPost) {
  const std::string base = "http://127.0.0.1:" + std::to_string(daemon.httpPort());
  auto statusOf = [](std::vector<std::string> args) {
    std::vector<std::string> argv{"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProgram(argv, {}, 10s).output;
  };
  if (::access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "no curl";
  const std::string identify =
      "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><Identify "
      "xmlns=\"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd\"/></s:Body></s:Envelope>";
  EXPECT_EQ(statusOf({"--data-binary", identify, base + "/wsman"}), "200") << "anonymous Identify on /wsman";
  EXPECT_EQ(statusOf({"--data-binary", identify, base + "/RemoteControlService"}), "401");
  EXPECT_EQ(statusOf({"--digest", "-u", std::string("admin:") + kPassword, base + "/RemoteControlService"}), "405");
  EXPECT_EQ(statusOf({"--digest", "-u", std::string("admin:") + kPassword, "--data-binary", "<x/>",
                      base + "/RedirectionService"}),
            "404");
}

}  // namespace
}  // namespace mesim::test
