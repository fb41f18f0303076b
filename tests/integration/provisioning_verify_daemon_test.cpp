// Admin control mode by certificate against the real daemon, as rpc-go's local activation drives it: the OS admin
// account over dev/mei0, then WS-Man through LMS (the network is shut before provisioning): Get
// IPS_HostBasedSetupService (ConfigurationNonce), AddNextCertInChain leaf ... root, AdminSetup with McNonce and the
// leaf key's signature over ConfigurationNonce || McNonce. A PKI made at test time; `--trusted-root-hash` makes its
// root trusted, and without it the same request is refused (AUTH_FAILED) and nothing changes.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "common/text_codecs.h"
#include "tests/support/daemon_process.h"
#include "tests/support/os_admin_lms.h"
#include "tests/support/provisioning_pki.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

const std::string kSetupUri = "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_HostBasedSetupService";
const std::string kGet = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";
constexpr std::int64_t kNow = 1900000000;  // the manual firmware clock's start
const std::string kClockStart = "2030-03-17T17:46:40Z";

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  const auto a = text.find(open);
  if (a == std::string::npos) return {};
  const auto b = text.find(close, a + open.size());
  return b == std::string::npos ? std::string() : text.substr(a + open.size(), b - a - open.size());
}

std::string base64(const Bytes& bytes) { return text::base64Encode(bytes); }
Bytes unbase64(const std::string& text) { return text::base64Decode(text).value_or(Bytes{}); }

class ProvisioningVerifyDaemonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki = new ProvisioningPki(ProvisioningPki::make(kNow)); }
  static void TearDownTestSuite() {
    delete pki;
    pki = nullptr;
  }
  void TearDown() override {
    lms.reset();
    if (HasFailure()) std::cerr << daemon.log();
  }

  std::vector<std::string> args(std::vector<std::string> extra) {
    std::vector<std::string> a{"--fuse", "on", "--preload", "off", "--clock", "manual", "--clock-start", kClockStart};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  // The daemon in pre-provisioning, as a factory platform: --provisioning pre makes a new state dir so.
  // Its WS-Man is reached through LMS as the OS admin (`lms`).
  void startUnprovisioned(const std::vector<std::string>& extra) {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/fuse here";
    auto all = extra;
    all.insert(all.end(), {"--provisioning", "pre"});
    ASSERT_TRUE(daemon.start(args(all))) << daemon.log();
    lms = startOsAdminThroughLms(daemon.meiDevice().string());
    ASSERT_TRUE(lms) << daemon.log();
  }

  std::string invoke(WsmanDigestClient& client, const std::string& method, const std::string& params) {
    auto answer = client.post(wsmanEnvelope(kSetupUri + "/" + method, kSetupUri,
                                            "<h:" + method + "_INPUT xmlns:h=\"" + kSetupUri + "\">" + params + "</h:" +
                                                method + "_INPUT>"));
    EXPECT_EQ(answer.status, 200u) << answer.body;
    return between(answer.body, "ReturnValue>", "</");
  }

  std::string setupService(WsmanDigestClient& client, const std::string& property) {
    auto answer = client.post(wsmanEnvelope(kGet, kSetupUri));
    EXPECT_EQ(answer.status, 200u) << answer.body;
    return between(answer.body, property + ">", "</");
  }

  // rpc-go's sequence: the chain, then AdminSetup with a new admin password; the ReturnValue.
  std::string activate(WsmanDigestClient& client, const std::string& newPassword) {
    const std::string realm = between(client.post(wsmanGetGeneralSettings()).body, "DigestRealm>", "</");
    EXPECT_FALSE(realm.empty());
    const Bytes configurationNonce = unbase64(setupService(client, "ConfigurationNonce"));
    EXPECT_EQ(configurationNonce.size(), 20u);
    const auto chain = pki->chain();
    for (std::size_t i = 0; i < chain.size(); ++i)
      EXPECT_EQ(invoke(client, "AddNextCertInChain",
                       "<h:NextCertificate>" + base64(chain[i]) + "</h:NextCertificate><h:IsLeafCertificate>" +
                           (i == 0 ? "true" : "false") + "</h:IsLeafCertificate><h:IsRootCertificate>" +
                           (i + 1 == chain.size() ? "true" : "false") + "</h:IsRootCertificate>"),
                "0");
    EXPECT_EQ(setupService(client, "CertChainStatus"), "2");
    const Bytes mcNonce(20, 0x6D);
    const Bytes signature = signMessage(pki->leafKey, concat(configurationNonce, mcNonce));
    return invoke(client, "AdminSetup",
                  "<h:NetAdminPassEncryptionType>2</h:NetAdminPassEncryptionType><h:NetworkAdminPassword>" +
                      md5Hex("admin:" + realm + ":" + newPassword) + "</h:NetworkAdminPassword><h:McNonce>" +
                      base64(mcNonce) + "</h:McNonce><h:SigningAlgorithm>2</h:SigningAlgorithm><h:DigitalSignature>" +
                      base64(signature) + "</h:DigitalSignature>");
  }

  static ProvisioningPki* pki;
  DaemonProcess daemon;
  std::unique_ptr<OsAdminThroughLms> lms;
};
ProvisioningPki* ProvisioningVerifyDaemonTest::pki = nullptr;

TEST_F(ProvisioningVerifyDaemonTest, AdminSetupSucceedsWithTheTestRootTrusted) {
  const std::string rootHash = text::toHex(digestOf(derOf(pki->root), EVP_sha256()));
  startUnprovisioned({"--trusted-root-hash", rootHash});
  auto client = lms->client();
  ASSERT_EQ(setupService(*client, "CurrentControlMode"), "0");
  EXPECT_EQ(activate(*client, "N3w!Admin"), "0");

  // Admin control mode: the network side is open now, with the password AdminSetup set, and after a restart too.
  WsmanDigestClient newAdmin(daemon.httpPort(), "admin", "N3w!Admin");
  EXPECT_EQ(setupService(newAdmin, "CurrentControlMode"), "2");
  lms.reset();
  ASSERT_EQ(daemon.stop(), 0);
  ASSERT_TRUE(daemon.start(args({"--trusted-root-hash", rootHash}))) << daemon.log();
  WsmanDigestClient afterRestart(daemon.httpPort(), "admin", "N3w!Admin");
  EXPECT_EQ(setupService(afterRestart, "CurrentControlMode"), "2");
}

TEST_F(ProvisioningVerifyDaemonTest, AdminSetupFailsWithoutIt) {
  startUnprovisioned({});
  auto client = lms->client();
  EXPECT_EQ(activate(*client, "N3w!Admin"), "5");  // AUTH_FAILED
  EXPECT_EQ(setupService(*client, "CurrentControlMode"), "0");
  // Still not provisioned: the factory admin works through LMS, the network stays shut; the log says why.
  EXPECT_EQ(lms->clientAs("admin", "P@ssw0rd")->post(wsmanGetGeneralSettings()).status, 200u);
  EXPECT_EQ(WsmanDigestClient(daemon.httpPort()).post(wsmanGetGeneralSettings()).status, 0u);
  EXPECT_NE(daemon.log().find("AdminSetup refused: untrusted root"), std::string::npos) << daemon.log();
}

TEST_F(ProvisioningVerifyDaemonTest, ABadHashIsRefusedAtStart) {
  EXPECT_FALSE(daemon.start(args({"--trusted-root-hash", "12345"})));
  EXPECT_NE(daemon.log().find("--trusted-root-hash '12345'"), std::string::npos) << daemon.log();
}

}  // namespace
}  // namespace mesim::test
