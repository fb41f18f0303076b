// IPS_HostBasedSetupService AdminSetup and UpgradeClientToAdmin over WsmanService, driven as rpc-go drives them
// (Get ConfigurationNonce, AddNextCertInChain leaf ... root, the method with McNonce and the signature over
// ConfigurationNonce || McNonce): the SDK's ReturnValue for each failed check, the state and audit log unchanged
// by a failure, the audit record of a success.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "firmware/platform/event_records.h"
#include "firmware/platform/host_power.h"
#include "tests/support/provisioning_pki.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/cim/cim_util.h"
#include "wsman/ops/wsman_service.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman {
namespace {

using platform::ControlMode;
using platform::ProvisioningState;

const std::string kUri = "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_HostBasedSetupService";
constexpr std::int64_t kNow = 1900000000;
// IPS_HostBasedSetupService.AdminSetup return values (AMT SDK; go-wsman-messages hostbasedsetup).
constexpr const char* kSuccess = "0";
constexpr const char* kInvalidParam = "3";
constexpr const char* kAuthFailed = "5";

std::string textOf(const std::string& xml, std::string_view local) {
  pugi::xml_document doc;
  if (!doc.load_string(xml.c_str())) return "<unparsed>";
  std::string found = "<none>";
  struct Walker : pugi::xml_tree_walker {
    std::string_view local;
    std::string* found;
    bool for_each(pugi::xml_node& n) override {
      if (n.type() != pugi::node_element || soap::localName(n) != local) return true;
      *found = n.text().get();
      return false;
    }
  } w;
  w.local = local;
  w.found = &found;
  doc.traverse(w);
  return found;
}

std::string b64(const std::vector<std::uint8_t>& bytes) { return cim::base64Encode(bytes); }

class AdminSetupTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki = new test::ProvisioningPki(test::ProvisioningPki::make(kNow)); }
  static void TearDownTestSuite() {
    delete pki;
    pki = nullptr;
  }

  void open(ProvisioningState state, ControlMode mode, bool trustRoot = true) {
    platform::PlatformDefaults defaults;
    defaults.provisioningState = state;
    defaults.controlMode = mode;
    if (trustRoot) defaults.trustedRootHashes = {test::digestOf(test::derOf(pki->root), EVP_sha256())};
    auto opened = platform::PlatformModel::open(dir.path(), defaults);
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    service = std::make_unique<ops::WsmanService>(*model, clock, *power);
  }

  std::string call(const std::string& body) {
    auto r = service->handle(body, {"admin", false});
    EXPECT_EQ(r.httpStatus, 200u) << r.body;
    return r.body;
  }

  std::vector<std::uint8_t> configurationNonce() {
    std::vector<std::uint8_t> nonce;
    EXPECT_TRUE(cim::base64Decode(
        textOf(call(test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", kUri)), "ConfigurationNonce"),
        nonce));
    EXPECT_EQ(nonce.size(), 20u);
    return nonce;
  }

  std::string invoke(const std::string& method, const std::string& params) {
    return textOf(call(test::wsmanEnvelope(kUri + "/" + method, kUri,
                                           "<h:" + method + "_INPUT xmlns:h=\"" + kUri + "\">" + params + "</h:" +
                                               method + "_INPUT>")),
                  "ReturnValue");
  }

  std::string addCert(const std::vector<std::uint8_t>& der, bool leaf, bool root) {
    return invoke("AddNextCertInChain", "<h:NextCertificate>" + b64(der) + "</h:NextCertificate><h:IsLeafCertificate>" +
                                            (leaf ? "true" : "false") + "</h:IsLeafCertificate><h:IsRootCertificate>" +
                                            (root ? "true" : "false") + "</h:IsRootCertificate>");
  }

  void addChain(const std::vector<std::vector<std::uint8_t>>& chain) {
    for (std::size_t i = 0; i < chain.size(); ++i) EXPECT_EQ(addCert(chain[i], i == 0, i + 1 == chain.size()), "0");
  }

  std::string chainStatus() {
    return textOf(call(test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", kUri)),
                  "CertChainStatus");
  }

  // McNonce, SigningAlgorithm (omitted when empty) and DigitalSignature.
  static std::string signedPart(const std::vector<std::uint8_t>& mcNonce, const std::string& algorithm,
                                const std::vector<std::uint8_t>& signature) {
    return "<h:McNonce>" + b64(mcNonce) + "</h:McNonce>" +
           (algorithm.empty() ? "" : "<h:SigningAlgorithm>" + algorithm + "</h:SigningAlgorithm>") +
           "<h:DigitalSignature>" + b64(signature) + "</h:DigitalSignature>";
  }

  std::string adminSetup(const std::string& signedParams) {
    return invoke("AdminSetup",
                  "<h:NetAdminPassEncryptionType>2</h:NetAdminPassEncryptionType><h:NetworkAdminPassword>"
                  "0123456789abcdef0123456789abcdef</h:NetworkAdminPassword>" +
                      signedParams);
  }

  // A complete, valid request's signed part for the nonce the service reports now.
  std::string validSignedPart(const EVP_MD* md = EVP_sha256(), const std::string& algorithm = "2") {
    return signedPart(mcNonce, algorithm, test::signMessage(pki->leafKey, test::concat(configurationNonce(), mcNonce), md));
  }

  void expectUnprovisioned(std::size_t auditRecords) {
    EXPECT_EQ(model->provisioningState(), ProvisioningState::Pre);
    EXPECT_EQ(model->controlMode(), ControlMode::None);
    EXPECT_EQ(model->state().logs.auditLog.size(), auditRecords) << "a refused setup writes no audit record";
  }

  platform::AuditRecord lastAudit() {
    auto r = platform::decodeAuditRecord(model->state().logs.auditLog.back());
    EXPECT_TRUE(r);
    return r.value_or(platform::AuditRecord{});
  }

  static test::ProvisioningPki* pki;
  test::TempDir dir{"admin-setup"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(kNow)}};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<ops::WsmanService> service;
  std::vector<std::uint8_t> mcNonce = std::vector<std::uint8_t>(20, 0x42);
};
test::ProvisioningPki* AdminSetupTest::pki = nullptr;

TEST_F(AdminSetupTest, SucceedsWithATrustedChainAndWritesProvisioningCompleted) {
  open(ProvisioningState::Pre, ControlMode::None);
  const auto audits = model->state().logs.auditLog.size();
  addChain(pki->chain());
  EXPECT_EQ(adminSetup(validSignedPart()), kSuccess);
  EXPECT_EQ(model->provisioningState(), ProvisioningState::Post);
  EXPECT_EQ(model->controlMode(), ControlMode::Admin);
  ASSERT_EQ(model->state().logs.auditLog.size(), audits + 1);
  EXPECT_EQ(lastAudit().app, platform::audit::kSecurityAdmin);
  EXPECT_EQ(lastAudit().event, platform::audit::kProvisioningCompleted);
}

TEST_F(AdminSetupTest, FailsWithoutTheTestRootsHash) {
  open(ProvisioningState::Pre, ControlMode::None, /*trustRoot=*/false);
  const auto audits = model->state().logs.auditLog.size();
  addChain(pki->chain());
  EXPECT_EQ(adminSetup(validSignedPart()), kAuthFailed);
  expectUnprovisioned(audits);
}

TEST_F(AdminSetupTest, EachFailedCheckIsAuthFailedAndChangesNothing) {
  open(ProvisioningState::Pre, ControlMode::None);
  const auto audits = model->state().logs.auditLog.size();
  auto leafSpec = test::ProvisioningPki::leafSpec(kNow, "provision.example.com");

  // Bad signature in the chain: AddNextCertInChain refuses the intermediate (CERT_VERIFY_FAILED), so the chain
  // never completes and AdminSetup has nothing to verify.
  auto forged = test::makeCert(leafSpec, pki->leafKey, pki->intermediate, test::makeRsaKey());
  EXPECT_EQ(addCert(test::derOf(forged), true, false), "0");
  EXPECT_EQ(addCert(test::derOf(pki->intermediate), false, false), "4");
  EXPECT_EQ(adminSetup(validSignedPart()), kAuthFailed);
  expectUnprovisioned(audits);

  // No provisioning purpose.
  auto noPurpose = leafSpec;
  noPurpose.extendedKeyUsage = {"1.3.6.1.5.5.7.3.1"};
  addChain({test::derOf(pki->issueLeaf(noPurpose)), test::derOf(pki->intermediate), test::derOf(pki->root)});
  EXPECT_EQ(adminSetup(validSignedPart()), kAuthFailed);
  expectUnprovisioned(audits);

  // A domain outside the DNS suffix (example.com, the network's).
  addChain({test::derOf(pki->issueLeaf(test::ProvisioningPki::leafSpec(kNow, "provision.example.org"))),
            test::derOf(pki->intermediate), test::derOf(pki->root)});
  EXPECT_EQ(adminSetup(validSignedPart()), kAuthFailed);
  expectUnprovisioned(audits);

  // Expired on the firmware clock: the valid chain, a year and two days later.
  addChain(pki->chain());
  clock.set(core::FirmwareClock::time_point{std::chrono::seconds(kNow + 367 * 86400)});
  EXPECT_EQ(adminSetup(validSignedPart()), kAuthFailed);
  expectUnprovisioned(audits);
  clock.set(core::FirmwareClock::time_point{std::chrono::seconds(kNow)});

  // Wrong DigitalSignature: another key's.
  addChain(pki->chain());
  EXPECT_EQ(adminSetup(signedPart(mcNonce, "2",
                                  test::signMessage(test::makeRsaKey(), test::concat(configurationNonce(), mcNonce)))),
            kAuthFailed);
  expectUnprovisioned(audits);

  // Wrong nonce: signed over a McNonce other than the one sent.
  std::vector<std::uint8_t> otherNonce(20, 0x24);
  EXPECT_EQ(adminSetup(signedPart(mcNonce, "2",
                                  test::signMessage(pki->leafKey, test::concat(configurationNonce(), otherNonce)))),
            kAuthFailed);
  expectUnprovisioned(audits);

  // SHA-1 signature under RSA_SHA-2_256.
  EXPECT_EQ(adminSetup(validSignedPart(EVP_sha1(), "2")), kAuthFailed);
  expectUnprovisioned(audits);

  // The chain and the signature right after all these: it goes through.
  EXPECT_EQ(adminSetup(validSignedPart()), kSuccess);
  EXPECT_EQ(model->controlMode(), ControlMode::Admin);
}

TEST_F(AdminSetupTest, SigningAlgorithms) {
  open(ProvisioningState::Pre, ControlMode::None);
  const auto audits = model->state().logs.auditLog.size();
  addChain(pki->chain());
  // 0 None and unlisted values: INVALID_PARAM; a signature that is no base64 likewise.
  EXPECT_EQ(adminSetup(validSignedPart(EVP_sha256(), "0")), kInvalidParam);
  EXPECT_EQ(adminSetup(validSignedPart(EVP_sha256(), "7")), kInvalidParam);
  // A value that is no uint16 or no base64 is refused by the typed parameter before the method runs (a fault).
  for (const std::string& params :
       {validSignedPart(EVP_sha256(), "two"),
        "<h:McNonce>" + b64(mcNonce) + "</h:McNonce><h:SigningAlgorithm>2</h:SigningAlgorithm>"
        "<h:DigitalSignature>not base64!</h:DigitalSignature>"}) {
    auto r = service->handle(test::wsmanEnvelope(kUri + "/AdminSetup", kUri,
                                                 "<h:AdminSetup_INPUT xmlns:h=\"" + kUri +
                                                     "\"><h:NetAdminPassEncryptionType>2</h:NetAdminPassEncryptionType>"
                                                     "<h:NetworkAdminPassword>0123456789abcdef0123456789abcdef"
                                                     "</h:NetworkAdminPassword>" +
                                                     params + "</h:AdminSetup_INPUT>"),
                             {"admin", false});
    EXPECT_EQ(r.httpStatus, 400u) << r.body;
  }
  expectUnprovisioned(audits);
  // 1 Other: a SHA-384 signature (SHA-1 is checked in provisioning_verifier_test).
  EXPECT_EQ(adminSetup(validSignedPart(EVP_sha384(), "1")), kSuccess);
  EXPECT_EQ(model->controlMode(), ControlMode::Admin);
}

TEST_F(AdminSetupTest, NoSigningAlgorithmMeansRsaSha256) {
  open(ProvisioningState::Pre, ControlMode::None);
  addChain(pki->chain());
  EXPECT_EQ(adminSetup(validSignedPart(EVP_sha256(), "")), kSuccess);
}

TEST_F(AdminSetupTest, UpgradeClientToAdminVerifiesTheSame) {
  open(ProvisioningState::Post, ControlMode::Client);
  const auto audits = model->state().logs.auditLog.size();
  addChain(pki->chain());
  EXPECT_EQ(invoke("UpgradeClientToAdmin",
                   signedPart(mcNonce, "2", test::signMessage(test::makeRsaKey(), test::concat(configurationNonce(), mcNonce)))),
            kAuthFailed);
  EXPECT_EQ(model->controlMode(), ControlMode::Client);
  EXPECT_EQ(model->state().logs.auditLog.size(), audits);

  EXPECT_EQ(invoke("UpgradeClientToAdmin", validSignedPart()), kSuccess);
  EXPECT_EQ(model->controlMode(), ControlMode::Admin);
  ASSERT_EQ(model->state().logs.auditLog.size(), audits + 1);
  EXPECT_EQ(lastAudit().event, platform::audit::kUpgradeClientToAdmin);
}

// AddNextCertInChain's own return values (SDK; go-wsman-messages hostbasedsetup): 1 INVALID_PARAM, 3 INVALID_STATE,
// 4 CERT_VERIFY_FAILED, 5 CERT_CHAIN_LENGTH_EXCEEDED. A refused certificate leaves the chain as it was.
TEST_F(AdminSetupTest, AddNextCertInChainChecksEachCertificateAsItArrives) {
  open(ProvisioningState::Pre, ControlMode::None);
  const auto chain = pki->chain();
  EXPECT_EQ(chainStatus(), "0");
  // Not a certificate: INVALID_PARAM; not base64 at all: the WS-Man InvalidParameter fault, as for any typed
  // argument.
  EXPECT_EQ(addCert({0x30, 0x03, 0x02, 0x01, 0x01}, true, false), "1");
  auto notBase64 = service->handle(
      test::wsmanEnvelope(kUri + "/AddNextCertInChain", kUri,
                          "<h:AddNextCertInChain_INPUT xmlns:h=\"" + kUri + "\"><h:NextCertificate>!!</h:NextCertificate>"
                          "<h:IsLeafCertificate>true</h:IsLeafCertificate><h:IsRootCertificate>false"
                          "</h:IsRootCertificate></h:AddNextCertInChain_INPUT>"),
      {"admin", false});
  EXPECT_EQ(notBase64.httpStatus, 400u);
  EXPECT_NE(notBase64.body.find("InvalidParameter"), std::string::npos) << notBase64.body;
  // An intermediate before any leaf: INVALID_STATE.
  EXPECT_EQ(addCert(chain[1], false, false), "3");
  EXPECT_EQ(chainStatus(), "0");

  EXPECT_EQ(addCert(chain[0], true, false), "0");
  EXPECT_EQ(chainStatus(), "1");
  // The root does not issue the leaf (the intermediate does): CERT_VERIFY_FAILED, and the chain is unchanged.
  EXPECT_EQ(addCert(chain[2], false, true), "4");
  EXPECT_EQ(chainStatus(), "1");
  // Garbage after the leaf: INVALID_PARAM.
  EXPECT_EQ(addCert({0x01, 0x02}, false, false), "1");
  EXPECT_EQ(addCert(chain[1], false, false), "0");
  EXPECT_EQ(addCert(chain[2], false, true), "0");
  EXPECT_EQ(chainStatus(), "2");
  // After the root: INVALID_STATE until a new leaf starts over.
  EXPECT_EQ(addCert(chain[2], false, true), "3");
  EXPECT_EQ(addCert(chain[0], true, false), "0");
  EXPECT_EQ(chainStatus(), "1");
}

TEST_F(AdminSetupTest, AddNextCertInChainTakesAtMostEightCertificates) {
  open(ProvisioningState::Pre, ControlMode::None);
  // Nine CAs, each issued by the next (the last self-signed), sent leaf first.
  constexpr int kCount = 9;
  std::vector<test::Pkey> keys;
  for (int i = 0; i < kCount; ++i) keys.push_back(test::makeRsaKey(1024));
  std::vector<test::Cert> certs(kCount);
  for (int i = kCount - 1; i >= 0; --i) {
    auto spec = test::ProvisioningPki::caSpec(kNow, "mesim chain CA " + std::to_string(i), 100 + i);
    certs[i] = i == kCount - 1 ? test::makeCert(spec, keys[i], nullptr, keys[i])
                               : test::makeCert(spec, keys[i], certs[i + 1], keys[i + 1]);
  }
  for (int i = 0; i < 8; ++i) EXPECT_EQ(addCert(test::derOf(certs[i]), i == 0, false), "0") << "certificate " << i;
  EXPECT_EQ(addCert(test::derOf(certs[8]), false, true), "5");
  EXPECT_EQ(chainStatus(), "1");
}

TEST_F(AdminSetupTest, AddNextCertInChainInAdminControlModeIsInvalidState) {
  open(ProvisioningState::Post, ControlMode::Admin);
  EXPECT_EQ(addCert(pki->chain()[0], true, false), "3");
  EXPECT_EQ(chainStatus(), "0");
}

}  // namespace
}  // namespace mesim::wsman
