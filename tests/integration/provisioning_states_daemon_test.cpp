// The provisioning state machine through the real daemon, driven as rpc-go and MeshCentral drive it: AMTHI over the
// FUSE dev/mei0 (GetProvisioningState, GetControlMode, StartConfigurationHBased, GetLocalSystemAccount, Unprovision),
// then WS-Man through the LMS path with the OS admin account (Setup, UpgradeClientToAdmin), and the console's
// WS-Man from the network with the password it set (the network ports are shut until provisioning completes).
// Also --provisioning at start, the in-provisioning timeout on the manual clock and the factory reset through
// mesimctl.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "common/text_codecs.h"
#include "tests/support/amthi_call.h"
#include "tests/support/daemon_process.h"
#include "tests/support/os_admin_lms.h"
#include "tests/support/program_run.h"
#include "tests/support/provisioning_pki.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint32_t kUnprovision = 0x04000010;
constexpr std::uint32_t kGetProvisioningState = 0x04000011;
constexpr std::uint32_t kEnumerateHashHandles = 0x0400002C;
constexpr std::uint32_t kGetControlMode = 0x0400006B;
constexpr std::uint32_t kStartConfigurationHBased = 0x0400008B;
constexpr std::uint32_t kInvalidAmtMode = 3;

const std::string kFactoryPassword = "Factory1!";
const std::string kConsolePassword = "Console#2024";
const std::string kIps = "http://intel.com/wbem/wscim/1/ips-schema/1/";
const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";

// The console's PKI, made at test time: root CA -> intermediate -> provisioning certificate for a domain under the
// device's DNS suffix. Its root becomes a trusted user hash over WS-Man, as a console adds its own root.
const ProvisioningPki& consolePki() {
  static const ProvisioningPki pki = ProvisioningPki::make(static_cast<std::int64_t>(std::time(nullptr)));
  return pki;
}

std::string base64(const Bytes& bytes) { return text::base64Encode(bytes); }
Bytes unbase64(const std::string& text) { return text::base64Decode(text).value_or(Bytes{}); }

std::string rootHashBase64() { return base64(digestOf(derOf(consolePki().root), EVP_sha256())); }

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  const auto a = text.find(open);
  if (a == std::string::npos) return {};
  const auto b = text.find(close, a + open.size());
  return b == std::string::npos ? std::string() : text.substr(a + open.size(), b - a - open.size());
}

std::string returnValue(const HttpAnswer& answer) { return between(answer.body, "ReturnValue>", "</"); }

std::string invoke(const std::string& uri, const std::string& method, const std::string& inputs,
                   const std::string& id = "1") {
  return wsmanEnvelope(uri + "/" + method, uri,
                       "<h:" + method + "_INPUT xmlns:h=\"" + uri + "\">" + inputs + "</h:" + method + "_INPUT>", id);
}

class ProvisioningStatesDaemonTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra) {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/fuse here";
    std::vector<std::string> args{"--fuse", "on", "--admin-password", kFactoryPassword};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(daemon.start(args)) << daemon.log();
  }
  void TearDown() override {
    lms.reset();
    if (HasFailure()) std::cerr << daemon.log();
  }

  Bytes amthi(std::uint32_t command, const Bytes& payload = {}) {
    return amthiRequest(daemon.meiDevice().string(), command, payload);
  }
  std::uint32_t provisioningState() { return amthiU32At(amthi(kGetProvisioningState), 16); }
  std::uint32_t controlMode() { return amthiU32At(amthi(kGetControlMode), 16); }
  std::size_t hashHandles() { return amthiU32At(amthi(kEnumerateHashHandles), 16); }

  // StartConfigurationHBased as rpc-go sends it: SHA-256 of the server certificate, no host VPN, one DNS suffix.
  Bytes startConfigurationHBased() {
    Bytes payload(1 + 64 + 1 + 4 + 320, 0);
    payload[0] = 2;
    for (std::size_t i = 0; i < 32; ++i) payload[1 + i] = static_cast<std::uint8_t>(i);
    const std::string suffix = "example.com";
    payload[66] = static_cast<std::uint8_t>(suffix.size());
    std::copy(suffix.begin(), suffix.end(), payload.begin() + 70);
    return amthi(kStartConfigurationHBased, payload);
  }

  // The OS admin account from AMTHI, then an LMS on the daemon's dev/mei0: a WS-Man client through it.
  std::unique_ptr<WsmanDigestClient> lmsClientAsOsAdmin() {
    lms = startOsAdminThroughLms(daemon.meiDevice().string());
    return lms ? lms->client() : nullptr;
  }

  // rpc-go's local CCM activation: the realm from AMT_GeneralSettings, then Setup with MD5(admin:realm:password).
  HttpAnswer setupClientControlMode(WsmanDigestClient& osAdmin, const std::string& password) {
    auto general = osAdmin.post(wsmanGetGeneralSettings());
    EXPECT_EQ(general.status, 200u) << general.body;
    const std::string realm = between(general.body, "DigestRealm>", "</");
    const std::string hbs = kIps + "IPS_HostBasedSetupService";
    auto got = osAdmin.post(wsmanEnvelope(kTransfer + "Get", hbs, "", "2"));
    EXPECT_EQ(got.status, 200u) << got.body;
    return osAdmin.post(invoke(hbs, "Setup",
                               "<h:NetAdminPassEncryptionType>2</h:NetAdminPassEncryptionType><h:NetworkAdminPassword>" +
                                   md5Hex("admin:" + realm + ":" + password) + "</h:NetworkAdminPassword>",
                               "3"));
  }

  ProgramRun mesimctl(std::vector<std::string> args) {
    args.insert(args.begin(), MESIMCTL_BINARY);
    return runProgram(args, {"MESIMCTL_URL=http://127.0.0.1:" + std::to_string(daemon.controlPort())}, 30s,
                      {"MESIMCTL_"});
  }

  DaemonProcess daemon;
  std::unique_ptr<OsAdminThroughLms> lms;
};

TEST_F(ProvisioningStatesDaemonTest, PreToClientControlModeThroughLmsAndBackByAmthiUnprovision) {
  start({"--provisioning", "pre"});
  EXPECT_EQ(provisioningState(), 0u);
  EXPECT_EQ(controlMode(), 0u);
  EXPECT_NE(daemon.get("/provisioning").find("\"state\":\"pre\""), std::string::npos);
  // Not provisioned: the network side is shut (the connection closes unanswered), only LMS is served.
  EXPECT_EQ(WsmanDigestClient(daemon.httpPort(), "admin", kFactoryPassword).post(wsmanGetGeneralSettings()).status, 0u);
  EXPECT_NE(daemon.get("/status").find("\"not_provisioned\":1"), std::string::npos) << daemon.get("/status");

  // AMTHI StartConfigurationHBased: in-provisioning, the setup visible on the control API.
  Bytes started = startConfigurationHBased();
  ASSERT_EQ(amthiStatus(started), 0u);
  EXPECT_EQ(provisioningState(), 1u);
  const std::string during = daemon.get("/provisioning");
  EXPECT_NE(during.find("\"state\":\"in\""), std::string::npos) << during;
  EXPECT_NE(during.find("\"dns_suffixes\":[\"example.com\"]"), std::string::npos) << during;
  EXPECT_EQ(amthiStatus(startConfigurationHBased()), 0x20u);  // INVALID_PROVISIONING_STATE: already in

  // WS-Man through LMS with the OS admin account: Setup.
  auto osAdmin = lmsClientAsOsAdmin();
  ASSERT_TRUE(osAdmin) << daemon.log();
  auto setup = setupClientControlMode(*osAdmin, kConsolePassword);
  ASSERT_EQ(setup.status, 200u) << setup.body;
  EXPECT_EQ(returnValue(setup), "0") << setup.body;
  EXPECT_EQ(provisioningState(), 2u);
  EXPECT_EQ(controlMode(), 1u);

  // The console's password is the admin's now; the factory one is refused. Client control mode requires consent.
  WsmanDigestClient console(daemon.httpPort(), "admin", kConsolePassword);
  auto optIn = console.post(wsmanEnvelope(kTransfer + "Get", kIps + "IPS_OptInService"));
  ASSERT_EQ(optIn.status, 200u) << optIn.body;
  EXPECT_EQ(between(optIn.body, "OptInRequired>", "</"), "4294967295");
  EXPECT_EQ(WsmanDigestClient(daemon.httpPort(), "admin", kFactoryPassword).post(wsmanGetGeneralSettings()).status, 401u);
  // Setup again: invalid state (ReturnValue 2).
  EXPECT_EQ(returnValue(setupClientControlMode(*osAdmin, kConsolePassword)), "2");

  // A restart keeps client control mode and the console's password, whatever --provisioning says.
  lms.reset();
  ASSERT_EQ(daemon.stop(), 0);
  start({"--provisioning", "acm"});
  EXPECT_EQ(controlMode(), 1u);
  EXPECT_EQ(WsmanDigestClient(daemon.httpPort(), "admin", kConsolePassword).post(wsmanGetGeneralSettings()).status, 200u);

  // The host takes it back with AMTHI Unprovision (mode 2, as a widely used agent sends).
  Bytes unprovisioned = amthi(kUnprovision, Bytes{2, 0, 0, 0});
  ASSERT_EQ(amthiStatus(unprovisioned), 0u);
  EXPECT_EQ(provisioningState(), 0u);
  EXPECT_EQ(controlMode(), 0u);
  // The network side is shut again; through LMS the admin has the factory password back.
  EXPECT_EQ(WsmanDigestClient(daemon.httpPort(), "admin", kFactoryPassword).post(wsmanGetGeneralSettings()).status, 0u);
  ASSERT_TRUE(lmsClientAsOsAdmin()) << daemon.log();
  EXPECT_EQ(lms->clientAs("admin", kFactoryPassword)->post(wsmanGetGeneralSettings()).status, 200u);
  const std::string audit = daemon.get("/logs/audit");
  EXPECT_NE(audit.find("Provisioning Completed"), std::string::npos) << audit;
  EXPECT_NE(audit.find("Unprovisioning Started"), std::string::npos) << audit;
}

TEST_F(ProvisioningStatesDaemonTest, ClientToAdminControlModeAndAFullUnprovisionOverWsman) {
  start({"--provisioning", "ccm"});
  EXPECT_EQ(provisioningState(), 2u);
  EXPECT_EQ(controlMode(), 1u);
  const std::size_t defaultHashes = hashHandles();

  // The console trusts its own root (a user hash), as a console does before AdminSetup/UpgradeClientToAdmin.
  WsmanDigestClient console(daemon.httpPort(), "admin", kFactoryPassword);
  const std::string hashUri = kAmt + "AMT_ProvisioningCertificateHash";
  auto created = console.post(wsmanEnvelope(
      kTransfer + "Create", hashUri,
      "<h:AMT_ProvisioningCertificateHash xmlns:h=\"" + hashUri + "\"><h:Description>lab root</h:Description><h:HashData>" +
          rootHashBase64() + "</h:HashData><h:HashType>2</h:HashType></h:AMT_ProvisioningCertificateHash>"));
  ASSERT_EQ(created.status, 200u) << created.body;
  EXPECT_EQ(hashHandles(), defaultHashes + 1);

  // Through LMS with the OS admin account: the chain, then UpgradeClientToAdmin.
  auto osAdmin = lmsClientAsOsAdmin();
  ASSERT_TRUE(osAdmin) << daemon.log();
  const std::string hbs = kIps + "IPS_HostBasedSetupService";
  const auto nonceAnswer = osAdmin->post(wsmanEnvelope(kTransfer + "Get", hbs));
  const Bytes configurationNonce = unbase64(between(nonceAnswer.body, "ConfigurationNonce>", "</"));
  ASSERT_EQ(configurationNonce.size(), 20u) << nonceAnswer.body;
  const auto chain = consolePki().chain();
  for (std::size_t i = 0; i < chain.size(); ++i) {
    auto added = osAdmin->post(invoke(hbs, "AddNextCertInChain",
                                      "<h:NextCertificate>" + base64(chain[i]) + "</h:NextCertificate>"
                                      "<h:IsLeafCertificate>" + (i == 0 ? "true" : "false") + "</h:IsLeafCertificate>"
                                      "<h:IsRootCertificate>" + (i + 1 == chain.size() ? "true" : "false") +
                                      "</h:IsRootCertificate>"));
    ASSERT_EQ(added.status, 200u) << added.body;
    ASSERT_EQ(returnValue(added), "0") << added.body;
  }
  // The leaf's key signs ConfigurationNonce || McNonce, as rpc-go does.
  const Bytes mcNonce(20, 0x4D);
  const Bytes signature = signMessage(consolePki().leafKey, concat(configurationNonce, mcNonce));
  auto upgraded = osAdmin->post(invoke(hbs, "UpgradeClientToAdmin",
                                       "<h:McNonce>" + base64(mcNonce) + "</h:McNonce><h:SigningAlgorithm>2</h:SigningAlgorithm>"
                                       "<h:DigitalSignature>" + base64(signature) + "</h:DigitalSignature>"));
  ASSERT_EQ(upgraded.status, 200u) << upgraded.body;
  EXPECT_EQ(returnValue(upgraded), "0") << upgraded.body;
  EXPECT_EQ(controlMode(), 2u);

  // ACM: the host may not unprovision; SetMEBxPassword works now, with a strong password only.
  EXPECT_EQ(amthiStatus(amthi(kUnprovision, Bytes{0, 0, 0, 0})), kInvalidAmtMode);
  const std::string setupUri = kAmt + "AMT_SetupAndConfigurationService";
  EXPECT_EQ(returnValue(console.post(invoke(setupUri, "SetMEBxPassword", "<h:Password>weak</h:Password>"))), "36");
  EXPECT_EQ(returnValue(console.post(invoke(setupUri, "SetMEBxPassword", "<h:Password>Mebx1234!</h:Password>"))), "0");
  EXPECT_EQ(returnValue(console.post(invoke(setupUri, "CommitChanges", ""))), "0");

  // A full unprovision over WS-Man: pre-provisioning, the user hash gone, the admin back to the MEBx password.
  auto unprovisioned = console.post(invoke(setupUri, "Unprovision", "<h:ProvisioningMode>1</h:ProvisioningMode>"));
  ASSERT_EQ(unprovisioned.status, 200u) << unprovisioned.body;
  EXPECT_EQ(returnValue(unprovisioned), "0");
  EXPECT_EQ(provisioningState(), 0u);
  EXPECT_EQ(controlMode(), 0u);
  EXPECT_EQ(hashHandles(), defaultHashes);
  // Through LMS (the network side is shut in pre-provisioning), with the MEBx password.
  auto local = lms->clientAs("admin", "Mebx1234!");
  EXPECT_EQ(local->post(wsmanGetGeneralSettings()).status, 200u);
  // Nothing left to unprovision: NOT_PERMITTED.
  auto again = local->post(invoke(setupUri, "Unprovision", ""));
  EXPECT_EQ(returnValue(again), "16") << again.body;
}

TEST_F(ProvisioningStatesDaemonTest, AnUnfinishedConfigurationTimesOutOnTheFirmwareClock) {
  start({"--provisioning", "pre", "--clock", "manual", "--provisioning-timeout", "10m"});
  ASSERT_EQ(amthiStatus(startConfigurationHBased()), 0u);
  const std::string during = daemon.get("/provisioning");
  EXPECT_NE(during.find("\"seconds_left\":"), std::string::npos) << during;
  EXPECT_NE(during.find("\"deadline\":"), std::string::npos) << during;
  EXPECT_EQ(daemon.post("/clock/advance?seconds=599").substr(0, 3), "200");
  EXPECT_EQ(provisioningState(), 1u);
  EXPECT_EQ(daemon.post("/clock/advance?seconds=1").substr(0, 3), "200");
  EXPECT_EQ(provisioningState(), 0u);
  const std::string after = daemon.get("/provisioning");
  EXPECT_NE(after.find("\"setup\":null"), std::string::npos) << after;
  EXPECT_NE(after.find("\"timeouts_expired\":1"), std::string::npos) << after;
  // A new configuration may begin.
  EXPECT_EQ(amthiStatus(startConfigurationHBased()), 0u);
}

TEST_F(ProvisioningStatesDaemonTest, FactoryResetThroughMesimctl) {
  start({});  // admin control mode, the default
  EXPECT_EQ(controlMode(), 2u);
  const std::size_t defaultHashes = hashHandles();
  WsmanDigestClient console(daemon.httpPort(), "admin", kFactoryPassword);
  const std::string hashUri = kAmt + "AMT_ProvisioningCertificateHash";
  ASSERT_EQ(console.post(wsmanEnvelope(kTransfer + "Create", hashUri,
                                       "<h:AMT_ProvisioningCertificateHash xmlns:h=\"" + hashUri +
                                           "\"><h:Description>lab root</h:Description><h:HashData>" + rootHashBase64() +
                                           "</h:HashData><h:HashType>2</h:HashType></h:AMT_ProvisioningCertificateHash>"))
                .status,
            200u);

  auto shown = mesimctl({"provisioning"});
  EXPECT_EQ(shown.status, 0) << shown.output;
  EXPECT_NE(shown.output.find("\"control_mode\": \"acm\""), std::string::npos) << shown.output;
  auto reset = mesimctl({"provisioning", "factory-reset"});
  ASSERT_EQ(reset.status, 0) << reset.output;
  EXPECT_NE(reset.output.find("\"state\": \"pre\""), std::string::npos) << reset.output;
  EXPECT_NE(reset.output.find("\"user_cert_hashes\": 0"), std::string::npos) << reset.output;
  EXPECT_EQ(provisioningState(), 0u);
  EXPECT_EQ(controlMode(), 0u);
  EXPECT_EQ(hashHandles(), defaultHashes);
  EXPECT_EQ(daemon.post("/provisioning/factory-reset?x=1").substr(0, 3), "400");

  // Persisted: a restart stays in pre-provisioning although the default is acm.
  ASSERT_EQ(daemon.stop(), 0);
  start({});
  EXPECT_EQ(provisioningState(), 0u);
}

// An unprovision erases what the firmware keeps beside platform.json as well: WS-Eventing subscriptions, agent-
// presence watchdogs, and a certificate chain an agent had begun to send.
TEST_F(ProvisioningStatesDaemonTest, AnUnprovisionErasesSubscriptionsWatchdogsAndABegunChain) {
  start({"--provisioning", "ccm"});
  WsmanDigestClient console(daemon.httpPort(), "admin", kFactoryPassword);
  auto subscribed = console.post(wsmanSubscribePush("http://127.0.0.1:9/alerts"));
  ASSERT_EQ(subscribed.status, 200u) << subscribed.body;
  const std::string watchdogUri = kAmt + "AMT_AgentPresenceWatchdog";
  auto created = console.post(wsmanEnvelope(
      kTransfer + "Create", watchdogUri,
      "<h:AMT_AgentPresenceWatchdog xmlns:h=\"" + watchdogUri + "\"><h:CreationClassName>AMT_AgentPresenceWatchdog"
      "</h:CreationClassName><h:DeviceID>AAECAwQFBgcICQoLDA0ODw==</h:DeviceID><h:StartupInterval>60"
      "</h:StartupInterval><h:SystemCreationClassName>CIM_ComputerSystem</h:SystemCreationClassName><h:SystemName>"
      "Intel(r) AMT</h:SystemName><h:TimeoutInterval>60</h:TimeoutInterval></h:AMT_AgentPresenceWatchdog>"));
  ASSERT_EQ(created.status, 200u) << created.body;
  EXPECT_NE(daemon.get("/subscriptions").find("127.0.0.1:9"), std::string::npos);
  EXPECT_NE(daemon.get("/status").find("\"agents\":1"), std::string::npos) << daemon.get("/status");

  // Through LMS, the agent begins a chain for UpgradeClientToAdmin: the leaf only.
  auto osAdmin = lmsClientAsOsAdmin();
  ASSERT_TRUE(osAdmin) << daemon.log();
  const std::string hbs = kIps + "IPS_HostBasedSetupService";
  auto added = osAdmin->post(invoke(hbs, "AddNextCertInChain",
                                    "<h:NextCertificate>" + base64(consolePki().chain().front()) +
                                        "</h:NextCertificate><h:IsLeafCertificate>true</h:IsLeafCertificate>"
                                        "<h:IsRootCertificate>false</h:IsRootCertificate>"));
  ASSERT_EQ(returnValue(added), "0") << added.body;
  EXPECT_EQ(between(osAdmin->post(wsmanEnvelope(kTransfer + "Get", hbs)).body, "CertChainStatus>", "</"), "1");

  // The host unprovisions (AMTHI, client control mode): all three are gone.
  ASSERT_EQ(amthiStatus(amthi(kUnprovision, Bytes{0, 0, 0, 0})), 0u);
  EXPECT_EQ(daemon.get("/subscriptions").find("127.0.0.1:9"), std::string::npos) << daemon.get("/subscriptions");
  EXPECT_NE(daemon.get("/status").find("\"agents\":0"), std::string::npos) << daemon.get("/status");
  EXPECT_EQ(between(osAdmin->post(wsmanEnvelope(kTransfer + "Get", hbs)).body, "CertChainStatus>", "</"), "0");
  EXPECT_NE(daemon.log().find("unprovisioned: removed 1 event subscription(s) and 1 agent-presence watchdog(s)"),
            std::string::npos)
      << daemon.log();

  // And stay gone after a restart.
  lms.reset();
  ASSERT_EQ(daemon.stop(), 0);
  start({});
  EXPECT_EQ(daemon.get("/subscriptions").find("127.0.0.1:9"), std::string::npos);
  EXPECT_NE(daemon.get("/status").find("\"agents\":0"), std::string::npos);
}

}  // namespace
}  // namespace mesim::test
